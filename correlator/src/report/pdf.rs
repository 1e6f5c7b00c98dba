//! The report as a PDF, made without a browser: this module lays the report out on A4
//! pages (text wrapped by measured widths, tables whose header repeats on each page,
//! headings kept with what follows, the charts of [`super::chart`]) and krilla writes
//! the PDF, shaping the text and embedding the subset of DejaVu Sans it uses (bundled,
//! `fonts/LICENSE`), which covers Vietnamese.
//!
//! Why krilla: it is the PDF writer of typst, as a library of its own. typst itself
//! (markup → PDF) would give the finest typesetting, but brings some 300 crates and
//! minutes of build on CI's two cores; printpdf leaves font subsetting and text shaping
//! half done across its versions; pdf-writer alone would mean writing CID fonts and
//! their Unicode maps by hand. krilla shapes text (rustybuzz), subsets fonts and writes
//! correct Unicode maps (text copied from the PDF is the text), for 70 crates.

use std::sync::Arc;

use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect, Size, Transform};
use krilla::metadata::Metadata;
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::text::{Font, TextDirection};
use krilla::Document;

use super::chart::{Anchor, Chart, Shape, ACCENT, INK, MUTED, RULE};
use super::document::{document, Block, Style, Table};
use super::figures::Report;
use super::labels::t;
use super::{Lang, ReportConfig, ReportError};

pub const REGULAR: &[u8] = include_bytes!("fonts/DejaVuSans.ttf");
pub const BOLD: &[u8] = include_bytes!("fonts/DejaVuSans-Bold.ttf");

const PAGE_W: f32 = 595.28;
const PAGE_H: f32 = 841.89;
const MARGIN: f32 = 42.0;
const BOTTOM: f32 = PAGE_H - 50.0;
const BODY: f32 = 9.0;

/// A line's size, weight and colour.
type Look = (f32, bool, (u8, u8, u8));

#[derive(Clone, Debug)]
enum Op {
    Text { x: f32, y: f32, size: f32, bold: bool, color: (u8, u8, u8), text: String },
    Rect { x: f32, y: f32, w: f32, h: f32, color: (u8, u8, u8) },
    Line { x1: f32, y1: f32, x2: f32, y2: f32, color: (u8, u8, u8), width: f32 },
    Logo { x: f32, y: f32, w: f32, h: f32 },
}

/// Text widths, from the fonts' advances.
struct Metrics {
    regular: ttf_parser::Face<'static>,
    bold: ttf_parser::Face<'static>,
}

impl Metrics {
    fn new() -> Result<Metrics, ReportError> {
        let p = |b: &'static [u8]| {
            ttf_parser::Face::parse(b, 0)
                .map_err(|e| ReportError::Pdf(format!("the bundled font: {e}")))
        };
        Ok(Metrics { regular: p(REGULAR)?, bold: p(BOLD)? })
    }

    fn width(&self, text: &str, size: f32, bold: bool) -> f32 {
        let f = if bold { &self.bold } else { &self.regular };
        let upm = f.units_per_em() as f32;
        text.chars()
            .map(|c| {
                f.glyph_index(c).and_then(|g| f.glyph_hor_advance(g)).unwrap_or(upm as u16 / 2)
                    as f32
            })
            .sum::<f32>()
            * size
            / upm
    }

    /// Lines of at most `width` (by words; a word too long is cut).
    fn wrap(&self, text: &str, size: f32, bold: bool, width: f32) -> Vec<String> {
        let mut lines = Vec::new();
        for para in text.split('\n') {
            let mut line = String::new();
            for word in para.split(' ') {
                let candidate =
                    if line.is_empty() { word.to_string() } else { format!("{line} {word}") };
                if self.width(&candidate, size, bold) <= width
                    || line.is_empty() && self.width(word, size, bold) <= width
                {
                    line = candidate;
                    continue;
                }
                if !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                }
                // A word longer than the line: cut by characters.
                let mut part = String::new();
                for c in word.chars() {
                    part.push(c);
                    if self.width(&part, size, bold) > width && part.chars().count() > 1 {
                        part.pop();
                        lines.push(std::mem::take(&mut part));
                        part.push(c);
                    }
                }
                line = part;
            }
            lines.push(line);
        }
        lines
    }
}

/// A line of a table cell and its colour.
type Line = (String, (u8, u8, u8));

/// Pages being laid out.
struct Layout {
    m: Metrics,
    pages: Vec<Vec<Op>>,
    y: f32,
    lang: Lang,
}

impl Layout {
    fn page(&mut self) -> &mut Vec<Op> {
        if self.pages.is_empty() {
            self.pages.push(Vec::new());
        }
        self.pages.last_mut().expect("a page")
    }

    fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = MARGIN;
    }

    /// Room for `h` more points, else a new page.
    fn ensure(&mut self, h: f32) {
        if self.y + h > BOTTOM {
            self.new_page();
        }
    }

    fn text(&mut self, x: f32, y: f32, size: f32, bold: bool, color: (u8, u8, u8), text: &str) {
        let text = text.to_string();
        self.page().push(Op::Text { x, y, size, bold, color, text });
    }

    /// One line centred on `cx` (cut to `width` when longer).
    fn centred(&mut self, cx: f32, y: f32, look: Look, text: &str, width: f32) {
        let (size, bold, color) = look;
        let w = self.m.width(text, size, bold).min(width);
        self.text(cx - w / 2.0, y, size, bold, color, text);
    }

    /// A short rule under a heading line, centred on `cx`.
    fn short_rule(&mut self, cx: f32, y: f32, w: f32) {
        self.page().push(Op::Line {
            x1: cx - w / 2.0,
            y1: y,
            x2: cx + w / 2.0,
            y2: y,
            color: INK,
            width: 0.6,
        });
    }

    /// Dotted lines to write on.
    fn blank_lines(&mut self, n: usize) {
        for _ in 0..n {
            self.ensure(20.0);
            self.y += 18.0;
            let y = self.y;
            let mut x = MARGIN;
            while x < PAGE_W - MARGIN {
                self.page().push(Op::Line {
                    x1: x,
                    y1: y,
                    x2: x + 1.2,
                    y2: y,
                    color: MUTED,
                    width: 0.6,
                });
                x += 3.0;
            }
        }
        self.y += 6.0;
    }

    /// A paragraph across the width; returns its height.
    fn para(&mut self, text: &str, size: f32, bold: bool, color: (u8, u8, u8)) {
        let lines = self.m.wrap(text, size, bold, PAGE_W - 2.0 * MARGIN);
        for l in lines {
            self.ensure(size * 1.45);
            self.y += size * 1.2;
            let y = self.y;
            self.text(MARGIN, y, size, bold, color, &l);
            self.y += size * 0.25;
        }
    }

    /// A heading kept on the page of the next `keep` points.
    fn heading_keep(&mut self, text: &str, keep: f32) {
        self.ensure(keep + 37.0);
        self.y += 14.0;
        let y = self.y + 12.0;
        self.text(MARGIN, y, 12.5, true, ACCENT, text);
        self.y += 17.0;
        let y = self.y;
        self.page().push(Op::Line {
            x1: MARGIN,
            y1: y,
            x2: PAGE_W - MARGIN,
            y2: y,
            color: RULE,
            width: 0.7,
        });
        self.y += 6.0;
    }

    /// A subheading kept on the page of the next `keep` points.
    fn subheading_keep(&mut self, text: &str, keep: f32) {
        self.ensure(keep + 21.0);
        self.y += 6.0;
        let y = self.y + 10.0;
        self.text(MARGIN, y, 10.0, true, INK, text);
        self.y += 15.0;
    }

    /// A table; the header is drawn again after a page break. Cells wrap; a cell's
    /// second line (`sub`) is muted.
    fn table(&mut self, tbl: &Table) {
        let width = PAGE_W - 2.0 * MARGIN;
        let total: f32 = tbl.cols.iter().map(|c| c.width).sum::<f32>().max(0.01);
        let widths: Vec<f32> = tbl.cols.iter().map(|c| c.width / total * width).collect();
        let pad = 3.0;
        let size = BODY - 0.5;
        let header = |l: &mut Layout| {
            let cells: Vec<Vec<String>> = tbl
                .cols
                .iter()
                .zip(&widths)
                .map(|(c, w)| l.m.wrap(&c.title, 8.0, true, w - 2.0 * pad))
                .collect();
            let h = cells.iter().map(Vec::len).max().unwrap_or(1) as f32 * 10.0 + 5.0;
            l.ensure(h + 16.0);
            let y0 = l.y;
            l.page().push(Op::Rect { x: MARGIN, y: y0, w: width, h, color: (0xf3, 0xf4, 0xf6) });
            let mut x = MARGIN;
            for ((lines, w), c) in cells.iter().zip(&widths).zip(&tbl.cols) {
                for (k, line) in lines.iter().enumerate() {
                    let tx = if c.num { x + w - pad - l.m.width(line, 8.0, true) } else { x + pad };
                    l.text(tx, y0 + 10.0 + 10.0 * k as f32, 8.0, true, INK, line);
                }
                x += w;
            }
            l.y += h;
        };
        header(self);
        for row in &tbl.rows {
            // Each cell's lines with their colour.
            let cells: Vec<Vec<Line>> = row
                .iter()
                .zip(&widths)
                .map(|(c, w)| {
                    let text = match &c.style {
                        Style::Severity(s) => format!("[{}] {}", t(self.lang, s), c.text),
                        _ => c.text.clone(),
                    };
                    let mut lines: Vec<Line> = self
                        .m
                        .wrap(&text, size, false, w - 2.0 * pad)
                        .into_iter()
                        .map(|l| (l, INK))
                        .collect();
                    if let Some(sub) = &c.sub {
                        lines.extend(
                            self.m
                                .wrap(sub, size, false, w - 2.0 * pad)
                                .into_iter()
                                .map(|l| (l, MUTED)),
                        );
                    }
                    lines
                })
                .collect();
            let h = cells.iter().map(Vec::len).max().unwrap_or(1) as f32 * 11.0 + 4.0;
            if self.y + h > BOTTOM {
                self.new_page();
                header(self);
            }
            let y0 = self.y;
            let mut x = MARGIN;
            for ((lines, w), c) in cells.iter().zip(&widths).zip(&tbl.cols) {
                for (k, (line, color)) in lines.iter().enumerate() {
                    let tx =
                        if c.num { x + w - pad - self.m.width(line, size, false) } else { x + pad };
                    self.text(tx, y0 + 10.5 + 11.0 * k as f32, size, false, *color, line);
                }
                x += w;
            }
            self.y += h;
            let y = self.y;
            self.page().push(Op::Line {
                x1: MARGIN,
                y1: y,
                x2: MARGIN + width,
                y2: y,
                color: (0xe5, 0xe7, 0xeb),
                width: 0.5,
            });
        }
        if tbl.rows.is_empty() {
            self.para(t(self.lang, "none"), BODY, false, MUTED);
        }
        self.y += 6.0;
    }

    /// A chart, on one page.
    fn chart(&mut self, c: &Chart) {
        self.ensure(c.height + 6.0);
        let (ox, oy) = (MARGIN, self.y);
        for s in &c.shapes {
            let op = match s {
                Shape::Rect { x, y, w, h, color } => {
                    Op::Rect { x: ox + x, y: oy + y, w: *w, h: *h, color: *color }
                }
                Shape::Line { x1, y1, x2, y2, color } => Op::Line {
                    x1: ox + x1,
                    y1: oy + y1,
                    x2: ox + x2,
                    y2: oy + y2,
                    color: *color,
                    width: 0.5,
                },
                Shape::Text { x, y, text, size, anchor, color } => {
                    let w = self.m.width(text, *size, false);
                    let x = match anchor {
                        Anchor::Start => *x,
                        Anchor::Middle => x - w / 2.0,
                        Anchor::End => x - w,
                    };
                    Op::Text {
                        x: ox + x,
                        y: oy + y,
                        size: *size,
                        bold: false,
                        color: *color,
                        text: text.clone(),
                    }
                }
            };
            self.page().push(op);
        }
        self.y += c.height + 6.0;
    }
}

fn color((r, g, b): (u8, u8, u8)) -> Fill {
    Fill {
        paint: rgb::Color::new(r, g, b).into(),
        opacity: NormalizedF32::ONE,
        rule: Default::default(),
    }
}

/// The blocks in reading order (columns one after the other).
fn flatten<'a>(blocks: &'a [Block], out: &mut Vec<&'a Block>) {
    for b in blocks {
        match b {
            Block::Columns(cols) => cols.iter().for_each(|c| flatten(c, out)),
            b => out.push(b),
        }
    }
}

/// The administrative heading (issuer and number left, the national motto and the
/// place and date right, each centred in its column), then the title block.
fn heading(l: &mut Layout, d: &super::document::Document, logo: bool) {
    let f = &d.official;
    let inner = PAGE_W - 2.0 * MARGIN;
    let (left_w, right_w) = (inner * 0.42, inner * 0.58);
    let (cl, cr) = (MARGIN + left_w / 2.0, MARGIN + left_w + right_w / 2.0);
    let mut yl = MARGIN + 10.0;
    l.centred(cl, yl, (9.0, false, INK), &f.bodies[0], left_w);
    for line in l.m.wrap(&f.bodies[1], 9.0, true, left_w - 8.0) {
        yl += 12.0;
        l.centred(cl, yl, (9.0, true, INK), &line, left_w);
    }
    l.short_rule(cl, yl + 5.0, 50.0);
    l.centred(cl, yl + 18.0, (9.0, false, INK), &f.number, left_w);
    let yr = MARGIN + 10.0;
    l.centred(cr, yr, (9.0, true, INK), f.nation[0], right_w);
    l.centred(cr, yr + 12.0, (9.5, true, INK), f.nation[1], right_w);
    let motto = l.m.width(f.nation[1], 9.5, true);
    l.short_rule(cr, yr + 17.0, motto);
    l.centred(cr, yr + 30.0, (9.0, false, INK), &f.place_date, right_w);
    let top = yl.max(yr + 12.0) + 36.0;
    if logo {
        l.page().push(Op::Logo { x: MARGIN, y: top - 6.0, w: 46.0, h: 46.0 });
    }
    let centre = PAGE_W / 2.0;
    l.centred(centre, top + 8.0, (14.0, true, ACCENT), &d.title, inner);
    l.centred(centre, top + 25.0, (11.0, true, INK), &format!("{} — {}", d.month, d.scope), inner);
    let meta = format!(
        "{}: {} – {} · {}: {}",
        t(l.lang, "period"),
        d.first_day,
        d.last_day,
        t(l.lang, "generated"),
        d.generated
    );
    l.centred(centre, top + 39.0, (8.5, false, MUTED), &meta, inner);
    let y = top + 47.0;
    l.page().push(Op::Line {
        x1: MARGIN,
        y1: y,
        x2: PAGE_W - MARGIN,
        y2: y,
        color: ACCENT,
        width: 1.5,
    });
    l.y = y + 4.0;
}

/// Recipients (left) and the signature block (right), kept together on a page.
fn closing(l: &mut Layout, d: &super::document::Document) {
    let f = &d.official;
    let inner = PAGE_W - 2.0 * MARGIN;
    let need = 30.0 + 11.0 * f.recipients.len() as f32;
    l.ensure(need.max(120.0));
    let y0 = l.y + 18.0;
    l.text(MARGIN, y0, 8.5, true, INK, &format!("{}:", t(l.lang, "recipients")));
    let mut y = y0;
    for r in &f.recipients {
        for line in l.m.wrap(&format!("- {r}"), 8.0, false, inner * 0.45) {
            y += 11.0;
            l.text(MARGIN, y, 8.0, false, INK, &line);
        }
    }
    let cr = MARGIN + inner * 0.75;
    l.centred(cr, y0, (10.0, true, INK), &f.signer_title, inner * 0.5);
    l.centred(cr, y0 + 80.0, (10.0, true, INK), &f.signer_name, inner * 0.5);
    l.y = y.max(y0 + 86.0);
}

/// The height that must follow a heading on its page: the next subheading and what it
/// introduces, a chart whole, a table's header and first rows.
fn lead(blocks: &[&Block], k: usize, lang: Lang) -> f32 {
    match blocks.get(k) {
        Some(Block::Sub(_)) => 21.0 + lead(blocks, k + 1, lang),
        Some(Block::Chart(spec)) => spec.chart(lang, PAGE_W - 2.0 * MARGIN).height + 6.0,
        Some(Block::Table(_)) => 45.0,
        Some(Block::Note(_)) => 15.0,
        Some(Block::Para(_)) | Some(Block::List(_)) => 30.0,
        _ => 0.0,
    }
}

/// The report as PDF bytes.
pub fn render(r: &Report, lang: Lang, cfg: &ReportConfig) -> Result<Vec<u8>, ReportError> {
    let d = document(r, lang, cfg);
    let mut l = Layout { m: Metrics::new()?, pages: Vec::new(), y: MARGIN, lang };
    let logo =
        cfg.logo.as_ref().and_then(|p| std::fs::read(p).ok()).filter(|b| b.starts_with(b"\x89PNG"));

    heading(&mut l, &d, logo.is_some());

    let mut flat = Vec::new();
    flatten(&d.blocks, &mut flat);
    for (k, b) in flat.iter().enumerate() {
        match b {
            Block::Heading { text, .. } => l.heading_keep(text, lead(&flat, k + 1, lang)),
            Block::Sub(text) => l.subheading_keep(text, lead(&flat, k + 1, lang)),
            Block::Table(tbl) => l.table(tbl),
            Block::Chart(spec) => l.chart(&spec.chart(lang, PAGE_W - 2.0 * MARGIN)),
            Block::Note(text) => l.para(text, BODY, false, MUTED),
            Block::Para(text) => l.para(text, BODY + 0.5, false, INK),
            Block::List(items) => {
                for i in items {
                    l.para(&format!("– {i}"), BODY, false, INK);
                }
                l.y += 4.0;
            }
            Block::Blank(n) => l.blank_lines(*n),
            Block::Columns(_) => {}
        }
    }
    closing(&mut l, &d);

    // Footers, now that the page count is known.
    let total = l.pages.len();
    for (k, p) in l.pages.iter_mut().enumerate() {
        let text = format!(
            "Gatewatch · {} · {} · {} {}/{}",
            d.issuer,
            d.month,
            t(lang, "page"),
            k + 1,
            total
        );
        p.push(Op::Line {
            x1: MARGIN,
            y1: PAGE_H - 34.0,
            x2: PAGE_W - MARGIN,
            y2: PAGE_H - 34.0,
            color: RULE,
            width: 0.5,
        });
        p.push(Op::Text {
            x: MARGIN,
            y: PAGE_H - 22.0,
            size: 7.5,
            bold: false,
            color: MUTED,
            text,
        });
    }
    let title = format!("{} — {} — {}", d.title, d.month, d.scope);
    draw(&l.pages, &title, lang, logo)
}

/// Writes the laid-out pages with krilla.
fn draw(
    pages: &[Vec<Op>],
    title: &str,
    lang: Lang,
    logo: Option<Vec<u8>>,
) -> Result<Vec<u8>, ReportError> {
    let font = |b: &'static [u8]| {
        Font::new(b.into(), 0)
            .ok_or_else(|| ReportError::Pdf("the bundled font does not load".into()))
    };
    let (regular, bold) = (font(REGULAR)?, font(BOLD)?);
    let image = logo.and_then(|b| krilla::image::Image::from_png(Arc::new(b).into(), true).ok());
    let mut doc = Document::new();
    doc.set_metadata(
        Metadata::new()
            .title(title.to_string())
            .language(lang.as_str().to_string())
            .creator("Gatewatch".to_string())
            .producer(format!("Gatewatch {}", env!("CARGO_PKG_VERSION"))),
    );
    let settings = PageSettings::from_wh(PAGE_W, PAGE_H)
        .ok_or_else(|| ReportError::Pdf("page size".into()))?;
    for ops in pages {
        let mut page = doc.start_page_with(settings.clone());
        let mut s = page.surface();
        for op in ops {
            match op {
                Op::Text { x, y, size, bold: b, color: c, text } => {
                    s.set_fill(Some(color(*c)));
                    let f = if *b { bold.clone() } else { regular.clone() };
                    s.draw_text(Point::from_xy(*x, *y), f, *size, text, false, TextDirection::Auto);
                }
                Op::Rect { x, y, w, h, color: c } => {
                    if let Some(rect) = Rect::from_xywh(*x, *y, w.max(0.01), h.max(0.01)) {
                        let mut pb = PathBuilder::new();
                        pb.push_rect(rect);
                        if let Some(path) = pb.finish() {
                            s.set_fill(Some(color(*c)));
                            s.set_stroke(None);
                            s.draw_path(&path);
                        }
                    }
                }
                Op::Line { x1, y1, x2, y2, color: c, width } => {
                    let mut pb = PathBuilder::new();
                    pb.move_to(*x1, *y1);
                    pb.line_to(*x2, *y2);
                    if let Some(path) = pb.finish() {
                        s.set_fill(None);
                        s.set_stroke(Some(Stroke {
                            paint: rgb::Color::new(c.0, c.1, c.2).into(),
                            width: *width,
                            ..Default::default()
                        }));
                        s.draw_path(&path);
                        s.set_stroke(None);
                    }
                }
                Op::Logo { x, y, w, h } => {
                    if let (Some(img), Some(size)) = (image.clone(), Size::from_wh(*w, *h)) {
                        s.push_transform(&Transform::from_translate(*x, *y));
                        s.draw_image(img, size);
                        s.pop();
                    }
                }
            }
        }
        s.finish();
        page.finish();
    }
    doc.finish().map_err(|e| ReportError::Pdf(format!("{e:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapping_measures_vietnamese_text() {
        let m = Metrics::new().unwrap();
        let w = m.width("Sở Thông tin và Truyền thông", 10.0, false);
        assert!(w > 100.0 && w < 200.0, "{w}");
        let lines = m.wrap(
            "Cố gắng xâm nhập vào Cổng thông tin điện tử của Sở Tài chính",
            9.0,
            false,
            120.0,
        );
        assert!(lines.len() >= 2);
        assert!(lines.iter().all(|l| m.width(l, 9.0, false) <= 120.0), "{lines:?}");
        assert_eq!(lines.join(" "), "Cố gắng xâm nhập vào Cổng thông tin điện tử của Sở Tài chính");
        // Every Vietnamese letter has a glyph in the bundled font.
        let letters = "ạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹđĐƯưƠơ";
        for c in letters.chars() {
            assert!(
                m.regular.glyph_index(c).is_some() && m.bold.glyph_index(c).is_some(),
                "no glyph for {c}"
            );
        }
    }
}
