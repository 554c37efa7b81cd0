//! The identity operations a client made from a connection string uses: creating a user
//! (with a token) and issuing a token for a user, each signed with the resource's access key
//! (HMAC-SHA256), and their control API under `/_emulator/identity`.

use std::collections::{HashSet, VecDeque};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use hyper::body::Incoming;
use hyper::header::{HeaderMap, AUTHORIZATION, HOST};
use hyper::http::request::Parts;
use hyper::{Method, Request, StatusCode};
use serde::Deserialize;

use crate::control_client::IdentityRequest;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use crate::auth;
use crate::request::{body_error, decode_segment, query_param, read_body};
use crate::respond::{self, Resp};
use crate::state::{Shared, MAX_LOG};

/// The access key of an emulator started without one: public, documented, for local use.
pub const DEFAULT_ACCESS_KEY: &str =
    "YWNzLWNoYXQtZW11bGF0b3I6IGEgcHVibGljIGFjY2VzcyBrZXksIGZvciBsb2NhbCBkZXZlbG9wbWVudCBvbmx5";

/// The identity api-versions served.
const API_VERSIONS: [&str; 4] = ["2021-03-07", "2022-06-01", "2022-10-01", "2023-10-01"];
/// How far `x-ms-date` may be from the emulator's clock, either way.
const DATE_WINDOW: Duration = Duration::from_secs(5 * 60);
/// Token lifetime bounds in minutes, and the default, as the service has them.
const MIN_MINUTES: i64 = 60;
const MAX_MINUTES: i64 = 1440;
/// The scopes a token may be asked for.
const SCOPES: [&str; 5] = [
    "chat",
    "voip",
    "chat.join",
    "chat.join.limited",
    "voip.join",
];
/// The headers a request must be signed over, in order.
const SIGNED_HEADERS: &str = "x-ms-date;host;x-ms-content-sha256";

/// The resource's access key, and the users and requests the identity routes have seen.
pub(crate) struct Identity {
    key: Vec<u8>,
    state: Mutex<IdentityState>,
}

#[derive(Default)]
struct IdentityState {
    users: HashSet<String>,
    requests: VecDeque<IdentityRequest>,
    /// Overrides the lifetime of the tokens issued here (tests of expiry).
    token_seconds: Option<i64>,
}

impl Identity {
    /// The identity state of a resource whose access key is `key` (decoded).
    pub(crate) fn new(key: Vec<u8>) -> Identity {
        Identity {
            key,
            state: Mutex::new(IdentityState::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, IdentityState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Clears the request log and the token lifetime override; users stay.
    pub(crate) fn reset(&self) {
        let mut state = self.lock();
        state.requests.clear();
        state.token_seconds = None;
    }
}

/// Whether `path` is an identity route.
pub(crate) fn is_identity_path(path: &str) -> bool {
    path == "/identities" || path.starts_with("/identities/")
}

/// The two identity routes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Route {
    CreateUser,
    IssueToken,
}

/// Handles a request to `/identities...`.
pub(crate) async fn handle(shared: &Shared, req: Request<Incoming>) -> Resp {
    let arrived = Instant::now();
    let (parts, body) = req.into_parts();
    let path = parts.uri.path();
    let (route, user) = match path.strip_prefix("/identities") {
        Some("") | Some("/") => (Route::CreateUser, None),
        Some(rest) => match rest
            .strip_prefix('/')
            .and_then(|r| r.strip_suffix("/:issueAccessToken"))
        {
            Some(raw) if !raw.is_empty() && !raw.contains('/') => {
                (Route::IssueToken, decode_segment(raw))
            }
            _ => return respond::not_found(),
        },
        None => return respond::not_found(),
    };
    if parts.method != Method::POST {
        return respond::method_not_allowed("POST");
    }
    let mut entry = IdentityRequest {
        op: match route {
            Route::CreateUser => "createUser",
            Route::IssueToken => "issueAccessToken",
        }
        .to_owned(),
        method: parts.method.to_string(),
        path_and_query: parts
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_default(),
        host: host_of(&parts),
        date: header(&parts.headers, "x-ms-date"),
        content_sha256: header(&parts.headers, "x-ms-content-sha256"),
        signed_headers: None,
        signature: None,
        body: String::new(),
        status: 0,
        error: None,
        user_id: user.clone(),
        at_ms: shared.ms_since_start(arrived),
    };
    let resp = match read_body(&parts.headers, body).await {
        Ok(bytes) => {
            entry.body = String::from_utf8_lossy(&bytes).into_owned();
            answer(shared, &parts, &bytes, route, user, &mut entry)
        }
        Err(e) => body_error(e).unwrap_or_else(|_| respond::bad_request("Broken body.", None)),
    };
    entry.status = resp.status().as_u16();
    let mut state = shared.identity.lock();
    if state.requests.len() >= MAX_LOG {
        state.requests.pop_front();
    }
    state.requests.push_back(entry);
    resp
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
}

/// The host the client addressed: `Host`, or the HTTP/2 `:authority`.
fn host_of(parts: &Parts) -> String {
    match parts.headers.get(HOST).and_then(|h| h.to_str().ok()) {
        Some(host) if !host.is_empty() => host.to_string(),
        _ => parts
            .uri
            .authority()
            .map(|a| a.to_string())
            .unwrap_or_default(),
    }
}

/// A 401 with the service's body, its reason kept for the log.
fn denied(entry: &mut IdentityRequest, message: &str) -> Resp {
    entry.error = Some(message.to_string());
    respond::error(StatusCode::UNAUTHORIZED, "Denied", message)
}

fn answer(
    shared: &Shared,
    parts: &Parts,
    body: &[u8],
    route: Route,
    user: Option<String>,
    entry: &mut IdentityRequest,
) -> Resp {
    match query_param(parts.uri.query(), "api-version") {
        None => {
            return respond::error_target(
                StatusCode::BAD_REQUEST,
                "MissingApiVersionParameter",
                "The api-version query parameter is required.",
                Some("api-version"),
            )
        }
        Some(v) if !API_VERSIONS.contains(&v.as_str()) => {
            let message = format!(
                "The api-version '{v}' is not supported. Supported versions: {}.",
                API_VERSIONS.join(", ")
            );
            return respond::error_target(
                StatusCode::BAD_REQUEST,
                "UnsupportedApiVersion",
                &message,
                Some("api-version"),
            );
        }
        Some(_) => {}
    }
    if let Err(message) = verify(&shared.identity.key, parts, body, entry, SystemTime::now()) {
        return denied(entry, message);
    }
    let object = match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(object)) => object,
        _ if body.is_empty() && route == Route::CreateUser => Map::new(),
        _ => return respond::bad_request("The request body must be a JSON object.", None),
    };
    let minutes = match expires_in_minutes(&object) {
        Ok(minutes) => minutes,
        Err(resp) => return resp,
    };
    let scope_field = match route {
        Route::CreateUser => "createTokenWithScopes",
        Route::IssueToken => "scopes",
    };
    let scopes = match scopes(&object, scope_field) {
        Ok(scopes) => scopes,
        Err(resp) => return resp,
    };
    let seconds = shared.identity.lock().token_seconds.unwrap_or(minutes * 60);
    match route {
        Route::CreateUser => {
            let id = format!("8:{}", auth::random_user());
            shared.identity.lock().users.insert(id.clone());
            entry.user_id = Some(id.clone());
            let mut answer = json!({ "identity": { "id": id } });
            if !scopes.is_empty() {
                answer["accessToken"] = issue(&id, seconds);
            }
            respond::json(StatusCode::CREATED, &answer)
        }
        Route::IssueToken => {
            let known = user
                .as_ref()
                .is_some_and(|id| shared.identity.lock().users.contains(id));
            match user {
                Some(id) if known && !scopes.is_empty() => {
                    respond::json(StatusCode::OK, &issue(&id, seconds))
                }
                Some(_) if known => respond::bad_request(
                    "The field 'scopes' is required and must not be empty.",
                    Some("scopes"),
                ),
                _ => respond::error(
                    StatusCode::NOT_FOUND,
                    "IdentityNotFound",
                    "The identity does not exist in this resource.",
                ),
            }
        }
    }
}

/// Checks the HMAC-SHA256 signature, the content hash and the date window.
fn verify(
    key: &[u8],
    parts: &Parts,
    body: &[u8],
    entry: &mut IdentityRequest,
    now: SystemTime,
) -> Result<(), &'static str> {
    let authorization = parts
        .headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or("The Authorization header is missing.")?;
    let (scheme, params) = authorization
        .trim()
        .split_once(' ')
        .ok_or("The Authorization header must use the HMAC-SHA256 scheme.")?;
    if !scheme.eq_ignore_ascii_case("HMAC-SHA256") {
        return Err("The Authorization header must use the HMAC-SHA256 scheme.");
    }
    let mut signed_headers = None;
    let mut signature = None;
    for param in params.trim().split('&') {
        match param.split_once('=') {
            Some(("SignedHeaders", value)) => signed_headers = Some(value.to_string()),
            Some(("Signature", value)) => signature = Some(value.to_string()),
            _ => {}
        }
    }
    entry.signed_headers = signed_headers.clone();
    entry.signature = signature.clone();
    if !signed_headers.is_some_and(|h| h.eq_ignore_ascii_case(SIGNED_HEADERS)) {
        return Err("SignedHeaders must be x-ms-date;host;x-ms-content-sha256.");
    }
    let signature = signature
        .and_then(|s| STANDARD.decode(s).ok())
        .ok_or("The Signature is missing or not base64.")?;
    let date = entry
        .date
        .clone()
        .ok_or("The x-ms-date header is missing.")?;
    let at = httpdate::parse_http_date(&date).map_err(|_| "The x-ms-date header is not a date.")?;
    let skew = match now.duration_since(at) {
        Ok(behind) => behind,
        Err(ahead) => ahead.duration(),
    };
    if skew > DATE_WINDOW {
        return Err("The x-ms-date header is more than 5 minutes from the service's time.");
    }
    let hash = STANDARD.encode(Sha256::digest(body));
    if entry.content_sha256.as_deref() != Some(hash.as_str()) {
        return Err("Request 'x-ms-content-sha256' differs from generated content hash.");
    }
    let text = format!(
        "{}\n{}\n{date};{};{hash}",
        parts.method, entry.path_and_query, entry.host
    );
    let mut mac =
        Hmac::<Sha256>::new_from_slice(key).map_err(|_| "Denied by the resource provider.")?;
    mac.update(text.as_bytes());
    mac.verify_slice(&signature)
        .map_err(|_| "Denied by the resource provider.")
}

/// `expiresInMinutes`: absent means the service's default (the maximum).
#[allow(clippy::result_large_err)]
fn expires_in_minutes(object: &Map<String, Value>) -> Result<i64, Resp> {
    match object.get("expiresInMinutes") {
        None | Some(Value::Null) => Ok(MAX_MINUTES),
        Some(Value::Number(n)) => match n.as_i64() {
            Some(m) if (MIN_MINUTES..=MAX_MINUTES).contains(&m) => Ok(m),
            _ => Err(respond::bad_request(
                "The field 'expiresInMinutes' must be an integer from 60 to 1440.",
                Some("expiresInMinutes"),
            )),
        },
        Some(_) => Err(respond::bad_request(
            "The field 'expiresInMinutes' must be an integer from 60 to 1440.",
            Some("expiresInMinutes"),
        )),
    }
}

/// The scopes asked for in `field` (absent: none).
#[allow(clippy::result_large_err)]
fn scopes(object: &Map<String, Value>, field: &'static str) -> Result<Vec<String>, Resp> {
    let invalid = || {
        respond::bad_request(
            &format!(
                "The field '{field}' must list scopes among {}.",
                SCOPES.join(", ")
            ),
            Some(field),
        )
    };
    match object.get(field) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| match item.as_str() {
                Some(s) if SCOPES.iter().any(|k| k.eq_ignore_ascii_case(s)) => Ok(s.to_string()),
                _ => Err(invalid()),
            })
            .collect(),
        Some(_) => Err(invalid()),
    }
}

/// `{"token":..., "expiresOn":...}` for user `id` (`8:acs:...`), valid `seconds`.
fn issue(id: &str, seconds: i64) -> Value {
    let skype_id = id.strip_prefix("8:").unwrap_or(id);
    let (token, exp) = auth::mint(skype_id, seconds);
    json!({ "token": token, "expiresOn": rfc3339(exp) })
}

/// Epoch seconds as an RFC 3339 date-time, as the service writes `expiresOn`.
fn rfc3339(epoch: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(epoch)
        .ok()
        .and_then(|at| {
            at.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct IdentitySpec {
    token_seconds: Option<i64>,
}

/// `/_emulator/identity` (`rest` is what follows it).
pub(crate) async fn control(shared: &Shared, req: Request<Incoming>, rest: &str) -> Resp {
    let method = req.method().clone();
    match (rest, method) {
        ("", Method::GET) => state_json(shared),
        ("", Method::POST) => {
            let (parts, body) = req.into_parts();
            let spec = match read_body(&parts.headers, body).await {
                Ok(bytes) => serde_json::from_slice::<IdentitySpec>(&bytes),
                Err(e) => {
                    return body_error(e)
                        .unwrap_or_else(|_| respond::bad_request("Broken body.", None))
                }
            };
            match spec {
                Ok(spec) => {
                    shared.identity.lock().token_seconds = spec.token_seconds;
                    state_json(shared)
                }
                Err(e) => respond::bad_request(&format!("Invalid control request: {e}"), None),
            }
        }
        ("", _) => respond::method_not_allowed("GET, POST"),
        ("/requests", Method::GET) => {
            let requests: Vec<IdentityRequest> =
                shared.identity.lock().requests.iter().cloned().collect();
            respond::json(StatusCode::OK, &json!({ "requests": requests }))
        }
        ("/requests", _) => respond::method_not_allowed("GET"),
        _ => respond::not_found(),
    }
}

fn state_json(shared: &Shared) -> Resp {
    let state = shared.identity.lock();
    let body = json!({ "users": state.users.len(), "tokenSeconds": state.token_seconds });
    drop(state);
    respond::json(StatusCode::OK, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Seconds since the epoch of `at`.
    fn epoch_of(at: SystemTime) -> i64 {
        at.duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0)
    }

    #[test]
    fn dates_are_rfc3339() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_798_761_599), "2026-12-31T23:59:59Z");
        let text = rfc3339(epoch_of(SystemTime::now()));
        assert_eq!(text.len(), "1970-01-01T00:00:00Z".len());
    }

    #[test]
    fn default_key_is_base64() {
        let key = STANDARD.decode(DEFAULT_ACCESS_KEY).unwrap();
        assert!(key.len() >= 32);
    }

    #[test]
    fn minutes_bounds() {
        let obj = |v: Value| v.as_object().unwrap().clone();
        assert_eq!(expires_in_minutes(&obj(json!({}))).ok(), Some(1440));
        assert_eq!(
            expires_in_minutes(&obj(json!({"expiresInMinutes": 60}))).ok(),
            Some(60)
        );
        for bad in [json!(59), json!(1441), json!("60"), json!(60.5)] {
            assert!(expires_in_minutes(&obj(json!({ "expiresInMinutes": bad }))).is_err());
        }
    }
}
