//! Bearer tokens: checking the JWT the service routes receive, and minting unsigned ones.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Mutex;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hyper::header::HeaderValue;
use serde_json::{json, Value};

/// Seconds since the Unix epoch.
pub(crate) fn now_epoch_s() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// The scheme word of an `Authorization` header for the request log: `none` when absent,
/// `invalid` when it does not start with a plausible scheme. Never the credential.
pub(crate) fn scheme_of(header: Option<&HeaderValue>) -> String {
    let Some(header) = header else {
        return "none".to_string();
    };
    let Ok(text) = header.to_str() else {
        return "invalid".to_string();
    };
    match text.trim().split_once(' ') {
        Some((scheme, _))
            if !scheme.is_empty()
                && scheme.len() <= 16
                && scheme
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-') =>
        {
            scheme.to_string()
        }
        _ => "invalid".to_string(),
    }
}

/// Checks `Authorization: Bearer <JWT>`; returns the user the token stands for (its
/// `skypeid` or `sub` claim, else a hash of the token), or the 401 message.
pub(crate) fn check_bearer(
    header: Option<&HeaderValue>,
    now_s: f64,
) -> Result<String, &'static str> {
    let header = header.ok_or("The Authorization header is missing.")?;
    let text = header
        .to_str()
        .map_err(|_| "The Authorization header is not valid.")?;
    let (scheme, token) = text
        .trim()
        .split_once(' ')
        .ok_or("The Authorization header must use the Bearer scheme.")?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err("The Authorization header must use the Bearer scheme.");
    }
    let token = token.trim();
    if let Some((exp, user)) = cache_get(token) {
        return if exp <= now_s {
            Err("The access token has expired.")
        } else {
            Ok(user)
        };
    }
    let payload = jwt_payload(token).ok_or("The access token is not a valid JWT.")?;
    let exp = payload
        .get("exp")
        .and_then(Value::as_f64)
        .ok_or("The access token has no expiry.")?;
    if exp <= now_s {
        return Err("The access token has expired.");
    }
    let claim = |name: &str| {
        payload
            .get(name)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let user = claim("skypeid")
        .or_else(|| claim("sub"))
        .unwrap_or_else(|| token_hash(token));
    cache_put(token, exp, &user);
    Ok(user)
}

/// Recently accepted tokens with their `exp` and user, so that a client reusing its token
/// is not decoded again on every call.
static ACCEPTED: Mutex<Option<HashMap<String, (f64, String)>>> = Mutex::new(None);
const ACCEPTED_MAX: usize = 1024;

fn cache_get(token: &str) -> Option<(f64, String)> {
    let cache = ACCEPTED.lock().unwrap_or_else(|e| e.into_inner());
    cache.as_ref()?.get(token).cloned()
}

fn cache_put(token: &str, exp: f64, user: &str) {
    let mut cache = ACCEPTED.lock().unwrap_or_else(|e| e.into_inner());
    let map = cache.get_or_insert_with(HashMap::new);
    if map.len() >= ACCEPTED_MAX {
        map.clear();
    }
    map.insert(token.to_string(), (exp, user.to_string()));
}

fn is_b64url_part(part: &str) -> bool {
    part.trim_end_matches('=')
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The payload object of a three-part base64url JWT; the signature is not checked.
fn jwt_payload(token: &str) -> Option<serde_json::Map<String, Value>> {
    let mut parts = token.split('.');
    let (header, payload, signature) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some()
        || header.is_empty()
        || payload.is_empty()
        || ![header, payload, signature]
            .iter()
            .all(|p| is_b64url_part(p))
    {
        return None;
    }
    let header = URL_SAFE_NO_PAD.decode(header.trim_end_matches('=')).ok()?;
    if !serde_json::from_slice::<Value>(&header).ok()?.is_object() {
        return None;
    }
    let payload = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    match serde_json::from_slice::<Value>(&payload).ok()? {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

fn token_hash(token: &str) -> String {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    token.hash(&mut hasher);
    format!("token:{:016x}", hasher.finish())
}

/// A random user id shaped like an ACS identity's `skypeid`.
pub(crate) fn random_user() -> String {
    let hex = |n: usize| -> String {
        (0..n)
            .map(|_| char::from(b"0123456789abcdef"[fastrand::usize(..16)]))
            .collect()
    };
    format!(
        "acs:00000000-0000-0000-0000-000000000000_{}-{}-{}-{}-{}",
        hex(8),
        hex(4),
        hex(4),
        hex(4),
        hex(12)
    )
}

/// An unsigned ACS-like access token for `user` expiring `expires_in` seconds from now
/// (negative for an already expired one). Returns the token and its `exp`.
pub(crate) fn mint(user: &str, expires_in: i64) -> (String, i64) {
    let iat = now_epoch_s() as i64;
    let exp = iat.saturating_add(expires_in);
    let header = json!({"alg": "RS256", "kid": "acs-chat-emulator", "typ": "JWT"});
    let payload = json!({
        "skypeid": user,
        "scp": 1792,
        "csi": iat.to_string(),
        "exp": exp,
        "rgn": "emulator",
        "acsScope": "chat,voip",
        "resourceId": "00000000-0000-0000-0000-000000000000",
        "resourceLocation": "emulator",
        "iat": iat,
    });
    let mut signature = [0u8; 64];
    fastrand::fill(&mut signature);
    let token = format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(payload.to_string()),
        URL_SAFE_NO_PAD.encode(signature)
    );
    (token, exp)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bearer(token: &str) -> HeaderValue {
        HeaderValue::from_str(&format!("Bearer {token}")).unwrap()
    }

    #[test]
    fn minted_token_is_accepted_and_names_its_user() {
        let (token, exp) = mint("acs:me", 60);
        assert!(exp as f64 > now_epoch_s());
        assert_eq!(
            check_bearer(Some(&bearer(&token)), now_epoch_s()),
            Ok("acs:me".into())
        );
    }

    #[test]
    fn expired_and_malformed_tokens_are_refused() {
        let (expired, _) = mint("u", -5);
        assert!(check_bearer(Some(&bearer(&expired)), now_epoch_s()).is_err());
        for bad in ["abc", "a.b", "a.b.c.d", "e30.!!.x", "e30.bm90anNvbg.x"] {
            assert!(
                check_bearer(Some(&bearer(bad)), now_epoch_s()).is_err(),
                "{bad}"
            );
        }
        assert!(check_bearer(None, now_epoch_s()).is_err());
        let basic = HeaderValue::from_static("Basic dXNlcjpwYXNz");
        assert!(check_bearer(Some(&basic), now_epoch_s()).is_err());
    }

    #[test]
    fn user_falls_back_to_sub_then_hash() {
        let enc = |v: Value| URL_SAFE_NO_PAD.encode(v.to_string());
        let exp = now_epoch_s() as i64 + 60;
        let sub = format!(
            "{}.{}.",
            enc(json!({})),
            enc(json!({"sub": "s1", "exp": exp}))
        );
        assert_eq!(
            check_bearer(Some(&bearer(&sub)), now_epoch_s()),
            Ok("s1".into())
        );
        let anon = format!("{}.{}.sig", enc(json!({})), enc(json!({"exp": exp})));
        let user = check_bearer(Some(&bearer(&anon)), now_epoch_s()).unwrap();
        assert!(user.starts_with("token:"));
        assert!(!user.contains(&anon));
    }

    #[test]
    fn scheme_never_reveals_the_credential() {
        assert_eq!(scheme_of(None), "none");
        assert_eq!(scheme_of(Some(&bearer("x.y.z"))), "Bearer");
        assert_eq!(
            scheme_of(Some(&HeaderValue::from_static("eyJ.eyJ.sig"))),
            "invalid"
        );
    }
}
