//! The incident and the alert as the store gives them to callers: the row types, the
//! columns every query of them selects, and the mappers that read those columns by
//! name (a query may select more).

use serde::Serialize;

use super::sqlite::iso_utc;
use super::write::parse_list;
use crate::domain::severity::severity_of;

/// An incident as stored.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct IncidentRow {
    /// The incident's id.
    pub id: i64,
    /// Its title.
    pub title: String,
    /// `critical`/`high`/`medium`/`low`, from the score.
    pub severity: String,
    /// 0–100 (see `crate::domain::severity`).
    pub score: u32,
    /// `new`, `acknowledged`, `in_progress`, `resolved` or `false_positive` (see [`Status`](crate::store::Status)).
    pub status: String,
    /// What the incident is about: an address, or `sensor:NAME`.
    pub entity: String,
    /// `asset`, `unknown_internal`, `external` or `sensor`.
    pub entity_zone: String,
    /// The entity's agency id and name, system, security level and criticality, from
    /// the asset inventory.
    pub agency: Option<String>,
    /// The agency's name, from the asset inventory.
    pub agency_name: Option<String>,
    /// The information system, from the asset inventory.
    pub system: Option<String>,
    /// The system's security level (Decree 85/2016, 1–5), from the asset inventory.
    pub security_level: Option<u8>,
    pub(crate) criticality: Option<String>,
    /// ENISA RSIT class (`intrusion-attempts`, `malicious-code`, …).
    pub rsit: String,
    /// ATT&CK tactic and technique ids.
    pub tactics: Vec<String>,
    /// MITRE ATT&CK technique ids from the rule's metadata.
    pub techniques: Vec<String>,
    /// Alerts, repeats included.
    pub alert_count: u64,
    /// Distinct rules.
    pub rule_count: u64,
    /// Evidence that the attack worked (a `gatewatch.success` correlation).
    pub succeeded: bool,
    /// Correlation rules that fired in it.
    pub correlations: Vec<String>,
    /// The leading rule (the first of the gravest severity) and its first alert.
    pub gid: u32,
    /// Signature id.
    pub sid: u32,
    /// The rule's message (`msg`).
    pub signature: String,
    /// The rule's classification text.
    pub category: String,
    /// Source address.
    pub src_ip: String,
    /// Destination address.
    pub dest_ip: String,
    /// EVE severity of the gravest alert, 1 (highest) to 4.
    pub severity_level: u8,
    /// The analyst it is assigned to.
    pub assignee: Option<String>,
    pub(crate) first_seen: String,
    pub(crate) last_seen: String,
    pub(crate) created_at: String,
    pub(crate) acknowledged_at: Option<String>,
    pub(crate) resolved_at: Option<String>,
    /// The incident it was merged into.
    pub merged_into: Option<i64>,
    /// Bumped by every analyst change (optimistic concurrency).
    pub version: i64,
    /// First alert, µs since the epoch.
    #[serde(skip)]
    pub first_seen_us: i64,
    /// Last alert, µs since the epoch.
    #[serde(skip)]
    pub last_seen_us: i64,
    #[serde(skip)]
    pub(crate) created_us: i64,
    #[serde(skip)]
    pub(crate) acknowledged_us: Option<i64>,
    #[serde(skip)]
    pub(crate) resolved_us: Option<i64>,
}

/// An alert as stored (repeats folded into `count`).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct AlertRow {
    /// The alert's id in the store.
    pub id: i64,
    /// The event time as EVE writes it.
    pub timestamp: String,
    pub(crate) last_seen: String,
    /// How many identical alerts it stands for (deduplicated within the window).
    pub count: u64,
    /// Generator id (1 for rules; see `gatewatch_rules::ids`).
    pub gid: u32,
    /// Signature id.
    pub sid: u32,
    /// The rule's message (`msg`).
    pub signature: String,
    /// The rule's classification text.
    pub category: String,
    /// EVE severity: 1 (high) to 4.
    pub severity: u8,
    /// Source address.
    pub src_ip: String,
    /// Source port (TCP, UDP, SCTP).
    pub src_port: Option<u16>,
    /// Destination address.
    pub dest_ip: String,
    /// Destination port (TCP, UDP, SCTP).
    pub dest_port: Option<u16>,
    /// Transport protocol, as EVE names it (`TCP`, `UDP`, `ICMP`, …).
    pub proto: String,
    /// The sensor that saw it (its certificate name), when known.
    pub sensor: Option<String>,
    /// The flow id shared by every event of the flow.
    pub flow_id: Option<i64>,
    pub(crate) tactics: Vec<String>,
    pub(crate) rsit: String,
    /// Evidence that the attack worked (a `gatewatch.success` correlation).
    pub succeeded: bool,
    /// The incident it belongs to.
    pub incident_id: Option<i64>,
    pub(crate) suppressed_by: Option<i64>,
}

pub(crate) const INCIDENT_COLS: &str = "id, title, score, status, entity, entity_zone, agency, agency_name, system, security_level, criticality, rsit, tactics, techniques, alert_count, rule_count, succeeded, correlations, gid, sid, signature, category, src_ip, dest_ip, severity, assignee, first_seen_us, last_seen_us, created_us, acknowledged_us, resolved_us, merged_into, version";

/// An incident from a row with the columns of [`INCIDENT_COLS`], by name.
pub(crate) fn incident_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<IncidentRow> {
    let score: u32 = r.get("score")?;
    let first: i64 = r.get("first_seen_us")?;
    let last: i64 = r.get("last_seen_us")?;
    let (created, acknowledged, resolved): (i64, Option<i64>, Option<i64>) =
        (r.get("created_us")?, r.get("acknowledged_us")?, r.get("resolved_us")?);
    Ok(IncidentRow {
        id: r.get("id")?,
        title: r.get("title")?,
        severity: severity_of(score).to_string(),
        score,
        status: r.get("status")?,
        entity: r.get("entity")?,
        entity_zone: r.get("entity_zone")?,
        agency: r.get("agency")?,
        agency_name: r.get("agency_name")?,
        system: r.get("system")?,
        security_level: r.get("security_level")?,
        criticality: r.get("criticality")?,
        rsit: r.get("rsit")?,
        tactics: parse_list(&r.get::<_, String>("tactics")?),
        techniques: parse_list(&r.get::<_, String>("techniques")?),
        alert_count: r.get::<_, i64>("alert_count")?.max(0) as u64,
        rule_count: r.get::<_, i64>("rule_count")?.max(0) as u64,
        succeeded: r.get("succeeded")?,
        correlations: parse_list(&r.get::<_, String>("correlations")?),
        gid: r.get("gid")?,
        sid: r.get("sid")?,
        signature: r.get("signature")?,
        category: r.get("category")?,
        src_ip: r.get("src_ip")?,
        dest_ip: r.get("dest_ip")?,
        severity_level: r.get("severity")?,
        assignee: r.get("assignee")?,
        first_seen: iso_utc(first),
        last_seen: iso_utc(last),
        created_at: iso_utc(created),
        acknowledged_at: acknowledged.map(iso_utc),
        resolved_at: resolved.map(iso_utc),
        merged_into: r.get("merged_into")?,
        version: r.get("version")?,
        first_seen_us: first,
        last_seen_us: last,
        created_us: created,
        acknowledged_us: acknowledged,
        resolved_us: resolved,
    })
}

pub(crate) const ALERT_COLS: &str = "id, ts_us, last_us, count, gid, sid, signature, category, severity, src_ip, src_port, dest_ip, dest_port, proto, sensor, flow_id, tactics, rsit, succeeded, incident_id, suppressed_by";

/// An alert from a row with (at least) the columns of [`ALERT_COLS`], by name.
pub(crate) fn alert_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AlertRow> {
    Ok(AlertRow {
        id: r.get("id")?,
        timestamp: iso_utc(r.get("ts_us")?),
        last_seen: iso_utc(r.get("last_us")?),
        count: r.get::<_, i64>("count")?.max(0) as u64,
        gid: r.get("gid")?,
        sid: r.get("sid")?,
        signature: r.get("signature")?,
        category: r.get("category")?,
        severity: r.get("severity")?,
        src_ip: r.get("src_ip")?,
        src_port: r.get("src_port")?,
        dest_ip: r.get("dest_ip")?,
        dest_port: r.get("dest_port")?,
        proto: r.get("proto")?,
        sensor: r.get("sensor")?,
        flow_id: r.get("flow_id")?,
        tactics: parse_list(&r.get::<_, String>("tactics")?),
        rsit: r.get("rsit")?,
        succeeded: r.get("succeeded")?,
        incident_id: r.get("incident_id")?,
        suppressed_by: r.get("suppressed_by")?,
    })
}
