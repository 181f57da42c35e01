//! Scenario 9: onboarding many people into many groups.
//!
//! 200 new people (50 in `--quick`), each with "Workspace Member" on the workspace, into the
//! same 10 groups (by name): the `onboard` job (plan + execute: one `createInvites` with
//! everyone, one `addUsersToUserGroup` per group) vs the per-person loop a script would run
//! through the same SDK (per person: invite them, then add them to each group). Both run under
//! the service's 60 mutations per window, on an emulator whose window is 250 ms instead of a
//! minute so the comparison takes seconds; the wall-time ratio is what a real minute-long
//! window would show (the mutation count decides it).

use std::time::{Duration, Instant};

use segment_iam::jobs::onboard::{self, Newcomer, OnboardOptions};
use segment_iam::{Invite, Permission, Resource};
use segment_iam_emulator::{Emulator, EmulatorHandle, Fixture, FixtureGroup};

use crate::common::{self, Outcome, TOKEN};
use crate::report::{Report, Verdict};

/// The emulator's rate-limit window for this scenario (the service's is 60 s).
const WINDOW: Duration = Duration::from_millis(250);
/// Mutations per window: the service's default.
const MUTATIONS: u32 = 60;
/// Groups everyone joins.
const GROUPS: usize = 10;

fn email(i: usize) -> String {
    format!("joiner{i}@example.com")
}

fn group_name(g: usize) -> String {
    format!("Team {g}")
}

fn member() -> Permission {
    Permission::role("Workspace Member").on(Resource::ThisWorkspace)
}

async fn start() -> Outcome<EmulatorHandle> {
    Emulator::builder()
        .token(TOKEN)
        .fixture(Fixture {
            groups: (0..GROUPS)
                .map(|g| FixtureGroup {
                    name: group_name(g),
                    ..FixtureGroup::default()
                })
                .collect(),
            ..Fixture::default()
        })
        .mutation_limit(MUTATIONS)
        .window(WINDOW)
        .start()
        .await
        .map_err(|e| e.to_string())
}

/// Every person in every group, checked on the emulator's state.
fn everyone_in(emu: &EmulatorHandle, people: usize) -> Outcome<()> {
    let state = emu.state();
    for g in &state.groups {
        if g.invites.len() != people {
            return Err(format!("{} holds {} of {people}", g.name, g.invites.len()));
        }
    }
    Ok(())
}

/// Runs the job and the loop on fresh emulators and reports requests and wall time.
pub async fn run(report: &mut Report, quick: bool) -> Outcome<()> {
    let people = if quick { 50 } else { 200 };
    let groups: Vec<String> = (0..GROUPS).map(group_name).collect();

    // The job.
    let emu = start().await?;
    let client = common::facade(&emu)?;
    let newcomers: Vec<Newcomer> = (0..people)
        .map(|i| {
            groups
                .iter()
                .fold(Newcomer::new(email(i)).permission(member()), |n, g| {
                    n.group(g.clone())
                })
        })
        .collect();
    let started = Instant::now();
    let options = OnboardOptions::new();
    let plan = onboard::plan(&client, newcomers, &options)
        .await
        .map_err(|e| e.to_string())?;
    onboard::execute(&client, &plan, &options)
        .await
        .map_err(|e| e.to_string())?;
    let job_wall = started.elapsed();
    let journal = emu.journal();
    let job_total = journal.len();
    let job_mutations = journal.iter().filter(|e| e.method != "GET").count();
    everyone_in(&emu, people)?;
    if job_mutations as u64 != plan.mutations {
        return Err(format!(
            "the job sent {job_mutations} mutations, its plan said {}",
            plan.mutations
        ));
    }
    emu.shutdown().await;

    // The per-person loop, through the SDK (paced and retried the same way).
    let emu = start().await?;
    let client = common::facade(&emu)?;
    let started = Instant::now();
    let listed = client
        .groups()
        .list()
        .page_size(1000)
        .collect()
        .await
        .map_err(|e| e.to_string())?;
    for i in 0..people {
        client
            .invites()
            .create([Invite::new(email(i)).permission(member())])
            .await
            .map_err(|e| e.to_string())?;
        for g in &listed {
            client
                .groups()
                .add_members(&g.id, [email(i)])
                .await
                .map_err(|e| e.to_string())?;
        }
    }
    let loop_wall = started.elapsed();
    let journal = emu.journal();
    let loop_total = journal.len();
    let loop_mutations = journal.iter().filter(|e| e.method != "GET").count();
    everyone_in(&emu, people)?;
    emu.shutdown().await;

    let label = format!(
        "9 onboard {people} new people into {GROUPS} groups, {MUTATIONS} mutations per {} ms window",
        WINDOW.as_millis()
    );
    let fewer = loop_mutations as f64 / job_mutations.max(1) as f64;
    report.row(
        &label,
        "mutations (the rate-limited requests)",
        format!("{job_mutations} (= the plan's minimum)"),
        format!("{loop_mutations} (per-person loop)"),
        format!("{fewer:.0}× fewer"),
        "≥ 50× fewer",
        Verdict::check(fewer >= 50.0),
    );
    report.row(
        &label,
        "all requests, reads included",
        job_total.to_string(),
        format!("{loop_total} (per-person loop)"),
        format!("{:.0}× fewer", loop_total as f64 / job_total.max(1) as f64),
        "—",
        Verdict::Info,
    );
    let r = job_wall.as_secs_f64() / loop_wall.as_secs_f64();
    report.row(
        &label,
        "wall time under the mutation limit",
        common::secs(job_wall),
        format!("{} (per-person loop)", common::secs(loop_wall)),
        common::ratio(r),
        "≤ 0.1×",
        Verdict::check(r <= 0.1),
    );
    Ok(())
}
