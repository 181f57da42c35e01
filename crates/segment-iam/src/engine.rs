//! The retry engine: runs one operation of the generated client until it succeeds, fails for
//! good, or the [`RetryConfig`] budget is spent, and maps the last failure to [`Error`].
//!
//! It works on decoded results (the 429 envelope's `msBeforeNext`, the status of a 5xx) and on
//! what the transport observed of the last exchange (status, whether a connection was made),
//! which it reads from a task-local so that concurrent calls never mix.

use std::future::Future;
use std::time::{Duration, Instant, SystemTime};

use progenitor_client::{Error as ApiError, ResponseValue};
use rand::Rng;
use reqwest::header::HeaderMap;
use segment_iam_api::OperationMeta;
use segment_iam_api::types::RequestErrorEnvelope;

use crate::config::RetryConfig;
use crate::error::{Error, Outcome, Result, ServiceError};
use crate::transport::{BodyTooLarge, CALL, CallContext, LastExchange, Shared, bucket_of};

/// A uniformly random duration in `[0, max]`.
pub(crate) fn jitter(max: Duration) -> Duration {
    if max.is_zero() {
        return Duration::ZERO;
    }
    let micros = u64::try_from(max.as_micros()).unwrap_or(u64::MAX);
    Duration::from_micros(rand::rng().random_range(0..=micros))
}

/// One failed attempt, reduced to what the policy needs.
#[derive(Debug)]
enum Failure {
    /// The service answered with an error status.
    Status {
        status: u16,
        errors: Vec<segment_iam_api::types::RequestError>,
        headers: HeaderMap,
    },
    /// No connection was made: the request never left.
    Connect(String),
    /// The request may have reached the service (timeout, reset, cut body).
    Sent(String),
    /// An answer arrived but its body was not the documented type.
    BadBody {
        status: Option<u16>,
        message: String,
    },
    /// The body exceeded the configured limit.
    TooLarge(usize),
    /// The generated client refused the input before sending.
    Invalid(String),
}

impl Failure {
    fn from_api(error: ApiError<RequestErrorEnvelope>, exchange: LastExchange) -> Self {
        match error {
            ApiError::InvalidRequest(message) => Failure::Invalid(message),
            ApiError::CommunicationError(e) if e.is_connect() || !exchange.connected => {
                Failure::Connect(describe(e))
            }
            // The head arrived (an error status) and reading its body failed: keep the status.
            ApiError::CommunicationError(e) if exchange.status.is_some() => {
                Failure::body(exchange.status, describe(e))
            }
            ApiError::CommunicationError(e) | ApiError::InvalidUpgrade(e) => {
                Failure::Sent(describe(e))
            }
            ApiError::ErrorResponse(value) => {
                let status = value.status().as_u16();
                let headers = value.headers().clone();
                Failure::Status {
                    status,
                    errors: value.into_inner().errors,
                    headers,
                }
            }
            ApiError::ResponseBodyError(e) => {
                if let Some(limit) = too_large(&e) {
                    Failure::TooLarge(limit)
                } else {
                    Failure::body(exchange.status, describe(e))
                }
            }
            ApiError::InvalidResponsePayload(_, e) => Failure::body(exchange.status, e.to_string()),
            ApiError::UnexpectedResponse(response) => {
                let status = response.status().as_u16();
                if response.status().is_success() {
                    Failure::BadBody {
                        status: Some(status),
                        message: format!("undocumented success status {status}"),
                    }
                } else {
                    Failure::Status {
                        status,
                        errors: Vec::new(),
                        headers: response.headers().clone(),
                    }
                }
            }
            ApiError::Custom(message) => Failure::Sent(message),
        }
    }

    /// A body that could not be read; a 429 stays a 429 even with a broken body.
    fn body(status: Option<u16>, message: String) -> Self {
        match status {
            Some(429) => Failure::Status {
                status: 429,
                errors: Vec::new(),
                headers: HeaderMap::new(),
            },
            _ => Failure::BadBody { status, message },
        }
    }

    /// How long to wait before the next attempt, or `None` when retrying is not allowed.
    fn retry_wait(&self, idempotent: bool, backoff: Duration) -> Option<Duration> {
        match self {
            Failure::Status {
                status: 429,
                errors,
                headers,
            } => Some(advised_wait(errors, headers).unwrap_or(backoff)),
            Failure::Status { status, .. } if *status >= 500 && idempotent => Some(backoff),
            Failure::Connect(_) => Some(backoff),
            Failure::Sent(_) if idempotent => Some(backoff),
            Failure::BadBody { status, .. }
                if idempotent && status.is_none_or(|s| !(300..500).contains(&s)) =>
            {
                Some(backoff)
            }
            _ => None,
        }
    }

    /// The status of the answer, also when its body could not be read.
    fn status(&self) -> Option<u16> {
        match self {
            Failure::Status { status, .. } => Some(*status),
            Failure::BadBody { status, .. } => *status,
            _ => None,
        }
    }

    /// Whether the request may have been applied although it failed.
    fn may_have_applied(&self) -> bool {
        match self {
            Failure::Status { status, .. } => *status >= 500,
            Failure::Sent(_) => true,
            Failure::BadBody { status, .. } => status.is_none_or(|s| !(400..500).contains(&s)),
            Failure::Connect(_) | Failure::TooLarge(_) | Failure::Invalid(_) => false,
        }
    }

    fn is_rate_limited(&self) -> bool {
        matches!(self, Failure::Status { status: 429, .. })
    }

    fn into_error(self, attempts: u32, waited: Duration, advised: Option<Duration>) -> Error {
        match self {
            Failure::Status { status, errors, .. } => {
                let error = ServiceError { status, errors };
                match status {
                    401 | 403 => Error::Unauthorized(error),
                    404 => Error::NotFound(error),
                    409 => Error::Conflict(error),
                    422 | 400 => Error::Validation(error),
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
            Failure::Connect(message) => Error::Transport {
                message,
                attempts,
                waited,
                outcome: Outcome::NotApplied,
            },
            Failure::Sent(message) => Error::Transport {
                message,
                attempts,
                waited,
                outcome: Outcome::Ambiguous,
            },
            Failure::BadBody { status, message } => Error::Decode {
                status,
                message,
                attempts,
                waited,
                outcome: match status {
                    Some(s) if (400..500).contains(&s) => Outcome::NotApplied,
                    // A 2xx head with a cut, truncated or non-JSON body proves nothing: a proxy
                    // answers like that too (the emulator's before-apply faults do). A 5xx or
                    // unknown status with an unreadable body leaves it open as well.
                    _ => Outcome::Ambiguous,
                },
            },
            Failure::TooLarge(limit) => Error::ResponseTooLarge { limit },
            Failure::Invalid(reason) => Error::invalid("request", reason),
        }
    }
}

/// The wait the service advised: `msBeforeNext` in the envelope, else `X-RateLimit-Reset`,
/// else `Retry-After` (seconds or a date).
pub(crate) fn advised_wait(
    errors: &[segment_iam_api::types::RequestError],
    headers: &HeaderMap,
) -> Option<Duration> {
    let from_body = errors.iter().find_map(|e| {
        let ms = e.data.as_ref()?.get("msBeforeNext")?;
        ms.as_u64().or_else(|| {
            ms.as_f64()
                .filter(|f| f.is_finite() && *f >= 0.0)
                .map(|f| f.ceil() as u64)
        })
    });
    if let Some(ms) = from_body {
        return Some(Duration::from_millis(ms));
    }
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    let until_date = |value: &str| {
        let at = httpdate::parse_http_date(value).ok()?;
        Some(
            at.duration_since(SystemTime::now())
                .unwrap_or(Duration::ZERO),
        )
    };
    if let Some(wait) = header("x-ratelimit-reset").and_then(until_date) {
        return Some(wait);
    }
    let retry_after = header("retry-after")?;
    retry_after
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
        .or_else(|| until_date(retry_after))
}

fn describe(error: reqwest::Error) -> String {
    // reqwest's Display omits the cause ("error sending request"); add the chain, never the URL
    // query (which could carry emails) — only the kind of failure.
    let error = error.without_url();
    let mut message = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

fn too_large(error: &reqwest::Error) -> Option<usize> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(cause) = source {
        if let Some(e) = cause.downcast_ref::<BodyTooLarge>() {
            return Some(e.limit);
        }
        source = cause.source();
    }
    None
}

/// Capped exponential backoff for the `n`-th transient failure, with jitter in its upper half.
fn backoff(retry: &RetryConfig, n: u32) -> Duration {
    let exp = retry
        .initial_backoff
        .saturating_mul(2u32.saturating_pow(n.saturating_sub(1)))
        .min(retry.max_backoff);
    exp / 2 + jitter(exp / 2)
}

/// Runs `attempt` (one request of operation `operation_id`) under the retry policy.
///
/// For a deletion (a DELETE in the document), a 404 on a retry after an attempt that may have
/// been applied (a cut connection, a timeout, a 5xx, an unreadable answer) means the earlier
/// attempt did the deletion: the call succeeded and `Ok(None)` says so. For any other
/// operation, `Ok(None)` never happens.
pub(crate) async fn run<T, F, Fut>(
    shared: &Shared,
    retry: &RetryConfig,
    operation_id: &'static str,
    mut attempt: F,
) -> Result<Option<ResponseValue<T>>>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = std::result::Result<ResponseValue<T>, ApiError<RequestErrorEnvelope>>>,
{
    let meta = OperationMeta::find(operation_id);
    let idempotent = meta.is_some_and(OperationMeta::is_idempotent);
    let deletion = meta.is_some_and(OperationMeta::is_deletion);
    let bucket = bucket_of(meta);
    let started = Instant::now();
    let mut waited = Duration::ZERO;
    let mut attempts = 0u32;
    let mut transient_failures = 0u32;
    let mut maybe_applied_earlier = false;
    loop {
        attempts += 1;
        if attempts > 1 {
            shared.counters.retry();
        }
        let permit = if shared.pacing {
            let budget = retry.max_total_wait.saturating_sub(waited);
            let _waiting = shared.counters.waiting();
            match shared
                .limiter
                .acquire_within(bucket, retry.max_jitter, budget)
                .await
            {
                Ok((permit, paced)) => {
                    if !paced.is_zero() {
                        shared.counters.waited(paced);
                        waited += paced;
                    }
                    Some(permit)
                }
                Err(needed) => {
                    // The window is spent and opens too late for the budget: fail without
                    // spending a request to hear a 429.
                    return Err(Error::RateLimited {
                        advised_wait: Some(needed),
                        attempts: attempts - 1,
                        waited: started.elapsed(),
                        error: None,
                    });
                }
            }
        } else {
            None
        };
        let context = CallContext {
            exchange: Default::default(),
            paced: permit.is_some(),
        };
        let (result, exchange) = CALL
            .scope(context, async {
                let result = attempt().await;
                (result, CALL.with(|c| c.exchange.get()))
            })
            .await;
        drop(permit);
        let failure = match result {
            Ok(value) => return Ok(Some(value)),
            Err(error) => Failure::from_api(error, exchange),
        };
        if deletion && maybe_applied_earlier && failure.status() == Some(404) {
            tracing::info!(
                target: "segment_iam::retry",
                operation = operation_id,
                attempt = attempts,
                "404 on a retried deletion whose earlier attempt may have been applied: done"
            );
            return Ok(None);
        }
        maybe_applied_earlier |= failure.may_have_applied();
        if !failure.is_rate_limited() {
            transient_failures += 1;
        }
        let wait = failure.retry_wait(idempotent, backoff(retry, transient_failures));
        let Some(wait) = wait else {
            return Err(failure.into_error(attempts, started.elapsed(), None));
        };
        if failure.is_rate_limited() {
            shared.counters.rate_limited();
            // Everyone sharing this client waits too: the window is closed for all of us.
            shared
                .limiter
                .close_until(bucket_of(meta), Instant::now() + wait);
        }
        if attempts >= retry.max_attempts || waited + wait > retry.max_total_wait {
            return Err(failure.into_error(attempts, started.elapsed(), Some(wait)));
        }
        let wait = if failure.is_rate_limited() {
            wait + jitter(retry.max_jitter)
        } else {
            wait
        };
        tracing::info!(
            target: "segment_iam::retry",
            operation = operation_id,
            attempt = attempts,
            wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
            rate_limited = failure.is_rate_limited(),
            "retrying after a failed attempt"
        );
        {
            let _waiting = shared.counters.waiting();
            tokio::time::sleep(wait).await;
        }
        shared.counters.waited(wait);
        waited += wait;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use segment_iam_api::types::RequestError;

    fn rate_error(data: serde_json::Value) -> RequestError {
        RequestError {
            type_: "RequestError".into(),
            message: Some("Too many requests".into()),
            field: None,
            data: Some(data),
            status: None,
        }
    }

    #[test]
    fn advice_prefers_ms_before_next() {
        let mut headers = HeaderMap::new();
        headers.insert("retry-after", "30".parse().expect("header"));
        let errors = [rate_error(
            serde_json::json!({"msBeforeNext": 1234, "remainingPoints": 0}),
        )];
        assert_eq!(
            advised_wait(&errors, &headers),
            Some(Duration::from_millis(1234))
        );
        assert_eq!(advised_wait(&[], &headers), Some(Duration::from_secs(30)));
        assert_eq!(advised_wait(&[], &HeaderMap::new()), None);
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        let retry = RetryConfig::standard()
            .with_initial_backoff(Duration::from_millis(100))
            .with_max_backoff(Duration::from_millis(300));
        let b1 = backoff(&retry, 1);
        assert!(b1 >= Duration::from_millis(50) && b1 <= Duration::from_millis(100));
        let b5 = backoff(&retry, 5);
        assert!(b5 >= Duration::from_millis(150) && b5 <= Duration::from_millis(300));
    }

    #[test]
    fn post_is_not_retried_after_it_may_have_arrived() {
        let sent = Failure::Sent("timeout".into());
        assert!(sent.retry_wait(false, Duration::from_millis(1)).is_none());
        assert!(sent.retry_wait(true, Duration::from_millis(1)).is_some());
        let connect = Failure::Connect("refused".into());
        assert!(
            connect
                .retry_wait(false, Duration::from_millis(1))
                .is_some()
        );
        let server = Failure::Status {
            status: 503,
            errors: vec![],
            headers: HeaderMap::new(),
        };
        assert!(server.retry_wait(false, Duration::from_millis(1)).is_none());
        let limited = Failure::Status {
            status: 429,
            errors: vec![],
            headers: HeaderMap::new(),
        };
        assert!(
            limited
                .retry_wait(false, Duration::from_millis(1))
                .is_some()
        );
    }
}
