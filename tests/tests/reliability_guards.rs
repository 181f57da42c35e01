//! Guards: the checks a changing job makes before it sends anything. Here the last-owner rule
//! against labels: a Workspace Owner narrowed by labels reaches only the labelled resources,
//! so it does not own the workspace, and offboarding the only plain owner while such narrowed
//! owners remain would lock the workspace out.

use segment_iam::guard::Refusal;
use segment_iam::jobs::offboard::{self, OffboardOptions};
use segment_iam::{Error, Grant, Label, Permission, Resource};
use segment_iam_tests::{OWNER_ROLE, WORKSPACE, client, emulator, start};

fn prod() -> Label {
    "environment:prod".parse().expect("label")
}

/// Whether the service shows `permissions` holding Workspace Owner narrowed by prod.
fn narrowed_owner_in(permissions: &[segment_iam::types::PermissionV1]) -> bool {
    let narrowed = Grant::new(OWNER_ROLE, "WORKSPACE", WORKSPACE).narrowed([prod()]);
    Grant::of_permissions(permissions).contains(&narrowed)
}

/// Cases: 2 (the only plain Workspace Owner offboarded while another user holds Workspace
/// Owner narrowed by environment:prod directly; the same with the narrowed owner held through
/// a group by a member). Asserts: the narrowed grant is on the service as narrowed; the plan
/// lists only the plain owner and says it removes the last one; execute is refused with
/// Error::Refused(LastOwner) naming only the plain owner; the journal shows no request at all
/// during execute and every user is still there.
#[tokio::test]
async fn offboarding_the_only_plain_owner_while_only_narrowed_owners_remain_is_refused_with_nothing_sent()
 {
    let narrowed_owner =
        Permission::role("Workspace Owner").on_narrowed(Resource::ThisWorkspace, [prod()]);
    for through_group in [false, true] {
        let emu = start(emulator().users(4).groups(1)).await;
        let client = client(&emu);
        let state = emu.state();
        let (owner, other) = (&state.users[0], &state.users[1]);
        if through_group {
            let group = client
                .groups()
                .create("Prod owners")
                .await
                .expect("group")
                .id;
            client
                .groups()
                .add_permissions(&group, [narrowed_owner.clone()])
                .await
                .expect("group permission");
            client
                .groups()
                .add_members(&group, [&other.email])
                .await
                .expect("member");
            let group = client.groups().get(&group).await.expect("group");
            assert!(narrowed_owner_in(&group.permissions));
        } else {
            client
                .users()
                .add_permissions(&other.id, [narrowed_owner.clone()])
                .await
                .expect("narrowed owner");
            let user = client.users().get(&other.id).await.expect("user");
            assert!(narrowed_owner_in(&user.permissions));
        }
        let users = emu.user_count();

        let options = OffboardOptions::default();
        let plan = offboard::plan(&client, [&owner.email], &options)
            .await
            .expect("plan");
        assert!(plan.removes_last_owner, "through a group: {through_group}");
        assert_eq!(
            plan.owners,
            std::slice::from_ref(&owner.email),
            "only the plain owner"
        );
        emu.clear_journal();
        let err = offboard::execute(&client, &plan, &options)
            .await
            .expect_err("refused");
        assert!(
            matches!(&err, Error::Refused(Refusal::LastOwner { owners }) if *owners == [owner.email.clone()]),
            "through a group: {through_group}: {err:?}"
        );
        assert!(emu.journal().is_empty(), "nothing sent");
        assert_eq!(emu.user_count(), users);
    }
}
