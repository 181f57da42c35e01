//! `list_roles` and `get_workspace`: envelopes, pagination in both query forms, cursors,
//! auth and rate-limit headers, like the other operations.

use std::time::Duration;

use segment_iam_emulator::{Emulator, Fault, Fixture, Operation, seed::WORKSPACE_ID};
use serde_json::json;

use crate::{Api, OWNER};

fn with_roles(n: usize) -> Fixture {
    let roles: Vec<String> = (0..n)
        .map(|i| {
            format!(r#"{{"id": "custom{i}", "name": "Custom {i}", "description": "role {i}"}}"#)
        })
        .collect();
    Fixture::from_json(&format!(r#"{{"roles": [{}]}}"#, roles.join(","))).unwrap()
}

#[tokio::test]
async fn roles_page_through_every_role_once_in_both_query_forms() {
    let api = Api::start(
        Emulator::builder()
            .fixture(with_roles(7))
            .rate_limits(false),
    )
    .await;
    let expected: Vec<String> = api.emu.state().roles.into_iter().map(|r| r.id).collect();
    assert_eq!(expected.len(), 15, "8 default roles and 7 from the fixture");
    for form in ["pagination.count=4", "pagination[count]=4"] {
        let mut seen = Vec::new();
        let mut query = format!("/roles?{form}");
        let mut pages = 0;
        loop {
            let r = api.get(&query).await;
            assert_eq!(r.status, 200, "{}", r.text);
            pages += 1;
            for role in r.json["data"]["roles"].as_array().unwrap() {
                seen.push(role["id"].as_str().unwrap().to_string());
                assert!(role["name"].is_string() && role["description"].is_string());
            }
            assert_eq!(r.json["data"]["pagination"]["totalEntries"], 15);
            match r.json["data"]["pagination"]["next"].as_str() {
                Some(next) => {
                    let next = next
                        .replace('+', "%2B")
                        .replace('/', "%2F")
                        .replace('=', "%3D");
                    query = format!("/roles?{form}&pagination.cursor={next}");
                }
                None => break,
            }
            assert!(pages < 10, "bounded");
        }
        assert_eq!(pages, 4, "{form}");
        assert_eq!(seen, expected, "{form}");
    }
    let first = api.get("/roles").await;
    assert_eq!(first.json["data"]["roles"][0]["id"], OWNER);
    assert_eq!(first.json["data"]["roles"][0]["name"], "Workspace Owner");
    assert!(api.emu.journal().iter().any(|e| e.nonstandard_query));
}

#[tokio::test]
async fn a_forged_or_foreign_roles_cursor_is_a_422() {
    let api = Api::start(Emulator::builder().rate_limits(false)).await;
    let users_cursor =
        api.get("/users?pagination.count=1").await.json["data"]["pagination"]["current"]
            .as_str()
            .unwrap()
            .to_string();
    for bad in [users_cursor.as_str(), "MA==", "forged"] {
        let r = api.get(&format!("/roles?pagination.cursor={bad}")).await;
        assert_eq!((r.status, r.field()), (422, "pagination.cursor"), "{bad}");
    }
}

#[tokio::test]
async fn the_workspace_is_answered_with_auth_and_rate_limit_headers() {
    let api = Api::start(Emulator::builder().workspace("ws1", "acme", "Acme Inc")).await;
    let r = api.get("/").await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.json,
        serde_json::json!({"data": {"workspace": {"id": "ws1", "slug": "acme", "name": "Acme Inc"}}})
    );
    assert!(r.header("x-ratelimit-remaining").is_some());
    assert_eq!(api.emu.workspace().id, "ws1");
    let anonymous = api.send(api.http.get(api.url("/"))).await;
    assert_eq!(anonymous.status, 401);
    let roles = api.send(api.http.get(api.url("/roles"))).await;
    assert_eq!(roles.status, 401);
    let journal = api.emu.journal();
    assert_eq!(journal[0].operation, Some(Operation::GetWorkspace));

    let default = Api::start(Emulator::builder()).await;
    assert_eq!(
        default.get("/").await.json["data"]["workspace"]["id"],
        "9aQ1Lj62S4bomZKLF4DPqW"
    );
}

#[tokio::test]
async fn strict_mode_refuses_the_bracketed_roles_pagination() {
    let api = Api::start(Emulator::builder().strict(true).rate_limits(false)).await;
    assert_eq!(api.get("/roles?pagination.count=2").await.status, 200);
    let r = api.get("/roles?pagination[count]=2").await;
    assert_eq!(r.status, 422, "{}", r.text);
}

#[tokio::test]
async fn both_are_reads_counted_in_the_read_bucket() {
    // An hour-long window: nothing here depends on how fast the requests go.
    let api = Api::start(
        Emulator::builder()
            .read_limit(2)
            .mutation_limit(5)
            .window(Duration::from_secs(3600)),
    )
    .await;
    let roles = api.get("/roles?pagination.count=3").await;
    assert_eq!(roles.status, 200, "{}", roles.text);
    assert_eq!(
        (
            roles.header("x-ratelimit-consumed"),
            roles.header("x-ratelimit-remaining")
        ),
        (Some("1"), Some("1"))
    );
    assert!(roles.header("x-ratelimit-reset").is_some());
    let workspace = api.get("/").await;
    assert_eq!(
        (workspace.status, workspace.header("x-ratelimit-consumed")),
        (200, Some("2"))
    );
    for path in ["/roles", "/"] {
        let refused = api.get(path).await;
        assert_eq!(refused.status, 429, "{path}");
        assert!(refused.json["errors"][0]["data"]["msBeforeNext"].is_u64());
    }
    // Mutations have their own bucket.
    let created = api.post("/groups", json!({"name": "not limited"})).await;
    assert_eq!(
        (created.status, created.header("x-ratelimit-consumed")),
        (200, Some("1")),
        "{}",
        created.text
    );
    let seen: Vec<(Option<Operation>, u16, bool, bool)> = api
        .emu
        .journal()
        .into_iter()
        .map(|e| (e.operation, e.status, e.applied, e.rate_limited))
        .collect();
    use Operation::{CreateUserGroup, GetWorkspace, ListRoles};
    assert_eq!(
        seen,
        vec![
            (Some(ListRoles), 200, true, false),
            (Some(GetWorkspace), 200, true, false),
            (Some(ListRoles), 429, false, true),
            (Some(GetWorkspace), 429, false, true),
            (Some(CreateUserGroup), 200, true, false),
        ]
    );
}

#[tokio::test]
async fn faults_target_the_new_operations_by_variant() {
    let api = Api::start(Emulator::builder().rate_limits(false)).await;
    api.emu
        .inject(Fault::status(503).on_operation(Operation::ListRoles));
    api.emu.inject(
        Fault::status(500)
            .on_operation(Operation::GetWorkspace)
            .after_apply(),
    );
    // Each fault fires on its own operation only, once.
    assert_eq!(api.get("/").await.status, 500);
    assert_eq!(api.get("/").await.status, 200);
    assert_eq!(api.get("/roles").await.status, 503);
    assert_eq!(api.get("/roles").await.status, 200);
    assert!(api.emu.faults().is_empty());
    // A before-apply fault is not applied; an after-apply one was.
    assert_eq!(api.emu.applied_count(Operation::ListRoles), 1);
    assert_eq!(api.emu.applied_count(Operation::GetWorkspace), 2);
    let faulted: Vec<(Operation, Option<String>)> = api
        .emu
        .journal()
        .into_iter()
        .filter_map(|e| Some((e.operation?, e.fault)))
        .collect();
    assert_eq!(faulted.len(), 4);
    assert!(faulted[0].1.is_some() && faulted[1].1.is_none() && faulted[2].1.is_some());
    assert_eq!("list_roles".parse(), Ok(Operation::ListRoles));
    assert_eq!("listRoles".parse(), Ok(Operation::ListRoles));
    assert_eq!(
        (
            Operation::GetWorkspace.method(),
            Operation::GetWorkspace.path()
        ),
        ("GET", "/")
    );
}

#[tokio::test]
async fn the_workspace_from_a_fixture_shows_everywhere() {
    let fixture = Fixture::from_json(
        r#"{"workspace": {"id": "wsF", "slug": "from-fixture", "name": "From Fixture"},
            "roles": [{"id": "plain", "name": "Plain"}]}"#,
    )
    .unwrap();
    let api = Api::start(
        Emulator::builder()
            .fixture(fixture)
            .users(1)
            .rate_limits(false),
    )
    .await;
    assert_eq!(api.emu.workspace_id(), "wsF");
    let state = api.emu.state();
    assert_eq!(state.workspace.slug, "from-fixture");
    // The seeded owner holds its role on the configured workspace.
    assert_eq!(state.users[0].permissions[0].resources[0].id, "wsF");
    let r = api.get("/").await;
    assert_eq!(r.json["data"]["workspace"]["name"], "From Fixture");
    // A fixture role without a description lists an empty one.
    let roles = api.get("/roles?pagination.count=1000").await;
    let last = roles.json["data"]["roles"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(
        last,
        json!({"id": "plain", "name": "Plain", "description": ""})
    );
    assert_eq!(
        roles.json["data"]["pagination"]["next"],
        serde_json::Value::Null
    );

    let default = Api::start(Emulator::builder().rate_limits(false)).await;
    assert_eq!(default.emu.workspace_id(), WORKSPACE_ID);
    assert_eq!(
        default.get("/").await.json["data"]["workspace"],
        json!({"id": WORKSPACE_ID, "slug": "emulated-workspace", "name": "Emulated Workspace"})
    );
}
