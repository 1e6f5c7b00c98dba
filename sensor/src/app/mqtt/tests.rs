use super::*;
use crate::app::parser::{drive, AppOutput};

/// A packet of type `kind` with flags `flags` (low nibble) and body `body`.
fn pkt(kind: u8, flags: u8, body: &[u8]) -> Vec<u8> {
    assert!(body.len() < 128);
    let mut v = vec![(kind << 4) | flags, body.len() as u8];
    v.extend_from_slice(body);
    v
}

fn connect_v5() -> Vec<u8> {
    pkt(1, 0, b"\x00\x04MQTT\x05\xc2\x00\x3c\x03\x21\x00\x14\x00\x00\x00\x04user\x00\x04pass")
}

fn connack_v5() -> Vec<u8> {
    pkt(2, 0, b"\x00\x00\x03\x22\x00\x0a")
}

fn run(script: &[(bool, Vec<u8>)], seg: usize) -> AppOutput {
    let mut conn = MqttConn::default();
    drive(&mut conn, script, seg).0
}

fn records(out: &AppOutput) -> Vec<serde_json::Value> {
    out.records
        .iter()
        .filter_map(|(_, r)| match r {
            Record::Mqtt(m) => Some(serde_json::to_value(m).unwrap()),
            _ => None,
        })
        .collect()
}

fn numbers(out: &AppOutput, b: Buffer) -> Vec<Vec<String>> {
    out.inspections
        .iter()
        .map(|i| {
            i.buffers
                .iter()
                .filter(|(x, _)| *x == b)
                .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
                .collect()
        })
        .collect()
}

#[test]
fn a_v5_session_makes_three_transactions_in_any_segmentation() {
    let publish = pkt(3, 0, b"\x00\x06topicX\x00\xff\xd8\xff\xe0");
    let disconnect = pkt(14, 0, b"");
    let script =
        vec![(true, connect_v5()), (false, connack_v5()), (true, publish), (true, disconnect)];
    for seg in [1, 3, 100] {
        let out = run(&script, seg);
        let recs = records(&out);
        assert_eq!(recs.len(), 3, "seg {seg}: {recs:?}");
        let c = &recs[0]["connect"];
        assert_eq!(c["protocol_version"], 5);
        assert_eq!(c["username"], "user");
        assert_eq!(c["password"], "pass");
        assert_eq!(c["flags"]["clean_session"], true);
        assert_eq!(c["properties"]["receive_maximum"], 20);
        assert_eq!(recs[0]["connack"]["properties"]["topic_alias_maximum"], 10);
        assert_eq!(recs[1]["publish"]["topic"], "topicX");
        assert_eq!(recs[2]["disconnect"]["reason_code"], 0);
        assert_eq!(numbers(&out, Buffer::MqttType), [vec!["1", "2"], vec!["3"], vec!["14"]]);
        assert_eq!(numbers(&out, Buffer::MqttProtocolVersion)[2], ["5"]);
        assert!(out.events.is_empty(), "{:?}", out.events);
    }
}

#[test]
fn subscribe_waits_for_its_suback_by_message_id() {
    let sub = pkt(8, 2, b"\x00\x07\x00\x00\x06topicX\x00\x00\x06topicY\x00");
    let other_ack = pkt(9, 0, b"\x00\x09\x00\x00");
    let ack = pkt(9, 0, b"\x00\x07\x00\x00\x00");
    let script = vec![
        (true, connect_v5()),
        (false, connack_v5()),
        (true, sub),
        (false, other_ack),
        (false, ack),
    ];
    let out = run(&script, 100);
    let recs = records(&out);
    assert_eq!(recs.len(), 3);
    assert_eq!(recs[1]["suback"]["message_id"], 9);
    assert_eq!(out.events, ["mqtt.missing_subscribe"]);
    let sub = &recs[2];
    assert_eq!(sub["subscribe"]["topics"][1]["topic"], "topicY");
    assert_eq!(sub["suback"]["qos_granted"], serde_json::json!([0, 0]));
    let topics = &numbers(&out, Buffer::MqttSubscribeTopic)[2];
    assert_eq!(topics, &["topicX", "topicY"]);
}

#[test]
fn anomalies_are_the_events_suricata_names() {
    // A CONNACK with no CONNECT; a PUBLISH before the session is introduced; a type 0.
    let out = run(&[(false, pkt(2, 0, b"\x00\x00"))], 100);
    assert_eq!(out.events, ["mqtt.missing_connect"]);
    let out = run(&[(true, pkt(3, 0, b"\x00\x01t"))], 100);
    assert_eq!(out.events, ["mqtt.unintroduced_message"]);
    let out = run(&[(true, pkt(0, 0, b""))], 100);
    assert_eq!(out.events, ["mqtt.unassigned_msg_type"]);
    let out = run(&[(true, connect_v5()), (true, connect_v5())], 100);
    assert!(out.events.is_empty());
    let out = run(&[(true, connect_v5()), (false, connack_v5()), (true, connect_v5())], 100);
    assert_eq!(out.events, ["mqtt.double_connect"]);
    // A v5 CONNECT whose property length runs past the packet: malformed, and the
    // direction is no longer parsed.
    let bad = pkt(1, 0, b"\x00\x04MQTT\x05\x02\x00\x3c\x7f\x21");
    let out = run(&[(true, bad), (true, pkt(12, 0, b""))], 100);
    assert_eq!(out.events, ["mqtt.malformed_traffic"]);
    assert!(records(&out).is_empty());
}

#[test]
fn an_open_publish_is_logged_when_the_connection_ends() {
    let publish = pkt(3, 2, b"\x00\x01t\x00\x05\x00hello");
    let out = run(&[(true, connect_v5()), (false, connack_v5()), (true, publish)], 100);
    let recs = records(&out);
    assert_eq!(recs.len(), 2);
    assert_eq!(recs[1]["publish"]["message_id"], 5);
    assert_eq!(recs[1]["publish"]["qos"], 1);
}

#[test]
fn probes_need_an_assigned_type_and_a_valid_qos() {
    assert_eq!(probe(&connect_v5(), &[], true), Probe::Yes(Sender::Client));
    assert_eq!(probe(&[0x06, 0x00], &[], true), Probe::No);
    assert_eq!(probe(&[0x36, 0x00], &[], true), Probe::No);
    assert_eq!(probe(&[0x10], &[], true), Probe::NeedMore);
}
