//! What every job's options share, written once: how many requests it keeps in flight and the
//! progress counter it reports to.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Requests in flight at once unless told otherwise.
pub const DEFAULT_CONCURRENCY: usize = 8;

/// The run settings every job shares. Each job's options type holds one and implements
/// [`JobOptions`], which gives it the `concurrency` and `progress` setters.
#[derive(Debug, Clone)]
pub struct RunOptions {
    concurrency: usize,
    progress: Progress,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            concurrency: DEFAULT_CONCURRENCY,
            progress: Progress::new(),
        }
    }
}

impl RunOptions {
    /// [`DEFAULT_CONCURRENCY`] in flight, a fresh progress counter.
    pub fn new() -> Self {
        Self::default()
    }

    /// Requests in flight at once (at least 1).
    pub fn concurrency(&self) -> usize {
        self.concurrency
    }

    /// The progress counter the job reports to.
    pub fn progress(&self) -> &Progress {
        &self.progress
    }
}

/// The setters every job's options share. Implement [`JobOptions::run`] and
/// [`JobOptions::run_mut`] and the setters come with them.
pub trait JobOptions: Sized {
    /// The shared settings, to read.
    fn run(&self) -> &RunOptions;

    /// The shared settings, to change.
    fn run_mut(&mut self) -> &mut RunOptions;

    /// Requests in flight at once (at least 1).
    fn concurrency(mut self, n: usize) -> Self {
        self.run_mut().concurrency = n.max(1);
        self
    }

    /// Shares `progress` with whoever shows it.
    fn progress(mut self, progress: Progress) -> Self {
        self.run_mut().progress = progress;
        self
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Opts {
        run: RunOptions,
    }

    impl JobOptions for Opts {
        fn run(&self) -> &RunOptions {
            &self.run
        }
        fn run_mut(&mut self) -> &mut RunOptions {
            &mut self.run
        }
    }

    #[test]
    fn the_shared_setters_set_and_keep_at_least_one_in_flight() {
        let progress = Progress::new();
        let opts = Opts::default().concurrency(0).progress(progress.clone());
        assert_eq!(opts.run().concurrency(), 1);
        progress.advance(2);
        assert_eq!(opts.run().progress().done(), 2);
        assert_eq!(Opts::default().concurrency(5).run().concurrency(), 5);
        assert_eq!(RunOptions::new().concurrency(), DEFAULT_CONCURRENCY);
    }
}
