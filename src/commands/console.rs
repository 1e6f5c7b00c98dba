//! `gatewatch console` (the analyst console alone, over the store of `store.path`),
//! `gatewatch users …` and `gatewatch tokens …` (accounts, run on the correlator's
//! host by whoever administers it; every change is in the audit log).

use std::io::{BufRead, IsTerminal};

use rustix::termios::{tcgetattr, tcsetattr, LocalModes, OptionalActions, Termios};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use gatewatch_correlator::console::{self, ConsoleConfig};
use gatewatch_correlator::server::Shared;
use gatewatch_correlator::store::accounts::Role;
use gatewatch_correlator::store::Store;

use crate::config::Config;

#[derive(Args)]
pub struct ConsoleArgs {
    /// `address:port` to serve on (default: `console.listen`, else 127.0.0.1:8443).
    #[arg(long)]
    pub listen: Option<String>,
    /// Print the address as JSON on one line once serving (for scripts and tests).
    #[arg(long)]
    pub print_address: bool,
}

#[derive(Subcommand)]
pub enum UsersCommand {
    /// Add a user; the password is read from standard input (not echoed on a terminal).
    Add {
        name: String,
        #[arg(long, value_parser = ["viewer", "analyst", "admin"])]
        role: String,
        #[arg(long, default_value = "")]
        display_name: String,
    },
    /// Set a user's password (read from standard input); ends the user's sessions.
    Passwd { name: String },
    /// Disable a user: sessions end, tokens stop working.
    Disable { name: String },
    /// Enable a disabled user.
    Enable { name: String },
    /// Change a user's role.
    Role {
        name: String,
        #[arg(value_parser = ["viewer", "analyst", "admin"])]
        role: String,
    },
    /// Every user.
    List {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
pub enum TokensCommand {
    /// Create an API token acting as USER with ROLE (at most the user's); prints the
    /// secret once.
    Add {
        name: String,
        #[arg(long)]
        user: String,
        #[arg(long, value_parser = ["viewer", "analyst", "admin"])]
        role: String,
        /// Days until it expires (default: until revoked).
        #[arg(long)]
        days: Option<u32>,
    },
    /// Every token (never their secrets).
    List {
        #[arg(long)]
        json: bool,
    },
    /// Revoke a token.
    Revoke { id: i64 },
}

fn role(s: &str) -> Result<Role> {
    Role::parse(s).with_context(|| format!("unknown role `{s}`"))
}

/// Who ran the command, for the audit log: `cli:` and the system user.
fn actor() -> String {
    let who = std::env::var("SUDO_USER")
        .or_else(|_| std::env::var("USER"))
        .unwrap_or_else(|_| "root".into());
    format!("cli:{who}")
}

/// Reads a password: one line of standard input, not echoed when it is a terminal.
fn read_password(prompt: &str) -> Result<String> {
    let stdin = std::io::stdin();
    let tty = stdin.is_terminal();
    if tty {
        eprint!("{prompt}: ");
    }
    let echo = tty.then(|| set_echo(false)).flatten();
    let mut line = String::new();
    let read = stdin.lock().read_line(&mut line);
    if let Some(old) = echo {
        restore_echo(old);
        eprintln!();
    }
    read.context("cannot read the password from standard input")?;
    let pw = line.trim_end_matches(['\n', '\r']).to_string();
    if pw.is_empty() {
        bail!("no password given on standard input");
    }
    Ok(pw)
}

fn set_echo(on: bool) -> Option<Termios> {
    let stdin = std::io::stdin();
    let old = tcgetattr(&stdin).ok()?;
    let mut t = old.clone();
    t.local_modes.set(LocalModes::ECHO, on);
    tcsetattr(&stdin, OptionalActions::Now, &t).ok().map(|()| old)
}

fn restore_echo(old: Termios) {
    let _ = tcsetattr(std::io::stdin(), OptionalActions::Now, &old);
}

fn store(cfg: &Config) -> Result<Store> {
    Store::open(&cfg.store.path)
        .with_context(|| format!("cannot open the store `{}`", cfg.store.path.display()))
}

pub fn run_users(cmd: UsersCommand, cfg: Config) -> Result<ExitCode> {
    let mut s = store(&cfg)?;
    match cmd {
        UsersCommand::Add { name, role: r, display_name } => {
            let pw = read_password(&format!("Password for {name}"))?;
            s.add_user(&name, &display_name, role(&r)?, &pw, &actor())?;
            println!("user `{name}` added ({r})");
        }
        UsersCommand::Passwd { name } => {
            let pw = read_password(&format!("New password for {name}"))?;
            s.set_password(&name, &pw, &actor())?;
            println!("password of `{name}` set; its sessions ended");
        }
        UsersCommand::Disable { name } => {
            s.set_user_disabled(&name, true, &actor())?;
            println!("user `{name}` disabled");
        }
        UsersCommand::Enable { name } => {
            s.set_user_disabled(&name, false, &actor())?;
            println!("user `{name}` enabled");
        }
        UsersCommand::Role { name, role: r } => {
            s.set_user_role(&name, role(&r)?, &actor())?;
            println!("user `{name}` is now {r}");
        }
        UsersCommand::List { json } => {
            let users = s.users()?;
            if json {
                super::write_stdout(&format!("{}\n", serde_json::to_string_pretty(&users)?))?;
            } else {
                print!("{}", gatewatch_correlator::terminal::user_table(&users));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn run_tokens(cmd: TokensCommand, cfg: Config) -> Result<ExitCode> {
    let mut s = store(&cfg)?;
    match cmd {
        TokensCommand::Add { name, user, role: r, days } => {
            let expires =
                days.map(|d| chrono::Utc::now().timestamp_micros() + d as i64 * 86_400_000_000);
            let (id, secret) = s.create_token(&name, &user, role(&r)?, expires, &actor())?;
            eprintln!("token {id} `{name}` for {user} ({r}); the secret is shown once:");
            super::write_stdout(&format!("{secret}\n"))?;
        }
        TokensCommand::List { json } => {
            let tokens = s.tokens()?;
            if json {
                super::write_stdout(&format!("{}\n", serde_json::to_string_pretty(&tokens)?))?;
            } else {
                print!("{}", gatewatch_correlator::terminal::token_table(&tokens));
            }
        }
        TokensCommand::Revoke { id } => {
            s.revoke_token(id, &actor())?;
            println!("token {id} revoked");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Starts the console of `cfg` (inside the running correlator when `service` is given).
pub async fn start(
    cfg: &Config,
    console_cfg: ConsoleConfig,
    service: Option<Arc<Shared>>,
) -> Result<console::Serving> {
    let (correlator, store, report) = (&cfg.correlator, &cfg.store.path, cfg.report.clone());
    Ok(console::open_and_start(console_cfg, correlator, store, report, &cfg.response, service)
        .await?)
}

/// The runtime a console is served on.
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the I/O runtime")
}

/// Serves until SIGINT/SIGTERM (telling systemd it serves, with `status`).
pub fn wait_for_stop(status: &str) -> Result<()> {
    crate::systemd::serve_until_stopped(status)
}

pub fn run(a: ConsoleArgs, cfg: Config) -> Result<ExitCode> {
    let mut ccfg = cfg.console.clone();
    ccfg.listen = a.listen.unwrap_or_else(|| {
        if ccfg.listen.is_empty() {
            "127.0.0.1:8443".to_string()
        } else {
            ccfg.listen.clone()
        }
    });
    if !ccfg.tls_cert.exists() && ccfg.tls_cert == ConsoleConfig::default().tls_cert {
        let dir = cfg.store.path.parent().unwrap_or(Path::new(".")).join("console-pki");
        let (crt, key) = gatewatch_correlator::pki::local_console_certificate(&dir)?;
        tracing::warn!(
            "no certificate configured; using {} (CA: {}/ca.crt)",
            crt.display(),
            dir.display()
        );
        (ccfg.tls_cert, ccfg.tls_key) = (crt, key);
    }
    let runtime = runtime()?;
    let serving = runtime.block_on(start(&cfg, ccfg, None))?;
    let users = store(&cfg)?.users()?.len();
    if users == 0 {
        tracing::warn!("no users yet: add one with `gatewatch users add NAME --role admin`");
    }
    tracing::info!("https://{}/", serving.addr);
    if a.print_address {
        super::write_stdout(&format!(
            "{}\n",
            serde_json::json!({"console": serving.addr.to_string()})
        ))?;
    }
    wait_for_stop(&format!("console on https://{}/", serving.addr))?;
    serving.stop();
    Ok(ExitCode::SUCCESS)
}
