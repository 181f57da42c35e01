//! The baselines' retry: what generic retry crates do on a 429 without reading the service's
//! advice — wait 1 s, 2 s, 4 s ... and try again. Written here so that both scenario 3 and
//! scenario 4 compare the SDK with the same naive policy.

use std::time::Duration;

use crate::common::Outcome;

/// Counters of a baseline run.
#[derive(Debug, Default, Clone, Copy)]
pub struct Sent {
    /// Requests sent, retries included.
    pub requests: u64,
    /// 429 answers received.
    pub rate_limited: u64,
}

impl std::ops::AddAssign for Sent {
    fn add_assign(&mut self, other: Self) {
        self.requests += other.requests;
        self.rate_limited += other.rate_limited;
    }
}

/// First wait after a 429.
const INITIAL: Duration = Duration::from_secs(1);
/// Attempts per call (waits 1+2+4+8+16+32 s at most), as a typical retry crate is configured.
const MAX_ATTEMPTS: u32 = 7;

/// Sends the request `build` makes, retrying 429s with exponential backoff; returns the
/// successful response's body and what was sent.
pub async fn send(build: impl Fn() -> reqwest::RequestBuilder) -> Outcome<(String, Sent)> {
    let mut sent = Sent::default();
    let mut wait = INITIAL;
    for _ in 0..MAX_ATTEMPTS {
        sent.requests += 1;
        let response = build().send().await.map_err(|e| e.to_string())?;
        let status = response.status();
        if status.as_u16() == 429 {
            sent.rate_limited += 1;
            tokio::time::sleep(wait).await;
            wait *= 2;
            continue;
        }
        let body = response.text().await.map_err(|e| e.to_string())?;
        if !status.is_success() {
            return Err(format!("baseline request failed: {status}: {body}"));
        }
        return Ok((body, sent));
    }
    Err(format!(
        "baseline request still rate limited after {MAX_ATTEMPTS} attempts"
    ))
}
