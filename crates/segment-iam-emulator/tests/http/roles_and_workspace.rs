//! `list_roles` and `get_workspace`: envelopes, pagination in both query forms, cursors,
//! auth and rate-limit headers, like the other operations.

use segment_iam_emulator::{Emulator, Fixture};

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
    assert_eq!(journal[0].operation.as_deref(), Some("get_workspace"));

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
