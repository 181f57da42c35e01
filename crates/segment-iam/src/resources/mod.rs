//! One handler per resource, in the spirit of octocrab: `client.users()`, `client.invites()`,
//! `client.groups()`. A handler owns a clone of the client (cheap: one `Arc`), and every method
//! checks its input at once, then returns a `'static + Send` future (or a [`Paginator`]) that
//! sends through a facade call — so `tokio::spawn(client.users().get(id))` just works.
//!
//! One rule for arguments: every id, email or role name — alone or as an iterator of them — is
//! `impl AsRef<str>`, so `&str`, `String`, `&String`, `&&str` (from `.iter()` over `&str`s),
//! `Cow<str>` and `Arc<str>` all fit every method alike.
//!
//! [`Paginator`]: crate::Paginator

/// A `'static + Send` future sending one request of the generated client through a fresh
/// facade call: `$client` (a `Client`) is moved in, and `$api` names the call's generated
/// client inside `$request`, which may use `?` on the method's already-checked arguments.
///
/// With `=> $field`, the future answers that field of the answer's `data` instead, in the same
/// future (awaiting one future from another would hold, and move, the request's state twice).
macro_rules! send {
    ($client:expr, |$api:ident| $request:expr) => {{
        let client: crate::Client = $client;
        async move {
            let call = client.call();
            let $api = call.api();
            call.send($request).await
        }
    }};
    ($client:expr, |$api:ident| $request:expr => $field:ident) => {{
        let client: crate::Client = $client;
        async move {
            let call = client.call();
            let $api = call.api();
            Ok(call.send($request).await?.data.$field)
        }
    }};
}

/// Handler methods that send one request each: a method names its arguments, how each is
/// checked (at once, before the future exists), the request built from the checked values
/// (`?` on them inside), and the field of the answer's `data` it returns. The method returns a
/// `'static + Send` future.
macro_rules! request_methods {
    ($(
        $(#[$doc:meta])*
        fn $name:ident($($arg:ident: $arg_ty:ty => $checked:ident = $check:expr),* $(,)?) -> $out:ty {
            |$api:ident| $request:expr => $field:ident
        }
    )*) => {$(
        $(#[$doc])*
        pub fn $name(
            &self,
            $($arg: $arg_ty),*
        ) -> impl std::future::Future<Output = crate::Result<$out>> + Send + 'static {
            $( let $checked = $check; )*
            send!(self.client.clone(), |$api| $request => $field)
        }
    )*};
}

/// `add_permissions` and `replace_permissions` of a subject (a user or a group): `$id` is the
/// subject's id newtype, `$setter` its builder method, then each operation's builder method
/// and body type. Role names and "this workspace" are resolved (cached lookups) before sending.
macro_rules! permission_methods {
    ($field:literal, $id:ty, $setter:ident, $add:ident($add_body:ident), $replace:ident($replace_body:ident)) => {
        permission_methods!(@one $field, $id, $setter, $add, $add_body, true,
            "Adds permissions; returns the permissions created. Roles may be given by name \
             ([`Permission::role`](crate::Permission::role)), resolved before sending.",
            add_permissions);
        permission_methods!(@one $field, $id, $setter, $replace, $replace_body, false,
            "Replaces all the permissions with these (an empty list removes them all). Roles \
             may be given by name, resolved before sending.",
            replace_permissions);
    };
    (@one $field:literal, $id:ty, $setter:ident, $op:ident, $body:ident, $non_empty:expr, $doc:expr, $name:ident) => {
        #[doc = $doc]
        pub fn $name(
            &self,
            id: impl AsRef<str>,
            permissions: impl IntoIterator<Item = crate::Permission>,
        ) -> impl std::future::Future<Output = crate::Result<Vec<segment_iam_api::types::AccessPermissionV1>>>
               + Send
               + 'static {
            let subject = crate::validate::id::<$id>($field, id.as_ref());
            let permissions: Vec<crate::Permission> = permissions.into_iter().collect();
            let client = self.client.clone();
            async move {
                let subject = subject?;
                let inputs = crate::resources::permissions(&client, permissions, $non_empty).await?;
                let reply = send!(client, |api| api
                    .$op()
                    .$setter(subject)
                    .body(segment_iam_api::types::$body { permissions: inputs }));
                Ok(reply.await?.data.permissions)
            }
        }
    };
}

/// A `'static + Send` future removing `$items` (a checked `Result<Vec<_>>`) in URL-sized
/// chunks with the deletion `$request` builds for each `$batch`. Each `$path` (a checked
/// `Result` of an id) fills the operation's path, in order, and is in scope in `$request`.
macro_rules! remove_in_chunks {
    ($client:expr, $field:literal, $items:expr, [$($path:ident),*], |$api:ident, $batch:ident| $request:expr) => {{
        let client: crate::Client = $client;
        async move {
            $( let $path = $path?; )*
            let items = $items?;
            let call = client.call();
            let path = [$( $path.as_str() ),*];
            crate::batch::remove(&call, client.base_url(), client.max_url_len(), &path, $field, items, |$api, $batch| $request).await
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
                Err(error) => return crate::paginate::Paginator::failed(client.page_size(), error),
            };
        )*
        let client = client.clone();
        crate::paginate::Paginator::new(client.page_size(), move |count, cursor| {
            let client = client.clone();
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

mod audit_events;
mod group_names;
mod groups;
mod invites;
mod labels;
mod roles;
mod sources;
mod users;

pub use audit_events::{AuditEvent, AuditEvents};
pub use group_names::ResolvedGroup;
pub use groups::Groups;
pub use invites::Invites;
pub use labels::Labels;
pub use roles::Roles;
pub use sources::Sources;
pub use users::Users;

use segment_iam_api::types::PermissionInputV1;

use crate::client::Client;
use crate::error::{Error, Result};
use crate::model::{Permission, permission_inputs};

/// The handlers, one per resource: each owns a clone of the client.
impl Client {
    /// Users, their groups and permissions.
    pub fn users(&self) -> Users {
        Users::new(self.clone())
    }

    /// Pending invites to the workspace.
    pub fn invites(&self) -> Invites {
        Invites::new(self.clone())
    }

    /// User groups, their members, invites and permissions.
    pub fn groups(&self) -> Groups {
        Groups::new(self.clone())
    }

    /// Roles of the workspace, and role names resolved to ids.
    pub fn roles(&self) -> Roles {
        Roles::new(self.clone())
    }

    /// Labels of the workspace: list, create, delete.
    pub fn labels(&self) -> Labels {
        Labels::new(self.clone())
    }

    /// Sources of the workspace and the labels they carry (read only).
    pub fn sources(&self) -> Sources {
        Sources::new(self.clone())
    }

    /// The workspace's audit trail (who changed what and when), newest first, with filters.
    pub fn audit_events(&self) -> AuditEvents {
        AuditEvents::new(self.clone())
    }
}

/// Permissions checked, resolved (role names, "this workspace") and converted; `non_empty`
/// refuses an empty list where adding nothing would waste a request (replacing with nothing
/// is meaningful: it removes them all).
pub(crate) async fn permissions(
    client: &Client,
    permissions: Vec<Permission>,
    non_empty: bool,
) -> Result<Vec<PermissionInputV1>> {
    if non_empty && permissions.is_empty() {
        return Err(Error::invalid("permissions", "must not be empty"));
    }
    permission_inputs(resolve_permissions(client, permissions).await?)
}

/// Permissions with every role name replaced by its id and every "this workspace" by the
/// workspace's id: checked first (nothing is looked up for input that can never be right),
/// then at most one `listRoles` and one `getWorkspace`, both cached by the client.
pub(crate) async fn resolve_permissions(
    client: &Client,
    permissions: Vec<Permission>,
) -> Result<Vec<Permission>> {
    for permission in &permissions {
        permission.check()?;
    }
    let roles = if permissions.iter().any(Permission::needs_roles) {
        let roles = roles::role_directory(client, false).await?;
        // Every name is checked before the workspace is looked up: a typo costs one read.
        for permission in permissions.iter().filter(|p| p.needs_roles()) {
            roles.resolve(permission.role_id())?;
        }
        Some(roles)
    } else {
        None
    };
    let workspace = if permissions.iter().any(Permission::needs_workspace) {
        Some(client.workspace().await?)
    } else {
        None
    };
    permissions
        .into_iter()
        .map(|p| p.resolve(roles.as_deref(), workspace.as_ref().map(|w| w.id.as_str())))
        .collect()
}
