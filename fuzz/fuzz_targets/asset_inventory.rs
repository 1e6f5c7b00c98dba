//! Asset inventory files (TOML and CSV): read or refused with a reason, never a panic;
//! a read inventory answers lookups of any address.
#![no_main]
use gatewatch_correlator::incident::assets::Inventory;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    for inv in [Inventory::from_toml(text, "f.toml"), Inventory::from_csv(text, "f.csv")] {
        match inv {
            Ok(inv) => {
                for ip in ["10.46.10.20", "203.0.113.5", "::1", "2001:db8::1", "::ffff:10.0.0.1"] {
                    let _ = inv.zone(ip);
                }
                let _ = inv.zone_of_entity("host:x");
            }
            Err(e) => assert!(!e.to_string().is_empty()),
        }
    }
});
