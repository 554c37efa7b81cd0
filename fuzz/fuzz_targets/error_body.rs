//! Service error bodies and send-message answers: any bytes parse without a
//! panic, and what comes out is one line with no NUL.
#![no_main]

use acs_chat::fuzzing::{message_id_from_body, message_id_from_location, parse_error_body};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some((code, message)) = parse_error_body(data) {
        assert!(!code.is_empty() || !message.is_empty());
        for text in [&code, &message] {
            assert!(!text.chars().any(char::is_control), "{text:?}");
            assert_eq!(text.trim(), text.as_str());
        }
    }
    if let Some(id) = message_id_from_body(data) {
        assert!(!id.is_empty() && !id.contains('\0'));
    }
    if let Ok(location) = std::str::from_utf8(data) {
        if let Some(id) = message_id_from_location(location) {
            assert!(!id.is_empty() && !id.contains('\0'));
        }
    }
});
