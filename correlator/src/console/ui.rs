//! The web UI: a page, its scripts and a style sheet, bundled into the binary (no CDN, no
//! external asset); every other path that is not the API gets the page, whose script
//! routes by the URL's fragment.

use axum::http::{header, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

const INDEX: &str = include_str!("ui/index.html");
const SCRIPT: &str = include_str!("ui/app.js");
const INCIDENT_SCRIPT: &str = include_str!("ui/incident.js");
const OVERVIEW_SCRIPT: &str = include_str!("ui/overview.js");
const RESPONSE_SCRIPT: &str = include_str!("ui/response.js");
const STYLE: &str = include_str!("ui/app.css");
const ICON: &str = include_str!("ui/icon.svg");

pub async fn serve(uri: Uri) -> Response {
    let path = uri.path();
    if path.starts_with("/api/") {
        return super::error::ApiError::not_found(format!("no API path `{path}`")).into_response();
    }
    let (body, kind) = match path {
        "/assets/app.js" => (SCRIPT, "text/javascript; charset=utf-8"),
        "/assets/incident.js" => (INCIDENT_SCRIPT, "text/javascript; charset=utf-8"),
        "/assets/overview.js" => (OVERVIEW_SCRIPT, "text/javascript; charset=utf-8"),
        "/assets/response.js" => (RESPONSE_SCRIPT, "text/javascript; charset=utf-8"),
        "/assets/app.css" => (STYLE, "text/css; charset=utf-8"),
        "/assets/icon.svg" => (ICON, "image/svg+xml"),
        p if p.starts_with("/assets/") => {
            return (StatusCode::NOT_FOUND, "not found").into_response()
        }
        _ => (INDEX, "text/html; charset=utf-8"),
    };
    ([(header::CONTENT_TYPE, kind), (header::CACHE_CONTROL, "no-cache")], body).into_response()
}
