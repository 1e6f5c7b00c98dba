//! The responder: follows the incidents that change in the store, decides what the
//! policies ask for, and carries decisions out.
//!
//! One [`Responder::step`]:
//! 1. **Decide.** Incidents changed since the responder's watermark (the store's
//!    change numbers, as the Elasticsearch sink follows them) are read in order. For
//!    each that is open, every policy that matches yields its targets, and each target
//!    gets a decision in the same transaction that moves the watermark (a crash
//!    neither loses nor repeats one):
//!    - on an allowlist → `skipped-allowlist` (once per policy, target and incident);
//!    - already blocked by the action, waiting for approval, or lifted or denied by an
//!      analyst within `pardon` → nothing new (no ban loops);
//!    - `dry-run` → `dry-run` (once while the block it stands for would last);
//!    - `approve` → `awaiting-approval`;
//!    - `enforce` → `pending`, or `rate-limited` past `max_blocks_per_minute` or the
//!      policy's `max_per_minute`: then it waits for approval, and a "blocking storm"
//!      alert is raised into one incident.
//!
//!    A false-positive verdict on an incident lifts its blocks and denies what waits.
//! 2. **Act.** Pending and approved decisions are carried out (the allowlist is
//!    checked again first), lifts analysts asked for are done, and blocks whose time
//!    is up are lifted. Each is claimed with a lease; failures are tried again with a
//!    growing pause, and after `max_attempts` a block is `failed` and raises an alert.
//!    A lift is tried until it works (the firewall's own timeout is the backstop).

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;

use serde::Serialize;

use super::actions::{self, BlockAction};
use super::allowlist::{AllowHit, Allowlist, Target, TargetValue};
use super::config::{parse_duration, Mode, ResponseConfig, TargetKind};
use super::policy::{domains_in, tags_in, Facts, Policy};
use super::{ConfigError, ResponseError};
use crate::config::CorrelatorConfig;
use crate::incident::assets::Inventory;
use crate::incident::engine::{IncidentEngine, ENGINE_ACTOR};
use crate::incident::entity::{own_alert, GID_RESPONSE};
use crate::store::blocks::{self, BlockRow, BlockState, NewBlock};
use crate::store::feed;
use crate::store::write::TxOps;
use crate::store::{Store, StoreError};

/// The watermark's keys in `sink_state`: the change number and incident id last read
/// (one transaction changes many incidents under one number).
/// The responder's position in the store's change feed of incidents.
const FEED: &str = "response.incidents";
/// Incidents read per transaction.
const BATCH: usize = 500;
/// How long one claim on a block lasts (longer than any action's timeout).
pub(super) const LEASE_US: i64 = 120_000_000;
/// A storm alert at most this often.
const STORM_EVERY_US: i64 = 600_000_000;

/// Counters since start.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct ResponseStats {
    pub incidents_evaluated: u64,
    /// Decisions made, by the state they were made in.
    pub decisions: BTreeMap<String, u64>,
    pub executed: u64,
    pub expired: u64,
    pub undone: u64,
    pub failed: u64,
    pub attempts_failed: u64,
    pub storm_alerts: u64,
}

/// What one step did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StepReport {
    pub incidents: usize,
    pub decisions: usize,
    pub actions: usize,
}

/// Decides blocks for incidents by the policies, keeps them within the limits and the allowlist, and carries them out, lifts and expires them.
pub struct Responder {
    pub(super) policies: Vec<Policy>,
    pub(super) allow: Allowlist,
    pub(super) actions: BTreeMap<String, Box<dyn BlockAction>>,
    pub(super) inventory: Arc<Inventory>,
    /// Places the responder's own alerts (no correlation rules).
    pub(super) engine: IncidentEngine,
    pub(super) max_per_minute: u32,
    pub(super) pardon_us: i64,
    pub(super) repeat_window_us: i64,
    pub(super) max_attempts: u32,
    pub(super) wants_tags: bool,
    pub(super) wants_domains: bool,
    /// The monitored resolvers (`response.resolvers`); `None`: any internal address.
    pub(super) resolvers: Option<gatewatch_rules::signature::address::AddressSet>,
    /// The lease owner's name (process and thread).
    pub(super) owner: String,
    pub(super) last_storm_us: i64,
    /// This machine's addresses (read at start).
    pub(super) own: Vec<IpAddr>,
    /// The addresses sensors connect from (the correlator service sets it).
    pub(super) sensors: Option<SensorAddresses>,
    /// Counters since it started.
    pub stats: ResponseStats,
}

/// Where the sensors are, asked at each decision (they may move).
pub type SensorAddresses = Arc<dyn Fn() -> Vec<IpAddr> + Send + Sync>;

/// The list that names Gatewatch's own addresses in decisions.
pub const SELF_LIST: &str = "gatewatch";

pub(super) fn secs_us(s: u64) -> i64 {
    (s.min(i64::MAX as u64 / 2_000_000) as i64) * 1_000_000
}

impl Responder {
    /// A responder for `cfg`; the asset inventory and incident windows come from the
    /// correlator's configuration. Errors name the policy, action or list.
    pub fn new(
        cfg: &ResponseConfig,
        correlator: &CorrelatorConfig,
    ) -> Result<Responder, ResponseError> {
        let mut engine = crate::ingest::engine_of(correlator)?;
        engine.correlation = None;
        let actions = actions::build(&cfg.actions)?;
        Responder::with_actions(cfg, engine, actions)
    }

    /// A responder with the given actions (tests put recorders in).
    pub fn with_actions(
        cfg: &ResponseConfig,
        engine: IncidentEngine,
        actions: BTreeMap<String, Box<dyn BlockAction>>,
    ) -> Result<Responder, ResponseError> {
        let allow = Allowlist::new(&cfg.allowlists)?;
        let mut policies = Vec::new();
        for p in &cfg.policies {
            let pol = Policy::new(p)?;
            let Some(a) = actions.get(&pol.action) else {
                return Err(ConfigError::new(format!(
                    "no action `{}` in [response.actions]",
                    pol.action
                ))
                .at(format!("policy `{}`", pol.name))
                .into());
            };
            if pol.target == TargetKind::Domain && a.kind() == "nft" {
                return Err(ConfigError::new(format!(
                    "action `{}` (nft) holds addresses, not domain names",
                    pol.action
                ))
                .at(format!("policy `{}`", pol.name))
                .into());
            }
            if policies.iter().any(|q: &Policy| q.name == pol.name) {
                return Err(
                    ConfigError::new(format!("policy `{}` is defined twice", pol.name)).into()
                );
            }
            policies.push(pol);
        }
        let pardon = parse_duration(&cfg.pardon).map_err(|e| e.at("pardon"))?;
        let window = parse_duration(&cfg.repeat_window).map_err(|e| e.at("repeat_window"))?;
        let resolvers = if cfg.resolvers.is_empty() {
            None
        } else {
            let expr = format!("[{}]", cfg.resolvers.join(","));
            let vars = Default::default();
            let set = gatewatch_rules::signature::address::parse_addresses(&expr, &vars)
                .map_err(|e| ConfigError::new(e.to_string()).at("resolvers"))?;
            Some(set)
        };
        Ok(Responder {
            resolvers,
            wants_tags: policies.iter().any(Policy::wants_tags),
            wants_domains: policies.iter().any(|p| p.target == TargetKind::Domain),
            policies,
            allow,
            actions,
            inventory: engine.inventory.clone(),
            engine,
            max_per_minute: cfg.max_blocks_per_minute,
            pardon_us: secs_us(pardon),
            repeat_window_us: secs_us(window),
            max_attempts: cfg.max_attempts.max(1),
            owner: format!("gatewatch:{}:{:?}", std::process::id(), std::thread::current().id()),
            last_storm_us: i64::MIN,
            own: local_addresses(),
            sensors: None,
            stats: ResponseStats::default(),
        })
    }

    /// Never blocks the addresses the sensors connect from.
    pub fn protect_sensors(&mut self, f: SensorAddresses) {
        self.sensors = Some(f);
    }

    /// Why a target may not be blocked: a configured (or the built-in) allowlist, or it
    /// is Gatewatch itself — this machine, or a sensor.
    pub fn stopped_by(&self, t: &TargetValue) -> Option<AllowHit> {
        let sensors = self.sensors.as_ref().map(|f| f()).unwrap_or_default();
        super::guard::stopped_by(&self.allow, &self.inventory, &self.own, &sensors, t)
    }

    /// The policies, in order.
    pub fn policies(&self) -> &[Policy] {
        &self.policies
    }

    /// The allowlist.
    pub fn allowlist(&self) -> &Allowlist {
        &self.allow
    }

    /// Starts following the store: with no watermark yet, policies act on what changes
    /// from now on (`from_start`: on every incident already there, for a new store).
    pub fn attach(&self, store: &mut Store, from_start: bool) -> Result<(), StoreError> {
        let tx = store.transaction()?;
        let start = if from_start { (0, 0) } else { feed::incidents_now(&tx)? };
        feed::start_position(&tx, FEED, start)?;
        tx.commit()?;
        Ok(())
    }

    /// Decides on changed incidents, then acts on what is due.
    pub fn step(&mut self, store: &mut Store, now_us: i64) -> Result<StepReport, StoreError> {
        let mut report = StepReport::default();
        for _ in 0..20 {
            let (n, d) = self.decide(store, now_us)?;
            report.incidents += n;
            report.decisions += d;
            if n < BATCH {
                break;
            }
        }
        report.actions = self.act(store, now_us)?;
        Ok(report)
    }

    /// One batch of changed incidents: (incidents read, decisions made).
    fn decide(&mut self, store: &mut Store, now_us: i64) -> Result<(usize, usize), StoreError> {
        let tx = store.transaction()?;
        // Not attached: nothing is followed.
        let Some(at) = feed::position(&tx, FEED)? else { return Ok((0, 0)) };
        let changed = feed::incidents_changed(&tx, at, BATCH)?;
        let Some(&last) = changed.last() else { return Ok((0, 0)) };
        let mut decisions = 0;
        for (_, id) in &changed {
            decisions += self.decide_incident(&tx, *id, now_us)?;
        }
        feed::save_position(&tx, FEED, last)?;
        tx.commit()?;
        self.stats.incidents_evaluated += changed.len() as u64;
        Ok((changed.len(), decisions))
    }

    fn facts(&self, tx: &rusqlite::Transaction<'_>, id: i64) -> Result<Option<Facts>, StoreError> {
        let Some(incident) = crate::store::sqlite::get_incident_on(tx, id)? else {
            return Ok(None);
        };
        let mut f = Facts { incident, ..Default::default() };
        f.rules = crate::store::sqlite::incident_rules_on(tx, id)?
            .into_iter()
            .map(|r| (r.gid, r.sid))
            .collect();
        f.hosts = crate::store::sqlite::incident_hosts_on(tx, id)?;
        f.forwarded_only = blocks::incident_only_forwarded(tx, id)?;
        if self.wants_tags {
            for raw in blocks::incident_alert_bodies(tx, id, true, 200)? {
                f.tags.extend(tags_in(&raw));
            }
        }
        if self.wants_domains {
            let internal = |ip: IpAddr| self.inventory.zone_of(ip).is_internal();
            let resolver = |ip: IpAddr| match &self.resolvers {
                Some(set) => set.contains(ip),
                None => internal(ip),
            };
            for raw in blocks::incident_alert_bodies(tx, id, false, 200)? {
                f.domains.extend(domains_in(&raw, &internal, &resolver));
            }
        }
        Ok(Some(f))
    }

    fn decide_incident(
        &mut self,
        tx: &rusqlite::Transaction<'_>,
        id: i64,
        now_us: i64,
    ) -> Result<usize, StoreError> {
        let Some(f) = self.facts(tx, id)? else { return Ok(0) };
        let i = &f.incident;
        if i.status == "false_positive" {
            self.lift_false_positive(tx, id, now_us)?;
            return Ok(0);
        }
        // The correlator's own incidents (sensors, the responder) never trigger blocks.
        let own = i.entity.starts_with("sensor:") || i.entity.starts_with("response:");
        if own || i.merged_into.is_some() || i.status == "resolved" {
            return Ok(0);
        }
        let mut made = 0;
        for pi in 0..self.policies.len() {
            if !self.policies[pi].matches(&f) {
                continue;
            }
            for t in self.policies[pi].targets(&f, &self.inventory) {
                made += self.decide_target(tx, pi, &f, &t, now_us)? as usize;
            }
        }
        Ok(made)
    }

    /// One target of one policy: the decision, if a new one is due.
    fn decide_target(
        &mut self,
        tx: &rusqlite::Transaction<'_>,
        pi: usize,
        f: &Facts,
        t: &Target,
        now_us: i64,
    ) -> Result<bool, StoreError> {
        let p = &self.policies[pi];
        let target = t.value.to_string();
        let incident = f.incident.id;
        let since = now_us - self.pardon_us.max(self.repeat_window_us);
        let prior = blocks::blocks_of_target(tx, &target, since)?;
        let action_kind = self.actions.get(&p.action).map_or("", |a| a.kind());
        // 1. The allowlist, first and always.
        if let Some(hit) = self.stopped_by(&t.value) {
            let seen = prior.iter().any(|b| {
                b.policy == p.name
                    && b.incident_id == Some(incident)
                    && b.state == "skipped-allowlist"
            });
            if seen {
                return Ok(false);
            }
            let reason = format!(
                "policy {}: incident #{incident} — {} {target} is on allowlist {hit}; not blocked",
                p.name,
                t.kind.as_str()
            );
            let hit = hit.to_string();
            self.record(
                tx,
                pi,
                f,
                t,
                action_kind,
                BlockState::SkippedAllowlist,
                &reason,
                Some(&hit),
                0,
                0,
                false,
                None,
                now_us,
            )?;
            return Ok(true);
        }
        // 2. Nothing new while a decision stands, or after an analyst said no.
        if self.nothing_new(p, &prior, incident, now_us) {
            return Ok(false);
        }
        let state = |b: &BlockRow| BlockState::parse(&b.state);
        let repeat = prior
            .iter()
            .filter(|b| {
                matches!(state(b), Some(BlockState::Executed | BlockState::Expired))
                    && b.created_us >= now_us - self.repeat_window_us
            })
            .count() as u32;
        let ttl = p.ttl_for(repeat);
        let i = &f.incident;
        let mut reason = format!(
            "policy {}: incident #{incident} (score {}, {}) — {} {target}; block {}",
            p.name,
            i.score,
            i.severity,
            t.kind.as_str(),
            human_secs(ttl)
        );
        if repeat > 0 {
            reason.push_str(&format!(" (repeat offender: {repeat} earlier)"));
        }
        let (st, auto, would_expire) = match p.mode {
            Mode::DryRun => (BlockState::DryRun, false, Some(now_us + secs_us(ttl))),
            Mode::Approve => (BlockState::AwaitingApproval, false, None),
            Mode::Enforce if f.forwarded_only => {
                reason.push_str(
                    "; every alert comes from forwarded host logs (the sender's word): waits for approval",
                );
                (BlockState::AwaitingApproval, false, None)
            }
            Mode::Enforce => self.within_rate_limits(tx, pi, &mut reason, now_us)?,
        };
        self.record(
            tx,
            pi,
            f,
            t,
            action_kind,
            st,
            &reason,
            None,
            ttl,
            repeat,
            auto,
            would_expire,
            now_us,
        )?;
        Ok(true)
    }

    /// Whether a decision for this target is not due: one stands (or is in force), an
    /// analyst undid or denied one within the pardon, this incident's failed already, or
    /// a dry-run one still runs.
    fn nothing_new(&self, p: &Policy, prior: &[BlockRow], incident: i64, now_us: i64) -> bool {
        let state = |b: &BlockRow| BlockState::parse(&b.state);
        if prior.iter().any(|b| b.action == p.action && state(b).is_some_and(BlockState::is_live)) {
            return true;
        }
        let pardoned = prior.iter().any(|b| {
            matches!(state(b), Some(BlockState::Undone | BlockState::Denied))
                && b.ended_us.unwrap_or(b.created_us) >= now_us - self.pardon_us
        });
        if pardoned {
            return true;
        }
        let once_per_incident = prior.iter().any(|b| {
            b.policy == p.name
                && b.incident_id == Some(incident)
                && matches!(state(b), Some(BlockState::Failed))
        });
        if once_per_incident {
            return true;
        }
        if p.mode == Mode::DryRun
            && prior.iter().any(|b| {
                b.policy == p.name
                    && b.state == "dry-run"
                    && b.expires_us.is_some_and(|e| e > now_us)
            })
        {
            return true;
        }
        false
    }

    /// In `enforce` mode: a block starts unless a rate limit (overall, or the policy's) is
    /// reached in the last minute; then it waits for approval, the reason says why, and
    /// the storm is raised as an alert.
    fn within_rate_limits(
        &mut self,
        tx: &rusqlite::Transaction<'_>,
        pi: usize,
        reason: &mut String,
        now_us: i64,
    ) -> Result<(BlockState, bool, Option<i64>), StoreError> {
        let (name, per_policy) = (self.policies[pi].name.clone(), self.policies[pi].max_per_minute);
        let minute = now_us - 60_000_000;
        let all = blocks::auto_blocks_since(tx, minute, None)?;
        let mine = blocks::auto_blocks_since(tx, minute, Some(&name))?;
        let over_all = all >= self.max_per_minute as u64;
        let over_mine = per_policy > 0 && mine >= per_policy as u64;
        if over_all || over_mine {
            let (n, limit, scope) = if over_all {
                (all, self.max_per_minute, "overall".to_string())
            } else {
                (mine, per_policy, format!("of policy {name}"))
            };
            reason.push_str(&format!(
                "; rate limit reached ({n} automatic blocks in the last minute, limit {limit} {scope}): waits for approval"
            ));
            self.storm_alert(tx, &scope, limit, now_us)?;
            Ok((BlockState::RateLimited, false, None))
        } else {
            Ok((BlockState::Pending, true, None))
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn record(
        &mut self,
        tx: &rusqlite::Transaction<'_>,
        pi: usize,
        f: &Facts,
        t: &Target,
        action_kind: &str,
        state: BlockState,
        reason: &str,
        allowlist: Option<&str>,
        ttl_secs: u64,
        repeat: u32,
        auto_started: bool,
        would_expire_us: Option<i64>,
        now_us: i64,
    ) -> Result<(), StoreError> {
        let p = &self.policies[pi];
        let target = t.value.to_string();
        blocks::insert_block(
            tx,
            &NewBlock {
                incident_id: Some(f.incident.id),
                policy: &p.name,
                action: &p.action,
                action_kind,
                target_kind: t.kind.as_str(),
                target: &target,
                mode: p.mode.as_str(),
                state,
                reason,
                allowlist,
                ttl_secs,
                repeat,
                auto_started,
                would_expire_us,
            },
            now_us,
            ENGINE_ACTOR,
        )?;
        *self.stats.decisions.entry(state.as_str().to_string()).or_default() += 1;
        Ok(())
    }

    /// A false positive: its blocks are lifted, what waits is denied.
    fn lift_false_positive(
        &mut self,
        tx: &rusqlite::Transaction<'_>,
        id: i64,
        now_us: i64,
    ) -> Result<(), StoreError> {
        for b in blocks::live_blocks_of_incident(tx, id)? {
            let Some(from) = BlockState::parse(&b.state) else { continue };
            let to =
                if from == BlockState::Executed { BlockState::Undoing } else { BlockState::Denied };
            let detail = serde_json::json!({"target": b.target, "action": b.action, "from": b.state,
                "reason": format!("incident #{id} was marked a false positive")});
            blocks::move_block(tx, &b, (from, to), ENGINE_ACTOR, now_us, &detail)?;
        }
        Ok(())
    }

    /// Raises the "blocking storm" alert (at most every ten minutes; its incident
    /// groups them all).
    fn storm_alert(
        &mut self,
        tx: &rusqlite::Transaction<'_>,
        scope: &str,
        limit: u32,
        now_us: i64,
    ) -> Result<(), StoreError> {
        if now_us.saturating_sub(self.last_storm_us) < STORM_EVERY_US {
            return Ok(());
        }
        self.last_storm_us = now_us;
        self.stats.storm_alerts += 1;
        let sig = format!(
            "GATEWATCH blocking storm: more than {limit} automatic blocks in a minute ({scope}); further blocks wait for approval"
        );
        self.raise(tx, "blocking-storm", 1, &sig, 1, now_us)
    }

    pub(super) fn raise(
        &mut self,
        tx: &rusqlite::Transaction<'_>,
        what: &str,
        sid: u32,
        signature: &str,
        severity: u8,
        now_us: i64,
    ) -> Result<(), StoreError> {
        let a = own_alert(
            GID_RESPONSE,
            sid,
            signature.to_string(),
            "Automated response",
            severity,
            what,
            "",
            now_us,
        );
        let raw = serde_json::to_string(&a).unwrap_or_default();
        let ops = TxOps::new(tx)?;
        self.engine.place(&ops, &a, now_us, &raw, now_us)?;
        Ok(())
    }
}

/// This machine's addresses, from `/proc/net` (IPv4 local routes, IPv6 addresses);
/// none where that cannot be read.
pub fn local_addresses() -> Vec<IpAddr> {
    let mut out = Vec::new();
    if let Ok(trie) = std::fs::read_to_string("/proc/net/fib_trie") {
        let mut last: Option<IpAddr> = None;
        for line in trie.lines() {
            let l = line.trim_start();
            if let Some(a) = l.strip_prefix("|-- ") {
                last = a.trim().parse().ok();
            } else if l.starts_with("/32 host LOCAL") {
                out.extend(last);
            }
        }
    }
    if let Ok(v6) = std::fs::read_to_string("/proc/net/if_inet6") {
        for line in v6.lines() {
            let hex = line.split_whitespace().next().unwrap_or("");
            if let Ok(n) = u128::from_str_radix(hex, 16) {
                out.push(IpAddr::V6(std::net::Ipv6Addr::from(n)));
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

pub(super) fn kind_of(s: &str) -> TargetKind {
    match s {
        "destination" => TargetKind::Destination,
        "domain" => TargetKind::Domain,
        "host" => TargetKind::Host,
        _ => TargetKind::Source,
    }
}

/// `3600` → `1h`, `5400` → `90m`.
pub fn human_secs(s: u64) -> String {
    match s {
        s if s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s % 3600 == 0 => format!("{}h", s / 3600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}
