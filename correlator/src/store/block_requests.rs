//! What analysts ask of block decisions: approve (a decision held for them, or a
//! dry-run carried out for real), deny, lift — and blocks decided by hand. The
//! responder carries approvals, manual blocks and lifts out, checking the allowlist
//! again first.

use rusqlite::params;

use super::blocks::{
    audit_block, get_block, insert_block, BlockRequest, BlockRow, BlockState, NewBlock,
};
use super::sqlite::{Store, StoreError};

/// The policy name of blocks decided by hand.
pub const MANUAL_POLICY: &str = "manual";

/// A block an analyst decides by hand (the console's form); checked against the
/// allowlist and the configured actions by the caller.
#[derive(Clone, Debug, PartialEq)]
pub struct ManualBlock<'a> {
    /// An address or a domain name, in canonical form.
    pub target: &'a str,
    /// `source`, `destination`, `domain` or `host`.
    pub target_kind: &'a str,
    /// The configured action's name.
    pub action: &'a str,
    /// `nft`, `webhook` or `program`.
    pub action_kind: &'a str,
    /// How long, in seconds (0: until lifted).
    pub ttl_secs: u64,
    /// Why (required).
    pub reason: &'a str,
    /// The incident it answers, if any.
    pub incident_id: Option<i64>,
}

impl Store {
    /// An analyst's request: approve or deny a decision that waits for one (approving a
    /// dry-run carries it out for real), or lift an executed block (the responder carries out approvals and lifts). Refused from any
    /// other state, naming it. Returns the decision as it is now.
    pub fn request_block(
        &mut self,
        id: i64,
        request: BlockRequest,
        actor: &str,
        reason: Option<&str>,
    ) -> Result<BlockRow, StoreError> {
        if actor.trim().is_empty() || actor.len() > 256 {
            return Err(StoreError::Refused("the actor (user name) is empty or too long".into()));
        }
        let reason = reason.map(str::trim).filter(|r| !r.is_empty());
        if reason.is_some_and(|r| r.len() > 4096) {
            return Err(StoreError::Refused("the reason is longer than 4096 bytes".into()));
        }
        let now = chrono::Utc::now().timestamp_micros();
        let tx = self.transaction()?;
        let b = get_block(&tx, id)?;
        let from = BlockState::parse(&b.state).unwrap_or(BlockState::Failed);
        let (to, step) = match (request, from) {
            (BlockRequest::Approve, s) if s.awaits_analyst() || s == BlockState::DryRun => {
                (BlockState::Approved, "approved")
            }
            (BlockRequest::Deny, s) if s.awaits_analyst() => (BlockState::Denied, "denied"),
            (BlockRequest::Undo, BlockState::Executed) => (BlockState::Undoing, "undo-requested"),
            _ => {
                return Err(StoreError::Refused(format!(
                    "block {id} is {}: it cannot be {}",
                    b.state,
                    request.verb()
                )))
            }
        };
        let ended = (to == BlockState::Denied).then_some(now);
        // An approved block runs its time from when it is carried out (a dry-run kept
        // when it would have ended).
        let n = tx.execute(
            "UPDATE blocks SET state = ?2, decided_by = ?3, ended_us = coalesce(?4, ended_us), next_try_us = NULL,
                 expires_us = CASE WHEN ?2 = 'approved' THEN NULL ELSE expires_us END
             WHERE id = ?1 AND state = ?5",
            params![id, to.as_str(), actor, ended, from.as_str()],
        )?;
        if n != 1 {
            return Err(StoreError::Refused(format!("block {id} changed meanwhile: reload it")));
        }
        audit_block(
            &tx,
            now,
            actor,
            id,
            b.incident_id,
            step,
            &serde_json::json!({"target": b.target, "action": b.action, "from": b.state, "reason": reason}),
        )?;
        let row = get_block(&tx, id)?;
        tx.commit()?;
        Ok(row)
    }

    /// Records a block an analyst decided by hand, approved at once (the responder
    /// carries it out). Refused while a block of the same target by the same action
    /// stands or waits, naming it.
    pub fn manual_block(
        &mut self,
        b: &ManualBlock<'_>,
        actor: &str,
    ) -> Result<BlockRow, StoreError> {
        if actor.trim().is_empty() || actor.len() > 256 {
            return Err(StoreError::Refused("the actor (user name) is empty or too long".into()));
        }
        let reason = b.reason.trim();
        if reason.is_empty() || reason.len() > 4096 {
            return Err(StoreError::Refused("a reason (at most 4096 bytes) is required".into()));
        }
        let now = chrono::Utc::now().timestamp_micros();
        let tx = self.transaction()?;
        if let Some(i) = b.incident_id {
            let found: Option<i64> = rusqlite::OptionalExtension::optional(tx.query_row(
                "SELECT id FROM incidents WHERE id = ?1",
                [i],
                |r| r.get(0),
            ))?;
            if found.is_none() {
                return Err(StoreError::Refused(format!("there is no incident #{i}")));
            }
        }
        let standing = super::blocks::blocks_of_target(&tx, b.target, 0)?.into_iter().find(|x| {
            x.action == b.action && BlockState::parse(&x.state).is_some_and(BlockState::is_live)
        });
        if let Some(x) = standing {
            return Err(StoreError::Refused(format!(
                "{} is already blocked by {} (decision #{}, {})",
                b.target, b.action, x.id, x.state
            )));
        }
        let reason = format!("blocked by hand by {actor}: {reason}");
        let new = NewBlock {
            incident_id: b.incident_id,
            policy: MANUAL_POLICY,
            action: b.action,
            action_kind: b.action_kind,
            target_kind: b.target_kind,
            target: b.target,
            mode: MANUAL_POLICY,
            state: BlockState::Approved,
            reason: &reason,
            allowlist: None,
            ttl_secs: b.ttl_secs,
            repeat: 0,
            auto_started: false,
            would_expire_us: None,
        };
        let id = insert_block(&tx, &new, now, actor)?;
        tx.execute("UPDATE blocks SET decided_by = ?2 WHERE id = ?1", params![id, actor])?;
        let row = get_block(&tx, id)?;
        tx.commit()?;
        Ok(row)
    }
}
