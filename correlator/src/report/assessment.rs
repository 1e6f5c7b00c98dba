//! The summary page's reading of the figures: the overall assessment (Đánh giá chung),
//! written from the month's headline figures and their change since the month before,
//! and the month-over-month table. Nothing here is typed in: every word follows from a
//! number.

use super::document::{Block, Cell, Col, Style, Table};
use super::figures::{Headline, Report};
use super::labels::{duration, month, number, percent, t};
use super::Lang;

/// The size of a change: "3 (+50%)", "3 (−75%)" (no share when there was nothing
/// before); `None` when nothing changed.
fn change_size(lang: Lang, now: u64, before: u64) -> Option<String> {
    let d = now.abs_diff(before);
    if d == 0 {
        return None;
    }
    let sign = if now > before { '+' } else { '−' };
    let pct = if before > 0 {
        format!(" ({sign}{:.0}%)", d as f64 / before as f64 * 100.0)
    } else {
        String::new()
    };
    Some(format!("{}{pct}", number(lang, d)))
}

/// A change in words: "tăng 3 (+50%)", "giảm 2 (−40%)", "không đổi" / "up 3 (+50%)".
fn change_words(lang: Lang, now: u64, before: u64) -> String {
    let vi = lang == Lang::Vi;
    match change_size(lang, now, before) {
        None if vi => "không đổi".into(),
        None => "unchanged".into(),
        Some(size) => {
            let verb = match (now > before, vi) {
                (true, true) => "tăng",
                (true, false) => "up",
                (false, true) => "giảm",
                (false, false) => "down",
            };
            format!("{verb} {size}")
        }
    }
}

/// The overall assessment, one paragraph.
pub fn text(r: &Report, lang: Lang) -> String {
    let (h, p) = (&r.headline, &r.previous);
    let (m, pm) = (month(lang, &h.month, false), month(lang, &p.month, false));
    let n = |v: u64| number(lang, v);
    let change = change_words(lang, h.incidents, p.incidents);
    let met = h.deadline_met.map(|s| percent(lang, Some(s)));
    if lang == Lang::Vi {
        if h.incidents == 0 {
            return format!(
                "Trong {}, hệ thống giám sát không ghi nhận sự cố nào ({} so với {}).",
                m.to_lowercase(),
                change,
                pm.to_lowercase()
            );
        }
        let mut s = format!(
            "Trong {}, hệ thống giám sát ghi nhận {} sự cố ({} so với {}) với {} cảnh báo, trong đó {} sự cố mức cao và nghiêm trọng.",
            m.to_lowercase(), n(h.incidents), change, pm.to_lowercase(), n(h.alerts), n(h.critical_high)
        );
        if let Some(tta) = h.tta_median_secs {
            s.push_str(&format!(" Thời gian tiếp nhận trung vị {}.", duration(lang, Some(tta))));
        }
        if let Some(met) = met {
            s.push_str(&format!(" Tỷ lệ sự cố được xử lý, báo cáo đúng hạn: {met}."));
        }
        s.push_str(&format!(" Đã thực hiện {} lệnh chặn tự động.", n(h.blocks_executed)));
        s
    } else {
        if h.incidents == 0 {
            return format!("In {m}, monitoring recorded no incident ({change} on {pm}).");
        }
        let mut s = format!(
            "In {m}, monitoring recorded {} incidents ({change} on {pm}) with {} alerts, {} of them high or critical.",
            n(h.incidents), n(h.alerts), n(h.critical_high)
        );
        if let Some(tta) = h.tta_median_secs {
            s.push_str(&format!(" Median time to acknowledge: {}.", duration(lang, Some(tta))));
        }
        if let Some(met) = met {
            s.push_str(&format!(" Handled and reported within the deadline: {met}."));
        }
        s.push_str(&format!(" Automated blocks carried out: {}.", n(h.blocks_executed)));
        s
    }
}

/// The month-over-month table: each headline figure, last month's, the change.
pub fn comparison(r: &Report, lang: Lang) -> Block {
    let (h, p) = (&r.headline, &r.previous);
    let arrow = |up: bool| if up { "▲" } else { "▼" };
    let count = |now: u64, before: u64| -> String {
        match change_size(lang, now, before) {
            Some(size) => format!("{} {size}", arrow(now > before)),
            None => "=".into(),
        }
    };
    let time = |now: Option<u64>, before: Option<u64>| match (now, before) {
        (Some(a), Some(b)) if a == b => "=".into(),
        (Some(a), Some(b)) => format!("{} {}", arrow(a > b), duration(lang, Some(a.abs_diff(b)))),
        _ => "—".into(),
    };
    let share = |now: Option<f64>, before: Option<f64>| match (now, before) {
        (Some(a), Some(b)) if (a - b).abs() < 0.0005 => "=".into(),
        (Some(a), Some(b)) => {
            let pts = format!("{:.1}", (a - b).abs() * 100.0);
            let pts = if lang == Lang::Vi { pts.replace('.', ",") } else { pts };
            format!("{} {pts} {}", arrow(a > b), if lang == Lang::Vi { "điểm %" } else { "pp" })
        }
        _ => "—".into(),
    };
    let n = |v: u64| number(lang, v);
    let dl = |v: Option<u64>| duration(lang, v);
    let pc = |v: Option<f64>| percent(lang, v);
    let rows: Vec<[String; 4]> = vec![
        [
            t(lang, "incidents").into(),
            n(h.incidents),
            n(p.incidents),
            count(h.incidents, p.incidents),
        ],
        [
            format!("{} {}", t(lang, "of_which"), t(lang, "critical_high")),
            n(h.critical_high),
            n(p.critical_high),
            count(h.critical_high, p.critical_high),
        ],
        [t(lang, "alerts").into(), n(h.alerts), n(p.alerts), count(h.alerts, p.alerts)],
        headline_time(lang, "tta", h, p, |x| x.tta_median_secs, &dl, &time),
        headline_time(lang, "ttr", h, p, |x| x.ttr_median_secs, &dl, &time),
        [
            r.handling
                .deadlines
                .last()
                .map(|d| if lang == Lang::Vi { d.label.clone() } else { d.label_en.clone() })
                .unwrap_or_else(|| t(lang, "deadline_met").into()),
            pc(h.deadline_met),
            pc(p.deadline_met),
            share(h.deadline_met, p.deadline_met),
        ],
        [
            t(lang, "fp_rate").into(),
            pc(h.false_positive_rate),
            pc(p.false_positive_rate),
            share(h.false_positive_rate, p.false_positive_rate),
        ],
        [
            t(lang, "executed").into(),
            n(h.blocks_executed),
            n(p.blocks_executed),
            count(h.blocks_executed, p.blocks_executed),
        ],
    ];
    let cell = |text: String| Cell { text, sub: None, style: Style::Plain };
    let col = |title: String, width: f32, num: bool| Col { title, width, num };
    Block::Table(Table {
        cols: vec![
            col(t(lang, "indicator").into(), 2.2, false),
            col(month(lang, &h.month, false), 1.0, true),
            col(month(lang, &p.month, false), 1.0, true),
            col(t(lang, "change").into(), 1.3, true),
        ],
        rows: rows.into_iter().map(|r| r.into_iter().map(cell).collect()).collect(),
    })
}

/// A median-duration row (its label followed by "(median)").
fn headline_time(
    lang: Lang,
    key: &str,
    h: &Headline,
    p: &Headline,
    get: impl Fn(&Headline) -> Option<u64>,
    dl: &dyn Fn(Option<u64>) -> String,
    time: &dyn Fn(Option<u64>, Option<u64>) -> String,
) -> [String; 4] {
    [
        format!("{} ({})", t(lang, key), t(lang, "median").to_lowercase()),
        dl(get(h)),
        dl(get(p)),
        time(get(h), get(p)),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_in_words() {
        assert_eq!(change_words(Lang::Vi, 3, 2), "tăng 1 (+50%)");
        assert_eq!(change_words(Lang::Vi, 1, 4), "giảm 3 (−75%)");
        assert_eq!(change_words(Lang::En, 3, 0), "up 3");
        assert_eq!(change_words(Lang::En, 5, 5), "unchanged");
    }
}
