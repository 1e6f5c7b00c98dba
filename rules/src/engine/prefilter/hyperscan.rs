//! Hyperscan (Intel's SIMD multi-pattern matcher, the one Suricata uses) as the bulk
//! matcher, with the `hyperscan` cargo feature and Debian's `libhyperscan-dev`.
//!
//! The few entry points needed are declared here against `libhs` (block mode, literal
//! databases), rather than through the `hyperscan` crate, which would bring second
//! versions of `thiserror`, `bitflags` and friends into the build.
//!
//! A database holds the patterns of one prefilter group, each compiled as an expression
//! of escaped bytes (`\x68\x04...`, as Suricata does) with `HS_FLAG_SINGLEMATCH` (reported once per scan, which is all a prefilter needs):
//! `nocase` patterns caselessly, case-sensitive variants as they are, so that no match
//! needs confirming afterwards. A database is immutable and shared by every worker;
//! each worker scans with its own scratch space ([`Scratch`]), cloned from one sized
//! for every database of the prefilter.
//!
//! Not the literal API (`hs_compile_lit_multi`): Hyperscan 5.4's literal mode fails
//! scans (`HS_UNKNOWN_ERROR`) on sets of patterns with long runs of NUL bytes, which ET
//! Open has (intel/hyperscan#303), and the alerts behind the rest of that buffer's
//! matches were lost.
//!
//! The crate's only unsafe code: the boundary to libhs, each block with its reason.
#![allow(unsafe_code)]

use std::ffi::{c_char, c_int, c_uint, c_ulonglong, c_void, CStr, CString};
use std::ptr::{self, NonNull};

#[repr(C)]
struct HsDatabase {
    _private: [u8; 0],
}

#[repr(C)]
struct HsScratch {
    _private: [u8; 0],
}

#[repr(C)]
struct HsCompileError {
    message: *const c_char,
    expression: c_int,
}

type MatchHandler = unsafe extern "C" fn(
    id: c_uint,
    from: c_ulonglong,
    to: c_ulonglong,
    flags: c_uint,
    context: *mut c_void,
) -> c_int;

const HS_SUCCESS: c_int = 0;
const HS_SCAN_TERMINATED: c_int = -3;
const HS_FLAG_CASELESS: c_uint = 1;
const HS_FLAG_SINGLEMATCH: c_uint = 8;
const HS_MODE_BLOCK: c_uint = 1;

#[link(name = "hs")]
extern "C" {
    fn hs_compile_multi(
        expressions: *const *const c_char,
        flags: *const c_uint,
        ids: *const c_uint,
        elements: c_uint,
        mode: c_uint,
        platform: *const c_void,
        db: *mut *mut HsDatabase,
        error: *mut *mut HsCompileError,
    ) -> c_int;
    fn hs_free_compile_error(error: *mut HsCompileError) -> c_int;
    fn hs_free_database(db: *mut HsDatabase) -> c_int;
    fn hs_alloc_scratch(db: *const HsDatabase, scratch: *mut *mut HsScratch) -> c_int;
    fn hs_clone_scratch(src: *const HsScratch, dest: *mut *mut HsScratch) -> c_int;
    fn hs_free_scratch(scratch: *mut HsScratch) -> c_int;
    fn hs_scan(
        db: *const HsDatabase,
        data: *const c_char,
        length: c_uint,
        flags: c_uint,
        scratch: *mut HsScratch,
        on_event: MatchHandler,
        context: *mut c_void,
    ) -> c_int;
}

/// One literal of a database: its bytes and whether it matches caselessly.
pub(crate) struct Literal<'a> {
    pub bytes: &'a [u8],
    pub caseless: bool,
}

/// A compiled literal database; pattern ids are the literals' indexes.
#[derive(Debug)]
pub(crate) struct HsSet {
    db: NonNull<HsDatabase>,
    patterns: usize,
}

// SAFETY: a Hyperscan database is read-only after compilation and documented as safe to
// scan from several threads at once, each with its own scratch.
unsafe impl Send for HsSet {}
unsafe impl Sync for HsSet {}

impl Drop for HsSet {
    fn drop(&mut self) {
        // SAFETY: the database was allocated by hs_compile_multi and is freed once.
        unsafe { hs_free_database(self.db.as_ptr()) };
    }
}

impl HsSet {
    /// Compiles `literals` (at least one) into a block-mode database.
    pub(crate) fn new(literals: &[Literal<'_>]) -> Result<HsSet, HsError> {
        if literals.is_empty() {
            return Err(HsError::NoPatterns);
        }
        let count = c_uint::try_from(literals.len()).map_err(|_| HsError::TooMany)?;
        let escaped: Vec<CString> = literals.iter().map(|l| escape(l.bytes)).collect();
        let exprs: Vec<*const c_char> = escaped.iter().map(|e| e.as_ptr()).collect();
        let flags: Vec<c_uint> = literals
            .iter()
            .map(|l| HS_FLAG_SINGLEMATCH | if l.caseless { HS_FLAG_CASELESS } else { 0 })
            .collect();
        let ids: Vec<c_uint> = (0..count).collect();
        let mut db: *mut HsDatabase = ptr::null_mut();
        let mut err: *mut HsCompileError = ptr::null_mut();
        // SAFETY: the three arrays hold `count` elements each and outlive the call; the
        // expressions are NUL-terminated.
        let rc = unsafe {
            hs_compile_multi(
                exprs.as_ptr(),
                flags.as_ptr(),
                ids.as_ptr(),
                count,
                HS_MODE_BLOCK,
                ptr::null(),
                &mut db,
                &mut err,
            )
        };
        if rc != HS_SUCCESS {
            return Err(compile_error(err, rc));
        }
        let db = NonNull::new(db).ok_or(HsError::NoDatabase)?;
        Ok(HsSet { db, patterns: literals.len() })
    }

    pub(crate) fn len(&self) -> usize {
        self.patterns
    }

    /// Grows `scratch` to serve this database too.
    pub(crate) fn fit(&self, scratch: &mut Scratch) -> Result<(), HsError> {
        let mut p = scratch.0.map_or(ptr::null_mut(), NonNull::as_ptr);
        // SAFETY: `p` is null or a scratch allocated by Hyperscan; on success it is
        // replaced by one large enough for this database too.
        let rc = unsafe { hs_alloc_scratch(self.db.as_ptr(), &mut p) };
        scratch.0 = NonNull::new(p);
        if rc == HS_SUCCESS {
            Ok(())
        } else {
            Err(HsError::Scratch(rc))
        }
    }

    /// Calls `found` with the id of every pattern that occurs in `data` (each once).
    /// `scratch` must have been fitted to this database. False if Hyperscan failed the
    /// scan (matches after the failure are not reported).
    pub(crate) fn scan(
        &self,
        data: &[u8],
        scratch: &mut Scratch,
        mut found: impl FnMut(u32),
    ) -> bool {
        let Some(s) = scratch.0 else { return false };
        // Buffers over 4 GiB do not occur (packets, capped stream chunks, capped bodies);
        // the tail of one would be left unscanned.
        let len = c_uint::try_from(data.len()).unwrap_or(c_uint::MAX);
        let mut cb: &mut dyn FnMut(u32) = &mut found;
        // SAFETY: `data` is valid for `len` bytes; the context points at `cb`, which
        // outlives the call; the scratch is this thread's own.
        let rc = unsafe {
            hs_scan(
                self.db.as_ptr(),
                data.as_ptr().cast::<c_char>(),
                len,
                0,
                s.as_ptr(),
                on_match,
                (&mut cb as *mut &mut dyn FnMut(u32)).cast::<c_void>(),
            )
        };
        rc == HS_SUCCESS || rc == HS_SCAN_TERMINATED
    }
}

/// `bytes` as an expression that matches exactly them: every byte `\xHH`.
fn escape(bytes: &[u8]) -> CString {
    let mut s = String::with_capacity(bytes.len() * 4);
    for b in bytes {
        s.push_str(&format!("\\x{b:02x}"));
    }
    // Only ASCII hex escapes: no interior NUL.
    CString::new(s).unwrap_or_default()
}

unsafe extern "C" fn on_match(
    id: c_uint,
    _from: c_ulonglong,
    _to: c_ulonglong,
    _flags: c_uint,
    context: *mut c_void,
) -> c_int {
    // SAFETY: `context` is the `&mut dyn FnMut(u32)` that `HsSet::scan` passed, alive
    // for the whole scan.
    let cb = unsafe { &mut *context.cast::<&mut dyn FnMut(u32)>() };
    cb(id);
    0
}

fn compile_error(err: *mut HsCompileError, rc: c_int) -> HsError {
    if err.is_null() {
        return HsError::Compile { pattern: None, message: format!("error {rc}") };
    }
    // SAFETY: a non-null error from hs_compile_multi has a NUL-terminated message;
    // it is freed once, after the message is copied.
    unsafe {
        let e = &*err;
        let msg = if e.message.is_null() {
            format!("error {rc}")
        } else {
            CStr::from_ptr(e.message).to_string_lossy().into_owned()
        };
        let at = e.expression;
        hs_free_compile_error(err);
        HsError::Compile { pattern: (at >= 0).then_some(at), message: msg }
    }
}

/// Why Hyperscan could not serve a set of patterns (the hashed matcher serves it then).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum HsError {
    #[error("no patterns")]
    NoPatterns,
    #[error("too many patterns")]
    TooMany,
    #[error("Hyperscan returned no database")]
    NoDatabase,
    #[error("Hyperscan could not compile {}: {message}", pattern.map_or("the patterns".to_string(), |p| format!("pattern {p}")))]
    Compile { pattern: Option<c_int>, message: String },
    #[error("Hyperscan could not allocate scratch space (error {0})")]
    Scratch(c_int),
}

/// Per-thread scratch space for scanning.
#[derive(Debug, Default)]
pub(crate) struct Scratch(Option<NonNull<HsScratch>>);

// SAFETY: a scratch is used by one thread at a time (it moves with its detector).
unsafe impl Send for Scratch {}
// SAFETY: shared references only clone it (hs_clone_scratch reads the source).
unsafe impl Sync for Scratch {}

impl Clone for Scratch {
    fn clone(&self) -> Self {
        let Some(src) = self.0 else { return Scratch(None) };
        let mut p = ptr::null_mut();
        // SAFETY: `src` is a live scratch; a failed clone leaves `p` null and the
        // matcher then reports nothing, which `is_ready` lets callers check.
        let rc = unsafe { hs_clone_scratch(src.as_ptr(), &mut p) };
        if rc != HS_SUCCESS {
            return Scratch(None);
        }
        Scratch(NonNull::new(p))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            // SAFETY: allocated by Hyperscan, freed once.
            unsafe { hs_free_scratch(p.as_ptr()) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_are_found_once_each_with_their_case_mode() {
        let lits = [
            Literal { bytes: b"evil", caseless: true },
            Literal { bytes: b"Exact", caseless: false },
            Literal { bytes: b"a\0b", caseless: false },
        ];
        let set = HsSet::new(&lits).expect("compiles");
        let mut scratch = Scratch::default();
        set.fit(&mut scratch).expect("scratch");
        let mut scratch = scratch.clone();
        let scan = |data: &[u8], scratch: &mut Scratch| {
            let mut ids = Vec::new();
            set.scan(data, scratch, |id| ids.push(id));
            ids.sort_unstable();
            ids
        };
        assert_eq!(scan(b"EVIL evil exact", &mut scratch), vec![0]);
        assert_eq!(scan(b"Exact a\0b EviL", &mut scratch), vec![0, 1, 2]);
        assert!(scan(b"", &mut scratch).is_empty());
    }

    /// Runs of NUL bytes in patterns and data (the literal API failed such scans).
    #[test]
    fn patterns_of_nul_runs_are_all_found() {
        let mut pats: Vec<Vec<u8>> = (8..40).map(|n| vec![0u8; n]).collect();
        pats.push(b"\x2a\xed\xe2".iter().copied().chain(std::iter::repeat_n(0, 38)).collect());
        pats.push(std::iter::repeat_n(0, 20).chain(*b"some string").collect());
        let lits: Vec<Literal<'_>> =
            pats.iter().map(|p| Literal { bytes: p, caseless: false }).collect();
        let set = HsSet::new(&lits).expect("compiles");
        let mut scratch = Scratch::default();
        set.fit(&mut scratch).expect("scratch");
        let data: Vec<u8> =
            b"\x2a\xed\xe2".iter().copied().chain(std::iter::repeat_n(0, 40)).collect();
        let mut ids = Vec::new();
        set.scan(&data, &mut scratch, |id| ids.push(id));
        ids.sort_unstable();
        let want: Vec<u32> = (0..pats.len() as u32)
            .filter(|&i| data.windows(pats[i as usize].len()).any(|w| w == &pats[i as usize][..]))
            .collect();
        assert_eq!(ids, want);
    }

    #[test]
    fn an_empty_set_is_an_error_not_a_crash() {
        assert!(HsSet::new(&[]).is_err());
    }
}
