//! HTTPS with a certificate made at test time, for the library and the binary, and the
//! binary's command line and signal handling.

mod common;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use acs_chat_emulator::{Emulator, EmulatorConfig, TlsFiles};
use common::*;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
};
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_acs-chat-emulator");

struct TestCerts {
    dir: PathBuf,
    ca_pem: String,
    files: TlsFiles,
}

impl Drop for TestCerts {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A CA and a server certificate for localhost and 127.0.0.1, written as PEM files.
fn make_certs(name: &str) -> TestCerts {
    let dir = std::env::temp_dir().join(format!("acs-emulator-tls-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "acs-chat-emulator test CA");
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let leaf_key = KeyPair::generate().unwrap();
    let mut leaf_params =
        CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).unwrap();
    leaf_params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    let leaf = leaf_params.signed_by(&leaf_key, &ca).unwrap();
    let files = TlsFiles {
        cert: dir.join("cert.pem"),
        key: dir.join("key.pem"),
    };
    std::fs::write(&files.cert, leaf.pem()).unwrap();
    std::fs::write(&files.key, leaf_key.serialize_pem()).unwrap();
    TestCerts {
        dir,
        ca_pem: ca.pem(),
        files,
    }
}

fn tls_client(ca_pem: &str) -> reqwest::blocking::Client {
    install_crypto();
    reqwest::blocking::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(20))
        .tls_certs_only([reqwest::Certificate::from_pem(ca_pem.as_bytes()).unwrap()])
        .build()
        .unwrap()
}

/// Mints a token, sends a message, and reads it back, all over `c`.
fn round_trip(c: &reqwest::blocking::Client, url: &str) {
    let tok: Value = c
        .get(format!("{url}/_emulator/token?user=tls-user"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let tok = tok["token"].as_str().unwrap();
    let resp = call(
        c,
        url,
        "19:tls@thread.v2",
        "messages",
        tok,
        r#"{"content":"over tls"}"#,
    );
    assert_eq!(resp.status(), 201);
    let location = resp.headers()["location"].to_str().unwrap().to_string();
    assert!(
        location.starts_with(&format!(
            "{url}/chat/threads/19%3Atls%40thread.v2/messages/"
        )),
        "{location}"
    );
    let events: Value = c
        .get(format!(
            "{url}/_emulator/threads/19%3Atls%40thread.v2/events"
        ))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(events["events"][0]["content"], "over tls");
    assert_eq!(events["events"][0]["user"], "tls-user");
}

#[test]
fn library_serves_https() {
    let certs = make_certs("lib");
    let emu = Emulator::start(EmulatorConfig {
        tls: Some(certs.files.clone()),
        ..EmulatorConfig::default()
    })
    .unwrap();
    let url = emu.url();
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");
    let c = tls_client(&certs.ca_pem);
    round_trip(&c, &url);
    let localhost = url.replace("127.0.0.1", "localhost");
    assert_eq!(
        c.get(format!("{localhost}/_emulator/limits"))
            .send()
            .unwrap()
            .status(),
        200
    );
    // Plain HTTP to the TLS port gets no HTTP answer; an untrusting client fails the handshake.
    let plain = url.replace("https://", "http://");
    assert!(client()
        .get(format!("{plain}/_emulator/limits"))
        .send()
        .is_err());
    assert!(tls_client(&make_certs("other").ca_pem)
        .get(format!("{url}/_emulator/limits"))
        .send()
        .is_err());
    // Still serving after those.
    round_trip(&c, &url);
    emu.shutdown();
    assert!(
        c.get(format!("{url}/_emulator/limits")).send().is_err(),
        "stopped"
    );
}

#[test]
fn library_refuses_unusable_tls_files() {
    let certs = make_certs("bad");
    let missing = TlsFiles {
        cert: certs.dir.join("nope.pem"),
        key: certs.files.key.clone(),
    };
    let swapped = TlsFiles {
        cert: certs.files.key.clone(),
        key: certs.files.cert.clone(),
    };
    for tls in [missing, swapped] {
        let result = Emulator::start(EmulatorConfig {
            tls: Some(tls),
            ..EmulatorConfig::default()
        });
        assert!(result.is_err());
    }
}

#[test]
fn library_reports_a_busy_port_and_stops_on_drop() {
    let emu = start();
    let taken = Emulator::start(EmulatorConfig {
        listen: emu.addr(),
        ..EmulatorConfig::default()
    });
    assert!(taken.is_err());
    let addr = emu.addr();
    drop(emu);
    // The port is free again.
    let again = Emulator::start(EmulatorConfig {
        listen: addr,
        ..EmulatorConfig::default()
    })
    .unwrap();
    assert_eq!(again.addr(), addr);
    again.shutdown();
    again.shutdown();
}

struct Spawned {
    child: Child,
    url: String,
}

fn spawn(args: &[&str]) -> Spawned {
    let mut child = Command::new(BIN)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim_end()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("first line: {line:?}"))
        .to_string();
    Spawned { child, url }
}

fn signal_and_wait(mut spawned: Spawned, signal: &str) {
    let status = Command::new("kill")
        .args([signal, &spawned.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = spawned.child.try_wait().unwrap() {
            assert_eq!(status.code(), Some(0), "exits 0 on {signal}");
            return;
        }
        if Instant::now() > deadline {
            let _ = spawned.child.kill();
            panic!("still running after {signal}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn binary_serves_http_and_exits_0_on_sigterm() {
    let spawned = spawn(&["--listen", "127.0.0.1:0"]);
    assert!(
        spawned.url.starts_with("http://127.0.0.1:"),
        "{}",
        spawned.url
    );
    round_trip(&client(), &spawned.url);
    signal_and_wait(spawned, "-TERM");
}

#[test]
fn binary_exits_0_on_sigint() {
    let spawned = spawn(&["--listen", "127.0.0.1:0", "--no-limits"]);
    let url = spawned.url.clone();
    let tok = token(&url);
    let c = client();
    for _ in 0..15 {
        assert_eq!(
            call(&c, &url, "nl", "messages", &tok, r#"{"content":"x"}"#).status(),
            201
        );
    }
    assert_eq!(
        get_json(&format!("{url}/_emulator/limits")),
        json!({"enabled": false})
    );
    signal_and_wait(spawned, "-INT");
}

#[test]
fn binary_serves_https() {
    let certs = make_certs("bin");
    let spawned = spawn(&[
        "--listen",
        "127.0.0.1:0",
        "--tls-cert",
        certs.files.cert.to_str().unwrap(),
        "--tls-key",
        certs.files.key.to_str().unwrap(),
    ]);
    assert!(
        spawned.url.starts_with("https://127.0.0.1:"),
        "{}",
        spawned.url
    );
    round_trip(&tls_client(&certs.ca_pem), &spawned.url);
    signal_and_wait(spawned, "-TERM");
}

#[test]
fn binary_help_and_bad_arguments() {
    let out = Command::new(BIN).arg("--help").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for flag in ["--listen", "--no-limits", "--tls-cert", "--tls-key"] {
        assert!(text.contains(flag), "{flag}");
    }
    for args in [
        vec!["--bogus"],
        vec!["--listen"],
        vec!["--listen", "not-an-address"],
        vec!["--tls-cert", "x.pem"],
    ] {
        let out = Command::new(BIN).args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty());
    }
    let out = Command::new(BIN)
        .args([
            "--tls-cert",
            "/nonexistent/c.pem",
            "--tls-key",
            "/nonexistent/k.pem",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/c.pem"));
}
