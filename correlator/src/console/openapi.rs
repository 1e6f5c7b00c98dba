//! The OpenAPI document of the console's API, generated from the handlers' annotations
//! and served at `/api/openapi.json`.

use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{auth, blocks, catalog, error, incidents, reports, wall};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Gatewatch console API",
        description = "Incidents, alerts, automated blocks, suppressions, sensors, assets and accounts of the Gatewatch correlator. \
Sign in with POST /api/v1/login (session cookie; send the CSRF token in X-CSRF-Token with every change) \
or send `Authorization: Bearer gwt_…`. Errors are JSON: {\"error\": {\"code\", \"message\"}}."
    ),
    paths(
        auth::login, auth::logout, auth::session, auth::change_own_password,
        auth::list_users, auth::add_user, auth::change_user,
        auth::list_tokens, auth::add_token, auth::revoke_token,
        incidents::list_incidents, incidents::get_incident, incidents::transition,
        incidents::assign, incidents::add_note, incidents::merge,
        catalog::list_alerts, catalog::get_alert, catalog::list_suppressions, catalog::add_suppression,
        catalog::remove_suppression, catalog::list_sensors, catalog::list_assets,
        catalog::list_rulesets, catalog::list_audit, catalog::overview, wall::wall, catalog::settings,
        catalog::list_views, catalog::save_view, catalog::delete_view,
        blocks::list_blocks, blocks::get_block, blocks::approve_block, blocks::deny_block,
        blocks::undo_block, blocks::block_actions, blocks::add_block,
        reports::list_reports, reports::report_months, reports::get_recommendations, reports::put_recommendations, reports::get_report_file, reports::generate_report,
        super::events,
    ),
    components(schemas(error::ErrorBody, error::ErrorDetail)),
    modifiers(&Security),
    security(("session" = []), ("token" = [])),
)]
struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let c = doc.components.get_or_insert_with(Default::default);
        c.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(auth::SESSION_COOKIE))),
        );
        c.add_security_scheme(
            "token",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The document, as JSON.
pub fn document() -> serde_json::Value {
    serde_json::to_value(ApiDoc::openapi()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_route_is_documented() {
        let doc = super::document();
        let paths = doc["paths"].as_object().unwrap();
        for p in [
            "/api/v1/login",
            "/api/v1/incidents",
            "/api/v1/incidents/{id}",
            "/api/v1/incidents/{id}/transition",
            "/api/v1/incidents/{id}/merge",
            "/api/v1/alerts",
            "/api/v1/alerts/{id}",
            "/api/v1/suppressions",
            "/api/v1/sensors",
            "/api/v1/assets",
            "/api/v1/rulesets",
            "/api/v1/users",
            "/api/v1/tokens",
            "/api/v1/overview",
            "/api/v1/wall",
            "/api/v1/settings",
            "/api/v1/views",
            "/api/v1/events",
            "/api/v1/audit",
            "/api/v1/blocks",
            "/api/v1/blocks/{id}/approve",
            "/api/v1/blocks/{id}/undo",
            "/api/v1/blocks/actions",
            "/api/v1/reports",
            "/api/v1/reports/months",
            "/api/v1/reports/recommendations",
            "/api/v1/reports/generate",
        ] {
            assert!(paths.contains_key(p), "{p} missing from the OpenAPI document");
        }
        assert!(doc["components"]["securitySchemes"]["token"].is_object());
        let q = &paths["/api/v1/incidents"]["get"]["parameters"];
        let names: Vec<&str> =
            q.as_array().unwrap().iter().filter_map(|p| p["name"].as_str()).collect();
        for n in [
            "status",
            "severity",
            "agency",
            "asset",
            "tactic",
            "technique",
            "port",
            "rule",
            "system",
            "overdue",
            "from",
            "to",
            "q",
            "sort",
            "page",
        ] {
            assert!(names.contains(&n), "{n} in {names:?}");
        }
    }
}
