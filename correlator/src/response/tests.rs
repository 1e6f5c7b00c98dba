//! The responder over a real (in-memory) SQLite store, with a recording action: the
//! decisions, the audit records, the rate limit and the allowlist property. The real
//! actions are tested on their own (`actions/`) and end to end in a network namespace
//! with nftables (`tests/e2e/blocking.rs`).

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::sync::{Arc, Mutex};

use proptest::prelude::*;

use super::actions::{ActionError, BlockAction, Outcome, Request};
use super::allowlist::TargetValue;
use super::config::ResponseConfig;
use super::Responder;
use crate::config::CorrelatorConfig;
use crate::store::blocks::{BlockFilter, BlockRequest, BlockRow};
use crate::store::{Status, Store};
use crate::Correlator;

/// What the recorder saw: (`block`/`unblock`, target).
type Calls = Arc<Mutex<Vec<(String, String)>>>;

struct Recorder {
    calls: Calls,
    /// Fail this many calls first.
    fail: u32,
}

impl BlockAction for Recorder {
    fn kind(&self) -> &'static str {
        "program"
    }
    fn supports(&self, _: &TargetValue) -> bool {
        true
    }
    fn block(&mut self, r: &Request) -> Result<Outcome, ActionError> {
        if self.fail > 0 {
            self.fail -= 1;
            return Err(ActionError::transient("firewall manager unreachable"));
        }
        self.calls.lock().unwrap().push(("block".into(), r.target.to_string()));
        Ok(serde_json::json!({"recorded": true}))
    }
    fn unblock(&mut self, r: &Request) -> Result<Outcome, ActionError> {
        self.calls.lock().unwrap().push(("unblock".into(), r.target.to_string()));
        Ok(serde_json::json!({"recorded": true}))
    }
}

const T0: i64 = 1_800_000_000_000_000;

fn wall() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

fn alert(src: &str, dst: &str, ts_us: i64, sid: u32) -> gatewatch_rules::event::AlertEvent {
    serde_json::from_value(serde_json::json!({
        "timestamp": gatewatch_rules::event::eve_timestamp(ts_us), "event_type": "alert",
        "src_ip": src, "src_port": 40000, "dest_ip": dst, "dest_port": 80, "proto": "TCP",
        "host": "hue-sensor-01",
        "alert": {"action": "allowed", "gid": 1, "signature_id": sid, "rev": 1,
                  "signature": format!("ET EXPLOIT test {sid}"),
                  "category": "Attempted Administrator Privilege Gain", "severity": 1}
    }))
    .unwrap()
}

fn correlator() -> Correlator {
    let cfg = CorrelatorConfig { correlation_builtin: false, ..Default::default() };
    Correlator::new(cfg, Store::open_in_memory().unwrap())
}

fn responder(cfg_toml: &str, calls: &Calls, fail: u32) -> Responder {
    let cfg: ResponseConfig = toml::from_str(cfg_toml).unwrap();
    let ccfg = CorrelatorConfig { correlation_builtin: false, ..Default::default() };
    let engine = crate::ingest::engine_of(&ccfg).unwrap();
    let mut actions: BTreeMap<String, Box<dyn BlockAction>> = BTreeMap::new();
    actions.insert("fw".into(), Box::new(Recorder { calls: calls.clone(), fail }));
    Responder::with_actions(&cfg, engine, actions).unwrap()
}

fn feed(c: &mut Correlator, alerts: &[gatewatch_rules::event::AlertEvent]) {
    for a in alerts {
        c.ingest(a).unwrap();
    }
    c.flush().unwrap();
}

fn all_blocks(s: &Store) -> Vec<BlockRow> {
    let mut v = s.blocks(&BlockFilter { limit: 100_000, ..Default::default() }).unwrap();
    v.reverse();
    v
}

fn steps(s: &Store, id: i64) -> Vec<String> {
    s.block_history(id)
        .unwrap()
        .into_iter()
        .map(|r| format!("{} by {}", r.action, r.actor))
        .collect()
}

const ENFORCE: &str = r#"
[actions.fw]
kind = "program"
block = ["/bin/true"]
unblock = ["/bin/true"]
[[policies]]
name = "exploit"
mode = "enforce"
action = "fw"
ttl = "1h"
"#;

#[test]
fn enforce_blocks_expires_and_a_repeat_offender_is_blocked_longer() {
    let calls = Calls::default();
    let mut c = correlator();
    let mut r = responder(ENFORCE, &calls, 0);
    r.attach(c.store_mut(), true).unwrap();
    feed(&mut c, &[alert("203.0.113.7", "10.46.10.20", T0, 1)]);
    let now = wall();
    let rep = r.step(c.store_mut(), now).unwrap();
    assert_eq!((rep.incidents, rep.decisions, rep.actions), (1, 1, 1));
    let b = &all_blocks(c.store())[0];
    assert_eq!(
        (b.state.as_str(), b.target.as_str(), b.target_kind.as_str()),
        ("executed", "203.0.113.7", "source")
    );
    assert_eq!(b.ttl_secs, 3600);
    assert_eq!(*calls.lock().unwrap(), [("block".to_string(), "203.0.113.7".to_string())]);

    // More alerts while it is blocked: nothing new.
    feed(&mut c, &[alert("203.0.113.7", "10.46.10.20", T0 + 1_000_000, 2)]);
    assert_eq!(r.step(c.store_mut(), now + 1_000_000).unwrap().decisions, 0);

    // An hour later the block ends and the action lifts it.
    let later = now + 3_601_000_000;
    r.step(c.store_mut(), later).unwrap();
    let b = &all_blocks(c.store())[0];
    assert_eq!(b.state, "expired");
    assert_eq!(
        calls.lock().unwrap().last().unwrap(),
        &("unblock".to_string(), "203.0.113.7".to_string())
    );
    assert_eq!(
        steps(c.store(), b.id),
        ["block.pending by gatewatch", "block.executed by gatewatch", "block.expired by gatewatch"]
    );

    // It attacks again: blocked again, twice as long.
    feed(&mut c, &[alert("203.0.113.7", "10.46.10.20", T0 + 2_000_000, 3)]);
    r.step(c.store_mut(), later + 1).unwrap();
    let b = all_blocks(c.store()).pop().unwrap();
    assert_eq!((b.state.as_str(), b.ttl_secs, b.repeat), ("executed", 7200, 1));
    assert!(b.reason.contains("repeat offender: 1 earlier"), "{}", b.reason);
}

#[test]
fn dry_run_and_approve_touch_nothing_until_approved() {
    let calls = Calls::default();
    let mut c = correlator();
    let cfg = ENFORCE.replace("mode = \"enforce\"", "mode = \"dry-run\"")
        + "[[policies]]\nname = \"ask\"\nmode = \"approve\"\naction = \"fw\"\n";
    let mut r = responder(&cfg, &calls, 0);
    r.attach(c.store_mut(), true).unwrap();
    feed(&mut c, &[alert("203.0.113.7", "10.46.10.20", T0, 1)]);
    let now = wall();
    r.step(c.store_mut(), now).unwrap();
    // Again with more alerts: neither decision is repeated.
    feed(&mut c, &[alert("203.0.113.7", "10.46.10.20", T0 + 5, 2)]);
    r.step(c.store_mut(), now + 10_000_000).unwrap();
    let v = all_blocks(c.store());
    let states: Vec<(&str, &str)> =
        v.iter().map(|b| (b.policy.as_str(), b.state.as_str())).collect();
    assert_eq!(states, [("exploit", "dry-run"), ("ask", "awaiting-approval")]);
    assert!(calls.lock().unwrap().is_empty(), "dry-run and approve call no action");
    assert!(v[0].expires_at.is_some(), "a dry-run says when the block would have ended");
    assert_eq!(steps(c.store(), v[0].id), ["block.dry-run by gatewatch"]);

    let b = c
        .store_mut()
        .request_block(v[1].id, BlockRequest::Approve, "lan", Some("confirmed"))
        .unwrap();
    assert_eq!(b.state, "approved");
    r.step(c.store_mut(), now + 20_000_000).unwrap();
    assert_eq!(c.store().block(v[1].id).unwrap().state, "executed");
    assert_eq!(calls.lock().unwrap().len(), 1);
    assert_eq!(
        steps(c.store(), v[1].id),
        [
            "block.awaiting-approval by gatewatch",
            "block.approved by lan",
            "block.executed by gatewatch"
        ]
    );
}

#[test]
fn undo_lifts_the_block_and_pardons_the_target() {
    let calls = Calls::default();
    let mut c = correlator();
    let mut r = responder(ENFORCE, &calls, 0);
    r.attach(c.store_mut(), true).unwrap();
    feed(&mut c, &[alert("203.0.113.7", "10.46.10.20", T0, 1)]);
    r.step(c.store_mut(), wall()).unwrap();
    let id = all_blocks(c.store())[0].id;
    c.store_mut()
        .request_block(id, BlockRequest::Undo, "mai", Some("our partner's scanner"))
        .unwrap();
    let now = wall() + 1_000_000;
    r.step(c.store_mut(), now).unwrap();
    assert_eq!(c.store().block(id).unwrap().state, "undone");
    assert_eq!(calls.lock().unwrap().last().unwrap().0, "unblock");
    // The attacker goes on: no ban loop, the analyst's word stands.
    feed(&mut c, &[alert("203.0.113.7", "10.46.10.20", T0 + 5, 2)]);
    assert_eq!(r.step(c.store_mut(), now + 1).unwrap().decisions, 0);
    let h = c.store().block_history(id).unwrap();
    assert_eq!(h[3].action, "block.undone");
    assert_eq!(h[3].detail["requested_by"], "mai");
}

#[test]
fn blocks_in_force_are_put_back_after_a_restart_and_allowlisted_ones_lifted() {
    let calls = Calls::default();
    let mut c = correlator();
    let mut r = responder(ENFORCE, &calls, 0);
    r.attach(c.store_mut(), true).unwrap();
    feed(
        &mut c,
        &[alert("203.0.113.7", "10.46.10.20", T0, 1), alert("198.51.100.9", "10.46.10.21", T0, 1)],
    );
    let now = wall();
    r.step(c.store_mut(), now).unwrap();
    assert_eq!(calls.lock().unwrap().len(), 2);
    // A restart half an hour later (the firewall lost its sets): a new responder, whose
    // allowlist now has one of the two.
    let cfg = ENFORCE.to_string() + "[allowlists]\npartners = [\"198.51.100.9\"]\n";
    let mut r2 = responder(&cfg, &calls, 0);
    let later = now + 1_800_000_000;
    assert_eq!(r2.restore(c.store_mut(), later).unwrap(), 1);
    assert_eq!(calls.lock().unwrap()[2], ("block".to_string(), "203.0.113.7".to_string()));
    r2.step(c.store_mut(), later).unwrap();
    let v = all_blocks(c.store());
    let state = |t: &str| v.iter().find(|b| b.target == t).map(|b| b.state.clone()).unwrap();
    assert_eq!(
        (state("203.0.113.7").as_str(), state("198.51.100.9").as_str()),
        ("executed", "expired")
    );
    assert_eq!(calls.lock().unwrap()[3], ("unblock".to_string(), "198.51.100.9".to_string()));
}

#[test]
fn a_false_positive_lifts_its_blocks() {
    let calls = Calls::default();
    let mut c = correlator();
    let mut r = responder(ENFORCE, &calls, 0);
    r.attach(c.store_mut(), true).unwrap();
    feed(&mut c, &[alert("203.0.113.7", "10.46.10.20", T0, 1)]);
    r.step(c.store_mut(), wall()).unwrap();
    let b = all_blocks(c.store())[0].clone();
    let incident = b.incident_id.unwrap();
    c.store_mut()
        .transition(incident, Status::FalsePositive, "lan", Some("pentest"), None)
        .unwrap();
    r.step(c.store_mut(), wall() + 1_000_000).unwrap();
    assert_eq!(c.store().block(b.id).unwrap().state, "undone");
    assert_eq!(steps(c.store(), b.id)[2], "block.undo-requested by gatewatch");
}

#[test]
fn the_allowlist_is_checked_first_and_again_at_execution() {
    let calls = Calls::default();
    let mut c = correlator();
    let cfg = ENFORCE.replace("mode = \"enforce\"", "mode = \"approve\"")
        + "[allowlists]\nncsc = [\"203.0.113.0/28\"]\n";
    let mut r = responder(&cfg, &calls, 0);
    r.attach(c.store_mut(), true).unwrap();
    feed(
        &mut c,
        &[alert("203.0.113.7", "10.46.10.20", T0, 1), alert("198.51.100.9", "10.46.10.21", T0, 1)],
    );
    let now = wall();
    r.step(c.store_mut(), now).unwrap();
    feed(&mut c, &[alert("203.0.113.7", "10.46.10.20", T0 + 5, 2)]);
    r.step(c.store_mut(), now + 10_000_000).unwrap();
    let v = all_blocks(c.store());
    assert_eq!(v.len(), 2, "the skip is recorded once per incident");
    assert_eq!(
        (v[0].state.as_str(), v[0].allowlist.as_deref()),
        ("skipped-allowlist", Some("ncsc: 203.0.113.0/28"))
    );
    assert!(v[0].reason.contains("is on allowlist ncsc: 203.0.113.0/28"), "{}", v[0].reason);
    assert!(c.store_mut().request_block(v[0].id, BlockRequest::Approve, "lan", None).is_err());

    // The list grows before the analyst approves the other: it is never carried out.
    let grown = cfg.replace("[\"203.0.113.0/28\"]", "[\"203.0.113.0/28\", \"198.51.100.0/24\"]");
    let mut r2 = responder(&grown, &calls, 0);
    c.store_mut().request_block(v[1].id, BlockRequest::Approve, "lan", None).unwrap();
    r2.step(c.store_mut(), now + 20_000_000).unwrap();
    let b = c.store().block(v[1].id).unwrap();
    assert_eq!(
        (b.state.as_str(), b.allowlist.as_deref()),
        ("skipped-allowlist", Some("ncsc: 198.51.100.0/24"))
    );
    assert!(calls.lock().unwrap().is_empty());
}

#[test]
fn a_failing_action_is_tried_again_then_fails_and_raises_an_alert() {
    let calls = Calls::default();
    let mut c = correlator();
    let mut r = responder(ENFORCE, &calls, 10);
    r.attach(c.store_mut(), true).unwrap();
    feed(&mut c, &[alert("203.0.113.7", "10.46.10.20", T0, 1)]);
    let mut now = wall();
    for _ in 0..3 {
        r.step(c.store_mut(), now).unwrap();
        now += 600_000_000;
    }
    let b = &all_blocks(c.store())[0];
    assert_eq!((b.state.as_str(), b.attempts), ("failed", 3));
    assert_eq!(b.last_error.as_deref(), Some("firewall manager unreachable"));
    let s = steps(c.store(), b.id);
    assert_eq!(
        s,
        [
            "block.pending by gatewatch",
            "block.attempt-failed by gatewatch",
            "block.attempt-failed by gatewatch",
            "block.failed by gatewatch"
        ]
    );
    let own = c.store().list_incidents(10).unwrap();
    assert!(own.iter().any(|i| i.entity == "response:action-failed"), "{own:?}");
}

#[test]
fn a_blocking_storm_is_capped_and_raises_one_incident() {
    let calls = Calls::default();
    let mut c = correlator();
    let cfg = ENFORCE.replace("[actions.fw]", "max_blocks_per_minute = 20\n[actions.fw]");
    let mut r = responder(&cfg, &calls, 0);
    r.attach(c.store_mut(), true).unwrap();
    // 1,000 attackers, each against its own host, within one minute.
    let alerts: Vec<_> = (0..1000u32)
        .map(|i| {
            let src = Ipv4Addr::from(0xCB00_7100 + (i / 250) * 256 + i % 250 + 1).to_string();
            let dst = Ipv4Addr::from(0x0A2E_0000 + i + 1).to_string();
            alert(&src, &dst, T0 + i as i64 * 50_000, 1)
        })
        .collect();
    feed(&mut c, &alerts);
    let now = wall();
    r.step(c.store_mut(), now).unwrap();
    r.step(c.store_mut(), now + 30_000_000).unwrap();
    let counts: BTreeMap<String, u64> = c.store().block_counts().unwrap().into_iter().collect();
    assert_eq!(counts.values().sum::<u64>(), 1000, "{counts:?}");
    assert_eq!(counts.get("executed"), Some(&20));
    assert_eq!(counts.get("rate-limited"), Some(&980));
    assert_eq!(calls.lock().unwrap().len(), 20);
    let storms: Vec<_> = c
        .store()
        .list_incidents(2000)
        .unwrap()
        .into_iter()
        .filter(|i| i.entity.starts_with("response:"))
        .collect();
    assert_eq!(storms.len(), 1, "one storm incident");
    assert!(storms[0].title.contains("blocking storm"), "{}", storms[0].title);
    assert_eq!(r.stats.storm_alerts, 1);
    // A minute later the limit has room again, but held decisions wait for analysts.
    r.step(c.store_mut(), now + 61_000_000).unwrap();
    assert_eq!(calls.lock().unwrap().len(), 20);
}

/// A /n network as (base, prefix length), and containment done the plain way.
fn contains(net: (u32, u8), ip: u32) -> bool {
    let mask = if net.1 == 0 { 0 } else { u32::MAX << (32 - net.1) };
    ip & mask == net.0 & mask
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

    /// For random policies, allowlists and incidents (addresses from a small space, so
    /// that they collide), no action ever aims at an allowlisted address — not when
    /// decided, not after analysts approve everything, not on a retry.
    #[test]
    fn no_action_ever_targets_an_allowlisted_address(
        nets in proptest::collection::vec((0u32..64, 24u8..=32), 0..6),
        pairs in proptest::collection::vec((0u32..64, 0u32..64, 1u32..4), 1..40),
        policies in proptest::collection::vec((0usize..3, 0usize..4, any::<bool>()), 1..4),
        fail in 0u32..3,
    ) {
        // Addresses 10.46.0.x (internal) and 203.0.113.x (external) by the low bit.
        let addr = |n: u32| if n.is_multiple_of(2) { 0x0A2E_0000 + n } else { 0xCB00_7100 + n };
        let nets: Vec<(u32, u8)> = nets.into_iter().map(|(n, l)| (addr(n), l)).collect();
        let mut cfg = String::from("[actions.fw]\nkind = \"program\"\nblock = [\"/bin/true\"]\nunblock = [\"/bin/true\"]\n[allowlists]\nlist = [");
        cfg.push_str(&nets.iter().map(|(b, l)| format!("\"{}/{l}\"", Ipv4Addr::from(*b))).collect::<Vec<_>>().join(", "));
        cfg.push_str("]\n");
        for (i, (mode, target, all_zones)) in policies.iter().enumerate() {
            let mode = ["enforce", "approve", "dry-run"][*mode];
            let target = ["source", "destination", "host", "source"][*target];
            let zones = if *all_zones { "zones = [\"external\", \"internal\"]\n" } else { "" };
            cfg.push_str(&format!("[[policies]]\nname = \"p{i}\"\nmode = \"{mode}\"\naction = \"fw\"\ntarget = \"{target}\"\n{zones}"));
        }
        let calls = Calls::default();
        let mut c = correlator();
        let mut r = responder(&cfg, &calls, fail);
        r.attach(c.store_mut(), true).unwrap();
        let alerts: Vec<_> = pairs.iter().enumerate().map(|(k, (s, d, sid))| {
            alert(&Ipv4Addr::from(addr(*s)).to_string(), &Ipv4Addr::from(addr(*d)).to_string(), T0 + k as i64, *sid)
        }).collect();
        feed(&mut c, &alerts);
        let mut now = wall();
        for _ in 0..3 {
            r.step(c.store_mut(), now).unwrap();
            for b in all_blocks(c.store()) {
                if b.state == "awaiting-approval" || b.state == "rate-limited" {
                    c.store_mut().request_block(b.id, BlockRequest::Approve, "lan", None).unwrap();
                }
            }
            now += 600_000_000;
        }
        // Gatewatch's own addresses are on no list of the test, and never blocked either.
        let own = crate::response::responder::local_addresses();
        let listed = |t: &str| -> bool {
            let ip: Ipv4Addr = t.parse().unwrap();
            nets.iter().any(|n| contains(*n, u32::from(ip))) || own.contains(&std::net::IpAddr::V4(ip))
        };
        for (_, t) in calls.lock().unwrap().iter() {
            prop_assert!(!listed(t), "an action aimed at allowlisted {t}");
        }
        for b in all_blocks(c.store()) {
            prop_assert_eq!(b.state == "skipped-allowlist", listed(&b.target), "{:?}", b);
        }
    }
}

#[test]
fn gatewatch_never_blocks_itself_or_its_sensors() {
    let calls = Calls::default();
    let mut r = responder(ENFORCE, &calls, 0);
    assert!(super::responder::local_addresses().contains(&"127.0.0.1".parse().unwrap()));
    r.protect_sensors(Arc::new(|| vec!["198.51.100.9".parse().unwrap()]));
    let hit = r.stopped_by(&TargetValue::parse("::ffff:198.51.100.9").unwrap()).unwrap();
    assert_eq!(hit.to_string(), "gatewatch: 198.51.100.9 (a sensor)");
    assert!(r.stopped_by(&TargetValue::parse("198.51.100.10").unwrap()).is_none());
}

/// An alert from a forwarded host log (syslog, a log forwarder's certificate): what it
/// says is the sending host's word.
fn forwarded_alert(src: &str, ts_us: i64, sid: u32) -> gatewatch_rules::event::AlertEvent {
    let mut a = alert(src, "10.46.10.20", ts_us, sid);
    a.app_proto = Some("hostlog".into());
    a.app_metadata.insert(
        "hostlog".into(),
        serde_json::json!({"via": "syslog_udp", "forwarded": true, "program": "sshd"}),
    );
    a
}

/// Hardening finding 7: an incident made only of forwarded host-log alerts never
/// blocks on its own in enforce mode: the decision waits for an analyst. Network
/// evidence from a sensor in the same incident lets enforcement go on.
#[test]
fn finding_7_alerts_forwarded_by_a_host_never_block_without_an_analyst() {
    let calls = Calls::default();
    let mut c = correlator();
    let mut r = responder(ENFORCE, &calls, 0);
    r.attach(c.store_mut(), true).unwrap();
    feed(
        &mut c,
        &[forwarded_alert("203.0.113.66", T0, 1), forwarded_alert("203.0.113.66", T0 + 1, 2)],
    );
    let now = wall();
    let rep = r.step(c.store_mut(), now).unwrap();
    assert_eq!((rep.decisions, rep.actions), (1, 0));
    let b = &all_blocks(c.store())[0];
    assert_eq!(b.state, "awaiting-approval", "{}", b.reason);
    assert!(b.reason.contains("forwarded host logs"), "{}", b.reason);
    assert!(calls.lock().unwrap().is_empty(), "no action ran");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    /// Hardening finding 7: whatever names an attacker puts in an alert (HTTP `Host`,
    /// TLS SNI, DNS names, option-like names), a domain target only ever comes from a
    /// DNS query between an internal client and a resolver, and is a plain DNS name
    /// that no program could take for an option.
    #[test]
    fn domain_targets_are_resolved_names_never_attacker_chosen_hosts(
        host in "[-a-z0-9.]{1,24}",
        sni in "[-a-z0-9.]{1,24}",
        dns in "[-a-z0-9.]{1,24}",
        client_internal in any::<bool>(),
        server_resolver in any::<bool>(),
    ) {
        let raw = serde_json::json!({
            "src_ip": if client_internal { "10.46.2.9" } else { "198.51.100.9" },
            "dest_ip": if server_resolver { "10.46.0.53" } else { "203.0.113.53" },
            "http": {"hostname": host}, "tls": {"sni": sni},
            "dns": {"queries": [{"rrname": dns}]},
        }).to_string();
        let internal = |ip: std::net::IpAddr| ip.to_string().starts_with("10.46.");
        let resolver = |ip: std::net::IpAddr| ip.to_string() == "10.46.0.53";
        let names = crate::response::policy::domains_in(&raw, &internal, &resolver);
        for n in &names {
            prop_assert!(!n.starts_with('-') && !n.contains(".-") && !n.contains("-."), "{n}");
            prop_assert_eq!(Some(n.clone()), crate::response::allowlist::normalize_domain(n));
        }
        if !(client_internal && server_resolver) {
            prop_assert!(names.is_empty(), "{:?}", names);
        }
        let dns_name = crate::response::allowlist::normalize_domain(&dns);
        prop_assert!(names.iter().all(|n| Some(n) == dns_name.as_ref()), "{:?} from {}", names, raw);
    }
}

/// A dry-run approved is carried out for real, its time starting then; a block by hand
/// is carried out like an approval, and refused while one of the same target and
/// action stands; the allowlist, grown meanwhile, still stops an approval.
#[test]
fn a_dry_run_carried_out_and_blocks_by_hand() {
    use crate::store::block_requests::ManualBlock;
    let calls = Calls::default();
    let mut c = correlator();
    let cfg = ENFORCE.replace("mode = \"enforce\"", "mode = \"dry-run\"");
    let mut r = responder(&cfg, &calls, 0);
    r.attach(c.store_mut(), true).unwrap();
    feed(&mut c, &[alert("203.0.113.7", "10.46.10.20", T0, 1)]);
    let now = wall();
    r.step(c.store_mut(), now).unwrap();
    let dry = all_blocks(c.store()).remove(0);
    assert_eq!(dry.state, "dry-run");
    let b =
        c.store_mut().request_block(dry.id, BlockRequest::Approve, "lan", Some("real")).unwrap();
    assert_eq!((b.state.as_str(), b.expires_at.as_deref()), ("approved", None));
    let later = now + 600_000_000;
    r.step(c.store_mut(), later).unwrap();
    let b = c.store().block(dry.id).unwrap();
    assert_eq!(b.state, "executed");
    let expires =
        b.expires_at.as_deref().and_then(|e| e.parse::<chrono::DateTime<chrono::Utc>>().ok());
    assert_eq!(
        expires.map(|e| e.timestamp_micros()),
        Some(later + 3_600_000_000),
        "an hour from when it was carried out"
    );
    assert_eq!(
        steps(c.store(), dry.id)[1..],
        ["block.approved by lan", "block.executed by gatewatch"]
    );

    // By hand: recorded approved with the analyst as the one who decided, then carried out.
    let m = ManualBlock {
        target: "198.51.100.9",
        target_kind: "host",
        action: "fw",
        action_kind: "program",
        ttl_secs: 7200,
        reason: "scanner seen by the agency",
        incident_id: None,
    };
    let row = c.store_mut().manual_block(&m, "mai").unwrap();
    assert_eq!(
        (row.state.as_str(), row.policy.as_str(), row.mode.as_str()),
        ("approved", "manual", "manual")
    );
    assert!(
        row.reason.contains("blocked by hand by mai: scanner seen by the agency"),
        "{}",
        row.reason
    );
    let again = c.store_mut().manual_block(&m, "mai").unwrap_err().to_string();
    assert!(
        again.contains(&format!("already blocked by fw (decision #{}, approved)", row.id)),
        "{again}"
    );
    let no_reason = ManualBlock { reason: "  ", ..m.clone() };
    assert!(c
        .store_mut()
        .manual_block(&no_reason, "mai")
        .unwrap_err()
        .to_string()
        .contains("reason"));
    let no_incident = ManualBlock { incident_id: Some(999), target: "198.51.100.10", ..m.clone() };
    assert!(c
        .store_mut()
        .manual_block(&no_incident, "mai")
        .unwrap_err()
        .to_string()
        .contains("no incident #999"));
    r.step(c.store_mut(), later).unwrap();
    assert_eq!(c.store().block(row.id).unwrap().state, "executed");
    assert_eq!(
        calls.lock().unwrap().last().unwrap(),
        &("block".to_string(), "198.51.100.9".to_string())
    );

    // A dry-run whose target the allowlist took in since: approved, then not carried out.
    feed(&mut c, &[alert("203.0.113.8", "10.46.10.21", T0 + 10, 3)]);
    r.step(c.store_mut(), later).unwrap();
    let second = all_blocks(c.store()).into_iter().find(|b| b.target == "203.0.113.8").unwrap();
    c.store_mut().request_block(second.id, BlockRequest::Approve, "lan", None).unwrap();
    let grown = cfg.clone() + "[allowlists]\npartners = [\"203.0.113.8\"]\n";
    let mut r2 = responder(&grown, &calls, 0);
    r2.step(c.store_mut(), later).unwrap();
    let b = c.store().block(second.id).unwrap();
    assert_eq!(
        (b.state.as_str(), b.allowlist.as_deref()),
        ("skipped-allowlist", Some("partners: 203.0.113.8"))
    );
}
