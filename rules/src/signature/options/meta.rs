//! Keywords about the rule itself rather than the traffic: its message, identity,
//! class and priority, metadata and references, what it reports (`target`, `noalert`,
//! `alert` in a pass rule, `tag`), and hints without meaning (`prefilter`, `requires`,
//! checked before the rule is read).

use super::*;

/// The keywords of this family (keywords about the rule itself), as [`apply`] takes them.
pub(super) const KEYWORDS: &[&str] = &[
    "msg",
    "sid",
    "rev",
    "gid",
    "classtype",
    "priority",
    "metadata",
    "reference",
    "target",
    "tag",
    "prefilter",
    "noalert",
    "requires",
    "alert",
];

/// Applies a keyword about the rule itself (one of [`KEYWORDS`]) to `sig`.
pub(super) fn apply(st: &mut OptionState, sig: &mut Signature, o: Opt) -> Result<(), ParseError> {
    let Opt { kw, name, value } = o;
    match kw {
        "msg" => sig.msg = decode_text(unquote(name, need(name, value)?)?.1),
        "sid" => {
            sig.sid = parse_u32(name, need(name, value)?)?;
            st.have_sid = true;
        }
        "rev" => sig.rev = parse_u32(name, need(name, value)?)?,
        "gid" => sig.gid = parse_u32(name, need(name, value)?)?,
        "classtype" => {
            let ct = need(name, value)?.trim();
            let (desc, prio) = classification::lookup(ct)
                .ok_or_else(|| ParseError::invalid(name, format!("unknown classtype `{ct}`")))?;
            sig.classtype = Some(ct.to_string());
            sig.category = desc.to_string();
            sig.priority = prio;
        }
        "priority" => {
            let p = parse_u32(name, need(name, value)?)?;
            if !(1..=255).contains(&p) {
                return Err(ParseError::invalid(
                    name,
                    format!("priority `{p}` out of range 1-255"),
                ));
            }
            st.explicit_priority = Some(p as u8);
        }
        "metadata" => {
            for item in need(name, value)?.split(',') {
                let item = item.trim();
                if item.is_empty() {
                    return Ok(());
                }
                let (k, v) = item.split_once(' ').unwrap_or((item, ""));
                sig.metadata.push((k.trim().to_string(), v.trim().to_string()));
            }
        }
        "reference" => {
            let v = need(name, value)?;
            let (k, r) = v
                .split_once(',')
                .ok_or_else(|| ParseError::invalid(name, format!("expected `type,id` in `{v}`")))?;
            sig.references.push((k.trim().to_string(), r.trim().to_string()));
        }
        "target" => {
            sig.target = Some(match need(name, value)?.trim() {
                "src_ip" => Target::SrcIp,
                "dest_ip" => Target::DestIp,
                t => return Err(ParseError::invalid(name, format!("unknown target `{t}`"))),
            })
        }
        "tag" => sig.tags.push(super::super::tag::parse_tag(need(name, value)?)?),
        // Which keyword the engine prefilters on: a performance hint, no meaning.
        "prefilter" => no_value(name, value)?,
        "noalert" => {
            no_value(name, value)?;
            sig.noalert = true;
        }
        // Checked before the rule is read (`Signature::parse`): it holds here.
        "requires" => {}
        "alert" => {
            no_value(name, value)?;
            sig.alert_on_pass = true;
        }
        other => return Err(ParseError::unknown(other)),
    }
    Ok(())
}
