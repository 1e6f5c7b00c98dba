//! `tag`: after a rule alerts, the packets that follow on its session or of one of its
//! hosts are logged too (EVE `packet` records), so that an analyst sees what came next.
//!
//! `tag:session[, <count>, <metric>]` and `tag:host, <count>, <metric>[, src|dst]`, with
//! the metric `packets`, `seconds` or `bytes`; a bare `tag:session` is 256 packets, as in
//! Suricata. The alerting packet counts towards the budget.

use super::ParseError;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TagMetric {
    Packets,
    Seconds,
    Bytes,
}

/// One `tag` keyword.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tag {
    /// The session (flow) rather than a host.
    pub session: bool,
    /// For a host tag: the packet's destination rather than its source.
    pub dst: bool,
    pub count: u32,
    pub metric: TagMetric,
}

/// Packets of a session tagged without a count.
pub const DEFAULT_TAG_PACKETS: u32 = 256;

pub fn parse_tag(value: &str) -> Result<Tag, ParseError> {
    let parts: Vec<&str> = value.split(',').map(str::trim).collect();
    let session = match parts[0] {
        "session" => true,
        "host" => false,
        t => return Err(ParseError::invalid("tag", format!("unknown type `{t}`"))),
    };
    let mut tag =
        Tag { session, dst: false, count: DEFAULT_TAG_PACKETS, metric: TagMetric::Packets };
    if let Some(c) = parts.get(1) {
        tag.count = c
            .parse()
            .ok()
            .filter(|&c| c > 0)
            .ok_or_else(|| ParseError::invalid("tag", format!("bad count `{c}`")))?;
        let m = parts.get(2).ok_or_else(|| ParseError::invalid("tag", "a count needs a metric"))?;
        tag.metric = match *m {
            "packets" => TagMetric::Packets,
            "seconds" => TagMetric::Seconds,
            "bytes" => TagMetric::Bytes,
            m => return Err(ParseError::invalid("tag", format!("unknown metric `{m}`"))),
        };
    }
    match parts.get(3).copied() {
        None => {}
        Some("src") if !session => {}
        Some("dst") if !session => tag.dst = true,
        Some(d) => {
            return Err(ParseError::invalid(
                "tag",
                format!("unexpected `{d}` (src or dst of a host tag)"),
            ))
        }
    }
    if parts.len() > 4 {
        return Err(ParseError::invalid("tag", format!("too many values in `{value}`")));
    }
    Ok(tag)
}

/// What is left of a tag's budget.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TagBudget {
    metric: TagMetric,
    /// Packets or bytes still to log.
    left: u64,
    /// Capture second after which a `seconds` tag ends.
    until: i64,
}

impl TagBudget {
    /// A tag set by a packet of `len` bytes at `now` (that packet counts).
    pub fn start(t: &Tag, now: i64, len: usize) -> TagBudget {
        let count = u64::from(t.count);
        let left = match t.metric {
            TagMetric::Packets => count - 1,
            TagMetric::Bytes => count.saturating_sub(len as u64),
            TagMetric::Seconds => 0,
        };
        TagBudget { metric: t.metric, left, until: now + i64::from(t.count) }
    }

    /// Counts one more packet; true when it is to be logged, false once the tag is over.
    pub fn take(&mut self, now: i64, len: usize) -> bool {
        match self.metric {
            TagMetric::Seconds => now <= self.until,
            _ if self.left == 0 => false,
            TagMetric::Packets => {
                self.left -= 1;
                true
            }
            TagMetric::Bytes => {
                self.left = self.left.saturating_sub(len as u64);
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_and_errors() {
        let t = parse_tag("session").unwrap();
        assert!(t.session && t.count == 256 && t.metric == TagMetric::Packets);
        let t = parse_tag("host, 9, packets, dst").unwrap();
        assert!(!t.session && t.dst && t.count == 9);
        assert_eq!(parse_tag("host,10,seconds").unwrap().metric, TagMetric::Seconds);
        for bad in ["flow", "host,0,packets", "host,5", "host,5,hours", "session,5,bytes,dst"] {
            assert!(parse_tag(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn budgets_count_the_alerting_packet() {
        let mut b = TagBudget::start(&parse_tag("host,3,packets,src").unwrap(), 0, 60);
        assert!(b.take(0, 60) && b.take(0, 60) && !b.take(0, 60));
        let mut b = TagBudget::start(&parse_tag("session,100,bytes").unwrap(), 0, 60);
        assert!(b.take(0, 30) && b.take(0, 30) && !b.take(0, 30));
        let mut b = TagBudget::start(&parse_tag("session,2,seconds").unwrap(), 10, 60);
        assert!(b.take(12, 1) && !b.take(13, 1));
    }
}
