//! Rules without a prefilter pattern, indexed by port: a rule for `-> any 1433` is only
//! tested on packets to port 1433, as in Suricata's per-port signature groups, instead
//! of on every TCP packet. A rule for any port but one application protocol
//! (`alert ftp ... content:"MKD"` with a pattern too short to prefilter) is tested only
//! on packets of flows of that protocol.

use std::collections::HashMap;

use crate::signature::{AppProto, PortSet, Signature};

/// A port set this small is indexed port by port; a larger one is tested everywhere.
const MAX_INDEXED_PORTS: u128 = 256;

/// The rules of one protocol class that are tested on every packet of it, minus those
/// whose ports cannot match.
#[derive(Debug, Default)]
pub(crate) struct PortIndex {
    any: Vec<u32>,
    by_dport: HashMap<u16, Vec<u32>>,
    by_sport: HashMap<u16, Vec<u32>>,
    /// Rules for any port of one application protocol.
    by_app: Vec<(AppProto, Vec<u32>)>,
}

/// The ports of a small port set, one by one (None: any port, or too many).
pub(crate) fn few(p: &PortSet) -> Option<Vec<u16>> {
    if p.any {
        return None;
    }
    let n: u128 = p.set.ranges().iter().map(|(a, b)| b - a + 1).sum();
    if n > MAX_INDEXED_PORTS {
        return None;
    }
    let ports = p.set.ranges().iter().flat_map(|&(a, b)| a..=b);
    Some(ports.filter_map(|x| u16::try_from(x).ok()).collect())
}

impl PortIndex {
    /// The destination ports a rule is limited to, for indexing (None: any).
    pub(crate) fn dst_ports(sig: &Signature) -> Option<Vec<u16>> {
        if sig.bidirectional || sig.transactional {
            return None;
        }
        few(&sig.dst_ports)
    }

    /// Adds rule `r` (rules are added in increasing order).
    pub(crate) fn add(&mut self, r: u32, sig: &Signature) {
        if sig.bidirectional || sig.transactional {
            self.any.push(r);
        } else if let Some(ports) = few(&sig.dst_ports) {
            ports.into_iter().for_each(|p| self.by_dport.entry(p).or_default().push(r));
        } else if let Some(ports) = few(&sig.src_ports) {
            ports.into_iter().for_each(|p| self.by_sport.entry(p).or_default().push(r));
        } else if let Some(app) = sig.app_proto {
            match self.by_app.iter_mut().find(|(a, _)| *a == app) {
                Some((_, list)) => list.push(r),
                None => self.by_app.push((app, vec![r])),
            }
        } else {
            self.any.push(r);
        }
    }

    /// The rules that may match a packet with these ports (None: a protocol without
    /// ports) of a flow of application protocol `app`, sorted, into `out`.
    pub(crate) fn candidates(
        &self,
        ports: Option<(u16, u16)>,
        app: Option<AppProto>,
        out: &mut Vec<u32>,
    ) {
        out.clear();
        out.extend_from_slice(&self.any);
        let mut merged = false;
        if let Some((sport, dport)) = ports {
            let d = self.by_dport.get(&dport).map_or(&[][..], |v| v.as_slice());
            let s = self.by_sport.get(&sport).map_or(&[][..], |v| v.as_slice());
            out.extend_from_slice(d);
            out.extend_from_slice(s);
            merged = !d.is_empty() || !s.is_empty();
        }
        if let Some(flow_app) = app {
            for (_, list) in self.by_app.iter().filter(|(a, _)| a.applies_to(flow_app)) {
                out.extend_from_slice(list);
                merged = true;
            }
        }
        if merged {
            out.sort_unstable();
            out.dedup();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signature::{Origin, Vars};

    fn sig(text: &str) -> Signature {
        Signature::parse(text, &Vars::default(), Origin { file: "t".into(), line: 1 }).unwrap()
    }

    #[test]
    fn rules_are_found_by_the_ports_they_name() {
        let mut idx = PortIndex::default();
        idx.add(0, &sig("alert tcp any any -> any 1433 (flags:S; sid:1;)"));
        idx.add(1, &sig("alert tcp any any -> any any (flags:S; sid:2;)"));
        idx.add(2, &sig("alert tcp any 22 -> any any (flags:SA; sid:3;)"));
        idx.add(3, &sig("alert tcp any any <> any 1433 (flags:S; sid:4;)"));
        idx.add(4, &sig("alert tcp any any -> any [1:1000] (flags:S; sid:5;)"));
        idx.add(5, &sig("alert ftp any any -> any any (content:\"MKD\"; sid:6;)"));
        idx.add(6, &sig("alert http any any -> any any (content:\"|7C|u0\"; sid:7;)"));
        let mut out = Vec::new();
        idx.candidates(Some((40000, 1433)), None, &mut out);
        assert_eq!(out, vec![0, 1, 3, 4]);
        idx.candidates(Some((22, 40000)), None, &mut out);
        assert_eq!(out, vec![1, 2, 3, 4]);
        idx.candidates(None, None, &mut out);
        assert_eq!(out, vec![1, 3, 4]);
        // Protocol rules only on flows of their protocol (an `http` rule also on HTTP/2).
        idx.candidates(Some((40000, 21)), Some(AppProto::Ftp), &mut out);
        assert_eq!(out, vec![1, 3, 4, 5]);
        idx.candidates(Some((40000, 80)), Some(AppProto::Http2), &mut out);
        assert_eq!(out, vec![1, 3, 4, 6]);
    }
}
