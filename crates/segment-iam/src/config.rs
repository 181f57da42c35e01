//! Everything a [`Client`](crate::Client) can be configured with, as plain values.

use std::fmt;
use std::time::Duration;

/// Where the workspace lives: the service has one base URL per region.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Region {
    /// `https://api.segmentapis.com`
    #[default]
    Us,
    /// `https://eu1.api.segmentapis.com`
    Eu,
}

impl Region {
    /// The region's base URL.
    pub fn base_url(self) -> &'static str {
        match self {
            Region::Us => "https://api.segmentapis.com",
            Region::Eu => "https://eu1.api.segmentapis.com",
        }
    }
}

/// How failed requests are retried. Cheap to copy; shared by all clones of a client.
///
/// * 429: wait what the service advises (`msBeforeNext`, else `X-RateLimit-Reset`, else
///   `Retry-After`) plus a little jitter, for any method: a 429 was not applied.
/// * 5xx, timeouts, cut connections, unreadable bodies: retried with capped exponential
///   backoff, jittered in its upper half (each wait is drawn between half the backoff and all
///   of it, so waits spread out yet never shrink to nothing), but only for idempotent methods
///   (GET, PUT, PATCH, DELETE). A POST is retried only when the connection was never made.
/// * Both stop at `max_attempts` requests or once `max_total_wait` would be exceeded.
///
/// Built like every other builder of the crate, with plain setters:
///
/// ```
/// use std::time::Duration;
/// let retry = segment_iam::RetryConfig::standard()
///     .max_attempts(3)
///     .max_total_wait(Duration::from_secs(20));
/// assert_eq!(retry.attempt_limit(), 3);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryConfig {
    pub(crate) max_attempts: u32,
    pub(crate) max_total_wait: Duration,
    pub(crate) initial_backoff: Duration,
    pub(crate) max_backoff: Duration,
    pub(crate) max_jitter: Duration,
}

impl RetryConfig {
    /// 5 attempts, at most 2 minutes of waiting, backoff from 200 ms up to 10 s.
    pub fn standard() -> Self {
        Self {
            max_attempts: 5,
            max_total_wait: Duration::from_secs(120),
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(10),
            max_jitter: Duration::from_millis(50),
        }
    }

    /// One attempt, no retries.
    pub fn disabled() -> Self {
        Self {
            max_attempts: 1,
            ..Self::standard()
        }
    }

    /// Sets the number of requests one call may make (at least 1).
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// Sets the most time one call may spend waiting between attempts.
    pub fn max_total_wait(mut self, wait: Duration) -> Self {
        self.max_total_wait = wait;
        self
    }

    /// Sets the first backoff after a transient failure (doubled each time).
    pub fn initial_backoff(mut self, backoff: Duration) -> Self {
        self.initial_backoff = backoff;
        self
    }

    /// Caps the backoff between two attempts.
    pub fn max_backoff(mut self, backoff: Duration) -> Self {
        self.max_backoff = backoff;
        self
    }

    /// Sets the most jitter added to a wait the service advised.
    pub fn max_jitter(mut self, jitter: Duration) -> Self {
        self.max_jitter = jitter;
        self
    }

    /// The number of requests one call may make (what [`max_attempts`](Self::max_attempts)
    /// set).
    pub fn attempt_limit(&self) -> u32 {
        self.max_attempts
    }

    /// The most time one call may spend waiting between attempts (what
    /// [`max_total_wait`](Self::max_total_wait) set).
    pub fn total_wait_limit(&self) -> Duration {
        self.max_total_wait
    }
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self::standard()
    }
}

/// A bearer token that never shows itself in `Debug` or `Display`.
#[derive(Clone)]
pub(crate) struct Token(pub(crate) String);

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

/// Default page size: what the service uses when none is sent.
pub const DEFAULT_PAGE_SIZE: u32 = 200;
/// The largest page the service serves.
pub const MAX_PAGE_SIZE: u32 = 1000;
/// Default limit on a request URL, under what common proxies and servers accept.
pub const DEFAULT_MAX_URL_LEN: usize = 8 * 1024;
/// Default limit on a response body.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 32 * 1024 * 1024;
/// The environment variable the token is read from when none is given.
pub const TOKEN_ENV: &str = "SEGMENT_PUBLIC_API_TOKEN";
