//! `acs_message_options`: type, sender display name and metadata of a message.

use std::ffi::c_char;

use super::errors::acs_result;
use super::{free_box, into_box_ptr, write_out, Castable, OwnershipBox};
use crate::model::{MessageOptions, MessageType};

/// The C message type. Passed as a 32-bit unsigned value; values other than
/// those of the `acs_message_type` enum are rejected with
/// `ACS_RESULT_INVALID_ARGUMENT`.
pub type acs_message_type = u32;

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
#[no_mangle]
#[must_use]
pub extern "C" fn acs_message_options_new(
    options_out: *mut *mut acs_message_options,
) -> acs_result {
    ffi_boundary! {
        let options_out = non_null!(out options_out);
        write_out(options_out, into_box_ptr::<acs_message_options>(MessageOptions::new()));
        Ok(())
    }
}

/// Releases message options. NULL is a no-op.
#[no_mangle]
pub extern "C" fn acs_message_options_free(options: *mut acs_message_options) {
    ffi_boundary! { default = ();
        free_box(options)
    }
}

/// Sets the message type (`ACS_MESSAGE_TYPE_TEXT`, the default, or
/// `ACS_MESSAGE_TYPE_HTML`); any other value is `ACS_RESULT_INVALID_ARGUMENT`.
#[no_mangle]
#[must_use]
pub extern "C" fn acs_message_options_set_type(
    o: *mut acs_message_options,
    message_type: acs_message_type,
) -> acs_result {
    ffi_boundary! {
        let o = non_null!(mut o);
        o.set_type(MessageType::from_u32(message_type)?);
        Ok(())
    }
}

/// Sets the sender display name; `""` clears it. The string is copied.
#[no_mangle]
#[must_use]
pub extern "C" fn acs_message_options_set_sender_display_name(
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
#[no_mangle]
#[must_use]
pub extern "C" fn acs_message_options_add_metadata(
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
