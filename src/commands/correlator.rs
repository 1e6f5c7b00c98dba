//! `gatewatch correlator`: the correlator as a service. It listens for host logs
//! (`[ingest]`: syslog UDP/TCP, HTTPS with mutual TLS), runs the host-log Sigma rules
//! and the correlation rules of `sigma.rules` over them, and stores alerts and
//! incidents in `store.path`. `SIGHUP` (or `gatewatch rules reload`) recompiles the
//! Sigma rules; `SIGINT`/`SIGTERM` stop it after the queued events are stored.

use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use clap::Args;
use gatewatch_correlator::server;
use gatewatch_correlator::store::Store;
use gatewatch_rules::sigma::SigmaSet;

use crate::config::Config;
use crate::control::{Process, ReloadControl};

#[derive(Args)]
pub struct CorrelatorArgs {
    /// Print the listening addresses as JSON on one line once ready (for scripts and
    /// tests that bind port 0).
    #[arg(long)]
    pub print_addresses: bool,
}

fn load_sigma(cfg: &Config) -> Result<(SigmaSet, String)> {
    // Without Sigma rules the service still stores what sensors ship; host logs are
    // accepted and counted, with nothing to detect in them.
    let (set, report) = gatewatch_rules::sigma::load_paths(&cfg.sigma.rules);
    let set = set.with_context(|| {
        format!("the Sigma rules did not load: {}", report.file_errors.join("; "))
    })?;
    if !report.file_errors.is_empty() {
        bail!("Sigma rules: {}", report.file_errors.join("; "));
    }
    let corr =
        report.breakdown.get("correlation rules (run by the correlator)").copied().unwrap_or(0);
    let summary = format!(
        "{} of {} Sigma rules loaded, {} for host logs, {} correlation rules",
        report.loaded,
        report.total,
        set.host_rule_count(),
        corr
    );
    Ok((set, summary))
}

pub fn run(args: CorrelatorArgs, cfg: Config) -> Result<ExitCode> {
    let ingest = cfg.ingest.clone();
    if ingest.https.is_empty()
        && ingest.syslog_udp.is_empty()
        && ingest.syslog_tcp.is_empty()
        && ingest.eve_files.is_empty()
    {
        bail!("nothing to listen on or read: set ingest.https, ingest.syslog_udp, ingest.syslog_tcp or ingest.eve_files");
    }
    let (sigma, summary) = load_sigma(&cfg)?;
    if cfg.sigma.rules.is_empty() {
        eprintln!("gatewatch correlator: no Sigma rules (sigma.rules): host logs are only counted");
    } else {
        eprintln!("gatewatch correlator: {summary}");
    }
    if let Some(dir) = cfg.store.path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create `{}`", dir.display()))?;
    }
    let store = Store::open(&cfg.store.path)
        .with_context(|| format!("cannot open the store `{}`", cfg.store.path.display()))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .thread_name("correlator-io")
        .build()
        .context("cannot start the I/O runtime")?;
    let running =
        runtime.block_on(server::start(ingest, cfg.correlator.clone(), store, Arc::new(sigma)))?;
    let sink = if cfg.elasticsearch.url.is_empty() {
        None
    } else {
        let s =
            gatewatch_correlator::elastic::Sink::start(cfg.elasticsearch.clone(), &cfg.store.path)
                .map_err(anyhow::Error::msg)
                .context("elasticsearch")?;
        if let Ok(mut slot) = running.shared.elastic.lock() {
            *slot = Some(s.stats.clone());
        }
        eprintln!("gatewatch correlator: sending to Elasticsearch at {}", cfg.elasticsearch.url);
        Some(s)
    };
    let responder = start_responder(&cfg, &running.shared)?;
    let reports = if cfg.report.schedule {
        let inv = gatewatch_correlator::ingest::engine_of(&cfg.correlator)
            .context("the report's asset inventory")?
            .inventory;
        Some(
            gatewatch_correlator::report::archive::Schedule::start(
                cfg.report.clone(),
                cfg.store.path.clone(),
                inv,
                std::time::Duration::from_secs(3600),
            )
            .context("the report schedule")?,
        )
    } else {
        None
    };
    if let (Some(r), Ok(mut slot)) = (&responder, running.shared.response.lock()) {
        *slot = Some(r.stats.clone());
    }
    let console = if cfg.console.listen.is_empty() {
        None
    } else {
        Some(runtime.block_on(crate::commands::console::start(
            &cfg,
            cfg.console.clone(),
            Some(running.shared.clone()),
        ))?)
    };
    let addr = |a: Option<std::net::SocketAddr>| a.map(|a| a.to_string());
    let addresses = serde_json::json!({
        "console": console.as_ref().map(|c| c.addr.to_string()),
        "https": addr(running.https_addr),
        "syslog_udp": addr(running.syslog_udp_addr),
        "syslog_tcp": addr(running.syslog_tcp_addr),
    });
    eprintln!("gatewatch correlator: listening {addresses}");
    let generation = Arc::new(AtomicU64::new(1));
    let _control = {
        let (reloader, cfg, g1, g2) =
            (running.reloader.clone(), cfg.clone(), generation.clone(), generation.clone());
        ReloadControl::start_for(
            &cfg.control.dir.clone(),
            Process::Correlator,
            move || {
                let (set, summary) = load_sigma(&cfg)?;
                let g = g1.load(Ordering::SeqCst) + 1;
                reloader.reload(Arc::new(set), g).map_err(anyhow::Error::msg)?;
                g1.store(g, Ordering::SeqCst);
                Ok((g, summary))
            },
            move || g2.load(Ordering::SeqCst),
        )?
    };
    if args.print_addresses {
        crate::commands::write_stdout(&format!("{addresses}\n"))?;
    }
    let mut signals = signal_hook::iterator::Signals::new([
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
    ])
    .context("cannot install the stop signal handlers")?;
    let _ = signals.forever().next();
    eprintln!("gatewatch correlator: stopping");
    if let Some(c) = console {
        c.stop();
    }
    if let Some(r) = reports {
        r.stop();
    }
    let stats = runtime.block_on(running.shutdown())?;
    if let Some(r) = responder {
        match r.stop() {
            Ok(st) => eprintln!(
                "gatewatch correlator: response: {} blocks executed, {} expired, {} undone, {} failed",
                st.executed, st.expired, st.undone, st.failed
            ),
            Err(e) => eprintln!("gatewatch correlator: response: {e}"),
        }
    }
    if let Some(s) = sink {
        match s.stop() {
            Ok(st) => eprintln!(
                "gatewatch correlator: elasticsearch: {} documents stored, {} dead-lettered",
                st.docs_done, st.docs_dead
            ),
            Err(e) => eprintln!("gatewatch correlator: elasticsearch: {e}"),
        }
    }
    eprintln!("gatewatch correlator: stopped; {stats}");
    Ok(ExitCode::SUCCESS)
}

/// The responder, when `[response]` configures actions or policies: it also runs with
/// no policy left, so that blocks in force still expire.
fn start_responder(
    cfg: &Config,
    shared: &Arc<server::Shared>,
) -> Result<Option<gatewatch_correlator::response::Service>> {
    let r = &cfg.response;
    if r.actions.is_empty() && r.policies.is_empty() {
        return Ok(None);
    }
    let mut responder = gatewatch_correlator::response::Responder::new(r, &cfg.correlator)
        .map_err(anyhow::Error::msg)
        .context("[response]")?;
    // The sensors are never blocked: the addresses they connect from, as they are now.
    let shared = shared.clone();
    responder.protect_sensors(Arc::new(move || {
        shared.sensors.lock().map_or_else(
            |_| Vec::new(),
            |s| s.by_name.values().filter_map(|h| sensor_ip(&h.address)).collect(),
        )
    }));
    let modes: Vec<String> =
        responder.policies().iter().map(|p| format!("{} ({})", p.name, p.mode.as_str())).collect();
    eprintln!(
        "gatewatch correlator: response: {} policies [{}], {} allowlist entries, at most {} automatic blocks a minute",
        modes.len(),
        modes.join(", "),
        responder.allowlist().configured_entries(),
        r.max_blocks_per_minute
    );
    let s = gatewatch_correlator::response::Service::start(
        responder,
        &cfg.store.path,
        std::time::Duration::from_millis(500),
    )
    .map_err(anyhow::Error::msg)
    .context("[response]")?;
    Ok(Some(s))
}

/// The address of `ip:port` or `[ip]:port`.
fn sensor_ip(addr: &str) -> Option<std::net::IpAddr> {
    addr.parse::<std::net::SocketAddr>().map(|a| a.ip()).ok().or_else(|| addr.parse().ok())
}
