//! The common jobs in one call each: grant a role by name, find people by email, audit who can
//! reach what, offboard people — against the embedded emulator.
//!
//! `cargo run -p segment-iam --example jobs`

use segment_iam::jobs::audit::{AuditFilter, AuditOptions, audit};
use segment_iam::jobs::offboard::{self, OffboardOptions};
use segment_iam::{Client, Permission, Resource};
use segment_iam_emulator::Emulator;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let emulator = Emulator::builder()
        .token("t")
        .seed(3)
        .users(40)
        .groups(4)
        .invites(3)
        .start()
        .await?;
    let client = Client::builder()
        .token("t")
        .base_url(emulator.base_url())
        .build()?;

    // Grant a role by name on this token's workspace: names and the workspace id are looked
    // up once (cached); a misspelt role is a typed error naming the closest roles.
    let ana = client
        .users()
        .find_by_email("USER2@example.com")
        .await?
        .ok_or("no such user")?;
    client
        .users()
        .add_permissions(
            &ana.id,
            [Permission::role("Source Admin").on(Resource::ThisWorkspace)],
        )
        .await?;

    // Who can reach what, and through which path.
    let report = audit(
        &client,
        &AuditFilter::new().role("Workspace Owner"),
        &AuditOptions::new(),
    )
    .await?;
    for row in &report.rows {
        println!("{} holds {} via {}", row.email, row.role_name, row.via);
    }
    println!(
        "audit: {} rows in {} requests",
        report.rows.len(),
        report.requests
    );

    // Offboard: a plan first, then the fewest deletions the URL limit allows.
    let leavers = [
        "user5@example.com",
        "user6@example.com",
        "invitee1@example.com",
        "gone@example.com",
    ];
    let options = OffboardOptions::new();
    let plan = offboard::plan(&client, leavers, &options).await?;
    for user in &plan.users {
        println!("delete {} (leaves {:?})", user.email, user.groups);
    }
    println!(
        "withdraw {:?}; unmatched {:?}; {} deletions to send",
        plan.invites.iter().map(|i| &i.email).collect::<Vec<_>>(),
        plan.unmatched,
        plan.mutations
    );
    let done = offboard::execute(&client, &plan, &options).await?;
    println!(
        "deleted {} users, withdrew {} invites in {} requests",
        done.users_deleted.len(),
        done.invites_withdrawn.len(),
        done.requests
    );
    // A second run finds nothing left to do.
    assert!(offboard::plan(&client, leavers, &options).await?.is_empty());
    Ok(())
}
