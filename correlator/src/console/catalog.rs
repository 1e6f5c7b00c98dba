//! The console's other resources: alerts, suppressions, sensors, assets, rule sets,
//! the audit log, saved views of the queue, and the overview.

use std::sync::Arc;

use axum::extract::{Extension, Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};

use super::auth::Caller;
use super::error::{ApiError, ApiResult};
use super::incidents::parse_time;
use super::Console;
use crate::domain::suppression::{NewSuppression, Suppression, SuppressionRule};
use crate::server::sensors::SensorHealth;
use crate::store::accounts::Role;
use crate::store::lifecycle::AuditRecord;
use crate::store::overview::Overview;
use crate::store::{AlertFilter, AlertRow};

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AlertQuery {
    /// An address, as source or destination.
    pub ip: Option<String>,
    /// A signature id.
    pub sid: Option<u32>,
    /// The alerts of one incident (oldest first).
    pub incident: Option<i64>,
    pub from: Option<String>,
    pub to: Option<String>,
    /// Suppressed alerts too.
    pub suppressed: Option<bool>,
    /// At most 1,000; 100 by default.
    pub limit: Option<usize>,
}

/// Alerts, newest first (or an incident's, oldest first).
#[utoipa::path(get, path = "/api/v1/alerts", tag = "alerts", params(AlertQuery),
    responses((status = 200, body = [Object]), (status = 400, body = super::error::ErrorBody)))]
pub async fn list_alerts(
    State(c): State<Arc<Console>>,
    Query(q): Query<AlertQuery>,
) -> ApiResult<Json<Vec<AlertRow>>> {
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    if let Some(id) = q.incident {
        return Ok(Json(c.db.read(move |s| s.incident_alerts(id, limit)).await?));
    }
    if let Some(ip) = q.ip.as_deref() {
        ip.trim()
            .parse::<std::net::IpAddr>()
            .map_err(|_| ApiError::bad_request(format!("`ip`: `{ip}` is not an address")))?;
    }
    let f = AlertFilter {
        ip: q.ip.map(|s| s.trim().to_string()),
        sid: q.sid,
        since_us: q.from.as_deref().map(|s| parse_time(s, "from")).transpose()?,
        until_us: q.to.as_deref().map(|s| parse_time(s, "to")).transpose()?,
        include_suppressed: q.suppressed.unwrap_or(false),
        limit,
    };
    Ok(Json(c.db.read(move |s| s.find_alerts(&f)).await?))
}

/// One alert's event as the sensor sent it (EVE JSON: its payload, when the sensor
/// kept it, is in `payload`, base64, and `payload_printable`).
#[utoipa::path(get, path = "/api/v1/alerts/{id}", tag = "alerts", params(("id" = i64, Path)),
    responses((status = 200, body = Object), (status = 404, body = super::error::ErrorBody)))]
pub async fn get_alert(
    State(c): State<Arc<Console>>,
    Path(id): Path<i64>,
) -> ApiResult<Json<serde_json::Value>> {
    let raw = c.db.read(move |s| s.alert_raw(id)).await?;
    let raw = raw.ok_or_else(|| ApiError::not_found(format!("no alert {id}")))?;
    // Stored as received; a body that is not JSON (never written so) is shown as text.
    Ok(Json(serde_json::from_str(&raw).unwrap_or(serde_json::json!({ "raw": raw }))))
}

/// A suppression as the API shows it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct SuppressionView {
    pub id: i64,
    #[serde(flatten)]
    pub rule: SuppressionRule,
    pub created: String,
    pub expires: Option<String>,
    pub removed: Option<String>,
    /// Alerts it suppressed (stored and counted).
    pub hits: u64,
    pub last_hit: Option<String>,
}

fn view(s: Suppression) -> SuppressionView {
    let t = crate::store::sqlite::iso_utc;
    SuppressionView {
        id: s.id,
        rule: s.rule,
        created: t(s.created_us),
        expires: s.expires_us.map(t),
        removed: s.removed_us.map(t),
        hits: s.hits,
        last_hit: s.last_hit_us.map(t),
    }
}

/// Every suppression, removed and expired ones included.
#[utoipa::path(get, path = "/api/v1/suppressions", tag = "suppressions", responses((status = 200, body = [SuppressionView])))]
pub async fn list_suppressions(
    State(c): State<Arc<Console>>,
) -> ApiResult<Json<Vec<SuppressionView>>> {
    let all = c.db.read(|s| s.suppressions()).await?;
    Ok(Json(all.into_iter().map(view).collect()))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct NewSuppressionRequest {
    pub gid: Option<u32>,
    pub sid: Option<u32>,
    /// A source address or network (CIDR).
    pub src: Option<String>,
    /// A destination address or network (CIDR).
    pub dest: Option<String>,
    pub reason: String,
    /// Days until it expires; none: until removed.
    pub expires_days: Option<u32>,
}

/// Adds a suppression (analyst).
#[utoipa::path(post, path = "/api/v1/suppressions", tag = "suppressions", request_body = NewSuppressionRequest,
    responses((status = 201, body = SuppressionView), (status = 422, body = super::error::ErrorBody)))]
pub async fn add_suppression(
    State(c): State<Arc<Console>>,
    Extension(caller): Extension<Caller>,
    Json(b): Json<NewSuppressionRequest>,
) -> ApiResult<(StatusCode, Json<Option<SuppressionView>>)> {
    caller.require(Role::Analyst)?;
    let rule = SuppressionRule {
        gid: b.gid,
        sid: b.sid,
        src: b.src.filter(|x| !x.trim().is_empty()),
        dest: b.dest.filter(|x| !x.trim().is_empty()),
        reason: b.reason,
        created_by: caller.actor(),
    };
    let new = NewSuppression {
        rule,
        expires_us: b
            .expires_days
            .map(|d| chrono::Utc::now().timestamp_micros() + d as i64 * 86_400_000_000),
    };
    new.validate()
        .map_err(|m| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "refused", m.to_string()))?;
    let created =
        c.db.write(move |s| {
            let id = s.add_suppression(&new)?;
            Ok(s.suppressions()?.into_iter().find(|x| x.id == id))
        })
        .await?;
    Ok((StatusCode::CREATED, Json(created.map(view))))
}

/// Removes a suppression (analyst); it stays listed, with when it was removed.
#[utoipa::path(delete, path = "/api/v1/suppressions/{id}", tag = "suppressions", params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = super::error::ErrorBody)))]
pub async fn remove_suppression(
    State(c): State<Arc<Console>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    caller.require(Role::Analyst)?;
    let actor = caller.actor();
    c.db.write(move |s| s.remove_suppression(id, &actor)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A sensor: from the heartbeats a running correlator hears, else from its newest
/// stored heartbeat, else from the alerts it sent (no health then).
#[derive(Default, Serialize, utoipa::ToSchema)]
pub struct SensorView {
    pub name: String,
    /// Known from heartbeats.
    pub heartbeat: bool,
    /// Up or down as this correlator hears it; unknown when the console reads the
    /// store alone.
    pub up: Option<bool>,
    /// The sensor read capture files (a replay): it ends rather than goes down.
    pub reads_files: bool,
    pub last_heartbeat: Option<String>,
    pub address: Option<String>,
    pub version: Option<String>,
    pub rules_generation: Option<u64>,
    pub rules_loaded: Option<u64>,
    pub rules_skipped: Option<u64>,
    /// Seconds the sensor had been running (for a replay: the capture's span).
    pub uptime: Option<u64>,
    pub packets: Option<u64>,
    pub kernel_drops: Option<u64>,
    pub queue_drops: Option<u64>,
    /// Drops over packets offered (received and dropped).
    pub drop_rate: Option<f64>,
    pub spool_bytes: Option<u64>,
    pub down_count: u64,
    /// The newest alert it sent.
    pub last_alert: Option<String>,
    pub alerts: u64,
}

impl SensorView {
    fn from_health(h: &SensorHealth, live: bool) -> SensorView {
        let drops = h.kernel_drops.unwrap_or(0) + h.queue_drops.unwrap_or(0);
        // (the registry's counters, as `domain::heartbeat::Beat::drops` adds them)
        let offered = h.packets.map(|p| p + drops).filter(|&o| o > 0);
        SensorView {
            name: h.name.clone(),
            heartbeat: true,
            up: live.then_some(h.up),
            reads_files: h.reads_files,
            last_heartbeat: Some(crate::store::sqlite::iso_utc(h.last_heartbeat_us)),
            address: Some(h.address.clone()).filter(|a| !a.is_empty()),
            version: h.version.clone(),
            rules_generation: h.rules_generation,
            rules_loaded: h.rules_loaded,
            rules_skipped: h.rules_skipped,
            uptime: h.uptime,
            packets: h.packets,
            kernel_drops: h.kernel_drops,
            queue_drops: h.queue_drops,
            drop_rate: offered.map(|o| drops as f64 / o as f64),
            spool_bytes: h.spool_bytes,
            down_count: h.down_count,
            last_alert: None,
            alerts: 0,
        }
    }

    fn from_alerts(name: String) -> SensorView {
        SensorView { name, ..SensorView::default() }
    }
}

/// The sensors and their health.
#[utoipa::path(get, path = "/api/v1/sensors", tag = "sensors", responses((status = 200, body = [SensorView])))]
pub async fn list_sensors(State(c): State<Arc<Console>>) -> ApiResult<Json<Vec<SensorView>>> {
    let (seen, stored) = c.db.read(|s| Ok((s.alert_sensors()?, s.latest_heartbeats()?))).await?;
    let mut out: Vec<SensorView> = Vec::new();
    if let Some(shared) = &c.service {
        if let Ok(sensors) = shared.sensors.lock() {
            out.extend(sensors.by_name.values().map(|h| SensorView::from_health(h, true)));
        }
    }
    for beat in stored {
        if out.iter().any(|s| s.name == beat.sensor) {
            continue;
        }
        let record: serde_json::Value = serde_json::from_str(&beat.body).unwrap_or_default();
        let h = SensorHealth::from_heartbeat(&beat.sensor, beat.ts_us, &record);
        out.push(SensorView::from_health(&h, false));
    }
    for (name, last_us, alerts) in seen {
        let i = match out.iter().position(|s| s.name == name) {
            Some(i) => i,
            None => {
                out.push(SensorView::from_alerts(name));
                out.len() - 1
            }
        };
        out[i].last_alert = Some(crate::store::sqlite::iso_utc(last_us));
        out[i].alerts = alerts;
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Json(out))
}

/// The asset inventory: agencies and their networks and hosts.
#[utoipa::path(get, path = "/api/v1/assets", tag = "assets", responses((status = 200, body = Object)))]
pub async fn list_assets(State(c): State<Arc<Console>>) -> Json<serde_json::Value> {
    let inv = &c.engine.inventory;
    let mut assets = inv.assets();
    assets.sort_by(|a, b| (&a.agency_id, &a.network).cmp(&(&b.agency_id, &b.network)));
    Json(serde_json::json!({
        "agencies": inv.agencies.values().collect::<Vec<_>>(),
        "assets": assets,
    }))
}

/// What rules are loaded: the correlator's (host-log Sigma, correlation) and each
/// sensor's generation and count, from its heartbeats.
#[utoipa::path(get, path = "/api/v1/rulesets", tag = "sensors", responses((status = 200, body = Object)))]
pub async fn list_rulesets(State(c): State<Arc<Console>>) -> Json<serde_json::Value> {
    let correlator = c.service.as_ref().and_then(|s| {
        s.detection.lock().ok().map(|d| {
            serde_json::json!({
                "generation": d.rules_generation,
                "host_log_correlation_rules": d.correlation_rules,
                "alert_correlation_rules": d.alert_correlation_rules,
            })
        })
    });
    let correlator = correlator.unwrap_or_else(|| {
        serde_json::json!({"alert_correlation_rules": c.engine.correlation.as_ref().map(|a| a.len())})
    });
    let sensors: Vec<serde_json::Value> = c
        .service
        .as_ref()
        .and_then(|s| s.sensors.lock().ok().map(|m| {
            m.by_name
                .values()
                .map(|h| serde_json::json!({"sensor": h.name, "generation": h.rules_generation, "loaded": h.rules_loaded, "skipped": h.rules_skipped}))
                .collect()
        }))
        .unwrap_or_default();
    Json(serde_json::json!({"correlator": correlator, "sensors": sensors}))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// One incident's records (any role); without it, the whole log (admin).
    pub incident: Option<i64>,
    /// At most 1,000; 200 by default.
    pub limit: Option<usize>,
}

/// The audit log, newest first.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditQuery), responses((status = 200, body = [Object])))]
pub async fn list_audit(
    State(c): State<Arc<Console>>,
    Extension(caller): Extension<Caller>,
    Query(q): Query<AuditQuery>,
) -> ApiResult<Json<Vec<AuditRecord>>> {
    if q.incident.is_none() {
        caller.require(Role::Admin)?;
    }
    let limit = q.limit.unwrap_or(200).clamp(1, 1000);
    Ok(Json(c.db.read(move |s| s.audit(q.incident, limit)).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OverviewQuery {
    /// Days up to `until`; 30 by default, at most 366.
    pub days: Option<u32>,
    /// The last day of the period (`YYYY-MM-DD`, Asia/Ho_Chi_Minh); today by default.
    pub until: Option<String>,
}

/// Incidents by day and severity, by status, top signatures and agencies, sensors.
#[utoipa::path(get, path = "/api/v1/overview", tag = "overview", params(OverviewQuery), responses((status = 200, body = Object)))]
pub async fn overview(
    State(c): State<Arc<Console>>,
    Query(q): Query<OverviewQuery>,
) -> ApiResult<Json<Overview>> {
    let days = q.days.unwrap_or(30);
    let now = match q.until.as_deref().filter(|u| !u.trim().is_empty()) {
        // The end of that day.
        Some(u) => parse_time(u, "until")? + 86_400_000_000 - 1,
        None => chrono::Utc::now().timestamp_micros(),
    };
    // Cached a minute per period, by the day the period ends.
    let key = (days, now.div_euclid(86_400_000_000));
    if let Some((at, o)) = c.overviews.lock().ok().and_then(|m| m.get(&key).cloned()) {
        if at.elapsed() < std::time::Duration::from_secs(60) {
            return Ok(Json(o));
        }
    }
    let mut o = c.db.read(move |s| s.overview(now, days)).await?;
    for a in &mut o.top_agencies {
        if let Some(agency) = c.engine.inventory.agencies.get(&a.key) {
            a.label = agency.name.clone();
        }
    }
    if let Ok(mut m) = c.overviews.lock() {
        m.retain(|_, (at, _)| at.elapsed() < std::time::Duration::from_secs(60));
        m.insert(key, (std::time::Instant::now(), o.clone()));
    }
    Ok(Json(o))
}

/// A saved view of the queue.
#[derive(Serialize, Deserialize, utoipa::ToSchema)]
pub struct SavedView {
    #[serde(default)]
    pub id: i64,
    pub name: String,
    /// The queue's filter as a query string (`status=open&severity=critical`).
    pub query: String,
}

/// The caller's saved views.
#[utoipa::path(get, path = "/api/v1/views", tag = "views", responses((status = 200, body = [SavedView])))]
pub async fn list_views(
    State(c): State<Arc<Console>>,
    Extension(caller): Extension<Caller>,
) -> ApiResult<Json<Vec<SavedView>>> {
    let uid = caller.user.id;
    let views = c.db.read(move |s| s.saved_views(uid)).await?;
    Ok(Json(views.into_iter().map(|(id, name, query)| SavedView { id, name, query }).collect()))
}

/// Saves a view (replacing one of the same name).
#[utoipa::path(post, path = "/api/v1/views", tag = "views", request_body = SavedView, responses((status = 200, body = SavedView)))]
pub async fn save_view(
    State(c): State<Arc<Console>>,
    Extension(caller): Extension<Caller>,
    Json(v): Json<SavedView>,
) -> ApiResult<Json<SavedView>> {
    let uid = caller.user.id;
    let (name, query) = (v.name.clone(), v.query.clone());
    let id = c.db.write(move |s| s.save_view(uid, &name, &query)).await?;
    Ok(Json(SavedView { id, ..v }))
}

/// Deletes one of the caller's views.
#[utoipa::path(delete, path = "/api/v1/views/{id}", tag = "views", params(("id" = i64, Path)), responses((status = 204)))]
pub async fn delete_view(
    State(c): State<Arc<Console>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    let uid = caller.user.id;
    c.db.write(move |s| s.delete_view(uid, id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A handling deadline as the console shows it: the report's, so that the queue's red
/// marks and the monthly figures agree.
#[derive(Serialize, utoipa::ToSchema)]
pub struct DeadlineView {
    /// `acknowledge` or `resolve`.
    #[schema(value_type = String)]
    pub milestone: crate::report::Milestone,
    /// From the incident's creation.
    pub within_secs: u64,
    pub label: String,
    pub label_en: String,
}

/// What the console shows from the configuration.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Settings {
    pub deadlines: Vec<DeadlineView>,
    /// The province (or city) the SOC watches, as reports name it.
    pub province: String,
    pub province_en: String,
}

/// The handling deadlines (`[[report.deadlines]]`) and the province's name.
#[utoipa::path(get, path = "/api/v1/settings", tag = "incidents", responses((status = 200, body = Settings)))]
pub async fn settings(State(c): State<Arc<Console>>) -> Json<Settings> {
    let deadlines = c
        .report
        .deadlines
        .iter()
        .filter_map(|d| {
            let within_secs = crate::response::config::parse_duration(&d.within).ok()?;
            Some(DeadlineView {
                milestone: d.event,
                within_secs,
                label: d.label.clone(),
                label_en: d.label_en.clone(),
            })
        })
        .collect();
    let (province, province_en) = (c.report.province.clone(), c.report.province_en.clone());
    Json(Settings { deadlines, province, province_en })
}
