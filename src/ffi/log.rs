//! The process-wide log callback.

use std::ffi::{c_char, c_void, CString};
use std::sync::Arc;

use super::errors::acs_result;
use crate::error::{Error, Result};
use crate::log::{set_logger, LogLevel};

/// The C log level. Passed as a 32-bit unsigned value; values other than
/// those of the `acs_log_level` enum are rejected with
/// `ACS_RESULT_INVALID_ARGUMENT`.
pub type acs_log_level = u32;

/// The level for an `acs_log_level` value (`ACS_LOG_LEVEL_OFF` = 0 to
/// `ACS_LOG_LEVEL_TRACE` = 5).
fn log_level(value: acs_log_level) -> Result<LogLevel> {
    Ok(match value {
        0 => LogLevel::Off,
        1 => LogLevel::Error,
        2 => LogLevel::Warn,
        3 => LogLevel::Info,
        4 => LogLevel::Debug,
        5 => LogLevel::Trace,
        other => {
            return Err(Error::InvalidArgument(format!(
                "log level {other} is not a valid acs_log_level"
            )))
        }
    })
}

/// The `acs_log_level` value of a level.
fn c_log_level(level: LogLevel) -> acs_log_level {
    match level {
        LogLevel::Off => 0,
        LogLevel::Error => 1,
        LogLevel::Warn => 2,
        LogLevel::Info => 3,
        LogLevel::Debug => 4,
        LogLevel::Trace => 5,
    }
}

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
        // SAFETY: callback and user_data were supplied together through the
        // C API. Once the process is exiting, lines are dropped.
        crate::http::runtime::call_user_code(|| unsafe {
            (self.callback)(self.user_data, c_log_level(level), line.as_ptr())
        });
    }
}

/// Installs the process-wide log callback, receiving lines up to
/// `max_level`; `callback` NULL removes it. Without a callback, the
/// environment variable `ACS_CHAT_LOG` (`error`, `warn`, `info`, `debug`,
/// `trace`) sends lines to standard error. `user_data` is passed to every
/// call and is not freed by the library; it must stay valid until the
/// callback is replaced or removed: this function returns only once no other
/// thread is still inside the callback it replaced, so `user_data` may be
/// released right after. (Called from inside a log callback, it cannot wait
/// for that same call.) An invalid `max_level` is
/// `ACS_RESULT_INVALID_ARGUMENT`. Thread-safe.
///
/// # Safety
///
/// `callback`, if not NULL, must be safe to call with `user_data` as
/// described above, from any thread, until it is replaced or removed.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn acs_set_log_callback(
    callback: acs_log_callback,
    max_level: acs_log_level,
    user_data: *mut c_void,
) -> acs_result {
    ffi_boundary! {
        let max_level = log_level(max_level)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_to_and_from_c() {
        for value in 0..=5 {
            assert_eq!(c_log_level(log_level(value).unwrap()), value);
        }
        assert!(log_level(1).unwrap() < log_level(5).unwrap());
        let e = log_level(6).unwrap_err();
        assert_eq!(e.to_string(), "log level 6 is not a valid acs_log_level");
    }
}
