//! Host log events from JSON text, in one pass: a byte scanner follows strings and
//! brackets to find where each event ends, and each event is parsed once, when it is
//! complete. Reading a body is linear in its size whatever its layout (a large event
//! spread over many lines is not re-parsed line after line), bytes that are not UTF-8
//! spoil only the event they are in, and memory is bounded by [`MAX_EVENT_BYTES`].

use std::io::BufRead;

use serde_json::Value;

/// Largest event [`for_each_event`] accepts.
pub const MAX_EVENT_BYTES: usize = 4 << 20;

/// Reads host log events from JSON text in any of the accepted layouts: one object per
/// line (JSON lines), pretty-printed objects one after another (what `evtx_dump -o
/// json` writes), or arrays of objects, whose items are the events. Every event is
/// passed to `on_event`; what is not JSON, an event over [`MAX_EVENT_BYTES`] or one cut
/// short goes to `on_error` with its lines (`lines A-B: ...`), and reading goes on
/// after it. Only an I/O error stops the reading.
pub fn for_each_event<R: BufRead>(
    mut reader: R,
    mut on_event: impl FnMut(Value),
    mut on_error: impl FnMut(String),
) -> std::io::Result<()> {
    let mut scan = Scanner::default();
    let mut line = Vec::new();
    let mut line_no = 0usize;
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        line_no += 1;
        scan.line(&line, line_no, &mut on_event, &mut on_error);
    }
    if scan.open() {
        on_error(format!("lines {}-{line_no}: the text ends inside an event", scan.from));
    }
    Ok(())
}

#[derive(Default)]
struct Scanner {
    /// Brackets open, the top-level array's included.
    depth: usize,
    in_str: bool,
    escaped: bool,
    /// Inside a top-level array: its items are the events.
    in_array: bool,
    /// Skipping an array item that is not an object or array.
    scalar: bool,
    /// The bytes of the event being read.
    buf: Vec<u8>,
    /// The event being read passed [`MAX_EVENT_BYTES`]: its bytes are dropped.
    oversize: bool,
    /// The first line of the event (or array) being read.
    from: usize,
}

impl Scanner {
    /// Bracket depth at which no event is in progress.
    fn base(&self) -> usize {
        self.in_array as usize
    }

    /// An event or a top-level array is unfinished.
    fn open(&self) -> bool {
        self.depth > 0 || self.scalar
    }

    fn line(
        &mut self,
        line: &[u8],
        n: usize,
        on_event: &mut impl FnMut(Value),
        on_error: &mut impl FnMut(String),
    ) {
        // An object starting a line unindented while an event is unfinished: that event
        // was cut short (a truncated JSON line); the new one is read.
        if self.depth > self.base() && line.first() == Some(&b'{') {
            on_error(format!("lines {}-{}: the event is cut short", self.from, n - 1));
            self.reset();
        }
        for (i, &b) in line.iter().enumerate() {
            if self.depth > self.base() {
                self.in_event(b, n, on_event, on_error);
            } else if self.scalar {
                self.in_scalar(b);
            } else if !self.between(b, n, on_error) {
                // Not JSON: the rest of the line goes with the error.
                let rest = String::from_utf8_lossy(&line[i..]);
                let shown: String = rest.trim().chars().take(40).collect();
                on_error(format!("lines {n}-{n}: not JSON: `{shown}`"));
                return;
            }
        }
        // JSON strings hold no line break: a string open at the end of a line is broken.
        if self.in_str {
            on_error(format!("lines {}-{n}: a string runs past the end of the line", self.from));
            self.reset();
        }
    }

    /// A byte between events. False when it cannot start one.
    fn between(&mut self, b: u8, n: usize, on_error: &mut impl FnMut(String)) -> bool {
        match b {
            b' ' | b'\t' | b'\r' | b'\n' => {}
            b',' if self.in_array => {}
            b']' if self.in_array => {
                self.in_array = false;
                self.depth = 0;
            }
            b'[' if !self.in_array => {
                self.in_array = true;
                self.depth = 1;
                self.from = n;
            }
            b'{' | b'[' => {
                self.from = n;
                self.buf.clear();
                self.oversize = false;
                self.depth += 1;
                self.buf.push(b);
            }
            _ if self.in_array => {
                on_error(format!("lines {n}-{n}: an array item that is not an event"));
                self.scalar = true;
                self.in_scalar(b);
            }
            _ => return false,
        }
        true
    }

    /// A byte of an array item that is not an object: skipped to its end.
    fn in_scalar(&mut self, b: u8) {
        if self.in_str {
            self.string_byte(b);
        } else if b == b'"' {
            self.in_str = true;
        } else if b == b',' || b == b']' {
            self.scalar = false;
            if b == b']' {
                self.in_array = false;
                self.depth = 0;
            }
        }
    }

    fn string_byte(&mut self, b: u8) {
        if self.escaped {
            self.escaped = false;
        } else if b == b'\\' {
            self.escaped = true;
        } else if b == b'"' {
            self.in_str = false;
        }
    }

    /// A byte of the event being read.
    fn in_event(
        &mut self,
        b: u8,
        n: usize,
        on_event: &mut impl FnMut(Value),
        on_error: &mut impl FnMut(String),
    ) {
        if !self.oversize {
            self.buf.push(b);
            if self.buf.len() > MAX_EVENT_BYTES {
                self.oversize = true;
                self.buf = Vec::new();
            }
        }
        if self.in_str {
            self.string_byte(b);
            return;
        }
        match b {
            b'"' => self.in_str = true,
            b'{' | b'[' => self.depth += 1,
            b'}' | b']' => {
                self.depth -= 1;
                if self.depth == self.base() {
                    self.finish(n, on_event, on_error);
                }
            }
            _ => {}
        }
    }

    /// The event ends on line `n`.
    fn finish(
        &mut self,
        n: usize,
        on_event: &mut impl FnMut(Value),
        on_error: &mut impl FnMut(String),
    ) {
        let from = self.from;
        if self.oversize {
            on_error(format!(
                "lines {from}-{n}: event larger than {MAX_EVENT_BYTES} bytes, skipped"
            ));
        } else {
            match serde_json::from_slice::<Value>(&self.buf) {
                Ok(v) => on_event(v),
                Err(e) => on_error(format!("lines {from}-{n}: not JSON: {e}")),
            }
        }
        self.buf.clear();
        self.oversize = false;
    }

    /// Gives up on what is being read: the next byte starts afresh.
    fn reset(&mut self) {
        *self = Scanner { buf: std::mem::take(&mut self.buf), ..Scanner::default() };
        self.buf.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read(text: &[u8]) -> (Vec<Value>, Vec<String>) {
        let (mut events, mut errors) = (Vec::new(), Vec::new());
        for_each_event(text, |v| events.push(v), |e| errors.push(e)).expect("no I/O");
        (events, errors)
    }

    #[test]
    fn json_lines_pretty_objects_and_arrays_are_read_and_bad_text_is_skipped() {
        let (ev, err) = read(b"{\"a\":1}\n\n{\"a\":2}\n");
        assert_eq!((ev, err.len()), (vec![json!({"a":1}), json!({"a":2})], 0));

        let pretty = b"{\n  \"Event\": {\n    \"x\": 1\n  }\n}\n{\n  \"Event\": {\"x\": 2}\n}\n";
        let (ev, err) = read(pretty);
        assert_eq!(ev, vec![json!({"Event": {"x": 1}}), json!({"Event": {"x": 2}})]);
        assert!(err.is_empty());

        let (ev, err) = read(b"[{\"a\":1},\n{\"a\":2}]\n[\n  {\"a\": \"]\"},\n  {\"b\": [3]}\n]\n");
        assert_eq!(ev, vec![json!({"a":1}), json!({"a":2}), json!({"a":"]"}), json!({"b":[3]})]);
        assert!(err.is_empty(), "{err:?}");

        // A broken line is reported with its number; the events around it are kept.
        let (ev, err) = read(b"{\"a\":1}\n{\"a\": oops}\n{\"a\":3}\n");
        assert_eq!(ev, vec![json!({"a":1}), json!({"a":3})]);
        assert_eq!(err.len(), 1);
        assert!(err[0].starts_with("lines 2-2: not JSON"), "{err:?}");

        let (ev, err) = read(b"{\"a\":1}\n{\"a\": [1,\n");
        assert_eq!(ev.len(), 1);
        assert_eq!(err, vec!["lines 2-2: the text ends inside an event".to_string()]);

        // Text that is no JSON at all, and scalars in an array.
        let (ev, err) = read(b"hello\n[1, {\"a\":1}, \"x,]\"]\n{\"b\":2}\n");
        assert_eq!(ev, vec![json!({"a":1}), json!({"b":2})]);
        assert_eq!(err.len(), 3, "{err:?}");
        assert!(err[0].starts_with("lines 1-1: not JSON: `hello`"), "{err:?}");
    }

    /// Hardening finding 6: one byte that is not UTF-8 rejects the event it is in,
    /// named by its line, never the events after it.
    #[test]
    fn finding_6_a_bad_byte_rejects_only_its_event() {
        let mut body = Vec::new();
        for i in 0..1001 {
            if i == 10 {
                body.extend_from_slice(b"{\"msg\": \"caf\xe9\"}\n");
            } else {
                body.extend_from_slice(format!("{{\"n\": {i}}}\n").as_bytes());
            }
        }
        let (ev, err) = read(&body);
        assert_eq!(ev.len(), 1000);
        assert_eq!(err.len(), 1);
        assert!(err[0].starts_with("lines 11-11: not JSON"), "{err:?}");
    }

    /// Hardening finding 12: an event ending inside the body is named by its own lines;
    /// a JSON line cut short loses that line only.
    #[test]
    fn finding_12_errors_name_the_lines_of_their_event() {
        let text = b"{\"a\":1}\n{\n  \"b\": x\n}\n{\"c\": \"cut\n{\"d\":4}\n";
        let (ev, err) = read(text);
        assert_eq!(ev, vec![json!({"a":1}), json!({"d":4})]);
        assert!(err[0].starts_with("lines 2-4: not JSON"), "{err:?}");
        assert_eq!(err[1], "lines 5-5: a string runs past the end of the line");
        let (ev, err) = read(b"{\"a\": [1,\n{\"d\":4}\n");
        assert_eq!(
            (ev, err),
            (vec![json!({"d":4})], vec!["lines 1-1: the event is cut short".into()])
        );
    }

    /// Hardening finding 3: an event spread over many lines is parsed once; a body of
    /// many such lines is read in time linear in its size (counted in bytes scanned,
    /// not timed: the scanner looks at each byte once).
    #[test]
    fn finding_3_a_large_multi_line_event_is_read_whole() {
        let mut text = b"[\n".to_vec();
        for i in 0..20_000 {
            text.extend_from_slice(
                format!("  {{\"n\": {i}, \"pad\": \"{}\"}},\n", "x".repeat(8)).as_bytes(),
            );
        }
        text.extend_from_slice(b"  {\"last\": true}\n]\n");
        let (ev, err) = read(&text);
        assert_eq!((ev.len(), err.len()), (20_001, 0));
        // One object over 20,000 lines.
        let mut big = b"{\n".to_vec();
        for i in 0..20_000 {
            big.extend_from_slice(format!("  \"k{i}\": {i},\n").as_bytes());
        }
        big.extend_from_slice(b"  \"end\": 0\n}\n");
        let (ev, err) = read(&big);
        assert_eq!((ev.len(), err.len()), (1, 0));
        assert_eq!(ev[0]["k19999"], 19999);
    }

    #[test]
    fn an_event_over_the_limit_is_skipped_and_named() {
        let mut text = b"{\"a\":1}\n{\"big\": \"".to_vec();
        text.extend(std::iter::repeat_n(b'x', MAX_EVENT_BYTES + 10));
        text.extend_from_slice(b"\"}\n{\"b\":2}\n");
        let (ev, err) = read(&text);
        assert_eq!(ev, vec![json!({"a":1}), json!({"b":2})]);
        assert_eq!(
            err,
            vec![format!("lines 2-2: event larger than {MAX_EVENT_BYTES} bytes, skipped")]
        );
    }
}
