//! The console's API for the wall screen, raw alerts and blocking by hand, over the
//! demo's store and a console whose `[response]` has an action and allowlists: what an
//! automation gets, and what it is refused (with the code and the words of why).

use reqwest::StatusCode;
use serde_json::{json, Value};

use super::common::{run_in, Scratch};
use super::console::{
    body, client, code, demo_with_users, login, replay_demo_with_policies, start_console_with,
    with, JsonBody, Session,
};

/// A console's `[response]`: the action the approve-mode replay uses (`fw`), one more,
/// and allowlists (a resolver, the office network). The browser test uses it too.
pub const RESPONSE: &str = r#"
[response.allowlists]
resolvers = ["10.46.1.53"]
office = ["10.46.120.0/24"]
[response.actions.fw]
kind = "program"
block = ["/bin/true"]
unblock = ["/bin/true"]
[response.actions.sinkhole]
kind = "program"
block = ["/bin/true"]
unblock = ["/bin/true"]
"#;

#[test]
fn console_wall_raw_alerts_and_blocks_by_hand() {
    let dir = Scratch::new("console-response");
    demo_with_users(&dir);
    replay_demo_with_policies(&dir, "");
    std::fs::write(dir.path("console.toml"), RESPONSE).expect("console.toml");
    let c = start_console_with(&dir, &["--config", "console.toml"]);
    let http = client(&c);
    let lan = login(&http, &c, "lan", "lan's long password").expect("lan");
    let minh = login(&http, &c, "minh", "minh's long password").expect("minh");
    let get = |s: &Session, p: &str| {
        body(with(s, http.get(format!("{}{p}", c.base))).send().expect("get"))
    };
    let post = |s: &Session, p: &str, v: Value| {
        let r = with(s, http.post(format!("{}{p}", c.base))).header("origin", &c.base).json(&v);
        body(r.send().expect("post"))
    };

    // The wall: its tiles are the queue's counts.
    let (st, wall) = get(&minh, "/api/v1/wall?from=2026-10-01&to=2026-11-01");
    assert_eq!(st, StatusCode::OK, "{wall}");
    let total = |q: &str| get(&minh, &format!("/api/v1/incidents?{q}")).1["total"].as_u64();
    assert_eq!(wall["tiles"]["open"].as_u64(), total("status=open"));
    assert_eq!(wall["tiles"]["unacknowledged"].as_u64(), total("status=new"));
    assert_eq!(
        wall["tiles"]["high_critical"].as_u64(),
        total("status=open&severity=critical,high")
    );
    assert_eq!(wall["tiles"]["overdue"].as_u64(), total("status=open&overdue=1"));
    assert_eq!(wall["bucket_secs"], 3_600, "a month is shown by the hour");
    assert_eq!(wall["buckets"].as_array().map(Vec::len), Some(31 * 24));
    let (_, longer) = get(&minh, "/api/v1/wall?from=2026-09-01&to=2026-11-01");
    assert_eq!(
        (longer["bucket_secs"].as_u64(), longer["buckets"].as_array().map(Vec::len)),
        (Some(86_400), Some(61)),
        "longer: by day"
    );
    let alerts: u64 = wall["buckets"]
        .as_array()
        .expect("buckets")
        .iter()
        .filter_map(|b| b["alerts"].as_u64())
        .sum();
    assert!(alerts > 0, "the demo's alerts are in October: {wall}");
    // Every list links to a queue filter that finds incidents.
    let port = wall["top_ports"][0]["key"]
        .as_str()
        .expect("a port")
        .split('/')
        .next()
        .unwrap_or("")
        .to_string();
    let rule = wall["top_signatures"][0]["key"].as_str().expect("a rule").to_string();
    let tech = wall["attack_named"]
        .as_array()
        .expect("cells")
        .iter()
        .find_map(|c| c["technique"].as_str().filter(|t| !t.is_empty()))
        .expect("a technique")
        .to_string();
    let system = wall["top_systems"][0]["key"].as_str().expect("a system").to_string();
    for q in [
        format!("port={port}"),
        format!("rule={rule}"),
        format!("technique={tech}"),
        format!("system={}", system.replace(' ', "%20")),
    ] {
        assert!(total(&format!("status=&{q}")).unwrap_or(0) > 0, "{q} finds incidents");
    }
    assert!(wall["attack_named"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["technique_name"].is_string()));
    for (bad, why) in [("range=1y", "`range`"), ("from=2026-11-01&to=2026-10-01", "before")] {
        let (st, e) = get(&minh, &format!("/api/v1/wall?{bad}"));
        assert_eq!(st, StatusCode::BAD_REQUEST, "{bad}");
        assert!(e["error"]["message"].as_str().unwrap_or("").contains(why), "{bad}: {e}");
    }
    for bad in ["overdue=maybe", "rule=x:y"] {
        assert_eq!(
            get(&minh, &format!("/api/v1/incidents?{bad}")).0,
            StatusCode::BAD_REQUEST,
            "{bad}"
        );
    }

    // A raw alert: the event as the sensor wrote it.
    let (_, page) = get(&minh, "/api/v1/incidents?status=");
    let id = page["incidents"][0]["id"].as_i64().expect("an incident");
    let (_, detail) = get(&minh, &format!("/api/v1/incidents/{id}"));
    let alert = &detail["alerts"][0];
    let (st, raw) = get(&minh, &format!("/api/v1/alerts/{}", alert["id"]));
    assert_eq!(st, StatusCode::OK);
    assert_eq!(
        (raw["event_type"].as_str(), &raw["alert"]["signature_id"]),
        (Some("alert"), &alert["sid"])
    );
    assert_eq!(get(&minh, "/api/v1/alerts/999999").0, StatusCode::NOT_FOUND);

    // Blocking by hand: the actions offered, a viewer refused, each mistake named.
    let (_, choices) = get(&lan, "/api/v1/blocks/actions");
    assert_eq!(choices["actions"].as_array().map(Vec::len), Some(2));
    let block = |s: &Session, target: &str, action: &str, ttl: &str| {
        post(
            s,
            "/api/v1/blocks",
            json!({"target": target, "action": action, "ttl": ttl, "reason": "seen scanning", "incident": id}),
        )
    };
    assert_eq!(block(&minh, "192.0.2.7", "fw", "1h").0, StatusCode::FORBIDDEN);
    for (target, action, ttl, why) in [
        ("10.46.1.53", "fw", "1h", "allowlist resolvers"),
        ("10.46.120.9", "fw", "1h", "allowlist office"),
        ("192.0.2.7", "edge", "1h", "no action `edge`"),
        ("192.0.2.7", "fw", "soon", "duration"),
        ("not a target", "fw", "1h", "neither an address nor a domain name"),
    ] {
        let (st, e) = block(&lan, target, action, ttl);
        assert_eq!((st, code(&e)), (StatusCode::UNPROCESSABLE_ENTITY, "refused"), "{target}: {e}");
        assert!(e["error"]["message"].as_str().unwrap_or("").contains(why), "{target}: {e}");
    }
    let (st, b) = block(&lan, "192.0.2.7", "fw", "2h");
    assert_eq!(st, StatusCode::CREATED, "{b}");
    assert_eq!(
        (
            b["state"].as_str(),
            b["policy"].as_str(),
            b["ttl_secs"].as_u64(),
            b["incident_id"].as_i64()
        ),
        (Some("approved"), Some("manual"), Some(7200), Some(id))
    );
    let (st, e) = block(&lan, "192.0.2.7", "fw", "2h");
    assert!(
        st == StatusCode::UNPROCESSABLE_ENTITY
            && e["error"]["message"].as_str().unwrap_or("").contains("already blocked"),
        "{e}"
    );
    let (_, hist) = get(&lan, &format!("/api/v1/blocks/{}", b["id"]));
    assert_eq!(hist["history"][0]["actor"], "lan", "the audit names who blocked");

    // Dry-runs: one carried out; one on the console's allowlist refused.
    let (_, all) = get(&lan, "/api/v1/blocks?state=dry-run");
    let dry = |t: &str| {
        all.as_array()
            .unwrap()
            .iter()
            .find(|b| b["target"] == t)
            .and_then(|b| b["id"].as_i64())
            .unwrap_or_else(|| panic!("dry-run of {t}: {all}"))
    };
    let (st, e) = post(
        &lan,
        &format!("/api/v1/blocks/{}/approve", dry("10.46.120.15")),
        json!({"reason": "try"}),
    );
    assert!(
        st == StatusCode::UNPROCESSABLE_ENTITY
            && e["error"]["message"].as_str().unwrap_or("").contains("allowlist office"),
        "{e}"
    );
    let (st, b) = post(
        &lan,
        &format!("/api/v1/blocks/{}/approve", dry("198.51.100.200")),
        json!({"reason": "confirmed C2"}),
    );
    assert_eq!(
        (st, b["state"].as_str(), b["expires_at"].as_str()),
        (StatusCode::OK, Some("approved"), None)
    );
    let cli = run_in(&dir.0, &["blocks", "list", "--json", "--state", "approved"]);
    let cli: Value = serde_json::from_slice(&cli.stdout).expect("cli json");
    let targets: Vec<&str> =
        cli.as_array().unwrap().iter().filter_map(|b| b["target"].as_str()).collect();
    assert!(targets.contains(&"198.51.100.200") && targets.contains(&"192.0.2.7"), "{targets:?}");

    // Recommendations for October: written by an analyst (not a viewer), printed in
    // the month's report in place of the blank lines, in each language.
    let url = format!("{}/api/v1/reports/recommendations?month=2026-10", c.base);
    let put = |s: &Session, v: Value| {
        body(with(s, http.put(&url)).header("origin", &c.base).json(&v).send().expect("put"))
    };
    let words = json!({"text": "Nâng cấp Apache Log4j trên cổng thông tin.\n\n- Chặn 198.51.100.23 tại tường lửa biên\n- Rà soát tài khoản SSH", "text_en": "Upgrade Apache Log4j on the portal."});
    assert_eq!(put(&minh, words.clone()).0, StatusCode::FORBIDDEN);
    let (st, r) = put(&lan, words);
    assert_eq!((st, r["updated_by"].as_str()), (StatusCode::OK, Some("lan")), "{r}");
    assert_eq!(
        get(&minh, "/api/v1/reports/recommendations?month=2026-10").1["text_en"],
        "Upgrade Apache Log4j on the portal."
    );
    assert_eq!(
        get(&minh, "/api/v1/reports/recommendations?month=2026-10&agency=nowhere").0,
        StatusCode::BAD_REQUEST
    );
    let report = |lang: &str| {
        let r = with(
            &minh,
            http.get(format!(
                "{}/api/v1/reports/generate?month=2026-10&lang={lang}&format=html",
                c.base
            )),
        );
        r.send().expect("report").text().expect("html")
    };
    let vi = report("vi");
    for w in [
        "Kiến nghị, đề xuất",
        "Nâng cấp Apache Log4j trên cổng thông tin.",
        "Chặn 198.51.100.23 tại tường lửa biên",
        "Rà soát tài khoản SSH",
    ] {
        assert!(vi.contains(w), "{w} in the Vietnamese report");
    }
    assert!(report("en").contains("Upgrade Apache Log4j on the portal."));
}
