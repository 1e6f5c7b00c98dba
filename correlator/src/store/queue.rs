//! The queue's questions: which incidents a list shows ([`IncidentFilter`], turned into
//! SQL conditions) and in what order ([`IncidentOrder`]).

/// Which incidents a list shows.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct IncidentFilter {
    /// Any of these statuses; empty: any.
    pub status: Vec<String>,
    /// The agency id, from the asset inventory.
    pub agency: Option<String>,
    /// The incident's entity exactly (`src:10.1.2.3`).
    pub entity: Option<String>,
    /// The address as the entity or any host of the incident.
    pub host: Option<String>,
    /// Any of these severity words (`critical`, `high`, `medium`, `low`); empty: any.
    pub severity: Vec<String>,
    /// Assigned to this user (`-`: to nobody).
    pub assignee: Option<String>,
    /// A risk score at least this.
    pub min_score: Option<u32>,
    /// An ATT&CK tactic among the incident's (`TA0001`).
    pub tactic: Option<String>,
    /// Active in [since, until): last seen at or after `since`, first seen before `until` (µs).
    pub since_us: Option<i64>,
    /// End of the period (exclusive, µs).
    pub until_us: Option<i64>,
    /// Words, each in the title, the entity's address, or an observable of the
    /// incident's alerts and records (an address, domain, URL, file name or hash, mail
    /// address, user name) exactly.
    pub text: Option<String>,
    /// Only open incidents past a handling deadline.
    pub overdue: Option<Overdue>,
    /// Only incidents with an alert to this destination port.
    pub port: Option<u16>,
    /// Only incidents with an alert of this rule (`gid`, `sid`).
    pub rule: Option<(u32, u32)>,
    /// The asset inventory's system of the incident's entity.
    pub system: Option<String>,
    /// An ATT&CK technique among the incident's (`T1071`).
    pub technique: Option<String>,
    /// Also incidents merged into another.
    pub include_merged: bool,
    /// The order (most recently active first by default).
    pub order: IncidentOrder,
    /// The order's other way round.
    pub reverse: bool,
    /// At most this many.
    pub limit: usize,
    /// Skip this many (paging).
    pub offset: usize,
}

/// The handling deadlines at a clock: an open incident is overdue when it was created
/// longer ago than a deadline allows and has not reached it (acknowledged, resolved).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Overdue {
    /// The clock (µs).
    pub now_us: i64,
    /// The shortest deadline to acknowledge (µs), if one is set.
    pub acknowledge_us: Option<i64>,
    /// The shortest deadline to resolve (µs), if one is set.
    pub resolve_us: Option<i64>,
}

impl Overdue {
    /// A condition true for an overdue incident (its status is tested apart), with
    /// placeholders numbered from `first`, and their values.
    pub(super) fn sql(&self, first: usize) -> (String, Vec<i64>) {
        let mut terms = Vec::new();
        let mut args = Vec::new();
        if let Some(a) = self.acknowledge_us {
            args.push(self.now_us.saturating_sub(a));
            terms.push(format!(
                "(acknowledged_us IS NULL AND created_us < ?{})",
                first + args.len() - 1
            ));
        }
        if let Some(r) = self.resolve_us {
            args.push(self.now_us.saturating_sub(r));
            terms.push(format!("created_us < ?{}", first + args.len() - 1));
        }
        if terms.is_empty() {
            return ("0".into(), args);
        }
        (format!("({})", terms.join(" OR ")), args)
    }
}

use rusqlite::types::Value as V;

/// Appends `clause` whose one `?` is `v`, numbered after the arguments already there.
fn arg(sql: &mut String, args: &mut Vec<V>, clause: &str, v: V) {
    args.push(v);
    sql.push_str(&clause.replace('?', &format!("?{}", args.len())));
}

/// The conditions the overview's links set: overdue, destination port, rule, system,
/// ATT&CK technique.
fn linked_filters(f: &IncidentFilter, sql: &mut String, args: &mut Vec<V>) {
    if let Some(o) = &f.overdue {
        let (cond, values) = o.sql(args.len() + 1);
        sql.push_str(&format!(" AND status IN ('new', 'acknowledged', 'in_progress') AND {cond}"));
        args.extend(values.into_iter().map(V::Integer));
    }
    if let Some(p) = f.port {
        arg(
            sql,
            args,
            " AND EXISTS (SELECT 1 FROM alerts a WHERE a.incident_id = incidents.id AND a.dest_port = ?)",
            V::Integer(p as i64),
        );
    }
    if let Some((gid, sid)) = f.rule {
        arg(
            sql,
            args,
            " AND EXISTS (SELECT 1 FROM incident_rules r WHERE r.incident_id = incidents.id AND r.gid = ?",
            V::Integer(gid as i64),
        );
        arg(sql, args, " AND r.sid = ?)", V::Integer(sid as i64));
    }
    if let Some(s) = &f.system {
        arg(sql, args, " AND system = ?", V::Text(s.clone()));
    }
    if let Some(t) = &f.technique {
        arg(sql, args, " AND instr(techniques, ?) > 0", V::Text(format!("\"{t}\"")));
    }
}

/// The `AND …` conditions of an incident filter and their arguments (numbered from 1).
pub(super) fn incident_where(f: &IncidentFilter) -> (String, Vec<V>) {
    let mut sql = String::new();
    let mut args: Vec<V> = Vec::new();
    if !f.include_merged {
        sql.push_str(" AND merged_into IS NULL");
    }
    if !f.status.is_empty() {
        sql.push_str(" AND status IN (");
        for (i, s) in f.status.iter().enumerate() {
            if i > 0 {
                sql.push(',');
            }
            arg(&mut sql, &mut args, "?", V::Text(s.clone()));
        }
        sql.push(')');
    }
    if !f.severity.is_empty() {
        // Severity words are score bands (see `incident::score`).
        sql.push_str(" AND (0");
        for w in &f.severity {
            let (lo, hi) = crate::domain::severity::band_of(w).unwrap_or((1, 0));
            arg(&mut sql, &mut args, " OR score BETWEEN ?", V::Integer(lo as i64));
            arg(&mut sql, &mut args, " AND ?", V::Integer(hi as i64));
        }
        sql.push(')');
    }
    if let Some(a) = &f.agency {
        arg(&mut sql, &mut args, " AND agency = ?", V::Text(a.clone()));
    }
    if let Some(e) = &f.entity {
        arg(&mut sql, &mut args, " AND entity = ?", V::Text(e.clone()));
    }
    if let Some(h) = &f.host {
        arg(
            &mut sql,
            &mut args,
            " AND (entity = ? OR id IN (SELECT incident_id FROM incident_hosts WHERE ip = ?))",
            V::Text(h.clone()),
        );
    }
    if let Some(m) = f.min_score {
        arg(&mut sql, &mut args, " AND score >= ?", V::Integer(m as i64));
    }
    if let Some(t) = &f.tactic {
        arg(&mut sql, &mut args, " AND instr(tactics, ?) > 0", V::Text(format!("\"{t}\"")));
    }
    linked_filters(f, &mut sql, &mut args);
    if let Some(a) = &f.assignee {
        arg(&mut sql, &mut args, " AND assignee = ?", V::Text(a.clone()));
    }
    if let Some(s) = f.since_us {
        arg(&mut sql, &mut args, " AND last_seen_us >= ?", V::Integer(s));
    }
    if let Some(u) = f.until_us {
        arg(&mut sql, &mut args, " AND first_seen_us < ?", V::Integer(u));
    }
    if let Some(t) = f.text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        for w in t.split_whitespace().take(8) {
            let like = w.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
            arg(
                &mut sql,
                &mut args,
                " AND (title LIKE ? ESCAPE '\\'",
                V::Text(format!("%{like}%")),
            );
            arg(&mut sql, &mut args, " OR entity = ?", V::Text(w.to_string()));
            // One of its hosts, or an observable of its alerts or their flows'
            // records, as stored (lower case; a URL without its scheme).
            arg(
                &mut sql,
                &mut args,
                " OR id IN (SELECT incident_id FROM incident_hosts WHERE ip = ?)",
                V::Text(w.to_string()),
            );
            let o = w.to_lowercase();
            let o = o.strip_prefix("http://").or_else(|| o.strip_prefix("https://")).unwrap_or(&o);
            arg(
                &mut sql,
                &mut args,
                " OR id IN (SELECT incident_id FROM incident_observables WHERE value = ?))",
                V::Text(o.to_string()),
            );
        }
    }
    (sql, args)
}

/// How a list of incidents is ordered; each in its natural direction (the most
/// urgent, recent, numerous first; names A to Z), [`IncidentFilter::reverse`] the
/// other way.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum IncidentOrder {
    /// Most recently active first.
    #[default]
    LastSeen,
    /// The queue's triage order: gravest severity, then highest score, then the one
    /// waiting longest (first seen earliest).
    Priority,
    /// Highest score first, then most recent.
    Score,
    /// Newest first.
    FirstSeen,
    /// By title.
    Title,
    /// By agency id (none last), then priority.
    Agency,
    /// By entity (address or `sensor:NAME`), then most recent.
    Entity,
    /// Most alerts first.
    Alerts,
    /// By lifecycle (new, acknowledged, in progress, resolved, false positive), then
    /// priority.
    Status,
    /// By assignee (nobody last), then priority.
    Assignee,
}

impl IncidentOrder {
    /// Every order with the name the API and the console use for it.
    pub const NAMES: [(&'static str, IncidentOrder); 10] = [
        ("last_seen", IncidentOrder::LastSeen),
        ("priority", IncidentOrder::Priority),
        ("score", IncidentOrder::Score),
        ("first_seen", IncidentOrder::FirstSeen),
        ("title", IncidentOrder::Title),
        ("agency", IncidentOrder::Agency),
        ("entity", IncidentOrder::Entity),
        ("alerts", IncidentOrder::Alerts),
        ("status", IncidentOrder::Status),
        ("assignee", IncidentOrder::Assignee),
    ];

    /// The order of a name of [`Self::NAMES`].
    pub fn parse(name: &str) -> Option<IncidentOrder> {
        Self::NAMES.iter().find(|(n, _)| *n == name).map(|(_, o)| *o)
    }

    /// The `ORDER BY` clause: terms of (expression, descending), the id last so that
    /// pages never overlap.
    pub(super) fn sql(self, reverse: bool) -> String {
        const PRIORITY: [(&str, bool); 3] =
            [("score", true), ("first_seen_us", false), ("id", false)];
        let terms: &[(&str, bool)] = match self {
            IncidentOrder::LastSeen => &[("last_seen_us", true), ("id", true)],
            IncidentOrder::Priority => &PRIORITY,
            IncidentOrder::Score => &[("score", true), ("last_seen_us", true), ("id", true)],
            IncidentOrder::FirstSeen => &[("first_seen_us", true), ("id", true)],
            IncidentOrder::Title => &[("title COLLATE NOCASE", false), ("id", true)],
            IncidentOrder::Agency => &[
                ("agency IS NULL", false),
                ("agency", false),
                ("score", true),
                ("first_seen_us", false),
                ("id", false),
            ],
            IncidentOrder::Entity => &[("entity", false), ("last_seen_us", true), ("id", true)],
            IncidentOrder::Alerts => &[("alert_count", true), ("id", true)],
            IncidentOrder::Status => &[
                (
                    "CASE status WHEN 'new' THEN 0 WHEN 'acknowledged' THEN 1 \
                  WHEN 'in_progress' THEN 2 WHEN 'resolved' THEN 3 ELSE 4 END",
                    false,
                ),
                ("score", true),
                ("first_seen_us", false),
                ("id", false),
            ],
            IncidentOrder::Assignee => &[
                ("assignee IS NULL", false),
                ("assignee COLLATE NOCASE", false),
                ("score", true),
                ("first_seen_us", false),
                ("id", false),
            ],
        };
        let terms: Vec<String> = terms
            .iter()
            .map(|(e, desc)| format!("{e} {}", if *desc != reverse { "DESC" } else { "ASC" }))
            .collect();
        format!(" ORDER BY {}", terms.join(", "))
    }
}
