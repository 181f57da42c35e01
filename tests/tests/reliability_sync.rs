//! Access as code under failure: an apply stopped anywhere converges when re-run, creations
//! whose answer was lost are looked up instead of re-sent, a second apply sends nothing, and
//! the guards (last owner, removal cap, another workspace, a stale saved plan) refuse before
//! anything is sent, and a labelled workspace round-trips.

use segment_iam::guard::{Refusal, RemovalCap};
use segment_iam_emulator::state::PermissionInput;
use segment_iam_emulator::{Fault, Fixture, FixtureGroup, FixtureUser, Operation};
use segment_iam_sync::file::{AccessFile, PermissionEntry, Text};
use segment_iam_sync::{ApplyOptions, Error, Plan};
use segment_iam_tests::reliability::fault_client;
use segment_iam_tests::sync::{
    export_yaml, labelled_workspace, live, mutations, owner_permission, plan, plan_and_apply,
};
use segment_iam_tests::{client, emulator, start};

fn owner() -> Vec<PermissionInput> {
    vec![owner_permission()]
}

/// own@x.io owns the workspace; a@..e@x.io are users; group Old holds a, b, c.
fn workspace() -> Fixture {
    let users = ["own", "a", "b", "c", "d", "e"]
        .iter()
        .map(|n| FixtureUser {
            email: format!("{n}@x.io"),
            permissions: if *n == "own" { owner() } else { vec![] },
            ..FixtureUser::default()
        })
        .collect();
    Fixture {
        users,
        groups: vec![FixtureGroup {
            name: "Old".into(),
            members: vec!["a@x.io".into(), "b@x.io".into(), "c@x.io".into()],
            ..FixtureGroup::default()
        }],
        ..Fixture::default()
    }
}

/// Creates two groups, invites two people, moves members and changes permissions: one step
/// of every phase but the deletions.
const FILE: &str = r#"version: 1
users:
  own@x.io:
    permissions:
      - role: Workspace Owner
        resources: [workspace]
  a@x.io:
    permissions:
      - role: Source Admin
        resources: ["SOURCE:s1"]
  new1@x.io:
    permissions:
      - role: Source Read-only
        resources: [workspace]
  new2@x.io: {}
groups:
  Old:
    members: [a@x.io, d@x.io]
  Fresh:
    members: [b@x.io, new1@x.io]
    permissions:
      - role: Source Read-only
        resources: [workspace]
  Second:
    members: [e@x.io, new2@x.io]
"#;

/// Cases: the apply of FILE failing for good (503 beyond the retry budget) at each of its
/// mutations in turn: every mutation operation it sends, at its j-th request for every j.
/// Asserts: the failure is Error::Apply whose report lists fewer steps than planned; the
/// re-run converges (a third plan is empty); over both runs each group is created once and
/// each email invited once.
#[tokio::test]
async fn an_apply_stopped_at_any_mutation_converges_when_run_again() {
    let probe = start(emulator().fixture(workspace())).await;
    plan_and_apply(&client(&probe), FILE)
        .await
        .expect("a clean apply");
    let sent: Vec<Operation> = probe
        .journal()
        .iter()
        .filter(|e| e.method != "GET")
        .filter_map(|e| e.operation)
        .collect();
    assert!(sent.len() >= 8, "the file exercises every phase: {sent:?}");
    let mut stops = 0;
    for (i, operation) in sent.iter().enumerate() {
        let j = sent[..i].iter().filter(|o| *o == operation).count();
        let emu = start(emulator().fixture(workspace())).await;
        let faulty = fault_client(&emu, 2);
        emu.inject(
            Fault::status(503)
                .on_operation(*operation)
                .skip_first(j as u32)
                .always(),
        );
        match plan_and_apply(&faulty, FILE).await {
            Err(Error::Apply { report, .. }) => {
                assert!(report.steps_done < report.steps_planned, "{operation}#{j}");
                stops += 1;
            }
            other => panic!("{operation}#{j}: expected Error::Apply, got {other:?}"),
        }
        emu.clear_faults();
        plan_and_apply(&client(&emu), FILE).await.expect("re-run");
        let last = plan(&client(&emu), FILE).await.expect("plan");
        assert!(last.is_empty(), "{operation}#{j}: {last}");
        assert_eq!(
            emu.applied_count(Operation::CreateUserGroup),
            2,
            "{operation}#{j}"
        );
        let invited: Vec<String> = emu
            .journal_for(Operation::CreateInvites)
            .iter()
            .filter(|e| e.status < 300)
            .filter_map(|e| e.body.clone())
            .collect();
        for email in ["new1@x.io", "new2@x.io"] {
            let times: usize = invited.iter().map(|b| b.matches(email).count()).sum();
            assert_eq!(times, 1, "{operation}#{j}: {email} invited {times} times");
        }
    }
    assert_eq!(stops, sent.len());
}

/// Cases: createUserGroup and createInvites each applied but their answer lost (connection
/// dropped after the change). Asserts: the apply succeeds by reading the workspace, each
/// creation is sent and applied exactly once, and the result converges.
#[tokio::test]
async fn a_creation_whose_answer_was_lost_is_looked_up_not_resent() {
    let emu = start(emulator().fixture(workspace())).await;
    let client = fault_client(&emu, 3);
    emu.inject(
        Fault::drop_connection()
            .on_operation(Operation::CreateUserGroup)
            .after_apply()
            .times(1),
    );
    emu.inject(
        Fault::drop_connection()
            .on_operation(Operation::CreateInvites)
            .after_apply()
            .times(1),
    );
    plan_and_apply(&client, FILE)
        .await
        .expect("apply resolves lost answers by reading");
    assert_eq!(emu.journal_for(Operation::CreateUserGroup).len(), 2);
    assert_eq!(emu.applied_count(Operation::CreateUserGroup), 2);
    assert_eq!(emu.journal_for(Operation::CreateInvites).len(), 1);
    assert!(plan(&client, FILE).await.expect("plan").is_empty());
}

/// Cases: FILE applied twice. Asserts: the second apply's plan is empty and it sends no
/// mutation at all.
#[tokio::test]
async fn a_second_apply_of_the_same_file_sends_nothing() {
    let emu = start(emulator().fixture(workspace())).await;
    let client = client(&emu);
    plan_and_apply(&client, FILE).await.expect("first apply");
    let before = mutations(&emu);
    let (second, report) = plan_and_apply(&client, FILE).await.expect("second apply");
    assert!(second.is_empty(), "{second}");
    assert_eq!(report.mutations_done, 0);
    assert_eq!(mutations(&emu), before);
}

/// Cases: a file dropping the only owner's permission; removals over the cap; a file for
/// another workspace. Asserts: the first two are Error::Refused with the facade's typed
/// refusal (last owner, removal cap), the third Error::Guard, and the emulator received no
/// mutation; the cap raised to the plan's removals, the same plan applies.
#[tokio::test]
async fn guards_refuse_before_anything_is_sent() {
    let emu = start(emulator().fixture(workspace())).await;
    let client = client(&emu);
    let no_owner = "version: 1\nusers:\n  own@x.io: {}\n";
    let refused = plan(&client, no_owner).await;
    assert!(
        matches!(&refused, Err(Error::Refused(Refusal::LastOwner { owners })) if owners == &["own@x.io"]),
        "{refused:?}"
    );

    let removals = "version: 1\nprune: { users: true }\nusers:\n  own@x.io:\n    permissions:\n      - role: Workspace Owner\n        resources: [workspace]\n";
    let planned = plan(&client, removals).await.expect("plan");
    assert_eq!(planned.removals(), 5, "{planned}");
    let capped = segment_iam_sync::apply(
        &client,
        &planned,
        &ApplyOptions::new().removal_cap(RemovalCap::at(4)),
    )
    .await;
    assert!(
        matches!(
            capped,
            Err(Error::Refused(Refusal::RemovalCap {
                removals: 5,
                cap: 4
            }))
        ),
        "{capped:?}"
    );

    let elsewhere = "version: 1\nworkspace: another\n";
    assert!(matches!(
        plan(&client, elsewhere).await,
        Err(Error::Guard { .. })
    ));
    assert_eq!(mutations(&emu), 0);

    segment_iam_sync::apply(
        &client,
        &planned,
        &ApplyOptions::new().removal_cap(RemovalCap::at(5)),
    )
    .await
    .expect("within the cap");
    assert_eq!(live(&client).await.users.len(), 1);
}

/// Cases: the owner's only path is group Admins; a file emptying Admins. Asserts: refused as
/// Error::Refused (the last owner through a group), nothing sent.
#[tokio::test]
async fn removing_the_last_owner_through_a_group_is_refused() {
    let mut fixture = workspace();
    fixture.users[0].permissions.clear();
    fixture.groups.push(FixtureGroup {
        name: "Admins".into(),
        members: vec!["own@x.io".into()],
        permissions: owner(),
        ..FixtureGroup::default()
    });
    let emu = start(emulator().fixture(fixture)).await;
    let client = client(&emu);
    let refused = plan(&client, "version: 1\ngroups:\n  Admins:\n    members: []\n    permissions:\n      - role: Workspace Owner\n        resources: [workspace]\n").await;
    assert!(
        matches!(refused, Err(Error::Refused(Refusal::LastOwner { .. }))),
        "{refused:?}"
    );
    assert_eq!(mutations(&emu), 0);
}

/// Cases: a plan saved as JSON, then the workspace changed (a member added out of band).
/// Asserts: applying the saved plan with verify_fresh is Error::StalePlan and sends nothing;
/// a saved plan of an unchanged workspace applies.
#[tokio::test]
async fn a_saved_plan_is_refused_once_the_workspace_changed() {
    let emu = start(emulator().fixture(workspace())).await;
    let client = client(&emu);
    let saved =
        Plan::from_json(&plan(&client, FILE).await.expect("plan").to_json()).expect("reads back");
    client
        .groups()
        .add_members(live(&client).await.groups[0].id.clone(), ["e@x.io"])
        .await
        .expect("out-of-band change");
    let before = mutations(&emu);
    let fresh = ApplyOptions::new().verify_fresh(true);
    let stale = segment_iam_sync::apply(&client, &saved, &fresh).await;
    assert!(matches!(stale, Err(Error::StalePlan { .. })), "{stale:?}");
    assert_eq!(mutations(&emu), before);

    let saved =
        Plan::from_json(&plan(&client, FILE).await.expect("plan").to_json()).expect("reads back");
    segment_iam_sync::apply(&client, &saved, &fresh)
        .await
        .expect("fresh plan applies");
    assert!(plan(&client, FILE).await.expect("plan").is_empty());
}

/// Cases: a labelled workspace (narrowed grants on a user and a group, a labelled source)
/// exported, the export applied; then the export edited (a new label, a grant narrowed by it
/// for a@x.io) and applied with createLabel's answer lost once (connection dropped after the
/// change). Asserts: applying the export sends no mutation; the edited file's plan is the
/// minimum (one label creation, one permission add, computed from the edit) and exactly that
/// many mutations are sent, the lost creation resolved by reading the labels, not re-sent;
/// the second plan is empty.
#[tokio::test]
async fn a_labelled_workspace_round_trips_and_an_edit_costs_the_minimum() {
    let emu = start(emulator().fixture(labelled_workspace())).await;
    let client = client(&emu);
    let yaml = export_yaml(&client).await;
    let before = mutations(&emu);
    let (unchanged, _) = plan_and_apply(&client, &yaml).await.expect("applied");
    assert!(unchanged.is_empty(), "{unchanged}");
    assert_eq!(mutations(&emu), before, "the export applies as nothing");

    let mut file = AccessFile::parse(&yaml).expect("the export parses");
    file.labels.push(Text::new("team:data"));
    file.users
        .get_mut("a@x.io")
        .expect("listed")
        .permissions
        .push(PermissionEntry::new("Source Read-only", ["workspace"]).labels(["team:data"]));
    let edited = file.to_yaml().expect("writes");
    let minimum = 1 + 1;
    emu.inject(
        Fault::drop_connection()
            .on_operation(Operation::CreateLabel)
            .after_apply()
            .times(1),
    );
    let before = mutations(&emu);
    let (edit, report) = plan_and_apply(&client, &edited).await.expect("applied");
    assert_eq!(edit.requests(), minimum, "{edit}");
    assert_eq!(mutations(&emu) - before, minimum);
    assert_eq!(report.mutations_done, minimum);
    assert_eq!(emu.applied_count(Operation::CreateLabel), 1);
    let again = plan(&client, &edited).await.expect("plan again");
    assert!(again.is_empty(), "{again}");
}
