//! Keywords that compare a named value or a list of flags of an application
//! message: MQTT's `mqtt.type`, `mqtt.flags`, `mqtt.qos`, `mqtt.protocol_version`,
//! `mqtt.reason_code`, `mqtt.connack.session_present`, `mqtt.connect.flags`, and
//! WebSocket's `websocket.opcode`, `websocket.flags`, `websocket.mask`, as Suricata
//! reads them. Each compares a number the sensor writes, in decimal, into a hidden
//! buffer: one instance per message of the transaction (an MQTT transaction holds a
//! request and its acknowledgement), so that the keyword matches when any message does.

use super::keywords::{NumCmp, PayloadMatch};
use super::options::list_mut;
use super::{Buffer, ParseError, Signature};

/// Control packet types by number (MQTT 5.0 §2.1.2); 0 is reserved.
pub const TYPES: [&str; 16] = [
    "UNASSIGNED",
    "CONNECT",
    "CONNACK",
    "PUBLISH",
    "PUBACK",
    "PUBREC",
    "PUBREL",
    "PUBCOMP",
    "SUBSCRIBE",
    "SUBACK",
    "UNSUBSCRIBE",
    "UNSUBACK",
    "PINGREQ",
    "PINGRESP",
    "DISCONNECT",
    "AUTH",
];

/// Bits of the fixed header's flags as `mqtt.flags` names them.
pub const FLAG_RETAIN: u8 = 0x1;
pub const FLAG_DUP: u8 = 0x8;

/// Bits of the CONNECT flags byte (MQTT 5.0 §3.1.2.3) as `mqtt.connect.flags` names
/// them. Suricata 8 swaps the bits of `will` and `will_retain`; these follow the
/// standard, as Suricata 7 did.
const CONNECT_FLAGS: [(&str, u8); 5] = [
    ("username", 0x80),
    ("password", 0x40),
    ("will_retain", 0x20),
    ("will", 0x04),
    ("clean_session", 0x02),
];

/// Adds MQTT keyword `kw` (written `name`) with its value `v`.
pub(super) fn apply(sig: &mut Signature, kw: &str, name: &str, v: &str) -> Result<(), ParseError> {
    let v = v.trim();
    let (buffer, cmps) = match kw {
        "mqtt.type" => (Buffer::MqttType, vec![parse_type(name, v)?]),
        "mqtt.flags" => {
            let names = [("dup", FLAG_DUP), ("retain", FLAG_RETAIN)];
            (Buffer::MqttFlags, vec![parse_flags(name, v, &names)?])
        }
        "mqtt.connect.flags" => {
            (Buffer::MqttConnectFlags, vec![parse_flags(name, v, &CONNECT_FLAGS)?])
        }
        "mqtt.qos" => match v.parse::<u64>() {
            Ok(q) if q <= 2 => (Buffer::MqttQos, vec![NumCmp::Eq(q)]),
            _ => return Err(ParseError::invalid(name, format!("`{v}`: a level 0, 1 or 2"))),
        },
        "mqtt.protocol_version" => {
            (Buffer::MqttProtocolVersion, vec![NumCmp::parse(name, v, u8::MAX as u64)?])
        }
        "mqtt.reason_code" => (Buffer::MqttReasonCode, vec![NumCmp::parse(name, v, 255)?]),
        "mqtt.connack.session_present" => {
            let yes = match v.to_ascii_lowercase().as_str() {
                "true" | "yes" | "1" => 1,
                "false" | "no" | "0" => 0,
                _ => return Err(ParseError::invalid(name, format!("`{v}`: true or false"))),
            };
            (Buffer::MqttSessionPresent, vec![NumCmp::Eq(yes)])
        }
        "websocket.opcode" => (Buffer::WebsocketOpcode, vec![parse_named(name, v, &WS_OPCODES)?]),
        "websocket.flags" => (Buffer::WebsocketFlags, vec![parse_flags(name, v, &WS_FLAGS)?]),
        "websocket.mask" => (Buffer::WebsocketMask, vec![NumCmp::parse(name, v, u32::MAX as u64)?]),
        _ => return Err(ParseError::invalid(name, "not an MQTT or WebSocket keyword")),
    };
    list_mut(sig, buffer).push(PayloadMatch::Number(cmps));
    Ok(())
}

/// WebSocket opcodes by name (RFC 6455 §5.2), as Suricata names them.
const WS_OPCODES: [(&str, u64); 6] =
    [("continuation", 0), ("text", 1), ("binary", 2), ("close", 8), ("ping", 9), ("pong", 10)];

/// Bits of a WebSocket frame's first byte as `websocket.flags` names them.
const WS_FLAGS: [(&str, u8); 4] = [("fin", 0x80), ("comp", 0x40), ("rsv2", 0x20), ("rsv3", 0x10)];

/// A type by name (any case) or a number comparison; `!NAME` for any other type.
fn parse_type(name: &str, v: &str) -> Result<NumCmp, ParseError> {
    let named: Vec<(&str, u64)> = TYPES.iter().enumerate().map(|(i, t)| (*t, i as u64)).collect();
    parse_named(name, v, &named)
}

/// A value by name (any case) or a number comparison; `!NAME` for any other value.
fn parse_named(name: &str, v: &str, names: &[(&str, u64)]) -> Result<NumCmp, ParseError> {
    let (negated, word) = match v.strip_prefix('!') {
        Some(w) => (true, w.trim()),
        None => (false, v),
    };
    if let Some((_, i)) = names.iter().find(|(t, _)| t.eq_ignore_ascii_case(word)) {
        let i = *i;
        return Ok(if negated { NumCmp::Ne(i) } else { NumCmp::Eq(i) });
    }
    if negated {
        return Err(ParseError::invalid(name, format!("unknown type `{word}`")));
    }
    NumCmp::parse(name, v, 255)
        .map_err(|_| ParseError::invalid(name, format!("unknown type `{v}`")))
}

/// A number comparison, or a list of flag names, each maybe negated (`!retain,dup`):
/// the named bits must be set, the negated ones clear, the others do not matter.
fn parse_flags(name: &str, v: &str, names: &[(&str, u8)]) -> Result<NumCmp, ParseError> {
    if v.trim_start_matches(['!', '<', '>', '=']).starts_with(|c: char| c.is_ascii_digit()) {
        return NumCmp::parse(name, v, 255);
    }
    let (mut mask, mut want) = (0u8, 0u8);
    for item in v.split(',').map(str::trim) {
        let (negated, word) = match item.strip_prefix('!') {
            Some(w) => (true, w.trim()),
            None => (false, item),
        };
        let Some((_, bit)) = names.iter().find(|(n, _)| *n == word) else {
            return Err(ParseError::invalid(name, format!("unknown flag `{word}`")));
        };
        if mask & bit != 0 {
            return Err(ParseError::invalid(name, format!("flag `{word}` given twice")));
        }
        mask |= bit;
        if !negated {
            want |= bit;
        }
    }
    Ok(NumCmp::Mask(mask as u64, want as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_by_name_or_number() {
        assert_eq!(parse_type("t", "CONNACK").unwrap(), NumCmp::Eq(2));
        assert_eq!(parse_type("t", "publish").unwrap(), NumCmp::Eq(3));
        assert_eq!(parse_type("t", "!AUTH").unwrap(), NumCmp::Ne(15));
        assert_eq!(parse_type("t", ">10").unwrap(), NumCmp::Gt(10));
        assert!(parse_type("t", "CONNECTX").is_err());
    }

    #[test]
    fn flag_lists_set_and_clear_bits() {
        let names = [("dup", FLAG_DUP), ("retain", FLAG_RETAIN)];
        let m = parse_flags("f", "!retain,!dup", &names).unwrap();
        assert!(m.matches(0) && !m.matches(1) && !m.matches(8));
        let m = parse_flags("f", "retain", &names).unwrap();
        assert!(m.matches(1) && m.matches(9) && !m.matches(8));
        assert!(parse_flags("f", "retain,!retain", &names).is_err());
        assert!(parse_flags("f", "sticky", &names).is_err());
        assert_eq!(parse_flags("f", "9", &names).unwrap(), NumCmp::Eq(9));
        let m = parse_flags("c", "username,password,clean_session", &CONNECT_FLAGS).unwrap();
        assert!(m.matches(0xc2) && m.matches(0xc6) && !m.matches(0x82));
        let m = parse_flags("c", "will,!will_retain", &CONNECT_FLAGS).unwrap();
        assert!(m.matches(0x04) && !m.matches(0x24) && !m.matches(0x20));
    }
}
