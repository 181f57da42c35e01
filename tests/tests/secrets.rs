//! The token never shows: not in Debug, not in errors, not in logs, not in the emulator journal.

use std::io::Write;
use std::sync::{Arc, Mutex};

use segment_iam_tests::{TOKEN, client, emulator, start};

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .map_err(|_| std::io::Error::other("poisoned"))?
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn the_token_is_never_shown() {
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

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
        String::from_utf8_lossy(&capture.0.lock().expect("capture")).to_string(),
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
