//! Inputs in natural Rust: a permission is a role on some resources, an invite is an email with
//! permissions. They convert into the generated wire types.

use std::collections::BTreeSet;

use segment_iam_api::ResourceType;
use segment_iam_api::types;

use crate::error::{Error, Result};
use crate::label::Label;
use crate::validate;

/// Turns a role name (case-insensitive) or id into the role's id. The role directory is one;
/// the model names only this, so it does not depend on where roles are looked up.
pub(crate) trait RoleIds {
    /// The id of the role named or identified by `given`.
    fn role_id(&self, given: &str) -> Result<String>;
}

/// Which role a [`Permission`] grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RoleRef {
    /// A role id, sent as given (no lookup).
    Id(String),
    /// A role name (case-insensitive) or id, resolved through `listRoles` before sending.
    NameOrId(String),
}

/// What a permission applies to: a resource of a kind, or the workspace the client's token
/// belongs to. Parsed from the command line's and the sync file's `workspace` or `TYPE:ID`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Resource {
    /// The workspace of the client's token, resolved through `getWorkspace` (cached).
    ThisWorkspace,
    /// A resource given by kind and id.
    Given(ResourceType, String),
}

impl std::str::FromStr for Resource {
    type Err = Error;

    /// `workspace` (any case) is [`Resource::ThisWorkspace`]; otherwise `TYPE:ID`, where TYPE
    /// is a documented resource type (`WORKSPACE`, `SOURCE`, `SPACE`, `WAREHOUSE`,
    /// `FUNCTION`, any case) and ID is non-empty.
    fn from_str(value: &str) -> Result<Self> {
        let value = value.trim();
        if value.eq_ignore_ascii_case("workspace") {
            return Ok(Resource::ThisWorkspace);
        }
        let Some((kind, id)) = value.split_once(':') else {
            return Err(Error::invalid(
                "resource",
                format!("{value:?} is neither `workspace` nor TYPE:ID"),
            ));
        };
        let kind = match kind.trim().to_ascii_uppercase().as_str() {
            "WORKSPACE" => ResourceType::Workspace,
            "SOURCE" => ResourceType::Source,
            "SPACE" => ResourceType::Space,
            "WAREHOUSE" => ResourceType::Warehouse,
            "FUNCTION" => ResourceType::Function,
            other => {
                return Err(Error::invalid(
                    "resource",
                    format!(
                        "{other:?} is not a resource type (WORKSPACE, SOURCE, SPACE, WAREHOUSE, FUNCTION)"
                    ),
                ));
            }
        };
        validate::non_empty("resource id", id)?;
        Ok(Resource::Given(kind, id.trim().to_string()))
    }
}

impl std::fmt::Display for Resource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Resource::ThisWorkspace => f.write_str("workspace"),
            Resource::Given(kind, id) => write!(f, "{kind}:{id}"),
        }
    }
}

/// A resource with its kind, id and the labels narrowing it.
type ResolvedResource = (ResourceType, String, BTreeSet<Label>);

/// A role granted on resources, e.g. `Permission::new(role_id).resource(ResourceType::Source,
/// id)` or, resolving names, `Permission::role("Workspace Owner").on(Resource::ThisWorkspace)`.
/// A resource may be narrowed by labels ([`Permission::on_narrowed`]): "Source Admin on the
/// workspace, narrowed by `environment:prod`" reaches only the sources labelled so.
#[derive(Debug, Clone, PartialEq)]
pub struct Permission {
    role: RoleRef,
    resources: Vec<(Resource, BTreeSet<Label>)>,
}

impl Permission {
    /// A permission with role id `role_id`, sent as given, and no resources yet.
    pub fn new(role_id: impl Into<String>) -> Self {
        Permission {
            role: RoleRef::Id(role_id.into()),
            resources: Vec::new(),
        }
    }

    /// A permission with a role given by name (case-insensitive) or id. The client resolves
    /// it through `listRoles` (once, cached) before sending anything; an unknown or ambiguous
    /// name is [`Error::UnknownRole`] or [`Error::AmbiguousRole`].
    pub fn role(name_or_id: impl Into<String>) -> Self {
        Permission {
            role: RoleRef::NameOrId(name_or_id.into()),
            resources: Vec::new(),
        }
    }

    /// Adds a resource the role applies to.
    pub fn resource(self, kind: ResourceType, id: impl Into<String>) -> Self {
        self.on(Resource::Given(kind, id.into()))
    }

    /// Adds a resource, possibly the client's own workspace ([`Resource::ThisWorkspace`]).
    pub fn on(self, resource: Resource) -> Self {
        self.on_narrowed(resource, [])
    }

    /// Adds a resource narrowed by labels: the role reaches only what carries all of them.
    /// No labels is [`on`](Self::on).
    pub fn on_narrowed(
        mut self,
        resource: Resource,
        labels: impl IntoIterator<Item = Label>,
    ) -> Self {
        self.resources
            .push((resource, labels.into_iter().collect()));
        self
    }

    /// Adds a resource of a kind, narrowed by labels.
    pub fn resource_with_labels(
        self,
        kind: ResourceType,
        id: impl Into<String>,
        labels: impl IntoIterator<Item = Label>,
    ) -> Self {
        self.on_narrowed(Resource::Given(kind, id.into()), labels)
    }

    /// The role as given: an id, or a name still to resolve.
    pub fn role_id(&self) -> &str {
        match &self.role {
            RoleRef::Id(id) | RoleRef::NameOrId(id) => id,
        }
    }

    /// The resources as given.
    pub fn resources(&self) -> impl Iterator<Item = &Resource> {
        self.resources.iter().map(|(r, _)| r)
    }

    /// The resources as given, each with the labels narrowing it.
    pub fn narrowed_resources(&self) -> impl Iterator<Item = (&Resource, &BTreeSet<Label>)> {
        self.resources.iter().map(|(r, l)| (r, l))
    }

    /// Whether sending needs `listRoles` (a role by name).
    pub(crate) fn needs_roles(&self) -> bool {
        matches!(self.role, RoleRef::NameOrId(_))
    }

    /// Whether sending needs `getWorkspace` (the token's own workspace as a resource).
    pub(crate) fn needs_workspace(&self) -> bool {
        self.resources
            .iter()
            .any(|(r, _)| *r == Resource::ThisWorkspace)
    }

    /// The document puts no limits on role and resource ids; an empty one can never be right.
    pub(crate) fn check(&self) -> Result<()> {
        validate::non_empty("role_id", self.role_id())?;
        for (resource, _) in &self.resources {
            if let Resource::Given(_, id) = resource {
                validate::non_empty("resource id", id)?;
            }
        }
        Ok(())
    }

    /// Replaces a role name by its id and the token's workspace by its id, with what
    /// [`crate::directory`] looked up; `roles` / `workspace_id` are present whenever
    /// [`needs_roles`](Self::needs_roles) / [`needs_workspace`](Self::needs_workspace) said so.
    pub(crate) fn resolve(
        self,
        roles: Option<&impl RoleIds>,
        workspace_id: Option<&str>,
    ) -> Result<Permission> {
        self.check()?;
        let role = match self.role {
            RoleRef::NameOrId(given) => match roles {
                Some(roles) => RoleRef::Id(roles.role_id(&given)?),
                None => return Err(Error::invalid("role", "roles were not looked up")),
            },
            id => id,
        };
        let resources = self
            .resources
            .into_iter()
            .map(|(resource, labels)| match resource {
                Resource::ThisWorkspace => match workspace_id {
                    Some(id) => Ok((
                        Resource::Given(ResourceType::Workspace, id.to_string()),
                        labels,
                    )),
                    None => Err(Error::invalid(
                        "resource",
                        "the workspace was not looked up",
                    )),
                },
                given => Ok((given, labels)),
            })
            .collect::<Result<_>>()?;
        Ok(Permission { role, resources })
    }

    /// The resolved role id and resources; refuses what [`resolve`](Self::resolve) left.
    fn into_resolved(self) -> Result<(String, Vec<ResolvedResource>)> {
        self.check()?;
        let role_id = match self.role {
            RoleRef::Id(id) => id,
            RoleRef::NameOrId(name) => {
                return Err(Error::invalid(
                    "role",
                    format!("{name:?} was not resolved to a role id"),
                ));
            }
        };
        let resources = self
            .resources
            .into_iter()
            .map(|(resource, labels)| match resource {
                Resource::Given(kind, id) => Ok((kind, id, labels)),
                Resource::ThisWorkspace => Err(Error::invalid(
                    "resource",
                    "the workspace was not resolved to its id",
                )),
            })
            .collect::<Result<_>>()?;
        Ok((role_id, resources))
    }

    pub(crate) fn into_input(self) -> Result<types::PermissionInputV1> {
        let (role_id, resources) = self.into_resolved()?;
        Ok(types::PermissionInputV1 {
            role_id,
            resources: resources
                .into_iter()
                .map(|(type_, id, labels)| types::PermissionResourceV1 {
                    id,
                    type_,
                    labels: labels.iter().map(Label::to_allowed).collect(),
                })
                .collect(),
        })
    }

    pub(crate) fn into_invite_permission(self) -> Result<types::InvitePermissionV1> {
        let (role_id, resources) = self.into_resolved()?;
        // An invite's permission carries its labels once, beside plain resources.
        let labels = resources
            .iter()
            .flat_map(|(_, _, l)| l.iter())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .map(Label::to_allowed)
            .collect();
        Ok(types::InvitePermissionV1 {
            role_id,
            resources: resources
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

    /// The permissions granted on joining.
    pub fn permissions(&self) -> &[Permission] {
        &self.permissions
    }

    /// Checks the address and every permission, without lookups.
    pub(crate) fn check(&self) -> Result<()> {
        validate::email("email", &self.email)?;
        self.permissions.iter().try_for_each(Permission::check)
    }

    /// The address and the permissions, to resolve names and put back with [`Invite::from_parts`].
    pub(crate) fn into_parts(self) -> (String, Vec<Permission>) {
        (self.email, self.permissions)
    }

    pub(crate) fn from_parts(email: String, permissions: Vec<Permission>) -> Self {
        Invite { email, permissions }
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
