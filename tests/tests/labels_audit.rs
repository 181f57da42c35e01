//! Labels in the audit, checked by brute force against random workspaces: each seed builds a
//! fixture of users, pending invitees, groups (members and invitees), sources carrying random
//! labels and grants (direct and through groups, plain and narrowed by one or two labels, on
//! the workspace and on sources, of a few roles). The expected rows are computed here from the
//! fixture alone — no audit code — and `audit` must answer exactly them: for
//! `--resource SOURCE:<id>`, who reaches that source (grants on it, and workspace grants whose
//! labels it all carries); unfiltered, every grant with its labels.

use std::collections::BTreeSet;

use segment_iam::jobs::audit::{AuditFilter, AuditOptions, AuditReport, SubjectKind, audit};
use segment_iam::{Error, Resource, ResourceType};
use segment_iam_emulator::state::{PermissionInput, PermissionResource};
use segment_iam_emulator::{
    Fixture, FixtureGroup, FixtureInvite, FixtureSource, FixtureUser, Label, Operation,
};
use segment_iam_tests::{OWNER_ROLE, WORKSPACE, client, emulator, start};

/// Seeds of the random workspaces.
const SEEDS: u64 = 8;

/// Roles the grants draw from: Workspace Owner, Source Admin, Source Read-only (the
/// emulator's default role ids).
const ROLES: [&str; 3] = [
    OWNER_ROLE,
    "1WDUuQEbvvYQIILOjS5GMDdHPoZ",
    "1WDUuSJ7eANmTOE8hJzSgcRLn2L",
];

/// The workspace's labels by key: sources carry at most one value per key.
const KEYS: [(&str, &[&str]); 3] = [
    ("environment", &["dev", "prod"]),
    ("region", &["emea", "us"]),
    ("tier", &["gold"]),
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

fn source_id(k: usize) -> String {
    format!("src{k}")
}

/// One or two labels of distinct keys.
fn narrowing(rng: &mut Rng) -> Vec<Label> {
    let first = rng.below(KEYS.len());
    let mut keys = vec![first];
    if rng.percent(40) {
        keys.push((first + 1 + rng.below(KEYS.len() - 1)) % KEYS.len());
    }
    keys.into_iter()
        .map(|k| {
            let (key, values) = KEYS[k];
            Label::new(key, values[rng.below(values.len())])
        })
        .collect()
}

/// A permission of a random role on the workspace (plain or narrowed), a source, or both.
fn permission(rng: &mut Rng, sources: usize) -> PermissionInput {
    let mut resources = Vec::new();
    let on_workspace = rng.percent(70);
    if on_workspace {
        resources.push(PermissionResource {
            id: WORKSPACE.to_string(),
            resource_type: "WORKSPACE".into(),
            labels: if rng.percent(60) {
                narrowing(rng)
            } else {
                Vec::new()
            },
        });
    }
    if !on_workspace || rng.percent(25) {
        resources.push(PermissionResource {
            id: source_id(rng.below(sources)),
            resource_type: "SOURCE".into(),
            labels: Vec::new(),
        });
    }
    PermissionInput {
        role_id: ROLES[rng.below(ROLES.len())].to_string(),
        resources,
    }
}

/// A random workspace: 12 users (0 to 2 direct permissions each), 3 pending invitees, 5
/// groups (random members and invitees, 0 to 2 permissions), 8 sources with random labels.
fn fixture(seed: u64) -> Fixture {
    let mut rng = Rng(seed);
    let sources = 8;
    let labels = KEYS
        .iter()
        .flat_map(|(key, values)| values.iter().map(|v| Label::new(*key, *v)))
        .collect();
    let sources_out = (0..sources)
        .map(|k| FixtureSource {
            id: Some(source_id(k)),
            labels: KEYS
                .iter()
                .filter_map(|(key, values)| {
                    let pick = rng.below(values.len() + 1);
                    (pick < values.len()).then(|| Label::new(*key, values[pick]))
                })
                .collect(),
            ..FixtureSource::default()
        })
        .collect();
    let users: Vec<FixtureUser> = (0..12)
        .map(|i| FixtureUser {
            email: format!("person{i}@example.com"),
            name: format!("Person {i}"),
            permissions: (0..rng.below(3))
                .map(|_| permission(&mut rng, sources))
                .collect(),
            ..FixtureUser::default()
        })
        .collect();
    let invites: Vec<FixtureInvite> = (0..3)
        .map(|i| FixtureInvite {
            email: format!("invitee{i}@example.com"),
            ..FixtureInvite::default()
        })
        .collect();
    let groups = (0..5)
        .map(|g| FixtureGroup {
            name: format!("Team {g}"),
            members: users
                .iter()
                .map(|u| (u.email.clone(), 30))
                .chain(invites.iter().map(|i| (i.email.clone(), 40)))
                .filter(|(_, p)| rng.percent(*p))
                .map(|(email, _)| email)
                .collect(),
            permissions: (0..rng.below(3))
                .map(|_| permission(&mut rng, sources))
                .collect(),
            ..FixtureGroup::default()
        })
        .collect();
    Fixture {
        labels: Some(labels),
        sources: sources_out,
        users,
        invites,
        groups,
        ..Fixture::default()
    }
}

/// (email, user or invitee, via, role id, TYPE:id, labels `k:v` sorted).
type Row = (String, String, String, String, String, Vec<String>);

/// Every (subject, via, permission) of the fixture: direct permissions of users, group
/// permissions of each member (user or invitee).
fn holdings(fixture: &Fixture) -> Vec<(String, &'static str, String, &PermissionInput)> {
    let mut out = Vec::new();
    for user in &fixture.users {
        for p in &user.permissions {
            out.push((user.email.clone(), "user", "direct".to_string(), p));
        }
    }
    for group in &fixture.groups {
        for member in &group.members {
            let kind = if fixture.users.iter().any(|u| &u.email == member) {
                "user"
            } else {
                "invitee"
            };
            for p in &group.permissions {
                out.push((member.clone(), kind, format!("group:{}", group.name), p));
            }
        }
    }
    out
}

/// The rows of the fixture's grants on resources `reaches` keeps, by brute force.
fn expected(fixture: &Fixture, reaches: impl Fn(&PermissionResource) -> bool) -> BTreeSet<Row> {
    let mut rows = BTreeSet::new();
    for (email, kind, via, p) in holdings(fixture) {
        for r in p.resources.iter().filter(|r| reaches(r)) {
            let mut labels: Vec<String> = r.labels.iter().map(ToString::to_string).collect();
            labels.sort();
            labels.dedup();
            rows.insert((
                email.clone(),
                kind.to_string(),
                via.clone(),
                p.role_id.clone(),
                format!("{}:{}", r.resource_type, r.id),
                labels,
            ));
        }
    }
    rows
}

/// Who reaches `source`: grants on it, and workspace grants whose every label it carries.
fn reaching(fixture: &Fixture, source: &FixtureSource) -> BTreeSet<Row> {
    let id = source.id.clone().expect("fixture source ids are given");
    expected(fixture, |r| match r.resource_type.as_str() {
        "SOURCE" => r.id == id,
        "WORKSPACE" => r.id == WORKSPACE && r.labels.iter().all(|l| source.labels.contains(l)),
        _ => false,
    })
}

fn rows(report: &AuditReport) -> BTreeSet<Row> {
    report
        .rows
        .iter()
        .map(|r| {
            (
                r.email.clone(),
                match r.subject {
                    SubjectKind::User => "user".to_string(),
                    SubjectKind::Invitee => "invitee".to_string(),
                },
                r.via.to_string(),
                r.role_id.clone(),
                format!("{}:{}", r.resource_type, r.resource_id),
                r.labels.iter().map(ToString::to_string).collect(),
            )
        })
        .collect()
}

#[tokio::test]
async fn who_reaches_a_source_equals_a_brute_force_computation_over_random_workspaces() {
    let mut narrowed_rows = 0;
    let mut unreached_narrowed = 0;
    for seed in 0..SEEDS {
        let fixture = fixture(seed);
        let emu = start(emulator().fixture(fixture.clone())).await;
        let client = client(&emu);
        let state = emu.state();

        // Unfiltered: every grant, each with its labels.
        let all = audit(&client, &AuditFilter::new(), &AuditOptions::new())
            .await
            .expect("audit");
        assert_eq!(
            all.rows.len(),
            rows(&all).len(),
            "seed {seed}: no duplicates"
        );
        assert_eq!(rows(&all), expected(&fixture, |_| true), "seed {seed}");

        for source in &fixture.sources {
            let id = source.id.clone().expect("id");
            let want = reaching(&fixture, source);
            narrowed_rows += want.iter().filter(|r| !r.5.is_empty()).count();
            unreached_narrowed += expected(&fixture, |r| {
                r.resource_type == "WORKSPACE"
                    && !r.labels.iter().all(|l| source.labels.contains(l))
            })
            .len();

            emu.clear_journal();
            let report = audit(
                &client,
                &AuditFilter::new().resource(Resource::Given(ResourceType::Source, id.clone())),
                &AuditOptions::new(),
            )
            .await
            .expect("audit of a source");
            assert_eq!(rows(&report), want, "seed {seed}, {id}");
            assert_eq!(
                report.rows.len(),
                want.len(),
                "seed {seed}, {id}: no duplicates"
            );

            // Reads: the sources in one page (all 8 fit), and the listings of exactly the
            // groups with members one of whose grants reaches the source; counted honestly.
            let journal = emu.journal();
            assert_eq!(report.requests, journal.len() as u64, "seed {seed}, {id}");
            let count = |op: Operation| journal.iter().filter(|e| e.operation == Some(op)).count();
            assert_eq!(count(Operation::ListSources), 1, "seed {seed}, {id}");
            let listed = fixture
                .groups
                .iter()
                .filter(|g| {
                    let members = state
                        .groups
                        .iter()
                        .find(|s| s.name == g.name)
                        .map_or(0, |s| s.member_count);
                    let reaches = g.permissions.iter().any(|p| {
                        p.resources.iter().any(|r| match r.resource_type.as_str() {
                            "SOURCE" => r.id == id,
                            "WORKSPACE" => r.labels.iter().all(|l| source.labels.contains(l)),
                            _ => false,
                        })
                    });
                    members > 0 && reaches
                })
                .count();
            assert_eq!(
                count(Operation::ListUsersFromUserGroup),
                listed,
                "seed {seed}, {id}"
            );
            assert_eq!(
                count(Operation::ListInvitesFromUserGroup),
                listed,
                "seed {seed}, {id}"
            );
        }
    }
    // The random workspaces exercise both sides of the rule.
    assert!(narrowed_rows > 0, "some narrowed grant reaches some source");
    assert!(
        unreached_narrowed > 0,
        "some narrowed grant misses some source"
    );
}

#[tokio::test]
async fn an_unknown_source_is_a_typed_error_and_a_known_one_is_found_without_reading_every_page() {
    // 1001 sources: two pages of 1000.
    let emu = start(emulator().users(3).sources(1001)).await;
    let client = client(&emu);
    let listed: Vec<String> = client
        .sources()
        .list()
        .page_size(1000)
        .collect()
        .await
        .expect("sources")
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(listed.len(), 1001);
    let by_source = |id: &str| {
        AuditFilter::new().resource(Resource::Given(ResourceType::Source, id.to_string()))
    };

    for (id, pages) in [(&listed[0], 1), (&listed[1000], 2)] {
        emu.clear_journal();
        let report = audit(&client, &by_source(id), &AuditOptions::new())
            .await
            .expect("audit");
        let journal = emu.journal();
        let sources_read = journal
            .iter()
            .filter(|e| e.operation == Some(Operation::ListSources))
            .count();
        assert_eq!(sources_read, pages, "{id}: stops at the page holding it");
        assert_eq!(report.requests, journal.len() as u64);
        // Seeded user 1's plain Workspace Owner reaches every source, through the workspace.
        assert!(
            report.rows.iter().any(|r| r.role_id == OWNER_ROLE
                && r.resource_type == "WORKSPACE"
                && r.resource_id == WORKSPACE
                && r.labels.is_empty()),
            "{id}: {:?}",
            report.rows
        );
    }

    emu.clear_journal();
    let err = audit(&client, &by_source("no-such-source"), &AuditOptions::new())
        .await
        .expect_err("unknown source");
    match &err {
        Error::InvalidInput { field, reason } => {
            assert_eq!(field, "resource");
            assert!(reason.contains("no-such-source"), "{reason}");
        }
        other => panic!("expected InvalidInput, got {other:?}"),
    }
    let journal = emu.journal();
    assert!(
        journal.iter().all(|e| matches!(
            e.operation,
            Some(Operation::ListSources | Operation::GetWorkspace)
        )),
        "nothing but the source lookup is read"
    );
}
