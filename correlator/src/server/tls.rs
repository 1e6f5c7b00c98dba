//! The HTTPS listener's TLS: TLS 1.3 only (rustls, ring), the server's certificate
//! and key from PEM files, and client certificates required and verified against the
//! configured CA (mutual TLS). A client's name is its certificate's subject common
//! name.

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// Why the TLS set-up failed, naming the file.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A certificate, key or CA file could not be used.
    #[error("`{path}`: {what}")]
    File {
        /// The file.
        path: String,
        /// What is wrong with it.
        what: String,
    },
    /// The TLS configuration could not be built.
    #[error("TLS configuration: {0}")]
    Config(String),
}

fn file_err(path: &Path, what: impl std::fmt::Display) -> TlsError {
    TlsError::File { path: path.display().to_string(), what: what.to_string() }
}

fn certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs: Vec<_> = CertificateDer::pem_file_iter(path)
        .map_err(|e| file_err(path, e))?
        .collect::<Result<_, _>>()
        .map_err(|e| file_err(path, e))?;
    if certs.is_empty() {
        return Err(file_err(path, "no PEM certificate in it"));
    }
    Ok(certs)
}

/// The server configuration: `cert` (chain, PEM), `key` (PEM), clients verified
/// against `client_ca` (PEM, one or more CA certificates).
pub fn server_config(
    cert: &Path,
    key: &Path,
    client_ca: &Path,
) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let chain = certs(cert)?;
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| file_err(key, e))?;
    let mut roots = rustls::RootCertStore::empty();
    for ca in certs(client_ca)? {
        roots.add(ca).map_err(|e| file_err(client_ca, e))?;
    }
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new(roots),
        provider.clone(),
    )
    .build()
    .map_err(|e| TlsError::Config(e.to_string()))?;
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| TlsError::Config(e.to_string()))?
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)
        .map_err(|e| TlsError::Config(format!("certificate and key: {e}")))?;
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(cfg))
}

/// The configuration of a server that browsers connect to: `cert` (chain, PEM) and
/// `key` (PEM), no client certificates; TLS 1.3 and 1.2.
pub fn server_config_without_clients(
    cert: &Path,
    key: &Path,
) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let chain = certs(cert)?;
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| file_err(key, e))?;
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| TlsError::Config(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| TlsError::Config(format!("certificate and key: {e}")))?;
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(cfg))
}

/// The subject common name of a DER certificate (the client's name), if it has one.
pub fn common_name(der: &[u8]) -> Option<String> {
    subject_attribute(der, &[0x55, 0x04, 0x03])
}

/// The subject's organizational unit (OID 2.5.4.11), where `gatewatch pki issue` writes
/// the certificate's role (`gatewatch-sensor`, `gatewatch-forwarder`, `gatewatch-reader`).
pub fn organizational_unit(der: &[u8]) -> Option<String> {
    subject_attribute(der, &[0x55, 0x04, 0x0b])
}

/// The first subject attribute with this OID (DER-encoded value bytes).
fn subject_attribute(der: &[u8], wanted: &[u8]) -> Option<String> {
    // Walk the DER to the subject of the TBSCertificate; then find the attribute with
    // OID 2.5.4.3 (commonName).
    fn tlv(b: &[u8]) -> Option<(u8, &[u8], &[u8])> {
        let tag = *b.first()?;
        let first = *b.get(1)?;
        let (len, hdr) = if first < 0x80 {
            (first as usize, 2)
        } else {
            let n = (first & 0x7f) as usize;
            if n == 0 || n > 4 {
                return None;
            }
            let mut len = 0usize;
            for i in 0..n {
                len = (len << 8) | *b.get(2 + i)? as usize;
            }
            (len, 2 + n)
        };
        let body = b.get(hdr..hdr.checked_add(len)?)?;
        Some((tag, body, &b[hdr + len..]))
    }
    let (_, cert, _) = tlv(der)?; // Certificate SEQUENCE
    let (_, tbs, _) = tlv(cert)?; // TBSCertificate SEQUENCE
    let mut rest = tbs;
    // [0] version (optional), serial, signature, issuer, validity, subject
    let (tag, _, r) = tlv(rest)?;
    rest = if tag == 0xa0 { r } else { rest };
    for _ in 0..4 {
        rest = tlv(rest)?.2;
    }
    let (_, subject, _) = tlv(rest)?;
    let mut rdns = subject;
    while !rdns.is_empty() {
        let (_, set, next) = tlv(rdns)?;
        rdns = next;
        let mut attrs = set;
        while !attrs.is_empty() {
            let (_, attr, next) = tlv(attrs)?;
            attrs = next;
            let (_, oid, value) = tlv(attr)?;
            if oid == wanted {
                let (_, v, _) = tlv(value)?;
                return Some(String::from_utf8_lossy(v).into_owned());
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_common_name_of_a_certificate() {
        let mut p = rcgen::CertificateParams::new(vec!["x.example".to_string()]).expect("params");
        p.distinguished_name.push(rcgen::DnType::OrganizationName, "Sở TT&TT Huế");
        p.distinguished_name.push(rcgen::DnType::CommonName, "wec01.hue.gov.vn");
        let key = rcgen::KeyPair::generate().expect("key");
        let der = p.self_signed(&key).expect("cert").der().to_vec();
        assert_eq!(common_name(&der).as_deref(), Some("wec01.hue.gov.vn"));
        let mut none = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
        none.distinguished_name = rcgen::DistinguishedName::new();
        let der = none.self_signed(&key).expect("cert").der().to_vec();
        assert_eq!(common_name(&der), None);
        for cut in 0..der.len() {
            let _ = common_name(&der[..cut]);
        }
    }

    #[test]
    fn missing_files_are_named() {
        let e = server_config(Path::new("/nonexistent/c.crt"), Path::new("k"), Path::new("ca"))
            .unwrap_err();
        assert!(e.to_string().starts_with("`/nonexistent/c.crt`:"), "{e}");
    }
}
