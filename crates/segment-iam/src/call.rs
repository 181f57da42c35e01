//! One facade call: a request of the generated client sent through the retry layer, and its
//! outcome turned into this crate's [`Error`].
//!
//! A [`Call`] owns a generated client whose transport writes the retry layer's report into a
//! slot of its own, so concurrent calls never mix and nothing travels in task-locals. The
//! request itself is a generated builder: its type names its operation
//! ([`OperationRequest::OPERATION`]), so no call names an operation by string.

use std::sync::{Arc, Mutex};

use progenitor_client::Error as ApiError;
use segment_iam_api::types::RequestErrorEnvelope;
use segment_iam_api::{Deletion, OperationRequest, Transport};

use crate::error::{Error, Outcome, Result, ServiceError};
use crate::retry::{Failure, Policy, Report, RetryingExec};

/// One request of the generated client, sent through the client's retry layer and answered
/// with this crate's typed [`Error`]: the way to any operation the handlers do not wrap. Get
/// one with [`Client::call`](crate::Client::call), build the request on [`Call::api`].
///
/// ```no_run
/// use segment_iam::api::{ClientIamGroupsExt, ClientIamUsersExt};
/// # async fn demo(client: segment_iam::Client) -> segment_iam::Result<()> {
/// let call = client.call();
/// let user = call.send(call.api().get_user().user_id("u1")).await?.data.user;
/// let call = client.call();
/// call.delete(call.api().delete_user_group().user_group_id("g1")).await?;
/// # let _ = user; Ok(()) }
/// ```
///
/// [`Call::delete`] takes deletions only: the operation is known from the request's type, so
/// a request of the wrong operation does not compile.
///
/// ```compile_fail,E0277
/// use segment_iam::api::{ClientIamGroupsExt, ClientIamUsersExt};
/// # async fn demo(client: segment_iam::Client) -> segment_iam::Result<()> {
/// let call = client.call();
/// // `get_user` is not a deletion: error[E0277], `GetUser<'_>: Deletion` is not satisfied.
/// call.delete(call.api().get_user().user_id("u1")).await?;
/// # Ok(()) }
/// ```
pub struct Call {
    api: segment_iam_api::Client,
    /// The generated client's transport, shared with it: its report slot is this call's.
    exec: Arc<RetryingExec>,
}

impl std::fmt::Debug for Call {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Call").finish_non_exhaustive()
    }
}

impl Call {
    pub(crate) fn new(base_url: &str, http: &reqwest::Client, policy: &Arc<Policy>) -> Self {
        let exec = Arc::new(RetryingExec {
            policy: policy.clone(),
            report: Some(Mutex::default()),
        });
        let transport = Transport::shared(exec.clone());
        Call {
            api: segment_iam_api::Client::new_with_client(base_url, http.clone(), transport),
            exec,
        }
    }

    /// The generated client to build this call's request with. Its answers are meant for
    /// [`send`](Self::send) and [`delete`](Self::delete), which read only their status and
    /// body: a request sent on it directly gets no headers back. For whole answers, use
    /// [`Client::api`](crate::Client::api).
    pub fn api(&self) -> &segment_iam_api::Client {
        &self.api
    }

    /// Sends `request` and answers its documented success body.
    pub async fn send<R: OperationRequest>(&self, request: R) -> Result<R::Response> {
        let result = request.send().await;
        let report = self.take_report();
        match result {
            Ok(value) => Ok(value.into_inner()),
            Err(error) => Err(report.into_error(error)),
        }
    }

    /// Sends a deletion. A retry that met a 404 after an attempt that may have been applied is
    /// success: that attempt did the deletion.
    pub async fn delete<R: Deletion>(&self, request: R) -> Result<()> {
        let result = request.send().await;
        let report = self.take_report();
        match result {
            Ok(_) => Ok(()),
            Err(_) if report.settled_by_earlier_attempt => Ok(()),
            Err(error) => Err(report.into_error(error)),
        }
    }

    /// The report of the request just sent; the slot is left empty for the next one.
    fn take_report(&self) -> Report {
        self.exec.take_report()
    }
}

impl Report {
    /// The error for a request that failed: the retry layer's classification when it gave up
    /// on a failed attempt, else what the generated client could not decode.
    fn into_error(self, error: ApiError<RequestErrorEnvelope>) -> Error {
        let attempts = self.attempts;
        let waited = self.elapsed;
        if let Some(failure) = self.failure {
            return failure_error(failure, attempts, waited, error);
        }
        match error {
            ApiError::InvalidRequest(reason) => Error::invalid("request", reason),
            ApiError::InvalidResponsePayload(body, e) => Error::Decode {
                status: self.status,
                message: format!(
                    "the {}-byte body is not the documented type: {e}",
                    body.len()
                ),
                attempts,
                waited,
                outcome: decode_outcome(self.status),
            },
            ApiError::UnexpectedResponse(response) => {
                let status = response.status().as_u16();
                if response.status().is_success() {
                    Error::Decode {
                        status: Some(status),
                        message: format!("undocumented success status {status}"),
                        attempts,
                        waited,
                        outcome: Outcome::Ambiguous,
                    }
                } else {
                    Error::Service(ServiceError::new(status, Vec::new()))
                }
            }
            ApiError::ErrorResponse(value) => status_error(
                value.status().as_u16(),
                value.into_inner().errors,
                attempts,
                waited,
                None,
            ),
            // The layer read the body already, so these only come from a success whose body the
            // decoder could not take: the outcome of a mutation is unknown.
            ApiError::CommunicationError(e)
            | ApiError::ResponseBodyError(e)
            | ApiError::InvalidUpgrade(e) => Error::Transport {
                message: e.to_string(),
                attempts,
                waited,
                outcome: Outcome::Ambiguous,
                source: Some(Box::new(e)),
            },
            ApiError::Custom(message) => Error::Transport {
                message,
                attempts,
                waited,
                outcome: Outcome::Ambiguous,
                source: None,
            },
        }
    }
}

/// A 4xx with an unreadable body was refused; anything else may have been applied.
fn decode_outcome(status: Option<u16>) -> Outcome {
    match status {
        Some(s) if (400..500).contains(&s) => Outcome::NotApplied,
        // A 2xx head with a cut, truncated or non-JSON body proves nothing: a proxy answers
        // like that too. A 5xx or unknown status with an unreadable body leaves it open as well.
        _ => Outcome::Ambiguous,
    }
}

/// The error for the failure the retry layer gave up on. `error` is what the generated client
/// made of the same answer; it supplies the transport error as `source()`.
fn failure_error(
    failure: Failure,
    attempts: u32,
    waited: std::time::Duration,
    error: ApiError<RequestErrorEnvelope>,
) -> Error {
    let source = match error {
        ApiError::CommunicationError(e) | ApiError::ResponseBodyError(e) => {
            Some(Box::new(e) as Box<dyn std::error::Error + Send + Sync>)
        }
        _ => None,
    };
    match failure {
        Failure::Status {
            status,
            errors,
            advised,
        } => status_error(status, errors, attempts, waited, advised),
        Failure::Connect(message) => Error::Transport {
            message,
            attempts,
            waited,
            outcome: Outcome::NotApplied,
            source,
        },
        Failure::Sent(message) => Error::Transport {
            message,
            attempts,
            waited,
            outcome: Outcome::Ambiguous,
            source,
        },
        Failure::BadBody { status, message } => Error::Decode {
            status: Some(status),
            message,
            attempts,
            waited,
            outcome: decode_outcome(Some(status)),
        },
        Failure::TooLarge { limit } => Error::ResponseTooLarge { limit },
        Failure::HeldBack { needed } => Error::RateLimited {
            advised_wait: Some(needed),
            attempts,
            waited,
            error: None,
        },
    }
}

/// The error for an answer with an error status: 401 and 403 → `Unauthorized`, 404 →
/// `NotFound`, 409 → `Conflict`, 400 and 422 → `Validation`, 429 → `RateLimited`, 5xx →
/// `Server`, any other → `Service`.
fn status_error(
    status: u16,
    errors: Vec<segment_iam_api::types::RequestError>,
    attempts: u32,
    waited: std::time::Duration,
    advised: Option<std::time::Duration>,
) -> Error {
    let error = ServiceError::new(status, errors);
    match status {
        401 | 403 => Error::Unauthorized(error),
        404 => Error::NotFound(error),
        409 => Error::Conflict(error),
        400 | 422 => Error::Validation(error),
        429 => Error::RateLimited {
            advised_wait: advised,
            attempts,
            waited,
            error: Some(error),
        },
        500..=599 => Error::Server {
            error,
            attempts,
            waited,
            outcome: Outcome::Ambiguous,
        },
        _ => Error::Service(error),
    }
}
