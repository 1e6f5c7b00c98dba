//! Indicator lists matched on what the sensor sees: both addresses of every flow (at
//! its first packet), DNS query names, HTTP host names and URLs, TLS SNI, JA3 and JA4,
//! and the hashes of every extracted file. A hit is an EVE alert (`alert.gid` 9200)
//! naming the list and the indicator.

use std::collections::BTreeMap;

use gatewatch_rules::event::AlertInfo;
use gatewatch_rules::ids::{stable_sid, GID_IOC};
use gatewatch_rules::ioc::{Indicator, IocKind, IocSet};

use crate::app::records::Record;

/// A hit: the indicator, and the field of the event it was found in.
pub struct IocHit<'a> {
    pub indicator: &'a Indicator,
    pub field: &'static str,
}

/// Indicators named by an application record.
pub fn record_hits<'a>(set: &'a IocSet, record: &Record) -> Vec<IocHit<'a>> {
    let mut hits = Vec::new();
    let mut push = |ind: Option<&'a Indicator>, field: &'static str| {
        if let Some(indicator) = ind {
            if !hits.iter().any(|h: &IocHit<'_>| std::ptr::eq(h.indicator, indicator)) {
                hits.push(IocHit { indicator, field });
            }
        }
    };
    match record {
        Record::Dns(d) => {
            // Queries only: an answer repeats the name asked for.
            if !d.qr {
                for q in &d.queries {
                    push(set.lookup_domain(&q.rrname), "dns.query");
                }
            }
        }
        Record::Http(h) => {
            if let Some(host) = &h.hostname {
                push(set.lookup_domain(host), "http.hostname");
                if let Some(url) = &h.url {
                    let full = if url.starts_with('/') {
                        format!("http://{host}{url}")
                    } else {
                        url.clone()
                    };
                    push(set.lookup_url(&full), "http.url");
                }
            }
        }
        Record::Tls(t) => {
            if let Some(sni) = &t.sni {
                push(set.lookup_domain(sni), "tls.sni");
            }
            if let Some(ja3) = &t.ja3 {
                push(set.lookup_fingerprint(IocKind::Ja3, &ja3.hash), "tls.ja3.hash");
            }
            if let Some(ja4) = &t.ja4 {
                push(set.lookup_fingerprint(IocKind::Ja4, ja4), "tls.ja4");
            }
        }
        Record::Fileinfo(f) => {
            push(set.lookup_fingerprint(IocKind::Sha256, &f.sha256), "fileinfo.sha256");
            push(set.lookup_fingerprint(IocKind::Sha1, &f.sha1), "fileinfo.sha1");
            push(set.lookup_fingerprint(IocKind::Md5, &f.md5), "fileinfo.md5");
        }
        Record::Ssh(_) | Record::Smtp(_) | Record::Smb(_) | Record::Dcerpc(_) => {}
        Record::Ftp(_)
        | Record::FtpData(_)
        | Record::Krb5(_)
        | Record::Rdp(_)
        | Record::Sip(_)
        | Record::Mqtt(_)
        | Record::Ntp(_)
        | Record::Tftp(_)
        | Record::Snmp(_)
        | Record::Dhcp(_)
        | Record::Quic(_)
        | Record::Rfb(_)
        | Record::Websocket(_)
        | Record::Ike(_)
        | Record::Anomaly(_)
        | Record::Packet(_) => {}
    }
    hits
}

/// The `alert` object of an indicator hit.
pub fn ioc_alert_info(set: &IocSet, hit: &IocHit<'_>) -> AlertInfo {
    let ind = hit.indicator;
    let list = set.list_name(ind);
    let mut metadata: BTreeMap<String, Vec<String>> = BTreeMap::new();
    metadata.insert("ioc_list".into(), vec![list.to_string()]);
    metadata.insert("ioc_kind".into(), vec![ind.kind.as_str().to_string()]);
    metadata.insert("ioc_value".into(), vec![ind.value.clone()]);
    metadata.insert("ioc_field".into(), vec![hit.field.to_string()]);
    if let Some(c) = &ind.comment {
        metadata.insert("ioc_comment".into(), vec![c.chars().take(256).collect()]);
    }
    AlertInfo {
        action: "allowed".into(),
        gid: GID_IOC,
        signature_id: stable_sid(list),
        rev: 1,
        signature: format!("IOC {list}: {} {}", ind.kind.as_str(), ind.value),
        category: "Known bad indicator (IOC)".into(),
        severity: 2,
        source: None,
        target: None,
        metadata: Some(metadata),
        context: None,
    }
}
