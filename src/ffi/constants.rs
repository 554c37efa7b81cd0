//! The header's macros that the library makes from its own values, which
//! cbindgen does not see: the version (from Cargo.toml), the result codes
//! (from the table in `error.rs`) and the options' defaults and limits (from
//! `client/options.rs`). `tests/header.rs` writes them into the header, so
//! each value is written once, in Rust, and the bindings read the header.

use std::fmt::Write;

use crate::error::ResultCode;

/// The options' defaults and limits: macro name, value, documentation.
fn defaults_and_limits() -> [(&'static str, u128, &'static str); 9] {
    [
        (
            "ACS_DEFAULT_TIMEOUT_MS",
            crate::DEFAULT_TIMEOUT.as_millis(),
            "Per-try timeout, in milliseconds, when none is set.",
        ),
        (
            "ACS_DEFAULT_CONNECT_TIMEOUT_MS",
            crate::DEFAULT_CONNECT_TIMEOUT.as_millis(),
            "Connect timeout, in milliseconds, when none is set.",
        ),
        (
            "ACS_DEFAULT_MAX_RETRIES",
            crate::DEFAULT_MAX_RETRIES.into(),
            "Retries after the first attempt when none is set.",
        ),
        (
            "ACS_MAX_RETRIES",
            crate::MAX_RETRIES_LIMIT.into(),
            "Largest number of retries acs_client_options_set_max_retries accepts.",
        ),
        (
            "ACS_DEFAULT_RETRY_DELAY_MS",
            crate::DEFAULT_RETRY_DELAY.as_millis(),
            "Base of the exponential retry back-off, in milliseconds, when none is set.",
        ),
        (
            "ACS_DEFAULT_MAX_RETRY_DELAY_MS",
            crate::DEFAULT_MAX_RETRY_DELAY.as_millis(),
            "Longest retry delay, in milliseconds, when none is set.",
        ),
        (
            "ACS_MAX_APPLICATION_ID_LEN",
            crate::MAX_APPLICATION_ID_LEN as u128,
            "Longest application id, in bytes, acs_client_options_set_application_id accepts.",
        ),
        (
            "ACS_DEFAULT_MAX_CONNECTIONS_PER_ORIGIN",
            crate::DEFAULT_MAX_CONNECTIONS_PER_ORIGIN.into(),
            "Requests in flight to one origin over HTTP/1.1 when no bound is set.",
        ),
        (
            "ACS_MAX_CONNECTIONS_PER_ORIGIN",
            crate::MAX_CONNECTIONS_PER_ORIGIN_LIMIT.into(),
            "Largest bound acs_client_options_set_max_connections_per_origin accepts.",
        ),
    ]
}

/// The text of those macros, as `tests/header.rs` puts it into the header.
#[doc(hidden)]
pub fn header_macros() -> String {
    let mut out = String::new();
    let version = env!("CARGO_PKG_VERSION");
    out += "\n/* The version of this header; acs_version() returns the library's. */\n";
    let _ = writeln!(out, "#define ACS_CHAT_VERSION \"{version}\"");
    for (part, value) in [
        ("MAJOR", env!("CARGO_PKG_VERSION_MAJOR")),
        ("MINOR", env!("CARGO_PKG_VERSION_MINOR")),
        ("PATCH", env!("CARGO_PKG_VERSION_PATCH")),
    ] {
        let _ = writeln!(out, "#define ACS_CHAT_VERSION_{part} {value}");
    }
    out += "\n/* Result codes (acs_result). Values are never renumbered. */\n";
    for &code in ResultCode::ALL {
        macro_with_doc(
            &mut out,
            code.name(),
            code.as_u32().into(),
            code.documentation(),
        );
    }
    out += "\n/* Defaults and limits of the client options. */\n";
    for (name, value, doc) in defaults_and_limits() {
        macro_with_doc(&mut out, name, value, &format!(" {doc}\n"));
    }
    out
}

fn macro_with_doc(out: &mut String, name: &str, value: u128, doc: &str) {
    out.push_str("\n/**\n");
    for line in doc.lines() {
        let _ = writeln!(out, " *{line}");
    }
    let _ = writeln!(out, " */\n#define {name} {value}");
}
