//! Reading an EVE `dns` object in either layout Suricata writes, so that every reader
//! (Sigma field mapping, Elasticsearch documents, response targets, the console) sees
//! the same questions and answers:
//!
//! - version 3 (Suricata 7 and 8, and Gatewatch's sensor): one record per message,
//!   `type` `request` or `response`, `queries: [{rrname, rrtype}]`, `answers: [{rrname,
//!   rrtype, ttl, rdata}]` or `grouped: {A: [...]}`;
//! - version 2 (older sensors a province may still run): one record per question or
//!   answer, `type` `query` or `answer`, with `rrname`, `rrtype` and `rdata` at the top;
//!   their alerts carry the question as `query: [{rrname, rrtype}]`.

use serde_json::Value;

/// The questions and answers of one EVE `dns` object.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DnsView {
    /// `query` for a question (`request` in version 3), `answer` for an answer
    /// (`response`), as ECS names them; `None` when the record does not say.
    pub kind: Option<&'static str>,
    /// The names asked, in order.
    pub names: Vec<String>,
    /// The type of each name asked (`A`, `AAAA`, …), when written.
    pub types: Vec<String>,
    /// The answers: (type, data) (`("A", "192.0.2.7")`).
    pub answers: Vec<(String, String)>,
    /// The response code (`NOERROR`, `NXDOMAIN`), when written.
    pub rcode: Option<String>,
}

impl DnsView {
    /// Reads the `dns` object of an EVE record (the value under `"dns"`).
    pub fn of(dns: &Value) -> DnsView {
        let text = |v: &Value| v.as_str().map(str::to_string);
        let field = |list: Option<&Value>, key: &str| -> Vec<String> {
            let items = list.and_then(Value::as_array).into_iter().flatten();
            items.filter_map(|x| x.get(key).and_then(text)).collect()
        };
        // Version 3 `queries`; an alert's DNS of Suricata 6 `query`.
        let questions = dns.get("queries").or_else(|| dns.get("query"));
        let mut names = field(questions, "rrname");
        let mut types = field(questions, "rrtype");
        // Version 2 wrote the question at the top, in queries and answers alike.
        if names.is_empty() {
            names.extend(dns.get("rrname").and_then(text));
            types.extend(dns.get("rrtype").and_then(text));
        }
        let mut answers: Vec<(String, String)> = dns
            .get("answers")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|a| Some((text(a.get("rrtype")?)?, text(a.get("rdata")?)?)))
            .collect();
        if answers.is_empty() {
            if let Some(Value::Object(grouped)) = dns.get("grouped") {
                for (t, list) in grouped {
                    let data = list.as_array().into_iter().flatten().filter_map(text);
                    answers.extend(data.map(|d| (t.clone(), d)));
                }
            }
        }
        if answers.is_empty() && dns.get("type").and_then(Value::as_str) == Some("answer") {
            // A version 2 answer record: one answer at the top.
            if let (Some(t), Some(d)) = (dns.get("rrtype"), dns.get("rdata")) {
                answers.extend(text(t).zip(text(d)));
            }
        }
        let kind = match dns.get("type").and_then(Value::as_str) {
            Some("request" | "query") => Some("query"),
            Some("response" | "answer") => Some("answer"),
            _ => None,
        };
        DnsView { kind, names, types, answers, rcode: dns.get("rcode").and_then(text) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn version_3_messages() {
        let q = DnsView::of(&json!({"version": 3, "type": "request", "id": 1,
            "queries": [{"rrname": "update.hue-gov-portal.top", "rrtype": "A"}]}));
        assert_eq!(q.kind, Some("query"));
        assert_eq!(
            (q.names.as_slice(), q.types.as_slice()),
            (&["update.hue-gov-portal.top".to_string()][..], &["A".to_string()][..])
        );
        assert!(q.answers.is_empty());
        let r = DnsView::of(&json!({"version": 3, "type": "response", "rcode": "NOERROR",
            "queries": [{"rrname": "a.example", "rrtype": "A"}],
            "answers": [{"rrname": "a.example", "rrtype": "A", "ttl": 60, "rdata": "192.0.2.7"},
                        {"rrname": "a.example", "rrtype": "RRSIG", "ttl": 60}]}));
        assert_eq!(r.kind, Some("answer"));
        assert_eq!(r.answers, [("A".to_string(), "192.0.2.7".to_string())]);
        assert_eq!(r.rcode.as_deref(), Some("NOERROR"));
        // Answers written grouped only.
        let g = DnsView::of(&json!({"type": "response", "queries": [{"rrname": "b.example"}],
            "grouped": {"AAAA": ["2001:db8::1"]}}));
        assert_eq!(g.answers, [("AAAA".to_string(), "2001:db8::1".to_string())]);
        assert!(g.types.is_empty(), "no type written, none made up");
    }

    #[test]
    fn version_2_records() {
        let q =
            DnsView::of(&json!({"type": "query", "id": 7, "rrname": "c.example", "rrtype": "MX"}));
        assert_eq!(
            (q.kind, q.names, q.types),
            (Some("query"), vec!["c.example".to_string()], vec!["MX".to_string()])
        );
        let a = DnsView::of(&json!({"type": "answer", "rrname": "c.example", "rrtype": "A",
            "rdata": "198.51.100.2", "rcode": "NOERROR"}));
        assert_eq!(a.answers, [("A".to_string(), "198.51.100.2".to_string())]);
        let alert = DnsView::of(
            &json!({"query": [{"type": "query", "rrname": "d.example", "rrtype": "A"}]}),
        );
        assert_eq!(
            (alert.names, alert.types),
            (vec!["d.example".to_string()], vec!["A".to_string()])
        );
        assert_eq!(DnsView::of(&json!({})), DnsView::default());
        assert_eq!(DnsView::of(&json!("not an object")), DnsView::default());
    }
}
