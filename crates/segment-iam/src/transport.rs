//! The facade's [`Exec`]: what happens around every single request the generated client sends.
//! It holds the request for a rate-limit permit, sends it, learns from the rate-limit headers,
//! and caps how much of the body may be read. Retrying is the engine's job (`engine.rs`), which
//! sees decoded errors; this layer sees only one request at a time.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use segment_iam_api::{Exec, ExecFuture, OperationMeta};

use crate::metrics::Counters;
use crate::ratelimit::{Bucket, Limiter};

/// The state every clone of a client shares.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) limiter: Limiter,
    pub(crate) counters: Counters,
    pub(crate) pacing: bool,
    pub(crate) max_response_bytes: usize,
    pub(crate) max_jitter: Duration,
}

/// What one call learns from its requests; set per call by the engine (a task-local, so
/// concurrent calls on one client never mix).
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct LastExchange {
    /// The status of the last response, if one arrived.
    pub(crate) status: Option<u16>,
    /// Whether the last request's connection was established (a request may have been sent).
    pub(crate) connected: bool,
}

/// Per-call context the engine sets around each attempt.
#[derive(Debug, Default)]
pub(crate) struct CallContext {
    /// Filled in by the transport for the engine.
    pub(crate) exchange: std::cell::Cell<LastExchange>,
    /// The engine already holds a rate-limit permit for this attempt.
    pub(crate) paced: bool,
}

tokio::task_local! {
    pub(crate) static CALL: CallContext;
}

pub(crate) fn bucket_of(meta: Option<&OperationMeta>) -> Bucket {
    match meta {
        Some(meta) if !meta.is_mutation() => Bucket::Reads,
        _ => Bucket::Mutations,
    }
}

/// The error a capped body stream ends with.
#[derive(Debug, thiserror::Error)]
#[error("response body larger than {limit} bytes")]
pub(crate) struct BodyTooLarge {
    pub(crate) limit: usize,
}

pub(crate) struct PacedExec(pub(crate) Arc<Shared>);

impl Exec for PacedExec {
    fn exec<'a>(
        &'a self,
        client: &'a reqwest::Client,
        request: reqwest::Request,
        meta: Option<&'static OperationMeta>,
    ) -> ExecFuture<'a> {
        Box::pin(async move {
            let shared = &self.0;
            let bucket = bucket_of(meta);
            // Calls through the facade are paced by the engine (within their retry budget);
            // this covers requests made directly on `Client::api()`.
            let paced_by_engine = CALL.try_with(|c| c.paced).unwrap_or(false);
            let permit = if shared.pacing && !paced_by_engine {
                let _waiting = shared.counters.waiting();
                let (permit, waited) = shared.limiter.acquire(bucket, shared.max_jitter).await;
                if !waited.is_zero() {
                    shared.counters.waited(waited);
                }
                Some(permit)
            } else {
                None
            };
            shared.counters.request();
            tracing::debug!(
                target: "segment_iam::request",
                operation = meta.map_or("?", |m| m.operation_id),
                method = %request.method(),
                path = request.url().path(),
                "sending"
            );
            let result = client.execute(request).await;
            let _ = CALL.try_with(|call| {
                call.exchange.set(LastExchange {
                    status: result.as_ref().ok().map(|r| r.status().as_u16()),
                    connected: match &result {
                        Ok(_) => true,
                        Err(e) => !e.is_connect(),
                    },
                })
            });
            let response = result?;
            tracing::debug!(
                target: "segment_iam::request",
                operation = meta.map_or("?", |m| m.operation_id),
                status = response.status().as_u16(),
                "answered"
            );
            if shared.pacing {
                shared
                    .limiter
                    .observe(bucket, response.status().is_success(), response.headers());
            }
            drop(permit);
            Ok(cap_body(response, shared.max_response_bytes))
        })
    }
}

/// Wraps the body so that reading more than `limit` bytes fails instead of filling memory.
/// A body whose `Content-Length` is within the limit is left as it is: HTTP framing already
/// stops it there, and the common case pays nothing.
fn cap_body(response: reqwest::Response, limit: usize) -> reqwest::Response {
    if response
        .content_length()
        .is_some_and(|len| usize::try_from(len).is_ok_and(|len| len <= limit))
    {
        return response;
    }
    let response: http::Response<reqwest::Body> = response.into();
    let (parts, body) = response.into_parts();
    let mut seen = 0usize;
    let capped = http_body_stream(body).map(move |chunk| {
        let chunk = chunk?;
        seen = seen.saturating_add(chunk.len());
        if seen > limit {
            return Err(
                Box::new(BodyTooLarge { limit }) as Box<dyn std::error::Error + Send + Sync>
            );
        }
        Ok(chunk)
    });
    reqwest::Response::from(http::Response::from_parts(
        parts,
        reqwest::Body::wrap_stream(capped),
    ))
}

/// The body's data frames as a stream of byte chunks.
fn http_body_stream(
    body: reqwest::Body,
) -> impl futures::Stream<Item = Result<bytes::Bytes, Box<dyn std::error::Error + Send + Sync>>> {
    let response = reqwest::Response::from(http::Response::new(body));
    response
        .bytes_stream()
        .map(|r| r.map_err(|e| Box::new(e) as Box<dyn std::error::Error + Send + Sync>))
}
