//! `client.groups()`: keep a group in sync with a list of emails from an identity provider.
//!
//! `cargo run -p segment-iam --example groups`

use segment_iam::{Client, Permission, ResourceType};
use segment_iam_emulator::{Emulator, seed::WORKSPACE_ID};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let emulator = Emulator::builder()
        .token("t")
        .seed(3)
        .users(10)
        .start()
        .await?;
    let client = Client::builder()
        .token("t")
        .base_url(emulator.base_url())
        .build()?;

    let group = client.groups().create("Engineering").await?;
    let owner = Permission::new("1WDUuRLxv84rrfCNUwvkrRtkxnS")
        .resource(ResourceType::Workspace, WORKSPACE_ID);
    client.groups().add_permissions(&group.id, [owner]).await?;

    // What the identity provider says the group should be: users and not-yet-invited people.
    let users = client.users().list().collect().await?;
    let mut wanted: Vec<String> = users.iter().take(4).map(|u| u.email.clone()).collect();
    wanted.push("newcomer@example.com".into());
    let group = client.groups().replace_members(&group.id, wanted).await?;
    println!("{} now has {} members", group.name, group.member_count);

    let members = client.groups().members(&group.id).collect().await?;
    let invitees = client.groups().invites(&group.id).collect().await?;
    println!(
        "users: {:?}",
        members.iter().map(|m| &m.email).collect::<Vec<_>>()
    );
    println!("invitees: {invitees:?}");

    let removed = client
        .groups()
        .remove_members(&group.id, [members[0].email.clone()])
        .await?;
    println!("removed {:?}", removed.applied);
    let renamed = client
        .groups()
        .rename(&group.id, "Platform Engineering")
        .await?;
    println!("renamed to {:?}", renamed.name);
    client.groups().delete(&group.id).await?;
    println!("deleted");
    Ok(())
}
