//! Helpers of the `reliability_*` tests: the fault kinds they sweep, a client tuned for fast
//! fault tests, a log capture, and the checks they share.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use segment_iam::{Client, RetryConfig};
use segment_iam_emulator::{EmulatorHandle, Fault, JournalEntry, Operation};

use crate::TOKEN;

/// The client timeout of the fault tests; [`SLOW`] responses take longer than this. Generous,
/// so that an answer the emulator gives at once never times out on a loaded 2-core machine
/// (exact request counts depend on that).
pub const TIMEOUT: Duration = Duration::from_secs(2);

/// A response delay well beyond [`TIMEOUT`].
pub const SLOW: Duration = Duration::from_secs(4);

/// Waits (bounded: [`SLOW`] plus 20 s) until the emulator has finished handling the `sent`
/// requests a client made to it — every one journaled, the slow ones included — so that
/// counts of what was applied are final. An event to wait on, instead of a sleep.
pub async fn settle(emulator: &EmulatorHandle, sent: u64) {
    let deadline = std::time::Instant::now() + SLOW + Duration::from_secs(20);
    while (emulator.journal().len() as u64) < sent {
        assert!(
            std::time::Instant::now() < deadline,
            "{} of {sent} requests handled",
            emulator.journal().len()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Every transient fault kind, by name: 5xx, a connection dropped mid-response, a response
/// slower than the timeout, truncated and malformed JSON bodies, a wrong content type.
pub fn transient_faults() -> Vec<(&'static str, Fault)> {
    vec![
        ("status 500", Fault::status(500)),
        ("status 502", Fault::status(502)),
        ("status 503", Fault::status(503)),
        ("connection dropped mid-response", Fault::drop_connection()),
        ("slower than the timeout", Fault::delay(SLOW)),
        ("truncated body", Fault::truncated_body()),
        ("malformed JSON body", Fault::malformed_body()),
        ("wrong content type", Fault::wrong_content_type()),
    ]
}

/// [`transient_faults`] in both phases: before the operation is applied, and after it.
pub fn transient_faults_both_phases() -> Vec<(String, Fault)> {
    let mut all = Vec::new();
    for (name, fault) in transient_faults() {
        all.push((format!("{name} before apply"), fault.clone().before_apply()));
        all.push((format!("{name} after apply"), fault.after_apply()));
    }
    all
}

/// Fast retries: `attempts` requests at most, 10..40 ms backoff, 5 s budget.
pub fn fast_retry(attempts: u32) -> RetryConfig {
    RetryConfig::standard()
        .max_attempts(attempts)
        .initial_backoff(Duration::from_millis(10))
        .max_backoff(Duration::from_millis(40))
        .max_total_wait(Duration::from_secs(5))
        .max_jitter(Duration::from_millis(5))
}

/// A client with the [`TIMEOUT`] and [`fast_retry`] of `attempts`.
pub fn fault_client(emulator: &EmulatorHandle, attempts: u32) -> Client {
    Client::builder()
        .token(TOKEN)
        .base_url(emulator.base_url())
        .timeout(TIMEOUT)
        .connect_timeout(Duration::from_secs(2))
        .retry(fast_retry(attempts))
        .build()
        .expect("client builds")
}

/// Journal entries of `operation`.
pub fn requests(emulator: &EmulatorHandle, operation: Operation) -> Vec<JournalEntry> {
    emulator.journal_for(operation)
}

/// A `Write` that keeps everything written, shareable with a tracing subscriber.
#[derive(Clone, Default)]
pub struct Capture(pub Arc<Mutex<Vec<u8>>>);

impl Capture {
    /// Everything written so far, as text.
    pub fn text(&self) -> String {
        let bytes = self.0.lock().map(|b| b.clone()).unwrap_or_default();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// A TRACE-level subscriber writing here, set as the default until the guard drops.
    pub fn install(&self) -> tracing::subscriber::DefaultGuard {
        let writer = self.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::set_default(subscriber)
    }
}

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
