//! Counters every clone of a client shares, so waiting on the service is visible.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// What a call is waiting for right now, told apart so an operator knows whether the service's
/// rate limit or a failure is the cause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Wait {
    /// The rate-limit window is spent; it opens again in about `remaining`.
    RateLimit {
        /// Time left until the window opens (0 when it is about to).
        remaining: Duration,
    },
    /// Backing off before retrying a failed attempt (a 5xx, a cut connection, a 429).
    Backoff {
        /// Time left until the retry.
        remaining: Duration,
        /// Whether the failure was a 429 (the service's advised wait) rather than an error.
        rate_limited: bool,
    },
}

/// A snapshot of a client's counters since it was built.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Metrics {
    /// Requests sent.
    pub requests: u64,
    /// Requests that were retries of an earlier attempt.
    pub retries: u64,
    /// 429 answers received.
    pub rate_limited: u64,
    /// Total time calls spent waiting: pacing before sends, and waits between attempts.
    pub waited: Duration,
    /// Whether some call is waiting on the rate limit right now.
    pub waiting_now: bool,
    /// What the waiting is for, when some call waits: a retry's backoff takes precedence over
    /// a spent window.
    pub waiting_for: Option<Wait>,
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    requests: AtomicU64,
    retries: AtomicU64,
    rate_limited: AtomicU64,
    waited_micros: AtomicU64,
    waiting: AtomicU64,
    any_waiting: AtomicBool,
    /// The end of the latest retry backoff under way, and whether it follows a 429.
    backoff_until: Mutex<Option<(Instant, bool)>>,
}

impl Counters {
    pub(crate) fn request(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn retry(&self) {
        self.retries.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn rate_limited(&self) {
        self.rate_limited.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn waited(&self, d: Duration) {
        let micros = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        self.waited_micros.fetch_add(micros, Ordering::Relaxed);
    }
    /// Marks a wait as under way until the guard drops.
    pub(crate) fn waiting(&self) -> WaitingGuard<'_> {
        self.waiting.fetch_add(1, Ordering::Relaxed);
        self.any_waiting.store(true, Ordering::Relaxed);
        WaitingGuard(self)
    }
    /// Marks a retry backoff until `until` (the latest wins while several overlap).
    pub(crate) fn backoff(&self, until: Instant, rate_limited: bool) {
        if let Ok(mut slot) = self.backoff_until.lock()
            && slot.is_none_or(|(u, _)| u < until)
        {
            *slot = Some((until, rate_limited));
        }
    }

    /// What a waiting call waits for at `now`, given when the spent window opens.
    pub(crate) fn waiting_for(&self, now: Instant, window_opens: Option<Instant>) -> Option<Wait> {
        if self.waiting.load(Ordering::Relaxed) == 0 {
            return None;
        }
        let backoff = self.backoff_until.lock().ok().and_then(|slot| *slot);
        if let Some((until, rate_limited)) = backoff.filter(|(u, _)| *u > now) {
            return Some(Wait::Backoff {
                remaining: until - now,
                rate_limited,
            });
        }
        Some(Wait::RateLimit {
            remaining: window_opens.map_or(Duration::ZERO, |w| w.saturating_duration_since(now)),
        })
    }

    pub(crate) fn snapshot(&self) -> Metrics {
        Metrics {
            requests: self.requests.load(Ordering::Relaxed),
            retries: self.retries.load(Ordering::Relaxed),
            rate_limited: self.rate_limited.load(Ordering::Relaxed),
            waited: Duration::from_micros(self.waited_micros.load(Ordering::Relaxed)),
            waiting_now: self.waiting.load(Ordering::Relaxed) > 0,
            waiting_for: None,
        }
    }
}

pub(crate) struct WaitingGuard<'a>(&'a Counters);

impl Drop for WaitingGuard<'_> {
    fn drop(&mut self) {
        if self.0.waiting.fetch_sub(1, Ordering::Relaxed) == 1 {
            self.0.any_waiting.store(false, Ordering::Relaxed);
        }
    }
}
