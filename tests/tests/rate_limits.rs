//! Rate limits: a 429 is absorbed by waiting what the service advises, and pacing keeps the
//! client out of closed windows.

use std::time::Duration;

use segment_iam_emulator::Operation;
use segment_iam_tests::{client, emulator, start};

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
async fn a_budget_spent_on_429s_is_a_typed_error() {
    let emu = start(
        emulator()
            .rate_limits(true)
            .mutation_limit(1)
            .window(Duration::from_secs(30)),
    )
    .await;
    let client = segment_iam_tests::client_builder(&emu)
        .retry(segment_iam::RetryConfig::standard().with_max_total_wait(Duration::from_secs(1)))
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
