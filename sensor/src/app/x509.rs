//! The few fields of an X.509 certificate a sensor reports: subject, issuer, serial,
//! validity and fingerprint. A bounded DER walk over the TBSCertificate; anything
//! unexpected is an error, never a panic.

use sha1::{Digest, Sha1};

use super::ParseError;

const BAD: ParseError = ParseError::Malformed("x509.der");

/// The fields of a certificate, formatted as Suricata's EVE `tls` record has them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CertInfo {
    /// `C=VN, O=Example, CN=www.example.vn`, in certificate order.
    pub subject: String,
    pub(crate) issuer: String,
    /// Upper-case hex bytes joined by `:`.
    pub serial: String,
    /// SHA-1 of the DER, lower-case hex bytes joined by `:`.
    pub fingerprint: String,
    /// `YYYY-MM-DDTHH:MM:SS`.
    pub not_before: String,
    pub(crate) not_after: String,
    /// The DNS names of the subjectAltName extension, in certificate order.
    pub alt_names: Vec<String>,
}

/// One DER element: (tag, contents, rest).
fn element(buf: &[u8]) -> Result<(u8, &[u8], &[u8]), ParseError> {
    super::der::tlv(buf).ok_or(BAD)
}

fn expect(buf: &[u8], tag: u8) -> Result<(&[u8], &[u8]), ParseError> {
    let (t, c, r) = element(buf)?;
    if t != tag {
        return Err(BAD);
    }
    Ok((c, r))
}

fn hex_joined(bytes: &[u8], upper: bool) -> String {
    let v: Vec<String> =
        bytes.iter().map(|b| if upper { format!("{b:02X}") } else { format!("{b:02x}") }).collect();
    v.join(":")
}

fn oid_name(oid: &[u8]) -> Option<&'static str> {
    Some(match oid {
        [0x55, 0x04, 0x03] => "CN",
        [0x55, 0x04, 0x06] => "C",
        [0x55, 0x04, 0x07] => "L",
        [0x55, 0x04, 0x08] => "ST",
        [0x55, 0x04, 0x09] => "street",
        [0x55, 0x04, 0x0a] => "O",
        [0x55, 0x04, 0x0b] => "OU",
        [0x55, 0x04, 0x05] => "serialNumber",
        // As Suricata (x509-parser) writes them: `Email`, and the registry's names.
        [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01] => "Email",
        [0x55, 0x1d, 0x11] => "subjectAltName",
        [0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x19] => "DC",
        _ => return None,
    })
}

/// A Name as `K=V, K=V`.
fn name(seq: &[u8]) -> Result<String, ParseError> {
    let mut parts = Vec::new();
    let mut rest = seq;
    while !rest.is_empty() {
        let (set, r) = expect(rest, 0x31)?;
        rest = r;
        let mut s = set;
        while !s.is_empty() {
            let (atv, r2) = expect(s, 0x30)?;
            s = r2;
            let (oid, v) = expect(atv, 0x06)?;
            let (_, value, _) = element(v)?;
            let key = oid_name(oid).map(str::to_string).unwrap_or_else(|| dotted(oid));
            parts.push(format!("{key}={}", String::from_utf8_lossy(value)));
        }
    }
    Ok(parts.join(", "))
}

fn dotted(oid: &[u8]) -> String {
    let mut out: Vec<String> = Vec::new();
    if let Some(&f) = oid.first() {
        out.push((f / 40).to_string());
        out.push((f % 40).to_string());
    }
    let mut acc: u64 = 0;
    for &b in oid.iter().skip(1) {
        acc = acc.saturating_mul(128) | (b & 0x7f) as u64;
        if b & 0x80 == 0 {
            out.push(acc.to_string());
            acc = 0;
        }
    }
    out.join(".")
}

/// UTCTime (`YYMMDDHHMMSSZ`) or GeneralizedTime (`YYYYMMDDHHMMSSZ`).
fn time(tag: u8, v: &[u8]) -> Result<String, ParseError> {
    let s = std::str::from_utf8(v).map_err(|_| BAD)?;
    let digits = s.trim_end_matches('Z');
    if !digits.bytes().all(|c| c.is_ascii_digit()) {
        return Err(BAD);
    }
    let (year, rest) = match (tag, digits.len()) {
        (0x17, 12) => {
            let yy: u32 = digits[..2].parse().map_err(|_| BAD)?;
            ((if yy >= 50 { 1900 + yy } else { 2000 + yy }).to_string(), &digits[2..])
        }
        (0x18, 14) => (digits[..4].to_string(), &digits[4..]),
        _ => return Err(BAD),
    };
    Ok(format!(
        "{year}-{}-{}T{}:{}:{}",
        &rest[..2],
        &rest[2..4],
        &rest[4..6],
        &rest[6..8],
        &rest[8..10]
    ))
}

/// Parses a DER certificate.
pub fn parse(der: &[u8]) -> Result<CertInfo, ParseError> {
    let (cert, _) = expect(der, 0x30)?;
    let (tbs, _) = expect(cert, 0x30)?;
    let mut rest = tbs;
    // [0] EXPLICIT version, optional.
    if rest.first() == Some(&0xa0) {
        rest = element(rest)?.2;
    }
    let (serial, r) = expect(rest, 0x02)?;
    let (_sig_alg, r) = expect(r, 0x30)?;
    let (issuer, r) = expect(r, 0x30)?;
    let (validity, r) = expect(r, 0x30)?;
    let (subject, r) = expect(r, 0x30)?;
    let (t1, v1, vr) = element(validity)?;
    let (t2, v2, _) = element(vr)?;
    // A positive INTEGER may carry a leading zero byte; Suricata shows it without.
    let serial = match serial {
        [0, rest @ ..] if !rest.is_empty() => rest,
        s => s,
    };
    Ok(CertInfo {
        subject: name(subject)?,
        issuer: name(issuer)?,
        serial: hex_joined(serial, true),
        fingerprint: hex_joined(&Sha1::digest(der), false),
        not_before: time(t1, v1)?,
        not_after: time(t2, v2)?,
        alt_names: alt_names(r),
    })
}

/// The DNS names of the subjectAltName extension (OID 2.5.29.17) from what follows the
/// subject: the key, the optional unique IDs, then `[3]` extensions. A malformed
/// extension gives no names; the certificate's other fields stand.
fn alt_names(after_subject: &[u8]) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = after_subject;
    while let Some((tag, content, r)) = super::der::tlv(rest) {
        rest = r;
        if tag != 0xa3 {
            continue;
        }
        let Some((0x30, mut exts, _)) = super::der::tlv(content) else { break };
        while let Some((0x30, ext, r)) = super::der::tlv(exts) {
            exts = r;
            let Some((0x06, oid, mut fields)) = super::der::tlv(ext) else { continue };
            if oid != [0x55, 0x1d, 0x11] {
                continue;
            }
            // `critical` is an optional BOOLEAN before the OCTET STRING.
            if let Some((0x01, _, r)) = super::der::tlv(fields) {
                fields = r;
            }
            let Some((0x04, value, _)) = super::der::tlv(fields) else { continue };
            let Some((0x30, mut general, _)) = super::der::tlv(value) else { continue };
            // dNSName is `[2] IMPLICIT IA5String`.
            while let Some((tag, name, r)) = super::der::tlv(general) {
                general = r;
                if tag == 0x82 && names.len() < 1024 {
                    names.push(String::from_utf8_lossy(name).into_owned());
                }
            }
        }
        break;
    }
    names
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut v = vec![tag];
        if content.len() < 0x80 {
            v.push(content.len() as u8);
        } else {
            v.push(0x82);
            v.extend_from_slice(&(content.len() as u16).to_be_bytes());
        }
        v.extend_from_slice(content);
        v
    }

    fn rdn(oid: &[u8], value: &str) -> Vec<u8> {
        let mut atv = tlv(0x06, oid);
        atv.extend(tlv(0x0c, value.as_bytes()));
        tlv(0x31, &tlv(0x30, &atv))
    }

    /// A structurally valid certificate (the signature is not checked by a sensor).
    pub fn certificate(subject_cn: &str, issuer_cn: &str) -> Vec<u8> {
        certificate_with_names(subject_cn, issuer_cn, &[])
    }

    /// A certificate with a subjectAltName of DNS names (none: no extensions).
    pub fn certificate_with_names(subject_cn: &str, issuer_cn: &str, dns: &[&str]) -> Vec<u8> {
        let mut tbs = tlv(0xa0, &tlv(0x02, &[2]));
        tbs.extend(tlv(0x02, &[0x00, 0x9c, 0x01, 0xff]));
        tbs.extend(tlv(0x30, &tlv(0x06, &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02])));
        let mut issuer = rdn(&[0x55, 4, 6], "VN");
        issuer.extend(rdn(&[0x55, 4, 3], issuer_cn));
        tbs.extend(tlv(0x30, &issuer));
        let mut validity = tlv(0x17, b"260101000000Z");
        validity.extend(tlv(0x18, b"20361231235959Z"));
        tbs.extend(tlv(0x30, &validity));
        let mut subject = rdn(&[0x55, 4, 10], "So TTTT Hue");
        subject.extend(rdn(&[0x55, 4, 3], subject_cn));
        tbs.extend(tlv(0x30, &subject));
        tbs.extend(tlv(0x30, &[])); // subjectPublicKeyInfo, not looked at
        if !dns.is_empty() {
            let mut general = tlv(0x87, &[10, 0, 0, 1]); // an iPAddress, not reported
            dns.iter().for_each(|d| general.extend(tlv(0x82, d.as_bytes())));
            let mut san = tlv(0x06, &[0x55, 0x1d, 0x11]);
            san.extend(tlv(0x04, &tlv(0x30, &general)));
            let mut basic = tlv(0x06, &[0x55, 0x1d, 0x13]);
            basic.extend(tlv(0x01, &[0xff]));
            basic.extend(tlv(0x04, &tlv(0x30, &[])));
            let mut exts = tlv(0x30, &basic);
            exts.extend(tlv(0x30, &san));
            tbs.extend(tlv(0xa3, &tlv(0x30, &exts)));
        }
        let mut cert = tlv(0x30, &tbs);
        cert.extend(tlv(0x30, &tlv(0x06, &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02])));
        cert.extend(tlv(0x03, &[0, 1, 2, 3]));
        tlv(0x30, &cert)
    }

    #[test]
    fn fields() {
        let der = certificate("portal.hue.gov.vn", "Test CA");
        let c = parse(&der).unwrap();
        assert_eq!(c.subject, "O=So TTTT Hue, CN=portal.hue.gov.vn");
        assert_eq!(c.issuer, "C=VN, CN=Test CA");
        assert_eq!(c.serial, "9C:01:FF");
        assert_eq!(c.not_before, "2026-01-01T00:00:00");
        assert_eq!(c.not_after, "2036-12-31T23:59:59");
        assert_eq!(c.fingerprint.len(), 59);
    }

    #[test]
    fn subject_alt_names_are_the_dns_names() {
        let der = certificate_with_names("a", "b", &["hue.gov.vn", "*.hue.gov.vn"]);
        assert_eq!(parse(&der).unwrap().alt_names, ["hue.gov.vn", "*.hue.gov.vn"]);
        assert!(parse(&certificate("a", "b")).unwrap().alt_names.is_empty());
    }

    #[test]
    fn attribute_names_are_suricatas() {
        let email = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01];
        assert_eq!(oid_name(&email), Some("Email"));
        assert_eq!(oid_name(&[0x55, 0x1d, 0x11]), Some("subjectAltName"));
        assert_eq!(oid_name(&[0x55, 0x04, 0x0a]), Some("O"));
    }

    #[test]
    fn truncations_are_errors() {
        let der = certificate("a", "b");
        for n in 0..der.len() {
            assert!(parse(&der[..n]).is_err(), "prefix {n}");
        }
        assert_eq!(dotted(&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d]), "1.2.840.113549");
    }
}
