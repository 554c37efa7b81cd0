//! The C API's setup and last-error readers, for the tests that go through it.

// SAFETY (every `unsafe { acs_* }` block below): the C API is called as C would call it,
// with NULL, pointers into live `CString`s and buffers of the length passed, and handles
// created here: what each function's `# Safety` section asks.

use std::ffi::{c_char, CStr, CString};
use std::ptr;

use acs_chat::ffi::client::{acs_client, acs_client_new, acs_client_set_token, acs_send_typing};
use acs_chat::ffi::errors::*;
use acs_chat::ffi::options::{
    acs_client_options, acs_client_options_free, acs_client_options_new,
    acs_client_options_set_retry_delay_ms,
};

use super::Env;

/// `s` as a C string (no NUL inside).
pub fn cstr(s: &str) -> CString {
    CString::new(s).unwrap()
}

/// Reads text from a C function filling `buf` (of `len` bytes, NUL included) and returning
/// the text's full length: asks for the length, then reads it whole.
pub fn read_text(read: unsafe extern "C" fn(*mut c_char, usize) -> usize) -> String {
    let len = unsafe { read(ptr::null_mut(), 0) };
    let mut buf = vec![0 as c_char; len + 1];
    assert_eq!(unsafe { read(buf.as_mut_ptr(), buf.len()) }, len);
    unsafe { CStr::from_ptr(buf.as_ptr()) }
        .to_str()
        .unwrap()
        .to_owned()
}

/// `acs_last_error_message` of this thread.
pub fn last_message() -> String {
    read_text(acs_last_error_message)
}

/// `acs_last_error_code` of this thread.
pub fn last_code() -> String {
    read_text(acs_last_error_code)
}

/// `acs_last_error_request_id` of this thread.
pub fn last_request_id() -> String {
    read_text(acs_last_error_request_id)
}

/// `acs_last_call_request_id` of this thread.
pub fn last_call_request_id() -> String {
    read_text(acs_last_call_request_id)
}

/// New options with short retry delays (10 ms up to 100 ms); the caller frees them.
pub fn fast_options() -> *mut acs_client_options {
    let mut o = ptr::null_mut();
    assert_eq!(unsafe { acs_client_options_new(&mut o) }, ACS_RESULT_OK);
    assert_eq!(
        unsafe { acs_client_options_set_retry_delay_ms(o, 10, 100) },
        ACS_RESULT_OK
    );
    o
}

/// A client of `env` with a fresh token and `options` (NULL for the defaults); the caller
/// frees it.
pub fn new_client(env: &Env, options: *const acs_client_options) -> *mut acs_client {
    new_client_with(&env.url, &env.token(), options)
}

/// A client of `endpoint` with `token` and `options` (NULL for the defaults); the caller
/// frees it.
pub fn new_client_with(
    endpoint: &str,
    token: &str,
    options: *const acs_client_options,
) -> *mut acs_client {
    let url = cstr(endpoint);
    let token = cstr(token);
    let mut client = ptr::null_mut();
    assert_eq!(
        unsafe { acs_client_new(url.as_ptr(), token.as_ptr(), options, &mut client) },
        ACS_RESULT_OK,
        "{}",
        last_message()
    );
    assert!(!client.is_null());
    client
}

/// A client of `env` with a fresh token and [`fast_options`]; the caller frees it.
pub fn new_fast_client(env: &Env) -> *mut acs_client {
    let o = fast_options();
    let client = new_client(env, o);
    unsafe { acs_client_options_free(o) };
    client
}

/// Gives `client` the token `token`, then sends a typing notification to `thread`: both
/// must succeed.
pub fn set_token_and_type(client: *mut acs_client, token: &str, thread: &CStr) {
    let token = cstr(token);
    assert_eq!(
        unsafe { acs_client_set_token(client, token.as_ptr()) },
        ACS_RESULT_OK
    );
    assert_eq!(
        unsafe { acs_send_typing(client, thread.as_ptr(), ptr::null()) },
        ACS_RESULT_OK
    );
}
