//! The monthly report of the demo, as an operator makes it: `gatewatch report` in both
//! languages and all formats. The PDF goes through poppler (`pdftotext`, `pdffonts`,
//! `pdftoppm`): its text is the report's text, Vietnamese included, from embedded font
//! subsets, on A4 pages rendered to PNG. The HTML is rendered by headless Chromium to a
//! PNG. The renders are in `target/tmp/report-renders/` for people to look at.
//!
//! poppler-utils and chromium are installed by `.ci/run`; without them those parts say
//! SKIPPED and why.

use std::process::Command;

use super::common::{run_in, Scratch};

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn the_demo_report_in_pdf_and_html_in_both_languages() {
    let dir = Scratch::new("report");
    let out = run_in(&dir.0, &["demo", "--no-console"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let renders = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("report-renders");
    std::fs::create_dir_all(&renders).expect("renders folder");
    let set = "correlator.assets=gatewatch-data/demo/assets.toml";
    for lang in ["vi", "en"] {
        for format in ["pdf", "html", "json"] {
            let file = format!("report-{lang}.{format}");
            let out = run_in(
                &dir.0,
                &[
                    "--set", set, "report", "--month", "2026-10", "--lang", lang, "--format",
                    format, "--out", &file,
                ],
            );
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        }
    }
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path("report-vi.json")).expect("json"))
            .expect("json");
    assert_eq!(
        (json["incidents"]["total"].as_u64(), json["incidents"]["alerts"].as_u64()),
        (Some(3), Some(38))
    );
    let agencies: Vec<&str> = json["incidents"]["by_agency"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["id"].as_str())
        .collect();
    assert_eq!(agencies.len(), 3, "{agencies:?}");
    // The sensor's health, from the heartbeat the replay stored: the whole capture
    // counted (the sensor started within the month), no uptime share for a file read.
    let s = &json["sensors"][0];
    assert_eq!(s["name"], "hue-gw-sensor-01", "{s}");
    assert!(s["packets"].as_u64().is_some_and(|p| p > 1000), "{s}");
    assert_eq!((s["uptime"].is_null(), s["reads_files"].as_bool()), (true, Some(true)), "{s}");

    // An agency's report, and errors that name what is wrong.
    let out = run_in(
        &dir.0,
        &[
            "--set",
            set,
            "report",
            "--month",
            "2026-10",
            "--agency",
            "so-tai-chinh",
            "--format",
            "json",
            "--out",
            "stc.json",
        ],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path("stc.json")).unwrap()).unwrap();
    assert_eq!(stc["incidents"]["total"], 1);
    for (args, says) in [
        (vec!["report", "--month", "2026-13"], "month `2026-13`"),
        (vec!["report", "--month", "2026-10", "--agency", "nope"], "agency `nope`"),
        (vec!["report", "--month", "2026-10", "--format", "docx"], "format `docx`"),
    ] {
        let mut a = vec!["--set", set];
        a.extend(args);
        let out = run_in(&dir.0, &a);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains(says), "{err}");
    }

    if ["pdftotext", "pdffonts", "pdftoppm", "pdfimages"].iter().all(|t| have(t)) {
        for lang in ["vi", "en"] {
            let pdf = dir.path(&format!("report-{lang}.pdf"));
            let text = Command::new("pdftotext")
                .args(["-layout"])
                .arg(&pdf)
                .arg("-")
                .output()
                .expect("pdftotext");
            let text = String::from_utf8_lossy(&text.stdout);
            let must: &[&str] = if lang == "vi" {
                &[
                    "BÁO CÁO TÌNH HÌNH AN TOÀN THÔNG TIN",
                    "Tháng 10/2026",
                    "Sở Tài chính",
                    "UBND phường Phú Hội",
                    "Cố gắng xâm nhập",
                    "Xu hướng các tháng",
                    "hue-gw-sensor-01",
                    "Đọc tệp ghi",
                    // The administrative form, and the summary page's reading.
                    "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
                    "Độc lập - Tự do - Hạnh phúc",
                    "UBND THÀNH PHỐ HUẾ",
                    "Căn cứ",
                    "Nghị định số 85/2016/NĐ-CP",
                    "Đánh giá chung",
                    "ghi nhận 3 sự cố (tăng 3 so với tháng 9/2026)",
                    "So với tháng trước",
                    "Kiến nghị, đề xuất",
                    "Nơi nhận:",
                    "GIÁM ĐỐC",
                    "Trang 1/",
                ]
            } else {
                &[
                    "INFORMATION SECURITY SITUATION REPORT",
                    "SOCIALIST REPUBLIC OF VIETNAM",
                    "Compared with the previous month",
                    "recorded 3 incidents (up 3 on September 2026)",
                    "Recipients:",
                    "DIRECTOR",
                    "October 2026",
                    "Department",
                    "Intrusion attempts",
                    "Page 1/",
                ]
            };
            for m in must {
                assert!(text.contains(m), "`{m}` not in the {lang} PDF's text:\n{text}");
            }
            let fonts = Command::new("pdffonts").arg(&pdf).output().expect("pdffonts");
            let fonts = String::from_utf8_lossy(&fonts.stdout);
            let lines: Vec<&str> = fonts.lines().filter(|l| l.contains("DejaVuSans")).collect();
            assert_eq!(lines.len(), 2, "regular and bold: {fonts}");
            assert!(
                lines.iter().all(|l| l.contains("yes yes yes")),
                "embedded, subset, with Unicode maps: {fonts}"
            );
            let prefix = renders.join(format!("report-{lang}"));
            let o = Command::new("pdftoppm")
                .args(["-r", "60", "-png"])
                .arg(&pdf)
                .arg(&prefix)
                .output()
                .expect("pdftoppm");
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            let pages = std::fs::read_dir(&renders)
                .unwrap()
                .filter(|e| {
                    e.as_ref().is_ok_and(|e| {
                        e.file_name().to_string_lossy().starts_with(&format!("report-{lang}-"))
                    })
                })
                .count();
            assert!((3..=8).contains(&pages), "{pages} pages");
        }
        // A logo (here, a page rendered above) is drawn in the PDF's heading.
        let logo = format!("report.logo={}", renders.join("report-vi-1.png").display());
        let out = run_in(
            &dir.0,
            &[
                "--set", set, "--set", &logo, "report", "--month", "2026-10", "--format", "pdf",
                "--out", "logo.pdf",
            ],
        );
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let list = Command::new("pdfimages")
            .arg("-list")
            .arg(dir.path("logo.pdf"))
            .output()
            .expect("pdfimages");
        let list = String::from_utf8_lossy(&list.stdout);
        assert_eq!(
            list.lines().filter(|l| l.trim_start().starts_with("1 ")).count(),
            1,
            "one image on page 1: {list}"
        );
    } else {
        eprintln!(
            "SKIPPED: the PDF checks need poppler-utils (pdftotext, pdffonts, pdftoppm, pdfimages)"
        );
    }
    if have("chromium") {
        for lang in ["vi", "en"] {
            let png = renders.join(format!("report-{lang}-html.png"));
            let _ = std::fs::remove_file(&png);
            let url = format!("file://{}", dir.path(&format!("report-{lang}.html")).display());
            let o = Command::new("chromium")
                .args([
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--hide-scrollbars",
                    "--window-size=900,2800",
                ])
                .arg(format!("--screenshot={}", png.display()))
                .arg(url)
                .output()
                .expect("chromium");
            let shot = std::fs::read(&png).unwrap_or_default();
            assert!(
                shot.starts_with(b"\x89PNG"),
                "no screenshot: {}",
                String::from_utf8_lossy(&o.stderr)
            );
        }
    } else {
        eprintln!("SKIPPED: the HTML render needs chromium");
    }
    eprintln!("report renders: {}", renders.display());
}
