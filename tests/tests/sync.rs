//! Access as code end to end against the emulator: random workspaces and random files
//! converge in exactly the planned mutations, export round-trips, big groups are read whole,
//! each change takes the cheapest form, and additions come before removals.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use segment_iam::email::key as email_key;
use segment_iam_emulator::state::{PermissionInput, PermissionResource};
use segment_iam_emulator::{Fixture, FixtureGroup, FixtureInvite, FixtureUser, Operation};
use segment_iam_sync::file::{AccessFile, PermissionEntry, Text};
use segment_iam_sync::{Action, Error};
use segment_iam_tests::sync::plan as plan_fn;
use segment_iam_tests::sync::{
    export_yaml, fixture_label, labelled_workspace, live, mutations, narrowed_permission,
    owner_permission, plan, plan_and_apply,
};
use segment_iam_tests::{WORKSPACE, client, emulator, start};

/// The (role name, resource, labels) grants the random workspaces and files draw from: some
/// narrowed, one beside its plain twin, one by a label not every workspace has.
const GRANTS: [(&str, &str, &[&str]); 7] = [
    ("Source Admin", "SOURCE:src1", &[]),
    ("Source Read-only", "workspace", &[]),
    ("Source Read-only", "SOURCE:src2", &[]),
    ("Workspace Member", "workspace", &[]),
    ("Engage Admin", "SPACE:sp1", &[]),
    ("Source Admin", "workspace", &["environment:prod"]),
    (
        "Source Read-only",
        "workspace",
        &["environment:dev", "region:emea"],
    ),
];

/// The labels the random workspaces and files draw from (the first two every workspace has).
const LABELS: [&str; 4] = [
    "environment:dev",
    "environment:prod",
    "region:emea",
    "tier:gold",
];

/// The emulator's id of a role name of [`GRANTS`].
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
            let (role, resource, labels) = GRANTS[g];
            let (kind, id) = resource.split_once(':').unwrap_or(("WORKSPACE", WORKSPACE));
            PermissionInput {
                role_id: role_id(role).to_string(),
                resources: vec![PermissionResource {
                    id: id.to_string(),
                    resource_type: kind.to_string(),
                    labels: labels.iter().map(|l| fixture_label(l)).collect(),
                }],
            }
        })
        .collect()
}

/// A random live workspace: `users[i]` the grants of user i (user 0 also owns the
/// workspace), `invites` pending invitees, `groups[g]` (members as indexes into users then
/// invites, grants).
#[derive(Debug, Clone)]
struct LiveSpec {
    users: Vec<Vec<usize>>,
    invites: usize,
    groups: Vec<(Vec<usize>, Vec<usize>)>,
    /// Whether the workspace also has tier:gold (it always has the other [`LABELS`]).
    gold: bool,
}

fn person(i: usize, users: usize) -> String {
    if i < users {
        format!("p{i}@example.com")
    } else {
        format!("inv{}@example.com", i - users)
    }
}

impl LiveSpec {
    fn fixture(&self) -> Fixture {
        let n = self.users.len();
        Fixture {
            users: self
                .users
                .iter()
                .enumerate()
                .map(|(i, grants)| {
                    let mut permissions = fixture_permissions(grants);
                    if i == 0 {
                        permissions.push(owner_permission());
                    }
                    FixtureUser {
                        email: person(i, n),
                        name: format!("P{i}"),
                        permissions,
                        ..FixtureUser::default()
                    }
                })
                .collect(),
            invites: (0..self.invites)
                .map(|i| FixtureInvite {
                    email: person(n + i, n),
                    ..FixtureInvite::default()
                })
                .collect(),
            groups: self
                .groups
                .iter()
                .enumerate()
                .map(|(g, (members, grants))| FixtureGroup {
                    name: format!("G{g}"),
                    members: members.iter().map(|&m| person(m, n)).collect(),
                    permissions: fixture_permissions(grants),
                    ..FixtureGroup::default()
                })
                .collect(),
            labels: Some(
                LABELS
                    .iter()
                    .filter(|l| **l != "tier:gold" || self.gold)
                    .map(|l| fixture_label(l))
                    .collect(),
            ),
            ..Fixture::default()
        }
    }
}

/// A random desired file over a [`LiveSpec`]: which existing people stay (user 0 always,
/// as owner), new people, and groups `G0..G5` (some existing, some new) with members drawn
/// from the people who stay, with grants.
#[derive(Debug, Clone)]
struct FileSpec {
    keep_users: Vec<Option<Vec<usize>>>,
    keep_invites: Vec<bool>,
    new_people: Vec<Vec<usize>>,
    groups: Vec<Option<(Vec<prop::sample::Index>, Vec<usize>)>>,
    /// Which of [`LABELS`] the file lists (those its grants use are listed anyway).
    labels: Vec<bool>,
    prune_labels: bool,
}

impl FileSpec {
    /// The people the file lists, by email, with their grants (none for invitees).
    fn people(&self, live: &LiveSpec) -> Vec<(String, Vec<usize>, bool)> {
        let n = live.users.len();
        let mut people = Vec::new();
        for (i, keep) in self.keep_users.iter().enumerate().take(n) {
            match (i, keep) {
                (0, grants) => {
                    people.push((person(0, n), grants.clone().unwrap_or_default(), true))
                }
                (_, Some(grants)) => people.push((person(i, n), grants.clone(), false)),
                _ => {}
            }
        }
        for (i, keep) in self.keep_invites.iter().enumerate().take(live.invites) {
            if *keep {
                people.push((person(n + i, n), Vec::new(), false));
            }
        }
        for (i, grants) in self.new_people.iter().enumerate() {
            people.push((format!("new{i}@example.com"), grants.clone(), false));
        }
        people
    }

    fn yaml(&self, live: &LiveSpec) -> String {
        let people = self.people(live);
        let mut yaml = format!(
            "version: 1\nprune: {{ users: true, groups: true, labels: {} }}\nlabels: [{}]\nusers:\n",
            self.prune_labels,
            self.listed(live).into_iter().collect::<Vec<_>>().join(", ")
        );
        for (email, grants, owner) in &people {
            yaml.push_str(&format!("  {email}:\n    permissions:\n"));
            if *owner {
                yaml.push_str("      - role: Workspace Owner\n        resources: [workspace]\n");
            }
            for &g in grants {
                yaml.push_str(&entry(g));
            }
        }
        yaml.push_str("groups:\n");
        for (g, group) in self.groups.iter().enumerate() {
            let Some((members, grants)) = group else {
                continue;
            };
            let mut chosen: BTreeSet<&str> = BTreeSet::new();
            if !people.is_empty() {
                for m in members {
                    chosen.insert(people[m.index(people.len())].0.as_str());
                }
            }
            yaml.push_str(&format!("  G{g}:\n    members: ["));
            yaml.push_str(&chosen.into_iter().collect::<Vec<_>>().join(", "));
            yaml.push_str("]\n    permissions:\n");
            for &gr in grants {
                yaml.push_str(&entry(gr));
            }
        }
        yaml
    }

    /// The labels the file lists: those drawn, and every label its grants use.
    fn listed(&self, live: &LiveSpec) -> BTreeSet<&'static str> {
        let mut listed: BTreeSet<&str> = LABELS
            .iter()
            .zip(&self.labels)
            .filter(|(_, on)| **on)
            .map(|(l, _)| *l)
            .collect();
        let people = self.people(live).into_iter().flat_map(|(_, g, _)| g);
        let groups = self.groups.iter().flatten().flat_map(|(_, g)| g.clone());
        for g in people.chain(groups) {
            listed.extend(GRANTS[g].2.iter().copied());
        }
        listed
    }
}

/// One grant of [`GRANTS`] as a file's permission entry.
fn entry(g: usize) -> String {
    let (role, resource, labels) = GRANTS[g];
    let mut text = format!("      - role: {role}\n        resources: [\"{resource}\"]\n");
    if !labels.is_empty() {
        text.push_str(&format!("        labels: [{}]\n", labels.join(", ")));
    }
    text
}

fn grants() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::btree_set(0..GRANTS.len(), 0..3).prop_map(|s| s.into_iter().collect())
}

fn live_spec() -> impl Strategy<Value = LiveSpec> {
    (2usize..7, 0usize..3).prop_flat_map(|(users, invites)| {
        (
            prop::collection::vec(grants(), users),
            Just(invites),
            prop::collection::vec(
                (
                    prop::collection::btree_set(0..users + invites, 0..5)
                        .prop_map(|s| s.into_iter().collect()),
                    grants(),
                ),
                0..4,
            ),
            any::<bool>(),
        )
            .prop_map(|(users, invites, groups, gold)| LiveSpec {
                users,
                invites,
                groups,
                gold,
            })
    })
}

fn file_spec() -> impl Strategy<Value = FileSpec> {
    (
        prop::collection::vec(prop::option::weighted(0.7, grants()), 7),
        prop::collection::vec(any::<bool>(), 3),
        prop::collection::vec(grants(), 0..3),
        prop::collection::vec(
            prop::option::weighted(
                0.7,
                (
                    prop::collection::vec(any::<prop::sample::Index>(), 0..5),
                    grants(),
                ),
            ),
            6,
        ),
        prop::collection::vec(any::<bool>(), LABELS.len()),
        any::<bool>(),
    )
        .prop_map(
            |(keep_users, keep_invites, new_people, groups, labels, prune_labels)| FileSpec {
                keep_users,
                keep_invites,
                new_people,
                groups,
                labels,
                prune_labels,
            },
        )
}

/// (role, resource, labels joined) of each grant.
type Pairs = BTreeSet<(String, String, String)>;

/// Each person's pairs, and each group's members and pairs.
type Normalised = (
    BTreeMap<String, Pairs>,
    BTreeMap<String, (BTreeSet<String>, Pairs)>,
);

/// A file reduced to what must match: each person's direct (role, resource) pairs (none for
/// `pending` invitees, whose permissions cannot be read back), each group's members and pairs.
fn normalise(file: &AccessFile, pending: &BTreeSet<String>) -> Normalised {
    let pairs = |permissions: &[segment_iam_sync::file::PermissionEntry]| -> Pairs {
        permissions
            .iter()
            .flat_map(|p| {
                let labels = segment_iam::label::joined(&p.parsed_labels().expect("labels"));
                p.resources
                    .iter()
                    .map(move |r| (p.role.value.to_lowercase(), r.value.clone(), labels.clone()))
            })
            .collect()
    };
    let users = file
        .users
        .iter()
        .map(|(email, entry)| {
            let key = email_key(&email.value);
            let grants = if pending.contains(&key) {
                Pairs::new()
            } else {
                pairs(&entry.permissions)
            };
            (key, grants)
        })
        .collect();
    let groups = file
        .groups
        .iter()
        .map(|(name, entry)| {
            (
                name.value.clone(),
                (
                    entry.members.iter().map(|m| email_key(&m.value)).collect(),
                    pairs(&entry.permissions),
                ),
            )
        })
        .collect();
    (users, groups)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Any workspace, any file: apply sends exactly the planned mutations, the export then
    /// equals the file (normalised), and planning again finds nothing to do.
    #[test]
    fn any_file_applied_to_any_workspace_converges_in_exactly_the_planned_mutations(
        live_spec in live_spec(),
        file_spec in file_spec(),
    ) {
        runtime().block_on(async {
            let emu = start(emulator().fixture(live_spec.fixture())).await;
            let client = client(&emu);
            let yaml = file_spec.yaml(&live_spec);
            let before = mutations(&emu);
            let (plan, report) = plan_and_apply(&client, &yaml).await.expect("plan and apply");
            let sent = mutations(&emu) - before;
            assert_eq!(sent, plan.requests(), "mutations sent vs planned for\n{yaml}\n{plan}");
            assert_eq!(report.mutations_done, plan.requests());

            let exported = AccessFile::parse(&export_yaml(&client).await).expect("export parses");
            let now = live(&client).await;
            let pending: BTreeSet<String> = now.invites.iter().map(|e| email_key(e)).collect();
            let desired = AccessFile::parse(&yaml).expect("the file parses");
            assert_eq!(
                normalise(&exported, &pending),
                normalise(&desired, &pending),
                "export after apply differs from\n{yaml}\nplan:\n{plan}"
            );
            // Every listed label is live; with prune.labels, every live label is listed or
            // narrows a grant.
            let listed = desired.listed_labels().expect("labels");
            assert!(listed.is_subset(&now.labels), "{yaml}\n{plan}");
            if desired.prune.labels {
                let used: BTreeSet<segment_iam::Label> = now
                    .users
                    .iter()
                    .flat_map(|u| &u.grants)
                    .chain(now.groups.iter().flat_map(|g| &g.grants))
                    .flat_map(|g| g.labels.iter().cloned())
                    .collect();
                for label in &now.labels {
                    assert!(
                        listed.contains(label) || used.contains(label),
                        "{label} left unpruned by\n{yaml}\n{plan}"
                    );
                }
            }
            let again = segment_iam_tests::sync::plan(&client, &yaml).await.expect("plan again");
            assert!(again.is_empty(), "second plan not empty for\n{yaml}\n{again}");
        });
    }
}

/// The export of a seeded workspace plans as no change, and its YAML reads back equal.
#[tokio::test]
async fn an_export_plans_as_no_change() {
    let emu = start(emulator().users(40).groups(8).invites(3)).await;
    let client = client(&emu);
    let yaml = export_yaml(&client).await;
    let planned = plan(&client, &yaml).await.expect("plan");
    assert!(planned.is_empty(), "{planned}\n{yaml}");
    assert!(
        planned
            .notes
            .iter()
            .any(|n| n.contains("3 pending invitee(s)")),
        "{:?}",
        planned.notes
    );
    assert_eq!(
        AccessFile::parse(&yaml)
            .expect("parses")
            .to_yaml()
            .expect("writes"),
        yaml
    );
}

/// A group of 1,200 members is read whole: no false addition for members past the first
/// page, and adding one member plans exactly that one.
#[tokio::test]
async fn groups_of_1200_members_are_read_whole() {
    let users: Vec<FixtureUser> = (0..1200)
        .map(|i| FixtureUser {
            email: format!("m{i}@example.com"),
            permissions: if i == 0 {
                vec![owner_permission()]
            } else {
                vec![]
            },
            ..FixtureUser::default()
        })
        .collect();
    let fixture = Fixture {
        groups: vec![FixtureGroup {
            name: "Everyone".into(),
            members: users[..1199].iter().map(|u| u.email.clone()).collect(),
            ..FixtureGroup::default()
        }],
        users,
        ..Fixture::default()
    };
    let emu = start(emulator().fixture(fixture)).await;
    let client = client(&emu);
    let yaml = export_yaml(&client).await;
    assert!(plan(&client, &yaml).await.expect("plan").is_empty());
    let added = yaml.replacen(
        "- m0@example.com",
        "- m0@example.com\n    - m1199@example.com",
        1,
    );
    let planned = plan(&client, &added).await.expect("plan");
    assert_eq!(planned.requests(), 1, "{planned}");
    match &planned.steps[0].action {
        Action::AddMembers { emails, .. } => assert_eq!(emails, &["m1199@example.com"]),
        other => panic!("expected one addition, got {other:?}"),
    }
}

fn workspace_of(people: &[&str], groups: &[(&str, &[&str])]) -> Fixture {
    Fixture {
        users: people
            .iter()
            .enumerate()
            .map(|(i, email)| FixtureUser {
                email: email.to_string(),
                permissions: if i == 0 {
                    vec![owner_permission()]
                } else {
                    vec![]
                },
                ..FixtureUser::default()
            })
            .collect(),
        groups: groups
            .iter()
            .map(|(name, members)| FixtureGroup {
                name: name.to_string(),
                members: members.iter().map(|m| m.to_string()).collect(),
                ..FixtureGroup::default()
            })
            .collect(),
        ..Fixture::default()
    }
}

/// Each change takes its cheapest form: a group gaining and losing members is one replace,
/// a group only losing one is one removal, a permission only added is an add, one removed
/// is a replace; and someone moved between groups is added before being removed.
#[tokio::test]
async fn each_change_takes_its_cheapest_form_and_additions_come_first() {
    let emu = start(emulator().fixture(workspace_of(
        &["own@x.io", "a@x.io", "b@x.io", "c@x.io"],
        &[
            ("Both", &["a@x.io", "b@x.io"]),
            ("Shrink", &["a@x.io", "c@x.io"]),
            ("Dest", &[]),
        ],
    )))
    .await;
    let client = client(&emu);
    let yaml = r#"version: 1
users:
  own@x.io:
    permissions:
      - role: Workspace Owner
        resources: [workspace]
  a@x.io:
    permissions:
      - role: Source Admin
        resources: ["SOURCE:s1"]
groups:
  Both:
    members: [a@x.io, c@x.io]
  Shrink:
    members: [a@x.io]
  Dest:
    members: [c@x.io]
"#;
    let before = emu.journal().len();
    let (plan, _) = plan_and_apply(&client, yaml).await.expect("apply");
    let kinds: Vec<&str> = plan
        .steps
        .iter()
        .map(|s| match &s.action {
            Action::AddMembers { .. } => "add_members",
            Action::ReplaceMembers { .. } => "replace_members",
            Action::RemoveMembers { .. } => "remove_members",
            Action::AddPermissions { .. } => "add_permissions",
            Action::ReplacePermissions { .. } => "replace_permissions",
            _ => "other",
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "add_permissions",
            "add_members",
            "replace_members",
            "remove_members"
        ],
        "{plan}"
    );
    assert_eq!(plan.requests(), 4);
    // c leaves Shrink only after joining Dest.
    let operations: Vec<Operation> = emu.journal()[before..]
        .iter()
        .filter(|e| e.method != "GET")
        .filter_map(|e| e.operation)
        .collect();
    let joined = operations
        .iter()
        .position(|o| *o == Operation::AddUsersToUserGroup);
    let left = operations
        .iter()
        .position(|o| *o == Operation::RemoveUsersFromUserGroup);
    assert!(joined < left && joined.is_some(), "{operations:?}");

    // A permission removed is one replace.
    let fewer = yaml.replace(
        "    permissions:\n      - role: Source Admin\n        resources: [\"SOURCE:s1\"]\n",
        "",
    );
    let plan = plan_and_apply(&client, &fewer).await.expect("apply").0;
    assert!(
        matches!(&plan.steps[..], [s] if matches!(s.action, Action::ReplacePermissions { .. })),
        "{plan}"
    );
}

/// A file may name people with `+`, quotes and non-ASCII letters: they are invited and then
/// plan as no change.
#[tokio::test]
async fn unusual_but_valid_emails_are_invited_and_converge() {
    let emu = start(emulator().users(1)).await;
    let client = client(&emu);
    let owner = live(&client).await.users[0].email.clone();
    let yaml = format!(
        "version: 1\nusers:\n  {owner}:\n    permissions:\n      - role: Workspace Owner\n        resources: [workspace]\n  a+tag@example.com: {{}}\n  '\"john doe\"@example.com': {{}}\n  zoë@exämple.com: {{}}\n"
    );
    let (plan, _) = plan_and_apply(&client, &yaml).await.expect("apply");
    assert_eq!(plan.requests(), 1, "{plan}");
    let pending = live(&client).await.invites;
    for email in [
        "a+tag@example.com",
        "\"john doe\"@example.com",
        "zoë@exämple.com",
    ] {
        assert!(
            pending.iter().any(|p| p == email),
            "{email} not in {pending:?}"
        );
    }
    let again = segment_iam_tests::sync::plan(&client, &yaml)
        .await
        .expect("plan");
    assert!(again.is_empty(), "{again}");
}

/// Problems of the file that only the workspace reveals are refused with their line, and
/// nothing is sent: an unknown role (with the closest names), a member who is nobody, a
/// listed group whose name two live groups share.
#[tokio::test]
async fn file_errors_found_against_the_workspace_carry_their_line_and_send_nothing() {
    let emu = start(emulator().fixture(workspace_of(
        &["own@x.io", "a@x.io"],
        &[("Twin", &[]), ("Twin", &[])],
    )))
    .await;
    let client = client(&emu);
    let cases = [
        (
            "version: 1\nusers:\n  a@x.io:\n    permissions:\n      - role: Source Admn\n        resources: [workspace]\n",
            5,
            "Source Admin",
        ),
        (
            "version: 1\ngroups:\n  New:\n    members:\n      - a@x.io\n      - ghost@x.io\n",
            6,
            "ghost@x.io",
        ),
        (
            "version: 1\ngroups:\n  Twin:\n    members: [a@x.io]\n",
            3,
            "2 groups",
        ),
    ];
    for (yaml, line, says) in cases {
        match plan(&client, yaml).await {
            Err(Error::File {
                line: at, message, ..
            }) => {
                assert_eq!(at, line, "{message}");
                assert!(message.contains(says), "{message}");
            }
            other => panic!("expected a file error for\n{yaml}\ngot {other:?}"),
        }
    }
    assert_eq!(mutations(&emu), 0);
}

/// The labelled workspace's export, as a file to edit.
async fn labelled_export(client: &segment_iam::Client) -> AccessFile {
    AccessFile::parse(&export_yaml(client).await).expect("the export parses")
}

/// A labelled workspace (narrowed grants on a user and a group, a labelled source) exports
/// without refusal, listing every label and each grant's labels; applying the export sends
/// nothing.
#[tokio::test]
async fn a_labelled_workspace_exports_and_applying_the_export_sends_nothing() {
    let emu = start(emulator().fixture(labelled_workspace())).await;
    let client = client(&emu);
    let yaml = export_yaml(&client).await;
    assert!(
        yaml.contains("labels:\n- environment:dev\n- environment:prod\n- region:emea\n- tier:gold"),
        "{yaml}"
    );
    assert!(
        yaml.contains("labels:\n      - environment:prod\n      - region:emea"),
        "the group's grant carries both labels:\n{yaml}"
    );
    let before = mutations(&emu);
    let (plan, _) = plan_and_apply(&client, &yaml).await.expect("applied");
    assert!(plan.is_empty(), "{plan}\n{yaml}");
    assert_eq!(mutations(&emu), before, "nothing sent");
}

/// An edited export (a label added to a group's plain grant, a new narrowed grant using a new
/// label) applies in the minimum number of requests, counted on the journal: one per new
/// label and one per subject whose grants change; then a second plan is empty.
#[tokio::test]
async fn an_edited_labelled_file_applies_in_the_fewest_requests_and_converges() {
    let emu = start(emulator().fixture(labelled_workspace())).await;
    let client = client(&emu);
    let mut file = labelled_export(&client).await;
    let plain = file.groups.get_mut("Plain").expect("listed");
    plain.permissions[0] = plain.permissions[0].clone().labels(["region:emea"]);
    let a = file.users.get_mut("a@x.io").expect("listed");
    a.permissions
        .push(PermissionEntry::new("Source Read-only", ["workspace"]).labels(["team:data"]));
    file.labels.push(Text::new("team:data"));
    let yaml = file.to_yaml().expect("writes");
    // The minimum, from the edit: one new label, two subjects whose grants change.
    let new_labels = 1;
    let changed_subjects = ["Plain", "a@x.io"].len() as u64;
    let minimum = new_labels + changed_subjects;

    emu.clear_journal();
    let (plan, _) = plan_and_apply(&client, &yaml).await.expect("applied");
    assert_eq!(plan.requests(), minimum, "{plan}");
    assert_eq!(mutations(&emu), minimum);
    let sent: Vec<Operation> = emu
        .journal()
        .into_iter()
        .filter(|e| e.method != "GET")
        .filter_map(|e| e.operation)
        .collect();
    assert_eq!(
        sent,
        [
            Operation::CreateLabel,
            Operation::AddPermissionsToUser,
            Operation::ReplacePermissionsForUserGroup
        ],
        "the label is created before the grant that uses it"
    );
    let shown = plan.to_string();
    assert!(
        shown.contains("Workspace Member on workspace narrowed by region:emea"),
        "{shown}"
    );
    assert!(shown.contains("+ create label team:data"), "{shown}");
    let again = plan_fn(&client, &yaml).await.expect("plan again");
    assert!(again.is_empty(), "{again}");
}

/// `prune.labels` deletes only the unused labels, after the revocation that frees one: the
/// group's grant narrowed by region:emea goes, so region:emea goes after it; tier:gold is
/// unused; environment:prod is unlisted but kept (a grant and a source use it).
#[tokio::test]
async fn prune_labels_deletes_only_unused_labels_after_the_revocation_that_frees_them() {
    let emu = start(emulator().fixture(labelled_workspace())).await;
    let client = client(&emu);
    let mut file = labelled_export(&client).await;
    file.prune.labels = true;
    file.labels = vec![Text::new("environment:dev")];
    file.groups
        .get_mut("Prod")
        .expect("listed")
        .permissions
        .clear();
    let yaml = file.to_yaml().expect("writes");

    emu.clear_journal();
    let (plan, _) = plan_and_apply(&client, &yaml).await.expect("applied");
    assert!(
        !emu.journal_for(Operation::ListSources).is_empty(),
        "the sources were read to delete labels"
    );
    let sent: Vec<(Operation, String)> = emu
        .journal()
        .into_iter()
        .filter(|e| e.method != "GET")
        .filter_map(|e| e.operation.map(|o| (o, e.path)))
        .collect();
    assert_eq!(sent.len() as u64, plan.requests(), "{plan}");
    assert_eq!(
        sent[0].0,
        Operation::ReplacePermissionsForUserGroup,
        "{plan}"
    );
    let deleted: BTreeSet<&str> = sent[1..]
        .iter()
        .map(|(o, path)| {
            assert_eq!(*o, Operation::DeleteLabel);
            path.as_str()
        })
        .collect();
    assert_eq!(
        deleted,
        ["/labels/region/emea", "/labels/tier/gold"]
            .into_iter()
            .collect()
    );
    assert_eq!(
        emu.label_strings(),
        ["environment:dev", "environment:prod"],
        "environment:prod, in use, is kept"
    );
    assert!(
        plan.notes.iter().any(|n| n.contains("environment:prod")),
        "{:?}",
        plan.notes
    );
    let again = plan_fn(&client, &yaml).await.expect("plan again");
    assert!(again.is_empty(), "{again}");

    // Without prune.labels the sources are not read.
    emu.clear_journal();
    let unpruned = yaml.replace("labels: true", "labels: false");
    plan_fn(&client, &unpruned).await.expect("planned");
    assert!(emu.journal_for(Operation::ListSources).is_empty());
}

/// Only a plain Workspace Owner counts: removing the only plain owner while a narrowed owner
/// remains is refused by plan and by apply, and nothing is sent.
#[tokio::test]
async fn removing_the_only_plain_owner_while_a_narrowed_owner_remains_is_refused() {
    let mut fixture = labelled_workspace();
    fixture.users[1].permissions.push(narrowed_permission(
        segment_iam_tests::OWNER_ROLE,
        &["environment:prod"],
    ));
    let emu = start(emulator().fixture(fixture)).await;
    let client = client(&emu);
    let mut file = labelled_export(&client).await;
    file.users
        .get_mut("own@x.io")
        .expect("listed")
        .permissions
        .clear();
    let yaml = file.to_yaml().expect("writes");
    assert!(
        yaml.contains("Workspace Owner"),
        "the narrowed owner stays:\n{yaml}"
    );
    emu.clear_journal();
    match plan_and_apply(&client, &yaml).await {
        Err(Error::Refused(segment_iam::guard::Refusal::LastOwner { owners })) => {
            assert_eq!(owners, ["own@x.io"]);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(mutations(&emu), 0, "nothing sent");
}
