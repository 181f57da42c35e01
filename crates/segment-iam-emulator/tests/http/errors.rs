//! 401, 404, 406, 413, 414, 422 and the query forms.

use segment_iam_emulator::Emulator;
use serde_json::json;

use crate::{Api, fixture};

#[tokio::test]
async fn a_missing_or_wrong_token_is_401() {
    let api = Api::fixture().await;
    let no_token = api.send(api.http.get(api.url("/users/u1"))).await;
    assert_eq!(no_token.status, 401);
    assert_eq!(no_token.json["errors"][0]["type"], "unauthorized");
    assert!(no_token.json.get("data").is_none());
    let wrong = api
        .send(api.http.get(api.url("/users/u1")).bearer_auth("nope"))
        .await;
    assert_eq!(wrong.status, 401);
    let basic = api
        .send(
            api.http
                .get(api.url("/users/u1"))
                .basic_auth("emulator-token", None::<&str>),
        )
        .await;
    assert_eq!(basic.status, 401);
    let j = api.emu.journal();
    assert_eq!(j.len(), 3);
    assert!(j.iter().all(|e| e.status == 401 && !e.applied));
}

#[tokio::test]
async fn every_configured_token_is_accepted() {
    let api = Api::start(Emulator::builder().token("A").token("B").rate_limits(false)).await;
    assert_eq!(api.emu.token(), "A");
    for t in ["A", "B"] {
        let r = api
            .send(api.http.get(api.url("/users")).bearer_auth(t))
            .await;
        assert_eq!(r.status, 200);
    }
    let r = api
        .send(
            api.http
                .get(api.url("/users"))
                .bearer_auth("emulator-token"),
        )
        .await;
    assert_eq!(r.status, 401);
}

#[tokio::test]
async fn unknown_ids_are_404() {
    let api = Api::fixture().await;
    for path in [
        "/users/nope",
        "/groups/nope",
        "/users/nope/groups",
        "/groups/nope/users",
        "/groups/nope/invites",
    ] {
        let r = api.get(path).await;
        assert_eq!(r.status, 404, "{path}");
        assert_eq!(r.json["errors"][0]["type"], "not-found");
    }
    assert_eq!(
        api.patch("/groups/nope", json!({"name": "x"})).await.status,
        404
    );
    assert_eq!(api.delete("/groups/nope").await.status, 404);
    // Unknown routes and methods.
    let r = api.get("/nope").await;
    assert_eq!(r.status, 404);
    assert!(r.json["errors"].is_array());
    assert_eq!(api.patch("/users", json!({})).await.status, 404);
    assert_eq!(
        api.put("/groups/g1/users", json!({"emails": []}))
            .await
            .status,
        404,
        "plural /groups is not the replace route"
    );
    let j = api.emu.journal();
    assert_eq!(j.last().unwrap().operation, None);
}

#[tokio::test]
async fn invalid_input_is_a_422_naming_the_field() {
    let api = Api::fixture().await;
    let long = "a".repeat(256);
    let r = api.get(&format!("/users/{long}")).await;
    assert_eq!((r.status, r.field()), (422, "userId"));
    assert_eq!(r.json["errors"][0]["type"], "input-validation");
    assert_eq!(
        api.get(&format!("/users/{}", "a".repeat(255))).await.status,
        404
    );
    let r = api.get("/users/").await;
    assert_eq!((r.status, r.field()), (422, "userId"));

    for count in ["0", "1001", "abc", "-1", "2.5"] {
        let r = api.get(&format!("/users?pagination.count={count}")).await;
        assert_eq!((r.status, r.field()), (422, "pagination.count"), "{count}");
    }
    assert_eq!(api.get("/users?pagination.count=1000").await.status, 200);

    let r = api
        .post("/invites", json!({"invites": [{"email": "not-an-email"}]}))
        .await;
    assert_eq!((r.status, r.field()), (422, "invites.0.email"));
    let r = api.post("/invites", json!({"invites": []})).await;
    assert_eq!((r.status, r.field()), (422, "invites"));
    let r = api.post("/invites", json!({})).await;
    assert_eq!((r.status, r.field()), (422, "invites"));
    assert_eq!(r.message(), "\"invites\" is required");

    let r = api.delete("/invites").await;
    assert_eq!((r.status, r.field()), (422, "emails"));
    let r = api.delete("/users").await;
    assert_eq!((r.status, r.field()), (422, "userIds"));
    let r = api.delete("/invites?emails.0=bad").await;
    assert_eq!((r.status, r.field()), (422, "emails.0"));
    let r = api.delete(&format!("/users?userIds.0={long}")).await;
    assert_eq!((r.status, r.field()), (422, "userIds.0"));

    // Malformed JSON.
    let r = api
        .send(
            api.http
                .post(api.url("/groups"))
                .bearer_auth(&api.token)
                .header("content-type", "application/json")
                .body("{\"name\": "),
        )
        .await;
    assert_eq!((r.status, r.field()), (422, "body"));
    let r = api.post("/groups", json!({"name": ""})).await;
    assert_eq!((r.status, r.field()), (422, "name"));
    let r = api.post("/groups", json!({"name": 5})).await;
    assert_eq!((r.status, r.field()), (422, "name"));
    let r = api.post("/groups", json!([1])).await;
    assert_eq!((r.status, r.field()), (422, "body"));

    let r = api
        .post(
            "/users/u1/permissions",
            json!({"permissions": [{"roleId": "nope", "resources": []}]}),
        )
        .await;
    assert_eq!((r.status, r.field()), (422, "permissions.0.roleId"));
    let r = api
        .post(
            "/users/u1/permissions",
            json!({"permissions": [{"roleId": crate::OWNER, "resources": [{"id": "x", "type": "PLANET"}]}]}),
        )
        .await;
    assert_eq!(
        (r.status, r.field()),
        (422, "permissions.0.resources.0.type")
    );
    let r = api
        .post(
            "/groups/g1/users",
            json!({"emails": ["ok@x.io", "a b@x.io"]}),
        )
        .await;
    assert_eq!((r.status, r.field()), (422, "emails.1"));
    // Nothing was applied by any of these.
    assert_eq!(api.emu.state(), Api::fixture().await.emu.state());
    assert!(
        api.emu
            .journal()
            .iter()
            .all(|e| !e.applied || e.status < 300)
    );
}

#[tokio::test]
async fn emails_accept_plus_and_unicode() {
    let api = Api::fixture().await;
    let r = api
        .post(
            "/invites",
            json!({"invites": [{"email": "zoë+tag@exämple.com"}]}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = api
        .delete("/invites?emails.0=zo%C3%AB%2Btag%40ex%C3%A4mple.com")
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

#[tokio::test]
async fn bracketed_and_dotted_query_forms_are_both_accepted() {
    let api = Api::fixture().await;
    // Bracketed pagination (Go / TypeScript SDKs), encoded or not.
    let r = api.get("/users?pagination%5Bcount%5D=1").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["data"]["users"].as_array().unwrap().len(), 1);
    let next = r.json["data"]["pagination"]["next"]
        .as_str()
        .unwrap()
        .to_string();
    let enc: String =
        percent_encoding::utf8_percent_encode(&next, percent_encoding::NON_ALPHANUMERIC)
            .to_string();
    let r = api
        .get(&format!(
            "/users?pagination[count]=1&pagination[cursor]={enc}"
        ))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["data"]["users"][0]["id"], "u2");
    // Bracketed arrays (TypeScript SDK).
    let r = api.delete("/invites?emails[0]=carol%40example.com").await;
    assert_eq!(r.status, 200, "{}", r.text);
    // A lone scalar is not an array.
    let r = api.delete("/users?userIds=u1").await;
    assert_eq!((r.status, r.field()), (422, "userIds"));
    assert!(r.message().contains("userIds.0="), "{}", r.message());
    let r = api.delete("/users?userIds=u1&userIds=u2").await;
    assert_eq!(r.status, 422);
    assert_eq!(api.emu.user_ids().len(), 3);

    let j = api.emu.journal();
    let flags: Vec<bool> = j.iter().map(|e| e.nonstandard_query).collect();
    assert_eq!(flags, vec![true, true, true, true, true]);
    assert_eq!(
        j[1].query,
        format!("pagination[count]=1&pagination[cursor]={enc}")
    );
    // The documented form is not flagged.
    api.emu.clear_journal();
    api.get("/users?pagination.count=1").await;
    assert!(!api.emu.journal()[0].nonstandard_query);
}

#[tokio::test]
async fn strict_mode_refuses_the_bracketed_forms() {
    let api = Api::start(
        Emulator::builder()
            .fixture(fixture())
            .rate_limits(false)
            .strict(true),
    )
    .await;
    let r = api.get("/users?pagination[count]=1").await;
    assert_eq!((r.status, r.field()), (422, "pagination.count"));
    let r = api.delete("/invites?emails[0]=carol%40example.com").await;
    assert_eq!((r.status, r.field()), (422, "emails"));
    assert!(r.message().contains("emails.0="));
    assert_eq!(api.emu.invite_emails().len(), 1);
    let ok = api.get("/users?pagination.count=1").await;
    assert_eq!(ok.status, 200);
    let ok = api.delete("/invites?emails.0=carol%40example.com").await;
    assert_eq!(ok.status, 200);
    let flags: Vec<bool> = api
        .emu
        .journal()
        .iter()
        .map(|e| e.nonstandard_query)
        .collect();
    assert_eq!(flags, vec![true, true, false, false]);
}

#[tokio::test]
async fn uri_too_long() {
    let api = Api::start(
        Emulator::builder()
            .fixture(fixture())
            .rate_limits(false)
            .max_url_len(100),
    )
    .await;
    let q: Vec<String> = (0..20).map(|i| format!("userIds.{i}=u{i}")).collect();
    let r = api.delete(&format!("/users?{}", q.join("&"))).await;
    assert_eq!(r.status, 414, "{}", r.text);
    assert_eq!(r.json["errors"][0]["type"], "uri-too-long");
    assert_eq!(api.emu.user_ids().len(), 3);
    assert_eq!(api.emu.journal()[0].status, 414);
    // Default limit: 8 KiB.
    let api = Api::fixture().await;
    let r = api.get(&format!("/users?x={}", "a".repeat(8200))).await;
    assert_eq!(r.status, 414);
    let r = api.get(&format!("/users?x={}", "a".repeat(8000))).await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn payload_too_large() {
    let api = Api::fixture().await;
    let emails: Vec<String> = (0..60_000)
        .map(|i| format!("user{i}@example.com"))
        .collect();
    let r = api
        .post("/groups/g1/users", json!({ "emails": emails }))
        .await;
    assert_eq!(r.status, 413);
    assert_eq!(api.emu.group("g1").unwrap().member_count, 2);
}

#[tokio::test]
async fn accept_header() {
    let api = Api::fixture().await;
    for accept in ["application/json", "application/vnd.segment.v1+json", "*/*"] {
        let r = api
            .send(
                api.http
                    .get(api.url("/users/u1"))
                    .bearer_auth(&api.token)
                    .header("accept", accept),
            )
            .await;
        assert_eq!(r.status, 200, "{accept}");
    }
    let r = api
        .send(api.http.get(api.url("/users/u1")).bearer_auth(&api.token))
        .await;
    assert_eq!(r.status, 200);
    let r = api
        .send(
            api.http
                .get(api.url("/users/u1"))
                .bearer_auth(&api.token)
                .header("accept", "text/html"),
        )
        .await;
    assert_eq!(r.status, 406);
}

#[tokio::test]
async fn hostile_input_never_panics() {
    let api = Api::fixture().await;
    for pq in [
        "/users/%FF%FE",
        "/users?%",
        "/users?%FF=1",
        "/users?pagination.count=99999999999999999999",
        "/users?pagination.cursor=%00%01",
        "/users?=&&&=&pagination.",
        "/users?userIds.18446744073709551616=a",
        "/groups/%2F..%2F/users",
        "/users/u1/groups?pagination[count]=1&pagination.count=2",
    ] {
        let r = api.get(pq).await;
        assert!(r.status < 500, "{pq}: {}", r.status);
        assert!(
            r.json.get("data").is_some() || r.json.get("errors").is_some(),
            "{pq}"
        );
    }
    let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    for path in ["/groups", "/invites", "/users/u1/permissions"] {
        let r = api
            .send(
                api.http
                    .post(api.url(path))
                    .bearer_auth(&api.token)
                    .body(deep.clone()),
            )
            .await;
        assert_eq!(r.status, 422, "{path}");
    }
    let r = api
        .delete("/users?userIds.99999999999999999999999=u1")
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(api.get("/users/u1").await.status, 200, "still serving");
}

#[tokio::test]
async fn fixture_file_and_fixed_port() {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        file.path(),
        r#"{"users":[{"id":"x1","email":"x@example.com"}]}"#,
    )
    .unwrap();
    let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = probe.local_addr().unwrap().port();
    drop(probe);
    let emu = Emulator::builder()
        .fixture_file(file.path())
        .unwrap()
        .port(port)
        .start()
        .await
        .unwrap();
    assert_eq!(emu.base_url(), format!("http://127.0.0.1:{port}"));
    assert_eq!(emu.user_ids(), vec!["x1"]);
    std::fs::write(file.path(), "{").unwrap();
    assert!(Emulator::builder().fixture_file(file.path()).is_err());
    assert!(
        Emulator::builder()
            .fixture_file("/nonexistent.json")
            .is_err()
    );
}
