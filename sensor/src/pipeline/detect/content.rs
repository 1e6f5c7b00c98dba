//! Content engines: YARA on reassembled streams and extracted files, Sigma rules on
//! protocol records.

use std::io;

use crate::app::records::Record;
use crate::output::eve::AppEvent;
use crate::output::EventSink;
use crate::pipeline::app_events::record_metadata;
use crate::pipeline::detect::alerts::{finding_alert, FindingAt};
use crate::pipeline::Pipeline;
use crate::scan::yara_alert_info;

impl Pipeline {
    /// Scans a stream chunk with YARA and writes an alert per matching rule.
    pub(in crate::pipeline) fn scan_stream(
        &mut self,
        chunk: &[u8],
        at: &FindingAt,
        sink: &mut dyn EventSink,
    ) -> io::Result<()> {
        let Some(scanner) = self.scanner.as_mut() else { return Ok(()) };
        for m in scanner.scan_stream(chunk) {
            let alert =
                finding_alert(&self.cfg.eve, yara_alert_info(&m), at, serde_json::Map::new());
            sink.alert(&alert)?;
        }
        Ok(())
    }

    /// YARA over a file (it goes from its sender, `src`, to its receiver).
    pub(in crate::pipeline) fn yara_file_alerts(
        &mut self,
        record: &Record,
        at: &FindingAt,
        sink: &mut dyn EventSink,
    ) -> io::Result<()> {
        let (Record::Fileinfo(f), Some(scanner)) = (record, self.scanner.as_mut()) else {
            return Ok(());
        };
        let matches = scanner.scan_file(f);
        if matches.is_empty() {
            return Ok(());
        }
        let mut app_metadata = serde_json::Map::new();
        if let Ok(v) = serde_json::to_value(f) {
            app_metadata.insert("fileinfo".into(), v);
        }
        for m in &matches {
            sink.alert(&finding_alert(
                &self.cfg.eve,
                yara_alert_info(m),
                at,
                app_metadata.clone(),
            ))?;
        }
        Ok(())
    }

    /// Sigma rules over the event.
    pub(in crate::pipeline) fn sigma_alerts(
        &mut self,
        ev: &AppEvent,
        at: &FindingAt,
        sink: &mut dyn EventSink,
    ) -> io::Result<()> {
        let Some((set, eval)) = self.sigma.as_mut() else { return Ok(()) };
        let hits = eval.evaluate(set, at.flow_id, ev);
        if hits.is_empty() {
            return Ok(());
        }
        let app_metadata = record_metadata(&ev.record);
        for h in &hits {
            sink.alert(&finding_alert(&self.cfg.eve, h.alert_info(), at, app_metadata.clone()))?;
        }
        Ok(())
    }
}
