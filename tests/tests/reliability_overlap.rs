//! Overlapping applies: three applies of one file at once (a schedule, a CI run and an
//! operator) end with the file's state and all succeed, on a service that refuses a duplicate
//! group name and on one that accepts it (`allow_duplicate_group_names`), where the runs agree
//! on one survivor per name and delete their own duplicates.
//!
//! The three runs are held after planning until all three have read the workspace (no
//! mutation is in the emulator's journal by then), so each plans every creation and they race
//! for all of them; then they apply at once.

use std::collections::BTreeMap;
use std::sync::Arc;

use segment_iam_emulator::{EmulatorHandle, Fixture, FixtureGroup, FixtureUser, Operation};
use segment_iam_sync::{ApplyOptions, ApplyReport};
use segment_iam_tests::sync::{mutations, owner_permission, plan};
use segment_iam_tests::{client, emulator, start};

const RUNS: usize = 3;
const GROUPS: usize = 8;
const INVITEES: [&str; 3] = ["new1@x.io", "new2@x.io", "new3@x.io"];

/// own@x.io owns the workspace; u0..u5@x.io are users; group Old holds u0 and u1.
fn workspace() -> Fixture {
    let mut users = vec![FixtureUser {
        email: "own@x.io".into(),
        permissions: vec![owner_permission()],
        ..FixtureUser::default()
    }];
    users.extend((0..6).map(|i| FixtureUser {
        email: format!("u{i}@x.io"),
        ..FixtureUser::default()
    }));
    Fixture {
        users,
        groups: vec![FixtureGroup {
            name: "Old".into(),
            members: vec!["u0@x.io".into(), "u1@x.io".into()],
            ..FixtureGroup::default()
        }],
        ..Fixture::default()
    }
}

/// 8 new groups "Team 0".."Team 7", each with two users, one new invitee and a permission;
/// three new invitees (one with a permission); u1 leaves Old (a removal every run plans).
fn file() -> String {
    let mut yaml = String::from(
        "version: 1\nusers:\n  own@x.io:\n    permissions:\n      - role: Workspace Owner\n        resources: [workspace]\n  new1@x.io:\n    permissions:\n      - role: Source Read-only\n        resources: [workspace]\n  new2@x.io: {}\n  new3@x.io: {}\ngroups:\n  Old:\n    members: [u0@x.io]\n",
    );
    for g in 0..GROUPS {
        yaml.push_str(&format!(
            "  Team {g}:\n    members: [u{}@x.io, u{}@x.io, {}]\n    permissions:\n      - role: Source Admin\n        resources: [\"SOURCE:s{g}\"]\n",
            g % 6,
            (g + 1) % 6,
            INVITEES[g % INVITEES.len()],
        ));
    }
    yaml
}

/// Three runs, each with its own client (as three processes would have): each plans, waits
/// until all three have planned, then applies. Returns the reports.
async fn three_at_once(emu: &EmulatorHandle) -> Vec<ApplyReport> {
    let yaml = file();
    let planned = Arc::new(tokio::sync::Barrier::new(RUNS + 1));
    let go = Arc::new(tokio::sync::Barrier::new(RUNS + 1));
    let mut runs = Vec::new();
    for _ in 0..RUNS {
        let client = client(emu);
        let yaml = yaml.clone();
        let (planned, go) = (planned.clone(), go.clone());
        runs.push(tokio::spawn(async move {
            let plan = plan(&client, &yaml).await;
            planned.wait().await;
            go.wait().await;
            let plan = plan?;
            assert!(!plan.is_empty());
            segment_iam_sync::apply(&client, &plan, &ApplyOptions::new()).await
        }));
    }
    planned.wait().await;
    // The event the runs are held on: all three have read, and nothing was sent yet.
    assert_eq!(mutations(emu), 0, "every run planned on the same workspace");
    go.wait().await;
    let mut reports = Vec::new();
    for run in runs {
        let report = tokio::time::timeout(std::time::Duration::from_secs(60), run)
            .await
            .expect("a run finishes within 60 s")
            .expect("a run does not panic")
            .expect("every run succeeds");
        reports.push(report);
    }
    reports
}

/// Groups by name, with how many have that name.
fn names(emu: &EmulatorHandle) -> BTreeMap<String, usize> {
    let mut names = BTreeMap::new();
    for g in emu.state().groups {
        *names.entry(g.name).or_default() += 1;
    }
    names
}

/// Applied `createInvites` per invitee email (from the bodies in the journal).
fn invites_applied(emu: &EmulatorHandle) -> BTreeMap<&'static str, usize> {
    let sent = emu.journal_for(Operation::CreateInvites);
    INVITEES
        .iter()
        .map(|email| {
            let n = sent
                .iter()
                .filter(|e| e.applied)
                .filter(|e| e.body.as_deref().is_some_and(|b| b.contains(email)))
                .count();
            (*email, n)
        })
        .collect()
}

/// What both modes end with: one group per name, every invitee invited once, the file's
/// state (a fourth plan is empty), every run's groups the surviving ones.
async fn assert_converged(emu: &EmulatorHandle, reports: &[ApplyReport]) {
    let names = names(emu);
    assert_eq!(names.len(), GROUPS + 1, "{names:?}");
    assert!(
        names.values().all(|n| *n == 1),
        "one group per name: {names:?}"
    );
    assert!(
        invites_applied(emu).values().all(|n| *n == 1),
        "each invite applied once per email: {:?}",
        invites_applied(emu)
    );
    let fourth = plan(&client(emu), &file()).await.expect("a fourth plan");
    assert!(fourth.is_empty(), "{fourth}");
    let ids: std::collections::BTreeSet<String> =
        emu.state().groups.into_iter().map(|g| g.id).collect();
    for report in reports {
        let used: Vec<&String> = report
            .created_groups
            .values()
            .chain(report.adopted_groups.values())
            .collect();
        assert_eq!(used.len(), GROUPS, "each run accounts for every group");
        assert!(used.iter().all(|id| ids.contains(*id)), "{report:?}");
    }
}

/// Cases: 3 applies at once of a file creating 8 groups (members, permissions) and inviting
/// 3 people, on the emulator as it is (a duplicate group name is a 409). Asserts: all three
/// succeed; createUserGroup was sent 24 times, applied 8 times and refused (409) 16 times;
/// one group per name; each invitee's createInvites applied once; the groups created across
/// the runs are 8 and the others were adopted; a fourth plan is empty.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_overlapping_applies_converge_when_the_service_refuses_a_duplicate_name() {
    let emu = start(emulator().fixture(workspace())).await;
    let reports = three_at_once(&emu).await;
    let creations = emu.journal_for(Operation::CreateUserGroup);
    assert_eq!(creations.len(), RUNS * GROUPS);
    assert_eq!(emu.applied_count(Operation::CreateUserGroup), GROUPS);
    assert_eq!(
        creations.iter().filter(|e| e.status == 409).count(),
        (RUNS - 1) * GROUPS
    );
    let created: usize = reports.iter().map(|r| r.created_groups.len()).sum();
    assert_eq!(created, GROUPS);
    assert!(reports.iter().all(|r| r.merged_groups.is_empty()));
    assert_converged(&emu, &reports).await;
}

/// Cases: the same 3 applies at once on an emulator that accepts duplicate group names.
/// Asserts: all three succeed; all 24 creations are applied and exactly 16 groups deleted,
/// each a duplicate its own run created and reported as merged into the survivor (the
/// oldest, which every run names alike); one group per name; each invitee's createInvites
/// applied once; a fourth plan is empty (not refused as ambiguous).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_overlapping_applies_agree_on_one_survivor_when_the_service_accepts_duplicates() {
    let emu = start(
        emulator()
            .allow_duplicate_group_names(true)
            .fixture(workspace()),
    )
    .await;
    let reports = three_at_once(&emu).await;
    assert_eq!(emu.applied_count(Operation::CreateUserGroup), RUNS * GROUPS);
    assert_eq!(
        emu.applied_count(Operation::DeleteUserGroup),
        (RUNS - 1) * GROUPS
    );
    let merged: Vec<_> = reports.iter().flat_map(|r| &r.merged_groups).collect();
    assert_eq!(merged.len(), (RUNS - 1) * GROUPS);
    let survivors: BTreeMap<String, String> = emu
        .state()
        .groups
        .into_iter()
        .map(|g| (g.name, g.id))
        .collect();
    for m in &merged {
        assert_eq!(survivors.get(&m.name), Some(&m.survivor), "{m:?}");
        assert_ne!(m.deleted, m.survivor);
    }
    let deleted: std::collections::BTreeSet<&String> = merged.iter().map(|m| &m.deleted).collect();
    assert_eq!(deleted.len(), merged.len(), "each duplicate deleted once");
    assert_converged(&emu, &reports).await;
}
