//! `gatewatch pki init|issue`: a certificate authority and certificates for a small
//! deployment (one correlator, a few sensors, log forwarders), so that setting up
//! mutual TLS needs no OpenSSL. Keys are ECDSA P-256, written with mode 0600; nothing
//! is overwritten.
//!
//! ```text
//! gatewatch pki init --dir pki --name "Hue SOC CA"
//! gatewatch pki issue correlator --role server --dns soc.hue.gov.vn --ip 10.46.1.5
//! gatewatch pki issue hue-sensor-01 --role sensor
//! gatewatch pki issue wec01 --role forwarder
//! gatewatch pki issue grafana --role reader
//! ```
//!
//! A client certificate carries its role in the subject's organizational unit
//! (`gatewatch-sensor`, `gatewatch-forwarder`, `gatewatch-reader`); the correlator lets
//! a sensor post findings, EVE and logs, a forwarder post logs only, a reader read.

use std::io::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::{Subcommand, ValueEnum};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Role {
    /// A sensor (TLS client): posts findings, EVE and logs (`client` is its old name).
    #[value(alias = "client")]
    Sensor,
    /// A log forwarder on an agency's host (TLS client): posts host logs only; responses
    /// to what it posts never run without an analyst.
    Forwarder,
    /// A reader (TLS client): reads incidents and counters only.
    Reader,
    /// The correlator (TLS server; give its names with --dns/--ip).
    Server,
}

#[derive(Subcommand)]
pub enum PkiCommand {
    /// Create the CA: DIR/ca.crt and DIR/ca.key.
    Init {
        #[arg(long, default_value = "pki")]
        dir: PathBuf,
        /// The CA's common name.
        #[arg(long, default_value = "Gatewatch CA")]
        name: String,
        #[arg(long, default_value_t = 3650)]
        days: u32,
    },
    /// Issue DIR/NAME.crt and DIR/NAME.key, signed by the CA in DIR. NAME is the
    /// certificate's common name: the sensor name the correlator sees.
    Issue {
        name: String,
        #[arg(long, value_enum)]
        role: Role,
        /// DNS names the server is reached by (repeatable).
        #[arg(long)]
        dns: Vec<String>,
        /// IP addresses the server is reached by (repeatable).
        #[arg(long)]
        ip: Vec<IpAddr>,
        #[arg(long, default_value = "pki")]
        dir: PathBuf,
        #[arg(long, default_value_t = 825)]
        days: u32,
    },
}

/// Writes a new file (never over an existing one); keys get mode 0600.
fn write_new(path: &Path, text: &str, secret: bool) -> Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    if secret {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).with_context(|| {
        if path.exists() {
            format!("`{}` exists: remove it first (nothing is overwritten)", path.display())
        } else {
            format!("cannot create `{}`", path.display())
        }
    })?;
    f.write_all(text.as_bytes()).with_context(|| format!("cannot write `{}`", path.display()))
}

fn validity(p: &mut CertificateParams, days: u32) -> Result<()> {
    if days == 0 {
        bail!("--days must be at least 1");
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
fn load_ca(dir: &Path) -> Result<Issuer<'static, KeyPair>> {
    let (crt, key) = (dir.join("ca.crt"), dir.join("ca.key"));
    let key_pem = std::fs::read_to_string(&key).with_context(|| {
        format!("cannot read `{}`: run `gatewatch pki init` first", key.display())
    })?;
    let key =
        KeyPair::from_pem(&key_pem).with_context(|| format!("`{}` is not a key", key.display()))?;
    let der = CertificateDer::from_pem_file(&crt)
        .with_context(|| format!("cannot read a certificate from `{}`", crt.display()))?;
    let name = gatewatch_correlator::server::tls::common_name(&der)
        .with_context(|| format!("`{}` has no common name", crt.display()))?;
    // The issuer name and key identifier come from the same name and key as the CA
    // certificate's, so what is issued chains to it.
    Ok(Issuer::new(ca_params(&name), key))
}

pub fn run(cmd: PkiCommand) -> Result<ExitCode> {
    match cmd {
        PkiCommand::Init { dir, name, days } => {
            init_ca(&dir, &name, days)?;
            println!(
                "CA `{name}`: {}/ca.crt (give it to every component), {}/ca.key (keep it offline)",
                dir.display(),
                dir.display()
            );
        }
        PkiCommand::Issue { name, role, dns, ip, dir, days } => {
            issue(&dir, &name, role, &dns, &ip, days)?;
            println!(
                "{name} ({role:?}): {}/{name}.crt, {}/{name}.key",
                dir.display(),
                dir.display()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Creates a CA in `dir`: `ca.crt` and `ca.key` (mode 0600); never over existing files.
pub fn init_ca(dir: &Path, name: &str, days: u32) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create `{}`", dir.display()))?;
    let mut p = ca_params(name);
    validity(&mut p, days)?;
    let key = KeyPair::generate().context("cannot generate a key")?;
    let cert = p.self_signed(&key).context("cannot sign the CA certificate")?;
    write_new(&dir.join("ca.key"), &key.serialize_pem(), true)?;
    write_new(&dir.join("ca.crt"), &cert.pem(), false)
}

/// Issues `dir/NAME.crt` and `dir/NAME.key`, signed by the CA of `dir`.
pub fn issue(
    dir: &Path,
    name: &str,
    role: Role,
    dns: &[String],
    ip: &[IpAddr],
    days: u32,
) -> Result<()> {
    if name.is_empty()
        || name.len() > 64
        || !name.chars().all(|c| c.is_ascii_alphanumeric() || "-._".contains(c))
    {
        bail!("name `{name}`: use 1 to 64 letters, digits, `-`, `.` or `_` (it is also the file name)");
    }
    if role == Role::Server && dns.is_empty() && ip.is_empty() {
        bail!("a server certificate needs the names it is reached by: --dns NAME or --ip ADDRESS");
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
        .context("a --dns name is not a valid DNS name")?;
    p.subject_alt_names.extend(ip.iter().map(|a| SanType::IpAddress(*a)));
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.extended_key_usages = vec![match role {
        Role::Sensor | Role::Forwarder | Role::Reader => ExtendedKeyUsagePurpose::ClientAuth,
        Role::Server => ExtendedKeyUsagePurpose::ServerAuth,
    }];
    let key = KeyPair::generate().context("cannot generate a key")?;
    let cert = p.signed_by(&key, &issuer).context("cannot sign the certificate")?;
    write_new(&dir.join(format!("{name}.key")), &key.serialize_pem(), true)?;
    write_new(&dir.join(format!("{name}.crt")), &cert.pem(), false)
}
