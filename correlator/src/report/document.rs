//! What the report says, in one language, as blocks (headings, key-figure cards,
//! tables, charts, notes) that [`super::html`] and [`super::pdf`] both draw: the
//! content is decided once, the two renderings differ only in how they lay it out.

use super::chart::{self, ACCENT};
use super::figures::{MonthCount, Report};
use super::labels::{date, datetime, duration, month, number, percent, t};
use super::official::Official;
use super::{Lang, ReportConfig};

/// The report, ready to draw.
pub struct Document {
    pub title: String,
    /// `Tháng 10/2026`.
    pub month: String,
    /// The agency, or province-wide.
    pub scope: String,
    /// First and last day of the period, and when it was made.
    pub first_day: String,
    pub last_day: String,
    pub generated: String,
    /// The issuer, for the footer.
    pub issuer: String,
    /// The administrative form around the content: heading, recipients, signature.
    pub official: Official,
    pub blocks: Vec<Block>,
}

pub enum Block {
    /// A numbered section (its HTML id).
    Heading {
        id: &'static str,
        text: String,
    },
    Sub(String),
    Table(Table),
    Chart(ChartSpec),
    /// A muted line.
    Note(String),
    /// A paragraph of body text.
    Para(String),
    /// Lines of a list (the legal basis).
    List(Vec<String>),
    /// Dotted lines to write on by hand.
    Blank(usize),
    /// Side by side in HTML; one after the other in the PDF.
    Columns(Vec<Vec<Block>>),
}

pub struct Table {
    pub cols: Vec<Col>,
    pub rows: Vec<Vec<Cell>>,
}

/// A column: its title, its share of the width (PDF), whether it holds numbers.
pub struct Col {
    pub title: String,
    pub width: f32,
    pub num: bool,
}

pub struct Cell {
    /// Lines are separated by `\n`.
    pub text: String,
    /// A second, muted line (an asset's agency and system).
    pub sub: Option<String>,
    pub style: Style,
}

pub enum Style {
    Plain,
    Mono,
    /// Preceded by the severity's chip (HTML) or `[label]` (PDF).
    Severity(String),
}

/// A chart, drawn at the width the rendering has.
pub enum ChartSpec {
    Trend(Vec<MonthCount>),
    Bars { title: String, items: Vec<(String, u64, (u8, u8, u8))> },
}

impl ChartSpec {
    pub fn chart(&self, lang: Lang, width: f32) -> chart::Chart {
        match self {
            ChartSpec::Trend(m) => chart::trend(m, lang, width),
            ChartSpec::Bars { title, items } => chart::bars(items, lang, width, title),
        }
    }
}

fn cell(text: impl Into<String>) -> Cell {
    Cell { text: text.into(), sub: None, style: Style::Plain }
}

fn col(title: &str, width: f32, num: bool) -> Col {
    Col { title: title.to_string(), width, num }
}

fn table(cols: Vec<Col>, rows: Vec<Vec<Cell>>) -> Block {
    Block::Table(Table { cols, rows })
}

/// The report's content in `lang`.
pub fn document(r: &Report, lang: Lang, cfg: &ReportConfig) -> Document {
    let c = Ctx { r, lang, cfg };
    let tr = |k: &str| c.tr(k);
    let (province, issuer) =
        if lang == Lang::Vi { (&r.province, &r.issuer) } else { (&r.province_en, &r.issuer_en) };
    let scope_name = match &r.agency {
        Some(a) => c.pick(&a.name, a.name_en.as_deref()),
        None => province.clone(),
    };
    let issued = chrono::DateTime::parse_from_rfc3339(&r.generated_at)
        .map(|d| d.date_naive())
        .unwrap_or_default();
    let official = Official::new(&cfg.document, lang, issuer, issued);
    let last_day = chrono::DateTime::parse_from_rfc3339(&r.to)
        .map(|d| (d - chrono::Duration::seconds(1)).to_rfc3339())
        .unwrap_or_default();
    let mut b = Vec::new();
    if !official.legal_basis.is_empty() {
        b.push(Block::Sub(tr("legal_basis")));
        b.push(Block::List(official.legal_basis.clone()));
    }
    for section in [summary, serious, scope, incidents, handling, threats, response, sensors] {
        section(&c, &mut b);
    }
    recommendations(&c, &mut b);
    if !official.notification.is_empty() {
        b.push(Block::Sub(tr("notification_rules")));
        b.push(Block::List(official.notification.clone()));
    }
    Document {
        title: tr("title"),
        month: month(lang, &r.month, false),
        scope: scope_name,
        first_day: date(lang, &r.from),
        last_day: date(lang, &last_day),
        generated: datetime(lang, &r.generated_at),
        issuer: issuer.clone(),
        official,
        blocks: b,
    }
}

/// What every section needs: the figures, the language, the configuration.
struct Ctx<'a> {
    r: &'a Report,
    lang: Lang,
    cfg: &'a ReportConfig,
}

impl Ctx<'_> {
    /// The label `k` in the report's language.
    fn tr(&self, k: &str) -> String {
        t(self.lang, k).to_string()
    }

    /// A number as the language writes it.
    fn n(&self, v: u64) -> String {
        number(self.lang, v)
    }

    /// The Vietnamese text, or the English one (when there is one) in English.
    fn pick(&self, vi_text: &str, en: Option<&str>) -> String {
        if self.lang == Lang::Vi {
            vi_text.to_string()
        } else {
            en.unwrap_or(vi_text).to_string()
        }
    }
}

/// The summary page: the overall assessment and the month-over-month comparison.
fn summary(c: &Ctx<'_>, b: &mut Vec<Block>) {
    let (r, lang) = (c.r, c.lang);
    let tr = |k: &str| c.tr(k);
    b.push(Block::Heading { id: "summary", text: tr("s_summary") });
    b.push(Block::Sub(tr("assessment")));
    b.push(Block::Para(super::assessment::text(r, lang)));
    b.push(Block::Sub(tr("vs_previous")));
    b.push(super::assessment::comparison(r, lang));
}

/// What was watched: agencies and their systems, sensors.
fn scope(c: &Ctx<'_>, b: &mut Vec<Block>) {
    let r = c.r;
    let tr = |k: &str| c.tr(k);
    let n = |v: u64| c.n(v);
    let pick = |vi: &str, en: Option<&str>| c.pick(vi, en);
    b.push(Block::Heading { id: "scope", text: tr("s_scope") });
    let agencies = r
        .scope
        .agencies
        .iter()
        .map(|a| {
            let systems: Vec<String> = a
                .systems
                .iter()
                .map(|s| {
                    let name = if s.system.is_empty() { &s.network } else { &s.system };
                    format!("{name} ({}, {} {})", s.network, tr("level"), s.security_level)
                })
                .collect();
            vec![cell(pick(&a.name, a.name_en.as_deref())), cell(systems.join("\n"))]
        })
        .collect();
    b.push(table(vec![col(&tr("agency"), 1.0, false), col(&tr("system"), 2.0, false)], agencies));
    let levels = (1..=5u8)
        .map(|k| {
            vec![
                cell(format!("{} {k}", tr("level"))),
                cell(n(r.scope.systems_by_level.get(&k).copied().unwrap_or(0))),
            ]
        })
        .collect();
    let sensors = r
        .scope
        .sensors
        .iter()
        .map(|s| vec![cell(&s.name), cell(n(s.alerts)), cell(s.agencies.join(", "))])
        .collect();
    b.push(Block::Columns(vec![
        vec![
            Block::Sub(tr("systems_by_level")),
            table(vec![col(&tr("level"), 2.0, false), col(&tr("count"), 1.0, true)], levels),
        ],
        vec![
            Block::Sub(tr("sensors")),
            table(
                vec![
                    col(&tr("sensor"), 1.0, false),
                    col(&tr("alerts"), 0.6, true),
                    col(&tr("coverage"), 2.4, false),
                ],
                sensors,
            ),
        ],
    ]));
}

/// The incidents: trend, classes, severities, statuses, agencies.
fn incidents(c: &Ctx<'_>, b: &mut Vec<Block>) {
    let tr = |k: &str| c.tr(k);
    let n = |v: u64| c.n(v);
    let pick = |vi: &str, en: Option<&str>| c.pick(vi, en);
    let i = &c.r.incidents;
    b.push(Block::Heading { id: "incidents", text: tr("s_incidents") });
    b.push(Block::Sub(tr("trend")));
    b.push(Block::Chart(ChartSpec::Trend(i.trend.clone())));
    b.push(Block::Sub(tr("by_class")));
    let classes = chart::CLASSES
        .iter()
        .map(|k| (tr(k), i.by_class.get(*k).copied().unwrap_or(0), ACCENT))
        .collect();
    b.push(Block::Chart(ChartSpec::Bars { title: tr("by_class"), items: classes }));
    let severities = chart::SEVERITIES
        .iter()
        .map(|s| (tr(s), i.by_severity.get(*s).copied().unwrap_or(0), chart::severity_color(s)))
        .collect();
    let statuses = ["new", "acknowledged", "in_progress", "resolved", "false_positive"]
        .iter()
        .map(|s| vec![cell(tr(s)), cell(n(i.by_status.get(*s).copied().unwrap_or(0)))])
        .collect();
    b.push(Block::Columns(vec![
        vec![
            Block::Sub(tr("by_severity")),
            Block::Chart(ChartSpec::Bars { title: tr("by_severity"), items: severities }),
        ],
        vec![
            Block::Sub(tr("by_status")),
            table(vec![col(&tr("status"), 2.0, false), col(&tr("incidents"), 1.0, true)], statuses),
        ],
    ]));
    b.push(Block::Sub(tr("by_agency")));
    let by_agency = i
        .by_agency
        .iter()
        .map(|a| {
            vec![
                cell(pick(&a.name, a.name_en.as_deref())),
                cell(n(a.incidents)),
                cell(n(a.critical_high)),
            ]
        })
        .collect();
    b.push(table(
        vec![
            col(&tr("agency"), 2.2, false),
            col(&tr("incidents"), 0.8, true),
            col(&tr("col_critical_high"), 1.0, true),
        ],
        by_agency,
    ));
}

/// How they were handled: times, deadlines, closures.
fn handling(c: &Ctx<'_>, b: &mut Vec<Block>) {
    let lang = c.lang;
    let tr = |k: &str| c.tr(k);
    let n = |v: u64| c.n(v);
    let pick = |vi: &str, en: Option<&str>| c.pick(vi, en);
    let h = &c.r.handling;
    b.push(Block::Heading { id: "handling", text: tr("s_handling") });
    let times = [("tta", &h.time_to_acknowledge), ("ttr", &h.time_to_resolve)]
        .into_iter()
        .map(|(k, d)| {
            vec![
                cell(tr(k)),
                cell(n(d.count)),
                cell(duration(lang, d.median_secs)),
                cell(duration(lang, d.p90_secs)),
            ]
        })
        .collect();
    b.push(table(
        vec![
            col("", 1.6, false),
            col(&tr("count"), 0.8, true),
            col(&tr("median"), 1.0, true),
            col(&tr("p90"), 1.0, true),
        ],
        times,
    ));
    let deadlines = h
        .deadlines
        .iter()
        .map(|d| {
            vec![
                cell(pick(&d.label, Some(&d.label_en))),
                cell(n(d.met)),
                cell(n(d.missed)),
                cell(n(d.pending)),
                cell(percent(lang, d.share_met)),
            ]
        })
        .collect();
    b.push(table(
        vec![
            col(&tr("deadline"), 2.2, false),
            col(&tr("met"), 0.7, true),
            col(&tr("missed"), 0.7, true),
            col(&tr("pending"), 0.8, true),
            col(&tr("share_met"), 0.9, true),
        ],
        deadlines,
    ));
    b.push(table(
        vec![
            col(&tr("closed"), 1.0, true),
            col(&tr("false_positive"), 1.0, true),
            col(&tr("fp_rate"), 1.0, true),
        ],
        vec![vec![
            cell(n(h.closed)),
            cell(n(h.false_positives)),
            cell(percent(lang, h.false_positive_rate)),
        ]],
    ));
}

/// Where attacks came from and what they aimed at.
fn threats(c: &Ctx<'_>, b: &mut Vec<Block>) {
    let r = c.r;
    let tr = |k: &str| c.tr(k);
    let n = |v: u64| c.n(v);
    b.push(Block::Heading { id: "threats", text: tr("s_threats") });
    b.push(Block::Sub(tr("top_signatures")));
    let sigs = r
        .top_signatures
        .iter()
        .map(|s| {
            vec![
                cell(format!("{}:{} {}", s.gid, s.sid, s.signature)),
                cell(n(s.alerts)),
                cell(n(s.incidents)),
            ]
        })
        .collect();
    b.push(table(
        vec![
            col(&tr("signature"), 3.2, false),
            col(&tr("alerts"), 0.7, true),
            col(&tr("incidents"), 0.7, true),
        ],
        sigs,
    ));
    let sources = r
        .top_sources
        .iter()
        .map(|s| {
            let ip = Cell { text: s.ip.clone(), sub: None, style: Style::Mono };
            vec![
                ip,
                cell(s.country.clone().unwrap_or_else(|| "—".into())),
                cell(n(s.alerts)),
                cell(n(s.incidents)),
            ]
        })
        .collect();
    let targets = r
        .top_targets
        .iter()
        .map(|x| {
            let place = [x.agency.clone(), x.system.clone()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" · ");
            let entity = Cell {
                text: x.entity.clone(),
                sub: Some(place).filter(|p| !p.is_empty()),
                style: Style::Mono,
            };
            vec![entity, cell(n(x.incidents)), cell(n(x.alerts))]
        })
        .collect();
    b.push(Block::Columns(vec![
        vec![
            Block::Sub(tr("top_sources")),
            table(
                vec![
                    col(&tr("source"), 1.6, false),
                    col(&tr("country"), 0.8, false),
                    col(&tr("alerts"), 0.8, true),
                    col(&tr("incidents"), 0.8, true),
                ],
                sources,
            ),
        ],
        vec![
            Block::Sub(tr("top_targets")),
            table(
                vec![
                    col(&tr("asset"), 2.6, false),
                    col(&tr("incidents"), 0.7, true),
                    col(&tr("alerts"), 0.7, true),
                ],
                targets,
            ),
        ],
    ]));
}

/// What the automated response did.
fn response(c: &Ctx<'_>, b: &mut Vec<Block>) {
    let r = c.r;
    let tr = |k: &str| c.tr(k);
    let n = |v: u64| c.n(v);
    let rs = &r.response;
    b.push(Block::Heading { id: "response", text: tr("s_response") });
    let steps = rs
        .steps
        .iter()
        .map(|(k, v)| {
            vec![cell(if k == "pending" { tr("pending_block") } else { tr(k) }), cell(n(*v))]
        })
        .collect();
    let effect = [
        ("blocked_sources", rs.blocked_sources),
        ("alerts_before", rs.alerts_before_24h),
        ("alerts_after", rs.alerts_after_24h),
    ]
    .into_iter()
    .map(|(k, v)| vec![cell(tr(k)), cell(n(v))])
    .collect();
    b.push(Block::Columns(vec![
        vec![table(vec![col(&tr("steps"), 2.0, false), col(&tr("count"), 1.0, true)], steps)],
        vec![table(vec![col(&tr("effect"), 2.0, false), col("", 1.0, true)], effect)],
    ]));
}

/// The sensors' health.
fn sensors(c: &Ctx<'_>, b: &mut Vec<Block>) {
    let (r, lang) = (c.r, c.lang);
    let tr = |k: &str| c.tr(k);
    let n = |v: u64| c.n(v);
    b.push(Block::Heading { id: "sensors", text: tr("s_sensors") });
    if r.sensors.is_empty() {
        b.push(Block::Note(tr("no_sensor_data")));
    } else {
        let rows = r
            .sensors
            .iter()
            .map(|s| {
                let updates: Vec<String> = s
                    .rule_updates
                    .iter()
                    .map(|u| format!("#{} {}", u.generation, date(lang, &u.first_seen)))
                    .collect();
                let rules = Cell {
                    text: s.rules_loaded.map(n).unwrap_or_default(),
                    sub: Some(updates.join(", ")).filter(|u| !u.is_empty()),
                    style: Style::Plain,
                };
                vec![
                    cell(&s.name),
                    match s.uptime {
                        Some(u) => cell(percent(lang, Some(u))),
                        None => cell(tr("reads_files")),
                    },
                    cell(n(s.packets)),
                    cell(percent(lang, s.drop_rate)),
                    cell(s.version.clone().unwrap_or_else(|| "—".into())),
                    rules,
                    cell(datetime(lang, &s.last_heartbeat)),
                ]
            })
            .collect();
        b.push(table(
            vec![
                col(&tr("sensor"), 1.3, false),
                col(&tr("uptime"), 0.8, true),
                col(&tr("packets"), 1.0, true),
                col(&tr("drop_rate"), 0.8, true),
                col(&tr("version"), 0.7, false),
                col(&tr("rules"), 1.2, false),
                col(&tr("last_heartbeat"), 1.2, false),
            ],
            rows,
        ));
    }
}

/// What the SOC lead recommends, as written from the console (paragraphs; lines that
/// start with `-` are a list); none written: lines to write on before issuing (never
/// invented). The English report prints the Vietnamese text when no English is given.
fn recommendations(c: &Ctx<'_>, b: &mut Vec<Block>) {
    b.push(Block::Heading { id: "recommendations", text: c.tr("s_recommendations") });
    let text = c.r.recommendations.as_ref().map(|r| match c.lang {
        Lang::En if !r.text_en.trim().is_empty() => r.text_en.as_str(),
        _ => r.text.as_str(),
    });
    let Some(text) = text.filter(|t| !t.trim().is_empty()) else {
        b.push(Block::Blank(6));
        return;
    };
    for part in text.split("\n\n").map(str::trim).filter(|p| !p.is_empty()) {
        let items: Vec<String> = part
            .lines()
            .filter_map(|l| l.trim().strip_prefix('-').map(|i| i.trim().to_string()))
            .collect();
        if !items.is_empty() && items.len() == part.lines().filter(|l| !l.trim().is_empty()).count()
        {
            b.push(Block::List(items));
        } else {
            b.push(Block::Para(part.split_whitespace().collect::<Vec<_>>().join(" ")));
        }
    }
}

/// The high and critical incidents, one line each.
fn serious(c: &Ctx<'_>, b: &mut Vec<Block>) {
    let (r, lang) = (c.r, c.lang);
    let tr = |k: &str| c.tr(k);
    let n = |v: u64| c.n(v);
    let cfg = c.cfg;
    b.push(Block::Heading { id: "serious", text: tr("s_serious") });
    if r.serious.is_empty() {
        b.push(Block::Note(tr("none")));
    } else {
        let rows = r
            .serious
            .iter()
            .take(cfg.serious_lines)
            .map(|s| {
                let status = if s.resolution == s.status {
                    tr(&s.status)
                } else {
                    format!("{}: {}", tr(&s.status), s.resolution)
                };
                vec![
                    cell(format!("#{}", s.id)),
                    Cell {
                        text: super::labels::incident_title(lang, &s.title),
                        sub: None,
                        style: Style::Severity(s.severity.clone()),
                    },
                    cell(s.agency.clone().unwrap_or_else(|| "—".into())),
                    cell(datetime(lang, &s.first_seen)),
                    cell(status),
                ]
            })
            .collect();
        b.push(table(
            vec![
                col(&tr("id"), 0.4, false),
                col(&tr("title_col"), 2.6, false),
                col(&tr("agency"), 1.1, false),
                col(&tr("first_seen"), 0.9, false),
                col(&tr("resolution"), 1.4, false),
            ],
            rows,
        ));
        if r.serious.len() > cfg.serious_lines {
            b.push(Block::Note(format!(
                "… {} {}",
                n((r.serious.len() - cfg.serious_lines) as u64),
                tr("more_serious")
            )));
        }
    }
}
