//! Strings across the boundary: NUL-terminated UTF-8 in, library-owned
//! strings out (released with `acs_string_free`).

use std::ffi::{c_char, CStr, CString};

use crate::error::{Error, Result};

/// Reads a C string: `None` for NULL, an error for invalid UTF-8.
///
/// # Safety
///
/// `ptr` must be NULL or a NUL-terminated string alive and unchanged for `'a`.
pub(crate) unsafe fn try_str<'a>(
    ptr: *const c_char,
    name: &'static str,
) -> Option<Result<&'a str>> {
    if ptr.is_null() {
        return None;
    }
    // SAFETY: non-NULL, and NUL-terminated per this function's contract.
    let text = unsafe { CStr::from_ptr(ptr) };
    Some(
        text.to_str()
            .map_err(|_| Error::InvalidArgument(format!("{name} is not valid UTF-8"))),
    )
}

/// A string of the core as a C string.
///
/// The core hands out no string with a NUL byte: message ids, the only
/// strings returned, are rejected when parsed if they hold one
/// (`model::message_id_from_body`, `model::message_id_from_location`). A
/// NUL here would be a bug of the library, and is reported as one.
pub(crate) fn to_c_string(text: String) -> Result<CString> {
    CString::new(text)
        .map_err(|_| Error::Internal("a string returned to C contains a NUL byte".into()))
}

/// Hands a string to C; the caller releases it with `acs_string_free`.
pub(crate) fn into_c_string(text: String) -> Result<*mut c_char> {
    to_c_string(text).map(CString::into_raw)
}

/// Releases a string returned by this library (such as the message id of
/// `acs_send_message`). NULL is a no-op. Any thread may call it, once per string.
///
/// # Safety
///
/// `s` must be NULL or a string this library returned, not yet released.
#[no_mangle]
pub unsafe extern "C" fn acs_string_free(s: *mut c_char) {
    ffi_boundary! { default = ();
        if !s.is_null() {
            // SAFETY: per this function's contract, `s` came from
            // `into_c_string` and is released once.
            drop(unsafe { CString::from_raw(s) });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ResultCode;

    #[test]
    fn strings_out_keep_their_text() {
        let s = into_c_string("1700000000000".into()).unwrap();
        // SAFETY: `s` was just returned by `into_c_string`.
        assert_eq!(unsafe { CStr::from_ptr(s) }.to_str(), Ok("1700000000000"));
        // SAFETY: as above, released once.
        unsafe { acs_string_free(s) };
    }

    #[test]
    fn a_nul_is_a_bug_of_the_library_not_the_service() {
        let e = to_c_string("17\u{0}00".into()).unwrap_err();
        assert_eq!(e.result_code(), ResultCode::Internal);
        assert!(!e.to_string().contains("service"), "{e}");
        let e = into_c_string("\u{0}".into()).unwrap_err();
        assert_eq!(e.result_code(), ResultCode::Internal);
    }
}
