//! Signals of a running process, as Suricata's operators know them: rule reloads on
//! `SIGUSR2` (or `gatewatch rules reload`, or `systemctl reload`), and `SIGHUP` to reopen
//! the files it writes (EVE, dead letters) after logrotate moved them away
//! ([`reopen_on_hangup`], [`reopen_generation`]).
//!
//! A process that accepts reloads writes its pid to `<control.dir>/sensor.pid` (the
//! correlator: `correlator.pid`). On `SIGUSR2` a reload thread recompiles the rules from
//! the same paths as at start, off the packet path, and publishes a set that compiles
//! (the sensor to its workers' rule slot, the correlator to its Sigma stage); one that
//! does not (an unreadable file, a broken pipeline) leaves the running set in place.
//! Either way the outcome goes to the log and to `<control.dir>/reload.json` (attempt
//! number, generation in use, ok, message), which `gatewatch rules reload` waits for
//! and prints.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// What went wrong starting a reload thread or asking a process for a reload.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ControlError {
    /// A file or folder of the control folder could not be read or written.
    #[error("cannot {what} `{path}`: {err}")]
    Io {
        /// What was being done (`create the control folder`, `write`, `read`).
        what: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The system's error.
        err: std::io::Error,
    },
    /// No process of that kind accepts reloads in this control folder.
    #[error("no running Gatewatch process accepts reloads here (cannot read `{0}`)")]
    NotRunning(PathBuf),
    /// A pid or status file that does not hold what it should.
    #[error("`{0}` {1}")]
    Corrupt(PathBuf, &'static str),
    /// The process could not be signalled.
    #[error("cannot signal process {pid} (from `{path}`): {err}")]
    Signal {
        /// The process.
        pid: i32,
        /// Its pid file.
        path: PathBuf,
        /// The system's error.
        err: std::io::Error,
    },
    /// The process did not answer in time.
    #[error("process {pid} did not report a reload within {secs} s")]
    NoAnswer {
        /// The process.
        pid: i32,
        /// How long it was waited for.
        secs: u64,
    },
}

fn io<'a>(what: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> ControlError + 'a {
    move |err| ControlError::Io { what, path: path.to_path_buf(), err }
}

/// The sensor's pid file in the control folder.
pub const PID_FILE: &str = "sensor.pid";
/// The sensor's reload status in the control folder.
pub const STATUS_FILE: &str = "reload.json";

/// The outcome of the latest reload attempt.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct ReloadStatus {
    /// Reload attempts since start (0: none yet).
    pub attempt: u64,
    /// The generation of the rules in use (1: those loaded at start).
    pub generation: u64,
    /// Whether the latest attempt succeeded.
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
    /// `replay`, `run` or `sensor`.
    Sensor,
    /// `correlator`.
    Correlator,
}

impl Process {
    /// Both, in the order `gatewatch rules reload` asks them.
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

    /// The process as logs name it.
    pub fn name(self) -> &'static str {
        match self {
            Process::Sensor => "sensor",
            Process::Correlator => "correlator",
        }
    }
}

impl ReloadControl {
    /// Writes `process`'s pid file and starts the thread that, on `SIGUSR2`, calls
    /// `reload` (load and publish a new set; its generation and a summary) and records
    /// the outcome; `generation` tells the one in use when a reload fails.
    pub fn start_for<E: std::fmt::Display>(
        dir: &Path,
        process: Process,
        reload: impl Fn() -> Result<(u64, String), E> + Send + 'static,
        generation: impl Fn() -> u64 + Send + 'static,
    ) -> Result<ReloadControl, ControlError> {
        std::fs::create_dir_all(dir).map_err(io("create the control folder", dir))?;
        let pid_file = dir.join(process.pid_file());
        let status_file = dir.join(process.status_file());
        write_json_atomic(
            &status_file,
            &ReloadStatus { generation: 1, ok: true, ..Default::default() },
        )
        .map_err(io("write", &status_file))?;
        let mut signals = signal_hook::iterator::Signals::new([signal_hook::consts::SIGUSR2])
            .map_err(io("install the SIGUSR2 handler of", dir))?;
        std::fs::write(&pid_file, format!("{}\n", std::process::id()))
            .map_err(io("write", &pid_file))?;
        let who = process.name();
        std::thread::Builder::new()
            .name("rules-reload".into())
            .spawn(move || {
                for (n, _) in signals.forever().enumerate() {
                    let attempt = n as u64 + 1;
                    let start = Instant::now();
                    let status = match reload() {
                        Ok((generation, summary)) => {
                            let message = format!("generation {generation}: {summary}");
                            tracing::info!(
                                component = who,
                                generation,
                                "rules reloaded, {message}"
                            );
                            ReloadStatus { attempt, generation, ok: true, message, seconds: 0.0 }
                        }
                        Err(e) => {
                            let generation = generation();
                            let message =
                                format!("{e:#}; the rules of generation {generation} stay in use");
                            tracing::warn!(component = who, "rules reload failed: {message}");
                            ReloadStatus { attempt, generation, ok: false, message, seconds: 0.0 }
                        }
                    };
                    let status = ReloadStatus { seconds: start.elapsed().as_secs_f64(), ..status };
                    if let Err(e) = write_json_atomic(&status_file, &status) {
                        tracing::error!("cannot write `{}`: {e}", status_file.display());
                    }
                }
            })
            .map_err(io("start the reload thread of", dir))?;
        Ok(ReloadControl { pid_file })
    }
}

impl Drop for ReloadControl {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.pid_file);
    }
}

/// How many times `SIGHUP` asked to reopen files since start; a writer that opened its
/// file at an older count reopens it before its next line.
static REOPEN: AtomicU64 = AtomicU64::new(0);
/// The thread counting `SIGHUP`s, started once per process.
static HANGUP: OnceLock<Result<(), String>> = OnceLock::new();

/// The number of reopen requests so far ([`reopen_on_hangup`]).
pub fn reopen_generation() -> u64 {
    REOPEN.load(Ordering::Acquire)
}

/// Asks every [`crate::logfile::LogFile`] of this process to reopen its file, as
/// `SIGHUP` does.
pub fn request_reopen() {
    REOPEN.fetch_add(1, Ordering::AcqRel);
}

/// Makes `SIGHUP` a request to reopen written files (instead of ending the process, its
/// default): logrotate moves `eve.json` away and signals, and the next line goes to a
/// new file, with no `copytruncate`. Every long-running command calls this once; later
/// calls do nothing.
pub fn reopen_on_hangup() -> Result<(), ControlError> {
    let started = HANGUP.get_or_init(|| {
        let mut signals = signal_hook::iterator::Signals::new([signal_hook::consts::SIGHUP])
            .map_err(|e| e.to_string())?;
        std::thread::Builder::new()
            .name("reopen-files".into())
            .spawn(move || {
                for _ in signals.forever() {
                    request_reopen();
                }
            })
            .map(|_| ())
            .map_err(|e| e.to_string())
    });
    started.clone().map_err(|e| ControlError::Io {
        what: "install the SIGHUP handler",
        path: PathBuf::new(),
        err: std::io::Error::other(e),
    })
}

fn read_status(dir: &Path, process: Process) -> Result<ReloadStatus, ControlError> {
    let path = dir.join(process.status_file());
    let text = std::fs::read(&path).map_err(io("read", &path))?;
    serde_json::from_slice(&text).map_err(|_| ControlError::Corrupt(path, "is not a reload status"))
}

/// The processes with a pid file in `dir`.
pub fn running(dir: &Path) -> Vec<Process> {
    Process::ALL.into_iter().filter(|p| dir.join(p.pid_file()).exists()).collect()
}

/// `gatewatch rules reload`: signals `process` (its pid file in `dir`) and waits (up
/// to `timeout`) for the outcome.
pub fn request_reload_of(
    dir: &Path,
    process: Process,
    timeout: Duration,
) -> Result<ReloadStatus, ControlError> {
    let pid_path = dir.join(process.pid_file());
    let text = std::fs::read_to_string(&pid_path)
        .map_err(|_| ControlError::NotRunning(pid_path.clone()))?;
    let pid = text
        .trim()
        .parse()
        .ok()
        .and_then(rustix::process::Pid::from_raw)
        .ok_or_else(|| ControlError::Corrupt(pid_path.clone(), "does not hold a process id"))?;
    let before = read_status(dir, process)?.attempt;
    if let Err(e) = rustix::process::kill_process(pid, rustix::process::Signal::USR2) {
        let err = std::io::Error::from(e);
        return Err(ControlError::Signal { pid: pid.as_raw_nonzero().get(), path: pid_path, err });
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
            let pid = pid.as_raw_nonzero().get();
            return Err(ControlError::NoAnswer { pid, secs: timeout.as_secs() });
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
