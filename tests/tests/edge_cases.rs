//! Edge cases, each waited on through the emulator's journal (never a sleep): a 429 without
//! `msBeforeNext` waited out from its other signals, an undocumented 2xx, a list whose second
//! page fails for good, the items stream's prefetch threshold, and the 409/413/414 mappings.
//!
//! The emulator cannot put `Retry-After` (or a reset date without `msBeforeNext`) on a 429 of
//! its own: an injected `Fault::respond` sets only the content type. The header cases therefore
//! go through [`relay_adding_to_429`], a relay on 127.0.0.1 in front of the emulator that adds
//! one header to every 429 it passes back; every request still reaches, and is journaled by,
//! the emulator.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures::StreamExt;
use segment_iam::{Client, Error, Invite, Outcome, RetryConfig};
use segment_iam_emulator::{EmulatorHandle, Fault, JournalEntry, Operation};
use segment_iam_tests::{TOKEN, client, client_builder, emulator, start};

/// How much earlier than advised a retry may arrive and still count as having waited: the
/// point is the order of events, not the precision of timers.
const TOLERANCE: Duration = Duration::from_millis(50);

/// A 429 envelope without `msBeforeNext`: the wait must come from elsewhere.
const BARE_429: &str = r#"{"errors":[{"type":"RequestError","message":"Too many requests"}]}"#;

/// An IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the form of `X-RateLimit-Reset` and of a
/// dated `Retry-After`. Written here because this crate does not depend on `httpdate`.
fn http_date(at: SystemTime) -> String {
    const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let secs = at.duration_since(UNIX_EPOCH).expect("after 1970").as_secs();
    let (days, time) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm, 400-year eras).
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    format!(
        "{}, {day:02} {} {year} {:02}:{:02}:{:02} GMT",
        WEEKDAYS[(days % 7) as usize],
        MONTHS[(month - 1) as usize],
        time / 3_600,
        time % 3_600 / 60,
        time % 60
    )
}

/// A whole second between 1 and 2 s from now (HTTP dates have one-second resolution).
fn one_to_two_seconds_ahead() -> SystemTime {
    let in_two = SystemTime::now() + Duration::from_secs(2);
    let secs = in_two
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    UNIX_EPOCH + Duration::from_secs(secs)
}

/// Starts a relay on 127.0.0.1 that passes every request to `upstream` unchanged (one
/// connection per request: `Connection: close` both ways) and adds `name: value` to every 429
/// it passes back. Returns the relay's base URL. The thread lives as long as the test process.
fn relay_adding_to_429(upstream: SocketAddr, name: &'static str, value: String) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("the relay binds 127.0.0.1");
    let addr = listener.local_addr().expect("the relay's address");
    std::thread::spawn(move || {
        for connection in listener.incoming() {
            let Ok(connection) = connection else { continue };
            if let Err(e) = relay_one(connection, upstream, name, &value) {
                eprintln!("relay: {e}");
            }
        }
    });
    format!("http://{addr}")
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Relays one request and its answer.
fn relay_one(
    mut downstream: TcpStream,
    upstream: SocketAddr,
    name: &str,
    value: &str,
) -> std::io::Result<()> {
    let limit = Some(Duration::from_secs(30));
    downstream.set_read_timeout(limit)?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = find(&buf, b"\r\n\r\n") {
            break i + 4;
        }
        let n = downstream.read(&mut chunk)?;
        if n == 0 {
            // A connection opened and closed without a request.
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let lines: Vec<&str> = head
        .trim_end()
        .split("\r\n")
        .filter(|line| !line.to_ascii_lowercase().starts_with("connection:"))
        .collect();
    let body_len = lines
        .iter()
        .find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim()
                .eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>().ok())
                .flatten()
        })
        .unwrap_or(0);
    while buf.len() < head_end + body_len {
        let n = downstream.read(&mut chunk)?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let mut up = TcpStream::connect(upstream)?;
    up.set_read_timeout(limit)?;
    up.write_all(format!("{}\r\nconnection: close\r\n\r\n", lines.join("\r\n")).as_bytes())?;
    up.write_all(&buf[head_end..head_end + body_len])?;
    let mut answer = Vec::new();
    up.read_to_end(&mut answer)?;
    let status_end = find(&answer, b"\r\n").unwrap_or(answer.len());
    let is_429 = String::from_utf8_lossy(&answer[..status_end])
        .split(' ')
        .nth(1)
        == Some("429");
    if is_429 {
        let extra = format!("\r\n{name}: {value}");
        answer.splice(status_end..status_end, extra.into_bytes());
    }
    downstream.write_all(&answer)?;
    downstream.shutdown(std::net::Shutdown::Both)
}

/// A client of `base_url` with the test token. `initial_backoff` sets the standard backoff
/// after a 429 without advice: between half of it and all of it, plus up to 50 ms of jitter.
fn client_of(base_url: &str, initial_backoff: Duration) -> Client {
    Client::builder()
        .token(TOKEN)
        .base_url(base_url)
        .timeout(Duration::from_secs(10))
        .retry(
            RetryConfig::standard()
                .with_initial_backoff(initial_backoff)
                .with_max_backoff(initial_backoff)
                .with_max_total_wait(Duration::from_secs(20)),
        )
        .build()
        .expect("client builds")
}

/// Injects one 429 (`body` as `content_type`) on `get_user`, gets a user through a relay that
/// adds `header` to 429s (when given), and checks the call succeeds with exactly two requests,
/// the first answered 429. Returns the two journal entries.
async fn get_user_after_one_429(
    emu: &EmulatorHandle,
    content_type: &str,
    body: &'static str,
    header: Option<(&'static str, String)>,
    initial_backoff: Duration,
) -> (JournalEntry, JournalEntry) {
    emu.inject(
        Fault::respond(429, content_type, body)
            .on_operation(Operation::GetUser)
            .times(1),
    );
    let base_url = match header {
        Some((name, value)) => relay_adding_to_429(emu.addr(), name, value),
        None => emu.base_url(),
    };
    let client = client_of(&base_url, initial_backoff);
    let id = emu.user_ids()[0].clone();
    let user = client
        .users()
        .get(&id)
        .await
        .expect("the call succeeds after waiting out the 429");
    assert_eq!(user.id, id);
    let sent = emu.journal_for(Operation::GetUser);
    assert_eq!(sent.len(), 2, "one 429, one retry: {sent:?}");
    assert_eq!((sent[0].status, sent[1].status), (429, 200));
    assert_eq!(client.metrics().rate_limited, 1);
    (sent[0].clone(), sent[1].clone())
}

/// The time between two requests, as the emulator saw them arrive.
fn gap(first: &JournalEntry, second: &JournalEntry) -> Duration {
    second
        .elapsed
        .checked_sub(first.elapsed)
        .expect("journal entries in order")
}

/// The wait a date advised to a client that heard it no earlier than `first` arrived.
fn advised_by(date: SystemTime, first: &JournalEntry) -> Duration {
    date.duration_since(first.at)
        .expect("the date lies after the first request")
}

/// The date formatter the header cases rely on writes the RFC 9110 example exactly (were it
/// wrong, the client would find no advice and the date cases would fail on their gap).
#[test]
fn http_date_writes_the_rfc_example() {
    let example = UNIX_EPOCH + Duration::from_secs(784_111_777);
    assert_eq!(http_date(example), "Sun, 06 Nov 1994 08:49:37 GMT");
    let leap_day = UNIX_EPOCH + Duration::from_secs(951_782_400);
    assert_eq!(http_date(leap_day), "Tue, 29 Feb 2000 00:00:00 GMT");
}

/// A 429 whose only signal is `X-RateLimit-Reset` (a date 1-2 s ahead, no `msBeforeNext`, no
/// `Retry-After`) is waited out until that date: the retry reaches the emulator no earlier
/// than the date advised. Fails if the reset header is ignored (the standard backoff here is
/// 10-20 ms).
#[tokio::test]
async fn a_429_with_only_a_reset_date_is_waited_out_until_that_date() {
    let emu = start(emulator().users(1)).await;
    let reset = one_to_two_seconds_ahead();
    let (first, second) = get_user_after_one_429(
        &emu,
        "application/json",
        BARE_429,
        Some(("x-ratelimit-reset", http_date(reset))),
        Duration::from_millis(20),
    )
    .await;
    let advised = advised_by(reset, &first);
    assert!(
        advised >= Duration::from_millis(900),
        "the date is ahead: {advised:?}"
    );
    assert!(
        gap(&first, &second) + TOLERANCE >= advised,
        "retried {:?} after the 429, advised {advised:?}",
        gap(&first, &second)
    );
}

/// A 429 with only `Retry-After: 1` (seconds) is waited out for a second. Fails if
/// `Retry-After` is ignored (the standard backoff here is 10-20 ms).
#[tokio::test]
async fn a_429_with_only_retry_after_seconds_is_waited_out() {
    let emu = start(emulator().users(1)).await;
    let (first, second) = get_user_after_one_429(
        &emu,
        "application/json",
        BARE_429,
        Some(("retry-after", "1".to_string())),
        Duration::from_millis(20),
    )
    .await;
    assert!(
        gap(&first, &second) + TOLERANCE >= Duration::from_secs(1),
        "retried {:?} after a 429 advising 1 s",
        gap(&first, &second)
    );
}

/// A 429 with only `Retry-After` as an HTTP date (1-2 s ahead) is waited out until that date.
/// Fails if a dated `Retry-After` is ignored or read as no advice.
#[tokio::test]
async fn a_429_with_only_a_dated_retry_after_is_waited_out_until_that_date() {
    let emu = start(emulator().users(1)).await;
    let at = one_to_two_seconds_ahead();
    let (first, second) = get_user_after_one_429(
        &emu,
        "application/json",
        BARE_429,
        Some(("retry-after", http_date(at))),
        Duration::from_millis(20),
    )
    .await;
    let advised = advised_by(at, &first);
    assert!(
        advised >= Duration::from_millis(900),
        "the date is ahead: {advised:?}"
    );
    assert!(
        gap(&first, &second) + TOLERANCE >= advised,
        "retried {:?} after the 429, advised {advised:?}",
        gap(&first, &second)
    );
}

/// `Retry-After: 0.5` is not a valid value (RFC 9110: whole seconds or a date), and
/// `advised_wait` documents it as no advice: the standard backoff applies, never a misread
/// number. The backoff is set to 3 s (so 1.5-3 s after a 429) to tell it apart from 0.5 s or
/// from 0; fails if the fraction is honoured, truncated to 0, or makes the call fail.
#[tokio::test]
async fn a_fractional_retry_after_is_no_advice_and_the_standard_backoff_applies() {
    let emu = start(emulator().users(1)).await;
    let backoff = Duration::from_secs(3);
    let (first, second) = get_user_after_one_429(
        &emu,
        "application/json",
        BARE_429,
        Some(("retry-after", "0.5".to_string())),
        backoff,
    )
    .await;
    assert!(
        gap(&first, &second) + TOLERANCE >= backoff / 2,
        "retried {:?} after the 429: sooner than the standard backoff's least ({:?})",
        gap(&first, &second),
        backoff / 2
    );
}

/// A 429 whose body is not JSON at all is still a 429: its `Retry-After: 1` header is read
/// (the advice does not depend on the body) and the call succeeds on the retry a second later.
/// Fails if an unreadable 429 is treated as a failure of its own or loses its header advice.
#[tokio::test]
async fn a_429_with_an_unreadable_body_still_honours_its_retry_after() {
    let emu = start(emulator().users(1)).await;
    let (first, second) = get_user_after_one_429(
        &emu,
        "text/html",
        "<html><body>Too Many Requests</body></html>",
        Some(("retry-after", "1".to_string())),
        Duration::from_millis(20),
    )
    .await;
    assert!(
        gap(&first, &second) + TOLERANCE >= Duration::from_secs(1),
        "retried {:?} after a 429 advising 1 s",
        gap(&first, &second)
    );
}

/// A 429 whose body is unreadable JSON (`application/json`, not JSON) and which carries no
/// header either is retried after the standard backoff (3 s here, so 1.5-3 s), not at once and
/// not given up on: exactly two requests, the second succeeding.
#[tokio::test]
async fn a_429_with_an_unreadable_body_and_no_advice_waits_the_standard_backoff() {
    let emu = start(emulator().users(1)).await;
    let backoff = Duration::from_secs(3);
    let (first, second) = get_user_after_one_429(
        &emu,
        "application/json",
        "{\"errors\": [ not json",
        None,
        backoff,
    )
    .await;
    assert!(
        gap(&first, &second) + TOLERANCE >= backoff / 2,
        "retried {:?} after the 429: sooner than the standard backoff's least ({:?})",
        gap(&first, &second),
        backoff / 2
    );
}

/// An undocumented 2xx on `get_user` (202 with a well-formed envelope, where the document
/// says 200) is a typed `Error::Decode` naming the status, its outcome ambiguous, after one
/// request (the body is valid JSON, so there is nothing another attempt could cure): no panic,
/// no value guessed from the body.
#[tokio::test]
async fn an_undocumented_202_with_a_valid_envelope_is_a_typed_decode_error_after_one_request() {
    let emu = start(emulator().users(1)).await;
    let client = client(&emu);
    let id = emu.user_ids()[0].clone();
    emu.inject(
        Fault::respond(
            202,
            "application/json",
            format!(r#"{{"data":{{"user":{{"id":"{id}","name":"n","email":"e@example.com"}}}}}}"#),
        )
        .on_operation(Operation::GetUser)
        .times(1),
    );
    let err = client
        .users()
        .get(&id)
        .await
        .expect_err("an undocumented 202");
    match &err {
        Error::Decode {
            status, attempts, ..
        } => assert_eq!((*status, *attempts), (Some(202), 1), "{err:?}"),
        other => panic!("expected Error::Decode, got {other:?}"),
    }
    assert_eq!(err.outcome(), Outcome::Ambiguous);
    assert!(err.to_string().contains("202"), "{err}");
    assert_eq!(emu.journal_for(Operation::GetUser).len(), 1, "sent once");
}

/// An undocumented 204 with an empty body on `get_user`: an empty body labelled JSON is not
/// JSON, so for this idempotent read it counts as an unreadable answer, retried within the
/// budget, and, when every attempt gets it, ends as a typed `Error::Decode` with status 204
/// after exactly `max_attempts` requests (never a panic or an invented user).
#[tokio::test]
async fn an_undocumented_empty_204_is_retried_then_a_typed_decode_error() {
    let emu = start(emulator().users(1)).await;
    let client = client_builder(&emu)
        .retry(
            RetryConfig::standard()
                .with_max_attempts(3)
                .with_initial_backoff(Duration::from_millis(5))
                .with_max_backoff(Duration::from_millis(20)),
        )
        .build()
        .expect("client");
    let id = emu.user_ids()[0].clone();
    emu.inject(
        Fault::respond(204, "application/json", "")
            .on_operation(Operation::GetUser)
            .always(),
    );
    let err = client.users().get(&id).await.expect_err("no user in a 204");
    match &err {
        Error::Decode {
            status, attempts, ..
        } => assert_eq!((*status, *attempts), (Some(204), 3), "{err:?}"),
        other => panic!("expected Error::Decode, got {other:?}"),
    }
    assert_eq!(err.outcome(), Outcome::Ambiguous);
    assert_eq!(
        emu.journal_for(Operation::GetUser).len(),
        3,
        "the retry budget"
    );

    // Once: the retry gets the real answer.
    emu.clear_faults();
    emu.inject(
        Fault::respond(204, "application/json", "")
            .on_operation(Operation::GetUser)
            .times(1),
    );
    let user = client.users().get(&id).await.expect("cured by the retry");
    assert_eq!(user.id, id);
    assert_eq!(emu.journal_for(Operation::GetUser).len(), 5);
}

/// A list whose page 2 fails for good (every `list_users` after the first answers 500): the
/// items stream hands out page 1's ten users in order, then exactly one `Error::Server` (after
/// the 3-attempt budget on page 2), then ends. The journal shows page 1 and page 2's three
/// attempts and nothing else: no page 3, no request after the error (checked after a later
/// request of the same client, so a stray fetch would have been counted).
#[tokio::test]
async fn a_list_whose_second_page_fails_for_good_yields_page_one_one_error_then_ends() {
    let emu = start(emulator().users(30)).await;
    let attempts = 3;
    let client = client_builder(&emu)
        .retry(
            RetryConfig::standard()
                .with_max_attempts(attempts)
                .with_initial_backoff(Duration::from_millis(5))
                .with_max_backoff(Duration::from_millis(20)),
        )
        .build()
        .expect("client");
    emu.inject(
        Fault::status(500)
            .on_operation(Operation::ListUsers)
            .skip_first(1)
            .always(),
    );
    let mut items = client.users().list().page_size(10).items();
    let mut delivered = Vec::new();
    let error = loop {
        match items
            .next()
            .await
            .expect("the stream yields an error before it ends")
        {
            Ok(user) => delivered.push(user.id),
            Err(e) => break e,
        }
        assert!(delivered.len() <= 30, "bounded");
    };
    assert_eq!(
        delivered,
        emu.user_ids()[..10],
        "page 1, whole and in order"
    );
    match &error {
        Error::Server {
            error: service,
            attempts: tried,
            ..
        } => {
            assert_eq!(service.status, 500);
            assert_eq!(*tried, attempts, "the retry budget was spent on page 2");
        }
        other => panic!("expected Error::Server, got {other:?}"),
    }
    assert!(
        items.next().await.is_none(),
        "the stream ends after the error"
    );

    // A later request of the same client: a stray page fetch would have been sent before it.
    client
        .users()
        .get(&emu.user_ids()[0])
        .await
        .expect("the client still works");
    let lists = emu.journal_for(Operation::ListUsers);
    let statuses: Vec<u16> = lists.iter().map(|e| e.status).collect();
    assert_eq!(
        statuses,
        [200, 500, 500, 500],
        "page 1, then page 2 tried 3 times"
    );
    assert_eq!(
        lists[1].query, lists[3].query,
        "every attempt asked for page 2, none for a page 3"
    );
    assert_eq!(client.metrics().requests, 5, "4 list requests and the get");
    let all = emu.journal();
    assert_eq!(
        all.last().and_then(|e| e.operation),
        Some(Operation::GetUser),
        "nothing after the error but the later get: {all:?}"
    );
}

/// Polls (10 ms steps, up to 10 s) until `operation` has `n` journal entries; false if not.
async fn journaled_within_10s(emu: &EmulatorHandle, operation: Operation, n: usize) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if emu.journal_for(operation).len() >= n {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The items stream fetches the next page once 16 items of a page are handed out
/// (`crate::paginate::PREFETCH_AFTER_ITEMS` in `crates/segment-iam/src/paginate.rs`, which is
/// crate-private: 16 is written here). Two pages of 50: 15 items send one request (checked
/// after a later request of the same client, so a prefetch started at 15 would be counted);
/// the 16th starts the page-2 request, waited for in the journal.
#[tokio::test]
async fn the_page_two_request_starts_at_the_16th_item_not_before() {
    const PREFETCH_AFTER_ITEMS: usize = 16;
    let emu = start(emulator().users(100)).await;
    let client = client(&emu);
    let mut items = client.users().list().page_size(50).items();
    for _ in 0..PREFETCH_AFTER_ITEMS - 1 {
        items.next().await.expect("an item").expect("a user");
    }
    client
        .users()
        .get(&emu.user_ids()[0])
        .await
        .expect("a later request");
    assert_eq!(
        emu.journal_for(Operation::ListUsers).len(),
        1,
        "15 items: no prefetch yet"
    );
    assert_eq!(
        client.metrics().requests,
        2,
        "page 1 and the get, no page 2"
    );

    items.next().await.expect("the 16th item").expect("a user");
    assert!(
        journaled_within_10s(&emu, Operation::ListUsers, 2).await,
        "the 16th item started the page-2 request"
    );
    let lists = emu.journal_for(Operation::ListUsers);
    assert!(
        lists[1].query.contains("cursor"),
        "the second list request asks for page 2: {:?}",
        lists[1].query
    );
    // The rest of the list comes from the prefetched page: no third request.
    let mut count = PREFETCH_AFTER_ITEMS;
    while let Some(item) = items.next().await {
        item.expect("a user");
        count += 1;
    }
    assert_eq!(count, 100);
    assert_eq!(emu.journal_for(Operation::ListUsers).len(), 2);
}

/// A 409 (inviting an address that is already a user's, which the emulator refuses) is a
/// typed `Error::Conflict` with status 409 and outcome `NotApplied`, sent once (a refusal is
/// not retried) and nothing invited.
#[tokio::test]
async fn inviting_an_existing_user_is_a_conflict_that_applied_nothing() {
    let emu = start(emulator().users(1)).await;
    let client = client(&emu);
    let existing = emu.state().users[0].email.clone();
    let invites_before = emu.state().invites.len();
    let err = client
        .invites()
        .create([Invite::new(existing)])
        .await
        .expect_err("already a user");
    assert!(matches!(err, Error::Conflict(_)), "{err:?}");
    assert_eq!(
        (err.status(), err.outcome()),
        (Some(409), Outcome::NotApplied)
    );
    assert!(!err.is_retryable());
    let sent = emu.journal_for(Operation::CreateInvites);
    assert_eq!(sent.len(), 1, "not retried");
    assert_eq!((sent[0].status, sent[0].applied), (409, false));
    assert_eq!(emu.state().invites.len(), invites_before);
}

/// A URL over the emulator's limit (200 bytes; the client's own limit is the 8 KiB default, so
/// it sends) is answered 414, which the facade maps to `Error::Service` (call.rs: any status
/// without a variant of its own) with status 414, outcome `NotApplied`, sent once.
#[tokio::test]
async fn a_url_over_the_services_limit_is_a_typed_414_sent_once() {
    let emu = start(emulator().users(1).max_url_len(200)).await;
    let client = client(&emu);
    assert!(
        client.max_url_len() > 300,
        "the client's limit lets it send"
    );
    let long_id = "x".repeat(250);
    let err = client.users().get(&long_id).await.expect_err("414");
    assert!(matches!(err, Error::Service(_)), "{err:?}");
    assert_eq!(
        (err.status(), err.outcome()),
        (Some(414), Outcome::NotApplied)
    );
    assert!(!err.is_retryable());
    // A 414 is answered before routing: the journal entry has no operation.
    let sent = emu.journal();
    assert_eq!(sent.len(), 1, "not retried: {sent:?}");
    assert_eq!(sent[0].status, 414);
    assert!(sent[0].path.ends_with(&long_id));
}

/// A body over the emulator's limit (100 bytes: one invite with a long address) is answered
/// 413, which the facade maps to `Error::Service` with status 413, outcome `NotApplied`, sent
/// once and nothing invited.
#[tokio::test]
async fn a_body_over_the_services_limit_is_a_typed_413_sent_once() {
    let emu = start(emulator().users(1).max_body(100)).await;
    let client = client(&emu);
    let email = format!("{}@example.com", "p".repeat(120));
    let err = client
        .invites()
        .create([Invite::new(email)])
        .await
        .expect_err("413");
    assert!(matches!(err, Error::Service(_)), "{err:?}");
    assert_eq!(
        (err.status(), err.outcome()),
        (Some(413), Outcome::NotApplied)
    );
    assert!(!err.is_retryable());
    let sent = emu.journal_for(Operation::CreateInvites);
    assert_eq!(sent.len(), 1, "not retried");
    assert_eq!((sent[0].status, sent[0].applied), (413, false));
    assert!(emu.state().invites.is_empty(), "nothing invited");
}
