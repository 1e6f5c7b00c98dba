//! Rule reloads of a running process: `SIGHUP`, or `gatewatch rules reload`.
//!
//! A process that accepts reloads writes its pid to `<control.dir>/sensor.pid`. On
//! `SIGHUP` a reload thread recompiles every engine's rules from the same paths as at
//! start, off the packet path; a set that compiles is published to the workers'
//! [`RuleSlot`], one that does not (an unreadable file, a broken pipeline) leaves the
//! running set in place. Either way the outcome goes to the log and to
//! `<control.dir>/reload.json` (attempt number, generation in use, ok, message), which
//! `gatewatch rules reload` waits for and prints.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use gatewatch_rules::detection::Detection;
use gatewatch_sensor::reload::RuleSlot;
use serde::{Deserialize, Serialize};

pub const PID_FILE: &str = "sensor.pid";
pub const STATUS_FILE: &str = "reload.json";

/// The outcome of the latest reload attempt.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct ReloadStatus {
    /// Reload attempts since start (0: none yet).
    pub attempt: u64,
    /// The generation of the rules in use (1: those loaded at start).
    pub generation: u64,
    pub ok: bool,
    /// What was loaded, or why the new set was refused.
    pub message: String,
    /// Seconds the compilation took.
    pub seconds: f64,
}

/// Writes `value` as JSON to `path` atomically (a reader sees the old or the new file).
fn write_json_atomic(path: &Path, value: &impl Serialize) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, serde_json::to_vec_pretty(value).map_err(std::io::Error::other)?)?;
    std::fs::rename(&tmp, path)
}

/// The pid file and reload thread of a running process; the pid file is removed when
/// this is dropped.
pub struct ReloadControl {
    pid_file: PathBuf,
}

/// Which process a pid file and status file belong to: the sensor (`replay`/`run
/// --reload`) or the correlator, which may share a control folder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Process {
    Sensor,
    Correlator,
}

impl Process {
    pub const ALL: [Process; 2] = [Process::Sensor, Process::Correlator];

    fn pid_file(self) -> &'static str {
        match self {
            Process::Sensor => PID_FILE,
            Process::Correlator => "correlator.pid",
        }
    }

    fn status_file(self) -> &'static str {
        match self {
            Process::Sensor => STATUS_FILE,
            Process::Correlator => "correlator-reload.json",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Process::Sensor => "sensor",
            Process::Correlator => "correlator",
        }
    }
}

impl ReloadControl {
    /// Writes the sensor's pid file and starts the thread that reloads on `SIGHUP`
    /// with `load`, publishing to `slot`.
    pub fn start(
        dir: &Path,
        slot: Arc<RuleSlot>,
        load: impl Fn() -> Result<(Detection, String)> + Send + 'static,
    ) -> Result<ReloadControl> {
        let current = slot.clone();
        Self::start_for(
            dir,
            Process::Sensor,
            move || load().map(|(d, summary)| (slot.publish(d), summary)),
            move || current.generation(),
        )
    }

    /// Writes `process`'s pid file and starts the thread that, on `SIGHUP`, calls
    /// `reload` (load and publish a new set; its generation and a summary) and records
    /// the outcome; `generation` tells the one in use when a reload fails.
    pub fn start_for(
        dir: &Path,
        process: Process,
        reload: impl Fn() -> Result<(u64, String)> + Send + 'static,
        generation: impl Fn() -> u64 + Send + 'static,
    ) -> Result<ReloadControl> {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the control folder `{}`", dir.display()))?;
        let pid_file = dir.join(process.pid_file());
        let status_file = dir.join(process.status_file());
        write_json_atomic(
            &status_file,
            &ReloadStatus { generation: 1, ok: true, ..Default::default() },
        )
        .with_context(|| format!("cannot write `{}`", status_file.display()))?;
        let mut signals = signal_hook::iterator::Signals::new([signal_hook::consts::SIGHUP])
            .context("cannot install the SIGHUP handler")?;
        std::fs::write(&pid_file, format!("{}\n", std::process::id()))
            .with_context(|| format!("cannot write `{}`", pid_file.display()))?;
        let who = process.name();
        std::thread::Builder::new().name("rules-reload".into()).spawn(move || {
            for (n, _) in signals.forever().enumerate() {
                let attempt = n as u64 + 1;
                let start = Instant::now();
                let status = match reload() {
                    Ok((generation, summary)) => {
                        let message = format!("generation {generation}: {summary}");
                        eprintln!("gatewatch {who}: rules reloaded, {message}");
                        ReloadStatus { attempt, generation, ok: true, message, seconds: 0.0 }
                    }
                    Err(e) => {
                        let generation = generation();
                        let message =
                            format!("{e:#}; the rules of generation {generation} stay in use");
                        eprintln!("gatewatch {who}: rules reload failed: {message}");
                        ReloadStatus { attempt, generation, ok: false, message, seconds: 0.0 }
                    }
                };
                let status = ReloadStatus { seconds: start.elapsed().as_secs_f64(), ..status };
                if let Err(e) = write_json_atomic(&status_file, &status) {
                    eprintln!("gatewatch: cannot write `{}`: {e}", status_file.display());
                }
            }
        })?;
        Ok(ReloadControl { pid_file })
    }
}

impl Drop for ReloadControl {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.pid_file);
    }
}

fn read_status(dir: &Path, process: Process) -> Result<ReloadStatus> {
    let path = dir.join(process.status_file());
    let text = std::fs::read(&path).with_context(|| format!("cannot read `{}`", path.display()))?;
    serde_json::from_slice(&text)
        .with_context(|| format!("`{}` is not a reload status", path.display()))
}

/// The processes with a pid file in `dir`.
pub fn running(dir: &Path) -> Vec<Process> {
    Process::ALL.into_iter().filter(|p| dir.join(p.pid_file()).exists()).collect()
}

/// `gatewatch rules reload`: signals `process` (its pid file in `dir`) and waits (up
/// to `timeout`) for the outcome.
pub fn request_reload_of(dir: &Path, process: Process, timeout: Duration) -> Result<ReloadStatus> {
    let pid_path = dir.join(process.pid_file());
    let text = std::fs::read_to_string(&pid_path).with_context(|| {
        format!(
            "no running Gatewatch process accepts reloads here (cannot read `{}`)",
            pid_path.display()
        )
    })?;
    let pid = text
        .trim()
        .parse()
        .ok()
        .and_then(rustix::process::Pid::from_raw)
        .with_context(|| format!("`{}` does not hold a process id", pid_path.display()))?;
    let before = read_status(dir, process)?.attempt;
    if let Err(e) = rustix::process::kill_process(pid, rustix::process::Signal::HUP) {
        let e = std::io::Error::from(e);
        anyhow::bail!("cannot signal process {pid} (from `{}`): {e}", pid_path.display());
    }
    let deadline = Instant::now() + timeout;
    loop {
        // The status file may be between its write and its rename: retry.
        if let Ok(s) = read_status(dir, process) {
            if s.attempt > before {
                return Ok(s);
            }
        }
        if Instant::now() >= deadline {
            anyhow::bail!("process {pid} did not report a reload within {} s", timeout.as_secs());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
