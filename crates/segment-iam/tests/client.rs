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
    let retry = RetryConfig::standard().with_max_attempts(0);
    assert_eq!(retry.max_attempts(), 1, "at least one attempt");
    assert_eq!(RetryConfig::disabled().max_attempts(), 1);
    assert_eq!(RetryConfig::default(), RetryConfig::standard());
}
