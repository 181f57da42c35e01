//! Names instead of ids, end to end against the emulator: roles and the workspace looked up
//! once and cached, a role given by name reaching the wire as its id, unknown names refused
//! before any mutation, lookups by email in one pass, handlers usable from spawned tasks.

use segment_iam::{Error, Outcome, Permission, Resource, ResourceType};
use segment_iam_emulator::Operation;
use segment_iam_tests::{OWNER_ROLE, WORKSPACE, client, emulator, start};

/// Requests the emulator saw for `operation`.
fn sent(emu: &segment_iam_emulator::EmulatorHandle, operation: Operation) -> usize {
    emu.journal_for(operation).len()
}

/// Journal entries that are not reads.
fn mutations(emu: &segment_iam_emulator::EmulatorHandle) -> Vec<String> {
    emu.journal()
        .into_iter()
        .filter(|e| e.method != "GET")
        .map(|e| format!("{} {}", e.method, e.path))
        .collect()
}

#[tokio::test]
async fn roles_list_every_role_and_the_directory_is_read_once() {
    let emu = start(emulator()).await;
    let client = client(&emu);
    let roles = client
        .roles()
        .list()
        .page_size(3)
        .collect()
        .await
        .expect("list_roles");
    let expected: Vec<(String, String)> = emu
        .state()
        .roles
        .into_iter()
        .map(|r| (r.id, r.name))
        .collect();
    let got: Vec<(String, String)> = roles.into_iter().map(|r| (r.id, r.name)).collect();
    assert_eq!(got, expected);
    assert!(got.len() > 3, "several pages were read: {got:?}");
    let pages = sent(&emu, Operation::ListRoles);

    let first = client
        .roles()
        .resolve("workspace owner")
        .await
        .expect("by name");
    let again = client.roles().resolve(OWNER_ROLE).await.expect("by id");
    assert_eq!(
        (first.id.as_str(), again.name.as_str()),
        (OWNER_ROLE, "Workspace Owner")
    );
    assert_eq!(
        sent(&emu, Operation::ListRoles),
        pages + 1,
        "one lookup, then the cache"
    );

    client.roles().refresh().await.expect("refresh");
    assert_eq!(
        sent(&emu, Operation::ListRoles),
        pages + 2,
        "refresh reads again"
    );
}

#[tokio::test]
async fn the_workspace_is_read_once_per_client() {
    let emu = start(emulator()).await;
    let client = client(&emu);
    let workspace = client.workspace().await.expect("get_workspace");
    assert_eq!(workspace.id, WORKSPACE);
    assert!(!workspace.slug.is_empty() && !workspace.name.is_empty());
    let clone = client.clone();
    assert_eq!(clone.workspace().await.expect("cached").id, WORKSPACE);
    assert_eq!(sent(&emu, Operation::GetWorkspace), 1);
}

#[tokio::test]
async fn a_role_by_name_on_this_workspace_reaches_the_wire_as_ids() {
    let emu = start(emulator().users(2)).await;
    let client = client(&emu);
    let user = emu.user_ids()[1].clone();
    let granted = client
        .users()
        .add_permissions(
            &user,
            [Permission::role("WORKSPACE owner").on(Resource::ThisWorkspace)],
        )
        .await
        .expect("granted");
    assert_eq!(granted[0].role_id, OWNER_ROLE);
    let posts = emu.journal_for(Operation::AddPermissionsToUser);
    assert_eq!(posts.len(), 1);
    let body: serde_json::Value =
        serde_json::from_str(posts[0].body.as_deref().expect("body")).expect("json body");
    assert_eq!(
        body,
        serde_json::json!({"permissions": [{"roleId": OWNER_ROLE, "resources": [{"id": WORKSPACE, "type": "WORKSPACE"}]}]})
    );
    let held = emu.user(&user).expect("user").permissions;
    assert_eq!(held[0].role_id, OWNER_ROLE);
    assert_eq!(held[0].resources[0].id, WORKSPACE);

    // Invites resolve names the same way, with one lookup for all of them.
    client
        .invites()
        .create([
            segment_iam::Invite::new("new1@example.com")
                .permission(Permission::role("Source Admin").resource(ResourceType::Source, "s1")),
            segment_iam::Invite::new("new2@example.com")
                .permission(Permission::role("source admin").on(Resource::ThisWorkspace)),
        ])
        .await
        .expect("invited");
    assert_eq!(sent(&emu, Operation::ListRoles), 1);
    assert_eq!(sent(&emu, Operation::GetWorkspace), 1);
}

#[tokio::test]
async fn an_unknown_role_name_sends_nothing_and_names_close_matches() {
    let emu = start(emulator().users(1).groups(1)).await;
    let client = client(&emu);
    let user = emu.user_ids()[0].clone();
    let err = client
        .users()
        .replace_permissions(
            &user,
            [Permission::role("Workspace Ownr").on(Resource::ThisWorkspace)],
        )
        .await
        .expect_err("unknown role");
    match &err {
        Error::UnknownRole { given, closest } => {
            assert_eq!(given, "Workspace Ownr");
            assert_eq!(closest.first().map(String::as_str), Some("Workspace Owner"));
        }
        other => panic!("expected UnknownRole, got {other:?}"),
    }
    assert!(err.is_invalid_input());
    assert!(err.to_string().contains("\"Workspace Owner\""), "{err}");
    assert!(mutations(&emu).is_empty(), "{:?}", mutations(&emu));
    assert_eq!(
        sent(&emu, Operation::GetWorkspace),
        0,
        "the role failed first"
    );

    // Input that can never be right is refused before any lookup.
    emu.clear_journal();
    let err = client
        .groups()
        .add_permissions(&emu.group_ids()[0], [Permission::role("  ")])
        .await
        .expect_err("empty role");
    assert!(err.is_invalid_input(), "{err:?}");
    assert!(emu.journal().is_empty());
}

#[tokio::test]
async fn find_by_emails_is_one_pass_case_insensitive_and_stops_early() {
    let emu = start(emulator().users(2_500).invites(3)).await;
    let client = client(&emu);
    let found = client
        .users()
        .find_by_emails([
            "USER3@example.com",
            "nobody@example.com",
            "user3@EXAMPLE.com",
            "user7@example.com",
        ])
        .await
        .expect("lookup");
    let emails: Vec<&str> = found.found.iter().map(|u| u.email.as_str()).collect();
    assert_eq!(emails, ["user3@example.com", "user7@example.com"]);
    assert_eq!(found.missing, ["nobody@example.com"]);
    assert_eq!(
        sent(&emu, Operation::ListUsers),
        3,
        "a missing address reads every page once"
    );

    emu.clear_journal();
    let one = client
        .users()
        .find_by_email("User12@Example.com")
        .await
        .expect("lookup");
    assert_eq!(one.map(|u| u.email).as_deref(), Some("user12@example.com"));
    assert_eq!(
        sent(&emu, Operation::ListUsers),
        1,
        "found on the first page: no more pages"
    );

    let invited = client
        .invites()
        .find_by_emails(["INVITEE2@example.com", "user1@example.com"])
        .await
        .expect("invites");
    assert_eq!(invited.found, ["invitee2@example.com"]);
    assert_eq!(invited.missing, ["user1@example.com"]);

    emu.clear_journal();
    let err = client
        .users()
        .find_by_emails(["fine@example.com", "not an email"])
        .await
        .expect_err("bad address");
    assert!(err.is_invalid_input());
    assert!(emu.journal().is_empty());
}

#[tokio::test]
async fn handlers_are_static_send_and_a_lone_failed_chunk_is_not_partial() {
    let emu = start(emulator().users(3)).await;
    let client = client(&emu);
    let id = emu.user_ids()[0].clone();
    let user = tokio::spawn(client.users().get(id.clone()))
        .await
        .expect("task")
        .expect("user");
    assert_eq!(user.id, id);

    let err = client
        .invites()
        .delete(["missing@example.com"])
        .await
        .expect_err("nothing to delete");
    assert!(matches!(err, Error::NotFound(_)), "{err:?}");
    assert_eq!(err.outcome(), Outcome::NotApplied);
}
