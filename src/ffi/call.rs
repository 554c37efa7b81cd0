//! Asynchronous calls: `acs_send_*_async`, the `acs_call` handle that
//! cancels one, and the `acs_completion` its callback reads.

use std::ffi::{c_char, c_void, CString};
use std::sync::Arc;

use super::client::acs_client;
use super::errors::{acs_result, copy_text, ErrorDetails, FfiError, ACS_RESULT_OK};
use super::message_options::acs_message_options;
use super::strings::to_c_string;
use super::{free_arc, Castable, Out, OwnershipArc, OwnershipRef};
use crate::client::{Request, Sent};
use crate::error::{Error, Result};
use crate::http::call::CallControl;
use crate::http::runtime;
use crate::log::{log_at, LogLevel};
use crate::model::MessageOptions;

/// One asynchronous call. Thread-safe. `acs_send_*_async` hands one out
/// when asked (`call_out`); `acs_call_cancel` cancels the call, and
/// `acs_call_free` releases the handle, which never cancels: the call goes
/// on and its callback still runs exactly once.
pub struct acs_call {
    _private: [u8; 0],
}

impl Castable for acs_call {
    type Ownership = OwnershipArc;
    type RustType = CallControl;
}

/// The outcome of an asynchronous call, passed to its callback. Owned by
/// the library and valid only during the callback: copy what you need. Read
/// it with `acs_completion_result`, `_message_id`, `_http_status`,
/// `_error_message`, `_error_code`, `_request_id`, `_retry_after_ms` and
/// `_may_have_been_delivered`.
pub struct acs_completion {
    _private: [u8; 0],
}

/// What an `acs_completion` points at.
pub(crate) struct Completion {
    result: acs_result,
    message_id: Option<CString>,
    details: ErrorDetails,
}

impl Castable for acs_completion {
    type Ownership = OwnershipRef;
    type RustType = Completion;
}

/// Called once per asynchronous call that was started, with the
/// `user_data` given at submit and the call's outcome (valid only during the
/// callback). It runs on one of the library's I/O threads, possibly before
/// the submit returns; keep it short and never block in it. It may start
/// new asynchronous calls, cancel calls and free clients and call handles;
/// a blocking call from inside it fails with `ACS_RESULT_INVALID_ARGUMENT`.
/// It must not unwind or throw across the C boundary. Once the process has
/// begun to exit (or after `acs_shutdown`), callbacks no longer run.
pub type acs_completion_callback =
    Option<unsafe extern "C" fn(user_data: *mut c_void, completion: *const acs_completion)>;

/// The caller's callback and `user_data`, carried to an I/O thread.
struct Callback {
    function: unsafe extern "C" fn(*mut c_void, *const acs_completion),
    user_data: *mut c_void,
}

// SAFETY: the C API documents that the callback runs with its user_data on
// one of the library's I/O threads.
unsafe impl Send for Callback {}

impl Callback {
    /// `NULL_PARAMETER` without a function.
    ///
    /// # Safety
    ///
    /// `function` must be safe to call once with `user_data` on an I/O thread.
    unsafe fn new(
        function: acs_completion_callback,
        user_data: *mut c_void,
    ) -> Result<Callback, FfiError> {
        match function {
            Some(function) => Ok(Callback {
                function,
                user_data,
            }),
            None => Err(FfiError::NullParameter("callback")),
        }
    }

    /// Hands the outcome to the callback, exactly once, unless the process
    /// is exiting.
    fn complete(self, outcome: Result<Sent>) {
        let completion = Completion::of(outcome);
        runtime::run_callback(|| {
            let ptr = std::ptr::from_ref(&completion).cast::<acs_completion>();
            // SAFETY: `Callback::new`'s contract; the completion outlives
            // the call.
            unsafe { (self.function)(self.user_data, ptr) }
        });
    }
}

impl Completion {
    fn of(outcome: Result<Sent>) -> Completion {
        let answered = outcome.and_then(|sent| {
            let id = sent.message_id.map(to_c_string).transpose()?;
            Ok((id, sent.http_status, sent.request_id))
        });
        match answered {
            Ok((message_id, http_status, request_id)) => Completion {
                result: ACS_RESULT_OK,
                message_id,
                details: ErrorDetails {
                    http_status,
                    request_id,
                    ..ErrorDetails::default()
                },
            },
            Err(e) => {
                log_at!(LogLevel::Error, "{}: {e}", e.result_code().name());
                Completion {
                    result: e.result_code().as_u32(),
                    message_id: None,
                    details: ErrorDetails::of(&e),
                }
            }
        }
    }
}

/// Starts a checked call on the runtime; writes `call_out` first.
fn submit(
    request: Result<Request>,
    callback: Callback,
    call_out: Option<Out<*mut acs_call>>,
) -> Result<()> {
    let request = request?;
    if runtime::is_quiesced() {
        return Err(Error::InvalidArgument(
            "asynchronous calls can no longer complete: the process is exiting or \
             acs_shutdown was called"
                .into(),
        ));
    }
    // Started before call_out is written, so that spawning cannot fail after.
    runtime::current()?;
    let control = Arc::new(CallControl::new_async());
    if let Some(call_out) = call_out {
        let handle = Arc::into_raw(control.clone()).cast_mut().cast::<acs_call>();
        call_out.write(handle);
    }
    request.spawn(control, move |outcome| callback.complete(outcome))
}

/// Starts sending a message; the asynchronous twin of `acs_send_message`.
///
/// Every argument is checked and copied before this returns (`options` may
/// be NULL, and freed right after). On `ACS_RESULT_OK` the call is under
/// way and `callback(user_data, completion)` runs exactly once, on an I/O
/// thread, possibly before this returns; `acs_completion_message_id` then
/// gives the new message's id. Any other result means nothing was started
/// and the callback never runs; this thread's last error says why.
///
/// With `call_out` non-NULL, `*call_out` receives a handle before the
/// callback can run: cancel with `acs_call_cancel`, release with
/// `acs_call_free`. The call keeps `client` alive: `acs_client_free` may be
/// called while calls are in flight. Retries, timeouts and the token
/// refresher behave as for `acs_send_message`; a message that may have been
/// delivered is never sent again. Thread-safe.
///
/// # Safety
///
/// `client` must be NULL or a live client, `thread_id` and `content` NULL
/// or NUL-terminated strings, `options` NULL or live message options, and
/// `call_out` NULL or valid for writing a pointer. `callback` must be safe
/// to call with `user_data` as described in `acs_completion_callback`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn acs_send_message_async(
    client: *const acs_client,
    thread_id: *const c_char,
    content: *const c_char,
    options: *const acs_message_options,
    callback: acs_completion_callback,
    user_data: *mut c_void,
    call_out: *mut *mut acs_call,
) -> acs_result {
    ffi_boundary! {
        let client = non_null!(ref client);
        let thread_id = non_null!(str thread_id);
        let content = non_null!(str content);
        // SAFETY: this function's contract.
        let callback = unsafe { Callback::new(callback, user_data) }?;
        let call_out = nullable!(out call_out);
        let defaults = MessageOptions::new();
        let options = nullable!(ref options).unwrap_or(&defaults);
        Ok(submit(client.prepare_message(thread_id, content, options), callback, call_out)?)
    }
}

/// Starts sending a typing notification; the asynchronous twin of
/// `acs_send_typing` (`sender_display_name` may be NULL). Submission,
/// completion and `call_out` as for `acs_send_message_async`.
///
/// # Safety
///
/// As for `acs_send_message_async`; `sender_display_name` must be NULL or a
/// NUL-terminated string.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn acs_send_typing_async(
    client: *const acs_client,
    thread_id: *const c_char,
    sender_display_name: *const c_char,
    callback: acs_completion_callback,
    user_data: *mut c_void,
    call_out: *mut *mut acs_call,
) -> acs_result {
    ffi_boundary! {
        let client = non_null!(ref client);
        let thread_id = non_null!(str thread_id);
        let sender_display_name = nullable!(str sender_display_name);
        // SAFETY: this function's contract.
        let callback = unsafe { Callback::new(callback, user_data) }?;
        let call_out = nullable!(out call_out);
        Ok(submit(client.prepare_typing(thread_id, sender_display_name), callback, call_out)?)
    }
}

/// Starts sending a read receipt; the asynchronous twin of
/// `acs_send_read_receipt`. Submission, completion and `call_out` as for
/// `acs_send_message_async`.
///
/// # Safety
///
/// As for `acs_send_message_async`; `chat_message_id` must be NULL or a
/// NUL-terminated string.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn acs_send_read_receipt_async(
    client: *const acs_client,
    thread_id: *const c_char,
    chat_message_id: *const c_char,
    callback: acs_completion_callback,
    user_data: *mut c_void,
    call_out: *mut *mut acs_call,
) -> acs_result {
    ffi_boundary! {
        let client = non_null!(ref client);
        let thread_id = non_null!(str thread_id);
        let chat_message_id = non_null!(str chat_message_id);
        // SAFETY: this function's contract.
        let callback = unsafe { Callback::new(callback, user_data) }?;
        let call_out = nullable!(out call_out);
        Ok(submit(client.prepare_read_receipt(thread_id, chat_message_id), callback, call_out)?)
    }
}

/// Cancels a call: it completes soon with `ACS_RESULT_CANCELLED`, unless it
/// had already finished (its callback then reports that outcome). Before
/// the request was sent, `acs_completion_may_have_been_delivered` is false;
/// after, for a message, true (it may have been created). Idempotent, from
/// any thread, also from inside a callback and after completion. NULL is a
/// no-op.
///
/// # Safety
///
/// `call` must be NULL or a live call handle.
#[no_mangle]
pub unsafe extern "C" fn acs_call_cancel(call: *const acs_call) {
    ffi_boundary! { default = ();
        if let Some(call) = nullable!(ref call) {
            call.cancel();
        }
    }
}

/// Releases a call handle. Never cancels: the call goes on and its callback
/// still runs. NULL is a no-op; release each handle once.
///
/// # Safety
///
/// `call` must be NULL or a call handle from `call_out`, released once.
#[no_mangle]
pub unsafe extern "C" fn acs_call_free(call: *mut acs_call) {
    ffi_boundary! { default = ();
        // SAFETY: per this function's contract.
        unsafe { free_arc(call) }
    }
}

/// The call's result: `ACS_RESULT_OK` or the failure's code (as the blocking
/// call would return it, or `ACS_RESULT_CANCELLED`).
///
/// # Safety
///
/// `c` must be NULL or the completion passed to the running callback.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn acs_completion_result(c: *const acs_completion) -> acs_result {
    ffi_boundary! { default = crate::ffi::errors::ACS_RESULT_NULL_PARAMETER;
        nullable!(ref c).map_or(crate::ffi::errors::ACS_RESULT_NULL_PARAMETER, |c| c.result)
    }
}

/// The new message's id after a successful `acs_send_message_async`;
/// NULL otherwise. Borrowed: valid during the callback only, copy it.
///
/// # Safety
///
/// `c` must be NULL or the completion passed to the running callback.
#[no_mangle]
pub unsafe extern "C" fn acs_completion_message_id(c: *const acs_completion) -> *const c_char {
    ffi_boundary! { default = std::ptr::null();
        nullable!(ref c)
            .and_then(|c| c.message_id.as_ref())
            .map_or(std::ptr::null(), |id| id.as_ptr())
    }
}

/// HTTP status of the service's last answer to the call: on success the
/// answer's status (201 for a message, 200 otherwise); on failure as
/// `acs_last_error_http_status` (0 when there was no answer).
///
/// # Safety
///
/// `c` must be NULL or the completion passed to the running callback.
#[no_mangle]
pub unsafe extern "C" fn acs_completion_http_status(c: *const acs_completion) -> u16 {
    ffi_boundary! { default = 0;
        nullable!(ref c).map_or(0, |c| c.details.http_status)
    }
}

/// Copies the failure's message into `buf` as `acs_last_error_message` does
/// (at most `len - 1` bytes and a NUL) and returns its full length; `""`
/// after a success.
///
/// # Safety
///
/// `c` must be NULL or the completion passed to the running callback.
#[no_mangle]
pub unsafe extern "C" fn acs_completion_error_message(
    c: *const acs_completion,
    buf: *mut c_char,
    len: usize,
) -> usize {
    ffi_boundary! { default = 0;
        // SAFETY: per this function's contract.
        unsafe { copy_detail(c, buf, len, |d| &d.message) }
    }
}

/// Copies the service's error code (e.g. `"TooManyRequests"`; `""` when
/// none) as `acs_last_error_code` does.
///
/// # Safety
///
/// `c` must be NULL or the completion passed to the running callback.
#[no_mangle]
pub unsafe extern "C" fn acs_completion_error_code(
    c: *const acs_completion,
    buf: *mut c_char,
    len: usize,
) -> usize {
    ffi_boundary! { default = 0;
        // SAFETY: per this function's contract.
        unsafe { copy_detail(c, buf, len, |d| &d.code) }
    }
}

/// Copies the call's request id (the service's `MS-CV`, else
/// `x-ms-request-id`, else the `x-ms-client-request-id` sent), on success as
/// on failure, as `acs_last_error_request_id` does.
///
/// # Safety
///
/// `c` must be NULL or the completion passed to the running callback.
#[no_mangle]
pub unsafe extern "C" fn acs_completion_request_id(
    c: *const acs_completion,
    buf: *mut c_char,
    len: usize,
) -> usize {
    ffi_boundary! { default = 0;
        // SAFETY: per this function's contract.
        unsafe { copy_detail(c, buf, len, |d| &d.request_id) }
    }
}

/// The delay in milliseconds the service's last answer asked for; 0 when none.
///
/// # Safety
///
/// `c` must be NULL or the completion passed to the running callback.
#[no_mangle]
pub unsafe extern "C" fn acs_completion_retry_after_ms(c: *const acs_completion) -> u64 {
    ffi_boundary! { default = 0;
        nullable!(ref c).map_or(0, |c| c.details.retry_after_ms)
    }
}

/// Whether a failed call's request may have reached the service and been
/// applied (see `acs_last_error_may_have_been_delivered`); false after a
/// success.
///
/// # Safety
///
/// `c` must be NULL or the completion passed to the running callback.
#[no_mangle]
pub unsafe extern "C" fn acs_completion_may_have_been_delivered(c: *const acs_completion) -> bool {
    ffi_boundary! { default = false;
        nullable!(ref c).is_some_and(|c| c.details.may_have_been_delivered)
    }
}

/// Copies one text of a completion's details as `copy_text` does; `""` for
/// a NULL completion.
///
/// # Safety
///
/// `c` as for `acs_completion_error_message`, `buf` and `len` as for `copy_text`.
unsafe fn copy_detail(
    c: *const acs_completion,
    buf: *mut c_char,
    len: usize,
    text: fn(&ErrorDetails) -> &str,
) -> usize {
    let text = nullable!(ref c).map_or("", |c| text(&c.details));
    // SAFETY: per this function's contract.
    unsafe { copy_text(text, buf, len) }
}

/// Stops every callback into the caller's code for the rest of the process
/// (completions, token refreshers, the log callback, `free_user_data`), and
/// waits (at most 2 s) for those running on other threads. For language
/// runtimes that finalize before C's exit handlers run (Python's `atexit`,
/// .NET's `ProcessExit`): once it returns, no callback enters them. The
/// library does the same by itself when the process calls `exit()`. Calls in
/// flight are abandoned; a refresh that would be needed fails with
/// `ACS_RESULT_TOKEN`; later asynchronous submits fail with
/// `ACS_RESULT_INVALID_ARGUMENT`; blocking calls keep working. Thread-safe.
#[no_mangle]
pub extern "C" fn acs_shutdown() {
    ffi_boundary! { default = ();
        runtime::quiesce_callbacks()
    }
}
