//! Behaviour no other test pinned: a 429 with an unreadable body, an undocumented 2xx, a list
//! whose second page fails for good, the prefetch threshold, and the 409/413/414 mappings.

use std::time::Duration;

use futures::StreamExt;
use segment_iam::{Error, Invite, Outcome};
use segment_iam_emulator::{Fault, Operation};
use segment_iam_tests::{client, client_builder, emulator, start};

/// Waits (bounded, 30 s) until the emulator has journaled `n` requests of `operation`.
async fn journaled(emu: &segment_iam_emulator::EmulatorHandle, operation: Operation, n: usize) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while emu.journal_for(operation).len() < n {
        assert!(
            std::time::Instant::now() < deadline,
            "{operation}: fewer than {n} requests"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn a_429_whose_body_is_unreadable_is_still_retried_and_succeeds() {
    let emu = start(emulator().users(1)).await;
    let client = client(&emu);
    emu.inject(
        Fault::respond(429, "text/html", "<html>slow down</html>")
            .on_operation(Operation::GetUser)
            .times(1),
    );
    let id = emu.user_ids()[0].clone();
    let user = client
        .users()
        .get(&id)
        .await
        .expect("retried after the 429");
    assert_eq!(user.id, id);
    let sent = emu.journal_for(Operation::GetUser);
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0].status, 429);
    assert_eq!(client.metrics().rate_limited, 1);
}

#[tokio::test]
async fn an_undocumented_2xx_is_a_typed_error_not_a_panic_or_a_default() {
    let emu = start(emulator().users(1)).await;
    let client = client(&emu);
    let id = emu.user_ids()[0].clone();
    // 202 where the document says 200, even with a well-formed body: the generated client
    // does not guess what an undocumented status means; a typed Decode error naming it,
    // sent once, its outcome unknown (a success of some kind was claimed).
    emu.inject(
        Fault::respond(
            202,
            "application/json",
            format!(r#"{{"data":{{"user":{{"id":"{id}","name":"n","email":"e@x.com"}}}}}}"#),
        )
        .on_operation(Operation::GetUser)
        .times(1),
    );
    let err = client.users().get(&id).await.expect_err("undocumented 202");
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
    assert_eq!(
        (err.status(), err.outcome()),
        (Some(202), Outcome::Ambiguous)
    );
    assert!(err.to_string().contains("202"), "{err}");
    assert_eq!(emu.journal_for(Operation::GetUser).len(), 1);
    // 204 with no body where a user is documented: a typed decode error, nothing invented.
    emu.inject(
        Fault::respond(204, "application/json", "")
            .on_operation(Operation::GetUser)
            .always(),
    );
    let err = client.users().get(&id).await.expect_err("no user in a 204");
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
    assert_eq!(err.status(), Some(204));
}

#[tokio::test]
async fn a_list_whose_second_page_fails_for_good_delivers_page_one_then_one_error_then_ends() {
    let emu = start(emulator().users(30)).await;
    let client = client_builder(&emu)
        .retry(
            segment_iam::RetryConfig::standard()
                .with_max_attempts(3)
                .with_initial_backoff(Duration::from_millis(5))
                .with_max_backoff(Duration::from_millis(20)),
        )
        .build()
        .expect("client");
    emu.inject(
        Fault::status(500)
            .on_operation(Operation::ListUsers)
            .skip_first(1)
            .always(),
    );
    let mut items = client.users().list().page_size(10).items();
    let mut delivered = 0;
    let mut errors = Vec::new();
    while let Some(item) = items.next().await {
        match item {
            Ok(_) => delivered += 1,
            Err(e) => errors.push(e),
        }
        assert!(delivered + errors.len() <= 31, "bounded");
    }
    assert_eq!(delivered, 10, "page 1 was delivered whole");
    assert_eq!(
        errors.len(),
        1,
        "one error, then the stream ended: {errors:?}"
    );
    assert!(matches!(errors[0], Error::Server { .. }), "{:?}", errors[0]);
    // Page 1, then page 2 tried 3 times (the budget), and nothing after the error.
    assert_eq!(emu.journal_for(Operation::ListUsers).len(), 4);
}

#[tokio::test]
async fn the_next_page_is_fetched_once_16_items_of_a_page_are_read() {
    // 16 is `paginate::PREFETCH_AFTER_ITEMS` (crate-private).
    let emu = start(emulator().users(100)).await;
    let client = client(&emu);
    let mut items = client.users().list().page_size(50).items();
    for _ in 0..15 {
        items.next().await.expect("an item").expect("a user");
    }
    assert_eq!(
        emu.journal_for(Operation::ListUsers).len(),
        1,
        "15 items: no prefetch yet"
    );
    items.next().await.expect("an item").expect("a user");
    // The 16th item starts the fetch of page 2 in the background: wait for that event.
    journaled(&emu, Operation::ListUsers, 2).await;
    assert_eq!(client.metrics().requests, 2);
}

#[tokio::test]
async fn conflicts_and_size_refusals_map_to_typed_errors_that_applied_nothing() {
    let emu = start(emulator().users(1).max_url_len(200).max_body(600)).await;
    let client = client(&emu);
    let existing = emu.state().users[0].email.clone();

    let conflict = client
        .invites()
        .create([Invite::new(existing)])
        .await
        .expect_err("already a user");
    assert!(matches!(conflict, Error::Conflict(_)), "{conflict:?}");
    assert_eq!(
        (conflict.status(), conflict.outcome()),
        (Some(409), Outcome::NotApplied)
    );

    // A body over the emulator's 600 bytes: 413, typed, not retried.
    let many: Vec<Invite> = (0..40)
        .map(|i| Invite::new(format!("p{i}@example.com")))
        .collect();
    let too_large = client.invites().create(many).await.expect_err("413");
    assert_eq!(too_large.status(), Some(413), "{too_large:?}");
    assert!(matches!(too_large, Error::Service(_)), "{too_large:?}");
    assert_eq!(
        emu.journal_for(Operation::CreateInvites).len(),
        2,
        "no retry of a 413"
    );

    // A URL over the emulator's 200 bytes (the client's own limit is 8 KiB): 414, typed.
    let long_id = "x".repeat(250);
    let too_long = client.users().get(&long_id).await.expect_err("414");
    assert_eq!(too_long.status(), Some(414), "{too_long:?}");
    assert!(matches!(too_long, Error::Service(_)), "{too_long:?}");
    assert_eq!(emu.state().invites.len(), 0, "nothing was applied");
}
