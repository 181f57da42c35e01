//! What a client looks up once and keeps (its roles, its workspace): one slot per value,
//! filled by the first caller that needs it, under a lock, so concurrent tasks share one
//! lookup; a failed lookup leaves the slot empty for the next caller to retry.
//!
//! The slot knows nothing of how its value is fetched: the caller hands the lookup in, so the
//! client can own its caches without this file depending on it.

use std::future::Future;
use std::sync::Arc;

use tokio::sync::Mutex;

use crate::error::Result;

/// One value looked up on first use and then shared (one per client, shared by its clones).
#[derive(Debug)]
pub(crate) struct Cached<T> {
    slot: Mutex<Option<Arc<T>>>,
}

impl<T> Default for Cached<T> {
    fn default() -> Self {
        Cached {
            slot: Mutex::new(None),
        }
    }
}

impl<T> Cached<T> {
    /// The cached value, or what `lookup` answers (then kept); `refresh` looks it up again
    /// even when a value is cached. `lookup` is only awaited when it is needed.
    pub(crate) async fn get_or_fetch(
        &self,
        refresh: bool,
        lookup: impl Future<Output = Result<T>>,
    ) -> Result<Arc<T>> {
        let mut slot = self.slot.lock().await;
        if let (Some(value), false) = (slot.as_ref(), refresh) {
            return Ok(value.clone());
        }
        let value = Arc::new(lookup.await?);
        *slot = Some(value.clone());
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[tokio::test]
    async fn a_value_is_looked_up_once_until_refreshed_and_failures_are_not_kept() {
        let lookups = AtomicUsize::new(0);
        let cached = Cached::<usize>::default();
        // Counts when awaited, not when built: a cached value must not await its lookup.
        let lookup = |fail: bool| {
            let lookups = &lookups;
            async move {
                let n = lookups.fetch_add(1, Ordering::SeqCst) + 1;
                if fail {
                    Err(crate::Error::invalid("lookup", "scripted failure"))
                } else {
                    Ok(n)
                }
            }
        };
        assert!(cached.get_or_fetch(false, lookup(true)).await.is_err());
        assert_eq!(
            *cached.get_or_fetch(false, lookup(false)).await.expect("v"),
            2
        );
        assert_eq!(
            *cached.get_or_fetch(false, lookup(false)).await.expect("v"),
            2
        );
        assert_eq!(
            *cached.get_or_fetch(true, lookup(false)).await.expect("v"),
            3
        );
        assert_eq!(
            lookups.load(Ordering::SeqCst),
            3,
            "the cached read awaited nothing"
        );
    }
}
