//! MQTT control packets (3.1, 3.1.1 and 5.0) as bytes: the fixed header, then each
//! packet type's variable header and payload, with version 5's properties.

use serde_json::{Map, Value};

/// Messages longer than this are not parsed: they are skipped and logged as truncated
/// (Suricata's `max-msg-length` default).
pub const MAX_MSG_LEN: usize = 1 << 20;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FixedHeader {
    /// The control packet type, 0..=15 (0 is reserved).
    pub kind: u8,
    pub dup: bool,
    pub qos: u8,
    pub retain: bool,
    pub remaining: usize,
    /// Bytes of the fixed header (2 to 5).
    pub len: usize,
}

impl FixedHeader {
    /// `mqtt.flags` bits: retain 1, dup 8.
    pub fn flag_bits(&self) -> u8 {
        (self.retain as u8) | ((self.dup as u8) << 3)
    }
}

/// Why bytes could not be read as a packet.
#[derive(Debug, PartialEq, Eq)]
pub enum WireError {
    /// More bytes are needed.
    Incomplete,
    /// The bytes are not MQTT (a length of more than four bytes, a field past its end).
    Malformed,
}

/// The fixed header at the start of `d`.
pub fn fixed_header(d: &[u8]) -> Result<FixedHeader, WireError> {
    let first = *d.first().ok_or(WireError::Incomplete)?;
    let mut remaining = 0usize;
    for i in 0..4 {
        let b = *d.get(1 + i).ok_or(WireError::Incomplete)?;
        remaining |= ((b & 0x7f) as usize) << (7 * i);
        if b & 0x80 == 0 {
            return Ok(FixedHeader {
                kind: first >> 4,
                dup: first & 0x08 != 0,
                qos: (first >> 1) & 3,
                retain: first & 1 != 0,
                remaining,
                len: 2 + i,
            });
        }
    }
    Err(WireError::Malformed)
}

/// A cursor over one packet's bytes; reading past the end is malformed.
struct Reader<'a> {
    d: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        if self.d.len() < n {
            return Err(WireError::Malformed);
        }
        let (a, b) = self.d.split_at(n);
        self.d = b;
        Ok(a)
    }

    fn u8(&mut self) -> Result<u8, WireError> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<u16, WireError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn u32(&mut self) -> Result<u32, WireError> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn varint(&mut self) -> Result<u32, WireError> {
        let mut v = 0u32;
        for i in 0..4 {
            let b = self.u8()?;
            v |= ((b & 0x7f) as u32) << (7 * i);
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(WireError::Malformed)
    }

    /// A two-byte length, then that many bytes.
    fn binary(&mut self) -> Result<&'a [u8], WireError> {
        let n = self.u16()? as usize;
        self.take(n)
    }

    fn string(&mut self) -> Result<String, WireError> {
        Ok(String::from_utf8_lossy(self.binary()?).into_owned())
    }

    fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.d)
    }
}

/// Version 5 properties as Suricata logs them: `{"receive_maximum": 20, ...}`; a user
/// property is logged under its own name.
fn props(r: &mut Reader<'_>) -> Result<Option<Map<String, Value>>, WireError> {
    let len = r.varint()? as usize;
    if len == 0 {
        return Ok(None);
    }
    let mut p = Reader { d: r.take(len)? };
    let mut out = Map::new();
    while !p.d.is_empty() {
        let id = p.varint()?;
        let (name, v): (&str, Value) = match id {
            1 => ("payload_format_indicator", p.u8()?.into()),
            2 => ("message_expiry_interval", p.u32()?.into()),
            3 => ("content_type", p.string()?.into()),
            8 => ("response_topic", p.string()?.into()),
            9 => ("correlation_data", text(p.binary()?).into()),
            11 => ("subscription_identifier", p.varint()?.into()),
            17 => ("session_expiry_interval", p.u32()?.into()),
            18 => ("assigned_client_identifier", p.string()?.into()),
            19 => ("server_keep_alive", p.u16()?.into()),
            21 => ("authentication_method", p.string()?.into()),
            22 => ("authentication_data", text(p.binary()?).into()),
            23 => ("request_problem_information", p.u8()?.into()),
            24 => ("will_delay_interval", p.u32()?.into()),
            25 => ("request_response_information", p.u8()?.into()),
            26 => ("response_information", p.string()?.into()),
            28 => ("server_reference", p.string()?.into()),
            31 => ("reason_string", p.string()?.into()),
            33 => ("receive_maximum", p.u16()?.into()),
            34 => ("topic_alias_maximum", p.u16()?.into()),
            35 => ("topic_alias", p.u16()?.into()),
            36 => ("maximum_qos", p.u8()?.into()),
            37 => ("retain_available", p.u8()?.into()),
            38 => {
                let k = p.string()?;
                out.insert(k, p.string()?.into());
                continue;
            }
            39 => ("maximum_packet_size", p.u32()?.into()),
            40 => ("wildcard_subscription_available", p.u8()?.into()),
            41 => ("subscription_identifier_available", p.u8()?.into()),
            42 => ("shared_subscription_available", p.u8()?.into()),
            // An unknown property: its length is unknown, the rest cannot be read.
            _ => return Err(WireError::Malformed),
        };
        out.insert(name.to_string(), v);
    }
    Ok(Some(out))
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Connect {
    pub protocol_string: String,
    pub protocol_version: u8,
    /// The flags byte: username 0x80, password 0x40, will retain 0x20, will QoS
    /// 0x18, will 0x04, clean session 0x02.
    pub flags: u8,
    pub client_id: String,
    pub username: Option<String>,
    pub password: Option<Vec<u8>>,
    pub will_topic: Option<String>,
    pub will_message: Option<Vec<u8>>,
    pub will_properties: Option<Map<String, Value>>,
    pub properties: Option<Map<String, Value>>,
}

/// What a control packet carries beyond its fixed header.
#[derive(Clone, Debug, PartialEq)]
pub enum Body {
    Connect(Connect),
    Connack {
        session_present: bool,
        return_code: u8,
        properties: Option<Map<String, Value>>,
    },
    Publish {
        topic: String,
        message_id: Option<u16>,
        message: Vec<u8>,
        properties: Option<Map<String, Value>>,
    },
    /// PUBACK, PUBREC, PUBREL, PUBCOMP.
    MessageId {
        message_id: u16,
        reason_code: Option<u8>,
        properties: Option<Map<String, Value>>,
    },
    Subscribe {
        message_id: u16,
        topics: Vec<(String, u8)>,
        properties: Option<Map<String, Value>>,
    },
    Suback {
        message_id: u16,
        qos_granted: Vec<u8>,
    },
    Unsubscribe {
        message_id: u16,
        topics: Vec<String>,
    },
    Unsuback {
        message_id: u16,
        reason_codes: Vec<u8>,
    },
    /// PINGREQ, PINGRESP.
    Empty,
    Disconnect {
        reason_code: Option<u8>,
        properties: Option<Map<String, Value>>,
    },
    Auth {
        reason_code: u8,
        properties: Option<Map<String, Value>>,
    },
    /// Type 0: reserved.
    Unassigned,
    /// Longer than [`MAX_MSG_LEN`]: skipped.
    Truncated {
        skipped: usize,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Message {
    pub header: FixedHeader,
    pub body: Body,
}

/// The packet at the start of `d`, read with the connection's protocol version `v`
/// (the CONNECT's own version for a CONNECT); returns it and the bytes it used.
pub fn message(d: &[u8], v: u8) -> Result<(Message, usize), WireError> {
    let header = fixed_header(d)?;
    let total = header.len + header.remaining;
    if header.remaining > MAX_MSG_LEN {
        return Ok((Message { header, body: Body::Truncated { skipped: total } }, total));
    }
    if d.len() < total {
        return Err(WireError::Incomplete);
    }
    let mut r = Reader { d: &d[header.len..total] };
    let v5 = v == 5;
    let body = match header.kind {
        1 => Body::Connect(connect(&mut r)?),
        2 => {
            let ack = r.u8()?;
            let return_code = r.u8()?;
            let properties = if v5 { props(&mut r)? } else { None };
            Body::Connack { session_present: ack & 1 != 0, return_code, properties }
        }
        3 => {
            let topic = r.string()?;
            let message_id = if header.qos > 0 { Some(r.u16()?) } else { None };
            let properties = if v5 { props(&mut r)? } else { None };
            Body::Publish { topic, message_id, message: r.rest().to_vec(), properties }
        }
        4..=7 => {
            let message_id = r.u16()?;
            let (reason_code, properties) = match (v5, r.d.len()) {
                (false, _) => (None, None),
                (true, 0) => (Some(0), None),
                (true, 1) => (Some(r.u8()?), None),
                (true, _) => (Some(r.u8()?), props(&mut r)?),
            };
            Body::MessageId { message_id, reason_code, properties }
        }
        8 => {
            let message_id = r.u16()?;
            let properties = if v5 { props(&mut r)? } else { None };
            let mut topics = Vec::new();
            while !r.d.is_empty() {
                topics.push((r.string()?, r.u8()?));
            }
            if topics.is_empty() {
                return Err(WireError::Malformed);
            }
            Body::Subscribe { message_id, topics, properties }
        }
        9 => {
            let message_id = r.u16()?;
            if v5 {
                props(&mut r)?;
            }
            Body::Suback { message_id, qos_granted: r.rest().to_vec() }
        }
        10 => {
            let message_id = r.u16()?;
            if v5 {
                props(&mut r)?;
            }
            let mut topics = Vec::new();
            while !r.d.is_empty() {
                topics.push(r.string()?);
            }
            Body::Unsubscribe { message_id, topics }
        }
        11 => {
            let message_id = r.u16()?;
            if v5 {
                props(&mut r)?;
            }
            Body::Unsuback { message_id, reason_codes: r.rest().to_vec() }
        }
        12 | 13 => Body::Empty,
        14 => match (v5, r.d.len()) {
            (false, _) => Body::Disconnect { reason_code: None, properties: None },
            (true, 0) => Body::Disconnect { reason_code: Some(0), properties: None },
            (true, 1) => Body::Disconnect { reason_code: Some(r.u8()?), properties: None },
            (true, _) => {
                let reason_code = Some(r.u8()?);
                Body::Disconnect { reason_code, properties: props(&mut r)? }
            }
        },
        15 => {
            let reason_code = r.u8()?;
            Body::Auth { reason_code, properties: props(&mut r)? }
        }
        _ => Body::Unassigned,
    };
    Ok((Message { header, body }, total))
}

fn connect(r: &mut Reader<'_>) -> Result<Connect, WireError> {
    let protocol_string = r.string()?;
    let protocol_version = r.u8()?;
    let flags = r.u8()?;
    let _keepalive = r.u16()?;
    let v5 = protocol_version == 5;
    let properties = if v5 { props(r)? } else { None };
    let client_id = r.string()?;
    let will = flags & 0x04 != 0;
    let will_properties = if v5 && will { props(r)? } else { None };
    let will_topic = if will { Some(r.string()?) } else { None };
    let will_message = if will { Some(r.binary()?.to_vec()) } else { None };
    let username = if flags & 0x80 != 0 { Some(r.string()?) } else { None };
    let password = if flags & 0x40 != 0 { Some(r.binary()?.to_vec()) } else { None };
    Ok(Connect {
        protocol_string,
        protocol_version,
        flags,
        client_id,
        username,
        password,
        will_topic,
        will_message,
        will_properties,
        properties,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remaining_lengths_of_one_to_four_bytes() {
        assert_eq!(fixed_header(&[0x30, 0x00]).unwrap().remaining, 0);
        let h = fixed_header(&[0x3b, 0xff, 0xff, 0xff, 0x7f]).unwrap();
        assert_eq!((h.kind, h.dup, h.qos, h.retain), (3, true, 1, true));
        assert_eq!((h.remaining, h.len), (268_435_455, 5));
        assert_eq!(fixed_header(&[0x30, 0xff, 0xff, 0xff, 0xff]), Err(WireError::Malformed));
        assert_eq!(fixed_header(&[0x30, 0x80]), Err(WireError::Incomplete));
    }

    #[test]
    fn a_v5_connect_with_credentials_and_properties() {
        let mut d = vec![0x10, 0];
        d.extend_from_slice(b"\x00\x04MQTT\x05\xc2\x00\x3c");
        d.extend_from_slice(b"\x03\x21\x00\x14"); // properties: receive maximum 20
        d.extend_from_slice(b"\x00\x02id\x00\x04user\x00\x04pass");
        d[1] = (d.len() - 2) as u8;
        let (m, used) = message(&d, 0).unwrap();
        assert_eq!(used, d.len());
        let Body::Connect(c) = m.body else { panic!("{m:?}") };
        assert_eq!((c.protocol_string.as_str(), c.protocol_version), ("MQTT", 5));
        assert_eq!((c.client_id.as_str(), c.username.as_deref()), ("id", Some("user")));
        assert_eq!(c.password.as_deref(), Some(&b"pass"[..]));
        assert_eq!(c.properties.unwrap()["receive_maximum"], 20);
        // One byte short: incomplete; a field past the packet's end: malformed.
        assert_eq!(message(&d[..d.len() - 1], 0), Err(WireError::Incomplete));
        let mut bad = d.clone();
        bad[1] -= 2;
        bad.truncate(bad.len() - 2);
        assert_eq!(message(&bad, 0), Err(WireError::Malformed));
    }

    #[test]
    fn an_unknown_property_is_malformed_and_a_huge_message_is_skipped() {
        // SUBACK v5 whose property length says 3 but holds property 0x7f.
        let d = [0x90, 0x06, 0x00, 0x01, 0x03, 0x7f, 0x00, 0x00];
        assert_eq!(message(&d, 5), Err(WireError::Malformed));
        let (m, used) = message(&[0x30, 0x80, 0x80, 0x80, 0x01], 4).unwrap();
        assert_eq!(m.body, Body::Truncated { skipped: 5 + (1 << 21) });
        assert_eq!(used, 5 + (1 << 21));
    }
}
