//! Hostile server data: 10 MB of junk, deeply nested JSON, absurd `totalEntries`, a cursor
//! that repeats. Nothing exhausts memory (the body cap is configurable and enforced) or
//! hangs (every case is bounded in time and requests).

use std::time::{Duration, Instant};

use futures::TryStreamExt;
use segment_iam::Error;
use segment_iam_emulator::{Fault, Operation};
use segment_iam_tests::reliability::{fast_retry, fault_client};
use segment_iam_tests::{TOKEN, emulator, start};

const MIB: usize = 1024 * 1024;

fn junk(len: usize) -> Vec<u8> {
    (0..len).map(|i| b"#x{[\"\\ 9"[i % 8]).collect()
}

/// Cases: 3 (10 MB of junk as application/json on get_user, as text/plain, and 10 MB inside
/// a 500 error answer) with a 1 MiB body limit. Asserts: ResponseTooLarge naming the 1 MiB
/// limit, only 1 request sent (not retried), within 2 s.
#[tokio::test]
async fn ten_megabytes_of_junk_stop_at_the_configured_body_limit() {
    let emu = start(emulator().users(1)).await;
    let client = segment_iam::Client::builder()
        .token(TOKEN)
        .base_url(emu.base_url())
        .retry(fast_retry(3))
        .max_response_bytes(MIB)
        .build()
        .expect("client");
    let id = emu.user_ids()[0].clone();
    for (status, content_type) in [
        (200, "application/json"),
        (200, "text/plain"),
        (500, "application/json"),
    ] {
        emu.inject(
            Fault::respond(status, content_type, junk(10 * MIB)).on_operation(Operation::GetUser),
        );
        let sent = client.metrics().requests;
        let started = Instant::now();
        let error = client.users().get(&id).await.expect_err("too large");
        assert!(
            matches!(error, Error::ResponseTooLarge { limit } if limit == MIB),
            "{status} {content_type}: {error:?}"
        );
        assert_eq!(client.metrics().requests - sent, 1, "not retried");
        assert!(started.elapsed() < Duration::from_secs(2));
        emu.clear_faults();
    }
}

/// Cases: 1 (10 MB of junk under the default 32 MiB limit, on every attempt). Asserts: a
/// Decode error after the 2-attempt budget, within 5 s: junk below the limit is read,
/// refused, and bounded by the retry budget.
#[tokio::test]
async fn junk_under_the_default_limit_is_a_decode_error_within_the_retry_budget() {
    let emu = start(emulator().users(1)).await;
    let client = segment_iam::Client::builder()
        .token(TOKEN)
        .base_url(emu.base_url())
        .retry(fast_retry(2))
        .build()
        .expect("client");
    assert_eq!(segment_iam::DEFAULT_MAX_RESPONSE_BYTES, 32 * MIB);
    emu.inject(
        Fault::respond(200, "application/json", junk(10 * MIB))
            .on_operation(Operation::GetUser)
            .always(),
    );
    let started = Instant::now();
    let error = client
        .users()
        .get(&emu.user_ids()[0])
        .await
        .expect_err("junk");
    assert!(
        matches!(error, Error::Decode { attempts: 2, .. }),
        "{error:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}

/// Cases: 3 (100 000 nested arrays in `data`, 100 000 nested objects, and nesting inside a
/// 422 error envelope). Asserts: a typed error (Decode, or Validation with the envelope
/// unread), no stack overflow, within 2 s each.
#[tokio::test]
async fn deeply_nested_json_is_a_typed_error_not_a_stack_overflow() {
    let emu = start(emulator().users(1)).await;
    let client = fault_client(&emu, 1);
    let depth = 100_000;
    let arrays = format!("{{\"data\":{}{}}}", "[".repeat(depth), "]".repeat(depth));
    let objects = format!(
        "{{\"data\":{}1{}}}",
        "{\"a\":".repeat(depth),
        "}".repeat(depth)
    );
    let errors = format!(
        "{{\"errors\":[{{\"type\":\"x\",\"data\":{}{}}}]}}",
        "[".repeat(depth),
        "]".repeat(depth)
    );
    for (status, body) in [(200, arrays), (200, objects), (422, errors)] {
        emu.inject(
            Fault::respond(status, "application/json", body).on_operation(Operation::GetUser),
        );
        let started = Instant::now();
        let error = client
            .users()
            .get(&emu.user_ids()[0])
            .await
            .expect_err("nested");
        match status {
            200 => assert!(matches!(error, Error::Decode { .. }), "{error:?}"),
            _ => assert!(
                matches!(error, Error::Decode { .. } | Error::Validation(_)),
                "{error:?}"
            ),
        }
        assert!(started.elapsed() < Duration::from_secs(2));
        emu.clear_faults();
    }
}

/// Cases: 8 `totalEntries` values on a last page with no items: integers up to u64::MAX are
/// taken as they are; 1e308, 2^64, -5, 2.5 and 1e15 (a float) are not counts. Asserts: a
/// count gives one page with that total after 1 request; a non-count is a typed Decode error
/// naming the field, after 1 request (well-formed JSON of the wrong shape is not retried),
/// and nothing is preallocated from it (bounded time).
#[tokio::test]
async fn a_total_entries_that_is_not_a_count_is_a_typed_error_never_trusted_for_work() {
    let emu = start(emulator().users(1)).await;
    let client = fault_client(&emu, 1);
    for (raw, expected) in [
        ("18446744073709551615", Some(u64::MAX)),
        ("1000000000000000", Some(1_000_000_000_000_000)),
        ("0", Some(0)),
        ("1e308", None),
        ("18446744073709551616", None),
        ("-5", None),
        ("2.5", None),
        ("1e15", None),
    ] {
        let body = format!(
            "{{\"data\":{{\"users\":[],\"pagination\":{{\"current\":\"MA==\",\"next\":null,\"totalEntries\":{raw}}}}}}}"
        );
        emu.inject(
            Fault::respond(200, "application/json", body).on_operation(Operation::ListUsers),
        );
        let sent = client.metrics().requests;
        let started = Instant::now();
        let pages: Result<Vec<_>, _> = client.users().list().pages().try_collect().await;
        match expected {
            Some(total) => {
                let pages = pages.expect("pages");
                assert_eq!(pages.len(), 1, "{raw}");
                assert!(pages[0].items.is_empty());
                assert_eq!(pages[0].total_entries, Some(total), "{raw}");
            }
            None => {
                let error = pages.expect_err(raw);
                assert!(
                    matches!(&error, Error::Decode { status: Some(200), message, .. } if message.contains("totalEntries") || message.contains("invalid")),
                    "{raw}: {error:?}"
                );
            }
        }
        assert_eq!(client.metrics().requests - sent, 1, "{raw}");
        assert!(started.elapsed() < Duration::from_secs(1));
        emu.clear_faults();
    }
}

/// Cases: 1 (a server that answers every list page with the same `next` cursor). Asserts:
/// the stream ends with RepeatedCursor after exactly 2 requests instead of looping.
#[tokio::test]
async fn a_server_repeating_its_next_cursor_cannot_make_a_list_loop_forever() {
    let emu = start(emulator().users(1)).await;
    let client = fault_client(&emu, 1);
    let body = r#"{"data":{"users":[],"pagination":{"current":"QQ==","next":"Qg=="}}}"#;
    emu.inject(
        Fault::respond(200, "application/json", body)
            .on_operation(Operation::ListUsers)
            .always(),
    );
    let result: Result<Vec<_>, _> = tokio::time::timeout(
        Duration::from_secs(5),
        client.users().list().items().try_collect(),
    )
    .await
    .expect("ends");
    assert!(
        matches!(result, Err(Error::RepeatedCursor { ref cursor }) if cursor == "Qg=="),
        "{result:?}"
    );
    assert_eq!(emu.journal_for(Operation::ListUsers).len(), 2);
}
