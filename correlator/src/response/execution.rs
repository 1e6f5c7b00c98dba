//! Carrying out blocks: claiming what is due under a lease, running the actions
//! (apply, undo, expire) with retries, and putting the blocks in force back on the
//! firewall after a restart. Deciding what to block is `engine.rs`.

use super::actions::{ActionError, Request};
use super::allowlist::TargetValue;
use super::responder::{kind_of, secs_us, Responder, LEASE_US};
use crate::incident::engine::ENGINE_ACTOR;
use crate::store::blocks::{BlockOutcome, BlockRow, BlockState};
use crate::store::{Store, StoreError};

impl Responder {
    /// Carries out what is due; returns how many blocks it worked on.
    pub(super) fn act(&mut self, store: &mut Store, now_us: i64) -> Result<usize, StoreError> {
        let due = store.blocks_due(now_us, 200)?;
        let mut n = 0;
        for b in due {
            let Some(from) = BlockState::parse(&b.state) else { continue };
            if !store.claim_block(b.id, from, &self.owner, now_us, now_us + LEASE_US)? {
                continue;
            }
            n += 1;
            self.work(store, &b, from, now_us)?;
        }
        Ok(n)
    }

    fn request_of(&self, b: &BlockRow, value: TargetValue, now_us: i64) -> Request {
        let ttl = match BlockState::parse(&b.state) {
            Some(BlockState::Pending | BlockState::Approved) => b.ttl_secs,
            _ => 0,
        };
        Request {
            block_id: b.id,
            kind: kind_of(&b.target_kind),
            target: value,
            ttl_secs: ttl,
            expires_us: b.expires_us.unwrap_or(now_us + secs_us(ttl)),
            incident_id: b.incident_id,
            policy: b.policy.clone(),
            reason: b.reason.clone(),
        }
    }

    /// One claimed block.
    fn work(
        &mut self,
        store: &mut Store,
        b: &BlockRow,
        from: BlockState,
        now_us: i64,
    ) -> Result<(), StoreError> {
        let lifting = matches!(from, BlockState::Undoing | BlockState::Executed);
        let Some(value) = TargetValue::parse(&b.target) else {
            let o = outcome(
                BlockState::Failed,
                None,
                serde_json::json!({}),
                Some("the target is neither an address nor a domain name"),
            );
            store.finish_block(b.id, from, &self.owner, ENGINE_ACTOR, now_us, &o)?;
            return Ok(());
        };
        if !lifting {
            // The allowlist again: it may have grown since the decision, and an
            // approval never gets past it.
            if let Some(hit) = self.stopped_by(&value) {
                let hit = hit.to_string();
                let mut o = outcome(
                    BlockState::SkippedAllowlist,
                    None,
                    serde_json::json!({"reason": format!("on allowlist {hit} when it was to be carried out")}),
                    None,
                );
                o.allowlist = Some(&hit);
                store.finish_block(b.id, from, &self.owner, ENGINE_ACTOR, now_us, &o)?;
                *self.stats.decisions.entry("skipped-allowlist".into()).or_default() += 1;
                return Ok(());
            }
        }
        let req = self.request_of(b, value, now_us);
        let Some(action) = self.actions.get_mut(&b.action) else {
            let e = format!("action `{}` is not configured here", b.action);
            if lifting {
                // Another process (the correlator) may have it: leave the lift to it.
                let o = BlockOutcome {
                    retry_at_us: Some(now_us + 60_000_000),
                    ..outcome(from, Some("attempt-failed"), serde_json::json!({}), Some(&e))
                };
                store.finish_block(b.id, from, &self.owner, ENGINE_ACTOR, now_us, &o)?;
                return Ok(());
            }
            let o = outcome(BlockState::Failed, None, serde_json::json!({}), Some(&e));
            store.finish_block(b.id, from, &self.owner, ENGINE_ACTOR, now_us, &o)?;
            self.stats.failed += 1;
            return Ok(());
        };
        let result = if lifting { action.unblock(&req) } else { action.block(&req) };
        match result {
            Ok(detail) => self.carried_out(store, b, from, detail, now_us),
            Err(e) => self.attempt_failed(store, b, from, &e, now_us),
        }
    }

    /// The action worked: the block is in force (or lifted, expired).
    fn carried_out(
        &mut self,
        store: &mut Store,
        b: &BlockRow,
        from: BlockState,
        mut detail: serde_json::Value,
        now_us: i64,
    ) -> Result<(), StoreError> {
        let (to, expires) = match from {
            BlockState::Executed => (BlockState::Expired, None),
            BlockState::Undoing => (BlockState::Undone, None),
            _ => (BlockState::Executed, Some(now_us + secs_us(b.ttl_secs))),
        };
        if to == BlockState::Undone {
            if let Some(m) = detail.as_object_mut() {
                m.insert("requested_by".into(), b.decided_by.clone().into());
            }
        }
        let o = BlockOutcome { expires_us: expires, ..outcome(to, None, detail, None) };
        if store.finish_block(b.id, from, &self.owner, ENGINE_ACTOR, now_us, &o)? {
            match to {
                BlockState::Executed => self.stats.executed += 1,
                BlockState::Expired => self.stats.expired += 1,
                _ => self.stats.undone += 1,
            }
        }
        Ok(())
    }

    /// The action failed: a block is retried while the error allows and attempts
    /// remain, then fails with an alert; a lift is retried until it works (5 s, 30 s,
    /// 2.5 min, then every 5 min), with an alert once attempts run out.
    fn attempt_failed(
        &mut self,
        store: &mut Store,
        b: &BlockRow,
        from: BlockState,
        e: &ActionError,
        now_us: i64,
    ) -> Result<(), StoreError> {
        let lifting = matches!(from, BlockState::Undoing | BlockState::Executed);
        self.stats.attempts_failed += 1;
        let attempts = b.attempts + 1;
        let give_up = !lifting && (!e.retry || attempts >= self.max_attempts);
        if give_up {
            let detail = serde_json::json!({"attempts": attempts});
            let o = outcome(BlockState::Failed, None, detail, Some(&e.message));
            if store.finish_block(b.id, from, &self.owner, ENGINE_ACTOR, now_us, &o)? {
                self.stats.failed += 1;
                let sig = format!(
                    "GATEWATCH blocking action failed: {} {} via {} ({})",
                    b.target_kind, b.target, b.action, e.message
                );
                let tx = store.transaction()?;
                self.raise(&tx, "action-failed", 2, &sig, 2, now_us)?;
                tx.commit()?;
            }
            return Ok(());
        }
        let pause = [5, 30, 150, 300][(attempts as usize - 1).min(3)];
        let detail = serde_json::json!({"attempt": attempts});
        let o = BlockOutcome {
            retry_at_us: Some(now_us + secs_us(pause)),
            ..outcome(from, Some("attempt-failed"), detail, Some(&e.message))
        };
        store.finish_block(b.id, from, &self.owner, ENGINE_ACTOR, now_us, &o)?;
        if lifting && attempts == self.max_attempts {
            let sig = format!(
                "GATEWATCH unblock failing: {} {} via {} ({})",
                b.target_kind, b.target, b.action, e.message
            );
            let tx = store.transaction()?;
            self.raise(&tx, "action-failed", 3, &sig, 2, now_us)?;
            tx.commit()?;
        }
        Ok(())
    }

    /// Puts blocks in force back on firewalls that lost them (a reboot empties nft
    /// sets); call at start. Returns how many were restored.
    pub fn restore(&mut self, store: &mut Store, now_us: i64) -> Result<usize, StoreError> {
        let mut n = 0;
        for b in store.blocks_in_force(now_us)? {
            let (Some(value), Some(expires)) = (TargetValue::parse(&b.target), b.expires_us) else {
                continue;
            };
            if self.stopped_by(&value).is_some() {
                // On an allowlist now: lift it at once.
                if store.claim_block(
                    b.id,
                    BlockState::Executed,
                    &self.owner,
                    now_us,
                    now_us + LEASE_US,
                )? {
                    let o = BlockOutcome {
                        expires_us: Some(now_us),
                        ..outcome(
                            BlockState::Executed,
                            Some("allowlisted-now"),
                            serde_json::json!({}),
                            None,
                        )
                    };
                    store.finish_block(
                        b.id,
                        BlockState::Executed,
                        &self.owner,
                        ENGINE_ACTOR,
                        now_us,
                        &o,
                    )?;
                }
                continue;
            }
            let mut req = self.request_of(&b, value, now_us);
            req.ttl_secs = ((expires - now_us).max(1_000_000) / 1_000_000) as u64;
            let Some(action) = self.actions.get_mut(&b.action) else { continue };
            if action.block(&req).is_ok() {
                n += 1;
            }
        }
        Ok(n)
    }
}

impl Responder {
    /// Works on block `id` now if it has work due (a lift an analyst just asked for, from
    /// the command line); false when there is none or another process holds it.
    pub fn work_on(&mut self, store: &mut Store, id: i64, now_us: i64) -> Result<bool, StoreError> {
        let b = store.block(id)?;
        let Some(from) = BlockState::parse(&b.state) else { return Ok(false) };
        let due = matches!(from, BlockState::Pending | BlockState::Approved | BlockState::Undoing)
            || (from == BlockState::Executed && b.expires_us.is_some_and(|e| e <= now_us));
        if !due || !store.claim_block(id, from, &self.owner, now_us, now_us + LEASE_US)? {
            return Ok(false);
        }
        self.work(store, &b, from, now_us)?;
        Ok(true)
    }

    /// Whether an action of this name is configured here.
    pub fn has_action(&self, name: &str) -> bool {
        self.actions.contains_key(name)
    }
}

fn outcome<'a>(
    state: BlockState,
    step: Option<&'a str>,
    detail: serde_json::Value,
    error: Option<&'a str>,
) -> BlockOutcome<'a> {
    BlockOutcome {
        state,
        step,
        detail,
        error,
        expires_us: None,
        retry_at_us: None,
        allowlist: None,
    }
}
