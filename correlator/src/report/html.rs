//! The report as one self-contained HTML page: inline CSS, inline SVG charts, the logo
//! as a data URI; no script, no outside address. Printable on A4 (sections and table
//! rows are not split across pages).

use std::fmt::Write;

use super::chart::{Anchor, Chart, Shape};
use super::document::{document, Block, Document, Style, Table};
use super::figures::Report;
use super::labels::t;
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
header.official { display: grid; grid-template-columns: 2fr 3fr; gap: 10px; text-align: center; font-size: 10pt; margin-bottom: 14px; }
header.official hr { width: 40%; border: 0; border-top: 1px solid #1f2937; margin: 3px auto 6px; }
.titleblock { display: flex; gap: 14px; align-items: center; justify-content: center; text-align: center; border-bottom: 2px solid #1d4e89; padding-bottom: 8px; margin-bottom: 10px; }
.titleblock img { height: 56px; }
.subtitle { font-weight: 600; font-size: 11.5pt; }
h1 { font-size: 16pt; margin: 2px 0; color: #1d4e89; }
p.para { text-align: justify; margin: 4px 0 8px; }
ul.list { margin: 2px 0 8px; padding-left: 18px; }
.blank { border-bottom: 1px dotted #6b7280; height: 20px; }
.closing { display: grid; grid-template-columns: 1fr 1fr; gap: 14px; margin-top: 22px; break-inside: avoid; font-size: 9.5pt; }
.signer { text-align: center; font-size: 10.5pt; }
.signer .space { height: 70px; }
h2 { font-size: 12.5pt; color: #1d4e89; border-bottom: 1px solid #d1d5db; padding-bottom: 2px; margin: 18px 0 8px; }
h3 { font-size: 10.5pt; margin: 10px 0 4px; }
.meta { color: #4b5563; font-size: 9.5pt; }
section { break-inside: avoid-page; }
table { border-collapse: collapse; width: 100%; margin: 4px 0 8px; font-size: 9.5pt; }
th, td { border-bottom: 1px solid #e5e7eb; padding: 3px 6px; text-align: left; vertical-align: top; }
th { background: #f3f4f6; font-weight: 600; }
td.n, th.n { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
tr { break-inside: avoid; }
.two { display: grid; grid-template-columns: 1fr 1fr; gap: 14px; }
.sev { display: inline-block; padding: 0 5px; border-radius: 3px; color: #fff; font-size: 8.5pt; }
.sev.critical { background: #b3261e; } .sev.high { background: #e8590c; } .sev.medium { background: #c99700; } .sev.low { background: #4a7c59; }
.muted { color: #6b7280; }
.mono { font-family: "DejaVu Sans Mono", monospace; font-size: 9pt; }
footer { margin-top: 16px; border-top: 1px solid #d1d5db; padding-top: 4px; font-size: 8pt; color: #6b7280; }
"#;

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

fn table(o: &mut String, tbl: &Table, lang: Lang) {
    o.push_str("<table><thead><tr>");
    for c in &tbl.cols {
        let _ = write!(o, "<th{}>{}</th>", if c.num { " class=\"n\"" } else { "" }, esc(&c.title));
    }
    o.push_str("</tr></thead><tbody>");
    for row in &tbl.rows {
        o.push_str("<tr>");
        for (c, col) in row.iter().zip(&tbl.cols) {
            let _ = write!(o, "<td{}>", if col.num { " class=\"n\"" } else { "" });
            let text = esc(&c.text).replace('\n', "<br>");
            match &c.style {
                Style::Plain => o.push_str(&text),
                Style::Mono => {
                    let _ = write!(o, "<span class=\"mono\">{text}</span>");
                }
                Style::Severity(s) => {
                    let _ = write!(
                        o,
                        "<span class=\"sev {}\">{}</span> {text}",
                        esc(s),
                        esc(t(lang, s))
                    );
                }
            }
            if let Some(sub) = &c.sub {
                let _ = write!(o, "<br><span class=\"muted\">{}</span>", esc(sub));
            }
            o.push_str("</td>");
        }
        o.push_str("</tr>");
    }
    o.push_str("</tbody></table>");
    if tbl.rows.is_empty() {
        let _ = write!(o, "<p class=\"muted\">{}</p>", esc(t(lang, "none")));
    }
}

/// Draws `list`; charts are `width` points wide (half inside columns).
fn blocks(o: &mut String, list: &[Block], lang: Lang, width: f32, open: &mut bool) {
    for b in list {
        match b {
            Block::Heading { id, text } => {
                if *open {
                    o.push_str("</section>");
                }
                *open = true;
                let _ = write!(o, "<section id=\"{id}\"><h2>{}</h2>", esc(text));
            }
            Block::Sub(text) => {
                let _ = write!(o, "<h3>{}</h3>", esc(text));
            }
            Block::Table(tbl) => table(o, tbl, lang),
            Block::Chart(spec) => o.push_str(&svg(&spec.chart(lang, width))),
            Block::Note(text) => {
                let _ = write!(o, "<p class=\"muted\">{}</p>", esc(text));
            }
            Block::Para(text) => {
                let _ = write!(o, "<p class=\"para\">{}</p>", esc(text));
            }
            Block::List(items) => {
                o.push_str("<ul class=\"list\">");
                for i in items {
                    let _ = write!(o, "<li>{}</li>", esc(i));
                }
                o.push_str("</ul>");
            }
            Block::Blank(n) => {
                for _ in 0..*n {
                    o.push_str("<div class=\"blank\"></div>");
                }
            }
            Block::Columns(cols) => {
                o.push_str("<div class=\"two\">");
                for c in cols {
                    o.push_str("<div>");
                    let mut inner = false;
                    blocks(o, c, lang, width / 2.0, &mut inner);
                    o.push_str("</div>");
                }
                o.push_str("</div>");
            }
        }
    }
}

/// The administrative heading: the parent body and the issuer with the number on the
/// left, the national motto with the place and date on the right; then the title.
fn heading(o: &mut String, d: &Document, lang: Lang, cfg: &ReportConfig) {
    let l = |k: &str| esc(t(lang, k));
    let f = &d.official;
    let _ = write!(
        o,
        "<header class=\"official\"><div class=\"side\"><div>{}</div><div><b>{}</b></div><hr><div>{}</div></div>\
         <div class=\"side\"><div><b>{}</b></div><div><b>{}</b></div><hr><div><i>{}</i></div></div></header>",
        esc(&f.bodies[0]),
        esc(&f.bodies[1]),
        esc(&f.number),
        esc(f.nation[0]),
        esc(f.nation[1]),
        esc(&f.place_date)
    );
    o.push_str("<div class=\"titleblock\">");
    if let Some(src) = logo(cfg) {
        let _ = write!(o, "<img src=\"{src}\" alt=\"\">");
    }
    let _ = write!(
        o,
        "<div><h1>{}</h1><div class=\"subtitle\">{} — {}</div><div class=\"meta\">{}: {} – {} · {}: {}</div></div></div>",
        esc(&d.title),
        esc(&d.month.to_uppercase()),
        esc(&d.scope),
        l("period"),
        esc(&d.first_day),
        esc(&d.last_day),
        l("generated"),
        esc(&d.generated)
    );
}

/// Recipients on the left, the signature block on the right.
fn closing(o: &mut String, d: &Document, lang: Lang) {
    let f = &d.official;
    let _ = write!(
        o,
        "<div class=\"closing\"><div class=\"recipients\"><b><i>{}:</i></b>",
        esc(t(lang, "recipients"))
    );
    for r in &f.recipients {
        let _ = write!(o, "<div>- {}</div>", esc(r));
    }
    let _ = write!(
        o,
        "</div><div class=\"signer\"><b>{}</b><div class=\"space\"></div><b>{}</b></div></div>",
        esc(&f.signer_title),
        esc(&f.signer_name)
    );
}

/// The whole page.
pub fn render(r: &Report, lang: Lang, cfg: &ReportConfig) -> String {
    let d = document(r, lang, cfg);
    let mut o = String::new();
    let _ = write!(
        o,
        "<!DOCTYPE html><html lang=\"{}\"><head><meta charset=\"utf-8\"><title>{} — {} — {}</title><style>{CSS}</style></head><body>",
        lang.as_str(),
        esc(&d.title),
        esc(&d.month),
        esc(&d.scope)
    );
    heading(&mut o, &d, lang, cfg);
    let mut open = false;
    blocks(&mut o, &d.blocks, lang, 520.0, &mut open);
    if open {
        o.push_str("</section>");
    }
    closing(&mut o, &d, lang);
    let _ = write!(
        o,
        "<footer>Gatewatch · {} · {}</footer></body></html>",
        esc(&d.issuer),
        esc(&d.generated)
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
