//! The incident endpoints: the queue (filters, sort, pages), an incident with the
//! evidence behind it, and analysts' changes (with optimistic concurrency: a change
//! names the version it was made on, and a newer version answers 409).

use std::sync::Arc;

use axum::extract::{Extension, Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};

use super::auth::Caller;
use super::error::{ApiError, ApiResult};
use super::Console;
use crate::store::accounts::Role;
use crate::store::lifecycle::{AuditRecord, Note};
use crate::store::queue::Overdue;
use crate::store::{
    AlertRow, IncidentFilter, IncidentOrder, IncidentRecord, IncidentRow, Status, Store, StoreError,
};

/// Most incidents on one page.
pub const MAX_PER_PAGE: usize = 200;
/// Totals are counted up to this; past it the queue says "10,000+".
pub const COUNT_CAP: u64 = 10_000;
/// Alerts listed with an incident (the rest through `/api/v1/alerts?incident=`).
pub const DETAIL_ALERTS: usize = 500;
/// Flows whose records are shown as evidence, and records per flow.
const EVIDENCE_FLOWS: usize = 50;
const RECORDS_PER_FLOW: usize = 20;

/// The queue's filters. Lists are comma-separated; times are RFC 3339 or dates
/// (`2026-10-01`, midnight in Asia/Ho_Chi_Minh).
#[derive(Clone, Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IncidentQuery {
    /// `new,acknowledged,in_progress,resolved,false_positive`; `open` means the first three.
    pub status: Option<String>,
    /// `critical,high,medium,low`.
    pub severity: Option<String>,
    /// An agency id of the asset inventory.
    pub agency: Option<String>,
    /// An address: the incident's entity or any host in it.
    pub asset: Option<String>,
    /// An ATT&CK tactic id (`TA0001`).
    pub tactic: Option<String>,
    pub assignee: Option<String>,
    /// Active from (last seen at or after).
    pub from: Option<String>,
    /// Active until (first seen before).
    pub to: Option<String>,
    /// Words of the title, or an address.
    pub q: Option<String>,
    /// `1`: only open incidents past a handling deadline (`[[report.deadlines]]`).
    pub overdue: Option<String>,
    /// Only incidents with an alert to this destination port.
    pub port: Option<u16>,
    /// Only incidents with an alert of this rule (`gid:sid`, or a sid).
    pub rule: Option<String>,
    /// The asset inventory's system.
    pub system: Option<String>,
    /// An ATT&CK technique id (`T1071`).
    pub technique: Option<String>,
    /// `priority` (default: gravest severity, highest score, waiting longest first),
    /// `last_seen`, `first_seen`, `score`, `title`, `agency`, `entity`, `alerts`,
    /// `status` or `assignee`, each in its natural direction (most urgent, recent or
    /// numerous first; names A to Z).
    pub sort: Option<String>,
    /// `reverse`: the sort's other direction.
    pub dir: Option<String>,
    /// 1-based.
    pub page: Option<usize>,
    /// At most 200; 50 by default.
    pub per_page: Option<usize>,
}

fn list(s: &Option<String>) -> Vec<String> {
    s.as_deref()
        .unwrap_or("")
        .split(',')
        .map(|x| x.trim().to_string())
        .filter(|x| !x.is_empty())
        .collect()
}

fn nonempty(s: &Option<String>) -> Option<String> {
    s.as_deref().map(str::trim).filter(|x| !x.is_empty()).map(str::to_string)
}

/// A time of a filter: RFC 3339, or a date at midnight in Vietnam (UTC+7).
pub fn parse_time(s: &str, what: &str) -> ApiResult<i64> {
    let s = s.trim();
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Ok(t.timestamp_micros());
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        let midnight = d.and_hms_opt(0, 0, 0).unwrap_or_default();
        return Ok(midnight.and_utc().timestamp_micros() - 7 * 3_600_000_000);
    }
    Err(ApiError::bad_request(format!(
        "`{what}`: `{s}` is neither an RFC 3339 time nor a date (YYYY-MM-DD)"
    )))
}

/// `1:2001` or `2001` (gid 1).
fn rule_of(s: &str) -> ApiResult<(u32, u32)> {
    let (gid, sid) = s.split_once(':').unwrap_or(("1", s));
    match (gid.trim().parse(), sid.trim().parse()) {
        (Ok(g), Ok(n)) => Ok((g, n)),
        _ => Err(ApiError::bad_request(format!("`rule`: `{s}` is not gid:sid"))),
    }
}

impl IncidentQuery {
    /// The store's filter; `overdue` gives the deadlines at the clock when asked.
    pub fn filter(&self, overdue: impl Fn() -> Overdue) -> ApiResult<IncidentFilter> {
        let mut status = list(&self.status);
        if let Some(i) = status.iter().position(|s| s == "open") {
            status.remove(i);
            status.extend(["new", "acknowledged", "in_progress"].map(String::from));
        }
        for s in &status {
            if Status::parse(s).is_none() {
                return Err(ApiError::bad_request(format!("`status`: unknown status `{s}`")));
            }
        }
        let severity = list(&self.severity);
        for s in &severity {
            if crate::domain::severity::band_of(s).is_none() {
                return Err(ApiError::bad_request(format!("`severity`: unknown severity `{s}`")));
            }
        }
        let sort = self.sort.as_deref().map(str::trim).filter(|s| !s.is_empty());
        let order = IncidentOrder::parse(sort.unwrap_or("priority")).ok_or_else(|| {
            let names: Vec<&str> = IncidentOrder::NAMES.iter().map(|(n, _)| *n).collect();
            ApiError::bad_request(format!(
                "`sort`: `{}` is not one of {}",
                sort.unwrap_or_default(),
                names.join(", ")
            ))
        })?;
        let reverse = match self.dir.as_deref().map(str::trim).unwrap_or("") {
            "" | "natural" => false,
            "reverse" => true,
            other => {
                return Err(ApiError::bad_request(format!(
                    "`dir`: `{other}` is not natural or reverse"
                )))
            }
        };
        let per_page = self.per_page.unwrap_or(50).clamp(1, MAX_PER_PAGE);
        let page = self.page.unwrap_or(1).max(1);
        if page > 100_000 {
            return Err(ApiError::bad_request("`page`: at most 100,000"));
        }
        Ok(IncidentFilter {
            status,
            severity,
            agency: nonempty(&self.agency),
            host: nonempty(&self.asset),
            tactic: nonempty(&self.tactic),
            assignee: nonempty(&self.assignee),
            since_us: self
                .from
                .as_deref()
                .filter(|s| !s.trim().is_empty())
                .map(|s| parse_time(s, "from"))
                .transpose()?,
            until_us: self
                .to
                .as_deref()
                .filter(|s| !s.trim().is_empty())
                .map(|s| parse_time(s, "to"))
                .transpose()?,
            text: nonempty(&self.q),
            overdue: match self.overdue.as_deref().map(str::trim).unwrap_or("") {
                "" | "0" | "false" => None,
                "1" | "true" => Some(overdue()),
                other => {
                    return Err(ApiError::bad_request(format!(
                        "`overdue`: `{other}` is not 1 or 0"
                    )))
                }
            },
            port: self.port,
            rule: nonempty(&self.rule).map(|r| rule_of(&r)).transpose()?,
            system: nonempty(&self.system),
            technique: nonempty(&self.technique).map(|t| t.to_ascii_uppercase()),
            order,
            reverse,
            limit: per_page,
            offset: (page - 1) * per_page,
            ..Default::default()
        })
    }
}

/// A page of the queue.
#[derive(Serialize, utoipa::ToSchema)]
pub struct IncidentPage {
    /// Incidents that pass the filters, counted up to 10,000.
    pub total: u64,
    /// True when there are more than `total`.
    pub total_capped: bool,
    pub page: usize,
    pub per_page: usize,
    #[schema(value_type = Vec<Object>)]
    pub incidents: Vec<IncidentRow>,
    /// Open incidents by severity (whatever the filters), gravest first.
    #[schema(value_type = Vec<Object>)]
    pub open_by_severity: Vec<crate::store::overview::Counted>,
}

/// Open incidents by severity: counted again only when the store changed since.
fn open_counts(
    s: &Store,
    cache: &super::OpenCounts,
) -> Result<Vec<crate::store::overview::Counted>, StoreError> {
    let seq = s.change_seq()?;
    if let Some((at, counts)) = cache.lock().ok().and_then(|c| c.clone()) {
        if at == seq {
            return Ok(counts);
        }
    }
    let counts = s.open_by_severity()?;
    if let Ok(mut c) = cache.lock() {
        *c = Some((seq, counts.clone()));
    }
    Ok(counts)
}

/// The incident queue.
#[utoipa::path(get, path = "/api/v1/incidents", tag = "incidents", params(IncidentQuery),
    responses((status = 200, body = IncidentPage), (status = 400, body = super::error::ErrorBody)))]
pub async fn list_incidents(
    State(c): State<Arc<Console>>,
    Query(q): Query<IncidentQuery>,
) -> ApiResult<Json<IncidentPage>> {
    let f = q.filter(|| c.overdue_at(chrono::Utc::now().timestamp_micros()))?;
    let (per_page, page) = (f.limit, f.offset / f.limit + 1);
    let cache = c.open_counts.clone();
    let (incidents, total, open_by_severity) =
        c.db.read(move |s| {
            let open = open_counts(s, &cache)?;
            Ok((s.find_incidents(&f)?, s.count_incidents(&f, COUNT_CAP + 1)?, open))
        })
        .await?;
    Ok(Json(IncidentPage {
        total: total.min(COUNT_CAP),
        total_capped: total > COUNT_CAP,
        page,
        per_page,
        incidents,
        open_by_severity,
    }))
}

/// One line of an incident's timeline.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct TimelineEntry {
    pub at: String,
    /// `alert`, `note` or `audit`.
    pub kind: &'static str,
    /// In English (the console writes audit entries as sentences in its language from
    /// `action` and `detail`).
    pub text: String,
    pub actor: Option<String>,
    /// An audit entry's action (`incident.transition`, `block.executed`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// An audit entry's detail.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<serde_json::Value>,
}

/// The protocol records behind an incident's alerts (same flows), by kind.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Evidence {
    pub flows: Vec<serde_json::Value>,
    pub dns: Vec<serde_json::Value>,
    pub http: Vec<serde_json::Value>,
    pub tls: Vec<serde_json::Value>,
    pub files: Vec<serde_json::Value>,
    pub ssh: Vec<serde_json::Value>,
    pub smtp: Vec<serde_json::Value>,
    pub other: Vec<serde_json::Value>,
}

/// An incident with everything behind it.
#[derive(Serialize)]
pub struct IncidentDetail {
    /// The incident, its rules, hosts, first 500 alerts (repeats folded, oldest
    /// first), notes and audit trail (at most 500 records).
    #[serde(flatten)]
    pub record: IncidentRecord,
    pub timeline: Vec<TimelineEntry>,
    pub evidence: Evidence,
    /// Other incidents about the same entity or sharing a host with this one.
    pub related: Vec<IncidentRow>,
    /// The automated response's decisions about it, newest first.
    pub blocks: Vec<crate::store::blocks::BlockRow>,
    /// What it can be found by: addresses, domains, URLs, file names and hashes, mail
    /// addresses, user names of its alerts and their flows' records (at most 500).
    pub observables: Vec<Observable>,
    /// The names of its ATT&CK techniques, by id.
    pub technique_names: std::collections::BTreeMap<String, &'static str>,
}

/// An observable of an incident.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Observable {
    /// `ip`, `domain`, `url`, `file`, `hash`, `email` or `user`.
    pub kind: String,
    /// Lower case, as searched.
    pub value: String,
}

fn evidence(s: &Store, alerts: &[AlertRow]) -> Result<Evidence, StoreError> {
    let mut flows: Vec<i64> = alerts.iter().filter_map(|a| a.flow_id).collect();
    flows.sort_unstable();
    flows.dedup();
    let mut ev = Evidence::default();
    for f in flows.into_iter().take(EVIDENCE_FLOWS) {
        for r in s.flow_records(f, RECORDS_PER_FLOW)? {
            let kind = r.get("event_type").and_then(|t| t.as_str()).unwrap_or("");
            match kind {
                "flow" | "netflow" => ev.flows.push(r),
                "dns" => ev.dns.push(r),
                "http" => ev.http.push(r),
                "tls" => ev.tls.push(r),
                "fileinfo" => ev.files.push(r),
                "ssh" => ev.ssh.push(r),
                "smtp" => ev.smtp.push(r),
                _ => ev.other.push(r),
            }
        }
    }
    // In time order (EVE timestamps of one sensor sort as text), whatever the flow.
    let by_time = |list: &mut Vec<serde_json::Value>| {
        list.sort_by(|a, b| a["timestamp"].as_str().cmp(&b["timestamp"].as_str()))
    };
    for list in [
        &mut ev.flows,
        &mut ev.dns,
        &mut ev.http,
        &mut ev.tls,
        &mut ev.files,
        &mut ev.ssh,
        &mut ev.smtp,
        &mut ev.other,
    ] {
        by_time(list);
    }
    Ok(ev)
}

fn timeline(alerts: &[AlertRow], notes: &[Note], audit: &[AuditRecord]) -> Vec<TimelineEntry> {
    let mut t: Vec<TimelineEntry> = Vec::new();
    for a in alerts {
        let repeats = if a.count > 1 { format!(" (×{})", a.count) } else { String::new() };
        t.push(TimelineEntry {
            at: a.timestamp.clone(),
            kind: "alert",
            text: format!("{} {} → {}{repeats}", a.signature, a.src_ip, a.dest_ip),
            actor: a.sensor.clone(),
            action: None,
            detail: None,
        });
    }
    for n in notes {
        t.push(TimelineEntry {
            at: n.at.clone(),
            kind: "note",
            text: n.text.clone(),
            actor: Some(n.author.clone()),
            action: None,
            detail: None,
        });
    }
    for r in audit.iter().filter(|r| r.action != "incident.note") {
        t.push(TimelineEntry {
            at: r.at.clone(),
            kind: "audit",
            text: audit_text(r),
            actor: Some(r.actor.clone()),
            action: Some(r.action.clone()),
            detail: Some(r.detail.clone()),
        });
    }
    // Times are ISO strings of one format (UTC, `Z`) from the store, or EVE timestamps:
    // compare as instants.
    let key = |e: &TimelineEntry| {
        chrono::DateTime::parse_from_rfc3339(&e.at)
            .map(|t| t.timestamp_micros())
            .ok()
            .or_else(|| {
                chrono::DateTime::parse_from_str(&e.at, "%Y-%m-%dT%H:%M:%S%.f%z")
                    .map(|t| t.timestamp_micros())
                    .ok()
            })
            .unwrap_or(0)
    };
    t.sort_by_key(key);
    t
}

fn audit_text(r: &AuditRecord) -> String {
    let d = &r.detail;
    let s = |k: &str| d.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
    match r.action.as_str() {
        "incident.transition" | "incident.reopen" => format!("{} → {}", s("from"), s("to")),
        "incident.assign" => {
            format!("assigned to {}", d.get("to").and_then(|v| v.as_str()).unwrap_or("nobody"))
        }
        a if a.starts_with("block.") => format!(
            "{} {} — {}{}",
            &a[6..],
            s("target"),
            s("action"),
            d.get("reason").and_then(|v| v.as_str()).map(|r| format!(": {r}")).unwrap_or_default()
        ),
        "incident.merge" => format!(
            "merged: {} into {}",
            d.get("from").unwrap_or(&serde_json::Value::Null),
            d.get("into").unwrap_or(&serde_json::Value::Null)
        ),
        other => other.to_string(),
    }
}

pub fn detail(s: &Store, id: i64) -> Result<IncidentDetail, StoreError> {
    let record = s
        .incident_record(id, DETAIL_ALERTS)?
        .ok_or_else(|| StoreError::NotFound(format!("incident {id}")))?;
    let related = s.related_incidents(id, &record.incident.entity, 20)?;
    let blocks = s.blocks(&crate::store::blocks::BlockFilter {
        incident: Some(id),
        limit: 200,
        ..Default::default()
    })?;
    let observables = s
        .incident_observables(id, 500)?
        .into_iter()
        .map(|(kind, value)| Observable { kind, value })
        .collect();
    let technique_names = record
        .incident
        .techniques
        .iter()
        .filter_map(|t| Some((t.clone(), crate::incident::techniques::technique_name(t)?)))
        .collect();
    Ok(IncidentDetail {
        technique_names,
        blocks,
        observables,
        timeline: timeline(&record.alerts, &record.notes, &record.audit),
        evidence: evidence(s, &record.alerts)?,
        record,
        related,
    })
}

/// An incident, its alerts, evidence, notes, timeline and related incidents.
#[utoipa::path(get, path = "/api/v1/incidents/{id}", tag = "incidents", params(("id" = i64, Path)),
    responses((status = 200, description = "incident, rules, hosts, alerts, notes, audit, timeline, evidence, related", body = Object),
              (status = 404, body = super::error::ErrorBody)))]
pub async fn get_incident(
    State(c): State<Arc<Console>>,
    Path(id): Path<i64>,
) -> ApiResult<Json<IncidentDetail>> {
    Ok(Json(c.db.read(move |s| detail(s, id)).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct TransitionRequest {
    /// `acknowledged`, `in_progress`, `resolved`, `false_positive`; `in_progress` reopens a closed one.
    pub to: String,
    pub note: Option<String>,
    /// The version the change was made on (409 if it changed meanwhile).
    pub version: i64,
}

/// The incident after a change.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Changed {
    #[schema(value_type = Object)]
    pub incident: IncidentRow,
}

async fn changed(c: &Console, id: i64) -> ApiResult<Json<Changed>> {
    let incident =
        c.db.read(move |s| s.get_incident(id))
            .await?
            .ok_or_else(|| ApiError::not_found(format!("no incident {id}")))?;
    c.notify();
    Ok(Json(Changed { incident }))
}

/// Moves an incident along its lifecycle.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/transition", tag = "incidents", params(("id" = i64, Path)),
    request_body = TransitionRequest,
    responses((status = 200, body = Changed), (status = 409, body = super::error::ErrorBody), (status = 422, body = super::error::ErrorBody)))]
pub async fn transition(
    State(c): State<Arc<Console>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
    Json(body): Json<TransitionRequest>,
) -> ApiResult<Json<Changed>> {
    caller.require(Role::Analyst)?;
    let to = Status::parse(&body.to)
        .ok_or_else(|| ApiError::bad_request(format!("`to`: unknown status `{}`", body.to)))?;
    let actor = caller.actor();
    c.db.write(move |s| s.transition(id, to, &actor, body.note.as_deref(), Some(body.version)))
        .await?;
    changed(&c, id).await
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct AssignRequest {
    /// A user name; none unassigns.
    pub assignee: Option<String>,
    pub version: i64,
}

/// Assigns an incident to a user (or unassigns it).
#[utoipa::path(post, path = "/api/v1/incidents/{id}/assign", tag = "incidents", params(("id" = i64, Path)),
    request_body = AssignRequest, responses((status = 200, body = Changed), (status = 409, body = super::error::ErrorBody)))]
pub async fn assign(
    State(c): State<Arc<Console>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
    Json(body): Json<AssignRequest>,
) -> ApiResult<Json<Changed>> {
    caller.require(Role::Analyst)?;
    let assignee =
        body.assignee.as_deref().map(str::trim).filter(|a| !a.is_empty()).map(str::to_string);
    let actor = caller.actor();
    c.db.write(move |s| {
        if let Some(a) = &assignee {
            if s.user(a)?.is_none_or(|u| u.disabled) {
                return Err(StoreError::Refused(format!("`{a}` is not an active user")));
            }
        }
        s.assign(id, assignee.as_deref(), &actor, Some(body.version))
    })
    .await?;
    changed(&c, id).await
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct NoteRequest {
    pub text: String,
}

/// Adds a note to an incident.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/notes", tag = "incidents", params(("id" = i64, Path)),
    request_body = NoteRequest, responses((status = 201, body = Changed), (status = 422, body = super::error::ErrorBody)))]
pub async fn add_note(
    State(c): State<Arc<Console>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
    Json(body): Json<NoteRequest>,
) -> ApiResult<(StatusCode, Json<Changed>)> {
    caller.require(Role::Analyst)?;
    let actor = caller.actor();
    c.db.write(move |s| s.add_note(id, &actor, &body.text)).await?;
    Ok((StatusCode::CREATED, changed(&c, id).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct MergeRequest {
    /// The incident this one is merged into.
    pub into: i64,
    /// This incident's version.
    pub version: i64,
}

/// Merges this incident into another: its alerts, rules and hosts move there.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/merge", tag = "incidents", params(("id" = i64, Path)),
    request_body = MergeRequest, responses((status = 200, body = Changed), (status = 409, body = super::error::ErrorBody), (status = 422, body = super::error::ErrorBody)))]
pub async fn merge(
    State(c): State<Arc<Console>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
    Json(body): Json<MergeRequest>,
) -> ApiResult<Json<Changed>> {
    caller.require(Role::Analyst)?;
    let actor = caller.actor();
    let engine = c.engine.clone();
    c.db.write(move |s| engine.merge_incidents(s, id, body.into, &actor, Some(body.version)))
        .await?;
    changed(&c, body.into).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_filters_are_checked_and_translated() {
        let q = IncidentQuery {
            status: Some("open,resolved".into()),
            severity: Some("critical, high".into()),
            from: Some("2026-10-01".into()),
            sort: Some("score".into()),
            page: Some(3),
            per_page: Some(1000),
            ..Default::default()
        };
        let f = q.filter(Overdue::default).unwrap();
        assert_eq!(f.status, ["resolved", "new", "acknowledged", "in_progress"]);
        assert_eq!(f.severity, ["critical", "high"]);
        assert_eq!(
            f.since_us,
            Some(1_790_787_600_000_000),
            "2026-09-30T17:00Z: midnight in Vietnam"
        );
        assert_eq!((f.order, f.reverse), (IncidentOrder::Score, false));
        assert_eq!((f.limit, f.offset), (200, 400));
        for bad in [
            IncidentQuery { status: Some("closed".into()), ..Default::default() },
            IncidentQuery { severity: Some("urgent".into()), ..Default::default() },
            IncidentQuery { sort: Some("id; DROP TABLE".into()), ..Default::default() },
            IncidentQuery { from: Some("yesterday".into()), ..Default::default() },
        ] {
            let e = bad.filter(Overdue::default).unwrap_err();
            assert_eq!(e.code, "bad_request", "{e:?}");
        }
    }
}
