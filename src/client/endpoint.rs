//! Where a client's requests go: the endpoint a user gives, checked, and the
//! request URL of each call built from it.

use std::sync::Mutex;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC};
use reqwest::Url;

use crate::error::{Error, Result};
use crate::model::Operation;

/// Everything outside RFC 3986 unreserved characters is percent-encoded, so
/// a thread id always stays one path segment.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encodes `id` as one URL path segment.
pub(crate) fn encode_segment(id: &str) -> String {
    percent_encoding::utf8_percent_encode(id, SEGMENT).to_string()
}

/// Whether `text` starts with a URL scheme (`name:` not followed by a port).
fn has_scheme(text: &str) -> bool {
    match text.split_once(':') {
        Some((name, rest)) => {
            name.starts_with(|c: char| c.is_ascii_alphabetic())
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
                && !rest.starts_with(|c: char| c.is_ascii_digit())
        }
        None => false,
    }
}

/// Checks an endpoint: `http`/`https` (`https://` is assumed when no scheme
/// is given, as the official SDKs do), a host, no credentials, no query or
/// fragment; a path is kept as a prefix of every route (a gateway in front
/// of the service). Plain http only to loopback unless `allow_insecure_http`.
pub(crate) fn validate_endpoint(endpoint: &str, allow_insecure_http: bool) -> Result<Url> {
    let invalid = |why: &str| Error::InvalidArgument(format!("endpoint {why}"));
    let endpoint = endpoint.trim();
    let with_scheme;
    let endpoint = if !endpoint.is_empty() && !has_scheme(endpoint) {
        with_scheme = format!("https://{endpoint}");
        &with_scheme
    } else {
        endpoint
    };
    let url = Url::parse(endpoint).map_err(|e| invalid(&format!("is not a valid URL: {e}")))?;
    if url.scheme() != "https" && url.scheme() != "http" {
        return Err(invalid("must use https:// (or http:// to loopback)"));
    }
    let host = match url.host_str() {
        Some(host) if !host.is_empty() => host.to_owned(),
        _ => return Err(invalid("has no host")),
    };
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("must not contain credentials"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("must not contain a query or fragment"));
    }
    if url
        .path()
        .split('/')
        .any(|segment| segment == "." || segment == "..")
    {
        return Err(invalid("path must not contain '.' or '..' segments"));
    }
    if url.scheme() == "http" && !allow_insecure_http {
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        let loopback = match bare.parse::<std::net::IpAddr>() {
            Ok(ip) => ip.is_loopback(),
            Err(_) => bare.eq_ignore_ascii_case("localhost"),
        };
        if !loopback {
            return Err(Error::InsecureEndpoint(
                "plain http:// is allowed only to loopback hosts unless allow_insecure_http is set"
                    .into(),
            ));
        }
    }
    Ok(url)
}

/// The request URLs of one client: `{endpoint}/chat/threads/{thread
/// id}/{operation}?api-version=...`, with the last URL built per operation
/// cached, as calls usually repeat a thread.
pub(super) struct Routes {
    threads_base: String,
    query: String,
    recent_urls: [RecentUrl; 3],
}

impl Routes {
    /// Routes under `endpoint` (normalized, without a trailing slash).
    pub(super) fn new(endpoint: &str, api_version: &str) -> Routes {
        Routes {
            threads_base: format!("{endpoint}/chat/threads/"),
            query: format!("?api-version={api_version}"),
            recent_urls: Default::default(),
        }
    }

    /// The URL of `operation` on `thread_id`, which must be neither empty
    /// nor `.` or `..` (it always stays one path segment).
    pub(super) fn url(&self, operation: Operation, thread_id: &str) -> Result<Url> {
        if thread_id.is_empty() {
            return Err(Error::InvalidArgument("thread_id is empty".into()));
        }
        if thread_id == "." || thread_id == ".." {
            return Err(Error::InvalidArgument(
                "thread_id must not be '.' or '..'".into(),
            ));
        }
        // Only the chat operations have a slot.
        let recent = self.recent_urls.get(operation as usize);
        if let Some(url) = recent.and_then(|r| r.get(thread_id)) {
            return Ok(url);
        }
        let text = format!(
            "{}{}/{}{}",
            self.threads_base,
            encode_segment(thread_id),
            operation.path_segment(),
            self.query
        );
        let url = Url::parse(&text).map_err(|e| Error::Internal(format!("request URL: {e}")))?;
        if let Some(recent) = recent {
            recent.put(thread_id, &url);
        }
        Ok(url)
    }
}

/// One cached request URL with the thread id it was built for. Empty until
/// the first call; never waited on (a busy slot just builds the URL).
#[derive(Default)]
struct RecentUrl(Mutex<Option<Box<UrlFor>>>);

/// A request URL and the thread id it was built for.
struct UrlFor {
    thread_id: Box<str>,
    url: Url,
}

impl RecentUrl {
    fn get(&self, thread_id: &str) -> Option<Url> {
        let slot = self.0.try_lock().ok()?;
        let cached = slot.as_deref()?;
        (*cached.thread_id == *thread_id).then(|| cached.url.clone())
    }

    fn put(&self, thread_id: &str, url: &Url) {
        if let Ok(mut slot) = self.0.try_lock() {
            *slot = Some(Box::new(UrlFor {
                thread_id: thread_id.into(),
                url: url.clone(),
            }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thread_ids_are_one_segment() {
        assert_eq!(encode_segment("19:abc@thread.v2"), "19%3Aabc%40thread.v2");
        assert_eq!(encode_segment("a/b?c#d e"), "a%2Fb%3Fc%23d%20e");
        assert_eq!(encode_segment("A-z_0.9~"), "A-z_0.9~");
        assert_eq!(encode_segment("é%"), "%C3%A9%25");
    }

    #[test]
    fn endpoints() {
        let ok = [
            "https://x.communication.azure.com",
            "https://x.communication.azure.com/",
            "https://x.communication.azure.com:8443",
            "http://127.0.0.1:1234",
            "http://127.5.6.7",
            "http://localhost:99/",
            "http://LOCALHOST",
            "http://[::1]:80",
            "x.communication.azure.com",
            "x.communication.azure.com/",
            "https://gateway.example.com/acs",
            "https://gateway.example.com/acs/",
            "localhost:8080",
        ];
        for e in ok {
            assert!(validate_endpoint(e, false).is_ok(), "{e}");
        }
        assert_eq!(
            validate_endpoint("x.communication.azure.com", false)
                .unwrap()
                .as_str(),
            "https://x.communication.azure.com/"
        );
        let invalid = [
            "",
            "ftp://x.com",
            "https://user:pw@x.com",
            "https://user@x.com",
            "https://x.com?a=1",
            "https://x.com/?",
            "https://x.com#frag",
            "https://",
            "unix:/tmp/sock",
        ];
        for e in invalid {
            let err = validate_endpoint(e, false).unwrap_err();
            assert!(matches!(err, Error::InvalidArgument(_)), "{e}: {err:?}");
        }
        for e in [
            "http://example.com",
            "http://10.0.0.1",
            "http://[::2]",
            "http://localhost.example",
        ] {
            let err = validate_endpoint(e, false).unwrap_err();
            assert!(matches!(err, Error::InsecureEndpoint(_)), "{e}: {err:?}");
            assert!(validate_endpoint(e, true).is_ok(), "{e}");
        }
    }
}
