//! Retry: the one place where an attempt is classified and retried.
//!
//! The policy lives in the transport — the generated client's [`Exec`] hook — as octocrab's
//! tower retry does, so every request is treated alike: facade calls and `Client::api()` calls
//! are paced ([`crate::transport::pacing`]), wait out 429s and are retried by the same
//! [`RetryConfig`].
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
//! The last answer goes back to the generated client unchanged (body re-attached,
//! [`crate::transport::answer`]), so it decodes as usual. A facade call's [`RetryingExec`] has a
//! report slot, where it learns what the wire said beyond the decoded value: attempts, time,
//! and the classified failure.
//!
//! Every request of the client awaits this layer's future, boxed once: its state is kept under
//! a kilobyte (the allocator serves small blocks from a cache and larger ones the slow way;
//! the cost is measured in BENCHMARKS.md), so waits that are rare (pacing, backoff) box their
//! own state, and values that are borrowed live in blocks that end before the next wait.

use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::LengthLimitError;
use reqwest::header::{HeaderMap, HeaderName};
use segment_iam_api::types::{RequestError, RequestErrorEnvelope};
use segment_iam_api::{Exec, ExecFuture, Operation};

use super::answer::{Answer, Reading};
use super::metrics::Counters;
use super::pacing::{Bucket, Limiter, RESET, jitter, until_http_date};
use crate::config::RetryConfig;

/// What every clone of a client shares: the policy's settings and its state.
#[derive(Debug)]
pub(crate) struct Policy {
    pub(crate) retry: RetryConfig,
    pub(crate) limiter: Limiter,
    pub(crate) counters: Counters,
    /// Whether to hold requests while the rate-limit headers say the window is spent.
    pub(crate) pacing: bool,
    pub(crate) max_response_bytes: usize,
    /// What every request gets set on it here rather than by the `reqwest::Client` (which the
    /// caller built: `ClientBuilder::http_client`); `None` when the SDK built that client.
    pub(crate) per_request: Option<PerRequest>,
}

/// Settings applied to each request as it enters the layer, for a `reqwest::Client` the SDK did
/// not build and so could not configure: its headers win over that client's default headers,
/// its timeout over that client's timeout.
#[derive(Debug)]
pub(crate) struct PerRequest {
    /// `Authorization` (marked sensitive), and `User-Agent` when one was configured.
    pub(crate) headers: HeaderMap,
    /// The whole-request timeout, when one was configured.
    pub(crate) timeout: Option<Duration>,
}

impl PerRequest {
    fn apply(&self, request: &mut reqwest::Request) {
        for (name, value) in &self.headers {
            request.headers_mut().insert(name, value.clone());
        }
        if let Some(timeout) = self.timeout {
            *request.timeout_mut() = Some(timeout);
        }
    }
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

/// The generated client's [`Exec`]: every request goes through [`Policy::run`].
pub(crate) struct RetryingExec {
    pub(crate) policy: Arc<Policy>,
    /// Present for facade calls: where the report of the one request a call sends is left,
    /// and pacing gives up when the window opens later than the retry budget (the caller gets
    /// `Error::RateLimited` at once).
    pub(crate) report: Option<Mutex<Report>>,
}

impl RetryingExec {
    /// The report of the request just sent; the slot is left empty for the next one.
    pub(crate) fn take_report(&self) -> Report {
        self.report
            .as_ref()
            .map(|slot| std::mem::take(&mut *slot.lock().unwrap_or_else(PoisonError::into_inner)))
            .unwrap_or_default()
    }
}

impl Exec for RetryingExec {
    fn exec<'a>(
        &'a self,
        client: &'a reqwest::Client,
        mut request: reqwest::Request,
        operation: Option<Operation>,
    ) -> ExecFuture<'a> {
        use futures::FutureExt;
        if let Some(per_request) = &self.policy.per_request {
            per_request.apply(&mut request);
        }
        let slot = self.report.as_ref();
        // A combinator, not an `async` block around the call: the request is then held once in
        // the boxed state, not once more as the block's capture.
        let run = self.policy.run(client, request, operation, slot.is_some());
        Box::pin(run.map(move |(result, report)| {
            if let Some(slot) = slot {
                *slot.lock().unwrap_or_else(PoisonError::into_inner) = report;
            }
            result
        }))
    }
}

impl Policy {
    /// Sends `request` until it succeeds, fails for good, or the budget is spent. `facade`: a
    /// facade call, which learns everything else from the report: pacing gives up at once, with
    /// a `HeldBack` failure, when it would wait past the budget, and the answer is handed back
    /// with its status and body only (the facade reads nothing else of it, and the generated
    /// client copies every header into the value it returns).
    fn run<'a>(
        &'a self,
        client: &'a reqwest::Client,
        request: reqwest::Request,
        operation: Option<Operation>,
        facade: bool,
    ) -> impl Future<Output = (reqwest::Result<reqwest::Response>, Report)> + Send + 'a {
        self.attempts(client, Some(request), operation, facade)
    }

    /// The body of [`run`](Self::run). `next` is the request for the next attempt: it is the
    /// only copy the future holds (every request awaits this state, boxed, so it is kept
    /// small: an allocator hands out small blocks from a cache, large ones the slow way).
    async fn attempts(
        &self,
        client: &reqwest::Client,
        mut next: Option<reqwest::Request>,
        operation: Option<Operation>,
        facade: bool,
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
        loop {
            let permit = if self.pacing {
                let budget = if facade {
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
            // Locals that are borrowed stay in the state across every later wait of their
            // scope, so the request and the raw answer live in blocks that end before the
            // next one.
            let sending = {
                let Some(request) = next.take() else {
                    // Unreachable: the loop only continues with a copy in hand.
                    return (Ok(held_back(Duration::ZERO)), report);
                };
                // A copy for a later attempt; the service's bodies are bytes, so there always is.
                next = copy_request(&request);
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
                client.execute(request)
            };
            let reading = {
                let sent = sending.await;
                if let Ok(response) = &sent {
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
                }
                Reading::new(sent, self.max_response_bytes)
            };
            // What to do next is settled in a block of its own, so that the answer, its error
            // and its failure are gone before the wait: they are not kept in the state.
            let (wait, rate_limited) = {
                let (failure, answer, error) = match reading.await {
                    Err(error) => {
                        let failure = if error.is_connect() {
                            Failure::Connect(describe(&error))
                        } else {
                            Failure::Sent(describe(&error))
                        };
                        (Some(failure), None, Some(error))
                    }
                    Ok(answer) => (
                        classify(&answer, operation, idempotent, self.max_response_bytes),
                        Some(answer),
                        None,
                    ),
                };
                drop(permit);
                let Some(failure) = failure else {
                    report.elapsed = started.elapsed();
                    return (Ok(reattach(answer, facade)), report);
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
                    return (give_back(answer, error, facade), report);
                }
                maybe_applied_earlier |= failure.may_have_applied();
                let rate_limited = failure.is_rate_limited();
                if !rate_limited {
                    transient_failures += 1;
                }
                let wait = failure.retry_wait(idempotent, backoff(retry, transient_failures));
                if rate_limited {
                    self.counters.rate_limited();
                    if let Some(wait) = wait {
                        // Everyone sharing this client waits too: the window is closed for all.
                        self.limiter.close_until(bucket, Instant::now() + wait);
                    }
                }
                let Some(wait) = wait.filter(|wait| {
                    report.attempts < retry.max_attempts
                        && waited + *wait <= retry.max_total_wait
                        && next.is_some()
                }) else {
                    report.elapsed = started.elapsed();
                    report.failure = Some(failure);
                    return (give_back(answer, error, facade), report);
                };
                let wait = if rate_limited {
                    wait + jitter(retry.max_jitter)
                } else {
                    wait
                };
                (wait, rate_limited)
            };
            tracing::info!(
                target: "segment_iam::retry",
                operation = name,
                attempt = report.attempts,
                wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                rate_limited,
                "retrying after a failed attempt"
            );
            {
                let _waiting = self.counters.waiting();
                self.counters.backoff(Instant::now() + wait, rate_limited);
                // On the heap: only a retry pays for a timer's state, not every request.
                Box::pin(tokio::time::sleep(wait)).await;
            }
            self.counters.waited(wait);
            waited += wait;
        }
    }
}

/// A copy of `request` for another attempt, or `None` when its body is a stream. What the
/// generated client sets is copied: method, URL, headers, version, a per-request timeout and
/// the body's bytes. Unlike `reqwest::Request::try_clone`, a request without a timeout gets no
/// extension map built for one and dropped again (three allocations on every request).
fn copy_request(request: &reqwest::Request) -> Option<reqwest::Request> {
    let body = match request.body() {
        Some(body) => Some(reqwest::Body::from(Bytes::copy_from_slice(
            body.as_bytes()?,
        ))),
        None => None,
    };
    let mut copy = reqwest::Request::new(request.method().clone(), request.url().clone());
    *copy.headers_mut() = request.headers().clone();
    *copy.version_mut() = request.version();
    if let Some(timeout) = request.timeout() {
        *copy.timeout_mut() = Some(*timeout);
    }
    *copy.body_mut() = body;
    Some(copy)
}

/// The failure an answer stands for, or `None` for a success to hand to the decoder. `limit`
/// is the body cap the reading applied; `operation` checks a success body when another attempt
/// could cure it (idempotent operations).
fn classify(
    answer: &Answer,
    operation: Option<Operation>,
    idempotent: bool,
    limit: usize,
) -> Option<Failure> {
    match answer {
        Answer::BodyFailed { head, error } => {
            let status = head.status.as_u16();
            if error.downcast_ref::<LengthLimitError>().is_some() {
                // Content-Length or the bytes read passed the limit: not read further.
                return Some(Failure::TooLarge { limit });
            }
            Some(if status == 429 {
                // A 429 stays a 429 even with a broken body, just without advice.
                Failure::Status {
                    status,
                    errors: Vec::new(),
                    advised: advised_wait(&[], &head.headers),
                }
            } else {
                Failure::BadBody {
                    status,
                    message: format!("reading the body failed: {}", chain(error.as_ref())),
                }
            })
        }
        Answer::Read { head, body } => {
            let status = head.status.as_u16();
            if head.status.is_success() {
                // A cut or foreign (proxy) body under a 2xx is worth another try for an
                // idempotent call. A body labelled JSON, the service's own answer, has only its
                // syntax checked here (no allocation; the typed decode then happens once, in
                // the generated client), as decoding it twice costs measurably (BENCHMARKS.md).
                // A body under any other label may be a proxy's page, so it must decode as the
                // documented type.
                let operation = operation.filter(|_| idempotent)?;
                let labelled_json = head
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
                .then(|| advised_wait(&errors, &head.headers))
                .flatten();
            Some(Failure::Status {
                status,
                errors,
                advised,
            })
        }
    }
}

/// The answer as the generated client should see it (its headers only when `facade` is false),
/// or, none having arrived, a local stand-in.
fn reattach(answer: Option<Answer>, facade: bool) -> reqwest::Response {
    match answer {
        Some(answer) => answer.into_response(!facade),
        None => held_back(Duration::ZERO),
    }
}

/// The last attempt's outcome for the generated client: its answer, or its transport error.
fn give_back(
    answer: Option<Answer>,
    error: Option<reqwest::Error>,
    facade: bool,
) -> reqwest::Result<reqwest::Response> {
    match (answer, error) {
        (_, Some(error)) => Err(error),
        (answer, None) => Ok(reattach(answer, facade)),
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
    let header = |name: &HeaderName| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    if let Some(wait) = header(&RESET).and_then(until_http_date) {
        return Some(wait);
    }
    let retry_after = header(&http::header::RETRY_AFTER)?;
    retry_after
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
        .or_else(|| until_http_date(retry_after))
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
    use std::time::SystemTime;

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
        let negative = [error_with(serde_json::json!({"msBeforeNext": -5.0}))];
        assert_eq!(
            advised_wait(&negative, &seconds),
            Some(Duration::from_secs(7))
        );
    }
}

/// The rules of [`Failure`] and [`backoff`], case by case.
#[cfg(test)]
mod rule_tests {
    use super::*;

    const B: Duration = Duration::from_millis(100);

    fn status(status: u16, advised: Option<Duration>) -> Failure {
        Failure::Status {
            status,
            errors: Vec::new(),
            advised,
        }
    }

    fn bad_body(status: u16) -> Failure {
        Failure::BadBody {
            status,
            message: String::new(),
        }
    }

    #[test]
    fn which_failures_are_retried_and_after_how_long() {
        let advised = Some(Duration::from_millis(1234));
        for idempotent in [true, false] {
            // A 429 was not applied: any method waits and goes again, the advice first.
            assert_eq!(status(429, advised).retry_wait(idempotent, B), advised);
            assert_eq!(status(429, None).retry_wait(idempotent, B), Some(B));
            // Never sent: always safe to send again.
            assert_eq!(
                Failure::Connect(String::new()).retry_wait(idempotent, B),
                Some(B)
            );
            for never in [
                status(400, None),
                status(404, None),
                status(499, None),
                bad_body(400),
                bad_body(499),
                Failure::TooLarge { limit: 1 },
                Failure::HeldBack { needed: B },
            ] {
                assert_eq!(never.retry_wait(idempotent, B), None, "{never:?}");
            }
        }
        // May have been applied: only an idempotent request goes again.
        for maybe_applied in [
            status(500, None),
            status(503, None),
            Failure::Sent(String::new()),
            bad_body(200),
            bad_body(500),
        ] {
            assert_eq!(
                maybe_applied.retry_wait(true, B),
                Some(B),
                "{maybe_applied:?}"
            );
            assert_eq!(
                maybe_applied.retry_wait(false, B),
                None,
                "{maybe_applied:?}"
            );
        }
    }

    #[test]
    fn what_a_failure_says_about_the_request() {
        assert_eq!(status(503, None).status(), Some(503));
        assert_eq!(bad_body(502).status(), Some(502));
        assert_eq!(Failure::Connect(String::new()).status(), None);
        assert_eq!(Failure::TooLarge { limit: 1 }.status(), None);

        for applied in [
            status(500, None),
            Failure::Sent(String::new()),
            bad_body(200),
        ] {
            assert!(applied.may_have_applied(), "{applied:?}");
        }
        for not_applied in [
            status(499, None),
            status(429, None),
            bad_body(400),
            bad_body(499),
            Failure::Connect(String::new()),
            Failure::TooLarge { limit: 1 },
            Failure::HeldBack { needed: B },
        ] {
            assert!(!not_applied.may_have_applied(), "{not_applied:?}");
        }

        assert!(status(429, None).is_rate_limited());
        assert!(!status(503, None).is_rate_limited());
        assert!(!bad_body(429).is_rate_limited());
    }

    #[test]
    fn backoff_doubles_up_to_its_cap_with_jitter_in_the_upper_half() {
        let retry = RetryConfig::standard()
            .initial_backoff(Duration::from_millis(100))
            .max_backoff(Duration::from_millis(1000));
        let ms = Duration::from_millis;
        // n-th failure: (lowest, highest).
        let expected = [
            (0, (ms(50), ms(100))),
            (1, (ms(50), ms(100))),
            (2, (ms(100), ms(200))),
            (3, (ms(200), ms(400))),
            (4, (ms(400), ms(800))),
            (5, (ms(500), ms(1000))),
            (40, (ms(500), ms(1000))),
        ];
        for (n, (low, high)) in expected {
            let waits: Vec<Duration> = (0..200).map(|_| backoff(&retry, n)).collect();
            let (min, max) = (waits.iter().min(), waits.iter().max());
            assert!(
                waits.iter().all(|w| (low..=high).contains(w)),
                "n = {n}: {min:?}..{max:?} outside {low:?}..={high:?}"
            );
            assert!(min < max, "n = {n}: no jitter");
        }
    }

    #[derive(Debug)]
    struct Layer(&'static str, Option<Box<Layer>>);

    impl std::fmt::Display for Layer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }

    impl std::error::Error for Layer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.1.as_deref().map(|l| l as _)
        }
    }

    #[test]
    fn chain_joins_an_error_and_its_causes() {
        let error = Layer(
            "outer",
            Some(Box::new(Layer(
                "middle",
                Some(Box::new(Layer("inner", None))),
            ))),
        );
        assert_eq!(chain(&error), "outer: middle: inner");
        assert_eq!(chain(&Layer("alone", None)), "alone");
    }

    #[tokio::test]
    async fn describe_keeps_the_causes_and_drops_the_url() {
        // A port that was just free: the connection is refused, the error carries the URL.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let url = format!("http://127.0.0.1:{port}/users?emails.0=secret%40x.com");
        let error = reqwest::Client::new()
            .get(&url)
            .send()
            .await
            .expect_err("nothing listens there");
        assert!(error.to_string().contains("secret"), "{error}");
        let text = describe(&error);
        assert!(!text.contains("secret"), "{text}");
        assert!(text.contains("<url>"), "{text}");
        let cause = std::error::Error::source(&error)
            .expect("a cause")
            .to_string();
        assert!(text.contains(&format!(": {cause}")), "{text}");
    }
}

/// [`Policy::run`] against the emulator with injected faults: attempts, give-up points and the
/// report, read from the report and the emulator's journal.
#[cfg(test)]
mod policy_tests {
    use reqwest::Method;
    use segment_iam_emulator::{Emulator, EmulatorHandle, Fault, Operation as Served};

    use crate::transport::metrics::Wait;

    use super::*;

    const TOKEN: &str = "policy-test-token";

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// Fast retries, no jitter, pacing off unless a test turns it on.
    fn policy(retry: RetryConfig) -> Policy {
        Policy {
            retry,
            limiter: Limiter::default(),
            counters: Counters::default(),
            pacing: false,
            max_response_bytes: 1 << 20,
            per_request: None,
        }
    }

    fn quick() -> RetryConfig {
        RetryConfig::standard()
            .initial_backoff(ms(2))
            .max_backoff(ms(8))
            .max_jitter(Duration::ZERO)
    }

    struct Rig {
        emu: EmulatorHandle,
        http: reqwest::Client,
    }

    impl Rig {
        async fn new() -> Rig {
            let emu = Emulator::builder()
                .token(TOKEN)
                .seed(3)
                .users(3)
                .groups(2)
                .start()
                .await
                .expect("the emulator starts");
            let http = reqwest::Client::builder()
                .timeout(Duration::from_secs(20))
                .build()
                .expect("an HTTP client");
            Rig { emu, http }
        }

        fn request(&self, method: Method, path: &str, body: Option<&str>) -> reqwest::Request {
            let mut builder = self
                .http
                .request(method, format!("{}{path}", self.emu.base_url()))
                .bearer_auth(TOKEN);
            if let Some(body) = body {
                builder = builder
                    .header(http::header::CONTENT_TYPE, "application/json")
                    .body(body.to_string());
            }
            builder.build().expect("a request")
        }

        fn get_user(&self) -> reqwest::Request {
            let id = self.emu.user_ids().into_iter().next().expect("a user");
            self.request(Method::GET, &format!("/users/{id}"), None)
        }

        fn create_group(&self) -> reqwest::Request {
            self.request(Method::POST, "/groups", Some(r#"{"name":"policy-test"}"#))
        }

        fn delete_group(&self, id: &str) -> reqwest::Request {
            self.request(Method::DELETE, &format!("/groups/{id}"), None)
        }

        async fn run(
            &self,
            policy: &Policy,
            request: reqwest::Request,
            operation: Operation,
        ) -> (reqwest::Result<reqwest::Response>, Report) {
            policy.run(&self.http, request, Some(operation), true).await
        }

        /// Requests the emulator received for `operation`.
        fn sent(&self, operation: Served) -> usize {
            self.emu.journal_for(operation).len()
        }
    }

    fn status_of(result: &reqwest::Result<reqwest::Response>) -> Option<u16> {
        result.as_ref().ok().map(|r| r.status().as_u16())
    }

    fn failed_status(report: &Report) -> Option<u16> {
        report.failure.as_ref().and_then(Failure::status)
    }

    fn rate_limited_body(ms_before_next: u64) -> String {
        serde_json::json!({"errors": [{"type": "RateLimited", "message": "slow down",
            "data": {"msBeforeNext": ms_before_next}}]})
        .to_string()
    }

    #[tokio::test]
    async fn an_idempotent_call_is_retried_through_server_errors_to_success() {
        let rig = Rig::new().await;
        rig.emu
            .inject(Fault::status(503).on_operation(Served::GetUser).times(2));
        let policy = policy(quick());
        let (result, report) = rig.run(&policy, rig.get_user(), Operation::GetUser).await;
        let body = result.expect("an answer").text().await.expect("its body");
        assert!(
            body.contains("\"user\""),
            "the success body is handed back: {body}"
        );
        assert_eq!(report.attempts, 3);
        assert_eq!(report.status, Some(200));
        assert_eq!(report.failure, None);
        assert!(!report.settled_by_earlier_attempt);
        assert_eq!(rig.sent(Served::GetUser), 3);
        let metrics = policy.counters.snapshot();
        assert_eq!(
            (metrics.requests, metrics.retries, metrics.rate_limited),
            (3, 2, 0)
        );
    }

    #[tokio::test]
    async fn retries_stop_at_max_attempts_with_the_last_answer() {
        let rig = Rig::new().await;
        rig.emu
            .inject(Fault::status(503).on_operation(Served::GetUser).times(10));
        let policy = policy(quick().max_attempts(3));
        let (result, report) = rig.run(&policy, rig.get_user(), Operation::GetUser).await;
        assert_eq!(status_of(&result), Some(503));
        assert_eq!(report.attempts, 3);
        assert_eq!(failed_status(&report), Some(503));
        assert_eq!(rig.sent(Served::GetUser), 3);
    }

    #[tokio::test]
    async fn a_429s_advice_is_waited_for_any_method_and_counted() {
        let rig = Rig::new().await;
        rig.emu.inject(
            Fault::respond(429, "application/json", rate_limited_body(30))
                .on_operation(Served::CreateUserGroup),
        );
        let policy = policy(quick());
        let (result, report) = rig
            .run(&policy, rig.create_group(), Operation::CreateUserGroup)
            .await;
        assert_eq!(status_of(&result), Some(200));
        assert_eq!(report.attempts, 2);
        assert!(report.elapsed >= ms(30), "{:?}", report.elapsed);
        assert_eq!(rig.emu.applied_count(Served::CreateUserGroup), 1);
        let metrics = policy.counters.snapshot();
        assert_eq!((metrics.retries, metrics.rate_limited), (1, 1));
        assert!(metrics.waited >= ms(30), "{:?}", metrics.waited);
    }

    #[tokio::test]
    async fn a_wait_exactly_filling_the_budget_is_taken_and_one_past_it_is_not() {
        let rig = Rig::new().await;
        let fault = || {
            Fault::respond(429, "application/json", rate_limited_body(40))
                .on_operation(Served::GetUser)
        };
        rig.emu.inject(fault());
        let exact = policy(quick().max_total_wait(ms(40)));
        let (result, report) = rig.run(&exact, rig.get_user(), Operation::GetUser).await;
        assert_eq!((status_of(&result), report.attempts), (Some(200), 2));

        rig.emu.inject(fault());
        let short = policy(quick().max_total_wait(ms(39)));
        let (result, report) = rig.run(&short, rig.get_user(), Operation::GetUser).await;
        assert_eq!((status_of(&result), report.attempts), (Some(429), 1));
        match report.failure {
            Some(Failure::Status {
                status: 429,
                advised,
                ..
            }) => assert_eq!(advised, Some(ms(40))),
            other => panic!("expected the 429, got {other:?}"),
        }
        assert_eq!(rig.sent(Served::GetUser), 3);
    }

    #[tokio::test]
    async fn waits_add_up_against_the_budget() {
        let rig = Rig::new().await;
        rig.emu.inject(
            Fault::respond(429, "application/json", rate_limited_body(30))
                .on_operation(Served::GetUser)
                .times(3),
        );
        // 30 + 30 fit in 70 ms; a third 30 does not.
        let policy = policy(quick().max_total_wait(ms(70)));
        let (result, report) = rig.run(&policy, rig.get_user(), Operation::GetUser).await;
        assert_eq!(status_of(&result), Some(429));
        assert_eq!(report.attempts, 3);
        assert_eq!(rig.sent(Served::GetUser), 3);
    }

    #[tokio::test]
    async fn a_post_is_not_sent_again_once_it_may_have_arrived() {
        let rig = Rig::new().await;
        let policy = policy(quick());
        rig.emu
            .inject(Fault::status(503).on_operation(Served::CreateUserGroup));
        let (result, report) = rig
            .run(&policy, rig.create_group(), Operation::CreateUserGroup)
            .await;
        assert_eq!((status_of(&result), report.attempts), (Some(503), 1));
        assert_eq!(failed_status(&report), Some(503));

        rig.emu.inject(
            Fault::drop_connection()
                .on_operation(Served::CreateUserGroup)
                .after_apply(),
        );
        let (result, report) = rig
            .run(&policy, rig.create_group(), Operation::CreateUserGroup)
            .await;
        assert!(result.is_err(), "the cut connection is the answer");
        assert_eq!(report.attempts, 1);
        assert!(
            matches!(report.failure, Some(Failure::Sent(_))),
            "{report:?}"
        );
        assert_eq!(rig.sent(Served::CreateUserGroup), 2);
    }

    #[tokio::test]
    async fn a_request_that_never_connected_is_retried_even_as_a_post() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let http = reqwest::Client::new();
        let request = http
            .post(format!("http://127.0.0.1:{port}/groups"))
            .body("{}")
            .build()
            .expect("a request");
        let policy = policy(quick().max_attempts(3));
        let (result, report) = policy
            .run(&http, request, Some(Operation::CreateUserGroup), true)
            .await;
        assert!(result.is_err_and(|e| e.is_connect()));
        assert_eq!(report.attempts, 3);
        assert_eq!(report.status, None);
        assert!(
            matches!(report.failure, Some(Failure::Connect(_))),
            "{report:?}"
        );
        assert_eq!(policy.counters.snapshot().retries, 2);
    }

    #[tokio::test]
    async fn a_cut_connection_is_retried_for_an_idempotent_call() {
        let rig = Rig::new().await;
        rig.emu
            .inject(Fault::drop_connection().on_operation(Served::GetUser));
        let policy = policy(quick());
        let (result, report) = rig.run(&policy, rig.get_user(), Operation::GetUser).await;
        assert_eq!((status_of(&result), report.attempts), (Some(200), 2));
    }

    #[tokio::test]
    async fn a_deletion_retried_after_it_may_have_applied_is_settled_by_the_404() {
        let rig = Rig::new().await;
        let group = rig.emu.group_ids().into_iter().next().expect("a group");
        rig.emu.inject(
            Fault::drop_connection()
                .on_operation(Served::DeleteUserGroup)
                .after_apply(),
        );
        let policy = policy(quick());
        let (result, report) = rig
            .run(
                &policy,
                rig.delete_group(&group),
                Operation::DeleteUserGroup,
            )
            .await;
        assert_eq!(
            status_of(&result),
            Some(404),
            "the 404 is handed back as it is"
        );
        assert_eq!(report.attempts, 2);
        assert!(report.settled_by_earlier_attempt);
        assert_eq!(report.failure, None);
        assert_eq!(rig.emu.applied_count(Served::DeleteUserGroup), 1);
    }

    #[tokio::test]
    async fn a_404_settles_nothing_when_no_earlier_attempt_may_have_applied() {
        let rig = Rig::new().await;
        let policy = policy(quick());
        // First attempt, nothing before it.
        let (result, report) = rig
            .run(
                &policy,
                rig.delete_group("no-such-group"),
                Operation::DeleteUserGroup,
            )
            .await;
        assert_eq!((status_of(&result), report.attempts), (Some(404), 1));
        assert!(!report.settled_by_earlier_attempt);
        assert_eq!(failed_status(&report), Some(404));
        // After a 429, which was not applied.
        rig.emu.inject(
            Fault::respond(429, "application/json", rate_limited_body(1))
                .on_operation(Served::DeleteUserGroup),
        );
        let (result, report) = rig
            .run(
                &policy,
                rig.delete_group("no-such-group"),
                Operation::DeleteUserGroup,
            )
            .await;
        assert_eq!((status_of(&result), report.attempts), (Some(404), 2));
        assert!(!report.settled_by_earlier_attempt);
        // A GET is no deletion: a 404 after a 503 is a 404.
        rig.emu
            .inject(Fault::status(503).on_operation(Served::GetUserGroup));
        let get = rig.request(Method::GET, "/groups/no-such-group", None);
        let (result, report) = rig.run(&policy, get, Operation::GetUserGroup).await;
        assert_eq!((status_of(&result), report.attempts), (Some(404), 2));
        assert!(!report.settled_by_earlier_attempt);
        assert_eq!(failed_status(&report), Some(404));
    }

    #[tokio::test]
    async fn a_client_error_is_final_and_its_envelope_is_read() {
        let rig = Rig::new().await;
        let policy = policy(quick());
        let request = rig.request(Method::GET, "/users/no-such-user", None);
        let (result, report) = rig.run(&policy, request, Operation::GetUser).await;
        assert_eq!((status_of(&result), report.attempts), (Some(404), 1));
        match &report.failure {
            Some(Failure::Status {
                status: 404,
                errors,
                advised: None,
            }) => assert!(!errors.is_empty(), "the envelope's errors are kept"),
            other => panic!("expected the 404, got {other:?}"),
        }
        let body = result.expect("the answer").text().await.expect("its body");
        assert!(body.contains("errors"), "the body is handed back: {body}");
        // An error body that is not the envelope: still the status, no errors.
        rig.emu.inject(
            Fault::respond(400, "application/json", "{not json").on_operation(Served::GetUser),
        );
        let (_, report) = rig.run(&policy, rig.get_user(), Operation::GetUser).await;
        assert_eq!(report.attempts, 1);
        assert_eq!(
            report.failure,
            Some(Failure::Status {
                status: 400,
                errors: Vec::new(),
                advised: None
            })
        );
    }

    #[tokio::test]
    async fn a_bad_success_body_is_retried_only_for_an_idempotent_call() {
        let rig = Rig::new().await;
        let policy = policy(quick());
        for fault in [
            Fault::malformed_body(),
            Fault::truncated_body(),
            // A proxy's page: not labelled JSON, so it must decode as the documented type.
            Fault::respond(200, "text/html", "<html>maintenance</html>"),
        ] {
            rig.emu.clear_journal();
            rig.emu.inject(fault.clone().on_operation(Served::GetUser));
            let (result, report) = rig.run(&policy, rig.get_user(), Operation::GetUser).await;
            assert_eq!(
                (
                    status_of(&result),
                    report.attempts,
                    rig.sent(Served::GetUser)
                ),
                (Some(200), 2, 2),
                "{fault:?}"
            );
            assert_eq!(report.failure, None, "{fault:?}");
        }
        // The documented body under another label is accepted as it is.
        rig.emu.clear_journal();
        rig.emu.inject(
            Fault::wrong_content_type()
                .on_operation(Served::GetUser)
                .after_apply(),
        );
        let (_, report) = rig.run(&policy, rig.get_user(), Operation::GetUser).await;
        assert_eq!((report.attempts, report.failure), (1, None));
        // A POST's answer is handed to the decoder as it is, never sent again.
        rig.emu
            .inject(Fault::malformed_body().on_operation(Served::CreateUserGroup));
        let (result, report) = rig
            .run(&policy, rig.create_group(), Operation::CreateUserGroup)
            .await;
        assert_eq!((status_of(&result), report.attempts), (Some(200), 1));
        assert_eq!(report.failure, None);
        // So is an answer whose operation is unknown.
        rig.emu
            .inject(Fault::malformed_body().on_operation(Served::GetUser));
        let (_, report) = policy.run(&rig.http, rig.get_user(), None, true).await;
        assert_eq!((report.attempts, report.failure), (1, None));
    }

    #[tokio::test]
    async fn an_unknown_operation_is_treated_as_a_mutation_that_is_not_repeated() {
        let rig = Rig::new().await;
        rig.emu
            .inject(Fault::status(503).on_operation(Served::GetUser));
        let policy = policy(quick());
        let (result, report) = policy.run(&rig.http, rig.get_user(), None, true).await;
        assert_eq!((status_of(&result), report.attempts), (Some(503), 1));
    }

    #[tokio::test]
    async fn a_body_past_the_cap_is_refused_unread_and_not_retried() {
        let rig = Rig::new().await;
        let mut policy = policy(quick());
        policy.max_response_bytes = 16;
        let (result, report) = rig.run(&policy, rig.get_user(), Operation::GetUser).await;
        assert_eq!(status_of(&result), Some(200));
        assert_eq!(report.attempts, 1);
        assert_eq!(report.failure, Some(Failure::TooLarge { limit: 16 }));
        let read = result.expect("the answer").bytes().await;
        assert!(
            read.is_err(),
            "the cut body fails when the decoder reads it"
        );
    }

    #[tokio::test]
    async fn a_429_with_an_unreadable_body_is_still_a_429() {
        let rig = Rig::new().await;
        rig.emu.inject(
            Fault::respond(429, "application/json", "{cut").on_operation(Served::CreateUserGroup),
        );
        let policy = policy(quick());
        let (result, report) = rig
            .run(&policy, rig.create_group(), Operation::CreateUserGroup)
            .await;
        assert_eq!((status_of(&result), report.attempts), (Some(200), 2));
        assert_eq!(policy.counters.snapshot().rate_limited, 1);
    }

    #[tokio::test]
    async fn pacing_gives_up_at_once_when_the_window_opens_past_the_budget() {
        let rig = Rig::new().await;
        let mut policy = policy(quick().max_total_wait(Duration::from_secs(1)));
        policy.pacing = true;
        policy
            .limiter
            .close_until(Bucket::Reads, Instant::now() + Duration::from_secs(60));
        let (result, report) = rig.run(&policy, rig.get_user(), Operation::GetUser).await;
        let response = result.expect("a local answer");
        assert_eq!(response.status().as_u16(), 429);
        assert!(response.headers().contains_key("x-segment-iam-held-back"));
        assert_eq!(report.attempts, 0);
        match report.failure {
            Some(Failure::HeldBack { needed }) => {
                assert!(needed > Duration::from_secs(50), "{needed:?}")
            }
            other => panic!("expected HeldBack, got {other:?}"),
        }
        assert_eq!(rig.sent(Served::GetUser), 0, "nothing was sent");
        // Mutations are another bucket: still open.
        let (result, report) = rig
            .run(&policy, rig.create_group(), Operation::CreateUserGroup)
            .await;
        assert_eq!((status_of(&result), report.attempts), (Some(200), 1));
    }

    #[tokio::test]
    async fn a_429_closes_the_bucket_for_everyone_sharing_the_client() {
        let rig = Rig::new().await;
        rig.emu.inject(
            Fault::respond(429, "application/json", rate_limited_body(60_000))
                .on_operation(Served::GetUser),
        );
        let mut policy = policy(quick().max_total_wait(Duration::from_secs(1)));
        policy.pacing = true;
        // The advice is past the budget: the caller gets the 429 at once ...
        let (result, report) = rig.run(&policy, rig.get_user(), Operation::GetUser).await;
        assert_eq!((status_of(&result), report.attempts), (Some(429), 1));
        // ... and the bucket stays closed for the next request, which is held back unsent.
        let (_, report) = rig.run(&policy, rig.get_user(), Operation::GetUser).await;
        assert!(
            matches!(report.failure, Some(Failure::HeldBack { .. })),
            "{report:?}"
        );
        assert_eq!(rig.sent(Served::GetUser), 1);
    }

    #[tokio::test]
    async fn the_answer_handed_back_keeps_its_url() {
        let rig = Rig::new().await;
        let policy = policy(quick());
        let request = rig.get_user();
        let url = request.url().clone();
        let (result, _) = rig.run(&policy, request, Operation::GetUser).await;
        assert_eq!(result.expect("an answer").url(), &url);
    }

    #[tokio::test]
    async fn the_backoff_doubles_with_each_transient_failure() {
        let rig = Rig::new().await;
        rig.emu
            .inject(Fault::status(503).on_operation(Served::GetUser).times(3));
        // The n-th wait lies in [10 ms × 2^(n-1) / 2, 10 ms × 2^(n-1)]: 5–10, 10–20, 20–40 ms.
        // Waits that did not grow would add up to at most 30 ms.
        let policy = policy(
            RetryConfig::standard()
                .initial_backoff(ms(10))
                .max_backoff(Duration::from_secs(1))
                .max_jitter(Duration::ZERO),
        );
        let (result, report) = rig.run(&policy, rig.get_user(), Operation::GetUser).await;
        assert_eq!((status_of(&result), report.attempts), (Some(200), 4));
        let waited = policy.counters.snapshot().waited;
        assert!(ms(35) <= waited && waited <= ms(70), "{waited:?}");
    }

    #[tokio::test]
    async fn a_429s_wait_is_spread_by_jitter_on_top_of_the_advice() {
        let rig = Rig::new().await;
        rig.emu.inject(
            Fault::respond(429, "application/json", rate_limited_body(10))
                .on_operation(Served::GetUser),
        );
        let policy = policy(quick().max_jitter(ms(40)));
        let (result, report) = rig.run(&policy, rig.get_user(), Operation::GetUser).await;
        assert_eq!((status_of(&result), report.attempts), (Some(200), 2));
        let waited = policy.counters.snapshot().waited;
        assert!(ms(10) <= waited && waited <= ms(50), "{waited:?}");
    }

    #[tokio::test]
    async fn time_held_by_pacing_is_counted_as_waited() {
        let rig = Rig::new().await;
        let mut policy = policy(quick());
        policy.pacing = true;
        policy
            .limiter
            .close_until(Bucket::Reads, Instant::now() + ms(50));
        let (result, report) = rig.run(&policy, rig.get_user(), Operation::GetUser).await;
        assert_eq!((status_of(&result), report.attempts), (Some(200), 1));
        // Nothing else waits in this call: no retry, no backoff.
        let metrics = policy.counters.snapshot();
        assert_eq!(metrics.retries, 0);
        assert!(metrics.waited > Duration::ZERO, "{metrics:?}");
    }

    #[tokio::test]
    async fn a_backoff_under_way_is_reported_with_its_end_ahead() {
        let rig = Rig::new().await;
        rig.emu.inject(
            Fault::respond(429, "application/json", rate_limited_body(30_000))
                .on_operation(Served::GetUser),
        );
        let policy = policy(quick().max_total_wait(Duration::from_secs(120)));
        let run = rig.run(&policy, rig.get_user(), Operation::GetUser);
        let observe = async {
            // Bounded: the backoff starts as soon as the 429 is read.
            for _ in 0..2_000 {
                if let Some(wait) = policy.counters.waiting_for(Instant::now(), None)
                    && matches!(wait, Wait::Backoff { .. })
                {
                    return wait;
                }
                tokio::time::sleep(ms(5)).await;
            }
            panic!("no backoff reported within 10 s");
        };
        // The call is dropped once its backoff has been seen: nothing waits the 30 s.
        let wait = tokio::select! {
            (_, report) = run => panic!("the call ended during its backoff: {report:?}"),
            wait = observe => wait,
        };
        match wait {
            Wait::Backoff {
                remaining,
                rate_limited,
            } => {
                assert!(rate_limited);
                assert!(
                    Duration::from_secs(20) < remaining && remaining <= Duration::from_secs(30),
                    "{remaining:?}"
                );
            }
            other => panic!("expected a backoff, got {other:?}"),
        }
    }

    /// A server on loopback that answers each connection in turn with the next canned bytes
    /// (after reading the request), then closes it: answers the emulator cannot give, such as
    /// a body cut off before its `Content-Length`.
    async fn canned_server(answers: Vec<&'static str>) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let addr = listener.local_addr().expect("its address");
        tokio::spawn(async move {
            for answer in answers {
                let Ok((mut socket, _)) = listener.accept().await else {
                    return;
                };
                // Read the head, then as many body bytes as it announces.
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                loop {
                    let Ok(n) = socket.read(&mut buf).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    request.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&request).to_ascii_lowercase();
                    if let Some(end) = text.find("\r\n\r\n") {
                        let length = text[..end]
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .and_then(|v| v.trim().parse::<usize>().ok())
                            .unwrap_or(0);
                        if request.len() >= end + 4 + length {
                            break;
                        }
                    }
                }
                let _ = socket.write_all(answer.as_bytes()).await;
                let _ = socket.shutdown().await;
            }
        });
        format!("http://{addr}")
    }

    #[tokio::test]
    async fn an_unreadable_body_under_a_429_is_a_429_and_under_another_status_a_bad_body() {
        const CUT_429: &str = "HTTP/1.1 429 Too Many Requests\r\ncontent-type: application/json\r\n\
            retry-after: 0\r\ncontent-length: 100\r\n\r\n{\"errors\"";
        const CUT_502: &str = "HTTP/1.1 502 Bad Gateway\r\ncontent-type: application/json\r\n\
            content-length: 100\r\n\r\n{\"errors\"";
        const OK: &str = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
            content-length: 2\r\nconnection: close\r\n\r\n{}";
        let base = canned_server(vec![CUT_429, OK, CUT_502]).await;
        let http = reqwest::Client::new();
        let post = || {
            http.post(format!("{base}/groups"))
                .body("{}")
                .build()
                .expect("a request")
        };
        let policy = policy(quick());
        // A POST is sent again after a 429 even when its body could not be read ...
        let (result, report) = policy
            .run(&http, post(), Some(Operation::CreateUserGroup), true)
            .await;
        assert_eq!((status_of(&result), report.attempts), (Some(200), 2));
        assert_eq!(policy.counters.snapshot().rate_limited, 1);
        // ... but not after a 502 it may have reached: that failure is the body.
        let (_, report) = policy
            .run(&http, post(), Some(Operation::CreateUserGroup), true)
            .await;
        assert_eq!(report.attempts, 1);
        match report.failure {
            Some(Failure::BadBody {
                status: 502,
                message,
            }) => {
                assert!(message.contains("reading the body failed"), "{message}")
            }
            other => panic!("expected an unreadable 502 body, got {other:?}"),
        }
    }
}
