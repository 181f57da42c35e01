//! The request journal: what went over the wire, request by request.
//!
//! Every API request is recorded (admin requests never are), with the token redacted. The
//! journal keeps the most recent entries up to a capacity (default 100 000); older ones are
//! dropped first.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use crate::operations::Operation;

/// One recorded request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JournalEntry {
    /// Position in the journal since the emulator started, from 1.
    pub seq: u64,
    /// HTTP method.
    pub method: String,
    /// The path as sent (still percent-encoded).
    pub path: String,
    /// The raw query string as sent, without `?` (empty when none).
    pub query: String,
    /// The operation the request was routed to (`None` for an unknown route); JSON writes its
    /// snake_case `operationId`, e.g. `get_user`.
    pub operation: Option<Operation>,
    /// The status of the response head (after any fault; with an injected
    /// `dropConnection` the client may never see it).
    pub status: u16,
    /// Selected request headers (`authorization` redacted).
    pub headers: Vec<(String, String)>,
    /// The request body as text, if any (at most 64 KiB kept).
    pub body: Option<String>,
    /// When the request arrived.
    #[serde(with = "crate::state::unix_ms")]
    pub at: SystemTime,
    /// Monotonic time since the emulator started.
    #[serde(with = "duration_ms")]
    pub elapsed: Duration,
    /// Whether the request used a non-documented query form (bracketed keys, or a plain
    /// key where an indexed array or dotted object is documented).
    pub nonstandard_query: bool,
    /// Whether the operation ran to success against the state (for mutations: the change
    /// was applied, even if an after-apply fault then damaged the response).
    pub applied: bool,
    /// The fault that hit this request, if any (`status:503`, `dropConnection`, ...).
    pub fault: Option<String>,
    /// Whether the request was rejected by the rate limiter.
    pub rate_limited: bool,
    /// The request's count in its rate-limit window (`X-RateLimit-Consumed`), when limits
    /// are on and the request was counted.
    pub rate_limit_consumed: Option<u32>,
    /// What was left in the window after it (`X-RateLimit-Remaining`).
    pub rate_limit_remaining: Option<u32>,
}

mod duration_ms {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64() * 1000.0)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let ms = f64::deserialize(d)?;
        Ok(Duration::from_secs_f64((ms / 1000.0).max(0.0)))
    }
}

/// Headers worth recording.
pub(crate) fn keep_header(name: &str) -> bool {
    matches!(
        name,
        "authorization"
            | "accept"
            | "content-type"
            | "content-length"
            | "user-agent"
            | "idempotency-key"
            | "accept-encoding"
    ) || name.starts_with("x-")
}

/// Redacts an `Authorization` value: the scheme stays, the credential does not.
pub(crate) fn redact(value: &str) -> String {
    match value.split_once(' ') {
        Some((scheme, _)) => format!("{scheme} <redacted>"),
        None => "<redacted>".to_string(),
    }
}

pub(crate) struct Journal {
    capacity: usize,
    inner: Mutex<(u64, VecDeque<JournalEntry>)>,
}

impl Journal {
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            inner: Mutex::new((0, VecDeque::new())),
        }
    }

    pub fn record(&self, mut e: JournalEntry) {
        if self.capacity == 0 {
            return;
        }
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        g.0 += 1;
        e.seq = g.0;
        if g.1.len() >= self.capacity {
            g.1.pop_front();
        }
        g.1.push_back(e);
    }

    pub fn entries(&self) -> Vec<JournalEntry> {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .1
            .iter()
            .cloned()
            .collect()
    }

    pub fn clear(&self) {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .1
            .clear();
    }
}
