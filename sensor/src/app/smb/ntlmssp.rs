//! NTLMSSP (MS-NLMP) inside an SMB session setup's security blob: the AUTHENTICATE
//! message names the user, the domain and the client host. The blob is SPNEGO
//! (GSS-API) or raw; the NTLMSSP message is found by its signature.

use serde::Serialize;

use crate::app::utf16le;

const SIGNATURE: &[u8] = b"NTLMSSP\0";
const AUTHENTICATE: u32 = 3;
const NEGOTIATE_UNICODE: u32 = 0x0000_0001;

#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct Ntlmssp {
    pub domain: String,
    pub user: String,
    pub host: String,
}

/// The AUTHENTICATE message in `blob`, if there is one.
pub fn authenticate(blob: &[u8]) -> Option<Ntlmssp> {
    let at = memchr::memmem::find(blob, SIGNATURE)?;
    let m = &blob[at..];
    let u32_at = |i: usize| m.get(i..i + 4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
    if u32_at(8)? != AUTHENTICATE {
        return None;
    }
    let flags = u32_at(60).unwrap_or(NEGOTIATE_UNICODE);
    // A security buffer: length (u16), maximum length (u16), offset (u32) from the
    // message start.
    let field = |i: usize| -> String {
        let Some(len) = m.get(i..i + 2).map(|b| u16::from_le_bytes([b[0], b[1]]) as usize) else {
            return String::new();
        };
        let Some(off) = u32_at(i + 4).map(|o| o as usize) else { return String::new() };
        let Some(bytes) = m.get(off..off.saturating_add(len)) else { return String::new() };
        if flags & NEGOTIATE_UNICODE != 0 {
            utf16le(bytes)
        } else {
            String::from_utf8_lossy(bytes).into_owned()
        }
    };
    Some(Ntlmssp { domain: field(28), user: field(36), host: field(44) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_names_of_an_authenticate_message() {
        let blob = crate::synth::windows::ntlmssp_authenticate("HUE", "nguyen.van.a", "PC-SO-TC");
        let mut wrapped = b"\xa1\x82\x01\x00junk".to_vec();
        wrapped.extend_from_slice(&blob);
        let n = authenticate(&wrapped).unwrap();
        assert_eq!(n.domain, "HUE");
        assert_eq!(n.user, "nguyen.van.a");
        assert_eq!(n.host, "PC-SO-TC");
    }

    #[test]
    fn ignores_other_messages_and_bad_offsets() {
        let mut blob = crate::synth::windows::ntlmssp_authenticate("D", "u", "h");
        blob[8] = 1;
        assert_eq!(authenticate(&blob), None);
        let mut blob = crate::synth::windows::ntlmssp_authenticate("D", "u", "h");
        blob[40..44].copy_from_slice(&0xffff_fff0u32.to_le_bytes());
        assert_eq!(authenticate(&blob).unwrap().user, "");
        assert_eq!(authenticate(b"NTLMSSP\0\x03"), None);
    }
}
