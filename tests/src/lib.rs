//! Shared set-up of the integration tests: an emulator on 127.0.0.1 and a facade client
//! pointed at it. The tests themselves live in `tests/tests/`.

use std::time::Duration;

pub mod reliability;
pub mod reliability_table;
pub mod sync;

use segment_iam::{Client, RetryConfig};
use segment_iam_emulator::{Emulator, EmulatorBuilder, EmulatorHandle};

/// The token every test emulator accepts.
pub const TOKEN: &str = "test-token-5ecret";

/// The role the emulator knows as "Workspace Owner".
pub const OWNER_ROLE: &str = "1WDUuRLxv84rrfCNUwvkrRtkxnS";

/// The emulator's workspace resource id.
pub const WORKSPACE: &str = segment_iam_emulator::seed::WORKSPACE_ID;

/// An emulator builder with the test token and rate limits off (tests that need them turn
/// them on).
pub fn emulator() -> EmulatorBuilder {
    Emulator::builder().token(TOKEN).seed(7).rate_limits(false)
}

/// A client for `emulator` with fast retries, so fault tests stay quick.
pub fn client(emulator: &EmulatorHandle) -> Client {
    client_builder(emulator).build().expect("client builds")
}

/// The builder behind [`client`], for tests that change a knob.
pub fn client_builder(emulator: &EmulatorHandle) -> segment_iam::ClientBuilder {
    Client::builder()
        .token(TOKEN)
        .base_url(emulator.base_url())
        .timeout(Duration::from_secs(10))
        .retry(
            RetryConfig::standard()
                .initial_backoff(Duration::from_millis(20))
                .max_backoff(Duration::from_millis(200))
                .max_total_wait(Duration::from_secs(20)),
        )
}

/// Starts an emulator from `builder`, panicking with the reason if it cannot.
pub async fn start(builder: EmulatorBuilder) -> EmulatorHandle {
    builder.start().await.expect("emulator starts on 127.0.0.1")
}
