//! Tests of Kerberos: requests, replies with weak and strong encryption, errors, over
//! TCP in pieces and as datagrams; hostile DER.

use gatewatch_rules::signature::Buffer;

use super::*;
use crate::app::parser::{drive, values, AppCounters, AppOutput};
use crate::synth::windows::{krb5_error, krb5_reply, krb5_request, krb5_tcp};

fn records(out: &AppOutput) -> Vec<&Krb5Record> {
    out.records
        .iter()
        .filter_map(|(_, r)| match r {
            Record::Krb5(k) => Some(k),
            _ => None,
        })
        .collect()
}

#[test]
fn a_kerberoasting_exchange_over_tcp() {
    let script = vec![
        (
            true,
            krb5_tcp(&krb5_request(false, Some("nguyen.van.a"), "HUE.GOV.VN", "krbtgt/HUE.GOV.VN")),
        ),
        (false, krb5_tcp(&krb5_error(25, "HUE.GOV.VN", "krbtgt/HUE.GOV.VN"))),
        (true, krb5_tcp(&krb5_request(true, None, "HUE.GOV.VN", "MSSQLSvc/db01.hue.gov.vn"))),
        (
            false,
            krb5_tcp(&krb5_reply(
                true,
                "nguyen.van.a",
                "HUE.GOV.VN",
                "MSSQLSvc/db01.hue.gov.vn",
                18,
                23,
            )),
        ),
    ];
    for seg in [4096, 3] {
        let (out, c) = drive(&mut Krb5Conn::default(), &script, seg);
        let r = records(&out);
        assert_eq!(r.len(), 4);
        assert_eq!((r[0].msg_type, r[0].cname.as_str()), ("KRB_AS_REQ", "nguyen.van.a"));
        assert_eq!((r[0].realm.as_str(), r[0].sname.as_str()), ("HUE.GOV.VN", "krbtgt/HUE.GOV.VN"));
        assert_eq!((r[0].encryption.as_str(), r[0].weak_encryption), ("<none>", false));
        assert_eq!(r[1].error_code.as_deref(), Some("KDC_ERR_PREAUTH_REQUIRED"));
        assert_eq!(r[1].failed_request, Some("KRB_AS_REQ"));
        assert_eq!(r[2].cname, "<empty>");
        let rep = r[3];
        assert_eq!(rep.msg_type, "KRB_TGS_REP");
        assert_eq!(
            (rep.encryption.as_str(), rep.weak_encryption),
            ("aes256-cts-hmac-sha1-96", false)
        );
        assert_eq!(rep.ticket_encryption.as_deref(), Some("rc4-hmac"));
        assert_eq!(rep.ticket_weak_encryption, Some(true));
        assert_eq!(values(&out, Buffer::Krb5MsgType), ["10", "30", "12", "13"]);
        assert_eq!(values(&out, Buffer::Krb5ErrCode), ["25"]);
        assert!(values(&out, Buffer::Krb5Sname).contains(&"MSSQLSvc".to_string()));
        assert_eq!(values(&out, Buffer::Krb5WeakEncryption), ["1"]);
        assert_eq!(values(&out, Buffer::Krb5TicketEncryption), ["23", "rc4-hmac", "weak"]);
        assert_eq!(c.by_name.get("krb5_messages"), Some(&4));
    }
}

#[test]
fn datagrams_and_broken_der() {
    let mut p = Krb5Conn::default();
    let (mut out, mut counters) = (AppOutput::default(), AppCounters::default());
    let mut cx = AppCx { counters: &mut counters, out: &mut out };
    let req = krb5_request(false, Some("admin"), "R", "krbtgt/R");
    p.datagram(0, &req, &mut cx);
    for cut in [1, 5, req.len() / 2, req.len() - 1] {
        p.datagram(0, &req[..cut], &mut cx);
    }
    p.datagram(0, b"\x6a\x84\xff\xff\xff\xff", &mut cx);
    assert_eq!(records(&out).len(), 1);
    assert_eq!(counters.by_name.get("krb5_errors"), Some(&5));
    assert!(probe_udp(&req));
    assert!(!probe_udp(b"\x30\x00"));
}
