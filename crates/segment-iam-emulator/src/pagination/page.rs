//! Page sizes and page slicing: what a list request asks for and which items answer it.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound::{Excluded, Unbounded};

use serde::Serialize;

use super::cursor::{CursorCodec, ListKind, Position};
use crate::query::{DecodedQuery, QueryError};
use crate::wire::ApiError;

/// The page size when a request gives none.
const DEFAULT_COUNT: usize = 200;
/// The largest page size a request may ask for.
const MAX_COUNT: usize = 1000;

/// The `pagination` object of a list answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PageOut {
    pub current: String,
    pub next: Option<String>,
    pub previous: Option<String>,
    pub total_entries: usize,
}

/// A list request's page size and (still unchecked) cursor, as its query gives them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PageRequest {
    count: usize,
    cursor: Option<String>,
}

impl PageRequest {
    /// Reads `pagination.count` (default 200, 1..1000) and `pagination.cursor` (an empty one
    /// is none); `strict` refuses the bracketed forms.
    pub fn parse(query: &DecodedQuery, strict: bool) -> Result<Self, ApiError> {
        let to_err = |e: QueryError| ApiError::invalid(e.field, e.message);
        let count = match query.field("pagination", "count", strict).map_err(to_err)? {
            None => DEFAULT_COUNT,
            Some(raw) => match raw.trim().parse::<i64>() {
                Ok(n) if (1..=MAX_COUNT as i64).contains(&n) => n as usize,
                _ => {
                    return Err(ApiError::invalid(
                        "pagination.count",
                        "\"pagination.count\" must be an integer from 1 to 1000",
                    ));
                }
            },
        };
        let cursor = query
            .field("pagination", "cursor", strict)
            .map_err(to_err)?
            .filter(|c| !c.is_empty());
        Ok(Self { count, cursor })
    }

    /// Where the page starts in list `list` of `scope`: the start, or a 422 when the cursor is
    /// not one this emulator gave for that list.
    pub fn start<'c>(
        self,
        codec: &'c CursorCodec,
        list: ListKind,
        scope: u64,
    ) -> Result<PageStart<'c>, ApiError> {
        let after = match self.cursor.as_deref() {
            None => 0,
            Some(c) => codec
                .decode(c, list, scope)
                .map(|p| p.after)
                .ok_or_else(|| {
                    ApiError::invalid(
                        "pagination.cursor",
                        "\"pagination.cursor\" is not a valid cursor",
                    )
                })?,
        };
        Ok(PageStart {
            codec,
            list,
            scope,
            after,
            count: self.count,
        })
    }
}

/// A checked page start: which list, after which sequence number, how many items.
#[derive(Debug, Clone)]
pub(crate) struct PageStart<'c> {
    codec: &'c CursorCodec,
    list: ListKind,
    scope: u64,
    after: u64,
    count: usize,
}

/// One page of a list: the sequence numbers it holds and its `pagination` object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Page {
    pub items: Vec<u64>,
    pub out: PageOut,
}

impl PageStart<'_> {
    /// The page of `index` this start names, in O(count).
    pub fn slice(&self, index: &dyn SeqIndex) -> Page {
        let w = window(index, self.after, self.count);
        let enc = |after| {
            self.codec.encode(Position {
                kind: self.list,
                scope: self.scope,
                after,
            })
        };
        Page {
            out: PageOut {
                current: enc(self.after),
                next: w.next_after.map(enc),
                previous: w.prev_after.map(enc),
                total_entries: index.total(),
            },
            items: w.items,
        }
    }
}

/// Something ordered by sequence number that can be paged.
pub(crate) trait SeqIndex {
    /// The sequence numbers greater than `after`, ascending.
    fn after(&self, after: u64) -> Box<dyn Iterator<Item = u64> + '_>;
    /// The sequence numbers up to `upto` included, descending.
    fn upto_rev(&self, upto: u64) -> Box<dyn Iterator<Item = u64> + '_>;
    /// How many items the list holds.
    fn total(&self) -> usize;
}

impl<V> SeqIndex for BTreeMap<u64, V> {
    fn after(&self, after: u64) -> Box<dyn Iterator<Item = u64> + '_> {
        Box::new(self.range((Excluded(after), Unbounded)).map(|(k, _)| *k))
    }
    fn upto_rev(&self, upto: u64) -> Box<dyn Iterator<Item = u64> + '_> {
        Box::new(self.range(..=upto).rev().map(|(k, _)| *k))
    }
    fn total(&self) -> usize {
        self.len()
    }
}

impl SeqIndex for BTreeSet<u64> {
    fn after(&self, after: u64) -> Box<dyn Iterator<Item = u64> + '_> {
        Box::new(self.range((Excluded(after), Unbounded)).copied())
    }
    fn upto_rev(&self, upto: u64) -> Box<dyn Iterator<Item = u64> + '_> {
        Box::new(self.range(..=upto).rev().copied())
    }
    fn total(&self) -> usize {
        self.len()
    }
}

/// A page of sequence numbers and where the neighbouring pages start.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Window {
    items: Vec<u64>,
    next_after: Option<u64>,
    prev_after: Option<u64>,
}

/// The page of `count` items after `after`, in O(count).
fn window(index: &dyn SeqIndex, after: u64, count: usize) -> Window {
    let mut it = index.after(after);
    let items: Vec<u64> = it.by_ref().take(count).collect();
    let more = it.next().is_some();
    let next_after = if more { items.last().copied() } else { None };
    let prev_after = if after == 0 {
        None
    } else {
        let back: Vec<u64> = index.upto_rev(after).take(count + 1).collect();
        if back.is_empty() {
            None
        } else if back.len() <= count {
            Some(0)
        } else {
            Some(back[count])
        }
    };
    Window {
        items,
        next_after,
        prev_after,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_know_their_neighbours() {
        let m: BTreeMap<u64, ()> = (1..=10).map(|k| (k, ())).collect();
        let w = window(&m, 0, 4);
        assert_eq!(
            w,
            Window {
                items: vec![1, 2, 3, 4],
                next_after: Some(4),
                prev_after: None
            }
        );
        let w = window(&m, 4, 4);
        assert_eq!(
            w,
            Window {
                items: vec![5, 6, 7, 8],
                next_after: Some(8),
                prev_after: Some(0)
            }
        );
        let w = window(&m, 8, 4);
        assert_eq!(
            w,
            Window {
                items: vec![9, 10],
                next_after: None,
                prev_after: Some(4)
            }
        );
        let w = window(&m, 6, 2);
        assert_eq!(w.prev_after, Some(4));
        let w = window(&m, 10, 4);
        assert!(w.items.is_empty());
        assert_eq!(w.next_after, None);
    }

    fn request(query: &str) -> Result<PageRequest, ApiError> {
        let q = DecodedQuery::parse(query).map_err(|e| ApiError::invalid(e.field, e.message))?;
        PageRequest::parse(&q, false)
    }

    #[test]
    fn page_size_defaults_to_200_and_stays_within_1_to_1000() {
        assert_eq!(request("").map(|r| r.count), Ok(DEFAULT_COUNT));
        assert_eq!(request("pagination.count=1").map(|r| r.count), Ok(1));
        assert_eq!(request("pagination[count]=1000").map(|r| r.count), Ok(1000));
        for bad in ["0", "1001", "-1", "x", ""] {
            let e = request(&format!("pagination.count={bad}")).expect_err(bad);
            assert_eq!(e.field.as_deref(), Some("pagination.count"), "{bad}");
        }
    }

    #[test]
    fn a_cursor_opens_only_the_list_it_came_from() {
        let codec = CursorCodec::random();
        let m: BTreeMap<u64, ()> = (1..=5).map(|k| (k, ())).collect();
        let first = request("pagination.count=2")
            .and_then(|r| r.start(&codec, ListKind::Users, 0))
            .expect("first page")
            .slice(&m);
        assert_eq!(
            (first.items.as_slice(), first.out.total_entries),
            (&[1, 2][..], 5)
        );
        assert_eq!(first.out.previous, None);
        let next = first.out.next.expect("a next page");
        let second = PageRequest {
            count: 2,
            cursor: Some(next.clone()),
        }
        .start(&codec, ListKind::Users, 0)
        .expect("own cursor")
        .slice(&m);
        assert_eq!(second.items, vec![3, 4]);
        assert_eq!(second.out.current, next);
        assert!(second.out.previous.is_some());
        for (list, scope) in [(ListKind::Invites, 0), (ListKind::Users, 1)] {
            let e = PageRequest {
                count: 2,
                cursor: Some(next.clone()),
            }
            .start(&codec, list, scope)
            .expect_err("a foreign list");
            assert_eq!(e.field.as_deref(), Some("pagination.cursor"));
        }
    }
}
