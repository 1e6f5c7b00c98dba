//! One module per command.

pub mod blocks;
pub mod config_cmd;
pub mod console;
pub mod correlator;
pub mod dashboards;
pub mod demo;
pub mod incidents;
pub mod logs;
pub mod pki;
pub mod replay;
pub mod report;
pub mod rules;
pub mod sensor;

/// Writes a command's report to stdout. A reader that stops early (`| head`) is not an
/// error: the rest is dropped.
pub fn write_stdout(text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => r,
    }
}
