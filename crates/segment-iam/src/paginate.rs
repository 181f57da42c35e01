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

use crate::client::Client;
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
type FetchFn<T> = Arc<dyn Fn(Client, u32, Option<String>) -> PageFuture<T> + Send + Sync>;

/// A list operation ready to be streamed. Configure it, then call [`pages`](Self::pages),
/// [`items`](Self::items) or [`collect`](Self::collect).
pub struct Paginator<T> {
    client: Client,
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
    pub(crate) fn new(
        client: &Client,
        fetch: impl Fn(Client, u32, Option<String>) -> PageFuture<T> + Send + Sync + 'static,
    ) -> Self {
        Paginator {
            client: client.clone(),
            fetch: Arc::new(fetch),
            page_size: client.page_size(),
            cursor: None,
            refused: None,
        }
    }

    /// A list whose input was refused: its stream yields `error` and ends, sending nothing.
    pub(crate) fn failed(client: &Client, error: Error) -> Self {
        let mut paginator = Self::new(client, |_, _, _| {
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
    client: Client,
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
            client: paginator.client,
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
            let future = (self.fetch)(self.client.clone(), self.page_size, cursor);
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
                    Ok(panic) => format!("the page-fetch task panicked: {}", panic_message(&panic)),
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
