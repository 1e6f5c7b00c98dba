//! The report as one self-contained HTML page: inline CSS, inline SVG charts, the logo
//! as a data URI; no script, no outside address. Printable on A4 (sections and table
//! rows are not split across pages).

use std::fmt::Write;

use super::chart::{self, Anchor, Chart, Shape};
use super::figures::Report;
use super::labels::{date, datetime, duration, month, number, percent, t};
use super::{Lang, ReportConfig};

/// Text for HTML (element content and attribute values).
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '&' => o.push_str("&amp;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

fn hex((r, g, b): (u8, u8, u8)) -> String {
    format!("#{r:02x}{g:02x}{b:02x}")
}

/// A chart as inline SVG.
pub fn svg(c: &Chart) -> String {
    let mut o = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {h}\" style=\"width:100%;max-width:{w}pt;height:auto\" role=\"img\" aria-label=\"{t}\"><title>{t}</title>",
        w = c.width,
        h = c.height,
        t = esc(&c.title)
    );
    for s in &c.shapes {
        match s {
            Shape::Rect { x, y, w, h, color } => {
                let _ = write!(o, "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{h:.1}\" fill=\"{}\"/>", hex(*color));
            }
            Shape::Line { x1, y1, x2, y2, color } => {
                let _ = write!(o, "<line x1=\"{x1:.1}\" y1=\"{y1:.1}\" x2=\"{x2:.1}\" y2=\"{y2:.1}\" stroke=\"{}\" stroke-width=\"0.5\"/>", hex(*color));
            }
            Shape::Text { x, y, text, size, anchor, color } => {
                let a = match anchor {
                    Anchor::Start => "start",
                    Anchor::Middle => "middle",
                    Anchor::End => "end",
                };
                let _ = write!(
                    o,
                    "<text x=\"{x:.1}\" y=\"{y:.1}\" font-size=\"{size}\" text-anchor=\"{a}\" fill=\"{}\">{}</text>",
                    hex(*color),
                    esc(text)
                );
            }
        }
    }
    o.push_str("</svg>");
    o
}

const CSS: &str = r#"
@page { size: A4; margin: 16mm 14mm; }
* { box-sizing: border-box; }
body { font-family: "DejaVu Sans", "Noto Sans", "Segoe UI", Arial, sans-serif; color: #1f2937; font-size: 10.5pt; margin: 0 auto; max-width: 190mm; padding: 8mm 0; line-height: 1.35; }
header { display: flex; gap: 14px; align-items: center; border-bottom: 2px solid #1d4e89; padding-bottom: 8px; margin-bottom: 10px; }
header img { height: 56px; }
header .who { font-size: 9pt; color: #374151; text-transform: uppercase; letter-spacing: .02em; }
h1 { font-size: 16pt; margin: 2px 0; color: #1d4e89; }
h2 { font-size: 12.5pt; color: #1d4e89; border-bottom: 1px solid #d1d5db; padding-bottom: 2px; margin: 18px 0 8px; }
h3 { font-size: 10.5pt; margin: 10px 0 4px; }
.meta { color: #4b5563; font-size: 9.5pt; }
section { break-inside: avoid-page; }
table { border-collapse: collapse; width: 100%; margin: 4px 0 8px; font-size: 9.5pt; }
th, td { border-bottom: 1px solid #e5e7eb; padding: 3px 6px; text-align: left; vertical-align: top; }
th { background: #f3f4f6; font-weight: 600; }
td.n, th.n { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
tr { break-inside: avoid; }
.cards { display: grid; grid-template-columns: repeat(4, 1fr); gap: 8px; }
.card { border: 1px solid #d1d5db; border-radius: 4px; padding: 6px 8px; }
.card b { display: block; font-size: 15pt; color: #1d4e89; }
.card span { font-size: 8.5pt; color: #4b5563; }
.two { display: grid; grid-template-columns: 1fr 1fr; gap: 14px; }
.sev { display: inline-block; padding: 0 5px; border-radius: 3px; color: #fff; font-size: 8.5pt; }
.sev.critical { background: #b3261e; } .sev.high { background: #e8590c; } .sev.medium { background: #c99700; } .sev.low { background: #4a7c59; }
.muted { color: #6b7280; }
.mono { font-family: "DejaVu Sans Mono", monospace; font-size: 9pt; }
footer { margin-top: 16px; border-top: 1px solid #d1d5db; padding-top: 4px; font-size: 8pt; color: #6b7280; }
"#;

fn table(o: &mut String, head: &[(&str, bool)], rows: &[Vec<String>]) {
    o.push_str("<table><thead><tr>");
    for (h, num) in head {
        let _ = write!(o, "<th{}>{}</th>", if *num { " class=\"n\"" } else { "" }, esc(h));
    }
    o.push_str("</tr></thead><tbody>");
    for r in rows {
        o.push_str("<tr>");
        for (i, c) in r.iter().enumerate() {
            let num = head.get(i).is_some_and(|h| h.1);
            // Cells are escaped by their makers (some carry markup: severity chips).
            let _ = write!(o, "<td{}>{c}</td>", if num { " class=\"n\"" } else { "" });
        }
        o.push_str("</tr>");
    }
    o.push_str("</tbody></table>");
}

fn sev_chip(lang: Lang, s: &str) -> String {
    format!("<span class=\"sev {}\">{}</span>", esc(s), esc(t(lang, s)))
}

/// The logo as a data URI (PNG only), if configured and readable.
fn logo(cfg: &ReportConfig) -> Option<String> {
    let p = cfg.logo.as_ref()?;
    let bytes = std::fs::read(p).ok()?;
    bytes.starts_with(b"\x89PNG").then(|| format!("data:image/png;base64,{}", base64(&bytes)))
}

fn base64(b: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut o = String::with_capacity(b.len().div_ceil(3) * 4);
    for ch in b.chunks(3) {
        let n = (ch[0] as u32) << 16
            | (*ch.get(1).unwrap_or(&0) as u32) << 8
            | *ch.get(2).unwrap_or(&0) as u32;
        for k in 0..4 {
            if k <= ch.len() {
                o.push(A[(n >> (18 - 6 * k) & 63) as usize] as char);
            } else {
                o.push('=');
            }
        }
    }
    o
}

/// The whole page.
pub fn render(r: &Report, lang: Lang, cfg: &ReportConfig) -> String {
    let l = |k: &str| esc(t(lang, k));
    let n = |v: u64| number(lang, v);
    let (province, issuer) = match lang {
        Lang::Vi => (&r.province, &r.issuer),
        Lang::En => (&r.province_en, &r.issuer_en),
    };
    let scope_name = match (&r.agency, lang) {
        (Some(a), Lang::En) => a.name_en.clone().unwrap_or_else(|| a.name.clone()),
        (Some(a), Lang::Vi) => a.name.clone(),
        (None, _) => t(lang, "province_wide").to_string(),
    };
    let mut o = String::new();
    let _ = write!(
        o,
        "<!DOCTYPE html><html lang=\"{}\"><head><meta charset=\"utf-8\"><title>{} — {} — {}</title><style>{CSS}</style></head><body>",
        lang.as_str(),
        l("title"),
        esc(&month(lang, &r.month, false)),
        esc(&scope_name)
    );
    o.push_str("<header>");
    if let Some(src) = logo(cfg) {
        let _ = write!(o, "<img src=\"{src}\" alt=\"\">");
    }
    let _ = write!(
        o,
        "<div><div class=\"who\">{} · {}</div><h1>{} — {}</h1><div class=\"meta\">{}: <b>{}</b> · {}: {} – {} · {}: {}</div></div></header>",
        esc(province),
        esc(issuer),
        l("title"),
        esc(&month(lang, &r.month, false)).to_uppercase(),
        l("agency"),
        esc(&scope_name),
        l("period"),
        esc(&date(lang, &r.from)),
        esc(&date(lang, &(chrono::DateTime::parse_from_rfc3339(&r.to).map(|d| (d - chrono::Duration::seconds(1)).to_rfc3339()).unwrap_or_default()))),
        l("generated"),
        esc(&datetime(lang, &r.generated_at))
    );

    // 1. Summary.
    let i = &r.incidents;
    let ch = i.by_severity.get("critical").copied().unwrap_or(0)
        + i.by_severity.get("high").copied().unwrap_or(0);
    let _ = write!(o, "<section id=\"summary\"><h2>{}</h2><div class=\"cards\">", l("s_summary"));
    let deadline = r.handling.deadlines.last().map(|d| {
        (
            match lang {
                Lang::Vi => d.label.clone(),
                Lang::En => d.label_en.clone(),
            },
            d.share_met,
        )
    });
    let cards = [
        (n(i.total), t(lang, "incidents").to_string()),
        (n(ch), format!("{} {}", t(lang, "of_which"), t(lang, "critical_high"))),
        (n(i.alerts), t(lang, "alerts").to_string()),
        (
            duration(lang, r.handling.time_to_acknowledge.median_secs),
            format!("{} ({})", t(lang, "tta"), t(lang, "median").to_lowercase()),
        ),
        (
            duration(lang, r.handling.time_to_resolve.median_secs),
            format!("{} ({})", t(lang, "ttr"), t(lang, "median").to_lowercase()),
        ),
        (
            percent(lang, deadline.as_ref().and_then(|d| d.1)),
            deadline.map(|d| d.0).unwrap_or_default(),
        ),
        (percent(lang, r.handling.false_positive_rate), t(lang, "fp_rate").to_string()),
        (
            n(r.response.executed),
            format!(
                "{} ({})",
                t(lang, "executed"),
                t(lang, "s_response")
                    .trim_start_matches(|c: char| c.is_ascii_digit() || c == '.' || c == ' ')
            ),
        ),
    ];
    for (v, k) in cards {
        let _ = write!(o, "<div class=\"card\"><b>{}</b><span>{}</span></div>", esc(&v), esc(&k));
    }
    o.push_str("</div></section>");

    // 2. Scope.
    let _ = write!(o, "<section id=\"scope\"><h2>{}</h2>", l("s_scope"));
    let rows: Vec<Vec<String>> = r
        .scope
        .agencies
        .iter()
        .map(|a| {
            let name = match lang {
                Lang::En => a.name_en.clone().unwrap_or_else(|| a.name.clone()),
                Lang::Vi => a.name.clone(),
            };
            let systems: Vec<String> = a
                .systems
                .iter()
                .map(|s| {
                    format!(
                        "{} ({}, {} {})",
                        esc(if s.system.is_empty() { &s.network } else { &s.system }),
                        esc(&s.network),
                        l("level"),
                        s.security_level
                    )
                })
                .collect();
            vec![esc(&name), systems.join("<br>")]
        })
        .collect();
    table(&mut o, &[(t(lang, "agency"), false), (t(lang, "system"), false)], &rows);
    let levels: Vec<Vec<String>> = (1..=5u8)
        .map(|k| {
            vec![
                format!("{} {k}", l("level")),
                n(r.scope.systems_by_level.get(&k).copied().unwrap_or(0)),
            ]
        })
        .collect();
    let sensors: Vec<Vec<String>> = r
        .scope
        .sensors
        .iter()
        .map(|s| vec![esc(&s.name), n(s.alerts), esc(&s.agencies.join(", "))])
        .collect();
    o.push_str("<div class=\"two\"><div>");
    let _ = write!(o, "<h3>{}</h3>", l("systems_by_level"));
    table(&mut o, &[(t(lang, "level"), false), (t(lang, "count"), true)], &levels);
    let _ = write!(o, "</div><div><h3>{}</h3>", l("sensors"));
    table(
        &mut o,
        &[(t(lang, "sensor"), false), (t(lang, "alerts"), true), (t(lang, "coverage"), false)],
        &sensors,
    );
    o.push_str("</div></div></section>");

    // 3. Incidents.
    let _ = write!(o, "<section id=\"incidents\"><h2>{}</h2>", l("s_incidents"));
    let _ = write!(
        o,
        "<h3>{}</h3><div id=\"chart-trend\">{}</div>",
        l("trend"),
        svg(&chart::trend(&i.trend, lang, 520.0))
    );
    let class_items: Vec<(String, u64, (u8, u8, u8))> = chart::CLASSES
        .iter()
        .map(|k| (t(lang, k).to_string(), i.by_class.get(*k).copied().unwrap_or(0), chart::ACCENT))
        .collect();
    let _ = write!(
        o,
        "<h3>{}</h3><div id=\"chart-class\">{}</div>",
        l("by_class"),
        svg(&chart::bars(&class_items, lang, 520.0, t(lang, "by_class")))
    );
    o.push_str("<div class=\"two\"><div>");
    let _ = write!(o, "<h3>{}</h3>", l("by_severity"));
    let sev_rows: Vec<Vec<String>> = chart::SEVERITIES
        .iter()
        .map(|s| vec![sev_chip(lang, s), n(i.by_severity.get(*s).copied().unwrap_or(0))])
        .collect();
    table(&mut o, &[(t(lang, "by_severity"), false), (t(lang, "incidents"), true)], &sev_rows);
    let _ = write!(o, "</div><div><h3>{}</h3>", l("by_status"));
    let st_rows: Vec<Vec<String>> =
        ["new", "acknowledged", "in_progress", "resolved", "false_positive"]
            .iter()
            .map(|s| vec![l(s), n(i.by_status.get(*s).copied().unwrap_or(0))])
            .collect();
    table(&mut o, &[(t(lang, "status"), false), (t(lang, "incidents"), true)], &st_rows);
    o.push_str("</div></div>");
    let _ = write!(o, "<h3>{}</h3>", l("by_agency"));
    let ag_rows: Vec<Vec<String>> = i
        .by_agency
        .iter()
        .map(|a| {
            let name =
                if lang == Lang::En { a.name_en.as_deref().unwrap_or(&a.name) } else { &a.name };
            vec![esc(name), n(a.incidents), n(a.critical_high)]
        })
        .collect();
    table(
        &mut o,
        &[
            (t(lang, "agency"), false),
            (t(lang, "incidents"), true),
            (t(lang, "col_critical_high"), true),
        ],
        &ag_rows,
    );
    o.push_str("</section>");

    // 4. Handling.
    let h = &r.handling;
    let _ = write!(o, "<section id=\"handling\"><h2>{}</h2>", l("s_handling"));
    let times = vec![
        vec![
            l("tta"),
            n(h.time_to_acknowledge.count),
            esc(&duration(lang, h.time_to_acknowledge.median_secs)),
            esc(&duration(lang, h.time_to_acknowledge.p90_secs)),
        ],
        vec![
            l("ttr"),
            n(h.time_to_resolve.count),
            esc(&duration(lang, h.time_to_resolve.median_secs)),
            esc(&duration(lang, h.time_to_resolve.p90_secs)),
        ],
    ];
    table(
        &mut o,
        &[("", false), (t(lang, "count"), true), (t(lang, "median"), true), (t(lang, "p90"), true)],
        &times,
    );
    let dl: Vec<Vec<String>> = h
        .deadlines
        .iter()
        .map(|d| {
            vec![
                esc(match lang {
                    Lang::Vi => &d.label,
                    Lang::En => &d.label_en,
                }),
                n(d.met),
                n(d.missed),
                n(d.pending),
                esc(&percent(lang, d.share_met)),
            ]
        })
        .collect();
    table(
        &mut o,
        &[
            (t(lang, "deadline"), false),
            (t(lang, "met"), true),
            (t(lang, "missed"), true),
            (t(lang, "pending"), true),
            (t(lang, "share_met"), true),
        ],
        &dl,
    );
    table(
        &mut o,
        &[(t(lang, "closed"), true), (t(lang, "false_positive"), true), (t(lang, "fp_rate"), true)],
        &[vec![n(h.closed), n(h.false_positives), esc(&percent(lang, h.false_positive_rate))]],
    );
    o.push_str("</section>");

    // 5. Threats.
    let _ = write!(
        o,
        "<section id=\"threats\"><h2>{}</h2><h3>{}</h3>",
        l("s_threats"),
        l("top_signatures")
    );
    let sig: Vec<Vec<String>> = r
        .top_signatures
        .iter()
        .map(|s| {
            vec![
                format!("<span class=\"mono\">{}:{}</span> {}", s.gid, s.sid, esc(&s.signature)),
                n(s.alerts),
                n(s.incidents),
            ]
        })
        .collect();
    table(
        &mut o,
        &[(t(lang, "signature"), false), (t(lang, "alerts"), true), (t(lang, "incidents"), true)],
        &sig,
    );
    o.push_str("<div class=\"two\"><div>");
    let _ = write!(o, "<h3>{}</h3>", l("top_sources"));
    let src: Vec<Vec<String>> = r
        .top_sources
        .iter()
        .map(|s| {
            vec![
                format!("<span class=\"mono\">{}</span>", esc(&s.ip)),
                esc(s.country.as_deref().unwrap_or("—")),
                n(s.alerts),
                n(s.incidents),
            ]
        })
        .collect();
    table(
        &mut o,
        &[
            (t(lang, "source"), false),
            (t(lang, "country"), false),
            (t(lang, "alerts"), true),
            (t(lang, "incidents"), true),
        ],
        &src,
    );
    let _ = write!(o, "</div><div><h3>{}</h3>", l("top_targets"));
    let tg: Vec<Vec<String>> = r
        .top_targets
        .iter()
        .map(|x| {
            vec![
                format!(
                    "<span class=\"mono\">{}</span><br><span class=\"muted\">{}</span>",
                    esc(&x.entity),
                    esc(&[x.agency.clone(), x.system.clone()]
                        .into_iter()
                        .flatten()
                        .collect::<Vec<_>>()
                        .join(" · "))
                ),
                n(x.incidents),
                n(x.alerts),
            ]
        })
        .collect();
    table(
        &mut o,
        &[(t(lang, "asset"), false), (t(lang, "incidents"), true), (t(lang, "alerts"), true)],
        &tg,
    );
    o.push_str("</div></div></section>");

    // 6. Response.
    let rs = &r.response;
    let _ = write!(o, "<section id=\"response\"><h2>{}</h2>", l("s_response"));
    let steps: Vec<Vec<String>> = rs
        .steps
        .iter()
        .map(|(k, v)| {
            vec![esc(if k == "pending" { t(lang, "pending_block") } else { t(lang, k) }), n(*v)]
        })
        .collect();
    o.push_str("<div class=\"two\"><div>");
    table(&mut o, &[(t(lang, "steps"), false), (t(lang, "count"), true)], &steps);
    o.push_str("</div><div>");
    table(
        &mut o,
        &[(t(lang, "effect"), false), ("", true)],
        &[
            vec![l("blocked_sources"), n(rs.blocked_sources)],
            vec![l("alerts_before"), n(rs.alerts_before_24h)],
            vec![l("alerts_after"), n(rs.alerts_after_24h)],
        ],
    );
    o.push_str("</div></div></section>");

    // 7. Sensors.
    let _ = write!(o, "<section id=\"sensors\"><h2>{}</h2>", l("s_sensors"));
    if r.sensors.is_empty() {
        let _ = write!(o, "<p class=\"muted\">{}</p>", l("no_sensor_data"));
    } else {
        let rows: Vec<Vec<String>> = r
            .sensors
            .iter()
            .map(|s| {
                let updates: Vec<String> = s
                    .rule_updates
                    .iter()
                    .map(|u| format!("#{} {}", u.generation, esc(&date(lang, &u.first_seen))))
                    .collect();
                vec![
                    esc(&s.name),
                    esc(&percent(lang, Some(s.uptime))),
                    n(s.packets),
                    esc(&percent(lang, s.drop_rate)),
                    esc(s.version.as_deref().unwrap_or("—")),
                    format!(
                        "{}{}",
                        s.rules_loaded.map(n).unwrap_or_default(),
                        if updates.is_empty() {
                            String::new()
                        } else {
                            format!("<br><span class=\"muted\">{}</span>", updates.join(", "))
                        }
                    ),
                    esc(&datetime(lang, &s.last_heartbeat)),
                ]
            })
            .collect();
        table(
            &mut o,
            &[
                (t(lang, "sensor"), false),
                (t(lang, "uptime"), true),
                (t(lang, "packets"), true),
                (t(lang, "drop_rate"), true),
                (t(lang, "version"), false),
                (t(lang, "rules"), false),
                (t(lang, "last_heartbeat"), false),
            ],
            &rows,
        );
    }
    o.push_str("</section>");

    // 8. Serious incidents.
    let _ = write!(o, "<section id=\"serious\"><h2>{}</h2>", l("s_serious"));
    if r.serious.is_empty() {
        let _ = write!(o, "<p class=\"muted\">{}</p>", l("none"));
    } else {
        let rows: Vec<Vec<String>> = r
            .serious
            .iter()
            .take(cfg.serious_lines)
            .map(|s| {
                let status = if s.resolution == s.status {
                    l(&s.status)
                } else {
                    format!("{}: {}", l(&s.status), esc(&s.resolution))
                };
                vec![
                    format!("#{}", s.id),
                    format!("{} {}", sev_chip(lang, &s.severity), esc(&s.title)),
                    esc(s.agency.as_deref().unwrap_or("—")),
                    esc(&datetime(lang, &s.first_seen)),
                    status,
                ]
            })
            .collect();
        table(
            &mut o,
            &[
                (t(lang, "id"), false),
                (t(lang, "title_col"), false),
                (t(lang, "agency"), false),
                (t(lang, "first_seen"), false),
                (t(lang, "resolution"), false),
            ],
            &rows,
        );
    }
    let _ = write!(
        o,
        "</section><footer>Gatewatch · {} · {}</footer></body></html>",
        esc(issuer),
        esc(&datetime(lang, &r.generated_at))
    );
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_and_base64() {
        assert_eq!(esc("<b>\"x\" & 'y'</b>"), "&lt;b&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/b&gt;");
        assert_eq!(base64(b"Man"), "TWFu");
        assert_eq!(base64(b"Ma"), "TWE=");
        assert_eq!(base64(b"M"), "TQ==");
    }
}
