//! Monthly reports in the console: those the correlator's schedule kept (list and
//! download), and any month made on request, for the province or an agency, in either
//! language and format. Reports are downloads (`Content-Disposition: attachment`).

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;

use super::error::{ApiError, ApiResult};
use super::Console;
use crate::report::archive::{self, Archived};
use crate::report::figures::Month;
use crate::report::{self, Format, Lang, ReportError};

fn bad(e: ReportError) -> ApiError {
    match e {
        ReportError::Input(m) => ApiError::bad_request(m),
        ReportError::Store(s) => s.into(),
        other => {
            tracing::error!("report: {other}");
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "report",
                "the report could not be made; see the log",
            )
        }
    }
}

fn download(bytes: Vec<u8>, name: &str, format: Format) -> Response {
    let mut r = bytes.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(format.mime()));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    r
}

/// Reports kept by the schedule, newest month first.
#[utoipa::path(get, path = "/api/v1/reports", tag = "reports", responses((status = 200, body = [Object])))]
pub async fn list_reports(State(c): State<Arc<Console>>) -> ApiResult<Json<Vec<Archived>>> {
    let dir = c.report.dir.clone();
    let list = tokio::task::spawn_blocking(move || archive::list(&dir)).await.unwrap_or_default();
    Ok(Json(list))
}

/// A month with incidents, for the report form.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct MonthWithData {
    /// `YYYY-MM` (Vietnam time).
    pub month: String,
    /// Incidents first seen that month (those the report counts).
    pub incidents: u64,
}

/// The months that have incidents, newest first: the report form offers them and
/// opens on the newest.
#[utoipa::path(get, path = "/api/v1/reports/months", tag = "reports", responses((status = 200, body = [MonthWithData])))]
pub async fn report_months(State(c): State<Arc<Console>>) -> ApiResult<Json<Vec<MonthWithData>>> {
    let months = c.db.read(|s| Ok(crate::store::monthly::months_with_incidents(s.conn())?)).await?;
    Ok(Json(
        months.into_iter().map(|(month, incidents)| MonthWithData { month, incidents }).collect(),
    ))
}

/// One kept report (its file name from the list).
#[utoipa::path(get, path = "/api/v1/reports/files/{name}", tag = "reports", params(("name" = String, Path)),
    responses((status = 200, description = "the report"), (status = 404, body = super::error::ErrorBody)))]
pub async fn get_report_file(
    State(c): State<Arc<Console>>,
    Path(name): Path<String>,
) -> ApiResult<Response> {
    let not_found =
        || ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("no report `{name}`"));
    let a = archive::parse_name(&name).ok_or_else(not_found)?;
    let path = archive::path_of(&c.report.dir, &name).ok_or_else(not_found)?;
    let bytes = tokio::task::spawn_blocking(move || std::fs::read(path))
        .await
        .ok()
        .and_then(Result::ok)
        .ok_or_else(not_found)?;
    Ok(download(bytes, &a.file, Format::parse(&a.format).map_err(bad)?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// `YYYY-MM` (Vietnam time).
    pub month: String,
    /// An agency id; none: province-wide.
    pub agency: Option<String>,
    /// `vi` (default) or `en`.
    pub lang: Option<String>,
    /// `html` (default), `pdf` or `json`.
    pub format: Option<String>,
}

/// A report made now from the store.
#[utoipa::path(get, path = "/api/v1/reports/generate", tag = "reports", params(ReportQuery),
    responses((status = 200, description = "the report"), (status = 400, body = super::error::ErrorBody)))]
pub async fn generate_report(
    State(c): State<Arc<Console>>,
    Query(q): Query<ReportQuery>,
) -> ApiResult<Response> {
    let month = Month::parse(&q.month).map_err(bad)?;
    let lang = Lang::parse(q.lang.as_deref().unwrap_or("vi")).map_err(bad)?;
    let format = Format::parse(q.format.as_deref().unwrap_or("html")).map_err(bad)?;
    let agency = q.agency.filter(|a| !a.trim().is_empty());
    let (inv, cfg) = (c.engine.inventory.clone(), c.report.clone());
    let a2 = agency.clone();
    let built =
        c.db.read(move |s| {
            let now = chrono::Utc::now().timestamp_micros();
            Ok(report::build(s, &inv, &cfg, month, a2.as_deref(), now)
                .and_then(|r| report::render(&r, format, lang, &cfg)))
        })
        .await?;
    let bytes = built.map_err(bad)?;
    Ok(download(bytes, &archive::file_name(month, agency.as_deref(), lang, format), format))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RecommendationsQuery {
    /// `YYYY-MM`.
    pub month: String,
    /// An agency id of the inventory; none: province-wide.
    pub agency: Option<String>,
}

/// The recommendations of a month's report, as written.
#[derive(Debug, Default, Deserialize, serde::Serialize, utoipa::ToSchema)]
pub struct RecommendationsText {
    /// In Vietnamese (paragraphs; lines starting with `-` are a list).
    #[serde(default)]
    pub text: String,
    /// In English (optional).
    #[serde(default)]
    pub text_en: String,
}

fn scope_of(c: &Console, q: &RecommendationsQuery) -> ApiResult<(String, String)> {
    Month::parse(&q.month).map_err(bad)?;
    let agency = q.agency.as_deref().map(str::trim).unwrap_or("").to_string();
    if !agency.is_empty() && !c.engine.inventory.agencies.contains_key(&agency) {
        return Err(ApiError::bad_request(format!(
            "`agency`: `{agency}` is not in the asset inventory"
        )));
    }
    Ok((q.month.clone(), agency))
}

/// What the SOC lead recommends in a month's report (empty: the report leaves lines).
#[utoipa::path(get, path = "/api/v1/reports/recommendations", tag = "reports", params(RecommendationsQuery),
    responses((status = 200, body = Object), (status = 400, body = super::error::ErrorBody)))]
pub async fn get_recommendations(
    State(c): State<Arc<Console>>,
    Query(q): Query<RecommendationsQuery>,
) -> ApiResult<Json<serde_json::Value>> {
    let (month, scope) = scope_of(&c, &q)?;
    let r = c.db.read(move |s| s.recommendations(&month, &scope)).await?;
    Ok(Json(serde_json::to_value(r).unwrap_or_default()))
}

/// Writes the recommendations of a month's report (analyst; both texts empty clears
/// them); reports made afterwards print them, kept ones are made again by the schedule.
#[utoipa::path(put, path = "/api/v1/reports/recommendations", tag = "reports", params(RecommendationsQuery),
    request_body = RecommendationsText,
    responses((status = 200, body = Object), (status = 422, body = super::error::ErrorBody)))]
pub async fn put_recommendations(
    State(c): State<Arc<Console>>,
    axum::extract::Extension(caller): axum::extract::Extension<super::auth::Caller>,
    Query(q): Query<RecommendationsQuery>,
    Json(body): Json<RecommendationsText>,
) -> ApiResult<Json<serde_json::Value>> {
    caller.require(crate::store::accounts::Role::Analyst)?;
    let (month, scope) = scope_of(&c, &q)?;
    let actor = caller.actor();
    let r = c
        .db
        .write(move |s| s.set_recommendations(&month, &scope, &body.text, &body.text_en, &actor))
        .await?;
    Ok(Json(serde_json::to_value(r).unwrap_or_default()))
}
