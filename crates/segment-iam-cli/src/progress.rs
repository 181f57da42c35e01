//! The progress line for long work: many pages, bulk changes, waits on the rate limit.
//!
//! Shown on stderr only when stderr is a terminal (never on pipes or in CI logs), and only once
//! the work has taken longer than [`SHOW_AFTER`], so quick commands never flicker. It says what
//! is being done and, while the client holds a request back (rate-limit pacing, a 429's advised
//! wait, or retry backoff), that it is waiting and for how long so far. Dropping it clears the
//! line (also on error or Ctrl-C).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use segment_iam::Wait;

/// Work that finishes sooner than this shows no progress line at all.
pub const SHOW_AFTER: Duration = Duration::from_millis(400);

/// How often the line is refreshed from the client's counters.
const REFRESH: Duration = Duration::from_millis(120);

/// What the client is doing right now, read from its metrics on every refresh.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Requests sent so far (including retries).
    pub requests: u64,
    /// What a held-back request waits for at this moment, if one does.
    pub waiting_for: Option<Wait>,
    /// A job's items done and total (offboard, audit), when it counts them.
    pub job: Option<(u64, u64)>,
}

/// A progress line; a no-op when disabled.
pub struct Progress {
    bar: Option<ProgressBar>,
    items: Arc<AtomicU64>,
    ticker: Option<tokio::task::JoinHandle<()>>,
}

impl Progress {
    /// A line that shows nothing (pipes, `-v`, tests).
    pub fn disabled() -> Self {
        Self {
            bar: None,
            items: Arc::new(AtomicU64::new(0)),
            ticker: None,
        }
    }

    /// Starts a line labelled `label` (e.g. "listing users") if `enabled`; `stats` reads the
    /// client's counters. Must be called inside a tokio runtime.
    pub fn start(
        enabled: bool,
        label: impl Into<String>,
        stats: impl Fn() -> Stats + Send + 'static,
    ) -> Self {
        if !enabled {
            return Self::disabled();
        }
        let label = label.into();
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
        bar.set_style(spinner_style());
        let items = Arc::new(AtomicU64::new(0));
        let ticker = {
            let bar = bar.clone();
            let items = Arc::clone(&items);
            tokio::spawn(async move {
                let started = Instant::now();
                let base = stats().requests;
                let mut shown = false;
                loop {
                    tokio::time::sleep(REFRESH).await;
                    let s = stats();
                    if !shown && started.elapsed() >= SHOW_AFTER {
                        bar.set_draw_target(ProgressDrawTarget::stderr());
                        bar.enable_steady_tick(REFRESH);
                        shown = true;
                    }
                    if let Some((done, total)) = s.job.filter(|(_, total)| *total > 0) {
                        if bar.length() != Some(total) {
                            bar.set_length(total);
                            bar.set_style(bar_style());
                        }
                        bar.set_position(done);
                    }
                    // With a known total the bar shows the count; the message need not.
                    let shown_items = if bar.length().is_some() {
                        0
                    } else {
                        items.load(Ordering::Relaxed)
                    };
                    bar.set_message(message(
                        &label,
                        shown_items,
                        s.requests.saturating_sub(base),
                        s.waiting_for,
                    ));
                }
            })
        };
        Self {
            bar: Some(bar),
            items,
            ticker: Some(ticker),
        }
    }

    /// Counts items received (list commands); with a known total the line becomes a bar.
    pub fn add_items(&self, n: usize, total: Option<u64>) {
        self.items.fetch_add(n as u64, Ordering::Relaxed);
        if let Some(bar) = &self.bar {
            if let Some(total) = total
                && bar.length() != Some(total)
            {
                bar.set_length(total);
                bar.set_style(bar_style());
            }
            bar.inc(n as u64);
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(t) = self.ticker.take() {
            t.abort();
        }
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

/// The text of the line, e.g. `deleting 3000 users: 2 requests — waiting for the rate-limit
/// window (41 s left)`, or `... — retrying after a failure in 2 s`: the two waits are told
/// apart, since only the second means something went wrong.
pub fn message(label: &str, items: u64, requests: u64, waiting: Option<Wait>) -> String {
    let mut m = label.to_string();
    let mut parts = Vec::new();
    if items > 0 {
        parts.push(format!("{items} item{}", if items == 1 { "" } else { "s" }));
    }
    if requests > 0 {
        parts.push(format!(
            "{requests} request{}",
            if requests == 1 { "" } else { "s" }
        ));
    }
    if !parts.is_empty() {
        m.push_str(": ");
        m.push_str(&parts.join(", "));
    }
    let secs = |d: Duration| d.as_secs_f64().ceil() as u64;
    match waiting {
        Some(Wait::RateLimit { remaining }) => m.push_str(&format!(
            " — waiting for the rate-limit window ({} s left)",
            secs(remaining)
        )),
        Some(Wait::Backoff {
            remaining,
            rate_limited: true,
        }) => m.push_str(&format!(
            " — rate limited, retrying in {} s as the service advised",
            secs(remaining)
        )),
        Some(Wait::Backoff { remaining, .. }) => m.push_str(&format!(
            " — retrying after a failure in {} s",
            secs(remaining)
        )),
        _ => {}
    }
    m
}

fn spinner_style() -> ProgressStyle {
    ProgressStyle::with_template("{spinner} {msg} [{elapsed}]")
        .unwrap_or_else(|_| ProgressStyle::default_spinner())
}

fn bar_style() -> ProgressStyle {
    ProgressStyle::with_template("{spinner} {msg} [{bar:30}] {pos}/{len} [{elapsed}]")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_forms() {
        assert_eq!(message("listing users", 0, 0, None), "listing users");
        assert_eq!(
            message("listing users", 1, 1, None),
            "listing users: 1 item, 1 request"
        );
        assert_eq!(
            message(
                "deleting 3 users",
                0,
                2,
                Some(Wait::RateLimit {
                    remaining: Duration::from_millis(11_200)
                })
            ),
            "deleting 3 users: 2 requests — waiting for the rate-limit window (12 s left)"
        );
        assert_eq!(
            message(
                "deleting 3 users",
                0,
                2,
                Some(Wait::Backoff {
                    remaining: Duration::from_millis(1_500),
                    rate_limited: false
                })
            ),
            "deleting 3 users: 2 requests — retrying after a failure in 2 s"
        );
    }

    #[test]
    fn templates_parse() {
        assert!(ProgressStyle::with_template("{spinner} {msg} [{elapsed}]").is_ok());
        assert!(
            ProgressStyle::with_template("{spinner} {msg} [{bar:30}] {pos}/{len} [{elapsed}]")
                .is_ok()
        );
    }

    #[tokio::test]
    async fn disabled_draws_nothing_and_enabled_counts_items_against_the_total() {
        let p = Progress::disabled();
        p.add_items(3, Some(10));
        assert!(p.bar.is_none() && p.ticker.is_none());
        drop(p);
        let p = Progress::start(true, "x", Stats::default);
        p.add_items(3, Some(10));
        p.add_items(2, Some(10));
        let bar = p.bar.clone().expect("a bar when enabled");
        assert_eq!((bar.position(), bar.length()), (5, Some(10)));
        assert_eq!(p.items.load(Ordering::Relaxed), 5);
        drop(p);
        assert!(bar.is_finished(), "dropping the line finishes (clears) it");
    }
}
