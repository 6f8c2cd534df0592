//! FileSecretStore files.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = runway_secrets::decode_store_file(data);
});
