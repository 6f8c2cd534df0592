//! dotenv files read by DotenvStore, and PostgreSQL secret values.
#![no_main]

use libfuzzer_sys::fuzz_target;
use runway_core::secrecy::SecretString;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = runway_secrets::audit::parse_dotenv(&text);
    let _ = runway_secrets::PgCredentials::parse(&SecretString::from(text.into_owned()));
});
