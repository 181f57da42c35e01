//! Each fault kind, before and after apply, from Rust and over the admin endpoint.

use std::time::{Duration, Instant};

use segment_iam_emulator::{Emulator, Fault, Operation};
use serde_json::{Value, json};

use crate::{Api, fixture};

#[tokio::test]
async fn a_status_fault_hits_its_operation_the_given_times() {
    let api = Api::fixture().await;
    api.emu
        .inject(Fault::status(503).on_operation(Operation::GetUser).times(2));
    assert_eq!(
        api.get("/users").await.status,
        200,
        "other operations are not hit"
    );
    let r = api.get("/users/u1").await;
    assert_eq!(r.status, 503);
    assert_eq!(r.json["errors"][0]["status"], 503);
    assert_eq!(api.get("/users/u1").await.status, 503);
    assert_eq!(api.get("/users/u1").await.status, 200);
    assert!(api.emu.faults().is_empty());
    let j = api.emu.journal_for(Operation::GetUser);
    assert_eq!(j[0].fault.as_deref(), Some("status:503"));
    assert!(!j[0].applied);
    assert!(j[2].applied && j[2].fault.is_none());
}

#[tokio::test]
async fn a_before_apply_fault_changes_nothing_and_an_after_apply_one_loses_the_answer() {
    let api = Api::fixture().await;
    api.emu
        .inject(Fault::status(502).on_operation(Operation::CreateUserGroup));
    let r = api.post("/groups", json!({"name": "A"})).await;
    assert_eq!(r.status, 502);
    assert_eq!(
        api.emu.group_ids().len(),
        2,
        "before apply: nothing created"
    );

    api.emu.inject(
        Fault::status(500)
            .on_operation(Operation::CreateUserGroup)
            .after_apply(),
    );
    let r = api.post("/groups", json!({"name": "A"})).await;
    assert_eq!(r.status, 500);
    assert_eq!(
        api.emu.group_ids().len(),
        3,
        "after apply: created, response lost"
    );
    // The retry conflicts, and the journal shows it was applied exactly once.
    let r = api.post("/groups", json!({"name": "A"})).await;
    assert_eq!(r.status, 409);
    assert_eq!(api.emu.applied_count(Operation::CreateUserGroup), 1);
    assert_eq!(api.emu.journal_for(Operation::CreateUserGroup).len(), 3);
}

#[tokio::test]
async fn a_path_prefix_fault_hits_only_matching_paths() {
    let api = Api::fixture().await;
    api.emu
        .inject(Fault::status(503).on_path("/groups").times(1));
    assert_eq!(api.get("/users").await.status, 200);
    assert_eq!(api.get("/groups").await.status, 503);
    assert_eq!(api.get("/groups").await.status, 200);
}

#[tokio::test]
async fn a_delay_fault_holds_the_answer() {
    let api = Api::fixture().await;
    api.emu
        .inject(Fault::delay(Duration::from_millis(300)).on_operation(Operation::GetUser));
    let t = Instant::now();
    assert_eq!(api.get("/users/u1").await.status, 200);
    assert!(t.elapsed() >= Duration::from_millis(300));
    api.emu.inject(
        Fault::delay(Duration::from_millis(300))
            .on_operation(Operation::GetUser)
            .after_apply(),
    );
    let t = Instant::now();
    assert_eq!(api.get("/users/u1").await.status, 200);
    assert!(t.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn list_delay_slows_list_pages_only() {
    let api = Api::start(
        Emulator::builder()
            .fixture(fixture())
            .rate_limits(false)
            .list_delay(Duration::from_millis(1500)),
    )
    .await;
    // Lower bounds are robust on a loaded machine; the upper one is generous (a get is not
    // a list page, so it is not delayed by 1.5 s).
    let t = Instant::now();
    api.get("/users").await;
    assert!(t.elapsed() >= Duration::from_millis(1500));
    let t = Instant::now();
    api.get("/users/u1").await;
    assert!(t.elapsed() < Duration::from_millis(1500));
}

async fn raw_get(
    api: &Api,
    path: &str,
) -> Result<(u16, reqwest::header::HeaderMap, Vec<u8>), reqwest::Error> {
    let r = api
        .http
        .get(api.url(path))
        .bearer_auth(&api.token)
        .send()
        .await?;
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let body = r.bytes().await?;
    Ok((status, headers, body.to_vec()))
}

#[tokio::test]
async fn a_dropped_connection_loses_the_answer_and_the_next_request_is_fine() {
    let api = Api::fixture().await;
    api.emu
        .inject(Fault::drop_connection().on_operation(Operation::GetUser));
    assert!(raw_get(&api, "/users/u1").await.is_err());
    assert_eq!(
        api.get("/users/u1").await.status,
        200,
        "next request is fine"
    );

    api.emu.inject(
        Fault::drop_connection()
            .on_operation(Operation::DeleteUserGroup)
            .after_apply(),
    );
    let r = api
        .http
        .delete(api.url("/groups/g2"))
        .bearer_auth(&api.token)
        .send()
        .await;
    let failed = match r {
        Err(_) => true,
        Ok(r) => r.bytes().await.is_err(),
    };
    assert!(failed);
    assert_eq!(
        api.emu.group_ids(),
        vec!["g1"],
        "applied although the response was lost"
    );
    let e = api
        .emu
        .journal_for(Operation::DeleteUserGroup)
        .pop()
        .unwrap();
    assert!(e.applied);
    assert_eq!(e.fault.as_deref(), Some("dropConnection"));
}

#[tokio::test]
async fn truncated_and_malformed_body_faults_damage_the_answer() {
    let api = Api::fixture().await;
    api.emu.inject(
        Fault::truncated_body()
            .on_operation(Operation::GetUser)
            .after_apply(),
    );
    let (status, headers, body) = raw_get(&api, "/users/u1").await.unwrap();
    assert_eq!(status, 200);
    assert_eq!(
        headers["content-length"].to_str().unwrap(),
        body.len().to_string()
    );
    assert!(serde_json::from_slice::<Value>(&body).is_err());
    assert!(body.starts_with(b"{\"data\""));

    api.emu
        .inject(Fault::malformed_body().on_operation(Operation::GetUser));
    let (status, headers, body) = raw_get(&api, "/users/u1").await.unwrap();
    assert_eq!(status, 200);
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    assert!(serde_json::from_slice::<Value>(&body).is_err());

    api.emu.inject(
        Fault::wrong_content_type()
            .on_operation(Operation::GetUser)
            .after_apply(),
    );
    let (status, headers, _) = raw_get(&api, "/users/u1").await.unwrap();
    assert_eq!(status, 200);
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
}

#[tokio::test]
async fn a_fraction_fault_repeats_its_pattern_for_the_same_seed() {
    let run = || async {
        let api = Api::fixture().await;
        api.emu.inject(
            Fault::status(500)
                .on_operation(Operation::GetUser)
                .fraction(0.3, 42),
        );
        let mut pattern = Vec::new();
        for _ in 0..60 {
            pattern.push(api.get("/users/u1").await.status);
        }
        pattern
    };
    let a = run().await;
    let failures = a.iter().filter(|s| **s == 500).count();
    assert!((5..=35).contains(&failures), "{failures}");
    assert_eq!(a, run().await, "same seed, same pattern");
}

#[tokio::test]
async fn admin_endpoints_need_no_token_and_are_not_journaled() {
    let api = Api::fixture().await;
    let admin = |p: &str| format!("{}/__emulator{p}", api.emu.base_url());
    // No token needed.
    let r = api.send(api.http.get(admin("/health"))).await;
    assert_eq!(r.status, 200);
    let r = api
        .send(api.http.post(admin("/faults")).json(&json!({
            "kind": "status", "status": 503, "operation": "list_users", "times": 1, "phase": "before"
        })))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["faults"][0]["operation"], "list_users");
    let r = api
        .send(api.http.post(admin("/faults")).json(&json!([
            {"kind": "delay", "delayMs": 10, "pathPrefix": "/invites"},
            {"kind": "dropConnection", "operation": "get_user", "phase": "after"}
        ])))
        .await;
    assert_eq!(r.json["faults"].as_array().unwrap().len(), 3);
    let r = api
        .send(
            api.http
                .post(admin("/faults"))
                .json(&json!({"kind": "nope"})),
        )
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(api.get("/users").await.status, 503);
    let r = api.send(api.http.delete(admin("/faults"))).await;
    assert_eq!(r.status, 200);
    assert_eq!(api.emu.faults().len(), 0);
    assert_eq!(api.get("/users/u1").await.status, 200);

    let r = api.send(api.http.get(admin("/journal"))).await;
    let entries = r.json["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "admin requests are not journaled");
    assert_eq!(entries[0]["operation"], "list_users");
    assert_eq!(entries[0]["status"], 503);
    assert_eq!(entries[0]["fault"], "status:503");
    assert_eq!(entries[1]["applied"], true);
    assert_eq!(entries[1]["nonstandardQuery"], false);
    assert!(entries[1]["at"].as_u64().unwrap() > 1_600_000_000_000);
    let r = api
        .send(api.http.get(admin("/journal?operation=get_user")))
        .await;
    assert_eq!(r.json["entries"].as_array().unwrap().len(), 1);

    let r = api.send(api.http.get(admin("/state"))).await;
    assert_eq!(r.json["users"][0]["id"], "u1");
    assert_eq!(r.json["groups"][0]["memberCount"], 2);
    api.post("/groups", json!({"name": "New"})).await;
    let r = api.send(api.http.get(admin("/audit"))).await;
    assert_eq!(r.json["events"][0]["event"], "User Group Created");
    let r = api.send(api.http.delete(admin("/journal"))).await;
    assert_eq!(r.status, 200);
    assert!(api.emu.journal().is_empty());
    assert_eq!(api.send(api.http.get(admin("/nope"))).await.status, 404);
}

#[tokio::test]
async fn admin_is_never_rate_limited() {
    let api = Api::start(Emulator::builder().read_limit(1)).await;
    for _ in 0..5 {
        let r = api
            .send(
                api.http
                    .get(format!("{}/__emulator/journal", api.emu.base_url())),
            )
            .await;
        assert_eq!(r.status, 200);
    }
    assert_eq!(api.get("/users").await.status, 200);
    assert_eq!(api.get("/users").await.status, 429);
}

#[tokio::test]
async fn admin_fault_specs_name_operations_in_either_case_and_refuse_unknown_names() {
    let api = Api::fixture().await;
    let admin = |p: &str| format!("{}/__emulator{p}", api.emu.base_url());
    let r = api
        .send(api.http.post(admin("/faults")).json(&json!([
            {"kind": "status", "status": 503, "operation": "getUser"},
            {"kind": "status", "status": 502, "operation": "list_users"}
        ])))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    // Listed back in one spelling, the journal's.
    assert_eq!(r.json["faults"][0]["operation"], "get_user");
    assert_eq!(r.json["faults"][1]["operation"], "list_users");
    assert_eq!(api.get("/users/u1").await.status, 503);
    assert_eq!(api.get("/users").await.status, 502);

    // A misspelt name is refused instead of arming a fault that never fires.
    let r = api
        .send(api.http.post(admin("/faults")).json(&json!({
            "kind": "status", "status": 503, "operation": "getUsers"
        })))
        .await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(r.message().contains("getUsers"), "{}", r.message());
    assert!(
        r.message().contains("get_user (getUser)"),
        "lists the valid names: {}",
        r.message()
    );
    assert!(api.emu.faults().is_empty());
}

#[tokio::test]
async fn admin_journal_filter_takes_either_case_and_refuses_unknown_names() {
    let api = Api::fixture().await;
    let admin = |p: &str| format!("{}/__emulator{p}", api.emu.base_url());
    assert_eq!(api.get("/users/u1").await.status, 200);
    assert_eq!(api.get("/users").await.status, 200);
    for name in ["get_user", "getUser"] {
        let r = api
            .send(api.http.get(admin(&format!("/journal?operation={name}"))))
            .await;
        assert_eq!(r.status, 200, "{name}: {}", r.text);
        let entries = r.json["entries"].as_array().expect("entries");
        assert_eq!(entries.len(), 1, "{name}");
        assert_eq!(entries[0]["operation"], "get_user", "{name}");
    }
    let r = api
        .send(api.http.get(admin("/journal?operation=getUsers")))
        .await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(
        r.message().contains("list_users (listUsers)"),
        "{}",
        r.message()
    );
}
