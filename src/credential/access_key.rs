//! The resource's access key and the HMAC-SHA256 request signature the
//! identity service requires.
//!
//! Each request carries `x-ms-date` (an HTTP date), `x-ms-content-sha256`
//! (the base64 SHA-256 of the body, empty body included) and
//! `Authorization: HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=<s>`,
//! where `<s>` is the base64 HMAC-SHA256, keyed with the base64-decoded
//! access key, of the string to sign:
//!
//! ```text
//! VERB + "\n" + PATH_AND_QUERY + "\n" + DATE + ";" + HOST + ";" + CONTENT_HASH
//! ```
//!
//! `PATH_AND_QUERY` is the request target exactly as sent (percent-encoded),
//! `HOST` the `Host` header sent (with the port unless it is the scheme's
//! default).

use std::fmt;
use std::time::SystemTime;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, AUTHORIZATION};
use reqwest::Url;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// The headers an identity request is signed over, in order.
pub(crate) const SIGNED_HEADERS: &str = "x-ms-date;host;x-ms-content-sha256";

static X_MS_DATE: HeaderName = HeaderName::from_static("x-ms-date");
static X_MS_CONTENT_SHA256: HeaderName = HeaderName::from_static("x-ms-content-sha256");

/// The decoded access key of an ACS resource. Never shown: `Debug` prints
/// `REDACTED`, and no error message contains it. Its bytes are wiped when
/// it is dropped.
#[derive(Clone)]
pub(crate) struct AccessKey(Zeroizing<Vec<u8>>);

impl fmt::Debug for AccessKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessKey(REDACTED)")
    }
}

impl AccessKey {
    /// Decodes a base64 access key (as the connection string's `accesskey`).
    pub(crate) fn from_base64(text: &str) -> Result<AccessKey> {
        let mut decoded = Zeroizing::new(Vec::with_capacity(text.len()));
        STANDARD
            .decode_vec(text.trim(), &mut decoded)
            .map_err(|_| {
                Error::InvalidArgument("the connection string's accesskey is not base64".into())
            })?;
        if decoded.is_empty() {
            return Err(Error::InvalidArgument(
                "the connection string's accesskey is empty".into(),
            ));
        }
        Ok(AccessKey(decoded))
    }

    /// The base64 HMAC-SHA256 of `text` under this key.
    pub(crate) fn signature(&self, text: &str) -> String {
        // HMAC accepts keys of any length: this cannot fail.
        let mut mac = match Hmac::<Sha256>::new_from_slice(&self.0) {
            Ok(mac) => mac,
            Err(_) => return String::new(),
        };
        mac.update(text.as_bytes());
        STANDARD.encode(mac.finalize().into_bytes())
    }

    /// Adds `x-ms-date` (now), `x-ms-content-sha256` and the signed
    /// `Authorization` (marked sensitive) for a request to `url`.
    pub(crate) fn sign(&self, method: &str, url: &Url, body: &[u8], headers: &mut HeaderMap) {
        let date = httpdate::fmt_http_date(SystemTime::now());
        let hash = content_hash(body);
        let text = string_to_sign(method, &path_and_query(url), &date, &host(url), &hash);
        let authorization = format!(
            "HMAC-SHA256 SignedHeaders={SIGNED_HEADERS}&Signature={}",
            self.signature(&text)
        );
        // Dates, base64 and URL parts are visible ASCII: these cannot fail.
        if let (Ok(date), Ok(hash), Ok(mut authorization)) = (
            HeaderValue::try_from(date),
            HeaderValue::try_from(hash),
            HeaderValue::try_from(authorization),
        ) {
            authorization.set_sensitive(true);
            headers.insert(X_MS_DATE.clone(), date);
            headers.insert(X_MS_CONTENT_SHA256.clone(), hash);
            headers.insert(AUTHORIZATION, authorization);
        }
    }
}

/// The base64 SHA-256 of a request body.
pub(crate) fn content_hash(body: &[u8]) -> String {
    STANDARD.encode(Sha256::digest(body))
}

/// The request target as sent: the encoded path, and `?query` if any.
pub(crate) fn path_and_query(url: &Url) -> String {
    match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_owned(),
    }
}

/// The `Host` header a request to `url` carries: the host, and the port
/// unless it is the scheme's default.
pub(crate) fn host(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    }
}

/// `VERB\nPATH_AND_QUERY\nDATE;HOST;CONTENT_HASH`.
pub(crate) fn string_to_sign(
    method: &str,
    path_and_query: &str,
    date: &str,
    host: &str,
    content_hash: &str,
) -> String {
    format!("{method}\n{path_and_query}\n{date};{host};{content_hash}")
}

#[cfg(test)]
mod tests {
    use super::*;

    // A key and request whose signature was computed outside this crate
    // (Python: base64.b64encode(hmac.new(base64.b64decode(KEY),
    // STRING.encode(), hashlib.sha256).digest())).
    const KEY: &str = "ZW11bGF0b3Ita2V5LWZvci10ZXN0cy0wMTIzNDU2Nzg5YWJjZGVm";

    #[test]
    fn content_hash_of_empty_and_json_bodies() {
        assert_eq!(
            content_hash(b""),
            "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
        );
        assert_eq!(
            content_hash(br#"{"createTokenWithScopes":["chat"],"expiresInMinutes":1440}"#),
            "7r8M5KM2nL5NX4cfnBQbEzZXnAgGRaFd07HvMww4k9s="
        );
    }

    #[test]
    fn signature_vector() {
        let key = AccessKey::from_base64(KEY).unwrap();
        let text = string_to_sign(
            "POST",
            "/identities?api-version=2023-10-01",
            "Wed, 02 Dec 2026 05:00:00 GMT",
            "contoso.communication.azure.com",
            "7r8M5KM2nL5NX4cfnBQbEzZXnAgGRaFd07HvMww4k9s=",
        );
        assert_eq!(
            text,
            "POST\n/identities?api-version=2023-10-01\nWed, 02 Dec 2026 05:00:00 GMT;\
             contoso.communication.azure.com;7r8M5KM2nL5NX4cfnBQbEzZXnAgGRaFd07HvMww4k9s="
        );
        assert_eq!(
            key.signature(&text),
            "HW1Ncul8HlRGHuSQsGvxayb5XiuPOvIUyaXJRf6qcEc="
        );
    }

    #[test]
    fn signed_headers() {
        let key = AccessKey::from_base64(KEY).unwrap();
        let url = Url::parse(
            "http://127.0.0.1:8080/identities/8%3Aacs%3Ax/:issueAccessToken?api-version=2023-10-01",
        )
        .unwrap();
        assert_eq!(host(&url), "127.0.0.1:8080");
        assert_eq!(
            path_and_query(&url),
            "/identities/8%3Aacs%3Ax/:issueAccessToken?api-version=2023-10-01"
        );
        let default_port = Url::parse("https://x.communication.azure.com:443/identities").unwrap();
        assert_eq!(host(&default_port), "x.communication.azure.com");
        let mut headers = HeaderMap::new();
        key.sign("POST", &url, b"{}", &mut headers);
        let date = headers["x-ms-date"].to_str().unwrap().to_owned();
        assert!(httpdate::parse_http_date(&date).is_ok(), "{date}");
        assert_eq!(headers["x-ms-content-sha256"], content_hash(b"{}").as_str());
        let authorization = &headers[AUTHORIZATION];
        assert!(authorization.is_sensitive());
        let expected = key.signature(&string_to_sign(
            "POST",
            &path_and_query(&url),
            &date,
            "127.0.0.1:8080",
            &content_hash(b"{}"),
        ));
        assert_eq!(
            authorization.to_str().unwrap(),
            format!(
                "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature={expected}"
            )
        );
    }

    #[test]
    fn bad_keys_are_refused_without_echo() {
        for bad in ["", "   ", "not base64!", "abc"] {
            let err = AccessKey::from_base64(bad).unwrap_err();
            assert!(matches!(err, Error::InvalidArgument(_)), "{bad:?}");
            assert!(bad.trim().is_empty() || !err.to_string().contains(bad));
        }
        let key = AccessKey::from_base64(KEY).unwrap();
        assert_eq!(format!("{key:?}"), "AccessKey(REDACTED)");
    }
}
