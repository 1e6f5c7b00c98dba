//! Reports kept on disk: `DIR/YYYY-MM/gatewatch-report-YYYY-MM-SCOPE-LANG.EXT`, where
//! SCOPE is `province` or an agency id. The correlator writes last month's reports on
//! the first day of each month (or at its next start, if it was down then); the console
//! lists them for download.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::figures::Month;
use super::{build, render, Format, Lang, ReportConfig, ReportError};
use crate::incident::assets::Inventory;
use crate::store::Store;

/// A report on disk.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Archived {
    /// The file's name in the archive.
    pub file: String,
    /// The month, `2026-10`.
    pub month: String,
    /// `province` or an agency id.
    pub scope: String,
    pub(crate) lang: String,
    pub(crate) format: String,
    pub(crate) bytes: u64,
}

/// The file name of a report.
pub fn file_name(month: Month, agency: Option<&str>, lang: Lang, format: Format) -> String {
    format!(
        "gatewatch-report-{}-{}-{}.{}",
        month.label(),
        agency.unwrap_or("province"),
        lang.as_str(),
        format.extension()
    )
}

/// Parses a report's file name (anything else is not a report).
pub fn parse_name(name: &str) -> Option<Archived> {
    let rest = name.strip_prefix("gatewatch-report-")?;
    let (stem, ext) = rest.rsplit_once('.')?;
    Format::parse(ext).ok()?;
    let (head, lang) = stem.rsplit_once('-')?;
    Lang::parse(lang).ok()?;
    let month = head.get(..7)?;
    Month::parse(month).ok()?;
    let scope = head.get(8..)?;
    let scope_ok = !scope.is_empty()
        && scope.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    scope_ok.then(|| Archived {
        file: name.to_string(),
        month: month.to_string(),
        scope: scope.to_string(),
        lang: lang.to_string(),
        format: ext.to_string(),
        bytes: 0,
    })
}

/// Every report under `dir`, newest month first.
pub fn list(dir: &Path) -> Vec<Archived> {
    let mut out = Vec::new();
    let Ok(months) = std::fs::read_dir(dir) else { return out };
    for m in months.flatten() {
        let Ok(files) = std::fs::read_dir(m.path()) else { continue };
        for f in files.flatten() {
            let name = f.file_name().to_string_lossy().into_owned();
            if let Some(mut a) = parse_name(&name) {
                if m.file_name().to_string_lossy() == a.month {
                    a.bytes = f.metadata().map(|x| x.len()).unwrap_or(0);
                    out.push(a);
                }
            }
        }
    }
    out.sort_by(|a, b| b.month.cmp(&a.month).then(a.scope.cmp(&b.scope)).then(a.file.cmp(&b.file)));
    out
}

/// The path of an archived report, if `name` is one that exists under `dir`.
pub fn path_of(dir: &Path, name: &str) -> Option<PathBuf> {
    let a = parse_name(name)?;
    let p = dir.join(&a.month).join(&a.file);
    p.is_file().then_some(p)
}

/// Writes the reports of `month` the configuration asks for (province-wide, and per
/// agency when `per_agency`): each language and format. Returns the files written.
pub fn write_month(
    store: &Store,
    inv: &Inventory,
    cfg: &ReportConfig,
    month: Month,
    now_us: i64,
) -> Result<Vec<PathBuf>, ReportError> {
    let dir = cfg.dir.join(month.label());
    std::fs::create_dir_all(&dir).map_err(|err| ReportError::Write { path: dir.clone(), err })?;
    let mut scopes: Vec<Option<&str>> = vec![None];
    if cfg.per_agency {
        scopes.extend(inv.agencies.keys().map(|k| Some(k.as_str())));
    }
    let langs = cfg.languages.iter().map(|l| Lang::parse(l)).collect::<Result<Vec<_>, _>>()?;
    let formats = cfg.formats.iter().map(|f| Format::parse(f)).collect::<Result<Vec<_>, _>>()?;
    let mut written = Vec::new();
    for scope in scopes {
        let report = build(store, inv, cfg, month, scope, now_us)?;
        for &lang in &langs {
            for &format in &formats {
                if format == Format::Json && lang != langs[0] {
                    continue; // the figures do not depend on the language
                }
                let bytes = render(&report, format, lang, cfg)?;
                let path = dir.join(file_name(month, scope, lang, format));
                let tmp = path.with_extension("tmp");
                std::fs::write(&tmp, &bytes)
                    .and_then(|()| std::fs::rename(&tmp, &path))
                    .map_err(|err| ReportError::Write { path: path.clone(), err })?;
                written.push(path);
            }
        }
    }
    Ok(written)
}

/// The month whose reports are due at `now_us`: last month, when its province-wide
/// report is not on disk yet.
pub fn due(cfg: &ReportConfig, now_us: i64) -> Option<Month> {
    let m = Month::previous_of(now_us);
    let have = list(&cfg.dir).iter().any(|a| a.month == m.label() && a.scope == "province");
    (!have).then_some(m)
}

/// The correlator's schedule: at start and then every `every`, writes last month's
/// reports if they are not on disk yet (the first day of each month, or the first check
/// after it if the correlator was down). A failure is logged and tried at the next check.
pub struct Schedule {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    handle: std::thread::JoinHandle<()>,
}

impl Schedule {
    /// Starts the thread that writes each month's reports once it has ended.
    pub fn start(
        cfg: ReportConfig,
        store_path: PathBuf,
        inv: std::sync::Arc<Inventory>,
        every: std::time::Duration,
    ) -> std::io::Result<Schedule> {
        use std::sync::atomic::Ordering;
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stop2 = stop.clone();
        let handle =
            std::thread::Builder::new().name("correlator-report".into()).spawn(move || {
                while !stop2.load(Ordering::Relaxed) {
                    let now = chrono::Utc::now().timestamp_micros();
                    if let Some(m) = due(&cfg, now) {
                        let t0 = std::time::Instant::now();
                        let done = Store::open_reader(&store_path)
                            .map_err(ReportError::from)
                            .and_then(|s| write_month(&s, &inv, &cfg, m, now));
                        match done {
                            Ok(files) => tracing::info!(
                                "the reports of {} are written: {} files in {} ({:.1} s)",
                                m.label(),
                                files.len(),
                                cfg.dir.display(),
                                t0.elapsed().as_secs_f64()
                            ),
                            Err(e) => tracing::warn!(
                                "the reports of {}: {e} (tried again in an hour)",
                                m.label()
                            ),
                        }
                    }
                    let t = std::time::Instant::now();
                    while t.elapsed() < every && !stop2.load(Ordering::Relaxed) {
                        std::thread::sleep(std::time::Duration::from_millis(200));
                    }
                }
            })?;
        Ok(Schedule { stop, handle })
    }

    /// Stops the thread.
    pub fn stop(self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let _ = self.handle.join();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedule_writes_last_month_once() {
        let dir = std::env::temp_dir().join(format!("gw-report-archive-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let cfg = ReportConfig {
            dir: dir.clone(),
            formats: vec!["json".into(), "html".into()],
            per_agency: false,
            ..Default::default()
        };
        let now = Month::parse("2026-11").unwrap().start_us() + 3_600_000_000;
        assert_eq!(due(&cfg, now).map(|m| m.label()), Some("2026-10".into()));
        let store = Store::open_in_memory().unwrap();
        let files =
            write_month(&store, &Inventory::default(), &cfg, Month::parse("2026-10").unwrap(), now)
                .unwrap();
        // JSON once, HTML per language.
        assert_eq!(files.len(), 3, "{files:?}");
        assert_eq!(due(&cfg, now), None, "written");
        let names: Vec<String> = list(&dir).into_iter().map(|a| a.file).collect();
        assert_eq!(
            names,
            [
                "gatewatch-report-2026-10-province-en.html",
                "gatewatch-report-2026-10-province-vi.html",
                "gatewatch-report-2026-10-province-vi.json"
            ]
        );
        assert!(path_of(&dir, &names[0]).is_some());
        assert!(path_of(&dir, "gatewatch-report-2026-09-province-vi.json").is_none());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn names_round_trip_and_nothing_else_is_a_report() {
        let m = Month::parse("2026-10").unwrap();
        let n = file_name(m, Some("so-tai-chinh"), Lang::Vi, Format::Pdf);
        assert_eq!(n, "gatewatch-report-2026-10-so-tai-chinh-vi.pdf");
        let a = parse_name(&n).unwrap();
        assert_eq!(
            (a.month.as_str(), a.scope.as_str(), a.lang.as_str(), a.format.as_str()),
            ("2026-10", "so-tai-chinh", "vi", "pdf")
        );
        for bad in [
            "../../etc/passwd",
            "gatewatch-report-2026-10-x-vi.exe",
            "gatewatch-report-2026-13-x-vi.pdf",
            "gatewatch-report-2026-10-../x-vi.pdf",
            "gatewatch-report-2026-10--vi.pdf",
        ] {
            assert!(parse_name(bad).is_none(), "{bad}");
        }
    }
}
