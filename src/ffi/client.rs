//! `acs_client`: the client and the three chat operations.

use std::ffi::c_char;

use super::errors::{acs_result, record_call};
use super::message_options::acs_message_options;
use super::options::acs_client_options;
use super::strings::into_c_string;
use super::{free_arc, into_arc_ptr, Castable, OwnershipArc};
use crate::client::{ChatClient, ClientOptions, Request, Sent};
use crate::error::Error;
use crate::model::MessageOptions;

/// A chat client for one endpoint and identity. Thread-safe: share one
/// client across threads and calls. Create with `acs_client_new`, release
/// with `acs_client_free`. Functions: `acs_client_set_token`,
/// `acs_send_message`, `acs_send_typing`, `acs_send_read_receipt`.
///
/// `acs_send_*` block the calling thread; `acs_send_*_async` return at once
/// and complete through a callback (see `acs_call`). Every client of the
/// process shares one I/O runtime with a fixed number of threads, and
/// clients with equal settings share one connection pool.
pub struct acs_client {
    _private: [u8; 0],
}

impl Castable for acs_client {
    type Ownership = OwnershipArc;
    type RustType = ChatClient;
}

/// Creates a client for `endpoint` (`https://NAME.communication.azure.com`;
/// plain `http://` only to loopback unless allowed in the options) with an
/// ACS user access token (a JWT). `options` may be NULL for the defaults; it
/// is copied and may be freed right after. No request is made.
///
/// On success `*client_out` owns the new client: release it with
/// `acs_client_free`. Fails with `ACS_RESULT_INVALID_ARGUMENT` (bad endpoint,
/// unreadable CA file), `ACS_RESULT_INSECURE_ENDPOINT` or `ACS_RESULT_TOKEN`
/// (not a JWT).
///
/// # Safety
///
/// `endpoint` and `token` must be NULL or NUL-terminated strings, `options`
/// NULL or live options, and `client_out` NULL or valid for writing a pointer.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn acs_client_new(
    endpoint: *const c_char,
    token: *const c_char,
    options: *const acs_client_options,
    client_out: *mut *mut acs_client,
) -> acs_result {
    ffi_boundary! {
        let endpoint = non_null!(str endpoint);
        let token = non_null!(str token);
        let client_out = non_null!(out client_out);
        let defaults = ClientOptions::new();
        let options = nullable!(ref options).unwrap_or(&defaults);
        let client = ChatClient::new(endpoint, token, options)?;
        client_out.write(into_arc_ptr::<acs_client>(client));
        Ok(())
    }
}

/// Releases the caller's reference to a client. NULL is a no-op. Calls in
/// flight hold references of their own: asynchronous calls complete (or may
/// be cancelled) and then release the client. A blocking call takes its
/// reference as it starts, so the handle must stay valid until the call has
/// begun on its thread.
///
/// # Safety
///
/// `client` must be NULL or a client from `acs_client_new`, released once.
#[no_mangle]
pub unsafe extern "C" fn acs_client_free(client: *mut acs_client) {
    ffi_boundary! { default = ();
        // SAFETY: per this function's contract.
        unsafe { free_arc(client) }
    }
}

/// Replaces the client's token atomically (calls in flight keep the old
/// one). The token is copied. `ACS_RESULT_TOKEN` if it is not a JWT, and the
/// old token stays. Thread-safe.
///
/// # Safety
///
/// `client` must be NULL or a live client, and `token` NULL or a
/// NUL-terminated string.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn acs_client_set_token(
    client: *const acs_client,
    token: *const c_char,
) -> acs_result {
    ffi_boundary! {
        let client = non_null!(ref client);
        let token = non_null!(str token);
        client.set_token(token)?;
        Ok(())
    }
}

/// Sends a message to a thread. `options` may be NULL (text, no sender
/// display name, no metadata). Thread-safe.
///
/// On success `*message_id_out` receives the new message's id, owned by the
/// caller: release it with `acs_string_free`. On failure it is not written;
/// `ACS_RESULT_TIMEOUT`, `ACS_RESULT_IO` and a `ACS_RESULT_PROTOCOL` after a
/// 2xx mean the message may have been created. Send-message is not retried
/// after a timeout or a broken connection, since that could post it twice.
///
/// # Safety
///
/// `client` must be NULL or a live client, `thread_id` and `content` NULL
/// or NUL-terminated strings, `options` NULL or live message options, and
/// `message_id_out` NULL or valid for writing a pointer.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn acs_send_message(
    client: *const acs_client,
    thread_id: *const c_char,
    content: *const c_char,
    options: *const acs_message_options,
    message_id_out: *mut *mut c_char,
) -> acs_result {
    ffi_boundary! {
        let client = non_null!(ref client);
        let thread_id = non_null!(str thread_id);
        let content = non_null!(str content);
        let message_id_out = non_null!(out message_id_out);
        let defaults = MessageOptions::new();
        let options = nullable!(ref options).unwrap_or(&defaults);
        let sent = run_recorded(client.prepare_message(thread_id, content, options))?;
        let id = sent
            .message_id
            .ok_or_else(|| Error::Internal("send-message returned no id".into()))?;
        message_id_out.write(into_c_string(id)?);
        Ok(())
    }
}

/// Sends a typing notification to a thread; `sender_display_name` may be
/// NULL. Retried on timeouts and broken connections too. Thread-safe.
///
/// # Safety
///
/// `client` must be NULL or a live client, and the strings NULL or
/// NUL-terminated.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn acs_send_typing(
    client: *const acs_client,
    thread_id: *const c_char,
    sender_display_name: *const c_char,
) -> acs_result {
    ffi_boundary! {
        let client = non_null!(ref client);
        let thread_id = non_null!(str thread_id);
        let sender_display_name = nullable!(str sender_display_name);
        run_recorded(client.prepare_typing(thread_id, sender_display_name))?;
        Ok(())
    }
}

/// Sends a read receipt for message `chat_message_id` of a thread. Retried on
/// timeouts and broken connections too. Thread-safe.
///
/// # Safety
///
/// `client` must be NULL or a live client, and the strings NULL or
/// NUL-terminated.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn acs_send_read_receipt(
    client: *const acs_client,
    thread_id: *const c_char,
    chat_message_id: *const c_char,
) -> acs_result {
    ffi_boundary! {
        let client = non_null!(ref client);
        let thread_id = non_null!(str thread_id);
        let chat_message_id = non_null!(str chat_message_id);
        run_recorded(client.prepare_read_receipt(thread_id, chat_message_id))?;
        Ok(())
    }
}

/// Runs a checked blocking call and records its answer for `acs_last_call_*`.
fn run_recorded(request: Result<Request, Error>) -> Result<Sent, Error> {
    let outcome = request.and_then(Request::run_blocking);
    match &outcome {
        Ok(sent) => record_call(sent.http_status, &sent.request_id),
        Err(e) => record_call(e.http_status(), e.request_id()),
    }
    outcome
}
