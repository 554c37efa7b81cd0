//! An ACS resource's connection string:
//! `endpoint=https://NAME.communication.azure.com/;accesskey=BASE64`.
//!
//! Parts are `key=value` separated by `;`; keys are case-insensitive, blanks
//! around keys and values and empty parts are ignored, and other keys are
//! ignored as the official SDKs do. `endpoint` and `accesskey` must each
//! appear once. No error message contains the access key or the string.

use std::fmt;

use crate::credential::AccessKey;
use crate::error::{Error, Result};

/// A parsed connection string.
pub(crate) struct ConnectionString<'a> {
    /// The endpoint as written (validated by the client).
    pub endpoint: &'a str,
    pub key: AccessKey,
}

impl fmt::Debug for ConnectionString<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectionString")
            .field("endpoint", &self.endpoint)
            .field("key", &self.key)
            .finish()
    }
}

impl<'a> ConnectionString<'a> {
    pub(crate) fn parse(text: &'a str) -> Result<ConnectionString<'a>> {
        let invalid = |why: &str| {
            Error::InvalidArgument(format!(
                "the connection string {why}; expected endpoint=https://NAME.communication.azure.com/;accesskey=BASE64"
            ))
        };
        let (mut endpoint, mut key) = (None, None);
        for part in text.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            let Some((name, value)) = part.split_once('=') else {
                return Err(invalid("has a part that is not key=value"));
            };
            let slot = match name.trim().to_ascii_lowercase().as_str() {
                "endpoint" => &mut endpoint,
                "accesskey" => &mut key,
                _ => continue,
            };
            if slot.replace(value.trim()).is_some() {
                return Err(invalid(&format!("names {} twice", name.trim())));
            }
        }
        let endpoint = endpoint
            .filter(|e| !e.is_empty())
            .ok_or_else(|| invalid("has no endpoint"))?;
        let key = key
            .filter(|k| !k.is_empty())
            .ok_or_else(|| invalid("has no accesskey"))?;
        Ok(ConnectionString {
            endpoint,
            key: AccessKey::from_base64(key)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "c2VjcmV0LWtleS1ieXRlcw==";

    #[test]
    fn parses_the_portal_form_and_variants() {
        let ok = [
            format!("endpoint=https://x.communication.azure.com/;accesskey={KEY}"),
            format!("Endpoint=https://x.communication.azure.com/;AccessKey={KEY};"),
            format!(" accesskey = {KEY} ; endpoint = https://x.communication.azure.com "),
            format!("endpoint=http://127.0.0.1:8080/;accesskey={KEY};other=1"),
        ];
        for text in &ok {
            let parsed = ConnectionString::parse(text).unwrap();
            assert!(parsed.endpoint.contains("://"), "{text}");
            assert!(!format!("{parsed:?}").contains(KEY));
        }
        let parsed = ConnectionString::parse(&ok[0]).unwrap();
        assert_eq!(parsed.endpoint, "https://x.communication.azure.com/");
        assert_eq!(parsed.key.signature("x"), {
            let other = AccessKey::from_base64(KEY).unwrap();
            other.signature("x")
        });
    }

    #[test]
    fn malformed_strings_are_refused_clearly() {
        let cases = [
            ("", "has no endpoint"),
            ("endpoint=https://x.com/", "has no accesskey"),
            (&format!("accesskey={KEY}") as &str, "has no endpoint"),
            (
                &format!("endpoint=https://x.com/;accesskey={KEY};endpoint=https://y.com/"),
                "names endpoint twice",
            ),
            (
                &format!("endpoint=https://x.com/;accesskey={KEY};stray") as &str,
                "not key=value",
            ),
            ("endpoint=https://x.com/;accesskey=", "has no accesskey"),
            (
                "endpoint=https://x.com/;accesskey=%%%notbase64",
                "not base64",
            ),
        ];
        for (text, why) in cases {
            let err = ConnectionString::parse(text).unwrap_err();
            assert!(matches!(err, Error::InvalidArgument(_)), "{text}");
            let message = err.to_string();
            assert!(message.contains(why), "{text}: {message}");
            assert!(!message.contains(KEY), "{message}");
            assert!(!message.contains("notbase64"), "{message}");
        }
    }
}
