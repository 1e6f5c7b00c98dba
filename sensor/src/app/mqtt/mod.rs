//! MQTT (3.1, 3.1.1, 5.0) over TCP port 1883, as Suricata reads it.
//!
//! Transactions pair a request with its acknowledgement: CONNECT with CONNACK,
//! PUBLISH (QoS 1 and 2) with PUBACK or PUBREC/PUBREL/PUBCOMP, SUBSCRIBE with SUBACK,
//! UNSUBSCRIBE with UNSUBACK, by message identifier; a QoS 0 PUBLISH, a ping, a
//! DISCONNECT or an AUTH is a transaction alone. A transaction is inspected and logged
//! (EVE `mqtt`) when complete, or when the connection ends. The protocol's anomalies
//! are Suricata's `mqtt.*` app-layer events: an acknowledgement without its request
//! (`missing_connect`, `missing_publish`, ...), a message before the CONNACK
//! (`unintroduced_message`), a second CONNECT, a QoS of 3, a missing message
//! identifier, a reserved type, too many open transactions, bytes that are not MQTT
//! (`malformed_traffic`, after which the direction is no longer parsed).

mod record;
pub(crate) mod wire;

use gatewatch_rules::signature::{AppProto, Buffer};

use super::parser::{meta, AppCx, AppParser, Inspection, Probe, Registration, Sender};
use super::records::Record;
pub use record::MqttRecord;
use wire::{Body, Message, WireError};

/// MQTT over TCP.
pub const REGISTRATION: Registration = Registration {
    proto: AppProto::Mqtt,
    ports: &[1883],
    needs_port: true,
    probe,
    new: |_| Box::<MqttConn>::default(),
};

/// Open transactions kept before the oldest is closed (`too_many_transactions`).
const MAX_OPEN_TX: usize = 1024;
/// Bytes held for one message being received (a longer one is skipped unparsed).
const MAX_HELD: usize = wire::MAX_MSG_LEN + 5;

/// The first bytes of a direction: a fixed header of an assigned type with a valid
/// QoS. Either side may speak first on a pickup.
fn probe(d: &[u8], _other: &[u8], _hint: bool) -> Probe {
    match wire::fixed_header(d) {
        Ok(h) if h.kind == 0 || h.qos > 2 => Probe::No,
        Ok(h) if h.kind == 1 => Probe::Yes(Sender::Client),
        Ok(h) if h.kind == 2 => Probe::Yes(Sender::Server),
        Ok(_) => Probe::Yes(Sender::Either),
        Err(WireError::Incomplete) => Probe::NeedMore,
        Err(WireError::Malformed) => Probe::No,
    }
}

/// The identifier that pairs a CONNECT with its CONNACK (message identifiers are 16
/// bits, so it cannot collide).
const CONNECT_ID: u32 = u32::MAX;

#[derive(Debug)]
struct Tx {
    id: u64,
    /// The message identifier an acknowledgement must carry to join it.
    waits_for: Option<u32>,
    msgs: Vec<Message>,
    events: Vec<&'static str>,
    to_server: bool,
}

/// The MQTT parser of one connection.
#[derive(Debug, Default)]
pub struct MqttConn {
    held: [Vec<u8>; 2],
    /// Bytes of a skipped (too long) message still to come, per direction.
    skip: [usize; 2],
    /// A direction stopped at bytes that were not MQTT.
    failed: [bool; 2],
    /// The CONNECT's protocol version: how later packets are read.
    version: u8,
    connected: bool,
    open: Vec<Tx>,
    next_id: u64,
}

impl MqttConn {
    fn new_tx(&mut self, m: Message, dir: usize) -> Tx {
        let id = self.next_id;
        self.next_id += 1;
        Tx { id, waits_for: None, msgs: vec![m], events: Vec::new(), to_server: dir == 0 }
    }

    /// The open transaction waiting for identifier `id`.
    fn waiting(&mut self, id: u32) -> Option<usize> {
        self.open.iter().position(|t| t.waits_for == Some(id))
    }

    /// Handles one message of direction `dir`, as Suricata's state machine does.
    fn handle(&mut self, m: Message, dir: usize, cx: &mut AppCx<'_>) {
        cx.count("mqtt_messages", 1);
        let unintroduced = !self.connected;
        let qos = m.header.qos;
        match &m.body {
            Body::Connect(c) => {
                self.version = c.protocol_version;
                let mut tx = self.new_tx(m, dir);
                tx.waits_for = Some(CONNECT_ID);
                if self.connected {
                    tx.events.push("mqtt.double_connect");
                }
                self.open_tx(tx, cx);
            }
            Body::Publish { message_id, .. } => {
                let id = message_id.map(u32::from);
                self.request(m, dir, qos, id, unintroduced, cx);
            }
            Body::Subscribe { message_id, .. } | Body::Unsubscribe { message_id, .. } => {
                let id = Some(*message_id as u32);
                self.request(m, dir, qos, id, unintroduced, cx);
            }
            Body::Connack { .. } => match self.waiting(CONNECT_ID) {
                Some(i) => {
                    self.connected = true;
                    let mut tx = self.open.remove(i);
                    tx.msgs.push(m);
                    self.complete(tx, dir, cx);
                }
                None => self.alone(m, dir, &["mqtt.missing_connect"], cx),
            },
            Body::MessageId { message_id, .. } => {
                let id = *message_id as u32;
                // PUBREC and PUBREL continue the exchange; PUBACK and PUBCOMP end it.
                let ends = matches!(m.header.kind, 4 | 7);
                match self.waiting(id) {
                    Some(i) if ends => {
                        let mut tx = self.open.remove(i);
                        tx.msgs.push(m);
                        self.complete(tx, dir, cx);
                    }
                    Some(i) => self.open[i].msgs.push(m),
                    None => self.answer_alone(m, dir, "mqtt.missing_publish", cx),
                }
            }
            Body::Suback { message_id, .. } | Body::Unsuback { message_id, .. } => {
                let missing = match m.body {
                    Body::Suback { .. } => "mqtt.missing_subscribe",
                    _ => "mqtt.missing_unsubscribe",
                };
                match self.waiting(*message_id as u32) {
                    Some(i) => {
                        let mut tx = self.open.remove(i);
                        tx.msgs.push(m);
                        self.complete(tx, dir, cx);
                    }
                    None => self.answer_alone(m, dir, missing, cx),
                }
            }
            Body::Unassigned => self.alone(m, dir, &["mqtt.unassigned_msg_type"], cx),
            Body::Truncated { .. } => self.alone(m, dir, &[], cx),
            Body::Empty | Body::Disconnect { .. } | Body::Auth { .. } => {
                let events: &[&'static str] =
                    if unintroduced { &["mqtt.unintroduced_message"] } else { &[] };
                self.alone(m, dir, events, cx);
            }
        }
    }

    /// A PUBLISH, SUBSCRIBE or UNSUBSCRIBE: complete at once with QoS 0, else waiting
    /// for the acknowledgement of identifier `id`.
    fn request(
        &mut self,
        m: Message,
        dir: usize,
        qos: u8,
        id: Option<u32>,
        unintroduced: bool,
        cx: &mut AppCx<'_>,
    ) {
        let is_publish = matches!(m.body, Body::Publish { .. });
        let mut tx = self.new_tx(m, dir);
        if unintroduced {
            tx.events.push("mqtt.unintroduced_message");
        }
        match qos {
            0 => return self.complete(tx, dir, cx),
            1 | 2 => match id {
                Some(id) => tx.waits_for = Some(id),
                None if is_publish => tx.events.push("mqtt.missing_msg_id"),
                None => {}
            },
            _ => tx.events.push("mqtt.invalid_qos_level"),
        }
        self.open_tx(tx, cx);
    }

    /// An acknowledgement whose request was not seen.
    fn answer_alone(&mut self, m: Message, dir: usize, missing: &'static str, cx: &mut AppCx<'_>) {
        let mut events = vec![missing];
        if !self.connected {
            events.push("mqtt.unintroduced_message");
        }
        self.alone(m, dir, &events, cx);
    }

    /// A message that is a whole transaction.
    fn alone(&mut self, m: Message, dir: usize, events: &[&'static str], cx: &mut AppCx<'_>) {
        let mut tx = self.new_tx(m, dir);
        tx.events.extend_from_slice(events);
        self.complete(tx, dir, cx);
    }

    /// Keeps a transaction open; past the limit the oldest is closed with
    /// `too_many_transactions`.
    fn open_tx(&mut self, tx: Tx, cx: &mut AppCx<'_>) {
        for e in &tx.events {
            cx.event(e);
        }
        let mut tx = tx;
        tx.events.clear();
        self.open.push(tx);
        if self.open.len() > MAX_OPEN_TX {
            let mut old = self.open.remove(0);
            old.events.push("mqtt.too_many_transactions");
            let dir = if old.to_server { 0 } else { 1 };
            self.complete(old, dir, cx);
        }
    }

    /// Inspects and logs a finished transaction; `dir` sent its last message.
    fn complete(&mut self, tx: Tx, dir: usize, cx: &mut AppCx<'_>) {
        for e in &tx.events {
            cx.event(e);
        }
        let rec = record::record(&tx.msgs, tx.id);
        let mut insp = Inspection::new(dir);
        insp.buffers = buffers(&tx.msgs, self.version);
        insp.meta = meta("mqtt", &rec);
        cx.inspect(insp);
        cx.record(tx.to_server, Record::Mqtt(rec));
    }

    /// Reads every whole message held for `dir`.
    fn drain(&mut self, dir: usize, cx: &mut AppCx<'_>) {
        let mut at = 0;
        loop {
            let held = &self.held[dir][at..];
            if held.is_empty() {
                break;
            }
            match wire::message(held, self.version) {
                Ok((m, used)) => {
                    let skipped = used.saturating_sub(held.len());
                    at += used.min(held.len());
                    self.skip[dir] = skipped;
                    if matches!(m.body, Body::Truncated { .. }) {
                        cx.count("mqtt_truncated", 1);
                    }
                    self.handle(m, dir, cx);
                }
                Err(WireError::Incomplete) => break,
                Err(WireError::Malformed) => {
                    cx.count("mqtt_malformed", 1);
                    cx.event("mqtt.malformed_traffic");
                    self.failed[dir] = true;
                    self.held[dir].clear();
                    return;
                }
            }
        }
        self.held[dir].drain(..at);
        if self.held[dir].len() > MAX_HELD {
            self.held[dir].clear();
        }
    }
}

impl AppParser for MqttConn {
    fn mem_usage(&self) -> usize {
        // An open transaction holds its messages' fields: a few hundred bytes each.
        crate::app::parser::held_bytes(&self.held)
            + self.open.iter().map(|t| 512 * t.msgs.len().max(1)).sum::<usize>()
    }

    fn parse(&mut self, dir: usize, bytes: &[u8], cx: &mut AppCx<'_>) {
        if self.failed[dir] {
            return;
        }
        let skip = self.skip[dir].min(bytes.len());
        self.skip[dir] -= skip;
        self.held[dir].extend_from_slice(&bytes[skip..]);
        self.drain(dir, cx);
    }

    fn gap(&mut self, dir: usize, _cx: &mut AppCx<'_>) {
        // Messages are not resynchronised after lost bytes: stop this direction.
        self.held[dir].clear();
        self.failed[dir] = true;
    }

    fn end(&mut self, cx: &mut AppCx<'_>) {
        for tx in std::mem::take(&mut self.open) {
            let dir = if tx.to_server { 0 } else { 1 };
            self.complete(tx, dir, cx);
        }
    }
}

/// The buffers of a transaction: each message's type, flags, QoS and reason codes,
/// the CONNECT's fields, the PUBLISH topic and payload, the (un)subscribed topics.
fn buffers(msgs: &[Message], version: u8) -> Vec<(Buffer, Vec<u8>)> {
    let mut out: Vec<(Buffer, Vec<u8>)> = Vec::new();
    let num = |b: Buffer, n: u64| (b, n.to_string().into_bytes());
    let push_nonempty = |out: &mut Vec<(Buffer, Vec<u8>)>, b: Buffer, v: &[u8]| {
        if !v.is_empty() {
            out.push((b, v.to_vec()));
        }
    };
    out.push(num(Buffer::MqttProtocolVersion, version as u64));
    for m in msgs {
        out.push(num(Buffer::MqttType, m.header.kind as u64));
        out.push(num(Buffer::MqttFlags, m.header.flag_bits() as u64));
        out.push(num(Buffer::MqttQos, m.header.qos as u64));
        match &m.body {
            Body::Connect(c) => {
                out.push(num(Buffer::MqttConnectFlags, c.flags as u64));
                push_nonempty(&mut out, Buffer::MqttClientId, c.client_id.as_bytes());
                push_nonempty(&mut out, Buffer::MqttProtocolString, c.protocol_string.as_bytes());
                let fields = [
                    (Buffer::MqttUsername, c.username.as_ref().map(|s| s.as_bytes())),
                    (Buffer::MqttPassword, c.password.as_deref()),
                    (Buffer::MqttWillTopic, c.will_topic.as_ref().map(|s| s.as_bytes())),
                    (Buffer::MqttWillMessage, c.will_message.as_deref()),
                ];
                for (b, v) in fields {
                    push_nonempty(&mut out, b, v.unwrap_or_default());
                }
            }
            Body::Connack { session_present, return_code, .. } => {
                out.push(num(Buffer::MqttSessionPresent, *session_present as u64));
                out.push(num(Buffer::MqttReasonCode, *return_code as u64));
            }
            Body::Publish { topic, message, .. } => {
                push_nonempty(&mut out, Buffer::MqttPublishTopic, topic.as_bytes());
                push_nonempty(&mut out, Buffer::MqttPublishMessage, message);
            }
            Body::MessageId { reason_code: Some(c), .. }
            | Body::Disconnect { reason_code: Some(c), .. }
            | Body::Auth { reason_code: c, .. } => {
                out.push(num(Buffer::MqttReasonCode, *c as u64));
            }
            Body::Subscribe { topics, .. } => {
                for (t, _) in topics.iter().take(100) {
                    out.push((Buffer::MqttSubscribeTopic, t.as_bytes().to_vec()));
                }
            }
            Body::Unsubscribe { topics, .. } => {
                for t in topics.iter().take(100) {
                    out.push((Buffer::MqttUnsubscribeTopic, t.as_bytes().to_vec()));
                }
            }
            Body::Suback { qos_granted: codes, .. }
            | Body::Unsuback { reason_codes: codes, .. } => {
                for c in codes {
                    out.push(num(Buffer::MqttReasonCode, *c as u64));
                }
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests;
