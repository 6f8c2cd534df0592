//! Slack webhook answers: status, Retry-After and body from arbitrary bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() < 3 {
        return;
    }
    let status = u16::from_be_bytes([data[0], data[1]]) % 600;
    let split = (data[2] as usize).min(data.len() - 3);
    let (retry, body) = data[3..].split_at(split);
    let retry = std::str::from_utf8(retry).ok();
    if let Err(e) = runway_notify::slack::parse_response(status, retry, body) {
        let _ = e.kind();
        let _ = e.to_string();
    }
});
