//! The report as an administrative document (`[report.document]`): the national
//! heading, the issuing body and its parent, the number and the place-and-date line,
//! the legal basis and notification rules it applies, the recipients (Nơi nhận) and
//! the signature block. Every text comes from the configuration because the texts in
//! force and the authorities responsible change (state management of network
//! information security moved to the Ministry of Public Security on 1 March 2025); the
//! defaults are Huế's, checked on 2026-12-06 (see the README).

use serde::{Deserialize, Serialize};

use super::Lang;

/// `[report.document]`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct DocumentConfig {
    /// The body the issuer belongs to (cơ quan chủ quản), first line of the heading.
    pub parent_body: String,
    pub(crate) parent_body_en: String,
    /// After "Số:"; blank before the slash by default, for the records office.
    pub number: String,
    /// The place of the date line: "Huế, ngày 03 tháng 11 năm 2026".
    pub place: String,
    pub(crate) place_en: String,
    /// The texts the report is made under (Căn cứ), one per line.
    pub legal_basis: Vec<String>,
    pub(crate) legal_basis_en: Vec<String>,
    /// The incident-notification rules it applies, one per line.
    pub notification: Vec<String>,
    pub(crate) notification_en: Vec<String>,
    /// Nơi nhận, one per line.
    pub recipients: Vec<String>,
    pub(crate) recipients_en: Vec<String>,
    /// The signer's title (GIÁM ĐỐC).
    pub signer_title: String,
    pub(crate) signer_title_en: String,
    /// The signer's name (blank: written by hand under the signature).
    pub signer_name: String,
}

impl Default for DocumentConfig {
    fn default() -> Self {
        let lines = |l: &[&str]| l.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        DocumentConfig {
            parent_body: "UBND THÀNH PHỐ HUẾ".into(),
            parent_body_en: "HUE CITY PEOPLE'S COMMITTEE".into(),
            number: "      /BC-SOC".into(),
            place: "Huế".into(),
            place_en: "Hue".into(),
            legal_basis: lines(&[
                "Luật An ninh mạng được Quốc hội thông qua ngày 10/12/2025;",
                "Nghị định số 85/2016/NĐ-CP ngày 01/7/2016 của Chính phủ về bảo đảm an toàn hệ thống thông tin theo cấp độ;",
                "Thông tư số 12/2022/TT-BTTTT ngày 12/8/2022 hướng dẫn Nghị định số 85/2016/NĐ-CP;",
                "Quyết định số 05/2017/QĐ-TTg ngày 16/3/2017 của Thủ tướng Chính phủ về hệ thống phương án ứng cứu khẩn cấp bảo đảm an toàn thông tin mạng quốc gia.",
            ]),
            legal_basis_en: lines(&[
                "The Law on Cybersecurity passed by the National Assembly on 10 December 2025;",
                "Decree 85/2016/NĐ-CP of 1 July 2016 on the security of information systems by level;",
                "Circular 12/2022/TT-BTTTT of 12 August 2022 guiding Decree 85/2016/NĐ-CP;",
                "Decision 05/2017/QĐ-TTg of 16 March 2017 on the national emergency response plans for network information security.",
            ]),
            notification: lines(&[
                "Thông tư số 20/2017/TT-BTTTT ngày 12/9/2017 quy định về điều phối, ứng cứu sự cố an toàn thông tin mạng trên toàn quốc: sự cố được báo cáo cơ quan chủ quản và cơ quan điều phối;",
                "Từ ngày 01/3/2025, Bộ Công an (Cục An ninh mạng và phòng, chống tội phạm sử dụng công nghệ cao – A05) thực hiện quản lý nhà nước về an toàn thông tin mạng: sự cố mức cao và nghiêm trọng được thông báo cho Công an thành phố.",
            ]),
            notification_en: lines(&[
                "Circular 20/2017/TT-BTTTT of 12 September 2017 on coordinating the response to network information security incidents: incidents are reported to the governing body and the coordinating body;",
                "Since 1 March 2025 the Ministry of Public Security (Department of Cybersecurity and High-Tech Crime Prevention, A05) manages network information security: high and critical incidents are notified to the City Police.",
            ]),
            recipients: lines(&[
                "UBND thành phố (để báo cáo);",
                "Công an thành phố (để phối hợp);",
                "Các cơ quan, đơn vị trong báo cáo;",
                "Lưu: VT, SOC.",
            ]),
            recipients_en: lines(&[
                "Hue City People's Committee (for reporting);",
                "City Police (for coordination);",
                "The agencies in this report;",
                "Filed: records office, SOC.",
            ]),
            signer_title: "GIÁM ĐỐC".into(),
            signer_title_en: "DIRECTOR".into(),
            signer_name: String::new(),
        }
    }
}

/// The parts of the administrative form in one language, as the renderings draw them.
pub(crate) struct Official {
    /// "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc".
    pub nation: [&'static str; 2],
    /// The parent body and the issuer (upper case).
    pub bodies: [String; 2],
    /// "Số: …/BC-SOC".
    pub number: String,
    /// "Huế, ngày 03 tháng 11 năm 2026".
    pub place_date: String,
    pub legal_basis: Vec<String>,
    pub notification: Vec<String>,
    pub recipients: Vec<String>,
    pub signer_title: String,
    pub signer_name: String,
}

impl Official {
    /// The form of `cfg` in `lang`, issued by `issuer` on `day` (`YYYY-MM-DD`).
    pub(crate) fn new(
        cfg: &DocumentConfig,
        lang: Lang,
        issuer: &str,
        day: chrono::NaiveDate,
    ) -> Official {
        use chrono::Datelike;
        let vi = lang == Lang::Vi;
        let pick =
            |v: &str, e: &str| if vi || e.is_empty() { v.to_string() } else { e.to_string() };
        let list =
            |v: &[String], e: &[String]| if vi || e.is_empty() { v.to_vec() } else { e.to_vec() };
        let place_date = if vi {
            format!(
                "{}, ngày {:02} tháng {:02} năm {}",
                cfg.place,
                day.day(),
                day.month(),
                day.year()
            )
        } else {
            format!("{}, {}", pick(&cfg.place, &cfg.place_en), day.format("%-d %B %Y"))
        };
        Official {
            nation: if vi {
                ["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc"]
            } else {
                ["SOCIALIST REPUBLIC OF VIETNAM", "Independence - Freedom - Happiness"]
            },
            bodies: [
                pick(&cfg.parent_body, &cfg.parent_body_en).to_uppercase(),
                issuer.to_uppercase(),
            ],
            number: format!("{} {}", if vi { "Số:" } else { "No.:" }, cfg.number),
            place_date,
            legal_basis: list(&cfg.legal_basis, &cfg.legal_basis_en),
            notification: list(&cfg.notification, &cfg.notification_en),
            recipients: list(&cfg.recipients, &cfg.recipients_en),
            signer_title: pick(&cfg.signer_title, &cfg.signer_title_en),
            signer_name: cfg.signer_name.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_heading_in_both_languages() {
        let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 3).unwrap();
        let cfg = DocumentConfig::default();
        let vi = Official::new(&cfg, Lang::Vi, "Trung tâm Giám sát an toàn thông tin (SOC)", day);
        assert_eq!(vi.place_date, "Huế, ngày 03 tháng 11 năm 2026");
        assert_eq!(vi.bodies[1], "TRUNG TÂM GIÁM SÁT AN TOÀN THÔNG TIN (SOC)");
        assert_eq!(vi.number, "Số:       /BC-SOC");
        let en = Official::new(&cfg, Lang::En, "Security Operations Centre (SOC)", day);
        assert_eq!(en.place_date, "Hue, 3 November 2026");
        assert_eq!(en.nation[0], "SOCIALIST REPUBLIC OF VIETNAM");
        assert_eq!(en.recipients.len(), vi.recipients.len());
        // A configuration without English texts falls back to the Vietnamese ones.
        let bare = DocumentConfig { recipients_en: Vec::new(), ..cfg };
        assert_eq!(Official::new(&bare, Lang::En, "SOC", day).recipients, bare.recipients);
    }
}
