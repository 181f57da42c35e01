//! The onboarding tests' workspace (issue #24), shared by `tests/tests/onboard.rs` and the
//! exactly-once reliability tests: one user, one pending invitee and two new people asked a
//! role by name and a narrowed role, into two groups by name; and the checks that the
//! workspace then holds exactly that access, each new person invited once.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use segment_iam::jobs::onboard::{self, Newcomer, OnboardOptions, OnboardPlan};
use segment_iam::{Client, Grant, Label, Permission, Resource};
use segment_iam_emulator::state::{PermissionInput, PermissionResource};
use segment_iam_emulator::{
    EmulatorHandle, Fixture, FixtureGroup, FixtureInvite, FixtureUser, Operation,
};

use crate::WORKSPACE;

/// The emulator's "Workspace Member" role id.
pub const MEMBER_ROLE: &str = "1WDUuVBnqMOgaTtWbvNrvOhQFNY";
/// The emulator's "Source Admin" role id.
pub const SOURCE_ADMIN: &str = "1WDUuQEbvvYQIILOjS5GMDdHPoZ";

/// The id of group "Platform", also the name of another group.
pub const PLATFORM_ID: &str = "PlatformGroupId0000001";

/// A user missing the narrowed grant and the Analysts group.
pub const USER: &str = "ana@example.com";
/// A pending invitee missing the Data Team group.
pub const INVITEE: &str = "cy@example.com";
/// Two people neither users nor invited.
pub const NEW: [&str; 2] = ["dee@example.com", "eve@example.com"];

/// The `environment:prod` label.
pub fn prod() -> Label {
    "environment:prod".parse().expect("a label")
}

/// ana: a user holding "Workspace Member" on the workspace, in Data Team; cy: invited, in
/// Analysts; groups Analysts, Data Team, two named Twins, and Platform.
pub fn fixture() -> Fixture {
    let member = PermissionInput {
        role_id: MEMBER_ROLE.into(),
        resources: vec![PermissionResource {
            id: WORKSPACE.into(),
            resource_type: "WORKSPACE".into(),
            labels: vec![],
        }],
    };
    let group = |name: &str, members: &[&str]| FixtureGroup {
        id: (name == "Platform").then(|| PLATFORM_ID.to_string()),
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
            // Named like another group's id: an argument equal to both means the id.
            group(PLATFORM_ID, &[]),
        ],
        ..Fixture::default()
    }
}

/// What everyone is asked: "workspace member" on the workspace, "Source Admin" on the
/// workspace narrowed by environment:prod, and groups "analysts" and "DATA TEAM".
pub fn asked(emails: &[&str]) -> Vec<Newcomer> {
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

/// Every person asked, in the order asked.
pub fn everyone() -> Vec<&'static str> {
    let mut all = vec![USER, INVITEE];
    all.extend(NEW);
    all
}

/// "Workspace Member" on the workspace, plain.
pub fn member_grant() -> Grant {
    Grant::new(MEMBER_ROLE, "WORKSPACE", WORKSPACE)
}

/// "Source Admin" on the workspace narrowed by `environment:prod`.
pub fn admin_grant() -> Grant {
    Grant::new(SOURCE_ADMIN, "WORKSPACE", WORKSPACE).narrowed([prod()])
}

/// Mutations (non-GET requests) the journal holds.
pub fn mutations(emu: &EmulatorHandle) -> usize {
    emu.journal().iter().filter(|e| e.method != "GET").count()
}

/// Emails the applied `createInvites` of the journal carried, each as often as it was sent.
pub fn invited_in_journal(emu: &EmulatorHandle) -> Vec<String> {
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

/// The onboarding plan of [`everyone`] as [`asked`].
pub async fn plan(client: &Client) -> OnboardPlan {
    onboard::plan(client, asked(&everyone()), &OnboardOptions::new())
        .await
        .expect("plan")
}

/// The workspace holds exactly the asked access: ana both grants (and nothing else), cy and
/// the new people pending with the new people's invites carrying both grants, and everyone in
/// both groups.
pub async fn assert_converged(emu: &EmulatorHandle, client: &Client) {
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

/// Polls `event` every 10 ms for up to 10 s.
pub async fn within_10s(mut event: impl FnMut() -> bool) -> bool {
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
pub const ORDER: [(Operation, u32); 4] = [
    (Operation::CreateInvites, 0),
    (Operation::AddPermissionsToUser, 0),
    (Operation::AddUsersToUserGroup, 0),
    (Operation::AddUsersToUserGroup, 1),
];

/// Whether the `at`-th mutation of [`ORDER`] has changed the state.
pub fn applied_in_state(emu: &EmulatorHandle, at: usize) -> bool {
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
