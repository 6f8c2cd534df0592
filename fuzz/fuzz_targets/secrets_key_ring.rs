//! JWT key ring secret values.
#![no_main]

use libfuzzer_sys::fuzz_target;
use runway_core::secrecy::SecretString;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data).into_owned();
    if let Ok(ring) = runway_secrets::KeyRing::parse(&SecretString::from(text)) {
        let _ = ring.schedule();
    }
});
