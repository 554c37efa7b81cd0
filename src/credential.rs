//! The access token of a client, and its optional refresher.
//!
//! A token must look like a JWT: three dot-separated base64url parts whose
//! payload is a JSON object with a numeric `exp` (epoch seconds). Signatures
//! are not checked; the service does that.
//!
//! With a [`TokenRefresher`], the token is refreshed as the official
//! `CommunicationTokenCredential` does: on demand when under
//! [`ON_DEMAND_WINDOW`] remains; proactively (opt-in) when under
//! [`PROACTIVE_WINDOW`] remains, or at half the remaining life for a token
//! that was already inside that window when installed; and once after a 401.
//! One refresh runs at a time: callers that waited for it share its outcome,
//! the new token or the failure, rather than running the refresher again. A
//! refresher's token that has already expired is rejected. To rule out a hot
//! loop on a refresher that hands out nearly-expired tokens, a call refreshes
//! at most once before sending (plus once after a 401), and a still-valid
//! token is not refreshed again within [`MIN_REFRESH_INTERVAL`] of the last
//! refresh.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine;
use reqwest::header::HeaderValue;
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::log::{log_at, LogLevel};

/// Remaining lifetime under which a token is refreshed before a call.
pub const ON_DEMAND_WINDOW: Duration = Duration::from_secs(2 * 60);
/// Remaining lifetime under which a token is refreshed early, when proactive
/// refresh is on.
pub const PROACTIVE_WINDOW: Duration = Duration::from_secs(10 * 60);
/// Minimum time between two refreshes while the current token is still valid.
pub const MIN_REFRESH_INTERVAL: Duration = Duration::from_secs(30);

/// Error type a refresher reports.
pub type RefreshError = Box<dyn std::error::Error + Send + Sync>;

/// Supplies a new access token when the current one nears its expiry or is
/// rejected. Called on the thread making a call, one refresh at a time per
/// client.
pub trait TokenRefresher: Send + Sync {
    /// Returns a fresh token (a JWT) or an error.
    fn refresh(&self) -> std::result::Result<String, RefreshError>;
}

impl<F> TokenRefresher for F
where
    F: Fn() -> std::result::Result<String, RefreshError> + Send + Sync,
{
    fn refresh(&self) -> std::result::Result<String, RefreshError> {
        self()
    }
}

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
    expires_on: SystemTime,
    refresh_after: SystemTime,
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

    fn is_expired(&self, now: SystemTime) -> bool {
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

/// Why a token should be refreshed before a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RefreshNeed {
    /// Not needed.
    None,
    /// Inside the proactive window: refresh, but keep the token on failure.
    Proactive,
    /// Inside the on-demand window: the call fails if the refresh fails.
    OnDemand,
}

/// Decides whether `token` needs a refresh at `now`. Pure, for testing.
pub(crate) fn refresh_need(
    token: &AccessToken,
    now: SystemTime,
    proactive: bool,
    since_last_refresh: Option<Duration>,
) -> RefreshNeed {
    let remaining = token.expires_on.duration_since(now).unwrap_or_default();
    let need = if remaining < ON_DEMAND_WINDOW {
        RefreshNeed::OnDemand
    } else if proactive && now >= token.refresh_after {
        RefreshNeed::Proactive
    } else {
        RefreshNeed::None
    };
    let recently = since_last_refresh.is_some_and(|d| d < MIN_REFRESH_INTERVAL);
    if need != RefreshNeed::None && recently && !token.is_expired(now) {
        RefreshNeed::None
    } else {
        need
    }
}

/// Per-call refresh bookkeeping: a call refreshes at most once before sending.
#[derive(Debug, Default)]
pub(crate) struct CallRefreshState {
    refreshed: bool,
    refreshed_after_unauthorized: bool,
}

impl CallRefreshState {
    /// Records that the call moved past a 401 on another call's new token.
    pub(crate) fn mark_refreshed_after_unauthorized(&mut self) {
        self.refreshed_after_unauthorized = true;
        self.refreshed = true;
    }
}

#[derive(Default)]
struct RefreshState {
    last_refresh: Option<Instant>,
    /// Why the last finished refresh failed; `None` when it succeeded.
    last_failure: Option<String>,
}

/// The token of one client, swapped atomically, with its optional refresher.
pub(crate) struct Credential {
    current: RwLock<Arc<AccessToken>>,
    refresher: Option<Arc<dyn TokenRefresher>>,
    proactive: bool,
    single_flight: Mutex<RefreshState>,
    /// Refreshes finished so far; read before waiting for `single_flight` to
    /// tell whether a refresh ran meanwhile.
    refreshes: AtomicU64,
    /// Asynchronous calls wait here, holding no thread, while one of them
    /// refreshes on the blocking pool.
    async_gate: tokio::sync::Mutex<()>,
}

thread_local! {
    /// The credential whose refresher this thread is running, if any.
    static REFRESHING: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

impl Credential {
    pub(crate) fn new(
        token: &str,
        refresher: Option<Arc<dyn TokenRefresher>>,
        proactive: bool,
    ) -> Result<Credential> {
        Ok(Credential {
            current: RwLock::new(Arc::new(AccessToken::parse(token, SystemTime::now())?)),
            refresher,
            proactive,
            single_flight: Mutex::new(RefreshState::default()),
            refreshes: AtomicU64::new(0),
            async_gate: tokio::sync::Mutex::new(()),
        })
    }

    /// Fails when this thread is inside this credential's own refresher: a
    /// call from there would wait for the refresh it is part of.
    pub(crate) fn check_not_refreshing(&self) -> Result<()> {
        let me = std::ptr::from_ref(self) as usize;
        if REFRESHING.try_with(std::cell::Cell::get).unwrap_or(0) == me {
            return Err(Error::InvalidArgument(
                "a token refresher cannot make calls on the client it refreshes; return the \
                 token instead"
                    .into(),
            ));
        }
        Ok(())
    }

    /// Refreshes finished so far.
    pub(crate) fn refreshes(&self) -> u64 {
        self.refreshes.load(Ordering::Acquire)
    }

    /// Where asynchronous calls wait for a refresh.
    pub(crate) fn async_gate(&self) -> &tokio::sync::Mutex<()> {
        &self.async_gate
    }

    /// The token in use now.
    pub(crate) fn current(&self) -> Arc<AccessToken> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Replaces the token atomically.
    pub(crate) fn set(&self, token: &str) -> Result<()> {
        let parsed = Arc::new(AccessToken::parse(token, SystemTime::now())?);
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = parsed;
        Ok(())
    }

    /// The token to send now, refreshing first when a window says so.
    pub(crate) fn token_for_call(&self, call: &mut CallRefreshState) -> Result<Arc<AccessToken>> {
        if let Some(token) = self.token_without_refresh(call) {
            return Ok(token);
        }
        let before = self.refreshes();
        self.refresh_for_call(call, before)
    }

    /// The token to send now when no refresh is due; `None` when one is.
    pub(crate) fn token_without_refresh(
        &self,
        call: &CallRefreshState,
    ) -> Option<Arc<AccessToken>> {
        let observed = self.current();
        let due = self.refresher.is_some()
            && !call.refreshed
            && refresh_need(&observed, SystemTime::now(), self.proactive, None)
                != RefreshNeed::None;
        (!due).then_some(observed)
    }

    /// The slow path of `token_for_call`: waits for the refresh lock and
    /// refreshes unless another call did meanwhile. `before` is the refresh
    /// count read before waiting.
    pub(crate) fn refresh_for_call(
        &self,
        call: &mut CallRefreshState,
        before: u64,
    ) -> Result<Arc<AccessToken>> {
        let observed = self.current();
        let Some(refresher) = &self.refresher else {
            return Ok(observed);
        };
        let now = SystemTime::now();
        let mut state = self.single_flight.lock().unwrap_or_else(|e| e.into_inner());
        let latest = self.current();
        if !Arc::ptr_eq(&latest, &observed) && !latest.is_expired(now) {
            // Another thread refreshed while this one waited: reuse its token.
            return Ok(latest);
        }
        let since = state.last_refresh.map(|t| t.elapsed());
        let need = refresh_need(&latest, now, self.proactive, since);
        if need == RefreshNeed::None {
            return Ok(latest);
        }
        call.refreshed = true;
        let outcome = match shared_failure(&state, before, self.refreshes.load(Ordering::Acquire)) {
            Some(e) => Err(e),
            None => self.run_refresher(refresher.as_ref(), &mut state),
        };
        match outcome {
            Ok(token) => Ok(token),
            Err(e) if need == RefreshNeed::Proactive => {
                log_at!(
                    LogLevel::Warn,
                    "proactive token refresh failed, the current token stays in use: {e}"
                );
                Ok(latest)
            }
            Err(e) => Err(e),
        }
    }

    /// The token that replaced `rejected`, if another call installed a valid one.
    pub(crate) fn replacement_for(&self, rejected: &Arc<AccessToken>) -> Option<Arc<AccessToken>> {
        let latest = self.current();
        (!Arc::ptr_eq(&latest, rejected) && !latest.is_expired(SystemTime::now())).then_some(latest)
    }

    /// Whether a 401 may be answered by refreshing and retrying once.
    pub(crate) fn can_refresh_after_unauthorized(&self, call: &CallRefreshState) -> bool {
        self.refresher.is_some() && !call.refreshed_after_unauthorized
    }

    /// Refreshes after the service rejected `rejected` with a 401, unless
    /// another thread already replaced it.
    pub(crate) fn refresh_after_unauthorized(
        &self,
        rejected: &Arc<AccessToken>,
        call: &mut CallRefreshState,
    ) -> Result<Arc<AccessToken>> {
        let Some(refresher) = &self.refresher else {
            return Ok(rejected.clone());
        };
        call.refreshed_after_unauthorized = true;
        call.refreshed = true;
        let before = self.refreshes.load(Ordering::Acquire);
        let mut state = self.single_flight.lock().unwrap_or_else(|e| e.into_inner());
        let latest = self.current();
        if !Arc::ptr_eq(&latest, rejected) && !latest.is_expired(SystemTime::now()) {
            return Ok(latest);
        }
        if let Some(e) = shared_failure(&state, before, self.refreshes.load(Ordering::Acquire)) {
            return Err(e);
        }
        self.run_refresher(refresher.as_ref(), &mut state)
    }

    /// Runs the refresher, records its outcome for threads that waited on
    /// it, and installs the new token.
    fn run_refresher(
        &self,
        refresher: &dyn TokenRefresher,
        state: &mut RefreshState,
    ) -> Result<Arc<AccessToken>> {
        state.last_refresh = Some(Instant::now());
        let outcome = self.refresh_once(refresher);
        state.last_failure = outcome.as_ref().err().map(ToString::to_string);
        self.refreshes.fetch_add(1, Ordering::Release);
        outcome
    }

    fn refresh_once(&self, refresher: &dyn TokenRefresher) -> Result<Arc<AccessToken>> {
        log_at!(LogLevel::Info, "refreshing the access token");
        struct Refreshing(usize);
        impl Drop for Refreshing {
            fn drop(&mut self) {
                let _ = REFRESHING.try_with(|c| c.set(self.0));
            }
        }
        let me = std::ptr::from_ref(self) as usize;
        let _refreshing = Refreshing(REFRESHING.try_with(|c| c.replace(me)).unwrap_or(0));
        // The library's copy of the refresher's token: wiped once parsed.
        let token = Zeroizing::new(
            refresher
                .refresh()
                .map_err(|e| Error::Token(format!("the token refresher failed: {e}")))?,
        );
        let now = SystemTime::now();
        let parsed = AccessToken::parse(&token, now).map_err(|e| match e {
            Error::Token(m) => Error::Token(format!(
                "the token refresher returned an invalid token: {}",
                m.trim_start_matches("the token is not a JWT: ")
            )),
            other => other,
        })?;
        if parsed.is_expired(now) {
            return Err(Error::Token(
                "the token refresher returned an expired token".into(),
            ));
        }
        let parsed = Arc::new(parsed);
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = parsed.clone();
        Ok(parsed)
    }
}

/// The failure of a refresh that finished while this thread waited for the
/// lock (`before` and `after` are the refresh counts around the wait).
fn shared_failure(state: &RefreshState, before: u64, after: u64) -> Option<Error> {
    if after == before {
        return None;
    }
    state.last_failure.clone().map(Error::Token)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// An unsigned JWT expiring at `exp` (epoch seconds).
    pub(crate) fn jwt(exp: f64) -> String {
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        format!(
            "{}.{}.",
            b64.encode(br#"{"alg":"none","typ":"JWT"}"#),
            b64.encode(format!(r#"{{"sub":"u1","exp":{exp}}}"#))
        )
    }

    fn epoch(d: SystemTime) -> f64 {
        d.duration_since(UNIX_EPOCH).unwrap().as_secs_f64()
    }

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

    #[test]
    fn windows() {
        let now = SystemTime::now();
        let at = |secs: f64| AccessToken::parse(&jwt(epoch(now) + secs), now).unwrap();
        // Plenty of life: nothing to do either way.
        assert_eq!(
            refresh_need(&at(3600.0), now, true, None),
            RefreshNeed::None
        );
        // Under two minutes: on demand.
        assert_eq!(
            refresh_need(&at(60.0), now, false, None),
            RefreshNeed::OnDemand
        );
        assert_eq!(
            refresh_need(&at(-5.0), now, false, None),
            RefreshNeed::OnDemand
        );
        // Twenty minutes left: proactive from ten minutes before expiry.
        let t = at(20.0 * 60.0);
        assert_eq!(refresh_need(&t, now, true, None), RefreshNeed::None);
        let later = now + Duration::from_secs(11 * 60);
        assert_eq!(refresh_need(&t, later, true, None), RefreshNeed::Proactive);
        assert_eq!(refresh_need(&t, later, false, None), RefreshNeed::None);
        // Installed with six minutes left: proactive at half the remaining life.
        let t = at(6.0 * 60.0);
        assert_eq!(refresh_need(&t, now, true, None), RefreshNeed::None);
        let half = now + Duration::from_secs(3 * 60 + 1);
        assert_eq!(refresh_need(&t, half, true, None), RefreshNeed::Proactive);
    }

    #[test]
    fn recent_refresh_suppresses_unless_expired() {
        let now = SystemTime::now();
        let nearly = AccessToken::parse(&jwt(epoch(now) + 30.0), now).unwrap();
        let recent = Some(Duration::from_secs(1));
        assert_eq!(refresh_need(&nearly, now, true, recent), RefreshNeed::None);
        let old = Some(MIN_REFRESH_INTERVAL + Duration::from_secs(1));
        assert_eq!(refresh_need(&nearly, now, true, old), RefreshNeed::OnDemand);
        let expired = AccessToken::parse(&jwt(epoch(now) - 1.0), now).unwrap();
        assert_eq!(
            refresh_need(&expired, now, true, recent),
            RefreshNeed::OnDemand
        );
    }

    #[test]
    fn proactive_refresh_failure_keeps_the_token() {
        use std::sync::atomic::{AtomicU32, Ordering};
        let now = SystemTime::now();
        let calls = Arc::new(AtomicU32::new(0));
        let c = calls.clone();
        let failing: Arc<dyn TokenRefresher> =
            Arc::new(move || -> std::result::Result<String, RefreshError> {
                c.fetch_add(1, Ordering::SeqCst);
                Err("offline".into())
            });
        // Five minutes left, installed fifteen minutes ago: due proactively.
        let token = jwt(epoch(now) + 300.0);
        let installed = now - Duration::from_secs(15 * 60);
        let cred = Credential {
            current: RwLock::new(Arc::new(AccessToken::parse(&token, installed).unwrap())),
            refresher: Some(failing),
            proactive: true,
            single_flight: Mutex::new(RefreshState::default()),
            refreshes: AtomicU64::new(0),
            async_gate: tokio::sync::Mutex::new(()),
        };
        let used = cred
            .token_for_call(&mut CallRefreshState::default())
            .unwrap();
        assert_eq!(used.header().to_str().unwrap(), format!("Bearer {token}"));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        // Not retried on every call.
        cred.token_for_call(&mut CallRefreshState::default())
            .unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn refresher_single_call_and_expired_result() {
        use std::sync::atomic::{AtomicU32, Ordering};
        let now = epoch(SystemTime::now());
        let calls = Arc::new(AtomicU32::new(0));
        let c = calls.clone();
        let refresher: Arc<dyn TokenRefresher> =
            Arc::new(move || -> std::result::Result<String, RefreshError> {
                c.fetch_add(1, Ordering::SeqCst);
                Ok(jwt(now + 60.0))
            });
        let cred = Credential::new(&jwt(now + 30.0), Some(refresher), false).unwrap();
        for _ in 0..10 {
            let mut call = CallRefreshState::default();
            cred.token_for_call(&mut call).unwrap();
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);

        let expired: Arc<dyn TokenRefresher> =
            Arc::new(move || -> std::result::Result<String, RefreshError> { Ok(jwt(now - 10.0)) });
        let cred = Credential::new(&jwt(now + 30.0), Some(expired), false).unwrap();
        let err = cred
            .token_for_call(&mut CallRefreshState::default())
            .unwrap_err();
        assert!(
            matches!(err, Error::Token(ref m) if m.contains("expired")),
            "{err}"
        );

        let failing: Arc<dyn TokenRefresher> =
            Arc::new(|| -> std::result::Result<String, RefreshError> { Err("offline".into()) });
        let cred = Credential::new(&jwt(now + 30.0), Some(failing), false).unwrap();
        let err = cred
            .token_for_call(&mut CallRefreshState::default())
            .unwrap_err();
        assert_eq!(err.to_string(), "the token refresher failed: offline");
    }
}
