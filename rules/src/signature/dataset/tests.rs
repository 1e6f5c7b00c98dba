use std::collections::HashSet;

use proptest::prelude::*;

use super::*;

/// A folder of its own per test, holding a rule file path to resolve names against.
fn dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("gw-dataset-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn rule_file(d: &std::path::Path) -> String {
    d.join("local.rules").display().to_string()
}

#[test]
fn csv_strings_are_base64_and_hashes_hex() {
    let d = dir("csv");
    std::fs::write(d.join("names.lst"), "# bad names\nZXZpbC5leGFtcGxl\n\nZ29vZ2xlLmNvbQ==\n")
        .unwrap();
    let m = parse_dataset("isset,t-csv-names,type string,load names.lst", &rule_file(&d)).unwrap();
    assert!(m.matches(b"evil.example"));
    assert!(m.matches(b"google.com"));
    assert!(!m.matches(b"google.co"));
    std::fs::write(d.join("md5.rep"), "1d5920f4b44b27a802bd77c4f0536f5a,255\n").unwrap();
    let r = parse_datarep("t-csv-md5, >, 200, load md5.rep, type md5", &rule_file(&d)).unwrap();
    let digest: Vec<u8> = (0..16)
        .map(|i| {
            u8::from_str_radix(&"1d5920f4b44b27a802bd77c4f0536f5a"[2 * i..2 * i + 2], 16).unwrap()
        })
        .collect();
    assert!(r.matches(&digest));
    let low = parse_datarep("t-csv-md5, <, 200, type md5", &rule_file(&d)).unwrap();
    assert!(!low.matches(&digest));
    // A buffer that cannot be an MD5 digest matches nothing, not even isnotset.
    let not = parse_dataset("isnotset,t-csv-md5,type md5", &rule_file(&d)).unwrap();
    assert!(!not.matches(b"short"));
}

#[test]
fn hex_values_with_multibyte_characters_are_errors_not_panics() {
    // Found by the dataset_files fuzz target: 32 bytes, but not 32 hex digits.
    let text =
        "\u{e000}\u{e000}\u{e000}\u{e000}\u{e000}\u{e000}\u{e000}\u{e000}\u{e000}\u{e000}ab\n";
    assert_eq!(text.trim().len(), 32);
    let e = check_file(DataType::Md5, "csv", None, None, text).unwrap_err().to_string();
    assert!(e.contains("line 1") && e.contains("hex"), "{e}");
    assert_eq!(
        check_file(DataType::Md5, "csv", None, None, "D41D8CD98F00B204E9800998ECF8427E\n"),
        Ok(1)
    );
}

#[test]
fn ip_sets_hold_v4_and_v6_and_mapped_addresses() {
    let d = dir("ip");
    std::fs::write(d.join("ips.csv"), "::ffff:10.0.0.1\n2001:db8::1\n").unwrap();
    let m = parse_dataset("isset,t-ip-list,type ip,load ips.csv", &rule_file(&d)).unwrap();
    assert!(m.matches(&[10, 0, 0, 1]));
    let (v6, n) = ip_bytes(&"2001:db8::1".parse().unwrap());
    assert!(m.matches(&v6[..n]));
    std::fs::write(d.join("v4.csv"), "2001:db8::1\n").unwrap();
    let e = parse_dataset("isset,t-ipv4-bad,type ipv4,load v4.csv", &rule_file(&d)).unwrap_err();
    assert!(e.detail.contains("v4.csv") && e.detail.contains("line 1"), "{}", e.detail);
}

#[test]
fn json_sets_give_the_object_as_context() {
    let d = dir("json");
    std::fs::write(
        d.join("hosts.json"),
        r#"{"info":{"threat":[{"host":{"fqdn":"a.example"},"year":2005},{"host":{"fqdn":"a.example"},"year":2006},{"year":1}]}}"#,
    )
    .unwrap();
    let v = "isset,t-json-hosts,type string,load hosts.json,format json,context_key bad,value_key host.fqdn,array_key info.threat";
    let m = parse_dataset(v, &rule_file(&d)).unwrap();
    assert_eq!(m.context_key.as_deref(), Some("bad"));
    assert!(m.matches(b"a.example"));
    // The first definition of a value wins; objects without the value are skipped.
    let ctx = m.set.context(b"a.example").unwrap();
    assert_eq!(ctx["year"], 2005);
    assert_eq!(m.set.len(), 1);
    let bad = "isset,t-json-bad,type string,load hosts.json,format json,value_key host.fqdn";
    let e = parse_dataset(bad, &rule_file(&d)).unwrap_err();
    assert!(e.detail.contains("array"), "{}", e.detail);
}

#[test]
fn set_and_unset_change_the_set_and_state_files_round_trip() {
    let d = dir("state");
    let rf = rule_file(&d);
    let set = parse_dataset("set,t-state-seen,type string,state seen.lst", &rf).unwrap();
    assert!(set.matches(b"first.example"), "new value: match");
    assert!(!set.matches(b"first.example"), "known value: no match");
    assert!(set.matches(b"second.example"));
    let unset = parse_dataset("unset,t-state-seen,type string", &rf).unwrap();
    assert!(unset.matches(b"second.example"));
    assert!(!unset.matches(b"second.example"));
    assert!(save_all().is_empty());
    let text = std::fs::read_to_string(d.join("seen.lst")).unwrap();
    assert_eq!(text.trim(), base64_text(b"first.example"));
}

fn base64_text(b: &[u8]) -> String {
    crate::signature::transform::base64_encode(b)
}

#[test]
fn writes_stay_next_to_the_rule_file() {
    let d = dir("paths");
    for bad in ["save /etc/x.lst", "save ../x.lst", "state a/../../x.lst"] {
        let v = format!("set,t-paths,type string,{bad}");
        let e = parse_dataset(&v, &rule_file(&d)).unwrap_err();
        assert!(e.detail.contains("next to its rule file"), "{bad}: {}", e.detail);
    }
}

#[test]
fn grammar_errors_name_what_is_wrong() {
    let rf = "x.rules";
    for (v, want) in [
        ("isset", "command,name"),
        ("maybe,t-g", "unknown command"),
        ("isset,t-g", "needs a `type`"),
        ("isset,t-g,type blob", "unknown dataset type"),
        ("isset,t-g,type string,load", "needs a value"),
        ("isset,t-g,type string,colour red", "unknown option"),
        ("isset,t-g,type string,format json", "value_key"),
        ("isset,bad name!,type string", "bad set name"),
    ] {
        let e = parse_dataset(v, rf).unwrap_err();
        assert!(e.detail.contains(want), "{v}: {}", e.detail);
    }
    let e = parse_datarep("t-g, ~, 1, type string", rf).unwrap_err();
    assert!(e.detail.contains("operator"), "{}", e.detail);
    parse_dataset("isset,t-type-clash,type string", rf).unwrap();
    let e = parse_dataset("isset,t-type-clash,type md5", rf).unwrap_err();
    assert!(e.detail.contains("already defined"), "{}", e.detail);
}

#[test]
fn a_full_set_refuses_and_counts() {
    let rf = "x.rules";
    let m = parse_dataset("set,t-full,type string,memcap 128", rf).unwrap();
    assert_eq!(m.set.max_entries, 2);
    assert!(m.matches(b"a") && m.matches(b"b"));
    assert!(!m.matches(b"c"));
    assert_eq!(m.set.refused.load(Ordering::Relaxed), 1);
    assert!(counters().iter().any(|(n, len, refused)| n == "t-full" && *len == 2 && *refused == 1));
}

proptest! {
    /// The set behaves as a bounded set of byte strings under any sequence of commands.
    #[test]
    fn set_commands_follow_a_model(ops in proptest::collection::vec((0u8..4, 0u8..6), 0..64)) {
        let d = Dataset::new("t-model", DataType::String, 4);
        let mut model: HashSet<u8> = HashSet::new();
        for (op, v) in ops {
            let key = [b'a' + v];
            match op {
                0 => {
                    let want = !model.contains(&v) && model.len() < 4;
                    prop_assert_eq!(d.add(&key), want);
                    if want { model.insert(v); }
                }
                1 => prop_assert_eq!(d.remove(&key), model.remove(&v)),
                _ => prop_assert_eq!(d.contains(&key), model.contains(&v)),
            }
            prop_assert_eq!(d.len(), model.len());
        }
    }
}
