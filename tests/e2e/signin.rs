//! Sign-in under attack (hardening finding 8): a burst of concurrent wrong passwords for
//! `admin` from one address checks at most the throttle's number of passwords, keeps
//! the console's memory bounded, and does not keep `admin` out from another address.

use reqwest::blocking::Client;
use reqwest::StatusCode;

use super::common::{peak_mib, Scratch};
use super::console::{client, demo_with_users, login, start_console};

#[test]
fn finding_8_a_sign_in_burst_is_throttled_before_any_password_is_checked() {
    let dir = Scratch::new("signin-burst");
    demo_with_users(&dir);
    let c = start_console(&dir);
    let before = peak_mib(c.child.id());
    // 500 attempts, 100 at a time, from 127.0.0.1.
    let answers: Vec<StatusCode> = std::thread::scope(|s| {
        let threads: Vec<_> = (0..100)
            .map(|_| {
                let (http, c) = (client(&c), &c);
                s.spawn(move || {
                    (0..5)
                        .map(|_| match login(&http, c, "admin", "a wrong password") {
                            Ok(_) => StatusCode::OK,
                            Err((st, _)) => st,
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        threads.into_iter().flat_map(|t| t.join().expect("attempts")).collect()
    });
    let count = |st: StatusCode| answers.iter().filter(|a| **a == st).count();
    // Five passwords were checked (the throttle's limit), every other attempt refused
    // before its password was looked at.
    assert_eq!(count(StatusCode::UNAUTHORIZED), 5, "{answers:?}");
    assert_eq!(count(StatusCode::TOO_MANY_REQUESTS), 495, "{answers:?}");
    let peak = peak_mib(c.child.id());
    eprintln!("console peak memory: {before:.0} MiB before, {peak:.0} MiB after the burst");
    assert!(peak < before + 256.0, "{peak:.0} MiB after, {before:.0} MiB before");
    // `admin` from another address signs in.
    let other = Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(c.ca.as_bytes()).expect("ca"))
        .local_address(std::net::IpAddr::from([127, 0, 0, 2]))
        .build()
        .expect("client");
    login(&other, &c, "admin", "admin's long password").expect("admin signs in from elsewhere");
    // From the throttled address too, once the lock expires; not before.
    let (st, _) = login(&client(&c), &c, "admin", "admin's long password").err().expect("locked");
    assert_eq!(st, StatusCode::TOO_MANY_REQUESTS);
}
