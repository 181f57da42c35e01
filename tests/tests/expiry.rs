//! Expiry in the access file, end to end on the emulator: at a fixed clock, an expired
//! membership (in an exact and in an additive group), an expired direct grant and an expired
//! group grant are listed as expired and removed in exactly the minimum requests; a future
//! expiry is warned about and kept; a round trip with future expiries sends nothing; the
//! removal cap and the last-owner guard count expiry removals like any other.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use segment_iam::Client;
use segment_iam::email::key as email_key;
use segment_iam::guard::{Refusal, RemovalCap};
use segment_iam::jobs::read::ReadOptions;
use segment_iam_emulator::state::{DEFAULT_ROLES, PermissionInput, PermissionResource};
use segment_iam_emulator::{Fixture, FixtureGroup, FixtureUser, Operation};
use segment_iam_sync::{
    AccessFile, Action, ApplyOptions, Ending, Error, Live, Plan, PlanOptions, plan_with,
};
use segment_iam_tests::sync::{export_yaml, live, mutations, owner_permission};
use segment_iam_tests::{WORKSPACE, client, emulator, start};

/// 2027-04-01T00:00:00Z: every `expires: 2027-03-31` has just ended.
fn april() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_806_537_600)
}

fn on_workspace(role: &str) -> PermissionInput {
    let role_id = DEFAULT_ROLES
        .iter()
        .find(|(_, name, _)| *name == role)
        .map(|(id, _, _)| id.to_string())
        .expect("a default role");
    PermissionInput {
        role_id,
        resources: vec![PermissionResource {
            id: WORKSPACE.to_string(),
            resource_type: "WORKSPACE".to_string(),
            labels: vec![],
        }],
    }
}

fn person(email: &str, permissions: Vec<PermissionInput>) -> FixtureUser {
    FixtureUser {
        email: email.into(),
        permissions,
        ..FixtureUser::default()
    }
}

fn group(name: &str, members: &[&str], permissions: Vec<PermissionInput>) -> FixtureGroup {
    FixtureGroup {
        name: name.into(),
        members: members.iter().map(|m| m.to_string()).collect(),
        permissions,
        ..FixtureGroup::default()
    }
}

/// own@ owns the workspace; temp@ holds Source Admin directly; Exact holds ana@ and bo@,
/// Additive ana@, bo@ and cy@; Granted holds ana@ and dee@ with Source Read-only and
/// Source Admin.
fn workspace() -> Fixture {
    Fixture {
        users: vec![
            person("own@example.com", vec![owner_permission()]),
            person("temp@example.com", vec![on_workspace("Source Admin")]),
            person("ana@example.com", vec![]),
            person("bo@example.com", vec![]),
            person("cy@example.com", vec![]),
            person("dee@example.com", vec![]),
        ],
        groups: vec![
            group("Exact", &["ana@example.com", "bo@example.com"], vec![]),
            group(
                "Additive",
                &["ana@example.com", "bo@example.com", "cy@example.com"],
                vec![],
            ),
            group(
                "Granted",
                &["ana@example.com", "dee@example.com"],
                vec![
                    on_workspace("Source Read-only"),
                    on_workspace("Source Admin"),
                ],
            ),
        ],
        ..Fixture::default()
    }
}

/// The judged file: bo@'s membership of Exact, cy@'s of Additive, temp@'s Source Admin and
/// Granted's Source Admin end on 2027-03-31; dee@'s membership of Granted on 2027-04-05.
const FILE: &str = "version: 1
users:
  own@example.com:
    permissions:
      - role: Workspace Owner
        resources: [workspace]
  temp@example.com:
    permissions:
      - role: Source Admin
        resources: [workspace]
        expires: 2027-03-31
groups:
  Exact:
    members: [ana@example.com, {email: bo@example.com, expires: 2027-03-31}]
  Additive:
    members_mode: additive
    members:
      - ana@example.com
      - email: cy@example.com
        expires: 2027-03-31T23:59:59Z
  Granted:
    members: [ana@example.com, {email: dee@example.com, expires: 2027-04-05}]
    permissions:
      - role: Source Read-only
        resources: [workspace]
      - role: Source Admin
        resources: [workspace]
        expires: 2027-03-31
";

async fn plan_at(client: &Client, file: &AccessFile, options: &PlanOptions) -> Result<Plan, Error> {
    let live = Live::read_for(client, file, &ReadOptions::new()).await?;
    plan_with(file, &live, client, options)
}

fn parsed(yaml: &str) -> AccessFile {
    AccessFile::parse(yaml).expect("the file parses")
}

fn uncapped() -> ApplyOptions {
    ApplyOptions::new().removal_cap(RemovalCap::off())
}

/// The mutations the emulator received after the first `skip`, by operation.
fn sent_since(emu: &segment_iam_emulator::EmulatorHandle, skip: u64) -> Vec<Operation> {
    emu.journal()
        .iter()
        .filter(|e| e.method != "GET")
        .skip(usize::try_from(skip).expect("fits"))
        .filter_map(|e| e.operation)
        .collect()
}

#[tokio::test]
async fn expired_entries_are_listed_and_removed_in_the_minimum_requests_and_nothing_else() {
    let emu = start(emulator().fixture(workspace())).await;
    let client = client(&emu);
    let file = parsed(FILE);
    let options = PlanOptions::at(april());

    // An hour before, nothing has expired: nothing to do, five warnings (dee@'s too).
    let before = PlanOptions::at(april() - Duration::from_secs(3600));
    let early = plan_at(&client, &file, &before).await.expect("plan");
    assert!(early.is_empty() && early.expired.is_empty(), "{early}");
    assert_eq!(early.expiring.len(), 5, "{early}");

    let plan = plan_at(&client, &file, &options).await.expect("plan");
    let text = plan.to_string();
    assert_eq!(plan.expired.len(), 4, "{text}");
    let kinds: Vec<&Ending> = plan.expired.iter().map(|e| &e.entry).collect();
    assert!(
        matches!(kinds[0], Ending::UserPermission { email, .. } if email == "temp@example.com")
    );
    assert!(
        matches!(kinds[1], Ending::Member { group, email } if group == "Exact" && email == "bo@example.com")
    );
    assert!(
        matches!(kinds[2], Ending::Member { group, email } if group == "Additive" && email == "cy@example.com")
    );
    assert!(matches!(kinds[3], Ending::GroupPermission { group, .. } if group == "Granted"));
    // Each is removed by its own step, and every step removes an expired entry.
    let mut steps: Vec<usize> = plan.expired.iter().filter_map(|e| e.step).collect();
    steps.sort();
    assert_eq!(steps, [0, 1, 2, 3], "{text}");
    assert_eq!(plan.steps.len(), 4, "{text}");
    assert_eq!((plan.requests(), plan.removals()), (4, 4), "{text}");
    assert_eq!(
        text.matches("    expired on 2027-03-31").count(),
        4,
        "{text}"
    );
    // dee@'s membership ends within a week: kept, and warned about.
    assert_eq!(plan.expiring.len(), 1, "{text}");
    assert!(
        text.contains(
            "warning: expires on 2027-04-05: dee@example.com in group \"Granted\" (line 22); kept until then"
        ),
        "{text}"
    );
    assert!(
        !plan.steps.iter().any(|s| matches!(
            &s.action,
            Action::RemoveMembers { emails, .. } if emails.iter().any(|e| e.contains("dee"))
        )),
        "{text}"
    );

    let sent_before = mutations(&emu);
    let report = segment_iam_sync::apply(&client, &plan, &uncapped())
        .await
        .expect("applied");
    assert_eq!(report.mutations_done, 4);
    let mut sent = sent_since(&emu, sent_before);
    sent.sort_by_key(|o| format!("{o:?}"));
    assert_eq!(
        sent,
        [
            Operation::RemoveUsersFromUserGroup,
            Operation::RemoveUsersFromUserGroup,
            Operation::ReplacePermissionsForUser,
            Operation::ReplacePermissionsForUserGroup,
        ]
    );

    let after = live(&client).await;
    let members = |name: &str| -> Vec<String> {
        let g = after.groups.iter().find(|g| g.name == name).expect("group");
        let mut m: Vec<String> = g.members.iter().map(|e| email_key(e)).collect();
        m.sort();
        m
    };
    assert_eq!(members("Exact"), ["ana@example.com"]);
    assert_eq!(
        members("Additive"),
        ["ana@example.com", "bo@example.com"],
        "bo@ is not the file's to remove"
    );
    assert_eq!(members("Granted"), ["ana@example.com", "dee@example.com"]);
    let granted = after
        .groups
        .iter()
        .find(|g| g.name == "Granted")
        .expect("group");
    assert_eq!(granted.grants.len(), 1);
    let temp = after
        .users
        .iter()
        .find(|u| u.email == "temp@example.com")
        .expect("temp@ stays a user");
    assert!(temp.grants.is_empty());
    assert_eq!(after.users.len(), 6, "nobody is deleted for an expiry");

    // The same clock again: nothing to send, and the file's stale entries are pointed out.
    let again = plan_at(&client, &file, &options).await.expect("plan");
    assert!(again.is_empty(), "{again}");
    assert!(again.expired.iter().all(|e| e.step.is_none()));
    let report = segment_iam_sync::apply(&client, &again, &uncapped())
        .await
        .expect("applied");
    assert_eq!(report.mutations_done, 0);
    assert_eq!(mutations(&emu), sent_before + 4);
}

#[tokio::test]
async fn a_round_trip_with_future_expiries_sends_nothing_and_export_writes_none() {
    let emu = start(emulator().fixture(workspace())).await;
    let client = client(&emu);
    let exported = export_yaml(&client).await;
    assert!(!exported.contains("expires"), "{exported}");
    let mut file = parsed(&exported);
    for (_, user) in file.users.0.iter_mut() {
        for p in &mut user.permissions {
            *p = p.clone().expires("2027-04-03");
        }
    }
    for (_, group) in file.groups.0.iter_mut() {
        for p in &mut group.permissions {
            *p = p.clone().expires("2027-06-01T12:00:00+02:00");
        }
        for m in &mut group.members {
            *m = m.clone().expires("2027-04-10");
        }
    }
    // Written and read back, as an operator would keep it.
    let file = parsed(&file.to_yaml().expect("writes"));
    let plan = plan_at(&client, &file, &PlanOptions::at(april()))
        .await
        .expect("plan");
    assert!(plan.is_empty() && plan.expired.is_empty(), "{plan}");
    // Only own@'s and temp@'s grants end within a week (2027-04-03).
    assert_eq!(plan.expiring.len(), 2, "{plan}");
    let wide = PlanOptions::at(april()).warn_expiring(Duration::from_secs(90 * 86_400));
    let warned = plan_at(&client, &file, &wide).await.expect("plan");
    assert!(warned.is_empty());
    assert_eq!(
        warned.expiring.len(),
        2 + 2 + 7,
        "every dated entry: {warned}"
    );
    let sent = mutations(&emu);
    let report = segment_iam_sync::apply(&client, &plan, &uncapped())
        .await
        .expect("applied");
    assert_eq!((report.mutations_done, mutations(&emu)), (0, sent));
}

#[tokio::test]
async fn the_removal_cap_counts_expiry_removals() {
    let emu = start(emulator().fixture(workspace())).await;
    let client = client(&emu);
    let plan = plan_at(&client, &parsed(FILE), &PlanOptions::at(april()))
        .await
        .expect("plan");
    assert_eq!(plan.removals(), 4);
    let sent = mutations(&emu);
    let capped = ApplyOptions::new().removal_cap(RemovalCap::at(3));
    match segment_iam_sync::apply(&client, &plan, &capped).await {
        Err(Error::Refused(Refusal::RemovalCap { .. })) => {}
        other => panic!("{other:?}"),
    }
    assert_eq!(mutations(&emu), sent, "refused before sending");
    let exact = ApplyOptions::new().removal_cap(RemovalCap::at(4));
    let report = segment_iam_sync::apply(&client, &plan, &exact)
        .await
        .expect("within the cap");
    assert_eq!(report.mutations_done, 4);
}

#[tokio::test]
async fn an_expiry_that_would_remove_the_last_owner_is_refused() {
    let emu = start(emulator().fixture(workspace())).await;
    let client = client(&emu);
    let owner_ends = FILE.replace(
        "      - role: Workspace Owner\n        resources: [workspace]\n",
        "      - role: Workspace Owner\n        resources: [workspace]\n        expires: 2027-03-31\n",
    );
    let file = parsed(&owner_ends);
    let before = plan_at(
        &client,
        &file,
        &PlanOptions::at(april() - Duration::from_secs(1)),
    )
    .await
    .expect("still owned");
    assert_eq!(before.expiring.len(), 5, "{before}");
    match plan_at(&client, &file, &PlanOptions::at(april())).await {
        Err(Error::Refused(Refusal::LastOwner { owners })) => {
            assert_eq!(owners, ["own@example.com"]);
        }
        other => panic!("{other:?}"),
    }
}
