//! `_bulk` requests and what their answers mean, item by item (Elasticsearch's
//! documented shapes: `{"took", "errors", "items": [{"create": {"_index", "_id",
//! "status", "error": {"type", "reason"}}}]}`).

use serde_json::{json, Value};

use super::ledger::Key;

/// Which stream a document comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Stream {
    /// Alerts (a data stream).
    Alerts,
    /// Protocol and host log records (a data stream).
    Records,
    /// Incidents (an index, replaced as they change).
    Incidents,
}

impl Stream {
    /// Every stream.
    pub const ALL: [Stream; 3] = [Stream::Alerts, Stream::Records, Stream::Incidents];

    /// Its key in the store's `sink_state`.
    pub fn state_key(self) -> &'static str {
        match self {
            Stream::Alerts => "elasticsearch.alerts",
            Stream::Records => "elasticsearch.records",
            Stream::Incidents => "elasticsearch.incidents",
        }
    }
}

/// How a document is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// Into a data stream, once: a second `create` of the id is a conflict (done).
    Create,
    /// Replace, with an external version: an older version arriving late is refused
    /// (a conflict: done, the newer one is there).
    Index {
        /// The incident's version.
        version: i64,
    },
}

/// One document to send.
#[derive(Clone, Debug, PartialEq)]
pub struct Doc {
    /// The stream it goes to.
    pub stream: Stream,
    pub(crate) key: Key,
    pub(crate) index: String,
    /// Its `_id` (idempotent: the store's id).
    pub id: String,
    pub(crate) op: Op,
    /// The serialized `_source`.
    pub source: String,
    /// Times it was sent and failed.
    pub attempts: u32,
}

impl Doc {
    /// Bytes it adds to a bulk body.
    pub fn size(&self) -> usize {
        self.source.len() + self.index.len() + self.id.len() + 64
    }
}

/// The NDJSON body of a bulk request.
pub fn body(docs: &[Doc]) -> Vec<u8> {
    let mut out = Vec::with_capacity(docs.iter().map(Doc::size).sum());
    for d in docs {
        let action = match d.op {
            Op::Create => json!({"create": {"_index": d.index, "_id": d.id}}),
            Op::Index { version } => json!({"index": {"_index": d.index, "_id": d.id,
                                                      "version": version, "version_type": "external"}}),
        };
        out.extend_from_slice(action.to_string().as_bytes());
        out.push(b'\n');
        out.extend_from_slice(d.source.as_bytes());
        out.push(b'\n');
    }
    out
}

/// What happened to one document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item {
    /// Stored (or already there).
    Done,
    /// Try again later (429, 5xx).
    Retry(String),
    /// Will never succeed (a 4xx other than a conflict): to the dead letter file.
    Dead {
        /// The HTTP status of the item.
        status: u16,
        /// Elasticsearch's reason.
        reason: String,
    },
}

/// What a whole request's answer means.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// Per item, in the order sent.
    Items(Vec<Item>),
    /// The whole request is to be retried (429, 5xx, auth errors until fixed).
    RetryAll(String),
    /// Too large or malformed as a whole (413, 400): split it and try the halves.
    Split(String),
}

fn item_status(v: &Value) -> Option<(u16, Option<&Value>)> {
    let obj = v.as_object()?.values().next()?;
    let status = obj.get("status")?.as_u64()? as u16;
    Some((status, obj.get("error")))
}

fn reason(e: Option<&Value>) -> String {
    match e {
        Some(e) => format!(
            "{}: {}",
            e.get("type").and_then(|t| t.as_str()).unwrap_or("error"),
            e.get("reason").and_then(|t| t.as_str()).unwrap_or("")
        ),
        None => "no reason given".into(),
    }
}

/// Reads the answer to a bulk request of `n` documents.
pub fn answer(status: u16, body: &[u8], n: usize) -> Answer {
    match status {
        200 => {}
        413 => return Answer::Split("413 request entity too large".into()),
        400 => {
            let text = String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned();
            return Answer::Split(format!("400 bad request: {text}"));
        }
        s => {
            let text = String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned();
            return Answer::RetryAll(format!("HTTP {s}: {text}"));
        }
    }
    let v: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => return Answer::RetryAll(format!("unreadable bulk answer: {e}")),
    };
    let Some(items) = v.get("items").and_then(|i| i.as_array()) else {
        return Answer::RetryAll("bulk answer without items".into());
    };
    if items.len() != n {
        return Answer::RetryAll(format!(
            "bulk answer has {} items for {n} documents",
            items.len()
        ));
    }
    Answer::Items(
        items
            .iter()
            .map(|it| match item_status(it) {
                Some((200..=299, _)) => Item::Done,
                // create of an existing id, or an older external version: it is there.
                Some((409, _)) => Item::Done,
                Some((429, e)) => Item::Retry(reason(e)),
                Some((s @ 500..=599, e)) => Item::Retry(format!("{s} {}", reason(e))),
                Some((s, e)) => Item::Dead { status: s, reason: reason(e) },
                None => Item::Retry("item without a status".into()),
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_are_read_one_by_one() {
        let body = br#"{"took":3,"errors":true,"items":[
            {"create":{"_index":"a","_id":"1","status":201,"result":"created"}},
            {"create":{"_index":"a","_id":"2","status":409,"error":{"type":"version_conflict_engine_exception","reason":"document already exists"}}},
            {"create":{"_index":"a","_id":"3","status":429,"error":{"type":"es_rejected_execution_exception","reason":"rejected execution"}}},
            {"create":{"_index":"a","_id":"4","status":400,"error":{"type":"mapper_parsing_exception","reason":"failed to parse field [source.ip]"}}},
            {"index":{"_index":"a","_id":"5","status":503,"error":{"type":"unavailable_shards_exception","reason":"primary shard is not active"}}}
        ]}"#;
        let Answer::Items(items) = answer(200, body, 5) else { panic!() };
        assert_eq!(items[0], Item::Done);
        assert_eq!(items[1], Item::Done);
        assert!(
            matches!(&items[2], Item::Retry(r) if r.starts_with("es_rejected_execution_exception"))
        );
        assert_eq!(
            items[3],
            Item::Dead {
                status: 400,
                reason: "mapper_parsing_exception: failed to parse field [source.ip]".into()
            }
        );
        assert!(matches!(&items[4], Item::Retry(r) if r.starts_with("503")));
        assert!(matches!(answer(429, b"{}", 5), Answer::RetryAll(_)));
        assert!(matches!(answer(503, b"", 5), Answer::RetryAll(_)));
        assert!(matches!(answer(413, b"", 5), Answer::Split(_)));
        assert!(matches!(answer(200, b"{\"items\":[]}", 5), Answer::RetryAll(_)));
    }

    #[test]
    fn the_body_is_action_then_source() {
        let d = |op| Doc {
            stream: Stream::Alerts,
            key: (1, 0),
            index: "i".into(),
            id: "x".into(),
            op,
            source: "{\"a\":1}".into(),
            attempts: 0,
        };
        let b = String::from_utf8(body(&[d(Op::Create), d(Op::Index { version: 7 })])).unwrap();
        let lines: Vec<&str> = b.lines().collect();
        assert_eq!(lines[0], r#"{"create":{"_index":"i","_id":"x"}}"#);
        assert_eq!(lines[1], "{\"a\":1}");
        assert!(
            lines[2].contains("\"version\":7")
                && lines[2].contains("\"version_type\":\"external\"")
        );
        assert!(b.ends_with('\n'));
    }
}
