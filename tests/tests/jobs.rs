//! The library jobs end to end against the emulator: `offboard` (fewest DELETEs, no per-group
//! removals, last-owner guard — where only a plain Workspace Owner counts, not one narrowed by
//! labels —, convergence after an interruption) and `audit` (rows equal a brute-force
//! computation from the emulator's state, in the fewest reads).

use std::collections::{BTreeSet, HashSet};

use segment_iam::guard::Refusal;
use segment_iam::jobs::audit::{AuditFilter, AuditNote, AuditOptions, SubjectKind, Via, audit};
use segment_iam::jobs::offboard::{self, OffboardOptions};
use segment_iam::jobs::{JobOptions, Progress};
use segment_iam::{Error, Grant, Label, Resource};
use segment_iam_emulator::{Fault, Fixture, FixtureGroup, FixtureUser, Operation};
use segment_iam_tests::{OWNER_ROLE, WORKSPACE, client, client_builder, emulator, start};

fn email(i: usize) -> String {
    format!("person{i}@example.com")
}

/// 60 people; group `g` (0..20) holds person `i` when `i % 20 == g` or `i % 7 == g % 7`, so
/// the 50 leavers are spread over all 20 groups, most in two or three.
fn spread_fixture() -> Fixture {
    let users = (0..60)
        .map(|i| FixtureUser {
            email: email(i),
            name: format!("Person {i}"),
            ..FixtureUser::default()
        })
        .collect();
    let groups = (0..20)
        .map(|g| FixtureGroup {
            name: format!("Team {g}"),
            members: (0..60)
                .filter(|i| i % 20 == g || i % 7 == g % 7)
                .map(email)
                .collect(),
            ..FixtureGroup::default()
        })
        .collect();
    Fixture {
        users,
        groups,
        ..Fixture::default()
    }
}

/// How many requests `userIds.0=..&userIds.1=..` for `ids` needs under `max_url_len`, packed
/// greedily — computed here from the URL text itself, independently of the client's planner.
fn expected_chunks(
    base: &str,
    path: &str,
    name: &str,
    ids: &[String],
    max_url_len: usize,
) -> usize {
    let mut chunks = 0;
    let mut url = String::new();
    let mut index = 0;
    for id in ids {
        let candidate = if index == 0 {
            format!("{base}{path}?{name}.0={id}")
        } else {
            format!("{url}&{name}.{index}={id}")
        };
        if index > 0 && candidate.len() > max_url_len {
            chunks += 1;
            url = format!("{base}{path}?{name}.0={id}");
            index = 1;
        } else {
            if index == 0 {
                chunks += 1;
            }
            url = candidate;
            index += 1;
        }
    }
    chunks
}

#[tokio::test]
async fn offboarding_50_people_over_20_groups_sends_only_url_limited_deletes() {
    let emu = start(emulator().fixture(spread_fixture()).invites(2)).await;
    let max_url_len = 400;
    let client = client_builder(&emu)
        .max_url_len(max_url_len)
        .build()
        .expect("client");
    let mut leaving: Vec<String> = (0..50).map(email).collect();
    leaving.push("invitee1@example.com".into());
    leaving.push("nobody@example.com".into());
    leaving.push("PERSON3@example.com".into()); // the same person, asked twice

    let options = OffboardOptions::default();
    let plan = offboard::plan(&client, leaving.clone(), &options)
        .await
        .expect("plan");
    assert_eq!(plan.users.len(), 50);
    assert_eq!(
        plan.invites
            .iter()
            .map(|i| i.email.as_str())
            .collect::<Vec<_>>(),
        ["invitee1@example.com"]
    );
    assert_eq!(plan.unmatched, ["nobody@example.com"]);
    let state = emu.state();
    for leaver in &plan.users {
        let mut groups: Vec<String> = state
            .groups
            .iter()
            .filter(|g| g.users.contains(&leaver.id))
            .map(|g| g.name.clone())
            .collect();
        groups.sort();
        assert_eq!(leaver.groups, groups, "{}", leaver.email);
    }
    assert!(
        emu.journal().iter().all(|e| e.method == "GET"),
        "planning only reads"
    );

    let ids: Vec<String> = plan.users.iter().map(|u| u.id.clone()).collect();
    let base = emu.base_url();
    let user_deletes = expected_chunks(&base, "/users", "userIds", &ids, max_url_len);
    assert!(user_deletes > 1, "the URL limit splits the deletion");
    assert_eq!(plan.mutations, user_deletes as u64 + 1);

    emu.clear_journal();
    let report = offboard::execute(&client, &plan, &options)
        .await
        .expect("offboarded");
    assert_eq!(report.users_deleted.len(), 50);
    assert_eq!(report.invites_withdrawn, ["invitee1@example.com"]);
    let sent: Vec<Option<Operation>> = emu.journal().iter().map(|e| e.operation).collect();
    let mut expected = vec![Some(Operation::DeleteUsers); user_deletes];
    expected.push(Some(Operation::DeleteInvites));
    assert_eq!(sent, expected, "no per-group removal, nothing else");

    let after = emu.state();
    let gone: HashSet<&String> = ids.iter().collect();
    assert!(after.users.iter().all(|u| !gone.contains(&u.id)));
    assert_eq!(after.users.len(), 10);
    for group in &after.groups {
        assert!(
            group.users.iter().all(|u| !gone.contains(u)),
            "{}",
            group.name
        );
        assert!(!group.invites.contains(&"invitee1@example.com".to_string()));
    }

    // Running it again finds nobody and sends nothing.
    emu.clear_journal();
    let again = offboard::plan(&client, leaving, &options)
        .await
        .expect("plan");
    assert!(again.is_empty(), "{again:?}");
    assert_eq!(again.mutations, 0);
    let report = offboard::execute(&client, &again, &options)
        .await
        .expect("no-op");
    assert_eq!(report.requests, 0);
    assert!(emu.journal().iter().all(|e| e.method == "GET"));
}

#[tokio::test]
async fn the_last_workspace_owner_is_not_removed_without_the_override() {
    // Seeded user 1 holds Workspace Owner on the workspace, and nobody else does.
    let emu = start(emulator().users(5).groups(2)).await;
    let client = client(&emu);
    let owner = emu.state().users[0].email.clone();
    assert!(
        emu.state().users[0]
            .permissions
            .iter()
            .any(|p| p.role_id == OWNER_ROLE && p.resources.iter().any(|r| r.id == WORKSPACE))
    );
    let options = OffboardOptions::default();
    let plan = offboard::plan(
        &client,
        [owner.clone(), "user2@example.com".to_string()],
        &options,
    )
    .await
    .expect("plan");
    assert!(plan.removes_last_owner);
    assert_eq!(plan.owners_remaining, 0);
    assert_eq!(
        plan.owners,
        std::slice::from_ref(&owner),
        "the plan says who owns the workspace"
    );
    // The check a caller makes before asking is the one `execute` makes before sending.
    assert_eq!(
        plan.check_guard(&options),
        Err(Refusal::LastOwner {
            owners: vec![owner.clone()]
        })
    );
    assert_eq!(
        plan.check_guard(&OffboardOptions::new().allow_owner_removal(true)),
        Ok(())
    );
    emu.clear_journal();
    let err = offboard::execute(&client, &plan, &options)
        .await
        .expect_err("guarded");
    assert!(
        matches!(&err, Error::Refused(Refusal::LastOwner { owners }) if owners.as_slice() == std::slice::from_ref(&owner)),
        "{err:?}"
    );
    assert!(emu.journal().is_empty(), "nothing sent");

    // Another owner through a group lifts the guard.
    let group = client.groups().create("Owners").await.expect("group").id;
    client
        .groups()
        .add_permissions(
            &group,
            [segment_iam::Permission::role("Workspace Owner").on(Resource::ThisWorkspace)],
        )
        .await
        .expect("group owns");
    client
        .groups()
        .add_members(&group, ["user3@example.com"])
        .await
        .expect("member");
    let plan = offboard::plan(&client, [owner.clone()], &options)
        .await
        .expect("plan");
    assert!(!plan.removes_last_owner);
    assert_eq!(plan.owners_remaining, 1);
    let mut owners = vec![owner.clone(), "user3@example.com".to_string()];
    owners.sort();
    assert_eq!(plan.owners, owners, "owners through a group count");

    // The override removes the last owner when asked to.
    let plan = offboard::plan(&client, [owner, "user3@example.com".into()], &options)
        .await
        .expect("plan");
    assert!(plan.removes_last_owner);
    let allow = OffboardOptions::new().allow_owner_removal(true);
    offboard::execute(&client, &plan, &allow)
        .await
        .expect("allowed");
    assert_eq!(emu.user_count(), 3);
}

/// Workspace Owner on this workspace narrowed by environment:prod: it reaches the prod
/// sources only, so it owns nothing.
fn prod_owner() -> segment_iam::Permission {
    segment_iam::Permission::role("Workspace Owner").on_narrowed(
        Resource::ThisWorkspace,
        ["environment:prod".parse::<Label>().expect("label")],
    )
}

/// Plain Workspace Owner on this workspace.
fn plain_owner() -> segment_iam::Permission {
    segment_iam::Permission::role("Workspace Owner").on(Resource::ThisWorkspace)
}

/// Whether the service shows `user` holding Workspace Owner narrowed by environment:prod (so
/// a test's narrowed owner really is one, not a plain owner by a dropped label).
async fn holds_prod_owner(client: &segment_iam::Client, user: &str) -> bool {
    let user = client.users().get(user).await.expect("user");
    let narrowed = Grant::new(OWNER_ROLE, "WORKSPACE", WORKSPACE)
        .narrowed(["environment:prod".parse::<Label>().expect("label")]);
    Grant::of_permissions(&user.permissions).contains(&narrowed)
}

/// A group named `name` granting `permission`, with `members`.
async fn group_granting(
    client: &segment_iam::Client,
    name: &str,
    permission: segment_iam::Permission,
    members: &[&str],
) -> String {
    let group = client.groups().create(name).await.expect("group").id;
    client
        .groups()
        .add_permissions(&group, [permission])
        .await
        .expect("group permission");
    client
        .groups()
        .add_members(&group, members)
        .await
        .expect("members");
    group
}

#[tokio::test]
async fn the_only_plain_owner_is_not_offboarded_while_only_a_narrowed_owner_remains() {
    // Seeded user 1 is the only plain owner; user 2 gets Workspace Owner narrowed by prod.
    let emu = start(emulator().users(5).groups(2)).await;
    let client = client(&emu);
    let state = emu.state();
    let (owner, narrowed) = (&state.users[0], &state.users[1]);
    client
        .users()
        .add_permissions(&narrowed.id, [prod_owner()])
        .await
        .expect("narrowed owner");
    assert!(holds_prod_owner(&client, &narrowed.id).await);

    let options = OffboardOptions::default();
    let plan = offboard::plan(&client, [owner.email.clone()], &options)
        .await
        .expect("plan");
    assert_eq!(
        plan.owners,
        std::slice::from_ref(&owner.email),
        "the narrowed owner is no owner"
    );
    assert_eq!(plan.owners_remaining, 0);
    assert!(plan.removes_last_owner);
    assert!(plan.users[0].owner);
    let refusal = Refusal::LastOwner {
        owners: vec![owner.email.clone()],
    };
    assert_eq!(plan.check_guard(&options), Err(refusal.clone()));
    emu.clear_journal();
    let err = offboard::execute(&client, &plan, &options)
        .await
        .expect_err("guarded");
    assert!(
        matches!(&err, Error::Refused(r) if *r == refusal),
        "{err:?}"
    );
    assert!(emu.journal().is_empty(), "nothing sent");
    assert_eq!(emu.user_count(), 5);

    // The narrowed owner is no owner to offboard either: leaving is allowed.
    let plan = offboard::plan(&client, [narrowed.email.clone()], &options)
        .await
        .expect("plan");
    assert!(!plan.users[0].owner);
    assert!(!plan.removes_last_owner);
    assert_eq!(plan.owners_remaining, 1);
}

#[tokio::test]
async fn a_group_granting_a_narrowed_owner_does_not_keep_the_last_owner_but_a_plain_one_does() {
    let emu = start(emulator().users(5).groups(2)).await;
    let client = client(&emu);
    let state = emu.state();
    let owner = state.users[0].email.clone();
    let (second, third) = (state.users[1].email.clone(), state.users[2].email.clone());
    let options = OffboardOptions::default();

    group_granting(&client, "Prod owners", prod_owner(), &[&second]).await;
    let plan = offboard::plan(&client, [owner.clone()], &options)
        .await
        .expect("plan");
    assert_eq!(plan.owners, std::slice::from_ref(&owner));
    assert!(plan.removes_last_owner);
    emu.clear_journal();
    let err = offboard::execute(&client, &plan, &options)
        .await
        .expect_err("guarded");
    assert!(
        matches!(&err, Error::Refused(Refusal::LastOwner { owners }) if *owners == [owner.clone()]),
        "{err:?}"
    );
    assert!(emu.journal().is_empty(), "nothing sent");

    group_granting(&client, "Owners", plain_owner(), &[&third]).await;
    let plan = offboard::plan(&client, [owner.clone()], &options)
        .await
        .expect("plan");
    let mut owners = vec![owner.clone(), third];
    owners.sort();
    assert_eq!(plan.owners, owners, "only the plain owner group's member");
    assert_eq!(plan.owners_remaining, 1);
    assert!(!plan.removes_last_owner);
    emu.clear_journal();
    let report = offboard::execute(&client, &plan, &options)
        .await
        .expect("allowed");
    assert_eq!(report.users_deleted, [owner]);
    let sent: Vec<Option<Operation>> = emu.journal().iter().map(|e| e.operation).collect();
    assert_eq!(sent, [Some(Operation::DeleteUsers)]);
}

#[tokio::test]
async fn with_a_second_plain_owner_one_plain_owner_may_be_offboarded() {
    let emu = start(emulator().users(5).groups(2)).await;
    let client = client(&emu);
    let state = emu.state();
    let (owner, narrowed, second) = (&state.users[0], &state.users[1], &state.users[3]);
    client
        .users()
        .add_permissions(&narrowed.id, [prod_owner()])
        .await
        .expect("narrowed owner");
    client
        .users()
        .add_permissions(&second.id, [plain_owner()])
        .await
        .expect("second owner");
    let options = OffboardOptions::default();
    let plan = offboard::plan(&client, [owner.email.clone()], &options)
        .await
        .expect("plan");
    let mut owners = vec![owner.email.clone(), second.email.clone()];
    owners.sort();
    assert_eq!(plan.owners, owners, "plain owners only");
    assert_eq!(plan.owners_remaining, 1);
    assert!(!plan.removes_last_owner);
    assert_eq!(plan.check_guard(&options), Ok(()));
    emu.clear_journal();
    offboard::execute(&client, &plan, &options)
        .await
        .expect("allowed");
    let sent: Vec<Option<Operation>> = emu.journal().iter().map(|e| e.operation).collect();
    assert_eq!(sent, [Some(Operation::DeleteUsers)]);
    assert!(emu.state().users.iter().all(|u| u.id != owner.id));
}

#[tokio::test]
async fn an_offboarding_interrupted_half_way_converges_on_the_next_run() {
    let emu = start(emulator().fixture(spread_fixture())).await;
    let client = client_builder(&emu)
        .max_url_len(300)
        .build()
        .expect("client");
    let leaving: Vec<String> = (0..40).map(email).collect();
    let options = OffboardOptions::default();
    let plan = offboard::plan(&client, leaving.clone(), &options)
        .await
        .expect("plan");
    assert!(plan.mutations >= 3, "{}", plan.mutations);
    // The first chunk goes through; every later one fails for good.
    emu.inject(
        Fault::status(503)
            .on_operation(Operation::DeleteUsers)
            .skip_first(1)
            .always(),
    );
    let err = offboard::execute(&client, &plan, &options)
        .await
        .expect_err("interrupted");
    let Error::Partial {
        applied,
        not_applied,
        ..
    } = &err
    else {
        panic!("expected Partial, got {err:?}");
    };
    assert!(!applied.is_empty() && !not_applied.is_empty());
    assert_eq!(applied.len() + not_applied.len(), 40);
    let deleted_first: HashSet<String> = applied.iter().map(|e| e.to_lowercase()).collect();
    emu.clear_faults();

    let second = offboard::plan(&client, leaving, &options)
        .await
        .expect("replan");
    assert_eq!(second.users.len(), not_applied.len());
    assert!(
        second
            .users
            .iter()
            .all(|u| !deleted_first.contains(&u.email))
    );
    offboard::execute(&client, &second, &options)
        .await
        .expect("finished");
    assert_eq!(emu.user_count(), 20);
    // Every person was deleted by exactly one applied request.
    let applied_ids: Vec<String> = emu
        .journal_for(Operation::DeleteUsers)
        .into_iter()
        .filter(|e| e.applied)
        .flat_map(|e| {
            e.query
                .split('&')
                .filter_map(|pair| pair.split_once('=').map(|(_, v)| v.to_string()))
                .collect::<Vec<_>>()
        })
        .collect();
    let distinct: HashSet<&String> = applied_ids.iter().collect();
    assert_eq!(applied_ids.len(), 40);
    assert_eq!(distinct.len(), 40);
}

/// One audit row in comparable form.
type Row = (String, String, String, String, String, String);

#[tokio::test]
async fn audit_rows_equal_a_brute_force_computation_in_the_fewest_reads() {
    let emu = start(emulator().users(500).groups(30).invites(12)).await;
    let client = client(&emu);
    // Give some access beyond the seed: a direct grant and an owner group.
    let ids = emu.user_ids();
    client
        .users()
        .add_permissions(
            &ids[10],
            [segment_iam::Permission::role("Source Admin").on(Resource::ThisWorkspace)],
        )
        .await
        .expect("grant");
    let groups = emu.group_ids();
    client
        .groups()
        .replace_permissions(&groups[3], [])
        .await
        .expect("a group without permissions");

    let state = emu.state();
    let mut expected: BTreeSet<Row> = BTreeSet::new();
    for user in &state.users {
        for p in &user.permissions {
            for r in &p.resources {
                expected.insert((
                    user.email.clone(),
                    "user".into(),
                    "direct".into(),
                    p.role_id.clone(),
                    r.resource_type.clone(),
                    r.id.clone(),
                ));
            }
        }
    }
    for group in &state.groups {
        let members = group
            .users
            .iter()
            .map(|id| {
                let email = state
                    .users
                    .iter()
                    .find(|u| &u.id == id)
                    .map(|u| u.email.clone())
                    .expect("member is a user");
                (email, "user")
            })
            .chain(group.invites.iter().map(|e| (e.clone(), "invitee")));
        for (email, kind) in members {
            for p in &group.permissions {
                for r in &p.resources {
                    expected.insert((
                        email.clone(),
                        kind.into(),
                        format!("group:{}", group.name),
                        p.role_id.clone(),
                        r.resource_type.clone(),
                        r.id.clone(),
                    ));
                }
            }
        }
    }

    emu.clear_journal();
    let progress = Progress::new();
    let report = audit(
        &client,
        &AuditFilter::new(),
        &AuditOptions::new().progress(progress.clone()),
    )
    .await
    .expect("audit");
    let got: BTreeSet<Row> = report
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
                r.resource_type.clone(),
                r.resource_id.clone(),
            )
        })
        .collect();
    assert_eq!(got.len(), report.rows.len(), "no duplicate rows");
    assert_eq!(got, expected);
    // Each pending invite is a note (its permissions cannot be read), never a row.
    let mut invited: Vec<String> = state.invites.iter().map(|i| i.email.clone()).collect();
    invited.sort();
    let noted = |report: &segment_iam::jobs::audit::AuditReport| -> Vec<String> {
        report
            .notes
            .iter()
            .map(|n| match n {
                AuditNote::InvitePermissionsUnreadable { email } => email.clone(),
                other => panic!("unexpected note {other:?}"),
            })
            .collect()
    };
    assert_eq!(invited.len(), 12);
    assert_eq!(noted(&report), invited);

    // The fewest reads: users, groups and invites (one page each at 1000), then a member and
    // an invitee listing per group that holds a permission and has members.
    let listed: usize = state
        .groups
        .iter()
        .filter(|g| !g.permissions.is_empty() && g.member_count > 0)
        .count();
    assert!((1..30).contains(&listed), "{listed}");
    assert_eq!(emu.journal().len(), 3 + 2 * listed);
    assert_eq!(report.requests, (3 + 2 * listed) as u64);
    assert_eq!(
        (progress.done(), progress.total()),
        (listed as u64, listed as u64)
    );

    // Filters: one role by name, on this workspace, for one person.
    emu.clear_journal();
    let owner_rows = audit(
        &client,
        &AuditFilter::new()
            .role("workspace owner")
            .resource(Resource::ThisWorkspace),
        &AuditOptions::new(),
    )
    .await
    .expect("filtered");
    let expected_owners: BTreeSet<&Row> = expected
        .iter()
        .filter(|r| r.3 == OWNER_ROLE && r.4 == "WORKSPACE" && r.5 == WORKSPACE)
        .collect();
    assert_eq!(owner_rows.rows.len(), expected_owners.len());
    assert_eq!(
        noted(&owner_rows),
        invited,
        "a role filter still notes every invite it cannot see into"
    );
    assert!(
        owner_rows
            .rows
            .iter()
            .all(|r| r.via == Via::Direct || matches!(r.via, Via::Group { .. }))
    );
    let person = ids[10].clone();
    let email10 = state
        .users
        .iter()
        .find(|u| u.id == person)
        .map(|u| u.email.to_uppercase());
    let mine = audit(
        &client,
        &AuditFilter::new().emails(email10),
        &AuditOptions::new(),
    )
    .await
    .expect("one person");
    assert!(
        mine.rows
            .iter()
            .any(|r| r.role_name == "Source Admin" && r.via == Via::Direct)
    );
    assert!(
        mine.rows
            .iter()
            .all(|r| r.user_id.as_deref() == Some(person.as_str()))
    );
    assert!(mine.notes.is_empty(), "the email filter keeps no invitee");

    let err = audit(
        &client,
        &AuditFilter::new().role("Nope Role"),
        &AuditOptions::new(),
    )
    .await
    .expect_err("unknown role");
    assert!(matches!(err, Error::UnknownRole { .. }), "{err:?}");
}

/// Every job's options carry the shared run settings: the same setters, the same defaults.
#[test]
fn every_jobs_options_share_the_run_setters_and_their_defaults() {
    use segment_iam::jobs::DEFAULT_CONCURRENCY;
    use segment_iam::jobs::read::ReadOptions;
    fn check<O: JobOptions + Default>(name: &str) {
        assert_eq!(
            O::default().run().concurrency(),
            DEFAULT_CONCURRENCY,
            "{name}"
        );
        assert_eq!(O::default().concurrency(0).run().concurrency(), 1, "{name}");
        let progress = Progress::new();
        let options = O::default().concurrency(3).progress(progress.clone());
        progress.add_total(2);
        assert_eq!(options.run().concurrency(), 3, "{name}");
        assert_eq!(
            options.run().progress().total(),
            2,
            "{name}: shares the counter"
        );
    }
    check::<ReadOptions>("read");
    check::<AuditOptions>("audit");
    check::<OffboardOptions>("offboard");
    assert!(!OffboardOptions::new().concurrency(2).allow_owner_removal);
}
