//! 429 storms: an emulator whose limit is 0 answers every request 429, each with the
//! documented `msBeforeNext` (a 400 ms window here). The client spends its budget, stops with
//! `Error::RateLimited` carrying the last advised wait, and never sends sooner than advised.

use std::time::{Duration, Instant};

use segment_iam::{Error, RetryConfig};
use segment_iam_emulator::{EmulatorHandle, Operation};
use segment_iam_tests::{client_builder, emulator, start};

const WINDOW: Duration = Duration::from_millis(400);

async fn storm() -> EmulatorHandle {
    start(
        emulator()
            .rate_limits(true)
            .mutation_limit(0)
            .read_limit(0)
            .window(WINDOW),
    )
    .await
}

fn retry() -> RetryConfig {
    RetryConfig::standard()
        .initial_backoff(Duration::from_millis(1))
        .max_backoff(Duration::from_millis(1))
        .max_jitter(Duration::from_millis(5))
}

/// Every gap between two consecutive requests of the journal is at least the window (the
/// wait each 429 advised), less 5 ms for clock rounding.
fn assert_never_faster_than_advised(emu: &EmulatorHandle) -> usize {
    let journal = emu.journal();
    assert!(
        journal.iter().all(|e| e.rate_limited),
        "every request got a 429"
    );
    for pair in journal.windows(2) {
        let gap = pair[1].elapsed.saturating_sub(pair[0].elapsed);
        assert!(
            gap + Duration::from_millis(5) >= WINDOW,
            "request {} came {gap:?} after the 429 of request {}, which advised ~{WINDOW:?}",
            pair[1].seq,
            pair[0].seq
        );
    }
    journal.len()
}

fn advised(error: &Error) -> (Duration, u32) {
    match error {
        Error::RateLimited {
            advised_wait,
            attempts,
            ..
        } => (
            advised_wait.expect("the last advised wait is kept"),
            *attempts,
        ),
        other => panic!("expected RateLimited, got {other:?}"),
    }
}

/// Cases: 2 (pacing on and off), a POST and a GET each, budget 4 attempts. Asserts:
/// RateLimited after exactly 4 requests (journal) carrying a last advised wait in
/// (0, 400 ms], and consecutive requests never closer than the advised wait.
#[tokio::test]
async fn a_429_storm_exhausts_the_attempt_budget_and_never_spins_faster_than_advised() {
    for pacing in [true, false] {
        for get in [false, true] {
            let emu = storm().await;
            let client = client_builder(&emu)
                .pacing(pacing)
                .retry(retry().max_attempts(4))
                .build()
                .expect("client");
            let started = Instant::now();
            let error = if get {
                client.users().get("someone").await.map(drop)
            } else {
                client.groups().create("stormy").await.map(drop)
            }
            .expect_err("never gets through");
            let (wait, attempts) = advised(&error);
            assert!(wait > Duration::ZERO && wait <= WINDOW, "{wait:?}");
            assert_eq!(attempts, 4, "pacing {pacing}: {error}");
            assert_eq!(assert_never_faster_than_advised(&emu), 4);
            assert!(started.elapsed() >= WINDOW * 3, "{:?}", started.elapsed());
            assert!(error.to_string().contains("rate limited after 4 attempts"));
            assert_eq!(emu.applied_count(Operation::CreateUserGroup), 0);
        }
    }
}

/// Cases: 2 (pacing on and off), wait budget 1 s with unlimited attempts. Asserts:
/// RateLimited before the budget is overrun (total under 1 s plus one window), at most 3
/// requests (the fourth would need 1.2 s of waiting), never closer than advised, and the
/// advised wait is reported.
#[tokio::test]
async fn a_429_storm_exhausts_the_time_budget_and_reports_the_last_advised_wait() {
    for pacing in [true, false] {
        let emu = storm().await;
        let client = client_builder(&emu)
            .pacing(pacing)
            .retry(
                retry()
                    .max_attempts(100)
                    .max_total_wait(Duration::from_secs(1)),
            )
            .build()
            .expect("client");
        let started = Instant::now();
        let error = client
            .groups()
            .create("stormy")
            .await
            .expect_err("never gets through");
        let elapsed = started.elapsed();
        let (wait, attempts) = advised(&error);
        assert!(wait > Duration::ZERO && wait <= WINDOW, "{wait:?}");
        let sent = assert_never_faster_than_advised(&emu);
        assert!((2..=3).contains(&sent), "pacing {pacing}: {sent} requests");
        assert!(attempts as usize <= sent);
        assert!(
            elapsed < Duration::from_secs(1) + WINDOW,
            "pacing {pacing}: {elapsed:?}"
        );
        assert_eq!(client.metrics().rate_limited as usize, sent);
    }
}
