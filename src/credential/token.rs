//! An access token: a JWT whose `exp` the library reads (the service checks
//! its signature), kept as the `Authorization` header value it is sent as.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use reqwest::header::HeaderValue;

use super::refresh::PROACTIVE_WINDOW;
use crate::error::{Error, Result};

/// Reads the `exp` claim (epoch seconds) of a JWT without checking its signature.
pub fn jwt_expiry(token: &str) -> Result<SystemTime> {
    let not_jwt = |why: &str| Error::Token(format!("the token is not a JWT: {why}"));
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 3 {
        return Err(not_jwt("expected three dot-separated parts"));
    }
    let base64url = |part: &str| {
        part.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'=')
    };
    if parts[0].is_empty() || parts[1].is_empty() || !parts.iter().all(|p| base64url(p)) {
        return Err(not_jwt("a part is not base64url"));
    }
    let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(parts[1].trim_end_matches('='))
        .map_err(|_| not_jwt("the payload is not base64url"))?;
    let claims: serde_json::Value =
        serde_json::from_slice(&payload).map_err(|_| not_jwt("the payload is not JSON"))?;
    let exp = claims
        .get("exp")
        .and_then(serde_json::Value::as_f64)
        .ok_or_else(|| not_jwt("the payload has no numeric exp claim"))?;
    if !exp.is_finite() || !(0.0..=1e11).contains(&exp) {
        return Err(not_jwt("the exp claim is out of range"));
    }
    Ok(UNIX_EPOCH + Duration::from_secs_f64(exp))
}

/// A validated token, kept once: as its precomputed `Authorization` header
/// value (`Bearer <token>`).
pub(crate) struct AccessToken {
    header: HeaderValue,
    pub(super) expires_on: SystemTime,
    pub(super) refresh_after: SystemTime,
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken")
            .field("token", &"REDACTED")
            .field("expires_on", &self.expires_on)
            .finish()
    }
}

impl AccessToken {
    /// Validates `token` as a JWT and prepares its header value.
    pub(crate) fn parse(token: &str, now: SystemTime) -> Result<AccessToken> {
        let expires_on = jwt_expiry(token)?;
        // Exactly sized, so the header value keeps no spare capacity. The
        // string moves into the header value without a copy (and cannot fail:
        // `jwt_expiry` admits only base64url and dots), so no copy of the
        // token is left to wipe; the header value itself, shared with the
        // HTTP stack, cannot be wiped (README, Security).
        let mut bearer = String::with_capacity("Bearer ".len() + token.len());
        bearer.push_str("Bearer ");
        bearer.push_str(token);
        let mut header = HeaderValue::try_from(bearer)
            .map_err(|_| Error::Token("the token is not a JWT: invalid characters".into()))?;
        header.set_sensitive(true);
        let remaining = expires_on.duration_since(now).unwrap_or_default();
        let refresh_after = if remaining > PROACTIVE_WINDOW {
            expires_on - PROACTIVE_WINDOW
        } else {
            now + remaining / 2
        };
        Ok(AccessToken {
            header,
            expires_on,
            refresh_after,
        })
    }

    /// The `Authorization` header value (marked sensitive).
    pub(crate) fn header(&self) -> &HeaderValue {
        &self.header
    }

    pub(super) fn is_expired(&self, now: SystemTime) -> bool {
        self.expires_on <= now
    }

    /// The token itself.
    fn secret(&self) -> &str {
        // Built from "Bearer " + a str, so always valid UTF-8.
        std::str::from_utf8(self.header.as_bytes())
            .unwrap_or_default()
            .trim_start_matches("Bearer ")
    }

    /// `text` with every occurrence of the token replaced by `REDACTED`.
    pub(crate) fn redact(&self, text: &str) -> String {
        let secret = self.secret();
        if secret.is_empty() || !text.contains(secret) {
            text.to_owned()
        } else {
            text.replace(secret, "REDACTED")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credential::tests::jwt;

    #[test]
    fn reads_exp() {
        let exp = jwt_expiry(&jwt(1_900_000_000.0)).unwrap();
        assert_eq!(exp, UNIX_EPOCH + Duration::from_secs(1_900_000_000));
        let signed = format!("{}sig-_nature", jwt(1_900_000_000.0));
        assert!(jwt_expiry(&signed).is_ok());
    }

    #[test]
    fn rejects_non_jwts() {
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let cases = [
            String::new(),
            "abc".into(),
            "a.b".into(),
            "a.b.c.d".into(),
            ".e30.".into(),
            format!("e30.{}.", b64.encode("not json")),
            format!("e30.{}.", b64.encode(r#"{"sub":"x"}"#)),
            format!("e30.{}.", b64.encode(r#"{"exp":"soon"}"#)),
            format!("e30.{}.", b64.encode(r#"[1]"#)),
            "e30.e30 .x".into(),
            "e30.e+/.x".into(),
        ];
        for case in cases {
            let err = jwt_expiry(&case).unwrap_err();
            assert!(matches!(err, Error::Token(_)), "{case}");
        }
    }

    #[test]
    fn header_is_bearer_and_sensitive() {
        let token = jwt(1_900_000_000.0);
        let t = AccessToken::parse(&token, SystemTime::now()).unwrap();
        assert!(t.header().is_sensitive());
        assert_eq!(t.header().to_str().unwrap(), format!("Bearer {token}"));
        assert!(!format!("{t:?}").contains(&token));
        assert_eq!(t.redact(&format!("x {token} y")), "x REDACTED y");
    }
}
