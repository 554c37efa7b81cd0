//! `acs_client_options`: the builder of client settings.

use std::ffi::{c_char, c_void};
use std::sync::Arc;
use std::time::Duration;

use super::errors::acs_result;
use super::token::{acs_token_refresher, acs_user_data_free, CRefresher};
use super::{free_box, into_box_ptr, Castable, OwnershipBox};
use crate::client::ClientOptions;

/// Settings for `acs_client_new`: a builder used by one thread at a time.
///
/// Create with `acs_client_options_new`, release with
/// `acs_client_options_free`. `acs_client_new` copies it, so it may be freed
/// right after. Setters: `acs_client_options_set_api_version`, `_timeout_ms`,
/// `_connect_timeout_ms`, `_max_retries`, `_retry_delay_ms`,
/// `_application_id`, `_ca_file`, `_allow_insecure_http`,
/// `_token_refresher`, `_proactive_refresh`, `_total_timeout_ms`,
/// `_max_connections_per_origin`. A setter that fails leaves the
/// options unchanged.
pub struct acs_client_options {
    _private: [u8; 0],
}

impl Castable for acs_client_options {
    type Ownership = OwnershipBox;
    type RustType = ClientOptions;
}

/// Creates options with the defaults (api-version 2025-03-15, 30000 ms per
/// try, 10000 ms to connect, 3 retries from 800 ms up to 60000 ms, no
/// application id, no extra CA file, plain http only to loopback, no token
/// refresher). On success `*options_out` owns the new options; release them
/// with `acs_client_options_free`.
///
/// # Safety
///
/// `options_out` must be NULL or valid for writing a pointer.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn acs_client_options_new(
    options_out: *mut *mut acs_client_options,
) -> acs_result {
    ffi_boundary! {
        let options_out = non_null!(out options_out);
        options_out.write(into_box_ptr::<acs_client_options>(ClientOptions::new()));
        Ok(())
    }
}

/// Releases options from `acs_client_options_new`. NULL is a no-op. Clients
/// created from them are not affected.
///
/// # Safety
///
/// `options` must be NULL or options from `acs_client_options_new`,
/// released once.
#[no_mangle]
pub unsafe extern "C" fn acs_client_options_free(options: *mut acs_client_options) {
    ffi_boundary! { default = ();
        // SAFETY: per this function's contract.
        unsafe { free_box(options) }
    }
}

/// Sets the `api-version` sent with every request (default `"2025-03-15"`).
/// The string is copied. `ACS_RESULT_INVALID_ARGUMENT` unless it is
/// non-empty letters, digits, `-` and `.`.
///
/// # Safety
///
/// `o` must be NULL or live client options, used by this thread only, and
/// `api_version` NULL or a NUL-terminated string.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn acs_client_options_set_api_version(
    o: *mut acs_client_options,
    api_version: *const c_char,
) -> acs_result {
    ffi_boundary! {
        let o = non_null!(mut o);
        let api_version = non_null!(str api_version);
        o.set_api_version(api_version)?;
        Ok(())
    }
}

/// Sets the timeout of each try, in milliseconds (default 30000); 0 means no
/// per-try timeout.
///
/// # Safety
///
/// `o` must be NULL or live client options, used by this thread only.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn acs_client_options_set_timeout_ms(
    o: *mut acs_client_options,
    per_try_ms: u32,
) -> acs_result {
    ffi_boundary! {
        let o = non_null!(mut o);
        o.set_timeout(Some(Duration::from_millis(per_try_ms.into())));
        Ok(())
    }
}

/// Sets the timeout for establishing a connection (TCP and TLS), in
/// milliseconds (default 10000). 0 is `ACS_RESULT_INVALID_ARGUMENT`.
///
/// # Safety
///
/// `o` must be NULL or live client options, used by this thread only.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn acs_client_options_set_connect_timeout_ms(
    o: *mut acs_client_options,
    ms: u32,
) -> acs_result {
    ffi_boundary! {
        let o = non_null!(mut o);
        o.set_connect_timeout(Duration::from_millis(ms.into()))?;
        Ok(())
    }
}

/// Sets how many times a failed attempt is retried (default 3, at most 10,
/// else `ACS_RESULT_INVALID_ARGUMENT`). 0 disables retries.
///
/// # Safety
///
/// `o` must be NULL or live client options, used by this thread only.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn acs_client_options_set_max_retries(
    o: *mut acs_client_options,
    max_retries: u32,
) -> acs_result {
    ffi_boundary! {
        let o = non_null!(mut o);
        o.set_max_retries(max_retries)?;
        Ok(())
    }
}

/// Sets the retry back-off: the first retry waits about `base_ms` (plus or
/// minus 20 %), each next one twice as long, none longer than `max_ms`
/// (defaults 800 and 60000). A delay asked for by the service replaces the
/// computed one, still capped at `max_ms`. `base_ms > max_ms` is
/// `ACS_RESULT_INVALID_ARGUMENT`.
///
/// # Safety
///
/// `o` must be NULL or live client options, used by this thread only.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn acs_client_options_set_retry_delay_ms(
    o: *mut acs_client_options,
    base_ms: u32,
    max_ms: u32,
) -> acs_result {
    ffi_boundary! {
        let o = non_null!(mut o);
        o.set_retry_delay(Duration::from_millis(base_ms.into()), Duration::from_millis(max_ms.into()))?;
        Ok(())
    }
}

/// Sets the application id put in front of the User-Agent (at most 24
/// printable ASCII characters without spaces, else
/// `ACS_RESULT_INVALID_ARGUMENT`); `""` clears it. The string is copied.
///
/// # Safety
///
/// `o` must be NULL or live client options, used by this thread only, and
/// `application_id` NULL or a NUL-terminated string.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn acs_client_options_set_application_id(
    o: *mut acs_client_options,
    application_id: *const c_char,
) -> acs_result {
    ffi_boundary! {
        let o = non_null!(mut o);
        let application_id = non_null!(str application_id);
        o.set_application_id(application_id)?;
        Ok(())
    }
}

/// Trusts the PEM certificates in the file at `pem_path` in addition to the
/// system store. The path is copied; the file is read by `acs_client_new`,
/// which fails with `ACS_RESULT_INVALID_ARGUMENT` if it cannot be read or
/// holds no certificate. An empty path is `ACS_RESULT_INVALID_ARGUMENT`.
///
/// # Safety
///
/// `o` must be NULL or live client options, used by this thread only, and
/// `pem_path` NULL or a NUL-terminated string.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn acs_client_options_set_ca_file(
    o: *mut acs_client_options,
    pem_path: *const c_char,
) -> acs_result {
    ffi_boundary! {
        let o = non_null!(mut o);
        let pem_path = non_null!(str pem_path);
        o.set_ca_file(pem_path)?;
        Ok(())
    }
}

/// Allows plain `http://` to hosts that are not loopback (default false).
/// Loopback hosts (127.0.0.0/8, ::1, localhost) are always allowed.
///
/// # Safety
///
/// `o` must be NULL or live client options, used by this thread only.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn acs_client_options_set_allow_insecure_http(
    o: *mut acs_client_options,
    allow: bool,
) -> acs_result {
    ffi_boundary! {
        let o = non_null!(mut o);
        o.set_allow_insecure_http(allow);
        Ok(())
    }
}

/// Sets the token refresher; `refresher` NULL clears it. Clients created
/// from these options call it one refresh at a time per client: before a
/// call when under 2 minutes of the token's life remain (or, with proactive
/// refresh, under 10 minutes), and once after a 401. A blocking call runs it
/// on the calling thread; an asynchronous call on a thread of the library's
/// blocking pool, never on an I/O thread, while the calls waiting for it hold
/// no thread. The refresher must not make calls on the client it refreshes
/// (they fail with `ACS_RESULT_INVALID_ARGUMENT`); `acs_client_set_token` is
/// allowed.
///
/// `user_data` is passed to every call. `free_user_data` (may be NULL) runs
/// once with `user_data` when the options and every client created from them
/// have been freed, or when this setter is called again and no client holds
/// the old refresher. With `refresher` NULL, or when this function fails,
/// nothing is kept and `free_user_data` is not called. `refresher` and
/// `user_data` must be usable from any thread that uses those clients.
///
/// # Safety
///
/// `o` must be NULL or live client options, used by this thread only.
/// `refresher` and `free_user_data` must be safe to call with `user_data`
/// as described above, from any thread that uses the clients.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn acs_client_options_set_token_refresher(
    o: *mut acs_client_options,
    refresher: acs_token_refresher,
    user_data: *mut c_void,
    free_user_data: acs_user_data_free,
) -> acs_result {
    ffi_boundary! {
        let o = non_null!(mut o);
        match refresher {
            Some(callback) => {
                // SAFETY: this function's contract.
                let refresher = unsafe { CRefresher::new(callback, user_data, free_user_data) };
                o.set_token_refresher(Some(Arc::new(refresher)));
            }
            None => {
                o.set_token_refresher(None);
            }
        }
        Ok(())
    }
}

/// Turns proactive token refresh on or off (default off): with it, the
/// refresher is called once under 10 minutes of the token's life remain (or
/// at half the remaining life of a token that was already inside that
/// window), and a failure there keeps the current token.
///
/// # Safety
///
/// `o` must be NULL or live client options, used by this thread only.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn acs_client_options_set_proactive_refresh(
    o: *mut acs_client_options,
    enabled: bool,
) -> acs_result {
    ffi_boundary! {
        let o = non_null!(mut o);
        o.set_proactive_refresh(enabled);
        Ok(())
    }
}

/// Sets a deadline for a whole call, in milliseconds, across every attempt,
/// back-off wait, token refresh and wait for a connection (default 0: none;
/// only the per-try timeout applies). A call that reaches it fails with
/// `ACS_RESULT_TIMEOUT`, whose `may_have_been_delivered` says whether the
/// request had been sent.
///
/// # Safety
///
/// `o` must be NULL or live client options, used by this thread only.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn acs_client_options_set_total_timeout_ms(
    o: *mut acs_client_options,
    total_ms: u32,
) -> acs_result {
    ffi_boundary! {
        let o = non_null!(mut o);
        o.set_total_timeout(Some(Duration::from_millis(total_ms.into())));
        Ok(())
    }
}

/// Sets how many requests may be in flight at once to the endpoint over
/// HTTP/1.1, each on a connection of its own (default 100, 1 to 65536, else
/// `ACS_RESULT_INVALID_ARGUMENT`). Further calls wait in line for a place;
/// the wait counts against the call's deadline, not its per-try timeout.
/// Over HTTP/2 (negotiated with the service by TLS ALPN) one connection
/// carries every call and this bound does not apply. Clients with equal
/// settings share the connections and the bound.
///
/// # Safety
///
/// `o` must be NULL or live client options, used by this thread only.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn acs_client_options_set_max_connections_per_origin(
    o: *mut acs_client_options,
    max_connections: u32,
) -> acs_result {
    ffi_boundary! {
        let o = non_null!(mut o);
        o.set_max_connections_per_origin(max_connections)?;
        Ok(())
    }
}
