//! Lists as streams: [`Paginator`] yields pages or items, fetching lazily and one page ahead.
//!
//! * Lazy: nothing is sent until the stream is polled; taking the first few items of a page
//!   sends one request.
//! * One page ahead: once the caller is reading a page (from the pages stream as soon as it is
//!   handed over; from the items stream after 16 items or at the page's last item), the next page is fetched in a background task, so fetching and processing
//!   overlap. Never more than one page ahead, so memory stays flat in the list's length.
//! * Dropping the stream aborts the background fetch.
//! * A cursor the service repeats ends the stream with [`Error::RepeatedCursor`].

use std::collections::{HashSet, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use futures::{Stream, TryStreamExt, stream};
use segment_iam_api::types::PaginationOutput;

use crate::error::{Error, Result};
use crate::validate;

/// How many items of a page the items stream hands out before fetching the next page.
pub(crate) const PREFETCH_AFTER_ITEMS: usize = 16;

/// One page of a list.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Page<T> {
    /// The page's items, in the service's order.
    pub items: Vec<T>,
    /// The cursor of this page.
    pub current: String,
    /// The cursor of the next page; `None` on the last.
    pub next: Option<String>,
    /// The cursor of the previous page; `None` on the first.
    pub previous: Option<String>,
    /// The list's length, when the service says (it may omit it when costly).
    pub total_entries: Option<u64>,
}

impl<T> Page<T> {
    pub(crate) fn new(items: Vec<T>, pagination: PaginationOutput) -> Self {
        Page {
            items,
            current: pagination.current,
            next: pagination.next.filter(|n| !n.is_empty()),
            previous: pagination.previous,
            total_entries: pagination.total_entries,
        }
    }
}

type PageFuture<T> = Pin<Box<dyn Future<Output = Result<Page<T>>> + Send>>;
/// Fetches one page: the page size, then the cursor (`None` for the first page). It captures
/// what it sends with (a client), so the paginator holds no client of its own.
type FetchFn<T> = Arc<dyn Fn(u32, Option<String>) -> PageFuture<T> + Send + Sync>;

/// A list operation ready to be streamed. Configure it, then call [`pages`](Self::pages),
/// [`items`](Self::items) or [`collect`](Self::collect).
pub struct Paginator<T> {
    fetch: FetchFn<T>,
    page_size: u32,
    cursor: Option<String>,
    /// Input refused before anything could be sent: the stream's only item.
    refused: Option<Error>,
}

impl<T> std::fmt::Debug for Paginator<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Paginator")
            .field("page_size", &self.page_size)
            .field("cursor", &self.cursor)
            .finish_non_exhaustive()
    }
}

impl<T: Send + 'static> Paginator<T> {
    /// A list of `page_size` items a page (the client's default) fetched by `fetch`.
    pub(crate) fn new(
        page_size: u32,
        fetch: impl Fn(u32, Option<String>) -> PageFuture<T> + Send + Sync + 'static,
    ) -> Self {
        Paginator {
            fetch: Arc::new(fetch),
            page_size,
            cursor: None,
            refused: None,
        }
    }

    /// A list whose input was refused: its stream yields `error` and ends, sending nothing.
    pub(crate) fn failed(page_size: u32, error: Error) -> Self {
        let mut paginator = Self::new(page_size, |_, _| {
            Box::pin(async { Err(Error::invalid("list", "not started")) })
        });
        paginator.refused = Some(error);
        paginator
    }

    /// Items per request, 1..=1000 (checked when the stream starts; default: the client's).
    pub fn page_size(mut self, page_size: u32) -> Self {
        self.page_size = page_size;
        self
    }

    /// Starts from this cursor (a page's `current` or `next`) instead of the first page.
    pub fn cursor(mut self, cursor: impl Into<String>) -> Self {
        self.cursor = Some(cursor.into());
        self
    }

    /// The list as a stream of pages.
    pub fn pages(self) -> impl Stream<Item = Result<Page<T>>> + Send + Unpin + 'static {
        Box::pin(stream::unfold(
            Fetcher::new(self),
            |mut fetcher| async move {
                let page = fetcher.next_page().await?;
                fetcher.prefetch();
                Some((page, fetcher))
            },
        ))
    }

    /// The list as a stream of items, across pages.
    pub fn items(self) -> impl Stream<Item = Result<T>> + Send + Unpin + 'static {
        let state = ItemState {
            fetcher: Fetcher::new(self),
            buffer: VecDeque::new(),
            handed_out: 0,
        };
        Box::pin(stream::unfold(state, |mut state| async move {
            loop {
                if let Some(item) = state.buffer.pop_front() {
                    state.handed_out += 1;
                    if state.handed_out >= PREFETCH_AFTER_ITEMS || state.buffer.is_empty() {
                        state.fetcher.prefetch();
                    }
                    return Some((Ok(item), state));
                }
                match state.fetcher.next_page().await? {
                    Ok(page) => {
                        state.buffer = page.items.into();
                        state.handed_out = 0;
                    }
                    Err(e) => return Some((Err(e), state)),
                }
            }
        }))
    }

    /// Every item of the list, in order.
    pub async fn collect(self) -> Result<Vec<T>> {
        self.pages()
            .try_fold(Vec::new(), |mut all, page| async move {
                all.extend(page.items);
                Ok(all)
            })
            .await
    }
}

/// The message a panic carried, when it is text.
fn panic_message(panic: &(dyn std::any::Any + Send)) -> &str {
    panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("(not text)")
}

struct ItemState<T> {
    fetcher: Fetcher<T>,
    buffer: VecDeque<T>,
    handed_out: usize,
}

/// Aborts the task when dropped, so a dropped stream leaves nothing running.
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Walks the cursors of one list.
struct Fetcher<T> {
    fetch: FetchFn<T>,
    page_size: u32,
    /// The cursor to fetch next: `Some(None)` is the first page, `None` means the list ended.
    next: Option<Option<String>>,
    pending: Option<AbortOnDrop<Result<Page<T>>>>,
    seen: HashSet<String>,
    /// An error to report on the next call, after which the stream ends.
    deferred: Option<Error>,
}

impl<T: Send + 'static> Fetcher<T> {
    fn new(paginator: Paginator<T>) -> Self {
        let mut seen = HashSet::new();
        let deferred = paginator
            .refused
            .or_else(|| validate::page_size(paginator.page_size).err());
        if let Some(cursor) = &paginator.cursor {
            seen.insert(cursor.clone());
        }
        Fetcher {
            fetch: paginator.fetch,
            page_size: paginator.page_size,
            next: if deferred.is_some() {
                None
            } else {
                Some(paginator.cursor)
            },
            pending: None,
            seen,
            deferred,
        }
    }

    /// Starts fetching the next page in the background, if there is one and it is not started.
    fn prefetch(&mut self) {
        if self.pending.is_some() || self.deferred.is_some() {
            return;
        }
        if let Some(cursor) = self.next.take() {
            let future = (self.fetch)(self.page_size, cursor);
            self.pending = Some(AbortOnDrop(tokio::spawn(future)));
        }
    }

    async fn next_page(&mut self) -> Option<Result<Page<T>>> {
        if let Some(error) = self.deferred.take() {
            self.next = None;
            return Some(Err(error));
        }
        self.prefetch();
        let mut pending = self.pending.take()?;
        let result = match (&mut pending.0).await {
            Ok(result) => result,
            Err(join_error) => Err(Error::Task {
                message: match join_error.try_into_panic() {
                    // `&*`: the payload, not its box (a `&Box<dyn Any>` is itself an `Any`).
                    Ok(panic) => {
                        format!("the page-fetch task panicked: {}", panic_message(&*panic))
                    }
                    Err(join_error) => format!("the page-fetch task was cancelled: {join_error}"),
                },
            }),
        };
        match &result {
            Ok(page) => match &page.next {
                Some(next) if !self.seen.insert(next.clone()) => {
                    self.deferred = Some(Error::RepeatedCursor {
                        cursor: next.clone(),
                    });
                }
                Some(next) => self.next = Some(Some(next.clone())),
                None => {}
            },
            Err(_) => self.next = None,
        }
        Some(result)
    }
}

#[cfg(test)]
mod tests {
    //! The stream rules, driven by scripted fetches (no network): each fetch is logged when it
    //! starts, which is when the paginator asks for it, so "fetched ahead" is an event the
    //! tests read, not a timing.

    use std::sync::Mutex;

    use futures::StreamExt;

    use super::*;

    type Log = Arc<Mutex<Vec<Option<String>>>>;

    fn started(log: &Log) -> Vec<Option<String>> {
        log.lock().expect("log").clone()
    }

    /// A list of pages of `sizes` items, the items numbered from 0 across pages; page `i`'s
    /// cursor is `p{i}`. Every fetch's cursor goes into the log when the fetch starts.
    fn list(sizes: &[usize], log: &Log) -> Paginator<usize> {
        let (sizes, log) = (sizes.to_vec(), log.clone());
        Paginator::new(crate::DEFAULT_PAGE_SIZE, move |_, cursor| {
            log.lock().expect("log").push(cursor.clone());
            let index = cursor
                .as_deref()
                .and_then(|c| c.strip_prefix('p')?.parse::<usize>().ok())
                .unwrap_or(0);
            let start: usize = sizes[..index].iter().sum();
            let page = Page {
                items: (start..start + sizes[index]).collect(),
                current: format!("p{index}"),
                next: (index + 1 < sizes.len()).then(|| format!("p{}", index + 1)),
                previous: None,
                total_entries: None,
            };
            Box::pin(async move { Ok(page) })
        })
    }

    async fn take<S: Stream<Item = Result<usize>> + Unpin>(items: &mut S, n: usize) -> Vec<usize> {
        let mut taken = Vec::new();
        for _ in 0..n {
            match items.next().await {
                Some(Ok(item)) => taken.push(item),
                other => panic!("expected an item, got {other:?}"),
            }
        }
        taken
    }

    #[tokio::test]
    async fn items_fetch_the_next_page_after_16_items_of_a_long_page() {
        let log = Log::default();
        let mut items = list(&[40, 40, 3], &log).items();
        assert_eq!(take(&mut items, 15).await, (0..15).collect::<Vec<_>>());
        assert_eq!(started(&log), [None], "nothing ahead before the 16th item");
        take(&mut items, 1).await;
        assert_eq!(
            started(&log),
            [None, Some("p1".into())],
            "page 2 at the 16th"
        );
        take(&mut items, 24).await;
        assert_eq!(started(&log).len(), 2, "one page ahead, never two");
        // The count starts again on each page.
        assert_eq!(take(&mut items, 15).await, (40..55).collect::<Vec<_>>());
        assert_eq!(
            started(&log).len(),
            2,
            "page 3 not before the 16th item of page 2"
        );
        take(&mut items, 1).await;
        assert_eq!(started(&log).len(), 3);
        assert_eq!(take(&mut items, 27).await.last(), Some(&82));
        assert!(items.next().await.is_none());
        assert_eq!(started(&log).len(), 3);
    }

    #[tokio::test]
    async fn items_fetch_the_next_page_at_the_last_item_of_a_short_page() {
        let log = Log::default();
        let mut items = list(&[3, 3], &log).items();
        take(&mut items, 2).await;
        assert_eq!(started(&log).len(), 1);
        take(&mut items, 1).await;
        assert_eq!(started(&log), [None, Some("p1".into())]);
        assert_eq!(take(&mut items, 3).await, [3, 4, 5]);
        assert!(items.next().await.is_none());
    }

    #[tokio::test]
    async fn pages_fetch_the_next_page_as_soon_as_one_is_handed_over() {
        let log = Log::default();
        let mut pages = list(&[2, 2, 2], &log).pages();
        let first = pages.next().await.expect("a page").expect("page 1");
        assert_eq!(
            (first.items, first.next.as_deref()),
            (vec![0, 1], Some("p1"))
        );
        assert_eq!(started(&log), [None, Some("p1".into())]);
        let rest: Vec<_> = pages.collect().await;
        assert_eq!(rest.len(), 2);
        assert_eq!(started(&log).len(), 3, "no fetch after the last page");
    }

    #[tokio::test]
    async fn collect_gathers_every_item_in_order() {
        let log = Log::default();
        let all = list(&[2, 0, 3], &log).collect().await.expect("the list");
        assert_eq!(all, [0, 1, 2, 3, 4]);
    }

    /// Pages that all point to `next`, starting from `start` (if given).
    fn looping(next: &'static str, start: Option<&str>, log: &Log) -> Paginator<usize> {
        let log = log.clone();
        let paginator = Paginator::new(crate::DEFAULT_PAGE_SIZE, move |_, cursor| {
            log.lock().expect("log").push(cursor.clone());
            let page = Page {
                items: vec![1],
                current: cursor.unwrap_or_default(),
                next: Some(next.to_string()),
                previous: None,
                total_entries: None,
            };
            Box::pin(async move { Ok(page) })
        });
        match start {
            Some(cursor) => paginator.cursor(cursor),
            None => paginator,
        }
    }

    #[tokio::test]
    async fn a_repeated_cursor_ends_the_stream_with_an_error() {
        let log = Log::default();
        let results: Vec<_> = looping("c1", None, &log).pages().take(5).collect().await;
        assert_eq!(results.len(), 3, "{results:?}");
        assert!(results[0].is_ok() && results[1].is_ok());
        assert!(
            matches!(&results[2], Err(Error::RepeatedCursor { cursor }) if cursor == "c1"),
            "{results:?}"
        );
        assert_eq!(started(&log), [None, Some("c1".into())]);
    }

    #[tokio::test]
    async fn the_starting_cursor_counts_as_seen() {
        let log = Log::default();
        let results: Vec<_> = looping("c1", Some("c1"), &log)
            .pages()
            .take(5)
            .collect()
            .await;
        assert_eq!(results.len(), 2, "{results:?}");
        assert!(matches!(&results[1], Err(Error::RepeatedCursor { .. })));
        assert_eq!(started(&log), [Some("c1".into())]);
    }

    #[tokio::test]
    async fn a_failed_page_ends_the_stream_after_its_error() {
        let log = Log::default();
        let inner = log.clone();
        let paginator = Paginator::new(crate::DEFAULT_PAGE_SIZE, move |_, cursor| {
            inner.lock().expect("log").push(cursor.clone());
            let page = match cursor {
                None => Ok(Page {
                    items: vec![1, 2],
                    current: String::new(),
                    next: Some("p1".into()),
                    previous: None,
                    total_entries: None,
                }),
                Some(_) => Err(Error::invalid("page", "scripted failure")),
            };
            Box::pin(async move { page })
        });
        let results: Vec<_> = paginator.items().collect().await;
        assert_eq!(results.len(), 3, "{results:?}");
        assert!(matches!(&results[2], Err(Error::InvalidInput { .. })));
        assert_eq!(started(&log).len(), 2, "nothing fetched after the failure");
    }

    #[tokio::test]
    async fn refused_input_is_the_only_item_and_nothing_is_fetched() {
        let log = Log::default();
        let results: Vec<_> = list(&[1], &log).page_size(0).items().collect().await;
        assert_eq!(results.len(), 1);
        assert!(
            matches!(&results[0], Err(Error::InvalidInput { field, .. }) if field == "page_size")
        );
        let refused = Paginator::<usize>::failed(
            crate::DEFAULT_PAGE_SIZE,
            Error::invalid("user_id", "empty"),
        );
        let results: Vec<_> = refused.pages().collect().await;
        assert_eq!(results.len(), 1);
        assert!(
            matches!(&results[0], Err(Error::InvalidInput { field, .. }) if field == "user_id")
        );
        assert!(started(&log).is_empty());
    }

    /// The error of a list whose first fetch panics with `payload`.
    async fn error_of_panicking_fetch(payload: fn() -> Box<dyn std::any::Any + Send>) -> Error {
        let paginator = Paginator::<usize>::new(crate::DEFAULT_PAGE_SIZE, move |_, _| {
            Box::pin(async move { std::panic::resume_unwind(payload()) })
        });
        let results: Vec<_> = paginator.pages().collect().await;
        assert_eq!(results.len(), 1, "the stream ends after the panic");
        match results.into_iter().next() {
            Some(Err(error)) => error,
            other => panic!("expected an error, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_panicking_page_fetch_is_reported_with_its_message() {
        let owned = error_of_panicking_fetch(|| Box::new(String::from("owned boom"))).await;
        assert!(
            matches!(&owned, Error::Task { message } if message == "the page-fetch task panicked: owned boom"),
            "{owned:?}"
        );
        let literal = error_of_panicking_fetch(|| Box::new("literal boom")).await;
        assert!(
            matches!(&literal, Error::Task { message } if message.ends_with("panicked: literal boom")),
            "{literal:?}"
        );
        let other = error_of_panicking_fetch(|| Box::new(42u8)).await;
        assert!(
            matches!(&other, Error::Task { message } if message.ends_with("panicked: (not text)")),
            "{other:?}"
        );
    }

    #[tokio::test]
    async fn dropping_the_stream_aborts_the_fetch_ahead() {
        let (dropped_tx, dropped_rx) = tokio::sync::oneshot::channel::<()>();
        let guard = Arc::new(Mutex::new(Some(dropped_tx)));
        let paginator = Paginator::new(crate::DEFAULT_PAGE_SIZE, move |_, cursor| match cursor {
            None => Box::pin(async {
                Ok(Page {
                    items: vec![1usize],
                    current: String::new(),
                    next: Some("p1".into()),
                    previous: None,
                    total_entries: None,
                })
            }),
            // Page 2 never completes; it holds the sender, which only an abort drops.
            Some(_) => {
                let held = guard.lock().expect("guard").take();
                Box::pin(async move {
                    let _held = held;
                    futures::future::pending::<Result<Page<usize>>>().await
                })
            }
        });
        let mut pages = paginator.pages();
        assert!(matches!(pages.next().await, Some(Ok(_))));
        drop(pages);
        let aborted = tokio::time::timeout(std::time::Duration::from_secs(10), dropped_rx).await;
        assert!(
            matches!(aborted, Ok(Err(_))),
            "the fetch of page 2 still runs after the stream was dropped"
        );
    }

    #[test]
    fn debug_shows_the_page_size_and_cursor() {
        let text = format!(
            "{:?}",
            Paginator::<usize>::failed(crate::DEFAULT_PAGE_SIZE, Error::invalid("a", "b"))
                .page_size(7)
                .cursor("c9")
        );
        assert!(text.starts_with("Paginator"), "{text}");
        assert!(
            text.contains("page_size: 7") && text.contains("c9"),
            "{text}"
        );
    }
}
