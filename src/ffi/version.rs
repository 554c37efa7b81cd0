//! Library version.

use std::ffi::{c_char, CStr};

// The header's `ACS_CHAT_VERSION*` macros are written by `tests/header.rs`
// from the same package version: the version is written once, in Cargo.toml.

/// The library version, `MAJOR.MINOR.PATCH`; equals what `acs_version()`
/// returns.
/// cbindgen:ignore
pub const ACS_CHAT_VERSION: &str = env!("CARGO_PKG_VERSION");
/// Major version.
/// cbindgen:ignore
pub const ACS_CHAT_VERSION_MAJOR: u32 = parse_u32(env!("CARGO_PKG_VERSION_MAJOR"));
/// Minor version.
/// cbindgen:ignore
pub const ACS_CHAT_VERSION_MINOR: u32 = parse_u32(env!("CARGO_PKG_VERSION_MINOR"));
/// Patch version.
/// cbindgen:ignore
pub const ACS_CHAT_VERSION_PATCH: u32 = parse_u32(env!("CARGO_PKG_VERSION_PATCH"));

/// A decimal number, at compile time.
const fn parse_u32(digits: &str) -> u32 {
    let bytes = digits.as_bytes();
    assert!(!bytes.is_empty(), "an empty version number");
    let mut value = 0u32;
    let mut i = 0;
    while i < bytes.len() {
        assert!(
            bytes[i].is_ascii_digit(),
            "a version number that is not decimal"
        );
        value = value * 10 + (bytes[i] - b'0') as u32;
        i += 1;
    }
    value
}

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
