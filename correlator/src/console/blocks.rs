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
use crate::store::accounts::Role;
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
    let row = c.db.write(move |s| s.request_block(id, r, &actor, reason.as_deref())).await?;
    c.notify();
    Ok(Json(row))
}

/// Approves a decision that waits for an analyst (analyst); the responder carries it out.
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
