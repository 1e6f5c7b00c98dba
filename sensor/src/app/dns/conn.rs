//! DNS over TCP (RFC 1035, 4.2.2): each message behind a two-byte length. Probed only
//! on port 53, where a length and a plausible header are enough.

use gatewatch_rules::signature::AppProto;

use super::record::DnsBody;
use crate::app::parser::{meta, AppCx, AppParser, Inspection, Probe, Registration, Sender};
use crate::app::records::Record;
use crate::app::ParseError;

/// DNS over TCP (length-prefixed messages).
pub const REGISTRATION: Registration = Registration {
    proto: AppProto::Dns,
    ports: &[53],
    needs_port: true,
    probe,
    new: |_| Box::<DnsConn>::default(),
};

/// A message longer than this cannot be DNS over TCP: the buffer is dropped.
const MAX_HELD: usize = 70_000;

fn probe(d: &[u8], _other: &[u8], _port_hint: bool) -> Probe {
    if d.len() < 2 {
        return Probe::NeedMore;
    }
    let len = u16::from_be_bytes([d[0], d[1]]) as usize;
    if len < 12 {
        return Probe::No;
    }
    if d.len() < 2 + 12 {
        return Probe::NeedMore;
    }
    // A DNS header: at most a few questions.
    let qd = u16::from_be_bytes([d[6], d[7]]);
    let response = d[4] & 0x80 != 0;
    if qd <= 16 {
        Probe::Yes(if response { Sender::Server } else { Sender::Client })
    } else {
        Probe::No
    }
}

/// The messages of each direction not yet complete.
#[derive(Debug, Default)]
pub struct DnsConn {
    held: [Vec<u8>; 2],
}

impl AppParser for DnsConn {
    fn mem_usage(&self) -> usize {
        crate::app::parser::held_bytes(&self.held)
    }

    fn parse(&mut self, dir: usize, bytes: &[u8], cx: &mut AppCx<'_>) {
        let buf = &mut self.held[dir];
        buf.extend_from_slice(bytes);
        let mut used = 0;
        loop {
            match super::split_tcp(&buf[used..]) {
                Ok((msg, rest)) => {
                    used = buf.len() - rest.len();
                    match super::parse_message(msg) {
                        Ok(m) => {
                            cx.counters.dns_tcp += 1;
                            let mut insp = Inspection::new(dir);
                            insp.buffers = super::buffers(&m);
                            let body = DnsBody::from_message(&m, 0);
                            insp.meta = meta("dns", &body);
                            cx.inspect(insp);
                            cx.record(dir == 0, Record::Dns(body));
                        }
                        Err(_) => cx.counters.dns_tcp_errors += 1,
                    }
                }
                Err(ParseError::Incomplete) => break,
                Err(ParseError::Malformed(_)) => {
                    cx.counters.dns_tcp_errors += 1;
                    used = buf.len();
                    break;
                }
            }
        }
        buf.drain(..used);
        if buf.len() > MAX_HELD {
            buf.clear();
        }
    }

    fn gap(&mut self, dir: usize, _cx: &mut AppCx<'_>) {
        self.held[dir].clear();
    }
}
