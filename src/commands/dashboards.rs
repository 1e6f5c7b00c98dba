//! `gatewatch dashboards install --kibana URL`: imports the Kibana saved objects of
//! `dashboards/` (data views, Lens panels, dashboards; compiled into the binary)
//! through Kibana's saved objects API (`POST /api/saved_objects/_import?overwrite=true`,
//! multipart, `kbn-xsrf`). `gatewatch dashboards list` names them.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::Subcommand;

/// The dashboards: file name and saved objects (NDJSON).
pub const DASHBOARDS: &[(&str, &str)] = &[
    ("alerts.ndjson", include_str!("../../dashboards/alerts.ndjson")),
    ("incidents.ndjson", include_str!("../../dashboards/incidents.ndjson")),
    ("sensors.ndjson", include_str!("../../dashboards/sensors.ndjson")),
    ("hunting.ndjson", include_str!("../../dashboards/hunting.ndjson")),
];

#[derive(Subcommand)]
pub enum DashboardsCommand {
    /// Import every dashboard into Kibana (existing objects of the same ids are replaced).
    Install {
        /// Kibana's base URL (`https://kibana.soc.example:5601`).
        #[arg(long)]
        kibana: String,
        /// A Kibana space (default: the default space).
        #[arg(long)]
        space: Option<String>,
        /// A file holding an API key (`Authorization: ApiKey …`).
        #[arg(long)]
        api_key_file: Option<PathBuf>,
        /// A user for basic authentication, with --password-file.
        #[arg(long)]
        user: Option<String>,
        #[arg(long)]
        password_file: Option<PathBuf>,
        /// CA certificate (PEM) Kibana's certificate is checked against (default: the
        /// system's roots).
        #[arg(long)]
        ca: Option<PathBuf>,
    },
    /// The dashboards and their objects.
    List,
}

fn secret(path: &PathBuf) -> Result<String> {
    let s = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read `{}`", path.display()))?;
    let s = s.trim().to_string();
    if s.is_empty() {
        bail!("`{}` is empty", path.display());
    }
    Ok(s)
}

/// Every object of every dashboard, one NDJSON body.
pub fn bundle() -> String {
    DASHBOARDS.iter().map(|(_, text)| *text).collect()
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

pub fn run(cmd: DashboardsCommand) -> Result<ExitCode> {
    match cmd {
        DashboardsCommand::List => {
            for (file, text) in DASHBOARDS {
                for line in text.lines() {
                    let o: serde_json::Value =
                        serde_json::from_str(line).context("a bundled object")?;
                    if o["type"] == "dashboard" {
                        println!(
                            "{file:<18} {:<24} {}",
                            o["id"].as_str().unwrap_or(""),
                            o["attributes"]["title"].as_str().unwrap_or("")
                        );
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        DashboardsCommand::Install { kibana, space, api_key_file, user, password_file, ca } => {
            let base = kibana.trim_end_matches('/');
            if !base.starts_with("https://") && !base.starts_with("http://") {
                bail!("--kibana `{kibana}`: give a URL (https://host:5601)");
            }
            let prefix = space.map(|s| format!("/s/{s}")).unwrap_or_default();
            let url = format!("{base}{prefix}/api/saved_objects/_import?overwrite=true");
            let mut client =
                reqwest::blocking::Client::builder().timeout(std::time::Duration::from_secs(120));
            if let Some(ca) = &ca {
                let pem =
                    std::fs::read(ca).with_context(|| format!("cannot read `{}`", ca.display()))?;
                client = client.add_root_certificate(
                    reqwest::Certificate::from_pem(&pem)
                        .with_context(|| format!("`{}` is not a PEM certificate", ca.display()))?,
                );
            }
            let client = client.build().context("the HTTP client")?;
            let boundary =
                format!("gatewatch-{}", gatewatch_correlator::store::accounts::random_hex(12)?);
            let ndjson = bundle();
            let mut req = client
                .post(&url)
                .header("kbn-xsrf", "true")
                .header("content-type", format!("multipart/form-data; boundary={boundary}"))
                .body(multipart(&boundary, &ndjson));
            if let Some(k) = &api_key_file {
                req = req.header("authorization", format!("ApiKey {}", secret(k)?));
            } else if let Some(u) = &user {
                let pw = password_file
                    .as_ref()
                    .map(secret)
                    .transpose()?
                    .context("--user needs --password-file")?;
                req = req.basic_auth(u, Some(pw));
            }
            let r = req.send().with_context(|| format!("cannot reach Kibana at {base}"))?;
            let status = r.status();
            let body: serde_json::Value =
                r.bytes().ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default();
            if !status.is_success() {
                bail!(
                    "Kibana answered {status}: {}",
                    body["message"].as_str().unwrap_or(&body.to_string())
                );
            }
            let errors = body["errors"].as_array().cloned().unwrap_or_default();
            if body["success"] != serde_json::json!(true) || !errors.is_empty() {
                let list: Vec<String> = errors
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
                bail!(
                    "Kibana imported {} objects and refused {}: {}",
                    body["successCount"],
                    list.len(),
                    list.join("; ")
                );
            }
            println!(
                "imported {} objects ({} dashboards) into {base}{prefix}",
                body["successCount"],
                DASHBOARDS.len()
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}
