use super::*;

fn at(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s).expect("time")
}

fn vn() -> FixedOffset {
    FixedOffset::east_opt(7 * 3600).expect("offset")
}

fn read(raw: &str) -> Value {
    parse(raw.as_bytes(), at("2026-11-23T10:00:00+07:00"), vn()).expect(raw)
}

#[test]
fn rfc5424_with_structured_data_and_bom() {
    let v = read(
        "<34>1 2026-11-23T08:15:02.003Z web01.hue.gov.vn su 77 ID47 [exampleSDID@32473 iut=\"3\" eventSource=\"Appl\\\"ication\"][ex@1 a=\"x\\]y\"] \u{feff}'su root' failed",
    );
    assert_eq!(v["facility"], "auth");
    assert_eq!(v["severity"], "crit");
    assert_eq!(v["timestamp"], "2026-11-23T08:15:02.003+00:00");
    assert_eq!(v["host"], "web01.hue.gov.vn");
    assert_eq!(
        (v["program"].as_str(), v["pid"].as_str(), v["msgid"].as_str()),
        (Some("su"), Some("77"), Some("ID47"))
    );
    assert_eq!(v["structured_data"]["exampleSDID@32473"]["eventSource"], "Appl\"ication");
    assert_eq!(v["structured_data"]["ex@1"]["a"], "x]y");
    assert_eq!(v["message"], "'su root' failed");
}

#[test]
fn rfc5424_nil_values() {
    let v = read("<165>1 - - - - - -");
    assert_eq!(v["facility"], "local4");
    assert_eq!(v["timestamp"], "2026-11-23T10:00:00+07:00", "receive time stands in");
    assert!(v.get("host").is_none() && v.get("program").is_none());
    assert_eq!(v["message"], "");
}

#[test]
fn rfc3164_with_and_without_priority_and_hostname() {
    let v = read("<38>Nov 23 09:59:58 gw01 sshd[4123]: Failed password for root from 203.0.113.7 port 50022 ssh2");
    assert_eq!(v["timestamp"], "2026-11-23T09:59:58+07:00");
    assert_eq!(
        (v["host"].as_str(), v["program"].as_str(), v["pid"].as_str()),
        (Some("gw01"), Some("sshd"), Some("4123"))
    );
    assert_eq!(v["severity"], "info");
    assert_eq!(v["message"], "Failed password for root from 203.0.113.7 port 50022 ssh2");
    // A line of /var/log/auth.log: no priority.
    let v = read("Nov  3 01:02:03 gw01 CRON[99]: pam_unix(cron:session): session opened");
    assert_eq!(v["timestamp"], "2026-11-03T01:02:03+07:00");
    assert!(v.get("facility").is_none());
    assert_eq!(v["program"], "CRON");
    // No hostname (as some devices send).
    let v = read("<13>Nov 23 09:00:00 sudo: alice : TTY=pts/0 ; COMMAND=/bin/sh");
    assert!(v.get("host").is_none());
    assert_eq!(v["program"], "sudo");
    assert_eq!(v["message"], "alice : TTY=pts/0 ; COMMAND=/bin/sh");
}

#[test]
fn bsd_timestamps_take_last_year_when_this_one_is_in_the_future() {
    let v = parse(b"<13>Dec 31 23:59:59 h p: x", at("2027-01-01T00:00:10+07:00"), vn())
        .expect("parses");
    assert_eq!(v["timestamp"], "2026-12-31T23:59:59+07:00");
}

#[test]
fn a_json_body_becomes_the_event() {
    let v = read(
        r#"<14>Nov 23 09:00:00 wec01 nxlog: {"EventID":4625,"Channel":"Security","Computer":"pc-17","IpAddress":"10.46.3.9"}"#,
    );
    assert_eq!(v["EventID"], 4625);
    assert_eq!(v["Channel"], "Security");
    assert_eq!(v["syslog"]["host"], "wec01");
    let v = read(r#"<14>1 2026-11-23T02:00:00Z h app - - - @cee: {"msg":"x"}"#);
    assert_eq!(v["msg"], "x");
}

#[test]
fn auditd_records_become_fields_with_hex_decoded() {
    let v = read(
        r#"<29>Nov 23 09:00:00 db01 audispd: node=db01 type=EXECVE msg=audit(1795400000.120:881): argc=3 a0="chmod" a1="+x" a2=2F746D702F782073682E7368"#,
    );
    assert_eq!(v["type"], "EXECVE");
    assert_eq!(v["a0"], "chmod");
    assert_eq!(v["a2"], "/tmp/x sh.sh");
    assert_eq!(v["logsource"]["service"], "auditd");
    assert_eq!(v["timestamp"], "2026-11-23T02:13:20.120+00:00");
    let v = read(
        r#"type=USER_LOGIN msg=audit(1795400000.5:9): pid=1 uid=0 auid=4294967295 msg='op=login acct="root" exe="/usr/sbin/sshd" addr=203.0.113.7 res=failed'"#,
    );
    assert_eq!(v["type"], "USER_LOGIN");
    assert_eq!(v["acct"], "root");
    assert_eq!(v["addr"], "203.0.113.7");
    assert_eq!(v["res"], "failed");
    // Not a record: left alone.
    assert!(auditd_record("type of thing").is_none());
}

/// Hardening finding 6: a byte that is not UTF-8 (a Latin-1 device) no longer rejects
/// the message: it is read as Latin-1.
#[test]
fn finding_6_a_latin1_byte_keeps_the_message() {
    let v = parse(
        b"<13>Nov 23 10:00:00 fw1 sshd[1]: user caf\xe9 failed",
        at("2026-11-23T10:00:00+07:00"),
        vn(),
    )
    .expect("read as Latin-1");
    assert_eq!(v["host"], "fw1");
    assert!(v["message"].as_str().is_some_and(|m| m.ends_with("user café failed")), "{v}");
}

#[test]
fn bad_messages_say_what_is_wrong() {
    let bad = |s: &[u8]| parse(s, at("2026-11-23T10:00:00+07:00"), vn()).unwrap_err().to_string();
    assert_eq!(bad(b"<999>x"), "bad priority `999` (expected <0>..<191>)");
    assert_eq!(bad(b"<12"), "bad priority `<12` (expected <0>..<191>)");
    assert_eq!(bad(b"  \n"), "empty message");
    assert!(bad(b"<1>1 not-a-time h a p m -").contains("TIMESTAMP is not RFC 3339"));
    assert!(bad(b"<1>1 - h a p m [id x=\"unterminated").contains("unterminated value"));
    assert!(bad(b"<1>1 - h a p m [id x=y]").contains("value not quoted"));
}

#[test]
fn framing_mixes_octet_counting_and_newlines_across_pushes() {
    let mut f = Framer::new(1024);
    let mut got = Vec::new();
    for chunk in [&b"11 <13>1 - - -"[..], b"\n<13>second\r\n", b"5 hello", b"\n\n<13>third"] {
        f.push(chunk);
        while let Some((frame, problem)) = f.next_frame() {
            assert!(problem.is_none());
            got.push(String::from_utf8(frame).expect("text"));
        }
    }
    got.extend(f.finish().map(|b| String::from_utf8(b).expect("text")));
    assert_eq!(got, ["<13>1 - - -", "<13>second", "hello", "<13>third"]);
}

#[test]
fn framing_truncates_long_frames_and_goes_on() {
    let mut f = Framer::new(64);
    let long = "x".repeat(200);
    f.push(format!("200 {long}").as_bytes()[..100].as_ref());
    let (frame, problem) = f.next_frame().expect("cut at the limit");
    assert_eq!((frame.len(), problem), (64, Some(FrameProblem::Truncated { len: 200 })));
    f.push(format!("200 {long}").as_bytes()[100..].as_ref());
    f.push(b"2 ok");
    assert_eq!(f.next_frame().map(|x| x.0), Some(b"ok".to_vec()));
    // A line with no end: cut, the rest of it dropped up to its newline.
    f.push(long.as_bytes());
    assert_eq!(f.next_frame().map(|x| x.0.len()), Some(64));
    f.push(b"tail of the long line\nnext\n");
    assert_eq!(f.next_frame().map(|x| x.0), Some(b"next".to_vec()));
    assert_eq!(f.next_frame(), None);
}

/// Found by the fuzzer: a multi-byte character where a BSD timestamp's fixed byte
/// offsets fall (here a BOM in the time) must not panic; the message is still read.
#[test]
fn bsd_timestamp_with_a_multibyte_character_is_not_a_timestamp() {
    let raw = "<14>Nov 23\u{feff}:00:00 wes01 nxlog: hello";
    let r = parse(raw.as_bytes(), at("2026-11-23T10:00:00+07:00"), vn());
    if let Ok(v) = r {
        assert_eq!(v["timestamp"], "2026-11-23T10:00:00+07:00", "receive time stands in: {v}");
    }
    let found = include_bytes!("../../../../fuzz/seeds/syslog_listener/regression-bsd-bom");
    let _ = parse(found, at("2026-11-23T10:00:00+07:00"), vn());
}
