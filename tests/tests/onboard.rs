//! Onboarding (issue #24): people by email, roles and groups by name, in the fewest requests,
//! safe to re-run. One workspace holds each kind of person — a user missing a permission and
//! a group, a pending invitee missing a group, two new people — asked a role by name and a
//! role narrowed by a label, and two groups by name in another case than their names.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use segment_iam::jobs::onboard::{
    self, Newcomer, OnboardNote, OnboardOptions, OnboardPlan, PersonKind,
};
use segment_iam::{Client, Error, Grant, Label, Permission, Resource};
use segment_iam_emulator::state::{PermissionInput, PermissionResource};
use segment_iam_emulator::{
    EmulatorHandle, Fault, Fixture, FixtureGroup, FixtureInvite, FixtureUser, Operation,
};
use segment_iam_tests::{WORKSPACE, client, emulator, start};

/// The emulator's "Workspace Member" and "Source Admin" role ids.
const MEMBER_ROLE: &str = "1WDUuVBnqMOgaTtWbvNrvOhQFNY";
const SOURCE_ADMIN: &str = "1WDUuQEbvvYQIILOjS5GMDdHPoZ";

const USER: &str = "ana@example.com";
const INVITEE: &str = "cy@example.com";
const NEW: [&str; 2] = ["dee@example.com", "eve@example.com"];

fn prod() -> Label {
    "environment:prod".parse().expect("a label")
}

/// ana: a user holding "Workspace Member" on the workspace, in Data Team; cy: invited, in
/// Analysts; groups Analysts, Data Team, two named Twins, and Platform.
fn fixture() -> Fixture {
    let member = PermissionInput {
        role_id: MEMBER_ROLE.into(),
        resources: vec![PermissionResource {
            id: WORKSPACE.into(),
            resource_type: "WORKSPACE".into(),
            labels: vec![],
        }],
    };
    let group = |name: &str, members: &[&str]| FixtureGroup {
        name: name.into(),
        members: members.iter().map(|m| m.to_string()).collect(),
        ..FixtureGroup::default()
    };
    Fixture {
        users: vec![
            FixtureUser {
                email: USER.into(),
                permissions: vec![member],
                ..FixtureUser::default()
            },
            FixtureUser {
                email: "bo@example.com".into(),
                ..FixtureUser::default()
            },
        ],
        invites: vec![FixtureInvite {
            email: INVITEE.into(),
            permissions: vec![],
        }],
        groups: vec![
            group("Analysts", &[INVITEE]),
            group("Data Team", &[USER]),
            group("Twins", &[]),
            group("twins", &[]),
            group("Platform", &["bo@example.com"]),
        ],
        ..Fixture::default()
    }
}

/// What everyone is asked: "workspace member" on the workspace, "Source Admin" on the
/// workspace narrowed by environment:prod, and groups "analysts" and "DATA TEAM".
fn asked(emails: &[&str]) -> Vec<Newcomer> {
    emails
        .iter()
        .map(|e| {
            Newcomer::new(*e)
                .permission(Permission::role("workspace member").on(Resource::ThisWorkspace))
                .permission(
                    Permission::role("Source Admin").on_narrowed(Resource::ThisWorkspace, [prod()]),
                )
                .group("analysts")
                .group("DATA TEAM")
        })
        .collect()
}

fn everyone() -> Vec<&'static str> {
    let mut all = vec![USER, INVITEE];
    all.extend(NEW);
    all
}

fn member_grant() -> Grant {
    Grant::new(MEMBER_ROLE, "WORKSPACE", WORKSPACE)
}

fn admin_grant() -> Grant {
    Grant::new(SOURCE_ADMIN, "WORKSPACE", WORKSPACE).narrowed([prod()])
}

/// Mutations (non-GET requests) the journal holds.
fn mutations(emu: &EmulatorHandle) -> usize {
    emu.journal().iter().filter(|e| e.method != "GET").count()
}

/// Emails the applied `createInvites` of the journal carried, each as often as it was sent.
fn invited_in_journal(emu: &EmulatorHandle) -> Vec<String> {
    emu.journal_for(Operation::CreateInvites)
        .iter()
        .filter(|e| e.applied)
        .flat_map(|e| {
            let body: serde_json::Value =
                serde_json::from_str(e.body.as_deref().unwrap_or("{}")).expect("a JSON body");
            body["invites"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .filter_map(|i| i["email"].as_str().map(str::to_string))
                .collect::<Vec<_>>()
        })
        .collect()
}

async fn plan(client: &Client) -> OnboardPlan {
    onboard::plan(client, asked(&everyone()), &OnboardOptions::new())
        .await
        .expect("plan")
}

/// The workspace holds exactly the asked access: ana both grants (and nothing else), cy and
/// the new people pending with the new people's invites carrying both grants, and everyone in
/// both groups.
async fn assert_converged(emu: &EmulatorHandle, client: &Client) {
    let state = emu.state();
    let ana = client
        .users()
        .find_by_email(USER)
        .await
        .expect("lookup")
        .expect("ana is a user");
    assert_eq!(
        Grant::of_permissions(&ana.permissions),
        BTreeSet::from([member_grant(), admin_grant()]),
        "ana holds exactly the asked grants"
    );
    for email in NEW {
        let invite = state
            .invites
            .iter()
            .find(|i| i.email == email)
            .expect("invited");
        let roles: BTreeSet<&str> = invite
            .permissions
            .iter()
            .map(|p| p.role_id.as_str())
            .collect();
        assert_eq!(
            roles,
            BTreeSet::from([MEMBER_ROLE, SOURCE_ADMIN]),
            "{email}"
        );
        let admin = invite
            .permissions
            .iter()
            .find(|p| p.role_id == SOURCE_ADMIN)
            .expect("source admin");
        assert!(
            admin
                .labels
                .iter()
                .any(|l| l.key == "environment" && l.value == "prod"),
            "{email}: narrowed by environment:prod: {admin:?}"
        );
    }
    for name in ["Analysts", "Data Team"] {
        let group = state.groups.iter().find(|g| g.name == name).expect("group");
        let members: BTreeSet<String> = client
            .groups()
            .members(&group.id)
            .collect()
            .await
            .expect("members")
            .into_iter()
            .map(|m| m.email)
            .chain(
                client
                    .groups()
                    .invites(&group.id)
                    .collect()
                    .await
                    .expect("invitees"),
            )
            .collect();
        let want: BTreeSet<String> = everyone().iter().map(|e| e.to_string()).collect();
        assert_eq!(members, want, "{name} holds everyone, no one else");
    }
    for email in NEW {
        assert_eq!(
            invited_in_journal(emu)
                .iter()
                .filter(|e| e.as_str() == email)
                .count(),
            1,
            "{email} invited once"
        );
    }
}

/// Cases: a user missing a narrowed grant and a group, a pending invitee missing a group, two
/// new people; a role by name, a narrowed role, two groups by name. Asserts: the plan says
/// each person's kind, what they get and where they join, notes the invitee's unreadable
/// permissions; the requests sent equal the minimum computed from it (1 invite with both new
/// people, 1 permission request, 1 per group = 4) and the journal; the workspace then holds
/// exactly the asked access; a second run plans and sends nothing.
#[tokio::test]
async fn onboarding_each_kind_of_person_sends_the_minimum_and_a_second_run_nothing() {
    let emu = start(emulator().fixture(fixture())).await;
    let client = client(&emu);
    let plan = plan(&client).await;

    let kinds: Vec<(&str, PersonKind)> = plan
        .people
        .iter()
        .map(|p| (p.email.as_str(), p.kind))
        .collect();
    assert_eq!(
        kinds,
        [
            (USER, PersonKind::User),
            (INVITEE, PersonKind::Invitee),
            (NEW[0], PersonKind::New),
            (NEW[1], PersonKind::New),
        ]
    );
    let ana = &plan.people[0];
    let granted: Vec<&Grant> = ana.grant.iter().map(|g| &g.grant).collect();
    assert_eq!(
        granted,
        [&admin_grant()],
        "only the missing, narrowed grant"
    );
    assert_eq!(ana.join, ["Analysts"]);
    assert_eq!(ana.already_in, ["Data Team"]);
    let cy = &plan.people[1];
    assert!(cy.grant.is_empty());
    assert_eq!(cy.join, ["Data Team"]);
    assert!(
        plan.notes
            .contains(&OnboardNote::InvitePermissionsUnreadable {
                email: INVITEE.into()
            })
    );
    for new in &plan.people[2..] {
        assert_eq!(new.grant.len(), 2);
        assert_eq!(new.join, ["Analysts", "Data Team"]);
    }
    let adds: Vec<(&str, Vec<&str>)> = plan
        .groups
        .iter()
        .map(|g| (g.name.as_str(), g.add.iter().map(String::as_str).collect()))
        .collect();
    assert_eq!(
        adds,
        [
            ("Analysts", vec![USER, NEW[0], NEW[1]]),
            ("Data Team", vec![INVITEE, NEW[0], NEW[1]]),
        ]
    );
    // The minimum: everyone new in one invite, one request per user missing grants, one per
    // group someone joins.
    let minimum = u64::from(plan.people.iter().any(|p| p.kind == PersonKind::New))
        + plan
            .people
            .iter()
            .filter(|p| p.kind == PersonKind::User && !p.grant.is_empty())
            .count() as u64
        + plan.groups.iter().filter(|g| !g.add.is_empty()).count() as u64;
    assert_eq!((plan.mutations, minimum), (4, 4));
    assert_eq!(mutations(&emu), 0, "planning sends no mutation");
    assert_eq!(plan.reads as usize, emu.journal().len(), "reads counted");

    emu.clear_journal();
    let report = onboard::execute(&client, &plan, &OnboardOptions::new())
        .await
        .expect("execute");
    assert_eq!(mutations(&emu) as u64, plan.mutations);
    assert_eq!(report.requests, plan.mutations);
    assert_eq!(emu.journal_for(Operation::CreateInvites).len(), 1);
    assert_eq!(emu.journal_for(Operation::AddPermissionsToUser).len(), 1);
    assert_eq!(emu.journal_for(Operation::AddUsersToUserGroup).len(), 2);
    assert_eq!(report.invited, NEW);
    assert_converged(&emu, &client).await;

    emu.clear_journal();
    let again = self::plan(&client).await;
    assert!(again.is_empty(), "{again:?}");
    let report = onboard::execute(&client, &again, &OnboardOptions::new())
        .await
        .expect("execute nothing");
    assert_eq!((report.requests, mutations(&emu)), (0, 0));
}

/// Cases: a group name two groups share ("TWINS"), a misspelt one ("Analysst"). Asserts: each
/// is refused by a typed error listing the ids or the closest names, and the journal holds no
/// mutation (and no person lookup: only the group list and the role lookups were read).
#[tokio::test]
async fn an_ambiguous_or_misspelt_group_is_refused_before_anything_is_sent() {
    let emu = start(emulator().fixture(fixture())).await;
    let client = client(&emu);
    let twins: Vec<String> = emu
        .state()
        .groups
        .iter()
        .filter(|g| g.name.eq_ignore_ascii_case("twins"))
        .map(|g| g.id.clone())
        .collect();
    let err = onboard::plan(
        &client,
        [Newcomer::new(NEW[0]).group("TWINS")],
        &OnboardOptions::new(),
    )
    .await
    .expect_err("ambiguous");
    match &err {
        Error::AmbiguousGroup { ids, .. } => assert_eq!(ids, &twins),
        other => panic!("expected AmbiguousGroup, got {other:?}"),
    }
    let err = onboard::plan(
        &client,
        [Newcomer::new(NEW[0]).group("Data Team").group("Analysst")],
        &OnboardOptions::new(),
    )
    .await
    .expect_err("misspelt");
    match &err {
        Error::UnknownGroup { given, closest } => {
            assert_eq!(given, "Analysst");
            assert_eq!(closest.first().map(String::as_str), Some("Analysts"));
        }
        other => panic!("expected UnknownGroup, got {other:?}"),
    }
    assert!(err.is_invalid_input());
    assert_eq!(mutations(&emu), 0);
    assert!(
        emu.journal()
            .iter()
            .all(|e| e.operation == Some(Operation::ListUserGroups)),
        "only the group list was read"
    );
    // An id-shaped argument that is a group's id and another group's name: the id, said.
    let twin = twins[0].clone();
    let plan = onboard::plan(
        &client,
        [Newcomer::new(NEW[0]).group(twin.clone())],
        &OnboardOptions::new(),
    )
    .await
    .expect("by id");
    assert_eq!(plan.groups[0].id, twin);
}

/// Cases: createInvites applied but its connection dropped (the answer lost). Asserts: the
/// job looks the invites up instead of sending again — one createInvites in the journal —
/// and finishes; the workspace converges.
#[tokio::test]
async fn an_invite_whose_answer_was_lost_is_looked_up_not_resent() {
    let emu = start(emulator().fixture(fixture())).await;
    let client = client(&emu);
    emu.inject(
        Fault::drop_connection()
            .on_operation(Operation::CreateInvites)
            .after_apply()
            .times(1),
    );
    let plan = plan(&client).await;
    let report = onboard::execute(&client, &plan, &OnboardOptions::new())
        .await
        .expect("the lost answer is resolved by the invites list");
    assert!(report.invites_looked_up);
    assert_eq!(emu.journal_for(Operation::CreateInvites).len(), 1);
    assert_converged(&emu, &client).await;
    assert!(self::plan(&client).await.is_empty());
}

/// Polls `event` every 10 ms for up to 10 s.
async fn within_10s(mut event: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if event() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The plan's mutations in the order `execute` sends them, with each one's index among
/// its operation's requests.
const ORDER: [(Operation, u32); 4] = [
    (Operation::CreateInvites, 0),
    (Operation::AddPermissionsToUser, 0),
    (Operation::AddUsersToUserGroup, 0),
    (Operation::AddUsersToUserGroup, 1),
];

/// Cases: the job (a task) stopped at each boundary between its mutations — before the
/// first, after 1, 2, 3 — and while each mutation's answer is held after it was applied.
/// Synchronised on the emulator: the next mutation is held (a fault), the journal has the
/// answered ones (and, for a held answer, the state shows the change), then the task is
/// aborted. Asserts: a re-run converges to exactly the asked access, each new person invited
/// by exactly one applied createInvites, and a third run has nothing to do.
#[tokio::test]
async fn a_run_stopped_at_any_point_converges_on_the_next_and_invites_once() {
    for (at, held_after_apply) in (0..ORDER.len())
        .map(|k| (k, false))
        .chain((0..ORDER.len()).map(|k| (k, true)))
    {
        let emu = start(emulator().fixture(fixture())).await;
        let client = client(&emu);
        let (op, skip) = ORDER[at];
        let hold = Fault::delay(Duration::from_secs(600))
            .on_operation(op)
            .skip_first(skip);
        emu.inject(if held_after_apply {
            hold.after_apply()
        } else {
            hold.before_apply()
        });
        let plan = plan(&client).await;
        assert_eq!(plan.mutations as usize, ORDER.len());
        let job = {
            let client = client.clone();
            tokio::spawn(
                async move { onboard::execute(&client, &plan, &OnboardOptions::new()).await },
            )
        };
        let answered = |emu: &EmulatorHandle| {
            emu.journal()
                .iter()
                .filter(|e| e.method != "GET" && e.applied)
                .count()
        };
        assert!(
            within_10s(|| answered(&emu) >= at).await,
            "case {at}/{held_after_apply}: {at} mutations answered"
        );
        if held_after_apply {
            // The held mutation is applied: its effect shows in the state.
            assert!(
                within_10s(|| applied_in_state(&emu, at)).await,
                "case {at}: the held mutation was applied"
            );
        }
        job.abort();
        let _ = job.await;
        emu.clear_faults();

        let mut runs = 0;
        loop {
            runs += 1;
            assert!(runs <= 3, "case {at}/{held_after_apply}: no convergence");
            let plan = self::plan(&client).await;
            if plan.is_empty() {
                break;
            }
            onboard::execute(&client, &plan, &OnboardOptions::new())
                .await
                .expect("the re-run finishes");
        }
        assert_converged(&emu, &client).await;
        assert_eq!(
            invited_in_journal(&emu).len(),
            NEW.len(),
            "case {at}/{held_after_apply}: one createInvites applied, not a second"
        );
    }
}

/// Whether the `at`-th mutation of [`ORDER`] has changed the state.
fn applied_in_state(emu: &EmulatorHandle, at: usize) -> bool {
    let state = emu.state();
    let group = |name: &str| state.groups.iter().find(|g| g.name == name).cloned();
    match at {
        0 => NEW
            .iter()
            .all(|e| state.invites.iter().any(|i| i.email == *e)),
        1 => state
            .users
            .iter()
            .find(|u| u.email == USER)
            .is_some_and(|u| u.permissions.len() == 2),
        2 => group("Analysts").is_some_and(|g| g.member_count == 4),
        _ => group("Data Team").is_some_and(|g| g.member_count == 4),
    }
}
