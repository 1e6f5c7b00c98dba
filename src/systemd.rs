//! systemd's service protocol (sd_notify(3)), for units of `Type=notify`: `READY=1` once
//! a daemon serves, `STATUS=` lines `systemctl status` shows, `STOPPING=1`, and
//! `WATCHDOG=1` pings while the daemon's own liveness check holds, so that systemd
//! restarts a daemon that hangs (`WatchdogSec=`).
//!
//! Spoken as datagrams to the socket `$NOTIFY_SOCKET` names (a path, or `@name` in the
//! abstract namespace). Without that variable (not run by systemd) nothing is sent.

use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// The notification socket of the service manager, if the process has one.
pub struct Notifier {
    target: Option<(UnixDatagram, SocketAddr)>,
}

fn socket_address(name: &str) -> Option<SocketAddr> {
    if let Some(abstract_name) = name.strip_prefix('@') {
        use std::os::linux::net::SocketAddrExt;
        SocketAddr::from_abstract_name(abstract_name.as_bytes()).ok()
    } else if name.starts_with('/') {
        SocketAddr::from_pathname(name).ok()
    } else {
        None
    }
}

impl Notifier {
    /// The socket `$NOTIFY_SOCKET` names; a notifier that sends nothing without it.
    pub fn from_env() -> Notifier {
        let target = std::env::var("NOTIFY_SOCKET")
            .ok()
            .and_then(|name| socket_address(&name))
            .and_then(|addr| UnixDatagram::unbound().ok().map(|s| (s, addr)))
            // A manager that does not read (a full queue) must never stop the daemon:
            // the message is dropped instead.
            .filter(|(s, _)| s.set_nonblocking(true).is_ok());
        Notifier { target }
    }

    /// Whether a service manager listens.
    pub fn active(&self) -> bool {
        self.target.is_some()
    }

    fn send(&self, message: &str) {
        if let Some((socket, addr)) = &self.target {
            // A manager that went away is not the daemon's failure: nothing to do.
            let _ = socket.send_to_addr(message.as_bytes(), addr);
        }
    }

    /// The daemon serves: systemd ends `systemctl start` and starts what waits for it.
    pub fn ready(&self, status: &str) {
        self.send(&format!("READY=1\nSTATUS={}", one_line(status)));
    }

    /// The daemon is stopping (after `SIGTERM`), flushing what it holds.
    pub fn stopping(&self) {
        self.send("STOPPING=1\nSTATUS=stopping");
    }

    /// When the unit has `WatchdogSec=`, a thread that pings systemd at half that
    /// interval as long as `alive()` holds, until `stop` is set; a daemon whose check
    /// fails stops pinging and is restarted by systemd. `None` without a watchdog.
    pub fn watchdog(
        self: &Arc<Self>,
        alive: impl Fn() -> bool + Send + 'static,
        stop: Arc<AtomicBool>,
    ) -> Option<JoinHandle<()>> {
        let interval = watchdog_interval()?;
        self.active().then_some(())?;
        let me = self.clone();
        std::thread::Builder::new()
            .name("watchdog".into())
            .spawn(move || {
                let step = Duration::from_millis(100).min(interval / 2);
                let mut waited = Duration::ZERO;
                while !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(step);
                    waited += step;
                    if waited >= interval / 2 {
                        waited = Duration::ZERO;
                        if alive() {
                            me.send("WATCHDOG=1");
                        }
                    }
                }
            })
            .ok()
    }
}

/// For the correlator and the console: makes `SIGHUP` reopen written files, tells the
/// service manager the daemon serves (`status`), pings its watchdog while the process
/// runs, and waits for `SIGINT`/`SIGTERM`; then says it is stopping.
pub fn serve_until_stopped(status: &str) -> anyhow::Result<()> {
    use anyhow::Context;
    gatewatch_rules::control::reopen_on_hangup()?;
    let mut signals = signal_hook::iterator::Signals::new([
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
    ])
    .context("cannot install the stop signal handlers")?;
    let notify = Arc::new(Notifier::from_env());
    let stop = Arc::new(AtomicBool::new(false));
    notify.ready(status);
    notify.watchdog(|| true, stop.clone());
    let _ = signals.forever().next();
    stop.store(true, Ordering::SeqCst);
    notify.stopping();
    Ok(())
}

/// `$WATCHDOG_USEC` when it is meant for this process (`$WATCHDOG_PID` unset or ours).
fn watchdog_interval() -> Option<Duration> {
    if let Ok(pid) = std::env::var("WATCHDOG_PID") {
        if pid.trim().parse::<u32>().ok() != Some(std::process::id()) {
            return None;
        }
    }
    let usec: u64 = std::env::var("WATCHDOG_USEC").ok()?.trim().parse().ok()?;
    (usec > 0).then(|| Duration::from_micros(usec))
}

fn one_line(s: &str) -> String {
    s.replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sends_ready_and_status_to_the_socket() {
        let dir = std::env::temp_dir().join(format!("gw-notify-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("notify");
        let listener = UnixDatagram::bind(&path).unwrap();
        listener.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let n = Notifier {
            target: Some((
                UnixDatagram::unbound().unwrap(),
                socket_address(path.to_str().unwrap()).unwrap(),
            )),
        };
        n.ready("capturing on eth1\nand eth2");
        let mut buf = [0u8; 256];
        let got = listener.recv(&mut buf).unwrap();
        assert_eq!(&buf[..got], b"READY=1\nSTATUS=capturing on eth1 and eth2");
        n.stopping();
        let got = listener.recv(&mut buf).unwrap();
        assert_eq!(&buf[..got], b"STOPPING=1\nSTATUS=stopping");
    }

    #[test]
    fn names_that_are_not_sockets_are_ignored() {
        assert!(socket_address("relative/path").is_none());
        assert!(socket_address("@gatewatch-test").is_some());
        let none = Arc::new(Notifier { target: None });
        assert!(none.watchdog(|| true, Arc::new(AtomicBool::new(true))).is_none());
    }
}
