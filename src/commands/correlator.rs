//! `gatewatch correlator`: the correlator as a service. It listens for host logs
//! (`[ingest]`: syslog UDP/TCP, HTTPS with mutual TLS), runs the host-log Sigma rules
//! and the correlation rules of `sigma.rules` over them, and stores alerts and
//! incidents in `store.path`. `SIGUSR2` (or `gatewatch rules reload`) recompiles the
//! Sigma rules, `SIGHUP` reopens the files it writes; `SIGINT`/`SIGTERM` stop it after the queued events are stored. The
//! service itself is `gatewatch_correlator::service`.

use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use gatewatch_correlator::service::{Service, ServiceConfig};

use crate::config::Config;

#[derive(Args)]
pub struct CorrelatorArgs {
    /// Print the listening addresses as JSON on one line once ready (for scripts and
    /// tests that bind port 0).
    #[arg(long)]
    pub print_addresses: bool,
}

/// The sections of the global configuration the service reads.
pub fn service_config(cfg: &Config) -> ServiceConfig {
    ServiceConfig {
        ingest: cfg.ingest.clone(),
        correlator: cfg.correlator.clone(),
        store: cfg.store.clone(),
        elasticsearch: cfg.elasticsearch.clone(),
        console: cfg.console.clone(),
        response: cfg.response.clone(),
        report: cfg.report.clone(),
        sigma_rules: cfg.sigma.rules.clone(),
        control_dir: cfg.control.dir.clone(),
    }
}

pub fn run(args: CorrelatorArgs, cfg: Config) -> Result<ExitCode> {
    let service = Service::start(service_config(&cfg))?;
    if args.print_addresses {
        crate::commands::write_stdout(&format!("{}\n", service.addresses()))?;
    }
    crate::systemd::serve_until_stopped(&format!("serving {}", service.addresses()))?;
    service.stop()?;
    Ok(ExitCode::SUCCESS)
}
