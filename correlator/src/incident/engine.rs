//! The incident engine: where each alert goes.
//!
//! For every alert, inside the ingest transaction:
//! 1. its meaning: ATT&CK tactics and techniques, RSIT class (`super::attack`), and
//!    whether it shows success (an HTTP 2xx/3xx answer to an attack request);
//! 2. suppressions: a suppressed alert is stored against its suppression and goes
//!    no further;
//! 3. its entity (`super::entity`), and the entity's open incident: the latest one
//!    not resolved, not merged, whose last alert is within `incident_window_secs` and
//!    whose first is within `incident_max_span_secs` — else a new incident;
//! 4. deduplication: an alert identical to one already in the incident (same sensor,
//!    rule, addresses, ports, protocol and flow) only counts as a repeat of it;
//! 5. the incident's aggregates: counts, first and last seen, the gravest severity
//!    and its rule (which names the incident), tactics, techniques, RSIT class, rules,
//!    success, and the score (`super::score`);
//! 6. the correlation rules (`super::correlate`): each that fires adds its alert to
//!    the incident of the address it grouped by; a one-to-many correlation on an
//!    external source starts a *campaign* (see `super::entity::Campaigns`) and
//!    merges that source's earlier single-host incidents into its own.

use std::sync::Arc;

use gatewatch_rules::event::AlertEvent;
use gatewatch_rules::sigma::correlation::CorrelationHit;
use serde::Serialize;

use super::assets::Inventory;
use super::attack::{classify, Meaning, RsitClass};
use super::correlate::{alert_event, AlertCorrelation, SUCCESS_TAG};
use super::entity::{self, Campaigns, Choice};
use super::score::{score, ScoreInputs};
use super::suppress::Suppressions;
use crate::domain::rsit::graver_class;
use crate::store::write::{IncidentEntity, IncidentState, NewAlert, TxOps};
use crate::store::StoreError;

/// The actor the engine writes to the audit log as.
pub const ENGINE_ACTOR: &str = "gatewatch";

/// How incidents are grouped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Windows {
    /// An incident takes alerts while the previous one came at most this long before.
    pub inactivity_us: i64,
    /// … and while its first alert is at most this old.
    pub max_span_us: i64,
}

/// Counters of the engine.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct EngineStats {
    /// Alerts placed (repeats included, suppressed ones not).
    pub alerts: u64,
    /// Alerts that only counted as a repeat of an earlier identical one.
    pub repeats: u64,
    pub(crate) suppressed: u64,
    /// Incidents created.
    pub incidents_created: u64,
    /// Times a correlation rule fired.
    pub correlations: u64,
    /// Incidents merged into another.
    pub incidents_merged: u64,
}

/// Where an alert went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Placed {
    /// The incident it went to (none when suppressed).
    pub incident: Option<i64>,
    pub(crate) created: bool,
    /// Only a repeat of an identical earlier alert.
    pub repeat: bool,
    pub(crate) suppressed_by: Option<i64>,
}

/// Groups alerts into incidents: entity, campaign and correlation windows, risk scores from the inventory.
pub struct IncidentEngine {
    pub(crate) windows: Windows,
    /// The asset inventory.
    pub inventory: Arc<Inventory>,
    pub(crate) suppressions: Suppressions,
    pub(crate) campaigns: Campaigns,
    pub(crate) correlation: Option<AlertCorrelation>,
    /// Counters since it started.
    pub stats: EngineStats,
}

/// Whether an alert shows that the attack worked: the rule says so (a correlation
/// tagged `SUCCESS_TAG`), or an attack request was answered 2xx/3xx.
pub fn attack_succeeded(a: &AlertEvent, m: &Meaning) -> bool {
    if a.alert.metadata.as_ref().is_some_and(|md| md.contains_key("gatewatch_success")) {
        return true;
    }
    let attack = matches!(m.rsit, Some(RsitClass::IntrusionAttempts | RsitClass::Intrusions));
    let status = a
        .app_metadata
        .get("http")
        .and_then(|h| h.get("status"))
        .and_then(|s| s.as_u64().or_else(|| s.as_str().and_then(|s| s.trim().parse().ok())));
    attack && status.is_some_and(|s| (200..400).contains(&s))
}

/// FNV-1a of what makes two alerts identical.
pub fn dedup_key(a: &AlertEvent) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for b in bytes.iter().chain(&[0xff]) {
            h ^= *b as u64;
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    };
    eat(a.host.as_deref().unwrap_or("").as_bytes());
    eat(&a.alert.gid.to_le_bytes());
    eat(&a.alert.signature_id.to_le_bytes());
    eat(a.src_ip.as_bytes());
    eat(&a.src_port.unwrap_or(0).to_le_bytes());
    eat(a.dest_ip.as_bytes());
    eat(&a.dest_port.unwrap_or(0).to_le_bytes());
    eat(a.proto.as_bytes());
    eat(&a.flow_id.unwrap_or(0).to_le_bytes());
    h as i64
}

/// The title of an incident: its entity and leading rule.
pub fn title(label: &str, signature: &str, rule_count: u64) -> String {
    let sig = if signature.is_empty() { "unnamed rule" } else { signature };
    match rule_count {
        0 | 1 => format!("{sig} — {label}"),
        2 => format!("{sig} and 1 more rule — {label}"),
        n => format!("{sig} and {} more rules — {label}", n - 1),
    }
}

impl IncidentEngine {
    /// An engine with these grouping windows and inventory, without correlation rules.
    pub fn new(windows: Windows, inventory: Arc<Inventory>) -> IncidentEngine {
        IncidentEngine {
            windows,
            inventory,
            suppressions: Suppressions::default(),
            campaigns: Campaigns::default(),
            correlation: None,
            stats: EngineStats::default(),
        }
    }

    /// Places an alert (and the correlation alerts it triggers).
    pub fn place(
        &mut self,
        ops: &TxOps<'_>,
        a: &AlertEvent,
        ts_us: i64,
        raw: &str,
        now_us: i64,
    ) -> Result<Placed, StoreError> {
        let meaning = classify(&a.alert.category, a.alert.metadata.as_ref());
        let (placed, choice) = self.place_one(ops, a, &meaning, ts_us, raw, now_us)?;
        let (Some(choice), Some(corr)) = (choice, self.correlation.as_mut()) else {
            return Ok(placed);
        };
        let event = alert_event(a, &meaning, &choice.entity, &self.inventory);
        let fired = corr.observe(&event, ts_us);
        for hit in fired {
            self.place_correlation(ops, a, &hit, ts_us, now_us)?;
        }
        Ok(placed)
    }

    fn place_correlation(
        &mut self,
        ops: &TxOps<'_>,
        trigger: &AlertEvent,
        hit: &CorrelationHit,
        ts_us: i64,
        now_us: i64,
    ) -> Result<(), StoreError> {
        self.stats.correlations += 1;
        let mut ca = trigger.clone();
        ca.alert = hit.alert_info();
        ca.flow_id = None;
        ca.app_metadata = Default::default();
        if hit.tags.iter().any(|t| t == SUCCESS_TAG) {
            if let Some(md) = ca.alert.metadata.as_mut() {
                md.insert("gatewatch_success".into(), vec!["true".into()]);
            }
        }
        let meaning = classify(&ca.alert.category, ca.alert.metadata.as_ref());
        let raw = serde_json::to_string(&ca).unwrap_or_default();
        let (placed, choice) = self.place_one(ops, &ca, &meaning, ts_us, &raw, now_us)?;
        let (Some(incident), Some(choice)) = (placed.incident, choice) else { return Ok(()) };
        let mut state = match ops.incident_state(incident)? {
            Some(s) => s,
            None => return Ok(()),
        };
        if !state.correlations.contains(&hit.title) {
            state.correlations.push(hit.title.clone());
        }
        let one_to_many = matches!(hit.kind.as_str(), "value_count" | "event_count");
        if one_to_many && choice.zone == "external" {
            self.campaigns.mark(&choice.entity, ts_us + self.windows.inactivity_us);
            let since = ts_us - self.windows.inactivity_us;
            let now = crate::store::sqlite::iso_utc(now_us);
            for from in ops.incidents_only_from(&choice.entity, since, incident)? {
                ops.move_incident(from, incident, &now)?;
                ops.audit(
                    now_us,
                    ENGINE_ACTOR,
                    "incident.merge",
                    Some(from),
                    Some(&format!("incident:{incident}")),
                    &serde_json::json!({"into": incident, "reason": hit.title}),
                )?;
                self.stats.incidents_merged += 1;
            }
            ops.recompute(&mut state)?;
        }
        self.finish(&mut state);
        ops.update_incident(&state, &crate::store::sqlite::iso_utc(now_us))
    }

    /// An analyst merges incident `from` into `into` (two views of one attack): the
    /// alerts, rules and hosts of `from` move to `into`, whose aggregates, score and
    /// title are recomputed; `from` stays, marked merged, with its history. Both must be
    /// open or closed alike, neither merged already; `expected_version` is `from`'s.
    /// Returns `into`'s new version.
    pub fn merge_incidents(
        &self,
        store: &mut crate::store::Store,
        from: i64,
        into: i64,
        actor: &str,
        expected_version: Option<i64>,
    ) -> Result<i64, StoreError> {
        if from == into {
            return Err(StoreError::Refused("an incident cannot be merged into itself".into()));
        }
        let now_us = chrono::Utc::now().timestamp_micros();
        let now = crate::store::sqlite::iso_utc(now_us);
        let tx = store.transaction()?;
        let ops = TxOps::new(&tx)?;
        let (from_version, from_merged) = ops.version_and_merge(from)?;
        let (_, into_merged) = ops.version_and_merge(into)?;
        if let Some(e) = expected_version.filter(|e| *e != from_version) {
            return Err(StoreError::Conflict { id: from, expected: e, found: from_version });
        }
        for (id, merged) in [(from, from_merged), (into, into_merged)] {
            if let Some(m) = merged {
                return Err(StoreError::Refused(format!(
                    "incident {id} was merged into incident {m} already"
                )));
            }
        }
        let Some(mut state) = ops.incident_state(into)? else {
            return Err(StoreError::NotFound(format!("incident {into}")));
        };
        ops.move_incident(from, into, &now)?;
        ops.recompute(&mut state)?;
        self.finish(&mut state);
        ops.update_incident(&state, &now)?;
        let version = ops.bump_version(into)?;
        for (id, other) in [(from, into), (into, from)] {
            ops.audit(
                now_us,
                actor,
                "incident.merge",
                Some(id),
                Some(&format!("incident:{other}")),
                &serde_json::json!({"from": from, "into": into}),
            )?;
        }
        tx.commit()?;
        Ok(version)
    }

    /// Score and title of a state whose aggregates are current.
    fn finish(&self, s: &mut IncidentState) {
        if s.succeeded && s.rsit == RsitClass::IntrusionAttempts.as_str() {
            s.rsit = RsitClass::Intrusions.as_str().to_string();
        }
        s.score = score(
            &ScoreInputs {
                severity: s.severity,
                stages: s.tactics.len() as u32,
                succeeded: s.succeeded,
                alert_count: s.alert_count,
                ..Default::default()
            }
            .with_zone(&self.entity_zone(s)),
        );
        s.title = title(&self.entity_label(s), &s.signature, s.rule_count);
    }

    /// Marks incident `id` as a successful attack when record `r` of one of its flows
    /// shows it (`success::shown_by`): its class and score follow, and the audit log
    /// says why. True when it changed.
    pub(crate) fn success_shown(
        &mut self,
        ops: &TxOps<'_>,
        id: i64,
        r: &serde_json::Value,
        now_us: i64,
    ) -> Result<bool, StoreError> {
        // Only these records can show it: the others cost no read of the incident.
        if !super::success::may_show(r) {
            return Ok(false);
        }
        let Some(mut s) = ops.incident_state(id)? else { return Ok(false) };
        if s.succeeded {
            return Ok(false);
        }
        let Some(why) = super::success::shown_by(r, &s.rsit) else { return Ok(false) };
        s.succeeded = true;
        self.finish(&mut s);
        ops.update_incident(&s, &crate::store::sqlite::iso_utc(now_us))?;
        let detail = serde_json::json!({"evidence": why.sentence(), "shown": why, "score": s.score, "class": s.rsit});
        ops.audit(now_us, ENGINE_ACTOR, "incident.succeeded", Some(id), None, &detail)?;
        Ok(true)
    }

    fn entity_zone(&self, s: &IncidentState) -> super::assets::Zone<'_> {
        self.inventory.zone_of_entity(&s.entity)
    }

    fn entity_label(&self, s: &IncidentState) -> String {
        entity::label_of(s.entity.as_str(), &self.inventory)
    }

    fn place_one(
        &mut self,
        ops: &TxOps<'_>,
        a: &AlertEvent,
        meaning: &Meaning,
        ts_us: i64,
        raw: &str,
        now_us: i64,
    ) -> Result<(Placed, Option<Choice>), StoreError> {
        let succeeded = attack_succeeded(a, meaning);
        let rsit = meaning.rsit_or_other().as_str();
        let row = NewAlert {
            ts_us,
            timestamp: &a.timestamp,
            sensor: a.host.as_deref(),
            flow_id: a.flow_id,
            gid: a.alert.gid,
            sid: a.alert.signature_id,
            rev: a.alert.rev,
            signature: &a.alert.signature,
            category: &a.alert.category,
            severity: a.alert.severity,
            src_ip: &a.src_ip,
            src_port: a.src_port,
            dest_ip: &a.dest_ip,
            dest_port: a.dest_port,
            proto: &a.proto,
            tactics: &meaning.tactics,
            techniques: &meaning.techniques,
            rsit,
            succeeded,
            dedup_key: dedup_key(a),
            raw,
        };
        if let Some(sup) =
            self.suppressions.matching(row.gid, row.sid, row.src_ip, row.dest_ip, ts_us)
        {
            return Ok((self.place_suppressed(ops, &row, sup)?, None));
        }
        let choice = entity::choose(a, meaning, &self.inventory, &self.campaigns, ts_us);
        let open = ops.open_incident(
            &choice.entity,
            ts_us - self.windows.inactivity_us,
            ts_us.saturating_sub(self.windows.max_span_us),
        )?;
        self.stats.alerts += 1;
        let (id, created, repeat) = match open {
            None => (self.create_incident(ops, &row, meaning, &choice, now_us)?, true, false),
            Some(open) => {
                let (id, repeat) = self.join_incident(ops, open, &row, meaning, now_us)?;
                (id, false, repeat)
            }
        };
        if let Some(p) = &choice.peer {
            ops.add_host(id, &p.ip, p.role, p.zone, p.agency.as_deref())?;
        }
        if let Some(records) = link_observables(ops, id, a.flow_id, (!repeat).then_some(a))? {
            for r in &records {
                self.success_shown(ops, id, r, now_us)?;
            }
        }
        if repeat {
            self.stats.repeats += 1;
        }
        let placed = Placed { incident: Some(id), created, repeat, suppressed_by: None };
        Ok((placed, Some(choice)))
    }

    /// An alert a suppression matches: stored (folded into a repeat when it is one) and
    /// counted against the suppression, in no incident.
    fn place_suppressed(
        &mut self,
        ops: &TxOps<'_>,
        row: &NewAlert<'_>,
        sup: i64,
    ) -> Result<Placed, StoreError> {
        let repeat = match ops.find_repeat(row, None, Some(sup))? {
            Some(id) => {
                ops.add_repeat(id, row)?;
                true
            }
            None => {
                ops.insert_alert(row, None, Some(sup))?;
                false
            }
        };
        ops.count_suppressed(sup, row.ts_us)?;
        self.stats.suppressed += 1;
        let placed = Placed { incident: None, created: false, repeat, suppressed_by: Some(sup) };
        Ok(placed)
    }

    /// A new incident for the first alert of an entity: its state, its entity's place in
    /// the inventory, the alert, its rule and host, and the audit line.
    fn create_incident(
        &mut self,
        ops: &TxOps<'_>,
        row: &NewAlert<'_>,
        meaning: &Meaning,
        choice: &Choice,
        now_us: i64,
    ) -> Result<i64, StoreError> {
        let now = crate::store::sqlite::iso_utc(now_us);
        let mut s = IncidentState {
            id: 0,
            title: String::new(),
            entity: choice.entity.clone(),
            gid: row.gid,
            sid: row.sid,
            signature: row.signature.to_string(),
            category: row.category.to_string(),
            src_ip: row.src_ip.to_string(),
            dest_ip: row.dest_ip.to_string(),
            severity: row.severity,
            score: 0,
            alert_count: 1,
            first_us: row.ts_us,
            last_us: row.ts_us,
            rsit: row.rsit.to_string(),
            tactics: meaning.tactics.clone(),
            techniques: meaning.techniques.clone(),
            rule_count: 1,
            succeeded: row.succeeded,
            correlations: Vec::new(),
        };
        self.finish(&mut s);
        let asset = choice.asset.as_ref();
        let ent = IncidentEntity {
            entity: choice.entity.clone(),
            zone: choice.zone.to_string(),
            agency: asset.map(|a| a.agency_id.clone()),
            agency_name: asset.map(|a| a.agency_name.clone()),
            system: asset.map(|a| a.system.clone()).filter(|s| !s.is_empty()),
            security_level: asset.map(|a| a.security_level),
            criticality: asset.map(|a| a.criticality.as_str().to_string()),
        };
        let id = ops.insert_incident(&s, &ent, now_us, &now)?;
        ops.insert_alert(row, Some(id), None)?;
        ops.add_rule(id, row)?;
        ops.add_host(id, &choice.entity, "entity", choice.zone, ent.agency.as_deref())?;
        let rule = format!("{}:{}", row.gid, row.sid);
        let detail = serde_json::json!({"entity": choice.entity, "rule": rule, "score": s.score});
        ops.audit(now_us, ENGINE_ACTOR, "incident.create", Some(id), None, &detail)?;
        self.stats.incidents_created += 1;
        Ok(id)
    }

    /// An alert joining the open incident `s`: a repeat or a new alert, the incident's
    /// aggregates (leading rule, tactics, class, success, score) brought up to date.
    fn join_incident(
        &mut self,
        ops: &TxOps<'_>,
        mut s: IncidentState,
        row: &NewAlert<'_>,
        meaning: &Meaning,
        now_us: i64,
    ) -> Result<(i64, bool), StoreError> {
        let now = crate::store::sqlite::iso_utc(now_us);
        let repeat = match ops.find_repeat(row, Some(s.id), None)? {
            Some(rid) => {
                ops.add_repeat(rid, row)?;
                true
            }
            None => {
                ops.insert_alert(row, Some(s.id), None)?;
                false
            }
        };
        let new_rule = ops.add_rule(s.id, row)?;
        s.alert_count += 1;
        s.first_us = s.first_us.min(row.ts_us);
        s.last_us = s.last_us.max(row.ts_us);
        if row.severity < s.severity {
            (s.gid, s.sid, s.signature, s.category) =
                (row.gid, row.sid, row.signature.to_string(), row.category.to_string());
            s.severity = row.severity;
        }
        for t in &meaning.tactics {
            if !s.tactics.contains(t) {
                s.tactics.push(t.clone());
            }
        }
        for t in &meaning.techniques {
            if !s.techniques.contains(t) {
                s.techniques.push(t.clone());
            }
        }
        s.rsit = graver_class(&s.rsit, row.rsit).to_string();
        s.succeeded |= row.succeeded;
        s.rule_count += new_rule as u64;
        self.finish(&mut s);
        ops.update_incident(&s, &now)?;
        Ok((s.id, repeat))
    }
}

/// What incident `id` can be found by: the alert's observables (unless it only repeats
/// one already stored) and, the first time its flow joins the incident, those of the
/// flow's stored records (records arriving later are tied by the ingest).
/// Makes incident `id` findable by the observables of alert `a` and, the first time
/// its flow joins the incident, of the flow's stored records — which it returns.
fn link_observables(
    ops: &TxOps<'_>,
    id: i64,
    flow: Option<u64>,
    alert: Option<&AlertEvent>,
) -> Result<Option<Vec<serde_json::Value>>, StoreError> {
    use super::observables::{of_alert, of_event};
    if let Some(a) = alert {
        let found = of_alert(a);
        if !found.is_empty() {
            ops.add_observables(id, &found)?;
        }
    }
    let Some(flow) = flow else { return Ok(None) };
    if !ops.link_flow(flow, id)? {
        return Ok(None);
    }
    let mut records = Vec::new();
    for body in ops.flow_records(flow)? {
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(&body) {
            ops.add_observables(id, &of_event(&v))?;
            records.push(v);
        }
    }
    Ok(Some(records))
}
