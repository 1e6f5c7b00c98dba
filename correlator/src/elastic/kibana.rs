//! The Kibana saved objects of `dashboards/` (data views, Lens panels, dashboards;
//! compiled in), and their import through Kibana's saved objects API
//! (`POST /api/saved_objects/_import?overwrite=true`, multipart, `kbn-xsrf`).

use std::path::PathBuf;

/// The dashboards: file name and saved objects (NDJSON).
pub const DASHBOARDS: &[(&str, &str)] = &[
    ("alerts.ndjson", include_str!("../../../dashboards/alerts.ndjson")),
    ("incidents.ndjson", include_str!("../../../dashboards/incidents.ndjson")),
    ("sensors.ndjson", include_str!("../../../dashboards/sensors.ndjson")),
    ("hunting.ndjson", include_str!("../../../dashboards/hunting.ndjson")),
];

/// Every object of every dashboard, one NDJSON body.
pub fn bundle() -> String {
    DASHBOARDS.iter().map(|(_, text)| *text).collect()
}

/// One dashboard of the bundle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DashboardInfo {
    /// The file it comes from.
    pub file: &'static str,
    /// Its saved object id.
    pub id: String,
    /// Its title.
    pub title: String,
}

/// The dashboards of the bundle (objects of type `dashboard`).
pub fn dashboards() -> Result<Vec<DashboardInfo>, KibanaError> {
    let mut out = Vec::new();
    for (file, text) in DASHBOARDS {
        for line in text.lines() {
            let o: serde_json::Value = serde_json::from_str(line)
                .map_err(|e| KibanaError::Bundle(format!("{file}: {e}")))?;
            if o["type"] == "dashboard" {
                out.push(DashboardInfo {
                    file,
                    id: o["id"].as_str().unwrap_or("").to_string(),
                    title: o["attributes"]["title"].as_str().unwrap_or("").to_string(),
                });
            }
        }
    }
    Ok(out)
}

/// How to reach Kibana.
#[derive(Clone, Debug, Default)]
pub struct KibanaTarget {
    /// Base URL (`https://kibana.soc.example:5601`).
    pub url: String,
    /// A Kibana space (none: the default space).
    pub space: Option<String>,
    /// An API key (`Authorization: ApiKey …`).
    pub api_key: Option<String>,
    /// Basic authentication: user and password.
    pub basic: Option<(String, String)>,
    /// PEM of the CA Kibana's certificate is checked against (none: the system's roots).
    pub ca: Option<PathBuf>,
}

/// Why the dashboards were not imported.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KibanaError {
    /// The URL is not one.
    #[error("--kibana `{0}`: give a URL (https://host:5601)")]
    Url(String),
    /// The CA file could not be read or is not PEM.
    #[error("{0}")]
    Ca(String),
    /// Kibana could not be reached, or answered an error.
    #[error("{0}")]
    Http(String),
    /// Kibana imported some objects and refused others.
    #[error("Kibana imported {imported} objects and refused {}: {}", .refused.len(), .refused.join("; "))]
    Refused {
        /// Objects imported.
        imported: u64,
        /// Each refused object: type, id and why.
        refused: Vec<String>,
    },
    /// A bundled object is not JSON (a build defect).
    #[error("a bundled object: {0}")]
    Bundle(String),
}

/// The multipart body Kibana's import API takes: one `file` part.
fn multipart(boundary: &str, ndjson: &str) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
    b.extend_from_slice(
        b"Content-Disposition: form-data; name=\"file\"; filename=\"gatewatch.ndjson\"\r\n",
    );
    b.extend_from_slice(b"Content-Type: application/ndjson\r\n\r\n");
    b.extend_from_slice(ndjson.as_bytes());
    b.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    b
}

fn client(ca: Option<&PathBuf>) -> Result<reqwest::blocking::Client, KibanaError> {
    let mut client =
        reqwest::blocking::Client::builder().timeout(std::time::Duration::from_secs(120));
    if let Some(ca) = ca {
        let pem = std::fs::read(ca)
            .map_err(|e| KibanaError::Ca(format!("cannot read `{}`: {e}", ca.display())))?;
        let cert = reqwest::Certificate::from_pem(&pem).map_err(|e| {
            KibanaError::Ca(format!("`{}` is not a PEM certificate: {e}", ca.display()))
        })?;
        client = client.add_root_certificate(cert);
    }
    client.build().map_err(|e| KibanaError::Http(format!("the HTTP client: {e}")))
}

/// Imports every dashboard (existing objects of the same ids are replaced); the number
/// of objects imported.
pub fn install(target: &KibanaTarget) -> Result<u64, KibanaError> {
    let base = target.url.trim_end_matches('/');
    if !base.starts_with("https://") && !base.starts_with("http://") {
        return Err(KibanaError::Url(target.url.clone()));
    }
    let prefix = target.space.as_ref().map(|s| format!("/s/{s}")).unwrap_or_default();
    let url = format!("{base}{prefix}/api/saved_objects/_import?overwrite=true");
    let client = client(target.ca.as_ref())?;
    let boundary = format!(
        "gatewatch-{}",
        crate::store::accounts::random_hex(12).map_err(|e| KibanaError::Http(e.to_string()))?
    );
    let mut req = client
        .post(&url)
        .header("kbn-xsrf", "true")
        .header("content-type", format!("multipart/form-data; boundary={boundary}"))
        .body(multipart(&boundary, &bundle()));
    if let Some(k) = &target.api_key {
        req = req.header("authorization", format!("ApiKey {k}"));
    } else if let Some((u, pw)) = &target.basic {
        req = req.basic_auth(u, Some(pw));
    }
    let r =
        req.send().map_err(|e| KibanaError::Http(format!("cannot reach Kibana at {base}: {e}")))?;
    let status = r.status();
    let body: serde_json::Value =
        r.bytes().ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default();
    if !status.is_success() {
        let why = body["message"].as_str().map_or_else(|| body.to_string(), str::to_string);
        return Err(KibanaError::Http(format!("Kibana answered {status}: {why}")));
    }
    let imported = body["successCount"].as_u64().unwrap_or(0);
    let errors = body["errors"].as_array().cloned().unwrap_or_default();
    if body["success"] != serde_json::json!(true) || !errors.is_empty() {
        let refused = errors
            .iter()
            .map(|e| {
                format!(
                    "{} `{}`: {}",
                    e["type"].as_str().unwrap_or("?"),
                    e["id"].as_str().unwrap_or("?"),
                    e["error"]["type"].as_str().unwrap_or("?")
                )
            })
            .collect();
        return Err(KibanaError::Refused { imported, refused });
    }
    Ok(imported)
}
