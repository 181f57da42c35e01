//! Scoped audit reads (issue #23): `--email` and `--group` read only what their answer needs,
//! and answer exactly what the full read answers, kept to those emails or that group. Random
//! workspaces (one seeded fixture per seed: users, pending invitees, groups with members and
//! invitees, direct and group grants of a few roles, plain and narrowed by labels) are audited
//! whole, and the scoped audits compared with the whole one filtered here by hand. The cost of
//! a scoped read is checked against its read plan, counted by the report and the journal.

use std::collections::BTreeSet;

use segment_iam::jobs::audit::{
    AuditFilter, AuditNote, AuditOptions, AuditReport, AuditRow, Via, audit,
};
use segment_iam::{Error, Resource};
use segment_iam_emulator::state::{PermissionInput, PermissionResource};
use segment_iam_emulator::{Fixture, FixtureGroup, FixtureInvite, FixtureUser, Label, Operation};
use segment_iam_tests::{OWNER_ROLE, WORKSPACE, client, emulator, start};

/// Seeds of the random workspaces.
const SEEDS: u64 = 6;

/// Workspace Owner, Source Admin, Source Read-only (the emulator's default role ids).
const ROLES: [&str; 3] = [
    OWNER_ROLE,
    "1WDUuQEbvvYQIILOjS5GMDdHPoZ",
    "1WDUuSJ7eANmTOE8hJzSgcRLn2L",
];

/// SplitMix64: a small seeded generator, so each seed is one reproducible workspace.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn percent(&mut self, p: u64) -> bool {
        self.next() % 100 < p
    }
}

/// A permission of a random role on the workspace: plain, or narrowed by an environment.
fn permission(rng: &mut Rng) -> PermissionInput {
    let labels = match rng.below(3) {
        0 => Vec::new(),
        1 => vec![Label::new("environment", "dev")],
        _ => vec![Label::new("environment", "prod")],
    };
    PermissionInput {
        role_id: ROLES[rng.below(ROLES.len())].to_string(),
        resources: vec![PermissionResource {
            id: WORKSPACE.to_string(),
            resource_type: "WORKSPACE".into(),
            labels,
        }],
    }
}

/// 10 users (0 to 2 direct permissions), 4 pending invitees, 5 groups (random members and
/// invitees, 0 to 2 permissions; "Team 4" has no members).
fn fixture(seed: u64) -> Fixture {
    let mut rng = Rng(seed);
    let users: Vec<FixtureUser> = (0..10)
        .map(|i| FixtureUser {
            email: format!("person{i}@example.com"),
            name: format!("Person {i}"),
            permissions: (0..rng.below(3)).map(|_| permission(&mut rng)).collect(),
            ..FixtureUser::default()
        })
        .collect();
    let invites: Vec<FixtureInvite> = (0..4)
        .map(|i| FixtureInvite {
            email: format!("invitee{i}@example.com"),
            ..FixtureInvite::default()
        })
        .collect();
    let groups = (0..5)
        .map(|g| FixtureGroup {
            name: format!("Team {g}"),
            members: if g == 4 {
                Vec::new()
            } else {
                users
                    .iter()
                    .map(|u| (u.email.clone(), 35))
                    .chain(invites.iter().map(|i| (i.email.clone(), 40)))
                    .filter(|(_, p)| rng.percent(*p))
                    .map(|(email, _)| email)
                    .collect()
            },
            permissions: (0..rng.below(3)).map(|_| permission(&mut rng)).collect(),
            ..FixtureGroup::default()
        })
        .collect();
    Fixture {
        users,
        invites,
        groups,
        ..Fixture::default()
    }
}

/// The whole audit's rows and notes, kept to `emails` (lower case) by hand.
fn kept_to_emails(whole: &AuditReport, emails: &[String]) -> (Vec<AuditRow>, Vec<AuditNote>) {
    let rows = whole
        .rows
        .iter()
        .filter(|r| emails.contains(&r.email.to_lowercase()))
        .cloned()
        .collect();
    let notes = whole
        .notes
        .iter()
        .filter(|n| match n {
            AuditNote::InvitePermissionsUnreadable { email } => {
                emails.contains(&email.to_lowercase())
            }
            _ => true,
        })
        .cloned()
        .collect();
    (rows, notes)
}

/// The whole audit's rows through group `id`, by hand.
fn kept_to_group(whole: &AuditReport, id: &str) -> Vec<AuditRow> {
    whole
        .rows
        .iter()
        .filter(|r| matches!(&r.via, Via::Group { id: g, .. } if g == id))
        .cloned()
        .collect()
}

#[tokio::test]
async fn scoped_audits_answer_exactly_the_whole_audit_kept_to_their_emails_or_group() {
    let (mut checked_emails, mut invitee_rows, mut narrowed_rows, mut group_rows) = (0, 0, 0, 0);
    for seed in 0..SEEDS {
        let fixture = fixture(seed);
        let emu = start(emulator().fixture(fixture.clone())).await;
        let client = client(&emu);
        let state = emu.state();
        let whole = audit(&client, &AuditFilter::new(), &AuditOptions::new())
            .await
            .expect("whole audit");
        let by_role = audit(
            &client,
            &AuditFilter::new().role("Source Admin"),
            &AuditOptions::new(),
        )
        .await
        .expect("audit by role");
        let on_workspace = audit(
            &client,
            &AuditFilter::new().resource(Resource::ThisWorkspace),
            &AuditOptions::new(),
        )
        .await
        .expect("audit of the workspace");
        narrowed_rows += whole.rows.iter().filter(|r| !r.labels.is_empty()).count();

        // Each user and invitee alone (asked in upper case), an unknown address, and pairs
        // mixing a user with an invitee.
        let mut asked: Vec<Vec<String>> = fixture
            .users
            .iter()
            .map(|u| vec![u.email.clone()])
            .chain(fixture.invites.iter().map(|i| vec![i.email.clone()]))
            .collect();
        asked.push(vec!["nobody@example.com".into()]);
        asked.push(vec![
            fixture.users[seed as usize % 10].email.clone(),
            fixture.invites[seed as usize % 4].email.clone(),
        ]);
        asked.push(vec![
            fixture.users[0].email.clone(),
            fixture.users[9].email.clone(),
        ]);
        for emails in asked {
            let lower: Vec<String> = emails.iter().map(|e| e.to_lowercase()).collect();
            let shouted: Vec<String> = emails.iter().map(|e| e.to_uppercase()).collect();
            let only_users = lower
                .iter()
                .all(|e| fixture.users.iter().any(|u| u.email == *e));

            emu.clear_journal();
            let scoped = audit(
                &client,
                &AuditFilter::new().emails(shouted.clone()),
                &AuditOptions::new(),
            )
            .await
            .expect("scoped audit");
            let (rows, notes) = kept_to_emails(&whole, &lower);
            assert_eq!(scoped.rows, rows, "seed {seed}, {emails:?}");
            assert_eq!(scoped.notes, notes, "seed {seed}, {emails:?}");
            let journal = emu.journal();
            assert_eq!(scoped.requests, journal.len() as u64, "seed {seed}");
            if only_users {
                // Users only: no group's member or invitee listing, no invites list.
                assert!(
                    journal.iter().all(|e| matches!(
                        e.operation,
                        Some(
                            Operation::ListUsers
                                | Operation::ListUserGroupsFromUser
                                | Operation::ListUserGroups
                                | Operation::GetUserGroup
                        )
                    )),
                    "seed {seed}, {emails:?}: {:?}",
                    journal.iter().map(|e| e.operation).collect::<Vec<_>>()
                );
            }
            invitee_rows += scoped.rows.iter().filter(|r| r.user_id.is_none()).count();
            checked_emails += 1;

            // With a role or a resource filter too: the same scoped read, then the filter.
            for (filter, whole) in [
                (AuditFilter::new().role("source admin"), &by_role),
                (
                    AuditFilter::new().resource(Resource::ThisWorkspace),
                    &on_workspace,
                ),
            ] {
                let scoped = audit(
                    &client,
                    &filter.emails(shouted.clone()),
                    &AuditOptions::new(),
                )
                .await
                .expect("scoped, filtered audit");
                assert_eq!(
                    (scoped.rows, scoped.notes),
                    kept_to_emails(whole, &lower),
                    "seed {seed}, {emails:?}"
                );
            }
        }

        // Each group, by name (any case) and by id: its rows only, reading its listings only.
        for group in &state.groups {
            let want = kept_to_group(&whole, &group.id);
            group_rows += want.len();
            for asked in [group.name.to_uppercase(), group.id.clone()] {
                emu.clear_journal();
                let scoped = audit(
                    &client,
                    &AuditFilter::new().group(asked.clone()),
                    &AuditOptions::new(),
                )
                .await
                .expect("audit of a group");
                assert_eq!(scoped.rows, want, "seed {seed}, group {asked}");
                assert!(scoped.notes.is_empty(), "seed {seed}, group {asked}");
                let journal = emu.journal();
                assert_eq!(scoped.requests, journal.len() as u64);
                let listings = journal
                    .iter()
                    .filter(|e| {
                        matches!(
                            e.operation,
                            Some(
                                Operation::ListUsersFromUserGroup
                                    | Operation::ListInvitesFromUserGroup
                            )
                        )
                    })
                    .count();
                let matters = group.member_count > 0 && !group.permissions.is_empty();
                assert_eq!(
                    listings,
                    if matters { 2 } else { 0 },
                    "seed {seed}, {asked}"
                );
            }
            // Kept to one email too.
            for email in fixture.users.iter().map(|u| &u.email).take(3) {
                let scoped = audit(
                    &client,
                    &AuditFilter::new().group(&group.name).emails([email]),
                    &AuditOptions::new(),
                )
                .await
                .expect("audit of a group and an email");
                let want: Vec<AuditRow> = kept_to_group(&whole, &group.id)
                    .into_iter()
                    .filter(|r| r.email == *email)
                    .collect();
                assert_eq!(scoped.rows, want, "seed {seed}, {} {email}", group.name);
            }
        }
    }
    // The random workspaces exercise every kind of row the scoped reads must reproduce.
    assert!(checked_emails > 0);
    assert!(invitee_rows > 0, "some invitee holds a row through a group");
    assert!(narrowed_rows > 0, "some grant is narrowed");
    assert!(group_rows > 0, "some group has rows");
}

#[tokio::test]
async fn an_email_audit_on_a_big_workspace_sends_the_reads_of_its_plan_only() {
    // 3,000 generated users and 200 groups, after the fixture: its user is on the users' first
    // page, in two groups (the list's first page holds all 200).
    let fixture = Fixture {
        users: vec![FixtureUser {
            email: "target@example.com".into(),
            name: "Target".into(),
            ..FixtureUser::default()
        }],
        groups: ["Alpha", "Beta"]
            .iter()
            .map(|name| FixtureGroup {
                name: (*name).into(),
                members: vec!["target@example.com".into()],
                permissions: vec![PermissionInput {
                    role_id: ROLES[1].into(),
                    resources: vec![PermissionResource {
                        id: WORKSPACE.into(),
                        resource_type: "WORKSPACE".into(),
                        labels: vec![Label::new("environment", "prod")],
                    }],
                }],
                ..FixtureGroup::default()
            })
            .collect(),
        ..Fixture::default()
    };
    let emu = start(emulator().fixture(fixture).users(3000).groups(200)).await;
    let client = client(&emu);
    let users = client
        .users()
        .list()
        .page_size(1000)
        .collect()
        .await
        .expect("users");
    assert_eq!(users.len(), 3001);
    let state = emu.state();
    let position = |email: &str| {
        users
            .iter()
            .position(|u| u.email == email)
            .expect("listed user")
    };

    emu.clear_journal();
    let report = audit(
        &client,
        &AuditFilter::new().emails(["target@example.com"]),
        &AuditOptions::new(),
    )
    .await
    .expect("audit");
    // The plan: listUsers up to its page (the first), listUserGroupsFromUser, listUserGroups
    // (both groups on its first page).
    assert_eq!(position("target@example.com") / 1000, 0);
    let journal = emu.journal();
    let ops: Vec<Option<Operation>> = journal.iter().map(|e| e.operation).collect();
    assert_eq!(
        ops,
        [
            Some(Operation::ListUsers),
            Some(Operation::ListUserGroupsFromUser),
            Some(Operation::ListUserGroups)
        ]
    );
    assert_eq!(report.requests, 3);
    let vias: BTreeSet<String> = report.rows.iter().map(|r| r.via.to_string()).collect();
    assert_eq!(
        vias,
        ["group:Alpha".to_string(), "group:Beta".to_string()].into()
    );
    assert!(report.notes.is_empty());

    // A generated user on the third page: three users pages, then its groups' reads — none
    // for no group, one getUserGroup for one, one list page for several.
    let late = users
        .iter()
        .skip(2000)
        .find(|u| {
            state
                .users
                .iter()
                .any(|s| s.id == u.id && !s.groups.is_empty())
        })
        .expect("a third-page user in some group");
    let groups = state
        .users
        .iter()
        .find(|s| s.id == late.id)
        .map_or(0, |s| s.groups.len());
    emu.clear_journal();
    let report = audit(
        &client,
        &AuditFilter::new().emails([late.email.clone()]),
        &AuditOptions::new(),
    )
    .await
    .expect("audit");
    let journal = emu.journal();
    let count = |op: Operation| journal.iter().filter(|e| e.operation == Some(op)).count();
    let users_pages = position(&late.email) / 1000 + 1;
    assert!(users_pages >= 3, "stops at its page, not before");
    assert_eq!(count(Operation::ListUsers), users_pages);
    assert_eq!(count(Operation::ListUserGroupsFromUser), 1);
    let (gets, lists) = if groups == 1 { (1, 0) } else { (0, 1) };
    assert_eq!(count(Operation::GetUserGroup), gets, "{groups} groups");
    assert_eq!(count(Operation::ListUserGroups), lists, "{groups} groups");
    assert_eq!(journal.len(), users_pages + 1 + 1);
    assert_eq!(report.requests, journal.len() as u64);
}

#[tokio::test]
async fn the_groups_permissions_come_from_gets_or_list_pages_whichever_is_fewer() {
    // 3,500 groups: four list pages. The user joins groups on the last page only.
    let fixture = Fixture {
        users: vec![FixtureUser {
            email: "solo@example.com".into(),
            name: "Solo".into(),
            ..FixtureUser::default()
        }],
        ..Fixture::default()
    };
    let emu = start(emulator().fixture(fixture).groups(3500)).await;
    let client = client(&emu);
    let groups = client
        .groups()
        .list()
        .page_size(1000)
        .collect()
        .await
        .expect("groups");
    assert_eq!(groups.len(), 3500);
    let last_page: Vec<&str> = groups[3000..].iter().map(|g| g.id.as_str()).collect();
    let audit_solo = || async {
        emu.clear_journal();
        let report = audit(
            &client,
            &AuditFilter::new().emails(["solo@example.com"]),
            &AuditOptions::new(),
        )
        .await
        .expect("audit");
        let journal = emu.journal();
        assert_eq!(report.requests, journal.len() as u64);
        let count = |op: Operation| journal.iter().filter(|e| e.operation == Some(op)).count();
        let vias: BTreeSet<String> = report
            .rows
            .iter()
            .filter_map(|r| match &r.via {
                Via::Group { id, .. } => Some(id.clone()),
                Via::Direct => None,
            })
            .collect();
        (
            count(Operation::ListUserGroups),
            count(Operation::GetUserGroup),
            journal.len(),
            vias,
        )
    };

    // Two groups missing after the first page, three pages left: two gets.
    for id in &last_page[..2] {
        client
            .groups()
            .add_members(*id, ["solo@example.com"])
            .await
            .expect("join");
    }
    let (lists, gets, sent, vias) = audit_solo().await;
    assert_eq!((lists, gets, sent), (1, 2, 1 + 1 + 1 + 2));
    let joined: BTreeSet<String> = last_page[..2].iter().map(|s| s.to_string()).collect();
    assert_eq!(vias, joined);

    // Five missing, three pages left: the rest of the list.
    for id in &last_page[2..5] {
        client
            .groups()
            .add_members(*id, ["solo@example.com"])
            .await
            .expect("join");
    }
    let (lists, gets, sent, vias) = audit_solo().await;
    assert_eq!((lists, gets, sent), (4, 0, 1 + 1 + 4));
    let joined: BTreeSet<String> = last_page[..5].iter().map(|s| s.to_string()).collect();
    assert_eq!(vias, joined);
}

#[tokio::test]
async fn an_unknown_group_names_the_closest_and_an_ambiguous_one_lists_the_ids() {
    let groups = ["Platform", "Platforms", "Data", "OPS", "ops"]
        .iter()
        .map(|name| FixtureGroup {
            name: (*name).into(),
            ..FixtureGroup::default()
        })
        .collect();
    let emu = start(emulator().fixture(Fixture {
        groups,
        ..Fixture::default()
    }))
    .await;
    let client = client(&emu);
    let state = emu.state();
    let by_group = |g: &str| AuditFilter::new().group(g);

    let err = audit(&client, &by_group("Platfrom"), &AuditOptions::new())
        .await
        .expect_err("unknown group");
    match &err {
        Error::UnknownGroup { given, closest } => {
            assert_eq!(given, "Platfrom");
            assert_eq!(closest[..2], ["Platform", "Platforms"]);
            assert!(err.is_invalid_input());
        }
        other => panic!("expected UnknownGroup, got {other:?}"),
    }

    let err = audit(&client, &by_group("Ops"), &AuditOptions::new())
        .await
        .expect_err("ambiguous group");
    let ids: Vec<&str> = state
        .groups
        .iter()
        .filter(|g| g.name.eq_ignore_ascii_case("ops"))
        .map(|g| g.id.as_str())
        .collect();
    assert_eq!(ids.len(), 2);
    match &err {
        Error::AmbiguousGroup { ids: listed, .. } => {
            assert_eq!(listed, &ids);
        }
        other => panic!("expected AmbiguousGroup, got {other:?}"),
    }
    // An id picks one of them.
    audit(&client, &by_group(ids[0]), &AuditOptions::new())
        .await
        .expect("by id");

    emu.clear_journal();
    let err = audit(&client, &by_group("  "), &AuditOptions::new())
        .await
        .expect_err("empty group");
    assert!(err.is_invalid_input(), "{err}");
    assert!(emu.journal().is_empty(), "refused before sending");
}
