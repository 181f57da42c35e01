//! Cancellation: dropping a paginating stream or a bulk call mid-flight leaves no task
//! running (tokio's count of alive tasks) and sends nothing after the drop (journal).
//!
//! The emulator runs on its own runtime in its own thread, so that the test runtime's task
//! count holds only the client's tasks (prefetches and pooled connections).

use std::time::Duration;

use futures::StreamExt;
use segment_iam::Client;
use segment_iam_emulator::{EmulatorBuilder, EmulatorHandle, Fault, Operation};
use segment_iam_tests::reliability::fast_retry;
use segment_iam_tests::{TOKEN, emulator};

/// Starts the emulator on a runtime of its own thread (the thread lives as long as the test
/// process; the handle's drop stops the server).
fn start_elsewhere(builder: EmulatorBuilder) -> EmulatorHandle {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async move {
            let emu = builder.start().await.expect("emulator starts");
            tx.send(emu).expect("handed over");
            // Serve until the process ends.
            std::future::pending::<()>().await;
        });
    });
    rx.recv_timeout(Duration::from_secs(10))
        .expect("emulator started")
}

fn alive() -> usize {
    tokio::runtime::Handle::current()
        .metrics()
        .num_alive_tasks()
}

fn client(emu: &EmulatorHandle, max_url_len: Option<usize>) -> Client {
    let mut builder = Client::builder()
        .token(TOKEN)
        .base_url(emu.base_url())
        .timeout(Duration::from_secs(5))
        .retry(fast_retry(3));
    if let Some(len) = max_url_len {
        builder = builder.max_url_len(len);
    }
    builder.build().expect("client")
}

/// Asserts the client sends nothing in the 600 ms after the drop, and that the emulator never
/// receives more than the requests sent before it (`sent_before`: the client's count when the
/// journal was cleared). A request sent just before the drop may still reach the service a
/// moment after it on a loaded machine; nothing beyond may.
async fn assert_quiet_after(emu: &EmulatorHandle, client: &Client, sent_before: u64) {
    let sent_at_drop = client.metrics().requests;
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(
        client.metrics().requests,
        sent_at_drop,
        "sent after the drop"
    );
    let sent = sent_at_drop - sent_before;
    let arrived = emu.journal().len() as u64;
    assert!(
        arrived <= sent,
        "{arrived} requests reached the emulator, {sent} were sent before the drop"
    );
}

/// Waits (bounded, 30 s) for the event: the runtime's alive tasks back to at most `baseline`
/// (an aborted task is reaped when the runtime next polls it, later on a loaded machine).
async fn tasks_back_to(baseline: usize, what: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let now = alive();
        if now <= baseline {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{what}: {now} tasks alive, {baseline} before"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Waits (bounded, 30 s) for the event: the client sent its second list request, the prefetch.
async fn prefetch_sent(client: &segment_iam::Client, sent_before: u64) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while client.metrics().requests - sent_before < 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "the prefetch never started"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Cases: 2 (the items stream dropped while the prefetch of page 2 is in flight; the pages
/// stream dropped likewise). Asserts: the prefetch was under way at the drop (2 requests
/// sent), none is sent in the 600 ms after, the emulator receives no more than those 2
/// (journal), and the runtime's alive tasks come back to at most the count before the stream
/// existed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_a_paginating_stream_mid_prefetch_leaves_no_task_and_sends_nothing_after() {
    for pages in [false, true] {
        // Pages take 2 s, so the prefetch is surely still in flight when the stream is dropped.
        let emu = start_elsewhere(emulator().users(100).list_delay(Duration::from_secs(2)));
        let client = client(&emu, None);
        // Warm the connection pool so its task is in the baseline.
        client
            .users()
            .get(&emu.user_ids()[0])
            .await
            .expect("warm-up");
        emu.clear_journal();
        let baseline = alive();
        let sent_before = client.metrics().requests;
        if pages {
            let mut stream = client.users().list().page_size(10).pages();
            let page = stream.next().await.expect("a page").expect("page 1");
            assert_eq!(page.items.len(), 10);
            // Handing over a page starts the prefetch of the next one: wait for it to be sent.
            prefetch_sent(&client, sent_before).await;
            assert!(alive() > baseline, "a prefetch task runs");
            drop(stream);
        } else {
            let mut stream = client.users().list().page_size(10).items();
            for _ in 0..10 {
                stream.next().await.expect("an item").expect("user");
            }
            prefetch_sent(&client, sent_before).await;
            assert!(alive() > baseline, "a prefetch task runs");
            drop(stream);
        }
        assert_eq!(
            client.metrics().requests - sent_before,
            2,
            "page 2 was in flight"
        );
        assert_quiet_after(&emu, &client, sent_before).await;
        tasks_back_to(baseline, &format!("pages={pages}")).await;
    }
}

/// Cases: 1 (a 30-invite removal in about 6 chunks, each delayed 150 ms, dropped after
/// 400 ms). Asserts: some but not all chunks were sent, nothing is sent in the 600 ms after
/// the drop and the emulator receives no more than was sent before it, no task is left, and
/// exactly the emails of the requests journaled as applied are gone (the rest remain).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_a_bulk_call_mid_flight_sends_nothing_after_and_leaves_no_task() {
    let emu = start_elsewhere(emulator().invites(30));
    let client = client(&emu, Some(emu.base_url().len() + "/invites".len() + 160));
    client.invites().list().collect().await.expect("warm-up");
    emu.clear_journal();
    let sent_before = client.metrics().requests;
    emu.inject(
        Fault::delay(Duration::from_millis(150))
            .on_operation(Operation::DeleteInvites)
            .always(),
    );
    let emails = emu.invite_emails();
    let baseline = alive();
    let cut = tokio::time::timeout(
        Duration::from_millis(400),
        client.invites().delete(emails.clone()),
    )
    .await;
    assert!(cut.is_err(), "the bulk call was still running");
    assert_quiet_after(&emu, &client, sent_before).await;
    let arrived = emu.journal_for(Operation::DeleteInvites).len();
    assert!((2..6).contains(&arrived), "{arrived} chunks arrived");
    tasks_back_to(baseline, "bulk call").await;
    // Exactly the emails of the requests the emulator journaled as applied are gone.
    let removed: usize = emu
        .journal_for(Operation::DeleteInvites)
        .iter()
        .filter(|e| e.applied)
        .map(|e| {
            segment_iam_emulator::query::DecodedQuery::parse(&e.query)
                .expect("query")
                .array("emails", true)
                .expect("array")
                .map_or(0, |a| a.len())
        })
        .sum();
    let remaining = emu.invite_emails().len();
    assert!(remaining > 0 && removed > 0, "{remaining} left");
    assert_eq!(remaining, 30 - removed);
}
