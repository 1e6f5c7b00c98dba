//! The Suricata rule language: a rule's text becomes a [`Signature`].
//!
//! Parsing is split as the language is: `header` (action, protocol, addresses, ports,
//! direction), [`options`] (the `name:value;` list and what each keyword means) and
//! `content` (the `"...|0d 0a|..."` pattern syntax). Files are read by [`file`](mod@file), which
//! keeps every rule's `file:line` and turns failures into load-report entries.

pub mod address;
mod app_keywords;
mod bits;
pub(crate) mod buffer;
pub mod catalog;
pub mod classification;
pub(crate) mod content;
pub mod dataset;
pub(crate) mod entropy;
pub mod file;
mod flag_keywords;
pub(crate) mod header;
pub mod http2;
pub(crate) mod keyword_parsers;
pub(crate) mod keywords;
pub mod options;
mod pcre;
pub(crate) mod requires;
pub(crate) mod tag;
pub mod transform;
pub(crate) mod unsupported;
pub mod vlan;

use std::fmt;
use std::sync::Arc;

pub use address::{AddressSet, PortSet, Vars};
pub use buffer::{AppProto, Buffer, BufferList, Side};
pub use header::{Action, Proto};
pub use keywords::{
    BitTarget, ByteCmp, ByteOp, ByteRead, Content, EventKind, FlowCond, FlowInt, FlowIntOp,
    FlowIntValue, Flowbit, FlowbitCmd, HeaderCheck, HostBit, MathOp, NumCmp, PayloadMatch, Pcre,
    PlacementVars, StreamSide, Target, Threshold, ThresholdKind, Track, Value,
};
pub use transform::{base64_decode, Base64Mode, Transform};

/// Why a rule did not load. `code` is stable (it groups the load report and is what the
/// API returns); `detail` names the offending text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// What kind of failure (its stable code).
    pub kind: ErrorKind,
    pub(crate) detail: String,
    /// For a support gap: every unsupported feature the rule uses (the first is `kind`).
    pub gaps: Vec<String>,
}

/// The kinds of load failure, each with a stable code.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The rule is not well-formed (header, option list, quoting).
    Grammar,
    /// A keyword we know and support was given a value we cannot accept.
    InvalidValue(String),
    /// A Suricata keyword (or header protocol) that this engine does not implement yet.
    Unsupported(String),
    /// Not a keyword of the Suricata language at all.
    UnknownKeyword(String),
}

impl ParseError {
    pub(crate) fn grammar(detail: impl Into<String>) -> Self {
        ParseError { kind: ErrorKind::Grammar, detail: detail.into(), gaps: Vec::new() }
    }
    pub(crate) fn invalid(keyword: &str, detail: impl Into<String>) -> Self {
        ParseError {
            kind: ErrorKind::InvalidValue(keyword.to_string()),
            detail: detail.into(),
            gaps: Vec::new(),
        }
    }
    pub(crate) fn unsupported(what: &str) -> Self {
        ParseError {
            kind: ErrorKind::Unsupported(what.to_string()),
            detail: format!("{what} is not supported yet"),
            gaps: vec![what.to_string()],
        }
    }
    pub(crate) fn unknown(keyword: &str) -> Self {
        ParseError {
            kind: ErrorKind::UnknownKeyword(keyword.to_string()),
            detail: format!("unknown keyword `{keyword}`"),
            gaps: Vec::new(),
        }
    }

    /// Records another unsupported feature of the same rule.
    pub(crate) fn add_gap(&mut self, what: &str) {
        if !self.gaps.iter().any(|g| g == what) {
            self.gaps.push(what.to_string());
        }
    }

    /// True when the rule is grammatically valid and only lacks engine support.
    pub fn is_support_gap(&self) -> bool {
        matches!(self.kind, ErrorKind::Unsupported(_))
    }

    /// The key under which the load report groups this failure.
    pub fn reason(&self) -> String {
        match &self.kind {
            ErrorKind::Grammar => format!("grammar: {}", grammar_class(&self.detail)),
            ErrorKind::InvalidValue(k) => format!("invalid value of `{k}`"),
            ErrorKind::Unsupported(k) => format!("unsupported: {k}"),
            ErrorKind::UnknownKeyword(k) => format!("unknown keyword `{k}`"),
        }
    }

    /// A stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self.kind {
            ErrorKind::Grammar => "E_GRAMMAR",
            ErrorKind::InvalidValue(_) => "E_INVALID_VALUE",
            ErrorKind::Unsupported(_) => "E_UNSUPPORTED",
            ErrorKind::UnknownKeyword(_) => "E_UNKNOWN_KEYWORD",
        }
    }
}

/// Grammar details carry the offending text; group them by their first words.
fn grammar_class(detail: &str) -> String {
    let cut = detail.find('`').unwrap_or(detail.len());
    let class = detail[..cut].trim().trim_end_matches(':').trim();
    // "found 6" and similar counts vary per rule; keep the class stable.
    match class.find(", found") {
        Some(i) => class[..i].to_string(),
        None => class.to_string(),
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.detail)
    }
}

impl std::error::Error for ParseError {}

/// Where a rule came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    /// The rule file.
    pub file: Arc<str>,
    /// The line the rule starts on.
    pub line: u32,
}

/// One parsed, validated rule.
#[derive(Debug)]
pub struct Signature {
    /// `alert`, `drop`, `pass`, …
    pub action: Action,
    /// The header's protocol (`tcp`, `udp`, `ip`, … or an application protocol).
    pub proto: Proto,
    /// The source addresses of the header.
    pub src: AddressSet,
    pub(crate) src_ports: PortSet,
    /// The destination addresses.
    pub dst: AddressSet,
    pub(crate) dst_ports: PortSet,
    /// `<>`: the rule matches traffic in either direction.
    pub bidirectional: bool,
    /// `=>`: both sides of a transaction; addresses are client (source) and server.
    pub transactional: bool,
    /// The message (`msg`).
    pub msg: String,
    /// Signature id.
    pub sid: u32,
    /// Generator id (1 for rules; see `gatewatch_rules::ids`).
    pub gid: u32,
    /// Rule revision.
    pub rev: u32,
    pub(crate) classtype: Option<String>,
    /// Description of the classtype (EVE `alert.category`), empty when none.
    pub category: String,
    /// From `priority:`, else the classtype's priority, else 3. EVE `alert.severity`.
    pub priority: u8,
    /// The rule's `metadata` (key → values).
    pub metadata: Vec<(String, String)>,
    pub(crate) references: Vec<(String, String)>,
    /// Payload inspections in rule order: content, pcre, isdataat.
    pub payload: Vec<PayloadMatch>,
    /// Inspections of sticky buffers, one list per buffer, each in rule order.
    pub buffers: Vec<BufferList>,
    /// The application protocol of the header (`alert dns ...`), if any.
    pub app_proto: Option<AppProto>,
    pub(crate) dsize: Option<NumCmp>,
    /// The `flow` keyword's conditions.
    pub flow: FlowCond,
    pub(crate) flowbits: Vec<Flowbit>,
    pub(crate) hostbits: Vec<HostBit>,
    pub(crate) flowints: Vec<FlowInt>,
    /// `tag`: packets of the session or of a host to log after the alert.
    pub tags: Vec<tag::Tag>,
    /// `flowbits:noalert` / `noalert`: the rule's side effects happen, no alert is written.
    pub noalert: bool,
    /// `alert` in a `pass` rule: it alerts as well.
    pub alert_on_pass: bool,
    /// How often it alerts (`threshold`, `detection_filter`, `threshold.config`).
    pub threshold: Option<Threshold>,
    pub(crate) header_checks: Vec<HeaderCheck>,
    /// Which side is the target (`target`).
    pub target: Option<Target>,
    pub(crate) origin: Origin,
}

impl Signature {
    /// Parses one rule. `origin` names where it was read, for messages.
    pub fn parse(text: &str, vars: &Vars, origin: Origin) -> Result<Signature, ParseError> {
        // `requires` first: a rule for another version is skipped however it reads here.
        if let Some(body) = text.find('(').and_then(|a| text.rfind(')').map(|b| (a, b))) {
            if body.0 < body.1 {
                if let Some(reason) =
                    requires::unmet(&text[body.0 + 1..body.1], requires::is_keyword)?
                {
                    // Skipped, reported apart from the gaps of this engine.
                    let kind = ErrorKind::Unsupported("requires".to_string());
                    return Err(ParseError { kind, detail: reason, gaps: Vec::new() });
                }
            }
        }
        let (hdr, opts) = header::parse_header(text, vars)?;
        let packet_only = hdr.packet_only;
        let mut sig = Signature {
            action: hdr.action,
            proto: hdr.proto,
            src: hdr.src,
            src_ports: hdr.src_ports,
            dst: hdr.dst,
            dst_ports: hdr.dst_ports,
            bidirectional: hdr.bidirectional,
            transactional: hdr.transactional,
            msg: String::new(),
            sid: 0,
            gid: 1,
            rev: 0,
            classtype: None,
            category: String::new(),
            priority: 3,
            metadata: Vec::new(),
            references: Vec::new(),
            payload: Vec::new(),
            buffers: Vec::new(),
            app_proto: hdr.app_proto_supported,
            dsize: None,
            flow: FlowCond::default(),
            flowbits: Vec::new(),
            hostbits: Vec::new(),
            flowints: Vec::new(),
            tags: Vec::new(),
            noalert: false,
            alert_on_pass: false,
            threshold: None,
            header_checks: Vec::new(),
            target: None,
            origin,
        };
        // Options are parsed even for an unsupported protocol so that grammar errors are
        // found; a grammar error wins over a support gap in the report.
        match (options::apply_options(&mut sig, opts), hdr.app_proto) {
            (Err(e), _) if !e.is_support_gap() => Err(e),
            (res, Some(app)) => {
                let mut e = ParseError::unsupported(&format!("protocol `{app}`"));
                if let Err(kw) = res {
                    kw.gaps.iter().for_each(|g| e.add_gap(g));
                }
                Err(e)
            }
            (Err(e), None) => Err(e),
            (Ok(()), None) => {
                // `tcp-pkt` is `tcp` with `flow:no_stream`.
                if packet_only && sig.flow.stream.is_none() {
                    sig.flow.stream = Some(false);
                }
                Ok(sig)
            }
        }
    }

    /// True for rules that look at nothing but addresses, protocol and set-only flowbits:
    /// Suricata's "IP-only" rules, which are tested once per flow direction.
    pub fn is_ip_only(&self) -> bool {
        self.payload.is_empty()
            && !self.transactional
            && self.buffers.is_empty()
            && self.app_proto.is_none()
            && self.dsize.is_none()
            && self.flow == FlowCond::default()
            && self.header_checks.is_empty()
            && self.src_ports.any
            && self.dst_ports.any
            && self.flowbits.iter().all(|f| f.cmd == FlowbitCmd::Set)
    }

    /// The content used for the multi-pattern prefilter, if any: the one marked
    /// `fast_pattern`, else the longest non-negated content (ties: the first).
    pub fn fast_pattern(&self) -> Option<(Buffer, &[Transform], &Content)> {
        // A list that may match by its buffer being absent cannot gate the rule.
        let lists = std::iter::once((Buffer::Payload, &[][..], &self.payload)).chain(
            self.buffers
                .iter()
                .filter(|l| l.absent.is_none())
                .map(|l| (l.buffer, l.transforms.as_slice(), &l.matches)),
        );
        let contents = lists.flat_map(|(b, t, list)| {
            list.iter().filter_map(move |m| match m {
                PayloadMatch::Content(c) if !c.negated => Some((b, t, c)),
                _ => None,
            })
        });
        let mut best: Option<(Buffer, &[Transform], &Content)> = None;
        for (b, t, c) in contents {
            if c.fast_pattern {
                return Some((b, t, c));
            }
            // (Only positive contents are here: a negated fast_pattern is skipped.)
            if best.is_none_or(|(_, _, x)| c.pattern.len() > x.pattern.len()) {
                best = Some((b, t, c));
            }
        }
        best
    }

    /// The inspection list of `buffer` (the payload list for [`Buffer::Payload`]).
    pub fn list(&self, buffer: Buffer) -> Option<&[PayloadMatch]> {
        match buffer {
            Buffer::Payload => Some(&self.payload),
            b => self.buffers.iter().find(|l| l.buffer == b).map(|l| l.matches.as_slice()),
        }
    }
}
