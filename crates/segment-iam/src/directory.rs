//! What a client looks up once and keeps: the workspace's roles (`listRoles`) and the token's
//! own workspace (`getWorkspace`). Names become ids here, before any mutation is sent, so a
//! misspelt role costs one read and a typed error, never a 422 half way through a job.
//!
//! Each cache is filled by the first caller that needs it, under a lock, so concurrent tasks
//! share one lookup; a failed lookup leaves the cache empty for the next caller to retry.

use std::sync::Arc;

use futures::TryStreamExt;
use segment_iam_api::types::{RoleV1, WorkspaceV1};
use tokio::sync::Mutex;

use crate::client::Client;
use crate::error::{Error, Result};
use crate::model::Permission;

/// How many close names an unknown role's error suggests.
const SUGGESTIONS: usize = 3;

/// The workspace's roles, as `listRoles` returned them, resolvable by id or by name.
#[derive(Debug, Clone, PartialEq)]
pub struct RoleDirectory {
    roles: Vec<RoleV1>,
}

impl RoleDirectory {
    /// A directory of these roles (for tests and mocks of downstream code).
    pub fn new(roles: Vec<RoleV1>) -> Self {
        RoleDirectory { roles }
    }

    /// Every role, in the service's order.
    pub fn roles(&self) -> &[RoleV1] {
        &self.roles
    }

    /// The role with this id.
    pub fn by_id(&self, id: &str) -> Option<&RoleV1> {
        self.roles.iter().find(|r| r.id == id)
    }

    /// The role named or identified by `given`: an exact id first, then a name compared
    /// case-insensitively (surrounding whitespace ignored). Two roles sharing the name are
    /// [`Error::AmbiguousRole`]; no match is [`Error::UnknownRole`] with the closest names.
    pub fn resolve(&self, given: &str) -> Result<&RoleV1> {
        let wanted = given.trim();
        if let Some(role) = self.by_id(wanted) {
            return Ok(role);
        }
        let named: Vec<&RoleV1> = self
            .roles
            .iter()
            .filter(|r| r.name.trim().to_lowercase() == wanted.to_lowercase())
            .collect();
        match named.as_slice() {
            [role] => Ok(role),
            [] => Err(Error::UnknownRole {
                given: given.to_string(),
                closest: self.closest(wanted),
            }),
            several => Err(Error::AmbiguousRole {
                given: given.to_string(),
                ids: several.iter().map(|r| r.id.clone()).collect(),
            }),
        }
    }

    /// Up to [`SUGGESTIONS`] role names nearest to `given` (Jaro-Winkler on lowercase names,
    /// which favours a shared prefix, the usual shape of a typo or a truncated name).
    fn closest(&self, given: &str) -> Vec<String> {
        let given = given.to_lowercase();
        let mut scored: Vec<(f64, &str)> = self
            .roles
            .iter()
            .map(|r| {
                let score = strsim::jaro_winkler(&given, &r.name.to_lowercase());
                (score, r.name.as_str())
            })
            .filter(|(score, _)| *score > 0.6)
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
        let mut names: Vec<String> = Vec::new();
        for (_, name) in scored {
            if !names.iter().any(|n| n == name) {
                names.push(name.to_string());
            }
            if names.len() == SUGGESTIONS {
                break;
            }
        }
        names
    }
}

/// The per-client caches (one per [`Client`], shared by its clones).
#[derive(Debug, Default)]
pub(crate) struct Directory {
    roles: Mutex<Option<Arc<RoleDirectory>>>,
    workspace: Mutex<Option<Arc<WorkspaceV1>>>,
}

impl Directory {
    /// The roles, looked up on first use; `refresh` looks them up again.
    pub(crate) async fn roles(&self, client: &Client, refresh: bool) -> Result<Arc<RoleDirectory>> {
        let mut slot = self.roles.lock().await;
        if let (Some(roles), false) = (slot.as_ref(), refresh) {
            return Ok(roles.clone());
        }
        let roles: Vec<RoleV1> = client
            .roles()
            .list()
            .page_size(crate::MAX_PAGE_SIZE)
            .items()
            .try_collect()
            .await?;
        let roles = Arc::new(RoleDirectory::new(roles));
        *slot = Some(roles.clone());
        Ok(roles)
    }

    /// The token's workspace, looked up on first use; `refresh` looks it up again.
    pub(crate) async fn workspace(
        &self,
        client: &Client,
        refresh: bool,
    ) -> Result<Arc<WorkspaceV1>> {
        let mut slot = self.workspace.lock().await;
        if let (Some(workspace), false) = (slot.as_ref(), refresh) {
            return Ok(workspace.clone());
        }
        let workspace = Arc::new(client.fetch_workspace().await?);
        *slot = Some(workspace.clone());
        Ok(workspace)
    }
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
        let roles = client.role_directory().await?;
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

impl crate::model::RoleIds for RoleDirectory {
    fn role_id(&self, given: &str) -> Result<String> {
        Ok(self.resolve(given)?.id.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn role(id: &str, name: &str) -> RoleV1 {
        RoleV1 {
            id: id.into(),
            name: name.into(),
            description: String::new(),
        }
    }

    fn directory() -> RoleDirectory {
        RoleDirectory::new(vec![
            role("r-owner", "Workspace Owner"),
            role("r-member", "Workspace Member"),
            role("r-src", "Source Admin"),
            role("r-dup1", "Twin"),
            role("r-dup2", "twin"),
        ])
    }

    #[test]
    fn names_resolve_case_insensitively_and_ids_exactly() {
        let d = directory();
        assert_eq!(
            d.resolve("workspace OWNER").map(|r| r.id.as_str()).ok(),
            Some("r-owner")
        );
        assert_eq!(
            d.resolve("  Source Admin ").map(|r| r.id.as_str()).ok(),
            Some("r-src")
        );
        assert_eq!(
            d.resolve("r-member").map(|r| r.name.as_str()).ok(),
            Some("Workspace Member")
        );
    }

    #[test]
    fn an_unknown_name_lists_the_closest_names_first() {
        match directory().resolve("Workspace Ownr") {
            Err(Error::UnknownRole { given, closest }) => {
                assert_eq!(given, "Workspace Ownr");
                assert_eq!(closest.first().map(String::as_str), Some("Workspace Owner"));
                assert!(closest.len() <= SUGGESTIONS);
            }
            other => panic!("expected UnknownRole, got {other:?}"),
        }
        match directory().resolve("zzzzzzzz") {
            Err(Error::UnknownRole { closest, .. }) => assert!(closest.is_empty(), "{closest:?}"),
            other => panic!("expected UnknownRole, got {other:?}"),
        }
    }

    #[test]
    fn a_name_two_roles_share_is_ambiguous() {
        match directory().resolve("TWIN") {
            Err(Error::AmbiguousRole { ids, .. }) => assert_eq!(ids, ["r-dup1", "r-dup2"]),
            other => panic!("expected AmbiguousRole, got {other:?}"),
        }
    }
}
