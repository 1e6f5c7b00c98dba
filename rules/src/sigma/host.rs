//! Host log events as Sigma rules see them.
//!
//! Windows events arrive in the shape of the `evtx` crate and of nxlog/winlogbeat JSON
//! (`Event.System…`, `Event.EventData…`, or `winlog.event_data…`); Sigma rules name
//! the fields flat (`EventID`, `Image`, `CommandLine`). [`flatten_windows`] lifts
//! `EventData` (and `UserData`'s inner object) to the top level beside `EventID`,
//! `Channel`, `Computer`, `Provider_Name` and the other `System` fields, and adds,
//! for field names with spaces (Defender writes `Threat Name`), the same name without
//! them (`ThreatName`), which is how SigmaHQ names them.
//!
//! Which rules an event is tested against follows from its logsource, found by
//! [`HostLogsources::source_of`] from the data file `rules/sigma/host-logsources.yml`
//! ([`HOST_LOGSOURCES`]): a Windows channel and event id, a syslog program, or the
//! event's own `logsource` object.

use std::borrow::Cow;
use std::collections::HashMap;

use serde_json::{Map, Value};

pub mod files;
mod reader;
pub use reader::{for_each_event, MAX_EVENT_BYTES};

/// The shipped map from Windows channels / event ids and syslog programs to Sigma
/// logsources.
pub const HOST_LOGSOURCES: &str = include_str!("../../sigma/host-logsources.yml");

/// The logsource of one host event, as far as it is known. `None` in a dimension
/// means unknown: rules naming that dimension are tested anyway (fail open).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EventSource {
    pub(crate) product: Option<String>,
    pub(crate) services: Option<Vec<String>>,
    /// `Some(vec![])`: known to belong to no category.
    pub categories: Option<Vec<String>>,
}

impl EventSource {
    /// Whether a rule of logsource (`product`, `category`, `service`) may match.
    pub fn admits(
        &self,
        product: Option<&str>,
        category: Option<&str>,
        service: Option<&str>,
    ) -> bool {
        let within = |want: Option<&str>, have: &Option<Vec<String>>| match (want, have) {
            (Some(w), Some(list)) => list.iter().any(|h| h.eq_ignore_ascii_case(w)),
            _ => true,
        };
        let product_ok = match (product, &self.product) {
            (Some(w), Some(h)) => w.eq_ignore_ascii_case(h),
            _ => true,
        };
        product_ok && within(category, &self.categories) && within(service, &self.services)
    }
}

/// The map of [`HOST_LOGSOURCES`], indexed for lookups per event.
#[derive(Clone, Debug, Default)]
pub struct HostLogsources {
    /// Lower-case channel → services.
    channel_services: HashMap<String, Vec<String>>,
    /// (lower-case channel, event id) → categories.
    categories: HashMap<(String, u64), Vec<String>>,
    /// Syslog program → services.
    programs: HashMap<String, Vec<String>>,
}

impl HostLogsources {
    /// Reads a logsource map (the format of `rules/sigma/host-logsources.yml`).
    pub fn parse(yaml: &str) -> Result<Self, super::SetupFileError> {
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Where {
            channel: String,
            event_ids: Vec<u64>,
        }
        #[derive(serde::Deserialize, Default)]
        #[serde(deny_unknown_fields)]
        struct Windows {
            #[serde(default)]
            services: HashMap<String, Vec<String>>,
            #[serde(default)]
            categories: HashMap<String, Vec<Where>>,
        }
        #[derive(serde::Deserialize, Default)]
        #[serde(deny_unknown_fields)]
        struct Linux {
            #[serde(default)]
            programs: HashMap<String, Vec<String>>,
        }
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct File {
            #[serde(default)]
            windows: Windows,
            #[serde(default)]
            linux: Linux,
        }
        let f: File = yaml_serde::from_str(yaml).map_err(|e| super::SetupFileError {
            what: "host logsources",
            message: e.to_string(),
        })?;
        let mut out = HostLogsources { programs: f.linux.programs, ..Default::default() };
        for (service, channels) in f.windows.services {
            for ch in channels {
                out.channel_services.entry(ch.to_lowercase()).or_default().push(service.clone());
            }
        }
        for (category, places) in f.windows.categories {
            for w in places {
                for id in w.event_ids {
                    out.categories
                        .entry((w.channel.to_lowercase(), id))
                        .or_default()
                        .push(category.clone());
                }
            }
        }
        Ok(out)
    }

    /// The logsource of a flat event (see [`flatten_windows`]).
    pub fn source_of(&self, flat: &Value) -> EventSource {
        let list = |v: Option<&Value>| v.and_then(Value::as_str).map(|s| vec![s.to_string()]);
        if let Some(ls) = flat.get("logsource").filter(|v| v.is_object()) {
            return EventSource {
                product: ls.get("product").and_then(Value::as_str).map(str::to_string),
                services: list(ls.get("service")),
                categories: list(ls.get("category")),
            };
        }
        if let Some(channel) = flat.get("Channel").and_then(Value::as_str) {
            let ch = channel.to_lowercase();
            let services = self.channel_services.get(&ch).cloned();
            let id = match flat.get("EventID") {
                Some(Value::Number(n)) => n.as_u64(),
                Some(Value::String(s)) => s.trim().parse().ok(),
                _ => None,
            };
            let categories = match (services.is_some(), id) {
                (true, Some(id)) => {
                    Some(self.categories.get(&(ch, id)).cloned().unwrap_or_default())
                }
                _ => None,
            };
            return EventSource { product: Some("windows".into()), services, categories };
        }
        if let Some(program) = flat.get("program").and_then(Value::as_str) {
            let services = self.programs.get(program).cloned();
            let categories = services.as_ref().map(|_| Vec::new());
            return EventSource { product: Some("linux".into()), services, categories };
        }
        EventSource::default()
    }
}

/// A flat event for Sigma from a Windows event in one of the accepted shapes; other
/// JSON objects are returned as they are.
pub fn flatten_windows(v: &Value) -> Cow<'_, Value> {
    let (system, data) = if let Some(ev) = v.get("Event") {
        (ev.get("System"), ev.get("EventData").or_else(|| user_data(ev)))
    } else if let Some(w) = v.get("winlog") {
        (None, w.get("event_data"))
    } else {
        return with_process_aliases(Cow::Borrowed(v));
    };
    let mut out = Map::new();
    if let Some(Value::Object(sys)) = system {
        for (k, val) in sys {
            match (k.as_str(), val) {
                ("Provider", p) => {
                    if let Some(name) = p.pointer("/#attributes/Name").or_else(|| p.get("Name")) {
                        out.insert("Provider_Name".into(), name.clone());
                    }
                }
                ("EventID", Value::Object(o)) => {
                    // `{"#text": 4624, "#attributes": {"Qualifiers": …}}`
                    if let Some(t) = o.get("#text") {
                        out.insert("EventID".into(), t.clone());
                    }
                }
                (_, Value::Object(o)) => {
                    if let Some(Value::Object(attrs)) = o.get("#attributes") {
                        for (ak, av) in attrs {
                            out.insert(ak.clone(), av.clone());
                        }
                    }
                }
                (k, val) => {
                    out.insert(k.to_string(), val.clone());
                }
            }
        }
    }
    if let Some(w) = v.get("winlog") {
        for (k, name) in [
            ("event_id", "EventID"),
            ("channel", "Channel"),
            ("computer_name", "Computer"),
            ("provider_name", "Provider_Name"),
        ] {
            if let Some(x) = w.get(k) {
                out.insert(name.into(), x.clone());
            }
        }
    }
    if let Some(Value::Object(d)) = data {
        for (k, val) in d {
            if k == "#attributes" {
                continue;
            }
            out.insert(k.clone(), val.clone());
            if k.contains(' ') {
                out.entry(k.replace(' ', "")).or_insert_with(|| val.clone());
            }
        }
    }
    with_process_aliases(Cow::Owned(Value::Object(out)))
}

/// Security 4688 is process creation under other names; Sigma's process_creation rules
/// use Sysmon's (`Image`, `ParentImage`), which are added beside them.
fn with_process_aliases(ev: Cow<'_, Value>) -> Cow<'_, Value> {
    let is_4688 = ev.get("EventID").is_some_and(|v| v == 4688 || v == "4688")
        && ev
            .get("Channel")
            .and_then(Value::as_str)
            .is_some_and(|c| c.eq_ignore_ascii_case("Security"))
        && ev.get("Image").is_none();
    if !is_4688 {
        return ev;
    }
    let mut ev = ev.into_owned();
    if let Value::Object(out) = &mut ev {
        for (from, to) in [("NewProcessName", "Image"), ("ParentProcessName", "ParentImage")] {
            if let Some(v) = out.get(from).cloned() {
                out.entry(to).or_insert(v);
            }
        }
    }
    Cow::Owned(ev)
}

/// `UserData` holds one object named after the event's schema; its fields are the data.
fn user_data(ev: &Value) -> Option<&Value> {
    match ev.get("UserData") {
        Some(Value::Object(o)) if o.len() == 1 => o.values().next(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn evtx_shape_is_flattened_with_space_free_aliases() {
        let v = json!({"Event": {"#attributes": {"xmlns": "x"},
            "System": {"Provider": {"#attributes": {"Name": "Microsoft-Windows-Windows Defender"}},
                       "EventID": 1119, "Channel": "Microsoft-Windows-Windows Defender/Operational",
                       "Execution": {"#attributes": {"ProcessID": 4}}, "Computer": "pc1"},
            "EventData": {"Threat Name": "Virus:DOS/EICAR_Test_File", "Path": "C:\\x"}}});
        let f = flatten_windows(&v);
        assert_eq!(f["EventID"], 1119);
        assert_eq!(f["Provider_Name"], "Microsoft-Windows-Windows Defender");
        assert_eq!(f["ProcessID"], 4);
        assert_eq!(f["ThreatName"], "Virus:DOS/EICAR_Test_File");
        assert_eq!(f["Threat Name"], "Virus:DOS/EICAR_Test_File");
        assert_eq!(f["Computer"], "pc1");
    }

    #[test]
    fn winlogbeat_and_user_data_shapes() {
        let v = json!({"winlog": {"event_id": 4688, "channel": "Security",
            "event_data": {"NewProcessName": "C:\\w.exe"}}});
        let f = flatten_windows(&v);
        assert_eq!(
            (f["EventID"].clone(), f["NewProcessName"].clone()),
            (json!(4688), json!("C:\\w.exe"))
        );
        let v = json!({"Event": {"System": {"EventID": {"#text": 1102, "#attributes": {"Qualifiers": 0}}},
            "UserData": {"LogFileCleared": {"SubjectUserName": "bob"}}}});
        let f = flatten_windows(&v);
        assert_eq!(
            (f["EventID"].clone(), f["SubjectUserName"].clone()),
            (json!(1102), json!("bob"))
        );
        let plain = json!({"a": 1});
        assert!(matches!(flatten_windows(&plain), Cow::Borrowed(p) if *p == plain));
    }

    #[test]
    fn logsources_from_channel_event_id_program_or_the_event_itself() {
        let map = HostLogsources::parse(HOST_LOGSOURCES).expect("shipped map parses");
        let sysmon1 = json!({"Channel": "Microsoft-Windows-Sysmon/Operational", "EventID": 1});
        let s = map.source_of(&sysmon1);
        assert_eq!(s.product.as_deref(), Some("windows"));
        assert_eq!(s.services, Some(vec!["sysmon".to_string()]));
        assert_eq!(s.categories, Some(vec!["process_creation".to_string()]));
        assert!(s.admits(Some("windows"), Some("process_creation"), None));
        assert!(s.admits(Some("windows"), None, Some("sysmon")));
        assert!(!s.admits(Some("windows"), Some("image_load"), None));
        assert!(!s.admits(Some("windows"), None, Some("security")));
        assert!(!s.admits(Some("linux"), None, None));
        assert!(s.admits(None, None, None));

        // A Security logon has no category: category rules are not tested on it.
        let logon = json!({"Channel": "Security", "EventID": "4624"});
        let s = map.source_of(&logon);
        assert_eq!(s.categories, Some(vec![]));
        assert!(s.admits(Some("windows"), None, Some("security")));
        assert!(!s.admits(Some("windows"), Some("process_creation"), None));

        // Registry value set is both registry_set and registry_event.
        let reg = map
            .source_of(&json!({"Channel": "Microsoft-Windows-Sysmon/Operational", "EventID": 13}));
        assert!(reg.admits(Some("windows"), Some("registry_set"), None));
        assert!(reg.admits(Some("windows"), Some("registry_event"), None));
        assert!(!reg.admits(Some("windows"), Some("registry_add"), None));

        // An unknown channel is tested against every Windows rule.
        let odd = map.source_of(&json!({"Channel": "Vendor/Odd", "EventID": 7}));
        assert!(odd.admits(Some("windows"), Some("process_creation"), Some("security")));

        let ssh = map.source_of(&json!({"program": "sshd", "message": "Failed password"}));
        assert!(ssh.admits(Some("linux"), None, Some("auth")));
        assert!(!ssh.admits(Some("linux"), None, Some("auditd")));
        assert!(!ssh.admits(Some("windows"), None, None));

        let own = map
            .source_of(&json!({"logsource": {"product": "linux", "category": "process_creation"}}));
        assert!(own.admits(Some("linux"), Some("process_creation"), None));
        assert!(!own.admits(Some("linux"), Some("file_event"), None));
    }

    #[test]
    fn security_4688_gets_sysmon_process_names() {
        let v = json!({"Event": {"System": {"EventID": 4688, "Channel": "Security"},
            "EventData": {"NewProcessName": "C:\\x.exe", "ParentProcessName": "C:\\p.exe"}}});
        let f = flatten_windows(&v);
        assert_eq!(
            (f["Image"].clone(), f["ParentImage"].clone()),
            (json!("C:\\x.exe"), json!("C:\\p.exe"))
        );
        let flat = json!({"EventID": 4688, "Channel": "Security", "NewProcessName": "C:\\y.exe"});
        assert_eq!(flatten_windows(&flat)["Image"], "C:\\y.exe");
    }
}
