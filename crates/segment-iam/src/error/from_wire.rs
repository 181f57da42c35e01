//! Wire failures mapped into [`Error`]: what the retry layer reported about a facade call
//! ([`Report`], its classified [`Failure`]) and what the generated client made of the answer
//! (`progenitor_client::Error`). The one place a status becomes a variant.

use progenitor_client::Error as ApiError;
use segment_iam_api::types::RequestErrorEnvelope;

use super::{Error, Outcome, ServiceError};
use crate::transport::retry::{Failure, Report};

/// The error for a facade call that failed, from the retry layer's `report` of it and what
/// the generated client made of the answer: the layer's classification when it gave up on a
/// failed attempt, else what the generated client could not decode.
pub(crate) fn call_error(report: Report, error: ApiError<RequestErrorEnvelope>) -> Error {
    let attempts = report.attempts;
    let waited = report.elapsed;
    if let Some(failure) = report.failure {
        return failure_error(failure, attempts, waited, error);
    }
    match error {
        ApiError::InvalidRequest(reason) => Error::invalid("request", reason),
        ApiError::InvalidResponsePayload(body, e) => Error::Decode {
            status: report.status,
            message: format!(
                "the {}-byte body is not the documented type: {e}",
                body.len()
            ),
            attempts,
            waited,
            outcome: decode_outcome(report.status),
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
