//! Writes classic pcap files (little-endian). Used by tests and by `gatewatch demo`
//! to produce captures from code.

use std::io::{self, Write};

use super::LinkType;

/// Writes frames as a pcap file (classic format).
pub struct PcapWriter<W: Write> {
    out: W,
    nanos: bool,
}

impl<W: Write> PcapWriter<W> {
    /// Writes the file header for `link` (nanosecond timestamps when `nanos`).
    pub fn new(mut out: W, link: LinkType, nanos: bool) -> io::Result<Self> {
        let magic: u32 = if nanos { 0xa1b23c4d } else { 0xa1b2c3d4 };
        out.write_all(&magic.to_le_bytes())?;
        out.write_all(&2u16.to_le_bytes())?;
        out.write_all(&4u16.to_le_bytes())?;
        out.write_all(&0i32.to_le_bytes())?;
        out.write_all(&0u32.to_le_bytes())?;
        out.write_all(&262_144u32.to_le_bytes())?;
        out.write_all(&link.0.to_le_bytes())?;
        Ok(PcapWriter { out, nanos })
    }

    /// Writes one frame captured at `ts_us` (microseconds since the epoch).
    pub fn write(&mut self, ts_us: i64, data: &[u8]) -> io::Result<()> {
        let secs = ts_us.div_euclid(1_000_000) as u32;
        let us = ts_us.rem_euclid(1_000_000) as u32;
        let frac = if self.nanos { us * 1000 } else { us };
        self.out.write_all(&secs.to_le_bytes())?;
        self.out.write_all(&frac.to_le_bytes())?;
        self.out.write_all(&(data.len() as u32).to_le_bytes())?;
        self.out.write_all(&(data.len() as u32).to_le_bytes())?;
        self.out.write_all(data)
    }

    pub(crate) fn into_inner(self) -> W {
        self.out
    }

    /// Writes out what is buffered.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}
