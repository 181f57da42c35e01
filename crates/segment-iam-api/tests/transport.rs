//! Every generated operation goes through the pluggable transport, with array query
//! parameters in the service's `name.N` form, and decodes the documented envelopes.

use std::sync::{Arc, Mutex};

use segment_iam_api::types;
use segment_iam_api::{
    Client, ClientAuditTrailExt, ClientIamGroupsExt, ClientIamRolesExt, ClientIamUsersExt,
    ClientLabelsExt, ClientSourcesExt, ClientWorkspacesExt, Deletion, Exec, ExecFuture, Method,
    Operation, OperationRequest, RateLimitBucket, ResourceType,
};

/// Records each request and answers with a canned body for the operation.
#[derive(Default, Clone)]
struct Recorder {
    seen: Arc<Mutex<Vec<(String, String, String)>>>,
}

impl Exec for Recorder {
    fn exec<'a>(
        &'a self,
        _client: &'a reqwest::Client,
        request: reqwest::Request,
        operation: Option<Operation>,
    ) -> ExecFuture<'a> {
        let op = operation.map_or("?", |o| o.meta().operation_id);
        self.seen.lock().expect("lock").push((
            op.to_string(),
            request.method().to_string(),
            request.url().to_string(),
        ));
        let (status, body) = canned(op);
        let response = http::Response::builder()
            .status(status)
            .header("content-type", "application/json")
            .body(body.to_string())
            .expect("valid response");
        Box::pin(async move { Ok(reqwest::Response::from(response)) })
    }
}

const PAGE: &str = r#""pagination":{"current":"MA==","next":null}"#;
const GROUP: &str = r#"{"userGroup":{"id":"g1","name":"Eng","memberCount":2,"unknownField":true}}"#;
const PERMS: &str = r#"{"permissions":[{"roleId":"r","roleName":"Owner","policyId":"p","subjectId":"s","subjectType":"user","resources":[{"id":"w","type":"BRAND_NEW_KIND","labels":[]}]}]}"#;

fn canned(op: &str) -> (u16, String) {
    let data = match op {
        "list_users" => {
            format!(r#"{{"users":[{{"id":"u1","name":"","email":"a@x.com"}}],{PAGE}}}"#)
        }
        "get_user" => r#"{"user":{"id":"u1","name":"A","email":"a@x.com"}}"#.to_string(),
        "list_invites" => format!(r#"{{"invites":["i@x.com"],{PAGE}}}"#),
        "list_user_groups_from_user" => {
            format!(r#"{{"groups":[{{"id":"g1","name":"Eng"}}],{PAGE}}}"#)
        }
        "list_user_groups" => {
            format!(r#"{{"userGroups":[{{"id":"g1","name":"Eng","memberCount":1}}],{PAGE}}}"#)
        }
        "list_users_from_user_group" => {
            format!(r#"{{"users":[{{"id":"u1","name":"A","email":"a@x.com"}}],{PAGE}}}"#)
        }
        "list_invites_from_user_group" => format!(r#"{{"emails":["i@x.com"],{PAGE}}}"#),
        "list_roles" => format!(
            r#"{{"roles":[{{"id":"r1","name":"Workspace Owner","description":"All"}}],{PAGE}}}"#
        ),
        "get_workspace" => r#"{"workspace":{"id":"w1","slug":"acme","name":"Acme"}}"#.to_string(),
        "create_invites" => return (201, r#"{"data":{"emails":["i@x.com"]}}"#.to_string()),
        "list_labels" => r#"{"labels":[{"key":"environment","value":"prod"}]}"#.to_string(),
        "create_label" => {
            return (
                201,
                r#"{"data":{"label":{"key":"region","value":"emea","description":"EMEA"}}}"#
                    .to_string(),
            );
        }
        "delete_label" => r#"{"status":"SUCCESS"}"#.to_string(),
        "list_sources" => format!(
            r#"{{"sources":[{{"id":"s1","slug":"web","workspaceId":"w1","enabled":true,"writeKeys":[],"labels":[{{"key":"environment","value":"prod"}}],"settings":{{}}}}],{PAGE}}}"#
        ),
        "list_audit_events" => format!(
            r#"{{"events":[{{"id":"e1","timestamp":"2026-12-01T10:32:00Z","type":"User Group Created","actor":"ana@example.com","resourceId":"g1","resourceType":"USER_GROUP","resourceName":"Analysts"}}],{PAGE}}}"#
        ),
        "delete_invites"
        | "delete_users"
        | "remove_users_from_user_group"
        | "delete_user_group" => r#"{"status":"SUCCESS"}"#.to_string(),
        "add_permissions_to_user"
        | "replace_permissions_for_user"
        | "add_permissions_to_user_group"
        | "replace_permissions_for_user_group" => PERMS.to_string(),
        _ => GROUP.to_string(),
    };
    (200, format!(r#"{{"data":{data}}}"#))
}

fn permissions() -> Vec<types::PermissionInputV1> {
    vec![types::PermissionInputV1 {
        role_id: "r".into(),
        resources: vec![types::PermissionResourceV1 {
            id: "w".into(),
            type_: ResourceType::Workspace,
            labels: vec![],
        }],
    }]
}

#[tokio::test]
async fn every_operation_goes_through_the_transport() {
    let recorder = Recorder::default();
    let client = Client::with_exec(
        "http://127.0.0.1:9",
        reqwest::Client::new(),
        recorder.clone(),
    );
    let emails = vec!["a+b@x.com".to_string(), "c d@x.com".to_string()];

    client
        .list_users()
        .pagination_count(2)
        .send()
        .await
        .expect("list_users");
    client
        .get_user()
        .user_id("u1")
        .send()
        .await
        .expect("get_user");
    client.list_invites().send().await.expect("list_invites");
    client
        .list_user_groups_from_user()
        .user_id("u1")
        .send()
        .await
        .expect("groups of user");
    client
        .add_permissions_to_user()
        .user_id("u1")
        .body(types::AddPermissionsToUserV1Input {
            permissions: permissions(),
        })
        .send()
        .await
        .expect("add_permissions_to_user");
    client
        .replace_permissions_for_user()
        .user_id("u1")
        .body(types::ReplacePermissionsForUserV1Input {
            permissions: permissions(),
        })
        .send()
        .await
        .expect("replace_permissions_for_user");
    client
        .create_invites()
        .body(types::CreateInvitesV1Input {
            invites: vec![types::InviteV1 {
                email: "i@x.com".into(),
                permissions: vec![],
            }],
        })
        .send()
        .await
        .expect("create_invites answers 201");
    client
        .delete_invites()
        .emails(emails.clone())
        .send()
        .await
        .expect("delete_invites");
    client
        .delete_users()
        .user_ids(vec!["u1".parse::<types::UserId>().expect("id")])
        .send()
        .await
        .expect("delete_users");

    client
        .list_user_groups()
        .send()
        .await
        .expect("list_user_groups");
    client
        .get_user_group()
        .user_group_id("g1")
        .send()
        .await
        .expect("get_user_group");
    client
        .create_user_group()
        .body(types::CreateUserGroupV1Input {
            name: "Eng".parse().expect("name"),
        })
        .send()
        .await
        .expect("create_user_group");
    client
        .update_user_group()
        .user_group_id("g1")
        .body(types::UpdateUserGroupV1Input {
            name: "Ops".parse().expect("name"),
        })
        .send()
        .await
        .expect("update_user_group");
    client
        .delete_user_group()
        .user_group_id("g1")
        .send()
        .await
        .expect("delete_user_group");
    client
        .list_users_from_user_group()
        .user_group_id("g1")
        .send()
        .await
        .expect("members");
    client
        .list_invites_from_user_group()
        .user_group_id("g1")
        .send()
        .await
        .expect("group invites");
    client
        .add_users_to_user_group()
        .user_group_id("g1")
        .body(types::AddUsersToUserGroupV1Input {
            emails: emails.clone(),
        })
        .send()
        .await
        .expect("add_users_to_user_group");
    client
        .replace_users_in_user_group()
        .user_group_id("g1")
        .body(types::ReplaceUsersInUserGroupV1Input {
            emails: emails.clone(),
        })
        .send()
        .await
        .expect("replace_users_in_user_group");
    client
        .remove_users_from_user_group()
        .user_group_id("g1")
        .emails(vec!["solo@x.com".to_string()])
        .send()
        .await
        .expect("remove_users_from_user_group");
    let perms = client
        .add_permissions_to_user_group()
        .user_group_id("g1")
        .body(types::AddPermissionsToUserGroupV1Input {
            permissions: permissions(),
        })
        .send()
        .await
        .expect("add_permissions_to_user_group");
    // Unknown resource kinds and unnamed fields decode as data.
    assert_eq!(
        perms.into_inner().data.permissions[0].resources[0].type_,
        ResourceType::Other("BRAND_NEW_KIND".into())
    );
    client
        .replace_permissions_for_user_group()
        .user_group_id("g1")
        .body(types::ReplacePermissionsForUserGroupV1Input {
            permissions: permissions(),
        })
        .send()
        .await
        .expect("replace_permissions_for_user_group");
    let roles = client
        .list_roles()
        .pagination_count(1)
        .send()
        .await
        .expect("list_roles");
    assert_eq!(roles.into_inner().data.roles[0].name, "Workspace Owner");
    let workspace = client.get_workspace().send().await.expect("get_workspace");
    assert_eq!(workspace.into_inner().data.workspace.slug, "acme");
    let labels = client.list_labels().send().await.expect("list_labels");
    assert_eq!(labels.into_inner().data.labels[0].value, "prod");
    let created = client
        .create_label()
        .body(types::CreateLabelV1Input {
            label: types::LabelV1 {
                key: "region".into(),
                value: "emea".into(),
                description: None,
            },
        })
        .send()
        .await
        .expect("create_label");
    assert_eq!(created.into_inner().data.label.key, "region");
    client
        .delete_label()
        .key("region")
        .value("emea")
        .send()
        .await
        .expect("delete_label");
    let sources = client
        .list_sources()
        .pagination_count(1)
        .send()
        .await
        .expect("list_sources");
    assert_eq!(
        sources.into_inner().data.sources[0].labels[0].key,
        "environment"
    );
    let events = client
        .list_audit_events()
        .pagination_count(1)
        .start_time("2026-12-01T00:00:00Z")
        .resource_id("g1")
        .send()
        .await
        .expect("list_audit_events");
    assert_eq!(events.into_inner().data.events[0].actor, "ana@example.com");

    let seen = recorder.seen.lock().expect("lock").clone();
    let mut ops: Vec<&str> = seen.iter().map(|(op, _, _)| op.as_str()).collect();
    ops.sort();
    let mut all: Vec<&str> = Operation::ALL
        .iter()
        .map(|o| o.meta().operation_id)
        .collect();
    all.sort();
    assert_eq!(
        ops, all,
        "every operation reached the transport exactly once"
    );

    let url_of = |op: &str| {
        seen.iter()
            .find(|(o, _, _)| o == op)
            .map(|(_, _, u)| u.clone())
            .unwrap_or_default()
    };
    assert!(
        url_of("delete_invites").ends_with("/invites?emails.0=a%2Bb%40x.com&emails.1=c+d%40x.com")
    );
    assert!(url_of("delete_users").ends_with("/users?userIds.0=u1"));
    assert!(
        url_of("remove_users_from_user_group").ends_with("/group/g1/users?emails.0=solo%40x.com")
    );
    assert!(url_of("list_users").ends_with("/users?pagination.count=2"));
    assert!(url_of("delete_label").ends_with("/labels/region/emea"));
}

#[tokio::test]
async fn bad_ids_are_refused_before_the_transport() {
    let recorder = Recorder::default();
    let client = Client::with_exec(
        "http://127.0.0.1:9",
        reqwest::Client::new(),
        recorder.clone(),
    );
    let long = "x".repeat(256);
    let err = client
        .get_user()
        .user_id(long.as_str())
        .send()
        .await
        .expect_err("too long");
    assert!(
        matches!(err, segment_iam_api::Error::InvalidRequest(_)),
        "{err:?}"
    );
    assert!(recorder.seen.lock().expect("lock").is_empty());
}

#[test]
fn every_operation_is_in_the_table_once_with_its_descriptor() {
    assert_eq!(Operation::ALL.len(), 28);
    for (i, op) in Operation::ALL.iter().enumerate() {
        assert_eq!(
            Operation::from_operation_id(op.meta().operation_id),
            Some(*op)
        );
        assert!(!Operation::ALL[..i].contains(op), "{op:?} twice");
        let meta = op.meta();
        assert_eq!(meta.idempotent, meta.method != Method::Post, "{op:?}");
        assert_eq!(meta.deletion, meta.method == Method::Delete, "{op:?}");
        assert_eq!(
            meta.bucket == RateLimitBucket::Reads,
            meta.method == Method::Get,
            "{op:?}"
        );
    }
    assert_eq!(Operation::from_operation_id("get_users"), None);
    let get = Operation::GetUser.meta();
    assert_eq!((get.method, get.path), (Method::Get, "/users/{userId}"));
    let remove = Operation::RemoveUsersFromUserGroup.meta();
    assert_eq!(remove.indexed_array_query_params, ["emails"]);
    assert_eq!(remove.path_with(&["a b/c"]), "/group/a%20b%2Fc/users");
    assert_eq!(
        Operation::DeleteUsers.meta().indexed_array_query_params,
        ["userIds"]
    );
}

/// The operation a builder sends, known from its type alone.
fn operation_of<R: OperationRequest>(_: &R) -> Operation {
    R::OPERATION
}

fn is_deletion<R: Deletion>(_: &R) -> bool {
    true
}

#[test]
fn request_builders_name_their_operation_by_type() {
    let client = Client::with_exec(
        "http://127.0.0.1:9",
        reqwest::Client::new(),
        segment_iam_api::PassThrough,
    );
    assert_eq!(operation_of(&client.get_user()), Operation::GetUser);
    assert_eq!(
        operation_of(&client.create_invites()),
        Operation::CreateInvites
    );
    assert_eq!(
        operation_of(&client.replace_users_in_user_group()),
        Operation::ReplaceUsersInUserGroup
    );
    assert!(is_deletion(&client.delete_user_group()));
}
