//! The type of an extracted file as libmagic names it — what Suricata writes in
//! `fileinfo.magic` and matches with `filemagic` (`PE32 executable (GUI) Intel 80386,
//! for MS Windows`, `Zip archive data, at least v2.0 to extract`, …).
//!
//! A libmagic handle is not shared between threads: each worker thread opens its own
//! the first time it needs one (the compiled database, `/usr/share/misc/magic.mgc`,
//! is mapped once per thread). When libmagic cannot be opened, a warning is logged once
//! per thread and a few signatures of the commonest types stand in.

use std::cell::RefCell;

use magic::cookie::{DatabasePaths, Flags, Load};
use magic::Cookie;

/// Bytes of a file shown to libmagic: its own default limit (`MAGIC_PARAM_BYTES_MAX`),
/// enough for the tables of an OLE document that a cut at 256 KiB left unread.
const MAGIC_BYTES: usize = 1024 * 1024;

thread_local! {
    static COOKIE: RefCell<Option<Option<Cookie<Load>>>> = const { RefCell::new(None) };
}

fn open() -> Option<Cookie<Load>> {
    let opened = Cookie::open(Flags::ERROR)
        .map_err(|e| e.to_string())
        .and_then(|c| c.load(&DatabasePaths::default()).map_err(|e| e.to_string()));
    match opened {
        Ok(c) => Some(c),
        Err(e) => {
            tracing::warn!("libmagic: {e}; file types from Gatewatch's few signatures");
            None
        }
    }
}

/// The type of a file from its first bytes; `None` for an empty file or one libmagic
/// cannot name (`data`).
pub fn describe(data: &[u8]) -> Option<String> {
    if data.is_empty() {
        return None;
    }
    let head = &data[..data.len().min(MAGIC_BYTES)];
    let named = COOKIE.with(|slot| {
        let mut slot = slot.borrow_mut();
        let cookie = slot.get_or_insert_with(open).as_ref()?;
        cookie.buffer(head).ok()
    });
    match named {
        Some(n) if !n.is_empty() && n != "data" => Some(n),
        Some(_) => None,
        None => signature(head).map(str::to_string),
    }
}

/// Without libmagic: the commonest types by their first bytes, in libmagic's words.
fn signature(data: &[u8]) -> Option<&'static str> {
    const SIGS: &[(&[u8], &str)] = &[
        (b"\x7fELF", "ELF"),
        (b"%PDF-", "PDF document"),
        (b"PK\x03\x04", "Zip archive data"),
        (b"\x1f\x8b", "gzip compressed data"),
        (b"\x89PNG\r\n\x1a\n", "PNG image data"),
        (b"\xff\xd8\xff", "JPEG image data"),
        (b"GIF8", "GIF image data"),
        (b"Rar!\x1a\x07", "RAR archive data"),
        (b"7z\xbc\xaf\x27\x1c", "7-zip archive data"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "Composite Document File V2 Document"),
        (b"{\\rtf", "Rich Text Format data"),
    ];
    if data.starts_with(b"MZ") {
        // A PE file only when the DOS header's `e_lfanew` points at "PE\0\0".
        let at = data.get(0x3c..0x40).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
        let pe = at.and_then(|a| data.get(a as usize..(a as usize).checked_add(4)?));
        return Some(if pe == Some(b"PE\0\0") { "PE32 executable" } else { "MS-DOS executable" });
    }
    SIGS.iter().find(|(sig, _)| data.starts_with(sig)).map(|(_, name)| *name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pe32() -> Vec<u8> {
        crate::synth::files::pe32_program(64)
    }

    #[test]
    fn libmagic_names_files_as_suricata_writes_them() {
        let pe = describe(&pe32()).expect("a type");
        assert!(pe.starts_with("PE32 executable"), "{pe}");
        assert!(pe.contains("Intel 80386") && pe.contains("MS Windows"), "{pe}");
        // A DOS header and stub without a PE header is a DOS program, not "PE32".
        let mut dos = crate::synth::files::pe32_program(0);
        dos[0x80..0x84].copy_from_slice(b"\0\0\0\0");
        let mz = describe(&dos).expect("a type");
        assert!(mz.starts_with("MS-DOS executable"), "{mz}");
        let html = describe(b"<!DOCTYPE html>\n<html><head><title>x</title></head></html>\n");
        assert!(html.is_some_and(|h| h.starts_with("HTML document")), "html");
        assert!(describe(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
            .is_some_and(|p| p.starts_with("PDF document")));
        assert_eq!(describe(b""), None);
    }

    #[test]
    fn the_fallback_tells_a_pe_file_from_a_dos_header() {
        assert_eq!(signature(&pe32()), Some("PE32 executable"));
        assert_eq!(signature(b"MZ\x90\x00"), Some("MS-DOS executable"));
        assert_eq!(signature(b"PK\x03\x04rest"), Some("Zip archive data"));
        assert_eq!(signature(b"\x00\x01"), None);
    }
}
