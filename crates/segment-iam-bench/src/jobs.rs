//! Scenario 6: the library jobs.
//!
//! * `audit` of a seeded workspace (5,000 users, 200 groups) with 20 ms added to every list
//!   page: the job as shipped (group listings concurrently) vs the same listings read one after
//!   another by hand with the SDK's paginators; and its request count vs the minimum the API
//!   allows (every page of users, groups and invites, then one member and one invitee listing
//!   per group that holds a permission and has members).
//! * `offboard` of 500 people, each in 3 of 50 groups: the job (plan + execute) vs the
//!   per-person loop a script would run (list the users once, then per person: list their
//!   groups, remove them from each, delete them), counted from the emulator's journal.

use std::time::{Duration, Instant};

use futures::TryStreamExt;
use segment_iam::jobs::audit::{AuditFilter, AuditOptions, audit};
use segment_iam::jobs::offboard::{self, OffboardOptions};
use segment_iam_emulator::{Emulator, Fixture, FixtureGroup, FixtureUser};

use crate::common::{self, Outcome, TOKEN};
use crate::report::{Report, Verdict};

/// Requests a list of `n` items costs at page size 1,000 (an empty list still costs one).
fn pages(n: usize) -> usize {
    n.div_ceil(1000).max(1)
}

/// Runs both halves; `quick` shrinks the workspaces.
pub async fn run(report: &mut Report, quick: bool) -> Outcome<()> {
    audit_scenario(report, quick).await?;
    offboard_scenario(report, quick).await
}

async fn audit_scenario(report: &mut Report, quick: bool) -> Outcome<()> {
    let (users, groups) = if quick { (1_000, 40) } else { (5_000, 200) };
    let delay = Duration::from_millis(20);
    let emu = Emulator::builder()
        .token(TOKEN)
        .seed(6)
        .users(users)
        .groups(groups)
        .invites(50)
        .rate_limits(false)
        .list_delay(delay)
        .start()
        .await
        .map_err(|e| e.to_string())?;
    let client = common::facade(&emu)?;
    let state = emu.state();
    let minimum = pages(state.users.len())
        + pages(state.groups.len())
        + pages(state.invites.len())
        + state
            .groups
            .iter()
            .filter(|g| !g.permissions.is_empty() && g.member_count > 0)
            .map(|g| pages(g.users.len()) + pages(g.invites.len()))
            .sum::<usize>();

    // The same reads, one after another, through the SDK's paginators.
    emu.clear_journal();
    let started = Instant::now();
    let collect = |e: segment_iam::Error| e.to_string();
    let _users = client
        .users()
        .list()
        .page_size(1000)
        .collect()
        .await
        .map_err(collect)?;
    let _invites = client
        .invites()
        .list()
        .page_size(1000)
        .collect()
        .await
        .map_err(collect)?;
    let listed = client
        .groups()
        .list()
        .page_size(1000)
        .collect()
        .await
        .map_err(collect)?;
    for group in listed
        .iter()
        .filter(|g| !g.permissions.is_empty() && g.member_count > 0)
    {
        let members: Vec<_> = client
            .groups()
            .members(&group.id)
            .page_size(1000)
            .items()
            .try_collect()
            .await
            .map_err(collect)?;
        let invitees: Vec<_> = client
            .groups()
            .invites(&group.id)
            .page_size(1000)
            .items()
            .try_collect()
            .await
            .map_err(collect)?;
        std::hint::black_box((members, invitees));
    }
    let sequential = started.elapsed();
    let sequential_requests = emu.journal().len();

    emu.clear_journal();
    let started = Instant::now();
    let audited = audit(&client, &AuditFilter::new(), &AuditOptions::new())
        .await
        .map_err(|e| e.to_string())?;
    let concurrent = started.elapsed();
    let requests = emu.journal().len();

    let label = format!(
        "6a audit {} users, {} groups, +20 ms per page",
        common::count(users as u64),
        groups
    );
    let r = concurrent.as_secs_f64() / sequential.as_secs_f64();
    report.row(
        &label,
        "wall time",
        format!("{} ({} rows)", common::secs(concurrent), audited.rows.len()),
        format!("{} (same reads, one at a time)", common::secs(sequential)),
        common::ratio(r),
        "≤ 0.25×",
        Verdict::check(r <= 0.25),
    );
    report.row(
        &label,
        "requests",
        requests.to_string(),
        format!("{minimum} (minimum; the sequential reads sent {sequential_requests})"),
        common::ratio(requests as f64 / minimum as f64),
        "= minimum",
        Verdict::check(requests == minimum),
    );
    emu.shutdown().await;
    Ok(())
}

fn email(i: usize) -> String {
    format!("person{i}@example.com")
}

async fn offboard_scenario(report: &mut Report, quick: bool) -> Outcome<()> {
    let (people, leaving, groups) = if quick {
        (400, 100, 20)
    } else {
        (2_000, 500, 50)
    };
    // Person i is in groups i % g, (i + 7) % g and (i + 19) % g.
    let fixture = Fixture {
        users: (0..people)
            .map(|i| FixtureUser {
                email: email(i),
                name: format!("Person {i}"),
                ..FixtureUser::default()
            })
            .collect(),
        groups: (0..groups)
            .map(|g| FixtureGroup {
                name: format!("Team {g}"),
                members: (0..people)
                    .filter(|i| [i % groups, (i + 7) % groups, (i + 19) % groups].contains(&g))
                    .map(email)
                    .collect(),
                ..FixtureGroup::default()
            })
            .collect(),
        ..Fixture::default()
    };
    let start = |fixture: Fixture| async move {
        Emulator::builder()
            .token(TOKEN)
            .fixture(fixture)
            .rate_limits(false)
            .start()
            .await
            .map_err(|e| e.to_string())
    };
    let leavers: Vec<String> = (0..leaving).map(email).collect();

    // The job.
    let emu = start(fixture.clone()).await?;
    let client = common::facade(&emu)?;
    let options = OffboardOptions::new();
    let plan = offboard::plan(&client, leavers.clone(), &options)
        .await
        .map_err(|e| e.to_string())?;
    offboard::execute(&client, &plan, &options)
        .await
        .map_err(|e| e.to_string())?;
    let journal = emu.journal();
    let sdk_total = journal.len();
    let sdk_mutations = journal.iter().filter(|e| e.method != "GET").count();
    if emu.user_count() != people - leaving {
        return Err("the job left some leavers behind".into());
    }
    emu.shutdown().await;

    // The per-person loop, through the SDK (so it is paced and retried the same way).
    let emu = start(fixture).await?;
    let client = common::facade(&emu)?;
    let users = client
        .users()
        .list()
        .page_size(1000)
        .collect()
        .await
        .map_err(|e| e.to_string())?;
    for address in &leavers {
        let Some(user) = users.iter().find(|u| &u.email == address) else {
            continue;
        };
        let groups = client
            .users()
            .groups(&user.id)
            .collect()
            .await
            .map_err(|e| e.to_string())?;
        for group in groups {
            client
                .groups()
                .remove_members(&group.id, [address.clone()])
                .await
                .map_err(|e| e.to_string())?;
        }
        client
            .users()
            .delete([user.id.clone()])
            .await
            .map_err(|e| e.to_string())?;
    }
    let journal = emu.journal();
    let loop_total = journal.len();
    let loop_mutations = journal.iter().filter(|e| e.method != "GET").count();
    emu.shutdown().await;

    let label = format!("6b offboard {leaving} people, each in 3 of {groups} groups");
    let fewer = loop_mutations as f64 / sdk_mutations.max(1) as f64;
    report.row(
        &label,
        "mutations (the 60/min requests)",
        sdk_mutations.to_string(),
        format!("{loop_mutations} (per-person loop)"),
        format!("{fewer:.0}× fewer"),
        "≥ 50× fewer",
        Verdict::check(fewer >= 50.0),
    );
    report.row(
        &label,
        "all requests, reads included",
        sdk_total.to_string(),
        format!("{loop_total} (per-person loop)"),
        format!("{:.0}× fewer", loop_total as f64 / sdk_total.max(1) as f64),
        "—",
        Verdict::Info,
    );
    Ok(())
}
