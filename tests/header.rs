//! The committed C header is exactly what the pinned cbindgen generates, and
//! its version macros match the package and the library.
//!
//! `ACS_UPDATE_HEADER=1 cargo test -p acs_chat --test header` rewrites it.

use std::ffi::CStr;
use std::path::Path;

fn generate() -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut config =
        cbindgen::Config::from_file(root.join("cbindgen.toml")).expect("cbindgen.toml");
    let after = config.after_includes.take().unwrap_or_default();
    config.after_includes = Some(after + &acs_chat::ffi::constants::header_macros());
    let bindings = cbindgen::Builder::new()
        .with_crate(root)
        .with_config(config)
        .generate()
        .expect("cbindgen generates the header");
    let mut out = Vec::new();
    bindings.write(&mut out);
    String::from_utf8(out).expect("header is UTF-8")
}

fn header_path() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("include/acs_chat.h")
}

#[test]
fn header_is_up_to_date() {
    let generated = generate();
    let path = header_path();
    if std::env::var_os("ACS_UPDATE_HEADER").is_some_and(|v| v == "1") {
        std::fs::write(&path, &generated).expect("write include/acs_chat.h");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "include/acs_chat.h is stale: run `ACS_UPDATE_HEADER=1 cargo test -p acs_chat --test header`"
    );
}

fn macro_value(header: &str, name: &str) -> String {
    let prefix = format!("#define {name} ");
    header
        .lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("{name} not in the header"))
        .trim()
        .to_owned()
}

#[test]
fn version_macros_match_package_and_library() {
    let header = generate();
    let version = env!("CARGO_PKG_VERSION");
    assert_eq!(
        macro_value(&header, "ACS_CHAT_VERSION"),
        format!("\"{version}\"")
    );
    let parts: Vec<&str> = version.split('.').collect();
    assert_eq!(macro_value(&header, "ACS_CHAT_VERSION_MAJOR"), parts[0]);
    assert_eq!(macro_value(&header, "ACS_CHAT_VERSION_MINOR"), parts[1]);
    assert_eq!(macro_value(&header, "ACS_CHAT_VERSION_PATCH"), parts[2]);
    let runtime = unsafe { CStr::from_ptr(acs_chat::ffi::version::acs_version()) };
    assert_eq!(runtime.to_str().unwrap(), version);
    assert_eq!(acs_chat::ffi::version::ACS_CHAT_VERSION, version);
}

#[test]
fn header_declares_the_whole_api() {
    let header = generate();
    let functions = [
        "acs_client_new",
        "acs_client_free",
        "acs_client_set_token",
        "acs_send_message",
        "acs_send_typing",
        "acs_send_read_receipt",
        "acs_string_free",
        "acs_client_options_new",
        "acs_client_options_free",
        "acs_client_options_set_api_version",
        "acs_client_options_set_timeout_ms",
        "acs_client_options_set_connect_timeout_ms",
        "acs_client_options_set_max_retries",
        "acs_client_options_set_retry_delay_ms",
        "acs_client_options_set_application_id",
        "acs_client_options_set_ca_file",
        "acs_client_options_set_allow_insecure_http",
        "acs_client_options_set_token_refresher",
        "acs_client_options_set_proactive_refresh",
        "acs_token_sink_set",
        "acs_message_options_new",
        "acs_message_options_free",
        "acs_message_options_set_type",
        "acs_message_options_set_sender_display_name",
        "acs_message_options_add_metadata",
        "acs_result_str",
        "acs_last_error_message",
        "acs_last_error_http_status",
        "acs_last_error_code",
        "acs_last_error_request_id",
        "acs_last_error_retry_after_ms",
        "acs_version",
        "acs_set_log_callback",
    ];
    for f in functions {
        let declared = header.contains(&format!(" {f}(")) || header.contains(&format!("*{f}("));
        assert!(declared, "{f} missing from the header");
    }
    for t in [
        "typedef struct acs_client acs_client;",
        "typedef struct acs_client_options acs_client_options;",
        "typedef struct acs_message_options acs_message_options;",
        "typedef struct acs_token_sink acs_token_sink;",
        "typedef uint32_t acs_result;",
        "typedef enum acs_message_type {",
        "typedef enum acs_log_level {",
    ] {
        assert!(header.contains(t), "{t} missing from the header");
    }
}
