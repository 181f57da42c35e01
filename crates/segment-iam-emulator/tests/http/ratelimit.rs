//! 429, X-RateLimit-* headers and windows.

use std::time::{Duration, SystemTime};

use segment_iam_emulator::Emulator;
use serde_json::json;

use crate::Api;

fn reset_of(r: &crate::Resp) -> SystemTime {
    httpdate::parse_http_date(r.header("x-ratelimit-reset").unwrap()).unwrap()
}

#[tokio::test]
async fn mutations_are_limited_per_window() {
    let api = Api::start(
        Emulator::builder()
            .mutation_limit(3)
            .read_limit(100)
            .window(Duration::from_millis(1500)),
    )
    .await;
    for i in 1..=3u32 {
        let r = api
            .post("/groups", json!({ "name": format!("g{i}") }))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(
            r.header("x-ratelimit-consumed"),
            Some(i.to_string().as_str())
        );
        assert_eq!(
            r.header("x-ratelimit-remaining"),
            Some((3 - i).to_string().as_str())
        );
        let reset = reset_of(&r);
        let now = SystemTime::now();
        assert!(
            reset > now && reset <= now + Duration::from_secs(3),
            "{reset:?}"
        );
    }
    let r = api.post("/groups", json!({"name": "g4"})).await;
    assert_eq!(r.status, 429, "{}", r.text);
    assert!(r.header("retry-after").is_none());
    assert_eq!(r.header("x-ratelimit-consumed"), Some("4"));
    assert_eq!(r.header("x-ratelimit-remaining"), Some("0"));
    assert!(reset_of(&r) > SystemTime::now());
    let e = &r.json["errors"][0];
    assert_eq!(e["type"], "RequestError");
    assert_eq!(e["message"], "Too many requests");
    assert_eq!(e["data"]["remainingPoints"], 0);
    assert_eq!(e["data"]["consumedPoints"], 4);
    let wait = e["data"]["msBeforeNext"].as_u64().unwrap();
    assert!(wait > 0 && wait <= 1500, "{wait}");
    // Not applied.
    assert_eq!(api.emu.group_ids().len(), 3);
    let last = api.emu.journal().pop().unwrap();
    assert!(last.rate_limited && !last.applied && last.status == 429);
    assert_eq!(
        (last.rate_limit_consumed, last.rate_limit_remaining),
        (Some(4), Some(0))
    );
    // Reads have their own bucket.
    let r = api.get("/groups").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("x-ratelimit-consumed"), Some("1"));
    assert_eq!(r.header("x-ratelimit-remaining"), Some("99"));
    // A second token has its own windows... but only configured tokens exist; use the
    // same token after the window: a new window opens.
    tokio::time::sleep(Duration::from_millis(wait)).await;
    let r = api.post("/groups", json!({"name": "g5"})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("x-ratelimit-consumed"), Some("1"));
}

#[tokio::test]
async fn msbeforenext_is_exact() {
    let api = Api::start(
        Emulator::builder()
            .mutation_limit(1)
            .window(Duration::from_secs(2)),
    )
    .await;
    assert_eq!(
        api.delete("/groups/nope").await.status,
        404,
        "counted even though it failed"
    );
    let first_sent = std::time::Instant::now();
    let r = api.delete("/groups/nope").await;
    assert_eq!(r.status, 429);
    let wait = r.json["errors"][0]["data"]["msBeforeNext"]
        .as_u64()
        .unwrap();
    assert!(wait > 0 && wait <= 2000, "{wait}");
    // Still inside the window: a second refusal advises what is left of the same wait (the
    // time between the two sends is measured, so a slow machine only makes it smaller).
    let again = api.delete("/groups/nope").await;
    let between = first_sent.elapsed().as_millis() as u64;
    if again.status == 429 {
        let left = again.json["errors"][0]["data"]["msBeforeNext"]
            .as_u64()
            .unwrap();
        assert!(
            left <= wait && left + between + 5 >= wait,
            "{left} vs {wait} after {between} ms"
        );
        // Waiting exactly what it says (plus a millisecond of rounding) is enough.
        tokio::time::sleep(Duration::from_millis(left + 1)).await;
    } else {
        assert!(
            between >= wait,
            "accepted {between} ms after a {wait} ms advice"
        );
    }
    assert_eq!(api.delete("/groups/nope").await.status, 404);
}

#[tokio::test]
async fn rate_limits_are_counted_per_token() {
    let api = Api::start(Emulator::builder().token("A").token("B").mutation_limit(1)).await;
    let post = |t: &'static str| {
        api.http
            .post(api.url("/groups"))
            .bearer_auth(t)
            .json(&json!({"name": t}))
    };
    assert_eq!(api.send(post("A")).await.status, 200);
    assert_eq!(api.send(post("A")).await.status, 429);
    assert_eq!(api.send(post("B")).await.status, 200);
}

#[tokio::test]
async fn reads_have_their_own_limit() {
    let api = Api::start(Emulator::builder().read_limit(2).users(3)).await;
    assert_eq!(api.get("/users").await.status, 200);
    assert_eq!(api.get("/users").await.status, 200);
    let r = api.get("/users").await;
    assert_eq!(r.status, 429);
    // Mutations still pass.
    assert_eq!(api.post("/groups", json!({"name": "x"})).await.status, 200);
}

#[tokio::test]
async fn without_rate_limits_nothing_is_refused_and_no_headers_are_sent() {
    let api = Api::start(Emulator::builder().rate_limits(false).mutation_limit(1)).await;
    for i in 0..5 {
        let r = api
            .post("/groups", json!({ "name": format!("g{i}") }))
            .await;
        assert_eq!(r.status, 200);
        assert!(r.header("x-ratelimit-remaining").is_none());
    }
}
