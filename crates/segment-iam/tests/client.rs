//! Properties of the client type itself.

use segment_iam::{Client, Paginator, RetryConfig, types::UserV1};

fn shareable<T: Send + Sync + Clone + 'static>() {}
fn sendable<T: Send + 'static>() {}

#[test]
fn client_is_cheap_to_share_across_tasks() {
    shareable::<Client>();
    sendable::<Paginator<UserV1>>();
    sendable::<segment_iam::Error>();
}

#[test]
fn debug_output_hides_the_token() {
    let client = Client::builder()
        .token("sgp_SUPER_SECRET")
        .base_url("http://127.0.0.1:9")
        .build()
        .expect("builds");
    let text = format!("{client:?}");
    assert!(!text.contains("SUPER_SECRET"), "{text}");
    assert!(text.contains("127.0.0.1:9"));
}

#[test]
fn retry_config_is_a_value() {
    let retry = RetryConfig::standard().max_attempts(0);
    assert_eq!(retry.attempt_limit(), 1, "at least one attempt");
    assert_eq!(RetryConfig::disabled().attempt_limit(), 1);
    assert_eq!(RetryConfig::default(), RetryConfig::standard());
}

/// A `reqwest::Client` with `x-team` as a default header and a stale `Authorization`, as a
/// caller might build one for a proxy or tracing.
fn given_http_client() -> reqwest::Client {
    use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};
    let mut headers = HeaderMap::new();
    headers.insert("x-team", HeaderValue::from_static("platform"));
    headers.insert(AUTHORIZATION, HeaderValue::from_static("Bearer stale"));
    reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .expect("a reqwest client")
}

/// Through a given client, its default header reaches the service on every attempt, the SDK's
/// token wins over the client's own `Authorization` (the emulator answers 401 to any other),
/// and the retry layer still retries a 503.
#[tokio::test]
async fn a_given_http_client_keeps_its_default_headers_under_the_sdks_token_and_retries() {
    use segment_iam_emulator::{Emulator, Fault, Operation};
    let emu = Emulator::builder()
        .token("T")
        .users(3)
        .start()
        .await
        .expect("the emulator");
    emu.inject(
        Fault::status(503)
            .on_operation(Operation::ListUsers)
            .times(1),
    );
    let client = Client::builder()
        .token("T")
        .base_url(emu.base_url())
        .http_client(given_http_client())
        .user_agent("given-client-test/1")
        .retry(
            RetryConfig::standard()
                .initial_backoff(std::time::Duration::from_millis(1))
                .max_backoff(std::time::Duration::from_millis(1)),
        )
        .build()
        .expect("a client");
    let users = client.users().list().collect().await.expect("the list");
    assert_eq!(users.len(), 3);
    let sent = emu.journal_for(Operation::ListUsers);
    assert_eq!(sent.len(), 2, "the 503, then its retry: {sent:?}");
    for entry in &sent {
        let header = |name: &str| {
            entry
                .headers
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(header("x-team"), Some("platform"), "{entry:?}");
        assert_eq!(
            header("user-agent"),
            Some("given-client-test/1"),
            "{entry:?}"
        );
    }
    assert_eq!(
        sent.iter().map(|e| e.status).collect::<Vec<_>>(),
        [503, 200]
    );
}

/// The connect timeout belongs to the given client; asking the SDK for one is refused.
#[test]
fn a_connect_timeout_beside_a_given_http_client_is_refused() {
    let built = Client::builder()
        .token("T")
        .base_url("http://127.0.0.1:9")
        .http_client(given_http_client())
        .connect_timeout(std::time::Duration::from_secs(1))
        .build();
    assert!(
        matches!(&built, Err(segment_iam::Error::Config(m)) if m.contains("connect_timeout")),
        "{built:?}"
    );
}
