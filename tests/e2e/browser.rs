//! The analyst console in a real headless Chromium (Debian's `chromium`, driven through
//! `chromedriver` over the W3C WebDriver protocol, `webdriver.rs`): sign in, the queue in
//! its order, the demo's incidents with their evidence and raw alerts, triage, block
//! decisions (approve, carry out, block by hand), reports and recommendations, sensors,
//! the wall screen in kiosk mode; the store and the API agree with what the page shows.
//! Screenshots of every page go to `target/tmp/console-screenshots/`.
//!
//! Skipped (and says so) where Chromium or ChromeDriver is not installed; `.ci/run`
//! installs both.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use super::common::{run_in, Scratch};
use super::console::{add_user, start_console_with};
use super::webdriver::Driver;

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// The demo's console as an analyst goes through it, one step per page.
struct Tour {
    d: Driver,
    dir: Scratch,
    base: String,
    shots: PathBuf,
}

impl Tour {
    fn cli(&self, args: &[&str]) -> Value {
        let out = run_in(&self.dir.0, args);
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).expect("json")
    }

    fn shot(&self, name: &str) {
        self.d.screenshot(&self.shots, name);
    }

    fn sign_in(&self) {
        let d = &self.d;
        d.go(&format!("{}/", self.base));
        d.wait("#login-name");
        // Before sign-in the top bar (and its sign-out button) is not shown.
        let bar = d.script("return getComputedStyle(document.querySelector('#bar')).display;");
        assert_eq!(bar, json!("none"), "the top bar on the sign-in page");
        self.shot("1-login.png");
        d.type_in("#login-name", "lan");
        d.type_in("#login-password", "lan's long password");
        d.click("#login-submit");
        d.wait("#queue tbody tr");
        d.until("document.querySelector('#who').textContent.includes('lan')");
    }

    /// The queue: the demo's open incidents, most urgent first (severity, score, then
    /// waiting longest), the open counts by severity as the API gives them, headers
    /// that sort. Returns the ids in the queue's order.
    fn queue(&self) -> Vec<i64> {
        let d = &self.d;
        let cli =
            self.cli(&["incidents", "list", "--json", "--status", "new,acknowledged,in_progress"]);
        let mut rows: Vec<(i64, i64, String)> = cli
            .as_array()
            .expect("array")
            .iter()
            .map(|i| {
                let score = i["score"].as_i64().expect("score");
                (
                    i["id"].as_i64().expect("id"),
                    score,
                    i["first_seen"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect();
        rows.sort_by(|a, b| b.1.cmp(&a.1).then(a.2.cmp(&b.2)).then(a.0.cmp(&b.0)));
        let want: Vec<i64> = rows.iter().map(|r| r.0).collect();
        let shown = d.script(
            "return [...document.querySelectorAll('#queue tbody tr')].map(r => Number(r.dataset.id));",
        );
        assert_eq!(shown, json!(want), "most urgent first");
        let counts = d.script("return Object.fromEntries([...document.querySelectorAll('#open-by-severity [data-severity]')].map((a) => [a.dataset.severity, Number(a.querySelector('b').textContent)]));");
        let api = d.api("/api/v1/overview?days=30");
        for c in api["open_by_severity"].as_array().expect("counts") {
            let key = c["key"].as_str().expect("key");
            assert_eq!(counts[key], c["count"], "open {key} incidents: {counts}");
        }
        // Every open incident has a deadline shown: the demo's were created just now.
        let due = d.text("#queue tbody tr td:nth-child(10)");
        assert!(due.starts_with("còn 23 giờ"), "time left to acknowledge: {due}");
        self.shot("2-queue-vi.png");
        // A click on "Điểm" sorts by score, a second click the other way round.
        d.click("#queue th[data-sort='score']");
        d.until("document.querySelector(\"#queue th[data-sort='score']\")?.getAttribute('aria-sort') === 'descending'");
        d.click("#queue th[data-sort='score']");
        d.until("document.querySelector(\"#queue th[data-sort='score']\")?.getAttribute('aria-sort') === 'ascending'");
        let shown = d.script(
            "return [...document.querySelectorAll('#queue tbody tr')].map(r => Number(r.dataset.id));",
        );
        let mut lowest_first = want.clone();
        lowest_first.reverse();
        assert_eq!(shown, json!(lowest_first), "the lowest score first");
        d.go(&format!("{}/#/incidents", self.base));
        d.until("document.querySelector(\"#queue th[data-sort='priority']\")?.getAttribute('aria-sort') === 'descending'");
        // Keys: `j` moves the selection down, `k` up.
        d.keys("j");
        d.until("document.querySelectorAll('#queue tbody tr')[1]?.classList.contains('sel')");
        d.keys("k");
        d.until("document.querySelectorAll('#queue tbody tr')[0].classList.contains('sel')");
        want
    }

    /// A change made elsewhere (the command line) shows without a reload.
    fn live_update(&self, other: i64) {
        let out = run_in(&self.dir.0, &["incidents", "ack", &other.to_string(), "--by", "minh"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        self.d.until(&format!("document.querySelector(\"#queue tbody tr[data-id='{other}'] [data-status]\")?.dataset.status === 'acknowledged'"));
    }

    /// Open the first; acknowledge; note; resolve; the store agrees.
    fn triage(&self, id: i64) {
        let d = &self.d;
        d.go(&format!("{}/#/incidents", self.base));
        d.wait(&format!("#queue tbody tr[data-id='{id}'] a"));
        d.click(&format!("#queue tbody tr[data-id='{id}'] a"));
        d.wait("#incident-title");
        d.until(&format!(
            "document.querySelector('#incident-title').textContent.startsWith('#{id} ')"
        ));
        self.shot("3-incident.png");
        // The rules table names the rule's column as such (not "Sự cố").
        let heads = d.text("#incident-rules thead");
        assert!(heads.to_lowercase().contains("tên luật"), "{heads}");
        d.click("[data-action='acknowledged']");
        d.until("document.querySelector(\"[data-fact='status'] [data-status]\")?.dataset.status === 'acknowledged'");
        let note = "Đã chặn IP nguồn tại tường lửa; kiểm tra máy chủ <b>web</b>.";
        d.type_in("#note-text", note);
        d.click("#note-submit");
        d.until("document.querySelector('#notes .note') !== null");
        assert!(d.text("#notes").contains(note), "the note is shown as text: {}", d.text("#notes"));
        d.click("[data-action='resolved']");
        d.until("document.querySelector(\"[data-fact='status'] [data-status]\")?.dataset.status === 'resolved'");
        self.shot("4-incident-resolved.png");
        let audit = d.text("#audit");
        assert!(audit.contains("lan đã tiếp nhận sự cố"), "the audit trail as sentences: {audit}");
        let shown = self.cli(&["incidents", "show", &id.to_string(), "--json"]);
        assert_eq!(shown["incident"]["status"], "resolved");
        assert!(shown["incident"]["acknowledged_at"].is_string());
        assert_eq!(shown["notes"][0]["text"], note);
        assert_eq!(shown["notes"][0]["author"], "lan");
        let actions: Vec<(String, String)> = shown["audit"]
            .as_array()
            .expect("audit")
            .iter()
            .map(|a| {
                let text = |k: &str| a[k].as_str().unwrap_or("").to_string();
                (text("actor"), text("action"))
            })
            .collect();
        for want in ["incident.transition", "incident.note"] {
            assert!(
                actions.iter().any(|(who, what)| who == "lan" && what == want),
                "{want} by lan in {actions:?}"
            );
        }
    }

    /// The malware-domain incident: the DNS evidence names what was asked and
    /// answered (the sensor writes Suricata's version 3 layout); the C2 address there
    /// pivots to the incidents that share it; the search finds it too.
    fn dns_evidence_and_pivots(&self, open: &[i64]) -> i64 {
        let d = &self.d;
        let dns_incident = open
            .iter()
            .copied()
            .find(|i| {
                let shown = self.cli(&["incidents", "show", &i.to_string(), "--json"]);
                shown["rules"].as_array().is_some_and(|r| r.iter().any(|r| r["sid"] == 9_000_005))
            })
            .expect("the demo's DNS incident");
        d.go(&format!("{}/#/incidents/{dns_incident}", self.base));
        d.wait("#dns tbody tr");
        let evidence = d.text("#dns");
        assert!(evidence.contains("update.hue-gov-portal.top A"), "{evidence}");
        assert!(evidence.contains("198.51.100.200"), "{evidence}");
        let observed = d.text("#observables");
        for o in ["update.hue-gov-portal.top", "hoadon_thang10.exe", "198.51.100.200"] {
            assert!(observed.contains(o), "{o} among the observables: {observed}");
        }
        // Enumerations and the title in Vietnamese.
        assert_eq!(d.text("[data-fact='rsit']"), "Mã độc");
        assert_eq!(d.text("[data-fact='criticality']"), "thấp");
        let title = d.text("#incident-title");
        assert!(title.contains(" và 2 luật khác — 10.46.120.15 (UBND phường Phú Hội"), "{title}");
        let timeline = d.text("#timeline");
        assert!(
            timeline.contains("thao tác") && timeline.contains("gatewatch đã tạo sự cố"),
            "{timeline}"
        );
        // ATT&CK by name; the attack worked: the executable reached the host.
        let stages = d.text("#stages");
        assert!(stages.contains("Điều khiển và kiểm soát (C2) (TA0011)"), "{stages}");
        assert!(stages.contains("T1573 Encrypted Channel"), "{stages}");
        let won = d.text("#succeeded");
        assert!(won.starts_with("có — tệp thực thi hoadon_thang10.exe ("), "{won}");
        assert!(won.ends_with("byte) đã được tải về 10.46.120.15"), "{won}");
        assert!(timeline.contains("gatewatch ghi nhận tấn công đã thành công"), "{timeline}");
        // An alert opens to the event the sensor sent.
        d.click("#alerts tr[data-alert]");
        d.wait("#alerts tr.raw:not([hidden]) pre.json");
        let raw = d.text("#alerts tr.raw:not([hidden])");
        assert!(
            raw.contains("\"event_type\": \"alert\"") && raw.contains("\"signature_id\""),
            "{raw}"
        );
        // The demo's sensor keeps payloads (`eve.payload`): shown as hex and text.
        let dump = d.text("#alerts tr.raw:not([hidden]) pre.hexdump");
        assert!(dump.starts_with("000000  "), "{dump}");
        let shown = d.script("const r = document.querySelector('#alerts tr.raw:not([hidden]) pre.json').textContent; const e = JSON.parse(r); return [e.payload_printable.slice(0, 16), document.querySelector('#alerts tr.raw:not([hidden]) pre.hexdump').textContent.split('\\n')[0].slice(57)];");
        assert_eq!(shown[0], shown[1], "the text column is the payload's first 16 bytes: {shown}");
        // A payload as Suricata writes it (base64) is shown as hex and text.
        let dump = d.script("return hexdump(Uint8Array.from(atob(btoa('GET /x HTTP/1.1\\r\\n')), (c) => c.charCodeAt(0)));");
        assert_eq!(
            dump,
            json!("000000  47 45 54 20 2f 78 20 48 54 54 50 2f 31 2e 31 0d  GET /x HTTP/1.1.\n000010  0a                                               .")
        );
        self.shot("3b-incident-evidence.png");
        d.click("#dns a.pivot[href$='198.51.100.200']");
        d.until("location.hash.includes('q=198.51.100.200')");
        d.wait("#queue tbody tr");
        let found = d.script("return [...document.querySelectorAll('#queue tbody tr')].map(r => Number(r.dataset.id));");
        assert_eq!(found, json!([dns_incident]), "the C2 address pivots to its incident");
        // The queue's search: the downloaded file's name.
        d.go(&format!("{}/#/incidents?status=&q=hoadon_thang10.exe", self.base));
        d.until(&format!("document.querySelector(\"#queue tbody tr[data-id='{dns_incident}']\") !== null && document.querySelectorAll('#queue tbody tr').length === 1"));
        dns_incident
    }

    /// In English: the enumerations, the title and the audit sentences of both
    /// incidents seen (`triaged` was acknowledged and resolved by lan).
    fn english_incidents(&self, triaged: i64, dns: i64) {
        let d = &self.d;
        d.go(&format!("{}/#/incidents/{dns}", self.base));
        d.wait("#dns tbody tr");
        d.until("document.querySelector(\"[data-fact='rsit']\").textContent === 'Malicious code'");
        assert_eq!(d.text("[data-fact='criticality']"), "low");
        let title = d.text("#incident-title");
        assert!(title.contains(" and 2 more rules — 10.46.120.15"), "{title}");
        d.go(&format!("{}/#/incidents/{triaged}", self.base));
        d.until(&format!(
            "document.querySelector('#incident-title')?.textContent.startsWith('#{triaged} ')"
        ));
        let audit = d.text("#audit");
        for s in ["lan acknowledged the incident", "lan added a note", "lan resolved the incident"]
        {
            assert!(audit.contains(s), "{s}: {audit}");
        }
    }

    /// The demo's dry-run decisions, then a run with an `approve` policy adds decisions
    /// that wait; the analyst approves one, with a reason.
    fn blocks(&self) {
        let d = &self.d;
        super::console::replay_demo_with_policies(&self.dir, "");
        let cli = self.cli(&["blocks", "list", "--json"]);
        let list = cli.as_array().expect("blocks");
        let ids: Vec<i64> = list.iter().filter_map(|b| b["id"].as_i64()).collect();
        let waiting = list.iter().find(|b| b["state"] == "awaiting-approval").expect("one waits");
        let wid = waiting["id"].as_i64().expect("id");
        d.go(&format!("{}/#/blocks", self.base));
        d.wait("#blocks tr[data-block]");
        let shown = d.script("return [...document.querySelectorAll('#blocks tr[data-block]')].map((r) => Number(r.dataset.block));");
        assert_eq!(shown, json!(ids), "the page lists what `gatewatch blocks list` lists");
        // The list may be redrawn by a live update while it is read: wait for the line.
        d.until("document.querySelector('#blocks').innerText.includes('thuộc danh sách cho phép, không chặn')");
        // Reasons in Vietnamese, rebuilt from the responder's sentence.
        let reasons = d.text("#blocks tbody");
        assert!(
            reasons.contains("chính sách ask-first: sự cố #") && reasons.contains("; chặn 1 giờ"),
            "{reasons}"
        );
        assert!(
            reasons.contains("thuộc danh sách cho phép critical: criticality:critical; không chặn"),
            "{reasons}"
        );
        assert!(!reasons.contains("policy ask-first"), "no English reason left: {reasons}");
        // The decision time is a column; a dry-run never expires.
        let heads = d.text("#blocks thead").to_lowercase();
        assert!(heads.contains("thời điểm quyết định"), "{heads}");
        let dry = d.script("return [...document.querySelectorAll('#blocks tr[data-block]')].filter((r) => r.querySelector(\"[data-state='dry-run']\")).map((r) => r.querySelector('[data-expires]').textContent);");
        let dry = dry.as_array().expect("dry-run rows").clone();
        assert!(
            !dry.is_empty() && dry.iter().all(|e| e == "—"),
            "dry-runs show no expiry: {dry:?}"
        );
        self.shot("5-blocks-vi.png");
        d.click_and_answer_prompt(
            &format!("#blocks tr[data-block='{wid}'] [data-block-action='approve']"),
            "Đã xác minh với Sở Tài chính",
        );
        d.until(&format!("document.querySelector(\"#blocks tr[data-block='{wid}'] [data-state]\")?.dataset.state === 'approved'"));
        let b = self.cli(&["blocks", "show", &wid.to_string(), "--json"]);
        assert_eq!(b["block"]["state"], "approved");
        assert_eq!(b["history"][1]["actor"], "lan");
        assert_eq!(b["history"][1]["detail"]["reason"], "Đã xác minh với Sở Tài chính");
    }

    /// A dry-run carried out for real (not one on the allowlist), and blocks by hand:
    /// one that passes, one the allowlist refuses.
    fn carry_out_and_block_by_hand(&self) {
        let d = &self.d;
        let list = self.cli(&["blocks", "list", "--json"]);
        let dry = |target: &str| -> i64 {
            let b = list
                .as_array()
                .expect("blocks")
                .iter()
                .find(|b| b["state"] == "dry-run" && b["target"] == target);
            b.and_then(|b| b["id"].as_i64())
                .unwrap_or_else(|| panic!("a dry-run of {target}: {list}"))
        };
        let (c2, host) = (dry("198.51.100.200"), dry("10.46.120.15"));
        d.go(&format!("{}/#/blocks", self.base));
        d.wait("#manual-block form");
        d.click_and_answer_prompt(
            &format!("#blocks tr[data-block='{c2}'] [data-block-action='approve']"),
            "Máy chủ C2 đã xác minh",
        );
        d.until(&format!("document.querySelector(\"#blocks tr[data-block='{c2}'] [data-state]\")?.dataset.state === 'approved'"));
        let b = self.cli(&["blocks", "show", &c2.to_string(), "--json"]);
        assert_eq!(
            (b["block"]["state"].as_str(), b["block"]["expires_at"].as_str()),
            (Some("approved"), None),
            "its time starts when carried out"
        );
        // The office network is on the console's allowlist: the dry-run stays one.
        d.click_and_answer_prompt(
            &format!("#blocks tr[data-block='{host}'] [data-block-action='approve']"),
            "thử",
        );
        d.until("document.querySelector('#toast').textContent.includes('10.46.120.15 thuộc danh sách cho phép office: 10.46.120.0/24: không thể phê duyệt')");
        assert_eq!(
            self.cli(&["blocks", "show", &host.to_string(), "--json"])["block"]["state"],
            "dry-run"
        );
        // By hand: a target already blocked by the action is refused, naming the decision.
        d.type_in("#manual-block [name='target']", "203.0.113.99");
        d.type_in("#manual-block [name='reason']", "Máy chủ C2 của sự cố");
        d.click("#manual-block-submit");
        d.until("document.querySelector('#manual-block-error').textContent.includes('203.0.113.99 đang bị chặn bởi fw (quyết định #')");
        // Another address, six hours, a reason.
        d.script("const e = document.querySelector(\"#manual-block [name='target']\"); e.value = ''; e.dispatchEvent(new Event('input'));");
        d.type_in("#manual-block [name='target']", "192.0.2.66");
        d.script("const e = document.querySelector(\"#manual-block [name='ttl']\"); e.value = '6h'; e.dispatchEvent(new Event('change'));");
        d.click("#manual-block-submit");
        d.until("[...document.querySelectorAll('#blocks tr[data-block]')].some((r) => r.textContent.includes('192.0.2.66'))");
        let row = d.text("#blocks tr[data-block]");
        for w in [
            "192.0.2.66",
            "đã phê duyệt",
            "thủ công",
            "lan",
            "chặn thủ công bởi lan: Máy chủ C2 của sự cố",
            "địa chỉ",
        ] {
            assert!(row.contains(w), "{w} in the manual block's row: {row}");
        }
        let manual = self.cli(&["blocks", "list", "--json", "--target", "192.0.2.66"]);
        assert_eq!(
            (manual[0]["policy"].as_str(), manual[0]["ttl_secs"].as_u64()),
            (Some("manual"), Some(21_600))
        );
        // A resolver is never blocked: the form says why, nothing is recorded.
        d.type_in("#manual-block [name='target']", "10.46.1.53");
        d.type_in("#manual-block [name='reason']", "thử");
        d.click("#manual-block-submit");
        d.until("document.querySelector('#manual-block-error').textContent.includes('10.46.1.53 thuộc danh sách cho phép resolvers: 10.46.1.53: không bao giờ bị chặn')");
        assert_eq!(
            self.cli(&[
                "blocks",
                "list",
                "--json",
                "--target",
                "10.46.1.53",
                "--state",
                "approved"
            ]),
            json!([])
        );
        self.shot("5b-blocks-by-hand.png");
    }

    /// The wall screen: the tiles are the API's, every list links to the queue filtered
    /// by it, and in kiosk mode it fits 1920×1080 with no label cut off.
    fn wall_screen(&self) {
        let d = &self.d;
        d.go(&format!("{}/#/overview", self.base));
        d.wait("#tiles [data-tile]");
        let api = d.api("/api/v1/wall");
        let shown = d.script("return Object.fromEntries([...document.querySelectorAll('#tiles [data-tile]')].map((a) => [a.dataset.tile, a.querySelector('.v').textContent]));");
        for k in ["open", "unacknowledged", "high_critical", "overdue"] {
            let n = api["tiles"][k].as_u64().expect("a count");
            assert_eq!(
                shown[k].as_str(),
                Some(n.to_string().as_str()),
                "tile {k}: {shown} vs {}",
                api["tiles"]
            );
        }
        // The demo's month is long past: the period shown ends at its newest activity.
        assert!(d.text("#overview-period").starts_with("Không có hoạt động trong khoảng đã chọn"));
        d.wait("#chart-per-hour rect");
        let heat = d.text("#attack-map");
        assert!(heat.contains("Điều khiển và kiểm soát (C2)") && heat.contains("T1071"), "{heat}");
        // A signature clicks through to its incidents.
        let sig = d.script(
            "return document.querySelector('#bars-signatures a.bar').getAttribute('href');",
        );
        let sig = sig.as_str().expect("a link").to_string();
        assert!(sig.contains("rule=1%3A"), "{sig}");
        // (Clicked again while a live reload may replace the list.)
        d.until("(document.querySelector('#bars-signatures a.bar')?.click(), location.hash.includes('rule='))");
        d.wait("#extra-filters [data-filter='rule']");
        d.wait("#queue tbody tr");
        let api_q = d.api(&format!("/api/v1/incidents?{}", sig.trim_start_matches("#/incidents?")));
        let listed = d.script("return document.querySelectorAll('#queue tbody tr').length;");
        assert_eq!(listed, json!(api_q["incidents"].as_array().map_or(0, Vec::len)));
        assert!(listed.as_u64().unwrap_or(0) > 0, "the signature's incidents are listed");
        // Kiosk at a wall screen's size: no scrolling, no label cut.
        d.viewport(1920, 1080);
        d.go(&format!("{}/#/overview?kiosk=1", self.base));
        d.wait("body.kiosk #tiles");
        d.wait("#chart-per-hour rect");
        self.shot("7-overview-kiosk-1920x1080.png");
        let fit = d.script("return [document.documentElement.scrollHeight, window.innerHeight, getComputedStyle(document.querySelector('#bar')).display];");
        assert_eq!(fit[2], "none", "no console bar in kiosk mode");
        assert!(fit[0].as_u64() <= fit[1].as_u64(), "fits without scrolling: {fit}");
        let cut = d.script("return [...document.querySelectorAll('.wall .l, .wall h2, .tile .l, .tile .sub, #attack-map th, #attack-map a.cell')].filter((e) => e.scrollWidth > e.clientWidth + 1).map((e) => e.textContent);");
        assert_eq!(cut, json!([]), "labels cut off");
        // (Clicked again while a live reload may replace the button.)
        d.until("(document.querySelector('#kiosk-exit')?.click(), !document.body.classList.contains('kiosk'))");
        d.viewport(1440, 900);
    }

    /// Monthly reports: the form opens on the demo's month (the newest with incidents);
    /// the kept reports, one row per scope with its agency's name; the PDF downloads.
    fn reports(&self) {
        let d = &self.d;
        d.go(&format!("{}/#/reports", self.base));
        d.wait("#report-download");
        assert_eq!(
            d.script("return document.querySelector('#report-month').value;"),
            json!("2026-10")
        );
        let href =
            d.script("return document.querySelector('#report-download').getAttribute('href');");
        assert_eq!(href, json!("/api/v1/reports/generate?month=2026-10&lang=vi&format=pdf"));
        let kept = d.text("#reports tbody");
        assert_eq!(
            d.script("return document.querySelectorAll('#reports tbody tr').length;"),
            json!(5),
            "{kept}"
        );
        for words in ["Thành phố Huế", "Sở Tài chính", "UBND phường Phú Hội", "PDF"]
        {
            assert!(kept.contains(words), "{words} in the kept reports: {kept}");
        }
        d.script("window.gwPdf = null; fetch(document.querySelector('#report-download').href).then((r) => r.arrayBuffer().then((b) => { window.gwPdf = [r.status, r.headers.get('content-type'), new TextDecoder().decode(new Uint8Array(b).slice(0, 5))]; }));");
        d.until("window.gwPdf !== null");
        assert_eq!(d.script("return window.gwPdf;"), json!([200, "application/pdf", "%PDF-"]));
        // The SOC lead's recommendations for the month: none yet, then written and kept.
        d.until(
            "document.querySelector('#recommendations-who').textContent.startsWith('Chưa viết')",
        );
        d.type_in("#recommendations-vi", "Nâng cấp Log4j trên cổng thông tin.");
        d.click("#recommendations-save");
        d.until("document.querySelector('#recommendations-who').textContent.startsWith('Người viết lan')");
        let r = d.api("/api/v1/reports/recommendations?month=2026-10");
        assert_eq!(r["text"], "Nâng cấp Log4j trên cổng thông tin.");
        self.shot("6-reports.png");
    }

    /// The demo's sensor, its health from the heartbeat the replay stored.
    fn sensors(&self) {
        let d = &self.d;
        d.go(&format!("{}/#/sensors", self.base));
        d.wait("#sensors tbody tr");
        let row = d.text("#sensors tbody tr");
        for words in ["hue-gw-sensor-01", "đã đọc tệp ghi", "1.427", "#1 · 8"] {
            assert!(row.contains(words), "{words} in the sensor's row: {row}");
        }
    }

    /// The overview draws its chart and lists; English labels on request.
    fn overview_and_english(&self) {
        let d = &self.d;
        d.go(&format!("{}/#/overview", self.base));
        d.wait("#chart-per-hour rect");
        d.wait("#bars-agencies a.bar");
        self.shot("7-overview.png");
        d.script("const s = document.querySelector('#lang'); s.value = 'en'; s.dispatchEvent(new Event('change'));");
        d.until("document.querySelector(\"#nav [data-nav='queue']\").textContent === 'Incidents'");
        d.go(&format!("{}/#/incidents?status=", self.base));
        d.wait("#queue tbody tr");
        d.until("document.querySelector('#queue th').textContent === 'Severity'");
        self.shot("8-queue-en.png");
    }

    /// Every page at a laptop's and a wall screen's size, in both languages:
    /// `{width}x{height}-{lang}-{page}.png`.
    fn every_page_at_two_sizes(&self, incident: i64) {
        let d = &self.d;
        let pages = [
            ("queue", "#/incidents?status=", "#queue tbody tr"),
            ("incident", &*format!("#/incidents/{incident}"), "#incident-title"),
            ("overview", "#/overview", "#chart-per-hour rect"),
            ("blocks", "#/blocks", "#blocks tr[data-block]"),
            ("reports", "#/reports", "#report-download"),
            ("suppressions", "#/suppressions", "#suppression-form"),
            ("sensors", "#/sensors", "#sensors tbody tr"),
        ];
        for (w, h) in [(1440, 900), (1920, 1080)] {
            d.viewport(w, h);
            for lang in ["vi", "en"] {
                d.script(&format!("const s = document.querySelector('#lang'); s.value = '{lang}'; s.dispatchEvent(new Event('change'));"));
                for (name, hash, ready) in pages {
                    d.go(&format!("{}/{hash}", self.base));
                    d.wait(ready);
                    self.shot(&format!("{w}x{h}-{lang}-{name}.png"));
                }
            }
        }
    }
}

#[test]
fn an_analyst_triages_an_incident_in_chromium() {
    if !Path::new(CHROMIUM).exists() || !Path::new(CHROMEDRIVER).exists() {
        eprintln!("SKIPPED: the browser test needs Debian's chromium and chromium-driver ({CHROMIUM}, {CHROMEDRIVER}); .ci/run installs them");
        return;
    }
    let dir = Scratch::new("browser");
    let out = run_in(&dir.0, &["demo", "--no-console"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    add_user(&dir, "lan", "analyst", "lan's long password");
    // Blocking by hand needs an action; the office network is never blocked.
    std::fs::write(dir.path("console.toml"), super::console_response::RESPONSE)
        .expect("console.toml");
    let console = start_console_with(&dir, &["--config", "console.toml"]);
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("console-screenshots");
    std::fs::create_dir_all(&shots).expect("screenshot folder");
    let d = Driver::start(&dir.path("chromium-profile"));
    let tour = Tour { d, dir, base: console.base.clone(), shots };
    tour.sign_in();
    let open = tour.queue();
    tour.live_update(open[open.len() - 1]);
    let dns = tour.dns_evidence_and_pivots(&open);
    tour.triage(open[0]);
    tour.blocks();
    tour.carry_out_and_block_by_hand();
    tour.reports();
    tour.sensors();
    tour.wall_screen();
    tour.overview_and_english();
    tour.english_incidents(open[0], dns);
    tour.every_page_at_two_sizes(open[0]);
    eprintln!("screenshots: {}", tour.shots.display());
}
