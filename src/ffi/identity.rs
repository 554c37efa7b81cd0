//! `acs_client` made from a connection string: the client gets and refreshes
//! its own tokens from the resource's identity service.

use std::ffi::c_char;

use super::client::acs_client;
use super::errors::acs_result;
use super::into_arc_ptr;
use super::options::acs_client_options;
use super::strings::into_c_string;
use crate::client::{ChatClient, ClientOptions};
use crate::error::Error;

/// Creates a client from an ACS resource's connection string
/// (`endpoint=https://NAME.communication.azure.com/;accesskey=BASE64`, as the
/// Azure portal shows it). The client signs identity requests with the
/// access key (HMAC-SHA256) to get chat tokens for its user, now and
/// whenever a token needs refreshing (on demand, proactively if set in the
/// options, after a 401). The access key is copied, never logged, and wiped
/// when the client is freed.
///
/// `user_id` (`8:acs:...`) names an existing user; NULL creates a new user,
/// once, here: read its id with `acs_client_user_id` to store and reuse it.
/// This call blocks for the first token. `options` may be NULL for the
/// defaults; it is copied and may be freed right after; it must not have a
/// token refresher (the client has its own).
///
/// On success `*client_out` owns the new client: release it with
/// `acs_client_free`. Fails with `ACS_RESULT_INVALID_ARGUMENT` (malformed
/// connection string, empty `user_id`, options with a refresher),
/// `ACS_RESULT_INSECURE_ENDPOINT` (plain `http://` to a host that is not
/// loopback), `ACS_RESULT_UNAUTHORIZED` (the service refused the signature:
/// a wrong key), `ACS_RESULT_NOT_FOUND` (unknown user), `ACS_RESULT_TOKEN`
/// (an unusable token) or a transport failure.
///
/// # Safety
///
/// `connection_string` must be NULL or a NUL-terminated string, `user_id`
/// NULL or a NUL-terminated string, `options` NULL or live options, and
/// `client_out` NULL or valid for writing a pointer.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn acs_client_new_from_connection_string(
    connection_string: *const c_char,
    user_id: *const c_char,
    options: *const acs_client_options,
    client_out: *mut *mut acs_client,
) -> acs_result {
    ffi_boundary! {
        let connection_string = non_null!(str connection_string);
        let user_id = nullable!(str user_id);
        let client_out = non_null!(out client_out);
        let defaults = ClientOptions::new();
        let options = nullable!(ref options).unwrap_or(&defaults);
        let client = ChatClient::from_connection_string(connection_string, user_id, options)?;
        client_out.write(into_arc_ptr::<acs_client>(client));
        Ok(())
    }
}

/// The ACS user (`8:acs:...`) of a client made with
/// `acs_client_new_from_connection_string`: the user it created, or the one
/// it was given. On success `*user_id_out` receives a copy owned by the
/// caller: release it with `acs_string_free`. `ACS_RESULT_INVALID_ARGUMENT`
/// for a client made with `acs_client_new` (its tokens name their user).
/// Thread-safe.
///
/// # Safety
///
/// `client` must be NULL or a live client, and `user_id_out` NULL or valid
/// for writing a pointer.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn acs_client_user_id(
    client: *const acs_client,
    user_id_out: *mut *mut c_char,
) -> acs_result {
    ffi_boundary! {
        let client = non_null!(ref client);
        let user_id_out = non_null!(out user_id_out);
        let user_id = client.user_id().ok_or_else(|| {
            Error::InvalidArgument(
                "the client was not made from a connection string and has no user id".into(),
            )
        })?;
        user_id_out.write(into_c_string(user_id.to_owned())?);
        Ok(())
    }
}
