//! What an apply did: the steps done and the requests, retries and waits it cost, so that a
//! failure part way can say exactly where it stopped.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Serialize, Serializer};

use crate::grant::Grant;
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
    /// Groups created and kept, by name, with their ids.
    pub created_groups: BTreeMap<String, String>,
    /// Groups the plan was to create that another apply running at the same time had created
    /// first (the service refused the name, or accepted a duplicate that was then merged), by
    /// name, with the id used instead.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub adopted_groups: BTreeMap<String, String>,
    /// Duplicates this run created and then merged into the surviving group of that name
    /// (see the [`apply`](mod@crate::apply) module docs for the rule).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub merged_groups: Vec<MergedGroup>,
    /// The steps done, in the order they finished.
    pub done: Vec<Step>,
}

/// A duplicate group this run created, merged into the survivor and deleted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct MergedGroup {
    /// The name both groups had.
    pub name: String,
    /// The group kept: the first of that name in the service's listing (the oldest).
    pub survivor: String,
    /// This run's group, deleted.
    pub deleted: String,
    /// Members this run had added to it, added to the survivor.
    pub members_moved: Vec<String>,
    /// Grants this run had added to it and the survivor lacked, added to the survivor.
    pub grants_moved: Vec<Grant>,
}

/// A wait as seconds, the unit the JSON has always used.
fn as_secs<S: Serializer>(waited: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_f64(waited.as_secs_f64())
}
