//! The little of ASN.1 DER the sensor reads (X.509 certificates, Kerberos messages):
//! tag-length-value with short and long lengths, context-tagged fields of a SEQUENCE,
//! strings and integers. Every length is checked against the bytes there are.

/// (tag, content, rest) of the first element of `b`.
pub fn tlv(b: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let tag = *b.first()?;
    let first = *b.get(1)?;
    let (len, head) = if first < 0x80 {
        (first as usize, 2)
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 {
            return None;
        }
        let bytes = b.get(2..2 + n)?;
        (bytes.iter().fold(0usize, |acc, x| (acc << 8) | *x as usize), 2 + n)
    };
    let content = b.get(head..head.checked_add(len)?)?;
    Some((tag, content, &b[head + len..]))
}

/// The context-tagged fields (`[n]`, constructed) of a SEQUENCE's content.
pub fn context_fields(mut b: &[u8]) -> Vec<(u8, &[u8])> {
    let mut out = Vec::new();
    while let Some((tag, content, rest)) = tlv(b) {
        if tag & 0xe0 == 0xa0 {
            out.push((tag & 0x1f, content));
        }
        b = rest;
        if out.len() > 32 {
            break;
        }
    }
    out
}

/// The content of field `[n]`.
pub fn field<'a>(fields: &[(u8, &'a [u8])], n: u8) -> Option<&'a [u8]> {
    fields.iter().find(|(t, _)| *t == n).map(|(_, c)| *c)
}

/// A KerberosString (GeneralString) or any string type, as text.
pub fn string(b: &[u8]) -> Option<String> {
    let (tag, content, _) = tlv(b)?;
    matches!(tag, 0x1b | 0x0c | 0x16 | 0x13 | 0x04)
        .then(|| String::from_utf8_lossy(content).into_owned())
}

pub fn integer(b: &[u8]) -> Option<i64> {
    let (tag, content, _) = tlv(b)?;
    if tag != 0x02 || content.is_empty() || content.len() > 8 {
        return None;
    }
    let neg = content[0] & 0x80 != 0;
    Some(content.iter().fold(if neg { -1i64 } else { 0 }, |acc, x| (acc << 8) | *x as i64))
}
