//! One handler per resource, in the spirit of octocrab: `client.users()`, `client.invites()`,
//! `client.groups()`. Each method checks its input, then runs one operation (or a planned series
//! of them) through the client's retry engine.

/// A [`Paginator`](crate::Paginator) over list operation `$op`, whose output holds the page in
/// field `$items`. Each `$setter: "field" = value` is a path id: checked (as `field`) when the
/// stream starts, then passed to the generated builder method `$setter`. The one place that
/// knows how a list request is built, so the six list operations cannot drift apart.
macro_rules! paginator {
    ($client:expr, $op:ident => $items:ident $(, $setter:ident : $field:literal = $value:expr)*) => {{
        $( let $setter: String = $value; )*
        crate::paginate::Paginator::new($client, move |client, count, cursor| {
            $( let $setter = $setter.clone(); )*
            Box::pin(async move {
                $( crate::validate::id($field, &$setter)?; )*
                let data = client
                    .call(stringify!($op), |api| {
                        let request = api.$op() $( .$setter($setter.as_str()) )* .pagination_count(count);
                        match &cursor {
                            Some(c) => request.pagination_cursor(c.clone()),
                            None => request,
                        }
                        .send()
                    })
                    .await?
                    .data;
                Ok(crate::paginate::Page::new(data.$items, data.pagination))
            })
        })
    }};
}

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
