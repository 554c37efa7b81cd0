//! One call, checked and copied from its caller, and how it runs: blocking on
//! the calling thread, spawned on the I/O runtime, or as a future.

use std::sync::Arc;

use reqwest::Url;

use super::ChatClient;
use crate::error::{Error, FailureDetails, Result};
use crate::http::call::CallControl;
use crate::http::pipeline::{Auth, Call, Response};
use crate::http::runtime;
use crate::model::{self, Operation};

/// A validated call, ready to run: everything copied from the caller.
pub(crate) struct Request {
    pub(super) client: ChatClient,
    pub(super) operation: Operation,
    pub(super) url: Url,
    pub(super) body: bytes::Bytes,
}

/// What a successful call returns: the new message's id for send-message,
/// and the service's answer (status and request id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Sent {
    pub message_id: Option<String>,
    pub http_status: u16,
    /// `MS-CV`, else `x-ms-request-id`, else the `x-ms-client-request-id` sent.
    pub request_id: String,
}

impl Request {
    /// Runs the call: until it finishes, or, when `control` is cancelled,
    /// until then (`Cancelled`, with the delivery verdict of that moment).
    pub(crate) async fn run(self, control: Arc<CallControl>) -> Result<Sent> {
        let inner = &self.client.inner;
        let work = inner.pipeline.execute(Call {
            operation: self.operation,
            url: self.url.clone(),
            body: self.body.clone(),
            auth: Auth::Bearer(&inner.credential),
            control: &control,
        });
        let response = match control.or_cancelled(work).await {
            Some(result) => result?,
            None => return Err(cancelled(self.operation, &control)),
        };
        let http_status = response.status.as_u16();
        let request_id = response.request_id();
        let message_id = match self.operation {
            Operation::SendMessage => Some(message_id(response)?),
            _ => None,
        };
        Ok(Sent {
            message_id,
            http_status,
            request_id,
        })
    }

    /// Runs the call on the calling thread.
    pub(crate) fn run_blocking(self) -> Result<Sent> {
        let driver = runtime::blocking_driver();
        let control = Arc::new(CallControl::new_blocking(driver));
        runtime::block_on(driver, self.run(control))?
    }

    /// Starts the call on the I/O runtime; `done` receives its outcome there.
    pub(crate) fn spawn(
        self,
        control: Arc<CallControl>,
        done: impl FnOnce(Result<Sent>) + Send + 'static,
    ) -> Result<()> {
        runtime::spawn(async move { done(self.run(control).await) })?;
        Ok(())
    }

    /// The call as a future for any executor: it runs on the I/O runtime,
    /// and dropping the future cancels it.
    pub(super) fn into_future(
        self,
    ) -> impl std::future::Future<Output = Result<Sent>> + Send + 'static {
        let control = Arc::new(CallControl::new_async());
        let started = runtime::spawn(self.run(control.clone()));
        async move {
            struct CancelOnDrop(Arc<CallControl>);
            impl Drop for CancelOnDrop {
                fn drop(&mut self) {
                    self.0.cancel();
                }
            }
            // Cancelling a call that finished is a no-op.
            let _cancel_on_drop = CancelOnDrop(control);
            match started?.await {
                Ok(outcome) => outcome,
                Err(e) => Err(Error::Internal(format!("the call's task failed: {e}"))),
            }
        }
    }
}

/// The error of a cancelled call.
fn cancelled(operation: Operation, control: &CallControl) -> Error {
    let delivered = control.may_have_been_delivered();
    let message = match (delivered, operation) {
        (false, _) => "the call was cancelled before its request was sent".to_owned(),
        (true, Operation::SendMessage) => {
            "the call was cancelled after its request was sent; the message may have been created"
                .to_owned()
        }
        (true, _) => {
            "the call was cancelled after its request was sent; it may have been applied".to_owned()
        }
    };
    Error::Cancelled(Box::new(FailureDetails {
        message,
        request_id: control.client_request_id_str().to_owned(),
        may_have_been_delivered: delivered,
        ..FailureDetails::default()
    }))
}

/// The new message's id from a 2xx answer: its body, else `Location`.
fn message_id(response: Response) -> Result<String> {
    if let Some(id) = model::message_id_from_body(&response.body) {
        return Ok(id);
    }
    let location = response
        .headers
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .and_then(model::message_id_from_location);
    location.ok_or_else(|| {
        Error::Protocol(Box::new(FailureDetails {
            message: format!(
                "the service answered HTTP {} without a message id; the message may have been created",
                response.status.as_u16()
            ),
            http_status: response.status.as_u16(),
            service_code: String::new(),
            request_id: response.request_id(),
            retry_after: None,
            may_have_been_delivered: true,
        }))
    })
}
