//! What the request pipeline (`server.rs`) and the admin endpoints (`admin.rs`) share: the
//! emulator's state with its settings ([`Inner`]) and a response before it becomes HTTP
//! ([`Reply`]). Both depend on this module; neither depends on the other's internals.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use bytes::Bytes;

use crate::faults::Faults;
use crate::journal::Journal;
use crate::pagination::CursorCodec;
use crate::ratelimit::{Decision, RateLimiter};
use crate::state::State;
use crate::wire::ApiError;

/// Shared by the server and the handle.
pub(crate) struct Inner {
    pub tokens: Vec<String>,
    /// Token → its owner's email, for the audit trail's actor.
    pub owners: std::collections::HashMap<String, String>,
    pub strict: bool,
    pub max_url_len: usize,
    pub max_body: usize,
    pub list_delay: Duration,
    pub state: Mutex<State>,
    pub limiter: RateLimiter,
    pub faults: Faults,
    pub journal: Journal,
    pub codec: CursorCodec,
    pub started: Instant,
}

impl Inner {
    pub fn lock_state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A response before it is turned into HTTP.
pub(crate) struct Reply {
    pub status: u16,
    pub body: Vec<u8>,
    pub content_type: &'static str,
    pub headers: Vec<(&'static str, String)>,
    pub drop_midway: bool,
}

pub(crate) const JSON: &str = "application/json; charset=utf-8";

impl Reply {
    pub fn json(status: u16, body: Vec<u8>) -> Self {
        Self {
            status,
            body,
            content_type: JSON,
            headers: Vec::new(),
            drop_midway: false,
        }
    }

    pub fn error(e: &ApiError) -> Self {
        Self::json(e.status, e.body())
    }

    pub(crate) fn with_limits(mut self, d: Option<&Decision>) -> Self {
        if let Some(d) = d {
            self.headers.extend(d.headers());
        }
        self
    }

    pub fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let len = self.body.len();
        let body = if self.drop_midway {
            let half = Bytes::from(self.body[..len / 2].to_vec());
            let chunks: Vec<Result<Bytes, std::io::Error>> = vec![
                Ok(half),
                Err(std::io::Error::new(
                    std::io::ErrorKind::ConnectionReset,
                    "injected drop",
                )),
            ];
            Body::from_stream(futures::stream::iter(chunks))
        } else {
            Body::from(self.body)
        };
        let mut resp = Response::new(body);
        *resp.status_mut() = status;
        let h = resp.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(self.content_type),
        );
        if self.drop_midway {
            h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
        }
        for (k, v) in self.headers {
            if let Ok(v) = HeaderValue::from_str(&v) {
                h.insert(k, v);
            }
        }
        resp
    }
}
