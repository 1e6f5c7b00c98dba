//! `gatewatch pki`: the CA and certificates it makes chain and carry what each role
//! needs; nothing is overwritten; bad requests say what is wrong.

use super::common::{run_in, Scratch};

#[test]
fn pki_init_and_issue_make_a_chain_and_refuse_what_is_wrong() {
    let dir = Scratch::new("pki");
    let ok = |args: &[&str]| {
        let out = run_in(&dir.0, args);
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    let fails = |args: &[&str], why: &str| {
        let out = run_in(&dir.0, args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains(why), "{args:?}: {err}");
    };
    fails(&["pki", "issue", "s1", "--role", "client"], "run `gatewatch pki init` first");
    ok(&["pki", "init", "--name", "Hue SOC CA"]);
    fails(&["pki", "init"], "exists");
    ok(&["pki", "issue", "hue-sensor-01", "--role", "client"]);
    ok(&[
        "pki",
        "issue",
        "correlator",
        "--role",
        "server",
        "--dns",
        "soc.hue.gov.vn",
        "--ip",
        "10.46.1.5",
    ]);
    fails(&["pki", "issue", "hue-sensor-01", "--role", "client"], "exists");
    fails(&["pki", "issue", "../escape", "--role", "client"], "use 1 to 64 letters");
    fails(&["pki", "issue", "web", "--role", "server"], "--dns NAME or --ip ADDRESS");
    use std::os::unix::fs::PermissionsExt;
    let mode =
        std::fs::metadata(dir.path("pki/hue-sensor-01.key")).expect("key").permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "keys are private");
    // Certificate and key pair up as an identity (`ship.rs` uses them for real mutual
    // TLS between a sensor and the correlator).
    let pem = |f: &str| std::fs::read(dir.path(&format!("pki/{f}"))).expect("pem");
    let ca = reqwest::Certificate::from_pem(&pem("ca.crt")).expect("ca");
    let id =
        reqwest::Identity::from_pem(&[pem("hue-sensor-01.crt"), pem("hue-sensor-01.key")].concat())
            .expect("client identity");
    reqwest::blocking::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(ca)
        .identity(id)
        .build()
        .expect("a client with the issued identity");
    let name = |f: &str| {
        let der = rustls::pki_types::pem::PemObject::from_pem_slice(&pem(f))
            .map(|d: rustls::pki_types::CertificateDer<'static>| d)
            .expect("der");
        gatewatch_correlator::server::tls::common_name(&der)
    };
    assert_eq!(name("hue-sensor-01.crt").as_deref(), Some("hue-sensor-01"));
    // Each client certificate carries its role (`client` is the sensor's old name).
    ok(&["pki", "issue", "wec01", "--role", "forwarder"]);
    ok(&["pki", "issue", "grafana", "--role", "reader"]);
    let unit = |f: &str| {
        let der = rustls::pki_types::pem::PemObject::from_pem_slice(&pem(f))
            .map(|d: rustls::pki_types::CertificateDer<'static>| d)
            .expect("der");
        gatewatch_correlator::server::tls::organizational_unit(&der)
    };
    assert_eq!(unit("hue-sensor-01.crt").as_deref(), Some("gatewatch-sensor"));
    assert_eq!(unit("wec01.crt").as_deref(), Some("gatewatch-forwarder"));
    assert_eq!(unit("grafana.crt").as_deref(), Some("gatewatch-reader"));
    assert_eq!(unit("correlator.crt"), None);
    assert_eq!(name("ca.crt").as_deref(), Some("Hue SOC CA"));
}
