//! Library version.

use std::ffi::{c_char, CStr};

/// The library version, `MAJOR.MINOR.PATCH`; equals what `acs_version()`
/// returns. (In the header, `ACS_CHAT_VERSION` is written by `cbindgen.toml`.)
pub const ACS_CHAT_VERSION: &str = env!("CARGO_PKG_VERSION");
/// Major version.
pub const ACS_CHAT_VERSION_MAJOR: u32 = 0;
/// Minor version.
pub const ACS_CHAT_VERSION_MINOR: u32 = 1;
/// Patch version.
pub const ACS_CHAT_VERSION_PATCH: u32 = 0;

static VERSION: &CStr =
    match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
        Ok(version) => version,
        Err(_) => panic!("the package version contains a NUL byte"),
    };

/// The version of the loaded library, e.g. `"0.1.0"`: compare it with
/// `ACS_CHAT_VERSION` to detect a header/library mismatch. The string is
/// static: do not free it. Thread-safe.
#[no_mangle]
pub extern "C" fn acs_version() -> *const c_char {
    VERSION.as_ptr()
}
