//! One handler per resource, in the spirit of octocrab: `client.users()`, `client.invites()`,
//! `client.groups()`. A handler owns a clone of the client (cheap: one `Arc`), and every method
//! checks its input at once, then returns a `'static + Send` future (or a [`Paginator`]) that
//! sends through a facade call — so `tokio::spawn(client.users().get(id))` just works.
//!
//! [`Paginator`]: crate::Paginator

/// A `'static + Send` future sending one request of the generated client through a fresh
/// facade call: `$client` (a `Client`) is moved in, and `$api` names the call's generated
/// client inside `$request`, which may use `?` on the method's already-checked arguments.
macro_rules! send {
    ($client:expr, |$api:ident| $request:expr) => {{
        let client: crate::Client = $client;
        async move {
            let call = client.call();
            let $api = call.api();
            call.send($request).await
        }
    }};
}

/// A [`Paginator`](crate::Paginator) over list operation `$op`, whose output holds the page in
/// field `$items`. Each `$setter: "field" as Type = value` is a path id, parsed once into its
/// generated newtype (a refusal returns a paginator whose stream yields it), then passed to the
/// generated builder method `$setter`. The one place that knows how a list request is built.
macro_rules! paginator {
    ($client:expr, $op:ident => $items:ident $(, $setter:ident : $field:literal as $ty:ty = $value:expr)*) => {{
        let client: &crate::Client = $client;
        $(
            let $setter: $ty = match crate::validate::id($field, $value.as_ref()) {
                Ok(id) => id,
                Err(error) => return crate::paginate::Paginator::failed(client, error),
            };
        )*
        crate::paginate::Paginator::new(client, move |client, count, cursor| {
            $( let $setter = $setter.clone(); )*
            Box::pin(async move {
                let call = client.call();
                let request = call.api().$op() $( .$setter($setter) )* .pagination_count(count);
                let request = match cursor {
                    Some(cursor) => request.pagination_cursor(cursor),
                    None => request,
                };
                let data = call.send(request).await?.data;
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
use crate::model::{Permission, permission_inputs};
use segment_iam_api::types::PermissionInputV1;

/// Permissions checked and converted; `non_empty` refuses an empty list where adding nothing
/// would waste a request (replacing with nothing is meaningful: it removes them all).
pub(crate) fn permissions(
    permissions: impl IntoIterator<Item = Permission>,
    non_empty: bool,
) -> Result<Vec<PermissionInputV1>> {
    let inputs = permission_inputs(permissions)?;
    if non_empty && inputs.is_empty() {
        return Err(Error::invalid("permissions", "must not be empty"));
    }
    Ok(inputs)
}
