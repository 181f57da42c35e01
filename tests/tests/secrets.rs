//! The token never shows: not in Debug, not in errors, not in logs, not in the emulator journal.

use segment_iam_tests::reliability::Capture;
use segment_iam_tests::{TOKEN, client, emulator, start};

#[tokio::test]
async fn the_token_is_never_shown() {
    let capture = Capture::default();
    let _guard = capture.install();

    let emu = start(emulator().users(3).groups(1)).await;
    let client = client(&emu);
    client.users().list().collect().await.expect("list");
    let err = client.users().get("missing").await.expect_err("404");
    let wrong = segment_iam_tests::client_builder(&emu)
        .token(format!("{TOKEN}-wrong"))
        .build()
        .expect("client");
    let unauthorized = wrong.users().list().collect().await.expect_err("401");
    let builder_debug = format!("{:?}", segment_iam_tests::client_builder(&emu));

    let texts = [
        format!("{client:?}"),
        builder_debug,
        format!("{err:?} {err}"),
        format!("{unauthorized:?} {unauthorized}"),
        serde_json::to_string(&emu.journal()).expect("journal json"),
        capture.text(),
    ];
    assert!(
        texts[5].contains("sending"),
        "debug logs were captured: {}",
        texts[5]
    );
    for text in texts {
        assert!(!text.contains(TOKEN), "token leaked in: {text}");
    }
}
