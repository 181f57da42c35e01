//! The jobs operators automate, each one typed library function the CLI is a thin shell over:
//! [`audit`] (who can reach what, and through which path) and [`offboard`] (remove people and
//! their pending invites in the fewest requests, behind a plan and a last-owner guard).
//!
//! Both read the workspace through [`read`], which fetches every page of every listing it
//! needs, group listings concurrently (the client's pacing keeps them within the read limit).

pub mod audit;
pub mod offboard;
pub mod read;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Items done of a total, shared between a running job and whoever shows its progress (the
/// CLI's progress line polls it). Cheap to clone; clones share the counts.
#[derive(Debug, Clone, Default)]
pub struct Progress {
    counts: Arc<Counts>,
}

#[derive(Debug, Default)]
struct Counts {
    done: AtomicU64,
    total: AtomicU64,
}

impl Progress {
    /// A fresh counter at 0 of 0.
    pub fn new() -> Self {
        Self::default()
    }

    /// Items done so far.
    pub fn done(&self) -> u64 {
        self.counts.done.load(Ordering::Relaxed)
    }

    /// Items the job knows it has to do (it may grow as the job learns more).
    pub fn total(&self) -> u64 {
        self.counts.total.load(Ordering::Relaxed)
    }

    /// Grows the total by `n` (for jobs built on the facade, such as `segment-iam-sync`).
    pub fn add_total(&self, n: u64) {
        self.counts.total.fetch_add(n, Ordering::Relaxed);
    }

    /// Counts `n` more items done.
    pub fn advance(&self, n: u64) {
        self.counts.done.fetch_add(n, Ordering::Relaxed);
    }
}
