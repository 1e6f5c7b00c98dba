//! The recommendations (Kiến nghị, đề xuất) the SOC lead writes into a month's report
//! before issuing it: per month and scope (province-wide, or one agency), in
//! Vietnamese and optionally English, each change in the audit log. None written: the
//! report leaves lines to write on, never invented text.

use rusqlite::{params, OptionalExtension};
use serde::Serialize;

use super::sqlite::{iso_utc, Store, StoreError};

/// The longest text kept (each language).
pub const MAX_RECOMMENDATIONS: usize = 16 * 1024;

/// What the SOC lead recommends for a month and scope.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Recommendations {
    /// `2026-10`.
    pub month: String,
    /// `` province-wide, or an agency id.
    pub scope: String,
    /// In Vietnamese.
    pub text: String,
    /// In English (the English report prints the Vietnamese text when empty).
    pub text_en: String,
    /// Who wrote it last.
    pub updated_by: String,
    /// When (RFC 3339 UTC).
    pub updated_at: String,
}

fn valid_month(m: &str) -> bool {
    let b = m.as_bytes();
    b.len() == 7
        && b[4] == b'-'
        && b[..4].iter().chain(&b[5..]).all(u8::is_ascii_digit)
        && matches!(
            &m[5..],
            "01" | "02" | "03" | "04" | "05" | "06" | "07" | "08" | "09" | "10" | "11" | "12"
        )
}

impl Store {
    /// The recommendations of `month` for `scope`, if written.
    pub fn recommendations(
        &self,
        month: &str,
        scope: &str,
    ) -> Result<Option<Recommendations>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT month, scope, text, text_en, updated_by, updated_us FROM report_recommendations
                 WHERE month = ?1 AND scope = ?2",
                params![month, scope],
                |r| {
                    Ok(Recommendations {
                        month: r.get(0)?,
                        scope: r.get(1)?,
                        text: r.get(2)?,
                        text_en: r.get(3)?,
                        updated_by: r.get(4)?,
                        updated_at: iso_utc(r.get(5)?),
                    })
                },
            )
            .optional()?)
    }

    /// Writes (or, with both texts empty, removes) the recommendations of `month` for
    /// `scope`; the audit log keeps who and what.
    pub fn set_recommendations(
        &mut self,
        month: &str,
        scope: &str,
        text: &str,
        text_en: &str,
        actor: &str,
    ) -> Result<Option<Recommendations>, StoreError> {
        if !valid_month(month) {
            return Err(StoreError::Refused(format!("`{month}` is not a month (YYYY-MM)")));
        }
        if actor.trim().is_empty() || actor.len() > 256 || scope.len() > 256 {
            return Err(StoreError::Refused("the actor or the scope is empty or too long".into()));
        }
        let (text, text_en) = (text.trim(), text_en.trim());
        if text.len() > MAX_RECOMMENDATIONS || text_en.len() > MAX_RECOMMENDATIONS {
            return Err(StoreError::Refused(format!(
                "the recommendations are longer than {MAX_RECOMMENDATIONS} bytes"
            )));
        }
        let now = chrono::Utc::now().timestamp_micros();
        let tx = self.transaction()?;
        if text.is_empty() && text_en.is_empty() {
            tx.execute(
                "DELETE FROM report_recommendations WHERE month = ?1 AND scope = ?2",
                params![month, scope],
            )?;
        } else {
            tx.execute(
                "INSERT INTO report_recommendations (month, scope, text, text_en, updated_by, updated_us)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (month, scope) DO UPDATE SET text = ?3, text_en = ?4, updated_by = ?5, updated_us = ?6",
                params![month, scope, text, text_en, actor, now],
            )?;
        }
        let detail =
            serde_json::json!({"month": month, "scope": scope, "text": text, "text_en": text_en});
        let object = format!("report:{month}:{scope}");
        super::lifecycle::append_audit(
            &tx,
            now,
            actor,
            "report.recommendations",
            None,
            Some(&object),
            &detail,
        )?;
        tx.commit()?;
        self.recommendations(month, scope)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_rewritten_cleared_and_audited() {
        let mut s = Store::open_in_memory().unwrap();
        assert_eq!(s.recommendations("2026-10", "").unwrap(), None);
        let r = s
            .set_recommendations("2026-10", "", "  Nâng cấp máy chủ web.\n", "", "lan")
            .unwrap()
            .unwrap();
        assert_eq!((r.text.as_str(), r.updated_by.as_str()), ("Nâng cấp máy chủ web.", "lan"));
        let r = s
            .set_recommendations("2026-10", "", "Vá Log4j.", "Patch Log4j.", "mai")
            .unwrap()
            .unwrap();
        assert_eq!(
            (r.text.as_str(), r.text_en.as_str(), r.updated_by.as_str()),
            ("Vá Log4j.", "Patch Log4j.", "mai")
        );
        // Each scope its own; another month untouched.
        assert_eq!(s.recommendations("2026-10", "syt").unwrap(), None);
        assert_eq!(s.recommendations("2026-09", "").unwrap(), None);
        assert_eq!(s.set_recommendations("2026-10", "", " ", "", "mai").unwrap(), None);
        assert_eq!(s.recommendations("2026-10", "").unwrap(), None, "cleared: blank lines again");
        let audit = s.audit(None, 10).unwrap();
        let ours: Vec<&str> = audit
            .iter()
            .filter(|a| a.action == "report.recommendations")
            .map(|a| a.actor.as_str())
            .collect();
        assert_eq!(ours.len(), 3);
        for bad in ["2026-13", "2026-1", "oct"] {
            assert!(s.set_recommendations(bad, "", "x", "", "lan").is_err(), "{bad}");
        }
        let long = "x".repeat(MAX_RECOMMENDATIONS + 1);
        assert!(s.set_recommendations("2026-10", "", &long, "", "lan").is_err());
    }
}
