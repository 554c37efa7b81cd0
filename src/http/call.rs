//! The state one call shares between the code running it and whoever may
//! cancel it: its request id, whether it was cancelled, and whether its
//! request may have reached the service.

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::Poll;

use reqwest::header::HeaderValue;
use tokio::sync::Notify;

use crate::http::runtime::Driver;

/// Shared state of one call.
pub(crate) struct CallControl {
    /// The `x-ms-client-request-id` of every attempt.
    client_request_id: HeaderValue,
    /// Whether the call runs on the I/O runtime (asynchronous) rather than
    /// on a caller's thread; decides where a token refresher may run.
    on_runtime: bool,
    /// Which runtime (and so which connection pool) carries the call.
    driver: Driver,
    cancelled: AtomicBool,
    cancel: Notify,
    /// A request was handed to the connection and no answer to it has come
    /// back (or an attempt that may have been applied was not answered).
    written: AtomicBool,
}

impl CallControl {
    /// An asynchronous call: a task on the I/O threads.
    pub(crate) fn new_async() -> CallControl {
        CallControl::new(true, Driver::IoThreads)
    }

    /// A blocking call, polled by its caller's thread.
    pub(crate) fn new_blocking(driver: Driver) -> CallControl {
        CallControl::new(false, driver)
    }

    fn new(on_runtime: bool, driver: Driver) -> CallControl {
        CallControl {
            client_request_id: new_client_request_id(),
            on_runtime,
            driver,
            cancelled: AtomicBool::new(false),
            cancel: Notify::new(),
            written: AtomicBool::new(false),
        }
    }

    pub(crate) fn client_request_id(&self) -> &HeaderValue {
        &self.client_request_id
    }

    /// The request id as text.
    pub(crate) fn client_request_id_str(&self) -> &str {
        self.client_request_id.to_str().unwrap_or_default()
    }

    pub(crate) fn on_runtime(&self) -> bool {
        self.on_runtime
    }

    pub(crate) fn driver(&self) -> Driver {
        self.driver
    }

    /// Asks the call to stop; idempotent, any thread.
    pub(crate) fn cancel(&self) {
        if !self.cancelled.swap(true, Ordering::AcqRel) {
            // notify_one keeps a permit when nobody waits yet.
            self.cancel.notify_one();
        }
    }

    pub(crate) fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Acquire)
    }

    /// Called when the HTTP stack takes the request body to send.
    pub(crate) fn mark_written(&self) {
        self.written.store(true, Ordering::Release);
    }

    /// Called when the service answered with an error status: that attempt
    /// was not applied.
    pub(crate) fn mark_answered(&self) {
        self.written.store(false, Ordering::Release);
    }

    /// Whether the request may have reached the service and been applied.
    pub(crate) fn may_have_been_delivered(&self) -> bool {
        self.written.load(Ordering::Acquire)
    }

    /// Runs `work` until it finishes or the call is cancelled (`None`).
    pub(crate) async fn or_cancelled<F: Future>(&self, work: F) -> Option<F::Output> {
        let mut work = pin!(work);
        let mut cancelled = pin!(self.cancel.notified());
        std::future::poll_fn(|cx| {
            if cancelled.as_mut().poll(cx).is_ready() || self.is_cancelled() {
                return Poll::Ready(None);
            }
            work.as_mut().poll(cx).map(Some)
        })
        .await
    }
}

/// A fresh random (version 4) UUID for `x-ms-client-request-id`. It only
/// correlates logs, so the thread-local generator of `fastrand` is enough and
/// saves a system call per call.
fn new_client_request_id() -> HeaderValue {
    let uuid = uuid::Builder::from_random_bytes(fastrand::u128(..).to_le_bytes()).into_uuid();
    let mut text = [0u8; uuid::fmt::Hyphenated::LENGTH];
    let text = uuid.hyphenated().encode_lower(&mut text);
    HeaderValue::from_str(text).expect("a UUID is a valid header value")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cancel_before_and_during_work() {
        let control = CallControl::new_async();
        control.cancel();
        control.cancel();
        let out = crate::http::runtime::block_on(
            Driver::Caller,
            control.or_cancelled(std::future::pending::<()>()),
        );
        assert_eq!(out.unwrap(), None);

        let control = std::sync::Arc::new(CallControl::new_async());
        let other = control.clone();
        let out = crate::http::runtime::block_on(Driver::Caller, async move {
            let waiter = control.or_cancelled(std::future::pending::<()>());
            let canceller = async {
                tokio::time::sleep(std::time::Duration::from_millis(2)).await;
                other.cancel();
            };
            tokio::join!(waiter, canceller).0
        });
        assert_eq!(out.unwrap(), None);

        let control = CallControl::new_blocking(Driver::Caller);
        let out = crate::http::runtime::block_on(Driver::Caller, control.or_cancelled(async { 5 }));
        assert_eq!(out.unwrap(), Some(5));
    }

    #[test]
    fn written_flag_follows_answers() {
        let control = CallControl::new_blocking(Driver::Caller);
        assert!(!control.may_have_been_delivered());
        control.mark_written();
        assert!(control.may_have_been_delivered());
        control.mark_answered();
        assert!(!control.may_have_been_delivered());
        assert_eq!(control.client_request_id_str().len(), 36);
    }
}
