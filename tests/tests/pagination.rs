//! Lists as streams: every item exactly once, lazy first page, resumable, bounded.

use std::collections::HashSet;

use futures::{StreamExt, TryStreamExt};
use segment_iam_emulator::Operation;
use segment_iam_tests::{client, emulator, start};

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
async fn take_five_makes_one_request() {
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
    // Give a stray prefetch time to show up before counting.
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert_eq!(emu.journal_for(Operation::ListUsers).len(), 1);
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
