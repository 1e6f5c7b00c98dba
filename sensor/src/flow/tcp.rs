//! TCP connection state as the flow table tracks it (handshake, established, closing).
//! Byte-stream reassembly is a separate stage.

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
    /// Picked up without a handshake.
    pub midstream: bool,
    pub fin: [bool; 2],
    /// OR of the flags seen: overall, to server, to client.
    pub flags: u8,
    pub flags_ts: u8,
    pub flags_tc: u8,
}

impl TcpTrack {
    /// A track for the first packet of a flow. `to_server` says whether the first packet
    /// goes from the client (it is false when a SYN/ACK opened the flow).
    pub fn new(flags: u8, midstream_enabled: bool) -> TcpTrack {
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
            midstream: state == TcpState::Established || state == TcpState::SynRecv,
            fin: [false; 2],
            flags: 0,
            flags_ts: 0,
            flags_tc: 0,
        }
    }

    /// Updates the state with a packet in direction `dir` (0 = to server).
    pub fn update(&mut self, dir: usize, flags: u8, first: bool) {
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
        if flags & RST != 0 {
            if self.state != TcpState::None {
                self.state = TcpState::Closed;
            }
            return;
        }
        match self.state {
            TcpState::None | TcpState::Closed => {}
            TcpState::SynSent => {
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

    #[test]
    fn handshake_and_close() {
        let mut t = TcpTrack::new(SYN, false);
        t.update(0, SYN, true);
        t.update(1, SYN | ACK, false);
        assert_eq!(t.state, TcpState::SynRecv);
        t.update(0, ACK, false);
        assert_eq!(t.state, TcpState::Established);
        t.update(0, FIN | ACK, false);
        assert_eq!(t.state, TcpState::FinWait);
        t.update(1, FIN | ACK, false);
        assert_eq!(t.state, TcpState::Closed);
        assert!(t.was_established);
        assert_eq!(t.flags, SYN | ACK | FIN);
    }

    #[test]
    fn midstream() {
        assert_eq!(TcpTrack::new(ACK, false).state, TcpState::None);
        assert_eq!(TcpTrack::new(ACK, true).state, TcpState::Established);
        let mut t = TcpTrack::new(ACK, false);
        t.update(0, ACK, true);
        t.update(1, ACK, false);
        assert!(!t.was_established);
    }
}
