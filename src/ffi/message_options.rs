//! `acs_message_options`: type, sender display name and metadata of a message.

use std::ffi::c_char;

use super::errors::acs_result;
use super::{free_box, into_box_ptr, Castable, OwnershipBox};
use crate::error::{Error, Result};
use crate::model::{MessageOptions, MessageType};

/// The C message type. Passed as a 32-bit unsigned value; values other than
/// those of the `acs_message_type` enum are rejected with
/// `ACS_RESULT_INVALID_ARGUMENT`.
pub type acs_message_type = u32;

/// The message type for an `acs_message_type` value
/// (`ACS_MESSAGE_TYPE_TEXT` = 0, `ACS_MESSAGE_TYPE_HTML` = 1).
fn message_type(value: acs_message_type) -> Result<MessageType> {
    match value {
        0 => Ok(MessageType::Text),
        1 => Ok(MessageType::Html),
        other => Err(Error::InvalidArgument(format!(
            "message type {other} is not a valid acs_message_type"
        ))),
    }
}

/// Optional parts of a message for `acs_send_message`: a builder used by one
/// thread at a time.
///
/// Create with `acs_message_options_new`, release with
/// `acs_message_options_free`. Setters: `acs_message_options_set_type`,
/// `acs_message_options_set_sender_display_name`,
/// `acs_message_options_add_metadata`. `acs_send_message` only reads it, so
/// it may be reused for several messages.
pub struct acs_message_options {
    _private: [u8; 0],
}

impl Castable for acs_message_options {
    type Ownership = OwnershipBox;
    type RustType = MessageOptions;
}

/// Creates message options: text, no sender display name, no metadata. On
/// success `*options_out` owns them; release with `acs_message_options_free`.
///
/// # Safety
///
/// `options_out` must be NULL or valid for writing a pointer.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn acs_message_options_new(
    options_out: *mut *mut acs_message_options,
) -> acs_result {
    ffi_boundary! {
        let options_out = non_null!(out options_out);
        options_out.write(into_box_ptr::<acs_message_options>(MessageOptions::new()));
        Ok(())
    }
}

/// Releases message options. NULL is a no-op.
///
/// # Safety
///
/// `options` must be NULL or options from `acs_message_options_new`,
/// released once.
#[no_mangle]
pub unsafe extern "C" fn acs_message_options_free(options: *mut acs_message_options) {
    ffi_boundary! { default = ();
        // SAFETY: per this function's contract.
        unsafe { free_box(options) }
    }
}

/// Sets the message type (`ACS_MESSAGE_TYPE_TEXT`, the default, or
/// `ACS_MESSAGE_TYPE_HTML`); any other value is `ACS_RESULT_INVALID_ARGUMENT`.
///
/// # Safety
///
/// `o` must be NULL or live message options, used by this thread only.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn acs_message_options_set_type(
    o: *mut acs_message_options,
    message_type: acs_message_type,
) -> acs_result {
    ffi_boundary! {
        let o = non_null!(mut o);
        o.set_type(self::message_type(message_type)?);
        Ok(())
    }
}

/// Sets the sender display name; `""` clears it. The string is copied.
///
/// # Safety
///
/// `o` must be NULL or live message options, used by this thread only, and
/// `name` NULL or a NUL-terminated string.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn acs_message_options_set_sender_display_name(
    o: *mut acs_message_options,
    name: *const c_char,
) -> acs_result {
    ffi_boundary! {
        let o = non_null!(mut o);
        let name = non_null!(str name);
        o.set_sender_display_name(name);
        Ok(())
    }
}

/// Adds a metadata entry; adding a key again replaces its value. Both strings
/// are copied. An empty key is `ACS_RESULT_INVALID_ARGUMENT`.
///
/// # Safety
///
/// `o` must be NULL or live message options, used by this thread only, and
/// `key` and `value` NULL or NUL-terminated strings.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn acs_message_options_add_metadata(
    o: *mut acs_message_options,
    key: *const c_char,
    value: *const c_char,
) -> acs_result {
    ffi_boundary! {
        let o = non_null!(mut o);
        let key = non_null!(str key);
        let value = non_null!(str value);
        o.add_metadata(key, value)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_types_from_c() {
        assert_eq!(message_type(0).unwrap(), MessageType::Text);
        assert_eq!(message_type(1).unwrap(), MessageType::Html);
        let e = message_type(2).unwrap_err();
        assert_eq!(
            e.to_string(),
            "message type 2 is not a valid acs_message_type"
        );
    }
}
