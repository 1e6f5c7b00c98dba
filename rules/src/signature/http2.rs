//! HTTP/2 names (RFC 9113) shared by the rule keywords (`http2.frametype:GOAWAY`,
//! matched without regard to case or `_`) and the sensor's EVE records, which write
//! error codes and settings as Suricata does.

/// Frame types by number (§6).
pub const FRAME_TYPES: [&str; 10] = [
    "DATA",
    "HEADERS",
    "PRIORITY",
    "RSTSTREAM",
    "SETTINGS",
    "PUSHPROMISE",
    "PING",
    "GOAWAY",
    "WINDOWUPDATE",
    "CONTINUATION",
];

/// Error codes by number (§7), as Suricata names them.
pub const ERROR_CODES: [&str; 14] = [
    "NoError",
    "ProtocolError",
    "InternalError",
    "FlowControlError",
    "SettingsTimeout",
    "StreamClosed",
    "FrameSizeError",
    "RefusedStream",
    "Cancel",
    "CompressionError",
    "ConnectError",
    "EnhanceYourCalm",
    "InadequateSecurity",
    "Http11Required",
];

/// Settings 1..=9 (§6.5.2 and later RFCs; 7 is unassigned), without `SETTINGS_` and `_`.
pub const SETTINGS: [&str; 9] = [
    "HEADERTABLESIZE",
    "ENABLEPUSH",
    "MAXCONCURRENTSTREAMS",
    "INITIALWINDOWSIZE",
    "MAXFRAMESIZE",
    "MAXHEADERLISTSIZE",
    "",
    "ENABLECONNECTPROTOCOL",
    "NORFC7540PRIORITIES",
];
