//! Clients made from a connection string: the identity requests they sign, the
//! user they create or reuse, and their tokens refreshed through the identity
//! service (on demand, after expiry, after a 401).

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use acs_chat::{set_logger, ChatClient, ClientOptions, LogLevel, MessageOptions, ResultCode};
use acs_chat_emulator::{Fault, IdentityRequest, Route};
use common::{fast_options, start_unlimited, thread_id, Env};

fn identity_requests(env: &Env) -> Vec<IdentityRequest> {
    env.control
        .identity_requests()
        .expect("identity request log")
}

fn count(env: &Env, op: &str, status: u16) -> usize {
    identity_requests(env)
        .iter()
        .filter(|r| r.op == op && r.status == status)
        .count()
}

fn set_token_seconds(env: &Env, seconds: Option<i64>) {
    env.control
        .set_identity_token_seconds(seconds)
        .expect("identity token lifetime set");
}

#[test]
fn a_new_user_is_created_once_and_its_tokens_work() {
    let env = start_unlimited();
    let conn = env.emulator.connection_string();
    let client = ChatClient::from_connection_string(&conn, None, &fast_options()).unwrap();
    let user = client.user_id().unwrap().to_owned();
    assert!(user.starts_with("8:acs:"), "{user}");
    let thread = thread_id("conn-new");
    client
        .send_message(&thread, "hello", &MessageOptions::new())
        .unwrap();
    client.send_typing(&thread, None).unwrap();
    let events = env.events(&thread);
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].user, user.trim_start_matches("8:"));

    let requests = identity_requests(&env);
    assert_eq!(requests.len(), 1, "{requests:?}");
    let create = &requests[0];
    assert_eq!(create.op, "createUser");
    assert_eq!(create.status, 201);
    assert_eq!(create.path_and_query, "/identities?api-version=2023-10-01");
    assert_eq!(
        create.body,
        r#"{"createTokenWithScopes":["chat"],"expiresInMinutes":1440}"#
    );
    assert_eq!(
        create.signed_headers.as_deref(),
        Some("x-ms-date;host;x-ms-content-sha256")
    );

    // The stored id brings the same user back, with a token issued for it.
    let again = ChatClient::from_connection_string(&conn, Some(&user), &fast_options()).unwrap();
    assert_eq!(again.user_id(), Some(user.as_str()));
    again.send_typing(&thread, None).unwrap();
    assert_eq!(env.events(&thread)[2].user, user.trim_start_matches("8:"));
    let issued = identity_requests(&env);
    assert_eq!(issued.len(), 2);
    assert_eq!(issued[1].op, "issueAccessToken");
    assert_eq!(issued[1].status, 200);
    let encoded = user.replace(':', "%3A");
    assert_eq!(
        issued[1].path_and_query,
        format!("/identities/{encoded}/:issueAccessToken?api-version=2023-10-01")
    );
    assert_eq!(
        issued[1].body,
        r#"{"scopes":["chat"],"expiresInMinutes":1440}"#
    );
    // A client given its tokens has no user id.
    let plain = ChatClient::new(&env.url, &env.token(), &ClientOptions::new()).unwrap();
    assert_eq!(plain.user_id(), None);
}

#[test]
fn tokens_are_refreshed_through_the_identity_service() {
    let env = start_unlimited();
    set_token_seconds(&env, Some(2));
    let client = ChatClient::from_connection_string(
        &env.emulator.connection_string(),
        None,
        &fast_options(),
    )
    .unwrap();
    let thread = thread_id("conn-refresh");
    // Two seconds left: under the on-demand window, refreshed before the call.
    client.send_typing(&thread, None).unwrap();
    assert_eq!(count(&env, "issueAccessToken", 200), 1);
    // Just refreshed and still valid: not again.
    client.send_typing(&thread, None).unwrap();
    assert_eq!(count(&env, "issueAccessToken", 200), 1);
    // Expired: refreshed again, and the call goes through.
    std::thread::sleep(Duration::from_millis(2100));
    client.send_typing(&thread, None).unwrap();
    assert_eq!(count(&env, "issueAccessToken", 200), 2);
    assert_eq!(env.events(&thread).len(), 3);

    // A 401 from the chat service: one refresh, then the call is repeated.
    set_token_seconds(&env, None);
    std::thread::sleep(Duration::from_millis(2100));
    client.send_typing(&thread, None).unwrap();
    assert_eq!(count(&env, "issueAccessToken", 200), 3);
    env.fault(
        Fault::status(401)
            .on(&thread, Route::Messages)
            .body(r#"{"error":{"code":"Unauthorized","message":"revoked"}}"#),
    );
    client
        .send_message(&thread, "after 401", &MessageOptions::new())
        .unwrap();
    assert_eq!(count(&env, "issueAccessToken", 200), 4);
    let statuses: Vec<u16> = env
        .requests(&thread)
        .iter()
        .filter(|r| r.op == Route::Messages)
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, [401, 201]);
}

#[test]
fn a_failed_refresh_is_a_token_error() {
    let env = start_unlimited();
    set_token_seconds(&env, Some(-10));
    // The identity service hands out an expired token: refused at once.
    let err = ChatClient::from_connection_string(
        &env.emulator.connection_string(),
        None,
        &fast_options(),
    )
    .unwrap_err();
    assert_eq!(err.result_code(), ResultCode::Token, "{err}");
    // And through the refresher: a token error for the call.
    set_token_seconds(&env, Some(1));
    let client = ChatClient::from_connection_string(
        &env.emulator.connection_string(),
        None,
        &fast_options(),
    )
    .unwrap();
    set_token_seconds(&env, Some(-10));
    let err = client
        .send_typing(&thread_id("conn-expired"), None)
        .unwrap_err();
    assert_eq!(err.result_code(), ResultCode::Token, "{err}");
    assert!(err.to_string().contains("expired"), "{err}");
}

#[test]
fn identity_failures_have_their_codes() {
    let env = start_unlimited();
    let url = &env.url;
    // Another key: the service refuses the signature.
    let wrong = format!("endpoint={url}/;accesskey=d3Jvbmcta2V5LXdyb25nLWtleQ==");
    let err = ChatClient::from_connection_string(&wrong, None, &fast_options()).unwrap_err();
    assert_eq!(err.result_code(), ResultCode::Unauthorized, "{err}");
    assert_eq!(err.service_code(), "Denied");
    assert!(
        err.to_string().starts_with("creating an ACS user failed: "),
        "{err}"
    );
    assert!(!err.to_string().contains("d3Jvbmcta2V5"), "{err}");
    assert_eq!(count(&env, "createUser", 401), 1);

    let conn = env.emulator.connection_string();
    let err = ChatClient::from_connection_string(&conn, Some("8:acs:nobody"), &fast_options())
        .unwrap_err();
    assert_eq!(err.result_code(), ResultCode::NotFound, "{err}");
    assert!(
        err.to_string().starts_with("issuing a chat token failed: "),
        "{err}"
    );

    let err = ChatClient::from_connection_string(&conn, Some(" "), &fast_options()).unwrap_err();
    assert_eq!(err.result_code(), ResultCode::InvalidArgument);

    let mut with_refresher = fast_options();
    with_refresher.set_token_refresher(Some(Arc::new(
        || -> Result<String, acs_chat::RefreshError> { Err("unused".into()) },
    )));
    let err = ChatClient::from_connection_string(&conn, None, &with_refresher).unwrap_err();
    assert_eq!(err.result_code(), ResultCode::InvalidArgument);
    assert!(
        err.to_string().contains("refreshes its own tokens"),
        "{err}"
    );
}

#[test]
fn bad_connection_strings_fail_before_any_request() {
    let key = "c2VjcmV0LWtleS1ieXRlcw==";
    let cases = [
        (
            "endpoint=https://x.communication.azure.com/",
            ResultCode::InvalidArgument,
        ),
        (
            &format!("accesskey={key}") as &str,
            ResultCode::InvalidArgument,
        ),
        (
            "endpoint=https://x.communication.azure.com/;accesskey=%%%",
            ResultCode::InvalidArgument,
        ),
        (
            &format!("endpoint=ftp://x.communication.azure.com/;accesskey={key}"),
            ResultCode::InvalidArgument,
        ),
        (
            &format!("endpoint=http://x.communication.azure.com/;accesskey={key}"),
            ResultCode::InsecureEndpoint,
        ),
    ];
    for (conn, code) in cases {
        let err =
            ChatClient::from_connection_string(conn, None, &ClientOptions::new()).unwrap_err();
        assert_eq!(err.result_code(), code, "{conn}: {err}");
        assert!(!err.to_string().contains(key), "{err}");
    }
}

#[test]
fn the_access_key_never_reaches_a_log_line() {
    let env = start_unlimited();
    let lines: Arc<Mutex<Vec<String>>> = Arc::default();
    let sink = lines.clone();
    set_logger(
        Some(Arc::new(move |_level: LogLevel, line: &str| {
            sink.lock().unwrap().push(line.to_owned())
        })),
        LogLevel::Trace,
    );
    let conn = env.emulator.connection_string();
    let key = conn.rsplit_once("accesskey=").unwrap().1.to_owned();
    let client = ChatClient::from_connection_string(&conn, None, &fast_options()).unwrap();
    let user = client.user_id().unwrap().to_owned();
    let again = ChatClient::from_connection_string(&conn, Some(&user), &fast_options()).unwrap();
    again.send_typing(&thread_id("conn-log"), None).unwrap();
    let wrong = conn.replace(&key, "d3Jvbmcta2V5LXdyb25nLWtleQ==");
    assert!(ChatClient::from_connection_string(&wrong, None, &fast_options()).is_err());
    set_logger(None, LogLevel::Off);

    let lines = lines.lock().unwrap().clone();
    let signed: Vec<&String> = lines
        .iter()
        .filter(|l| l.contains("/identities") && l.contains("x-ms-content-sha256"))
        .collect();
    assert!(
        signed.len() >= 3,
        "identity requests are traced: {lines:#?}"
    );
    for line in &lines {
        assert!(!line.contains(&key), "{line}");
        assert!(!line.contains("d3Jvbmcta2V5"), "{line}");
        assert!(!line.contains("Signature="), "{line}");
        assert!(
            !line.contains("emulator-key") && !line.contains("a public access key"),
            "{line}"
        );
    }
    assert!(signed.iter().all(|l| l.contains("authorization: REDACTED")));
}
