//! `audit`: every subject (a user, or a pending invitee) with every path to access — a direct
//! permission, or membership of a group that holds one — one row per (email, via, role,
//! resource).
//!
//! Reads, and nothing more: the users list (direct permissions come with it), the groups list
//! (group permissions come with it) and, for each group that holds a permission the filters
//! keep and has members (`memberCount` > 0), its member and invitee listings, concurrently.
//! The pending-invites list is read too: an invite's own permissions cannot be read back (the
//! API lists invite emails only), so each pending invitee the email filter keeps is reported in
//! [`AuditReport::notes`] — with or without a role or resource filter, since the invite may
//! grant what the filter asks about — never as a row with a made-up role. A role filter by name
//! costs one `listRoles`; `--resource workspace` one `getWorkspace` (both cached by the client).

use std::collections::BTreeSet;

use segment_iam_api::types::{PermissionV1, UserGroupV1};
use serde::Serialize;

use crate::client::Client;
use crate::email::key as email_key;
use crate::error::Result;
use crate::grant::Grant;
use crate::jobs::read::{self, GroupReads, Members, ReadOptions};
use crate::jobs::{JobOptions, RunOptions};
use crate::label::Label;
use crate::lookup::distinct_emails;
use crate::model::Resource;

/// Which rows to keep. Empty filters keep everything.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct AuditFilter {
    /// Only these subjects (compared case-insensitively).
    pub emails: Vec<String>,
    /// Only this role, by name (case-insensitive) or id.
    pub role: Option<String>,
    /// Only this resource.
    pub resource: Option<Resource>,
}

impl AuditFilter {
    /// Keeps every row.
    pub fn new() -> Self {
        Self::default()
    }

    /// Only these subjects.
    pub fn emails(mut self, emails: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.emails = emails.into_iter().map(Into::into).collect();
        self
    }

    /// Only this role (name or id).
    pub fn role(mut self, role: impl Into<String>) -> Self {
        self.role = Some(role.into());
        self
    }

    /// Only this resource.
    pub fn resource(mut self, resource: Resource) -> Self {
        self.resource = Some(resource);
        self
    }
}

/// How an audit reads: its [`JobOptions`] setters say how many group listings are in flight
/// (default [`DEFAULT_CONCURRENCY`](crate::jobs::DEFAULT_CONCURRENCY); 1 reads them one after
/// another) and which progress counter counts groups read of groups to read.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct AuditOptions {
    run: RunOptions,
}

impl JobOptions for AuditOptions {
    fn run(&self) -> &RunOptions {
        &self.run
    }

    fn run_mut(&mut self) -> &mut RunOptions {
        &mut self.run
    }
}

impl AuditOptions {
    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }
}

/// Who a row is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SubjectKind {
    /// A user of the workspace.
    User,
    /// Someone invited who has not joined yet.
    Invitee,
}

/// How a subject reaches a role.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Via {
    /// A permission of the user itself.
    Direct,
    /// Membership of a group holding the permission.
    Group {
        /// The group's id.
        id: String,
        /// The group's name.
        name: String,
    },
}

impl std::fmt::Display for Via {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Via::Direct => f.write_str("direct"),
            Via::Group { name, .. } => write!(f, "group:{name}"),
        }
    }
}

/// One path to access.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct AuditRow {
    /// The subject's email.
    pub email: String,
    /// User or invitee.
    pub subject: SubjectKind,
    /// The user's id (none for an invitee).
    pub user_id: Option<String>,
    /// Direct, or through a group.
    pub via: Via,
    /// The role's id.
    pub role_id: String,
    /// The role's name, as the service reports it.
    pub role_name: String,
    /// The resource's type (e.g. `WORKSPACE`), empty when there is none.
    pub resource_type: String,
    /// The resource's id, empty when there is none.
    pub resource_id: String,
    /// The labels narrowing the grant (it reaches only resources carrying all of them);
    /// empty for a plain grant.
    pub labels: BTreeSet<Label>,
}

/// The audit's result.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct AuditReport {
    /// Every row, sorted by email, then path, role and resource; no duplicates.
    pub rows: Vec<AuditRow>,
    /// What could not be read, so the rows may not show all access (sorted; empty when the
    /// rows are complete).
    pub notes: Vec<AuditNote>,
    /// Requests the client sent while the audit ran (reads only), retries included.
    pub requests: u64,
}

/// Something the audit could not read, so its rows may leave access out.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum AuditNote {
    /// A pending invite: the API lists its email but not the permissions it grants on
    /// joining, so the invitee may hold access no row shows.
    InvitePermissionsUnreadable {
        /// The invited email, as the service lists it.
        email: String,
    },
}

impl std::fmt::Display for AuditNote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AuditNote::InvitePermissionsUnreadable { email } => write!(
                f,
                "{email} has a pending invite whose permissions cannot be read; they may hold access not shown"
            ),
        }
    }
}

/// The permission filters, resolved to ids.
struct Keep {
    emails: Option<BTreeSet<String>>,
    role_id: Option<String>,
    resource: Option<(String, String)>,
}

impl Keep {
    fn email(&self, email: &str) -> bool {
        self.emails
            .as_ref()
            .is_none_or(|emails| emails.contains(&email_key(email)))
    }

    /// The (type, id) pairs of `permission` the filters keep, or `None` when its role is
    /// filtered out. A permission on no resource yields one empty pair (unless a resource is
    /// asked for), so it still shows.
    fn resources(&self, permission: &PermissionV1) -> Vec<(String, String, BTreeSet<Label>)> {
        if self
            .role_id
            .as_ref()
            .is_some_and(|r| *r != permission.role_id)
        {
            return Vec::new();
        }
        let mut pairs: Vec<(String, String, BTreeSet<Label>)> = Grant::of_permission(permission)
            .into_iter()
            .map(|g| (g.resource_type, g.resource_id, g.labels))
            .collect();
        if pairs.is_empty() {
            pairs.push((String::new(), String::new(), BTreeSet::new()));
        }
        if let Some((kind, id)) = &self.resource {
            pairs.retain(|(k, i, _)| k == kind && i == id);
        }
        pairs
    }

    fn group_matters(&self, group: &UserGroupV1) -> bool {
        group.member_count > 0
            && group
                .permissions
                .iter()
                .any(|p| !self.resources(p).is_empty())
    }
}

/// Runs the audit. Bad filters (an email that is not one, an unknown role name) fail before
/// any listing is read.
pub async fn audit(
    client: &Client,
    filter: &AuditFilter,
    options: &AuditOptions,
) -> Result<AuditReport> {
    let before = client.metrics().requests;
    let emails = if filter.emails.is_empty() {
        None
    } else {
        Some(
            distinct_emails("email", filter.emails.iter().cloned())?
                .iter()
                .map(|e| email_key(e))
                .collect(),
        )
    };
    let role_id = match &filter.role {
        Some(role) => Some(client.roles().resolve(role.clone()).await?.id),
        None => None,
    };
    let resource = match &filter.resource {
        None => None,
        Some(Resource::ThisWorkspace) => {
            Some(("WORKSPACE".to_string(), client.workspace().await?.id))
        }
        Some(Resource::Given(kind, id)) => Some((kind.to_string(), id.clone())),
    };
    let keep = Keep {
        emails,
        role_id,
        resource,
    };

    let options = ReadOptions {
        invites: true,
        members: Members::None,
        run: options.run.clone(),
    };
    let state = read::read_workspace(client, &options).await?;
    let groups = state.groups.into_iter().map(|g| g.group).collect();
    let groups = read::read_groups(client, groups, &options, |g| {
        let read = keep.group_matters(g);
        GroupReads {
            members: read,
            invitees: read,
        }
    })
    .await?;

    let mut rows = BTreeSet::new();
    for user in &state.users {
        if !keep.email(&user.email) {
            continue;
        }
        for permission in &user.permissions {
            for (resource_type, resource_id, labels) in keep.resources(permission) {
                rows.insert(AuditRow {
                    email: user.email.clone(),
                    subject: SubjectKind::User,
                    user_id: Some(user.id.clone()),
                    via: Via::Direct,
                    role_id: permission.role_id.clone(),
                    role_name: permission.role_name.clone(),
                    resource_type,
                    resource_id,
                    labels,
                });
            }
        }
    }
    for group in &groups {
        let via = Via::Group {
            id: group.group.id.clone(),
            name: group.group.name.clone(),
        };
        let subjects = group
            .members
            .iter()
            .map(|m| (m.email.as_str(), SubjectKind::User, Some(&m.id)))
            .chain(
                group
                    .invitees
                    .iter()
                    .map(|e| (e.as_str(), SubjectKind::Invitee, None)),
            )
            .filter(|(email, _, _)| keep.email(email));
        for (email, subject, user_id) in subjects {
            for permission in &group.group.permissions {
                for (resource_type, resource_id, labels) in keep.resources(permission) {
                    rows.insert(AuditRow {
                        email: email.to_string(),
                        subject,
                        user_id: user_id.cloned(),
                        via: via.clone(),
                        role_id: permission.role_id.clone(),
                        role_name: permission.role_name.clone(),
                        resource_type,
                        resource_id,
                        labels,
                    });
                }
            }
        }
    }
    let notes: BTreeSet<AuditNote> = state
        .invites
        .iter()
        .filter(|e| keep.email(e))
        .map(|email| AuditNote::InvitePermissionsUnreadable {
            email: email.clone(),
        })
        .collect();
    Ok(AuditReport {
        rows: rows.into_iter().collect(),
        notes: notes.into_iter().collect(),
        requests: client.metrics().requests.saturating_sub(before),
    })
}
