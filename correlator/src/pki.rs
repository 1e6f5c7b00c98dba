//! A certificate authority and certificates for a small deployment (one correlator, a
//! few sensors, log forwarders), so that setting up mutual TLS needs no OpenSSL
//! (`gatewatch pki init|issue`). Keys are ECDSA P-256, written with mode 0600; nothing
//! is overwritten.
//!
//! A client certificate carries its role in the subject's organizational unit
//! (`gatewatch-sensor`, `gatewatch-forwarder`, `gatewatch-reader`); the correlator lets
//! a sensor post findings, EVE and logs, a forwarder post logs only, a reader read
//! (`server::tls`).

use std::io::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;

/// What a certificate is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// A sensor (TLS client): posts findings, EVE and logs.
    Sensor,
    /// A log forwarder on an agency's host (TLS client): posts host logs only.
    Forwarder,
    /// A reader (TLS client): reads incidents and counters only.
    Reader,
    /// The correlator or the console (TLS server).
    Server,
}

/// Why a CA or certificate was not made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PkiError {
    /// A file exists already: nothing is overwritten.
    #[error("`{0}` exists: remove it first (nothing is overwritten)")]
    Exists(PathBuf),
    /// A file or folder could not be read or written.
    #[error("cannot {what} `{path}`: {err}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The system's error.
        err: std::io::Error,
    },
    /// What was asked for cannot be issued (a bad name, no server names, no days).
    #[error("{0}")]
    Refused(String),
    /// The CA's files are not a key and a certificate with a name.
    #[error("{0}")]
    Ca(String),
    /// Key generation or signing failed.
    #[error("cannot {what}: {err}")]
    Crypto {
        /// What was being done.
        what: &'static str,
        /// rcgen's error.
        err: rcgen::Error,
    },
}

fn crypto(what: &'static str) -> impl FnOnce(rcgen::Error) -> PkiError {
    move |err| PkiError::Crypto { what, err }
}

/// Writes a new file (never over an existing one); keys get mode 0600.
fn write_new(path: &Path, text: &str, secret: bool) -> Result<(), PkiError> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    if secret {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).map_err(|err| {
        if path.exists() {
            PkiError::Exists(path.to_path_buf())
        } else {
            PkiError::Io { what: "create", path: path.to_path_buf(), err }
        }
    })?;
    f.write_all(text.as_bytes()).map_err(|err| PkiError::Io {
        what: "write",
        path: path.to_path_buf(),
        err,
    })
}

fn validity(p: &mut CertificateParams, days: u32) -> Result<(), PkiError> {
    if days == 0 {
        return Err(PkiError::Refused("--days must be at least 1".into()));
    }
    let now = chrono::Utc::now();
    let end = now + chrono::Duration::days(days as i64);
    use chrono::Datelike;
    let ymd = |d: chrono::DateTime<chrono::Utc>| {
        rcgen::date_time_ymd(d.year(), d.month() as u8, d.day() as u8)
    };
    p.not_before = ymd(now - chrono::Duration::days(1));
    p.not_after = ymd(end);
    Ok(())
}

fn ca_params(name: &str) -> CertificateParams {
    let mut p = CertificateParams::default();
    p.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    p.distinguished_name.push(DnType::CommonName, name);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    p
}

/// The CA of `dir`: its key, and its name read from its certificate.
fn load_ca(dir: &Path) -> Result<Issuer<'static, KeyPair>, PkiError> {
    let (crt, key) = (dir.join("ca.crt"), dir.join("ca.key"));
    let key_pem = std::fs::read_to_string(&key).map_err(|e| {
        PkiError::Ca(format!(
            "cannot read `{}`: run `gatewatch pki init` first: {e}",
            key.display()
        ))
    })?;
    let key = KeyPair::from_pem(&key_pem)
        .map_err(|e| PkiError::Ca(format!("`{}` is not a key: {e}", key.display())))?;
    let der = CertificateDer::from_pem_file(&crt).map_err(|e| {
        PkiError::Ca(format!("cannot read a certificate from `{}`: {e}", crt.display()))
    })?;
    let name = crate::server::tls::common_name(&der)
        .ok_or_else(|| PkiError::Ca(format!("`{}` has no common name", crt.display())))?;
    // The issuer name and key identifier come from the same name and key as the CA
    // certificate's, so what is issued chains to it.
    Ok(Issuer::new(ca_params(&name), key))
}

/// Creates a CA in `dir`: `ca.crt` and `ca.key` (mode 0600); never over existing files.
pub fn init_ca(dir: &Path, name: &str, days: u32) -> Result<(), PkiError> {
    std::fs::create_dir_all(dir).map_err(|err| PkiError::Io {
        what: "create",
        path: dir.to_path_buf(),
        err,
    })?;
    let mut p = ca_params(name);
    validity(&mut p, days)?;
    let key = KeyPair::generate().map_err(crypto("generate a key"))?;
    let cert = p.self_signed(&key).map_err(crypto("sign the CA certificate"))?;
    write_new(&dir.join("ca.key"), &key.serialize_pem(), true)?;
    write_new(&dir.join("ca.crt"), &cert.pem(), false)
}

/// Issues `dir/NAME.crt` and `dir/NAME.key`, signed by the CA of `dir`. `name` is the
/// certificate's common name (the sensor name the correlator sees); a server's names
/// are `dns` and `ip`.
pub fn issue(
    dir: &Path,
    name: &str,
    role: Role,
    dns: &[String],
    ip: &[IpAddr],
    days: u32,
) -> Result<(), PkiError> {
    if name.is_empty()
        || name.len() > 64
        || !name.chars().all(|c| c.is_ascii_alphanumeric() || "-._".contains(c))
    {
        return Err(PkiError::Refused(format!(
            "name `{name}`: use 1 to 64 letters, digits, `-`, `.` or `_` (it is also the file name)"
        )));
    }
    if role == Role::Server && dns.is_empty() && ip.is_empty() {
        return Err(PkiError::Refused(
            "a server certificate needs the names it is reached by: --dns NAME or --ip ADDRESS"
                .into(),
        ));
    }
    let issuer = load_ca(dir)?;
    let mut p = CertificateParams::default();
    p.distinguished_name.push(DnType::CommonName, name);
    let unit = match role {
        Role::Sensor => Some("gatewatch-sensor"),
        Role::Forwarder => Some("gatewatch-forwarder"),
        Role::Reader => Some("gatewatch-reader"),
        Role::Server => None,
    };
    if let Some(u) = unit {
        p.distinguished_name.push(DnType::OrganizationalUnitName, u);
    }
    validity(&mut p, days)?;
    p.subject_alt_names = dns
        .iter()
        .map(|d| d.as_str().try_into().map(SanType::DnsName))
        .collect::<Result<_, _>>()
        .map_err(|e| PkiError::Refused(format!("a --dns name is not a valid DNS name: {e}")))?;
    p.subject_alt_names.extend(ip.iter().map(|a| SanType::IpAddress(*a)));
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.extended_key_usages = vec![match role {
        Role::Sensor | Role::Forwarder | Role::Reader => ExtendedKeyUsagePurpose::ClientAuth,
        Role::Server => ExtendedKeyUsagePurpose::ServerAuth,
    }];
    let key = KeyPair::generate().map_err(crypto("generate a key"))?;
    let cert = p.signed_by(&key, &issuer).map_err(crypto("sign the certificate"))?;
    write_new(&dir.join(format!("{name}.key")), &key.serialize_pem(), true)?;
    write_new(&dir.join(format!("{name}.crt")), &cert.pem(), false)
}

/// A certificate for a console reached on this machine (`localhost`, 127.0.0.1, ::1),
/// from a CA of its own in `dir`, made on first use and kept (import `dir/ca.crt` into
/// the browser once). Returns the certificate and key files.
pub fn local_console_certificate(dir: &Path) -> Result<(PathBuf, PathBuf), PkiError> {
    let (crt, key) = (dir.join("console.crt"), dir.join("console.key"));
    if !crt.exists() || !key.exists() {
        if !dir.join("ca.crt").exists() {
            init_ca(dir, "Gatewatch console CA (this machine)", 3650)?;
        }
        let _ = std::fs::remove_file(&crt);
        let _ = std::fs::remove_file(&key);
        let local = [IpAddr::from([127, 0, 0, 1]), IpAddr::from(std::net::Ipv6Addr::LOCALHOST)];
        issue(dir, "console", Role::Server, &["localhost".to_string()], &local, 825)?;
    }
    Ok((crt, key))
}
