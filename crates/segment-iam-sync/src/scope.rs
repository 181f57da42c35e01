//! What a scoped read covers, as plain data: saved in a plan, so a leaf of its own (the
//! methods that derive it from a file are with the read, in `live.rs`).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

/// What a file without prune names, and so what planning it needs read: saved in a plan
/// ([`crate::Plan::scope`]) so that [`crate::check_fresh`] re-reads the same scope.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Scope {
    /// Email keys of the people listed under `users` (their direct permissions are read).
    pub users: BTreeSet<String>,
    /// Email keys of the groups' members not listed under `users` (only whether each is a
    /// user, a pending invitee or nobody is read).
    pub members: BTreeSet<String>,
    /// The names of the groups the file lists (their members and invitees are read).
    pub groups: BTreeSet<String>,
}
