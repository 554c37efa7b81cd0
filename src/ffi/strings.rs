//! Strings across the boundary: NUL-terminated UTF-8 in, library-owned
//! strings out (released with `acs_string_free`).

use std::ffi::{c_char, CStr, CString};

use crate::error::{Error, Result};

/// Reads a C string: `None` for NULL, an error for invalid UTF-8.
/// `ptr` must be NULL or a NUL-terminated string alive for `'a`.
pub(crate) fn try_str<'a>(ptr: *const c_char, name: &'static str) -> Option<Result<&'a str>> {
    if ptr.is_null() {
        return None;
    }
    // SAFETY: non-NULL and NUL-terminated per the C API contract.
    let text = unsafe { CStr::from_ptr(ptr) };
    Some(
        text.to_str()
            .map_err(|_| Error::InvalidArgument(format!("{name} is not valid UTF-8"))),
    )
}

/// Reads an optional C string: NULL is `None`.
pub(crate) fn optional_str<'a>(ptr: *const c_char, name: &'static str) -> Result<Option<&'a str>> {
    try_str(ptr, name).transpose()
}

/// Hands a string to C; the caller releases it with `acs_string_free`.
pub(crate) fn into_c_string(text: String) -> Result<*mut c_char> {
    CString::new(text).map(CString::into_raw).map_err(|_| {
        Error::Protocol(Box::new(crate::error::FailureDetails {
            message: "the service answered with an id containing a NUL byte".into(),
            ..Default::default()
        }))
    })
}

/// Releases a string handed out by `into_c_string`; NULL is a no-op.
pub(crate) fn free_c_string(s: *mut c_char) {
    if !s.is_null() {
        // SAFETY: `s` came from `into_c_string` and is released once.
        drop(unsafe { CString::from_raw(s) });
    }
}

/// Releases a string returned by this library (such as the message id of
/// `acs_send_message`). NULL is a no-op. Any thread may call it, once per string.
#[no_mangle]
pub extern "C" fn acs_string_free(s: *mut c_char) {
    ffi_boundary! { default = ();
        free_c_string(s)
    }
}
