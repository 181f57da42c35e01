//! Each of the document's operations end to end: facade -> HTTP -> emulator, checked against the
//! emulator's state and journal, in the documented forms only; and the emulator serves exactly
//! the document's operations.

use futures::TryStreamExt;
use segment_iam::{Invite, Permission, ResourceType};
use segment_iam_emulator::Operation;
use segment_iam_tests::{OWNER_ROLE, WORKSPACE, client, emulator, start};

fn owner() -> Permission {
    Permission::new(OWNER_ROLE).resource(ResourceType::Workspace, WORKSPACE)
}

#[tokio::test]
async fn the_user_operations_return_and_change_what_the_emulator_holds() {
    let emu = start(emulator().users(5).groups(2)).await;
    let client = client(&emu);
    let ids = emu.user_ids();

    // list_users
    let users = client.users().list().collect().await.expect("list_users");
    assert_eq!(users.len(), 5);
    assert_eq!(users.iter().map(|u| u.id.clone()).collect::<Vec<_>>(), ids);

    // get_user
    let user = client.users().get(&ids[0]).await.expect("get_user");
    assert_eq!(user.id, ids[0]);

    // add_permissions_to_user
    let added = client
        .users()
        .add_permissions(&ids[0], [owner()])
        .await
        .expect("add_permissions_to_user");
    assert_eq!(added[0].role_id, OWNER_ROLE);
    assert_eq!(added[0].role_name, "Workspace Owner");
    assert!(
        emu.user(&ids[0])
            .expect("user")
            .permissions
            .iter()
            .any(|p| p.role_id == OWNER_ROLE)
    );

    // replace_permissions_for_user
    let replaced = client
        .users()
        .replace_permissions(&ids[0], [])
        .await
        .expect("replace_permissions_for_user");
    assert!(replaced.is_empty());
    assert!(emu.user(&ids[0]).expect("user").permissions.is_empty());

    // list_user_groups_from_user: add the user to a group first (by email)
    let group = emu.group_ids()[0].clone();
    client
        .groups()
        .add_members(&group, [user.email.clone()])
        .await
        .expect("add member");
    let groups = client
        .users()
        .groups(&ids[0])
        .collect()
        .await
        .expect("list_user_groups_from_user");
    assert!(groups.iter().any(|g| g.id == group));

    // delete_users
    let outcome = client
        .users()
        .delete([ids[0].clone(), ids[1].clone()])
        .await
        .expect("delete_users");
    assert_eq!(outcome.applied, vec![ids[0].clone(), ids[1].clone()]);
    assert_eq!(outcome.requests, 1);
    assert_eq!(emu.user_count(), 3);
    // Deleting a user removes their group memberships.
    assert!(!emu.group(&group).expect("group").users.contains(&ids[0]));
}

#[tokio::test]
async fn the_invite_operations_return_and_change_what_the_emulator_holds() {
    let emu = start(emulator()).await;
    let client = client(&emu);

    // create_invites (the emulator answers 201 like the current documentation)
    let invited = client
        .invites()
        .create([
            Invite::new("ana@example.com").permission(owner()),
            Invite::new("bo+qa@example.com"),
        ])
        .await
        .expect("create_invites");
    assert_eq!(invited, ["ana@example.com", "bo+qa@example.com"]);

    // list_invites
    let listed: Vec<String> = client
        .invites()
        .list()
        .items()
        .try_collect()
        .await
        .expect("list_invites");
    assert_eq!(listed, ["ana@example.com", "bo+qa@example.com"]);

    // delete_invites
    let outcome = client
        .invites()
        .delete(["bo+qa@example.com"])
        .await
        .expect("delete_invites");
    assert_eq!(outcome.applied, ["bo+qa@example.com"]);
    assert_eq!(emu.invite_emails(), ["ana@example.com"]);
}

#[tokio::test]
async fn the_group_operations_return_and_change_what_the_emulator_holds() {
    let emu = start(emulator().users(3)).await;
    let client = client(&emu);
    let emails: Vec<String> = emu.state().users.iter().map(|u| u.email.clone()).collect();

    // create_user_group
    let group = client
        .groups()
        .create("Analysts")
        .await
        .expect("create_user_group");
    assert_eq!(group.name, "Analysts");
    // update_user_group
    let renamed = client
        .groups()
        .rename(&group.id, "Data Analysts")
        .await
        .expect("update_user_group");
    assert_eq!(renamed.name, "Data Analysts");
    // get_user_group
    assert_eq!(
        client
            .groups()
            .get(&group.id)
            .await
            .expect("get_user_group")
            .name,
        "Data Analysts"
    );
    // list_user_groups
    let all = client
        .groups()
        .list()
        .collect()
        .await
        .expect("list_user_groups");
    assert!(all.iter().any(|g| g.id == group.id));

    // add_users_to_user_group: a user and an invitee
    let after_add = client
        .groups()
        .add_members(
            &group.id,
            [emails[0].clone(), "new.person@example.com".to_string()],
        )
        .await
        .expect("add_users_to_user_group");
    assert_eq!(after_add.member_count, 2);
    // list_users_from_user_group and list_invites_from_user_group
    let members = client
        .groups()
        .members(&group.id)
        .collect()
        .await
        .expect("list_users_from_user_group");
    assert_eq!(
        members.iter().map(|m| m.email.clone()).collect::<Vec<_>>(),
        [emails[0].clone()]
    );
    let invitees = client
        .groups()
        .invites(&group.id)
        .collect()
        .await
        .expect("list_invites_from_user_group");
    assert_eq!(invitees, ["new.person@example.com"]);

    // replace_users_in_user_group (singular /group/ path)
    let replaced = client
        .groups()
        .replace_members(&group.id, [emails[1].clone(), emails[2].clone()])
        .await
        .expect("replace_users_in_user_group");
    assert_eq!(replaced.member_count, 2);
    // remove_users_from_user_group (singular /group/ path, emails.N in the query)
    let removed = client
        .groups()
        .remove_members(&group.id, [emails[1].clone()])
        .await
        .expect("remove_users_from_user_group");
    assert_eq!(removed.applied, [emails[1].clone()]);
    assert_eq!(emu.group(&group.id).expect("group").member_count, 1);

    // add_permissions_to_user_group / replace_permissions_for_user_group
    let added = client
        .groups()
        .add_permissions(&group.id, [owner()])
        .await
        .expect("add_permissions_to_user_group");
    assert_eq!(added.len(), 1);
    let replaced = client
        .groups()
        .replace_permissions(
            &group.id,
            [Permission::new("1WDUuNNt5xeChlybbD2nkIH8dNn")
                .resource(ResourceType::Workspace, segment_iam_tests::WORKSPACE)],
        )
        .await
        .expect("replace_permissions_for_user_group");
    assert_eq!(replaced[0].role_name, "Workspace Read-only");

    // delete_user_group
    client
        .groups()
        .delete(&group.id)
        .await
        .expect("delete_user_group");
    assert!(emu.group(&group.id).is_none());
    let err = client.groups().get(&group.id).await.expect_err("gone");
    assert!(matches!(err, segment_iam::Error::NotFound(_)), "{err:?}");
}

#[tokio::test]
async fn every_operation_in_strict_mode_uses_only_documented_forms() {
    // The strict emulator refuses and records any non-documented query form; every one of
    // the document's operations is sent here, through the facade, and must pass.
    let emu = start(emulator().users(4).groups(1).strict(true)).await;
    let client = client(&emu);
    let ids = emu.user_ids();
    let group = emu.group_ids()[0].clone();
    let roles = client
        .roles()
        .list()
        .page_size(2)
        .collect()
        .await
        .expect("list_roles");
    assert!(roles.len() > 2);
    client.workspace().await.expect("get_workspace");
    client
        .users()
        .list()
        .page_size(2)
        .collect()
        .await
        .expect("list_users");
    client.users().get(&ids[1]).await.expect("get_user");
    client
        .users()
        .groups(&ids[1])
        .page_size(1)
        .collect()
        .await
        .expect("list_user_groups_from_user");
    client
        .users()
        .add_permissions(&ids[1], [owner()])
        .await
        .expect("add_permissions_to_user");
    client
        .users()
        .replace_permissions(&ids[1], [owner()])
        .await
        .expect("replace_permissions_for_user");
    client
        .invites()
        .create(["x@example.com", "z@example.com"])
        .await
        .expect("create_invites");
    client
        .invites()
        .list()
        .page_size(1)
        .collect()
        .await
        .expect("list_invites");
    client
        .invites()
        .delete(["x@example.com"])
        .await
        .expect("delete_invites");
    let made = client
        .groups()
        .create("Strict")
        .await
        .expect("create_user_group");
    client
        .groups()
        .list()
        .page_size(1)
        .collect()
        .await
        .expect("list_user_groups");
    client.groups().get(&made.id).await.expect("get_user_group");
    client
        .groups()
        .rename(&made.id, "Strict 2")
        .await
        .expect("update_user_group");
    client
        .groups()
        .add_members(&group, ["y@example.com", "z@example.com"])
        .await
        .expect("add_users_to_user_group");
    client
        .groups()
        .members(&group)
        .page_size(1)
        .collect()
        .await
        .expect("list_users_from_user_group");
    client
        .groups()
        .invites(&group)
        .page_size(1)
        .collect()
        .await
        .expect("list_invites_from_user_group");
    client
        .groups()
        .remove_members(&group, ["y@example.com"])
        .await
        .expect("remove_users_from_user_group");
    client
        .groups()
        .replace_members(&made.id, ["z@example.com"])
        .await
        .expect("replace_users_in_user_group");
    client
        .groups()
        .add_permissions(&made.id, [owner()])
        .await
        .expect("add_permissions_to_user_group");
    client
        .groups()
        .replace_permissions(&made.id, [])
        .await
        .expect("replace_permissions_for_user_group");
    client
        .groups()
        .delete(&made.id)
        .await
        .expect("delete_user_group");
    client
        .users()
        .delete([ids[0].clone()])
        .await
        .expect("delete_users");
    let label: segment_iam::Label = "region:emea".parse().expect("label");
    client
        .labels()
        .create(&label, Some("EMEA"))
        .await
        .expect("create_label");
    let labels = client.labels().list().await.expect("list_labels");
    assert!(labels.iter().any(|l| l.label == label), "{labels:?}");
    client.labels().delete(&label).await.expect("delete_label");
    client
        .sources()
        .list()
        .page_size(1)
        .collect()
        .await
        .expect("list_sources");
    let events = client
        .audit_events()
        .since(std::time::SystemTime::UNIX_EPOCH)
        .resource_type("LABEL")
        .list()
        .page_size(1)
        .collect()
        .await
        .expect("list_audit_events");
    assert_eq!(events.len(), 2, "label created, label deleted: {events:?}");

    let journal = emu.journal();
    for entry in &journal {
        assert!(
            !entry.nonstandard_query,
            "non-documented query form: {} {}?{}",
            entry.method, entry.path, entry.query
        );
        assert!(
            entry.status < 400,
            "{} {}?{} -> {}",
            entry.method,
            entry.path,
            entry.query,
            entry.status
        );
    }
    let mut sent: Vec<&str> = journal
        .iter()
        .filter_map(|e| e.operation.map(|op| op.id()))
        .collect();
    sent.sort();
    sent.dedup();
    let mut all: Vec<&str> = segment_iam::api::Operation::ALL
        .iter()
        .map(|op| op.meta().operation_id)
        .collect();
    all.sort();
    assert_eq!(sent, all, "every operation of the document was sent");
    let delete = journal
        .iter()
        .find(|e| e.operation == Some(Operation::DeleteUsers))
        .expect("delete_users sent");
    assert_eq!(delete.query, format!("userIds.0={}", ids[0]));
    let list = journal
        .iter()
        .find(|e| e.operation == Some(Operation::ListUsers))
        .expect("list sent");
    assert!(
        list.query.starts_with("pagination.count=2"),
        "{}",
        list.query
    );
}

#[test]
fn the_emulator_serves_exactly_the_documents_operations() {
    let mut document: Vec<(String, String, String)> = segment_iam_api::Operation::ALL
        .iter()
        .map(|op| {
            let meta = op.meta();
            (
                meta.operation_id.to_string(),
                meta.method.as_str().to_string(),
                meta.path.to_string(),
            )
        })
        .collect();
    let mut served: Vec<(String, String, String)> = segment_iam_emulator::Operation::ALL
        .iter()
        .map(|op| {
            (
                op.id().to_string(),
                op.method().to_string(),
                op.path().to_string(),
            )
        })
        .collect();
    document.sort();
    served.sort();
    assert_eq!(served, document);
    assert_eq!(served.len(), 28);
}
