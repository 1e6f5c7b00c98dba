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

use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Subcommand, ValueEnum};
use gatewatch_correlator::pki::{self, init_ca, issue};

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

impl From<Role> for pki::Role {
    fn from(r: Role) -> pki::Role {
        match r {
            Role::Sensor => pki::Role::Sensor,
            Role::Forwarder => pki::Role::Forwarder,
            Role::Reader => pki::Role::Reader,
            Role::Server => pki::Role::Server,
        }
    }
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
            issue(&dir, &name, role.into(), &dns, &ip, days)?;
            println!(
                "{name} ({role:?}): {}/{name}.crt, {}/{name}.key",
                dir.display(),
                dir.display()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
