//! `client.users()`: list, get, delete users; their groups and permissions.

use segment_iam_api::ClientIamUsersExt;
use segment_iam_api::types::{self, AccessPermissionV1, MinimalUserGroupV1, UserV1};

use crate::bulk::{self, BulkOutcome};
use crate::client::Client;
use crate::error::Result;
use crate::model::{Permission, permission_inputs};
use crate::paginate::Paginator;
use crate::resources::non_empty;
use crate::validate;

/// Users of the workspace. Get one with [`Client::users`].
#[derive(Debug, Clone, Copy)]
pub struct Users<'a> {
    client: &'a Client,
}

impl<'a> Users<'a> {
    pub(crate) fn new(client: &'a Client) -> Self {
        Users { client }
    }

    /// Every user with access to the workspace.
    pub fn list(&self) -> Paginator<UserV1> {
        paginator!(self.client, list_users => users)
    }

    /// One user, with their permissions.
    pub async fn get(&self, user_id: impl AsRef<str>) -> Result<UserV1> {
        let user_id = user_id.as_ref();
        validate::id("user_id", user_id)?;
        let data = self
            .client
            .call("get_user", |api| api.get_user().user_id(user_id).send())
            .await?
            .data;
        Ok(data.user)
    }

    /// The groups a user belongs to.
    pub fn groups(&self, user_id: impl Into<String>) -> Paginator<MinimalUserGroupV1> {
        paginator!(self.client, list_user_groups_from_user => groups, user_id: "user_id" = user_id.into())
    }

    /// Removes users (and their group memberships). Long lists are split into several
    /// requests under the URL limit; on failure the error says which ids were removed.
    pub async fn delete(
        &self,
        user_ids: impl IntoIterator<Item = impl Into<String>>,
    ) -> Result<BulkOutcome> {
        let ids = validate::list("user_ids", user_ids, validate::id)?;
        let base_len = self.client.base_url().len() + "/users".len();
        bulk::run(
            "user_ids",
            "userIds",
            ids,
            base_len,
            self.client.max_url_len(),
            |batch| async move {
                let batch: Vec<types::UserId> = batch
                    .iter()
                    .map(|id| id.parse())
                    .collect::<std::result::Result<_, _>>()
                    .map_err(|e| crate::Error::invalid("user_ids", format!("{e}")))?;
                self.client
                    .call_delete("delete_users", |api| {
                        api.delete_users().user_ids(batch.clone()).send()
                    })
                    .await
            },
        )
        .await
    }

    /// Adds permissions to a user; returns the permissions created.
    pub async fn add_permissions(
        &self,
        user_id: impl AsRef<str>,
        permissions: impl IntoIterator<Item = Permission>,
    ) -> Result<Vec<AccessPermissionV1>> {
        let user_id = user_id.as_ref();
        validate::id("user_id", user_id)?;
        let permissions = non_empty("permissions", permission_inputs(permissions)?)?;
        let body = types::AddPermissionsToUserV1Input { permissions };
        let data = self
            .client
            .call("add_permissions_to_user", |api| {
                api.add_permissions_to_user()
                    .user_id(user_id)
                    .body(body.clone())
                    .send()
            })
            .await?
            .data;
        Ok(data.permissions)
    }

    /// Replaces all of a user's permissions with these (an empty list removes them all).
    pub async fn replace_permissions(
        &self,
        user_id: impl AsRef<str>,
        permissions: impl IntoIterator<Item = Permission>,
    ) -> Result<Vec<AccessPermissionV1>> {
        let user_id = user_id.as_ref();
        validate::id("user_id", user_id)?;
        let body = types::ReplacePermissionsForUserV1Input {
            permissions: permission_inputs(permissions)?,
        };
        let data = self
            .client
            .call("replace_permissions_for_user", |api| {
                api.replace_permissions_for_user()
                    .user_id(user_id)
                    .body(body.clone())
                    .send()
            })
            .await?
            .data;
        Ok(data.permissions)
    }
}
