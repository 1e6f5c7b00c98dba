//! The overview as a SOC wall screen: counter tiles, alerts and new incidents per
//! hour over a chosen period, top sources (with their country when a GeoIP file is
//! configured), ports, signatures, agencies and systems, and the ATT&CK heat map.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::Json;
use serde::{Deserialize, Serialize};

use super::error::{ApiError, ApiResult};
use super::incidents::parse_time;
use super::Console;
use crate::report::Milestone;
use crate::store::wall::{AttackCell, Tiles};
use crate::store::{Overdue, Wall, WallQuery};

const HOUR_US: i64 = 3_600_000_000;
const DAY_US: i64 = 24 * HOUR_US;
/// Lines of each top list.
const TOP: usize = 10;
/// An answer is kept this long (the period's alerts are read once for every viewer).
const KEEP: std::time::Duration = std::time::Duration::from_secs(60);

/// The wall screens computed in the last minute, by (from, to, bucket).
pub(crate) type Walls =
    std::sync::Mutex<std::collections::HashMap<(i64, i64, i64), (std::time::Instant, Wall)>>;

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WallParams {
    /// `24h` (default), `7d` or `30d`, ending now (or at `to`).
    pub range: Option<String>,
    /// Start of a custom period (RFC 3339 or a date in Vietnam); with `to`.
    pub from: Option<String>,
    /// End of the period (exclusive; a date means its midnight).
    pub to: Option<String>,
}

/// An ATT&CK cell with the names of its tactic and technique.
#[derive(Serialize)]
pub struct NamedCell {
    #[serde(flatten)]
    pub cell: AttackCell,
    pub tactic_name: Option<&'static str>,
    pub technique_name: Option<&'static str>,
}

/// What the wall screen shows.
#[derive(Serialize, utoipa::ToSchema)]
pub struct WallView {
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub wall: Wall,
    /// `attack` with names (the wall's own list is left empty).
    #[schema(value_type = Vec<Object>)]
    pub attack_named: Vec<NamedCell>,
    /// The tactics in kill-chain order, with names (the heat map's rows).
    #[schema(value_type = Vec<Object>)]
    pub tactics: Vec<(&'static str, &'static str)>,
}

impl Console {
    /// The handling deadlines of the report (`[[report.deadlines]]`) at `now_us`: the
    /// shortest of each milestone.
    pub fn overdue_at(&self, now_us: i64) -> Overdue {
        let mut o = Overdue { now_us, ..Default::default() };
        for d in &self.report.deadlines {
            let Ok(secs) = crate::response::config::parse_duration(&d.within) else { continue };
            let us = (secs.min(i64::MAX as u64 / 2_000_000) as i64) * 1_000_000;
            let slot = match d.event {
                Milestone::Acknowledge => &mut o.acknowledge_us,
                Milestone::Resolve => &mut o.resolve_us,
            };
            *slot = Some(slot.map_or(us, |v| v.min(us)));
        }
        o
    }

    /// The countries of addresses, when `report.geoip` is set (loaded once; an
    /// unreadable file is reported once and then ignored).
    fn geoip(&self) -> Option<&crate::report::geoip::GeoIp> {
        self.geoip
            .get_or_init(|| {
                let path = self.report.geoip.as_ref()?;
                match crate::report::geoip::GeoIp::load(path) {
                    Ok(g) => Some(g),
                    Err(e) => {
                        tracing::warn!("no countries on the overview: {e}");
                        None
                    }
                }
            })
            .as_ref()
    }
}

/// The period of a query: (from, to, bucket) in µs.
fn period(q: &WallParams, now_us: i64) -> ApiResult<(i64, i64, i64)> {
    fn nonempty(s: &Option<String>) -> Option<&str> {
        s.as_deref().map(str::trim).filter(|s| !s.is_empty())
    }
    // Ends on a whole minute, so that viewers within a minute share one answer.
    let to = match nonempty(&q.to) {
        Some(t) => parse_time(t, "to")?,
        None => (now_us / 60_000_000 + 1) * 60_000_000,
    };
    let from = match (nonempty(&q.from), nonempty(&q.range).unwrap_or("24h")) {
        (Some(f), _) => parse_time(f, "from")?,
        (None, "24h") => to - DAY_US,
        (None, "7d") => to - 7 * DAY_US,
        (None, "30d") => to - 30 * DAY_US,
        (None, other) => {
            return Err(ApiError::bad_request(format!(
                "`range`: `{other}` is not 24h, 7d or 30d (or give `from` and `to`)"
            )))
        }
    };
    if from >= to {
        return Err(ApiError::bad_request("`from` is not before `to`"));
    }
    if to - from > 366 * DAY_US {
        return Err(ApiError::bad_request("the period is longer than 366 days"));
    }
    // Hours up to a month; days beyond.
    let bucket = if to - from <= 31 * DAY_US { HOUR_US } else { DAY_US };
    Ok((from, to, bucket))
}

/// Counter tiles, alerts and incidents per hour, top sources, ports, signatures,
/// agencies and systems, and the ATT&CK heat map of a period.
#[utoipa::path(get, path = "/api/v1/wall", tag = "overview", params(WallParams),
    responses((status = 200, body = WallView), (status = 400, body = super::error::ErrorBody)))]
pub async fn wall(
    State(c): State<Arc<Console>>,
    Query(p): Query<WallParams>,
) -> ApiResult<Json<WallView>> {
    let now = chrono::Utc::now().timestamp_micros();
    let (from_us, to_us, bucket_us) = period(&p, now)?;
    let q = WallQuery {
        from_us,
        to_us,
        bucket_us,
        overdue: c.overdue_at(now),
        month_start_us: crate::report::figures::Month::containing(now).start_us(),
        top: TOP,
    };
    let key = (from_us, to_us, bucket_us);
    let kept = c.walls.lock().ok().and_then(|m| m.get(&key).cloned());
    let mut wall = match kept {
        // The tiles are counted afresh: an analyst's acknowledgement shows at once.
        Some((at, w)) if at.elapsed() < KEEP => {
            let tiles: Tiles = c.db.read(move |s| s.wall_tiles(&q)).await?;
            Wall { tiles, ..w }
        }
        _ => {
            let w = c.db.read(move |s| s.wall(&q)).await?;
            if let Ok(mut m) = c.walls.lock() {
                m.retain(|_, (at, _)| at.elapsed() < KEEP);
                m.insert(key, (std::time::Instant::now(), w.clone()));
            }
            w
        }
    };
    name_things(&c, &mut wall);
    let attack_named = std::mem::take(&mut wall.attack)
        .into_iter()
        .map(|cell| NamedCell {
            tactic_name: crate::incident::attack::tactic_name(&cell.tactic),
            technique_name: crate::incident::techniques::technique_name(&cell.technique),
            cell,
        })
        .collect();
    let tactics = crate::incident::attack::TACTICS.to_vec();
    Ok(Json(WallView { wall, attack_named, tactics }))
}

/// Agencies by name, sources with their zone and country.
fn name_things(c: &Console, w: &mut Wall) {
    let inv = &c.engine.inventory;
    for a in &mut w.top_agencies {
        if let Some(agency) = inv.agencies.get(&a.key) {
            a.label = agency.name.clone();
        }
    }
    let geo = c.geoip();
    for s in &mut w.top_sources {
        s.internal = inv.zone(&s.ip).is_internal();
        if !s.internal {
            s.country = geo.and_then(|g| g.country(&s.ip));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_of_the_wall() {
        let now = 1_000 * DAY_US + 123;
        let q = |range: &str, from: &str, to: &str| WallParams {
            range: Some(range.into()),
            from: Some(from.into()),
            to: Some(to.into()),
        };
        let (from, to, bucket) = period(&WallParams::default(), now).unwrap();
        assert_eq!((to - from, bucket), (DAY_US, HOUR_US));
        assert_eq!(to % 60_000_000, 0, "ends on a minute");
        assert!(to > now);
        let (from, to, _) = period(&q("7d", "", ""), now).unwrap();
        assert_eq!(to - from, 7 * DAY_US);
        // A custom period: dates are midnights in Vietnam; past a month, days.
        let (from, to, bucket) = period(&q("", "2026-01-01", "2026-03-01"), now).unwrap();
        assert_eq!((to - from) / DAY_US, 59);
        assert_eq!(bucket, DAY_US);
        assert_eq!(from, parse_time("2026-01-01T00:00:00+07:00", "from").unwrap());
        for bad in
            [q("1y", "", ""), q("", "2026-03-01", "2026-01-01"), q("", "2020-01-01", "2026-01-01")]
        {
            assert!(period(&bad, now).is_err());
        }
    }
}
