//! Process-wide logging, and panics turned into `ACS_RESULT_PANIC`. The logger
//! is global, so these tests run one at a time.

// SAFETY (every `unsafe { acs_* }` block below): the C API is called as C
// would call it, with NULL, pointers into live `CString`s and buffers of the
// length passed, and handles this file created and has not yet freed: what
// each function's `# Safety` section asks.

mod common;

use std::ffi::{c_char, c_void, CStr, CString};
use std::ptr;
use std::sync::{Arc, Mutex};

use acs_chat::ffi::client::{acs_client, acs_client_free, acs_client_new, acs_send_typing};
use acs_chat::ffi::errors::*;
use acs_chat::ffi::log::acs_set_log_callback;
use acs_chat::{set_logger, LogLevel};
use acs_chat_emulator::{Fault, Route};
use common::c::{cstr, last_message, new_client, new_client_with};
use common::{start, thread_id};

static SERIAL: Mutex<()> = Mutex::new(());
static LINES: Mutex<Vec<(u32, String)>> = Mutex::new(Vec::new());

unsafe extern "C" fn collect(user_data: *mut c_void, level: u32, message: *const c_char) {
    assert_eq!(user_data as usize, 0xabc);
    let text = unsafe { CStr::from_ptr(message) }
        .to_string_lossy()
        .into_owned();
    LINES.lock().unwrap().push((level, text));
}

#[test]
fn log_callback_gets_attempts_without_the_token() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let env = start();
    let token = env.token();
    LINES.lock().unwrap().clear();
    assert_eq!(
        unsafe { acs_set_log_callback(Some(collect), 5, 0xabc as *mut c_void) },
        ACS_RESULT_OK
    );

    let client = new_client_with(&env.url, &token, ptr::null());
    let thread = thread_id("log");
    env.fault(
        Fault::status(503)
            .on(&thread, Route::Typing)
            .header("retry-after-ms", "10")
            .body(&format!(
                r#"{{"error":{{"code":"X","message":"echo {token}"}}}}"#
            )),
    );
    let t = CString::new(thread).unwrap();
    assert_eq!(
        unsafe { acs_send_typing(client, t.as_ptr(), ptr::null()) },
        ACS_RESULT_OK
    );
    assert_eq!(
        unsafe { acs_send_typing(client, c"".as_ptr(), ptr::null()) },
        ACS_RESULT_INVALID_ARGUMENT
    );
    unsafe { acs_client_free(client) };
    assert_eq!(
        unsafe { acs_set_log_callback(None, 0, ptr::null_mut()) },
        ACS_RESULT_OK
    );

    let lines = LINES.lock().unwrap().clone();
    assert!(!lines.is_empty());
    for (_, line) in &lines {
        assert!(!line.contains(&token), "token in log line: {line}");
        assert!(!line.contains('\n'));
    }
    let attempts: Vec<_> = lines
        .iter()
        .filter(|(level, line)| *level == 4 && line.contains("attempt"))
        .collect();
    assert_eq!(attempts.len(), 2, "{lines:?}");
    assert!(attempts[0].1.contains("503") && attempts[0].1.contains("attempt 1"));
    assert!(attempts[1].1.contains("200") && attempts[1].1.contains("attempt 2"));
    assert!(lines
        .iter()
        .any(|(level, line)| *level == 5 && line.contains("authorization: REDACTED")));
    assert!(lines
        .iter()
        .any(|(level, line)| *level == 2 && line.contains("retry 1 of 3")));
    assert!(lines
        .iter()
        .any(|(level, line)| *level == 1 && line.contains("ACS_RESULT_INVALID_ARGUMENT")));

    // After removal nothing more arrives.
    let before = LINES.lock().unwrap().len();
    let client = new_client_with(&env.url, &token, ptr::null());
    unsafe { acs_client_free(client) };
    assert_eq!(LINES.lock().unwrap().len(), before);
}

#[test]
fn max_level_filters() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    set_logger(
        Some(Arc::new(move |level, line: &str| {
            sink.lock().unwrap().push((level, line.to_owned()))
        })),
        LogLevel::Warn,
    );
    let env = start();
    let client = new_client(&env, ptr::null());
    let t = CString::new(thread_id("filter")).unwrap();
    assert_eq!(
        unsafe { acs_send_typing(client, t.as_ptr(), ptr::null()) },
        ACS_RESULT_OK
    );
    assert_eq!(
        unsafe { acs_send_typing(client, ptr::null(), ptr::null()) },
        ACS_RESULT_NULL_PARAMETER
    );
    unsafe { acs_client_free(client) };
    set_logger(None, LogLevel::Off);
    let seen = seen.lock().unwrap();
    assert!(
        seen.iter().all(|(level, _)| *level <= LogLevel::Warn),
        "{seen:?}"
    );
    assert!(seen
        .iter()
        .any(|(level, line)| *level == LogLevel::Error && line.contains("thread_id is NULL")));
}

#[test]
fn panic_in_a_callback_becomes_acs_result_panic() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let env = start();
    let url = cstr(&env.url);
    let tok = cstr(&env.token());
    let client = new_client(&env, ptr::null());

    set_logger(
        Some(Arc::new(|_, _: &str| panic!("logger exploded"))),
        LogLevel::Trace,
    );
    let t = CString::new(thread_id("panic")).unwrap();
    let rc = unsafe { acs_send_typing(client, t.as_ptr(), ptr::null()) };
    let mut other: *mut acs_client = ptr::null_mut();
    let rc_new = unsafe { acs_client_new(url.as_ptr(), tok.as_ptr(), ptr::null(), &mut other) };
    set_logger(None, LogLevel::Off);

    assert_eq!(rc, ACS_RESULT_PANIC);
    assert!(
        last_message().contains("logger exploded"),
        "{}",
        last_message()
    );
    assert_eq!(rc_new, ACS_RESULT_PANIC);
    assert!(other.is_null(), "no output after a panic");

    // The client still works once the callback behaves.
    assert_eq!(
        unsafe { acs_send_typing(client, t.as_ptr(), ptr::null()) },
        ACS_RESULT_OK
    );
    unsafe { acs_client_free(client) };
}
