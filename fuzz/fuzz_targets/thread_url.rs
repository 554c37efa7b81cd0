//! Request URLs built from thread ids: the id is one path segment with no
//! `/ ? #`, it decodes back to the id, and nothing else of the URL changes.
#![no_main]

use acs_chat::fuzzing::{encode_thread_id, request_url};
use libfuzzer_sys::fuzz_target;
use percent_encoding::percent_decode_str;

const OPS: [&str; 3] = ["messages", "typing", "readReceipts"];

fuzz_target!(|data: &[u8]| {
    let Some((&op, rest)) = data.split_first() else {
        return;
    };
    let Ok(id) = std::str::from_utf8(rest) else {
        return;
    };
    let segment = encode_thread_id(id);
    assert!(!segment.contains(['/', '?', '#']), "{segment}");
    assert!(segment.is_ascii());
    assert_eq!(percent_decode_str(&segment).decode_utf8().unwrap(), id);

    let op = op % 3;
    match request_url(op, id) {
        Err(_) => assert!(id.is_empty() || id == "." || id == ".."),
        Ok(text) => {
            let url = url::Url::parse(&text).unwrap();
            assert_eq!(url.host_str(), Some("example.communication.azure.com"));
            assert_eq!(url.query(), Some("api-version=2025-03-15"));
            assert_eq!(url.fragment(), None);
            let segments: Vec<&str> = url.path_segments().unwrap().collect();
            assert_eq!(segments.len(), 4, "{text}");
            assert_eq!(segments[..2], ["chat", "threads"]);
            assert_eq!(segments[3], OPS[op as usize]);
            assert_eq!(segments[2], segment);
            assert_eq!(percent_decode_str(segments[2]).decode_utf8().unwrap(), id);
        }
    }
});
