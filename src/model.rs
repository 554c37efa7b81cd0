//! Wire model: request bodies, response bodies and error bodies of the three
//! chat operations, and the message options a caller sets.

use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};

use crate::error::{one_line, Error, Result};

/// The type of a chat message. The service accepts only these two for sending.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum MessageType {
    /// Plain text (`"text"`), the default.
    #[default]
    Text,
    /// HTML (`"html"`).
    Html,
}

impl MessageType {
    /// The value sent on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageType::Text => "text",
            MessageType::Html => "html",
        }
    }
}

/// Optional parts of a message: type, sender display name, metadata.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessageOptions {
    message_type: MessageType,
    sender_display_name: Option<String>,
    metadata: Vec<(String, String)>,
}

impl MessageOptions {
    /// Text, no display name, no metadata.
    pub fn new() -> MessageOptions {
        MessageOptions::default()
    }

    /// Sets the message type.
    pub fn set_type(&mut self, message_type: MessageType) -> &mut Self {
        self.message_type = message_type;
        self
    }

    /// Sets the sender display name; an empty name clears it.
    pub fn set_sender_display_name(&mut self, name: &str) -> &mut Self {
        self.sender_display_name = (!name.is_empty()).then(|| name.to_owned());
        self
    }

    /// Adds a metadata entry; a key added again replaces the earlier value.
    /// An empty key is invalid.
    pub fn add_metadata(&mut self, key: &str, value: &str) -> Result<&mut Self> {
        if key.is_empty() {
            return Err(Error::InvalidArgument("metadata key is empty".into()));
        }
        match self.metadata.iter_mut().find(|(k, _)| k == key) {
            Some(entry) => entry.1 = value.to_owned(),
            None => self.metadata.push((key.to_owned(), value.to_owned())),
        }
        Ok(self)
    }

    /// The message type.
    pub fn message_type(&self) -> MessageType {
        self.message_type
    }

    /// The sender display name, if set.
    pub fn sender_display_name(&self) -> Option<&str> {
        self.sender_display_name.as_deref()
    }

    /// The metadata entries, in the order first added.
    pub fn metadata(&self) -> &[(String, String)] {
        &self.metadata
    }
}

struct Metadata<'a>(&'a [(String, String)]);

impl Serialize for Metadata<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (k, v) in self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SendMessageBody<'a> {
    content: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    sender_display_name: Option<&'a str>,
    #[serde(rename = "type")]
    message_type: &'static str,
    #[serde(skip_serializing_if = "is_empty")]
    metadata: Metadata<'a>,
}

fn is_empty(m: &Metadata<'_>) -> bool {
    m.0.is_empty()
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TypingBody<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    sender_display_name: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ReadReceiptBody<'a> {
    chat_message_id: &'a str,
}

fn to_json<T: Serialize>(value: &T) -> Result<Vec<u8>> {
    serde_json::to_vec(value)
        .map_err(|e| Error::Internal(format!("request body serialization failed: {e}")))
}

/// The JSON body of send-message.
pub(crate) fn send_message_body(content: &str, options: &MessageOptions) -> Result<Vec<u8>> {
    to_json(&SendMessageBody {
        content,
        sender_display_name: options.sender_display_name(),
        message_type: options.message_type.as_str(),
        metadata: Metadata(&options.metadata),
    })
}

/// The JSON body of send-typing (`{}` without a name).
pub(crate) fn typing_body(sender_display_name: Option<&str>) -> Result<Vec<u8>> {
    to_json(&TypingBody {
        sender_display_name: sender_display_name.filter(|n| !n.is_empty()),
    })
}

/// The JSON body of send-read-receipt.
pub(crate) fn read_receipt_body(chat_message_id: &str) -> Result<Vec<u8>> {
    to_json(&ReadReceiptBody { chat_message_id })
}

/// The message id in a send-message answer, if it has a usable one.
pub(crate) fn message_id_from_body(body: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    struct Created {
        id: Option<serde_json::Value>,
    }
    let created: Created = serde_json::from_slice(body).ok()?;
    match created.id? {
        serde_json::Value::String(s) if !s.is_empty() && !s.contains('\0') => Some(s),
        _ => None,
    }
}

/// The last path segment of a `Location` header, percent-decoded.
pub(crate) fn message_id_from_location(location: &str) -> Option<String> {
    let absolute = reqwest::Url::parse(location).ok();
    let path = match &absolute {
        Some(url) => url.path(),
        None => location.split(['?', '#']).next().unwrap_or(""),
    };
    let segment = path.trim_end_matches('/').rsplit('/').next()?;
    let decoded = percent_encoding::percent_decode_str(segment)
        .decode_utf8()
        .ok()?;
    if decoded.is_empty() || decoded.contains('\0') {
        return None;
    }
    Some(decoded.into_owned())
}

/// Code and message of a service error body.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ServiceErrorBody {
    pub code: String,
    pub message: String,
}

/// Reads `{"error":{"code","message"}}` or `{"CommunicationError":{"Code","Message"}}`.
/// Anything else (empty, HTML, truncated JSON) gives `None`.
pub(crate) fn parse_error_body(body: &[u8]) -> Option<ServiceErrorBody> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let object = value.as_object()?;
    let (inner, code_key, message_key) = if let Some(inner) = object.get("error") {
        (inner, "code", "message")
    } else if let Some(inner) = object.get("CommunicationError") {
        (inner, "Code", "Message")
    } else {
        return None;
    };
    let inner = inner.as_object()?;
    let text = |key: &str| {
        inner
            .get(key)
            .and_then(|v| v.as_str())
            .map(one_line)
            .unwrap_or_default()
    };
    let parsed = ServiceErrorBody {
        code: text(code_key),
        message: text(message_key),
    };
    (!parsed.code.is_empty() || !parsed.message.is_empty()).then_some(parsed)
}

/// The three chat operations, and the two identity operations a client made
/// from a connection string uses to get its tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Operation {
    SendMessage,
    Typing,
    ReadReceipt,
    /// `POST /identities`: a new user, with a token.
    CreateUser,
    /// `POST /identities/{id}/:issueAccessToken`.
    IssueToken,
}

impl Operation {
    /// The last path segment of the operation's route (after the thread id
    /// for the chat operations).
    pub(crate) fn path_segment(self) -> &'static str {
        match self {
            Operation::SendMessage => "messages",
            Operation::Typing => "typing",
            Operation::ReadReceipt => "readReceipts",
            Operation::CreateUser => "identities",
            Operation::IssueToken => ":issueAccessToken",
        }
    }

    /// Whether timeouts and broken connections are retried. Not for
    /// send-message (no idempotency key exists, a retry could post twice) nor
    /// for creating a user (a retry could create a second one).
    pub(crate) fn retries_after_delivery(self) -> bool {
        !matches!(self, Operation::SendMessage | Operation::CreateUser)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_body_has_type_and_optional_fields() {
        let body = send_message_body("hi", &MessageOptions::new()).unwrap();
        assert_eq!(body, br#"{"content":"hi","type":"text"}"#);

        let mut options = MessageOptions::new();
        options
            .set_type(MessageType::Html)
            .set_sender_display_name("Ann");
        options.add_metadata("b", "1").unwrap();
        options.add_metadata("a", "2").unwrap();
        options.add_metadata("b", "3").unwrap();
        let body = send_message_body("<b>x</b>", &options).unwrap();
        assert_eq!(
            std::str::from_utf8(&body).unwrap(),
            r#"{"content":"<b>x</b>","senderDisplayName":"Ann","type":"html","metadata":{"b":"3","a":"2"}}"#
        );
    }

    #[test]
    fn empty_metadata_key_is_invalid() {
        assert!(MessageOptions::new().add_metadata("", "v").is_err());
    }

    #[test]
    fn empty_display_name_clears() {
        let mut options = MessageOptions::new();
        options
            .set_sender_display_name("A")
            .set_sender_display_name("");
        assert_eq!(options.sender_display_name(), None);
    }

    #[test]
    fn typing_and_receipt_bodies() {
        assert_eq!(typing_body(None).unwrap(), b"{}");
        assert_eq!(typing_body(Some("")).unwrap(), b"{}");
        assert_eq!(
            typing_body(Some("Bo")).unwrap(),
            br#"{"senderDisplayName":"Bo"}"#
        );
        assert_eq!(
            read_receipt_body("171").unwrap(),
            br#"{"chatMessageId":"171"}"#
        );
    }

    #[test]
    fn message_id_from_bodies() {
        assert_eq!(
            message_id_from_body(br#"{"id":"1700000000000"}"#).as_deref(),
            Some("1700000000000")
        );
        assert_eq!(message_id_from_body(br#"{"id":""}"#), None);
        assert_eq!(message_id_from_body(br#"{"id":17}"#), None);
        assert_eq!(message_id_from_body(br#"{}"#), None);
        assert_eq!(message_id_from_body(b""), None);
        assert_eq!(message_id_from_body(br#"{"id":"17"#), None);
        assert_eq!(message_id_from_body(b"<html></html>"), None);
    }

    #[test]
    fn message_id_from_locations() {
        assert_eq!(
            message_id_from_location(
                "https://x.communication.azure.com/chat/threads/19%3Aa%40thread.v2/messages/1700?api-version=2025-03-15"
            )
            .as_deref(),
            Some("1700")
        );
        assert_eq!(
            message_id_from_location("/chat/threads/t/messages/a%2Fb").as_deref(),
            Some("a/b")
        );
        assert_eq!(
            message_id_from_location("/chat/threads/t/messages/42/").as_deref(),
            Some("42")
        );
        assert_eq!(message_id_from_location(""), None);
        assert_eq!(message_id_from_location("/"), None);
        assert_eq!(message_id_from_location("%FF"), None);
        assert_eq!(message_id_from_location("https://host.example"), None);
    }

    #[test]
    fn error_bodies() {
        assert_eq!(
            parse_error_body(br#"{"error":{"code":"TooManyRequests","message":"Slow\ndown"}}"#),
            Some(ServiceErrorBody {
                code: "TooManyRequests".into(),
                message: "Slow down".into()
            })
        );
        assert_eq!(
            parse_error_body(
                br#"{"CommunicationError":{"Code":"Forbidden","Message":"No.","Details":[]}}"#
            ),
            Some(ServiceErrorBody {
                code: "Forbidden".into(),
                message: "No.".into()
            })
        );
        assert_eq!(parse_error_body(b""), None);
        assert_eq!(
            parse_error_body(b"<html><body>Bad gateway</body></html>"),
            None
        );
        assert_eq!(parse_error_body(br#"{"error":{"code":"Unauth"#), None);
        assert_eq!(parse_error_body(br#"{"error":"x"}"#), None);
        assert_eq!(parse_error_body(br#"{"error":{}}"#), None);
        assert_eq!(parse_error_body(br#"[1,2]"#), None);
        assert_eq!(
            parse_error_body(br#"{"error":{"code":"NotFound"}}"#),
            Some(ServiceErrorBody {
                code: "NotFound".into(),
                message: String::new()
            })
        );
    }
}
