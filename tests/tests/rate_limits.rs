//! Rate limits and 429 advice: a 429 is absorbed by waiting what the service advises, whichever
//! signal carries the advice (`msBeforeNext`, `X-RateLimit-Reset`, `Retry-After` in seconds or
//! as a date) and whatever the body; without advice the standard backoff applies; a wait beyond
//! the budget is a typed error; pacing keeps the client (and its clones) out of closed windows.
//! Each retry's timing is read from the emulator's journal, never from a sleep.
//!
//! The header cases go through [`relay_adding_to_429`], since the emulator cannot put those
//! headers on a 429 of its own.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use segment_iam::{Client, RetryConfig};
use segment_iam_emulator::{EmulatorHandle, Fault, JournalEntry, Operation};
use segment_iam_tests::relay::relay_adding_to_429;
use segment_iam_tests::{TOKEN, client, emulator, http_date, start};

/// How much earlier than advised a retry may arrive and still count as having waited: the
/// point is the order of events, not the precision of timers.
const TOLERANCE: Duration = Duration::from_millis(50);

/// A 429 envelope without `msBeforeNext`: the wait must come from elsewhere.
const BARE_429: &str = r#"{"errors":[{"type":"RequestError","message":"Too many requests"}]}"#;

/// A whole second between 1 and 2 s from now (HTTP dates have one-second resolution).
fn one_to_two_seconds_ahead() -> SystemTime {
    let in_two = SystemTime::now() + Duration::from_secs(2);
    let secs = in_two
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    UNIX_EPOCH + Duration::from_secs(secs)
}

/// A client of `base_url` with the test token. `initial_backoff` sets the standard backoff
/// after a 429 without advice: between half of it and all of it, plus up to 50 ms of jitter.
fn client_of(base_url: &str, initial_backoff: Duration) -> Client {
    Client::builder()
        .token(TOKEN)
        .base_url(base_url)
        .timeout(Duration::from_secs(10))
        .retry(
            RetryConfig::standard()
                .initial_backoff(initial_backoff)
                .max_backoff(initial_backoff)
                .max_total_wait(Duration::from_secs(20)),
        )
        .build()
        .expect("client builds")
}

/// Injects one 429 (`body` as `content_type`) on `get_user`, gets a user through a relay that
/// adds `header` to 429s (when given), and checks the call succeeds with exactly two requests,
/// the first answered 429. Returns the two journal entries.
async fn get_user_after_one_429(
    emu: &EmulatorHandle,
    content_type: &str,
    body: &'static str,
    header: Option<(&'static str, String)>,
    initial_backoff: Duration,
) -> (JournalEntry, JournalEntry) {
    emu.inject(
        Fault::respond(429, content_type, body)
            .on_operation(Operation::GetUser)
            .times(1),
    );
    let base_url = match header {
        Some((name, value)) => relay_adding_to_429(emu.addr(), name, value),
        None => emu.base_url(),
    };
    let client = client_of(&base_url, initial_backoff);
    let id = emu.user_ids()[0].clone();
    let user = client
        .users()
        .get(&id)
        .await
        .expect("the call succeeds after waiting out the 429");
    assert_eq!(user.id, id);
    let sent = emu.journal_for(Operation::GetUser);
    assert_eq!(sent.len(), 2, "one 429, one retry: {sent:?}");
    assert_eq!((sent[0].status, sent[1].status), (429, 200));
    assert_eq!(client.metrics().rate_limited, 1);
    (sent[0].clone(), sent[1].clone())
}

/// The time between two requests, as the emulator saw them arrive.
fn gap(first: &JournalEntry, second: &JournalEntry) -> Duration {
    second
        .elapsed
        .checked_sub(first.elapsed)
        .expect("journal entries in order")
}

/// The wait a date advised to a client that heard it no earlier than `first` arrived.
fn advised_by(date: SystemTime, first: &JournalEntry) -> Duration {
    date.duration_since(first.at)
        .expect("the date lies after the first request")
}

#[tokio::test]
async fn a_429_is_absorbed_and_nothing_is_sent_inside_the_closed_window() {
    let emu = start(
        emulator()
            .rate_limits(true)
            .mutation_limit(3)
            .window(Duration::from_secs(1)),
    )
    .await;
    // Pacing off: the client only learns from the 429 itself, which must then be honoured.
    let client = segment_iam_tests::client_builder(&emu)
        .pacing(false)
        .build()
        .expect("client");
    for i in 0..5 {
        client
            .groups()
            .create(format!("group {i}"))
            .await
            .expect("absorbed");
    }
    assert_eq!(emu.state().groups.len(), 5);
    let journal = emu.journal();
    let limited: Vec<_> = journal.iter().filter(|e| e.rate_limited).collect();
    assert!(!limited.is_empty(), "the test must provoke a 429");
    assert!(client.metrics().rate_limited >= 1);
    for hit in limited {
        // The next request after a 429 comes after the window it was refused in.
        let next = journal
            .iter()
            .find(|e| e.seq > hit.seq)
            .expect("a retry followed");
        assert!(!next.rate_limited, "retried into a closed window");
        // The emulator's own count: the first request of a window is its 1st. (Windows open at
        // their first request, so they cannot be inferred from wall-clock seconds.)
        assert_eq!(
            next.rate_limit_consumed,
            Some(1),
            "the retry after the 429 at seq {} opened a new window",
            hit.seq
        );
    }
}

#[tokio::test]
async fn pacing_costs_at_most_one_429_per_window_boundary() {
    let emu = start(
        emulator()
            .rate_limits(true)
            .mutation_limit(4)
            .window(Duration::from_secs(1)),
    )
    .await;
    let client = client(&emu);
    for i in 0..10 {
        client
            .groups()
            .create(format!("paced {i}"))
            .await
            .expect("paced");
    }
    let limited = emu.journal().iter().filter(|e| e.rate_limited).count();
    // 10 creates at 4 per window cross 2 window boundaries. A 1 s window is shorter than the
    // reset header's resolution allows to pace exactly, so the client may probe each boundary
    // once and take the 429's exact msBeforeNext; never more than that.
    assert!(
        limited <= 2,
        "{limited} 429s; pacing allows at most one per window boundary"
    );
    assert!(
        client.metrics().waited > Duration::ZERO,
        "pacing must have held requests"
    );
}

#[tokio::test]
async fn clones_share_one_limit() {
    let emu = start(
        emulator()
            .rate_limits(true)
            .mutation_limit(5)
            .window(Duration::from_secs(1)),
    )
    .await;
    let client = client(&emu);
    let mut tasks = Vec::new();
    for t in 0..8 {
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..2 {
                client
                    .groups()
                    .create(format!("t{t} g{i}"))
                    .await
                    .expect("created");
            }
        }));
    }
    for task in tasks {
        task.await.expect("task");
    }
    assert_eq!(emu.state().groups.len(), 16);
    // No window ever saw more requests than its limit plus one, by the emulator's own count
    // of each window's requests.
    let journal = emu.journal();
    let creates: Vec<_> = journal
        .iter()
        .filter(|e| e.operation == Some(Operation::CreateUserGroup))
        .collect();
    assert!(creates.len() >= 16);
    for e in creates {
        let consumed = e.rate_limit_consumed.expect("counted");
        assert!(
            consumed <= 6,
            "request {} was the {consumed}th of its window",
            e.seq
        );
    }
}

#[tokio::test]
async fn a_429_advising_more_than_the_wait_budget_is_a_typed_error_at_once() {
    let emu = start(
        emulator()
            .rate_limits(true)
            .mutation_limit(1)
            .window(Duration::from_secs(30)),
    )
    .await;
    let client = segment_iam_tests::client_builder(&emu)
        .retry(segment_iam::RetryConfig::standard().max_total_wait(Duration::from_secs(1)))
        .build()
        .expect("client");
    client
        .groups()
        .create("first")
        .await
        .expect("within the limit");
    let started = std::time::Instant::now();
    let err = client
        .groups()
        .create("second")
        .await
        .expect_err("over budget");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "must not wait out a 30 s window"
    );
    match err {
        segment_iam::Error::RateLimited { advised_wait, .. } => {
            let advised = advised_wait.expect("the service's advice is kept");
            assert!(advised > Duration::from_secs(20), "{advised:?}");
        }
        other => panic!("expected RateLimited, got {other:?}"),
    }
}

/// A 429 whose only signal is `X-RateLimit-Reset` (a date 1-2 s ahead, no `msBeforeNext`, no
/// `Retry-After`) is waited out until that date: the retry reaches the emulator no earlier
/// than the date advised. Fails if the reset header is ignored (the standard backoff here is
/// 10-20 ms).
#[tokio::test]
async fn a_429_with_only_a_reset_date_is_waited_out_until_that_date() {
    let emu = start(emulator().users(1)).await;
    let reset = one_to_two_seconds_ahead();
    let (first, second) = get_user_after_one_429(
        &emu,
        "application/json",
        BARE_429,
        Some(("x-ratelimit-reset", http_date(reset))),
        Duration::from_millis(20),
    )
    .await;
    let advised = advised_by(reset, &first);
    assert!(
        advised >= Duration::from_millis(900),
        "the date is ahead: {advised:?}"
    );
    assert!(
        gap(&first, &second) + TOLERANCE >= advised,
        "retried {:?} after the 429, advised {advised:?}",
        gap(&first, &second)
    );
}

/// A 429 with only `Retry-After: 1` (seconds) is waited out for a second. Fails if
/// `Retry-After` is ignored (the standard backoff here is 10-20 ms).
#[tokio::test]
async fn a_429_with_only_retry_after_seconds_is_waited_out() {
    let emu = start(emulator().users(1)).await;
    let (first, second) = get_user_after_one_429(
        &emu,
        "application/json",
        BARE_429,
        Some(("retry-after", "1".to_string())),
        Duration::from_millis(20),
    )
    .await;
    assert!(
        gap(&first, &second) + TOLERANCE >= Duration::from_secs(1),
        "retried {:?} after a 429 advising 1 s",
        gap(&first, &second)
    );
}

/// A 429 with only `Retry-After` as an HTTP date (1-2 s ahead) is waited out until that date.
/// Fails if a dated `Retry-After` is ignored or read as no advice.
#[tokio::test]
async fn a_429_with_only_a_dated_retry_after_is_waited_out_until_that_date() {
    let emu = start(emulator().users(1)).await;
    let at = one_to_two_seconds_ahead();
    let (first, second) = get_user_after_one_429(
        &emu,
        "application/json",
        BARE_429,
        Some(("retry-after", http_date(at))),
        Duration::from_millis(20),
    )
    .await;
    let advised = advised_by(at, &first);
    assert!(
        advised >= Duration::from_millis(900),
        "the date is ahead: {advised:?}"
    );
    assert!(
        gap(&first, &second) + TOLERANCE >= advised,
        "retried {:?} after the 429, advised {advised:?}",
        gap(&first, &second)
    );
}

/// `Retry-After: 0.5` is not a valid value (RFC 9110: whole seconds or a date), and
/// `advised_wait` documents it as no advice: the standard backoff applies, never a misread
/// number. The backoff is set to 3 s (so 1.5-3 s after a 429) to tell it apart from 0.5 s or
/// from 0; fails if the fraction is honoured, truncated to 0, or makes the call fail.
#[tokio::test]
async fn a_fractional_retry_after_is_no_advice_and_the_standard_backoff_applies() {
    let emu = start(emulator().users(1)).await;
    let backoff = Duration::from_secs(3);
    let (first, second) = get_user_after_one_429(
        &emu,
        "application/json",
        BARE_429,
        Some(("retry-after", "0.5".to_string())),
        backoff,
    )
    .await;
    assert!(
        gap(&first, &second) + TOLERANCE >= backoff / 2,
        "retried {:?} after the 429: sooner than the standard backoff's least ({:?})",
        gap(&first, &second),
        backoff / 2
    );
}

/// A 429 whose body is not JSON at all is still a 429: its `Retry-After: 1` header is read
/// (the advice does not depend on the body) and the call succeeds on the retry a second later.
/// Fails if an unreadable 429 is treated as a failure of its own or loses its header advice.
#[tokio::test]
async fn a_429_with_an_unreadable_body_still_honours_its_retry_after() {
    let emu = start(emulator().users(1)).await;
    let (first, second) = get_user_after_one_429(
        &emu,
        "text/html",
        "<html><body>Too Many Requests</body></html>",
        Some(("retry-after", "1".to_string())),
        Duration::from_millis(20),
    )
    .await;
    assert!(
        gap(&first, &second) + TOLERANCE >= Duration::from_secs(1),
        "retried {:?} after a 429 advising 1 s",
        gap(&first, &second)
    );
}

/// A 429 whose body is unreadable JSON (`application/json`, not JSON) and which carries no
/// header either is retried after the standard backoff (3 s here, so 1.5-3 s), not at once and
/// not given up on: exactly two requests, the second succeeding.
#[tokio::test]
async fn a_429_with_an_unreadable_body_and_no_advice_waits_the_standard_backoff() {
    let emu = start(emulator().users(1)).await;
    let backoff = Duration::from_secs(3);
    let (first, second) = get_user_after_one_429(
        &emu,
        "application/json",
        "{\"errors\": [ not json",
        None,
        backoff,
    )
    .await;
    assert!(
        gap(&first, &second) + TOLERANCE >= backoff / 2,
        "retried {:?} after the 429: sooner than the standard backoff's least ({:?})",
        gap(&first, &second),
        backoff / 2
    );
}
