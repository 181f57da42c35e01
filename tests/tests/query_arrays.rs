//! Array query parameters: `name.N` form, exact encoding, and splitting under the URL limit.

use segment_iam_emulator::Operation;
use segment_iam_tests::{client, client_builder, emulator, start};

#[tokio::test]
async fn awkward_emails_arrive_intact() {
    let emu = start(emulator().groups(1).strict(true)).await;
    let client = client(&emu);
    let group = emu.group_ids()[0].clone();
    let emails = [
        "a+b@example.com",
        "\"first last\"@example.com",
        "zoë@exämple.org",
        "x&y=z#q%r@example.com",
        "plus+and@x.com",
    ]
    .map(|s| s.to_string());
    client
        .groups()
        .add_members(&group, emails.clone())
        .await
        .expect("added");
    let mut invited = emu.group(&group).expect("group").invites;
    invited.sort();
    let mut expected = emails.to_vec();
    expected.sort();
    assert_eq!(invited, expected, "added through the JSON body");

    client
        .groups()
        .remove_members(&group, emails.clone())
        .await
        .expect("removed");
    assert!(
        emu.group(&group).expect("group").invites.is_empty(),
        "removed through emails.N in the query"
    );
    let remove = emu
        .journal()
        .into_iter()
        .find(|e| e.operation == Some(Operation::RemoveUsersFromUserGroup))
        .expect("sent");
    assert!(!remove.nonstandard_query);
    assert!(
        remove
            .query
            .starts_with("emails.0=a%2Bb%40example.com&emails.1="),
        "{}",
        remove.query
    );
}

#[tokio::test]
async fn three_thousand_emails_are_split_under_the_url_limit_and_all_removed() {
    let emu = start(emulator().groups(1)).await;
    let client = client(&emu);
    let group = emu.group_ids()[0].clone();
    let emails: Vec<String> = (0..3000)
        .map(|i| format!("person.{i}+tag@example.com"))
        .collect();
    client
        .groups()
        .add_members(&group, emails.clone())
        .await
        .expect("added");
    assert_eq!(emu.group(&group).expect("group").member_count, 3000);
    emu.clear_journal();

    let outcome = client
        .groups()
        .remove_members(&group, emails.clone())
        .await
        .expect("removed");
    assert_eq!(outcome.applied, emails, "every email, in order, once");
    assert!(outcome.requests > 1);
    assert_eq!(emu.group(&group).expect("group").member_count, 0);
    let journal = emu.journal();
    assert_eq!(journal.len() as u64, outcome.requests);
    for entry in journal {
        let url_len = emu.base_url().len() + entry.path.len() + 1 + entry.query.len();
        assert!(url_len <= segment_iam::DEFAULT_MAX_URL_LEN, "{url_len}");
        assert_eq!(entry.status, 200);
    }
}

#[tokio::test]
async fn a_smaller_url_limit_bounds_every_request_and_all_users_are_still_deleted() {
    let emu = start(emulator().users(200)).await;
    let client = client_builder(&emu)
        .max_url_len(512)
        .build()
        .expect("client");
    let ids = emu.user_ids();
    let outcome = client.users().delete(ids.clone()).await.expect("deleted");
    assert_eq!(outcome.applied, ids);
    assert_eq!(emu.user_count(), 0);
    for entry in emu.journal() {
        assert!(emu.base_url().len() + entry.path.len() + 1 + entry.query.len() <= 512);
    }
}
