//! `gatewatch report`: the monthly security compliance report of `store.path`, per
//! agency or province-wide, as HTML, PDF or JSON, in Vietnamese or English.
//!
//! ```sh
//! gatewatch report --month 2026-10 [--agency so-tai-chinh] --format pdf --lang vi --out report.pdf
//! gatewatch report --month 2026-10 --all     # every report the [report] section asks for, into report.dir
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::Args;
use gatewatch_correlator::incident::assets::Inventory;
use gatewatch_correlator::report::figures::Month;
use gatewatch_correlator::report::{self, archive, Format, Lang};

use super::incidents::open_store;
use crate::config::Config;

#[derive(Args)]
pub struct ReportArgs {
    /// The month, `YYYY-MM` (Vietnam time); default: last month.
    #[arg(long)]
    pub month: Option<String>,
    /// An agency of the asset inventory (its id); default: province-wide.
    #[arg(long)]
    pub agency: Option<String>,
    /// `html`, `pdf` or `json`.
    #[arg(long, default_value = "html")]
    pub format: String,
    /// `vi` or `en`.
    #[arg(long, default_value = "vi")]
    pub lang: String,
    /// Where to write it; `-` for standard output.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Write every report `[report]` asks for (languages, formats, agencies) into
    /// `report.dir`, as the correlator's schedule does.
    #[arg(long, conflicts_with_all = ["agency", "out"])]
    pub all: bool,
}

pub fn run(a: ReportArgs, cfg: Config) -> Result<ExitCode> {
    let now = chrono::Utc::now().timestamp_micros();
    let month = match &a.month {
        Some(m) => Month::parse(m)?,
        None => Month::previous_of(now),
    };
    let store = open_store(&cfg)?;
    let inv = match &cfg.correlator.assets {
        Some(p) => Inventory::load(p)?,
        None => Inventory::default(),
    };
    let t0 = std::time::Instant::now();
    if a.all {
        let files = archive::write_month(&store, &inv, &cfg.report, month, now)?;
        for f in &files {
            println!("{}", f.display());
        }
        tracing::info!(
            "{} reports of {} in {:.1} s",
            files.len(),
            month.label(),
            t0.elapsed().as_secs_f64()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let format = Format::parse(&a.format)?;
    let lang = Lang::parse(&a.lang)?;
    let r = report::build(&store, &inv, &cfg.report, month, a.agency.as_deref(), now)?;
    let bytes = report::render(&r, format, lang, &cfg.report)?;
    let out = a.out.unwrap_or_else(|| {
        PathBuf::from(archive::file_name(month, a.agency.as_deref(), lang, format))
    });
    if out.as_os_str() == "-" {
        use std::io::Write;
        std::io::stdout().write_all(&bytes).context("standard output")?;
    } else {
        if out.is_dir() {
            bail!("--out `{}` is a folder: give a file name", out.display());
        }
        std::fs::write(&out, &bytes)
            .with_context(|| format!("cannot write `{}`", out.display()))?;
        tracing::info!(
            "{}: {} incidents, {} alerts → {} ({} bytes, {:.2} s)",
            month.label(),
            r.incidents.total,
            r.incidents.alerts,
            out.display(),
            bytes.len(),
            t0.elapsed().as_secs_f64()
        );
    }
    Ok(ExitCode::SUCCESS)
}
