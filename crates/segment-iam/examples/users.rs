//! `client.users()`: list, get, groups of a user, permissions, offboarding.
//!
//! `cargo run -p segment-iam --example users`

use futures::TryStreamExt;
use segment_iam::{Client, Permission, ResourceType};
use segment_iam_emulator::{Emulator, seed::WORKSPACE_ID};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let emulator = Emulator::builder()
        .token("t")
        .seed(1)
        .users(30)
        .groups(2)
        .start()
        .await?;
    let client = Client::builder()
        .token("t")
        .base_url(emulator.base_url())
        .build()?;

    let users: Vec<_> = client
        .users()
        .list()
        .page_size(10)
        .items()
        .try_collect()
        .await?;
    println!(
        "{} users; the first is {} <{}>",
        users.len(),
        users[0].name,
        users[0].email
    );

    let user = client.users().get(&users[0].id).await?;
    let groups = client.users().groups(&user.id).collect().await?;
    println!("{} belongs to {} group(s)", user.email, groups.len());

    let read_only = Permission::new("1WDUuNNt5xeChlybbD2nkIH8dNn")
        .resource(ResourceType::Workspace, WORKSPACE_ID);
    let granted = client
        .users()
        .add_permissions(&user.id, [read_only])
        .await?;
    println!(
        "granted {:?}",
        granted.iter().map(|p| &p.role_name).collect::<Vec<_>>()
    );

    let leavers: Vec<String> = users.iter().skip(20).map(|u| u.id.clone()).collect();
    let outcome = client.users().delete(leavers).await?;
    println!(
        "offboarded {} users in {} request(s)",
        outcome.applied.len(),
        outcome.requests
    );
    Ok(())
}
