//! When a token is refreshed: the windows before its expiry, the refresher
//! a user supplies, and what one call may refresh.

use std::time::{Duration, SystemTime};

use super::token::AccessToken;

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
    pub(super) refreshed: bool,
    pub(super) refreshed_after_unauthorized: bool,
}

impl CallRefreshState {
    /// Records that the call moved past a 401 on another call's new token.
    pub(crate) fn mark_refreshed_after_unauthorized(&mut self) {
        self.refreshed_after_unauthorized = true;
        self.refreshed = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credential::tests::{epoch, jwt};

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
}
