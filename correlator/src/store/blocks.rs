//! Block decisions of the automated response ([`crate::response`]): one row per
//! decision, whose `state` moves as analysts and the responder act on it, and, for every
//! step, a record of the append-only audit log (`object` = `block:ID`, linked to the
//! incident).
//!
//! ```text
//!  created as  pending ──▶ executed ──▶ expired            (enforce)
//!                 │            └──▶ undoing ──▶ undone      (analyst, or false positive)
//!                 └──▶ failed
//!              awaiting-approval / rate-limited ──▶ approved ──▶ executed …
//!                                    └──▶ denied
//!              dry-run, skipped-allowlist                   (nothing happens)
//! ```
//!
//! Work on a block (executing, expiring, undoing) is claimed with a lease
//! ([`Store::claim_block`]): the correlator's responder and `gatewatch blocks undo` never
//! run the same action twice, and work a crashed process left is taken up again once
//! its lease ends.

use rusqlite::{params, OptionalExtension, Transaction};
use serde::Serialize;

use super::lifecycle::append_audit;
use super::sqlite::{iso_utc, Store, StoreError};

/// Where a decision is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum BlockState {
    /// Decided in `enforce` mode (or approved) and not yet carried out.
    Pending,
    /// Approved by an analyst; the responder carries it out next.
    Approved,
    /// Carried out: the block is in place.
    Executed,
    /// Decided in `dry-run` mode: recorded, never carried out.
    DryRun,
    /// Not blocked: the target is on the allowlist.
    SkippedAllowlist,
    /// Held for an analyst's approval because a rate limit was reached.
    RateLimited,
    /// Held for an analyst's approval (`approve` mode).
    AwaitingApproval,
    /// Refused by an analyst.
    Denied,
    /// Carrying it out failed after every attempt (`last_error` says why).
    Failed,
    /// An analyst (or a false-positive verdict) asked to lift it; the responder does.
    Undoing,
    /// Lifted when its time ran out.
    Expired,
    /// Lifted on request.
    Undone,
}

impl BlockState {
    /// Every state, in their order of the lifecycle.
    pub const ALL: [BlockState; 12] = [
        BlockState::Pending,
        BlockState::Approved,
        BlockState::Executed,
        BlockState::DryRun,
        BlockState::SkippedAllowlist,
        BlockState::RateLimited,
        BlockState::AwaitingApproval,
        BlockState::Denied,
        BlockState::Failed,
        BlockState::Undoing,
        BlockState::Expired,
        BlockState::Undone,
    ];

    /// The stored name (`dry-run`, `awaiting-approval`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            BlockState::Pending => "pending",
            BlockState::Approved => "approved",
            BlockState::Executed => "executed",
            BlockState::DryRun => "dry-run",
            BlockState::SkippedAllowlist => "skipped-allowlist",
            BlockState::RateLimited => "rate-limited",
            BlockState::AwaitingApproval => "awaiting-approval",
            BlockState::Denied => "denied",
            BlockState::Failed => "failed",
            BlockState::Undoing => "undoing",
            BlockState::Expired => "expired",
            BlockState::Undone => "undone",
        }
    }

    /// The state of a stored name.
    pub fn parse(s: &str) -> Option<BlockState> {
        BlockState::ALL.into_iter().find(|b| b.as_str() == s)
    }

    /// Waiting for an analyst.
    pub fn awaits_analyst(self) -> bool {
        matches!(self, BlockState::AwaitingApproval | BlockState::RateLimited)
    }

    /// On the firewall now, or about to be (a new decision for the target is not made).
    pub fn is_live(self) -> bool {
        matches!(
            self,
            BlockState::Pending
                | BlockState::Approved
                | BlockState::Executed
                | BlockState::Undoing
                | BlockState::AwaitingApproval
                | BlockState::RateLimited
        )
    }
}

/// A decision as stored.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct BlockRow {
    /// The decision's id.
    pub id: i64,
    /// What is blocked (an address or a domain).
    pub target: String,
    /// `source`, `destination`, `domain` or `host`.
    pub target_kind: String,
    /// The configured action's name, and its kind (`nft`, `webhook`, `program`).
    pub action: String,
    /// `nft`, `webhook` or `program`.
    pub action_kind: String,
    /// The response policy that decided it.
    pub policy: String,
    /// `enforce`, `approve` or `dry-run`.
    pub mode: String,
    /// The state's stored name (see [`BlockState`]).
    pub state: String,
    /// Why it was decided (the incident and rule that led to it).
    pub reason: String,
    /// The allowlist entry that stopped it (`resolvers: 10.46.0.53`).
    pub allowlist: Option<String>,
    /// The incident it belongs to.
    pub incident_id: Option<i64>,
    /// How long the block lasts, in seconds (0: until undone).
    pub ttl_secs: u64,
    /// Earlier blocks of the same target (a repeat offender is blocked longer).
    pub repeat: u32,
    pub(crate) created_at: String,
    pub(crate) executed_at: Option<String>,
    /// When it ends (executed), or would have (dry-run).
    pub expires_at: Option<String>,
    pub(crate) ended_at: Option<String>,
    pub(crate) decided_by: Option<String>,
    pub(crate) attempts: u32,
    /// The last failure of carrying it out or lifting it.
    pub last_error: Option<String>,
    #[serde(skip)]
    pub(crate) created_us: i64,
    #[serde(skip)]
    pub(crate) expires_us: Option<i64>,
    #[serde(skip)]
    pub(crate) ended_us: Option<i64>,
}

const BLOCK_COLS: &str = "id, target, target_kind, action, action_kind, policy, mode, state, reason, allowlist, incident_id, ttl_secs, repeat, created_us, executed_us, expires_us, ended_us, decided_by, attempts, last_error";

fn block_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<BlockRow> {
    let at = |v: Option<i64>| v.map(iso_utc);
    let created_us: i64 = r.get(13)?;
    let expires_us: Option<i64> = r.get(15)?;
    let ended_us: Option<i64> = r.get(16)?;
    Ok(BlockRow {
        id: r.get(0)?,
        target: r.get(1)?,
        target_kind: r.get(2)?,
        action: r.get(3)?,
        action_kind: r.get(4)?,
        policy: r.get(5)?,
        mode: r.get(6)?,
        state: r.get(7)?,
        reason: r.get(8)?,
        allowlist: r.get(9)?,
        incident_id: r.get(10)?,
        ttl_secs: r.get::<_, i64>(11)?.max(0) as u64,
        repeat: r.get::<_, i64>(12)?.clamp(0, u32::MAX as i64) as u32,
        created_at: iso_utc(created_us),
        executed_at: at(r.get(14)?),
        expires_at: at(expires_us),
        ended_at: at(ended_us),
        decided_by: r.get(17)?,
        attempts: r.get::<_, i64>(18)?.clamp(0, u32::MAX as i64) as u32,
        last_error: r.get(19)?,
        created_us,
        expires_us,
        ended_us,
    })
}

/// A new decision.
#[derive(Clone, Debug, PartialEq)]
pub struct NewBlock<'a> {
    /// The incident it belongs to.
    pub incident_id: Option<i64>,
    /// The response policy that decides.
    pub policy: &'a str,
    /// The configured action's name.
    pub action: &'a str,
    /// `nft`, `webhook` or `program`.
    pub action_kind: &'a str,
    /// `source`, `destination`, `domain` or `host`.
    pub target_kind: &'a str,
    /// What is blocked (an address or a domain).
    pub target: &'a str,
    /// `enforce`, `approve` or `dry-run`.
    pub mode: &'a str,
    /// The state it starts in.
    pub state: BlockState,
    /// Why it was decided.
    pub reason: &'a str,
    /// The allowlist entry that stopped it.
    pub allowlist: Option<&'a str>,
    /// How long the block lasts, in seconds (0: until undone).
    pub ttl_secs: u64,
    /// Earlier blocks of the same target.
    pub repeat: u32,
    /// Set when an automatic decision starts a block (counted by the rate limits).
    pub auto_started: bool,
    /// For dry-run decisions: when the block would have ended.
    pub would_expire_us: Option<i64>,
}

/// Which decisions a list shows (newest first).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BlockFilter {
    /// Only decisions in these states (all when empty).
    pub states: Vec<BlockState>,
    /// Only those of this incident.
    pub incident: Option<i64>,
    /// Only those of this target.
    pub target: Option<String>,
    /// At most this many.
    pub limit: usize,
}

/// What an analyst (or the engine) asks of a decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockRequest {
    /// Approve a decision held for approval.
    Approve,
    /// Deny it.
    Deny,
    /// Lift a block (or cancel a pending one).
    Undo,
}

impl BlockRequest {
    pub(super) fn verb(self) -> &'static str {
        match self {
            BlockRequest::Approve => "approved",
            BlockRequest::Deny => "denied",
            BlockRequest::Undo => "undone",
        }
    }
}

/// Appends the audit record of one step of block `id`.
pub(crate) fn audit_block(
    tx: &Transaction<'_>,
    at_us: i64,
    actor: &str,
    id: i64,
    incident: Option<i64>,
    step: &str,
    detail: &serde_json::Value,
) -> Result<(), StoreError> {
    append_audit(
        tx,
        at_us,
        actor,
        &format!("block.{step}"),
        incident,
        Some(&format!("block:{id}")),
        detail,
    )
}

/// Inserts a decision and its first audit record; returns its id.
pub(crate) fn insert_block(
    tx: &Transaction<'_>,
    b: &NewBlock<'_>,
    at_us: i64,
    actor: &str,
) -> Result<i64, StoreError> {
    tx.execute(
        "INSERT INTO blocks (created_us, incident_id, policy, action, action_kind, target_kind, target, mode,
                             state, reason, allowlist, ttl_secs, repeat, auto_started_us, expires_us)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
        params![
            at_us,
            b.incident_id,
            b.policy,
            b.action,
            b.action_kind,
            b.target_kind,
            b.target,
            b.mode,
            b.state.as_str(),
            b.reason,
            b.allowlist,
            b.ttl_secs.min(i64::MAX as u64) as i64,
            b.repeat,
            b.auto_started.then_some(at_us),
            b.would_expire_us,
        ],
    )?;
    let id = tx.last_insert_rowid();
    audit_block(
        tx,
        at_us,
        actor,
        id,
        b.incident_id,
        b.state.as_str(),
        &serde_json::json!({"target": b.target, "target_kind": b.target_kind, "action": b.action,
            "policy": b.policy, "mode": b.mode, "reason": b.reason, "allowlist": b.allowlist,
            "ttl_secs": b.ttl_secs, "repeat": b.repeat}),
    )?;
    Ok(id)
}

pub(super) fn get_block(conn: &rusqlite::Connection, id: i64) -> Result<BlockRow, StoreError> {
    conn.query_row(&format!("SELECT {BLOCK_COLS} FROM blocks WHERE id = ?1"), [id], block_from_row)
        .optional()?
        .ok_or_else(|| StoreError::NotFound(format!("block {id}")))
}

/// How a claimed piece of work ended.
#[derive(Clone, Debug, PartialEq)]
pub struct BlockOutcome<'a> {
    /// The state it ends in.
    pub state: BlockState,
    /// The audit step (`executed`, `attempt-failed`, …); the state's name when `None`.
    pub step: Option<&'a str>,
    pub(crate) detail: serde_json::Value,
    pub(crate) error: Option<&'a str>,
    /// When an executed block ends.
    pub expires_us: Option<i64>,
    /// When to try again (the state is kept).
    pub retry_at_us: Option<i64>,
    /// Set for an allowlist stop found at execution.
    pub allowlist: Option<&'a str>,
}

impl Store {
    /// One decision.
    pub fn block(&self, id: i64) -> Result<BlockRow, StoreError> {
        get_block(self.conn(), id)
    }

    /// Decisions, newest first.
    pub fn blocks(&self, f: &BlockFilter) -> Result<Vec<BlockRow>, StoreError> {
        let mut sql = format!("SELECT {BLOCK_COLS} FROM blocks WHERE 1 = 1");
        let mut args: Vec<rusqlite::types::Value> = Vec::new();
        if !f.states.is_empty() {
            let marks: Vec<String> = f
                .states
                .iter()
                .map(|s| {
                    args.push(s.as_str().to_string().into());
                    format!("?{}", args.len())
                })
                .collect();
            sql.push_str(&format!(" AND state IN ({})", marks.join(", ")));
        }
        if let Some(i) = f.incident {
            args.push(i.into());
            sql.push_str(&format!(" AND incident_id = ?{}", args.len()));
        }
        if let Some(t) = &f.target {
            args.push(t.clone().into());
            sql.push_str(&format!(" AND target = ?{}", args.len()));
        }
        args.push((f.limit.clamp(1, 100_000) as i64).into());
        sql.push_str(&format!(" ORDER BY id DESC LIMIT ?{}", args.len()));
        let mut st = self.conn().prepare_cached(&sql)?;
        let rows = st.query_map(rusqlite::params_from_iter(args), block_from_row)?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// The audit records of a decision, oldest first.
    pub fn block_history(&self, id: i64) -> Result<Vec<super::lifecycle::AuditRecord>, StoreError> {
        let mut st = self.conn().prepare_cached(
            "SELECT id, at_us, actor, action, incident_id, object, detail FROM audit_log
             WHERE object = ?1 ORDER BY at_us, id",
        )?;
        let rows = st.query_map([format!("block:{id}")], super::lifecycle::audit_from_row)?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// Claims block `id` for work while it is in `state`, for `owner` until
    /// `lease_until_us`: false when it moved on or another process holds it.
    pub fn claim_block(
        &mut self,
        id: i64,
        state: BlockState,
        owner: &str,
        now_us: i64,
        lease_until_us: i64,
    ) -> Result<bool, StoreError> {
        let n = self.conn().execute(
            "UPDATE blocks SET lease_owner = ?3, lease_until = ?5
             WHERE id = ?1 AND state = ?2 AND (lease_until IS NULL OR lease_until < ?4 OR lease_owner = ?3)",
            params![id, state.as_str(), owner, now_us, lease_until_us],
        )?;
        Ok(n == 1)
    }

    /// Ends the work `owner` claimed on block `id` (in `from`): its new state and the
    /// audit record of the step, in one transaction. False if the lease was lost.
    pub fn finish_block(
        &mut self,
        id: i64,
        from: BlockState,
        owner: &str,
        actor: &str,
        now: i64,
        o: &BlockOutcome<'_>,
    ) -> Result<bool, StoreError> {
        let tx = self.transaction()?;
        let b = get_block(&tx, id)?;
        let executed =
            (o.state == BlockState::Executed && from != BlockState::Executed).then_some(now);
        let ended = matches!(
            o.state,
            BlockState::Expired
                | BlockState::Undone
                | BlockState::Failed
                | BlockState::SkippedAllowlist
        )
        .then_some(now);
        let n = tx.execute(
            "UPDATE blocks SET state = ?4, lease_owner = NULL, lease_until = NULL,
                 executed_us = coalesce(?5, executed_us), expires_us = coalesce(?6, expires_us),
                 ended_us = coalesce(?7, ended_us), last_error = ?8, next_try_us = ?9,
                 attempts = attempts + (?8 IS NOT NULL), allowlist = coalesce(?10, allowlist)
             WHERE id = ?1 AND state = ?2 AND lease_owner = ?3",
            params![
                id,
                from.as_str(),
                owner,
                o.state.as_str(),
                executed,
                o.expires_us,
                ended,
                o.error,
                o.retry_at_us,
                o.allowlist,
            ],
        )?;
        if n != 1 {
            return Ok(false);
        }
        let mut detail = o.detail.clone();
        if let Some(m) = detail.as_object_mut() {
            m.insert("target".into(), b.target.clone().into());
            m.insert("action".into(), b.action.clone().into());
            if let Some(e) = o.error {
                m.insert("error".into(), e.into());
            }
            if let Some(x) = o.expires_us {
                m.insert("expires_at".into(), iso_utc(x).into());
            }
        }
        let step = o.step.unwrap_or(o.state.as_str());
        audit_block(&tx, now, actor, id, b.incident_id, step, &detail)?;
        tx.commit()?;
        Ok(true)
    }

    /// Decisions the responder has work on at `now_us`: pending and approved ones to
    /// carry out, lifts asked for, and executed blocks that are due to end — whose
    /// retry time has come and that no live lease holds. Oldest first.
    pub fn blocks_due(&self, now_us: i64, limit: usize) -> Result<Vec<BlockRow>, StoreError> {
        let mut st = self.conn().prepare_cached(&format!(
            "SELECT {BLOCK_COLS} FROM blocks
             WHERE ((state IN ('pending', 'approved', 'undoing'))
                    OR (state = 'executed' AND expires_us <= ?1))
               AND (next_try_us IS NULL OR next_try_us <= ?1)
               AND (lease_until IS NULL OR lease_until < ?1)
             ORDER BY id LIMIT ?2"
        ))?;
        let rows = st.query_map(params![now_us, limit as i64], block_from_row)?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// Executed blocks not yet ended (to restore after the firewall lost them).
    pub fn blocks_in_force(&self, now_us: i64) -> Result<Vec<BlockRow>, StoreError> {
        let mut st = self.conn().prepare_cached(&format!(
            "SELECT {BLOCK_COLS} FROM blocks WHERE state = 'executed' AND expires_us > ?1 ORDER BY id"
        ))?;
        let rows = st.query_map([now_us], block_from_row)?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// Decisions about `target` since `since_us`, newest first (what a new decision must
    /// know: one in force, a pardon, the repeat count).
    pub fn blocks_of_target(
        &self,
        target: &str,
        since_us: i64,
    ) -> Result<Vec<BlockRow>, StoreError> {
        blocks_of_target(self.conn(), target, since_us)
    }

    /// Blocks started without an analyst since `since_us`, overall or by one policy.
    pub fn auto_blocks_since(
        &self,
        since_us: i64,
        policy: Option<&str>,
    ) -> Result<u64, StoreError> {
        auto_blocks_since(self.conn(), since_us, policy)
    }

    /// Records a new decision (the responder's): the row and its first audit record.
    pub fn insert_block(&mut self, b: &NewBlock<'_>, actor: &str) -> Result<i64, StoreError> {
        let now = chrono::Utc::now().timestamp_micros();
        let tx = self.transaction()?;
        let id = insert_block(&tx, b, now, actor)?;
        tx.commit()?;
        Ok(id)
    }

    /// Counts of decisions by state.
    pub fn block_counts(&self) -> Result<Vec<(String, u64)>, StoreError> {
        let mut st = self
            .conn()
            .prepare_cached("SELECT state, count(*) FROM blocks GROUP BY state ORDER BY state")?;
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get::<_, i64>(1)?.max(0) as u64)))?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }
}

/// [`Store::blocks_of_target`] on a connection (inside a transaction: its own rows count).
pub(crate) fn blocks_of_target(
    conn: &rusqlite::Connection,
    target: &str,
    since_us: i64,
) -> Result<Vec<BlockRow>, StoreError> {
    let mut st = conn.prepare_cached(&format!(
        "SELECT {BLOCK_COLS} FROM blocks WHERE target = ?1 AND created_us >= ?2 ORDER BY id DESC LIMIT 1000"
    ))?;
    let rows = st.query_map(params![target, since_us], block_from_row)?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// [`Store::auto_blocks_since`] on a connection.
pub(crate) fn auto_blocks_since(
    conn: &rusqlite::Connection,
    since_us: i64,
    policy: Option<&str>,
) -> Result<u64, StoreError> {
    let n: i64 = match policy {
        None => conn.query_row(
            "SELECT count(*) FROM blocks WHERE auto_started_us >= ?1",
            [since_us],
            |r| r.get(0),
        )?,
        Some(p) => conn.query_row(
            "SELECT count(*) FROM blocks WHERE auto_started_us >= ?1 AND policy = ?2",
            params![since_us, p],
            |r| r.get(0),
        )?,
    };
    Ok(n.max(0) as u64)
}

/// Blocks of an incident still in force or waiting (for a false-positive verdict).
pub(crate) fn live_blocks_of_incident(
    conn: &rusqlite::Connection,
    incident: i64,
) -> Result<Vec<BlockRow>, StoreError> {
    let mut st = conn.prepare_cached(&format!(
        "SELECT {BLOCK_COLS} FROM blocks WHERE incident_id = ?1
           AND state IN ('executed', 'awaiting-approval', 'rate-limited', 'pending', 'approved') ORDER BY id"
    ))?;
    let rows = st.query_map([incident], block_from_row)?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// Moves a decision from `from` to `to` inside a transaction, with its audit record
/// (step `undo-requested` for `undoing`, else the state); false if it was not in `from`
/// (or is leased: its work is under way).
pub(crate) fn move_block(
    tx: &Transaction<'_>,
    b: &BlockRow,
    (from, to): (BlockState, BlockState),
    actor: &str,
    at_us: i64,
    detail: &serde_json::Value,
) -> Result<bool, StoreError> {
    let step = if to == BlockState::Undoing { "undo-requested" } else { to.as_str() };
    let ended = matches!(to, BlockState::Denied).then_some(at_us);
    let n = tx.execute(
        "UPDATE blocks SET state = ?3, decided_by = ?4, ended_us = coalesce(?5, ended_us)
         WHERE id = ?1 AND state = ?2 AND (lease_until IS NULL OR lease_until < ?6)",
        params![b.id, from.as_str(), to.as_str(), actor, ended, at_us],
    )?;
    if n == 1 {
        audit_block(tx, at_us, actor, b.id, b.incident_id, step, detail)?;
    }
    Ok(n == 1)
}

/// The bodies of an incident's alerts: one per rule (`per_rule`), else the newest.
/// Are all of the incident's alerts from forwarded host logs (`"forwarded":true`, which
/// no EVE string can spell: its quotes would be escaped)?
pub(crate) fn incident_only_forwarded(
    conn: &rusqlite::Connection,
    incident: i64,
) -> Result<bool, StoreError> {
    let other: i64 = conn.query_row(
        r#"SELECT COUNT(*) FROM alerts WHERE incident_id = ?1 AND instr(raw, '"forwarded":true') = 0"#,
        params![incident],
        |r| r.get(0),
    )?;
    Ok(other == 0)
}

pub(crate) fn incident_alert_bodies(
    conn: &rusqlite::Connection,
    incident: i64,
    per_rule: bool,
    limit: usize,
) -> Result<Vec<String>, StoreError> {
    let sql = if per_rule {
        "SELECT raw FROM alerts WHERE incident_id = ?1 GROUP BY gid, sid LIMIT ?2"
    } else {
        "SELECT raw FROM alerts WHERE incident_id = ?1 ORDER BY ts_us DESC LIMIT ?2"
    };
    let mut st = conn.prepare_cached(sql)?;
    let rows = st.query_map(params![incident, limit as i64], |r| r.get(0))?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_block(state: BlockState) -> NewBlock<'static> {
        NewBlock {
            incident_id: None,
            policy: "p",
            action: "fw",
            action_kind: "nft",
            target_kind: "source",
            target: "203.0.113.7",
            mode: "enforce",
            state,
            reason: "test",
            allowlist: None,
            ttl_secs: 60,
            repeat: 0,
            auto_started: state == BlockState::Pending,
            would_expire_us: None,
        }
    }

    #[test]
    fn requests_follow_the_state_machine_and_are_audited() {
        let mut s = Store::open_in_memory().unwrap();
        let wait = s.insert_block(&new_block(BlockState::AwaitingApproval), "gatewatch").unwrap();
        let e = s.request_block(wait, BlockRequest::Undo, "lan", None).unwrap_err();
        assert!(e.to_string().contains("awaiting-approval: it cannot be undone"), "{e}");
        let b = s.request_block(wait, BlockRequest::Approve, "lan", Some("confirmed")).unwrap();
        assert_eq!((b.state.as_str(), b.decided_by.as_deref()), ("approved", Some("lan")));
        assert!(
            s.request_block(wait, BlockRequest::Deny, "lan", None).is_err(),
            "approved already"
        );

        // The responder claims it; a second claim fails while the lease lasts.
        assert!(s.claim_block(wait, BlockState::Approved, "r1", 100, 1_000).unwrap());
        assert!(!s.claim_block(wait, BlockState::Approved, "r2", 200, 1_200).unwrap());
        assert!(s.blocks_due(500, 10).unwrap().is_empty(), "leased");
        let o = BlockOutcome {
            state: BlockState::Executed,
            step: None,
            detail: serde_json::json!({"verified": true}),
            error: None,
            expires_us: Some(2_000),
            retry_at_us: None,
            allowlist: None,
        };
        let now = chrono::Utc::now().timestamp_micros();
        assert!(!s.finish_block(wait, BlockState::Approved, "r2", "gatewatch", now, &o).unwrap());
        assert!(s.finish_block(wait, BlockState::Approved, "r1", "gatewatch", now, &o).unwrap());
        assert_eq!(s.blocks_due(1_999, 10).unwrap().len(), 0);
        assert_eq!(s.blocks_due(2_000, 10).unwrap()[0].id, wait, "due to expire");
        let b = s.request_block(wait, BlockRequest::Undo, "mai", None).unwrap();
        assert_eq!(b.state, "undoing");
        let steps: Vec<String> = s
            .block_history(wait)
            .unwrap()
            .into_iter()
            .map(|r| format!("{}:{}", r.action, r.actor))
            .collect();
        assert_eq!(
            steps,
            [
                "block.awaiting-approval:gatewatch",
                "block.approved:lan",
                "block.executed:gatewatch",
                "block.undo-requested:mai"
            ]
        );
        // The log stays append-only.
        assert!(s.conn().execute("DELETE FROM audit_log WHERE object = 'block:1'", []).is_err());
    }

    #[test]
    fn counts_and_filters() {
        let mut s = Store::open_in_memory().unwrap();
        for st in [BlockState::Pending, BlockState::DryRun, BlockState::DryRun] {
            s.insert_block(&new_block(st), "gatewatch").unwrap();
        }
        assert_eq!(s.auto_blocks_since(0, None).unwrap(), 1);
        assert_eq!(s.auto_blocks_since(0, Some("other")).unwrap(), 0);
        let f = BlockFilter { states: vec![BlockState::DryRun], limit: 10, ..Default::default() };
        assert_eq!(s.blocks(&f).unwrap().len(), 2);
        assert_eq!(s.block_counts().unwrap(), [("dry-run".into(), 2), ("pending".into(), 1)]);
        assert_eq!(s.blocks_of_target("203.0.113.7", 0).unwrap().len(), 3);
        assert!(matches!(s.block(99), Err(StoreError::NotFound(_))));
    }
}
