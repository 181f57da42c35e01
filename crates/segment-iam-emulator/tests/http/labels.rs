//! Labels and sources: `listLabels`, `createLabel`, `deleteLabel`, `listSources`, labels
//! narrowing permissions, and seeding them (builder and fixtures).

use std::collections::HashSet;

use segment_iam_emulator::{Emulator, Fault, Fixture, Operation, StateSnapshot};
use serde_json::{Value, json};

use crate::{Api, MEMBER, fixture};

const SOURCE_ADMIN: &str = "1WDUuQEbvvYQIILOjS5GMDdHPoZ";

fn enc(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

fn label_strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|l| {
            format!(
                "{}:{}",
                l["key"].as_str().unwrap(),
                l["value"].as_str().unwrap()
            )
        })
        .collect()
}

/// Source Admin on the workspace narrowed by `labels`.
fn narrowed(labels: Value) -> Value {
    json!({"permissions": [{"roleId": SOURCE_ADMIN, "resources": [
        {"id": "9aQ1Lj62S4bomZKLF4DPqW", "type": "WORKSPACE", "labels": labels}]}]})
}

/// The state without its audit trail (a refusal may change nothing, an audit included).
fn state(api: &Api) -> StateSnapshot {
    api.emu.state()
}

#[tokio::test]
async fn every_workspace_has_the_two_environment_labels_and_lists_them_unpaginated() {
    let api = Api::fixture().await;
    let r = api.get("/labels").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        label_strings(&r.json["data"]["labels"]),
        ["environment:dev", "environment:prod"]
    );
    assert!(r.json["data"].get("pagination").is_none(), "{}", r.text);
    // A pagination query is no concern of listLabels: not read, not flagged.
    let r = api.get("/labels?pagination[count]=1").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["data"]["labels"].as_array().unwrap().len(), 2);
    assert!(
        api.emu
            .journal_for(Operation::ListLabels)
            .iter()
            .all(|e| e.applied && !e.nonstandard_query)
    );
    assert_eq!(
        api.emu.label_strings(),
        ["environment:dev", "environment:prod"]
    );
}

#[tokio::test]
async fn create_label_answers_201_lists_it_and_audits_it() {
    let api = Api::fixture().await;
    let r = api
        .post(
            "/labels",
            json!({"label": {"key": "region", "value": "emea-2", "description": "EU"}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(
        r.json["data"]["label"],
        json!({"key": "region", "value": "emea-2", "description": "EU"})
    );
    let r = api
        .post(
            "/labels",
            json!({"label": {"key": "tier", "value": "gold"}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(
        r.json["data"]["label"],
        json!({"key": "tier", "value": "gold"})
    );
    let r = api.get("/labels").await;
    assert_eq!(
        label_strings(&r.json["data"]["labels"]),
        [
            "environment:dev",
            "environment:prod",
            "region:emea-2",
            "tier:gold"
        ]
    );
    let created: Vec<_> = api
        .emu
        .audit_events()
        .into_iter()
        .filter(|e| e.event == "Label Created")
        .map(|e| (e.subject, e.detail))
        .collect();
    assert_eq!(
        created,
        [
            ("region:emea-2".to_string(), "EU".to_string()),
            ("tier:gold".to_string(), String::new())
        ]
    );
    assert_eq!(api.emu.applied_count(Operation::CreateLabel), 2);
}

#[tokio::test]
async fn a_malformed_or_existing_label_is_refused_and_nothing_changes() {
    let api = Api::fixture().await;
    let before = state(&api);
    for (body, field) in [
        (json!({}), "label"),
        (json!({"label": "environment:qa"}), "label"),
        (json!({"label": {"value": "qa"}}), "label.key"),
        (json!({"label": {"key": "environment"}}), "label.value"),
        (
            json!({"label": {"key": "1env", "value": "qa"}}),
            "label.key",
        ),
        (json!({"label": {"key": "", "value": "qa"}}), "label.key"),
        (
            json!({"label": {"key": "env", "value": "q_a"}}),
            "label.value",
        ),
        (
            json!({"label": {"key": "env", "value": "-qa"}}),
            "label.value",
        ),
        (
            json!({"label": {"key": "env:x", "value": "qa"}}),
            "label.key",
        ),
        (
            json!({"label": {"key": "env", "value": "qa", "description": 3}}),
            "label.description",
        ),
    ] {
        let r = api.post("/labels", body.clone()).await;
        assert_eq!(r.status, 422, "{body}: {}", r.text);
        assert_eq!(r.json["errors"][0]["type"], "input-validation", "{body}");
        assert_eq!(r.field(), field, "{body}: {}", r.text);
    }
    let r = api
        .post(
            "/labels",
            json!({"label": {"key": "environment", "value": "prod"}}),
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.text);
    assert_eq!(r.json["errors"][0]["type"], "conflict");
    assert!(r.message().contains("environment:prod"), "{}", r.text);
    assert_eq!(state(&api), before, "refusals change nothing");
    assert_eq!(api.emu.applied_count(Operation::CreateLabel), 0);
}

#[tokio::test]
async fn delete_label_removes_an_unused_label_and_audits_it() {
    let api = Api::fixture().await;
    let r = api
        .post(
            "/labels",
            json!({"label": {"key": "region", "value": "emea"}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = api.delete("/labels/region/emea").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json, json!({"data": {"status": "SUCCESS"}}));
    assert_eq!(
        api.emu.label_strings(),
        ["environment:dev", "environment:prod"]
    );
    let last = api.emu.audit_events().pop().unwrap();
    assert_eq!(
        (last.event.as_str(), last.subject.as_str()),
        ("Label Deleted", "region:emea")
    );
    // Even a default label goes when nothing uses it.
    assert_eq!(api.delete("/labels/environment/dev").await.status, 200);
    assert_eq!(api.emu.label_strings(), ["environment:prod"]);
    // Gone: 404; an empty part: 422.
    let r = api.delete("/labels/region/emea").await;
    assert_eq!(r.status, 404, "{}", r.text);
    assert!(r.message().contains("region:emea"), "{}", r.text);
    assert_eq!(api.delete("/labels/region/").await.status, 422);
    assert_eq!(
        api.delete("/labels/environment").await.status,
        404,
        "no route"
    );
}

#[tokio::test]
async fn a_label_in_use_is_not_deleted_and_the_refusal_counts_its_uses() {
    let api = Api::start(
        Emulator::builder()
            .fixture(fixture())
            .sources(4)
            .rate_limits(false),
    )
    .await;
    // Sources 1 and 3 carry environment:prod; one user permission is narrowed by it.
    let r = api
        .post(
            "/users/u2/permissions",
            narrowed(json!([{"key": "environment", "value": "prod"}])),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let before = state(&api);
    let r = api.delete("/labels/environment/prod").await;
    assert_eq!(r.status, 409, "{}", r.text);
    assert_eq!(r.json["errors"][0]["type"], "conflict");
    assert_eq!(
        r.message(),
        "label environment:prod is in use by 2 sources and 1 permission"
    );
    assert_eq!(state(&api), before, "nothing changed");
    assert!(!api.emu.journal_for(Operation::DeleteLabel)[0].applied);

    // A group's and an invite's permission count as uses too.
    let api = Api::start(Emulator::builder().fixture(fixture()).rate_limits(false)).await;
    let r = api
        .post(
            "/labels",
            json!({"label": {"key": "region", "value": "emea"}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = api
        .put(
            "/groups/g2/permissions",
            narrowed(json!([{"key": "region", "value": "emea"}])),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = api
        .post(
            "/invites",
            json!({"invites": [{"email": "dan@example.com", "permissions": [
                {"roleId": SOURCE_ADMIN, "resources": [{"id": "9aQ1Lj62S4bomZKLF4DPqW", "type": "WORKSPACE"}],
                 "labels": [{"key": "region", "value": "emea"}]}]}]}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = api.delete("/labels/region/emea").await;
    assert_eq!(r.status, 409, "{}", r.text);
    assert_eq!(
        r.message(),
        "label region:emea is in use by 0 sources and 2 permissions"
    );
    // Once the uses are gone, it goes.
    assert_eq!(
        api.put("/groups/g2/permissions", json!({"permissions": []}))
            .await
            .status,
        200
    );
    assert_eq!(
        api.delete("/invites?emails.0=dan%40example.com")
            .await
            .status,
        200
    );
    assert_eq!(api.delete("/labels/region/emea").await.status, 200);
}

#[tokio::test]
async fn a_permission_narrowed_by_an_unknown_label_is_refused_and_nothing_changes() {
    let api = Api::fixture().await;
    let unknown = json!([{"key": "environment", "value": "prod"}, {"key": "env", "value": "prod"}]);
    let before = state(&api);
    for (method, path) in [
        ("POST", "/users/u2/permissions"),
        ("PUT", "/users/u1/permissions"),
        ("POST", "/groups/g1/permissions"),
        ("PUT", "/groups/g1/permissions"),
    ] {
        let body = narrowed(unknown.clone());
        let r = match method {
            "POST" => api.post(path, body).await,
            _ => api.put(path, body).await,
        };
        assert_eq!(r.status, 422, "{method} {path}: {}", r.text);
        assert_eq!(
            r.field(),
            "permissions.0.resources.0.labels.1",
            "{}",
            r.text
        );
        assert!(r.message().contains("env:prod"), "{}", r.text);
    }
    let r = api
        .post(
            "/invites",
            json!({"invites": [{"email": "dan@example.com", "permissions": [
                {"roleId": MEMBER, "labels": [{"key": "env", "value": "prod"}]}]}]}),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(r.field(), "invites.0.permissions.0.labels.0");
    assert_eq!(
        state(&api),
        before,
        "nothing changed, the audit trail included"
    );

    // The workspace's labels are taken, and read back on the permission.
    let r = api
        .post(
            "/users/u2/permissions",
            narrowed(json!([{"key": "environment", "value": "prod"}])),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let u = api.get("/users/u2").await;
    assert_eq!(
        u.json["data"]["user"]["permissions"][0]["resources"][0]["labels"],
        json!([{"key": "environment", "value": "prod"}])
    );
}

#[tokio::test]
async fn sources_page_like_the_other_lists_and_alternate_prod_and_dev() {
    let api = Api::start(Emulator::builder().seed(3).sources(5).rate_limits(false)).await;
    let mut ids = Vec::new();
    let mut labels = Vec::new();
    let mut cursor: Option<String> = None;
    for page in 0.. {
        assert!(page < 10, "bounded");
        let mut pq = "/sources?pagination.count=2".to_string();
        if let Some(c) = &cursor {
            pq.push_str(&format!("&pagination.cursor={}", enc(c)));
        }
        let r = api.get(&pq).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let data = &r.json["data"];
        assert_eq!(data["pagination"]["totalEntries"], 5);
        for s in data["sources"].as_array().unwrap() {
            ids.push(s["id"].as_str().unwrap().to_string());
            labels.push(label_strings(&s["labels"]));
        }
        cursor = data["pagination"]["next"].as_str().map(str::to_string);
        if cursor.is_none() {
            assert_eq!(page, 2, "5 sources in pages of 2");
            break;
        }
    }
    assert_eq!(ids, api.emu.source_ids());
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 5);
    assert_eq!(
        labels,
        [
            ["environment:prod"],
            ["environment:dev"],
            ["environment:prod"],
            ["environment:dev"],
            ["environment:prod"]
        ]
    );
    // The same seed, the same ids; another seed, others.
    let again = Emulator::builder()
        .seed(3)
        .sources(5)
        .start()
        .await
        .unwrap();
    assert_eq!(again.source_ids(), ids);
    let other = Emulator::builder()
        .seed(4)
        .sources(5)
        .start()
        .await
        .unwrap();
    assert_ne!(other.source_ids(), ids);
}

#[tokio::test]
async fn a_source_answers_as_a_complete_source_v1() {
    let api = Api::start(Emulator::builder().sources(1).rate_limits(false)).await;
    let r = api.get("/sources?pagination.count=10").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let s = &r.json["data"]["sources"][0];
    assert_eq!(s["id"], api.emu.source_ids()[0].as_str());
    assert_eq!(s["slug"], "source-1");
    assert_eq!(s["name"], "Source 1");
    assert_eq!(s["workspaceId"], "9aQ1Lj62S4bomZKLF4DPqW");
    assert_eq!(s["enabled"], true);
    assert_eq!(s["writeKeys"], json!([]));
    assert_eq!(s["settings"], json!({}));
    assert_eq!(
        s["labels"],
        json!([{"key": "environment", "value": "prod"}])
    );
    let m = &s["metadata"];
    for field in ["id", "slug", "name", "description"] {
        assert!(m[field].is_string(), "metadata.{field}: {m}");
    }
    assert!(m["logos"]["default"].is_string(), "{m}");
    assert_eq!(m["options"], json!([]));
    assert_eq!(m["categories"], json!([]));
    assert_eq!(m["isCloudEventSource"], false);
}

#[tokio::test]
async fn list_sources_refuses_bad_pages_as_the_other_lists_do() {
    let api = Api::start(Emulator::builder().users(2).sources(2).rate_limits(false)).await;
    for count in ["0", "1001", "x"] {
        let r = api.get(&format!("/sources?pagination.count={count}")).await;
        assert_eq!(r.status, 422, "{count}: {}", r.text);
        assert_eq!(r.field(), "pagination.count");
    }
    let users = api.get("/users?pagination.count=1").await;
    let foreign = users.json["data"]["pagination"]["next"].as_str().unwrap();
    let r = api
        .get(&format!(
            "/sources?pagination.count=1&pagination.cursor={}",
            enc(foreign)
        ))
        .await;
    assert_eq!(
        r.status, 422,
        "a users cursor is no sources cursor: {}",
        r.text
    );
    assert_eq!(r.field(), "pagination.cursor");
    // Without pagination: the default page, everything here.
    let r = api.get("/sources").await;
    assert_eq!(r.json["data"]["sources"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn label_mutations_fall_in_the_mutation_bucket_and_lists_in_the_read_bucket() {
    let api = Api::start(
        Emulator::builder()
            .mutation_limit(1)
            .read_limit(100)
            .sources(1),
    )
    .await;
    let r = api
        .post("/labels", json!({"label": {"key": "a", "value": "b"}}))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = api.delete("/labels/a/b").await;
    assert_eq!(r.status, 429, "{}", r.text);
    assert_eq!(
        api.emu.label_strings().len(),
        3,
        "rate limited: not deleted"
    );
    assert_eq!(api.get("/labels").await.status, 200);
    assert_eq!(api.get("/sources").await.status, 200);
    let j = api.emu.journal();
    let limited: Vec<_> = j
        .iter()
        .filter(|e| e.rate_limited)
        .map(|e| e.operation)
        .collect();
    assert_eq!(limited, [Some(Operation::DeleteLabel)]);
}

#[tokio::test]
async fn faults_hit_label_and_source_operations_like_any_other() {
    let api = Api::start(Emulator::builder().sources(1).rate_limits(false)).await;
    api.emu
        .inject(Fault::status(503).on_operation(Operation::CreateLabel));
    let body = json!({"label": {"key": "region", "value": "emea"}});
    assert_eq!(api.post("/labels", body.clone()).await.status, 503);
    assert_eq!(
        api.emu.label_strings().len(),
        2,
        "before apply: nothing created"
    );
    api.emu.inject(
        Fault::status(500)
            .on_operation(Operation::CreateLabel)
            .after_apply(),
    );
    assert_eq!(api.post("/labels", body.clone()).await.status, 500);
    assert_eq!(
        api.emu.label_strings().len(),
        3,
        "after apply: created, answer lost"
    );
    assert_eq!(
        api.post("/labels", body).await.status,
        409,
        "the retry conflicts"
    );
    assert_eq!(api.emu.applied_count(Operation::CreateLabel), 1);

    api.emu
        .inject(Fault::malformed_body().on_operation(Operation::ListSources));
    let r = api.get("/sources").await;
    assert_eq!(r.status, 200);
    assert!(r.json.is_null(), "malformed: {}", r.text);
    api.emu
        .inject(Fault::status(502).on_operation(Operation::DeleteLabel));
    assert_eq!(api.delete("/labels/region/emea").await.status, 502);
    assert!(api.emu.label_strings().contains(&"region:emea".to_string()));
    api.emu
        .inject(Fault::status(503).on_operation(Operation::ListLabels));
    assert_eq!(api.get("/labels").await.status, 503);
}

#[tokio::test]
async fn the_admin_state_shows_labels_and_sources() {
    let api = Api::start(Emulator::builder().sources(2).rate_limits(false)).await;
    let r = api.send(api.http.get(api.url("/__emulator/state"))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        label_strings(&r.json["labels"]),
        ["environment:dev", "environment:prod"]
    );
    let sources = r.json["sources"].as_array().unwrap();
    assert_eq!(sources.len(), 2);
    assert_eq!(sources[1]["slug"], "source-2");
    assert_eq!(label_strings(&sources[1]["labels"]), ["environment:dev"]);
    let snap: StateSnapshot = serde_json::from_value(r.json.clone()).unwrap();
    assert_eq!(snap, api.emu.state());
}

#[tokio::test]
async fn fixture_labels_replace_the_defaults_and_fixture_sources_carry_them() {
    let f = Fixture::from_json(
        r#"{"labels": [{"key": "environment", "value": "prod"},
                       {"key": "region", "value": "emea", "description": "EU"}],
            "sources": [{"id": "s1", "slug": "web", "name": "Web",
                         "labels": [{"key": "environment", "value": "prod"}, {"key": "region", "value": "emea"}]},
                        {"enabled": false}],
            "users": [{"id": "u1", "email": "ada@example.com", "permissions": [
                {"roleId": "1WDUuQEbvvYQIILOjS5GMDdHPoZ", "resources": [
                    {"id": "9aQ1Lj62S4bomZKLF4DPqW", "type": "WORKSPACE",
                     "labels": [{"key": "region", "value": "emea"}]}]}]}]}"#,
    )
    .unwrap();
    let api = Api::start(Emulator::builder().fixture(f).sources(1).rate_limits(false)).await;
    assert_eq!(api.emu.label_strings(), ["environment:prod", "region:emea"]);
    let r = api.get("/labels").await;
    assert_eq!(r.json["data"]["labels"][1]["description"], "EU");
    let sources = api.emu.sources();
    assert_eq!(sources.len(), 3);
    assert_eq!(
        (sources[0].id.as_str(), sources[0].slug.as_str()),
        ("s1", "web")
    );
    assert_eq!(sources[1].slug, "source-2");
    assert!(!sources[1].enabled && sources[1].name.is_none() && sources[1].labels.is_empty());
    let r = api.get("/sources").await;
    assert!(
        r.json["data"]["sources"][1].get("name").is_none(),
        "{}",
        r.text
    );
    // The permission's label is a use: region:emea cannot go.
    let r = api.delete("/labels/region/emea").await;
    assert_eq!(
        r.message(),
        "label region:emea is in use by 1 source and 1 permission"
    );
}

#[tokio::test]
async fn fixtures_using_unknown_labels_are_refused_with_a_clear_error() {
    for (text, says) in [
        (
            r#"{"sources": [{"labels": [{"key": "env", "value": "prod"}]}]}"#,
            "label `env:prod` is not one of the workspace's labels",
        ),
        (
            r#"{"sources": [{"labels": [{"key": "environment", "value": "prod"}, {"key": "environment", "value": "dev"}]}]}"#,
            "two values of the label key `environment`",
        ),
        (
            r#"{"users": [{"email": "a@example.com", "permissions": [{"roleId": "1WDUuQEbvvYQIILOjS5GMDdHPoZ",
                "resources": [{"id": "w", "type": "WORKSPACE", "labels": [{"key": "env", "value": "prod"}]}]}]}]}"#,
            "label `env:prod` on a permission is not one of the workspace's labels",
        ),
        (
            r#"{"invites": [{"email": "a@example.com", "permissions": [{"roleId": "1WDUuQEbvvYQIILOjS5GMDdHPoZ",
                "labels": [{"key": "region", "value": "emea"}]}]}]}"#,
            "label `region:emea` on a permission",
        ),
        (
            r#"{"labels": [{"key": "environment", "value": "prod"}],
                "groups": [{"name": "G", "permissions": [{"roleId": "1WDUuQEbvvYQIILOjS5GMDdHPoZ",
                "resources": [{"id": "w", "type": "WORKSPACE", "labels": [{"key": "environment", "value": "dev"}]}]}]}]}"#,
            "label `environment:dev` on a permission",
        ),
        (
            r#"{"labels": [{"key": "1x", "value": "y"}]}"#,
            "label `1x:y`: the key starts with '1'",
        ),
        (
            r#"{"labels": [{"key": "x", "value": "y"}, {"key": "x", "value": "y"}]}"#,
            "label `x:y` is given twice",
        ),
        (
            r#"{"sources": [{"id": "s"}, {"id": "s"}]}"#,
            "source id `s` is given twice",
        ),
        (
            r#"{"sources": [{"slug": "a"}, {"slug": "a"}]}"#,
            "source slug `a` is given twice",
        ),
    ] {
        let f = Fixture::from_json(text).unwrap();
        let e = Emulator::builder()
            .fixture(f)
            .start()
            .await
            .expect_err(text);
        let msg = e.to_string();
        assert!(msg.contains(says), "{text}: {msg}");
    }
    assert!(Fixture::from_json(r#"{"sources": [{"lables": []}]}"#).is_err());
    // Seeded sources need both environment labels.
    let f = Fixture::from_json(r#"{"labels": [{"key": "environment", "value": "prod"}]}"#).unwrap();
    assert!(Emulator::builder().fixture(f.clone()).start().await.is_ok());
    let e = Emulator::builder()
        .fixture(f)
        .sources(2)
        .start()
        .await
        .expect_err("no dev label");
    assert!(e.to_string().contains("environment:dev"), "{e}");
}
