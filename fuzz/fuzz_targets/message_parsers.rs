//! Any bytes to the message parsers of the smaller protocols. The first byte picks the
//! parser: MQTT and RFB take the rest as both directions of a TCP connection in pieces;
//! QUIC, IKE, DHCP, SNMP, NTP and TFTP take it as one datagram each way; WebSocket
//! takes it in pieces with and without `permessage-deflate`.
#![no_main]
use gatewatch_sensor::app::parser::{feed_pieces, AppCounters, AppCx, AppOutput, AppParser};
use gatewatch_sensor::app::{dhcp, ike, mqtt, ntp, quic, rfb, snmp, tftp, websocket};
use libfuzzer_sys::fuzz_target;

fn datagrams(p: &mut dyn AppParser, data: &[u8]) {
    let (mut out, mut counters) = (AppOutput::default(), AppCounters::default());
    let mut cx = AppCx { counters: &mut counters, out: &mut out };
    p.datagram(0, data, &mut cx);
    p.datagram(1, data, &mut cx);
    p.end(&mut cx);
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else { return };
    match pick % 9 {
        0 => drop(feed_pieces(&mut mqtt::MqttConn::default(), rest)),
        1 => drop(feed_pieces(&mut rfb::RfbConn::default(), rest)),
        2 => datagrams(&mut quic::QuicConn::default(), rest),
        3 => datagrams(&mut ike::IkeConn, rest),
        4 => datagrams(&mut dhcp::DhcpConn, rest),
        5 => datagrams(&mut snmp::SnmpConn, rest),
        6 => datagrams(&mut ntp::NtpConn, rest),
        7 => datagrams(&mut tftp::TftpConn, rest),
        _ => {
            let (mut out, mut counters) = (AppOutput::default(), AppCounters::default());
            let mut cx = AppCx { counters: &mut counters, out: &mut out };
            for deflate in [false, true] {
                let mut ws = websocket::WebsocketConn::new(deflate);
                for (i, piece) in rest.chunks(7).enumerate() {
                    ws.parse(i % 2, piece, &mut cx);
                }
            }
        }
    }
});
