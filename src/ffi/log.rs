//! The process-wide log callback.

use std::ffi::{c_char, c_void, CString};
use std::sync::Arc;

use super::errors::acs_result;
use crate::log::{set_logger, LogLevel};

/// The C log level. Passed as a 32-bit unsigned value; values other than
/// those of the `acs_log_level` enum are rejected with
/// `ACS_RESULT_INVALID_ARGUMENT`.
pub type acs_log_level = u32;

/// Receives one log line: its level and a NUL-terminated UTF-8 message,
/// valid only during the call. May be called from any thread, concurrently;
/// must not unwind or throw across the C boundary. Messages never contain
/// the token.
pub type acs_log_callback = Option<
    unsafe extern "C" fn(user_data: *mut c_void, level: acs_log_level, message: *const c_char),
>;

struct CLogger {
    callback: unsafe extern "C" fn(*mut c_void, acs_log_level, *const c_char),
    user_data: *mut c_void,
}

// SAFETY: the C API documents that the callback may be called from any
// thread, concurrently, with this user_data.
unsafe impl Send for CLogger {}
// SAFETY: as above.
unsafe impl Sync for CLogger {}

impl CLogger {
    fn log(&self, level: LogLevel, line: &str) {
        let line = CString::new(line.replace('\0', " ")).unwrap_or_default();
        // SAFETY: callback and user_data were supplied together through the C API.
        unsafe { (self.callback)(self.user_data, level as u32, line.as_ptr()) }
    }
}

/// Installs the process-wide log callback, receiving lines up to
/// `max_level`; `callback` NULL removes it. Without a callback, the
/// environment variable `ACS_CHAT_LOG` (`error`, `warn`, `info`, `debug`,
/// `trace`) sends lines to standard error. `user_data` is passed to every
/// call and is not freed by the library; it must stay valid until the
/// callback is replaced or removed. An invalid `max_level` is
/// `ACS_RESULT_INVALID_ARGUMENT`. Thread-safe.
#[no_mangle]
#[must_use]
pub extern "C" fn acs_set_log_callback(
    callback: acs_log_callback,
    max_level: acs_log_level,
    user_data: *mut c_void,
) -> acs_result {
    ffi_boundary! {
        let max_level = LogLevel::from_u32(max_level)?;
        match callback {
            Some(callback) => {
                let logger = CLogger { callback, user_data };
                set_logger(Some(Arc::new(move |level, line: &str| logger.log(level, line))), max_level);
            }
            None => set_logger(None, LogLevel::Off),
        }
        Ok(())
    }
}
