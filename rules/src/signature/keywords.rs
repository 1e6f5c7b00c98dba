//! What each keyword of a rule's option list means once parsed: numeric comparisons,
//! contents, pcre and byte operations, flow and flowbits conditions, thresholds, and
//! checks of packet headers. `options.rs` parses the list into these.

use super::ParseError;

/// A numeric comparison: `5`, `!5`, `<5`, `<=5`, `>5`, `>=5`, `5<>10` (exclusive).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NumCmp {
    /// Equal to the value.
    Eq(u64),
    /// Not equal to the value (`!N`).
    Ne(u64),
    /// Less than (`<N`).
    Lt(u64),
    /// Less than or equal (`<=N`).
    Le(u64),
    /// Greater than (`>N`).
    Gt(u64),
    /// Greater than or equal (`>=N`).
    Ge(u64),
    /// Strictly between the two bounds (`A<>B`; `A-B` is stored widened by one on each side).
    Range(u64, u64),
    /// `value & mask == want` (flags: the bits of `mask` set as in `want`).
    Mask(u64, u64),
}

impl NumCmp {
    /// Parses the value of `keyword`; numbers above `max` are refused.
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

    pub(crate) fn matches(self, v: u64) -> bool {
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
    pub(crate) pattern: Vec<u8>,
    pub(crate) negated: bool,
    pub(crate) nocase: bool,
    /// `offset:N`: the match starts at or after byte N of the buffer.
    pub offset: Option<u32>,
    pub(crate) depth: Option<u32>,
    pub(crate) distance: Option<i32>,
    pub(crate) within: Option<u32>,
    pub(crate) startswith: bool,
    pub(crate) endswith: bool,
    pub(crate) fast_pattern: bool,
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
    /// The slot of the variable giving `offset`.
    pub offset: Option<u8>,
    pub(crate) depth: Option<u8>,
    pub(crate) distance: Option<u8>,
    pub(crate) within: Option<u8>,
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
    pub(crate) regex: pcre2::bytes::Regex,
    pub(crate) negated: bool,
    pub(crate) relative: bool,
    /// The pattern as written in the rule (for messages and the profile).
    pub source: String,
    /// The flow variable each capture group is stored in, by group (`flow:name`).
    pub captures: Vec<String>,
}

/// One payload inspection step, in rule order.
#[derive(Debug)]
pub enum PayloadMatch {
    /// `content`, with its modifiers.
    Content(Content),
    /// `pcre`.
    Pcre(Pcre),
    /// `isdataat:[!]N[,relative]`: there is (is not, `negated`) data at this offset.
    IsDataAt {
        /// The offset checked.
        offset: Value,
        /// Counted from the end of the previous match.
        relative: bool,
        /// `!`: there must be no data there.
        negated: bool,
    },
    /// The size of the whole buffer.
    Bsize(NumCmp),
    /// `entropy`: the Shannon entropy of (a window of) the buffer.
    Entropy(super::entropy::EntropyCheck),
    /// The buffer holds a decimal number that satisfies one of the comparisons
    /// (`dce_opnum:1,3-5`, `smb.version:2`).
    Number(Vec<NumCmp>),
    /// `byte_test`, `byte_jump`, `byte_extract`, `byte_math`.
    Byte(ByteOp),
    /// `base64_decode:[bytes N,][offset N,][relative]` and, in `data`, the inspections
    /// of `base64_data` on what it decoded (a terminal list: when it matches, the rule's
    /// list does).
    Base64Decode {
        /// Bytes to decode (0: all that remain).
        bytes: u32,
        /// Where decoding starts.
        offset: u32,
        /// `offset` counts from the end of the previous match.
        relative: bool,
        /// The `base64_data` inspections of the decoded bytes.
        data: Vec<PayloadMatch>,
    },
    /// `dataset` / `datarep`: the whole buffer looked up in a named set.
    Dataset(crate::signature::dataset::DatasetMatch),
}

/// A number given literally or by a `byte_extract` variable (its slot).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Value {
    /// A literal number.
    Num(i64),
    /// The slot of a `byte_extract`/`byte_math` variable.
    Var(u8),
}

/// How `byte_*` keywords read a number from the buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ByteRead {
    /// Bytes read (1–8 binary, 1–23 as a string; 0 as a string: the digits present).
    pub nbytes: u8,
    /// Where the number starts (relative to the previous match when `relative`).
    pub offset: Value,
    pub(crate) relative: bool,
    pub(crate) little_endian: bool,
    /// `string, hex|dec|oct`: the bytes are digits in that base.
    pub string_base: Option<u32>,
    pub(crate) bitmask: Option<u64>,
}

/// `byte_test`, `byte_jump` and `byte_extract`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ByteOp {
    /// `byte_test`: compares the number read with `value`.
    Test {
        /// How the number is read.
        read: ByteRead,
        /// The comparison.
        op: ByteCmp,
        /// `!`: the comparison must fail.
        negated: bool,
        /// What the number is compared with.
        value: Value,
    },
    /// `byte_jump`: moves the detection position by the number read.
    Jump {
        /// How the number is read.
        read: ByteRead,
        /// The number is multiplied by this.
        multiplier: u64,
        /// `align`: rounds the jump up to a multiple of 4.
        align: bool,
        /// `from_beginning`: jumps from the buffer's start, not the read position.
        from_beginning: bool,
        /// `from_end`: jumps from the buffer's end.
        from_end: bool,
        /// `post_offset`: added after the jump.
        post_offset: i64,
    },
    /// `byte_extract`: stores the number read in a variable.
    Extract {
        /// How the number is read.
        read: ByteRead,
        /// The number is multiplied by this.
        multiplier: u64,
        /// `align`: rounds up to a multiple of 4.
        align: bool,
        /// The variable's slot.
        slot: u8,
    },
    /// `byte_math`: reads a number, applies `oper` with `rvalue`, stores the result in
    /// `slot`; `nbytes_var` gives the byte count from a variable.
    Math {
        /// How the number is read.
        read: ByteRead,
        /// The slot of the variable giving the byte count, when `bytes` names one.
        nbytes_var: Option<u8>,
        /// The operator.
        oper: MathOp,
        /// The right operand.
        rvalue: Value,
        /// The slot the result is stored in.
        slot: u8,
    },
}

/// The operators of `byte_math`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MathOp {
    /// `+`.
    Add,
    /// `-`.
    Sub,
    /// `*`.
    Mul,
    /// `/` (a division by zero does not match).
    Div,
    /// `<<`.
    Shl,
    /// `>>`.
    Shr,
}

/// The comparisons of `byte_test` and `flowint`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ByteCmp {
    /// `<`.
    Lt,
    /// `>`.
    Gt,
    /// `=`.
    Eq,
    /// `<=`.
    Le,
    /// `>=`.
    Ge,
    /// `&`: any of the value's bits set.
    And,
    /// `^`: the number differs from the value.
    Xor,
}

impl PayloadMatch {
    pub(crate) fn is_relative(&self) -> bool {
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
    /// The client's bytes (`client`).
    Client,
    /// The server's bytes (`server`).
    Server,
    /// Both sides must satisfy the comparison (`both`).
    Both,
    /// Either side satisfies it (`either`).
    Either,
}

/// `flow:` options.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FlowCond {
    /// Some(true): to_server/from_client; Some(false): to_client/from_server.
    pub to_server: Option<bool>,
    /// Some(true): established; Some(false): not_established.
    pub established: Option<bool>,
    pub(crate) stateless: bool,
    /// Some(true): only_frag; Some(false): no_frag.
    pub frag: Option<bool>,
    /// Some(true): only_stream; Some(false): no_stream.
    pub stream: Option<bool>,
}

/// What a `flowbits` option does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlowbitCmd {
    /// `set`: sets the bits.
    Set,
    /// `unset`: clears them.
    Unset,
    /// `toggle`: flips them.
    Toggle,
    /// `isset`: a condition, true when set (any of `a|b`, all of `a&b`).
    IsSet,
    /// `isnotset`: a condition, true when not set.
    IsNotSet,
}

/// `flowbits:cmd,name[|name...]`. For isset/isnotset several names are ORed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Flowbit {
    pub(crate) cmd: FlowbitCmd,
    pub(crate) names: Vec<String>,
}

/// Whose bit `hostbits`/`xbits` read or change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BitTarget {
    /// The packet's source host.
    Src,
    /// The packet's destination host.
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
    pub(crate) cmd: FlowbitCmd,
    /// The bit's name.
    pub name: std::sync::Arc<str>,
    /// Whose bit it is.
    pub target: BitTarget,
    pub(crate) expire: u32,
}

/// What `flowint:name,op[,value]` does with a flow's integer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FlowIntOp {
    /// `+`, `-`, `=`: changes the value when the rule matches.
    Add(FlowIntValue),
    /// `-`: subtracts the value.
    Sub(FlowIntValue),
    /// `=`: sets the value.
    Set(FlowIntValue),
    /// `==`, `!=`, `<`, `<=`, `>`, `>=`: a condition; an unset variable never compares.
    Cmp(ByteCmp, bool, FlowIntValue),
    /// `isset`: the variable exists.
    IsSet,
    /// `notset`: the variable does not exist.
    IsNotSet,
}

/// A flowint operand: a number or another flow variable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FlowIntValue {
    /// A literal number.
    Num(i64),
    /// Another flow variable, by name.
    Var(String),
}

/// `flowint:name,op[,value]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlowInt {
    /// The variable's name.
    pub name: String,
    pub(crate) op: FlowIntOp,
}

impl FlowInt {
    /// Changes the variable (as opposed to testing it).
    pub fn writes(&self) -> bool {
        matches!(self.op, FlowIntOp::Add(_) | FlowIntOp::Sub(_) | FlowIntOp::Set(_))
    }
}

/// The `type` of a `threshold`/`detection_filter`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ThresholdKind {
    /// `limit`: alerts at most `count` times per period.
    Limit,
    /// `threshold`: alerts once every `count` matches.
    Threshold,
    /// `both`: once per period, at the `count`-th match.
    Both,
    /// `backoff`: alerts at the 1st, then every `count`×`multiplier`^n-th match.
    Backoff,
    /// `detection_filter`: alerts from the `count`-th match on, within the period.
    DetectionFilter,
}

/// What a threshold counts per (`track`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Track {
    /// `by_src`: per source address.
    BySrc,
    /// `by_dst`: per destination address.
    ByDst,
    /// `by_rule`: once for the rule.
    ByRule,
    /// `by_both`: per address pair.
    ByBoth,
    /// `by_flow`: per flow.
    ByFlow,
}

/// `threshold`, `detection_filter` (or a `threshold.config` entry): how often a matching rule alerts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Threshold {
    /// The type.
    pub kind: ThresholdKind,
    /// What is counted per.
    pub track: Track,
    /// The count.
    pub count: u32,
    /// The period, in seconds (capture time).
    pub seconds: u32,
    /// `backoff`'s multiplier.
    pub multiplier: u32,
}

/// `target:src_ip|dest_ip`: which side of the alert is the target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// The source is the target.
    SrcIp,
    /// The destination is the target.
    DestIp,
}

/// Tests on packet headers that need no payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HeaderCheck {
    /// `itype`.
    IcmpType(NumCmp),
    /// `icode`.
    IcmpCode(NumCmp),
    /// `icmp_id`.
    IcmpId(u16),
    /// `icmp_seq`.
    IcmpSeq(u16),
    /// `ttl`.
    Ttl(NumCmp),
    /// `ip_proto`.
    IpProto(NumCmp),
    /// `id`: the IPv4 identification.
    IpId(u16),
    /// `seq`.
    TcpSeq(u32),
    /// `ack`.
    TcpAck(u32),
    /// `window:[!]N`.
    TcpWindow {
        /// The window size.
        value: u16,
        /// `!`: any other size.
        negated: bool,
    },
    /// `flags`: `mask` bits are ignored; `mode` says how `flags` must relate.
    TcpFlags {
        /// The flags tested.
        flags: u8,
        /// Flags ignored.
        mask: u8,
        /// How `flags` must relate to the packet's.
        mode: FlagMode,
    },
    /// `fragbits`: bits are R=0x4 (reserved), D=0x2 (don't fragment), M=0x1 (more fragments).
    FragBits {
        /// The bits tested.
        bits: u8,
        /// How they must relate to the packet's.
        mode: FlagMode,
    },
    /// `sameip`: source and destination are the same address.
    SameIp,
    /// `ipopts`: the IPv4 header carries this option (`None`: any option).
    IpOpt(Option<u8>),
    /// `stream_size`: the bytes a side of the TCP session sent (plus one for its SYN, as
    /// Suricata counts `next_seq - isn`).
    StreamSize {
        /// Which side is measured.
        side: StreamSide,
        /// The comparison.
        cmp: NumCmp,
    },
    /// `vlan.id`: the id of a VLAN layer (or of any, or of all).
    VlanId {
        /// The comparison of the id.
        cmp: NumCmp,
        /// Which layer.
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
        /// The layer the event comes from.
        kind: EventKind,
        /// The event's name.
        name: String,
    },
    /// `filemd5`, `filesha1`, `filesha256`: a complete file's hash (the `buffer` the
    /// sensor fills) is in the list (not in it, `negated`).
    FileHash {
        /// The file hash buffer looked up.
        buffer: super::Buffer,
        /// The hashes.
        list: std::sync::Arc<HashList>,
        /// `!`: the hash must not be in the list.
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
