//! Concurrency: 64 tasks share one client against a rate-limited emulator. Every call
//! completes or fails with a typed error, and no rate-limit window ever sees more requests
//! than its limit plus one (read from the emulator's own window counters in the journal).

use std::time::Duration;

use segment_iam::Error;
use segment_iam_emulator::{Fault, Operation};
use segment_iam_tests::{client, emulator, start};

const LIMIT: u32 = 12;
const TASKS: usize = 64;

/// The most requests any window counted (`X-RateLimit-Consumed` of its last request).
fn busiest_window(emu: &segment_iam_emulator::EmulatorHandle) -> u32 {
    emu.journal()
        .iter()
        .filter_map(|e| e.rate_limit_consumed)
        .max()
        .unwrap_or(0)
}

/// Runs 64 tasks on one client: even ones create a group, odd ones read a user. Returns the
/// results, each within a 30 s bound.
async fn run_tasks(client: &segment_iam::Client, user: &str) -> Vec<Result<(), Error>> {
    let mut tasks = Vec::new();
    for t in 0..TASKS {
        let client = client.clone();
        let user = user.to_string();
        tasks.push(tokio::spawn(async move {
            if t % 2 == 0 {
                client.groups().create(format!("task {t}")).await.map(drop)
            } else {
                client.users().get(&user).await.map(drop)
            }
        }));
    }
    let mut results = Vec::new();
    for task in tasks {
        let joined = tokio::time::timeout(Duration::from_secs(30), task)
            .await
            .expect("every task completes within 30 s");
        results.push(joined.expect("no task panics"));
    }
    results
}

/// Cases: 64 tasks (32 creates, 32 reads) on one client, limits of 12 per 1 s window for
/// each bucket. Asserts: every call succeeds (the budget covers the wait), exactly 32 groups
/// exist, every create was applied once, and no window counted more than 13 requests.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_tasks_on_one_client_all_complete_and_no_window_exceeds_its_limit_plus_one() {
    let emu = start(
        emulator()
            .users(2)
            .rate_limits(true)
            .mutation_limit(LIMIT)
            .read_limit(LIMIT)
            .window(Duration::from_secs(1)),
    )
    .await;
    let client = client(&emu);
    let user = emu.user_ids()[0].clone();
    let results = run_tasks(&client, &user).await;
    for (t, r) in results.iter().enumerate() {
        assert!(r.is_ok(), "task {t}: {r:?}");
    }
    assert_eq!(emu.state().groups.len(), TASKS / 2);
    assert_eq!(emu.applied_count(Operation::CreateUserGroup), TASKS / 2);
    let busiest = busiest_window(&emu);
    assert!(busiest <= LIMIT + 1, "a window counted {busiest} requests");
}

/// Cases: 64 tasks with a tight 1.5 s wait budget and a 503 on 20 % of reads (seeded).
/// Asserts: each call either succeeds or fails with a typed, retryable error (RateLimited or
/// Server), creates applied exactly as many times as they succeeded (a failed create is
/// never applied), and no window counted more than 13 requests.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_tasks_under_a_tight_budget_and_5xx_faults_each_succeed_or_fail_typed() {
    let emu = start(
        emulator()
            .users(2)
            .rate_limits(true)
            .mutation_limit(LIMIT)
            .read_limit(LIMIT)
            .window(Duration::from_secs(1)),
    )
    .await;
    emu.inject(
        Fault::status(503)
            .on_operation(Operation::GetUser)
            .fraction(0.2, 11),
    );
    let client = segment_iam_tests::client_builder(&emu)
        .retry(
            segment_iam::RetryConfig::standard()
                .initial_backoff(Duration::from_millis(10))
                .max_backoff(Duration::from_millis(50))
                .max_total_wait(Duration::from_millis(1500)),
        )
        .build()
        .expect("client");
    let user = emu.user_ids()[0].clone();
    let results = run_tasks(&client, &user).await;
    let mut created = 0;
    let mut failed = 0;
    for (t, r) in results.iter().enumerate() {
        match r {
            Ok(()) => created += usize::from(t % 2 == 0),
            Err(e @ (Error::RateLimited { .. } | Error::Server { .. })) => {
                assert!(e.is_retryable(), "task {t}: {e}");
                failed += 1;
            }
            Err(other) => panic!("task {t}: untyped or unexpected failure {other:?}"),
        }
    }
    // The conditions the test is about really happened: 503s were served, and the budget
    // (64 calls at 12 per 1 s window, 1.5 s of waiting) made some calls fail while others
    // succeeded.
    let served_503 = emu
        .journal_for(Operation::GetUser)
        .iter()
        .filter(|e| e.fault.as_deref() == Some("status:503"))
        .count();
    assert!(served_503 > 0, "no 503 was injected");
    assert!(failed > 0, "the tight budget failed no call");
    assert!(failed < results.len(), "every call failed");
    assert_eq!(emu.applied_count(Operation::CreateUserGroup), created);
    assert_eq!(emu.state().groups.len(), created);
    let busiest = busiest_window(&emu);
    assert!(busiest <= LIMIT + 1, "a window counted {busiest} requests");
}
