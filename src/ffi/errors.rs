//! Result codes, their static descriptions, and this thread's last error.

use std::cell::RefCell;
use std::ffi::c_char;
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::error::{result_code_table, Error, ResultCode};
use crate::log::{log_at, LogLevel};

/// Outcome of a fallible function: `ACS_RESULT_OK` (0) or one of the
/// `ACS_RESULT_*` values. Values are never renumbered.
pub type acs_result = u32;

/// Makes the `ACS_RESULT_*` constants from the result-code table.
macro_rules! define_result_constants {
    ($($(#[doc = $doc:literal])+ $variant:ident = $value:literal, $c_name:ident,
        $description:literal;)+) => {
        $($(#[doc = $doc])+ pub const $c_name: acs_result = ResultCode::$variant as acs_result;)+
    };
}

result_code_table!(define_result_constants);

/// A static, one-line description of any `acs_result` value (unknown values
/// included). The string is static: do not free it. Thread-safe.
#[no_mangle]
pub extern "C" fn acs_result_str(result: acs_result) -> *const c_char {
    ResultCode::from_u32(result)
        .map_or(c"unknown result code", ResultCode::c_description)
        .as_ptr()
}

/// Why a C API function failed: a NULL where C had to pass a pointer (which
/// the core, taking references, never sees), or the core's own [`Error`].
#[derive(Debug, thiserror::Error)]
pub(crate) enum FfiError {
    /// A required pointer was NULL; holds the parameter's name.
    #[error("{0} is NULL")]
    NullParameter(&'static str),
    /// What the core returned.
    #[error(transparent)]
    Core(#[from] Error),
}

impl FfiError {
    /// The code C sees. Core errors keep theirs ([`Error::result_code`],
    /// their one mapping); NULL parameters add the one code only C has.
    fn result_code(&self) -> ResultCode {
        match self {
            FfiError::NullParameter(_) => ResultCode::NullParameter,
            FfiError::Core(e) => e.result_code(),
        }
    }
}

/// The details of a failure as C reads them: this thread's last error, or a
/// completion's.
#[derive(Debug, Default)]
pub(crate) struct ErrorDetails {
    pub message: String,
    pub http_status: u16,
    pub code: String,
    pub request_id: String,
    pub retry_after_ms: u64,
    pub may_have_been_delivered: bool,
}

impl ErrorDetails {
    pub(crate) fn of(error: &Error) -> ErrorDetails {
        ErrorDetails {
            message: crate::error::one_line(&error.to_string()),
            http_status: error.http_status(),
            code: error.service_code().to_owned(),
            request_id: error.request_id().to_owned(),
            retry_after_ms: error
                .retry_after()
                .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
            may_have_been_delivered: error.may_have_been_delivered(),
        }
    }

    fn of_ffi(error: &FfiError) -> ErrorDetails {
        match error {
            FfiError::Core(e) => ErrorDetails::of(e),
            FfiError::NullParameter(_) => ErrorDetails {
                message: error.to_string(),
                ..ErrorDetails::default()
            },
        }
    }
}

thread_local! {
    static LAST_ERROR: RefCell<ErrorDetails> = RefCell::new(ErrorDetails::default());
}

// Thread-local storage may already be torn down (a call from an atexit
// handler, a pthread key or C++ thread_local destructor): then the last
// error is not kept, and readers see the empty one. Never a panic.

fn set_last_error(error: &FfiError) {
    let last = ErrorDetails::of_ffi(error);
    let _ = LAST_ERROR.try_with(|cell| {
        if let Ok(mut slot) = cell.try_borrow_mut() {
            *slot = last;
        }
    });
}

fn clear_last_error() {
    let _ = LAST_ERROR.try_with(|cell| {
        if let Ok(mut slot) = cell.try_borrow_mut() {
            *slot = ErrorDetails::default();
        }
    });
}

/// The service's answer to this thread's last blocking send: status and request id.
#[derive(Default)]
struct LastCall {
    http_status: u16,
    request_id: String,
}

thread_local! {
    static LAST_CALL: RefCell<LastCall> = RefCell::new(LastCall::default());
}

/// Records the answer to a blocking send, success or failure (0 and `""`
/// when it got none).
pub(crate) fn record_call(http_status: u16, request_id: &str) {
    let _ = LAST_CALL.try_with(|cell| {
        if let Ok(mut last) = cell.try_borrow_mut() {
            last.http_status = http_status;
            last.request_id.clear();
            last.request_id.push_str(request_id);
        }
    });
}

fn with_last_call<T>(read: impl Fn(&LastCall) -> T) -> T {
    LAST_CALL
        .try_with(|cell| cell.try_borrow().ok().map(|last| read(&last)))
        .ok()
        .flatten()
        .unwrap_or_else(|| read(&LastCall::default()))
}

/// HTTP status of the service's answer to this thread's last blocking send
/// (`acs_send_message`, `acs_send_typing`, `acs_send_read_receipt`), success
/// or failure: 201 for a message created, 200 for a typing notification or
/// read receipt, the error status of a failure; 0 when that call got no
/// answer (or none was made yet). Other functions leave it alone.
#[no_mangle]
pub extern "C" fn acs_last_call_http_status() -> u16 {
    ffi_boundary! { default = 0;
        with_last_call(|last| last.http_status)
    }
}

/// Copies the request id of this thread's last blocking send, success or
/// failure (the service's `MS-CV`, else `x-ms-request-id`, else the
/// `x-ms-client-request-id` sent; `""` when no request was made) like
/// `acs_last_error_message`, and returns its full length.
///
/// # Safety
///
/// `buf` must be NULL or valid for writing `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn acs_last_call_request_id(buf: *mut c_char, len: usize) -> usize {
    ffi_boundary! { default = 0;
        // SAFETY: the function's contract on `buf` and `len`.
        with_last_call(|last| unsafe { copy_text(&last.request_id, buf, len) })
    }
}

/// Reads this thread's last error; the default when none can be read.
fn with_last_error<T>(read: impl Fn(&ErrorDetails) -> T) -> T {
    LAST_ERROR
        .try_with(|cell| cell.try_borrow().ok().map(|last| read(&last)))
        .ok()
        .flatten()
        .unwrap_or_else(|| read(&ErrorDetails::default()))
}

fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "unknown panic payload".to_owned()
    }
}

/// Runs the body of a fallible `extern "C"` function (see `ffi_boundary!`).
pub(crate) fn run(body: impl FnOnce() -> Result<(), FfiError>) -> acs_result {
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let result = body();
        if let Err(e) = &result {
            log_at!(LogLevel::Error, "{}: {e}", e.result_code().name());
        }
        result
    }));
    let result = match outcome {
        Ok(result) => result,
        Err(payload) => {
            let error = Error::Panic(crate::error::one_line(&panic_text(payload.as_ref())));
            // Dropping a payload can itself panic; never let that reach C.
            let _ = catch_unwind(AssertUnwindSafe(move || drop(payload)));
            Err(error.into())
        }
    };
    match result {
        Ok(()) => {
            clear_last_error();
            ACS_RESULT_OK
        }
        Err(error) => {
            set_last_error(&error);
            error.result_code().as_u32()
        }
    }
}

/// Runs the body of an infallible `extern "C"` function (see `ffi_boundary!`).
pub(crate) fn run_infallible<T>(default: T, body: impl FnOnce() -> T) -> T {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(value) => value,
        Err(payload) => {
            let _ = catch_unwind(AssertUnwindSafe(move || drop(payload)));
            default
        }
    }
}

/// Copies `text` into `buf` as the string getters do (at most `len - 1`
/// bytes and a NUL) and returns its full length.
///
/// # Safety
///
/// `buf` must be NULL or valid for writing `len` bytes.
pub(crate) unsafe fn copy_text(text: &str, buf: *mut c_char, len: usize) -> usize {
    if !buf.is_null() && len > 0 {
        let n = text.len().min(len - 1);
        // SAFETY: per this function's contract, `len` writable bytes at
        // `buf`; `n + 1 <= len`.
        unsafe {
            std::ptr::copy_nonoverlapping(text.as_ptr().cast::<c_char>(), buf, n);
            buf.add(n).write(0);
        }
    }
    text.len()
}

/// Copies this thread's last error message into `buf`: at most `len - 1`
/// bytes plus a NUL (UTF-8, may be cut mid-character when truncated).
/// Returns the message's full length in bytes, without the NUL; with `buf`
/// NULL or `len` 0 only returns the length. The message is `""` after a
/// success. Thread-local: each thread sees its own last failure.
///
/// # Safety
///
/// `buf` must be NULL or valid for writing `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn acs_last_error_message(buf: *mut c_char, len: usize) -> usize {
    ffi_boundary! { default = 0;
        // SAFETY: per this function's contract.
        with_last_error(|last| unsafe { copy_text(&last.message, buf, len) })
    }
}

/// HTTP status of the service's answer behind this thread's last failure; 0
/// when there was no answer or after a success.
#[no_mangle]
pub extern "C" fn acs_last_error_http_status() -> u16 {
    ffi_boundary! { default = 0;
        with_last_error(|last| last.http_status)
    }
}

/// Copies the service error code of this thread's last failure (e.g.
/// `"TooManyRequests"`; `""` when none) like `acs_last_error_message`, and
/// returns its full length.
///
/// # Safety
///
/// `buf` must be NULL or valid for writing `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn acs_last_error_code(buf: *mut c_char, len: usize) -> usize {
    ffi_boundary! { default = 0;
        // SAFETY: per this function's contract.
        with_last_error(|last| unsafe { copy_text(&last.code, buf, len) })
    }
}

/// Copies the request id of this thread's last failure (`MS-CV`, else
/// `x-ms-request-id`, else the `x-ms-client-request-id` sent; `""` when no
/// request was made) like `acs_last_error_message`, and returns its full length.
///
/// # Safety
///
/// `buf` must be NULL or valid for writing `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn acs_last_error_request_id(buf: *mut c_char, len: usize) -> usize {
    ffi_boundary! { default = 0;
        // SAFETY: per this function's contract.
        with_last_error(|last| unsafe { copy_text(&last.request_id, buf, len) })
    }
}

/// The delay in milliseconds the service's last answer asked for
/// (`retry-after-ms`, `x-ms-retry-after-ms` or `Retry-After`) on this
/// thread's last failure; 0 when none.
#[no_mangle]
pub extern "C" fn acs_last_error_retry_after_ms() -> u64 {
    ffi_boundary! { default = 0;
        with_last_error(|last| last.retry_after_ms)
    }
}

/// Whether the request of this thread's last failure may have reached the
/// service and been applied (a message created) although the call failed:
/// a timeout or broken connection after the request was written, an unusable
/// 2xx, a cancellation after the request was sent. False after a success and
/// for failures where nothing was applied (an error status, a redirect, a
/// connection that never opened). Bindings read this instead of guessing
/// from the result code.
#[no_mangle]
pub extern "C" fn acs_last_error_may_have_been_delivered() -> bool {
    ffi_boundary! { default = false;
        with_last_error(|last| last.may_have_been_delivered)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_str_describes_every_code_and_unknown_values() {
        let text = |code| unsafe { std::ffi::CStr::from_ptr(acs_result_str(code)) }.to_str();
        for &code in ResultCode::ALL {
            assert_eq!(text(code.as_u32()), Ok(code.description()));
        }
        assert_eq!(ACS_RESULT_THROTTLED, 14);
        assert_eq!(text(ACS_RESULT_CANCELLED), Ok("the call was cancelled"));
        for unknown in [4, 9, 26, 89, 92, u32::MAX] {
            assert_eq!(text(unknown), Ok("unknown result code"));
        }
    }

    #[test]
    fn null_parameter_is_its_own_code() {
        let e = FfiError::NullParameter("client");
        assert_eq!(e.result_code(), ResultCode::NullParameter);
        assert_eq!(e.to_string(), "client is NULL");
        let details = ErrorDetails::of_ffi(&e);
        assert_eq!(details.message, "client is NULL");
        assert_eq!(details.http_status, 0);
        let core = FfiError::from(Error::InvalidArgument("x".into()));
        assert_eq!(core.result_code(), ResultCode::InvalidArgument);
        assert_eq!(core.to_string(), "x");
    }

    #[test]
    fn copy_truncates_and_reports_length() {
        // SAFETY (every call below): each buffer is as long as the `len` given.
        let copy_text = |text, buf, len| unsafe { copy_text(text, buf, len) };
        let mut buf = [0x7f as c_char; 4];
        assert_eq!(copy_text("hello", buf.as_mut_ptr(), buf.len()), 5);
        assert_eq!(buf, [b'h' as c_char, b'e' as c_char, b'l' as c_char, 0]);
        assert_eq!(copy_text("hello", std::ptr::null_mut(), 10), 5);
        assert_eq!(copy_text("hello", buf.as_mut_ptr(), 0), 5);
        assert_eq!(buf[0], b'h' as c_char);
        let mut one = [0x7f as c_char; 1];
        assert_eq!(copy_text("x", one.as_mut_ptr(), 1), 1);
        assert_eq!(one[0], 0);
    }
}
