//! Client-side pacing from the service's own rate-limit headers.
//!
//! The service limits per token and per bucket (mutations at 60 per window; reads higher) and
//! tells us after each request how many remain (`X-RateLimit-Remaining`) and when the window
//! resets (`X-RateLimit-Reset`). One [`Limiter`], shared by all clones of a client, spends that
//! budget: when a bucket is empty it holds the next request until the reset instead of sending
//! it to learn that it is empty. A 429's advised wait closes the bucket for everyone.
//!
//! `X-RateLimit-Reset` has one-second resolution, rounded up, so the true end of a window lies
//! up to a second before it. For long windows (the service's minute) that is a second in sixty; for
//! short ones it would dominate, so when a window is shorter than [`PROBE_BELOW`] one request
//! (and only one) is sent a second before the announced reset. Either it is served (the window
//! had ended) or its 429 carries `msBeforeNext`, the exact remaining time, which then holds
//! every request until precisely the end: at most one 429 per window, never a wasted second.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use tokio::sync::Notify;

/// Windows shorter than this are probed a second before their announced reset.
pub(crate) const PROBE_BELOW: Duration = Duration::from_secs(50);

// The service's rate-limit headers, named once: a lookup by `&str` parses the name per call.
static REMAINING: HeaderName = HeaderName::from_static("x-ratelimit-remaining");
static CONSUMED: HeaderName = HeaderName::from_static("x-ratelimit-consumed");
pub(crate) static RESET: HeaderName = HeaderName::from_static("x-ratelimit-reset");

/// The resolution of `X-RateLimit-Reset`.
const RESET_RESOLUTION: Duration = Duration::from_secs(1);

/// The service's limit buckets, as the operation table assigns them.
pub(crate) use segment_iam_api::RateLimitBucket as Bucket;

/// The index of a bucket's state.
fn slot(bucket: Bucket) -> usize {
    match bucket {
        Bucket::Reads => 0,
        Bucket::Mutations => 1,
    }
}

#[derive(Debug, Default)]
struct BucketState {
    /// Requests per window, learned from `Consumed + Remaining`.
    limit: Option<u32>,
    /// Requests we may still send in the current window; `None` until a response tells us.
    available: Option<u32>,
    /// When the current window ends (as announced, or exactly after a 429).
    reset_at: Option<Instant>,
    /// Whether `reset_at` is exact (from `msBeforeNext`) rather than rounded up.
    reset_exact: bool,
    /// How long a window seemed to last when it opened (for the probing decision).
    window_estimate: Option<Duration>,
    /// The probe of the current window was sent.
    probed: bool,
    /// No request before this instant (a 429's advice).
    closed_until: Option<Instant>,
    /// Requests sent and not yet answered.
    in_flight: u32,
    /// The service sent no rate-limit headers: do not pace.
    unmetered: bool,
    /// The last `X-RateLimit-Reset` value and what it parsed to, so that an unchanged header
    /// (every response of a window) is not parsed again.
    last_reset: Option<(HeaderValue, Option<Instant>)>,
    /// `(Consumed, Remaining)` of the current window's freshest answer (the highest
    /// `X-RateLimit-Consumed`), whatever order answers arrive in.
    freshest: Option<(u32, u32)>,
}

impl BucketState {
    fn open_new_window(&mut self) {
        self.reset_at = None;
        self.reset_exact = false;
        self.probed = false;
        self.available = self.limit;
        self.freshest = None;
    }
}

/// What a caller must do before sending.
enum Decision {
    Go,
    SleepUntil(Instant),
    WaitForAnswer,
}

/// The shared pacing state of one client.
#[derive(Debug, Default)]
pub(crate) struct Limiter {
    buckets: Mutex<[BucketState; 2]>,
    answered: Notify,
    /// Tasks waiting for an answer; wake-ups are skipped when there are none (the hot path).
    waiting_for_answer: AtomicUsize,
}

/// A sent request's place in its bucket; frees it when dropped.
pub(crate) struct Permit<'a> {
    limiter: &'a Limiter,
    bucket: Bucket,
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        if let Ok(mut buckets) = self.limiter.buckets.lock() {
            let state = &mut buckets[slot(self.bucket)];
            state.in_flight = state.in_flight.saturating_sub(1);
        }
        self.limiter.wake();
    }
}

impl Limiter {
    fn wake(&self) {
        if self.waiting_for_answer.load(Ordering::Acquire) > 0 {
            self.answered.notify_waiters();
        }
    }

    /// Waits until `bucket` may send one more request and reserves it. Returns the permit and
    /// how long it waited.
    #[cfg(test)]
    pub(crate) async fn acquire(
        &self,
        bucket: Bucket,
        max_jitter: Duration,
    ) -> (Permit<'_>, Duration) {
        match self.acquire_within(bucket, max_jitter, Duration::MAX).await {
            Ok(granted) => granted,
            // Unreachable with an unbounded budget; granting is the safe fallback.
            Err(_) => (
                Permit {
                    limiter: self,
                    bucket,
                },
                Duration::ZERO,
            ),
        }
    }

    /// Like [`acquire`](Self::acquire), but gives up at once, returning the wait it would
    /// need, when the bucket will not open within `budget`. Sleeps get up to `max_jitter`
    /// added so that waiting tasks do not all fire at the same instant.
    pub(crate) async fn acquire_within(
        &self,
        bucket: Bucket,
        max_jitter: Duration,
        budget: Duration,
    ) -> Result<(Permit<'_>, Duration), Duration> {
        // The common case, room in the bucket, is decided at once. Only a request that has to
        // wait pays for the waiting state (a timer, a wake-up registration) on the heap, so
        // the future every request awaits stays small.
        if let Decision::Go = self.decide(bucket, Instant::now()) {
            let permit = Permit {
                limiter: self,
                bucket,
            };
            return Ok((permit, Duration::ZERO));
        }
        Box::pin(self.wait_within(bucket, max_jitter, budget)).await
    }

    /// The slow path of [`acquire_within`](Self::acquire_within): waits until the bucket has
    /// room, or gives up when that is past `budget`.
    async fn wait_within(
        &self,
        bucket: Bucket,
        max_jitter: Duration,
        budget: Duration,
    ) -> Result<(Permit<'_>, Duration), Duration> {
        let started = Instant::now();
        // Bounded: each turn either sends, or sleeps until a known instant, or waits for an
        // answer (with a timeout), so the loop always makes progress.
        loop {
            match self.decide(bucket, Instant::now()) {
                Decision::Go => {
                    let permit = Permit {
                        limiter: self,
                        bucket,
                    };
                    return Ok((permit, started.elapsed()));
                }
                Decision::SleepUntil(until) => {
                    let needed = until.saturating_duration_since(started);
                    if needed > budget {
                        return Err(until.saturating_duration_since(Instant::now()));
                    }
                    tracing::debug!(
                        target: "segment_iam::ratelimit",
                        bucket = ?bucket,
                        wait_ms = u64::try_from(until.saturating_duration_since(Instant::now()).as_millis()).unwrap_or(u64::MAX),
                        "rate-limit window is spent; holding the request until it resets"
                    );
                    // Sleep, but wake early when the bucket's state changes: a probe's 429
                    // may reveal that the window ends sooner than the rounded reset said.
                    let jitter = jitter(max_jitter);
                    self.waiting_for_answer.fetch_add(1, Ordering::AcqRel);
                    let changed = self.answered.notified();
                    tokio::select! {
                        _ = tokio::time::sleep_until((until + jitter).into()) => {}
                        _ = changed => {}
                    }
                    self.waiting_for_answer.fetch_sub(1, Ordering::AcqRel);
                }
                Decision::WaitForAnswer => {
                    self.waiting_for_answer.fetch_add(1, Ordering::AcqRel);
                    let answered = self.answered.notified();
                    // Re-check after registering, so an answer in between is not missed.
                    let ready = !matches!(self.decide_peek(bucket), Decision::WaitForAnswer);
                    if !ready {
                        let _ = tokio::time::timeout(Duration::from_secs(1), answered).await;
                    }
                    self.waiting_for_answer.fetch_sub(1, Ordering::AcqRel);
                }
            }
        }
    }

    /// What [`decide`](Self::decide) would say, without reserving anything.
    fn decide_peek(&self, bucket: Bucket) -> Decision {
        let Ok(buckets) = self.buckets.lock() else {
            return Decision::Go;
        };
        let state = &buckets[slot(bucket)];
        if state.unmetered || state.available.is_some_and(|a| a > 0) || state.in_flight == 0 {
            Decision::Go
        } else {
            Decision::WaitForAnswer
        }
    }

    fn decide(&self, bucket: Bucket, now: Instant) -> Decision {
        let Ok(mut buckets) = self.buckets.lock() else {
            return Decision::Go;
        };
        let state = &mut buckets[slot(bucket)];
        if let Some(until) = state.closed_until {
            if until > now {
                return Decision::SleepUntil(until);
            }
            state.closed_until = None;
        }
        if state.unmetered {
            state.in_flight += 1;
            return Decision::Go;
        }
        if state.reset_at.is_some_and(|reset| reset <= now) {
            // A new window: the whole limit is ours again, if we know it.
            state.open_new_window();
        }
        match state.available {
            Some(0) => match state.reset_at {
                Some(reset) => {
                    let short = state.window_estimate.is_some_and(|w| w < PROBE_BELOW);
                    if short && !state.reset_exact && !state.probed {
                        // The true end is within the second before `reset`: find out exactly.
                        let probe_at = reset.checked_sub(RESET_RESOLUTION).unwrap_or(now);
                        if now >= probe_at && state.in_flight == 0 {
                            state.probed = true;
                            state.in_flight += 1;
                            return Decision::Go;
                        }
                        if now < probe_at {
                            return Decision::SleepUntil(probe_at);
                        }
                        return Decision::WaitForAnswer;
                    }
                    Decision::SleepUntil(reset)
                }
                // Spent, and no reset told: one request at a time finds out when it opens
                // (waiting for an answer with nothing in flight would wait for ever).
                None if state.in_flight == 0 => {
                    state.in_flight += 1;
                    Decision::Go
                }
                None => Decision::WaitForAnswer,
            },
            Some(n) => {
                state.available = Some(n - 1);
                state.in_flight += 1;
                Decision::Go
            }
            // Nothing known yet: one request at a time until an answer tells us the budget.
            None if state.in_flight == 0 => {
                state.in_flight += 1;
                Decision::Go
            }
            None => Decision::WaitForAnswer,
        }
    }

    /// Learns from a response's `X-RateLimit-*` headers. Only a success without them means
    /// the bucket is unmetered: an error from a proxy or an overloaded front end often lacks
    /// them, and must not switch pacing off.
    pub(crate) fn observe(&self, bucket: Bucket, success: bool, headers: &HeaderMap) {
        let number = |name: &HeaderName| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u32>().ok())
        };
        let remaining = number(&REMAINING);
        let consumed = number(&CONSUMED);
        let reset_header = headers.get(&RESET);
        let Ok(mut buckets) = self.buckets.lock() else {
            return;
        };
        let state = &mut buckets[slot(bucket)];
        let Some(remaining) = remaining else {
            if success {
                state.unmetered = true;
            }
            drop(buckets);
            self.wake();
            return;
        };
        state.unmetered = false;
        let reset = match (reset_header, &state.last_reset) {
            (Some(raw), Some((last, parsed))) if raw == last => *parsed,
            (Some(raw), _) => {
                let parsed = raw.to_str().ok().and_then(reset_instant);
                state.last_reset = Some((raw.clone(), parsed));
                parsed
            }
            (None, _) => None,
        };
        if let Some(consumed) = consumed {
            state.limit = Some(consumed.saturating_add(remaining));
        }
        // Requests still in flight besides this one may not be counted in `remaining` yet.
        let others = state.in_flight.saturating_sub(1);
        let estimate = remaining.saturating_sub(others);
        let new_window = match (reset, state.reset_at) {
            (Some(new), Some(old)) => new > old + Duration::from_millis(500),
            (Some(_), None) => true,
            (None, _) => false,
        };
        if new_window {
            state.reset_at = reset;
            state.reset_exact = false;
            state.probed = false;
            state.window_estimate = reset.map(|r| r.saturating_duration_since(Instant::now()));
            state.available = Some(estimate);
            state.freshest = consumed.map(|c| (c, remaining));
            drop(buckets);
            self.wake();
            return;
        }
        let this_window = match (reset, state.reset_at) {
            (Some(new), Some(current)) => new + Duration::from_millis(500) >= current,
            _ => true,
        };
        match consumed {
            Some(consumed) if this_window => {
                if state.freshest.is_none_or(|(seen, _)| consumed > seen) {
                    state.freshest = Some((consumed, remaining));
                }
                // Every request the service counted after the freshest answer is still in
                // flight, so its `Remaining` less the others in flight is a safe floor of
                // what is left. Recomputed at each answer (not only lowered, as the local
                // count is): requests in flight that the service had already counted are
                // subtracted only until their own answers arrive, so a burst answered out of
                // order does not leave the end of the window unused.
                let (_, fresh_remaining) = state.freshest.unwrap_or((consumed, remaining));
                state.available = Some(fresh_remaining.saturating_sub(others));
            }
            // An answer without `Consumed`, or from an earlier window arriving late: it can
            // only lower the count.
            _ => state.available = Some(state.available.map_or(estimate, |a| a.min(estimate))),
        }
        drop(buckets);
        self.wake();
    }

    /// When the latest spent window of any bucket opens again, if one is spent now: for
    /// showing "waiting for the rate-limit window, N s left".
    pub(crate) fn spent_until(&self, now: Instant) -> Option<Instant> {
        let buckets = self.buckets.lock().ok()?;
        buckets
            .iter()
            .filter_map(|state| {
                let closed = state.closed_until.filter(|c| *c > now);
                let spent = state
                    .reset_at
                    .filter(|r| *r > now && state.available == Some(0) && !state.unmetered);
                closed.max(spent)
            })
            .max()
    }

    /// Closes `bucket` until `until`: the service said so with a 429, and its `msBeforeNext`
    /// is the exact end of the window.
    pub(crate) fn close_until(&self, bucket: Bucket, until: Instant) {
        if let Ok(mut buckets) = self.buckets.lock() {
            let state = &mut buckets[slot(bucket)];
            state.closed_until = Some(state.closed_until.map_or(until, |c| c.max(until)));
            state.available = Some(0);
            state.reset_at = Some(until);
            state.reset_exact = true;
        }
        self.wake();
    }
}

/// A uniformly random duration in `[0, max]`, so that waiting tasks do not all fire at once.
pub(crate) fn jitter(max: Duration) -> Duration {
    if max.is_zero() {
        return Duration::ZERO;
    }
    let micros = u64::try_from(max.as_micros()).unwrap_or(u64::MAX);
    Duration::from_micros(rand::Rng::random_range(&mut rand::rng(), 0..=micros))
}

/// The time from now until an HTTP date (RFC 9110: IMF-fixdate and the two obsolete forms),
/// zero for a date already past, `None` for text that is no date. The one reader of dates:
/// `X-RateLimit-Reset` here and in a 429's advice, `Retry-After` in [`super::retry`].
pub(crate) fn until_http_date(value: &str) -> Option<Duration> {
    let at = httpdate::parse_http_date(value.trim()).ok()?;
    Some(
        at.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// An HTTP date as a local instant (now plus the time until that date).
pub(crate) fn reset_instant(value: &str) -> Option<Instant> {
    until_http_date(value).map(|until| Instant::now() + until)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(consumed: u32, remaining: u32, reset_in: Duration) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-ratelimit-consumed", HeaderValue::from(consumed));
        h.insert("x-ratelimit-remaining", HeaderValue::from(remaining));
        let date = httpdate::fmt_http_date(SystemTime::now() + reset_in);
        h.insert(
            "x-ratelimit-reset",
            HeaderValue::from_str(&date).expect("date"),
        );
        h
    }

    #[tokio::test]
    async fn first_request_probes_then_budget_is_spent_without_waiting() {
        let limiter = Limiter::default();
        let (permit, waited) = limiter.acquire(Bucket::Mutations, Duration::ZERO).await;
        assert!(waited < Duration::from_millis(50), "{waited:?}");
        limiter.observe(
            Bucket::Mutations,
            true,
            &headers(1, 2, Duration::from_secs(30)),
        );
        drop(permit);
        for _ in 0..2 {
            let (p, waited) = limiter.acquire(Bucket::Mutations, Duration::ZERO).await;
            assert!(waited < Duration::from_millis(50));
            drop(p);
        }
        // The window is spent: the next acquire must not be granted before the reset.
        let blocked = tokio::time::timeout(
            Duration::from_millis(200),
            limiter.acquire(Bucket::Mutations, Duration::ZERO),
        )
        .await;
        assert!(blocked.is_err(), "an empty bucket must hold the request");
    }

    /// Rate-limit headers announcing the reset date `reset` (fixed by the caller, so that a
    /// second ticking over between two answers cannot turn them into two windows).
    fn headers_at(consumed: u32, remaining: u32, reset: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-ratelimit-consumed", HeaderValue::from(consumed));
        h.insert("x-ratelimit-remaining", HeaderValue::from(remaining));
        h.insert(
            "x-ratelimit-reset",
            HeaderValue::from_str(reset).expect("date"),
        );
        h
    }

    fn available(limiter: &Limiter, bucket: Bucket) -> Option<u32> {
        limiter.buckets.lock().expect("not poisoned")[slot(bucket)].available
    }

    /// Four requests in flight at once, counted by the service in order but answered freshest
    /// first: the count dips while their answers are pending, then comes back to exactly what
    /// the service has left, instead of staying at the dip (which wasted the end of every
    /// window under concurrency).
    #[tokio::test]
    async fn a_burst_answered_out_of_order_gives_back_what_the_service_has_left() {
        let limiter = Limiter::default();
        let reset = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(30));
        let earlier = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(20));
        let (first, _) = limiter.acquire(Bucket::Mutations, Duration::ZERO).await;
        limiter.observe(Bucket::Mutations, true, &headers_at(1, 9, &reset));
        drop(first);
        assert_eq!(available(&limiter, Bucket::Mutations), Some(9));
        let mut permits = Vec::new();
        for _ in 0..4 {
            permits.push(limiter.acquire(Bucket::Mutations, Duration::ZERO).await.0);
        }
        assert_eq!(available(&limiter, Bucket::Mutations), Some(5));
        // Counted 2, 3, 4, 5 by the service; answered 5, 2, 3, 4.
        let mut seen = Vec::new();
        for consumed in [5, 2, 3, 4] {
            limiter.observe(
                Bucket::Mutations,
                true,
                &headers_at(consumed, 10 - consumed, &reset),
            );
            permits.pop();
            seen.push(available(&limiter, Bucket::Mutations));
        }
        assert_eq!(seen, [Some(2), Some(3), Some(4), Some(5)]);
        // A late answer of an earlier window never raises the count.
        limiter.observe(Bucket::Mutations, true, &headers_at(1, 9, &earlier));
        assert_eq!(available(&limiter, Bucket::Mutations), Some(5));
        limiter.observe(Bucket::Mutations, true, &headers_at(9, 1, &earlier));
        assert_eq!(available(&limiter, Bucket::Mutations), Some(1));
    }

    #[tokio::test]
    async fn a_closed_bucket_waits_the_advised_time() {
        let limiter = Limiter::default();
        limiter.close_until(Bucket::Reads, Instant::now() + Duration::from_millis(150));
        let (_p, waited) = limiter.acquire(Bucket::Reads, Duration::ZERO).await;
        assert!(waited >= Duration::from_millis(140), "{waited:?}");
    }

    #[test]
    fn spent_until_tells_when_a_spent_or_closed_window_opens_and_nothing_otherwise() {
        let limiter = Limiter::default();
        let now = Instant::now();
        assert_eq!(
            limiter.spent_until(now),
            None,
            "nothing known: nothing spent"
        );
        let until = now + Duration::from_secs(7);
        limiter.close_until(Bucket::Reads, until);
        assert_eq!(limiter.spent_until(now), Some(until));
        assert_eq!(limiter.spent_until(until), None, "over once it is reached");
        let later = now + Duration::from_secs(9);
        limiter.close_until(Bucket::Mutations, later);
        assert_eq!(
            limiter.spent_until(now),
            Some(later),
            "the latest of the buckets"
        );
    }

    #[tokio::test]
    async fn reads_and_mutations_are_paced_in_separate_buckets() {
        let limiter = Limiter::default();
        let (p, _) = limiter.acquire(Bucket::Mutations, Duration::ZERO).await;
        limiter.observe(
            Bucket::Mutations,
            true,
            &headers(5, 0, Duration::from_secs(30)),
        );
        drop(p);
        let spent = limiter
            .acquire_within(Bucket::Mutations, Duration::ZERO, Duration::ZERO)
            .await;
        assert!(spent.is_err(), "the mutations window is spent");
        let reads = limiter
            .acquire_within(Bucket::Reads, Duration::ZERO, Duration::ZERO)
            .await;
        assert!(reads.is_ok(), "reads have their own window");
    }

    /// With the clock paused, a waiter woken by the answer resumes at the same instant; one
    /// left to its 1 s fallback timer resumes a second later.
    #[tokio::test(start_paused = true)]
    async fn a_request_waiting_for_the_probes_answer_wakes_when_it_arrives() {
        let limiter = std::sync::Arc::new(Limiter::default());
        let (probe, _) = limiter.acquire(Bucket::Mutations, Duration::ZERO).await;
        let started = tokio::time::Instant::now();
        let waiter = {
            let limiter = limiter.clone();
            tokio::spawn(async move {
                let (_permit, _) = limiter.acquire(Bucket::Mutations, Duration::ZERO).await;
                tokio::time::Instant::now()
            })
        };
        // Bounded: the waiter registers within a few polls.
        for _ in 0..1000 {
            if limiter.waiting_for_answer.load(Ordering::Acquire) > 0 {
                break;
            }
            tokio::task::yield_now().await;
        }
        assert!(
            limiter.waiting_for_answer.load(Ordering::Acquire) > 0,
            "the waiter waits"
        );
        limiter.observe(
            Bucket::Mutations,
            true,
            &headers(1, 5, Duration::from_secs(30)),
        );
        drop(probe);
        let resumed = waiter.await.expect("waiter");
        assert_eq!(
            resumed - started,
            Duration::ZERO,
            "woken by the answer, not the timer"
        );
    }

    #[tokio::test]
    async fn an_answer_without_headers_switches_pacing_off_only_when_it_is_a_success() {
        let limiter = Limiter::default();
        let (p, _) = limiter.acquire(Bucket::Reads, Duration::ZERO).await;
        limiter.observe(Bucket::Reads, true, &headers(5, 0, Duration::from_secs(30)));
        drop(p);
        // A spent window: with no budget the request is held back, and the wait is told.
        let needed = limiter
            .acquire_within(Bucket::Reads, Duration::ZERO, Duration::ZERO)
            .await
            .err()
            .expect("a spent window holds the request back");
        assert!(needed > Duration::from_secs(20), "{needed:?}");
        // An error without headers says nothing about metering: still held back.
        limiter.observe(Bucket::Reads, false, &HeaderMap::new());
        assert!(
            limiter
                .acquire_within(Bucket::Reads, Duration::ZERO, Duration::ZERO)
                .await
                .is_err()
        );
        // A success without headers: this bucket is not metered, so nothing is held back.
        limiter.observe(Bucket::Reads, true, &HeaderMap::new());
        let granted = limiter
            .acquire_within(Bucket::Reads, Duration::ZERO, Duration::ZERO)
            .await;
        assert!(granted.is_ok(), "unmetered buckets are not paced");
    }

    #[tokio::test]
    async fn a_short_window_is_probed_once_a_second_before_its_rounded_reset() {
        let limiter = Limiter::default();
        let (p, _) = limiter.acquire(Bucket::Mutations, Duration::ZERO).await;
        limiter.observe(
            Bucket::Mutations,
            true,
            &headers(5, 0, Duration::from_millis(2500)),
        );
        drop(p);
        let reset = limiter.buckets.lock().expect("lock")[1]
            .reset_at
            .expect("reset known");
        let (probe, _) = limiter.acquire(Bucket::Mutations, Duration::ZERO).await;
        let sent = Instant::now();
        assert!(
            sent + Duration::from_millis(900) <= reset + Duration::from_millis(50),
            "probe a second early"
        );
        // Only one probe: a second request waits for the probe's answer or the reset.
        let second = tokio::time::timeout(
            Duration::from_millis(300),
            limiter.acquire(Bucket::Mutations, Duration::ZERO),
        )
        .await;
        assert!(second.is_err(), "one probe per window");
        // The probe's 429 tells the exact end; the bucket opens right then.
        limiter.close_until(
            Bucket::Mutations,
            Instant::now() + Duration::from_millis(100),
        );
        drop(probe);
        let (_next, waited) = limiter.acquire(Bucket::Mutations, Duration::ZERO).await;
        assert!(waited < Duration::from_millis(400), "{waited:?}");
    }

    /// An HTTP date `from_now` ahead, computed once by the caller and shared by the answers of
    /// one window.
    fn date_in(from_now: Duration) -> String {
        httpdate::fmt_http_date(SystemTime::now() + from_now)
    }

    fn reset_of(limiter: &Limiter, bucket: Bucket) -> Instant {
        limiter.buckets.lock().expect("not poisoned")[slot(bucket)]
            .reset_at
            .expect("reset known")
    }

    fn goes(decision: &Decision) -> bool {
        matches!(decision, Decision::Go)
    }

    fn waits_for_answer(decision: &Decision) -> bool {
        matches!(decision, Decision::WaitForAnswer)
    }

    /// Until an answer tells the budget, requests go one at a time; one that ends without an
    /// answer (a connection error drops its permit) frees its place all the same.
    #[tokio::test(start_paused = true)]
    async fn until_the_first_answer_requests_go_one_at_a_time() {
        let limiter = Limiter::default();
        let now = Instant::now();
        let (first, _) = limiter.acquire(Bucket::Reads, Duration::ZERO).await;
        assert!(waits_for_answer(&limiter.decide(Bucket::Reads, now)));
        assert!(waits_for_answer(&limiter.decide(Bucket::Reads, now)));
        drop(first);
        assert!(
            goes(&limiter.decide(Bucket::Reads, now)),
            "its place is free"
        );
        assert!(
            waits_for_answer(&limiter.decide(Bucket::Reads, now)),
            "and taken again"
        );
    }

    /// A bucket closed by a 429 opens at the advised instant, not later.
    #[test]
    fn a_closed_bucket_opens_at_the_advised_instant() {
        let limiter = Limiter::default();
        let now = Instant::now();
        let until = now + Duration::from_secs(3);
        limiter.close_until(Bucket::Mutations, until);
        assert!(matches!(
            limiter.decide(Bucket::Mutations, until - Duration::from_millis(1)),
            Decision::SleepUntil(at) if at == until
        ));
        assert!(goes(&limiter.decide(Bucket::Mutations, until)));
    }

    /// A window spent by an answer that told no reset date is not waited on for ever: with
    /// nothing in flight, one request at a time goes to find out when it opens.
    #[tokio::test(start_paused = true)]
    async fn a_spent_window_with_no_reset_told_sends_one_request_at_a_time() {
        let limiter = Limiter::default();
        let now = Instant::now();
        let (p, _) = limiter.acquire(Bucket::Mutations, Duration::ZERO).await;
        let mut spent = HeaderMap::new();
        spent.insert("x-ratelimit-consumed", HeaderValue::from(60));
        spent.insert("x-ratelimit-remaining", HeaderValue::from(0));
        limiter.observe(Bucket::Mutations, true, &spent);
        assert!(waits_for_answer(&limiter.decide(Bucket::Mutations, now)));
        drop(p);
        assert!(goes(&limiter.decide(Bucket::Mutations, now)), "one goes");
        assert!(waits_for_answer(&limiter.decide(Bucket::Mutations, now)));
    }

    /// A 429's advised wait holds for everyone (and is shown as the wait), even when a late
    /// answer of a request sent before it says some are left.
    #[tokio::test(start_paused = true)]
    async fn a_429s_wait_holds_even_when_a_late_answer_says_some_are_left() {
        let limiter = Limiter::default();
        let (late, _) = limiter.acquire(Bucket::Mutations, Duration::ZERO).await;
        let now = Instant::now();
        let until = now + Duration::from_secs(3);
        limiter.close_until(Bucket::Mutations, until);
        let reset = date_in(Duration::from_secs(30));
        limiter.observe(Bucket::Mutations, true, &headers_at(3, 5, &reset));
        drop(late);
        assert_eq!(available(&limiter, Bucket::Mutations), Some(5));
        assert_eq!(limiter.spent_until(now), Some(until), "shown as spent");
        assert!(matches!(
            limiter.decide(Bucket::Mutations, now),
            Decision::SleepUntil(at) if at == until
        ));
        assert!(goes(&limiter.decide(Bucket::Mutations, until)));
    }

    /// The re-check made after registering for an answer tells whether `decide` would still
    /// wait for one, so an answer that arrived in between is not waited for.
    #[tokio::test(start_paused = true)]
    async fn the_recheck_waits_for_an_answer_only_when_decide_would() {
        let limiter = Limiter::default();
        let now = Instant::now();
        assert!(
            goes(&limiter.decide_peek(Bucket::Mutations)),
            "nothing in flight"
        );
        let (first, _) = limiter.acquire(Bucket::Mutations, Duration::ZERO).await;
        assert!(waits_for_answer(&limiter.decide_peek(Bucket::Mutations)));
        // The answer (without a reset date) tells 3 are left; the request is still in flight.
        let mut answer = HeaderMap::new();
        answer.insert("x-ratelimit-consumed", HeaderValue::from(1));
        answer.insert("x-ratelimit-remaining", HeaderValue::from(3));
        limiter.observe(Bucket::Mutations, true, &answer);
        assert!(
            goes(&limiter.decide_peek(Bucket::Mutations)),
            "a budget left"
        );
        let mut permits = vec![first];
        for _ in 0..3 {
            permits.push(limiter.acquire(Bucket::Mutations, Duration::ZERO).await.0);
        }
        // Spent, with no reset known: both wait for an answer.
        assert!(waits_for_answer(&limiter.decide_peek(Bucket::Mutations)));
        assert!(waits_for_answer(&limiter.decide(Bucket::Mutations, now)));
        permits.clear();
        assert!(
            goes(&limiter.decide_peek(Bucket::Mutations)),
            "all answered"
        );
        // An unmetered bucket never waits, whatever is in flight.
        let (_reading, _) = limiter.acquire(Bucket::Reads, Duration::ZERO).await;
        limiter.observe(Bucket::Reads, true, &HeaderMap::new());
        assert!(goes(&limiter.decide_peek(Bucket::Reads)));
    }

    /// Requests sent while the bucket looked unmetered are in flight like any other when an
    /// answer with rate-limit headers comes back: they are not counted as left.
    #[tokio::test(start_paused = true)]
    async fn requests_sent_unmetered_count_as_in_flight_when_headers_come_back() {
        let limiter = Limiter::default();
        let (first, _) = limiter.acquire(Bucket::Reads, Duration::ZERO).await;
        limiter.observe(Bucket::Reads, true, &HeaderMap::new());
        drop(first);
        let (a, _) = limiter.acquire(Bucket::Reads, Duration::ZERO).await;
        let (_b, _) = limiter.acquire(Bucket::Reads, Duration::ZERO).await;
        let reset = date_in(Duration::from_secs(30));
        limiter.observe(Bucket::Reads, true, &headers_at(1, 5, &reset));
        drop(a);
        assert_eq!(
            available(&limiter, Bucket::Reads),
            Some(4),
            "5 less the other"
        );
    }

    /// A spent short window is probed by one request a second before its rounded reset: not
    /// earlier, and not while another request is still in flight (its answer may tell more).
    #[tokio::test(start_paused = true)]
    async fn a_short_window_is_probed_a_second_before_its_reset_and_only_with_nothing_in_flight() {
        let limiter = Limiter::default();
        let (p, _) = limiter.acquire(Bucket::Mutations, Duration::ZERO).await;
        let reset = date_in(Duration::from_secs(4));
        limiter.observe(Bucket::Mutations, true, &headers_at(5, 0, &reset));
        let reset_at = reset_of(&limiter, Bucket::Mutations);
        let probe_at = reset_at - RESET_RESOLUTION;
        // Still in flight at the probe's time: wait for its answer.
        assert!(waits_for_answer(
            &limiter.decide(Bucket::Mutations, probe_at)
        ));
        drop(p);
        assert!(
            matches!(
                limiter.decide(Bucket::Mutations, probe_at - Duration::from_millis(300)),
                Decision::SleepUntil(at) if at == probe_at
            ),
            "not earlier"
        );
        assert!(
            goes(&limiter.decide(Bucket::Mutations, probe_at)),
            "the probe"
        );
        assert!(
            matches!(
                limiter.decide(Bucket::Mutations, probe_at + Duration::from_millis(10)),
                Decision::SleepUntil(at) if at == reset_at
            ),
            "one probe per window"
        );
    }

    /// Windows of at least [`PROBE_BELOW`] are not probed: the rounding costs little there, and
    /// the next request waits for the announced reset.
    #[tokio::test(start_paused = true)]
    async fn a_long_window_is_not_probed() {
        let limiter = Limiter::default();
        let (p, _) = limiter.acquire(Bucket::Mutations, Duration::ZERO).await;
        let reset = date_in(Duration::from_secs(60));
        limiter.observe(Bucket::Mutations, true, &headers_at(60, 0, &reset));
        drop(p);
        let reset_at = reset_of(&limiter, Bucket::Mutations);
        let late = reset_at - Duration::from_millis(500);
        assert!(matches!(
            limiter.decide(Bucket::Mutations, late),
            Decision::SleepUntil(at) if at == reset_at
        ));
        // A window of exactly PROBE_BELOW is long.
        limiter.buckets.lock().expect("not poisoned")[slot(Bucket::Mutations)].window_estimate =
            Some(PROBE_BELOW);
        assert!(matches!(
            limiter.decide(Bucket::Mutations, late),
            Decision::SleepUntil(at) if at == reset_at
        ));
    }

    /// A probe is in flight like any other request: answered after the next window opened and
    /// another request went out, that request is not counted as left.
    #[tokio::test(start_paused = true)]
    async fn a_probe_counts_as_in_flight_until_it_is_answered() {
        let limiter = Limiter::default();
        let (p, _) = limiter.acquire(Bucket::Mutations, Duration::ZERO).await;
        let reset = date_in(Duration::from_secs(4));
        limiter.observe(Bucket::Mutations, true, &headers_at(5, 0, &reset));
        drop(p);
        let reset_at = reset_of(&limiter, Bucket::Mutations);
        assert!(goes(
            &limiter.decide(Bucket::Mutations, reset_at - RESET_RESOLUTION)
        ));
        let next_window = reset_at + Duration::from_millis(1);
        assert!(goes(&limiter.decide(Bucket::Mutations, next_window)));
        assert_eq!(
            available(&limiter, Bucket::Mutations),
            Some(4),
            "limit less one"
        );
        // The probe was served in the new window: 1 consumed, 4 left, the other still out.
        let later = date_in(Duration::from_secs(64));
        limiter.observe(Bucket::Mutations, true, &headers_at(1, 4, &later));
        assert_eq!(available(&limiter, Bucket::Mutations), Some(3));
    }

    /// A later reset date opens a new window, whose count is the answer's `Remaining`.
    #[tokio::test(start_paused = true)]
    async fn a_later_reset_opens_a_new_window_with_the_answers_remaining() {
        let limiter = Limiter::default();
        let first = date_in(Duration::from_secs(30));
        let second = date_in(Duration::from_secs(90));
        let (p, _) = limiter.acquire(Bucket::Mutations, Duration::ZERO).await;
        limiter.observe(Bucket::Mutations, true, &headers_at(60, 0, &first));
        drop(p);
        assert_eq!(available(&limiter, Bucket::Mutations), Some(0));
        limiter.observe(Bucket::Mutations, true, &headers_at(1, 59, &second));
        assert_eq!(available(&limiter, Bucket::Mutations), Some(59));
    }

    /// Answers arriving in order: each newer one (higher `Consumed`) sets the count.
    #[tokio::test(start_paused = true)]
    async fn answers_in_order_each_set_the_count() {
        let limiter = Limiter::default();
        let reset = date_in(Duration::from_secs(30));
        let (first, _) = limiter.acquire(Bucket::Mutations, Duration::ZERO).await;
        limiter.observe(Bucket::Mutations, true, &headers_at(1, 9, &reset));
        drop(first);
        let mut permits = Vec::new();
        for _ in 0..2 {
            permits.push(limiter.acquire(Bucket::Mutations, Duration::ZERO).await.0);
        }
        let mut seen = Vec::new();
        for consumed in [2, 3] {
            limiter.observe(
                Bucket::Mutations,
                true,
                &headers_at(consumed, 10 - consumed, &reset),
            );
            permits.pop();
            seen.push(available(&limiter, Bucket::Mutations));
        }
        assert_eq!(seen, [Some(7), Some(7)]);
    }

    /// A late answer of an earlier window can only lower the count, and does not stand for
    /// the current window: the current window's next answer sets the count again.
    #[tokio::test(start_paused = true)]
    async fn a_late_answer_of_an_earlier_window_does_not_stand_for_the_current_one() {
        let limiter = Limiter::default();
        let current = date_in(Duration::from_secs(40));
        let earlier = date_in(Duration::from_secs(10));
        let (p, _) = limiter.acquire(Bucket::Mutations, Duration::ZERO).await;
        limiter.observe(Bucket::Mutations, true, &headers_at(1, 9, &current));
        drop(p);
        limiter.observe(Bucket::Mutations, true, &headers_at(9, 1, &earlier));
        assert_eq!(available(&limiter, Bucket::Mutations), Some(1));
        limiter.observe(Bucket::Mutations, true, &headers_at(2, 8, &current));
        assert_eq!(available(&limiter, Bucket::Mutations), Some(8));
    }

    /// A bucket spent until its announced reset is shown as such until then; one with a budget
    /// left, or unmetered, is not.
    #[tokio::test(start_paused = true)]
    async fn spent_until_tells_the_reset_of_a_window_spent_by_answers() {
        let limiter = Limiter::default();
        let reset = date_in(Duration::from_secs(30));
        let (p, _) = limiter.acquire(Bucket::Mutations, Duration::ZERO).await;
        limiter.observe(Bucket::Mutations, true, &headers_at(1, 1, &reset));
        drop(p);
        let reset_at = reset_of(&limiter, Bucket::Mutations);
        let now = reset_at - Duration::from_secs(5);
        assert_eq!(limiter.spent_until(now), None, "one left");
        limiter.observe(Bucket::Mutations, true, &headers_at(2, 0, &reset));
        assert_eq!(limiter.spent_until(now), Some(reset_at));
        assert_eq!(
            limiter.spent_until(reset_at),
            None,
            "over once it is reached"
        );
        limiter.observe(Bucket::Mutations, true, &HeaderMap::new());
        assert_eq!(limiter.spent_until(now), None, "unmetered");
    }

    /// Jitter spreads waits over `[0, max]`: never past `max`, and not all at the same instant.
    #[test]
    fn jitter_spreads_waits_up_to_its_maximum() {
        let max = Duration::from_secs(1);
        let draws: Vec<Duration> = (0..64).map(|_| jitter(max)).collect();
        assert!(draws.iter().all(|d| *d <= max));
        let distinct: std::collections::HashSet<_> = draws.iter().collect();
        assert!(distinct.len() > 1, "{draws:?}");
        assert_eq!(jitter(Duration::ZERO), Duration::ZERO);
    }

    #[test]
    fn reset_dates_parse() {
        assert!(reset_instant("Sun, 22 Nov 2026 10:15:00 GMT").is_some());
        assert!(reset_instant("not a date").is_none());
    }

    /// The one date reader: the three forms RFC 9110 allows, surrounding space ignored, a date
    /// past is no wait, anything else no date.
    #[test]
    fn http_dates_in_every_allowed_form_are_read_once() {
        let ahead = until_http_date(&format!(
            " {} ",
            httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(90))
        ))
        .expect("an IMF-fixdate");
        assert!(
            ahead > Duration::from_secs(80) && ahead <= Duration::from_secs(90),
            "{ahead:?}"
        );
        assert_eq!(
            until_http_date("Sunday, 06-Nov-94 08:49:37 GMT"),
            Some(Duration::ZERO),
            "RFC 850 form, past"
        );
        assert_eq!(
            until_http_date("Sun Nov  6 08:49:37 1994"),
            Some(Duration::ZERO),
            "asctime form, past"
        );
        assert_eq!(until_http_date("120"), None, "seconds are not a date");
    }
}
