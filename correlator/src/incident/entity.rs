//! Which entity an alert is about: the internal asset attacked or compromised, else
//! the external source. Alerts about one entity group into one incident.
//!
//! In order:
//! 1. The correlator's own alerts about a sensor: the sensor (`sensor:NAME`).
//! 2. A correlation alert: the first address among the values it was grouped by
//!    (`group-by: src_ip` of a scan → the scanner; an alias of a kill chain → the
//!    host).
//! 3. A host-log alert (`proto` `LOG`) naming its computer: the computer
//!    (`host:NAME`, found in the inventory by its `names`), whatever address the log
//!    came from (a relay forwards many hosts' logs).
//! 4. An external source known as a *campaign* (a one-to-many correlation fired for
//!    it, see [`Campaigns`]): the source, so that its alerts against many hosts make
//!    one incident instead of one per host.
//! 5. The rule's `target` (Suricata's `target:` keyword), when internal.
//! 6. By zone: external → internal: the destination (attacked); internal → external:
//!    the source (compromised, calling out); internal → internal: the source for
//!    malicious code, command and control and exfiltration (the compromised host
//!    spreading), else the destination; external → external: the source.

use std::collections::HashMap;

use gatewatch_rules::event::AlertEvent;

use super::assets::{Asset, Inventory, Zone};
use super::attack::{Meaning, RsitClass};

/// Generator id of the correlator's alerts about sensors.
pub const GID_SENSOR_HEALTH: u32 = 9800;
/// Generator id of the automated response's alerts about itself (a blocking storm, an
/// action that failed): their entity is `response:WHAT` (the alert's `host`).
pub const GID_RESPONSE: u32 = 9801;

/// An alert the correlator raises about itself (a sensor down, a blocking storm):
/// `host` names what it is about (the entity is built from it), `ip` is its address
/// if it has one.
#[allow(clippy::too_many_arguments)]
pub fn own_alert(
    gid: u32,
    sid: u32,
    signature: String,
    category: &str,
    severity: u8,
    host: &str,
    ip: &str,
    now_us: i64,
) -> AlertEvent {
    AlertEvent {
        timestamp: gatewatch_rules::event::eve_timestamp(now_us),
        flow_id: None,
        pcap_cnt: None,
        event_type: "alert".into(),
        src_ip: ip.to_string(),
        src_port: None,
        dest_ip: ip.to_string(),
        dest_port: None,
        proto: "IP".into(),
        ip_v: None,
        icmp_type: None,
        icmp_code: None,
        pkt_src: None,
        in_iface: None,
        community_id: None,
        direction: None,
        alert: gatewatch_rules::event::AlertInfo {
            action: "allowed".into(),
            gid,
            signature_id: sid,
            rev: 1,
            signature,
            category: category.into(),
            severity,
            source: None,
            target: None,
            metadata: None,
            context: None,
        },
        app_proto: None,
        flow: None,
        app_metadata: Default::default(),
        host: Some(host.to_string()),
    }
}

/// The entity chosen for an alert, and the other end of the alert.
#[derive(Clone, Debug, PartialEq)]
pub struct Choice {
    /// An address, or `sensor:NAME`.
    pub entity: String,
    /// `asset`, `unknown_internal`, `external` or `sensor`.
    pub zone: &'static str,
    pub asset: Option<Asset>,
    /// The other address of the alert, its role (`source`/`target`), zone and agency.
    pub peer: Option<Peer>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Peer {
    pub ip: String,
    pub role: &'static str,
    pub zone: &'static str,
    pub agency: Option<String>,
}

impl Choice {
    fn address(ip: &str, zone: Zone<'_>) -> Choice {
        Choice {
            entity: ip.to_string(),
            zone: zone.name(),
            asset: zone.asset().cloned(),
            peer: None,
        }
    }

    fn with_peer(mut self, inv: &Inventory, ip: &str, role: &'static str) -> Choice {
        if ip != self.entity && !ip.is_empty() {
            let z = inv.zone(ip);
            self.peer = Some(Peer {
                ip: ip.to_string(),
                role,
                zone: z.name(),
                agency: z.asset().map(|a| a.agency_id.clone()),
            });
        }
        self
    }

    /// The entity as analysts read it: `10.46.10.20 (Sở Tài chính · Cổng thông tin)`,
    /// `host db01 (not in the inventory)`, `sensor hue-01`.
    pub fn label(&self) -> String {
        let name = match self.entity.split_once(':') {
            Some(("host", n)) => format!("host {n}"),
            Some(("sensor", n)) => return format!("sensor {n}"),
            Some(("response", n)) => return format!("automated response ({n})"),
            _ => self.entity.clone(),
        };
        match (&self.asset, self.zone) {
            (Some(a), _) if a.system.is_empty() => format!("{name} ({})", a.agency_name),
            (Some(a), _) => format!("{name} ({} · {})", a.agency_name, a.system),
            (None, "unknown_internal") => format!("{name} (internal, not in the inventory)"),
            (None, _) => format!("{name} (external)"),
        }
    }
}

/// The label of an entity (see [`Choice::label`]).
pub fn label_of(entity: &str, inv: &Inventory) -> String {
    let z = inv.zone_of_entity(entity);
    let zone = if entity.starts_with("sensor:") {
        "sensor"
    } else if entity.starts_with("response:") {
        "gatewatch"
    } else {
        z.name()
    };
    Choice { entity: entity.to_string(), zone, asset: z.asset().cloned(), peer: None }.label()
}

/// External sources for which a one-to-many correlation fired, until when (event
/// time, µs): their alerts group by source while the mark lasts.
#[derive(Clone, Debug, Default)]
pub struct Campaigns {
    until: HashMap<String, i64>,
}

impl Campaigns {
    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.until.is_empty()
    }

    pub fn mark(&mut self, src: &str, until_us: i64) {
        let e = self.until.entry(src.to_string()).or_insert(until_us);
        *e = (*e).max(until_us);
    }

    pub fn active(&self, src: &str, at_us: i64) -> bool {
        self.until.get(src).is_some_and(|&u| at_us <= u)
    }

    /// Forgets marks that ended before `now_us`.
    pub fn expire(&mut self, now_us: i64) {
        self.until.retain(|_, u| *u >= now_us);
    }
}

/// The first value of a correlation's group that is an address.
pub fn correlation_group_address(a: &AlertEvent) -> Option<String> {
    let group = a.alert.metadata.as_ref()?.get("sigma_group")?;
    group.iter().find_map(|kv| {
        let v = kv.split_once('=').map_or(kv.as_str(), |(_, v)| v);
        v.parse::<std::net::IpAddr>().is_ok().then(|| v.to_string())
    })
}

/// Chooses the entity of an alert (see the module's documentation).
pub fn choose(
    a: &AlertEvent,
    meaning: &Meaning,
    inv: &Inventory,
    campaigns: &Campaigns,
    at_us: i64,
) -> Choice {
    if a.alert.gid == GID_SENSOR_HEALTH {
        let name = a.host.clone().unwrap_or_else(|| a.src_ip.clone());
        return Choice {
            entity: format!("sensor:{name}"),
            zone: "sensor",
            asset: None,
            peer: None,
        };
    }
    if a.alert.gid == GID_RESPONSE {
        let what = a.host.clone().unwrap_or_else(|| "blocking".into());
        return Choice {
            entity: format!("response:{what}"),
            zone: "gatewatch",
            asset: None,
            peer: None,
        };
    }
    let (src, dst) = (a.src_ip.as_str(), a.dest_ip.as_str());
    if let Some(ip) = correlation_group_address(a) {
        let role_of_peer = if ip == src { (dst, "target") } else { (src, "source") };
        return Choice::address(&ip, inv.zone(&ip)).with_peer(inv, role_of_peer.0, role_of_peer.1);
    }
    if a.proto.eq_ignore_ascii_case("LOG") {
        if let Some(name) = a.host.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
            let entity = format!("host:{}", name.to_ascii_lowercase());
            let z = inv.zone_of_name(name);
            let c = Choice { entity, zone: z.name(), asset: z.asset().cloned(), peer: None };
            return c.with_peer(inv, src, "source");
        }
    }
    let (zs, zd) = (inv.zone(src), inv.zone(dst));
    if !zs.is_internal() && campaigns.active(src, at_us) {
        return Choice::address(src, zs).with_peer(inv, dst, "target");
    }
    if let Some(t) = &a.alert.target {
        let zt = inv.zone(&t.ip);
        if zt.is_internal() {
            let other = if t.ip == src { dst } else { src };
            return Choice::address(&t.ip, zt).with_peer(inv, other, "source");
        }
    }
    let compromise = matches!(meaning.rsit, Some(RsitClass::MaliciousCode))
        || meaning.tactics.iter().any(|t| t == "TA0011" || t == "TA0010");
    match (zs.is_internal(), zd.is_internal()) {
        (false, true) => Choice::address(dst, zd).with_peer(inv, src, "source"),
        (true, false) => Choice::address(src, zs).with_peer(inv, dst, "target"),
        (true, true) if compromise => Choice::address(src, zs).with_peer(inv, dst, "target"),
        (true, true) => Choice::address(dst, zd).with_peer(inv, src, "source"),
        (false, false) => Choice::address(src, zs).with_peer(inv, dst, "target"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::incident::attack::classify;

    fn inv() -> Inventory {
        Inventory::from_toml(
            r#"
            [[agencies]]
            id = "stc"
            name = "Sở Tài chính"
            [[assets]]
            address = "10.46.10.20"
            agency = "stc"
            system = "Cổng thông tin"
            security_level = 3
            "#,
            "t",
        )
        .unwrap()
    }

    pub(crate) fn alert(src: &str, dst: &str, category: &str) -> AlertEvent {
        serde_json::from_value(serde_json::json!({
            "timestamp": "2026-10-14T01:00:00.000000+0000", "event_type": "alert",
            "src_ip": src, "dest_ip": dst, "proto": "TCP",
            "alert": {"action": "allowed", "gid": 1, "signature_id": 1, "rev": 1,
                      "signature": "x", "category": category, "severity": 1}
        }))
        .unwrap()
    }

    fn pick(a: &AlertEvent, c: &Campaigns) -> Choice {
        choose(a, &classify(&a.alert.category, a.alert.metadata.as_ref()), &inv(), c, 0)
    }

    #[test]
    fn inbound_attacks_group_on_the_target_and_outbound_on_the_source() {
        let none = Campaigns::default();
        let c = pick(&alert("203.0.113.7", "10.46.10.20", "Web Application Attack"), &none);
        assert_eq!((c.entity.as_str(), c.zone), ("10.46.10.20", "asset"));
        assert_eq!(c.label(), "10.46.10.20 (Sở Tài chính · Cổng thông tin)");
        let p = c.peer.unwrap();
        assert_eq!((p.ip.as_str(), p.role, p.zone), ("203.0.113.7", "source", "external"));
        let c =
            pick(&alert("10.46.120.15", "198.51.100.200", "A Network Trojan was detected"), &none);
        assert_eq!((c.entity.as_str(), c.zone), ("10.46.120.15", "unknown_internal"));
        // Lateral: malware spreading is about its source, an attack about its target.
        let c = pick(&alert("10.46.120.15", "10.46.10.20", "A Network Trojan was detected"), &none);
        assert_eq!(c.entity, "10.46.120.15");
        let c = pick(&alert("10.46.120.15", "10.46.10.20", "Web Application Attack"), &none);
        assert_eq!(c.entity, "10.46.10.20");
        let c = pick(&alert("203.0.113.7", "198.51.100.1", "Misc Attack"), &none);
        assert_eq!(
            (c.entity.as_str(), c.label().as_str()),
            ("203.0.113.7", "203.0.113.7 (external)")
        );
    }

    #[test]
    fn campaigns_targets_sensors_and_correlations() {
        let mut camp = Campaigns::default();
        camp.mark("203.0.113.7", 10);
        let a = alert("203.0.113.7", "10.46.10.20", "Detection of a Network Scan");
        assert_eq!(pick(&a, &camp).entity, "203.0.113.7");
        assert!(!camp.active("203.0.113.7", 11));
        camp.expire(11);
        assert!(camp.is_empty());

        let mut t = alert("203.0.113.7", "10.46.10.20", "Misc Attack");
        t.alert.target =
            Some(gatewatch_rules::event::Endpoint { ip: "10.46.10.20".into(), port: None });
        assert_eq!(pick(&t, &Campaigns::default()).entity, "10.46.10.20");

        let mut s = alert("10.46.1.9", "10.46.1.9", "Sensor health");
        s.alert.gid = GID_SENSOR_HEALTH;
        s.host = Some("hue-01".into());
        let c = pick(&s, &Campaigns::default());
        assert_eq!(
            (c.entity.as_str(), c.zone, c.label().as_str()),
            ("sensor:hue-01", "sensor", "sensor hue-01")
        );

        let mut corr = alert("203.0.113.7", "10.46.10.20", "Sigma correlation");
        corr.alert.metadata =
            Some([("sigma_group".to_string(), vec!["src_ip=203.0.113.7".to_string()])].into());
        assert_eq!(pick(&corr, &Campaigns::default()).entity, "203.0.113.7");
    }
}
