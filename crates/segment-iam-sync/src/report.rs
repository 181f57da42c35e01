//! What an apply did: the steps done and the requests, retries and waits it cost, so that a
//! failure part way can say exactly where it stopped.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Serialize, Serializer};

use crate::plan::types::Step;

/// What an apply did.
#[derive(Debug, Clone, Default, Serialize)]
#[non_exhaustive]
pub struct ApplyReport {
    /// Steps in the plan.
    pub steps_planned: u64,
    /// Steps done.
    pub steps_done: u64,
    /// Mutations the plan stated.
    pub mutations_planned: u64,
    /// Mutations of the steps done, as planned (retries aside).
    pub mutations_done: u64,
    /// Every request sent, reads and retries included.
    pub requests: u64,
    /// Of which retries.
    pub retries: u64,
    /// Answers that were 429s.
    pub rate_limited: u64,
    /// Time spent waiting (rate-limit windows and backoff); in JSON, `waited_secs`, in seconds.
    #[serde(rename = "waited_secs", serialize_with = "as_secs")]
    pub waited: Duration,
    /// Groups created, by name, with their ids.
    pub created_groups: BTreeMap<String, String>,
    /// The steps done, in the order they finished.
    pub done: Vec<Step>,
}

/// A wait as seconds, the unit the JSON has always used.
fn as_secs<S: Serializer>(waited: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_f64(waited.as_secs_f64())
}
