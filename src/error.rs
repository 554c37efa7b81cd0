//! The library's one error type and the result codes it maps to.
//!
//! [`Error`] is what every fallible operation of the core returns. Its
//! [`Error::result_code`] gives the stable number the C API returns
//! ([`ResultCode`]); that mapping is the single `match` in this module.

use std::ffi::CStr;
use std::time::Duration;

/// The table of result codes: each row is the code's documentation, its
/// variant, number and C name, and its one-line description. Everything else
/// is made from it: [`ResultCode`] with its `ALL`, `name`, `description` and
/// `c_description` here, the `ACS_RESULT_*` constants of `crate::ffi::errors`,
/// and the header's `#define`s (written by `tests/header.rs`).
///
/// The numbers are part of the ABI: they are grouped, never renumbered and
/// never reused. Zero is success so that `if (rc)` works in C.
macro_rules! result_code_table {
    ($then:ident) => {
        $then! {
            /// Success.
            Ok = 0, ACS_RESULT_OK, "success";
            /// A required pointer was NULL. Only the C API returns it: the Rust
            /// API takes references.
            NullParameter = 1, ACS_RESULT_NULL_PARAMETER, "a required pointer was NULL";
            /// Invalid UTF-8, an empty id or content, a bad endpoint URL or option value.
            InvalidArgument = 2, ACS_RESULT_INVALID_ARGUMENT,
                "an argument or option value is invalid";
            /// `http://` to a host that is not loopback, without `allow_insecure_http`.
            InsecureEndpoint = 3, ACS_RESULT_INSECURE_ENDPOINT,
                "plain http is allowed only to loopback unless allow_insecure_http is set";
            /// The service answered 401.
            Unauthorized = 10, ACS_RESULT_UNAUTHORIZED, "the service rejected the token (401)";
            /// The service answered 403.
            Forbidden = 11, ACS_RESULT_FORBIDDEN, "the service denied access (403)";
            /// The service answered 404.
            NotFound = 12, ACS_RESULT_NOT_FOUND, "the thread or message was not found (404)";
            /// The service answered 400 or another 4xx not listed above.
            BadRequest = 13, ACS_RESULT_BAD_REQUEST, "the service rejected the request (4xx)";
            /// The service answered 429 and the retries are spent.
            Throttled = 14, ACS_RESULT_THROTTLED, "the service is throttling requests (429)";
            /// The service answered 5xx and the retries are spent.
            ServiceError = 15, ACS_RESULT_SERVICE_ERROR, "the service failed (5xx)";
            /// The service was never reached (DNS, refused, TLS handshake): certainly
            /// not delivered.
            Connect = 20, ACS_RESULT_CONNECT,
                "the service could not be reached; nothing was delivered";
            /// No answer in time: the request may have been delivered.
            Timeout = 21, ACS_RESULT_TIMEOUT,
                "no answer in time; the request may have been delivered";
            /// The connection broke after the request was written: it may have been
            /// delivered.
            Io = 22, ACS_RESULT_IO, "the connection broke; the request may have been delivered";
            /// An answer the library cannot use: 2xx without a message id, a redirect,
            /// an oversized body.
            Protocol = 23, ACS_RESULT_PROTOCOL, "the service's answer could not be used";
            /// The token is not a JWT, or the refresher failed or returned an expired token.
            Token = 24, ACS_RESULT_TOKEN,
                "the access token is invalid, expired or could not be refreshed";
            /// The caller cancelled the call (`acs_call_cancel`); its
            /// `may_have_been_delivered` says whether a message could still have arrived.
            Cancelled = 25, ACS_RESULT_CANCELLED, "the call was cancelled";
            /// A Rust panic was caught at the library boundary.
            Panic = 90, ACS_RESULT_PANIC, "a panic was caught at the library boundary";
            /// A bug in the library.
            Internal = 91, ACS_RESULT_INTERNAL, "internal error in the library";
        }
    };
}
pub(crate) use result_code_table;

/// Makes [`ResultCode`] from the table.
macro_rules! define_result_code {
    ($($(#[doc = $doc:literal])+ $variant:ident = $value:literal, $c_name:ident,
        $description:literal;)+) => {
        /// Stable outcome codes shared by every language binding.
        ///
        /// The numbers are part of the ABI: they are grouped, never renumbered and
        /// never reused. Zero is success so that `if (rc)` works in C.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[repr(u32)]
        pub enum ResultCode {
            $($(#[doc = $doc])+ $variant = $value,)+
        }

        impl ResultCode {
            /// Every code, in numeric order.
            pub const ALL: &'static [ResultCode] = &[$(ResultCode::$variant),+];

            /// The code for a number, if it is one.
            pub fn from_u32(value: u32) -> Option<ResultCode> {
                match value {
                    $($value => Some(ResultCode::$variant),)+
                    _ => None,
                }
            }

            /// The code's C name, e.g. `ACS_RESULT_THROTTLED`.
            pub fn name(self) -> &'static str {
                match self {
                    $(ResultCode::$variant => stringify!($c_name),)+
                }
            }

            /// A static, one-line description of the code.
            pub fn description(self) -> &'static str {
                match self {
                    $(ResultCode::$variant => $description,)+
                }
            }

            /// [`description`](Self::description) as a NUL-terminated string.
            pub fn c_description(self) -> &'static CStr {
                match self {
                    $(ResultCode::$variant => {
                        const TEXT: &CStr = c_str(concat!($description, "\0"));
                        TEXT
                    })+
                }
            }

            /// The code's documentation, one line per line of its doc comment.
            pub fn documentation(self) -> &'static str {
                match self {
                    $(ResultCode::$variant => concat!($($doc, "\n"),+),)+
                }
            }
        }
    };
}

result_code_table!(define_result_code);

/// A string literal with its NUL as a `CStr`, checked at compile time.
const fn c_str(with_nul: &'static str) -> &'static CStr {
    match CStr::from_bytes_with_nul(with_nul.as_bytes()) {
        Ok(text) => text,
        Err(_) => panic!("a description holds a NUL byte"),
    }
}

impl ResultCode {
    /// The code's number.
    pub fn as_u32(self) -> u32 {
        self as u32
    }
}

/// Details of a failure that involved the service or the connection to it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FailureDetails {
    /// One-line, impersonal description.
    pub message: String,
    /// HTTP status of the last answer; 0 when there was none.
    pub http_status: u16,
    /// The service's error code (`"TooManyRequests"`), empty when none.
    pub service_code: String,
    /// `MS-CV`, else `x-ms-request-id`, else the `x-ms-client-request-id` sent.
    pub request_id: String,
    /// The delay the last answer asked for, if any.
    pub retry_after: Option<Duration>,
    /// True when the request was written and no usable answer came back.
    pub may_have_been_delivered: bool,
}

/// Everything that can go wrong, as one enum.
///
/// Display gives a one-line message without the token.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    /// Invalid argument or option value.
    #[error("{0}")]
    InvalidArgument(String),
    /// Plain http to a host that is not loopback.
    #[error("{0}")]
    InsecureEndpoint(String),
    /// Bad token, failed refresh or expired refresher result.
    #[error("{0}")]
    Token(String),
    /// The service answered with an error status (after any retries).
    #[error("{}", .0.message)]
    Status(Box<FailureDetails>),
    /// The service could not be reached.
    #[error("{}", .0.message)]
    Connect(Box<FailureDetails>),
    /// No answer in time.
    #[error("{}", .0.message)]
    Timeout(Box<FailureDetails>),
    /// The connection broke after the request was written.
    #[error("{}", .0.message)]
    Io(Box<FailureDetails>),
    /// An answer that cannot be used.
    #[error("{}", .0.message)]
    Protocol(Box<FailureDetails>),
    /// The caller cancelled the call.
    #[error("{}", .0.message)]
    Cancelled(Box<FailureDetails>),
    /// A panic was caught at the C boundary.
    #[error("a panic was caught at the library boundary: {0}")]
    Panic(String),
    /// A bug.
    #[error("{0}")]
    Internal(String),
}

impl Error {
    /// The stable result code for this error. This is the only place errors
    /// are mapped to codes.
    pub fn result_code(&self) -> ResultCode {
        match self {
            Error::InvalidArgument(_) => ResultCode::InvalidArgument,
            Error::InsecureEndpoint(_) => ResultCode::InsecureEndpoint,
            Error::Token(_) => ResultCode::Token,
            Error::Status(d) => match d.http_status {
                401 => ResultCode::Unauthorized,
                403 => ResultCode::Forbidden,
                404 => ResultCode::NotFound,
                429 => ResultCode::Throttled,
                500..=599 => ResultCode::ServiceError,
                _ => ResultCode::BadRequest,
            },
            Error::Connect(_) => ResultCode::Connect,
            Error::Timeout(_) => ResultCode::Timeout,
            Error::Io(_) => ResultCode::Io,
            Error::Protocol(_) => ResultCode::Protocol,
            Error::Cancelled(_) => ResultCode::Cancelled,
            Error::Panic(_) => ResultCode::Panic,
            Error::Internal(_) => ResultCode::Internal,
        }
    }

    fn details(&self) -> Option<&FailureDetails> {
        match self {
            Error::Status(d)
            | Error::Connect(d)
            | Error::Timeout(d)
            | Error::Io(d)
            | Error::Protocol(d)
            | Error::Cancelled(d) => Some(d),
            _ => None,
        }
    }

    /// This error with `context: ` in front of its message, when it is a
    /// failure that involved the service or the connection to it.
    pub(crate) fn in_context(mut self, context: &str) -> Error {
        if let Error::Status(d)
        | Error::Connect(d)
        | Error::Timeout(d)
        | Error::Io(d)
        | Error::Protocol(d)
        | Error::Cancelled(d) = &mut self
        {
            d.message = format!("{context}: {}", d.message);
        }
        self
    }

    /// HTTP status of the service's last answer; 0 when there was none.
    pub fn http_status(&self) -> u16 {
        self.details().map_or(0, |d| d.http_status)
    }

    /// The service's error code, e.g. `"TooManyRequests"`; empty when none.
    pub fn service_code(&self) -> &str {
        self.details().map_or("", |d| d.service_code.as_str())
    }

    /// The request id to quote to support: `MS-CV`, else `x-ms-request-id`,
    /// else the `x-ms-client-request-id` the library sent. Empty for errors
    /// raised before any request.
    pub fn request_id(&self) -> &str {
        self.details().map_or("", |d| d.request_id.as_str())
    }

    /// The delay the service's last answer asked for, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        self.details().and_then(|d| d.retry_after)
    }

    /// True when the request may have reached the service although the call
    /// failed (a timeout, a broken connection, an unusable 2xx): a message
    /// may then exist although no id was returned.
    pub fn may_have_been_delivered(&self) -> bool {
        self.details().is_some_and(|d| d.may_have_been_delivered)
    }
}

/// Collapses line breaks and other control characters into single spaces.
pub(crate) fn one_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    let blank = |c: char| c.is_control() || c.is_whitespace();
    for c in text.trim_matches(blank).chars() {
        if c.is_control() || c.is_whitespace() {
            if !space {
                out.push(' ');
                space = true;
            }
        } else {
            out.push(c);
            space = false;
        }
    }
    out
}

/// Shorthand for the core's results.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    fn status(code: u16) -> Error {
        Error::Status(Box::new(FailureDetails {
            message: format!("HTTP {code}"),
            http_status: code,
            ..FailureDetails::default()
        }))
    }

    #[test]
    fn statuses_map_to_codes() {
        assert_eq!(status(400).result_code(), ResultCode::BadRequest);
        assert_eq!(status(401).result_code(), ResultCode::Unauthorized);
        assert_eq!(status(403).result_code(), ResultCode::Forbidden);
        assert_eq!(status(404).result_code(), ResultCode::NotFound);
        assert_eq!(status(408).result_code(), ResultCode::BadRequest);
        assert_eq!(status(409).result_code(), ResultCode::BadRequest);
        assert_eq!(status(429).result_code(), ResultCode::Throttled);
        assert_eq!(status(500).result_code(), ResultCode::ServiceError);
        assert_eq!(status(503).result_code(), ResultCode::ServiceError);
    }

    #[test]
    fn codes_round_trip_and_have_names() {
        for &code in ResultCode::ALL {
            assert_eq!(ResultCode::from_u32(code.as_u32()), Some(code));
            assert!(code.name().starts_with("ACS_RESULT_"));
            assert!(!code.description().is_empty());
            assert_eq!(code.c_description().to_str(), Ok(code.description()));
            assert!(code.documentation().ends_with('\n'));
        }
        assert_eq!(ResultCode::from_u32(4), None);
    }

    #[test]
    fn accessors_default_for_local_errors() {
        let e = Error::InvalidArgument("thread_id is empty".into());
        assert_eq!(e.http_status(), 0);
        assert_eq!(e.service_code(), "");
        assert_eq!(e.request_id(), "");
        assert_eq!(e.retry_after(), None);
        assert!(!e.may_have_been_delivered());
        assert_eq!(e.to_string(), "thread_id is empty");
    }

    #[test]
    fn one_line_collapses_breaks() {
        assert_eq!(one_line(" a\r\n\tb  c \n"), "a b c");
        // Control characters that are not whitespace (DEL, NUL) are trimmed too.
        assert_eq!(one_line("\u{7f}\u{7f}T\u{7f}w\0"), "T w");
    }
}
