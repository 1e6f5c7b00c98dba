//! The monthly security compliance report, per agency and province-wide: every figure
//! computed from the store (incidents and their lifecycle timestamps, alerts, block
//! decisions, sensors' heartbeats), never typed in.
//!
//! ```text
//!  store ──▶ figures (Report, JSON) ──▶ html (inline CSS and SVG charts)
//!                                   └─▶ pdf  (krilla: embedded DejaVu Sans subset)
//! ```
//!
//! - [`figures`]: the [`Report`] of a month (and of an agency), its JSON;
//! - `labels`: Vietnamese and English labels, number and date formats;
//! - `document`: what the report says in a language, as blocks;
//! - `html` and `pdf`: the two renderings of those blocks, sharing `chart` geometry;
//! - `geoip`: countries of attacking addresses from a DB-IP style CSV, if configured;
//! - [`archive`]: reports kept on disk, the schedule (first day of the month).

pub mod archive;
pub(crate) mod assessment;
pub(crate) mod chart;
pub(crate) mod document;
pub mod figures;
pub(crate) mod geoip;
pub(crate) mod html;
pub(crate) mod labels;
pub mod official;
pub(crate) mod pdf;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use figures::{build, Report};

#[cfg(test)]
mod tests;

/// The `[report]` section.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ReportConfig {
    /// The province (or city) as the report's title names it, in Vietnamese and English.
    pub province: String,
    pub(crate) province_en: String,
    /// Who issues it (the SOC and its department).
    pub issuer: String,
    pub(crate) issuer_en: String,
    /// A PNG logo shown in the heading.
    pub logo: Option<PathBuf>,
    /// Handling deadlines whose share met the report gives.
    pub deadlines: Vec<DeadlineConfig>,
    /// Countries of addresses: a CSV of `first,last,CC` ranges (DB-IP's free "IP to
    /// Country Lite" format) or `network/len,CC` lines.
    #[serde(alias = "geoip_csv")]
    pub geoip: Option<PathBuf>,
    /// Where reports are kept (the schedule writes here; the console lists them).
    pub dir: PathBuf,
    /// The correlator writes last month's reports on the first day of each month.
    pub schedule: bool,
    /// What the schedule writes.
    pub languages: Vec<String>,
    pub(crate) formats: Vec<String>,
    /// The schedule also writes one report per agency of the inventory.
    pub per_agency: bool,
    /// Months in the trend chart (the report's month included).
    pub trend_months: u32,
    /// Lines in the top lists.
    pub top: usize,
    /// High and critical incidents listed in HTML and PDF (highest scores first; the
    /// JSON has them all).
    pub serious_lines: usize,
    /// The administrative form: heading, legal basis, recipients, signature.
    pub document: official::DocumentConfig,
}

impl Default for ReportConfig {
    fn default() -> Self {
        ReportConfig {
            province: "Thành phố Huế".into(),
            province_en: "Hue City".into(),
            issuer: "Trung tâm Giám sát an toàn thông tin (SOC)".into(),
            issuer_en: "Security Operations Centre (SOC)".into(),
            logo: None,
            deadlines: vec![
                DeadlineConfig {
                    event: Milestone::Acknowledge,
                    within: "24h".into(),
                    label: "Tiếp nhận trong 24 giờ".into(),
                    label_en: "Acknowledged within 24 hours".into(),
                },
                DeadlineConfig {
                    event: Milestone::Resolve,
                    within: "5d".into(),
                    label: "Xử lý, báo cáo trong 5 ngày".into(),
                    label_en: "Handled and reported within 5 days".into(),
                },
            ],
            geoip: None,
            dir: PathBuf::from("gatewatch-data/reports"),
            schedule: true,
            languages: vec!["vi".into(), "en".into()],
            formats: vec!["html".into(), "pdf".into(), "json".into()],
            per_agency: true,
            trend_months: 6,
            top: 10,
            serious_lines: 300,
            document: official::DocumentConfig::default(),
        }
    }
}

/// A lifecycle step a deadline is about.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Milestone {
    /// Acknowledging the incident.
    Acknowledge,
    /// Resolving it (or closing it as a false positive).
    Resolve,
}

/// `[[report.deadlines]]`: a time limit on a lifecycle step, reported as met or missed.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DeadlineConfig {
    pub(crate) event: Milestone,
    /// From the incident's creation: `4h`, `5d`.
    pub within: String,
    /// Its Vietnamese label in the report.
    pub label: String,
    pub(crate) label_en: String,
}

/// Why a report could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A parameter was wrong (the message says which).
    #[error("{0}")]
    Input(String),
    /// Reading the store failed.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// A query failed.
    #[error("store query failed: {0}")]
    Sql(#[from] rusqlite::Error),
    /// Writing a report file failed.
    #[error("writing `{path}`: {err}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The system's error.
        err: std::io::Error,
    },
    /// Laying out or encoding the PDF failed.
    #[error("PDF: {0}")]
    Pdf(String),
}

/// Report languages.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// Vietnamese.
    Vi,
    /// English.
    En,
}

impl Lang {
    /// `vi` or `en`.
    pub fn parse(s: &str) -> Result<Lang, ReportError> {
        match s {
            "vi" => Ok(Lang::Vi),
            "en" => Ok(Lang::En),
            o => Err(ReportError::Input(format!("language `{o}`: vi or en"))),
        }
    }
    /// `vi` or `en`.
    pub fn as_str(self) -> &'static str {
        match self {
            Lang::Vi => "vi",
            Lang::En => "en",
        }
    }
}

/// Output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// A standalone HTML page.
    Html,
    /// A PDF document (fonts embedded).
    Pdf,
    /// The figures as JSON.
    Json,
}

impl Format {
    /// `html`, `pdf` or `json`.
    pub fn parse(s: &str) -> Result<Format, ReportError> {
        match s {
            "html" => Ok(Format::Html),
            "pdf" => Ok(Format::Pdf),
            "json" => Ok(Format::Json),
            o => Err(ReportError::Input(format!("format `{o}`: html, pdf or json"))),
        }
    }
    pub(crate) fn extension(self) -> &'static str {
        match self {
            Format::Html => "html",
            Format::Pdf => "pdf",
            Format::Json => "json",
        }
    }
    pub(crate) fn mime(self) -> &'static str {
        match self {
            Format::Html => "text/html; charset=utf-8",
            Format::Pdf => "application/pdf",
            Format::Json => "application/json",
        }
    }
}

/// A report rendered in a format and language.
pub fn render(
    r: &Report,
    format: Format,
    lang: Lang,
    cfg: &ReportConfig,
) -> Result<Vec<u8>, ReportError> {
    match format {
        Format::Json => serde_json::to_vec_pretty(r).map_err(|e| ReportError::Input(e.to_string())),
        Format::Html => Ok(html::render(r, lang, cfg).into_bytes()),
        Format::Pdf => pdf::render(r, lang, cfg),
    }
}
