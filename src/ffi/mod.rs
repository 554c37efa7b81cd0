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
//! Handles are opaque. `acs_client` and `acs_call` are reference-counted and
//! shareable across threads; the two option builders are owned boxes used by
//! one thread at a time; `acs_completion` and `acs_token_sink` are borrowed
//! for the duration of a callback.
//!
//! From Rust, every function here that takes a pointer is an `unsafe fn`:
//! its `# Safety` section says what each pointer must be (as a rule: NULL,
//! or what the C contract asks for, alive for the call). Only
//! `acs_version`, `acs_result_str`, `acs_shutdown` and the pointer-free
//! `acs_last_error_*` getters are safe to call.

#![allow(non_camel_case_types)]
// Every unsafe operation in an `unsafe fn` sits in an `unsafe` block of its own.
#![deny(unsafe_op_in_unsafe_fn)]

#[macro_use]
mod macros;

pub mod call;
pub mod client;
pub mod constants;
pub mod errors;
pub mod identity;
pub mod log;
pub mod message_options;
pub mod options;
pub mod strings;
pub mod token;
pub mod version;

use std::ptr::NonNull;
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

/// Borrows the value behind a handle.
///
/// # Safety
///
/// `ptr` must be NULL or a live handle of type `C`, valid for `'a`.
pub(crate) unsafe fn try_ref<'a, C: Castable>(ptr: impl AsConstPtr<C>) -> Option<&'a C::RustType> {
    let ptr = ptr.into_const_ptr().cast::<C::RustType>();
    // SAFETY: per this function's contract, a handle this library handed
    // out for `C` points at a live `C::RustType`.
    unsafe { ptr.as_ref() }
}

/// Mutably borrows the value behind a builder handle.
///
/// # Safety
///
/// `ptr` must be NULL or a live handle of type `C`, valid for `'a` and used
/// by one thread at a time.
pub(crate) unsafe fn try_mut<'a, C>(ptr: *mut C) -> Option<&'a mut C::RustType>
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
///
/// # Safety
///
/// `ptr` must be NULL or come from `into_box_ptr::<C>`, and not be used again.
pub(crate) unsafe fn free_box<C: Castable<Ownership = OwnershipBox>>(ptr: *mut C) {
    if !ptr.is_null() {
        // SAFETY: per this function's contract.
        drop(unsafe { Box::from_raw(ptr.cast::<C::RustType>()) });
    }
}

/// Moves a value into a new reference-counted handle.
pub(crate) fn into_arc_ptr<C: Castable<Ownership = OwnershipArc>>(value: C::RustType) -> *mut C {
    Arc::into_raw(Arc::new(value)).cast_mut().cast()
}

/// Releases a reference-counted handle; NULL is a no-op.
///
/// # Safety
///
/// `ptr` must be NULL or a handle from `into_arc_ptr::<C>` (or another
/// `Arc::into_raw` of its value), released once.
pub(crate) unsafe fn free_arc<C: Castable<Ownership = OwnershipArc>>(ptr: *mut C) {
    if !ptr.is_null() {
        // SAFETY: per this function's contract.
        drop(unsafe { Arc::from_raw(ptr.cast_const().cast::<C::RustType>()) });
    }
}

/// An output parameter, checked for NULL, that the function writes on
/// success. Made only by `non_null!(out p)` / `nullable!(out p)`.
pub(crate) struct Out<T>(NonNull<T>);

impl<T> Out<T> {
    /// `None` for NULL.
    ///
    /// # Safety
    ///
    /// `ptr` must be NULL or valid for writing a `T` (aligned, writable)
    /// until the `Out` is written or dropped.
    pub(crate) unsafe fn new(ptr: *mut T) -> Option<Out<T>> {
        NonNull::new(ptr).map(Out)
    }

    /// Writes the output, without reading or dropping what was there.
    pub(crate) fn write(self, value: T) {
        // SAFETY: `Out::new`'s contract: non-NULL and valid for one write.
        unsafe { self.0.as_ptr().write(value) }
    }
}
