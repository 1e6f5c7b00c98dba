//! Tests of DCERPC over TCP: bind and its acknowledgement, a fragmented request and
//! its response, resynchronisation after garbage.

use gatewatch_rules::signature::Buffer;

use super::*;
use crate::app::parser::{drive, values};
use crate::synth::windows::{dcerpc_bind, dcerpc_bind_ack, dcerpc_request, dcerpc_response};

const EPM: &str = "e1af8308-5d1f-11c9-91a4-08002b14a0fa";

fn records(out: &crate::app::parser::AppOutput) -> Vec<&DcerpcRecord> {
    out.records
        .iter()
        .filter_map(|(_, r)| match r {
            Record::Dcerpc(d) => Some(d),
            _ => None,
        })
        .collect()
}

#[test]
fn bind_request_response_with_fragments() {
    let script = vec![
        (true, dcerpc_bind(1, EPM, 3)),
        (false, dcerpc_bind_ack(1)),
        (true, dcerpc_request(2, 3, b"0123456789abcdefghij", 6)),
        (false, dcerpc_response(2, b"result")),
    ];
    for seg in [4096, 1] {
        let (out, c) = drive(&mut DcerpcConn::default(), &script, seg);
        let recs = records(&out);
        assert_eq!(recs.len(), 2);
        assert_eq!(recs[0].request, "BIND");
        assert_eq!(recs[0].response, "BINDACK");
        assert_eq!(recs[0].interfaces[0].uuid, EPM);
        assert_eq!(recs[0].interfaces[0].version, "3.0");
        assert_eq!(recs[0].interfaces[0].ack_result, Some(0));
        let call = recs[1];
        assert_eq!((call.request, call.response, call.call_id), ("REQUEST", "RESPONSE", 2));
        assert_eq!(
            call.req.as_ref().map(|r| (r.opnum, r.frag_cnt, r.stub_data_size)),
            Some((Some(3), 4, 20))
        );
        assert_eq!(values(&out, Buffer::DceStubData), ["0123456789abcdefghij", "result"]);
        assert_eq!(values(&out, Buffer::DceOpnum), ["3", "3"]);
        assert!(values(&out, Buffer::DceIface).iter().all(|u| u == EPM));
        assert_eq!(c.by_name.get("dcerpc_tx"), Some(&2));
    }
}

#[test]
fn garbage_between_pdus_is_skipped_and_counted() {
    let mut junk = b"\x05\x07garbage".to_vec();
    junk.extend(dcerpc_request(9, 1, b"x", 100));
    let script = vec![(true, dcerpc_bind(1, EPM, 1)), (true, junk)];
    let (out, c) = drive(&mut DcerpcConn::default(), &script, 3);
    assert_eq!(c.by_name.get("dcerpc_errors"), Some(&1));
    // The request after the garbage is read; unanswered, it ends as UNREPLIED.
    let recs = records(&out);
    assert!(recs.iter().any(|r| r.call_id == 9 && r.response == "UNREPLIED"));
}

#[test]
fn probe_needs_a_plausible_header() {
    use crate::app::parser::{Probe, Sender};
    assert_eq!(probe(&dcerpc_bind(1, EPM, 1), b"", false), Probe::Yes(Sender::Client));
    assert_eq!(probe(&dcerpc_bind_ack(1), b"", false), Probe::Yes(Sender::Server));
    assert_eq!(probe(b"\x05\x00\x0b", b"", false), Probe::NeedMore);
    assert_eq!(
        probe(b"\x05\x09\x0b\x03\x10\x00\x00\x00\x48\x00\x00\x00\x01\x00\x00\x00", b"", false),
        Probe::No
    );
}
