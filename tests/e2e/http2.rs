//! HTTP/2 end to end: a generated capture with a browser-like session by prior
//! knowledge (HPACK with the dynamic table and Huffman strings) and a curl-like `h2c`
//! upgrade; ET-style HTTP rules matching over HTTP/2, the `http2.*` keywords, and the
//! EVE records against a golden file.

use gatewatch_sensor::synth::http2::{h2_session, h2c_session, Exchange};
use gatewatch_sensor::synth::Capture;

use super::common::{alert_sids, eve_lines, golden, Scratch};
use super::golden::replay;
use super::windows::session;

const RULES: &str = r#"
alert http any any -> any any (msg:"executable requested over HTTP (also HTTP/2)"; flow:established,to_server; http.method; content:"GET"; http.uri; content:".exe"; endswith; sid:301;)
alert http any any -> any any (msg:"Go HTTP client"; http.user_agent; content:"Go-http-client"; startswith; sid:302;)
alert http2 any any -> any any (msg:"HTTP/2 GOAWAY"; http2.frametype:GOAWAY; sid:303;)
alert http2 any any -> any any (msg:"large initial window"; http2.settings:SETTINGS_INITIAL_WINDOW_SIZE>60000; sid:304;)
alert http2 any any -> any any (msg:"authority and method in two header fields"; http.request_header; content:":authority: cdn.hue.gov.vn"; http.request_header; content:":method: GET"; sid:305;)
alert http2 any any -> any any (msg:"nginx answers"; http2.header; content:"server: nginx"; sid:306;)
alert http1 any any -> any any (msg:"HTTP/1 only: not over HTTP/2"; http.uri; content:".exe"; sid:307;)
alert http any any -> any any (msg:"PE download"; flow:to_client; file.data; content:"MZ"; startswith; sid:308;)
alert http2 any any -> any any (msg:"window update of 1 MiB"; http2.window:1048576; sid:309;)
alert http any any -> any any (msg:"h2c upgrade request"; http.header; content:"Upgrade|3a 20|h2c"; sid:310;)
"#;

const PE: &[u8] = b"MZ\x90\x00\x03\x00\x00\x00 This program cannot be run in DOS mode.";

const GO: &[(&str, &str)] = &[("user-agent", "Go-http-client/2.0")];
const CURL: &[(&str, &str)] = &[("user-agent", "curl/8.5.0")];

fn exchange<'a>(path: &'a str, ua: &'a [(&'a str, &'a str)], body: &'a [u8]) -> Exchange<'a> {
    Exchange {
        method: "GET",
        authority: "cdn.hue.gov.vn",
        path,
        request_headers: ua,
        request_body: b"",
        status: "200",
        response_headers: &[("content-type", "application/octet-stream"), ("server", "nginx")],
        response_body: body,
    }
}

fn http2_capture() -> Capture {
    let mut cap = Capture::default();
    let pk = h2_session(&[
        exchange("/", GO, b"<html>trang chu</html>"),
        exchange("/updates/agent.exe", GO, PE),
    ]);
    session(&mut cap, ("10.20.5.31", 50100), ("10.20.0.80", 80), 0, &pk);
    let first = exchange("/", CURL, b"ok");
    let rest = [exchange("/bao-cao.pdf", CURL, b"%PDF-1.7")];
    let up = h2c_session("10.20.0.81:8080", "/", &first, &rest);
    session(&mut cap, ("10.20.5.32", 50200), ("10.20.0.81", 8080), 100_000, &up);
    cap
}

#[test]
fn http2_eve_and_rules() {
    let dir = Scratch::new("golden-http2");
    http2_capture().write_pcap(&dir.path("h2.pcap")).expect("pcap");
    let eve = replay(&dir, &["h2.pcap"], RULES, &[]);
    let events = eve_lines(&dir.path("eve.json"));
    let mut sids = alert_sids(&events);
    sids.sort();
    sids.dedup();
    assert_eq!(sids, vec![301, 302, 303, 304, 305, 306, 308, 309, 310]);
    let flow_proto = |port: u64| {
        events
            .iter()
            .find(|e| e["event_type"] == "flow" && e["dest_port"] == port)
            .map(|e| e["app_proto"].clone())
    };
    assert_eq!(flow_proto(80), Some("http2".into()));
    assert_eq!(flow_proto(8080), Some("http2".into()));
    let by_sid =
        |sid: u64| events.iter().find(|e| e["alert"]["signature_id"] == sid).expect("alert");
    assert_eq!(by_sid(301)["http"]["url"], "/updates/agent.exe");
    assert_eq!(by_sid(301)["http"]["version"], "2");
    assert_eq!(by_sid(301)["app_proto"], "http2");
    let http: Vec<_> = events.iter().filter(|e| e["event_type"] == "http").collect();
    let stream = |port: u64, id: u64| {
        http.iter()
            .find(|e| e["dest_port"] == port && e["http"]["http2"]["stream_id"] == id)
            .unwrap_or_else(|| panic!("stream {id} on {port}"))
    };
    assert_eq!(stream(80, 3)["http"]["http_user_agent"], "Go-http-client/2.0");
    assert_eq!(stream(80, 3)["http"]["length"], PE.len());
    assert_eq!(stream(8080, 1)["http"]["url"], "/");
    assert_eq!(stream(8080, 3)["http"]["url"], "/bao-cao.pdf");
    let files: Vec<_> = events.iter().filter(|e| e["event_type"] == "fileinfo").collect();
    assert_eq!(files.len(), 4);
    assert!(files.iter().any(|f| f["fileinfo"]["filename"] == "/updates/agent.exe"));
    golden("http2.eve.json", &eve);
}
