//! Tokens from a connection string: the two identity operations a client
//! needs, signed with the resource's access key, and the built-in refresher
//! that keeps a client supplied.
//!
//! - `POST {endpoint}/identities?api-version=2023-10-01` with
//!   `{"createTokenWithScopes":["chat"],"expiresInMinutes":N}` answers `201`
//!   `{"identity":{"id":"8:acs:..."},"accessToken":{"token":"...","expiresOn":"..."}}`;
//! - `POST {endpoint}/identities/{id}/:issueAccessToken?api-version=2023-10-01`
//!   with `{"scopes":["chat"],"expiresInMinutes":N}` answers `200`
//!   `{"token":"...","expiresOn":"..."}`.
//!
//! Both go through the client's pipeline (its pool, timeouts, retries,
//! logging); see `credential/access_key.rs` for the signature.

mod connection_string;

use std::sync::Arc;
use std::time::SystemTime;

use reqwest::Url;
use serde::Deserialize;
use zeroize::Zeroizing;

use crate::client::{encode_segment, validate_endpoint, ChatClient, ClientOptions};
use crate::credential::{jwt_expiry, AccessKey, Credential, RefreshError, TokenRefresher};
use crate::error::{Error, Result};
use crate::http::call::CallControl;
use crate::http::pipeline::{Auth, Call, Pipeline};
use crate::http::runtime;
use crate::log::{log_at, LogLevel};
use crate::model::Operation;

use connection_string::ConnectionString;

/// The identity api-version the library speaks (the official
/// `azure-communication-identity` default).
pub const IDENTITY_API_VERSION: &str = "2023-10-01";
/// Lifetime the library asks for each token, in minutes: the service's
/// default and maximum (it accepts 60 to 1440).
pub const IDENTITY_TOKEN_MINUTES: u32 = 1440;

/// Signed calls to the identity operations of one resource.
struct IdentityClient {
    /// The endpoint, without a trailing slash.
    endpoint: String,
    key: AccessKey,
    pipeline: Pipeline,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreatedUser {
    identity: Identity,
    access_token: Option<IssuedToken>,
}

#[derive(Deserialize)]
struct Identity {
    id: String,
}

#[derive(Deserialize)]
struct IssuedToken {
    token: String,
}

impl IdentityClient {
    /// Creates a user with a chat token: its id and the token.
    fn create_user(&self) -> Result<(String, Zeroizing<String>)> {
        let body = format!(
            r#"{{"createTokenWithScopes":["chat"],"expiresInMinutes":{IDENTITY_TOKEN_MINUTES}}}"#
        );
        let url = format!(
            "{}/identities?api-version={IDENTITY_API_VERSION}",
            self.endpoint
        );
        let answer = self.post(Operation::CreateUser, &url, body)?;
        let created: CreatedUser = serde_json::from_slice(&answer)
            .map_err(|_| unusable("the identity service's answer to creating a user"))?;
        let id = created.identity.id;
        if id.is_empty() || id.contains('\0') {
            return Err(unusable("the identity service's new user id"));
        }
        let token = created
            .access_token
            .ok_or_else(|| unusable("the identity service created a user but returned no token"))?;
        log_at!(LogLevel::Info, "ACS user {id} created with a chat token");
        Ok((id, Zeroizing::new(token.token)))
    }

    /// Issues a chat token for an existing user.
    fn issue_token(&self, user_id: &str) -> Result<Zeroizing<String>> {
        let body = format!(r#"{{"scopes":["chat"],"expiresInMinutes":{IDENTITY_TOKEN_MINUTES}}}"#);
        let url = format!(
            "{}/identities/{}/:issueAccessToken?api-version={IDENTITY_API_VERSION}",
            self.endpoint,
            encode_segment(user_id)
        );
        let answer = self.post(Operation::IssueToken, &url, body)?;
        let issued: IssuedToken = serde_json::from_slice(&answer)
            .map_err(|_| unusable("the identity service's answer to issuing a token"))?;
        log_at!(LogLevel::Info, "chat token issued for ACS user {user_id}");
        Ok(Zeroizing::new(issued.token))
    }

    /// Sends one signed identity request on the calling thread; the 2xx
    /// answer's body (wiped when dropped: it holds a token).
    fn post(&self, operation: Operation, url: &str, body: String) -> Result<Zeroizing<Vec<u8>>> {
        let url = Url::parse(url).map_err(|e| Error::Internal(format!("identity URL: {e}")))?;
        let driver = runtime::blocking_driver();
        let control = Arc::new(CallControl::new_blocking(driver));
        let call = Call {
            operation,
            url,
            body: body.into(),
            auth: Auth::AccessKey(&self.key),
            control: &control,
        };
        let response = runtime::block_on(driver, self.pipeline.execute(call))?
            .map_err(|e| in_context(e, operation))?;
        Ok(Zeroizing::new(response.body))
    }
}

/// A `PROTOCOL` error for an identity answer the library cannot use.
fn unusable(what: &str) -> Error {
    Error::Protocol(Box::new(crate::error::FailureDetails {
        message: format!("{what} could not be used"),
        ..Default::default()
    }))
}

/// `error` with its message saying which identity request failed.
fn in_context(error: Error, operation: Operation) -> Error {
    error.in_context(match operation {
        Operation::CreateUser => "creating an ACS user failed",
        _ => "issuing a chat token failed",
    })
}

/// The refresher of a client made from a connection string: a new chat
/// token for its user from the identity service.
struct IdentityRefresher {
    identity: IdentityClient,
    user_id: String,
}

impl TokenRefresher for IdentityRefresher {
    fn refresh(&self) -> std::result::Result<String, RefreshError> {
        // The credential wipes the token it is handed once parsed.
        let mut token = self.identity.issue_token(&self.user_id)?;
        Ok(std::mem::take(&mut *token))
    }
}

impl ChatClient {
    /// Creates a client from an ACS resource's connection string
    /// (`endpoint=https://NAME.communication.azure.com/;accesskey=BASE64`)
    /// that gets and refreshes its own chat tokens from the identity service.
    ///
    /// With `user_id` (`8:acs:...`) the client acts as that user; without,
    /// it creates a new user once, here, and [`ChatClient::user_id`] gives its
    /// id to store and reuse. Either way the first token is obtained before
    /// this returns (a blocking request), and later ones through the usual
    /// refresh rules (on demand, proactive if set in `options`, after a 401).
    ///
    /// Fails with `InvalidArgument` for a malformed connection string, an
    /// empty `user_id` or `options` with a token refresher (the client has
    /// its own), `InsecureEndpoint` for plain http to a non-loopback host,
    /// and with the identity service's failure (`Unauthorized` for a wrong
    /// key, `NotFound` for an unknown user, `Connect`...).
    pub fn from_connection_string(
        connection_string: &str,
        user_id: Option<&str>,
        options: &ClientOptions,
    ) -> Result<ChatClient> {
        if options.has_token_refresher() {
            return Err(Error::InvalidArgument(
                "a client made from a connection string refreshes its own tokens; unset the \
                 token refresher"
                    .into(),
            ));
        }
        if user_id.is_some_and(|id| id.trim().is_empty()) {
            return Err(Error::InvalidArgument("user_id is empty".into()));
        }
        let parsed = ConnectionString::parse(connection_string)?;
        let url = validate_endpoint(parsed.endpoint, options.allow_insecure_http())?;
        // One pipeline (the CA file read once) for the identity requests and the chat calls.
        let pipeline = Pipeline::for_endpoint(&url, options)?;
        let identity = IdentityClient {
            endpoint: url.as_str().trim_end_matches('/').to_owned(),
            key: parsed.key,
            pipeline: pipeline.clone(),
        };
        let (user_id, token) = match user_id {
            Some(id) => (id.to_owned(), identity.issue_token(id)?),
            None => identity.create_user()?,
        };
        let expired = jwt_expiry(&token).is_ok_and(|exp| exp <= SystemTime::now());
        if expired {
            return Err(Error::Token(
                "the identity service returned an expired token".into(),
            ));
        }
        let refresher = IdentityRefresher {
            identity,
            user_id: user_id.clone(),
        };
        let credential = Credential::new(
            &token,
            Some(Arc::new(refresher)),
            options.proactive_refresh(),
        )
        .map_err(|e| match e {
            Error::Token(m) => Error::Token(format!("the identity service's token: {m}")),
            other => other,
        })?;
        ChatClient::with_credential(&url, pipeline, credential, options, Some(user_id))
    }
}
