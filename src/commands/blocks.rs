//! `gatewatch blocks …`: the automated response's decisions (list, show) and what
//! analysts decide about them (approve, deny, undo). They work on the store of
//! `store.path`, also while the correlator runs.
//!
//! An approval is carried out by the correlator's responder. An undo is carried out
//! here at once when this configuration has the block's action (the firewall is
//! reachable from this machine), else by the correlator within a second.

use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::Subcommand;
use gatewatch_correlator::response::Responder;
use gatewatch_correlator::store::blocks::{BlockFilter, BlockRequest, BlockState};

use super::incidents::{actor, open_store};
use crate::config::Config;

#[derive(Subcommand)]
pub enum BlocksCommand {
    /// Block decisions, newest first.
    List {
        /// A JSON array (id, target, target_kind, action, action_kind, policy, mode,
        /// state, reason, allowlist, incident_id, ttl_secs, repeat, created_at,
        /// executed_at, expires_at, ended_at, decided_by, attempts, last_error).
        #[arg(long)]
        json: bool,
        /// Only these states (comma-separated: executed,dry-run,skipped-allowlist,…).
        #[arg(long, value_delimiter = ',')]
        state: Vec<String>,
        /// Only decisions of this incident.
        #[arg(long)]
        incident: Option<i64>,
        /// Only decisions about this address or domain.
        #[arg(long)]
        target: Option<String>,
        #[arg(long, default_value_t = 1000)]
        limit: usize,
    },
    /// One decision with its audit trail.
    Show {
        id: i64,
        #[arg(long)]
        json: bool,
    },
    /// Approve a decision that waits for an analyst (awaiting-approval, rate-limited), or
    /// carry a dry-run out for real; the allowlist is checked again when it is.
    Approve {
        id: i64,
        #[arg(long)]
        by: Option<String>,
        #[arg(long)]
        reason: Option<String>,
    },
    /// Deny a decision that waits for an analyst.
    Deny {
        id: i64,
        #[arg(long)]
        by: Option<String>,
        #[arg(long)]
        reason: Option<String>,
    },
    /// Lift an executed block now, or finish a lift asked for in the console (the target
    /// is then not blocked again automatically for `response.pardon`).
    Undo {
        id: i64,
        #[arg(long)]
        by: Option<String>,
        #[arg(long)]
        reason: Option<String>,
    },
}

pub fn run(cmd: BlocksCommand, cfg: Config) -> Result<ExitCode> {
    let mut store = open_store(&cfg)?;
    match cmd {
        BlocksCommand::List { json, state, incident, target, limit } => {
            let states = state
                .iter()
                .map(|s| {
                    BlockState::parse(s.trim()).with_context(|| {
                        let all: Vec<&str> = BlockState::ALL.iter().map(|s| s.as_str()).collect();
                        format!("--state `{s}`: one of {}", all.join(", "))
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            let rows = store.blocks(&BlockFilter { states, incident, target, limit })?;
            if json {
                super::write_stdout(&format!("{}\n", serde_json::to_string_pretty(&rows)?))?;
            } else if rows.is_empty() {
                println!("no block decisions");
            } else {
                print!("{}", gatewatch_correlator::terminal::block_table(&rows));
            }
        }
        BlocksCommand::Show { id, json } => {
            let b = store.block(id)?;
            let history = store.block_history(id)?;
            if json {
                let v = serde_json::json!({"block": b, "history": history});
                super::write_stdout(&format!("{}\n", serde_json::to_string_pretty(&v)?))?;
            } else {
                print!("{}", gatewatch_correlator::terminal::block_table(std::slice::from_ref(&b)));
                println!();
                for r in history {
                    println!("  {} {:<10} {} {}", r.at, r.actor, r.action, r.detail);
                }
            }
        }
        BlocksCommand::Approve { id, by, reason } => {
            let b =
                store.request_block(id, BlockRequest::Approve, &actor(&by), reason.as_deref())?;
            println!(
                "block {id} ({} {}) approved: the correlator carries it out",
                b.target_kind, b.target
            );
        }
        BlocksCommand::Deny { id, by, reason } => {
            store.request_block(id, BlockRequest::Deny, &actor(&by), reason.as_deref())?;
            println!("block {id} denied");
        }
        BlocksCommand::Undo { id, by, reason } => {
            // A lift asked for already (in the console) is carried out here too.
            let b = match store.block(id)? {
                b if b.state == BlockState::Undoing.as_str() => b,
                _ => store.request_block(id, BlockRequest::Undo, &actor(&by), reason.as_deref())?,
            };
            let r = &cfg.response;
            let here = !r.actions.is_empty() && r.actions.contains_key(&b.action);
            if !here {
                println!("block {id} ({}): lift requested; the correlator lifts it", b.target);
                return Ok(ExitCode::SUCCESS);
            }
            let mut responder = Responder::new(r, &cfg.correlator)
                .map_err(anyhow::Error::msg)
                .context("[response]")?;
            let now = chrono::Utc::now().timestamp_micros();
            responder.work_on(&mut store, id, now)?;
            let after = store.block(id)?;
            match after.state.as_str() {
                "undone" => println!("block {id} ({}) lifted", after.target),
                _ if after.last_error.is_some() => bail!(
                    "block {id} ({}): lifting failed: {} (the correlator tries again)",
                    after.target,
                    after.last_error.unwrap_or_default()
                ),
                s => {
                    println!("block {id} ({}): {s}; the correlator finishes the lift", after.target)
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
