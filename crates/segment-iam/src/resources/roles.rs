//! `client.roles()`: the roles the workspace grants, and names resolved to ids.

use std::future::Future;
use std::sync::Arc;

use futures::TryStreamExt;
use segment_iam_api::ClientIamRolesExt;
use segment_iam_api::types::RoleV1;

use crate::client::Client;
use crate::config::MAX_PAGE_SIZE;
use crate::directory::RoleDirectory;
use crate::error::Result;
use crate::paginate::Paginator;

/// Roles of the workspace. Get one with [`Client::roles`]; cheap to clone.
#[derive(Debug, Clone)]
pub struct Roles {
    client: Client,
}

impl Roles {
    pub(crate) fn new(client: Client) -> Self {
        Roles { client }
    }

    /// Every role, as `listRoles` pages them (uncached).
    pub fn list(&self) -> Paginator<RoleV1> {
        paginator!(&self.client, list_roles => roles)
    }

    /// Every role, looked up once per client and then served from its cache.
    pub fn directory(&self) -> impl Future<Output = Result<Arc<RoleDirectory>>> + Send + 'static {
        let client = self.client.clone();
        async move { role_directory(&client, false).await }
    }

    /// Looks the roles up again (after roles changed in the web app), replacing the cache.
    pub fn refresh(&self) -> impl Future<Output = Result<Arc<RoleDirectory>>> + Send + 'static {
        let client = self.client.clone();
        async move { role_directory(&client, true).await }
    }

    /// The role named (case-insensitively) or identified by `name_or_id`, from the cached
    /// directory: [`Error::UnknownRole`](crate::Error::UnknownRole) names the closest roles.
    pub fn resolve(
        &self,
        name_or_id: impl AsRef<str>,
    ) -> impl Future<Output = Result<RoleV1>> + Send + 'static {
        let client = self.client.clone();
        let given = name_or_id.as_ref().to_string();
        async move {
            let roles = role_directory(&client, false).await?;
            roles.resolve(&given).cloned()
        }
    }
}

/// The client's roles, from its cache or looked up (`listRoles`, largest pages) on first use;
/// `refresh` looks them up again.
pub(crate) async fn role_directory(client: &Client, refresh: bool) -> Result<Arc<RoleDirectory>> {
    let lookup = async {
        let roles: Vec<RoleV1> = Roles::new(client.clone())
            .list()
            .page_size(MAX_PAGE_SIZE)
            .items()
            .try_collect()
            .await?;
        Ok(RoleDirectory::new(roles))
    };
    client.role_cache().get_or_fetch(refresh, lookup).await
}
