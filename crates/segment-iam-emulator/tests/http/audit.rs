//! `listAuditEvents`: every mutation recorded with its documented type, the token's owner as
//! actor and the resource; served newest first, paginated, filtered by time and resource; a
//! workspace without the audit trail answers 403.

use reqwest::Method;
use segment_iam_emulator::{DEFAULT_ACTOR, Emulator};
use serde_json::{Value, json};

use crate::{Api, fixture};

fn events(r: &crate::Resp) -> Vec<Value> {
    assert_eq!(r.status, 200, "{}", r.text);
    r.json["data"]["events"].as_array().unwrap().clone()
}

fn types(events: &[Value]) -> Vec<&str> {
    events.iter().map(|e| e["type"].as_str().unwrap()).collect()
}

/// Every page of `query`, following `pagination.next`; bounded.
async fn all_pages(api: &Api, query: &str) -> (Vec<Value>, usize) {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    for pages in 1..=100 {
        let mut pq = format!("/audit-events?{query}");
        if let Some(c) = &cursor {
            let c: String = url_encode(c);
            pq.push_str(&format!("&pagination.cursor={c}"));
        }
        let r = api.get(&pq).await;
        out.extend(events(&r));
        match r.json["data"]["pagination"]["next"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => return (out, pages),
        }
    }
    panic!("more than 100 pages");
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn some_mutations(api: &Api) -> String {
    let r = api.post("/groups", json!({"name": "Analysts"})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let gid = r.json["data"]["userGroup"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = api
        .post(
            &format!("/groups/{gid}/users"),
            json!({"emails": ["bob+qa@example.com"]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = api
        .patch(&format!("/groups/{gid}"), json!({"name": "Analysts EU"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = api
        .delete(&format!(
            "/group/{gid}/users?emails.0=bob%2Bqa%40example.com"
        ))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    gid
}

#[tokio::test]
async fn mutations_are_served_newest_first_with_type_actor_resource_and_time() {
    let api = Api::fixture().await;
    let gid = some_mutations(&api).await;
    let all = events(&api.get("/audit-events?pagination.count=100").await);
    assert_eq!(
        types(&all),
        [
            "Group Memberships Deleted",
            "User Removed From User Group",
            "User Group Updated",
            "Subjects Added to Group",
            "User Added To User Group",
            "User Group Created",
        ]
    );
    let created = &all[5];
    assert_eq!(created["resourceId"], gid.as_str());
    assert_eq!(created["resourceType"], "USER_GROUP");
    assert_eq!(created["resourceName"], "Analysts");
    assert_eq!(all[2]["resourceName"], "Analysts EU");
    assert_eq!(
        (
            &all[1]["resourceId"],
            &all[1]["resourceType"],
            &all[1]["resourceName"]
        ),
        (&json!("u2"), &json!("USER"), &json!("bob+qa@example.com"))
    );
    for e in &all {
        assert_eq!(e["actor"], DEFAULT_ACTOR);
        assert_eq!(e["actorEmail"], DEFAULT_ACTOR);
        assert!(!e["id"].as_str().unwrap().is_empty());
    }
    // Timestamps are RFC 3339 and never increase down the list.
    let stamps: Vec<&str> = all
        .iter()
        .map(|e| e["timestamp"].as_str().unwrap())
        .collect();
    assert!(
        stamps.iter().all(|t| t.len() == 24 && t.ends_with('Z')),
        "{stamps:?}"
    );
    assert!(stamps.windows(2).all(|w| w[0] >= w[1]), "{stamps:?}");
    // The handle's trail is the same, oldest first.
    let trail = api.emu.audit_events();
    let mut ids: Vec<&str> = all.iter().map(|e| e["id"].as_str().unwrap()).collect();
    ids.reverse();
    assert_eq!(ids, trail.iter().map(|e| e.id.as_str()).collect::<Vec<_>>());
}

#[tokio::test]
async fn pages_hold_every_event_once_even_while_new_ones_arrive() {
    let api = Api::fixture().await;
    for i in 0..7 {
        let r = api.post("/groups", json!({"name": format!("G{i}")})).await;
        assert_eq!(r.status, 200);
    }
    let first = api.get("/audit-events?pagination.count=3").await;
    let page1 = events(&first);
    assert_eq!(first.json["data"]["pagination"]["totalEntries"], 7);
    let next = first.json["data"]["pagination"]["next"]
        .as_str()
        .unwrap()
        .to_string();
    // A newer event lands between pages: it is not on the later pages.
    assert_eq!(
        api.post("/groups", json!({"name": "late"})).await.status,
        200
    );
    let mut rest = Vec::new();
    let mut cursor = Some(next);
    for _ in 0..10 {
        let Some(c) = cursor.take() else { break };
        let r = api
            .get(&format!(
                "/audit-events?pagination.count=3&pagination.cursor={}",
                url_encode(&c)
            ))
            .await;
        rest.extend(events(&r));
        cursor = r.json["data"]["pagination"]["next"]
            .as_str()
            .map(str::to_string);
    }
    let names: Vec<&str> = page1
        .iter()
        .chain(&rest)
        .map(|e| e["resourceName"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["G6", "G5", "G4", "G3", "G2", "G1", "G0"]);
    let (all, pages) = all_pages(&api, "pagination.count=3").await;
    assert_eq!((all.len(), pages), (8, 3));
    assert_eq!(all[0]["resourceName"], "late");
}

#[tokio::test]
async fn filters_by_resource_and_by_time() {
    let api = Api::fixture().await;
    let gid = some_mutations(&api).await;
    let (by_group, _) = all_pages(&api, &format!("resourceId={gid}")).await;
    assert_eq!(
        types(&by_group),
        [
            "Group Memberships Deleted",
            "User Group Updated",
            "Subjects Added to Group",
            "User Group Created"
        ]
    );
    let (users, _) = all_pages(&api, "resourceType=USER").await;
    assert_eq!(
        types(&users),
        ["User Removed From User Group", "User Added To User Group"]
    );
    let (none, _) = all_pages(&api, "resourceId=nobody").await;
    assert!(none.is_empty());

    // Time bounds from the recorded timestamps: start inclusive, end exclusive.
    let r = events(&api.get("/audit-events").await);
    let newest = r[0]["timestamp"].as_str().unwrap().to_string();
    let oldest = r[r.len() - 1]["timestamp"].as_str().unwrap().to_string();
    let (from_newest, _) = all_pages(&api, &format!("startTime={}", url_encode(&newest))).await;
    assert!(!from_newest.is_empty());
    assert!(
        from_newest
            .iter()
            .all(|e| e["timestamp"].as_str().unwrap() >= newest.as_str())
    );
    let (before_oldest, _) = all_pages(&api, &format!("endTime={}", url_encode(&oldest))).await;
    assert!(before_oldest.is_empty(), "{before_oldest:?}");
    let (window, _) = all_pages(
        &api,
        &format!(
            "startTime={}&endTime={}",
            url_encode(&oldest),
            url_encode("2999-01-01T00:00:00+01:00")
        ),
    )
    .await;
    assert_eq!(window.len(), r.len());
    // A malformed time is refused, not ignored.
    let bad = api.get("/audit-events?startTime=yesterday").await;
    assert_eq!(
        (bad.status, bad.field()),
        (422, "startTime"),
        "{}",
        bad.text
    );
}

#[tokio::test]
async fn the_actor_is_the_person_the_token_was_named_for() {
    let api = Api::start(
        Emulator::builder()
            .fixture(fixture())
            .rate_limits(false)
            .token_for("T-ana", "ana@example.com")
            .token_for("T-ben", "ben@example.com")
            .token("T-bare"),
    )
    .await;
    for (token, name) in [("T-ana", "A"), ("T-ben", "B"), ("T-bare", "C")] {
        let r = api
            .send(
                api.http
                    .request(Method::POST, api.url("/groups"))
                    .bearer_auth(token)
                    .json(&json!({"name": name})),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
    let all = events(&api.get("/audit-events").await);
    let who: Vec<(&str, &str)> = all
        .iter()
        .map(|e| {
            (
                e["resourceName"].as_str().unwrap(),
                e["actor"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        who,
        [
            ("C", DEFAULT_ACTOR),
            ("B", "ben@example.com"),
            ("A", "ana@example.com")
        ]
    );
    assert_eq!(all[1]["actorEmail"], "ben@example.com");
}

#[tokio::test]
async fn a_workspace_without_the_audit_trail_answers_403_not_an_empty_list() {
    let api = Api::start(
        Emulator::builder()
            .fixture(fixture())
            .rate_limits(false)
            .audit_trail(false),
    )
    .await;
    assert_eq!(api.post("/groups", json!({"name": "X"})).await.status, 200);
    let r = api.get("/audit-events").await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert!(r.message().contains("audit trail"), "{}", r.text);
    // Recorded all the same, for tests.
    assert_eq!(api.emu.audit_events().len(), 1);
}

#[tokio::test]
async fn every_mutation_leaves_an_event() {
    let api = Api::fixture().await;
    let before = api.emu.audit_events().len();
    let steps: Vec<(Method, &str, Option<Value>)> = vec![
        (
            Method::POST,
            "/invites",
            Some(json!({"invites": [{"email": "new@example.com"}]})),
        ),
        (Method::DELETE, "/invites?emails.0=new%40example.com", None),
        (
            Method::POST,
            "/users/u2/permissions",
            Some(
                json!({"permissions": [{"roleId": crate::MEMBER, "resources": [{"id": "w", "type": "WORKSPACE"}]}]}),
            ),
        ),
        (
            Method::PUT,
            "/users/u2/permissions",
            Some(json!({"permissions": []})),
        ),
        (
            Method::POST,
            "/groups/g2/permissions",
            Some(
                json!({"permissions": [{"roleId": crate::MEMBER, "resources": [{"id": "w", "type": "WORKSPACE"}]}]}),
            ),
        ),
        (
            Method::PUT,
            "/groups/g2/permissions",
            Some(json!({"permissions": []})),
        ),
        (
            Method::PUT,
            "/group/g2/users",
            Some(json!({"emails": ["bob+qa@example.com"]})),
        ),
        (
            Method::POST,
            "/labels",
            Some(json!({"label": {"key": "tier", "value": "gold"}})),
        ),
        (Method::DELETE, "/labels/tier/gold", None),
        (Method::DELETE, "/groups/g2", None),
        (Method::DELETE, "/users?userIds.0=u3", None),
    ];
    let mut seen = before;
    for (method, pq, body) in steps {
        let r = api.call(method.clone(), pq, body).await;
        assert!(r.status < 300, "{method} {pq}: {}", r.text);
        let now = api.emu.audit_events().len();
        assert!(now > seen, "{method} {pq} recorded nothing");
        seen = now;
    }
    let all = events(&api.get("/audit-events?pagination.count=1000").await);
    assert_eq!(all.len(), seen);
    let kinds: std::collections::BTreeSet<&str> = types(&all).into_iter().collect();
    for t in [
        "Non-Segment User Invited to Workspace",
        "Invite Deleted",
        "Policy Created",
        "Policy Deleted",
        "User Policy Updated",
        "User Group Policy Updated",
        "User Added To User Group",
        "Subjects Added to Group",
        "Label Created",
        "Label Deleted",
        "User Group Deleted",
        "Group Memberships Deleted",
    ] {
        assert!(kinds.contains(t), "{t} missing from {kinds:?}");
    }
    // A user's policy events are about the user: `resourceId` finds them.
    let (u2, _) = all_pages(&api, "resourceId=u2").await;
    assert!(types(&u2).contains(&"User Policy Updated"));
}
