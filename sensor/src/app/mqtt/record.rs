//! The EVE `mqtt` record of a transaction, as Suricata writes it: one object per
//! message, named by its type (`connect`, `connack`, `publish`, ...), each with the
//! fixed header's `qos`, `retain` and `dup`.

use serde::Serialize;
use serde_json::{json, Map, Value};

use super::wire::{Body, Connect, Message};

/// A transaction's messages as JSON, under their type names.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct MqttRecord {
    #[serde(flatten)]
    pub(crate) messages: Map<String, Value>,
    #[serde(skip)]
    pub(crate) tx_id: u64,
}

/// The type names Suricata gives the objects, by packet type.
const NAMES: [&str; 16] = [
    "unassigned",
    "connect",
    "connack",
    "publish",
    "puback",
    "pubrec",
    "pubrel",
    "pubcomp",
    "subscribe",
    "suback",
    "unsubscribe",
    "unsuback",
    "pingreq",
    "pingresp",
    "disconnect",
    "auth",
];

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn put_props(o: &mut Map<String, Value>, key: &str, p: &Option<Map<String, Value>>) {
    if let Some(p) = p {
        o.insert(key.to_string(), Value::Object(p.clone()));
    }
}

/// The record of the transaction `tx_id` made of `msgs`.
pub fn record(msgs: &[Message], tx_id: u64) -> MqttRecord {
    let mut messages = Map::new();
    for m in msgs {
        let h = &m.header;
        let mut o = Map::new();
        o.insert("qos".into(), h.qos.into());
        o.insert("retain".into(), h.retain.into());
        o.insert("dup".into(), h.dup.into());
        match &m.body {
            Body::Connect(c) => connect(&mut o, c),
            Body::Connack { session_present, return_code, properties } => {
                o.insert("session_present".into(), (*session_present).into());
                o.insert("return_code".into(), (*return_code).into());
                put_props(&mut o, "properties", properties);
            }
            Body::Publish { topic, message_id, message, properties } => {
                o.insert("topic".into(), topic.clone().into());
                if let Some(id) = message_id {
                    o.insert("message_id".into(), (*id).into());
                }
                o.insert("message".into(), text(message).into());
                put_props(&mut o, "properties", properties);
            }
            Body::MessageId { message_id, reason_code, properties } => {
                o.insert("message_id".into(), (*message_id).into());
                if let Some(c) = reason_code {
                    o.insert("reason_code".into(), (*c).into());
                }
                put_props(&mut o, "properties", properties);
            }
            Body::Subscribe { message_id, topics, properties } => {
                o.insert("message_id".into(), (*message_id).into());
                let t: Vec<Value> =
                    topics.iter().map(|(t, q)| json!({"topic": t, "qos": q})).collect();
                o.insert("topics".into(), t.into());
                put_props(&mut o, "properties", properties);
            }
            Body::Suback { message_id, qos_granted } => {
                o.insert("message_id".into(), (*message_id).into());
                o.insert("qos_granted".into(), qos_granted.clone().into());
            }
            Body::Unsubscribe { message_id, topics } => {
                o.insert("message_id".into(), (*message_id).into());
                o.insert("topics".into(), topics.clone().into());
            }
            Body::Unsuback { message_id, reason_codes } => {
                o.insert("message_id".into(), (*message_id).into());
                if !reason_codes.is_empty() {
                    o.insert("reason_codes".into(), reason_codes.clone().into());
                }
            }
            Body::Disconnect { reason_code, properties } => {
                if let Some(c) = reason_code {
                    o.insert("reason_code".into(), (*c).into());
                }
                put_props(&mut o, "properties", properties);
            }
            Body::Auth { reason_code, properties } => {
                o.insert("reason_code".into(), (*reason_code).into());
                put_props(&mut o, "properties", properties);
            }
            Body::Truncated { skipped } => {
                o.insert("truncated".into(), true.into());
                o.insert("skipped_length".into(), (*skipped).into());
            }
            Body::Empty => {}
            // Suricata logs nothing of a reserved type.
            Body::Unassigned => continue,
        }
        messages.insert(NAMES[h.kind as usize & 15].to_string(), Value::Object(o));
    }
    MqttRecord { messages, tx_id }
}

/// A CONNECT message: protocol, client, flags, credentials and the will.
fn connect(o: &mut Map<String, Value>, c: &Connect) {
    o.insert("protocol_string".into(), c.protocol_string.clone().into());
    o.insert("protocol_version".into(), c.protocol_version.into());
    o.insert("client_id".into(), c.client_id.clone().into());
    let f = c.flags;
    o.insert(
        "flags".into(),
        json!({
            "username": f & 0x80 != 0,
            "password": f & 0x40 != 0,
            "will_retain": f & 0x20 != 0,
            "will": f & 0x04 != 0,
            "clean_session": f & 0x02 != 0,
        }),
    );
    if let Some(u) = &c.username {
        o.insert("username".into(), u.clone().into());
    }
    // Credentials seen in clear on the wire are evidence, as Suricata logs them.
    if let Some(p) = &c.password {
        o.insert("password".into(), text(p).into());
    }
    if c.flags & 0x04 != 0 {
        let mut w = Map::new();
        if let Some(t) = &c.will_topic {
            w.insert("topic".into(), t.clone().into());
        }
        if let Some(msg) = &c.will_message {
            w.insert("message".into(), text(msg).into());
        }
        put_props(&mut w, "properties", &c.will_properties);
        o.insert("will".into(), Value::Object(w));
    }
    put_props(o, "properties", &c.properties);
}
