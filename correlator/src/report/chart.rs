//! Charts as shapes (rectangles, lines, text), drawn by the HTML rendering as SVG and by
//! the PDF rendering on its page: one geometry, two outputs. Coordinates are points,
//! origin top left, y down.

use super::figures::MonthCount;
use super::labels::{month, number, t};
use super::Lang;

pub const SEVERITIES: [&str; 4] = ["critical", "high", "medium", "low"];

/// ENISA RSIT classes in the order the report lists them.
pub const CLASSES: [&str; 10] = [
    "malicious-code",
    "information-gathering",
    "intrusion-attempts",
    "intrusions",
    "availability",
    "fraud",
    "vulnerable",
    "abusive-content",
    "information-content-security",
    "other",
];

/// Colours of the severities (as in the console).
pub fn severity_color(s: &str) -> (u8, u8, u8) {
    match s {
        "critical" => (0xb3, 0x26, 0x1e),
        "high" => (0xe8, 0x59, 0x0c),
        "medium" => (0xc9, 0x97, 0x00),
        _ => (0x4a, 0x7c, 0x59),
    }
}

pub const INK: (u8, u8, u8) = (0x1f, 0x29, 0x37);
pub const MUTED: (u8, u8, u8) = (0x6b, 0x72, 0x80);
pub const ACCENT: (u8, u8, u8) = (0x1d, 0x4e, 0x89);
pub const RULE: (u8, u8, u8) = (0xd1, 0xd5, 0xdb);

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Anchor {
    Start,
    Middle,
    End,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Shape {
    Rect { x: f32, y: f32, w: f32, h: f32, color: (u8, u8, u8) },
    Line { x1: f32, y1: f32, x2: f32, y2: f32, color: (u8, u8, u8) },
    Text { x: f32, y: f32, text: String, size: f32, anchor: Anchor, color: (u8, u8, u8) },
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Chart {
    pub width: f32,
    pub height: f32,
    pub shapes: Vec<Shape>,
    /// What the chart shows, for screen readers and the PDF's alternative text.
    pub title: String,
}

/// Incidents by month, stacked by severity, with the totals above the bars and a
/// legend below.
pub fn trend(months: &[MonthCount], lang: Lang, width: f32) -> Chart {
    let height = 190.0;
    let (left, top, bottom) = (34.0, 16.0, 150.0);
    let plot_h = bottom - top;
    let max = months.iter().map(|m| m.total).max().unwrap_or(0).max(1);
    // Four grid steps of 1, 2 or 5 × 10^k.
    let step = (0..19u32)
        .flat_map(|e| [1u64, 2, 5].map(|m| m * 10u64.pow(e)))
        .find(|s| s * 4 >= max)
        .unwrap_or(max);
    let top_value = step * 4;
    let mut c = Chart { width, height, shapes: Vec::new(), title: t(lang, "trend").to_string() };
    for k in 0..=4 {
        let v = top_value * k / 4;
        let y = bottom - plot_h * k as f32 / 4.0;
        c.shapes.push(Shape::Line { x1: left, y1: y, x2: width - 4.0, y2: y, color: RULE });
        c.shapes.push(Shape::Text {
            x: left - 4.0,
            y: y + 3.0,
            text: number(lang, v),
            size: 7.0,
            anchor: Anchor::End,
            color: MUTED,
        });
    }
    let n = months.len().max(1) as f32;
    let slot = (width - left - 8.0) / n;
    let bar = (slot * 0.6).min(48.0);
    for (i, m) in months.iter().enumerate() {
        let x = left + slot * i as f32 + (slot - bar) / 2.0;
        let mut y = bottom;
        for s in SEVERITIES.iter().rev() {
            let v = m.by_severity.get(*s).copied().unwrap_or(0);
            if v == 0 {
                continue;
            }
            let h = plot_h * v as f32 / top_value as f32;
            y -= h;
            c.shapes.push(Shape::Rect { x, y, w: bar, h, color: severity_color(s) });
        }
        c.shapes.push(Shape::Text {
            x: x + bar / 2.0,
            y: y - 3.0,
            text: number(lang, m.total),
            size: 7.5,
            anchor: Anchor::Middle,
            color: INK,
        });
        c.shapes.push(Shape::Text {
            x: x + bar / 2.0,
            y: bottom + 11.0,
            text: month(lang, &m.month, true),
            size: 7.5,
            anchor: Anchor::Middle,
            color: INK,
        });
    }
    let mut x = left;
    for s in SEVERITIES {
        c.shapes.push(Shape::Rect {
            x,
            y: height - 16.0,
            w: 8.0,
            h: 8.0,
            color: severity_color(s),
        });
        let label = t(lang, s).to_string();
        let w = 14.0 + label.chars().count() as f32 * 4.6;
        c.shapes.push(Shape::Text {
            x: x + 11.0,
            y: height - 9.0,
            text: label,
            size: 7.5,
            anchor: Anchor::Start,
            color: INK,
        });
        x += w + 10.0;
    }
    c
}

/// Horizontal bars with their labels and values, one per line.
pub fn bars(items: &[(String, u64, (u8, u8, u8))], lang: Lang, width: f32, title: &str) -> Chart {
    let line = 15.0;
    let label_w = (width * 0.42).min(210.0);
    let max = items.iter().map(|i| i.1).max().unwrap_or(0).max(1);
    let mut c = Chart {
        width,
        height: line * items.len() as f32 + 4.0,
        shapes: Vec::new(),
        title: title.to_string(),
    };
    for (i, (label, v, color)) in items.iter().enumerate() {
        let y = line * i as f32 + 2.0;
        c.shapes.push(Shape::Text {
            x: 0.0,
            y: y + 9.5,
            text: label.clone(),
            size: 8.0,
            anchor: Anchor::Start,
            color: INK,
        });
        let w = (width - label_w - 44.0) * *v as f32 / max as f32;
        if *v > 0 {
            c.shapes.push(Shape::Rect {
                x: label_w,
                y: y + 2.0,
                w: w.max(1.0),
                h: 10.0,
                color: *color,
            });
        }
        c.shapes.push(Shape::Text {
            x: label_w + w + 4.0,
            y: y + 10.0,
            text: number(lang, *v),
            size: 8.0,
            anchor: Anchor::Start,
            color: INK,
        });
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_largest_and_stack_by_severity() {
        let mut m =
            MonthCount { month: "2026-10".into(), total: 7, by_severity: Default::default() };
        m.by_severity.insert("critical".into(), 2);
        m.by_severity.insert("low".into(), 5);
        let c = trend(&[m], Lang::Vi, 300.0);
        let rects: Vec<&Shape> =
            c.shapes.iter().filter(|s| matches!(s, Shape::Rect { w, .. } if *w > 8.0)).collect();
        assert_eq!(rects.len(), 2, "one rectangle per severity present");
        assert!(c
            .shapes
            .iter()
            .any(|s| matches!(s, Shape::Text { text, .. } if text == "10/2026")));
        let b = bars(&[("a".into(), 10, INK), ("b".into(), 5, INK)], Lang::En, 300.0, "x");
        let widths: Vec<f32> = b
            .shapes
            .iter()
            .filter_map(|s| if let Shape::Rect { w, .. } = s { Some(*w) } else { None })
            .collect();
        assert_eq!(widths.len(), 2);
        assert!((widths[0] - 2.0 * widths[1]).abs() < 0.01);
    }
}
