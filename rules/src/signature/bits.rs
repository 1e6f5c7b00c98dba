//! Parsers of the keywords that keep state across packets: `flowbits`, `hostbits`,
//! `xbits` and `flowint`.

use super::keyword_parsers::need;
use super::keywords::{
    BitTarget, ByteCmp, FlowInt, FlowIntOp, FlowIntValue, Flowbit, FlowbitCmd, HostBit,
};
use super::{ParseError, Signature};

/// Seconds a host bit lives without `expire` (Suricata's default).
pub const HOSTBIT_EXPIRE_DEFAULT: u32 = 30;

fn bit_cmd(kw: &str, cmd: &str) -> Result<FlowbitCmd, ParseError> {
    Ok(match cmd {
        "set" => FlowbitCmd::Set,
        "unset" => FlowbitCmd::Unset,
        "toggle" => FlowbitCmd::Toggle,
        "isset" => FlowbitCmd::IsSet,
        "isnotset" => FlowbitCmd::IsNotSet,
        other => return Err(ParseError::invalid(kw, format!("unknown command `{other}`"))),
    })
}

/// Parses `hostbits` and `xbits` (`noalert` sets the rule's noalert).
pub(super) fn parse_hostbits(
    sig: &mut Signature,
    kw: &str,
    v: Option<&str>,
) -> Result<(), ParseError> {
    let v = need(kw, v)?;
    let parts: Vec<&str> = v.split(',').map(str::trim).collect();
    if parts == ["noalert"] {
        sig.noalert = true;
        return Ok(());
    }
    let cmd = bit_cmd(kw, parts[0])?;
    let name = parts.get(1).copied().unwrap_or("");
    if name.is_empty() || name.contains(|c: char| c.is_whitespace() || c == '|' || c == '&') {
        return Err(ParseError::invalid(kw, format!("invalid bit name in `{v}`")));
    }
    let mut target = if kw == "hostbits" { Some(BitTarget::Src) } else { None };
    let mut expire = HOSTBIT_EXPIRE_DEFAULT;
    for opt in &parts[2..] {
        let (k, arg) = opt.split_once(char::is_whitespace).unwrap_or((opt, ""));
        let arg = arg.trim();
        match (kw, k) {
            ("hostbits", "src") => target = Some(BitTarget::Src),
            ("hostbits", "dst") => target = Some(BitTarget::Dst),
            ("hostbits", "both") => target = Some(BitTarget::Both),
            ("xbits", "track") => {
                target = Some(match arg {
                    "ip_src" => BitTarget::Src,
                    "ip_dst" => BitTarget::Dst,
                    "ip_pair" => BitTarget::Pair,
                    "tx" => return Err(ParseError::unsupported("xbits `track tx`")),
                    other => {
                        return Err(ParseError::invalid(kw, format!("unknown track `{other}`")))
                    }
                })
            }
            (_, "expire") => {
                expire = arg
                    .parse::<u32>()
                    .ok()
                    .filter(|&e| e > 0)
                    .ok_or_else(|| ParseError::invalid(kw, format!("invalid expire `{arg}`")))?
            }
            _ => return Err(ParseError::invalid(kw, format!("unknown option `{opt}`"))),
        }
    }
    let target = target.ok_or_else(|| ParseError::invalid(kw, format!("`{v}` needs `track`")))?;
    sig.hostbits.push(HostBit { cmd, name: name.into(), target, expire });
    Ok(())
}

/// Parses `flowint:name,op[,value]`.
pub(super) fn parse_flowint(v: &str) -> Result<FlowInt, ParseError> {
    let kw = "flowint";
    let parts: Vec<&str> = v.split(',').map(str::trim).collect();
    let name = parts[0];
    if name.is_empty() || name.contains(char::is_whitespace) {
        return Err(ParseError::invalid(kw, format!("invalid variable name in `{v}`")));
    }
    let op = parts.get(1).copied().unwrap_or("");
    let value = || -> Result<FlowIntValue, ParseError> {
        let Some(&t) = parts.get(2).filter(|t| !t.is_empty()) else {
            return Err(ParseError::invalid(kw, format!("`{op}` needs a value in `{v}`")));
        };
        Ok(match t.parse::<i64>() {
            Ok(n) => FlowIntValue::Num(n),
            Err(_) if t.chars().all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c)) => {
                FlowIntValue::Var(t.to_string())
            }
            Err(_) => return Err(ParseError::invalid(kw, format!("invalid value `{t}`"))),
        })
    };
    let cmp = |c: ByteCmp, neg: bool| -> Result<FlowIntOp, ParseError> {
        Ok(FlowIntOp::Cmp(c, neg, value()?))
    };
    let op = match op {
        "+" => FlowIntOp::Add(value()?),
        "-" => FlowIntOp::Sub(value()?),
        "=" => FlowIntOp::Set(value()?),
        "==" => cmp(ByteCmp::Eq, false)?,
        "!=" => cmp(ByteCmp::Eq, true)?,
        "<" => cmp(ByteCmp::Lt, false)?,
        "<=" => cmp(ByteCmp::Le, false)?,
        ">" => cmp(ByteCmp::Gt, false)?,
        ">=" => cmp(ByteCmp::Ge, false)?,
        "isset" => FlowIntOp::IsSet,
        "isnotset" | "notset" => FlowIntOp::IsNotSet,
        other => return Err(ParseError::invalid(kw, format!("unknown operator `{other}`"))),
    };
    Ok(FlowInt { name: name.to_string(), op })
}

pub(super) fn parse_flowbits(sig: &mut Signature, v: Option<&str>) -> Result<(), ParseError> {
    let v = need("flowbits", v)?;
    let (cmd, names) = match v.split_once(',') {
        Some((c, n)) => (c.trim(), Some(n.trim())),
        None => (v.trim(), None),
    };
    if cmd == "noalert" {
        if names.is_some() {
            return Err(ParseError::invalid("flowbits", "`noalert` takes no name"));
        }
        sig.noalert = true;
        return Ok(());
    }
    let cmd = bit_cmd("flowbits", cmd)?;
    let names = names
        .ok_or_else(|| ParseError::invalid("flowbits", format!("`{v}` needs a flowbit name")))?;
    let (sep_or, sep_and) = (names.contains('|'), names.contains('&'));
    if sep_and {
        return Err(ParseError::unsupported("flowbits `&` groups"));
    }
    let list: Vec<String> = names.split('|').map(|n| n.trim().to_string()).collect();
    if list.iter().any(|n| n.is_empty() || n.contains(char::is_whitespace)) {
        return Err(ParseError::invalid("flowbits", format!("invalid flowbit name in `{v}`")));
    }
    if sep_or && !matches!(cmd, FlowbitCmd::IsSet | FlowbitCmd::IsNotSet) {
        // Suricata 7+ accepts `set,a|b` and applies the command to every name.
    }
    sig.flowbits.push(Flowbit { cmd, names: list });
    Ok(())
}
