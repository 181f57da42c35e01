//! Labels and sources through the facade against the emulator: `client.labels()` lists,
//! creates and deletes; `client.sources()` pages; a malformed label is refused before anything
//! is sent; a permission narrowed by a label reaches the wire on the resource and reads back
//! as the narrowed grant, not the plain one.

use std::collections::BTreeSet;

use futures::TryStreamExt;
use segment_iam::{Error, Grant, Label, Permission, Resource};
use segment_iam_emulator::Operation;
use segment_iam_tests::{WORKSPACE, client, emulator, start};

const SOURCE_ADMIN: &str = "1WDUuQEbvvYQIILOjS5GMDdHPoZ";

fn label(text: &str) -> Label {
    text.parse().expect("a well-formed label")
}

fn texts(labels: &[segment_iam::WorkspaceLabel]) -> Vec<String> {
    labels.iter().map(|l| l.label.to_string()).collect()
}

#[tokio::test]
async fn labels_list_create_and_delete() {
    let emu = start(emulator()).await;
    let client = client(&emu);
    let listed = client.labels().list().await.expect("list");
    assert_eq!(texts(&listed), ["environment:dev", "environment:prod"]);

    let created = client
        .labels()
        .create(&label("region:emea"), Some("EU"))
        .await
        .expect("create");
    assert_eq!(created.label, label("region:emea"));
    assert_eq!(created.description.as_deref(), Some("EU"));
    let listed = client.labels().list().await.expect("list");
    assert_eq!(
        texts(&listed),
        ["environment:dev", "environment:prod", "region:emea"]
    );

    let again = client.labels().create(&label("region:emea"), None).await;
    assert_eq!(again.expect_err("exists").status(), Some(409));

    client
        .labels()
        .delete(&label("region:emea"))
        .await
        .expect("delete");
    assert_eq!(emu.label_strings(), ["environment:dev", "environment:prod"]);
    assert_eq!(emu.applied_count(Operation::DeleteLabel), 1);
}

#[tokio::test]
async fn deleting_a_label_in_use_is_a_409_and_the_label_stays() {
    let emu = start(emulator().sources(2)).await;
    let client = client(&emu);
    let refused = client
        .labels()
        .delete(&label("environment:prod"))
        .await
        .expect_err("in use on a source");
    assert_eq!(refused.status(), Some(409), "{refused}");
    assert!(refused.to_string().contains("in use"), "{refused}");
    assert!(
        emu.label_strings()
            .contains(&"environment:prod".to_string())
    );
}

#[tokio::test]
async fn a_malformed_label_is_a_typed_error_and_nothing_is_sent() {
    let emu = start(emulator()).await;
    for bad in [
        "env".parse::<Label>(),
        Label::new("1a", "b"),
        "environment:pr od".parse::<Label>(),
    ] {
        match bad {
            Err(Error::InvalidInput { .. }) => {}
            other => panic!("expected InvalidInput, got {other:?}"),
        }
    }
    assert!(emu.journal().is_empty(), "nothing sent");
}

#[tokio::test]
async fn sources_list_with_their_labels() {
    let emu = start(emulator().sources(5)).await;
    let client = client(&emu);
    let raw = client.sources().list().collect().await.expect("list");
    assert_eq!(
        raw.iter().map(|s| s.id.clone()).collect::<Vec<_>>(),
        emu.source_ids()
    );
    let labelled: Vec<segment_iam::Source> = client
        .sources()
        .list_labelled()
        .try_collect()
        .await
        .expect("list_labelled");
    let prod: BTreeSet<Label> = [label("environment:prod")].into();
    let reached: Vec<bool> = labelled.iter().map(|s| s.carries_all(&prod)).collect();
    assert_eq!(reached, [true, false, true, false, true]);
    assert!(emu.applied_count(Operation::ListSources) >= 2);
}

#[tokio::test]
async fn a_narrowed_permission_reaches_the_wire_and_reads_back_as_the_narrowed_grant() {
    let emu = start(emulator().users(3)).await;
    let client = client(&emu);
    let user = emu.user_ids()[1].clone();
    client
        .users()
        .add_permissions(
            &user,
            [Permission::role("Source Admin")
                .on_narrowed(Resource::ThisWorkspace, [label("environment:prod")])],
        )
        .await
        .expect("add");
    // On the wire: the label on the workspace resource.
    let snapshot = emu.user(&user).expect("user");
    let resource = &snapshot.permissions[0].resources[0];
    assert_eq!(resource.resource_type, "WORKSPACE");
    let on_wire: Vec<String> = resource.labels.iter().map(ToString::to_string).collect();
    assert_eq!(on_wire, ["environment:prod"]);

    // Read back: the narrowed grant, which is not the plain one.
    let read = client.users().get(&user).await.expect("get");
    let grants = Grant::of_permissions(&read.permissions);
    let narrowed =
        Grant::new(SOURCE_ADMIN, "WORKSPACE", WORKSPACE).narrowed([label("environment:prod")]);
    assert!(grants.contains(&narrowed), "{grants:?}");
    assert!(!grants.contains(&Grant::new(SOURCE_ADMIN, "WORKSPACE", WORKSPACE)));
}

#[tokio::test]
async fn a_permission_narrowed_by_an_unknown_label_is_the_emulators_422() {
    let emu = start(emulator().users(2)).await;
    let client = client(&emu);
    let user = emu.user_ids()[1].clone();
    let before = emu.user(&user).expect("user").permissions.len();
    let refused = client
        .users()
        .add_permissions(
            &user,
            [Permission::role("Source Admin")
                .on_narrowed(Resource::ThisWorkspace, [label("environment:staging")])],
        )
        .await
        .expect_err("unknown label");
    assert_eq!(refused.status(), Some(422), "{refused}");
    assert!(
        refused.to_string().contains("environment:staging"),
        "{refused}"
    );
    assert_eq!(emu.user(&user).expect("user").permissions.len(), before);
}
