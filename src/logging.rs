//! The log of every command: `tracing` events from the libraries, written to standard
//! error as text on a terminal or as JSON lines (one object per event) when asked with
//! `--log-format json` or when systemd runs the command (its journal keeps the fields).
//!
//! What a command prints as its result (tables, a token's secret shown once, a report's
//! path) is output, not log: it goes to stdout or the terminal directly, never here.

use std::io::IsTerminal;
use std::str::FromStr;

use clap::ValueEnum;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::fmt::format::FmtSpan;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::prelude::*;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

/// How log lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// JSON under systemd (its journal stream is standard error), text otherwise.
    Auto,
    /// One readable line per event: time, level, where, message, fields.
    Text,
    /// One JSON object per line: `timestamp`, `level`, `target`, `message`, fields, spans.
    Json,
}

/// Installs the subscriber. `filter` is a level (`info`) or a list of `target=level`
/// directives after an optional default (`warn,gatewatch_correlator::elastic=debug`);
/// `GATEWATCH_LOG` in the environment replaces it.
pub fn init(format: LogFormat, filter: &str) -> anyhow::Result<()> {
    let filter = std::env::var("GATEWATCH_LOG").unwrap_or_else(|_| filter.to_string());
    // A bare word is a target to `Targets` (all its levels): `--log-level verbose` would
    // silently log nothing of Gatewatch's. Only levels stand alone.
    if let Some(word) = filter
        .split(',')
        .map(str::trim)
        .find(|d| !d.contains('=') && LevelFilter::from_str(d).is_err())
    {
        anyhow::bail!("--log-level `{filter}`: `{word}` is not a level (error, warn, info, debug, trace, off)");
    }
    let targets = Targets::from_str(&filter)
        .map_err(|e| anyhow::anyhow!("--log-level `{filter}`: {e} (a level such as `info`, or `warn,gatewatch_sensor=debug`)"))?;
    let json = match format {
        LogFormat::Json => true,
        LogFormat::Text => false,
        LogFormat::Auto => stderr_is_journal(),
    };
    let ansi = !json && std::io::stderr().is_terminal();
    tracing_subscriber::registry()
        .with(targets)
        .with(layer(json, ansi, std::io::stderr))
        .try_init()?;
    Ok(())
}

/// The writing layer: JSON objects with the event's fields at the top and its
/// innermost span (`span.name` and the span's fields: an interface, a peer), or text.
fn layer<S, W>(json: bool, ansi: bool, writer: W) -> Box<dyn Layer<S> + Send + Sync>
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    if json {
        tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .with_span_events(FmtSpan::NONE)
            .with_writer(writer)
            .boxed()
    } else {
        tracing_subscriber::fmt::layer().with_ansi(ansi).with_writer(writer).boxed()
    }
}

/// systemd's documented test: `JOURNAL_STREAM` names the device and inode of the
/// stream it connected to standard error; a redirected stderr no longer matches.
fn stderr_is_journal() -> bool {
    let Ok(v) = std::env::var("JOURNAL_STREAM") else { return false };
    let Some((dev, ino)) = v.split_once(':') else { return false };
    let (Ok(dev), Ok(ino)) = (dev.parse::<u64>(), ino.parse::<u64>()) else { return false };
    match rustix::fs::fstat(std::io::stderr()) {
        Ok(st) => st.st_dev == dev && st.st_ino == ino,
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Buffer {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("buffer").extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'w> MakeWriter<'w> for Buffer {
        type Writer = Buffer;
        fn make_writer(&'w self) -> Buffer {
            self.clone()
        }
    }

    fn logged(json: bool, filter: &str) -> String {
        let out = Buffer::default();
        let subscriber = tracing_subscriber::registry()
            .with(Targets::from_str(filter).expect("filter"))
            .with(layer(json, false, out.clone()));
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("capture", iface = "eth1");
            let _in = span.enter();
            tracing::warn!(failures = 3, "shipping to the correlator failed");
            tracing::debug!("a detail");
        });
        let bytes = out.0.lock().expect("buffer").clone();
        String::from_utf8(bytes).expect("utf-8")
    }

    #[test]
    fn json_lines_carry_level_target_fields_and_the_span() {
        let text = logged(true, "info");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 1, "the debug event is filtered out: {text}");
        let v: serde_json::Value = serde_json::from_str(lines[0]).expect("one JSON object");
        assert_eq!(v["level"], "WARN");
        assert_eq!(v["message"], "shipping to the correlator failed");
        assert_eq!(v["failures"], 3);
        assert_eq!(v["target"], "gatewatch::logging::tests");
        assert_eq!(v["span"]["name"], "capture");
        assert_eq!(v["span"]["iface"], "eth1");
        assert!(v["timestamp"].as_str().is_some_and(|t| t.ends_with('Z')), "{v}");
    }

    #[test]
    fn text_lines_name_the_level_span_and_message_and_filters_apply_per_target() {
        let text = logged(false, "info");
        assert!(text.contains("WARN"), "{text}");
        assert!(text.contains("capture{iface=\"eth1\"}"), "{text}");
        assert!(text.contains("shipping to the correlator failed failures=3"), "{text}");
        assert!(!text.contains("a detail"), "{text}");
        let debug = logged(false, "warn,gatewatch::logging=debug");
        assert!(debug.contains("a detail"), "{debug}");
        assert!(logged(false, "error").is_empty());
    }

    #[test]
    fn a_bad_filter_is_refused_with_what_is_expected() {
        let e = init(LogFormat::Text, "loud").expect_err("not a level");
        assert!(e.to_string().contains("--log-level `loud`"), "{e}");
    }
}
