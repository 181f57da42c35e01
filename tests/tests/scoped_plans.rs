//! Scoped plans (issue #23): `plan`/`apply` of a file without prune read only the groups and
//! people it names ([`Live::read_for`]), and plan exactly what a whole read plans: the same
//! steps, notes and refusals, on random workspaces and files; a 2-group additive file on 20,000
//! users and 1,000 groups within 1.1x the minimum reads (computed here from the emulator's
//! state); the last-owner guard still refusing through a group and passing thanks to an owner on
//! a late users page; a saved scoped plan stale after a change inside its scope only.

use std::collections::BTreeSet;

use proptest::prelude::*;
use segment_iam::guard::{Refusal, RemovalCap};
use segment_iam::jobs::read::ReadOptions;
use segment_iam::{Client, Permission, ResourceType};
use segment_iam_emulator::state::{PermissionInput, PermissionResource};
use segment_iam_emulator::{EmulatorHandle, Fixture, FixtureGroup, FixtureInvite, FixtureUser};
use segment_iam_sync::{AccessFile, ApplyOptions, Error, Live, Plan};
use segment_iam_tests::sync::{fixture_label, owner_permission};
use segment_iam_tests::{OWNER_ROLE, WORKSPACE, client, emulator, start};

/// The (role name, narrowed by environment:prod) grants on the workspace the random
/// workspaces and files draw from; Workspace Owner plain and narrowed among them.
const GRANTS: [(&str, bool); 5] = [
    ("Workspace Owner", false),
    ("Workspace Owner", true),
    ("Source Read-only", false),
    ("Workspace Member", false),
    ("Source Admin", true),
];

/// The emulator's id of a default role name.
fn role_id(name: &str) -> &'static str {
    segment_iam_emulator::state::DEFAULT_ROLES
        .iter()
        .find(|(_, n, _)| *n == name)
        .map(|(id, _, _)| *id)
        .expect("a default role")
}

fn fixture_permissions(grants: &[usize]) -> Vec<PermissionInput> {
    grants
        .iter()
        .map(|&g| {
            let (role, narrowed) = GRANTS[g];
            PermissionInput {
                role_id: role_id(role).to_string(),
                resources: vec![PermissionResource {
                    id: WORKSPACE.to_string(),
                    resource_type: "WORKSPACE".to_string(),
                    labels: if narrowed {
                        vec![fixture_label("environment:prod")]
                    } else {
                        vec![]
                    },
                }],
            }
        })
        .collect()
}

/// One grant as a file's permission entry.
fn entry(g: usize) -> String {
    let (role, narrowed) = GRANTS[g];
    let mut text = format!("      - role: {role}\n        resources: [workspace]\n");
    if narrowed {
        text.push_str("        labels: [environment:prod]\n");
    }
    text
}

fn grants() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::btree_set(0..GRANTS.len(), 0..3).prop_map(|s| s.into_iter().collect())
}

/// A random workspace: fixture users `p{i}` with direct grants, invitees `inv{i}`, groups
/// `G{g}` (members as indexes into users then invitees, grants; the last group may share the
/// first one's name), and, with `generated`, 1,100 generated users after them (two users
/// pages; `user1` owns the workspace) of which `late_owner` makes `user1100` an owner too.
#[derive(Debug, Clone)]
struct LiveSpec {
    users: Vec<Vec<usize>>,
    invites: usize,
    groups: Vec<(Vec<usize>, Vec<usize>)>,
    twins: bool,
    generated: bool,
    late_owner: bool,
}

/// Everyone a file may name: the fixture users, the invitees, two generated users (one on the
/// first page, one on the second) when generated, and two new people.
fn people(live: &LiveSpec) -> Vec<String> {
    let mut people: Vec<String> = (0..live.users.len())
        .map(|i| format!("p{i}@example.com"))
        .collect();
    people.extend((0..live.invites).map(|i| format!("inv{i}@example.com")));
    if live.generated {
        people.push("user1@example.com".into());
        people.push("user1050@example.com".into());
    }
    people.push("new0@example.com".into());
    people.push("new1@example.com".into());
    people
}

impl LiveSpec {
    fn fixture(&self) -> Fixture {
        let n = self.users.len();
        let member = |m: usize| {
            if m < n {
                format!("p{m}@example.com")
            } else {
                format!("inv{}@example.com", m - n)
            }
        };
        let count = self.groups.len();
        Fixture {
            users: self
                .users
                .iter()
                .enumerate()
                .map(|(i, grants)| FixtureUser {
                    email: format!("p{i}@example.com"),
                    name: format!("P{i}"),
                    permissions: fixture_permissions(grants),
                    ..FixtureUser::default()
                })
                .collect(),
            invites: (0..self.invites)
                .map(|i| FixtureInvite {
                    email: format!("inv{i}@example.com"),
                    ..FixtureInvite::default()
                })
                .collect(),
            groups: self
                .groups
                .iter()
                .enumerate()
                .map(|(g, (members, grants))| FixtureGroup {
                    name: if self.twins && g + 1 == count && g > 0 {
                        "G0".to_string()
                    } else {
                        format!("G{g}")
                    },
                    members: members.iter().map(|&m| member(m)).collect(),
                    permissions: fixture_permissions(grants),
                    ..FixtureGroup::default()
                })
                .collect(),
            ..Fixture::default()
        }
    }

    async fn start(&self) -> EmulatorHandle {
        let builder = emulator().fixture(self.fixture());
        let builder = if self.generated {
            builder.users(1_100)
        } else {
            builder
        };
        let emu = start(builder).await;
        if self.late_owner && self.generated {
            let client = client(&emu);
            let late = find_user(&emu, "user1100@example.com");
            client
                .users()
                .add_permissions(&late, [owner()])
                .await
                .expect("the late user gets the owner role");
        }
        emu
    }
}

/// Workspace Owner on the emulator's workspace.
fn owner() -> Permission {
    Permission::new(OWNER_ROLE).resource(ResourceType::Workspace, WORKSPACE)
}

/// The id of the user with `email`, from the emulator's state.
fn find_user(emu: &EmulatorHandle, email: &str) -> String {
    emu.state()
        .users
        .into_iter()
        .find(|u| u.email == email)
        .map(|u| u.id)
        .unwrap_or_else(|| panic!("no user {email}"))
}

/// A file's group: additive or not, members (indexes into [`people`]), grants.
type GroupSpec = (bool, Vec<prop::sample::Index>, Vec<usize>);

/// A random file without prune: people under `users` (indexes into [`people`], with grants),
/// groups `G0..G5` (existing or new, exact or additive, members as indexes into [`people`],
/// grants), and maybe a member who is nobody.
#[derive(Debug, Clone)]
struct FileSpec {
    users: Vec<(prop::sample::Index, Vec<usize>)>,
    groups: Vec<Option<GroupSpec>>,
    ghost: bool,
}

impl FileSpec {
    fn yaml(&self, live: &LiveSpec) -> String {
        let people = people(live);
        let mut yaml = "version: 1\nusers:\n".to_string();
        let mut named: BTreeSet<&str> = BTreeSet::new();
        let new_people = &people[people.len() - 2..];
        for (who, grants) in &self.users {
            let email = people[who.index(people.len())].as_str();
            if named.insert(email) {
                yaml.push_str(&format!("  {email}:\n    permissions:\n"));
                for &g in grants {
                    yaml.push_str(&entry(g));
                }
            }
        }
        yaml.push_str("groups:\n");
        for (g, group) in self.groups.iter().enumerate() {
            let Some((additive, members, grants)) = group else {
                continue;
            };
            // A new person is a member only when listed under `users` (or it is refused).
            let chosen: BTreeSet<&str> = members
                .iter()
                .map(|m| people[m.index(people.len())].as_str())
                .filter(|e| !new_people.iter().any(|n| n == e) || named.contains(e))
                .collect();
            let mut members: Vec<&str> = chosen.into_iter().collect();
            if self.ghost && g == 0 {
                members.push("ghost@example.com");
            }
            yaml.push_str(&format!("  G{g}:\n    members: [{}]\n", members.join(", ")));
            if *additive {
                yaml.push_str("    members_mode: additive\n");
            }
            yaml.push_str("    permissions:\n");
            for &gr in grants {
                yaml.push_str(&entry(gr));
            }
        }
        yaml
    }
}

fn live_spec() -> impl Strategy<Value = LiveSpec> {
    (1usize..6, 0usize..3).prop_flat_map(|(users, invites)| {
        (
            prop::collection::vec(grants(), users),
            Just(invites),
            prop::collection::vec(
                (
                    prop::collection::btree_set(0..users + invites, 0..4)
                        .prop_map(|s| s.into_iter().collect()),
                    grants(),
                ),
                0..5,
            ),
            prop::bool::weighted(0.1),
            prop::bool::weighted(0.3),
            any::<bool>(),
        )
            .prop_map(
                |(users, invites, groups, twins, generated, late_owner)| LiveSpec {
                    users,
                    invites,
                    groups,
                    twins,
                    generated,
                    late_owner,
                },
            )
    })
}

fn file_spec() -> impl Strategy<Value = FileSpec> {
    (
        prop::collection::vec((any::<prop::sample::Index>(), grants()), 0..4),
        prop::collection::vec(
            prop::option::weighted(
                0.6,
                (
                    any::<bool>(),
                    prop::collection::vec(any::<prop::sample::Index>(), 0..4),
                    grants(),
                ),
            ),
            6,
        ),
        prop::bool::weighted(0.05),
    )
        .prop_map(|(users, groups, ghost)| FileSpec {
            users,
            groups,
            ghost,
        })
}

/// A plan's outcome as compared: its steps and notes, or the error's text.
fn outcome(result: &segment_iam_sync::Result<Plan>) -> Result<(String, Vec<String>), String> {
    match result {
        Ok(plan) => Ok((format!("{:?}", plan.steps), plan.notes.clone())),
        Err(e) => Err(e.to_string()),
    }
}

/// The whole read's plan and the scoped read's plan (with its live state) of `file`.
async fn both(
    client: &Client,
    file: &AccessFile,
) -> (
    segment_iam_sync::Result<Plan>,
    Live,
    segment_iam_sync::Result<Plan>,
) {
    let whole = Live::read(client, &ReadOptions::new())
        .await
        .expect("the whole read");
    let whole_plan = segment_iam_sync::plan(file, &whole, client);
    let scoped = Live::read_for(client, file, &ReadOptions::new())
        .await
        .expect("the scoped read");
    let scoped_plan = segment_iam_sync::plan(file, &scoped, client);
    (whole_plan, scoped, scoped_plan)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Any workspace, any file without prune: the scoped read plans exactly what the whole
    /// read plans (steps, notes, or the same refusal or error), and applying the scoped plan
    /// (checked fresh on its scope first) converges: planning again finds nothing.
    #[test]
    fn a_scoped_plan_equals_the_whole_reads_plan_and_converges(
        live_spec in live_spec(),
        file_spec in file_spec(),
    ) {
        runtime().block_on(async {
            let emu = live_spec.start().await;
            let client = client(&emu);
            let yaml = file_spec.yaml(&live_spec);
            let file = AccessFile::parse(&yaml).expect("the file parses");
            let (whole, scoped_live, scoped) = both(&client, &file).await;
            assert!(scoped_live.scope.is_some(), "a file without prune reads scoped");
            assert_eq!(outcome(&scoped), outcome(&whole), "scoped vs whole for\n{yaml}");
            let Ok(plan) = scoped else { return };
            assert!(plan.scope.is_some());
            let options = ApplyOptions::new()
                .removal_cap(RemovalCap::off())
                .verify_fresh(true);
            segment_iam_sync::apply(&client, &plan, &options)
                .await
                .unwrap_or_else(|e| panic!("apply of\n{yaml}\n{plan}\nfailed: {e}"));
            let live = Live::read_for(&client, &file, &ReadOptions::new()).await.expect("read");
            let again = segment_iam_sync::plan(&file, &live, &client).expect("plan again");
            assert!(again.is_empty(), "second plan not empty for\n{yaml}\n{again}");
        });
    }
}

/// The minimum reads planning a file of groups (no `users:`) needs on `emu`'s state, computed
/// from the emulator's snapshot (not from the code under test): workspace, roles and labels (1
/// each); the group list's pages; for each group the file names and each group granting a
/// plain Workspace Owner, when it has members, its members' and its invitees' pages (at least
/// 1 each); then, for the members those listings do not show, the users pages up to the one
/// holding the last of them who is a user and the invites pages up to the one holding the last
/// of them who is an invitee (a list is read from its first page; each must be seen somewhere).
fn minimum_reads(emu: &EmulatorHandle, groups: &[&str], members: &[&str]) -> u64 {
    let state = emu.state();
    let pages = |n: usize| n.div_ceil(1_000).max(1) as u64;
    let mut reads = 3 + pages(state.groups.len());
    let owns = |g: &segment_iam_emulator::state::GroupSnapshot| {
        g.permissions.iter().any(|p| {
            p.role_id == OWNER_ROLE
                && p.resources
                    .iter()
                    .any(|r| r.resource_type == "WORKSPACE" && r.labels.is_empty())
        })
    };
    let mut seen: BTreeSet<String> = BTreeSet::new();
    for g in &state.groups {
        if !(groups.contains(&g.name.as_str()) || owns(g)) || g.member_count == 0 {
            continue;
        }
        reads += pages(g.users.len()) + pages(g.invites.len());
        for id in &g.users {
            if let Some(u) = state.users.iter().find(|u| &u.id == id) {
                seen.insert(u.email.to_lowercase());
            }
        }
        seen.extend(g.invites.iter().map(|e| e.to_lowercase()));
    }
    let unseen = members.iter().filter(|m| !seen.contains(&m.to_lowercase()));
    let (mut last_user, mut last_invite) = (None, None);
    for m in unseen {
        if let Some(at) = state
            .users
            .iter()
            .position(|u| u.email.eq_ignore_ascii_case(m))
        {
            last_user = last_user.max(Some(at));
        } else {
            let at = state
                .invites
                .iter()
                .position(|i| i.email.eq_ignore_ascii_case(m));
            assert!(at.is_some(), "{m} is nobody: the file would be refused");
            last_invite = last_invite.max(at);
        }
    }
    reads += last_user.map_or(0, |at| (at / 1_000 + 1) as u64);
    reads += last_invite.map_or(0, |at| (at / 1_000 + 1) as u64);
    reads
}

/// On 20,000 users and 1,000 groups, a 2-group additive file (no `users:`; members already in
/// the groups, a user on the sixth users page, an invitee) plans in at most 1.1x the minimum
/// reads, counted by the plan and by the emulator's journal, and plans what the whole read
/// plans.
#[tokio::test]
async fn a_two_group_additive_plan_on_20000_users_reads_within_1_1x_the_minimum() {
    let emu = start(emulator().users(20_000).groups(1_000).invites(40)).await;
    let client = client(&emu);
    let state = emu.state();
    let team = |name: &str| {
        state
            .groups
            .iter()
            .find(|g| g.name == name && !g.users.is_empty())
            .map(|g| g.name.clone())
    };
    // Two seeded groups with members (most have some).
    let names: Vec<String> = (10..)
        .map(|n| format!("Group {n}"))
        .filter_map(|n| team(&n))
        .take(2)
        .collect();
    let first_member = state
        .users
        .iter()
        .find(|u| {
            state
                .groups
                .iter()
                .any(|g| g.name == names[0] && g.users.contains(&u.id))
        })
        .map(|u| u.email.clone())
        .expect("a member");
    let late = state.users[5_432].email.clone();
    let invitee = state.invites[33].email.clone();
    let yaml = format!(
        "version: 1\ngroups:\n  {a}:\n    members_mode: additive\n    members: [{first_member}, {late}]\n  {b}:\n    members_mode: additive\n    members: [{invitee}]\n",
        a = names[0],
        b = names[1]
    );
    let file = AccessFile::parse(&yaml).expect("the file parses");
    let minimum = minimum_reads(
        &emu,
        &[&names[0], &names[1]],
        &[&first_member, &late, &invitee],
    );

    emu.clear_journal();
    let live = Live::read_for(&client, &file, &ReadOptions::new())
        .await
        .expect("the scoped read");
    let journaled = emu.journal().iter().filter(|e| e.method == "GET").count() as u64;
    let plan = segment_iam_sync::plan(&file, &live, &client).expect("planned");
    eprintln!(
        "scoped plan: read {} requests, minimum {minimum}",
        plan.reads
    );
    assert_eq!(
        plan.reads, journaled,
        "the plan counts what reached the emulator"
    );
    assert!(
        plan.reads * 10 <= minimum * 11,
        "read {} requests, the minimum is {minimum}",
        plan.reads
    );
    assert!(minimum < 40, "tens, not thousands: {minimum}");
    let whole = Live::read(&client, &ReadOptions::new())
        .await
        .expect("the whole read");
    assert!(whole.reads > 1_000, "{}", whole.reads);
    let whole_plan = segment_iam_sync::plan(&file, &whole, &client).expect("planned whole");
    assert_eq!(plan.steps, whole_plan.steps, "{plan}");
    assert_eq!(plan.notes, whole_plan.notes);
    assert!(
        !plan.is_empty(),
        "the late user and the invitee join: {plan}"
    );
}

/// 2,500 generated users (three users pages; `user1` owns the workspace) after a fixture:
/// `boss@x.io` owns it through group Admins.
async fn owners_workspace() -> EmulatorHandle {
    let fixture = Fixture {
        users: vec![FixtureUser {
            email: "boss@x.io".into(),
            ..FixtureUser::default()
        }],
        groups: vec![FixtureGroup {
            name: "Admins".into(),
            members: vec!["boss@x.io".into()],
            permissions: vec![owner_permission()],
            ..FixtureGroup::default()
        }],
        ..Fixture::default()
    };
    start(emulator().fixture(fixture).users(2_500)).await
}

/// `user1` loses their direct ownership; Admins loses boss (exact members), or keeps boss but
/// has its owner grant replaced.
const DROP_OWNERS: [&str; 2] = [
    "version: 1\nusers:\n  user1@example.com:\ngroups:\n  Admins:\n    members: []\n    permissions:\n      - role: Workspace Owner\n        resources: [workspace]\n",
    "version: 1\nusers:\n  user1@example.com:\ngroups:\n  Admins:\n    members: [boss@x.io]\n    permissions:\n      - role: Source Read-only\n        resources: [workspace]\n",
];

/// A plan that removes the last owners (one through a group) refuses with the scoped read,
/// naming the same owners as the whole read, and sends nothing.
#[tokio::test]
async fn removing_the_last_owner_through_a_group_is_refused_with_the_scoped_read() {
    let emu = owners_workspace().await;
    let client = client(&emu);
    for yaml in DROP_OWNERS {
        let file = AccessFile::parse(yaml).expect("the file parses");
        let (whole, live, scoped) = both(&client, &file).await;
        let owners = |r: &segment_iam_sync::Result<Plan>| match r {
            Err(Error::Refused(Refusal::LastOwner { owners })) => owners.clone(),
            other => panic!("not refused: {:?}", other.as_ref().map(|p| p.to_string())),
        };
        assert_eq!(owners(&scoped), owners(&whole), "{yaml}");
        assert_eq!(
            owners(&scoped),
            ["boss@x.io".to_string(), "user1@example.com".to_string()]
        );
        assert!(live.scope.is_some());
    }
    let sent = emu.journal().iter().filter(|e| e.method != "GET").count();
    assert_eq!(sent, 0);
}

/// The same plans pass when another owner exists only as an unnamed direct owner on the last
/// users page (the scoped read then reads the rest of the users list, as the module docs of
/// `Live::read_for` argue), and plan what the whole read plans.
#[tokio::test]
async fn an_unnamed_owner_on_a_late_users_page_lets_the_scoped_plan_pass() {
    let emu = owners_workspace().await;
    let client = client(&emu);
    let late = find_user(&emu, "user2400@example.com");
    client
        .users()
        .add_permissions(&late, [owner()])
        .await
        .expect("granted");
    for yaml in DROP_OWNERS {
        let file = AccessFile::parse(yaml).expect("the file parses");
        let (whole, live, scoped) = both(&client, &file).await;
        assert_eq!(outcome(&scoped), outcome(&whole), "{yaml}");
        let plan = scoped.expect("passes: user2400 still owns");
        assert!(!plan.is_empty());
        let complete = live.scope.as_ref().is_some_and(|s| s.users_complete);
        assert!(complete, "the users list was completed for the guard");
    }
}

/// An owner only through a group the file does not list still counts: the direct owner the
/// file strips may go (the owner groups' members are read), as with the whole read.
#[tokio::test]
async fn an_owner_through_an_unlisted_group_lets_the_direct_owner_go() {
    let fixture = Fixture {
        users: vec![
            FixtureUser {
                email: "own@x.io".into(),
                permissions: vec![owner_permission()],
                ..FixtureUser::default()
            },
            FixtureUser {
                email: "boss@x.io".into(),
                ..FixtureUser::default()
            },
        ],
        groups: vec![FixtureGroup {
            name: "Admins".into(),
            members: vec!["boss@x.io".into()],
            permissions: vec![owner_permission()],
            ..FixtureGroup::default()
        }],
        ..Fixture::default()
    };
    let emu = start(emulator().fixture(fixture)).await;
    let client = client(&emu);
    let file = AccessFile::parse("version: 1\nusers:\n  own@x.io:\n").expect("the file parses");
    let (whole, _, scoped) = both(&client, &file).await;
    assert_eq!(outcome(&scoped), outcome(&whole));
    let plan = scoped.expect("boss still owns through Admins");
    assert_eq!(plan.steps.len(), 1, "{plan}");
}

/// A saved scoped plan, applied with `verify_fresh`, is refused as stale after a change inside
/// its scope (a member joins the listed group) and applied after a change outside it (a member
/// joins an unlisted group).
#[tokio::test]
async fn a_saved_scoped_plan_is_stale_after_a_change_inside_its_scope_only() {
    let fixture = Fixture {
        users: ["own", "a", "b", "c"]
            .iter()
            .map(|n| FixtureUser {
                email: format!("{n}@x.io"),
                permissions: if *n == "own" {
                    vec![owner_permission()]
                } else {
                    vec![]
                },
                ..FixtureUser::default()
            })
            .collect(),
        groups: ["Team", "Other"]
            .iter()
            .map(|name| FixtureGroup {
                name: name.to_string(),
                members: vec!["a@x.io".into()],
                ..FixtureGroup::default()
            })
            .collect(),
        ..Fixture::default()
    };
    let emu = start(emulator().fixture(fixture)).await;
    let client = client(&emu);
    let groups = emu.state().groups;
    let id = |name: &str| {
        groups
            .iter()
            .find(|g| g.name == name)
            .map(|g| g.id.clone())
            .expect("the group")
    };
    let yaml = "version: 1\ngroups:\n  Team:\n    members: [a@x.io, b@x.io]\n";
    let file = AccessFile::parse(yaml).expect("the file parses");
    let saved = || async {
        let live = Live::read_for(&client, &file, &ReadOptions::new())
            .await
            .expect("read");
        let plan = segment_iam_sync::plan(&file, &live, &client).expect("planned");
        Plan::from_json(&plan.to_json()).expect("the saved plan reads back")
    };
    let fresh = ApplyOptions::new().verify_fresh(true);

    let plan = saved().await;
    assert!(plan.scope.is_some(), "{}", plan.to_json());
    client
        .groups()
        .add_members(id("Other"), ["c@x.io"])
        .await
        .expect("outside the scope");
    segment_iam_sync::apply(&client, &plan, &fresh)
        .await
        .expect("a change outside the scope is not staleness");

    let yaml_more = "version: 1\ngroups:\n  Team:\n    members: [a@x.io, b@x.io, c@x.io]\n";
    let file_more = AccessFile::parse(yaml_more).expect("the file parses");
    let live = Live::read_for(&client, &file_more, &ReadOptions::new())
        .await
        .expect("read");
    let plan = segment_iam_sync::plan(&file_more, &live, &client).expect("planned");
    let plan = Plan::from_json(&plan.to_json()).expect("reads back");
    client
        .groups()
        .add_members(id("Team"), ["own@x.io"])
        .await
        .expect("inside the scope");
    emu.clear_journal();
    match segment_iam_sync::apply(&client, &plan, &fresh).await {
        Err(Error::StalePlan { .. }) => {}
        other => panic!("not stale: {other:?}"),
    }
    let sent = emu.journal().iter().filter(|e| e.method != "GET").count();
    assert_eq!(sent, 0, "a stale plan sends nothing");
}
