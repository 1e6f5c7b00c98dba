//! `gatewatch demo`: generates a capture of a provincial office network under attack and
//! the rules that detect it, runs sensor → correlator → SQLite, prints the incidents.
//! Everything stays in the current folder so later commands see the same data.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use gatewatch_correlator::store::{IncidentRow, Store};
use gatewatch_correlator::Correlator;
use gatewatch_sensor::output::{EveWriter, EventSink, Fanout};
use gatewatch_sensor::synth::demo;

use gatewatch_correlator::terminal::incident_table;
use gatewatch_sensor::rule_loading::{load_rules, NoRules};

use super::replay::{run_pipeline, CorrelatorSink};
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
    let files = prepare(&a, &mut cfg)?;
    let DemoFiles { pcap, rules_path, assets_path, eve_path, response_path, frames } = files;
    let mut store = Store::open(&cfg.store.path)?;
    let mut responder = super::replay::response_for(&cfg)?;
    if let Some(r) = &responder {
        r.attach(&mut store, true)?;
    }
    let mut correlator = Correlator::open(cfg.correlator.clone(), store)?;
    let (rules, _) =
        load_rules(std::slice::from_ref(&rules_path), &cfg.sensor(), true, NoRules::Refuse)?;
    println!(
        "Gatewatch demo: {} packets of a provincial government WAN (Huế) under attack",
        frames
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
        let mut fan: Fanout<&mut dyn EventSink> = Fanout::default();
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
    print!("{}", incident_table(&rows));
    println!();
    if let Some(r) = responder.as_mut() {
        print_decisions(r, &mut correlator, &response_path)?;
    }
    write_reports(&correlator, &cfg, &rows)?;
    println!(
        "Next: `gatewatch incidents list`, `gatewatch incidents show {}`, `gatewatch blocks list`",
        rows.first().map_or(1, |r| r.id)
    );
    drop(correlator);
    if a.no_console {
        return Ok(ExitCode::SUCCESS);
    }
    serve_console(&a, &cfg)
}

/// The demo's files and what was generated.
struct DemoFiles {
    pcap: PathBuf,
    rules_path: PathBuf,
    assets_path: PathBuf,
    eve_path: PathBuf,
    response_path: PathBuf,
    frames: usize,
}

/// Writes the capture, rules, inventory and response policies into `a.dir`, points the
/// configuration at them, and empties the demo's store (a re-run gives the same result).
fn prepare(a: &DemoArgs, cfg: &mut Config) -> Result<DemoFiles> {
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
    // Response policies run in dry-run: the demo's own unless the configuration has some.
    let response_path = a.dir.join("response.toml");
    std::fs::write(&response_path, demo::RESPONSE)
        .with_context(|| format!("cannot write `{}`", response_path.display()))?;
    if cfg.response.policies.is_empty() {
        let demo: toml::Table =
            toml::from_str(demo::RESPONSE).context("the demo's response policies")?;
        cfg.response = demo
            .get("response")
            .cloned()
            .context("the demo's [response]")?
            .try_into()
            .context("the demo's [response]")?;
    }
    for p in &mut cfg.response.policies {
        p.mode = gatewatch_correlator::response::config::Mode::DryRun;
    }
    // The demo's alerts keep their payload (`eve.payload`), which the console shows as
    // hex and text; off by default in a deployment.
    cfg.eve.payload = true;
    Ok(DemoFiles {
        pcap,
        rules_path,
        assets_path,
        eve_path,
        response_path,
        frames: cap.frames.len(),
    })
}

/// The responder's dry-run decisions on the demo's incidents.
fn print_decisions(
    r: &mut gatewatch_correlator::response::Responder,
    correlator: &mut Correlator,
    response_path: &std::path::Path,
) -> Result<()> {
    r.step(correlator.store_mut(), chrono::Utc::now().timestamp_micros())?;
    let all =
        gatewatch_correlator::store::blocks::BlockFilter { limit: 1000, ..Default::default() };
    let blocks = correlator.store().blocks(&all)?;
    println!(
        "Automated response (dry-run, policies in {}): {} decisions, nothing changed on any firewall",
        response_path.display(),
        blocks.len()
    );
    for b in blocks.iter().rev() {
        println!(
            "  #{:<3} {:<17} {:<11} {:<22} incident #{}  {}",
            b.id,
            b.state,
            b.target_kind,
            b.target,
            b.incident_id.unwrap_or(0),
            b.allowlist.as_deref().map_or(String::new(), |a| format!("(allowlist {a})"))
        );
    }
    println!();
    Ok(())
}

/// The monthly reports of the demo's month, as the correlator's schedule writes them.
fn write_reports(correlator: &Correlator, cfg: &Config, rows: &[IncidentRow]) -> Result<()> {
    if let Some(first) = rows.iter().map(|r| r.first_seen_us).min() {
        let month = gatewatch_correlator::report::figures::Month::containing(first);
        let t = std::time::Instant::now();
        let files = gatewatch_correlator::report::archive::write_month(
            correlator.store(),
            &correlator.engine.inventory,
            &cfg.report,
            month,
            chrono::Utc::now().timestamp_micros(),
        )?;
        println!(
            "Monthly reports of {} (province-wide and per agency; Vietnamese and English; HTML, PDF, JSON): {} files in {} ({:.1} s)",
            month.label(),
            files.len(),
            cfg.report.dir.join(month.label()).display(),
            t.elapsed().as_secs_f64()
        );
        println!();
    }
    Ok(())
}

/// The demo's console: a certificate for this machine, an `admin` account with a new
/// random password (in a file only its owner reads), served until Ctrl-C.
fn serve_console(a: &DemoArgs, cfg: &Config) -> Result<ExitCode> {
    use std::io::Write;
    let pki = a.dir.join("console-pki");
    let (crt, key) = gatewatch_correlator::pki::local_console_certificate(&pki)?;
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
    super::console::wait_for_stop(&format!("demo console on https://{}/", serving.addr))?;
    serving.stop();
    Ok(ExitCode::SUCCESS)
}
