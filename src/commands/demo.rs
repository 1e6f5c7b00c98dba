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
    Ok(ExitCode::SUCCESS)
}
