//! The identity routes: requests signed here by hand (HMAC-SHA256 over the documented string
//! to sign), and each part of the check refused on its own: wrong key, stale or future date,
//! tampered body, wrong content hash, unsigned.

mod common;

use std::time::{Duration, SystemTime};

use acs_chat_emulator::{AccessKey, Emulator, EmulatorConfig, DEFAULT_ACCESS_KEY};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use common::{client, get_json};

const CREATE: &str = "/identities?api-version=2023-10-01";

struct Signed {
    key: String,
    date: SystemTime,
    /// The body the signature and content hash cover.
    signed_body: String,
    /// The body sent.
    sent_body: String,
}

impl Signed {
    fn new(body: &str) -> Signed {
        Signed {
            key: DEFAULT_ACCESS_KEY.to_string(),
            date: SystemTime::now(),
            signed_body: body.to_string(),
            sent_body: body.to_string(),
        }
    }

    fn post(&self, emu: &Emulator, path_and_query: &str) -> (u16, Value) {
        let host = emu.addr().to_string();
        let date = httpdate::fmt_http_date(self.date);
        let hash = STANDARD.encode(Sha256::digest(self.signed_body.as_bytes()));
        let text = format!("POST\n{path_and_query}\n{date};{host};{hash}");
        let mut mac = Hmac::<Sha256>::new_from_slice(&STANDARD.decode(&self.key).unwrap()).unwrap();
        mac.update(text.as_bytes());
        let signature = STANDARD.encode(mac.finalize().into_bytes());
        let resp = client()
            .post(format!("{}{path_and_query}", emu.url()))
            .header("x-ms-date", date)
            .header("x-ms-content-sha256", hash)
            .header(
                "Authorization",
                format!("HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature={signature}"),
            )
            .header("Content-Type", "application/json")
            .body(self.sent_body.clone())
            .send()
            .unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }
}

fn payload(token: &str) -> Value {
    let part = token.split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part)
            .unwrap(),
    )
    .unwrap()
}

fn now_s() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[test]
fn create_and_issue_with_lifetimes() {
    let emu = Emulator::start(EmulatorConfig::default()).unwrap();
    let (status, created) =
        Signed::new(r#"{"createTokenWithScopes":["chat"],"expiresInMinutes":60}"#)
            .post(&emu, CREATE);
    assert_eq!(status, 201, "{created}");
    let id = created["identity"]["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("8:acs:"), "{id}");
    let token = created["accessToken"]["token"].as_str().unwrap();
    let exp = payload(token)["exp"].as_i64().unwrap();
    assert!((exp - now_s() - 3600).abs() <= 2, "{exp}");
    assert!(created["accessToken"]["expiresOn"]
        .as_str()
        .unwrap()
        .contains('T'));

    // Without expiresInMinutes: the service's default, 24 hours.
    let issue = format!(
        "/identities/{}/:issueAccessToken?api-version=2023-10-01",
        id.replace(':', "%3A")
    );
    let (status, issued) = Signed::new(r#"{"scopes":["chat"]}"#).post(&emu, &issue);
    assert_eq!(status, 200, "{issued}");
    let exp = payload(issued["token"].as_str().unwrap())["exp"]
        .as_i64()
        .unwrap();
    assert!((exp - now_s() - 86_400).abs() <= 2, "{exp}");
    // The token works on the chat routes as the user.
    let thread = "19:identity@thread.v2";
    let resp = client()
        .post(format!(
            "{}/chat/threads/{}/typing?api-version=2025-03-15",
            emu.url(),
            common::enc(thread)
        ))
        .header(
            "Authorization",
            format!("Bearer {}", issued["token"].as_str().unwrap()),
        )
        .header("Content-Type", "application/json")
        .body("{}")
        .send()
        .unwrap();
    assert_eq!(resp.status(), 200);
    let events = get_json(&format!(
        "{}/_emulator/threads/{}/events",
        emu.url(),
        common::enc(thread)
    ));
    assert_eq!(events["events"][0]["user"], id.trim_start_matches("8:"));

    // Out of bounds, wrong types, unknown user.
    for body in [
        r#"{"scopes":["chat"],"expiresInMinutes":59}"#,
        r#"{"scopes":["chat"],"expiresInMinutes":1441}"#,
        r#"{"scopes":["chat"],"expiresInMinutes":"60"}"#,
        r#"{"scopes":["email"]}"#,
        r#"{"scopes":[]}"#,
    ] {
        let (status, answer) = Signed::new(body).post(&emu, &issue);
        assert_eq!(status, 400, "{body}: {answer}");
    }
    let (status, answer) = Signed::new(r#"{"scopes":["chat"]}"#).post(
        &emu,
        "/identities/8%3Aacs%3Anobody/:issueAccessToken?api-version=2023-10-01",
    );
    assert_eq!(status, 404);
    assert_eq!(answer["error"]["code"], "IdentityNotFound");
    let (status, _) = Signed::new("{}").post(&emu, "/identities?api-version=2025-03-15");
    assert_eq!(status, 400);
}

#[test]
fn every_part_of_the_signature_is_checked() {
    let emu = Emulator::start(EmulatorConfig::default()).unwrap();
    let body = r#"{"createTokenWithScopes":["chat"]}"#;
    let refused = |signed: Signed, why: &str| {
        let (status, answer) = signed.post(&emu, CREATE);
        assert_eq!(status, 401, "{why}: {answer}");
        assert_eq!(answer["error"]["code"], "Denied", "{why}");
        answer["error"]["message"].as_str().unwrap().to_string()
    };
    // Right at the edges of the window: accepted.
    for offset in [-290i64, 290] {
        let mut ok = Signed::new(body);
        ok.date = shift(SystemTime::now(), offset);
        assert_eq!(ok.post(&emu, CREATE).0, 201, "{offset}");
    }
    let mut wrong_key = Signed::new(body);
    wrong_key.key = STANDARD.encode("another key entirely");
    assert!(refused(wrong_key, "wrong key").contains("Denied"));
    for offset in [-310i64, 310] {
        let mut stale = Signed::new(body);
        stale.date = shift(SystemTime::now(), offset);
        assert!(refused(stale, "date").contains("5 minutes"));
    }
    let mut tampered = Signed::new(body);
    tampered.sent_body = r#"{"createTokenWithScopes":["voip"]}"#.into();
    assert!(refused(tampered, "tampered body").contains("content hash"));

    // Unsigned, or another scheme.
    let resp = client()
        .post(format!("{}{CREATE}", emu.url()))
        .header("Authorization", "Bearer a.b.c")
        .body(body)
        .send()
        .unwrap();
    assert_eq!(resp.status(), 401);

    // The log has each request, its verdict and what was signed; never the key.
    let log = get_json(&format!("{}/_emulator/identity/requests", emu.url()));
    let requests = log["requests"].as_array().unwrap();
    assert_eq!(requests.len(), 7);
    let statuses: Vec<u64> = requests
        .iter()
        .map(|r| r["status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, [201, 201, 401, 401, 401, 401, 401]);
    assert_eq!(requests[0]["pathAndQuery"], CREATE);
    assert_eq!(requests[0]["host"], emu.addr().to_string());
    assert!(!log.to_string().contains(DEFAULT_ACCESS_KEY));
}

fn shift(at: SystemTime, seconds: i64) -> SystemTime {
    if seconds >= 0 {
        at + Duration::from_secs(seconds as u64)
    } else {
        at - Duration::from_secs((-seconds) as u64)
    }
}

#[test]
fn the_access_key_is_configurable_and_hidden() {
    let key = STANDARD.encode("my own key for this emulator");
    let emu = Emulator::start(EmulatorConfig {
        access_key: AccessKey::from_base64(&key).unwrap(),
        ..EmulatorConfig::default()
    })
    .unwrap();
    assert_eq!(
        emu.connection_string(),
        format!("endpoint={}/;accesskey={key}", emu.url())
    );
    assert_eq!(Signed::new("{}").post(&emu, CREATE).0, 401);
    let mut own = Signed::new("{}");
    own.key = key.clone();
    assert_eq!(own.post(&emu, CREATE).0, 201);
    let config = EmulatorConfig::default();
    assert!(!format!("{config:?}").contains(DEFAULT_ACCESS_KEY));
    assert!(AccessKey::from_base64("not base64!").is_none());
    assert!(AccessKey::from_base64("").is_none());
}

#[test]
fn token_lifetime_override_and_reset() {
    let emu = Emulator::start(EmulatorConfig::default()).unwrap();
    let control = format!("{}/_emulator/identity", emu.url());
    let set = client()
        .post(&control)
        .body(json!({"tokenSeconds": -5}).to_string())
        .send()
        .unwrap();
    assert_eq!(set.status(), 200);
    let (status, created) = Signed::new(r#"{"createTokenWithScopes":["chat"]}"#).post(&emu, CREATE);
    assert_eq!(status, 201);
    let exp = payload(created["accessToken"]["token"].as_str().unwrap())["exp"]
        .as_i64()
        .unwrap();
    assert!(exp < now_s(), "{exp}");
    assert_eq!(get_json(&control), json!({"users": 1, "tokenSeconds": -5}));
    client()
        .post(format!("{}/_emulator/reset", emu.url()))
        .send()
        .unwrap();
    assert_eq!(
        get_json(&control),
        json!({"users": 1, "tokenSeconds": null})
    );
    assert_eq!(
        get_json(&format!("{control}/requests")),
        json!({"requests": []})
    );
}
