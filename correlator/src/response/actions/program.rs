//! Runs a configured program: an absolute path and an argument vector, never a shell.
//! Placeholders in the arguments are replaced whole-word or inside an argument
//! (`{target}`, `{kind}`, `{ttl}`, `{expires}`, `{id}`, `{incident}`, `{policy}`); the
//! environment is emptied but for `PATH` and `GATEWATCH_*` variables with the same
//! values. The program runs in a process group of its own; a run that outlives
//! `timeout_secs` — the program, or what it left running that still holds its output —
//! is killed with its whole group. Exit status 0 is success; the exit status and the
//! first 4 KiB of its output go to the audit record.

use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::{ActionError, BlockAction, Outcome, Request};
use crate::response::allowlist::TargetValue;
use crate::response::config::ProgramConfig;
use crate::response::ConfigError;

/// Output kept per stream.
const KEEP: usize = 4096;

/// What a run came to.
#[derive(Clone, Debug, PartialEq)]
pub struct RunOutput {
    /// `None` when killed by a signal (or for the timeout).
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl RunOutput {
    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({"exit": self.code, "stdout": self.stdout, "stderr": self.stderr})
    }
}

fn keep(mut b: Vec<u8>) -> String {
    b.truncate(KEEP);
    String::from_utf8_lossy(&b).trim_end().to_string()
}

/// Runs `argv` (no shell) with `stdin`, for at most `timeout`; `env` is the whole
/// environment besides `PATH`.
pub(crate) fn run(
    argv: &[String],
    stdin: Option<&[u8]>,
    timeout: Duration,
    env: &[(&str, String)],
) -> Result<RunOutput, ActionError> {
    let (prog, args) = argv.split_first().ok_or_else(|| ActionError::fatal("no program to run"))?;
    let mut child = Command::new(prog)
        .args(args)
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own process group: what it starts can be killed with it.
        .process_group(0)
        .spawn()
        .map_err(|e| ActionError::fatal(format!("cannot run `{prog}`: {e}")))?;
    let group = child.id();
    if let (Some(mut w), Some(data)) = (child.stdin.take(), stdin) {
        let data = data.to_vec();
        std::thread::spawn(move || {
            let _ = w.write_all(&data);
        });
    }
    // Readers on their own threads: a chatty program cannot fill a pipe and hang.
    let reader = |r: Option<Box<dyn Read + Send>>| {
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut r) = r {
                let _ = r.by_ref().take(1 << 20).read_to_end(&mut buf);
                let _ = std::io::copy(&mut r, &mut std::io::sink());
            }
            let _ = tx.send(buf);
        });
        rx
    };
    let out = reader(child.stdout.take().map(|s| Box::new(s) as Box<dyn Read + Send>));
    let err = reader(child.stderr.take().map(|s| Box::new(s) as Box<dyn Read + Send>));
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break Some(s),
            Ok(None) if Instant::now() >= deadline => {
                kill_group(group);
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => {
                kill_group(group);
                return Err(ActionError::transient(format!("waiting for `{prog}`: {e}")));
            }
        }
    };
    // The output ends when every process holding it has ended: one the program left
    // running past the deadline is killed with the group; one that left the group is
    // not waited for beyond a second.
    let collect = |rx: &mpsc::Receiver<Vec<u8>>| {
        let left = deadline.saturating_duration_since(Instant::now());
        rx.recv_timeout(left).unwrap_or_else(|_| {
            kill_group(group);
            rx.recv_timeout(Duration::from_secs(1)).unwrap_or_default()
        })
    };
    let output = RunOutput {
        code: status.and_then(|s| s.code()),
        stdout: keep(collect(&out)),
        stderr: keep(collect(&err)),
    };
    if status.is_none() {
        return Err(ActionError::transient(format!(
            "`{prog}` did not finish within {} s and was killed",
            timeout.as_secs()
        )));
    }
    Ok(output)
}

/// Kills every process of process group `group` (a program run here and what it
/// started).
fn kill_group(group: u32) {
    let Some(pgid) = i32::try_from(group).ok().filter(|g| *g > 1) else { return };
    // The child's own group (`process_group(0)`), never this process's.
    if let Some(pgid) = rustix::process::Pid::from_raw(pgid) {
        let _ = rustix::process::kill_process_group(pgid, rustix::process::Signal::KILL);
    }
}

pub struct Program {
    cfg: ProgramConfig,
}

fn check_argv(what: &str, argv: &[String], required: bool) -> Result<(), ConfigError> {
    match argv.first() {
        None if required => {
            Err(ConfigError::new(format!("`{what}` is empty: give the program and its arguments")))
        }
        None => Ok(()),
        Some(p) if !Path::new(p).is_absolute() => {
            Err(ConfigError::new(format!("`{what}`: the program `{p}` must be an absolute path")))
        }
        Some(_) => Ok(()),
    }
}

impl Program {
    pub fn new(cfg: &ProgramConfig) -> Result<Program, ConfigError> {
        check_argv("block", &cfg.block, true)?;
        check_argv("unblock", &cfg.unblock, true)?;
        check_argv("verify", &cfg.verify, false)?;
        if cfg.timeout_secs == 0 {
            return Err(ConfigError::new("`timeout_secs` must be at least 1"));
        }
        Ok(Program { cfg: cfg.clone() })
    }

    fn values(r: &Request) -> [(&'static str, String); 7] {
        [
            ("target", r.target.to_string()),
            ("kind", r.kind.as_str().to_string()),
            ("ttl", r.ttl_secs.to_string()),
            ("expires", crate::store::sqlite::iso_utc(r.expires_us)),
            ("id", r.block_id.to_string()),
            ("incident", r.incident_id.map(|i| i.to_string()).unwrap_or_default()),
            ("policy", r.policy.clone()),
        ]
    }

    fn run_step(
        &self,
        argv: &[String],
        r: &Request,
        event: &str,
    ) -> Result<RunOutput, ActionError> {
        let vals = Program::values(r);
        // Targets are validated addresses and DNS names, which never start with `-`;
        // should one ever, it must not reach a program as an option.
        if r.target.to_string().starts_with('-') {
            return Err(ActionError::fatal(format!(
                "the target `{}` starts with `-`: not passed to a program",
                r.target
            )));
        }
        let argv: Vec<String> = argv
            .iter()
            .map(|a| vals.iter().fold(a.clone(), |s, (k, v)| s.replace(&format!("{{{k}}}"), v)))
            .collect();
        let mut env: Vec<(&str, String)> = vec![("GATEWATCH_EVENT", event.to_string())];
        for (k, v) in &vals {
            env.push((
                match *k {
                    "target" => "GATEWATCH_TARGET",
                    "kind" => "GATEWATCH_KIND",
                    "ttl" => "GATEWATCH_TTL",
                    "expires" => "GATEWATCH_EXPIRES",
                    "id" => "GATEWATCH_BLOCK_ID",
                    "incident" => "GATEWATCH_INCIDENT",
                    _ => "GATEWATCH_POLICY",
                },
                v.clone(),
            ));
        }
        run(&argv, None, Duration::from_secs(self.cfg.timeout_secs), &env)
    }
}

fn failed(what: &str, o: &RunOutput) -> ActionError {
    let why = if o.stderr.is_empty() { &o.stdout } else { &o.stderr };
    ActionError::transient(format!(
        "{what} exited with {}: {}",
        o.code.map_or("a signal".to_string(), |c| c.to_string()),
        why.lines().next().unwrap_or("")
    ))
}

impl BlockAction for Program {
    fn kind(&self) -> &'static str {
        "program"
    }

    fn supports(&self, _: &TargetValue) -> bool {
        true
    }

    fn block(&mut self, r: &Request) -> Result<Outcome, ActionError> {
        let o = self.run_step(&self.cfg.block, r, "block")?;
        if o.code != Some(0) {
            return Err(failed("the block program", &o));
        }
        if self.cfg.verify.is_empty() {
            return Ok(serde_json::json!({"block": o.json()}));
        }
        let v = self.run_step(&self.cfg.verify, r, "verify")?;
        if v.code != Some(0) {
            return Err(failed("the block ran, but the verify program", &v));
        }
        Ok(serde_json::json!({"block": o.json(), "verify": v.json(), "verified": true}))
    }

    fn unblock(&mut self, r: &Request) -> Result<Outcome, ActionError> {
        let o = self.run_step(&self.cfg.unblock, r, "unblock")?;
        if o.code != Some(0) {
            return Err(failed("the unblock program", &o));
        }
        Ok(serde_json::json!({"unblock": o.json()}))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::response::config::TargetKind;

    fn req() -> Request {
        Request {
            block_id: 7,
            kind: TargetKind::Source,
            target: TargetValue::parse("203.0.113.7").unwrap(),
            ttl_secs: 3600,
            expires_us: 0,
            incident_id: Some(3),
            policy: "p".into(),
            reason: "r".into(),
        }
    }

    fn argv(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn arguments_are_not_a_shell_and_failures_are_errors() {
        let mut p = Program::new(&ProgramConfig {
            block: argv(&["/bin/echo", "block", "{target}", "ttl={ttl};rm -rf /", "$(id)"]),
            unblock: argv(&["/bin/false"]),
            verify: Vec::new(),
            timeout_secs: 5,
        })
        .unwrap();
        let o = p.block(&req()).unwrap();
        assert_eq!(o["block"]["stdout"], "block 203.0.113.7 ttl=3600;rm -rf / $(id)");
        assert_eq!(o["block"]["exit"], 0);
        let e = p.unblock(&req()).unwrap_err();
        assert!(e.message.contains("the unblock program exited with 1"), "{e}");
    }

    #[test]
    fn a_program_that_hangs_is_killed() {
        let mut p = Program::new(&ProgramConfig {
            block: argv(&["/bin/sleep", "30"]),
            unblock: argv(&["/bin/true"]),
            verify: Vec::new(),
            timeout_secs: 1,
        })
        .unwrap();
        let e = p.block(&req()).unwrap_err();
        assert!(e.message.contains("did not finish within 1 s"), "{e}");
    }

    /// Hardening finding 9: a program that leaves a process holding its output does
    /// not block the responder; that process is killed with the program's group at the
    /// timeout.
    #[test]
    fn a_program_leaving_a_child_on_its_output_is_killed_with_its_group() {
        let mut p = Program::new(&ProgramConfig {
            block: argv(&["/bin/sh", "-c", "sleep 300 & echo $!"]),
            unblock: argv(&["/bin/true"]),
            verify: Vec::new(),
            timeout_secs: 1,
        })
        .unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(p.block(&req()));
        });
        // A hang (the old behaviour) never answers; a generous bound catches it.
        let o = rx.recv_timeout(Duration::from_secs(120)).expect("block returned").unwrap();
        assert_eq!(o["block"]["exit"], 0);
        let pid = o["block"]["stdout"].as_str().unwrap().trim().to_string();
        assert!(pid.parse::<u32>().is_ok(), "{o}");
        // Killed: gone, or a zombie waiting for its new parent to reap it.
        let alive = |pid: &str| {
            std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .is_ok_and(|s| !s.rsplit(')').next().unwrap_or("").trim_start().starts_with('Z'))
        };
        for _ in 0..200 {
            if !alive(&pid) {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("the program's child {pid} is still running");
    }

    #[test]
    fn configuration_errors() {
        let bad = ProgramConfig {
            block: argv(&["sinkhole"]),
            unblock: argv(&["/bin/true"]),
            ..Default::default()
        };
        assert!(Program::new(&bad).err().unwrap().to_string().contains("absolute path"));
        let none = ProgramConfig { unblock: argv(&["/bin/true"]), ..Default::default() };
        assert!(Program::new(&none).err().unwrap().to_string().contains("`block` is empty"));
    }
}
