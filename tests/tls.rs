//! HTTPS: certificates are verified against the system store plus `ca_file`.

use std::path::PathBuf;

use acs_chat::{ChatClient, ClientOptions, ResultCode};
use acs_chat_emulator::{Emulator, EmulatorConfig, TlsFiles};

struct TlsEnv {
    emulator: Emulator,
    ca: PathBuf,
    other_ca: PathBuf,
}

fn write(name: &str, text: &str) -> PathBuf {
    let dir =
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// A TLS emulator whose self-signed certificate is for `names`.
fn start_tls_for(names: &[&str], prefix: &str) -> TlsEnv {
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let server = rcgen::generate_simple_self_signed(names.clone()).unwrap();
    let other = rcgen::generate_simple_self_signed(names).unwrap();
    let cert = write(&format!("{prefix}cert.pem"), &server.cert.pem());
    let key = write(
        &format!("{prefix}key.pem"),
        &server.signing_key.serialize_pem(),
    );
    let other_ca = write(&format!("{prefix}other.pem"), &other.cert.pem());
    let config = EmulatorConfig {
        tls: Some(TlsFiles {
            cert: cert.clone(),
            key,
        }),
        ..EmulatorConfig::default()
    };
    let emulator = Emulator::start(config).expect("TLS emulator starts");
    TlsEnv {
        emulator,
        ca: cert,
        other_ca,
    }
}

/// An unsigned JWT valid for an hour, minted locally.
fn token() -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let exp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 3600;
    format!(
        "{}.{}.",
        b64.encode(r#"{"alg":"none","typ":"JWT"}"#),
        b64.encode(format!(r#"{{"sub":"tls-user","exp":{exp}}}"#))
    )
}

#[test]
fn https_with_ca_file() {
    let env = start_tls();
    let url = env.emulator.url();
    assert!(url.starts_with("https://"), "{url}");
    let token = token();
    let mut options = ClientOptions::new();
    options.set_max_retries(0).unwrap();

    // Unknown issuer: the handshake fails, nothing is delivered.
    let c = ChatClient::new(&url, &token, &options).unwrap();
    let err = c.send_typing("t", None).unwrap_err();
    assert_eq!(err.result_code(), ResultCode::Connect, "{err}");

    // A different CA does not help.
    let mut wrong = options.clone();
    wrong.set_ca_file(&env.other_ca).unwrap();
    let c = ChatClient::new(&url, &token, &wrong).unwrap();
    assert_eq!(
        c.send_typing("t", None).unwrap_err().result_code(),
        ResultCode::Connect
    );

    // Trusting the emulator's certificate works, also by host name.
    let mut trusted = options.clone();
    trusted.set_ca_file(&env.ca).unwrap();
    let c = ChatClient::new(&url, &token, &trusted).unwrap();
    c.send_typing("t", None).unwrap();
    let id = c
        .send_message("t", "over TLS", &acs_chat::MessageOptions::new())
        .unwrap();
    assert!(!id.is_empty());
    let by_name = url.replace("127.0.0.1", "localhost");
    let c = ChatClient::new(&by_name, &token, &trusted).unwrap();
    c.send_read_receipt("t", &id).unwrap();
}

fn start_tls() -> TlsEnv {
    start_tls_for(&["localhost", "127.0.0.1"], "")
}

#[test]
fn a_trusted_certificate_for_another_name_is_refused() {
    let env = start_tls_for(&["chat.example"], "other-name-");
    let mut options = ClientOptions::new();
    options.set_max_retries(0).unwrap();
    options.set_ca_file(&env.ca).unwrap();
    for url in [
        env.emulator.url(),
        env.emulator.url().replace("127.0.0.1", "localhost"),
    ] {
        let c = ChatClient::new(&url, &token(), &options).unwrap();
        let err = c.send_typing("t", None).unwrap_err();
        assert_eq!(err.result_code(), ResultCode::Connect, "{url}: {err}");
        assert!(
            err.to_string().contains("certificate"),
            "the error names the certificate problem: {err}"
        );
    }
}

#[test]
fn unusable_ca_files_are_invalid_arguments() {
    let token = token();
    let garbage = write("garbage.pem", "not a certificate\n");
    for path in [garbage, PathBuf::from("/nonexistent/ca.pem")] {
        let mut options = ClientOptions::new();
        options.set_ca_file(&path).unwrap();
        let err = ChatClient::new("https://example.com", &token, &options).unwrap_err();
        assert_eq!(
            err.result_code(),
            ResultCode::InvalidArgument,
            "{path:?}: {err}"
        );
    }
}
