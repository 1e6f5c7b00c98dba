//! Gatewatch as an operating system runs it: the Debian package (built from this test's
//! binary by `packaging/debian/build-deb`, installed with `dpkg -i`, its units checked
//! by `systemd-analyze verify`, the demo run by the installed binary as the `gatewatch`
//! user with the installed paths, then removed and purged), and the service protocol
//! of a daemon (`Type=notify`: ready, watchdog, stopping; `SIGHUP` does not end it).
//!
//! The package test needs root, dpkg and systemd-analyze, and installs the package on
//! the machine (CI's is thrown away): it says why and passes where it cannot run, and
//! does not touch a machine where a `gatewatch` package is already installed.

use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use super::common::{gatewatch, installed, Scratch};

fn sh(cmd: &str, args: &[&str]) -> Output {
    Command::new(cmd).args(args).output().unwrap_or_else(|e| panic!("{cmd} runs: {e}"))
}

fn ok(out: &Output, what: &str) -> String {
    let text =
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{what} failed: {text}");
    text
}

/// Why the package cannot be installed here, if it cannot.
fn cannot_install() -> Option<String> {
    let uid = sh("id", &["-u"]);
    if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
        return Some("not root".into());
    }
    for tool in ["dpkg", "dpkg-deb", "systemd-analyze", "runuser", "adduser", "ldd"] {
        if !installed(tool) {
            return Some(format!("`{tool}` is not installed"));
        }
    }
    let status = sh("dpkg-query", &["-W", "-f=${Status}", "gatewatch"]);
    if String::from_utf8_lossy(&status.stdout).contains("ok installed") {
        return Some("a gatewatch package is installed on this machine; not replacing it".into());
    }
    None
}

/// Removes the package if the test ends half-way (a failed assertion).
struct Installed;

impl Drop for Installed {
    fn drop(&mut self) {
        let _ = Command::new("dpkg").args(["--purge", "gatewatch"]).output();
    }
}

fn owner(path: &str) -> String {
    String::from_utf8_lossy(&sh("stat", &["-c", "%U:%G %a", path]).stdout).trim().to_string()
}

const UNITS: [&str; 3] =
    ["gatewatch-sensor@.service", "gatewatch-correlator.service", "gatewatch-console.service"];

#[test]
fn the_debian_package_installs_verifies_runs_the_demo_and_purges() {
    if let Some(why) = cannot_install() {
        eprintln!("skipping the package test: {why}");
        return;
    }
    let dir = Scratch::new("package");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(root.join("packaging/debian/build-deb"))
        .args(["--binary", env!("CARGO_BIN_EXE_gatewatch"), "--compress", "none", "--out"])
        .arg(&dir.0)
        .output()
        .expect("build-deb runs");
    let deb = PathBuf::from(ok(&out, "build-deb").trim());
    let info = ok(&sh("dpkg-deb", &["--info", &deb.to_string_lossy()]), "dpkg-deb --info");
    assert!(info.contains("Package: gatewatch") && info.contains("Depends: adduser"), "{info}");
    // libmagic names file types: its library is a dependency of the package.
    assert!(info.contains("libmagic1"), "{info}");
    let contents = ok(&sh("dpkg-deb", &["--contents", &deb.to_string_lossy()]), "contents");
    for file in
        ["./usr/bin/gatewatch", "./etc/gatewatch/sensor.toml", "./etc/logrotate.d/gatewatch"]
            .into_iter()
            .chain(UNITS.map(|u| format!("./lib/systemd/system/{u}")).iter().map(|s| s.as_str()))
    {
        assert!(contents.lines().any(|l| l.ends_with(file)), "{file} not in the package");
    }

    let _installed = Installed;
    ok(&sh("dpkg", &["-i", &deb.to_string_lossy()]), "dpkg -i");
    let user = ok(&sh("getent", &["passwd", "gatewatch"]), "the gatewatch user");
    assert!(user.contains(":/var/lib/gatewatch:/usr/sbin/nologin"), "{user}");
    assert_eq!(owner("/var/lib/gatewatch"), "gatewatch:gatewatch 750");
    assert_eq!(owner("/var/log/gatewatch"), "gatewatch:gatewatch 750");
    assert_eq!(owner("/etc/gatewatch/correlator.toml"), "root:gatewatch 640");

    // The units as systemd reads them: no warning at all (a wrong value is only a
    // warning to systemd-analyze), the template through an instance.
    let verify = sh(
        "systemd-analyze",
        &["verify", "gatewatch-sensor@eth1.service", "gatewatch-correlator.service"],
    );
    let said = ok(&verify, "systemd-analyze verify");
    assert!(said.trim().is_empty(), "systemd-analyze verify warns: {said}");
    let console = sh("systemd-analyze", &["verify", "gatewatch-console.service"]);
    let said = ok(&console, "systemd-analyze verify");
    assert!(said.trim().is_empty(), "systemd-analyze verify warns: {said}");
    let unit = std::fs::read_to_string("/lib/systemd/system/gatewatch-sensor@.service")
        .expect("the sensor unit");
    for line in ["Type=notify", "User=gatewatch", "AmbientCapabilities=CAP_NET_RAW CAP_NET_ADMIN"] {
        assert!(unit.lines().any(|l| l == line), "{line} not in the sensor unit");
    }
    for file in ["/etc/gatewatch/sensor.toml", "/etc/gatewatch/correlator.toml"] {
        ok(&sh("/usr/bin/gatewatch", &["config", "check", file]), "config check");
    }
    if installed("logrotate") {
        ok(&sh("logrotate", &["--debug", "/etc/logrotate.d/gatewatch"]), "logrotate --debug");
    }

    // The demo by the installed binary, as the service user, with the installed
    // configuration and folders (a store of its own: the demo starts from empty).
    let demo = Command::new("runuser")
        .args(["-u", "gatewatch", "--", "/usr/bin/gatewatch"])
        .args(["--config", "/etc/gatewatch/correlator.toml"])
        .args(["--set", "store.path=/var/lib/gatewatch/demo/demo.db"])
        .args(["demo", "--dir", "/var/lib/gatewatch/demo", "--no-console"])
        .current_dir("/var/lib/gatewatch")
        .stdin(Stdio::null())
        .output()
        .expect("runuser runs");
    let printed = ok(&demo, "the demo as gatewatch");
    assert!(printed.contains("SSH brute force"), "{printed}");
    assert!(printed.contains("/var/lib/gatewatch/reports/2026-10"), "{printed}");
    assert_eq!(owner("/var/lib/gatewatch/demo/demo.db"), "gatewatch:gatewatch 600");
    let reports = std::fs::read_dir("/var/lib/gatewatch/reports/2026-10").expect("reports").count();
    assert!(reports >= 6, "{reports} report files");

    // Removal keeps configuration and data; purge deletes them.
    ok(&sh("dpkg", &["--remove", "gatewatch"]), "dpkg --remove");
    assert!(!Path::new("/usr/bin/gatewatch").exists());
    assert!(Path::new("/etc/gatewatch/correlator.toml").exists(), "configuration kept");
    assert!(Path::new("/var/lib/gatewatch/demo/demo.db").exists(), "the store kept");
    ok(&sh("dpkg", &["--purge", "gatewatch"]), "dpkg --purge");
    for gone in ["/etc/gatewatch", "/var/lib/gatewatch", "/var/log/gatewatch"] {
        assert!(!Path::new(gone).exists(), "{gone} left after purge");
    }
}

/// The next notification that is not a watchdog ping, and the pings before it.
fn notice(socket: &UnixDatagram) -> (String, u32) {
    let mut buf = [0u8; 512];
    let mut pings = 0;
    loop {
        let n = socket.recv(&mut buf).expect("a notification within 10 s");
        let msg = String::from_utf8_lossy(&buf[..n]).into_owned();
        if msg != "WATCHDOG=1" {
            return (msg, pings);
        }
        pings += 1;
    }
}

/// `gatewatch console` under a service manager: `READY=1` with where it serves, watchdog
/// pings, `SIGHUP` (logrotate) does not end it, `SIGTERM` says `STOPPING=1` and it ends
/// cleanly.
#[test]
fn the_console_tells_the_service_manager_it_serves_and_stops() {
    let dir = Scratch::new("notify-console");
    std::fs::write(dir.path("gatewatch.toml"), "[store]\npath = \"store/gatewatch.db\"\n")
        .expect("config");
    let socket_path = dir.path("notify");
    let socket = UnixDatagram::bind(&socket_path).expect("notify socket");
    socket.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    let mut child = gatewatch()
        .args(["--config", "gatewatch.toml", "console", "--listen", "127.0.0.1:0"])
        .current_dir(&dir.0)
        .env("NOTIFY_SOCKET", &socket_path)
        .env("WATCHDOG_USEC", "300000")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("console starts");
    let (ready, _) = notice(&socket);
    assert!(ready.starts_with("READY=1\nSTATUS=console on https://127.0.0.1:"), "{ready}");
    let pid = child.id().to_string();
    let _ = Command::new("kill").args(["-HUP", &pid]).status();
    std::thread::sleep(Duration::from_millis(700));
    assert!(child.try_wait().expect("status").is_none(), "SIGHUP ended the console");
    let _ = Command::new("kill").args(["-TERM", &pid]).status();
    let (stopping, pings) = notice(&socket);
    assert_eq!(stopping, "STOPPING=1\nSTATUS=stopping");
    assert!(pings >= 2, "{pings} watchdog pings in 0.7 s at 0.15 s");
    assert!(child.wait().expect("exit").success());
}
