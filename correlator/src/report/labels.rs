//! Labels, headings and number and date formats of the report, in Vietnamese and
//! English. Vietnamese writes `1.234,5` and `31/10/2026 14:05`; English writes
//! `1,234.5` and `31 Oct 2026 14:05`. Times are Vietnam time.

use super::figures::vietnam;
use super::Lang;

/// A label in a language (the key itself when a label is missing, which tests catch).
pub fn t(lang: Lang, key: &str) -> &'static str {
    let table: &[(&str, &str, &str)] = LABELS;
    for (k, vi, en) in table {
        if *k == key {
            return match lang {
                Lang::Vi => vi,
                Lang::En => en,
            };
        }
    }
    "?"
}

pub const LABELS: &[(&str, &str, &str)] = &[
    ("title", "BÁO CÁO TÌNH HÌNH AN TOÀN THÔNG TIN", "INFORMATION SECURITY SITUATION REPORT"),
    ("legal_basis", "Căn cứ", "Legal basis"),
    (
        "notification_rules",
        "Quy định về thông báo sự cố được áp dụng",
        "Incident-notification rules applied",
    ),
    ("assessment", "Đánh giá chung", "Overall assessment"),
    ("vs_previous", "So với tháng trước", "Compared with the previous month"),
    ("indicator", "Chỉ tiêu", "Figure"),
    ("change", "Thay đổi", "Change"),
    ("s_recommendations", "9. Kiến nghị, đề xuất", "9. Recommendations"),
    ("recipients", "Nơi nhận", "Recipients"),
    ("month_of", "Tháng", "Month"),
    ("agency", "Cơ quan, đơn vị", "Agency"),
    ("period", "Kỳ báo cáo", "Period"),
    ("generated", "Lập lúc", "Generated"),
    ("issuer", "Đơn vị lập", "Issued by"),
    ("s_summary", "1. Tóm tắt", "1. Summary"),
    ("s_scope", "3. Phạm vi giám sát", "3. Scope of monitoring"),
    ("s_incidents", "4. Sự cố", "4. Incidents"),
    ("s_handling", "5. Xử lý sự cố", "5. Incident handling"),
    ("s_threats", "6. Nguồn tấn công và đối tượng bị tấn công", "6. Attack sources and targets"),
    ("s_response", "7. Phản ứng tự động", "7. Automated response"),
    ("s_sensors", "8. Tình trạng cảm biến", "8. Sensor health"),
    ("s_serious", "2. Sự cố mức cao và nghiêm trọng", "2. High and critical incidents"),
    ("incidents", "Sự cố", "Incidents"),
    ("alerts", "Cảnh báo", "Alerts"),
    ("total", "Tổng số", "Total"),
    ("by_class", "Theo phân loại (ENISA RSIT)", "By class (ENISA RSIT)"),
    ("by_severity", "Theo mức độ", "By severity"),
    ("by_status", "Theo trạng thái", "By status"),
    ("by_agency", "Theo cơ quan", "By agency"),
    ("trend", "Xu hướng các tháng", "Trend over the months"),
    ("critical", "Nghiêm trọng", "Critical"),
    ("high", "Cao", "High"),
    ("medium", "Trung bình", "Medium"),
    ("low", "Thấp", "Low"),
    ("new", "Mới", "New"),
    ("acknowledged", "Đã tiếp nhận", "Acknowledged"),
    ("in_progress", "Đang xử lý", "In progress"),
    ("resolved", "Đã xử lý", "Resolved"),
    ("false_positive", "Cảnh báo sai", "False positive"),
    ("malicious-code", "Mã độc", "Malicious code"),
    ("information-gathering", "Thu thập thông tin", "Information gathering"),
    ("intrusion-attempts", "Cố gắng xâm nhập", "Intrusion attempts"),
    ("intrusions", "Xâm nhập", "Intrusions"),
    ("availability", "Tính sẵn sàng", "Availability"),
    ("fraud", "Gian lận", "Fraud"),
    ("vulnerable", "Điểm yếu, lỗ hổng", "Vulnerable"),
    ("abusive-content", "Nội dung lạm dụng", "Abusive content"),
    ("information-content-security", "An toàn nội dung thông tin", "Information content security"),
    ("other", "Khác", "Other"),
    ("tta", "Thời gian tiếp nhận", "Time to acknowledge"),
    ("ttr", "Thời gian xử lý", "Time to resolve"),
    ("median", "Trung vị", "Median"),
    ("p90", "Phân vị 90", "90th percentile"),
    ("count", "Số lượng", "Count"),
    ("deadline", "Thời hạn", "Deadline"),
    ("met", "Đúng hạn", "Met"),
    ("missed", "Quá hạn", "Missed"),
    ("pending", "Chưa đến hạn", "Not yet due"),
    ("share_met", "Tỷ lệ đúng hạn", "Share met"),
    ("fp_rate", "Tỷ lệ cảnh báo sai", "False-positive rate"),
    ("deadline_met", "Xử lý, báo cáo đúng hạn", "Handled and reported on time"),
    ("closed", "Đã đóng", "Closed"),
    ("top_signatures", "Luật phát hiện nhiều nhất", "Top signatures"),
    ("top_sources", "Nguồn tấn công nhiều nhất", "Top attacking sources"),
    ("top_targets", "Tài sản bị tấn công nhiều nhất", "Most targeted assets"),
    ("signature", "Luật", "Signature"),
    ("source", "Nguồn", "Source"),
    ("country", "Quốc gia", "Country"),
    ("asset", "Tài sản", "Asset"),
    ("system", "Hệ thống", "System"),
    ("level", "Cấp độ", "Level"),
    ("systems_by_level", "Hệ thống theo cấp độ an toàn", "Systems by security level"),
    ("network", "Dải mạng", "Network"),
    ("criticality", "Mức quan trọng", "Criticality"),
    ("sensors", "Cảm biến", "Sensors"),
    ("sensor", "Cảm biến", "Sensor"),
    ("coverage", "Cơ quan được giám sát", "Agencies covered"),
    ("executed", "Đã chặn", "Executed"),
    ("dry-run", "Chạy thử", "Dry-run"),
    ("skipped-allowlist", "Bỏ qua (danh sách cho phép)", "Skipped (allowlist)"),
    ("undone", "Đã bỏ chặn", "Undone"),
    ("expired", "Hết hạn", "Expired"),
    ("rate-limited", "Vượt ngưỡng", "Rate-limited"),
    ("awaiting-approval", "Chờ phê duyệt", "Awaiting approval"),
    ("approved", "Đã phê duyệt", "Approved"),
    ("denied", "Từ chối", "Denied"),
    ("failed", "Thất bại", "Failed"),
    ("pending_block", "Đang thực hiện", "Pending"),
    ("undo-requested", "Yêu cầu bỏ chặn", "Undo requested"),
    ("attempt-failed", "Lần thử lỗi", "Failed attempts"),
    ("effect", "Hiệu quả", "Effect"),
    ("blocked_sources", "Nguồn bị chặn", "Sources blocked"),
    ("alerts_before", "Cảnh báo 24 giờ trước khi chặn", "Alerts in the 24 h before"),
    ("alerts_after", "Cảnh báo 24 giờ sau khi chặn", "Alerts in the 24 h after"),
    ("uptime", "Thời gian hoạt động", "Uptime"),
    ("reads_files", "Đọc tệp ghi", "Read capture files"),
    ("packets", "Gói tin", "Packets"),
    ("drop_rate", "Tỷ lệ mất gói", "Drop rate"),
    ("version", "Phiên bản", "Version"),
    ("rules", "Bộ luật", "Rule set"),
    ("rule_updates", "Cập nhật bộ luật", "Rule updates"),
    ("last_heartbeat", "Tín hiệu cuối", "Last heartbeat"),
    ("heartbeats", "Số tín hiệu", "Heartbeats"),
    (
        "no_sensor_data",
        "Không có dữ liệu tín hiệu của cảm biến trong kỳ.",
        "No sensor heartbeats in the period.",
    ),
    ("id", "Số", "No."),
    ("title_col", "Sự cố", "Incident"),
    ("first_seen", "Phát hiện", "First seen"),
    ("status", "Trạng thái", "Status"),
    ("resolution", "Kết quả xử lý", "Resolution"),
    ("none", "Không có.", "None."),
    ("score", "Điểm", "Score"),
    ("summary_text", "Trong kỳ, hệ thống ghi nhận", "In the period, Gatewatch recorded"),
    ("of_which", "trong đó", "of which"),
    ("critical_high", "mức cao và nghiêm trọng", "high or critical"),
    ("col_critical_high", "Cao và nghiêm trọng", "High or critical"),
    ("page", "Trang", "Page"),
    ("agencies", "Cơ quan", "Agencies"),
    ("steps", "Quyết định", "Decisions"),
    (
        "more_serious",
        "sự cố mức cao và nghiêm trọng khác (báo cáo JSON liệt kê đầy đủ)",
        "more high and critical incidents (the JSON report lists them all)",
    ),
];

fn group(int: u64, sep: char) -> String {
    let s = int.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(sep);
        }
        out.push(c);
    }
    out
}

/// `1234567` → `1.234.567` (vi) or `1,234,567` (en).
pub fn number(lang: Lang, n: u64) -> String {
    group(n, if lang == Lang::Vi { '.' } else { ',' })
}

/// A share as a percentage with one decimal: `93,5%` or `93.5%`; `—` for none.
pub fn percent(lang: Lang, share: Option<f64>) -> String {
    let Some(s) = share else { return "—".into() };
    let p = (s * 1000.0).round() / 10.0;
    let text = format!("{p:.1}%");
    if lang == Lang::Vi {
        text.replace('.', ",")
    } else {
        text
    }
}

/// A duration: `3 ngày 4 giờ`, `2 giờ 15 phút`, `40 giây` / `3 d 4 h`, `2 h 15 min`.
pub fn duration(lang: Lang, secs: Option<u64>) -> String {
    let Some(s) = secs else { return "—".into() };
    let (d, h, m) = (s / 86_400, s % 86_400 / 3600, s % 3600 / 60);
    let (ud, uh, um, us) = match lang {
        Lang::Vi => ("ngày", "giờ", "phút", "giây"),
        Lang::En => ("d", "h", "min", "s"),
    };
    match (d, h, m) {
        (0, 0, 0) => format!("{s} {us}"),
        (0, 0, m) => format!("{m} {um}"),
        (0, h, 0) => format!("{h} {uh}"),
        (0, h, m) => format!("{h} {uh} {m} {um}"),
        (d, 0, _) => format!("{d} {ud}"),
        (d, h, _) => format!("{d} {ud} {h} {uh}"),
    }
}

const MONTHS_EN: [&str; 12] =
    ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const MONTHS_EN_LONG: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

fn local(iso: &str) -> Option<chrono::DateTime<chrono::FixedOffset>> {
    chrono::DateTime::parse_from_rfc3339(iso).ok().map(|d| d.with_timezone(&vietnam()))
}

/// A time as the report shows it (Vietnam time).
pub fn datetime(lang: Lang, iso: &str) -> String {
    use chrono::{Datelike, Timelike};
    let Some(d) = local(iso) else { return iso.to_string() };
    match lang {
        Lang::Vi => format!(
            "{:02}/{:02}/{} {:02}:{:02}",
            d.day(),
            d.month(),
            d.year(),
            d.hour(),
            d.minute()
        ),
        Lang::En => format!(
            "{} {} {} {:02}:{:02}",
            d.day(),
            MONTHS_EN[d.month0() as usize],
            d.year(),
            d.hour(),
            d.minute()
        ),
    }
}

/// A date: `31/10/2026`, `31 Oct 2026`.
pub fn date(lang: Lang, iso: &str) -> String {
    use chrono::Datelike;
    let Some(d) = local(iso) else { return iso.to_string() };
    match lang {
        Lang::Vi => format!("{:02}/{:02}/{}", d.day(), d.month(), d.year()),
        Lang::En => format!("{} {} {}", d.day(), MONTHS_EN[d.month0() as usize], d.year()),
    }
}

/// `2026-10` → `Tháng 10/2026`, `October 2026`; `10/2026`, `Oct 2026` when `short`.
pub fn month(lang: Lang, label: &str, short: bool) -> String {
    let Some((y, m)) = label.split_once('-') else { return label.to_string() };
    let m: usize = m.parse().unwrap_or(1).clamp(1, 12);
    match (lang, short) {
        (Lang::Vi, false) => format!("Tháng {m}/{y}"),
        (Lang::Vi, true) => format!("{m}/{y}"),
        (Lang::En, false) => format!("{} {y}", MONTHS_EN_LONG[m - 1]),
        (Lang::En, true) => format!("{} {y}", MONTHS_EN[m - 1]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(
            (number(Lang::Vi, 1_234_567), number(Lang::En, 1_234_567)),
            ("1.234.567".into(), "1,234,567".into())
        );
        assert_eq!(number(Lang::Vi, 999), "999");
        assert_eq!(
            (percent(Lang::Vi, Some(0.935)), percent(Lang::En, Some(0.935))),
            ("93,5%".into(), "93.5%".into())
        );
        assert_eq!(duration(Lang::Vi, Some(8100)), "2 giờ 15 phút");
        assert_eq!(duration(Lang::En, Some(3 * 86_400 + 4 * 3600 + 5)), "3 d 4 h");
        assert_eq!(duration(Lang::En, None), "—");
        assert_eq!(datetime(Lang::Vi, "2026-10-31T07:05:00Z"), "31/10/2026 14:05");
        assert_eq!(datetime(Lang::En, "2026-10-31T07:05:00Z"), "31 Oct 2026 14:05");
        assert_eq!(month(Lang::Vi, "2026-10", false), "Tháng 10/2026");
        assert_eq!(month(Lang::En, "2026-10", false), "October 2026");
    }

    #[test]
    fn every_label_has_both_languages() {
        for (k, vi, en) in LABELS {
            assert!(!vi.is_empty() && !en.is_empty(), "{k}");
        }
        let mut keys: Vec<&str> = LABELS.iter().map(|l| l.0).collect();
        keys.sort_unstable();
        let n = keys.len();
        keys.dedup();
        assert_eq!(keys.len(), n, "a label key twice");
    }
}

/// An incident's title in `lang`: the store writes it in English from parts (the
/// leading rule's message, " and N more rules", " — ", the entity's label); the rule's
/// message stays as the rule wrote it.
pub fn incident_title(lang: Lang, title: &str) -> String {
    if lang == Lang::En {
        return title.to_string();
    }
    let Some((head, label)) = title.rsplit_once(" — ") else { return title.to_string() };
    let head = match head.rsplit_once(" and ") {
        Some((sig, more)) => {
            let n = more.strip_suffix(" more rules").or_else(|| more.strip_suffix(" more rule"));
            match n.filter(|n| n.parse::<u32>().is_ok()) {
                Some(n) => format!("{sig} và {n} luật khác"),
                None => head.to_string(),
            }
        }
        None => head.to_string(),
    };
    let label = label
        .replace(" (external)", " (bên ngoài)")
        .replace(" (internal, not in the inventory)", " (nội bộ, chưa kiểm kê)");
    let label = match label.split_once(' ') {
        Some(("host", rest)) => format!("máy {rest}"),
        Some(("sensor", rest)) => format!("cảm biến {rest}"),
        _ => label,
    };
    format!("{head} — {label}")
}

#[cfg(test)]
mod title_tests {
    use super::*;

    #[test]
    fn incident_titles_in_vietnamese() {
        let t = "GW-DEMO Log4j attempt and 3 more rules — 10.46.10.20 (Sở Tài chính · Cổng)";
        assert_eq!(
            incident_title(Lang::Vi, t),
            "GW-DEMO Log4j attempt và 3 luật khác — 10.46.10.20 (Sở Tài chính · Cổng)"
        );
        assert_eq!(incident_title(Lang::En, t), t);
        assert_eq!(
            incident_title(Lang::Vi, "ET SCAN x — 203.0.113.9 (external)"),
            "ET SCAN x — 203.0.113.9 (bên ngoài)"
        );
        assert_eq!(
            incident_title(Lang::Vi, "rule A and B — host db01 (internal, not in the inventory)"),
            "rule A and B — máy db01 (nội bộ, chưa kiểm kê)",
            "\"and\" in a rule's message is left alone"
        );
    }
}
