//! Inputs in natural Rust: a permission is a role on some resources, an invite is an email with
//! permissions. They convert into the generated wire types.

use segment_iam_api::ResourceType;
use segment_iam_api::types::{self, AllowedLabelBeta};

use crate::error::Result;
use crate::validate;

/// A role granted on resources, e.g. `Permission::new(role).resource(ResourceType::Workspace, id)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Permission {
    role_id: String,
    resources: Vec<(ResourceType, String, Vec<AllowedLabelBeta>)>,
}

impl Permission {
    /// A permission with role `role_id` and no resources yet.
    pub fn new(role_id: impl Into<String>) -> Self {
        Permission {
            role_id: role_id.into(),
            resources: Vec::new(),
        }
    }

    /// Adds a resource the role applies to.
    pub fn resource(mut self, kind: ResourceType, id: impl Into<String>) -> Self {
        self.resources.push((kind, id.into(), Vec::new()));
        self
    }

    /// Adds a resource narrowed by labels (`key`, `value`).
    pub fn resource_with_labels(
        mut self,
        kind: ResourceType,
        id: impl Into<String>,
        labels: impl IntoIterator<Item = (String, String)>,
    ) -> Self {
        let labels = labels
            .into_iter()
            .map(|(key, value)| AllowedLabelBeta {
                key,
                value,
                description: None,
            })
            .collect();
        self.resources.push((kind, id.into(), labels));
        self
    }

    /// The role.
    pub fn role_id(&self) -> &str {
        &self.role_id
    }

    /// The document puts no limits on role and resource ids; an empty one can never be right.
    fn check(&self) -> Result<()> {
        validate::non_empty("role_id", &self.role_id)?;
        for (_, id, _) in &self.resources {
            validate::non_empty("resource id", id)?;
        }
        Ok(())
    }

    pub(crate) fn into_input(self) -> Result<types::PermissionInputV1> {
        self.check()?;
        Ok(types::PermissionInputV1 {
            role_id: self.role_id,
            resources: self
                .resources
                .into_iter()
                .map(|(type_, id, labels)| types::PermissionResourceV1 { id, type_, labels })
                .collect(),
        })
    }

    pub(crate) fn into_invite_permission(self) -> Result<types::InvitePermissionV1> {
        self.check()?;
        let labels = self
            .resources
            .iter()
            .flat_map(|(_, _, l)| l.iter().cloned())
            .collect();
        Ok(types::InvitePermissionV1 {
            role_id: self.role_id,
            resources: self
                .resources
                .into_iter()
                .map(|(type_, id, _)| types::ResourceV1 { id, type_ })
                .collect(),
            labels,
        })
    }
}

/// An invitation of one email address, optionally with permissions.
#[derive(Debug, Clone, PartialEq)]
pub struct Invite {
    email: String,
    permissions: Vec<Permission>,
}

impl Invite {
    /// An invite for `email`.
    pub fn new(email: impl Into<String>) -> Self {
        Invite {
            email: email.into(),
            permissions: Vec::new(),
        }
    }

    /// Grants a permission once the invitee joins.
    pub fn permission(mut self, permission: Permission) -> Self {
        self.permissions.push(permission);
        self
    }

    /// The invited address.
    pub fn email(&self) -> &str {
        &self.email
    }

    pub(crate) fn into_input(self) -> Result<types::InviteV1> {
        validate::email("email", &self.email)?;
        Ok(types::InviteV1 {
            email: self.email,
            permissions: self
                .permissions
                .into_iter()
                .map(Permission::into_invite_permission)
                .collect::<Result<_>>()?,
        })
    }
}

impl From<&str> for Invite {
    fn from(email: &str) -> Self {
        Invite::new(email)
    }
}

impl From<String> for Invite {
    fn from(email: String) -> Self {
        Invite::new(email)
    }
}

/// Converts permissions, checking each.
pub(crate) fn permission_inputs(
    permissions: impl IntoIterator<Item = Permission>,
) -> Result<Vec<types::PermissionInputV1>> {
    let inputs = permissions
        .into_iter()
        .map(Permission::into_input)
        .collect::<Result<Vec<_>>>()?;
    Ok(inputs)
}
