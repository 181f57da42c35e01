//! Drift explained from the audit trail (`segment_iam_sync::explain`): changes made out of band
//! with a second token, named for bo@example.com, are explained by bo and the events' times
//! (one `listAuditEvents` listing per resource, counted); an empty plan reads nothing; a
//! workspace without the audit trail is the typed error; the page cap stops a listing and says
//! so.

use segment_iam::jobs::JobOptions;
use segment_iam::{Client, Error as ApiError, Permission, Resource};
use segment_iam_emulator::{EmulatorHandle, Operation};
use segment_iam_sync::explain::{Drift, Finding, when};
use segment_iam_sync::{ExplainOptions, Explained, Explanations, Plan};
use segment_iam_tests::sync::{plan as plan_file, plan_and_apply};
use segment_iam_tests::{client, client_builder, emulator, start};

const BO: &str = "T-bo-4f1e";

/// The file: user1 owns the workspace, user3 holds nothing directly, Analysts is user2 alone,
/// and an empty group Old exists.
const FILE: &str = "version: 1
users:
  user1@example.com:
    permissions:
      - role: Workspace Owner
        resources: [workspace]
  user3@example.com: {}
groups:
  Analysts:
    members: [user2@example.com]
  Old:
    members: []
";

fn bo(emu: &EmulatorHandle) -> Client {
    client_builder(emu).token(BO).build().expect("bo's client")
}

fn audit_reads(emu: &EmulatorHandle) -> usize {
    emu.journal_for(Operation::ListAuditEvents).len()
}

/// The findings of the plan's steps, flattened.
fn findings<'a>(plan: &Plan, x: &'a Explanations) -> Vec<&'a Finding> {
    (0..plan.steps.len()).flat_map(|i| x.for_step(i)).collect()
}

/// The emulator's own record of bo's event of this type, to compare against.
fn recorded(emu: &EmulatorHandle, event: &str) -> segment_iam_emulator::state::AuditEvent {
    let audit = emu.state().audit;
    let matching: Vec<_> = audit
        .into_iter()
        .filter(|e| e.event == event && e.actor == "bo@example.com")
        .collect();
    assert_eq!(matching.len(), 1, "{event}: {matching:?}");
    matching.into_iter().next().expect("one")
}

/// Minutes of the emulator's instant, as `explain::when` writes them.
fn minute(at: std::time::SystemTime) -> String {
    let t = segment_iam::time::format_rfc3339(at);
    format!("{} {} UTC", &t[..10], &t[11..16])
}

#[tokio::test]
async fn out_of_band_changes_are_explained_by_who_made_them_and_when() {
    let emu = start(emulator().users(3).token_for(BO, "bo@example.com")).await;
    let me = client(&emu);
    plan_and_apply(&me, FILE).await.expect("the file applies");
    let groups = emu.state().groups;
    let id_of = |name: &str| {
        groups
            .iter()
            .find(|g| g.name == name)
            .map(|g| g.id.clone())
            .expect("group")
    };
    let (analysts, old) = (id_of("Analysts"), id_of("Old"));

    // Out of band, as bo: a member, a direct grant, a group deleted.
    let bo = bo(&emu);
    bo.groups()
        .add_members(&analysts, ["user3@example.com"])
        .await
        .expect("bo adds a member");
    let user3 = emu
        .state()
        .users
        .iter()
        .find(|u| u.email == "user3@example.com")
        .map(|u| u.id.clone())
        .expect("user3");
    bo.users()
        .add_permissions(
            &user3,
            [Permission::role("Source Read-only").on(Resource::ThisWorkspace)],
        )
        .await
        .expect("bo grants");
    bo.groups().delete(&old).await.expect("bo deletes Old");

    let plan = plan_file(&me, FILE).await.expect("planned");
    assert_eq!(plan.steps.len(), 3, "{plan}");
    let before = audit_reads(&emu);
    let x = segment_iam_sync::explain(&me, &plan, &ExplainOptions::new())
        .await
        .expect("explained");
    assert_eq!(x.requests, 3, "Analysts, user3, the whole trail for Old");
    assert_eq!(audit_reads(&emu) - before, 3);

    let found = findings(&plan, &x);
    let drifts: Vec<Drift> = found.iter().map(|f| f.drift).collect();
    let mut sorted = drifts.clone();
    sorted.sort_by_key(|d| format!("{d:?}"));
    assert_eq!(
        sorted,
        [Drift::GrantsAdded, Drift::GroupDeleted, Drift::MembersAdded],
        "{drifts:?}"
    );
    let text = Explained {
        plan: &plan,
        explanations: &x,
    }
    .to_string();
    for (drift, event_type) in [
        (Drift::MembersAdded, "Subjects Added to Group"),
        (Drift::GrantsAdded, "User Policy Updated"),
        (Drift::GroupDeleted, "User Group Deleted"),
    ] {
        let finding = found.iter().find(|f| f.drift == drift).expect("found");
        let event = finding.event.as_ref().expect("an event explains it");
        let truth = recorded(&emu, event_type);
        assert_eq!(event.id, truth.id, "{drift:?}: {event:?}");
        assert_eq!(event.actor_email.as_deref(), Some("bo@example.com"));
        assert_eq!(when(event), minute(truth.at));
        assert!(!finding.capped);
        let line = format!("by bo@example.com on {}", minute(truth.at));
        assert!(finding.to_string().contains(&line), "{finding}");
        assert!(text.contains(&format!("    why: {finding}\n")), "{text}");
    }
    assert!(
        text.contains("members added to group \"Analysts\" by bo@example.com on "),
        "{text}"
    );
    assert!(
        text.ends_with("Explained from the audit trail: read 3 requests.\n"),
        "{text}"
    );

    // Applied, the plan is empty: explaining it reads nothing.
    plan_and_apply(&me, FILE).await.expect("converges");
    let empty = plan_file(&me, FILE).await.expect("planned");
    assert!(empty.is_empty(), "{empty}");
    let before = audit_reads(&emu);
    let none = segment_iam_sync::explain(&me, &empty, &ExplainOptions::new())
        .await
        .expect("nothing to explain");
    assert_eq!(none, Explanations::default());
    assert_eq!(audit_reads(&emu), before, "no audit-event request");
}

#[tokio::test]
async fn a_missing_group_never_deleted_is_unexplained_and_the_page_cap_says_so() {
    let emu = start(emulator().users(3)).await;
    let me = client(&emu);
    plan_and_apply(&me, FILE).await.expect("the file applies");
    let file = format!("{FILE}  Ghost:\n    members: []\n");
    let plan = plan_file(&me, &file).await.expect("planned");
    assert_eq!(plan.steps.len(), 1, "{plan}");
    let trail = emu.state().audit.len();
    assert!(trail > 2, "more events than the cap reads: {trail}");

    let before = audit_reads(&emu);
    let options = ExplainOptions::new().page_size(1).max_pages(2);
    let x = segment_iam_sync::explain(&me, &plan, &options)
        .await
        .expect("explained");
    assert_eq!(x.requests, 2, "the cap");
    assert_eq!(audit_reads(&emu) - before, 2);
    let f = &x.for_step(0)[0];
    assert_eq!(
        (f.drift, f.event.as_ref(), f.capped),
        (Drift::GroupDeleted, None, true)
    );
    assert!(f.to_string().contains("(the page cap"), "{f}");

    // Without the cap, the whole trail is read (one page of 1,000) and nothing is found.
    let x = segment_iam_sync::explain(&me, &plan, &ExplainOptions::new().concurrency(1))
        .await
        .expect("explained");
    assert_eq!(x.requests, 1);
    let f = &x.for_step(0)[0];
    assert_eq!((f.event.as_ref(), f.capped), (None, false));
    assert!(
        f.to_string()
            .starts_with("no User Group Deleted event on group \"Ghost\" in the audit trail"),
        "{f}"
    );
}

#[tokio::test]
async fn a_workspace_without_the_audit_trail_is_the_typed_error() {
    let emu = start(emulator().users(3).audit_trail(false)).await;
    let me = client(&emu);
    let plan = plan_file(&me, FILE).await.expect("planned");
    assert!(!plan.is_empty());
    let e = segment_iam_sync::explain(&me, &plan, &ExplainOptions::new())
        .await
        .expect_err("no audit trail");
    assert!(
        matches!(
            e,
            segment_iam_sync::Error::Api(ApiError::AuditTrailUnavailable(_))
        ),
        "{e:?}"
    );
}
