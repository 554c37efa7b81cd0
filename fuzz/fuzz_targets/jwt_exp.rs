//! The JWT `exp` reader: any text as a token, and any bytes as the payload of
//! a well-formed token; an accepted `exp` is always in range.
#![no_main]

use std::time::{Duration, UNIX_EPOCH};

use acs_chat::fuzzing::jwt_expiry;
use base64::Engine;
use libfuzzer_sys::fuzz_target;

fn check(token: &str) {
    if let Ok(exp) = jwt_expiry(token) {
        let secs = exp.duration_since(UNIX_EPOCH).expect("exp after 1970");
        assert!(secs <= Duration::from_secs(100_000_000_000), "{secs:?}");
        assert_eq!(token.split('.').count(), 3);
    }
}

fuzz_target!(|data: &[u8]| {
    check(&String::from_utf8_lossy(data));
    let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(data);
    check(&format!("eyJhbGciOiJub25lIn0.{payload}.c2ln"));
});
