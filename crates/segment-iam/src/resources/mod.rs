//! One handler per resource, in the spirit of octocrab: `client.users()`, `client.invites()`,
//! `client.groups()`. Each method checks its input, then runs one operation (or a planned series
//! of them) through the client's retry engine.

mod groups;
mod invites;
mod users;

pub use groups::Groups;
pub use invites::Invites;
pub use users::Users;

use crate::error::{Error, Result};

/// Refuses an empty permission list where adding nothing would be a wasted request.
pub(crate) fn non_empty<T>(field: &str, items: Vec<T>) -> Result<Vec<T>> {
    if items.is_empty() {
        Err(Error::invalid(field, "must not be empty"))
    } else {
        Ok(items)
    }
}
