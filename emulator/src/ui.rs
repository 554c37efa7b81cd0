//! The web inbox: a page at `/` and `/_emulator/ui` showing threads, transcripts, typing,
//! read receipts and refused requests as they happen, fed by [`crate::stream`]. Its HTML,
//! script and style are compiled into the binary; the page loads nothing from elsewhere.
//!
//! Every request comes here first; what is not the inbox goes on to [`crate::routes`].

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CACHE_CONTROL, CONTENT_TYPE};
use hyper::{Method, Request, Response, StatusCode};

use crate::request::Abort;
use crate::respond;
use crate::state::Shared;
use crate::stream::{self, ServerBody};

const PAGE: &str = include_str!("ui/index.html");
const SCRIPT: &str = include_str!("ui/app.js");
const STYLE: &str = include_str!("ui/app.css");

/// Only the page's own script and style; no inline script, no images, no frames, no forms
/// posting elsewhere. The page renders messages inert on its own; this is the second wall.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
connect-src 'self'; img-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// Handles one request that arrived on connection number `connection`.
pub(crate) async fn handle(
    shared: Arc<Shared>,
    connection: u64,
    req: Request<Incoming>,
) -> Result<Response<ServerBody>, Abort> {
    let asset = match req.uri().path() {
        "/" | "/_emulator/ui" | "/_emulator/ui/" => Some((PAGE, "text/html; charset=utf-8")),
        "/_emulator/ui/app.js" => Some((SCRIPT, "text/javascript; charset=utf-8")),
        "/_emulator/ui/app.css" => Some((STYLE, "text/css; charset=utf-8")),
        "/_emulator/stream" => None,
        _ => {
            let resp = crate::routes::handle(shared, connection, req).await?;
            return Ok(resp.map(ServerBody::full));
        }
    };
    if req.method() != Method::GET {
        return Ok(respond::method_not_allowed("GET").map(ServerBody::full));
    }
    Ok(match asset {
        Some((text, content_type)) => static_asset(text, content_type),
        None => stream::open(&shared),
    })
}

fn static_asset(text: &'static str, content_type: &'static str) -> Response<ServerBody> {
    let mut resp = Response::new(ServerBody::full(Full::new(Bytes::from_static(
        text.as_bytes(),
    ))));
    *resp.status_mut() = StatusCode::OK;
    let headers = resp.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert("content-security-policy", HeaderValue::from_static(CSP));
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    headers.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The page builds every node itself: nothing parses markup into the live document.
    #[test]
    fn the_script_never_parses_markup_into_the_page() {
        for sink in [
            "innerHTML",
            "outerHTML",
            "insertAdjacentHTML",
            "document.write",
            "eval(",
            "new Function",
            "createContextualFragment",
        ] {
            assert!(!SCRIPT.contains(sink), "app.js uses {sink}");
        }
        assert!(
            SCRIPT.contains("DOMParser"),
            "HTML messages go through the sanitizer"
        );
    }

    #[test]
    fn the_page_loads_only_its_own_assets() {
        assert!(PAGE.contains("src=\"/_emulator/ui/app.js\""));
        assert!(PAGE.contains("href=\"/_emulator/ui/app.css\""));
        assert!(!PAGE.contains("<script>"), "no inline script");
        for text in [PAGE, SCRIPT, STYLE] {
            assert!(!text.contains("http://") && !text.contains("https://"));
        }
    }
}
