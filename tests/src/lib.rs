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
                .with_initial_backoff(Duration::from_millis(20))
                .with_max_backoff(Duration::from_millis(200))
                .with_max_total_wait(Duration::from_secs(20)),
        )
}

/// The property-test settings every property test here uses: `cases` random cases locally;
/// in CI (the `CI` variable set) the same `cases` from one fixed seed, so a CI run is
/// reproducible. Both first replay the committed `*.proptest-regressions` seeds.
pub fn proptest_config(cases: u32) -> proptest::test_runner::Config {
    proptest::test_runner::Config {
        cases,
        rng_seed: proptest_seed(std::env::var_os("CI").is_some()),
        ..proptest::test_runner::Config::default()
    }
}

/// The seed CI runs property tests from.
pub const CI_PROPTEST_SEED: u64 = 0x5e9_1a3;

/// A fixed seed in CI, a random one elsewhere.
fn proptest_seed(ci: bool) -> proptest::test_runner::RngSeed {
    if ci {
        proptest::test_runner::RngSeed::Fixed(CI_PROPTEST_SEED)
    } else {
        proptest::test_runner::RngSeed::Random
    }
}

/// Starts an emulator from `builder`, panicking with the reason if it cannot.
pub async fn start(builder: EmulatorBuilder) -> EmulatorHandle {
    builder.start().await.expect("emulator starts on 127.0.0.1")
}
