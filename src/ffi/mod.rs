//! The C API (`include/acs_chat.h`).
//!
//! This layer only checks pointers, converts strings, calls the safe core and
//! maps its errors; each C object has its own module. Conventions:
//!
//! - the object comes first, inputs next, outputs last (`*_out`);
//! - outputs are written only on success;
//! - input strings are NUL-terminated UTF-8;
//! - `_free(NULL)` is a no-op;
//! - every fallible function returns `acs_result`, sets this thread's last
//!   error on failure and clears it on success, and never unwinds into C: a
//!   panic becomes `ACS_RESULT_PANIC`.
//!
//! Handles are opaque. `acs_client` is reference-counted and shareable
//! across threads; the two option builders are owned boxes used by one
//! thread at a time.

#![allow(non_camel_case_types)]

#[macro_use]
mod macros;

pub mod client;
pub mod errors;
pub mod log;
pub mod message_options;
pub mod options;
pub mod strings;
pub mod token;
pub mod version;

use std::sync::Arc;

/// Ties an opaque C handle type to the Rust value it stands for, and says how
/// that value is owned.
pub(crate) trait Castable {
    /// [`OwnershipBox`], [`OwnershipArc`] or [`OwnershipRef`].
    type Ownership;
    /// The Rust value behind the handle.
    type RustType;
}

/// The handle owns a `Box<RustType>`; C frees it with the matching `_free`.
pub(crate) struct OwnershipBox;
/// The handle holds one strong count of an `Arc<RustType>`.
pub(crate) struct OwnershipArc;
/// The handle borrows a value owned by Rust for the duration of a callback.
pub(crate) struct OwnershipRef;

/// Raw handle pointers of either mutability, read as `*const`.
pub(crate) trait AsConstPtr<C> {
    fn into_const_ptr(self) -> *const C;
}

impl<C> AsConstPtr<C> for *const C {
    fn into_const_ptr(self) -> *const C {
        self
    }
}

impl<C> AsConstPtr<C> for *mut C {
    fn into_const_ptr(self) -> *const C {
        self.cast_const()
    }
}

/// Borrows the value behind a handle. `ptr` must be NULL or a live handle of type `C`.
pub(crate) fn try_ref<'a, C: Castable>(ptr: impl AsConstPtr<C>) -> Option<&'a C::RustType> {
    let ptr = ptr.into_const_ptr().cast::<C::RustType>();
    // SAFETY: the C caller passes NULL or a pointer this library handed out
    // for `C`, which points at a live `C::RustType`.
    unsafe { ptr.as_ref() }
}

/// Mutably borrows the value behind a builder handle. `ptr` must be NULL or a
/// live handle of type `C`, used by one thread at a time.
pub(crate) fn try_mut<'a, C>(ptr: *mut C) -> Option<&'a mut C::RustType>
where
    C: Castable,
    C::Ownership: Exclusive,
{
    // SAFETY: as for `try_ref`; builders are documented as single-threaded.
    unsafe { ptr.cast::<C::RustType>().as_mut() }
}

/// Ownership kinds whose handles allow `&mut` access.
pub(crate) trait Exclusive {}
impl Exclusive for OwnershipBox {}
impl Exclusive for OwnershipRef {}

/// Moves a value into a new boxed handle.
pub(crate) fn into_box_ptr<C: Castable<Ownership = OwnershipBox>>(value: C::RustType) -> *mut C {
    Box::into_raw(Box::new(value)).cast()
}

/// Frees a boxed handle; NULL is a no-op.
pub(crate) fn free_box<C: Castable<Ownership = OwnershipBox>>(ptr: *mut C) {
    if !ptr.is_null() {
        // SAFETY: `ptr` came from `into_box_ptr::<C>` and is freed once.
        drop(unsafe { Box::from_raw(ptr.cast::<C::RustType>()) });
    }
}

/// Moves a value into a new reference-counted handle.
pub(crate) fn into_arc_ptr<C: Castable<Ownership = OwnershipArc>>(value: C::RustType) -> *mut C {
    Arc::into_raw(Arc::new(value)).cast_mut().cast()
}

/// Releases a reference-counted handle; NULL is a no-op.
pub(crate) fn free_arc<C: Castable<Ownership = OwnershipArc>>(ptr: *mut C) {
    if !ptr.is_null() {
        // SAFETY: `ptr` came from `into_arc_ptr::<C>` and is released once.
        drop(unsafe { Arc::from_raw(ptr.cast_const().cast::<C::RustType>()) });
    }
}

/// Writes an output parameter already checked for NULL.
pub(crate) fn write_out<T>(out: *mut T, value: T) {
    // SAFETY: `out` was checked non-NULL by `non_null!(out ...)` and points
    // at writable memory for a `T` per the function's contract.
    unsafe { out.write(value) }
}
