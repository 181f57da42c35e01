//! Lists as streams: every item exactly once, lazy first page, the next page prefetched at a
//! fixed threshold, resumable from a cursor, bounded, and a page that fails for good ending the
//! stream after one typed error.

use std::collections::HashSet;
use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use segment_iam::{Error, RetryConfig};
use segment_iam_emulator::{Fault, Operation};
use segment_iam_tests::{client, client_builder, emulator, journaled_within_10s, start};

#[tokio::test]
async fn paging_2500_users_at_200_returns_each_once() {
    let emu = start(emulator().users(2500)).await;
    let client = client(&emu);
    let users: Vec<_> = client
        .users()
        .list()
        .page_size(200)
        .items()
        .try_collect()
        .await
        .expect("all users");
    assert_eq!(users.len(), 2500);
    let unique: HashSet<_> = users.iter().map(|u| u.id.clone()).collect();
    assert_eq!(unique.len(), 2500);
    assert_eq!(
        users.iter().map(|u| u.id.clone()).collect::<Vec<_>>(),
        emu.user_ids()
    );
    let requests = emu.journal_for(Operation::ListUsers).len();
    assert_eq!(requests, 13, "2500 / 200 rounds up to 13 pages");
}

#[tokio::test]
async fn taking_five_items_fetches_only_the_first_page() {
    let emu = start(emulator().users(1000)).await;
    let client = client(&emu);
    let first: Vec<_> = client
        .users()
        .list()
        .items()
        .take(5)
        .try_collect()
        .await
        .expect("five");
    assert_eq!(first.len(), 5);
    // A later request of the same client: a stray prefetch would have been sent before it.
    client
        .users()
        .get(&emu.user_ids()[0])
        .await
        .expect("a later request");
    assert_eq!(emu.journal_for(Operation::ListUsers).len(), 1);
    assert_eq!(client.metrics().requests, 2, "page 1 and the get");
}

#[tokio::test]
async fn pages_carry_cursors_and_totals_and_resume() {
    let emu = start(emulator().users(25)).await;
    let client = client(&emu);
    let mut pages = client.users().list().page_size(10).pages();
    let first = pages.next().await.expect("a page").expect("ok");
    assert_eq!(first.items.len(), 10);
    assert_eq!(first.total_entries, Some(25));
    let next = first.next.clone().expect("more pages");
    drop(pages);

    // Resume from the cursor: the remaining 15 users, in order.
    let rest = client
        .users()
        .list()
        .page_size(10)
        .cursor(next)
        .collect()
        .await
        .expect("rest");
    let ids = emu.user_ids();
    assert_eq!(
        rest.iter().map(|u| u.id.clone()).collect::<Vec<_>>(),
        ids[10..].to_vec()
    );
}

#[tokio::test]
async fn page_size_out_of_range_sends_nothing() {
    let emu = start(emulator().users(3)).await;
    let client = client(&emu);
    for bad in [0, 1001] {
        let err = client
            .users()
            .list()
            .page_size(bad)
            .collect()
            .await
            .expect_err("refused");
        assert!(err.is_invalid_input(), "{err:?}");
    }
    assert!(emu.journal().is_empty());
}

#[tokio::test]
async fn a_forged_cursor_is_a_validation_error() {
    let emu = start(emulator().users(3)).await;
    let client = client(&emu);
    let err = client
        .users()
        .list()
        .cursor("MTA=")
        .collect()
        .await
        .expect_err("forged");
    assert!(matches!(err, segment_iam::Error::Validation(_)), "{err:?}");
}

#[tokio::test]
async fn every_list_operation_pages() {
    let emu = start(emulator().users(30).groups(25).invites(30)).await;
    let client = client(&emu);
    let group = emu.group_ids()[0].clone();
    let emails: Vec<String> = emu.state().users.iter().map(|u| u.email.clone()).collect();
    client
        .groups()
        .add_members(&group, emails.clone())
        .await
        .expect("members");
    let invitees: Vec<String> = (0..12).map(|i| format!("inv{i}@example.com")).collect();
    client
        .groups()
        .add_members(&group, invitees.clone())
        .await
        .expect("invitees");
    let user = emu.user_ids()[0].clone();

    assert_eq!(
        client
            .groups()
            .list()
            .page_size(7)
            .collect()
            .await
            .expect("groups")
            .len(),
        25
    );
    assert_eq!(
        client
            .invites()
            .list()
            .page_size(7)
            .collect()
            .await
            .expect("invites"),
        emu.invite_emails()
    );
    let members = client
        .groups()
        .members(&group)
        .page_size(7)
        .collect()
        .await
        .expect("members");
    assert_eq!(
        members.iter().map(|m| m.id.clone()).collect::<Vec<_>>(),
        emu.group(&group).expect("group").users
    );
    let listed = client
        .groups()
        .invites(&group)
        .page_size(5)
        .collect()
        .await
        .expect("group invites");
    assert_eq!(listed, emu.group(&group).expect("group").invites);
    assert!(invitees.iter().all(|i| listed.contains(i)));
    let groups = client
        .users()
        .groups(&user)
        .page_size(1)
        .collect()
        .await
        .expect("user groups");
    assert_eq!(
        groups.iter().map(|g| g.id.clone()).collect::<Vec<_>>(),
        emu.user(&user).expect("user").groups
    );
}

/// A list whose page 2 fails for good (every `list_users` after the first answers 500): the
/// items stream hands out page 1's ten users in order, then exactly one `Error::Server` (after
/// the 3-attempt budget on page 2), then ends. The journal shows page 1 and page 2's three
/// attempts and nothing else: no page 3, no request after the error (checked after a later
/// request of the same client, so a stray fetch would have been counted).
#[tokio::test]
async fn a_list_whose_second_page_fails_for_good_yields_page_one_one_error_then_ends() {
    let emu = start(emulator().users(30)).await;
    let attempts = 3;
    let client = client_builder(&emu)
        .retry(
            RetryConfig::standard()
                .max_attempts(attempts)
                .initial_backoff(Duration::from_millis(5))
                .max_backoff(Duration::from_millis(20)),
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
    let mut delivered = Vec::new();
    let error = loop {
        match items
            .next()
            .await
            .expect("the stream yields an error before it ends")
        {
            Ok(user) => delivered.push(user.id),
            Err(e) => break e,
        }
        assert!(delivered.len() <= 30, "bounded");
    };
    assert_eq!(
        delivered,
        emu.user_ids()[..10],
        "page 1, whole and in order"
    );
    match &error {
        Error::Server {
            error: service,
            attempts: tried,
            ..
        } => {
            assert_eq!(service.status, 500);
            assert_eq!(*tried, attempts, "the retry budget was spent on page 2");
        }
        other => panic!("expected Error::Server, got {other:?}"),
    }
    assert!(
        items.next().await.is_none(),
        "the stream ends after the error"
    );

    // A later request of the same client: a stray page fetch would have been sent before it.
    client
        .users()
        .get(&emu.user_ids()[0])
        .await
        .expect("the client still works");
    let lists = emu.journal_for(Operation::ListUsers);
    let statuses: Vec<u16> = lists.iter().map(|e| e.status).collect();
    assert_eq!(
        statuses,
        [200, 500, 500, 500],
        "page 1, then page 2 tried 3 times"
    );
    assert_eq!(
        lists[1].query, lists[3].query,
        "every attempt asked for page 2, none for a page 3"
    );
    assert_eq!(client.metrics().requests, 5, "4 list requests and the get");
    let all = emu.journal();
    assert_eq!(
        all.last().and_then(|e| e.operation),
        Some(Operation::GetUser),
        "nothing after the error but the later get: {all:?}"
    );
}

/// The items stream fetches the next page once 16 items of a page are handed out
/// (`crate::paginate::PREFETCH_AFTER_ITEMS` in `crates/segment-iam/src/paginate.rs`, which is
/// crate-private: 16 is written here). Two pages of 50: 15 items send one request (checked
/// after a later request of the same client, so a prefetch started at 15 would be counted);
/// the 16th starts the page-2 request, waited for in the journal.
#[tokio::test]
async fn the_page_two_request_starts_at_the_16th_item_not_before() {
    const PREFETCH_AFTER_ITEMS: usize = 16;
    let emu = start(emulator().users(100)).await;
    let client = client(&emu);
    let mut items = client.users().list().page_size(50).items();
    for _ in 0..PREFETCH_AFTER_ITEMS - 1 {
        items.next().await.expect("an item").expect("a user");
    }
    client
        .users()
        .get(&emu.user_ids()[0])
        .await
        .expect("a later request");
    assert_eq!(
        emu.journal_for(Operation::ListUsers).len(),
        1,
        "15 items: no prefetch yet"
    );
    assert_eq!(
        client.metrics().requests,
        2,
        "page 1 and the get, no page 2"
    );

    items.next().await.expect("the 16th item").expect("a user");
    assert!(
        journaled_within_10s(&emu, Operation::ListUsers, 2).await,
        "the 16th item started the page-2 request"
    );
    let lists = emu.journal_for(Operation::ListUsers);
    assert!(
        lists[1].query.contains("cursor"),
        "the second list request asks for page 2: {:?}",
        lists[1].query
    );
    // The rest of the list comes from the prefetched page: no third request.
    let mut count = PREFETCH_AFTER_ITEMS;
    while let Some(item) = items.next().await {
        item.expect("a user");
        count += 1;
    }
    assert_eq!(count, 100);
    assert_eq!(emu.journal_for(Operation::ListUsers).len(), 2);
}
