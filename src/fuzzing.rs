//! Entry points into internal parsers, for the fuzz targets in `fuzz/`.
//! Compiled only with the `fuzzing` feature, which only `fuzz/Cargo.toml`
//! turns on. Not part of the API: no stability promise.

use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use crate::client::{encode_segment, ChatClient, ClientOptions};
use crate::error::Result;
use crate::model::Operation;

pub use crate::credential::jwt_expiry;

/// Code and message of a service error body, if it has either.
pub fn parse_error_body(body: &[u8]) -> Option<(String, String)> {
    crate::model::parse_error_body(body).map(|b| (b.code, b.message))
}

/// The delay the headers ask for. Pairs whose name or value is not a valid
/// header are skipped, as the HTTP stack would refuse them.
pub fn retry_after(headers: &[(&[u8], &[u8])], now: SystemTime) -> Option<Duration> {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        if let (Ok(name), Ok(value)) =
            (HeaderName::from_bytes(name), HeaderValue::from_bytes(value))
        {
            map.append(name, value);
        }
    }
    crate::http::retry::retry_after(&map, now)
}

/// The thread id percent-encoded as one path segment.
pub fn encode_thread_id(thread_id: &str) -> String {
    encode_segment(thread_id)
}

/// The request URL the client builds for `thread_id` (operation 0: messages,
/// 1: typing, otherwise read receipts) on `https://example.communication.azure.com`.
pub fn request_url(operation: u8, thread_id: &str) -> Result<String> {
    static CLIENT: OnceLock<ChatClient> = OnceLock::new();
    let client = CLIENT.get_or_init(|| {
        // A token expiring in 2100: header.{"exp":4102444800}.signature
        let token = "eyJhbGciOiJub25lIn0.eyJleHAiOjQxMDI0NDQ4MDB9.c2ln";
        ChatClient::new(
            "https://example.communication.azure.com",
            token,
            &ClientOptions::new(),
        )
        .expect("fixed endpoint and token are valid")
    });
    let operation = match operation {
        0 => Operation::SendMessage,
        1 => Operation::Typing,
        _ => Operation::ReadReceipt,
    };
    client.url(operation, thread_id).map(String::from)
}

/// The message id a send-message answer carries in its body, if any.
pub fn message_id_from_body(body: &[u8]) -> Option<String> {
    crate::model::message_id_from_body(body)
}

/// The message id of a `Location` header, if it has one.
pub fn message_id_from_location(location: &str) -> Option<String> {
    crate::model::message_id_from_location(location)
}
