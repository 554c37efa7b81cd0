//! The macros every `extern "C"` function uses: one boundary, and the only
//! places that read the C caller's pointers.

/// Wraps the body of an `extern "C"` function.
///
/// `ffi_boundary! { ...body returning Result<(), FfiError>... }` runs the
/// body under `catch_unwind`; it returns `ACS_RESULT_OK` and clears this
/// thread's last error on success, or sets the last error and returns the
/// error's code; a panic becomes `ACS_RESULT_PANIC`. The core's `Error`
/// converts into `FfiError` with `?`.
///
/// `ffi_boundary! { default = VALUE; ...body returning T... }` is for
/// functions that cannot fail: a panic returns `VALUE` and the last error is
/// left alone.
macro_rules! ffi_boundary {
    (default = $default:expr; $($body:tt)*) => {
        $crate::ffi::errors::run_infallible($default, move || { $($body)* })
    };
    ($($body:tt)*) => {
        $crate::ffi::errors::run(move || -> ::std::result::Result<(), $crate::ffi::errors::FfiError> {
            $($body)*
        })
    };
}

/// The one NULL check of the C API: returns `Err(FfiError::NullParameter)`
/// from the enclosing [`ffi_boundary!`] body when the pointer is NULL.
///
/// - `non_null!(ref p)`: a `&RustType` for a handle;
/// - `non_null!(mut p)`: a `&mut RustType` for a builder handle;
/// - `non_null!(str p)`: a `&str` (invalid UTF-8 is `INVALID_ARGUMENT`);
/// - `non_null!(out p)`: an [`Out`](crate::ffi::Out) to write on success.
///
/// Only for parameters of an `unsafe extern "C" fn` whose `# Safety` section
/// requires each pointer to be NULL or valid for its use.
macro_rules! non_null {
    (@null $p:ident) => {
        return Err($crate::ffi::errors::FfiError::NullParameter(stringify!($p)))
    };
    ($kind:ident $p:ident) => {
        match nullable!($kind $p) {
            Some(value) => value,
            None => non_null!(@null $p),
        }
    };
}

/// Reads a pointer that C may leave NULL: `None` for NULL.
///
/// - `nullable!(ref p)`: an `Option<&RustType>` for a handle;
/// - `nullable!(mut p)`: an `Option<&mut RustType>` for a builder handle;
/// - `nullable!(str p)`: an `Option<&str>` (invalid UTF-8 returns
///   `INVALID_ARGUMENT` from the enclosing [`ffi_boundary!`] body);
/// - `nullable!(out p)`: an `Option<Out>` to write on success.
///
/// Same contract as [`non_null!`].
macro_rules! nullable {
    (ref $p:ident) => {
        // SAFETY: the function's contract: NULL or a live handle of this type.
        unsafe { $crate::ffi::try_ref($p) }
    };
    (mut $p:ident) => {
        // SAFETY: the function's contract: NULL or a live builder, used by
        // this thread only.
        unsafe { $crate::ffi::try_mut($p) }
    };
    (str $p:ident) => {
        // SAFETY: the function's contract: NULL or a NUL-terminated string
        // that outlives the call.
        match unsafe { $crate::ffi::strings::try_str($p, stringify!($p)) } {
            Some(text) => Some(text?),
            None => None,
        }
    };
    (out $p:ident) => {
        // SAFETY: the function's contract: NULL or valid for one write.
        unsafe { $crate::ffi::Out::new($p) }
    };
}
