//! What an apply did: the steps done and the requests, retries and waits it cost, so that a
//! failure part way can say exactly where it stopped.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::plan::types::Step;

/// What an apply did.
#[derive(Debug, Clone, Default, Serialize)]
#[non_exhaustive]
pub struct ApplyReport {
    /// Steps in the plan.
    pub steps_planned: usize,
    /// Steps done.
    pub steps_done: usize,
    /// Mutations the plan stated.
    pub mutations_planned: usize,
    /// Mutations of the steps done, as planned (retries aside).
    pub mutations_done: usize,
    /// Every request sent, reads and retries included.
    pub requests: u64,
    /// Of which retries.
    pub retries: u64,
    /// Answers that were 429s.
    pub rate_limited: u64,
    /// Seconds spent waiting (rate-limit windows and backoff).
    pub waited_secs: f64,
    /// Groups created, by name, with their ids.
    pub created_groups: BTreeMap<String, String>,
    /// The steps done, in the order they finished.
    pub done: Vec<Step>,
}
