//! Snapshots: copies of the workspace (or of one user or group) for tests and the admin
//! endpoint, detached from the store.

use serde::{Deserialize, Serialize};

use super::store::{Group, Invite, Policy, State, User};
use super::values::{
    AuditEvent, InvitePermission, Label, PermissionResource, Role, Source, Workspace,
};

/// A policy (an attached permission) as the snapshot shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicySnapshot {
    /// Policy id.
    pub policy_id: String,
    /// Role id.
    pub role_id: String,
    /// Role name.
    pub role_name: String,
    /// Resources.
    pub resources: Vec<PermissionResource>,
}

/// A user in a [`StateSnapshot`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserSnapshot {
    /// User id.
    pub id: String,
    /// Name (may be empty).
    pub name: String,
    /// Email.
    pub email: String,
    /// Policies attached to the user.
    pub permissions: Vec<PolicySnapshot>,
    /// Ids of the groups the user belongs to, in group creation order.
    pub groups: Vec<String>,
}

/// A pending invite in a [`StateSnapshot`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InviteSnapshot {
    /// Invited email.
    pub email: String,
    /// Permissions the invitee gets on joining.
    pub permissions: Vec<InvitePermission>,
    /// Ids of the groups the invitee is a member of.
    pub groups: Vec<String>,
}

/// A user group in a [`StateSnapshot`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupSnapshot {
    /// Group id.
    pub id: String,
    /// Group name.
    pub name: String,
    /// Users plus invitees.
    pub member_count: usize,
    /// Ids of member users.
    pub users: Vec<String>,
    /// Emails of member invitees.
    pub invites: Vec<String>,
    /// Policies attached to the group.
    pub permissions: Vec<PolicySnapshot>,
}

/// A copy of the whole workspace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StateSnapshot {
    /// Users in creation order.
    pub users: Vec<UserSnapshot>,
    /// Pending invites in creation order.
    pub invites: Vec<InviteSnapshot>,
    /// Groups in creation order.
    pub groups: Vec<GroupSnapshot>,
    /// Roles, in `list_roles` order.
    pub roles: Vec<Role>,
    /// The workspace `get_workspace` answers.
    #[serde(default)]
    pub workspace: Workspace,
    /// The workspace's labels, in `list_labels` order (creation).
    #[serde(default)]
    pub labels: Vec<Label>,
    /// Sources in creation order, with the labels they carry.
    #[serde(default)]
    pub sources: Vec<Source>,
    /// The audit trail, oldest first.
    pub audit: Vec<AuditEvent>,
}

impl State {
    fn policy_snapshot(&self, p: &Policy) -> PolicySnapshot {
        PolicySnapshot {
            policy_id: p.id.clone(),
            role_id: p.role_id.clone(),
            role_name: self.role_name(&p.role_id).to_string(),
            resources: p.resources.clone(),
        }
    }

    pub fn user_snapshot(&self, u: &User) -> UserSnapshot {
        UserSnapshot {
            id: u.id.clone(),
            name: u.name.clone(),
            email: u.email.clone(),
            permissions: u.policies.iter().map(|p| self.policy_snapshot(p)).collect(),
            groups: u
                .groups
                .iter()
                .filter_map(|g| self.groups.get(g))
                .map(|g| g.id.clone())
                .collect(),
        }
    }

    pub fn group_snapshot(&self, g: &Group) -> GroupSnapshot {
        GroupSnapshot {
            id: g.id.clone(),
            name: g.name.clone(),
            member_count: g.member_count(),
            users: g
                .users
                .iter()
                .filter_map(|u| self.users.get(u))
                .map(|u| u.id.clone())
                .collect(),
            invites: g
                .invites
                .iter()
                .filter_map(|i| self.invites.get(i))
                .map(|i| i.email.clone())
                .collect(),
            permissions: g.policies.iter().map(|p| self.policy_snapshot(p)).collect(),
        }
    }

    pub fn invite_snapshot(&self, i: &Invite) -> InviteSnapshot {
        InviteSnapshot {
            email: i.email.clone(),
            permissions: i.permissions.clone(),
            groups: i
                .groups
                .iter()
                .filter_map(|g| self.groups.get(g))
                .map(|g| g.id.clone())
                .collect(),
        }
    }

    pub fn snapshot(&self) -> StateSnapshot {
        StateSnapshot {
            users: self.users.values().map(|u| self.user_snapshot(u)).collect(),
            invites: self
                .invites
                .values()
                .map(|i| self.invite_snapshot(i))
                .collect(),
            groups: self
                .groups
                .values()
                .map(|g| self.group_snapshot(g))
                .collect(),
            roles: self
                .role_order
                .iter()
                .map(|id| Role {
                    id: id.clone(),
                    name: self.role_name(id).to_string(),
                    description: self.role_description(id).to_string(),
                })
                .collect(),
            workspace: self.workspace.clone(),
            labels: self.labels.clone(),
            sources: self.sources.values().cloned().collect(),
            audit: self.audit.iter().cloned().collect(),
        }
    }
}
