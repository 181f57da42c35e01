//! One rule for the handlers' arguments: every id, email or role name, alone or in a list, is
//! `impl AsRef<str>`, so the same borrowed and shared string kinds fit every method.

use std::sync::Arc;

use segment_iam_tests::{client, emulator, start};

#[tokio::test]
async fn every_handler_takes_ids_and_emails_as_any_str_like_value() {
    let emu = start(emulator().users(4).groups(1).invites(3)).await;
    let client = client(&emu);
    let ids = emu.user_ids();
    let invites = emu.invite_emails();
    let group = emu.group_ids()[0].clone();

    // `&&str` items, as `.iter()` over a `Vec<&str>` yields them.
    let borrowed: Vec<&str> = ids[..2].iter().map(String::as_str).collect();
    let deleted = client
        .users()
        .delete(borrowed.iter())
        .await
        .expect("deleted");
    assert_eq!(deleted.applied, ids[..2]);
    // `&String` items and `Arc<str>` items.
    let withdrawn = client
        .invites()
        .delete(invites[..1].iter())
        .await
        .expect("withdrawn");
    assert_eq!(withdrawn.applied, invites[..1]);
    let shared: Vec<Arc<str>> = invites[1..].iter().map(|e| Arc::from(e.as_str())).collect();
    let found = client
        .invites()
        .find_by_emails(shared.iter().cloned())
        .await
        .expect("found");
    assert_eq!(found.found.len(), 2);
    let remaining = emu.user(&ids[2]).expect("a user").email;
    let user = client
        .users()
        .find_by_email(&remaining)
        .await
        .expect("looked up");
    assert_eq!(user.map(|u| u.id), Some(ids[2].clone()));
    client
        .groups()
        .add_members(&group, [Arc::<str>::from(remaining.as_str())])
        .await
        .expect("added");
    let removed = client
        .groups()
        .remove_members(&group, [&remaining])
        .await
        .expect("removed");
    assert_eq!(removed.applied, [remaining]);
    let owner = std::borrow::Cow::Borrowed("workspace owner");
    let role = client.roles().resolve(&owner).await.expect("resolved");
    assert_eq!(role.name, "Workspace Owner");
}
