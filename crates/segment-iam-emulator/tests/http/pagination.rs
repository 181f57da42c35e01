//! Cursors: every item exactly once, stable under deletions, unforgeable.

use std::collections::HashSet;

use segment_iam_emulator::{Emulator, Fixture, FixtureGroup, FixtureUser};
use serde_json::{Value, json};

use crate::Api;

fn enc(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// Pages through `path`, returning every page's data.
async fn all_pages(api: &Api, path: &str, count: usize) -> Vec<Value> {
    let mut pages = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut pq = format!("{path}?pagination.count={count}");
        if let Some(c) = &cursor {
            pq.push_str(&format!("&pagination.cursor={}", enc(c)));
        }
        let r = api.get(&pq).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let data = r.json["data"].clone();
        cursor = data["pagination"]["next"].as_str().map(str::to_string);
        pages.push(data);
        if cursor.is_none() {
            return pages;
        }
        assert!(pages.len() < 10_000);
    }
}

#[tokio::test]
async fn users_exactly_once_over_many_pages() {
    let api = Api::start(Emulator::builder().users(2_345).rate_limits(false)).await;
    let pages = all_pages(&api, "/users", 1000).await;
    assert_eq!(pages.len(), 3);
    let ids: Vec<String> = pages
        .iter()
        .flat_map(|p| {
            p["users"]
                .as_array()
                .unwrap()
                .iter()
                .map(|u| u["id"].as_str().unwrap().to_string())
        })
        .collect();
    assert_eq!(ids, api.emu.user_ids());
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 2_345);
    assert_eq!(pages[0]["pagination"]["totalEntries"], 2_345);
    assert!(pages[0]["pagination"]["previous"].is_null());
    assert_eq!(
        pages[1]["pagination"]["previous"],
        pages[0]["pagination"]["current"]
    );
    assert_eq!(
        pages[2]["pagination"]["previous"],
        pages[1]["pagination"]["current"]
    );
    assert!(pages[2]["pagination"]["next"].is_null());

    // Smaller pages, same result.
    let pages = all_pages(&api, "/users", 97).await;
    assert_eq!(pages.len(), 25);
    let n: usize = pages
        .iter()
        .map(|p| p["users"].as_array().unwrap().len())
        .sum();
    assert_eq!(n, 2_345);
}

#[tokio::test]
async fn pages_stay_stable_when_items_are_deleted() {
    let api = Api::start(Emulator::builder().users(30).rate_limits(false)).await;
    let first = api.get("/users?pagination.count=10").await;
    let next = first.json["data"]["pagination"]["next"]
        .as_str()
        .unwrap()
        .to_string();
    let before = api.emu.user_ids();
    // Delete the last item of page 1 and the first of page 2.
    let r = api
        .delete(&format!(
            "/users?userIds.0={}&userIds.1={}",
            before[9], before[10]
        ))
        .await;
    assert_eq!(r.status, 200);
    let second = api
        .get(&format!(
            "/users?pagination.count=10&pagination.cursor={}",
            enc(&next)
        ))
        .await;
    assert_eq!(second.status, 200, "{}", second.text);
    let ids: Vec<&str> = second.json["data"]["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        before[11..21]
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn every_list_pages() {
    let members: Vec<String> = (0..25).map(|i| format!("m{i}@example.com")).collect();
    let mut f = Fixture::default();
    for (i, m) in members.iter().enumerate().take(12) {
        f.users.push(FixtureUser {
            id: Some(format!("u{i}")),
            email: m.clone(),
            ..Default::default()
        });
    }
    for m in &members[12..] {
        f.invites.push(segment_iam_emulator::FixtureInvite {
            email: m.clone(),
            permissions: vec![],
        });
    }
    for g in 0..7 {
        f.groups.push(FixtureGroup {
            id: Some(format!("g{g}")),
            name: format!("G{g}"),
            members: members.clone(),
            permissions: vec![],
        });
    }
    let api = Api::start(Emulator::builder().fixture(f).rate_limits(false)).await;
    let count = |pages: &[Value], key: &str| -> usize {
        pages.iter().map(|p| p[key].as_array().unwrap().len()).sum()
    };
    let p = all_pages(&api, "/groups/g3/users", 4).await;
    assert_eq!((p.len(), count(&p, "users")), (3, 12));
    let p = all_pages(&api, "/groups/g3/invites", 5).await;
    assert_eq!((p.len(), count(&p, "emails")), (3, 13));
    let p = all_pages(&api, "/users/u0/groups", 3).await;
    assert_eq!((p.len(), count(&p, "groups")), (3, 7));
    let p = all_pages(&api, "/groups", 3).await;
    assert_eq!((p.len(), count(&p, "userGroups")), (3, 7));
    assert_eq!(p[0]["userGroups"][0]["memberCount"], 25);
    let p = all_pages(&api, "/invites", 5).await;
    assert_eq!((p.len(), count(&p, "invites")), (3, 13));
}

#[tokio::test]
async fn forged_cursors_are_rejected() {
    let api = Api::start(Emulator::builder().users(30).invites(30).rate_limits(false)).await;
    let r = api.get("/users?pagination.count=10").await;
    let next = r.json["data"]["pagination"]["next"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(next.len() > 20, "not a guessable offset: {next}");
    // Tampered.
    let mut forged = next.clone().into_bytes();
    forged[5] = if forged[5] == b'A' { b'B' } else { b'A' };
    let forged = String::from_utf8(forged).unwrap();
    for bad in [forged.as_str(), "MTA=", "10", "MA==", "not a cursor", "%%%"] {
        let r = api
            .get(&format!(
                "/users?pagination.count=10&pagination.cursor={}",
                enc(bad)
            ))
            .await;
        assert_eq!(r.status, 422, "{bad}: {}", r.text);
        assert_eq!(r.field(), "pagination.cursor");
    }
    // A users cursor is not an invites cursor.
    let r = api
        .get(&format!(
            "/invites?pagination.count=10&pagination.cursor={}",
            enc(&next)
        ))
        .await;
    assert_eq!(r.status, 422);
    // Another emulator's cursor is unknown here.
    let other = Api::start(Emulator::builder().users(30).rate_limits(false)).await;
    let r = other
        .get(&format!(
            "/users?pagination.count=10&pagination.cursor={}",
            enc(&next)
        ))
        .await;
    assert_eq!(r.status, 422);
    // Genuine one works; sent unencoded, its `+` would turn into a space and break.
    let r = api
        .get(&format!(
            "/users?pagination.count=10&pagination.cursor={}",
            enc(&next)
        ))
        .await;
    assert_eq!(r.status, 200);
    let _ = json!(null);
}
