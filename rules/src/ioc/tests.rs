use super::*;

fn load(name: &str, text: &str) -> (IocSet, LoadReport) {
    let mut set = IocSet::default();
    let mut report = LoadReport::default();
    load_text(&mut set, text, Path::new(name), &mut report);
    (set, report)
}

#[test]
fn plain_text_infers_kinds_and_reports_bad_lines() {
    let (set, report) = load(
        "feodo.txt",
        "# Feodo tracker\n198.51.100.7\n203.0.113.0/24 ; SBL123\n2001:db8:bad::/48\n\
         evil.example.org\n*.c2.example.net  # whole zone\nhttp://dl.example.com/payload.exe\n\
         44d88612fea8a8f36de82e1278abb02f\n\
         275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f\n\
         t13d1516h2_8daaf6152771_e5627efa2ab1\nnot an indicator!\n198.51.100.7\n",
    );
    assert_eq!(report.total, 11);
    assert_eq!(report.loaded, 9);
    assert_eq!(report.disabled, 1, "the repeated address");
    assert_eq!(report.skipped.len(), 1);
    assert_eq!((report.skipped[0].file.as_str(), report.skipped[0].line), ("feodo.txt", 11));
    assert_eq!(set.lists, ["feodo"]);

    let ip = |s: &str| set.lookup_ip(s.parse().unwrap()).map(|i| i.value.clone());
    assert_eq!(ip("198.51.100.7").as_deref(), Some("198.51.100.7"));
    assert_eq!(ip("203.0.113.99").as_deref(), Some("203.0.113.0/24"));
    assert_eq!(ip("2001:db8:bad:1::5").as_deref(), Some("2001:db8:bad::/48"));
    assert_eq!(ip("203.0.114.1"), None);
    let sbl = set.lookup_ip("203.0.113.1".parse().unwrap()).unwrap();
    assert_eq!(sbl.comment.as_deref(), Some("SBL123"));

    assert!(set.lookup_domain("EVIL.example.org.").is_some());
    assert!(set.lookup_domain("www.evil.example.org").is_none(), "exact entries are exact");
    assert!(set.lookup_domain("c2.example.net").is_some());
    assert!(set.lookup_domain("a.b.c2.example.net").is_some());
    assert!(set.lookup_domain("xc2.example.net").is_none());

    assert!(set.lookup_url("HTTP://DL.example.com:80/payload.exe?x=1").is_some());
    assert!(set.lookup_url("http://dl.example.com/payload.exe.txt").is_none());
    assert!(set.lookup_fingerprint(IocKind::Md5, "44D88612FEA8A8F36DE82E1278ABB02F").is_some());
    assert!(set.lookup_fingerprint(IocKind::Ja3, "44d88612fea8a8f36de82e1278abb02f").is_some());
    assert!(set.lookup_fingerprint(IocKind::Ja4, "t13d1516h2_8daaf6152771_e5627efa2ab1").is_some());
    assert_eq!(
        set.lookup_fingerprint(
            IocKind::Sha256,
            "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"
        )
        .map(|i| i.kind),
        Some(IocKind::Sha256)
    );
}

#[test]
fn the_most_specific_network_wins() {
    let (set, _) = load("n.txt", "10.0.0.0/8 # wide\n10.1.2.0/24 # narrow\n");
    let i = set.lookup_ip("10.1.2.3".parse().unwrap()).unwrap();
    assert_eq!(i.comment.as_deref(), Some("narrow"));
    let i = set.lookup_ip("10.9.9.9".parse().unwrap()).unwrap();
    assert_eq!(i.comment.as_deref(), Some("wide"));
}

#[test]
fn csv_with_types_as_misp_exports_it() {
    let csv = "uuid,event_id,category,type,value,comment,to_ids,date\n\
        a,1,Network activity,ip-dst,192.0.2.66,C2 server,1,2026-10-01\n\
        b,1,Network activity,domain,\"bad,quoted.example\",x,1,2026-10-01\n\
        c,1,Payload delivery,filename|sha256,drop.exe|275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f,,1,2026-10-01\n\
        d,1,Network activity,ip-dst,192.0.2.67,not for IDS,0,2026-10-01\n\
        e,1,Persistence mechanism,regkey,HKLM\\x,,1,2026-10-01\n\
        f,1,Network activity,hostname,ok.example,,1,2026-10-01\n";
    let (set, report) = load("misp.csv", csv);
    assert_eq!(report.loaded, 3, "{:?}", report.skipped);
    assert_eq!(report.skipped.len(), 1, "the domain with a comma");
    assert_eq!(report.skipped[0].line, 3);
    assert_eq!(report.unsupported_features.get("type `regkey`"), Some(&1));
    assert_eq!(
        set.lookup_ip("192.0.2.66".parse().unwrap()).and_then(|i| i.comment.clone()).as_deref(),
        Some("C2 server")
    );
    assert!(set.lookup_ip("192.0.2.67".parse().unwrap()).is_none(), "to_ids 0");
    assert!(set.lookup_domain("ok.example").is_some());
}

#[test]
fn csv_without_a_value_column_is_a_file_error() {
    let (_, report) = load("x.csv", "a,b\n1,2\n");
    assert_eq!(report.file_errors.len(), 1);
    assert!(report.file_errors[0].contains("x.csv:1"), "{:?}", report.file_errors);
}

#[test]
fn misp_json_events_objects_and_attribute_lists() {
    let json = r#"{"response":[{"Event":{"info":"Phishing wave against Hue agencies",
        "Attribute":[{"type":"url","value":"http://login-hue.example/owa","to_ids":true},
                     {"type":"ip-src","value":"198.51.100.0/24","to_ids":"1"},
                     {"type":"email-src","value":"a@b.example","to_ids":true},
                     {"type":"domain","value":"quiet.example","to_ids":false}],
        "Object":[{"name":"file","Attribute":[{"type":"md5","value":"44d88612fea8a8f36de82e1278abb02f","to_ids":true}]}]}}]}"#;
    let (set, report) = load("hue-phish.json", json);
    assert_eq!(report.loaded, 3, "{:?}", report);
    assert_eq!(report.unsupported_features.get("type `email-src`"), Some(&1));
    let u = set.lookup_url("http://login-hue.example/owa").unwrap();
    assert_eq!(u.comment.as_deref(), Some("Phishing wave against Hue agencies"));
    assert_eq!(set.list_name(u), "hue-phish");
    assert!(set.lookup_domain("quiet.example").is_none());

    let (set, report) = load(
        "attrs.json",
        r#"{"response":{"Attribute":[{"type":"ja3-fingerprint-md5","value":"e7d705a3286e19ea42f587b344ee6865","to_ids":true}]}}"#,
    );
    assert_eq!(report.loaded, 1);
    assert!(set.lookup_fingerprint(IocKind::Ja3, "e7d705a3286e19ea42f587b344ee6865").is_some());

    let (_, report) = load("broken.json", "{\n\"response\": [\n");
    assert_eq!(report.file_errors.len(), 1);
    assert!(report.file_errors[0].starts_with("broken.json:3"), "{:?}", report.file_errors);
}

#[test]
fn url_normalisation() {
    assert_eq!(normalize_url("HTTPS://Ex.COM:443").as_deref(), Some("https://ex.com/"));
    assert_eq!(normalize_url("ex.com/a?b#frag").as_deref(), Some("http://ex.com/a?b"));
    assert_eq!(normalize_url("http://u:p@ex.com:8080?q").as_deref(), Some("http://ex.com:8080/?q"));
    assert_eq!(normalize_url("http:///nohost"), None);
}

proptest::proptest! {
    /// Every loaded address or network answers for the addresses inside it and the
    /// lookup agrees with a linear scan of the loaded networks.
    #[test]
    fn ip_lookup_agrees_with_a_linear_scan(
        nets in proptest::collection::vec((proptest::prelude::any::<u32>(), 8u8..=32), 1..40),
        probes in proptest::collection::vec(proptest::prelude::any::<u32>(), 1..40),
    ) {
        let text: String = nets
            .iter()
            .map(|(a, p)| format!("{}/{}\n", std::net::Ipv4Addr::from(*a), p))
            .collect();
        let (set, _) = load("p.txt", &text);
        let mut all: Vec<u32> = probes.clone();
        all.extend(nets.iter().map(|(a, _)| *a));
        for probe in all {
            let linear = nets.iter().any(|(a, p)| {
                let m = mask_v4(*p);
                probe & m == a & m
            });
            let found = set.lookup_ip(std::net::Ipv4Addr::from(probe).into());
            proptest::prop_assert_eq!(found.is_some(), linear);
            if let Some(i) = found {
                // The answer is the longest matching prefix.
                let best = nets
                    .iter()
                    .filter(|(a, p)| probe & mask_v4(*p) == a & mask_v4(*p))
                    .map(|(_, p)| *p)
                    .max()
                    .unwrap_or(0);
                let got = i.value.split_once('/').map(|(_, p)| p.parse::<u8>().unwrap()).unwrap_or(32);
                proptest::prop_assert_eq!(got, best);
            }
        }
    }
}
