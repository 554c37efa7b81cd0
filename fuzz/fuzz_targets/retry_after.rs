//! Delay headers: any values, in any combination, give a bounded delay or
//! none, without a panic. Input: header lines `name: value` separated by `\n`.
#![no_main]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use acs_chat::fuzzing::retry_after;
use libfuzzer_sys::fuzz_target;

/// Year 10000: nothing an HTTP date can express lies beyond it.
const LATEST: Duration = Duration::from_secs(253_402_300_800);

fn split(line: &[u8]) -> (&[u8], &[u8]) {
    match line.iter().position(|&b| b == b':') {
        Some(i) => {
            let value = &line[i + 1..];
            let start = value.iter().position(|&b| b != b' ').unwrap_or(value.len());
            (&line[..i], &value[start..])
        }
        None => (b"retry-after", line),
    }
}

fuzz_target!(|data: &[u8]| {
    let pairs: Vec<(&[u8], &[u8])> = data.split(|&b| b == b'\n').map(split).collect();
    let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    if let Some(delay) = retry_after(&pairs, now) {
        assert!(delay <= LATEST, "{delay:?}");
    }
    // The same value under each of the three names.
    if let Some(value) = pairs.first().map(|p| p.1) {
        for name in [
            &b"retry-after-ms"[..],
            b"x-ms-retry-after-ms",
            b"Retry-After",
        ] {
            if let Some(delay) = retry_after(&[(name, value)], SystemTime::now()) {
                assert!(delay <= LATEST, "{delay:?}");
            }
        }
    }
});
