//! The fields of an X.509 certificate a sensor reports — subject, issuer, serial,
//! validity, fingerprint, subject alternative names — read by `x509-parser`, the
//! parser Suricata's EVE `tls` fields come from, and formatted as Suricata formats them
//! (names in certificate order with the registry's abbreviations, BMPString and
//! T61String values decoded, IP addresses of the alternative names as byte lists).
//! A certificate the parser refuses gives no fields, as in Suricata.

use sha1::{Digest, Sha1};
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::{FromDer, X509Certificate};

use super::ParseError;

const BAD: ParseError = ParseError::Malformed("x509.der");

/// At most this many subject alternative names are kept of one certificate.
const MAX_ALT_NAMES: usize = 1024;

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
    /// The subject alternative names in certificate order: DNS names, e-mail
    /// addresses and URIs as written, IP addresses as their bytes (`[8, 8, 4, 4]`).
    pub alt_names: Vec<String>,
}

fn hex_joined(bytes: &[u8], upper: bool) -> String {
    let v: Vec<String> =
        bytes.iter().map(|b| if upper { format!("{b:02X}") } else { format!("{b:02x}") }).collect();
    v.join(":")
}

/// A validity bound as Suricata writes it (UTC, to the second).
fn time(t: &x509_parser::time::ASN1Time) -> Result<String, ParseError> {
    let at = chrono::DateTime::from_timestamp(t.timestamp(), 0).ok_or(BAD)?;
    Ok(at.format("%Y-%m-%dT%H:%M:%S").to_string())
}

fn alt_name(n: &GeneralName<'_>) -> String {
    match n {
        GeneralName::DNSName(s) | GeneralName::RFC822Name(s) | GeneralName::URI(s) => {
            (*s).to_string()
        }
        GeneralName::IPAddress(b) => format!("{b:?}"),
        other => other.to_string(),
    }
}

/// Parses a DER certificate (trailing bytes after it are ignored).
pub fn parse(der: &[u8]) -> Result<CertInfo, ParseError> {
    let (rest, cert) = X509Certificate::from_der(der).map_err(|_| BAD)?;
    let whole = &der[..der.len() - rest.len()];
    let validity = cert.validity();
    // A malformed extension gives no names; the certificate's other fields stand.
    let alt_names = match cert.subject_alternative_name() {
        Ok(Some(san)) => san.value.general_names.iter().take(MAX_ALT_NAMES).map(alt_name).collect(),
        _ => Vec::new(),
    };
    Ok(CertInfo {
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        // The INTEGER's bytes as encoded (a leading zero kept), upper case as Suricata.
        serial: hex_joined(cert.raw_serial(), true),
        fingerprint: hex_joined(&Sha1::digest(whole), false),
        not_before: time(&validity.not_before)?,
        not_after: time(&validity.not_after)?,
        alt_names,
    })
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

    /// One attribute of a name: `tag` is the string type (0x0c UTF8String, 0x1e
    /// BMPString, 0x14 T61String, 0x13 PrintableString).
    fn rdn(oid: &[u8], tag: u8, value: &[u8]) -> Vec<u8> {
        let mut atv = tlv(0x06, oid);
        atv.extend(tlv(tag, value));
        tlv(0x31, &tlv(0x30, &atv))
    }

    const ECDSA_SHA256: [u8; 8] = [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];

    /// A structurally valid certificate (the signature is not checked by a sensor).
    pub fn certificate(subject_cn: &str, issuer_cn: &str) -> Vec<u8> {
        certificate_with_names(subject_cn, issuer_cn, &[])
    }

    /// A certificate with a subjectAltName of DNS names and one IP address (none: no
    /// extensions).
    pub fn certificate_with_names(subject_cn: &str, issuer_cn: &str, dns: &[&str]) -> Vec<u8> {
        let subject = rdn(&[0x55, 4, 3], 0x0c, subject_cn.as_bytes());
        build(&[0x00, 0x9c, 0x01, 0xff], issuer_cn, &subject, dns)
    }

    fn build(serial: &[u8], issuer_cn: &str, subject_tail: &[u8], dns: &[&str]) -> Vec<u8> {
        let mut tbs = tlv(0xa0, &tlv(0x02, &[2]));
        tbs.extend(tlv(0x02, serial));
        tbs.extend(tlv(0x30, &tlv(0x06, &ECDSA_SHA256)));
        let mut issuer = rdn(&[0x55, 4, 6], 0x13, b"VN");
        issuer.extend(rdn(&[0x55, 4, 3], 0x0c, issuer_cn.as_bytes()));
        tbs.extend(tlv(0x30, &issuer));
        let mut validity = tlv(0x17, b"260101000000Z");
        validity.extend(tlv(0x18, b"20361231235959Z"));
        tbs.extend(tlv(0x30, &validity));
        let mut subject = rdn(&[0x55, 4, 10], 0x0c, "Sở TTTT Huế".as_bytes());
        subject.extend_from_slice(subject_tail);
        tbs.extend(tlv(0x30, &subject));
        // subjectPublicKeyInfo: id-ecPublicKey on P-256, a point not looked at.
        let mut alg = tlv(0x06, &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01]);
        alg.extend(tlv(0x06, &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07]));
        let mut spki = tlv(0x30, &alg);
        spki.extend(tlv(0x03, &[0, 4, 1, 2, 3, 4]));
        tbs.extend(tlv(0x30, &spki));
        if !dns.is_empty() {
            let mut general = tlv(0x87, &[10, 0, 0, 1]);
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
        cert.extend(tlv(0x30, &tlv(0x06, &ECDSA_SHA256)));
        cert.extend(tlv(0x03, &[0, 1, 2, 3]));
        tlv(0x30, &cert)
    }

    #[test]
    fn fields_are_formatted_as_suricata_writes_them() {
        let der = certificate("portal.hue.gov.vn", "Test CA");
        let c = parse(&der).expect("certificate");
        assert_eq!(c.subject, "O=Sở TTTT Huế, CN=portal.hue.gov.vn");
        assert_eq!(c.issuer, "C=VN, CN=Test CA");
        // The serial's bytes as encoded, a leading zero included (Suricata 8 does).
        assert_eq!(c.serial, "00:9C:01:FF");
        assert_eq!(c.not_before, "2026-01-01T00:00:00");
        assert_eq!(c.not_after, "2036-12-31T23:59:59");
        assert_eq!(c.fingerprint, hex_joined(&Sha1::digest(&der), false));
        assert_eq!(c.fingerprint.len(), 59);
    }

    #[test]
    fn bmp_and_t61_strings_decode_and_emails_are_named_as_in_suricata() {
        // "Sở Tài chính" as UTF-16BE (BMPString), a T61String, and an e-mail attribute.
        let bmp: Vec<u8> = "Sở Tài chính".encode_utf16().flat_map(u16::to_be_bytes).collect();
        let email = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01];
        let mut tail = rdn(&[0x55, 4, 11], 0x1e, &bmp);
        tail.extend(rdn(&[0x55, 4, 7], 0x14, b"Hue"));
        tail.extend(rdn(&email, 0x16, b"soc@hue.gov.vn"));
        let c = parse(&build(&[1], "CA", &tail, &[])).expect("certificate");
        assert_eq!(c.subject, "O=Sở TTTT Huế, OU=Sở Tài chính, L=Hue, Email=soc@hue.gov.vn");
        assert_eq!(c.serial, "01");
    }

    #[test]
    fn subject_alt_names_keep_their_order_with_ip_addresses_as_bytes() {
        let der = certificate_with_names("a", "b", &["hue.gov.vn", "*.hue.gov.vn"]);
        let c = parse(&der).expect("certificate");
        assert_eq!(c.alt_names, ["[10, 0, 0, 1]", "hue.gov.vn", "*.hue.gov.vn"]);
        assert!(parse(&certificate("a", "b")).expect("certificate").alt_names.is_empty());
    }

    #[test]
    fn truncations_are_errors() {
        let der = certificate("a", "b");
        for n in 0..der.len() {
            assert!(parse(&der[..n]).is_err(), "prefix {n}");
        }
    }
}
