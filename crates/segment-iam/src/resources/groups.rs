//! `client.groups()`: user groups, their members, invitees and permissions.

use std::future::Future;

use segment_iam_api::ClientIamGroupsExt;
use segment_iam_api::types::{self, AccessPermissionV1, MinimalUserV1, UserGroupId, UserGroupV1};

use crate::batch::{self, BulkOutcome};
use crate::client::Client;
use crate::error::{Error, Result};
use crate::model::Permission;
use crate::paginate::Paginator;
use crate::resources::permissions;
use crate::validate;

/// User groups of the workspace. Get one with [`Client::groups`]; cheap to clone.
#[derive(Debug, Clone)]
pub struct Groups {
    client: Client,
}

/// A group name, parsed into the generated type that carries the document's limits.
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

fn group_id(value: impl AsRef<str>) -> Result<UserGroupId> {
    validate::id("group_id", value.as_ref())
}

impl Groups {
    pub(crate) fn new(client: Client) -> Self {
        Groups { client }
    }

    /// Every user group.
    pub fn list(&self) -> Paginator<UserGroupV1> {
        paginator!(&self.client, list_user_groups => user_groups)
    }

    /// One group, with its permissions.
    pub fn get(
        &self,
        group_id: impl AsRef<str>,
    ) -> impl Future<Output = Result<UserGroupV1>> + Send + 'static {
        let id = self::group_id(group_id);
        let reply = send!(self.client.clone(), |api| api
            .get_user_group()
            .user_group_id(id?));
        async move { Ok(reply.await?.data.user_group) }
    }

    /// Creates a group. A POST: sent once, retried only when it provably did not arrive.
    pub fn create(
        &self,
        name: impl AsRef<str>,
    ) -> impl Future<Output = Result<UserGroupV1>> + Send + 'static {
        let name = group_name(name.as_ref());
        let reply = send!(self.client.clone(), |api| api
            .create_user_group()
            .body(types::CreateUserGroupV1Input { name: name? }));
        async move { Ok(reply.await?.data.user_group) }
    }

    /// Renames a group.
    pub fn rename(
        &self,
        group_id: impl AsRef<str>,
        name: impl AsRef<str>,
    ) -> impl Future<Output = Result<UserGroupV1>> + Send + 'static {
        let id = self::group_id(group_id);
        let name = group_name(name.as_ref());
        let reply = send!(self.client.clone(), |api| api
            .update_user_group()
            .user_group_id(id?)
            .body(types::UpdateUserGroupV1Input { name: name? }));
        async move { Ok(reply.await?.data.user_group) }
    }

    /// Deletes a group (its memberships and permissions go with it).
    pub fn delete(
        &self,
        group_id: impl AsRef<str>,
    ) -> impl Future<Output = Result<()>> + Send + 'static {
        let client = self.client.clone();
        let id = self::group_id(group_id);
        async move {
            let call = client.call();
            call.delete(call.api().delete_user_group().user_group_id(id?))
                .await
        }
    }

    /// The users in a group.
    pub fn members(&self, group_id: impl AsRef<str>) -> Paginator<MinimalUserV1> {
        paginator!(&self.client, list_users_from_user_group => users, user_group_id: "group_id" as UserGroupId = group_id)
    }

    /// The emails invited to a group who have not joined yet.
    pub fn invites(&self, group_id: impl AsRef<str>) -> Paginator<String> {
        paginator!(&self.client, list_invites_from_user_group => emails, user_group_id: "group_id" as UserGroupId = group_id)
    }

    /// Adds users or invitees (by email) to a group.
    pub fn add_members(
        &self,
        group_id: impl AsRef<str>,
        emails: impl IntoIterator<Item = impl Into<String>>,
    ) -> impl Future<Output = Result<UserGroupV1>> + Send + 'static {
        let id = self::group_id(group_id);
        let emails = validate::emails("emails", emails, true);
        let reply = send!(self.client.clone(), |api| api
            .add_users_to_user_group()
            .user_group_id(id?)
            .body(types::AddUsersToUserGroupV1Input { emails: emails? }));
        async move { Ok(reply.await?.data.user_group) }
    }

    /// Makes these emails the group's whole membership (an empty list empties the group).
    pub fn replace_members(
        &self,
        group_id: impl AsRef<str>,
        emails: impl IntoIterator<Item = impl Into<String>>,
    ) -> impl Future<Output = Result<UserGroupV1>> + Send + 'static {
        let id = self::group_id(group_id);
        let emails = validate::emails("emails", emails, false);
        let reply = send!(self.client.clone(), |api| api
            .replace_users_in_user_group()
            .user_group_id(id?)
            .body(types::ReplaceUsersInUserGroupV1Input { emails: emails? }));
        async move { Ok(reply.await?.data.user_group) }
    }

    /// Removes users or invitees (by email) from a group, split under the URL limit; on
    /// failure the error says which were removed.
    pub fn remove_members(
        &self,
        group_id: impl AsRef<str>,
        emails: impl IntoIterator<Item = impl Into<String>>,
    ) -> impl Future<Output = Result<BulkOutcome>> + Send + 'static {
        let client = self.client.clone();
        let id = self::group_id(group_id);
        let emails = validate::emails("emails", emails, true);
        async move {
            let (id, emails) = (id?, emails?);
            let call = client.call();
            batch::remove(
                &call,
                client.base_url(),
                client.max_url_len(),
                &[&id],
                "emails",
                emails,
                |api, batch| {
                    api.remove_users_from_user_group()
                        .user_group_id(id.clone())
                        .emails(batch)
                },
            )
            .await
        }
    }

    /// Adds permissions to a group; returns the permissions created.
    pub fn add_permissions(
        &self,
        group_id: impl AsRef<str>,
        permissions: impl IntoIterator<Item = Permission>,
    ) -> impl Future<Output = Result<Vec<AccessPermissionV1>>> + Send + 'static {
        let id = self::group_id(group_id);
        let permissions = self::permissions(permissions, true);
        let reply = send!(self.client.clone(), |api| api
            .add_permissions_to_user_group()
            .user_group_id(id?)
            .body(types::AddPermissionsToUserGroupV1Input {
                permissions: permissions?
            }));
        async move { Ok(reply.await?.data.permissions) }
    }

    /// Replaces all of a group's permissions with these (an empty list removes them all).
    pub fn replace_permissions(
        &self,
        group_id: impl AsRef<str>,
        permissions: impl IntoIterator<Item = Permission>,
    ) -> impl Future<Output = Result<Vec<AccessPermissionV1>>> + Send + 'static {
        let id = self::group_id(group_id);
        let permissions = self::permissions(permissions, false);
        let reply = send!(self.client.clone(), |api| api
            .replace_permissions_for_user_group()
            .user_group_id(id?)
            .body(types::ReplacePermissionsForUserGroupV1Input {
                permissions: permissions?
            }));
        async move { Ok(reply.await?.data.permissions) }
    }
}
