//! The in-memory workspace: users, pending invites, user groups, roles, policies and the
//! audit trail, plus the public snapshot types that describe it.
//!
//! Every collection is a `BTreeMap` keyed by a creation sequence number (one counter for the
//! whole workspace), with hash indexes by id and by email, so lookups are O(1) and a list
//! page is O(page). Memberships are kept on both sides (`Group::users` / `User::groups`,
//! `Group::invites` / `Invite::groups`) so that every list is a range over an ordered set.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::SystemTime;

use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};
use serde::{Deserialize, Serialize};

/// A label narrowing a permission (`AllowedLabelBeta`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Label {
    /// Label key.
    pub key: String,
    /// Label value.
    pub value: String,
    /// Optional description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// A resource a permission applies to (`PermissionResourceV1`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PermissionResource {
    /// Resource id.
    pub id: String,
    /// Resource type (`WORKSPACE`, `SOURCE`, ...; kept as data, not an enum).
    #[serde(rename = "type")]
    pub resource_type: String,
    /// Labels narrowing the permission.
    #[serde(default)]
    pub labels: Vec<Label>,
}

/// A resource without labels (`ResourceV1`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resource {
    /// Resource id.
    pub id: String,
    /// Resource type.
    #[serde(rename = "type")]
    pub resource_type: String,
}

/// A role granted on resources (`PermissionInputV1`), as fixtures give it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PermissionInput {
    /// Role id.
    pub role_id: String,
    /// Resources.
    #[serde(default)]
    pub resources: Vec<PermissionResource>,
}

/// A permission given to an invitee (`InvitePermissionV1`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InvitePermission {
    /// Role id.
    pub role_id: String,
    /// Resources.
    #[serde(default)]
    pub resources: Vec<Resource>,
    /// Labels.
    #[serde(default)]
    pub labels: Vec<Label>,
}

/// A role of the workspace (also a fixture's role: unknown fields are refused there, as in
/// the rest of a fixture).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Role {
    /// Role id.
    pub id: String,
    /// Role name, e.g. `Workspace Owner`.
    pub name: String,
    /// What the role grants (`listRoles` answers it; empty when a fixture gives none).
    #[serde(default)]
    pub description: String,
}

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

/// One audit-trail event, named as the documentation names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEvent {
    /// Position in the trail, from 1.
    pub seq: u64,
    /// When it happened.
    #[serde(with = "unix_ms")]
    pub at: SystemTime,
    /// The documented event name, e.g. `User Group Created`, `Policy Deleted`.
    pub event: String,
    /// The subject: a user id, group id, invite email or policy id.
    pub subject: String,
    /// Free-form detail (e.g. the group a membership concerns).
    pub detail: String,
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
    /// The audit trail, oldest first.
    pub audit: Vec<AuditEvent>,
}

pub(crate) mod unix_ms {
    //! `SystemTime` as milliseconds since the Unix epoch.
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    pub fn to_ms(t: &SystemTime) -> u64 {
        t.duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0)
    }

    pub fn serialize<S: Serializer>(t: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(to_ms(t))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<SystemTime, D::Error> {
        let ms = u64::deserialize(d)?;
        Ok(UNIX_EPOCH + Duration::from_millis(ms))
    }
}

/// The roles every emulator knows. The first is the documentation's example role.
pub const DEFAULT_ROLES: &[(&str, &str, &str)] = &[
    (
        "1WDUuRLxv84rrfCNUwvkrRtkxnS",
        "Workspace Owner",
        "Full access to the workspace, including its users and billing.",
    ),
    (
        "1WDUuVBnqMOgaTtWbvNrvOhQFNY",
        "Workspace Member",
        "Access to the workspace through the roles granted on its resources.",
    ),
    (
        "1WDUuQEbvvYQIILOjS5GMDdHPoZ",
        "Source Admin",
        "Edit the sources it is granted on.",
    ),
    (
        "1WDUuSJ7eANmTOE8hJzSgcRLn2L",
        "Source Read-only",
        "View the sources it is granted on.",
    ),
    (
        "1WDUuPt1Hy7YXbygPHSVDjmBqlN",
        "Engage Admin",
        "Edit the Engage spaces it is granted on.",
    ),
    (
        "1WDUuTbWOmSSfIehuLW3ucaLqQg",
        "Engage Read-only",
        "View the Engage spaces it is granted on.",
    ),
    (
        "1WDUuXmn5jF7HGrCvtyJ1BuE7iC",
        "Warehouse Admin",
        "Edit the warehouses it is granted on.",
    ),
    (
        "1WDUuNNt5xeChlybbD2nkIH8dNn",
        "Workspace Read-only",
        "View everything in the workspace.",
    ),
];

/// The workspace resource id of the documentation's examples: the default workspace's id.
pub const WORKSPACE_ID: &str = "9aQ1Lj62S4bomZKLF4DPqW";

/// The workspace a token belongs to (`getWorkspace`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Workspace {
    /// Its id: the resource id of `WORKSPACE` permissions.
    pub id: String,
    /// Its slug.
    pub slug: String,
    /// Its display name.
    pub name: String,
}

impl Default for Workspace {
    fn default() -> Self {
        Workspace {
            id: WORKSPACE_ID.to_string(),
            slug: "emulated-workspace".to_string(),
            name: "Emulated Workspace".to_string(),
        }
    }
}

/// The resource types the service accepts in input.
pub const RESOURCE_TYPES: &[&str] = &["FUNCTION", "SOURCE", "SPACE", "WAREHOUSE", "WORKSPACE"];

/// An attached permission.
#[derive(Debug, Clone)]
pub(crate) struct Policy {
    pub id: String,
    pub role_id: String,
    pub resources: Vec<PermissionResource>,
}

#[derive(Debug, Clone)]
pub(crate) struct User {
    pub id: String,
    pub name: String,
    pub email: String,
    pub policies: Vec<Policy>,
    pub groups: BTreeSet<u64>,
}

#[derive(Debug, Clone)]
pub(crate) struct Invite {
    pub email: String,
    pub permissions: Vec<InvitePermission>,
    pub groups: BTreeSet<u64>,
}

#[derive(Debug, Clone)]
pub(crate) struct Group {
    pub id: String,
    pub name: String,
    pub policies: Vec<Policy>,
    pub users: BTreeSet<u64>,
    pub invites: BTreeSet<u64>,
}

impl Group {
    pub fn member_count(&self) -> usize {
        self.users.len() + self.invites.len()
    }
}

/// A member of a group, resolved from an email.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Member {
    User(u64),
    Invite(u64),
}

/// The workspace.
pub(crate) struct State {
    pub rng: StdRng,
    next_seq: u64,
    pub users: BTreeMap<u64, User>,
    pub user_by_id: HashMap<String, u64>,
    pub user_by_email: HashMap<String, u64>,
    pub invites: BTreeMap<u64, Invite>,
    pub invite_by_email: HashMap<String, u64>,
    pub groups: BTreeMap<u64, Group>,
    pub group_by_id: HashMap<String, u64>,
    pub roles: HashMap<String, String>,
    pub role_descriptions: HashMap<String, String>,
    pub role_order: Vec<String>,
    pub workspace: Workspace,
    pub audit: Vec<AuditEvent>,
    policy_ids: std::collections::HashSet<String>,
}

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// The lookup key of an email: emails compare case-insensitively.
pub(crate) fn email_key(email: &str) -> String {
    email.to_lowercase()
}

impl State {
    /// An empty workspace with the default roles, ids drawn from `seed`.
    pub fn new(seed: u64) -> Self {
        let mut s = Self {
            rng: StdRng::seed_from_u64(seed),
            next_seq: 0,
            users: BTreeMap::new(),
            user_by_id: HashMap::new(),
            user_by_email: HashMap::new(),
            invites: BTreeMap::new(),
            invite_by_email: HashMap::new(),
            groups: BTreeMap::new(),
            group_by_id: HashMap::new(),
            roles: HashMap::new(),
            role_descriptions: HashMap::new(),
            role_order: Vec::new(),
            workspace: Workspace::default(),
            audit: Vec::new(),
            policy_ids: Default::default(),
        };
        for (id, name, description) in DEFAULT_ROLES {
            s.add_role(id, name, description);
        }
        s
    }

    pub fn add_role(&mut self, id: &str, name: &str, description: &str) {
        self.role_descriptions
            .insert(id.to_string(), description.to_string());
        if self
            .roles
            .insert(id.to_string(), name.to_string())
            .is_none()
        {
            self.role_order.push(id.to_string());
        }
    }

    pub fn role_description(&self, role_id: &str) -> &str {
        self.role_descriptions
            .get(role_id)
            .map(String::as_str)
            .unwrap_or("")
    }

    pub fn role_name(&self, role_id: &str) -> &str {
        self.roles.get(role_id).map(String::as_str).unwrap_or("")
    }

    pub fn users_reserve(&mut self, n: usize) {
        self.user_by_id.reserve(n);
        self.user_by_email.reserve(n);
    }

    pub fn next_seq(&mut self) -> u64 {
        self.next_seq += 1;
        self.next_seq
    }

    /// A Segment-looking random id of `len` base62 characters.
    pub fn random_id(&mut self, len: usize) -> String {
        let mut s = String::with_capacity(len);
        for _ in 0..len {
            s.push(BASE62[(self.rng.next_u32() % 62) as usize] as char);
        }
        s
    }

    pub fn new_user_id(&mut self) -> String {
        loop {
            let id = self.random_id(22);
            if !self.user_by_id.contains_key(&id) {
                return id;
            }
        }
    }

    pub fn new_group_id(&mut self) -> String {
        loop {
            let id = self.random_id(22);
            if !self.group_by_id.contains_key(&id) {
                return id;
            }
        }
    }

    pub fn new_policy(&mut self, role_id: String, resources: Vec<PermissionResource>) -> Policy {
        let id = loop {
            let id = self.random_id(27);
            if self.policy_ids.insert(id.clone()) {
                break id;
            }
        };
        Policy {
            id,
            role_id,
            resources,
        }
    }

    pub fn forget_policy(&mut self, id: &str) {
        self.policy_ids.remove(id);
    }

    pub fn audit(&mut self, event: &str, subject: impl Into<String>, detail: impl Into<String>) {
        let seq = self.audit.len() as u64 + 1;
        self.audit.push(AuditEvent {
            seq,
            at: SystemTime::now(),
            event: event.to_string(),
            subject: subject.into(),
            detail: detail.into(),
        });
    }

    /// Inserts a user; the caller guarantees the id and email are free.
    pub fn insert_user(&mut self, id: String, name: String, email: String) -> u64 {
        let seq = self.next_seq();
        self.user_by_id.insert(id.clone(), seq);
        self.user_by_email.insert(email_key(&email), seq);
        self.users.insert(
            seq,
            User {
                id,
                name,
                email,
                policies: Vec::new(),
                groups: BTreeSet::new(),
            },
        );
        seq
    }

    /// Inserts a pending invite; the caller guarantees the email is free.
    pub fn insert_invite(&mut self, email: String, permissions: Vec<InvitePermission>) -> u64 {
        let seq = self.next_seq();
        self.invite_by_email.insert(email_key(&email), seq);
        self.invites.insert(
            seq,
            Invite {
                email,
                permissions,
                groups: BTreeSet::new(),
            },
        );
        seq
    }

    /// Inserts a group; the caller guarantees the id is free.
    pub fn insert_group(&mut self, id: String, name: String) -> u64 {
        let seq = self.next_seq();
        self.group_by_id.insert(id.clone(), seq);
        self.groups.insert(
            seq,
            Group {
                id,
                name,
                policies: Vec::new(),
                users: BTreeSet::new(),
                invites: BTreeSet::new(),
            },
        );
        seq
    }

    /// The user or pending invite an email names.
    pub fn member_by_email(&self, email: &str) -> Option<Member> {
        let key = email_key(email);
        if let Some(&u) = self.user_by_email.get(&key) {
            return Some(Member::User(u));
        }
        self.invite_by_email.get(&key).map(|&i| Member::Invite(i))
    }

    /// Adds a member to a group; returns whether it was not a member yet.
    pub fn add_member(&mut self, group: u64, m: Member) -> bool {
        let Some(g) = self.groups.get_mut(&group) else {
            return false;
        };
        match m {
            Member::User(u) => {
                let added = g.users.insert(u);
                if let Some(user) = self.users.get_mut(&u) {
                    user.groups.insert(group);
                }
                added
            }
            Member::Invite(i) => {
                let added = g.invites.insert(i);
                if let Some(inv) = self.invites.get_mut(&i) {
                    inv.groups.insert(group);
                }
                added
            }
        }
    }

    /// Removes a member from a group; returns whether it was a member.
    pub fn remove_member(&mut self, group: u64, m: Member) -> bool {
        let Some(g) = self.groups.get_mut(&group) else {
            return false;
        };
        match m {
            Member::User(u) => {
                let removed = g.users.remove(&u);
                if let Some(user) = self.users.get_mut(&u) {
                    user.groups.remove(&group);
                }
                removed
            }
            Member::Invite(i) => {
                let removed = g.invites.remove(&i);
                if let Some(inv) = self.invites.get_mut(&i) {
                    inv.groups.remove(&group);
                }
                removed
            }
        }
    }

    pub fn is_member(&self, group: u64, m: Member) -> bool {
        self.groups.get(&group).is_some_and(|g| match m {
            Member::User(u) => g.users.contains(&u),
            Member::Invite(i) => g.invites.contains(&i),
        })
    }

    /// Deletes a user, their group memberships and their policies.
    pub fn delete_user(&mut self, seq: u64) {
        let Some(user) = self.users.remove(&seq) else {
            return;
        };
        self.user_by_id.remove(&user.id);
        self.user_by_email.remove(&email_key(&user.email));
        let mut group_ids = Vec::new();
        for g in &user.groups {
            if let Some(group) = self.groups.get_mut(g) {
                group.users.remove(&seq);
                group_ids.push(group.id.clone());
            }
        }
        for p in &user.policies {
            self.policy_ids.remove(&p.id);
        }
        if !group_ids.is_empty() {
            self.audit(
                "Group Memberships Deleted",
                user.id.clone(),
                group_ids.join(","),
            );
        }
    }

    /// Deletes a pending invite and its group memberships.
    pub fn delete_invite(&mut self, seq: u64) {
        let Some(inv) = self.invites.remove(&seq) else {
            return;
        };
        self.invite_by_email.remove(&email_key(&inv.email));
        let mut group_ids = Vec::new();
        for g in &inv.groups {
            if let Some(group) = self.groups.get_mut(g) {
                group.invites.remove(&seq);
                group_ids.push(group.id.clone());
            }
        }
        self.audit("Invite Deleted", inv.email.clone(), "");
        if !group_ids.is_empty() {
            self.audit(
                "Group Memberships Deleted",
                inv.email.clone(),
                group_ids.join(","),
            );
        }
    }

    /// Deletes a group and every membership in it.
    pub fn delete_group(&mut self, seq: u64) {
        let Some(g) = self.groups.remove(&seq) else {
            return;
        };
        self.group_by_id.remove(&g.id);
        for u in &g.users {
            if let Some(user) = self.users.get_mut(u) {
                user.groups.remove(&seq);
            }
        }
        for i in &g.invites {
            if let Some(inv) = self.invites.get_mut(i) {
                inv.groups.remove(&seq);
            }
        }
        for p in &g.policies {
            self.policy_ids.remove(&p.id);
        }
        self.audit("User Group Deleted", g.id.clone(), g.name.clone());
    }

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
            audit: self.audit.clone(),
        }
    }
}
