//! Bad input, in a call's arguments or in the client's configuration, gets a typed error before
//! anything is sent: the journal stays empty.

use segment_iam::{Client, Error, Invite, Permission, ResourceType};
use segment_iam_tests::{TOKEN, client, emulator, start};

fn assert_invalid<T: std::fmt::Debug>(result: segment_iam::Result<T>, field: &str) {
    match result {
        Err(Error::InvalidInput { field: f, .. }) => assert_eq!(f, field),
        other => panic!("expected InvalidInput for {field}, got {other:?}"),
    }
}

#[tokio::test]
async fn bad_input_is_refused_before_sending() {
    let emu = start(emulator().users(1).groups(1)).await;
    let client = client(&emu);
    let long = "x".repeat(256);
    let none: [&str; 0] = [];

    assert_invalid(client.users().get("").await, "user_id");
    assert_invalid(client.users().get(&long).await, "user_id");
    assert_invalid(client.users().delete(none).await, "user_ids");
    assert_invalid(
        client.users().delete(["ok", long.as_str()]).await,
        "user_ids",
    );
    assert_invalid(client.users().add_permissions("u", []).await, "permissions");
    assert_invalid(
        client
            .users()
            .add_permissions(
                "u",
                [Permission::new("").resource(ResourceType::Workspace, "w")],
            )
            .await,
        "role_id",
    );
    assert_invalid(client.invites().create(none).await, "invites");
    assert_invalid(
        client.invites().create([Invite::new("not-an-email")]).await,
        "email",
    );
    assert_invalid(client.invites().delete(none).await, "emails");
    assert_invalid(
        client
            .invites()
            .delete(["a@x.com", "bad email@x.com"])
            .await,
        "emails",
    );
    assert_invalid(client.groups().create("  ").await, "name");
    assert_invalid(client.groups().rename(&long, "n").await, "group_id");
    assert_invalid(client.groups().add_members("g", none).await, "emails");
    assert_invalid(client.groups().add_members("g", ["@x.com"]).await, "emails");
    assert_invalid(client.groups().remove_members("g", ["x@"]).await, "emails");
    assert_invalid(client.groups().members("").collect().await, "group_id");
    assert_invalid(
        client.users().list().page_size(0).collect().await,
        "page_size",
    );
    assert_invalid(
        client.users().list().page_size(1001).collect().await,
        "page_size",
    );

    assert!(
        emu.journal().is_empty(),
        "nothing may be sent: {:?}",
        emu.journal()
    );
}

#[tokio::test]
async fn configuration_errors_are_typed() {
    let plain_remote = Client::builder()
        .token(TOKEN)
        .base_url("http://api.example.com")
        .build();
    assert!(
        matches!(plain_remote, Err(Error::Config(_))),
        "plain http off loopback is refused"
    );
    let bad_page = Client::builder().token(TOKEN).page_size(5000).build();
    assert!(matches!(bad_page, Err(Error::InvalidInput { .. })));
    let bad_token = Client::builder().token("a\nb").build();
    assert!(matches!(bad_token, Err(Error::Config(_))));
    let ok = Client::builder()
        .token(TOKEN)
        .base_url("http://127.0.0.1:1")
        .build();
    assert!(ok.is_ok());
}
