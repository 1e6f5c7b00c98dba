//! TCP connection state as the flow table tracks it (handshake, established, closing).
//! Byte-stream reassembly is a separate stage.

use gatewatch_rules::engine::TcpInfo;

use crate::decode::tcp::{ACK, FIN, RST, SYN};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum TcpState {
    /// No handshake seen and midstream pickup disabled: the session is not tracked.
    None,
    SynSent,
    SynRecv,
    Established,
    /// FIN seen from one side.
    FinWait,
    /// FIN seen from both sides, or a RST.
    Closed,
}

impl TcpState {
    pub fn as_str(self) -> &'static str {
        match self {
            TcpState::None => "none",
            TcpState::SynSent => "syn_sent",
            TcpState::SynRecv => "syn_recv",
            TcpState::Established => "established",
            TcpState::FinWait => "fin_wait1",
            TcpState::Closed => "closed",
        }
    }
}

#[derive(Clone, Debug)]
pub struct TcpTrack {
    pub state: TcpState,
    /// The session reached `Established` at some point (flow:established holds from
    /// then on, as in Suricata).
    pub was_established: bool,
    /// The current packet belongs to an established session: the state before it was
    /// `Established` or a later one (Suricata's `FLOW_PKT_ESTABLISHED`: the handshake's
    /// last ACK is not established, a FIN and the ACKs after it are).
    pub packet_established: bool,
    /// The current packet is the handshake's last ACK.
    pub completes_handshake: bool,
    pub fin: [bool; 2],
    /// OR of the flags seen: overall, to server, to client.
    pub flags: u8,
    pub flags_ts: u8,
    pub flags_tc: u8,
    /// Sequence number of the client's SYN, while the handshake is on.
    client_isn: Option<u32>,
    /// The current packet is a RST the session did not accept (it stays as it was).
    pub rst_ignored: bool,
}

impl TcpTrack {
    /// A track for the first packet of a flow. `to_server` says whether the first packet
    /// goes from the client (it is false when a SYN/ACK opened the flow).
    pub fn new(seg: TcpInfo, midstream_enabled: bool) -> TcpTrack {
        let flags = seg.flags;
        let state = if flags & SYN != 0 && flags & ACK == 0 {
            TcpState::SynSent
        } else if flags & SYN != 0 && flags & ACK != 0 {
            TcpState::SynRecv
        } else if midstream_enabled && flags & RST == 0 {
            TcpState::Established
        } else {
            TcpState::None
        };
        TcpTrack {
            state,
            was_established: state == TcpState::Established,
            packet_established: state == TcpState::Established,
            completes_handshake: false,
            fin: [false; 2],
            flags: 0,
            flags_ts: 0,
            flags_tc: 0,
            client_isn: (state == TcpState::SynSent).then_some(seg.seq),
            rst_ignored: false,
        }
    }

    /// Does a RST end the session? While the client's SYN is unanswered, only a RST
    /// that answers it does (RFC 793 §3.4, as Suricata checks): from the server, one
    /// acknowledging the SYN; from the client, one at the SYN's sequence number with
    /// window 0 acknowledging SYN+1. Anything else there is noise or an injection.
    fn accepts_rst(&self, dir: usize, seg: TcpInfo) -> bool {
        match (self.state, self.client_isn) {
            (TcpState::SynSent, Some(isn)) => {
                let acks_syn = seg.flags & ACK != 0 && seg.ack == isn.wrapping_add(1);
                if dir == 0 {
                    seg.seq == isn && seg.window == 0 && acks_syn
                } else {
                    acks_syn
                }
            }
            _ => true,
        }
    }

    /// Updates the state with a packet in direction `dir` (0 = to server).
    pub fn update(&mut self, dir: usize, seg: TcpInfo, first: bool) {
        let flags = seg.flags;
        self.flags |= flags;
        if dir == 0 {
            self.flags_ts |= flags;
        } else {
            self.flags_tc |= flags;
        }
        if first {
            return;
        }
        self.packet_established = self.was_established && self.state != TcpState::None;
        self.completes_handshake = false;
        self.rst_ignored = flags & RST != 0 && !self.accepts_rst(dir, seg);
        if self.rst_ignored {
            return;
        }
        if flags & RST != 0 {
            if self.state != TcpState::None {
                self.state = TcpState::Closed;
            }
            return;
        }
        match self.state {
            TcpState::None | TcpState::Closed => {}
            TcpState::SynSent => {
                if dir == 0 && flags & SYN != 0 && flags & ACK == 0 {
                    self.client_isn = Some(seg.seq);
                }
                if dir == 1 && flags & SYN != 0 && flags & ACK != 0 {
                    self.state = TcpState::SynRecv;
                }
            }
            TcpState::SynRecv => {
                if dir == 0 && flags & ACK != 0 && flags & SYN == 0 {
                    self.state = TcpState::Established;
                    self.was_established = true;
                    self.completes_handshake = true;
                }
            }
            TcpState::Established | TcpState::FinWait => {
                if flags & FIN != 0 {
                    self.fin[dir] = true;
                    self.state = if self.fin[0] && self.fin[1] {
                        TcpState::Closed
                    } else {
                        TcpState::FinWait
                    };
                }
            }
        }
        if self.state == TcpState::FinWait && flags & FIN != 0 {
            self.fin[dir] = true;
            if self.fin[0] && self.fin[1] {
                self.state = TcpState::Closed;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(flags: u8) -> TcpInfo {
        TcpInfo { flags, seq: 0, ack: 0, window: 0 }
    }

    #[test]
    fn handshake_and_close() {
        let mut t = TcpTrack::new(seg(SYN), false);
        t.update(0, seg(SYN), true);
        t.update(1, seg(SYN | ACK), false);
        assert_eq!(t.state, TcpState::SynRecv);
        t.update(0, seg(ACK), false);
        assert_eq!(t.state, TcpState::Established);
        t.update(0, seg(FIN | ACK), false);
        assert_eq!(t.state, TcpState::FinWait);
        t.update(1, seg(FIN | ACK), false);
        assert_eq!(t.state, TcpState::Closed);
        assert!(t.was_established);
        assert_eq!(t.flags, SYN | ACK | FIN);
    }

    #[test]
    fn midstream() {
        assert_eq!(TcpTrack::new(seg(ACK), false).state, TcpState::None);
        assert_eq!(TcpTrack::new(seg(ACK), true).state, TcpState::Established);
        let mut t = TcpTrack::new(seg(ACK), false);
        t.update(0, seg(ACK), true);
        t.update(1, seg(ACK), false);
        assert!(!t.was_established);
    }

    #[test]
    fn a_rst_that_does_not_answer_the_syn_is_ignored() {
        let syn = TcpInfo { flags: SYN, seq: 1000, ack: 0, window: 512 };
        let mut t = TcpTrack::new(syn, false);
        t.update(0, syn, true);
        // A stray ACK from the server, then a client RST at another sequence number.
        t.update(1, TcpInfo { flags: ACK, seq: 7, ack: 99, window: 512 }, false);
        t.update(0, TcpInfo { flags: RST, seq: 99, ack: 99, window: 0 }, false);
        assert!(t.rst_ignored);
        assert_eq!(t.state, TcpState::SynSent);
        // The handshake then completes as usual.
        t.update(0, syn, false);
        t.update(1, TcpInfo { flags: SYN | ACK, seq: 5000, ack: 1001, window: 512 }, false);
        t.update(0, TcpInfo { flags: ACK, seq: 1001, ack: 5001, window: 512 }, false);
        assert_eq!(t.state, TcpState::Established);
        // A server RST acknowledging the SYN refuses the connection.
        let mut r = TcpTrack::new(syn, false);
        r.update(0, syn, true);
        r.update(1, TcpInfo { flags: RST | ACK, seq: 0, ack: 1001, window: 0 }, false);
        assert!(!r.rst_ignored);
        assert_eq!(r.state, TcpState::Closed);
    }
}
