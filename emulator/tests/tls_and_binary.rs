//! HTTPS with a certificate made at test time, for the library and the binary, HTTP/2 and
//! HTTP/1.1 chosen by ALPN, and the binary's command line and signal handling.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use acs_chat_emulator::{
    ControlClient, ControlError, Emulator, EmulatorConfig, TlsFiles, TokenOptions,
};
use common::*;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use serde_json::{json, Value};

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

/// Certificates named `name`, and an emulator serving HTTPS with them.
fn start_https(name: &str) -> (TestCerts, Emulator) {
    let certs = make_certs(name);
    let emu = Emulator::start(EmulatorConfig {
        tls: Some(certs.files.clone()),
        ..EmulatorConfig::default()
    })
    .unwrap();
    (certs, emu)
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

/// A rustls client configuration trusting `ca_pem` and offering `alpn`.
fn rustls_config(ca_pem: &str, alpn: &[&str]) -> rustls::ClientConfig {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.as_bytes().to_vec()).collect();
    config
}

/// An HTTPS client offering exactly `alpn`, speaking HTTP/2 only if `h2` is chosen.
fn alpn_client(ca_pem: &str, alpn: &[&str]) -> reqwest::blocking::Client {
    install_crypto();
    reqwest::blocking::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(20))
        .tls_backend_preconfigured(rustls_config(ca_pem, alpn))
        .build()
        .unwrap()
}

/// GET of a control resource over `c`.
fn get_over(c: &reqwest::blocking::Client, url: &str) -> Value {
    let resp = c.get(url).send().unwrap();
    assert_eq!(resp.status(), 200, "GET {url}");
    resp.json().unwrap()
}

/// POST of a message over `c`, without panicking when no answer comes.
fn send_over(
    c: &reqwest::blocking::Client,
    url: &str,
    thread: &str,
    tok: &str,
    content: &str,
) -> reqwest::Result<reqwest::blocking::Response> {
    c.post(format!(
        "{url}/chat/threads/{thread}/messages?api-version={API}"
    ))
    .bearer_auth(tok)
    .header("content-type", "application/json")
    .body(json!({ "content": content }).to_string())
    .send()
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
fn control_client_over_https() {
    let (certs, emu) = start_https("control");
    let url = emu.url();
    // Offering h2 as well: the control client still speaks HTTP/1.1.
    let control =
        ControlClient::with_tls(&url, &rustls_config(&certs.ca_pem, &["h2", "http/1.1"])).unwrap();
    let token = control
        .token(&TokenOptions::new().user("tls-user"))
        .unwrap();
    let c = tls_client(&certs.ca_pem);
    assert_eq!(
        send_over(&c, &url, "19%3Atls%40thread.v2", &token.token, "typed")
            .unwrap()
            .status(),
        201
    );
    let events = control.events("19:tls@thread.v2").unwrap();
    assert_eq!(events[0].content.as_deref(), Some("typed"));
    assert_eq!(events[0].user, "tls-user");
    let log = control.requests("19:tls@thread.v2").unwrap();
    assert_eq!(log[0].http_version, "HTTP/2.0");

    // Without a configuration, or trusting another CA: errors, not answers.
    assert!(matches!(emu.control().limits(), Err(ControlError::Url(_))));
    let untrusting =
        ControlClient::with_tls(&url, &rustls_config(&make_certs("stranger").ca_pem, &[])).unwrap();
    assert!(matches!(
        untrusting.limits(),
        Err(ControlError::Transport(_))
    ));
}

#[test]
fn library_serves_https() {
    let (certs, emu) = start_https("lib");
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
fn https_serves_http2_by_alpn_and_http1_otherwise() {
    let (certs, emu) = start_https("alpn");
    let url = emu.url();
    let h2 = alpn_client(&certs.ca_pem, &["h2", "http/1.1"]);
    let resp = h2
        .get(format!("{url}/_emulator/token?user=h2-user"))
        .send()
        .unwrap();
    assert_eq!(resp.version(), reqwest::Version::HTTP_2);
    let tok = resp.json::<Value>().unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string();
    for i in 0..3 {
        let resp = send_over(&h2, &url, "h2", &tok, &format!("over h2 {i}")).unwrap();
        assert_eq!(resp.version(), reqwest::Version::HTTP_2);
        assert_eq!(resp.status(), 201);
        assert_common_headers(resp.headers());
        let location = resp.headers()["location"].to_str().unwrap().to_string();
        assert!(
            location.starts_with(&format!("{url}/chat/threads/h2/messages/")),
            "{location}"
        );
    }
    let contents: Vec<Value> = get_over(&h2, &format!("{url}/_emulator/threads/h2/events"))
        ["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["content"].clone())
        .collect();
    assert_eq!(contents, ["over h2 0", "over h2 1", "over h2 2"]);

    // A scripted drop resets its stream only: the connection serves the next call.
    let resp = h2
        .post(format!("{url}/_emulator/faults"))
        .body(
            json!([{"threadId": "h2", "action": "drop"},
                   {"threadId": "h2", "action": "dropBeforeBody"}])
            .to_string(),
        )
        .send()
        .unwrap();
    assert_eq!(resp.status(), 200);
    for _ in 0..2 {
        let err = send_over(&h2, &url, "h2", &tok, &"z".repeat(100_000)).expect_err("reset");
        assert!(!err.is_status() && !err.is_timeout(), "{err:?}");
    }
    assert_eq!(
        send_over(&h2, &url, "h2", &tok, "after the resets")
            .unwrap()
            .status(),
        201
    );
    let log = get_over(&h2, &format!("{url}/_emulator/threads/h2/requests"));
    let log = log["requests"].as_array().unwrap();
    let statuses: Vec<u64> = log.iter().map(|r| r["status"].as_u64().unwrap()).collect();
    assert_eq!(statuses, [201, 201, 201, 0, 0, 201]);
    let h2_connection = log[0]["connection"].as_u64().unwrap();
    assert!(h2_connection >= 1);
    for entry in log {
        assert_eq!(entry["httpVersion"], "HTTP/2.0", "{entry}");
        assert_eq!(
            entry["connection"], h2_connection,
            "one connection: {entry}"
        );
    }

    // Clients offering only HTTP/1.1, or no ALPN at all, get HTTP/1.1.
    for alpn in [&["http/1.1"][..], &[]] {
        let h1 = alpn_client(&certs.ca_pem, alpn);
        let resp = send_over(&h1, &url, "h1", &tok, "over http/1.1").unwrap();
        assert_eq!(resp.version(), reqwest::Version::HTTP_11, "{alpn:?}");
        assert_eq!(resp.status(), 201);
    }
    // reqwest's own TLS set-up offers h2 too unless told to speak HTTP/1.1 only.
    install_crypto();
    let h1_only = reqwest::blocking::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(20))
        .http1_only()
        .tls_certs_only([reqwest::Certificate::from_pem(certs.ca_pem.as_bytes()).unwrap()])
        .build()
        .unwrap();
    let resp = send_over(&h1_only, &url, "h1", &tok, "http1_only").unwrap();
    assert_eq!(resp.version(), reqwest::Version::HTTP_11);
    assert_eq!(resp.status(), 201);
    let log = get_over(&h2, &format!("{url}/_emulator/threads/h1/requests"));
    let log = log["requests"].as_array().unwrap();
    assert_eq!(log.len(), 3);
    let mut connections: Vec<u64> = log
        .iter()
        .map(|r| {
            assert_eq!(r["httpVersion"], "HTTP/1.1", "{r}");
            assert_eq!(r["status"], 201);
            r["connection"].as_u64().unwrap()
        })
        .collect();
    connections.push(h2_connection);
    connections.sort_unstable();
    connections.dedup();
    assert_eq!(connections.len(), 4, "each client has its own connection");
    assert_eq!(
        get_over(&h2, &format!("{url}/_emulator/threads/h1/events"))["events"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
}

/// Reads one HTTP/2 frame: its type and payload.
fn read_frame(tls: &mut impl Read) -> std::io::Result<(u8, Vec<u8>)> {
    let mut head = [0u8; 9];
    tls.read_exact(&mut head)?;
    let len = u32::from_be_bytes([0, head[0], head[1], head[2]]) as usize;
    let mut payload = vec![0u8; len];
    tls.read_exact(&mut payload)?;
    Ok((head[3], payload))
}

#[test]
fn idle_http2_connections_get_a_goaway_after_the_idle_timeout() {
    const GOAWAY: u8 = 7;
    let certs = make_certs("h2idle");
    let idle = Duration::from_millis(500);
    let emu = Emulator::start_with_header_timeout(
        EmulatorConfig {
            tls: Some(certs.files.clone()),
            ..EmulatorConfig::default()
        },
        idle,
    )
    .unwrap();
    install_crypto();
    let config = Arc::new(rustls_config(&certs.ca_pem, &["h2"]));
    let conn =
        rustls::ClientConnection::new(config, ServerName::try_from("localhost").unwrap()).unwrap();
    let tcp = TcpStream::connect(emu.addr()).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    // The client preface and an empty SETTINGS frame, then nothing.
    tls.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\x04\0\0\0\0\0")
        .unwrap();
    tls.flush().unwrap();
    let opened = Instant::now();
    assert_eq!(tls.conn.alpn_protocol(), Some(&b"h2"[..]));
    loop {
        let (kind, payload) = read_frame(&mut tls).expect("a GOAWAY before the close");
        if kind == GOAWAY {
            assert!(payload.len() >= 8);
            break;
        }
    }
    assert!(opened.elapsed() >= idle, "{:?}", opened.elapsed());
    // The connection then ends (at the latest when the grace period is over).
    let mut rest = Vec::new();
    let _ = tls.read_to_end(&mut rest);
    assert!(
        opened.elapsed() < Duration::from_secs(15),
        "{:?}",
        opened.elapsed()
    );
    // Other clients are served meanwhile and after.
    let h2 = alpn_client(&certs.ca_pem, &["h2"]);
    assert_eq!(
        get_over(&h2, &format!("{}/_emulator/limits", emu.url())),
        json!({"enabled": true})
    );
}

/// An event stream counts as an open HTTP/2 stream: its connection is not closed as idle
/// while the page listens (idle timeout 500 ms, then at most 5 s of grace).
#[test]
fn an_http2_event_stream_outlives_the_idle_timeout() {
    let certs = make_certs("h2stream");
    let emu = Emulator::start_with_header_timeout(
        EmulatorConfig {
            tls: Some(certs.files.clone()),
            ..EmulatorConfig::default()
        },
        Duration::from_millis(500),
    )
    .unwrap();
    install_crypto();
    let h2 = reqwest::blocking::Client::builder()
        .no_proxy()
        .timeout(None)
        .tls_backend_preconfigured(rustls_config(&certs.ca_pem, &["h2"]))
        .build()
        .unwrap();
    let feed = Feed::open(&h2, &emu.url());
    assert_eq!(feed.next()["kind"], "snapshot");
    assert!(!feed.ends_within(Duration::from_secs(7)));
    let c = tls_client(&certs.ca_pem);
    let tok = get_over(&c, &format!("{}/_emulator/token", emu.url()))["token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        call(
            &c,
            &emu.url(),
            "late",
            "messages",
            &tok,
            r#"{"content":"still there"}"#
        )
        .status(),
        201
    );
    assert_eq!(feed.next()["event"]["content"], "still there");
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
    for flag in [
        "--listen",
        "--no-limits",
        "--latency-ms",
        "--tls-cert",
        "--tls-key",
    ] {
        assert!(text.contains(flag), "{flag}");
    }
    for args in [
        vec!["--bogus"],
        vec!["--listen"],
        vec!["--listen", "not-an-address"],
        vec!["--tls-cert", "x.pem"],
        vec!["--latency-ms"],
        vec!["--latency-ms", "soon"],
        vec!["--latency-ms", "-1"],
        vec!["--latency-ms", "600001"],
        vec!["--latency-ms", "5:"],
        vec!["--latency-ms", ":5"],
        vec!["--latency-ms", "5:x"],
        vec!["--latency-ms", "5:-1"],
        vec!["--latency-ms", "300000:300001"],
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
