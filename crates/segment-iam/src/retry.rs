//! Retry: the one place where an attempt is classified and retried.
//!
//! The policy lives in the transport — the generated client's [`Exec`] hook — as octocrab's
//! tower retry does, so every request is treated alike: facade calls and `Client::api()` calls
//! are paced ([`crate::pacing`]), wait out 429s and are retried by the same [`RetryConfig`].
//!
//! For each attempt the layer takes a pacing permit, sends a copy of the request, and reads the
//! answer's body whole, capped at `max_response_bytes` (the service's bodies are small JSON
//! documents the generated client reads whole anyway). With status, headers and body in hand it
//! classifies the attempt ([`Failure`]) and decides:
//!
//! * 429: wait what the service advises (`msBeforeNext`, else `X-RateLimit-Reset`, else
//!   `Retry-After`), for any method — a 429 was not applied — and close the bucket for every
//!   task sharing the client.
//! * 5xx, timeouts, cut connections, cut or non-JSON 2xx bodies: retried with capped jittered
//!   backoff, for idempotent operations only. A POST is retried only when the connection was
//!   never made.
//! * A deletion whose retry meets a 404 after an attempt that may have been applied: that
//!   earlier attempt did it; a facade call reports success.
//!
//! The last answer goes back to the generated client unchanged (body re-attached), so it
//! decodes as usual. A facade call also hands the layer a [`ReportSlot`] and learns from it
//! what the wire said beyond the decoded value: attempts, time, and the classified failure.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use reqwest::header::HeaderMap;
use segment_iam_api::types::{RequestError, RequestErrorEnvelope};
use segment_iam_api::{Exec, ExecFuture, Operation};

use crate::config::RetryConfig;
use crate::metrics::Counters;
use crate::pacing::{Bucket, Limiter, jitter};

/// What every clone of a client shares: the policy's settings and its state.
#[derive(Debug)]
pub(crate) struct Policy {
    pub(crate) retry: RetryConfig,
    pub(crate) limiter: Limiter,
    pub(crate) counters: Counters,
    /// Whether to hold requests while the rate-limit headers say the window is spent.
    pub(crate) pacing: bool,
    pub(crate) max_response_bytes: usize,
}

/// One failed attempt, reduced to what the policy and the caller need.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Failure {
    /// The service answered with an error status (its envelope, when the body was one).
    Status {
        status: u16,
        errors: Vec<RequestError>,
        /// The wait the service advised (429s).
        advised: Option<Duration>,
    },
    /// No connection was made: the request never left.
    Connect(String),
    /// The request may have reached the service (timeout, reset).
    Sent(String),
    /// An answer arrived but its body was cut or is not JSON.
    BadBody { status: u16, message: String },
    /// The body exceeded the configured limit.
    TooLarge { limit: usize },
    /// Pacing knew the window opens later than the retry budget allows; nothing was sent.
    HeldBack { needed: Duration },
}

impl Failure {
    /// How long to wait before the next attempt, or `None` when retrying is not allowed.
    fn retry_wait(&self, idempotent: bool, backoff: Duration) -> Option<Duration> {
        match self {
            Failure::Status {
                status: 429,
                advised,
                ..
            } => Some(advised.unwrap_or(backoff)),
            Failure::Status { status, .. } if *status >= 500 && idempotent => Some(backoff),
            Failure::Connect(_) => Some(backoff),
            Failure::Sent(_) if idempotent => Some(backoff),
            Failure::BadBody { status, .. } if idempotent && !(400..500).contains(status) => {
                Some(backoff)
            }
            _ => None,
        }
    }

    /// The status of the answer, also when its body could not be read.
    pub(crate) fn status(&self) -> Option<u16> {
        match self {
            Failure::Status { status, .. } | Failure::BadBody { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Whether the request may have been applied although it failed.
    pub(crate) fn may_have_applied(&self) -> bool {
        match self {
            Failure::Status { status, .. } => *status >= 500,
            Failure::Sent(_) => true,
            Failure::BadBody { status, .. } => !(400..500).contains(status),
            Failure::Connect(_) | Failure::TooLarge { .. } | Failure::HeldBack { .. } => false,
        }
    }

    fn is_rate_limited(&self) -> bool {
        matches!(self, Failure::Status { status: 429, .. })
    }
}

/// What the layer tells a facade call about its request, beyond the decoded answer.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct Report {
    /// Requests sent.
    pub(crate) attempts: u32,
    /// From the first pacing wait to the final answer.
    pub(crate) elapsed: Duration,
    /// The status of the last answer, if one arrived.
    pub(crate) status: Option<u16>,
    /// Why the call failed, when the layer gave up on a failed attempt.
    pub(crate) failure: Option<Failure>,
    /// A deletion's retry met a 404 after an attempt that may have been applied.
    pub(crate) settled_by_earlier_attempt: bool,
}

/// Where the layer leaves the [`Report`] of the one request a facade call sends.
pub(crate) type ReportSlot = Arc<Mutex<Report>>;

/// The generated client's [`Exec`]: every request goes through [`Policy::run`].
pub(crate) struct RetryingExec {
    pub(crate) policy: Arc<Policy>,
    /// Present for facade calls: the report goes there, and pacing gives up when the window
    /// opens later than the retry budget (the caller gets `Error::RateLimited` at once).
    pub(crate) report: Option<ReportSlot>,
}

impl Exec for RetryingExec {
    fn exec<'a>(
        &'a self,
        client: &'a reqwest::Client,
        request: reqwest::Request,
        operation: Option<Operation>,
    ) -> ExecFuture<'a> {
        Box::pin(async move {
            let bounded = self.report.is_some();
            let (result, report) = self.policy.run(client, request, operation, bounded).await;
            if let Some(slot) = &self.report {
                *slot.lock().unwrap_or_else(PoisonError::into_inner) = report;
            }
            result
        })
    }
}

/// One attempt's answer with its body read, or why there is none.
enum Answer {
    Read {
        parts: http::response::Parts,
        body: Bytes,
    },
    BodyFailed {
        parts: http::response::Parts,
        error: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl Policy {
    /// Sends `request` until it succeeds, fails for good, or the budget is spent. `bounded`:
    /// give up at once, with a `HeldBack` failure, when pacing would wait past the budget.
    async fn run(
        &self,
        client: &reqwest::Client,
        request: reqwest::Request,
        operation: Option<Operation>,
        bounded: bool,
    ) -> (reqwest::Result<reqwest::Response>, Report) {
        // An id missing from the table cannot happen (both come from one document); were it
        // to, the safe reading is a non-idempotent mutation: no retries after sending.
        let meta = operation.map(Operation::meta);
        let idempotent = meta.is_some_and(|m| m.idempotent);
        let deletion = meta.is_some_and(|m| m.deletion);
        let bucket = meta.map_or(Bucket::Mutations, |m| m.bucket);
        let name = meta.map_or("?", |m| m.operation_id);
        let retry = &self.retry;
        let started = Instant::now();
        let mut report = Report::default();
        let mut waited = Duration::ZERO;
        let mut transient_failures = 0u32;
        let mut maybe_applied_earlier = false;
        let mut next = Some(request);
        loop {
            let Some(request) = next.take() else {
                // Unreachable: the loop only continues with a copy in hand.
                return (Ok(held_back(Duration::ZERO)), report);
            };
            let permit = if self.pacing {
                let budget = if bounded {
                    retry.max_total_wait.saturating_sub(waited)
                } else {
                    Duration::MAX
                };
                let _waiting = self.counters.waiting();
                match self
                    .limiter
                    .acquire_within(bucket, retry.max_jitter, budget)
                    .await
                {
                    Ok((permit, paced)) => {
                        if !paced.is_zero() {
                            self.counters.waited(paced);
                            waited += paced;
                        }
                        Some(permit)
                    }
                    Err(needed) => {
                        report.elapsed = started.elapsed();
                        report.failure = Some(Failure::HeldBack { needed });
                        return (Ok(held_back(needed)), report);
                    }
                }
            } else {
                None
            };
            // A copy for a later attempt; the service's bodies are bytes, so there always is.
            next = request.try_clone();
            report.attempts += 1;
            if report.attempts > 1 {
                self.counters.retry();
            }
            self.counters.request();
            tracing::debug!(
                target: "segment_iam::request",
                operation = name,
                method = %request.method(),
                path = request.url().path(),
                "sending"
            );
            let sent = client.execute(request).await;
            let (failure, answer, error) = match sent {
                Err(error) => {
                    let failure = if error.is_connect() {
                        Failure::Connect(describe(&error))
                    } else {
                        Failure::Sent(describe(&error))
                    };
                    (Some(failure), None, Some(error))
                }
                Ok(response) => {
                    let status = response.status();
                    report.status = Some(status.as_u16());
                    tracing::debug!(
                        target: "segment_iam::request",
                        operation = name,
                        status = status.as_u16(),
                        "answered"
                    );
                    if self.pacing {
                        self.limiter
                            .observe(bucket, status.is_success(), response.headers());
                    }
                    let answer = read(response, self.max_response_bytes).await;
                    (
                        classify(&answer, operation, idempotent, self.max_response_bytes),
                        Some(answer),
                        None,
                    )
                }
            };
            drop(permit);
            let Some(failure) = failure else {
                report.elapsed = started.elapsed();
                return (Ok(reattach(answer)), report);
            };
            if deletion && maybe_applied_earlier && failure.status() == Some(404) {
                tracing::info!(
                    target: "segment_iam::retry",
                    operation = name,
                    attempt = report.attempts,
                    "404 on a retried deletion whose earlier attempt may have been applied: done"
                );
                report.elapsed = started.elapsed();
                report.settled_by_earlier_attempt = true;
                return (give_back(answer, error), report);
            }
            maybe_applied_earlier |= failure.may_have_applied();
            if !failure.is_rate_limited() {
                transient_failures += 1;
            }
            let wait = failure.retry_wait(idempotent, backoff(retry, transient_failures));
            if failure.is_rate_limited() {
                self.counters.rate_limited();
                if let Some(wait) = wait {
                    // Everyone sharing this client waits too: the window is closed for all.
                    self.limiter.close_until(bucket, Instant::now() + wait);
                }
            }
            let give_up = match wait {
                None => true,
                Some(wait) => {
                    report.attempts >= retry.max_attempts
                        || waited + wait > retry.max_total_wait
                        || next.is_none()
                }
            };
            if give_up {
                report.elapsed = started.elapsed();
                report.failure = Some(failure);
                return (give_back(answer, error), report);
            }
            let wait = wait.unwrap_or_default();
            let wait = if failure.is_rate_limited() {
                wait + jitter(retry.max_jitter)
            } else {
                wait
            };
            tracing::info!(
                target: "segment_iam::retry",
                operation = name,
                attempt = report.attempts,
                wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                rate_limited = failure.is_rate_limited(),
                "retrying after a failed attempt"
            );
            {
                let _waiting = self.counters.waiting();
                self.counters
                    .backoff(Instant::now() + wait, failure.is_rate_limited());
                tokio::time::sleep(wait).await;
            }
            self.counters.waited(wait);
            waited += wait;
        }
    }
}

/// Reads the whole body, at most `limit` bytes of it (`http-body-util`'s `Limited`).
async fn read(response: reqwest::Response, limit: usize) -> Answer {
    let response: http::Response<reqwest::Body> = response.into();
    let (parts, body) = response.into_parts();
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Answer::Read {
            parts,
            body: collected.to_bytes(),
        },
        Err(error) => Answer::BodyFailed { parts, error },
    }
}

/// The failure an answer stands for, or `None` for a success to hand to the decoder. `limit`
/// is the body cap [`read`] applied; `operation` checks a success body when another attempt
/// could cure it (idempotent operations).
fn classify(
    answer: &Answer,
    operation: Option<Operation>,
    idempotent: bool,
    limit: usize,
) -> Option<Failure> {
    match answer {
        Answer::BodyFailed { parts, error } => {
            let status = parts.status.as_u16();
            if error.downcast_ref::<LengthLimitError>().is_some() {
                // Content-Length or the bytes read passed the limit: not read further.
                return Some(Failure::TooLarge { limit });
            }
            Some(if status == 429 {
                // A 429 stays a 429 even with a broken body, just without advice.
                Failure::Status {
                    status,
                    errors: Vec::new(),
                    advised: advised_wait(&[], &parts.headers),
                }
            } else {
                Failure::BadBody {
                    status,
                    message: format!("reading the body failed: {}", chain(error.as_ref())),
                }
            })
        }
        Answer::Read { parts, body } => {
            let status = parts.status.as_u16();
            if parts.status.is_success() {
                // A cut or foreign (proxy) body under a 2xx is worth another try for an
                // idempotent call. A body labelled JSON, the service's own answer, has only its
                // syntax checked here (no allocation; the typed decode then happens once, in
                // the generated client): decoding it twice cost ~1 µs a call. A body under any
                // other label may be a proxy's page, so it must decode as the documented type.
                let operation = operation.filter(|_| idempotent)?;
                let labelled_json = parts
                    .headers
                    .get(http::header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| v.trim_start().starts_with("application/json"));
                let checked = if labelled_json {
                    serde_json::from_slice::<serde::de::IgnoredAny>(body)
                        .map(drop)
                        .map_err(|e| format!("is not JSON: {e}"))
                } else {
                    operation
                        .check_success_body(body)
                        .map_err(|e| format!("is not the documented type: {e}"))
                };
                return checked.err().map(|e| Failure::BadBody {
                    status,
                    message: format!("the {}-byte body {e}", body.len()),
                });
            }
            if status < 400 {
                return None;
            }
            let errors = serde_json::from_slice::<RequestErrorEnvelope>(body)
                .map(|envelope| envelope.errors)
                .unwrap_or_default();
            let advised = (status == 429)
                .then(|| advised_wait(&errors, &parts.headers))
                .flatten();
            Some(Failure::Status {
                status,
                errors,
                advised,
            })
        }
    }
}

/// The answer as the generated client should see it: the body re-attached, or the error that
/// cut it replayed when it is read.
fn reattach(answer: Option<Answer>) -> reqwest::Response {
    match answer {
        Some(Answer::Read { parts, body }) => {
            reqwest::Response::from(http::Response::from_parts(parts, reqwest::Body::from(body)))
        }
        Some(Answer::BodyFailed { parts, error }) => {
            let replay = futures::stream::once(async move { Err::<Bytes, _>(error) });
            reqwest::Response::from(http::Response::from_parts(
                parts,
                reqwest::Body::wrap_stream(replay),
            ))
        }
        None => held_back(Duration::ZERO),
    }
}

/// The last attempt's outcome for the generated client: its answer, or its transport error.
fn give_back(
    answer: Option<Answer>,
    error: Option<reqwest::Error>,
) -> reqwest::Result<reqwest::Response> {
    match (answer, error) {
        (_, Some(error)) => Err(error),
        (answer, None) => Ok(reattach(answer)),
    }
}

/// The answer to a request pacing held back because the window opens too late for the retry
/// budget: shaped like the service's own 429 (envelope and `msBeforeNext`), marked as local by
/// `X-Segment-Iam-Held-Back`, so nothing was sent to hear it.
fn held_back(needed: Duration) -> reqwest::Response {
    let ms = u64::try_from(needed.as_millis()).unwrap_or(u64::MAX);
    let body = serde_json::json!({
        "errors": [{
            "type": "RateLimited",
            "message": format!("held back by client-side pacing: the rate-limit window opens in {ms} ms, past the retry budget"),
            "data": { "msBeforeNext": ms },
        }]
    });
    let response = http::Response::builder()
        .status(429)
        .header(http::header::CONTENT_TYPE, "application/json")
        .header("x-segment-iam-held-back", "true")
        .body(body.to_string());
    match response {
        Ok(response) => reqwest::Response::from(response),
        // Unreachable: every part above is a constant or a number.
        Err(_) => reqwest::Response::from(http::Response::new(String::new())),
    }
}

/// The wait the service advised: `msBeforeNext` in the envelope, else `X-RateLimit-Reset`,
/// else `Retry-After` (seconds or a date).
pub(crate) fn advised_wait(errors: &[RequestError], headers: &HeaderMap) -> Option<Duration> {
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

/// What failed, without the URL (whose query may carry emails).
fn describe(error: &reqwest::Error) -> String {
    let mut message = error.to_string();
    if let Some(url) = error.url() {
        message = message.replace(url.as_str(), "<url>");
    }
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

/// An error and its causes on one line.
fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

/// Capped exponential backoff for the `n`-th transient failure, with jitter in its upper half.
fn backoff(retry: &RetryConfig, n: u32) -> Duration {
    let exp = retry
        .initial_backoff
        .saturating_mul(2u32.saturating_pow(n.saturating_sub(1)))
        .min(retry.max_backoff);
    exp / 2 + jitter(exp / 2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, String)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).expect("header value"));
        }
        h
    }

    fn error_with(data: serde_json::Value) -> RequestError {
        serde_json::from_value(serde_json::json!({"type": "RequestError", "data": data}))
            .expect("an error")
    }

    #[test]
    fn ms_before_next_wins_over_every_header() {
        let later = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(30));
        let h = headers(&[("x-ratelimit-reset", later), ("retry-after", "9".into())]);
        let errors = [error_with(serde_json::json!({"msBeforeNext": 1234}))];
        assert_eq!(advised_wait(&errors, &h), Some(Duration::from_millis(1234)));
        let fractional = [error_with(serde_json::json!({"msBeforeNext": 10.2}))];
        assert_eq!(
            advised_wait(&fractional, &h),
            Some(Duration::from_millis(11))
        );
    }

    #[test]
    fn without_ms_before_next_the_reset_date_then_retry_after_are_read() {
        let in_20s = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(20));
        let reset_only = headers(&[("x-ratelimit-reset", in_20s.clone())]);
        let wait = advised_wait(&[], &reset_only).expect("the reset date is advice");
        assert!(
            wait > Duration::from_secs(15) && wait <= Duration::from_secs(20),
            "{wait:?}"
        );
        // A reset already past means no wait, not a negative one.
        let past = headers(&[(
            "x-ratelimit-reset",
            httpdate::fmt_http_date(SystemTime::now() - Duration::from_secs(5)),
        )]);
        assert_eq!(advised_wait(&[], &past), Some(Duration::ZERO));
        let seconds = headers(&[("retry-after", " 7 ".into())]);
        assert_eq!(advised_wait(&[], &seconds), Some(Duration::from_secs(7)));
        let date = headers(&[("retry-after", in_20s)]);
        let wait = advised_wait(&[], &date).expect("an HTTP date is advice");
        assert!(wait > Duration::from_secs(15), "{wait:?}");
        // RFC 9110 allows only whole seconds or a date: a fraction is no advice (the standard
        // backoff applies), never a misread number.
        let fraction = headers(&[("retry-after", "0.5".into())]);
        assert_eq!(advised_wait(&[], &fraction), None);
        assert_eq!(advised_wait(&[], &HeaderMap::new()), None);
        let unreadable_body_data = [error_with(serde_json::json!({"msBeforeNext": "soon"}))];
        assert_eq!(advised_wait(&unreadable_body_data, &HeaderMap::new()), None);
    }
}
