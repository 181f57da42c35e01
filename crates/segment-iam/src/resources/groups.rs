//! `client.groups()`: user groups, their members, invitees and permissions.

use segment_iam_api::ClientIamGroupsExt;
use segment_iam_api::types::{self, AccessPermissionV1, MinimalUserV1, UserGroupV1};

use crate::bulk::{self, BulkOutcome};
use crate::client::Client;
use crate::error::{Error, Result};
use crate::model::{Permission, permission_inputs};
use crate::paginate::Paginator;
use crate::resources::non_empty;
use crate::validate;

/// User groups of the workspace. Get one with [`Client::groups`].
#[derive(Debug, Clone, Copy)]
pub struct Groups<'a> {
    client: &'a Client,
}

fn group_name<T: std::str::FromStr>(name: &str) -> Result<T>
where
    T::Err: std::fmt::Display,
{
    if name.trim().is_empty() {
        return Err(Error::invalid("name", "must not be empty"));
    }
    name.parse()
        .map_err(|e: T::Err| Error::invalid("name", e.to_string()))
}

impl<'a> Groups<'a> {
    pub(crate) fn new(client: &'a Client) -> Self {
        Groups { client }
    }

    /// Every user group.
    pub fn list(&self) -> Paginator<UserGroupV1> {
        paginator!(self.client, list_user_groups => user_groups)
    }

    /// One group, with its permissions.
    pub async fn get(&self, group_id: impl AsRef<str>) -> Result<UserGroupV1> {
        let group_id = group_id.as_ref();
        validate::id("group_id", group_id)?;
        let data = self
            .client
            .call("get_user_group", |api| {
                api.get_user_group().user_group_id(group_id).send()
            })
            .await?
            .data;
        Ok(data.user_group)
    }

    /// Creates a group. A POST: sent once, retried only when it provably did not arrive.
    pub async fn create(&self, name: impl AsRef<str>) -> Result<UserGroupV1> {
        let body = types::CreateUserGroupV1Input {
            name: group_name(name.as_ref())?,
        };
        let data = self
            .client
            .call("create_user_group", |api| {
                api.create_user_group().body(body.clone()).send()
            })
            .await?
            .data;
        Ok(data.user_group)
    }

    /// Renames a group.
    pub async fn rename(
        &self,
        group_id: impl AsRef<str>,
        name: impl AsRef<str>,
    ) -> Result<UserGroupV1> {
        let group_id = group_id.as_ref();
        validate::id("group_id", group_id)?;
        let body = types::UpdateUserGroupV1Input {
            name: group_name(name.as_ref())?,
        };
        let data = self
            .client
            .call("update_user_group", |api| {
                api.update_user_group()
                    .user_group_id(group_id)
                    .body(body.clone())
                    .send()
            })
            .await?
            .data;
        Ok(data.user_group)
    }

    /// Deletes a group.
    pub async fn delete(&self, group_id: impl AsRef<str>) -> Result<()> {
        let group_id = group_id.as_ref();
        validate::id("group_id", group_id)?;
        self.client
            .call_delete("delete_user_group", |api| {
                api.delete_user_group().user_group_id(group_id).send()
            })
            .await
    }

    /// The users in a group.
    pub fn members(&self, group_id: impl Into<String>) -> Paginator<MinimalUserV1> {
        paginator!(self.client, list_users_from_user_group => users, user_group_id: "group_id" = group_id.into())
    }

    /// The emails invited to a group who have not joined yet.
    pub fn invites(&self, group_id: impl Into<String>) -> Paginator<String> {
        paginator!(self.client, list_invites_from_user_group => emails, user_group_id: "group_id" = group_id.into())
    }

    /// Adds users or invitees (by email) to a group.
    pub async fn add_members(
        &self,
        group_id: impl AsRef<str>,
        emails: impl IntoIterator<Item = impl Into<String>>,
    ) -> Result<UserGroupV1> {
        let group_id = group_id.as_ref();
        validate::id("group_id", group_id)?;
        let emails = validate::list("emails", emails, validate::email)?;
        let body = types::AddUsersToUserGroupV1Input { emails };
        let data = self
            .client
            .call("add_users_to_user_group", |api| {
                api.add_users_to_user_group()
                    .user_group_id(group_id)
                    .body(body.clone())
                    .send()
            })
            .await?
            .data;
        Ok(data.user_group)
    }

    /// Makes these emails the group's whole membership (an empty list empties the group).
    pub async fn replace_members(
        &self,
        group_id: impl AsRef<str>,
        emails: impl IntoIterator<Item = impl Into<String>>,
    ) -> Result<UserGroupV1> {
        let group_id = group_id.as_ref();
        validate::id("group_id", group_id)?;
        let emails: Vec<String> = emails.into_iter().map(Into::into).collect();
        for email in &emails {
            validate::email("emails", email)?;
        }
        let body = types::ReplaceUsersInUserGroupV1Input { emails };
        let data = self
            .client
            .call("replace_users_in_user_group", |api| {
                api.replace_users_in_user_group()
                    .user_group_id(group_id)
                    .body(body.clone())
                    .send()
            })
            .await?
            .data;
        Ok(data.user_group)
    }

    /// Removes users or invitees (by email) from a group, split under the URL limit; on
    /// failure the error says which were removed.
    pub async fn remove_members(
        &self,
        group_id: impl AsRef<str>,
        emails: impl IntoIterator<Item = impl Into<String>>,
    ) -> Result<BulkOutcome> {
        let group_id = group_id.as_ref();
        validate::id("group_id", group_id)?;
        let emails = validate::list("emails", emails, validate::email)?;
        let path = format!("/group/{}/users", segment_iam_api_path_segment(group_id));
        let base_len = self.client.base_url().len() + path.len();
        bulk::run(
            "emails",
            "emails",
            emails,
            base_len,
            self.client.max_url_len(),
            |batch| async move {
                self.client
                    .call_delete("remove_users_from_user_group", |api| {
                        api.remove_users_from_user_group()
                            .user_group_id(group_id)
                            .emails(batch.clone())
                            .send()
                    })
                    .await
            },
        )
        .await
    }

    /// Adds permissions to a group; returns the permissions created.
    pub async fn add_permissions(
        &self,
        group_id: impl AsRef<str>,
        permissions: impl IntoIterator<Item = Permission>,
    ) -> Result<Vec<AccessPermissionV1>> {
        let group_id = group_id.as_ref();
        validate::id("group_id", group_id)?;
        let permissions = non_empty("permissions", permission_inputs(permissions)?)?;
        let body = types::AddPermissionsToUserGroupV1Input { permissions };
        let data = self
            .client
            .call("add_permissions_to_user_group", |api| {
                api.add_permissions_to_user_group()
                    .user_group_id(group_id)
                    .body(body.clone())
                    .send()
            })
            .await?
            .data;
        Ok(data.permissions)
    }

    /// Replaces all of a group's permissions with these (an empty list removes them all).
    pub async fn replace_permissions(
        &self,
        group_id: impl AsRef<str>,
        permissions: impl IntoIterator<Item = Permission>,
    ) -> Result<Vec<AccessPermissionV1>> {
        let group_id = group_id.as_ref();
        validate::id("group_id", group_id)?;
        let body = types::ReplacePermissionsForUserGroupV1Input {
            permissions: permission_inputs(permissions)?,
        };
        let data = self
            .client
            .call("replace_permissions_for_user_group", |api| {
                api.replace_permissions_for_user_group()
                    .user_group_id(group_id)
                    .body(body.clone())
                    .send()
            })
            .await?
            .data;
        Ok(data.permissions)
    }
}

/// The id as it appears in the path (percent-encoded like the generated client does).
fn segment_iam_api_path_segment(id: &str) -> String {
    progenitor_client::encode_path(id)
}
