//! Paging, in one place: the page size a list request asks for, the opaque cursor that says
//! where its page starts, the slice of the list that page holds and the `pagination` object
//! that answers it.
//!
//! A cursor names a position in one list: the list kind, its scope (the group or user it
//! belongs to, 0 for the workspace-wide lists) and the sequence number after which the page
//! starts. Lists are ordered by creation sequence, so a page is a `BTreeMap` range: O(page).
//!
//! A handler reads the request with `PageRequest::parse` (422 for a bad
//! `pagination.count`), checks its subject exists, then `PageRequest::start` checks the
//! cursor against the list (422 for a foreign or forged one) and `PageStart::slice` cuts the
//! page — in that order, so a bad count is refused before an unknown id, and an unknown id
//! before a bad cursor.

mod cursor;
mod page;

pub use cursor::{CursorCodec, ListKind, Position};
pub(crate) use page::{PageOut, PageRequest};
