//! What each keyword of a rule's option list means once parsed: numeric comparisons,
//! contents, pcre and byte operations, flow and flowbits conditions, thresholds, and
//! checks of packet headers. `options.rs` parses the list into these.

use super::ParseError;

/// A numeric comparison: `5`, `!5`, `<5`, `<=5`, `>5`, `>=5`, `5<>10` (exclusive).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NumCmp {
    Eq(u64),
    Ne(u64),
    Lt(u64),
    Le(u64),
    Gt(u64),
    Ge(u64),
    Range(u64, u64),
    /// `value & mask == want` (flags: the bits of `mask` set as in `want`).
    Mask(u64, u64),
}

impl NumCmp {
    pub fn parse(keyword: &str, s: &str, max: u64) -> Result<NumCmp, ParseError> {
        let s = s.trim();
        let bad = || ParseError::invalid(keyword, format!("invalid number `{s}`"));
        let num = |t: &str| -> Result<u64, ParseError> {
            let t = t.trim();
            let v = if let Some(h) = t.strip_prefix("0x") {
                u64::from_str_radix(h, 16).map_err(|_| bad())?
            } else {
                t.parse::<u64>().map_err(|_| bad())?
            };
            if v > max {
                return Err(ParseError::invalid(keyword, format!("`{t}` is larger than {max}")));
            }
            Ok(v)
        };
        if let Some((a, b)) = s.split_once("<>") {
            let (a, b) = (num(a)?, num(b)?);
            if a >= b {
                return Err(ParseError::invalid(keyword, format!("empty range `{s}`")));
            }
            return Ok(NumCmp::Range(a, b));
        }
        if let Some((a, b)) = s.split_once('-').filter(|(a, _)| !a.trim().is_empty()) {
            // Suricata also accepts `min-max` for some keywords (inclusive).
            let (a, b) = (num(a)?, num(b)?);
            if a > b {
                return Err(ParseError::invalid(keyword, format!("empty range `{s}`")));
            }
            return Ok(NumCmp::Range(a.saturating_sub(1), b + 1));
        }
        Ok(if let Some(r) = s.strip_prefix("<=") {
            NumCmp::Le(num(r)?)
        } else if let Some(r) = s.strip_prefix(">=") {
            NumCmp::Ge(num(r)?)
        } else if let Some(r) = s.strip_prefix('<') {
            NumCmp::Lt(num(r)?)
        } else if let Some(r) = s.strip_prefix('>') {
            NumCmp::Gt(num(r)?)
        } else if let Some(r) = s.strip_prefix('!') {
            NumCmp::Ne(num(r)?)
        } else if let Some(r) = s.strip_prefix('=') {
            NumCmp::Eq(num(r)?)
        } else {
            NumCmp::Eq(num(s)?)
        })
    }

    /// The largest value that matches, if there is one.
    pub fn max(self) -> Option<u64> {
        match self {
            NumCmp::Eq(x) | NumCmp::Le(x) => Some(x),
            NumCmp::Lt(x) | NumCmp::Range(_, x) => Some(x.saturating_sub(1)),
            NumCmp::Ne(_) | NumCmp::Gt(_) | NumCmp::Ge(_) | NumCmp::Mask(..) => None,
        }
    }

    pub fn matches(self, v: u64) -> bool {
        match self {
            NumCmp::Eq(x) => v == x,
            NumCmp::Ne(x) => v != x,
            NumCmp::Lt(x) => v < x,
            NumCmp::Le(x) => v <= x,
            NumCmp::Gt(x) => v > x,
            NumCmp::Ge(x) => v >= x,
            NumCmp::Range(a, b) => v > a && v < b,
            NumCmp::Mask(mask, want) => v & mask == want,
        }
    }
}

/// `content` with its modifiers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Content {
    pub pattern: Vec<u8>,
    pub negated: bool,
    pub nocase: bool,
    pub offset: Option<u32>,
    pub depth: Option<u32>,
    pub distance: Option<i32>,
    pub within: Option<u32>,
    pub startswith: bool,
    pub endswith: bool,
    pub fast_pattern: bool,
    /// `fast_pattern:offset,length`: only this slice goes to the prefilter.
    pub fast_pattern_chop: Option<(u16, u16)>,
    /// Placement read from `byte_extract`/`byte_math` variables at inspection time;
    /// the numeric field of a placement given by a variable stays `None`.
    pub vars: PlacementVars,
}

/// The slots of the variables that give a content's `offset`, `depth`, `distance` or
/// `within` (`content:"x"; distance:len;`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PlacementVars {
    pub offset: Option<u8>,
    pub depth: Option<u8>,
    pub distance: Option<u8>,
    pub within: Option<u8>,
}

impl Content {
    /// Relative to the previous match (distance/within).
    pub fn is_relative(&self) -> bool {
        self.distance.is_some()
            || self.within.is_some()
            || self.vars.distance.is_some()
            || self.vars.within.is_some()
    }

    /// Its window is bounded on the right relative to the previous match.
    pub fn has_within(&self) -> bool {
        self.within.is_some() || self.vars.within.is_some()
    }

    /// The bytes given to the prefilter.
    pub fn prefilter_bytes(&self) -> &[u8] {
        match self.fast_pattern_chop {
            Some((off, len)) => {
                let off = (off as usize).min(self.pattern.len());
                let end = (off + len as usize).min(self.pattern.len());
                &self.pattern[off..end]
            }
            None => &self.pattern,
        }
    }
}

/// `pcre:"/re/flags"`.
#[derive(Debug)]
pub struct Pcre {
    pub regex: pcre2::bytes::Regex,
    pub negated: bool,
    pub relative: bool,
    pub source: String,
    /// The flow variable each capture group is stored in, by group (`flow:name`).
    pub captures: Vec<String>,
}

/// One payload inspection step, in rule order.
#[derive(Debug)]
pub enum PayloadMatch {
    Content(Content),
    Pcre(Pcre),
    IsDataAt {
        offset: Value,
        relative: bool,
        negated: bool,
    },
    /// The size of the whole buffer.
    Bsize(NumCmp),
    /// `entropy`: the Shannon entropy of (a window of) the buffer.
    Entropy(super::entropy::EntropyCheck),
    /// The buffer holds a decimal number that satisfies one of the comparisons
    /// (`dce_opnum:1,3-5`, `smb.version:2`).
    Number(Vec<NumCmp>),
    Byte(ByteOp),
    /// `base64_decode:[bytes N,][offset N,][relative]` and, in `data`, the inspections
    /// of `base64_data` on what it decoded (a terminal list: when it matches, the rule's
    /// list does).
    Base64Decode {
        bytes: u32,
        offset: u32,
        relative: bool,
        data: Vec<PayloadMatch>,
    },
    /// `dataset` / `datarep`: the whole buffer looked up in a named set.
    Dataset(crate::signature::dataset::DatasetMatch),
}

/// A number given literally or by a `byte_extract` variable (its slot).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Value {
    Num(i64),
    Var(u8),
}

/// How `byte_*` keywords read a number from the buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ByteRead {
    /// Bytes read (1–8 binary, 1–23 as a string; 0 as a string: the digits present).
    pub nbytes: u8,
    pub offset: Value,
    pub relative: bool,
    pub little_endian: bool,
    /// `string, hex|dec|oct`: the bytes are digits in that base.
    pub string_base: Option<u32>,
    pub bitmask: Option<u64>,
}

/// `byte_test`, `byte_jump` and `byte_extract`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ByteOp {
    Test {
        read: ByteRead,
        op: ByteCmp,
        negated: bool,
        value: Value,
    },
    Jump {
        read: ByteRead,
        multiplier: u64,
        align: bool,
        from_beginning: bool,
        from_end: bool,
        post_offset: i64,
    },
    Extract {
        read: ByteRead,
        multiplier: u64,
        align: bool,
        slot: u8,
    },
    /// `byte_math`: reads a number, applies `oper` with `rvalue`, stores the result in
    /// `slot`; `nbytes_var` gives the byte count from a variable.
    Math {
        read: ByteRead,
        nbytes_var: Option<u8>,
        oper: MathOp,
        rvalue: Value,
        slot: u8,
    },
}

/// The operators of `byte_math`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MathOp {
    Add,
    Sub,
    Mul,
    Div,
    Shl,
    Shr,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ByteCmp {
    Lt,
    Gt,
    Eq,
    Le,
    Ge,
    And,
    Xor,
}

impl PayloadMatch {
    pub fn is_relative(&self) -> bool {
        match self {
            PayloadMatch::Content(c) => c.is_relative(),
            PayloadMatch::Pcre(p) => p.relative,
            PayloadMatch::IsDataAt { relative, .. } => *relative,
            PayloadMatch::Bsize(_)
            | PayloadMatch::Number(_)
            | PayloadMatch::Dataset(_)
            | PayloadMatch::Entropy(_) => false,
            PayloadMatch::Base64Decode { relative, .. } => *relative,
            PayloadMatch::Byte(ByteOp::Test { read, .. })
            | PayloadMatch::Byte(ByteOp::Jump { read, .. })
            | PayloadMatch::Byte(ByteOp::Extract { read, .. })
            | PayloadMatch::Byte(ByteOp::Math { read, .. }) => read.relative,
        }
    }
}

/// Which side `stream_size` measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamSide {
    Client,
    Server,
    Both,
    Either,
}

/// `flow:` options.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FlowCond {
    /// Some(true): to_server/from_client; Some(false): to_client/from_server.
    pub to_server: Option<bool>,
    /// Some(true): established; Some(false): not_established.
    pub established: Option<bool>,
    pub stateless: bool,
    /// Some(true): only_frag; Some(false): no_frag.
    pub frag: Option<bool>,
    /// Some(true): only_stream; Some(false): no_stream.
    pub stream: Option<bool>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlowbitCmd {
    Set,
    Unset,
    Toggle,
    IsSet,
    IsNotSet,
}

/// `flowbits:cmd,name[|name...]`. For isset/isnotset several names are ORed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Flowbit {
    pub cmd: FlowbitCmd,
    pub names: Vec<String>,
}

/// Whose bit `hostbits`/`xbits` read or change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BitTarget {
    Src,
    Dst,
    /// `hostbits:...,both`: source and destination host.
    Both,
    /// `xbits:...,track ip_pair`: the (unordered) pair of hosts.
    Pair,
}

/// `hostbits:cmd,name[,src|dst|both][,expire N]` and
/// `xbits:cmd,name,track ip_src|ip_dst|ip_pair[,expire N]`: bits kept per host or
/// host pair, across flows, for `expire` seconds of capture time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostBit {
    pub cmd: FlowbitCmd,
    pub name: std::sync::Arc<str>,
    pub target: BitTarget,
    pub expire: u32,
}

/// What `flowint:name,op[,value]` does with a flow's integer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FlowIntOp {
    /// `+`, `-`, `=`: changes the value when the rule matches.
    Add(FlowIntValue),
    Sub(FlowIntValue),
    Set(FlowIntValue),
    /// `==`, `!=`, `<`, `<=`, `>`, `>=`: a condition; an unset variable never compares.
    Cmp(ByteCmp, bool, FlowIntValue),
    IsSet,
    IsNotSet,
}

/// A flowint operand: a number or another flow variable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FlowIntValue {
    Num(i64),
    Var(String),
}

/// `flowint:name,op[,value]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlowInt {
    pub name: String,
    pub op: FlowIntOp,
}

impl FlowInt {
    /// Changes the variable (as opposed to testing it).
    pub fn writes(&self) -> bool {
        matches!(self.op, FlowIntOp::Add(_) | FlowIntOp::Sub(_) | FlowIntOp::Set(_))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ThresholdKind {
    Limit,
    Threshold,
    Both,
    Backoff,
    DetectionFilter,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Track {
    BySrc,
    ByDst,
    ByRule,
    ByBoth,
    ByFlow,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Threshold {
    pub kind: ThresholdKind,
    pub track: Track,
    pub count: u32,
    pub seconds: u32,
    pub multiplier: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    SrcIp,
    DestIp,
}

/// Tests on packet headers that need no payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HeaderCheck {
    IcmpType(NumCmp),
    IcmpCode(NumCmp),
    IcmpId(u16),
    IcmpSeq(u16),
    Ttl(NumCmp),
    IpProto(NumCmp),
    IpId(u16),
    TcpSeq(u32),
    TcpAck(u32),
    TcpWindow {
        value: u16,
        negated: bool,
    },
    /// `flags`: `mask` bits are ignored; `mode` says how `flags` must relate.
    TcpFlags {
        flags: u8,
        mask: u8,
        mode: FlagMode,
    },
    /// `fragbits`: bits are R=0x4 (reserved), D=0x2 (don't fragment), M=0x1 (more fragments).
    FragBits {
        bits: u8,
        mode: FlagMode,
    },
    SameIp,
    /// `ipopts`: the IPv4 header carries this option (`None`: any option).
    IpOpt(Option<u8>),
    /// `stream_size`: the bytes a side of the TCP session sent (plus one for its SYN, as
    /// Suricata counts `next_seq - isn`).
    StreamSize {
        side: StreamSide,
        cmp: NumCmp,
    },
    /// `vlan.id`: the id of a VLAN layer (or of any, or of all).
    VlanId {
        cmp: NumCmp,
        layer: super::vlan::VlanLayer,
    },
    /// `vlan.layers`: the number of VLAN tags.
    VlanLayers(NumCmp),
    /// `ftpbounce`: the address of an FTP PORT command is not the client's (a bounce
    /// scan through the server).
    FtpBounce,
    /// `decode-event`, `stream-event`, `app-layer-event`: the packet carries this event
    /// (names lowercase, without the `decoder.`/`stream.` prefix).
    Event {
        kind: EventKind,
        name: String,
    },
    /// `filemd5`, `filesha1`, `filesha256`: a complete file's hash (the `buffer` the
    /// sensor fills) is in the list (not in it, `negated`).
    FileHash {
        buffer: super::Buffer,
        list: std::sync::Arc<HashList>,
        negated: bool,
    },
}

/// A list of file hashes read from a file: lowercase hex, one per line (anything after
/// the hash on a line, and `#` comments, ignored).
#[derive(PartialEq, Eq)]
pub struct HashList {
    pub path: String,
    pub hashes: std::collections::HashSet<Vec<u8>>,
}

impl std::fmt::Debug for HashList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HashList({}, {} hashes)", self.path, self.hashes.len())
    }
}

/// Who raised an event on a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// The packet decoders and IP defragmentation (`decode-event`).
    Decode,
    /// TCP stream tracking and reassembly (`stream-event`).
    Stream,
    /// An application-layer parser, or protocol detection (`app-layer-event`).
    AppLayer,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlagMode {
    /// Exactly these (after masking).
    Exact,
    /// At least these (`+`).
    All,
    /// Any of these (`*`).
    Any,
    /// None of these (`!`).
    Not,
}

impl FlagMode {
    pub fn matches(self, have: u8, want: u8) -> bool {
        match self {
            FlagMode::Exact => have == want,
            FlagMode::All => have & want == want,
            FlagMode::Any => have & want != 0 || want == 0,
            FlagMode::Not => have & want == 0,
        }
    }
}
