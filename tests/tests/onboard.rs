//! Onboarding (issue #24): people by email, roles and groups by name, in the fewest requests,
//! safe to re-run. One workspace holds each kind of person — a user missing a permission and
//! a group, a pending invitee missing a group, two new people — asked a role by name and a
//! role narrowed by a label, and two groups by name in another case than their names.

use segment_iam::Error;
use segment_iam::Grant;
use segment_iam::jobs::onboard::{self, Newcomer, OnboardNote, OnboardOptions, PersonKind};
use segment_iam_emulator::Operation;
use segment_iam_tests::onboard::{
    INVITEE, NEW, PLATFORM_ID, USER, admin_grant, assert_converged, fixture, mutations, plan,
};
use segment_iam_tests::{client, emulator, start};

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
    let named_like_it = emu
        .state()
        .groups
        .iter()
        .find(|g| g.name == PLATFORM_ID)
        .map(|g| g.id.clone())
        .expect("the group named like Platform's id");
    let plan = onboard::plan(
        &client,
        [Newcomer::new(NEW[0]).group(PLATFORM_ID)],
        &OnboardOptions::new(),
    )
    .await
    .expect("by id");
    assert_eq!(plan.groups[0].id, PLATFORM_ID);
    assert_eq!(plan.groups[0].name, "Platform");
    assert!(
        plan.notes.contains(&OnboardNote::GroupIdAlsoName {
            given: PLATFORM_ID.into(),
            id: PLATFORM_ID.into(),
            also_named: vec![named_like_it],
        }),
        "{:?}",
        plan.notes
    );
}

/// Cases: one user (on the first page of 2,500 users) asked a role by name on the workspace
/// and a group by name. Asserts: the plan reads exactly the roles, the workspace, the group
/// list, the first users page (no read ahead, no invites list: everyone is a user) and the
/// group's member listing (a user joins it; no invitee listing: no invitee does) — 5 reads,
/// as the journal and the plan's `reads` count them.
#[tokio::test]
async fn onboarding_reads_only_what_its_answer_needs() {
    use segment_iam::{Permission, Resource};
    let emu = start(emulator().users(2_500).groups(3)).await;
    let client = client(&emu);
    let group = emu.state().groups[0].name.clone();
    let plan = onboard::plan(
        &client,
        [Newcomer::new("user5@example.com")
            .permission(Permission::role("Workspace Member").on(Resource::ThisWorkspace))
            .group(group.to_uppercase())],
        &OnboardOptions::new(),
    )
    .await
    .expect("plan");
    let ops: Vec<Operation> = emu.journal().iter().filter_map(|e| e.operation).collect();
    let count = |op: Operation| ops.iter().filter(|o| **o == op).count();
    assert_eq!(count(Operation::ListRoles), 1);
    assert_eq!(count(Operation::GetWorkspace), 1);
    assert_eq!(count(Operation::ListUserGroups), 1);
    assert_eq!(count(Operation::ListUsers), 1, "stopped at the first page");
    assert_eq!(count(Operation::ListInvites), 0, "everyone is a user");
    let member_listings = count(Operation::ListUsersFromUserGroup);
    let expected_member_listings = usize::from(emu.state().groups[0].member_count > 0);
    assert_eq!(member_listings, expected_member_listings);
    assert_eq!(count(Operation::ListInvitesFromUserGroup), 0);
    assert_eq!(ops.len(), 4 + expected_member_listings);
    assert_eq!(plan.reads as usize, ops.len());
}
