//! Keywords that depend on state beyond the packet: the flow's direction and state,
//! flowbits, flowints, host bits, and thresholds.

use super::*;

/// The keywords of this family (flow and host state, and thresholds), as [`apply`] takes them.
pub(super) const KEYWORDS: &[&str] =
    &["hostbits", "xbits", "flowint", "flow", "flowbits", "threshold", "detection_filter"];

/// Applies a flow or host state keyword (one of [`KEYWORDS`]) to `sig`.
pub(super) fn apply(sig: &mut Signature, o: Opt) -> Result<(), ParseError> {
    let Opt { kw, name, value } = o;
    match kw {
        "hostbits" | "xbits" => parse_hostbits(sig, kw, value)?,
        "flowint" => sig.flowints.push(parse_flowint(need(name, value)?)?),
        "flow" => parse_flow(sig, need(name, value)?)?,
        "flowbits" => parse_flowbits(sig, value)?,
        "threshold" | "detection_filter" => {
            if sig.threshold.is_some() {
                return Err(ParseError::invalid(
                    name,
                    "only one threshold or detection_filter per rule",
                ));
            }
            sig.threshold = Some(parse_threshold(name, need(name, value)?)?);
        }
        other => return Err(ParseError::unknown(other)),
    }
    Ok(())
}
