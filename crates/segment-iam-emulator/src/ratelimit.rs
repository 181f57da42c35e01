//! Fixed-window rate limits per (token, bucket).
//!
//! A window opens with the first request of a (token, bucket) after the previous window
//! ended and lasts exactly the configured length (the behaviour of `rate-limiter-flexible`,
//! whose `msBeforeNext` / `remainingPoints` / `consumedPoints` names the service's 429 body
//! uses). Every request counts, rejected ones included, so `consumedPoints` can exceed the
//! limit. A rejected request is never applied.
//!
//! `X-RateLimit-Reset` has one-second resolution; it is rounded *up* so that a client that
//! waits until the announced reset never lands inside the closed window. `msBeforeNext` is
//! the exact remaining time, rounded up to the millisecond.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The two limit buckets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Bucket {
    /// POST, PUT, PATCH, DELETE: the documented 60 per minute.
    Mutations,
    /// GET: the higher default limit.
    Reads,
}

/// Rate-limit settings.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Whether limits are enforced (and headers sent) at all.
    pub enabled: bool,
    /// Requests per window for mutations.
    pub mutations: u32,
    /// Requests per window for reads.
    pub reads: u32,
    /// Window length.
    pub window: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            enabled: true,
            mutations: 60,
            reads: 1000,
            window: Duration::from_secs(60),
        }
    }
}

/// The outcome of counting one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    /// Whether the request may proceed.
    pub allowed: bool,
    /// Requests counted in the current window, this one included.
    pub consumed: u32,
    /// Requests left in the window.
    pub remaining: u32,
    /// Milliseconds until the window ends (rounded up).
    pub ms_before_next: u64,
    /// When the window ends, rounded up to the next whole second.
    pub reset: SystemTime,
}

impl Decision {
    /// The three `X-RateLimit-*` headers.
    pub fn headers(&self) -> [(&'static str, String); 3] {
        [
            ("x-ratelimit-consumed", self.consumed.to_string()),
            ("x-ratelimit-remaining", self.remaining.to_string()),
            ("x-ratelimit-reset", httpdate::fmt_http_date(self.reset)),
        ]
    }
}

#[derive(Debug, Clone, Copy)]
struct Window {
    end: Instant,
    consumed: u32,
}

/// The limiter.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    limits: Limits,
    windows: Mutex<HashMap<(String, Bucket), Window>>,
}

fn ceil_to_second(t: SystemTime) -> SystemTime {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => {
            let secs = if d.subsec_nanos() > 0 {
                d.as_secs() + 1
            } else {
                d.as_secs()
            };
            UNIX_EPOCH + Duration::from_secs(secs)
        }
        Err(_) => t,
    }
}

impl RateLimiter {
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Counts a request of `token` in `bucket`; `None` when limits are off.
    pub fn check(&self, token: &str, bucket: Bucket) -> Option<Decision> {
        if !self.limits.enabled {
            return None;
        }
        let limit = match bucket {
            Bucket::Mutations => self.limits.mutations,
            Bucket::Reads => self.limits.reads,
        };
        let now = Instant::now();
        let sys_now = SystemTime::now();
        let mut map = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        let w = map.entry((token.to_string(), bucket)).or_insert(Window {
            end: now + self.limits.window,
            consumed: 0,
        });
        if now >= w.end {
            *w = Window {
                end: now + self.limits.window,
                consumed: 0,
            };
        }
        w.consumed = w.consumed.saturating_add(1);
        let left = w.end.saturating_duration_since(now);
        let ms = left.as_nanos().div_ceil(1_000_000) as u64;
        Some(Decision {
            allowed: w.consumed <= limit,
            consumed: w.consumed,
            remaining: limit.saturating_sub(w.consumed),
            ms_before_next: ms,
            reset: ceil_to_second(sys_now + left),
        })
    }

    /// Forgets every window.
    pub fn reset(&self) {
        self.windows
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_counts_requests_and_refuses_past_its_limit() {
        let rl = RateLimiter::new(Limits {
            enabled: true,
            mutations: 2,
            reads: 5,
            window: Duration::from_millis(300),
        });
        let a = rl.check("t", Bucket::Mutations).expect("on");
        assert!(a.allowed);
        assert_eq!((a.consumed, a.remaining), (1, 1));
        assert!(a.ms_before_next <= 300 && a.ms_before_next > 200);
        assert!(rl.check("t", Bucket::Mutations).expect("on").allowed);
        let c = rl.check("t", Bucket::Mutations).expect("on");
        assert!(!c.allowed);
        assert_eq!((c.consumed, c.remaining), (3, 0));
        // Other bucket and other token are independent.
        assert!(rl.check("t", Bucket::Reads).expect("on").allowed);
        assert!(rl.check("u", Bucket::Mutations).expect("on").allowed);
        std::thread::sleep(Duration::from_millis(c.ms_before_next));
        let d = rl.check("t", Bucket::Mutations).expect("on");
        assert!(d.allowed);
        assert_eq!(d.consumed, 1);
    }

    #[test]
    fn reset_header_rounds_up() {
        let t = UNIX_EPOCH + Duration::from_millis(1_500);
        assert_eq!(ceil_to_second(t), UNIX_EPOCH + Duration::from_secs(2));
        let t = UNIX_EPOCH + Duration::from_secs(3);
        assert_eq!(ceil_to_second(t), t);
    }

    #[test]
    fn with_limits_off_nothing_is_counted() {
        let rl = RateLimiter::new(Limits {
            enabled: false,
            ..Limits::default()
        });
        assert!(rl.check("t", Bucket::Reads).is_none());
    }
}
