//! The `extern "C"` layer: NULLs, bad UTF-8, outputs on failure, `_free(NULL)`,
//! last-error functions, result strings, enums, refresher callbacks.

// SAFETY (every `unsafe { acs_* }` block below): the C API is called as C
// would call it, with NULL, pointers into live `CString`s and buffers of the
// length passed, and handles this file created and has not yet freed: what
// each function's `# Safety` section asks.

mod common;

use std::ffi::{c_char, c_void, CStr, CString};
use std::ptr;
use std::sync::atomic::{AtomicU32, Ordering};

use acs_chat::ffi::client::*;
use acs_chat::ffi::errors::*;
use acs_chat::ffi::log::acs_set_log_callback;
use acs_chat::ffi::message_options::*;
use acs_chat::ffi::options::*;
use acs_chat::ffi::strings::acs_string_free;
use acs_chat::ffi::token::{acs_token_sink, acs_token_sink_set};
use acs_chat::ffi::version::acs_version;
use acs_chat_emulator::{Fault, Route};
use common::c::{
    cstr, fast_options, last_call_request_id, last_code, last_message, last_request_id, new_client,
    set_token_and_type,
};
use common::{start, thread_id, Env};

const BAD_UTF8: &[u8] = b"\xff\xfe\0";

fn bad_utf8() -> *const c_char {
    BAD_UTF8.as_ptr().cast()
}

fn assert_cleared() {
    assert_eq!(unsafe { acs_last_error_message(ptr::null_mut(), 0) }, 0);
    assert_eq!(last_message(), "");
    assert_eq!(acs_last_error_http_status(), 0);
    assert_eq!(unsafe { acs_last_error_code(ptr::null_mut(), 0) }, 0);
    assert_eq!(unsafe { acs_last_error_request_id(ptr::null_mut(), 0) }, 0);
    assert_eq!(acs_last_error_retry_after_ms(), 0);
}

#[test]
fn end_to_end_through_the_c_api() {
    let env = start();
    let o = fast_options();
    let app = cstr("c-app");
    assert_eq!(
        unsafe { acs_client_options_set_application_id(o, app.as_ptr()) },
        ACS_RESULT_OK
    );
    let client = new_client(&env, o);
    unsafe { acs_client_options_free(o) };

    let thread = thread_id("ffi");
    let t = cstr(&thread);
    let mut mo = ptr::null_mut();
    assert_eq!(unsafe { acs_message_options_new(&mut mo) }, ACS_RESULT_OK);
    assert_eq!(
        unsafe { acs_message_options_set_type(mo, 1) },
        ACS_RESULT_OK
    );
    let name = cstr("Ann");
    assert_eq!(
        unsafe { acs_message_options_set_sender_display_name(mo, name.as_ptr()) },
        ACS_RESULT_OK
    );
    let (k, v) = (cstr("k"), cstr("v"));
    assert_eq!(
        unsafe { acs_message_options_add_metadata(mo, k.as_ptr(), v.as_ptr()) },
        ACS_RESULT_OK
    );

    let content = cstr("<i>hi</i>");
    let mut id: *mut c_char = ptr::null_mut();
    assert_eq!(
        unsafe { acs_send_message(client, t.as_ptr(), content.as_ptr(), mo, &mut id) },
        ACS_RESULT_OK
    );
    assert_cleared();
    let id_text = unsafe { CStr::from_ptr(id) }.to_str().unwrap().to_owned();
    unsafe { acs_message_options_free(mo) };

    let mut id2: *mut c_char = ptr::null_mut();
    assert_eq!(
        unsafe { acs_send_message(client, t.as_ptr(), content.as_ptr(), ptr::null(), &mut id2) },
        ACS_RESULT_OK
    );
    unsafe { acs_string_free(id2) };

    assert_eq!(
        unsafe { acs_send_typing(client, t.as_ptr(), ptr::null()) },
        ACS_RESULT_OK
    );
    assert_eq!(
        unsafe { acs_send_typing(client, t.as_ptr(), name.as_ptr()) },
        ACS_RESULT_OK
    );
    assert_eq!(
        unsafe { acs_send_read_receipt(client, t.as_ptr(), id) },
        ACS_RESULT_OK
    );
    unsafe { acs_string_free(id) };

    let events = env.events(&thread);
    assert_eq!(events.len(), 5);
    assert_eq!(events[0].id.as_deref(), Some(id_text.as_str()));
    assert_eq!(events[0].kind.as_deref(), Some("html"));
    assert_eq!(events[0].sender_display_name.as_deref(), Some("Ann"));
    assert_eq!(events[0].metadata.as_ref().unwrap()["k"], "v");
    assert_eq!(events[1].kind.as_deref(), Some("text"));
    assert_eq!(events[4].chat_message_id.as_deref(), Some(id_text.as_str()));
    assert!(events[0]
        .user_agent
        .as_deref()
        .unwrap()
        .starts_with("c-app azsdk-c-acs-chat/"));

    set_token_and_type(client, &env.token_for("other", 3600), &t);
    assert_eq!(env.events(&thread)[5].user, "other");
    unsafe { acs_client_free(client) };
}

#[test]
fn service_failure_fills_last_error() {
    let env = start();
    let o = fast_options();
    assert_eq!(
        unsafe { acs_client_options_set_max_retries(o, 0) },
        ACS_RESULT_OK
    );
    let client = new_client(&env, o);
    unsafe { acs_client_options_free(o) };
    let thread = thread_id("ffi-429");
    env.fault(
        Fault::status(429)
            .on(&thread, Route::Messages)
            .header("retry-after-ms", "1500")
            .header("MS-CV", "cv-77")
            .body(r#"{"error":{"code":"TooManyRequests","message":"Rate limit exceeded."}}"#),
    );
    let t = cstr(&thread);
    let content = cstr("x");
    let sentinel = 0x1234usize as *mut c_char;
    let mut id = sentinel;
    assert_eq!(
        unsafe { acs_send_message(client, t.as_ptr(), content.as_ptr(), ptr::null(), &mut id) },
        ACS_RESULT_THROTTLED
    );
    assert_eq!(id, sentinel, "output untouched on failure");
    assert_eq!(last_message(), "Rate limit exceeded.");
    assert_eq!(acs_last_error_http_status(), 429);
    assert_eq!(last_code(), "TooManyRequests");
    assert_eq!(last_request_id(), "cv-77");
    assert_eq!(acs_last_error_retry_after_ms(), 1500);

    // Truncation: at most len-1 bytes plus NUL, full length returned.
    let mut small = [0x55 as c_char; 5];
    assert_eq!(
        unsafe { acs_last_error_message(small.as_mut_ptr(), small.len()) },
        20
    );
    assert_eq!(
        unsafe { CStr::from_ptr(small.as_ptr()) }.to_bytes(),
        b"Rate"
    );
    let mut untouched = [0x55 as c_char; 2];
    assert_eq!(
        unsafe { acs_last_error_code(untouched.as_mut_ptr(), 0) },
        15
    );
    assert_eq!(untouched, [0x55, 0x55]);

    // Success clears it.
    assert_eq!(
        unsafe { acs_send_typing(client, t.as_ptr(), ptr::null()) },
        ACS_RESULT_OK
    );
    assert_cleared();

    // The last error is per thread.
    assert_eq!(
        unsafe { acs_send_typing(client, c"".as_ptr(), ptr::null()) },
        ACS_RESULT_INVALID_ARGUMENT
    );
    std::thread::spawn(|| assert_eq!(unsafe { acs_last_error_message(ptr::null_mut(), 0) }, 0))
        .join()
        .unwrap();
    assert!(last_message().contains("thread_id"));
    unsafe { acs_client_free(client) };
}

/// What the argument tests call with: a client of a running emulator, its endpoint and
/// token, and fresh client and message options. Freed when dropped.
struct Handles {
    _env: Env,
    client: *mut acs_client,
    url: CString,
    token: CString,
    o: *mut acs_client_options,
    mo: *mut acs_message_options,
}

impl Handles {
    fn new() -> Handles {
        let env = start();
        let client = new_client(&env, ptr::null());
        let (url, token) = (cstr(&env.url), cstr(&env.token()));
        let mut o = ptr::null_mut();
        assert_eq!(unsafe { acs_client_options_new(&mut o) }, ACS_RESULT_OK);
        let mut mo = ptr::null_mut();
        assert_eq!(unsafe { acs_message_options_new(&mut mo) }, ACS_RESULT_OK);
        Handles {
            _env: env,
            client,
            url,
            token,
            o,
            mo,
        }
    }
}

impl Drop for Handles {
    fn drop(&mut self) {
        unsafe { acs_client_options_free(self.o) };
        unsafe { acs_message_options_free(self.mo) };
        unsafe { acs_client_free(self.client) };
    }
}

#[test]
fn null_pointers_are_rejected_everywhere() {
    let h = Handles::new();
    let (client, url, token, o, mo) = (h.client, &h.url, &h.token, h.o, h.mo);
    let s = c"x".as_ptr();
    let sentinel_client = 0x10usize as *mut acs_client;
    let mut client_out = sentinel_client;
    let mut id_out = 0x20usize as *mut c_char;
    let null_o: *mut acs_client_options = ptr::null_mut();
    let null_mo: *mut acs_message_options = ptr::null_mut();

    let cases: Vec<(&str, acs_result)> = vec![
        ("endpoint", unsafe {
            acs_client_new(ptr::null(), token.as_ptr(), ptr::null(), &mut client_out)
        }),
        ("token", unsafe {
            acs_client_new(url.as_ptr(), ptr::null(), ptr::null(), &mut client_out)
        }),
        ("client_out", unsafe {
            acs_client_new(url.as_ptr(), token.as_ptr(), ptr::null(), ptr::null_mut())
        }),
        ("client", unsafe {
            acs_client_set_token(ptr::null(), token.as_ptr())
        }),
        ("token", unsafe {
            acs_client_set_token(client, ptr::null())
        }),
        ("client", unsafe {
            acs_send_message(ptr::null(), s, s, ptr::null(), &mut id_out)
        }),
        ("thread_id", unsafe {
            acs_send_message(client, ptr::null(), s, ptr::null(), &mut id_out)
        }),
        ("content", unsafe {
            acs_send_message(client, s, ptr::null(), ptr::null(), &mut id_out)
        }),
        ("message_id_out", unsafe {
            acs_send_message(client, s, s, ptr::null(), ptr::null_mut())
        }),
        ("client", unsafe {
            acs_send_typing(ptr::null(), s, ptr::null())
        }),
        ("thread_id", unsafe {
            acs_send_typing(client, ptr::null(), ptr::null())
        }),
        ("client", unsafe {
            acs_send_read_receipt(ptr::null(), s, s)
        }),
        ("thread_id", unsafe {
            acs_send_read_receipt(client, ptr::null(), s)
        }),
        ("chat_message_id", unsafe {
            acs_send_read_receipt(client, s, ptr::null())
        }),
        ("options_out", unsafe {
            acs_client_options_new(ptr::null_mut())
        }),
        ("o", unsafe {
            acs_client_options_set_api_version(null_o, s)
        }),
        ("api_version", unsafe {
            acs_client_options_set_api_version(o, ptr::null())
        }),
        ("o", unsafe { acs_client_options_set_timeout_ms(null_o, 1) }),
        ("o", unsafe {
            acs_client_options_set_connect_timeout_ms(null_o, 1)
        }),
        ("o", unsafe {
            acs_client_options_set_max_retries(null_o, 1)
        }),
        ("o", unsafe {
            acs_client_options_set_retry_delay_ms(null_o, 1, 2)
        }),
        ("o", unsafe {
            acs_client_options_set_application_id(null_o, s)
        }),
        ("application_id", unsafe {
            acs_client_options_set_application_id(o, ptr::null())
        }),
        ("o", unsafe { acs_client_options_set_ca_file(null_o, s) }),
        ("pem_path", unsafe {
            acs_client_options_set_ca_file(o, ptr::null())
        }),
        ("o", unsafe {
            acs_client_options_set_allow_insecure_http(null_o, true)
        }),
        ("o", unsafe {
            acs_client_options_set_token_refresher(null_o, None, ptr::null_mut(), None)
        }),
        ("o", unsafe {
            acs_client_options_set_proactive_refresh(null_o, true)
        }),
        ("sink", unsafe { acs_token_sink_set(ptr::null_mut(), s) }),
        ("options_out", unsafe {
            acs_message_options_new(ptr::null_mut())
        }),
        ("o", unsafe { acs_message_options_set_type(null_mo, 0) }),
        ("o", unsafe {
            acs_message_options_set_sender_display_name(null_mo, s)
        }),
        ("name", unsafe {
            acs_message_options_set_sender_display_name(mo, ptr::null())
        }),
        ("o", unsafe {
            acs_message_options_add_metadata(null_mo, s, s)
        }),
        ("key", unsafe {
            acs_message_options_add_metadata(mo, ptr::null(), s)
        }),
        ("value", unsafe {
            acs_message_options_add_metadata(mo, s, ptr::null())
        }),
    ];
    for (i, (name, rc)) in cases.into_iter().enumerate() {
        assert_eq!(rc, ACS_RESULT_NULL_PARAMETER, "case {i} ({name})");
    }
    // The last one's message names the parameter.
    assert_eq!(last_message(), "value is NULL");
    assert_eq!(client_out, sentinel_client);
    assert_eq!(id_out, 0x20usize as *mut c_char);
}

#[test]
fn free_functions_accept_null() {
    unsafe { acs_client_free(ptr::null_mut()) };
    unsafe { acs_client_options_free(ptr::null_mut()) };
    unsafe { acs_message_options_free(ptr::null_mut()) };
    unsafe { acs_string_free(ptr::null_mut()) };
}

#[test]
fn invalid_utf8_is_invalid_argument() {
    let h = Handles::new();
    let (client, url, token, o, mo) = (h.client, &h.url, &h.token, h.o, h.mo);
    let s = c"x".as_ptr();
    let mut client_out = ptr::null_mut();
    let mut id_out = ptr::null_mut();
    let cases = [
        unsafe { acs_client_new(bad_utf8(), token.as_ptr(), ptr::null(), &mut client_out) },
        unsafe { acs_client_new(url.as_ptr(), bad_utf8(), ptr::null(), &mut client_out) },
        unsafe { acs_client_set_token(client, bad_utf8()) },
        unsafe { acs_send_message(client, bad_utf8(), s, ptr::null(), &mut id_out) },
        unsafe { acs_send_message(client, s, bad_utf8(), ptr::null(), &mut id_out) },
        unsafe { acs_send_typing(client, bad_utf8(), ptr::null()) },
        unsafe { acs_send_typing(client, s, bad_utf8()) },
        unsafe { acs_send_read_receipt(client, s, bad_utf8()) },
        unsafe { acs_client_options_set_api_version(o, bad_utf8()) },
        unsafe { acs_client_options_set_application_id(o, bad_utf8()) },
        unsafe { acs_client_options_set_ca_file(o, bad_utf8()) },
        unsafe { acs_message_options_set_sender_display_name(mo, bad_utf8()) },
        unsafe { acs_message_options_add_metadata(mo, bad_utf8(), s) },
        unsafe { acs_message_options_add_metadata(mo, s, bad_utf8()) },
    ];
    for (i, rc) in cases.into_iter().enumerate() {
        assert_eq!(rc, ACS_RESULT_INVALID_ARGUMENT, "case {i}");
    }
    assert!(last_message().contains("UTF-8"));
    assert!(client_out.is_null());
    assert!(id_out.is_null());
}

#[test]
fn argument_and_option_validation() {
    let mut o = ptr::null_mut();
    assert_eq!(unsafe { acs_client_options_new(&mut o) }, ACS_RESULT_OK);
    let cases = [
        (
            unsafe { acs_client_options_set_connect_timeout_ms(o, 0) },
            ACS_RESULT_INVALID_ARGUMENT,
        ),
        (
            unsafe { acs_client_options_set_max_retries(o, 11) },
            ACS_RESULT_INVALID_ARGUMENT,
        ),
        (
            unsafe { acs_client_options_set_retry_delay_ms(o, 5, 4) },
            ACS_RESULT_INVALID_ARGUMENT,
        ),
        (
            unsafe { acs_client_options_set_api_version(o, c"".as_ptr()) },
            ACS_RESULT_INVALID_ARGUMENT,
        ),
        (
            unsafe { acs_client_options_set_application_id(o, c"has space".as_ptr()) },
            ACS_RESULT_INVALID_ARGUMENT,
        ),
        (
            unsafe { acs_client_options_set_ca_file(o, c"".as_ptr()) },
            ACS_RESULT_INVALID_ARGUMENT,
        ),
        (
            unsafe { acs_client_options_set_timeout_ms(o, 0) },
            ACS_RESULT_OK,
        ),
        (
            unsafe { acs_client_options_set_allow_insecure_http(o, true) },
            ACS_RESULT_OK,
        ),
        (
            unsafe { acs_client_options_set_proactive_refresh(o, true) },
            ACS_RESULT_OK,
        ),
    ];
    for (i, (rc, expected)) in cases.into_iter().enumerate() {
        assert_eq!(rc, expected, "case {i}");
    }

    let mut mo = ptr::null_mut();
    assert_eq!(unsafe { acs_message_options_new(&mut mo) }, ACS_RESULT_OK);
    let cases = [
        (
            unsafe { acs_message_options_set_type(mo, 2) },
            ACS_RESULT_INVALID_ARGUMENT,
        ),
        (
            unsafe { acs_message_options_set_type(mo, u32::MAX) },
            ACS_RESULT_INVALID_ARGUMENT,
        ),
        (
            unsafe { acs_message_options_set_type(mo, 0) },
            ACS_RESULT_OK,
        ),
        (
            unsafe { acs_message_options_add_metadata(mo, c"".as_ptr(), c"v".as_ptr()) },
            ACS_RESULT_INVALID_ARGUMENT,
        ),
        (
            unsafe { acs_set_log_callback(None, 6, ptr::null_mut()) },
            ACS_RESULT_INVALID_ARGUMENT,
        ),
    ];
    for (i, (rc, expected)) in cases.into_iter().enumerate() {
        assert_eq!(rc, expected, "case {i}");
    }

    let token = common::start().token();
    let token = cstr(&token);
    let mut client = ptr::null_mut();
    let cases = [
        (c"http://example.com", ACS_RESULT_INSECURE_ENDPOINT),
        (c"https://example.com/x?y=1", ACS_RESULT_INVALID_ARGUMENT),
        (c"not a url", ACS_RESULT_INVALID_ARGUMENT),
    ];
    for (endpoint, expected) in cases {
        assert_eq!(
            unsafe { acs_client_new(endpoint.as_ptr(), token.as_ptr(), ptr::null(), &mut client) },
            expected
        );
        assert!(client.is_null());
        assert_eq!(acs_last_error_http_status(), 0);
    }
    // allow_insecure_http was set on `o`.
    assert_eq!(
        unsafe {
            acs_client_new(
                c"http://example.com".as_ptr(),
                token.as_ptr(),
                o,
                &mut client,
            )
        },
        ACS_RESULT_OK
    );
    unsafe { acs_client_free(client) };
    assert_eq!(
        unsafe {
            acs_client_new(
                c"https://example.com".as_ptr(),
                c"a.b.c".as_ptr(),
                o,
                &mut client,
            )
        },
        ACS_RESULT_TOKEN
    );
    unsafe { acs_client_options_free(o) };
    unsafe { acs_message_options_free(mo) };
}

#[test]
fn result_strings_cover_every_value() {
    let known = [
        ACS_RESULT_OK,
        ACS_RESULT_NULL_PARAMETER,
        ACS_RESULT_INVALID_ARGUMENT,
        ACS_RESULT_INSECURE_ENDPOINT,
        ACS_RESULT_UNAUTHORIZED,
        ACS_RESULT_FORBIDDEN,
        ACS_RESULT_NOT_FOUND,
        ACS_RESULT_BAD_REQUEST,
        ACS_RESULT_THROTTLED,
        ACS_RESULT_SERVICE_ERROR,
        ACS_RESULT_CONNECT,
        ACS_RESULT_TIMEOUT,
        ACS_RESULT_IO,
        ACS_RESULT_PROTOCOL,
        ACS_RESULT_TOKEN,
        ACS_RESULT_PANIC,
        ACS_RESULT_INTERNAL,
    ];
    let unknown = unsafe { CStr::from_ptr(acs_result_str(4)) }
        .to_str()
        .unwrap();
    assert_eq!(unknown, "unknown result code");
    let mut seen = std::collections::HashSet::new();
    for value in known {
        let text = unsafe { CStr::from_ptr(acs_result_str(value)) }
            .to_str()
            .unwrap();
        assert!(!text.is_empty() && text != unknown, "{value}");
        assert!(seen.insert(text), "{value} shares its text");
    }
    for value in [5, 16, 89, 92, 1000, u32::MAX] {
        let text = unsafe { CStr::from_ptr(acs_result_str(value)) }
            .to_str()
            .unwrap();
        assert_eq!(text, unknown);
    }
    // Same pointer every time: static text.
    assert_eq!(acs_result_str(14), acs_result_str(14));
}

#[test]
fn version_is_the_package_version() {
    let v = unsafe { CStr::from_ptr(acs_version()) }.to_str().unwrap();
    assert_eq!(v, env!("CARGO_PKG_VERSION"));
}

struct RefresherState {
    token: CString,
    calls: AtomicU32,
    freed: AtomicU32,
    fail: bool,
    deliver: bool,
}

unsafe extern "C" fn refresher(user_data: *mut c_void, sink: *mut acs_token_sink) -> acs_result {
    let state = unsafe { &*(user_data as *const RefresherState) };
    state.calls.fetch_add(1, Ordering::SeqCst);
    if state.fail {
        return ACS_RESULT_INTERNAL;
    }
    if state.deliver {
        let rc = unsafe { acs_token_sink_set(sink, state.token.as_ptr()) };
        if rc != ACS_RESULT_OK {
            return rc;
        }
    }
    ACS_RESULT_OK
}

unsafe extern "C" fn free_state(user_data: *mut c_void) {
    let state = unsafe { &*(user_data as *const RefresherState) };
    state.freed.fetch_add(1, Ordering::SeqCst);
}

fn refresher_state(token: &str, fail: bool, deliver: bool) -> Box<RefresherState> {
    Box::new(RefresherState {
        token: cstr(token),
        calls: AtomicU32::new(0),
        freed: AtomicU32::new(0),
        fail,
        deliver,
    })
}

fn client_with_refresher(env: &Env, state: &RefresherState, initial: &str) -> *mut acs_client {
    let o = fast_options();
    let user_data = state as *const RefresherState as *mut c_void;
    assert_eq!(
        unsafe {
            acs_client_options_set_token_refresher(o, Some(refresher), user_data, Some(free_state))
        },
        ACS_RESULT_OK
    );
    let url = cstr(&env.url);
    let initial = cstr(initial);
    let mut client = ptr::null_mut();
    assert_eq!(
        unsafe { acs_client_new(url.as_ptr(), initial.as_ptr(), o, &mut client) },
        ACS_RESULT_OK
    );
    unsafe { acs_client_options_free(o) };
    assert_eq!(
        state.freed.load(Ordering::SeqCst),
        0,
        "the client still holds it"
    );
    client
}

#[test]
fn c_token_refresher() {
    let env = start();
    let state = refresher_state(&env.token_for("refreshed", 3600), false, true);
    // An expired initial token: refreshed before the first call.
    let client = client_with_refresher(&env, &state, &env.token_for("old", -10));
    let thread = thread_id("c-refresh");
    let t = cstr(&thread);
    assert_eq!(
        unsafe { acs_send_typing(client, t.as_ptr(), ptr::null()) },
        ACS_RESULT_OK
    );
    assert_eq!(
        unsafe { acs_send_typing(client, t.as_ptr(), ptr::null()) },
        ACS_RESULT_OK
    );
    assert_eq!(state.calls.load(Ordering::SeqCst), 1);
    assert_eq!(env.events(&thread)[0].user, "refreshed");
    unsafe { acs_client_free(client) };
    assert_eq!(state.freed.load(Ordering::SeqCst), 1);
}

#[test]
fn c_token_refresher_failures_are_token_errors() {
    let env = start();
    let thread = thread_id("c-refresh-fail");
    let t = cstr(&thread);
    let cases = [
        refresher_state(&env.token(), true, true),
        refresher_state(&env.token(), false, false),
        refresher_state(&env.token_for("x", -60), false, true),
        refresher_state("not-a-jwt", false, true),
    ];
    for (i, state) in cases.iter().enumerate() {
        let client = client_with_refresher(&env, state, &env.token_for("old", 30));
        assert_eq!(
            unsafe { acs_send_typing(client, t.as_ptr(), ptr::null()) },
            ACS_RESULT_TOKEN,
            "case {i}"
        );
        assert!(!last_message().is_empty());
        assert_eq!(state.calls.load(Ordering::SeqCst), 1, "case {i}");
        unsafe { acs_client_free(client) };
        assert_eq!(state.freed.load(Ordering::SeqCst), 1, "case {i}");
    }
    assert!(env.requests(&thread).is_empty());
}

#[test]
fn refresher_user_data_freed_once_after_options_and_clients() {
    let env = start();
    let state = refresher_state(&env.token(), false, true);
    let user_data = &*state as *const RefresherState as *mut c_void;
    let o = fast_options();
    assert_eq!(
        unsafe {
            acs_client_options_set_token_refresher(o, Some(refresher), user_data, Some(free_state))
        },
        ACS_RESULT_OK
    );
    let url = cstr(&env.url);
    let token = cstr(&env.token());
    let (mut a, mut b) = (ptr::null_mut(), ptr::null_mut());
    assert_eq!(
        unsafe { acs_client_new(url.as_ptr(), token.as_ptr(), o, &mut a) },
        ACS_RESULT_OK
    );
    assert_eq!(
        unsafe { acs_client_new(url.as_ptr(), token.as_ptr(), o, &mut b) },
        ACS_RESULT_OK
    );
    unsafe { acs_client_free(a) };
    unsafe { acs_client_options_free(o) };
    assert_eq!(state.freed.load(Ordering::SeqCst), 0);
    unsafe { acs_client_free(b) };
    assert_eq!(state.freed.load(Ordering::SeqCst), 1);

    // Replacing or clearing the refresher releases the old one.
    let o = fast_options();
    assert_eq!(
        unsafe {
            acs_client_options_set_token_refresher(o, Some(refresher), user_data, Some(free_state))
        },
        ACS_RESULT_OK
    );
    assert_eq!(
        unsafe { acs_client_options_set_token_refresher(o, None, ptr::null_mut(), None) },
        ACS_RESULT_OK
    );
    assert_eq!(state.freed.load(Ordering::SeqCst), 2);
    unsafe { acs_client_options_free(o) };
    assert_eq!(state.freed.load(Ordering::SeqCst), 2);
}

#[test]
fn shared_client_across_threads() {
    let env = common::start_unlimited();
    let client = new_client(&env, ptr::null()) as usize;
    let thread = thread_id("c-shared");
    std::thread::scope(|s| {
        for _ in 0..4 {
            let thread = &thread;
            s.spawn(move || {
                let client = client as *const acs_client;
                let t = cstr(thread);
                for _ in 0..10 {
                    assert_eq!(
                        unsafe { acs_send_typing(client, t.as_ptr(), ptr::null()) },
                        ACS_RESULT_OK
                    );
                    assert_cleared();
                }
            });
        }
    });
    assert_eq!(env.events(&thread).len(), 40);
    unsafe { acs_client_free(client as *mut acs_client) };
}

#[test]
fn the_last_calls_answer_is_readable_on_success_and_failure() {
    let env = start();
    let client = new_client(&env, ptr::null());
    let thread = thread_id("last-call");
    let t = cstr(&thread);
    let mut id = ptr::null_mut();
    let rc = unsafe { acs_send_message(client, t.as_ptr(), c"hi".as_ptr(), ptr::null(), &mut id) };
    assert_eq!(rc, ACS_RESULT_OK);
    unsafe { acs_string_free(id) };
    assert_eq!(acs_last_call_http_status(), 201);
    let sent = last_call_request_id();
    let request = &env.requests(&thread)[0];
    assert!(!sent.is_empty());
    assert_ne!(
        Some(sent.as_str()),
        request.client_request_id.as_deref(),
        "the service's MS-CV"
    );

    assert_eq!(
        unsafe { acs_send_typing(client, t.as_ptr(), ptr::null()) },
        ACS_RESULT_OK
    );
    assert_eq!(acs_last_call_http_status(), 200);
    assert_ne!(last_call_request_id(), sent, "each call its own id");

    env.fault(Fault::status(404).on(&thread, Route::Typing));
    let rc = unsafe { acs_send_typing(client, t.as_ptr(), ptr::null()) };
    assert_eq!(rc, ACS_RESULT_NOT_FOUND);
    assert_eq!(acs_last_call_http_status(), 404);
    assert_eq!(acs_last_error_http_status(), 404);

    // A call refused before any request: no answer.
    let rc = unsafe { acs_send_typing(client, c"".as_ptr(), ptr::null()) };
    assert_eq!(rc, ACS_RESULT_INVALID_ARGUMENT);
    assert_eq!(acs_last_call_http_status(), 0);
    assert_eq!(last_call_request_id(), "");
    unsafe { acs_client_free(client) };
}
