use proptest::prelude::*;

use super::*;

fn scratch(name: &str) -> PathBuf {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let d = std::env::temp_dir().join(format!("gw-spool-{name}-{}-{n}", std::process::id()));
    let _ = fs::remove_dir_all(&d);
    d
}

fn cfg(dir: &Path, max_bytes: u64, when_full: FullPolicy) -> SpoolConfig {
    SpoolConfig { dir: dir.into(), max_bytes, segment_bytes: 256, seal_after_ms: 0, when_full }
}

/// Everything left in the spool, oldest first (sealing the open segment).
fn drain(s: &mut Spool) -> Vec<Vec<u8>> {
    s.seal().expect("seal");
    let mut out = Vec::new();
    while let Some(b) = s.oldest().expect("read") {
        assert!(b.damage.is_none(), "{:?}", b.damage);
        let n = b.records.len() as u64;
        out.extend(b.records.into_iter().map(|r| r.payload));
        s.acknowledge(b.segment, n).expect("ack");
    }
    out
}

#[test]
fn records_come_back_in_order_with_stable_ids_across_a_restart() {
    let dir = scratch("order");
    let mut s = Spool::open(cfg(&dir, 1 << 20, FullPolicy::DropNewest), "s1").expect("open");
    for i in 0..100u32 {
        assert!(s.append(format!("{{\"n\":{i}}}").as_bytes()));
    }
    s.flush().expect("flush");
    let first = s.oldest().expect("read");
    drop(s); // a restart: the open segment is sealed as it is
    let mut s = Spool::open(cfg(&dir, 1 << 20, FullPolicy::DropNewest), "s1").expect("reopen");
    let again = s.oldest().expect("read").expect("a segment");
    let first = first.expect("a sealed segment before the restart");
    assert_eq!(first.segment, again.segment);
    assert_eq!(
        first.records.iter().map(|r| &r.id).collect::<Vec<_>>(),
        again.records.iter().map(|r| &r.id).collect::<Vec<_>>(),
        "ids do not change between reads"
    );
    assert!(again.records[0].id.starts_with(&format!("s1:{}:0", again.segment)));
    let all = drain(&mut s);
    assert_eq!(all.len(), 100);
    assert_eq!(all[42], b"{\"n\":42}");
    assert_eq!(s.stats.bytes, 0);
    assert_eq!(fs::read_dir(&dir).expect("dir").count(), 0, "acknowledged segments are deleted");
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn a_record_cut_by_a_crash_is_counted_and_the_ones_before_it_are_kept() {
    let dir = scratch("crash");
    let mut s = Spool::open(cfg(&dir, 1 << 20, FullPolicy::DropNewest), "s1").expect("open");
    for i in 0..5u32 {
        s.append(format!("record {i}").as_bytes());
    }
    s.flush().expect("flush");
    drop(s);
    let seg = fs::read_dir(&dir).expect("dir").next().expect("a segment").expect("entry").path();
    let len = fs::metadata(&seg).expect("meta").len();
    let f = OpenOptions::new().write(true).open(&seg).expect("open segment");
    f.set_len(len - 3).expect("truncate"); // the last record loses its tail
    let mut s = Spool::open(cfg(&dir, 1 << 20, FullPolicy::DropNewest), "s1").expect("reopen");
    let b = s.oldest().expect("read").expect("segment");
    assert_eq!(b.records.len(), 4);
    assert!(
        b.damage.as_deref().is_some_and(|d| d.contains("record cut at byte")),
        "{:?}",
        b.damage
    );
    assert_eq!(s.stats.corrupt, 1);
    // A flipped byte fails the checksum.
    let mut data = fs::read(&seg).expect("read");
    data[HEADER + 2] ^= 0xff;
    let (ok, damage) = parse_segment(&data, "s1", 1);
    assert!(ok.is_empty());
    assert!(damage.is_some_and(|d| d.contains("checksum mismatch at byte 0")));
    let _ = fs::remove_dir_all(&dir);
}

#[derive(Debug, Clone)]
enum Op {
    Append(usize),
    Seal,
    AckOldest,
    Restart,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (1usize..120).prop_map(Op::Append),
        1 => Just(Op::Seal),
        2 => Just(Op::AckOldest),
        1 => Just(Op::Restart),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Drop-newest: every record offered is either refused (and counted) or comes back
    /// exactly once, in order; the byte bound always holds.
    #[test]
    fn drop_newest_loses_nothing_it_accepted(ops in proptest::collection::vec(op(), 1..80)) {
        let dir = scratch("prop-newest");
        let c = cfg(&dir, 2_000, FullPolicy::DropNewest);
        let mut s = Spool::open(c.clone(), "p").expect("open");
        let (mut accepted, mut refused, mut got) = (Vec::new(), 0u64, Vec::new());
        let mut n = 0u32;
        for o in ops {
            match o {
                Op::Append(len) => {
                    n += 1;
                    let mut rec = n.to_le_bytes().to_vec();
                    rec.resize(len.max(4), b'x');
                    if s.append(&rec) { accepted.push(rec) } else { refused += 1 }
                }
                Op::Seal => s.seal().expect("seal"),
                Op::AckOldest => {
                    if let Some(b) = s.oldest().expect("read") {
                        let k = b.records.len() as u64;
                        got.extend(b.records.into_iter().map(|r| r.payload));
                        s.acknowledge(b.segment, k).expect("ack");
                    }
                }
                Op::Restart => {
                    s.flush().expect("flush");
                    let dropped = s.stats.dropped_full;
                    s = Spool::open(c.clone(), "p").expect("reopen");
                    s.stats.dropped_full = dropped;
                }
            }
            prop_assert!(s.stats.bytes <= c.max_bytes);
        }
        got.extend(drain(&mut s));
        prop_assert_eq!(&got, &accepted);
        prop_assert_eq!(s.stats.dropped_full, refused);
        let _ = fs::remove_dir_all(&dir);
    }

    /// Drop-oldest: new records always get in (when they fit at all); what is read back
    /// is a subsequence of what was accepted, and the count of records lost is exact.
    #[test]
    fn drop_oldest_counts_every_record_it_deletes(lens in proptest::collection::vec(1usize..120, 1..80)) {
        let dir = scratch("prop-oldest");
        let c = cfg(&dir, 1_500, FullPolicy::DropOldest);
        let mut s = Spool::open(c.clone(), "p").expect("open");
        let mut accepted = Vec::new();
        for (i, len) in lens.iter().enumerate() {
            let mut rec = (i as u32).to_le_bytes().to_vec();
            rec.resize((*len).max(4), b'y');
            if s.append(&rec) { accepted.push(rec) }
            s.seal_if_due().expect("seal");
            prop_assert!(s.stats.bytes <= c.max_bytes);
        }
        let got = drain(&mut s);
        let mut it = accepted.iter();
        for g in &got {
            prop_assert!(it.any(|a| a == g), "read back in accepted order");
        }
        prop_assert_eq!(got.len() as u64 + s.stats.dropped_full, accepted.len() as u64);
        let _ = fs::remove_dir_all(&dir);
    }
}

/// Hardening finding 6: a segment the correlator refuses for good moves to the
/// dead-letter folder with its reason, is counted, and the next segment is sent; the
/// dead letters survive a restart and are never sent again.
#[test]
fn finding_6_a_refused_segment_goes_to_the_dead_letter_folder_and_shipping_goes_on() {
    let dir = scratch("dead-letter");
    let mut s = Spool::open(cfg(&dir, 1 << 20, FullPolicy::DropNewest), "s1").expect("open");
    for i in 0..40u32 {
        assert!(s.append(format!("{{\"n\":{i}}}").as_bytes()));
    }
    s.seal().expect("seal");
    let first = s.oldest().expect("read").expect("a segment");
    let n = first.records.len() as u64;
    let why = "the correlator answered 403 Forbidden: {\"error\":\"a log forwarder may not post findings\"}";
    s.dead_letter(first.segment, n, why).expect("dead letter");
    assert_eq!((s.stats.dead_letter_segments, s.stats.dead_letter_records), (1, n));
    let dead = s.dead_letter_dir();
    let reason =
        fs::read_to_string(dead.join(format!("{:020}.reason", first.segment))).expect("reason");
    assert!(reason.contains("403 Forbidden"), "{reason}");
    assert!(dead.join(format!("{:020}.seg", first.segment)).exists());
    // The next segment is the one sent now, and the dead letter stays out after a restart.
    let next = s.oldest().expect("read").expect("the next segment");
    assert_ne!(next.segment, first.segment);
    drop(s);
    let mut s = Spool::open(cfg(&dir, 1 << 20, FullPolicy::DropNewest), "s1").expect("reopen");
    let left = drain(&mut s);
    assert_eq!(left.len() as u64, 40 - n);
    // Records rejected in a batch that was otherwise stored are kept with the reasons.
    let rec = Spooled { id: "s1:9:0".into(), payload: b"{\"bad\":1}".to_vec() };
    s.dead_letter_records(9, 1, &[&rec], &["line 1: alert: missing field".into()]).expect("kept");
    let kept = fs::read_to_string(s.dead_letter_dir().join(format!("{:020}.rejected.jsonl", 9)))
        .expect("kept");
    assert_eq!(kept, "{\"bad\":1}\n");
    assert_eq!(s.stats.dead_letter_records, 1);
    let _ = fs::remove_dir_all(&dir);
}
