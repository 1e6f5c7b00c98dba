//! The automated response in the console: block decisions, their audit trail, and
//! what analysts decide (approve, deny, undo). The correlator's responder carries
//! approvals and undos out (within a second when it runs beside the console).

use std::sync::Arc;

use axum::extract::{Extension, Path, Query, State};
use axum::Json;
use serde::{Deserialize, Serialize};

use super::auth::Caller;
use super::error::{ApiError, ApiResult};
use super::Console;
use crate::response::allowlist::TargetValue;
use crate::response::guard::ActionChoice;
use crate::store::accounts::Role;
use crate::store::block_requests::ManualBlock;
use crate::store::blocks::{BlockFilter, BlockRequest, BlockRow, BlockState};
use crate::store::lifecycle::AuditRecord;

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BlockQuery {
    /// States, comma-separated (`executed,awaiting-approval,…`).
    pub state: Option<String>,
    pub incident: Option<i64>,
    /// An address or a domain name.
    pub target: Option<String>,
    /// At most 5,000; 500 by default.
    pub limit: Option<usize>,
}

/// Block decisions, newest first.
#[utoipa::path(get, path = "/api/v1/blocks", tag = "response", params(BlockQuery),
    responses((status = 200, body = [Object]), (status = 400, body = super::error::ErrorBody)))]
pub async fn list_blocks(
    State(c): State<Arc<Console>>,
    Query(q): Query<BlockQuery>,
) -> ApiResult<Json<Vec<BlockRow>>> {
    let mut states = Vec::new();
    for s in q.state.as_deref().unwrap_or("").split(',').map(str::trim).filter(|s| !s.is_empty()) {
        states.push(
            BlockState::parse(s)
                .ok_or_else(|| ApiError::bad_request(format!("`state`: unknown state `{s}`")))?,
        );
    }
    let f = BlockFilter {
        states,
        incident: q.incident,
        target: q.target.map(|t| t.trim().to_string()).filter(|t| !t.is_empty()),
        limit: q.limit.unwrap_or(500).clamp(1, 5000),
    };
    Ok(Json(c.db.read(move |s| s.blocks(&f)).await?))
}

/// A decision and its audit trail.
#[derive(Serialize, utoipa::ToSchema)]
pub struct BlockDetail {
    #[schema(value_type = Object)]
    pub block: BlockRow,
    #[schema(value_type = Vec<Object>)]
    pub history: Vec<AuditRecord>,
}

/// One decision with its audit trail (oldest first).
#[utoipa::path(get, path = "/api/v1/blocks/{id}", tag = "response", params(("id" = i64, Path)),
    responses((status = 200, body = BlockDetail), (status = 404, body = super::error::ErrorBody)))]
pub async fn get_block(
    State(c): State<Arc<Console>>,
    Path(id): Path<i64>,
) -> ApiResult<Json<BlockDetail>> {
    let (block, history) = c.db.read(move |s| Ok((s.block(id)?, s.block_history(id)?))).await?;
    Ok(Json(BlockDetail { block, history }))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct BlockDecision {
    /// Why (kept in the audit log).
    pub reason: Option<String>,
}

async fn decide(
    c: Arc<Console>,
    caller: Caller,
    id: i64,
    r: BlockRequest,
    reason: Option<String>,
) -> ApiResult<Json<BlockRow>> {
    caller.require(Role::Analyst)?;
    let actor = caller.actor();
    // An approval never gets past the allowlist (the responder checks once more).
    if let (BlockRequest::Approve, Some(g)) = (r, c.guard.clone()) {
        let b = c.db.read(move |s| s.block(id)).await?;
        if let Some(hit) = TargetValue::parse(&b.target).and_then(|t| g.stopped_by(&t)) {
            return Err(ApiError::unprocessable(format!(
                "{} is on allowlist {hit}: it cannot be approved",
                b.target
            )));
        }
    }
    let row = c.db.write(move |s| s.request_block(id, r, &actor, reason.as_deref())).await?;
    c.notify();
    Ok(Json(row))
}

/// Approves a decision that waits for an analyst, or a dry-run (analyst): the
/// allowlist is checked again, and the responder carries it out.
#[utoipa::path(post, path = "/api/v1/blocks/{id}/approve", tag = "response", params(("id" = i64, Path)), request_body = BlockDecision,
    responses((status = 200, body = Object), (status = 422, body = super::error::ErrorBody)))]
pub async fn approve_block(
    State(c): State<Arc<Console>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
    body: Option<Json<BlockDecision>>,
) -> ApiResult<Json<BlockRow>> {
    decide(c, caller, id, BlockRequest::Approve, body.and_then(|b| b.0.reason)).await
}

/// Denies a decision that waits for an analyst (analyst).
#[utoipa::path(post, path = "/api/v1/blocks/{id}/deny", tag = "response", params(("id" = i64, Path)), request_body = BlockDecision,
    responses((status = 200, body = Object), (status = 422, body = super::error::ErrorBody)))]
pub async fn deny_block(
    State(c): State<Arc<Console>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
    body: Option<Json<BlockDecision>>,
) -> ApiResult<Json<BlockRow>> {
    decide(c, caller, id, BlockRequest::Deny, body.and_then(|b| b.0.reason)).await
}

/// Lifts an executed block (analyst); the target is then not blocked again
/// automatically for `response.pardon`.
#[utoipa::path(post, path = "/api/v1/blocks/{id}/undo", tag = "response", params(("id" = i64, Path)), request_body = BlockDecision,
    responses((status = 200, body = Object), (status = 422, body = super::error::ErrorBody)))]
pub async fn undo_block(
    State(c): State<Arc<Console>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
    body: Option<Json<BlockDecision>>,
) -> ApiResult<Json<BlockRow>> {
    decide(c, caller, id, BlockRequest::Undo, body.and_then(|b| b.0.reason)).await
}

/// What a manual block may use.
#[derive(Serialize, utoipa::ToSchema)]
pub struct BlockActions {
    /// The configured actions (none: the console cannot block by hand).
    #[schema(value_type = Vec<Object>)]
    pub actions: Vec<ActionChoice>,
}

/// The actions a manual block can use.
#[utoipa::path(get, path = "/api/v1/blocks/actions", tag = "response",
    responses((status = 200, body = BlockActions)))]
pub async fn block_actions(State(c): State<Arc<Console>>) -> Json<BlockActions> {
    Json(BlockActions { actions: c.guard.as_ref().map(|g| g.actions()).unwrap_or_default() })
}

/// A block decided by hand.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NewManualBlock {
    /// An address or a domain name.
    pub target: String,
    /// A configured action (`GET /api/v1/blocks/actions`).
    pub action: String,
    /// How long: `90m`, `12h`, `7d`; `0` until lifted.
    pub ttl: String,
    /// Why (kept in the audit log).
    pub reason: String,
    /// The incident it answers.
    pub incident: Option<i64>,
}

/// Blocks a target by hand (analyst): checked against the allowlist and the actions,
/// then carried out by the responder like an approved decision.
#[utoipa::path(post, path = "/api/v1/blocks", tag = "response", request_body = NewManualBlock,
    responses((status = 201, body = Object), (status = 400, body = super::error::ErrorBody),
              (status = 422, body = super::error::ErrorBody)))]
pub async fn add_block(
    State(c): State<Arc<Console>>,
    Extension(caller): Extension<Caller>,
    Json(b): Json<NewManualBlock>,
) -> ApiResult<(axum::http::StatusCode, Json<BlockRow>)> {
    caller.require(Role::Analyst)?;
    let g = c.guard.clone().ok_or_else(|| {
        ApiError::unprocessable("no block action is configured ([response.actions])")
    })?;
    let checked = g.check(&b.target, &b.action, &b.ttl).map_err(ApiError::unprocessable)?;
    let actor = caller.actor();
    let row =
        c.db.write(move |s| {
            let m = ManualBlock {
                target: &checked.target,
                target_kind: checked.target_kind,
                action: &checked.action,
                action_kind: checked.action_kind,
                ttl_secs: checked.ttl_secs,
                reason: &b.reason,
                incident_id: b.incident,
            };
            s.manual_block(&m, &actor)
        })
        .await?;
    c.notify();
    Ok((axum::http::StatusCode::CREATED, Json(row)))
}
