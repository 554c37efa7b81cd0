//! The refresh path of calls that must not block a thread: those on the I/O
//! runtime, and blocking calls under a deadline. They wait for a refresh
//! without holding a thread, and the refresher (user code, which may block)
//! runs on the runtime's blocking pool, one per client at a time.

use std::sync::Arc;

use super::{AccessToken, CallRefreshState, Credential};
use crate::error::{Error, Result};

impl Credential {
    /// The token for a call's next attempt. `inline` runs a due refresh on
    /// the calling thread ([`Credential::token_for_call`]); otherwise as
    /// described above.
    pub(crate) async fn token_for_attempt(
        self: &Arc<Self>,
        refresh: &mut CallRefreshState,
        inline: bool,
    ) -> Result<Arc<AccessToken>> {
        if inline {
            return self.token_for_call(refresh);
        }
        if let Some(token) = self.token_without_refresh(refresh) {
            return Ok(token);
        }
        let before = self.refreshes();
        self.off_runtime(
            refresh,
            // Calls that waited mostly find the token another one refreshed.
            |credential, refresh| credential.token_without_refresh(refresh),
            move |credential, refresh| credential.refresh_for_call(refresh, before),
        )
        .await
    }

    /// The token that replaces `rejected` after a 401 (see
    /// [`Credential::refresh_after_unauthorized`]); `inline` as for
    /// [`token_for_attempt`](Self::token_for_attempt).
    pub(crate) async fn replace_rejected(
        self: &Arc<Self>,
        rejected: &Arc<AccessToken>,
        refresh: &mut CallRefreshState,
        inline: bool,
    ) -> Result<Arc<AccessToken>> {
        if inline {
            return self.refresh_after_unauthorized(rejected, refresh);
        }
        let waited_for = rejected.clone();
        let rejected = rejected.clone();
        self.off_runtime(
            refresh,
            move |credential, refresh| {
                let token = credential.replacement_for(&waited_for)?;
                refresh.mark_refreshed_after_unauthorized();
                Some(token)
            },
            move |credential, refresh| credential.refresh_after_unauthorized(&rejected, refresh),
        )
        .await
    }

    /// Waits, holding no thread, for this client's asynchronous gate; then
    /// takes what `found` finds (what a refresh that finished meanwhile
    /// left), or runs the blocking `step` on the blocking pool.
    async fn off_runtime<F>(
        self: &Arc<Self>,
        refresh: &mut CallRefreshState,
        found: impl FnOnce(&Credential, &mut CallRefreshState) -> Option<Arc<AccessToken>>,
        step: F,
    ) -> Result<Arc<AccessToken>>
    where
        F: FnOnce(&Credential, &mut CallRefreshState) -> Result<Arc<AccessToken>> + Send + 'static,
    {
        let _gate = self.async_gate.lock().await;
        if let Some(token) = found(self, refresh) {
            return Ok(token);
        }
        let credential = self.clone();
        let mut state = std::mem::take(refresh);
        let (result, state) = tokio::task::spawn_blocking(move || {
            let result = step(&credential, &mut state);
            (result, state)
        })
        .await
        .map_err(|e| Error::Internal(format!("the token refresh task failed: {e}")))?;
        *refresh = state;
        result
    }
}
