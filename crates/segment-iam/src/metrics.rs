//! Counters every clone of a client shares, so waiting on the service is visible.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

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
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    requests: AtomicU64,
    retries: AtomicU64,
    rate_limited: AtomicU64,
    waited_micros: AtomicU64,
    waiting: AtomicU64,
    any_waiting: AtomicBool,
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
    pub(crate) fn snapshot(&self) -> Metrics {
        Metrics {
            requests: self.requests.load(Ordering::Relaxed),
            retries: self.retries.load(Ordering::Relaxed),
            rate_limited: self.rate_limited.load(Ordering::Relaxed),
            waited: Duration::from_micros(self.waited_micros.load(Ordering::Relaxed)),
            waiting_now: self.waiting.load(Ordering::Relaxed) > 0,
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
