//! `gatewatch demo`: generates a capture of a provincial office network under attack and
//! the rules that detect it, runs sensor → correlator → SQLite, prints the incidents.
//! Everything stays in the current folder so later commands see the same data.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use gatewatch_correlator::{store::Store, Correlator};
use gatewatch_sensor::output::{EveWriter, Fanout};
use gatewatch_sensor::synth::demo;

use super::incidents::print_table;
use super::replay::{load_rules, run_pipeline, CorrelatorSink};
use crate::config::Config;

#[derive(Args)]
pub struct DemoArgs {
    /// Folder for the demo's capture, rules and EVE output.
    #[arg(long, default_value = "gatewatch-data/demo")]
    pub dir: PathBuf,
    /// Exit after the pipeline instead of serving the analyst console.
    #[arg(long)]
    pub no_console: bool,
    /// Where the console serves (HTTPS).
    #[arg(long, default_value = "127.0.0.1:8443")]
    pub listen: String,
}

pub fn run(a: DemoArgs, mut cfg: Config) -> Result<ExitCode> {
    std::fs::create_dir_all(&a.dir)
        .with_context(|| format!("cannot create `{}`", a.dir.display()))?;
    let pcap = a.dir.join("demo.pcap");
    let rules_path = a.dir.join("demo.rules");
    let assets_path = a.dir.join("assets.toml");
    let eve_path = a.dir.join("eve.json");
    let mut cap = demo::capture();
    cap.write_pcap(&pcap).with_context(|| format!("cannot write `{}`", pcap.display()))?;
    std::fs::write(&rules_path, demo::RULES)
        .with_context(|| format!("cannot write `{}`", rules_path.display()))?;
    std::fs::write(&assets_path, demo::ASSETS)
        .with_context(|| format!("cannot write `{}`", assets_path.display()))?;
    cfg.correlator.assets.get_or_insert(assets_path.clone());
    cfg.vars.address_groups.entry("HOME_NET".into()).or_insert_with(|| demo::HOME_NET.to_string());
    cfg.eve.sensor_name.get_or_insert_with(|| "hue-gw-sensor-01".to_string());

    // The demo owns its store: start from an empty one so that re-running gives the same result.
    for suffix in ["", "-wal", "-shm"] {
        let mut p = cfg.store.path.clone().into_os_string();
        p.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(p));
    }
    let store = Store::open(&cfg.store.path)?;
    let mut correlator = Correlator::open(cfg.correlator.clone(), store)?;
    let (rules, _) = load_rules(std::slice::from_ref(&rules_path), &cfg, true)?;
    println!(
        "Gatewatch demo: {} packets of a provincial government WAN (Huế) under attack",
        cap.frames.len()
    );
    println!("  capture  {}", pcap.display());
    println!("  rules    {} ({} loaded)", rules_path.display(), rules.len());
    println!(
        "  assets   {} ({} networks and hosts of {} agencies)",
        assets_path.display(),
        correlator.engine.inventory.len(),
        correlator.engine.inventory.agencies.len()
    );
    let mut eve = EveWriter::new(
        std::fs::File::create(&eve_path)
            .with_context(|| format!("cannot create `{}`", eve_path.display()))?,
        &cfg.eve,
    );
    let summary = {
        let mut csink = CorrelatorSink { correlator: &mut correlator, sigma_correlation: None };
        let mut fan = Fanout::default();
        fan.sinks.push(&mut csink);
        fan.sinks.push(&mut eve);
        run_pipeline(&[pcap], &cfg, rules, &mut fan, None)?
    };
    correlator.flush()?;
    println!(
        "  sensor   {} packets, {} flows, {} alerts → {}",
        summary.counter("decoder.pkts"),
        summary.counter("flow.total"),
        summary.counter("detect.alert"),
        eve_path.display()
    );
    println!(
        "  store    {} alerts ({} repeats folded, {} correlations) in {} incidents → {}",
        correlator.stats.alerts,
        correlator.stats.repeats,
        correlator.stats.correlations,
        correlator.store().open_incident_count()?,
        cfg.store.path.display()
    );
    println!();
    let rows = correlator.store().list_incidents(100)?;
    print_table(&rows);
    println!();
    println!(
        "Next: `gatewatch incidents list`, `gatewatch incidents show {}`",
        rows.first().map_or(1, |r| r.id)
    );
    drop(correlator);
    if a.no_console {
        return Ok(ExitCode::SUCCESS);
    }
    serve_console(&a, &cfg)
}

/// The demo's console: a certificate for this machine, an `admin` account with a new
/// random password (in a file only its owner reads), served until Ctrl-C.
fn serve_console(a: &DemoArgs, cfg: &Config) -> Result<ExitCode> {
    use std::io::Write;
    let pki = a.dir.join("console-pki");
    let (crt, key) = super::console::local_certificate(&pki)?;
    let password = gatewatch_correlator::store::accounts::random_hex(10)?;
    Store::open(&cfg.store.path)?.add_user(
        "admin",
        "SOC demo admin",
        gatewatch_correlator::store::accounts::Role::Admin,
        &password,
        "demo",
    )?;
    let pw_path = a.dir.join("console-password.txt");
    let _ = std::fs::remove_file(&pw_path);
    {
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&pw_path)
            .with_context(|| format!("cannot create `{}`", pw_path.display()))?;
        writeln!(f, "{password}")
            .with_context(|| format!("cannot write `{}`", pw_path.display()))?;
    }
    let mut ccfg = cfg.console.clone();
    ccfg.listen = a.listen.clone();
    (ccfg.tls_cert, ccfg.tls_key) = (crt, key);
    let runtime = super::console::runtime()?;
    let serving = runtime.block_on(super::console::start(cfg, ccfg, None))?;
    println!();
    println!("Analyst console: https://localhost:{}/", serving.addr.port());
    println!("  user admin, password {password} (also in {})", pw_path.display());
    println!(
        "  its certificate is signed by {}/ca.crt (import it, or accept the warning once)",
        pki.display()
    );
    println!("  Ctrl-C stops it.");
    super::console::wait_for_stop()?;
    serving.stop();
    Ok(ExitCode::SUCCESS)
}
