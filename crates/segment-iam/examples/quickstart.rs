//! The main job, end to end, against the embedded emulator (no Segment account needed):
//! list users across pages, create a group, add members, invite someone with a permission,
//! and run into the 60-mutations-per-window limit to show it absorbed.
//!
//! `cargo run --example quickstart`

use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt};
use segment_iam::{Client, Invite, Permission, ResourceType};
use segment_iam_emulator::Emulator;

const OWNER_ROLE: &str = "1WDUuRLxv84rrfCNUwvkrRtkxnS";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The documented limit (60 mutations per window), with a 3-second window instead of a
    // minute so the demo finishes quickly.
    let emulator = Emulator::builder()
        .token("quickstart-token")
        .seed(42)
        .users(450)
        .groups(3)
        .mutation_limit(60)
        .window(Duration::from_secs(3))
        .start()
        .await?;
    println!("emulator listening on {}", emulator.base_url());

    let client = Client::builder()
        .token("quickstart-token")
        .base_url(emulator.base_url())
        .build()?;

    // 1. Every user, across pages of 200, as one stream.
    let mut pages = client.users().list().page_size(200).pages();
    let mut total = 0;
    while let Some(page) = pages.try_next().await? {
        total += page.items.len();
        println!(
            "  page of {:>3} users (service says {:?} in all)",
            page.items.len(),
            page.total_entries
        );
    }
    println!("1. listed {total} users");

    // 2. A group for the data team, with the first five users as members.
    let group = client.groups().create("Data Team").await?;
    let first_five: Vec<String> = client
        .users()
        .list()
        .items()
        .take(5)
        .map_ok(|u| u.email)
        .try_collect()
        .await?;
    let group = client
        .groups()
        .add_members(&group.id, first_five.clone())
        .await?;
    println!(
        "2. created group {:?} ({}) with {} members",
        group.name, group.id, group.member_count
    );

    // 3. Invite someone with a permission on the workspace, and add them to the group.
    let workspace = segment_iam_emulator::seed::WORKSPACE_ID;
    let invited = client
        .invites()
        .create([Invite::new("new.analyst+onboarding@example.com")
            .permission(Permission::new(OWNER_ROLE).resource(ResourceType::Workspace, workspace))])
        .await?;
    client
        .groups()
        .add_members(&group.id, invited.clone())
        .await?;
    println!("3. invited {invited:?} and added them to the group");

    // 4. 70 mutations: more than the 60 a window allows. The client paces itself from the
    //    X-RateLimit-* headers instead of hammering the service into 429s.
    let started = Instant::now();
    for i in 0..70 {
        client
            .groups()
            .rename(&group.id, format!("Data Team (rev {i})"))
            .await?;
    }
    let metrics = client.metrics();
    println!(
        "4. 70 renames in {:.1?}: {} requests so far, {} answered 429, {:.1?} spent waiting on the limit",
        started.elapsed(),
        metrics.requests,
        metrics.rate_limited,
        metrics.waited
    );

    // 5. Offboarding: remove the members again, by email (sent as emails.0=..&emails.1=..).
    let removed = client
        .groups()
        .remove_members(&group.id, first_five)
        .await?;
    println!(
        "5. removed {} members in {} request(s)",
        removed.applied.len(),
        removed.requests
    );

    let audit = emulator.audit_events();
    println!(
        "done: the emulator's audit trail has {} events",
        audit.len()
    );
    emulator.shutdown().await;
    Ok(())
}
