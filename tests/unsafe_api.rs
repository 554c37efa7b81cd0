//! In Rust, every C API function that takes a pointer is an `unsafe fn`, and
//! only the pointer-free ones are safe.
//!
//! The check is the compiler's: each pointer-taking function is called below
//! in an `unsafe` block of its own under `deny(unused_unsafe)`, so a function
//! that is (or becomes) safe makes that block unnecessary and this file fails
//! to compile. The pointer-free ones must coerce to safe function pointers.
//! The list is checked against the header, so a new function must be added
//! here. The calls pass NULL everywhere, which every function allows.

#![deny(unused_unsafe)]

use std::ffi::c_char;
use std::ptr::{null, null_mut};

use acs_chat::ffi::call::*;
use acs_chat::ffi::client::*;
use acs_chat::ffi::errors::*;
use acs_chat::ffi::identity::*;
use acs_chat::ffi::log::acs_set_log_callback;
use acs_chat::ffi::message_options::*;
use acs_chat::ffi::options::*;
use acs_chat::ffi::strings::acs_string_free;
use acs_chat::ffi::token::acs_token_sink_set;
use acs_chat::ffi::version::acs_version;

/// Calls `f` in an `unsafe` block of its own (an error under
/// `deny(unused_unsafe)` when `f` is safe) and records its name.
macro_rules! unsafe_call {
    ($called:ident, $f:ident($($arg:expr),*)) => {{
        $called.push(stringify!($f));
        // SAFETY: NULL for every pointer, which every function allows.
        unsafe { $f($($arg),*) }
    }};
}

/// The functions the header declares, and whether each takes a pointer (a
/// `*` or a callback among its parameters).
fn header_functions() -> Vec<(String, bool)> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/include/acs_chat.h");
    let header = std::fs::read_to_string(path).expect("read include/acs_chat.h");
    let mut code = String::new();
    let mut rest = header.as_str();
    while let Some(start) = rest.find("/*") {
        code.push_str(&rest[..start]);
        let end = rest[start..].find("*/").expect("closed comment");
        rest = &rest[start + end + 2..];
    }
    code.push_str(rest);
    let mut functions = Vec::new();
    for (i, _) in code.match_indices("acs_") {
        let name_len = code[i..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(code.len() - i);
        let after = &code[i + name_len..];
        if !after.starts_with('(') {
            continue;
        }
        let params = &after[1..after.find(')').expect("closed parameter list")];
        let takes_pointer = params.contains('*')
            || params.contains("_callback")
            || params.contains("acs_token_refresher")
            || params.contains("acs_user_data_free");
        functions.push((code[i..i + name_len].to_owned(), takes_pointer));
    }
    functions
}

#[test]
fn pointer_taking_functions_are_unsafe_and_allow_null() {
    let mut called: Vec<&str> = Vec::new();
    let c = &mut called;
    let text = null_mut::<c_char>();

    // acs_client
    let rc = unsafe_call!(c, acs_client_new(null(), null(), null(), null_mut()));
    assert_eq!(rc, ACS_RESULT_NULL_PARAMETER);
    unsafe_call!(c, acs_client_free(null_mut()));
    let rc = unsafe_call!(c, acs_client_set_token(null(), null()));
    assert_eq!(rc, ACS_RESULT_NULL_PARAMETER);
    let rc = unsafe_call!(
        c,
        acs_send_message(null(), null(), null(), null(), null_mut())
    );
    assert_eq!(rc, ACS_RESULT_NULL_PARAMETER);
    let rc = unsafe_call!(c, acs_send_typing(null(), null(), null()));
    assert_eq!(rc, ACS_RESULT_NULL_PARAMETER);
    let rc = unsafe_call!(c, acs_send_read_receipt(null(), null(), null()));
    assert_eq!(rc, ACS_RESULT_NULL_PARAMETER);
    unsafe_call!(c, acs_string_free(text));
    let rc = unsafe_call!(
        c,
        acs_client_new_from_connection_string(null(), null(), null(), null_mut())
    );
    assert_eq!(rc, ACS_RESULT_NULL_PARAMETER);
    let rc = unsafe_call!(c, acs_client_user_id(null(), null_mut()));
    assert_eq!(rc, ACS_RESULT_NULL_PARAMETER);

    // acs_client_options
    let rc = unsafe_call!(c, acs_client_options_new(null_mut()));
    assert_eq!(rc, ACS_RESULT_NULL_PARAMETER);
    unsafe_call!(c, acs_client_options_free(null_mut()));
    let o = null_mut();
    let results = [
        unsafe_call!(c, acs_client_options_set_api_version(o, null())),
        unsafe_call!(c, acs_client_options_set_timeout_ms(o, 1)),
        unsafe_call!(c, acs_client_options_set_connect_timeout_ms(o, 1)),
        unsafe_call!(c, acs_client_options_set_max_retries(o, 1)),
        unsafe_call!(c, acs_client_options_set_retry_delay_ms(o, 1, 2)),
        unsafe_call!(c, acs_client_options_set_application_id(o, null())),
        unsafe_call!(c, acs_client_options_set_ca_file(o, null())),
        unsafe_call!(c, acs_client_options_set_allow_insecure_http(o, true)),
        unsafe_call!(
            c,
            acs_client_options_set_token_refresher(o, None, null_mut(), None)
        ),
        unsafe_call!(c, acs_client_options_set_proactive_refresh(o, true)),
        unsafe_call!(c, acs_client_options_set_total_timeout_ms(o, 1)),
        unsafe_call!(c, acs_client_options_set_max_connections_per_origin(o, 1)),
        unsafe_call!(c, acs_token_sink_set(null_mut(), null())),
    ];
    assert!(
        results.iter().all(|rc| *rc == ACS_RESULT_NULL_PARAMETER),
        "{results:?}"
    );

    // acs_message_options
    let rc = unsafe_call!(c, acs_message_options_new(null_mut()));
    assert_eq!(rc, ACS_RESULT_NULL_PARAMETER);
    unsafe_call!(c, acs_message_options_free(null_mut()));
    let mo = null_mut();
    let results = [
        unsafe_call!(c, acs_message_options_set_type(mo, 0)),
        unsafe_call!(c, acs_message_options_set_sender_display_name(mo, null())),
        unsafe_call!(c, acs_message_options_add_metadata(mo, null(), null())),
    ];
    assert!(
        results.iter().all(|rc| *rc == ACS_RESULT_NULL_PARAMETER),
        "{results:?}"
    );

    // Errors and logging.
    assert_eq!(
        unsafe_call!(c, acs_last_error_message(text, 0)),
        "o is NULL".len()
    );
    unsafe_call!(c, acs_last_error_code(text, 0));
    unsafe_call!(c, acs_last_error_request_id(text, 0));
    unsafe_call!(c, acs_last_call_request_id(text, 0));
    let rc = unsafe_call!(c, acs_set_log_callback(None, 0, null_mut()));
    assert_eq!(rc, ACS_RESULT_OK);

    // Asynchronous calls and completions.
    let results = [
        unsafe_call!(
            c,
            acs_send_message_async(null(), null(), null(), null(), None, null_mut(), null_mut())
        ),
        unsafe_call!(
            c,
            acs_send_typing_async(null(), null(), null(), None, null_mut(), null_mut())
        ),
        unsafe_call!(
            c,
            acs_send_read_receipt_async(null(), null(), null(), None, null_mut(), null_mut())
        ),
    ];
    assert!(
        results.iter().all(|rc| *rc == ACS_RESULT_NULL_PARAMETER),
        "{results:?}"
    );
    unsafe_call!(c, acs_call_cancel(null()));
    unsafe_call!(c, acs_call_free(null_mut()));
    let completion = null();
    assert_eq!(
        unsafe_call!(c, acs_completion_result(completion)),
        ACS_RESULT_NULL_PARAMETER
    );
    assert!(unsafe_call!(c, acs_completion_message_id(completion)).is_null());
    assert_eq!(unsafe_call!(c, acs_completion_http_status(completion)), 0);
    assert_eq!(
        unsafe_call!(c, acs_completion_error_message(completion, text, 0)),
        0
    );
    assert_eq!(
        unsafe_call!(c, acs_completion_error_code(completion, text, 0)),
        0
    );
    assert_eq!(
        unsafe_call!(c, acs_completion_request_id(completion, text, 0)),
        0
    );
    assert_eq!(
        unsafe_call!(c, acs_completion_retry_after_ms(completion)),
        0
    );
    assert!(!unsafe_call!(
        c,
        acs_completion_may_have_been_delivered(completion)
    ));

    // The functions without pointers stay safe: these coercions compile only for safe fns.
    let safe: [(&str, usize); 7] = [
        (
            "acs_version",
            acs_version as extern "C" fn() -> *const c_char as usize,
        ),
        (
            "acs_result_str",
            acs_result_str as extern "C" fn(acs_result) -> *const c_char as usize,
        ),
        (
            "acs_last_error_http_status",
            acs_last_error_http_status as extern "C" fn() -> u16 as usize,
        ),
        (
            "acs_last_call_http_status",
            acs_last_call_http_status as extern "C" fn() -> u16 as usize,
        ),
        (
            "acs_last_error_retry_after_ms",
            acs_last_error_retry_after_ms as extern "C" fn() -> u64 as usize,
        ),
        (
            "acs_last_error_may_have_been_delivered",
            acs_last_error_may_have_been_delivered as extern "C" fn() -> bool as usize,
        ),
        ("acs_shutdown", acs_shutdown as extern "C" fn() as usize),
    ];

    // Every function of the header is here, on the side its parameters say.
    let functions = header_functions();
    assert!(functions.len() > 40, "{functions:?}");
    for (name, takes_pointer) in &functions {
        if *takes_pointer {
            assert!(
                called.contains(&name.as_str()),
                "{name} takes a pointer: call it above"
            );
        } else {
            assert!(
                safe.iter().any(|(s, _)| s == name),
                "{name} takes no pointer: list it above"
            );
        }
    }
    for name in called.iter().copied().chain(safe.iter().map(|(s, _)| *s)) {
        assert!(
            functions.iter().any(|(f, _)| f == name),
            "{name} is not in the header"
        );
    }
}
