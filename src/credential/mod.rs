//! How a call proves who it is: the access token of a client and its
//! optional refresher, or, for the identity service, the resource's access
//! key (`access_key.rs`).
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

mod access_key;
mod asynchronous;
mod refresh;
mod token;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::{Instant, SystemTime};

use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::log::{log_at, LogLevel};

pub(crate) use access_key::AccessKey;
pub(crate) use refresh::CallRefreshState;
use refresh::{refresh_need, RefreshNeed};
pub use refresh::{
    RefreshError, TokenRefresher, MIN_REFRESH_INTERVAL, ON_DEMAND_WINDOW, PROACTIVE_WINDOW,
};
pub use token::jwt_expiry;
pub(crate) use token::AccessToken;

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
        let (mut state, latest) = match self.lock_unless_replaced(&observed) {
            Ok(locked) => locked,
            // Another thread refreshed while this one waited: reuse its token.
            Err(replacement) => return Ok(replacement),
        };
        let now = SystemTime::now();
        let since = state.last_refresh.map(|t| t.elapsed());
        let need = refresh_need(&latest, now, self.proactive, since);
        if need == RefreshNeed::None {
            return Ok(latest);
        }
        call.refreshed = true;
        match self.refresh_locked(refresher.as_ref(), &mut state, before) {
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
        let before = self.refreshes();
        match self.lock_unless_replaced(rejected) {
            Ok((mut state, _)) => self.refresh_locked(refresher.as_ref(), &mut state, before),
            Err(replacement) => Ok(replacement),
        }
    }

    /// Waits for the refresh lock. `Err` holds the token another thread
    /// installed in place of `observed` meanwhile, when it is still valid;
    /// otherwise the lock and the token in use now.
    fn lock_unless_replaced(
        &self,
        observed: &Arc<AccessToken>,
    ) -> std::result::Result<(MutexGuard<'_, RefreshState>, Arc<AccessToken>), Arc<AccessToken>>
    {
        let state = self.single_flight.lock().unwrap_or_else(|e| e.into_inner());
        let latest = self.current();
        if !Arc::ptr_eq(&latest, observed) && !latest.is_expired(SystemTime::now()) {
            return Err(latest);
        }
        Ok((state, latest))
    }

    /// Runs the refresher with the lock held, unless a refresh finished while
    /// this thread waited for the lock (`before` is the count read before
    /// waiting) and failed: that failure is shared rather than retried.
    fn refresh_locked(
        &self,
        refresher: &dyn TokenRefresher,
        state: &mut RefreshState,
        before: u64,
    ) -> Result<Arc<AccessToken>> {
        if let Some(e) = shared_failure(state, before, self.refreshes()) {
            return Err(e);
        }
        self.run_refresher(refresher, state)
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
    use base64::Engine;
    use std::time::{Duration, UNIX_EPOCH};

    /// An unsigned JWT expiring at `exp` (epoch seconds).
    pub(crate) fn jwt(exp: f64) -> String {
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        format!(
            "{}.{}.",
            b64.encode(br#"{"alg":"none","typ":"JWT"}"#),
            b64.encode(format!(r#"{{"sub":"u1","exp":{exp}}}"#))
        )
    }

    pub(crate) fn epoch(d: SystemTime) -> f64 {
        d.duration_since(UNIX_EPOCH).unwrap().as_secs_f64()
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
