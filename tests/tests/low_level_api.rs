//! `Client::api()`, the generated client underneath the facade, goes through the same retry
//! layer as the facade's own calls: the same pacing, 429 handling and idempotency-aware retries.

use std::time::Duration;

use segment_iam::api::ClientIamUsersExt;
use segment_iam_emulator::{EmulatorHandle, Fault, JournalEntry, Operation};
use segment_iam_tests::reliability::fast_retry;
use segment_iam_tests::{TOKEN, emulator, start};

/// The advice in the injected 429's envelope.
const MS_BEFORE_NEXT: u64 = 400;

/// Two 503s, then a 429 advising `MS_BEFORE_NEXT`, on `get_user`.
fn inject_faults(emu: &EmulatorHandle) {
    emu.inject(Fault::status(503).on_operation(Operation::GetUser).times(2));
    let body = format!(
        r#"{{"errors":[{{"type":"RateLimited","message":"Too many requests","data":{{"msBeforeNext":{MS_BEFORE_NEXT}}}}}]}}"#
    );
    emu.inject(Fault::respond(429, "application/json", body).on_operation(Operation::GetUser));
}

/// The statuses `get_user` got, in order, and the time between the 429 and the request after
/// it.
fn wire(emu: &EmulatorHandle) -> (Vec<u16>, Duration) {
    let entries: Vec<JournalEntry> = emu.journal_for(Operation::GetUser);
    let statuses = entries.iter().map(|e| e.status).collect();
    let gap = entries
        .windows(2)
        .find(|pair| pair[0].status == 429)
        .map(|pair| pair[1].elapsed.saturating_sub(pair[0].elapsed))
        .unwrap_or_default();
    (statuses, gap)
}

/// Cases: 1 user fetched twice, once through `client.api()` and once through the facade, each
/// meeting 503, 503, then a 429 with `msBeforeNext`. Asserts: both succeed with the user; both
/// journals read exactly 503, 503, 429, 200; both waited at least `msBeforeNext` after the 429
/// (a lower bound, which a loaded machine only lengthens); the client counted 3 retries and
/// one 429 for each.
#[tokio::test]
async fn a_low_level_get_is_retried_through_503s_and_a_429_exactly_as_a_facade_call() {
    let retry = fast_retry(5);
    let mut seen = Vec::new();
    for low_level in [true, false] {
        let emu = start(emulator().users(1)).await;
        let client = segment_iam::Client::builder()
            .token(TOKEN)
            .base_url(emu.base_url())
            .retry(retry)
            .build()
            .expect("client");
        let id = emu.user_ids()[0].clone();
        inject_faults(&emu);
        let user = if low_level {
            client
                .api()
                .get_user()
                .user_id(id.as_str())
                .send()
                .await
                .expect("low-level call recovers")
                .into_inner()
                .data
                .user
        } else {
            client.users().get(&id).await.expect("facade call recovers")
        };
        assert_eq!(user.id, id);
        let (statuses, gap) = wire(&emu);
        assert_eq!(statuses, [503, 503, 429, 200], "low level: {low_level}");
        assert!(
            gap >= Duration::from_millis(MS_BEFORE_NEXT),
            "low level: {low_level}: resent {gap:?} after the 429"
        );
        let metrics = client.metrics();
        assert_eq!((metrics.retries, metrics.rate_limited), (3, 1));
        seen.push(statuses);
    }
    assert_eq!(seen[0], seen[1], "the same wire for both");
}

/// Cases: 1 POST (`create_invites`) through `client.api()` answered 503. Asserts: it is not
/// re-sent (it may have been applied), exactly as the facade's `invites().create`.
#[tokio::test]
async fn a_low_level_post_is_not_resent_after_a_503() {
    let emu = start(emulator()).await;
    let client = segment_iam::Client::builder()
        .token(TOKEN)
        .base_url(emu.base_url())
        .retry(fast_retry(5))
        .build()
        .expect("client");
    emu.inject(
        Fault::status(503)
            .on_operation(Operation::CreateInvites)
            .after_apply(),
    );
    let error = client
        .api()
        .create_invites()
        .body(segment_iam::types::CreateInvitesV1Input {
            invites: vec![segment_iam::types::InviteV1 {
                email: "new@example.com".into(),
                permissions: vec![],
            }],
        })
        .send()
        .await
        .expect_err("503");
    assert_eq!(error.status().map(|s| s.as_u16()), Some(503));
    assert_eq!(
        emu.journal_for(Operation::CreateInvites).len(),
        1,
        "sent once"
    );
    assert_eq!(client.metrics().retries, 0);
}

/// Cases: 1 user fetched through `client.api()` from an emulator with its rate limits on.
/// Asserts: the value carries the service's headers, its `X-RateLimit-*` and `Content-Type`
/// among them. The retry layer hands a low-level call its answer whole; only facade calls,
/// which read nothing but the status and body, get those alone.
#[tokio::test]
async fn a_low_level_answer_keeps_the_services_headers() {
    let emu = start(emulator().users(1).rate_limits(true)).await;
    let client = segment_iam::Client::builder()
        .token(TOKEN)
        .base_url(emu.base_url())
        .build()
        .expect("client");
    let id = emu.user_ids()[0].clone();
    let value = client
        .api()
        .get_user()
        .user_id(id.as_str())
        .send()
        .await
        .expect("a user");
    let header = |name: &str| {
        value
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    assert!(
        header("x-ratelimit-remaining").is_some(),
        "{:?}",
        value.headers()
    );
    assert!(
        header("content-type").is_some_and(|v| v.starts_with("application/json")),
        "{:?}",
        value.headers()
    );
    assert_eq!(value.into_inner().data.user.id, id);
}
