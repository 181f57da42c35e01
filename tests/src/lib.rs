//! Shared set-up of the integration tests: an emulator on 127.0.0.1, a facade client pointed
//! at it, and the helpers more than one test file needs (a wait on the emulator's journal, the
//! HTTP date format). The tests themselves live in `tests/tests/`.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub mod onboard;
pub mod relay;
pub mod reliability;
pub mod reliability_table;
pub mod sync;

use segment_iam::{Client, RetryConfig};
use segment_iam_emulator::{Emulator, EmulatorBuilder, EmulatorHandle, Operation};

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

/// Polls (10 ms steps, up to 10 s) until `operation` has `n` journal entries; false if not.
pub async fn journaled_within_10s(emu: &EmulatorHandle, operation: Operation, n: usize) -> bool {
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

/// An IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the form of `X-RateLimit-Reset` and of a
/// dated `Retry-After`. Written here because this crate does not depend on `httpdate`.
pub fn http_date(at: SystemTime) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The date formatter the header cases rely on writes the RFC 9110 example exactly (were it
    /// wrong, the client would find no advice and the date cases would fail on their gap).
    #[test]
    fn http_date_writes_the_rfc_example() {
        let example = UNIX_EPOCH + Duration::from_secs(784_111_777);
        assert_eq!(http_date(example), "Sun, 06 Nov 1994 08:49:37 GMT");
        let leap_day = UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(http_date(leap_day), "Tue, 29 Feb 2000 00:00:00 GMT");
    }
}
