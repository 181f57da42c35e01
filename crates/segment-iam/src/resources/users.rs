//! `client.users()`: list, get, delete users; their groups and permissions.

use std::future::Future;

use segment_iam_api::ClientIamUsersExt;
use segment_iam_api::types::{self, AccessPermissionV1, MinimalUserGroupV1, UserId, UserV1};

use crate::batch::{self, BulkOutcome};
use crate::client::Client;
use crate::error::Result;
use crate::model::Permission;
use crate::paginate::Paginator;
use crate::resources::permissions;
use crate::validate;

/// Users of the workspace. Get one with [`Client::users`]; cheap to clone.
#[derive(Debug, Clone)]
pub struct Users {
    client: Client,
}

impl Users {
    pub(crate) fn new(client: Client) -> Self {
        Users { client }
    }

    /// Every user with access to the workspace.
    pub fn list(&self) -> Paginator<UserV1> {
        paginator!(&self.client, list_users => users)
    }

    /// One user, with their permissions.
    pub fn get(
        &self,
        user_id: impl AsRef<str>,
    ) -> impl Future<Output = Result<UserV1>> + Send + 'static {
        let user_id = validate::id::<UserId>("user_id", user_id.as_ref());
        let reply = send!(self.client.clone(), |api| api.get_user().user_id(user_id?));
        async move { Ok(reply.await?.data.user) }
    }

    /// The groups a user belongs to.
    pub fn groups(&self, user_id: impl AsRef<str>) -> Paginator<MinimalUserGroupV1> {
        paginator!(&self.client, list_user_groups_from_user => groups, user_id: "user_id" as UserId = user_id)
    }

    /// Removes users (and their group memberships). Long lists are split into several
    /// requests under the URL limit; on failure the error says which ids were removed.
    pub fn delete(
        &self,
        user_ids: impl IntoIterator<Item = impl AsRef<str>>,
    ) -> impl Future<Output = Result<BulkOutcome>> + Send + 'static {
        let client = self.client.clone();
        let ids = validate::ids::<UserId>("user_ids", user_ids);
        async move {
            let call = client.call();
            batch::remove(
                &call,
                client.base_url(),
                client.max_url_len(),
                &[],
                "user_ids",
                ids?,
                |api, batch| api.delete_users().user_ids(batch),
            )
            .await
        }
    }

    /// Adds permissions to a user; returns the permissions created.
    pub fn add_permissions(
        &self,
        user_id: impl AsRef<str>,
        permissions: impl IntoIterator<Item = Permission>,
    ) -> impl Future<Output = Result<Vec<AccessPermissionV1>>> + Send + 'static {
        let user_id = validate::id::<UserId>("user_id", user_id.as_ref());
        let permissions = self::permissions(permissions, true);
        let reply = send!(self.client.clone(), |api| api
            .add_permissions_to_user()
            .user_id(user_id?)
            .body(types::AddPermissionsToUserV1Input {
                permissions: permissions?
            }));
        async move { Ok(reply.await?.data.permissions) }
    }

    /// Replaces all of a user's permissions with these (an empty list removes them all).
    pub fn replace_permissions(
        &self,
        user_id: impl AsRef<str>,
        permissions: impl IntoIterator<Item = Permission>,
    ) -> impl Future<Output = Result<Vec<AccessPermissionV1>>> + Send + 'static {
        let user_id = validate::id::<UserId>("user_id", user_id.as_ref());
        let permissions = self::permissions(permissions, false);
        let reply = send!(self.client.clone(), |api| api
            .replace_permissions_for_user()
            .user_id(user_id?)
            .body(types::ReplacePermissionsForUserV1Input {
                permissions: permissions?
            }));
        async move { Ok(reply.await?.data.permissions) }
    }
}
