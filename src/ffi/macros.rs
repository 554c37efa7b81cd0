//! The two macros every `extern "C"` function uses.

/// Wraps the body of an `extern "C"` function.
///
/// `ffi_boundary! { ...body returning Result<(), Error>... }` runs the body
/// under `catch_unwind`; it returns `ACS_RESULT_OK` and clears this thread's
/// last error on success, or sets the last error and returns the error's
/// code; a panic becomes `ACS_RESULT_PANIC`.
///
/// `ffi_boundary! { default = VALUE; ...body returning T... }` is for
/// functions that cannot fail: a panic returns `VALUE` and the last error is
/// left alone.
macro_rules! ffi_boundary {
    (default = $default:expr; $($body:tt)*) => {
        $crate::ffi::errors::run_infallible($default, move || { $($body)* })
    };
    ($($body:tt)*) => {
        $crate::ffi::errors::run(move || -> ::std::result::Result<(), $crate::error::Error> {
            $($body)*
        })
    };
}

/// The one NULL check of the C API: returns `Err(Error::NullParameter)` from
/// the enclosing [`ffi_boundary!`] body when the pointer is NULL.
///
/// - `non_null!(ref p)`: a `&RustType` for a handle;
/// - `non_null!(mut p)`: a `&mut RustType` for a builder handle;
/// - `non_null!(str p)`: a `&str` (invalid UTF-8 is `INVALID_ARGUMENT`);
/// - `non_null!(out p)`: the output pointer itself, to write on success.
macro_rules! non_null {
    (@null $p:ident) => {
        return Err($crate::error::Error::NullParameter(stringify!($p)))
    };
    (ref $p:ident) => {
        match $crate::ffi::try_ref($p) {
            Some(value) => value,
            None => non_null!(@null $p),
        }
    };
    (mut $p:ident) => {
        match $crate::ffi::try_mut($p) {
            Some(value) => value,
            None => non_null!(@null $p),
        }
    };
    (str $p:ident) => {
        match $crate::ffi::strings::try_str($p, stringify!($p)) {
            Some(text) => text?,
            None => non_null!(@null $p),
        }
    };
    (out $p:ident) => {
        if $p.is_null() {
            non_null!(@null $p)
        } else {
            $p
        }
    };
}
