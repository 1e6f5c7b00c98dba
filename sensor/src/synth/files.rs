//! Files the generated captures carry, built as their formats lay them out so that
//! libmagic names them as it names real ones.

/// A 32-bit Windows GUI program: DOS header and stub ("This program cannot be run in
/// DOS mode."), "PE\0\0", a COFF header for i386 with one section, a PE32 optional
/// header, then `body` bytes of "code". libmagic: `PE32 executable (GUI) Intel 80386,
/// for MS Windows, 1 sections`.
pub fn pe32_program(body: usize) -> Vec<u8> {
    let mut f = vec![0u8; 0x200];
    f[..2].copy_from_slice(b"MZ");
    f[2..16].copy_from_slice(b"\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00");
    f[0x3c..0x40].copy_from_slice(&0x80u32.to_le_bytes());
    let stub = b"This program cannot be run in DOS mode.\r\r\n$";
    f[0x4e..0x4e + stub.len()].copy_from_slice(stub);
    f[0x80..0x84].copy_from_slice(b"PE\0\0");
    f[0x84..0x86].copy_from_slice(&0x014cu16.to_le_bytes()); // i386
    f[0x86..0x88].copy_from_slice(&1u16.to_le_bytes()); // one section
    f[0x94..0x96].copy_from_slice(&0xe0u16.to_le_bytes()); // optional header size
    f[0x96..0x98].copy_from_slice(&0x0102u16.to_le_bytes()); // executable, 32-bit
    f[0x98..0x9a].copy_from_slice(&0x010bu16.to_le_bytes()); // PE32
    f[0x98 + 68..0x98 + 70].copy_from_slice(&2u16.to_le_bytes()); // GUI subsystem
    f.extend((0..body as u32).map(|i| (i.wrapping_mul(31) % 253) as u8));
    f
}
