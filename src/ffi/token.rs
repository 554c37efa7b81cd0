//! Token refresher callbacks and the sink they deliver tokens through.

use std::ffi::{c_char, c_void};

use zeroize::Zeroizing;

use super::errors::{acs_result, ACS_RESULT_OK};
use super::{Castable, OwnershipRef};
use crate::credential::{RefreshError, TokenRefresher};
use crate::error::ResultCode;

/// Where a token refresher delivers the new token, with `acs_token_sink_set`.
///
/// Owned by the library and valid only during the refresher call it is
/// passed to; never free it. Used only on the thread running that call.
pub struct acs_token_sink {
    _private: [u8; 0],
}

/// What a sink holds: the token delivered, if any. The library's copy is
/// wiped when it is replaced or dropped; on success its buffer moves, without
/// a copy, to the credential, which wipes it after parsing.
#[derive(Default)]
pub(crate) struct TokenSink {
    token: Option<Zeroizing<String>>,
}

impl Castable for acs_token_sink {
    type Ownership = OwnershipRef;
    type RustType = TokenSink;
}

/// A token refresher. Called on the thread making a call, one refresh at a
/// time per client, when the token nears expiry (see
/// `acs_client_options_set_token_refresher`) or after a 401. Deliver the new
/// token with `acs_token_sink_set(sink, token)` and return `ACS_RESULT_OK`;
/// any other return value reports failure, and the call then fails with
/// `ACS_RESULT_TOKEN`. `sink` is valid only during the callback. The
/// callback must not unwind or throw across the C boundary, and must be safe
/// to call from any thread that uses the client.
pub type acs_token_refresher =
    Option<unsafe extern "C" fn(user_data: *mut c_void, sink: *mut acs_token_sink) -> acs_result>;

/// Releases a refresher's `user_data`; may be NULL.
pub type acs_user_data_free = Option<unsafe extern "C" fn(user_data: *mut c_void)>;

/// Delivers the refreshed token from inside a token refresher. The token is
/// copied; the caller keeps ownership of `token`. Calling it again replaces
/// the token delivered before.
///
/// Returns `ACS_RESULT_NULL_PARAMETER` or `ACS_RESULT_INVALID_ARGUMENT`
/// (invalid UTF-8). The token is validated when the refresher returns.
///
/// # Safety
///
/// `sink` must be NULL or the sink passed to the running refresher, and
/// `token` NULL or a NUL-terminated string.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn acs_token_sink_set(
    sink: *mut acs_token_sink,
    token: *const c_char,
) -> acs_result {
    ffi_boundary! {
        let sink = non_null!(mut sink);
        let token = non_null!(str token);
        sink.token = Some(Zeroizing::new(token.to_owned()));
        Ok(())
    }
}

/// A C refresher: callback, user data and its optional free function, which
/// runs once, when the last options or client holding it is freed.
pub(crate) struct CRefresher {
    callback: unsafe extern "C" fn(*mut c_void, *mut acs_token_sink) -> acs_result,
    user_data: *mut c_void,
    free_user_data: acs_user_data_free,
}

// SAFETY: the C API documents that the callback and user_data may be used
// from any thread that uses the client, one refresh at a time per client.
unsafe impl Send for CRefresher {}
// SAFETY: as above; the library never calls the callback concurrently for one client.
unsafe impl Sync for CRefresher {}

impl CRefresher {
    /// # Safety
    ///
    /// `callback` must be safe to call with `user_data` from any thread
    /// that uses the clients, one refresh at a time per client, and
    /// `free_user_data` (if any) once with `user_data` after the last call.
    pub(crate) unsafe fn new(
        callback: unsafe extern "C" fn(*mut c_void, *mut acs_token_sink) -> acs_result,
        user_data: *mut c_void,
        free_user_data: acs_user_data_free,
    ) -> CRefresher {
        CRefresher {
            callback,
            user_data,
            free_user_data,
        }
    }
}

impl TokenRefresher for CRefresher {
    fn refresh(&self) -> Result<String, RefreshError> {
        let mut sink = TokenSink::default();
        let sink_ptr = (&mut sink as *mut TokenSink).cast::<acs_token_sink>();
        // SAFETY: `CRefresher::new`'s contract; the sink outlives the call.
        let rc = crate::http::runtime::call_user_code(|| unsafe {
            (self.callback)(self.user_data, sink_ptr)
        })
        .ok_or("the process is exiting; the token refresher is no longer called")?;
        if rc != ACS_RESULT_OK {
            let name = ResultCode::from_u32(rc).map_or("an unknown result", ResultCode::name);
            return Err(format!("the refresher returned {rc} ({name})").into());
        }
        match sink.token.as_mut() {
            // Moves the buffer out, leaving an empty string to wipe.
            Some(token) => Ok(std::mem::take(&mut **token)),
            None => Err("the refresher returned no token".into()),
        }
    }
}

impl Drop for CRefresher {
    fn drop(&mut self) {
        if let Some(free) = self.free_user_data {
            // SAFETY: `CRefresher::new`'s contract; runs once, when the last
            // holder is dropped. Once the process is exiting it is not called
            // (the user data is left).
            let user_data = self.user_data;
            crate::http::runtime::call_user_code(|| unsafe { free(user_data) });
        }
    }
}
