//! `client.invites()`: invite people with a permission, list and revoke invites.
//!
//! `cargo run -p segment-iam --example invites`

use segment_iam::{Client, Invite, Permission, ResourceType};
use segment_iam_emulator::{Emulator, seed::WORKSPACE_ID};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let emulator = Emulator::builder().token("t").start().await?;
    let client = Client::builder()
        .token("t")
        .base_url(emulator.base_url())
        .build()?;

    let member = Permission::new("1WDUuVBnqMOgaTtWbvNrvOhQFNY")
        .resource(ResourceType::Workspace, WORKSPACE_ID);
    let invited = client
        .invites()
        .create([
            Invite::new("ana@example.com").permission(member.clone()),
            Invite::new("bo+contractor@example.com").permission(member),
        ])
        .await?;
    println!("invited {invited:?}");

    let pending = client.invites().list().collect().await?;
    println!("pending: {pending:?}");

    let revoked = client
        .invites()
        .delete(["bo+contractor@example.com"])
        .await?;
    println!("revoked {:?}", revoked.applied);
    Ok(())
}
