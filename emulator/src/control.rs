//! The control API under `/_emulator/`: tokens, events, request logs, faults, reset, limits,
//! latency.

use std::collections::BTreeMap;
use std::time::Duration;

use hyper::body::Incoming;
use hyper::header::{HeaderName, HeaderValue};
use hyper::{Method, Request, StatusCode};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth;
use crate::request::{body_error, decode_segment, query_param, read_body};
use crate::respond::{self, Resp};
use crate::state::{Fault, FaultAction, Op, Shared, MAX_DELAY_MS};

pub(crate) async fn handle(shared: &Shared, req: Request<Incoming>, rest: &str) -> Resp {
    let method = req.method().clone();
    let allow =
        |allowed: &'static str, ok: bool| (!ok).then(|| respond::method_not_allowed(allowed));
    match rest {
        "token" => allow("GET", method == Method::GET).unwrap_or_else(|| token(req.uri().query())),
        "reset" => allow("POST", method == Method::POST).unwrap_or_else(|| {
            shared.lock().reset();
            shared.identity.reset();
            respond::json(StatusCode::OK, &json!({"reset": true}))
        }),
        "limits" => match method {
            Method::GET => limits_state(shared),
            Method::POST => match read_json::<LimitsSpec>(req).await {
                Ok(spec) => {
                    shared.lock().limits_enabled = spec.enabled;
                    limits_state(shared)
                }
                Err(resp) => resp,
            },
            _ => respond::method_not_allowed("GET, POST"),
        },
        "latency" => match method {
            Method::GET => latency_state(shared),
            Method::POST => match read_json::<LatencySpec>(req).await {
                Ok(spec) if spec.ms.saturating_add(spec.jitter_ms) <= MAX_DELAY_MS => {
                    shared.set_latency(
                        Duration::from_millis(spec.ms),
                        Duration::from_millis(spec.jitter_ms),
                    );
                    latency_state(shared)
                }
                Ok(_) => respond::bad_request(
                    &format!("ms + jitterMs must be within 0..={MAX_DELAY_MS}"),
                    Some("ms"),
                ),
                Err(resp) => resp,
            },
            _ => respond::method_not_allowed("GET, POST"),
        },
        "faults" => match method {
            Method::GET => {
                let pending = shared.lock().pending_faults();
                respond::json(StatusCode::OK, &json!({"pending": pending}))
            }
            Method::POST => match read_json::<OneOrMany>(req).await {
                Ok(specs) => queue_faults(shared, specs),
                Err(resp) => resp,
            },
            _ => respond::method_not_allowed("GET, POST"),
        },
        _ if rest == "identity" || rest.starts_with("identity/") => {
            crate::identity::control(shared, req, &rest["identity".len()..]).await
        }
        _ => thread_resource(shared, &method, rest),
    }
}

fn thread_resource(shared: &Shared, method: &Method, rest: &str) -> Resp {
    let Some(rest) = rest.strip_prefix("threads/") else {
        return respond::not_found();
    };
    let mut segments = rest.split('/');
    let (Some(raw_id), Some(what), None) = (segments.next(), segments.next(), segments.next())
    else {
        return respond::not_found();
    };
    if raw_id.is_empty() || !matches!(what, "events" | "requests") {
        return respond::not_found();
    }
    if method != Method::GET {
        return respond::method_not_allowed("GET");
    }
    let Some(thread_id) = decode_segment(raw_id) else {
        return respond::bad_request("The thread id is not valid percent-encoded UTF-8.", None);
    };
    let state = shared.lock();
    let log = state.threads.get(&thread_id);
    let body = if what == "events" {
        let events: Vec<Value> = log
            .map(|l| l.events.iter().map(|e| e.to_json()).collect())
            .unwrap_or_default();
        json!({ "events": events })
    } else {
        let requests: Vec<Value> = log
            .map(|l| {
                l.requests
                    .iter()
                    .filter_map(|r| serde_json::to_value(r).ok())
                    .collect()
            })
            .unwrap_or_default();
        json!({ "requests": requests })
    };
    drop(state);
    respond::json(StatusCode::OK, &body)
}

fn token(query: Option<&str>) -> Resp {
    let expires_in = match query_param(query, "expires_in") {
        None => 3600,
        Some(text) => match text.trim().parse::<i64>() {
            Ok(seconds) => seconds,
            Err(_) => {
                return respond::bad_request(
                    "expires_in must be an integer number of seconds.",
                    Some("expires_in"),
                )
            }
        },
    };
    let user = query_param(query, "user")
        .filter(|u| !u.is_empty())
        .unwrap_or_else(auth::random_user);
    let (token, expires_on) = auth::mint(&user, expires_in);
    respond::json(
        StatusCode::OK,
        &json!({"token": token, "expiresOn": expires_on, "user": user}),
    )
}

fn limits_state(shared: &Shared) -> Resp {
    let enabled = shared.lock().limits_enabled;
    respond::json(StatusCode::OK, &json!({ "enabled": enabled }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LimitsSpec {
    enabled: bool,
}

/// The service latency in whole milliseconds, and its jitter when there is one.
fn latency_state(shared: &Shared) -> Resp {
    let (latency, jitter) = shared.latency();
    let mut body = json!({ "ms": latency.as_millis() as u64 });
    if !jitter.is_zero() {
        body["jitterMs"] = json!(jitter.as_millis() as u64);
    }
    respond::json(StatusCode::OK, &body)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct LatencySpec {
    ms: u64,
    #[serde(default)]
    jitter_ms: u64,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(FaultSpec),
    Many(Vec<FaultSpec>),
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct FaultSpec {
    thread_id: Option<String>,
    op: Option<String>,
    count: Option<u32>,
    status: Option<u16>,
    headers: Option<BTreeMap<String, String>>,
    body: Option<String>,
    delay_ms: Option<u64>,
    action: Option<String>,
}

async fn read_json<T: for<'de> Deserialize<'de>>(req: Request<Incoming>) -> Result<T, Resp> {
    let (parts, body) = req.into_parts();
    let bytes = match read_body(&parts.headers, body).await {
        Ok(bytes) => bytes,
        Err(e) => {
            return Err(body_error(e).unwrap_or_else(|_| {
                respond::bad_request("The request body could not be read.", None)
            }))
        }
    };
    serde_json::from_slice(&bytes)
        .map_err(|e| respond::bad_request(&format!("Invalid control request: {e}"), None))
}

fn queue_faults(shared: &Shared, specs: OneOrMany) -> Resp {
    let specs = match specs {
        OneOrMany::One(spec) => vec![spec],
        OneOrMany::Many(specs) => specs,
    };
    let mut faults = Vec::with_capacity(specs.len());
    for spec in specs {
        match fault_from_spec(spec) {
            Ok(fault) => faults.push(fault),
            Err(message) => return respond::bad_request(&message, None),
        }
    }
    let queued = faults.len();
    let mut state = shared.lock();
    state.queue_faults(faults);
    let pending = state.pending_faults();
    drop(state);
    respond::json(
        StatusCode::OK,
        &json!({"queued": queued, "pending": pending}),
    )
}

fn fault_from_spec(spec: FaultSpec) -> Result<Fault, String> {
    let op = match spec.op.as_deref() {
        None | Some("*") => None,
        Some(name) => Some(Op::from_segment(name).ok_or_else(|| {
            format!("op must be \"messages\", \"typing\", \"readReceipts\" or \"*\", not {name:?}")
        })?),
    };
    let action = match spec.action.as_deref() {
        None | Some("respond") => FaultAction::Respond,
        Some("drop") => FaultAction::Drop,
        Some("dropBeforeBody") => FaultAction::DropBeforeBody,
        Some("oversize") => FaultAction::Oversize,
        Some(other) => {
            return Err(format!(
                "action must be \"respond\", \"drop\", \"dropBeforeBody\" or \"oversize\", not {other:?}"
            ))
        }
    };
    let count = spec.count.unwrap_or(1);
    if count == 0 {
        return Err("count must be at least 1".into());
    }
    let status = match spec.status {
        None => None,
        Some(code) if (200..=599).contains(&code) => {
            Some(StatusCode::from_u16(code).map_err(|e| e.to_string())?)
        }
        Some(code) => return Err(format!("status must be within 200..=599, not {code}")),
    };
    if action == FaultAction::Respond && status.is_none() && spec.body.is_some() {
        return Err("a fault with a body needs a status".into());
    }
    let delay_ms = spec.delay_ms.unwrap_or(0);
    if delay_ms > MAX_DELAY_MS {
        return Err(format!("delayMs must be at most {MAX_DELAY_MS}"));
    }
    let mut headers = Vec::new();
    for (name, value) in spec.headers.unwrap_or_default() {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| format!("invalid header name {name:?}"))?;
        if name == hyper::header::CONTENT_LENGTH || name == hyper::header::TRANSFER_ENCODING {
            return Err(format!("the {name} header cannot be scripted"));
        }
        let value = HeaderValue::from_str(&value)
            .map_err(|_| format!("invalid value for header {name}"))?;
        headers.push((name, value));
    }
    Ok(Fault {
        thread_id: spec.thread_id,
        op,
        remaining: count,
        status,
        headers,
        body: spec.body.map(bytes::Bytes::from),
        delay: Duration::from_millis(delay_ms),
        action,
    })
}
