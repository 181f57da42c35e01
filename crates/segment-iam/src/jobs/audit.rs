//! `audit`: every subject (a user, or a pending invitee) with every path to access — a direct
//! permission, or membership of a group that holds one — one row per (email, via, role,
//! resource, labels). A grant narrowed by labels is its own row, beside the plain grant of the
//! same role and resource, with its labels: it reaches only what carries all of them.
//!
//! **The resource filter.** `SOURCE:<id>` asks "who can reach this source": the rows are the
//! grants on that source, plus every grant on the token's workspace whose labels the source
//! carries, all of them (a plain workspace grant, of any role, reaches every source) —
//! directly or through a group. Rows keep their real resource: a workspace grant's row says
//! `WORKSPACE:<ws>` with its labels, so the reader sees why it reaches the source. The
//! source's labels come from `listSources`, read a page at a time until it is found; an
//! unknown source id is [`Error::InvalidInput`], not an empty
//! answer. Any other resource (`workspace`, `SPACE:<id>`, `WORKSPACE:<id>`, ...) keeps only
//! the grants on exactly that resource, narrowed or not.
//!
//! **What is read.** Unfiltered, or with only a role or resource filter: the users list
//! (direct permissions come with it), the groups list (group permissions come with it) and,
//! for each group that holds a permission the filters keep (for a source: one that reaches
//! it) and has members (`memberCount` > 0), its member and invitee listings, concurrently.
//! With an email filter, only what those people's answer needs (see `by_email`): the users
//! list up to the page holding the last of them, each one's groups, those groups'
//! permissions; the invites list only for an email that is not a user, and every group's
//! invitee listing only when such an email has a pending invite (an invitee's groups are
//! visible nowhere else). With a group filter (`--group`, by id or name): the groups list and
//! that group's two listings; its rows only, no direct rows and no notes. Scoped reads answer
//! exactly what the full read answers, kept to those emails or that group.
//!
//! **Notes.** Without a group filter the pending invites are read too: an invite's own permissions cannot be read back (the
//! API lists invite emails only), so each pending invitee the email filter keeps is reported in
//! [`AuditReport::notes`] — with or without a role or resource filter, since the invite may
//! grant what the filter asks about — never as a row with a made-up role. A role filter by name
//! costs one `listRoles`; `--resource workspace` one `getWorkspace`; `SOURCE:<id>` one
//! `getWorkspace` and the `listSources` pages up to the source's (the lookups are cached by
//! the client, the sources are not).

use std::collections::{BTreeMap, BTreeSet};

use futures::{StreamExt, TryStreamExt, stream};
use segment_iam_api::ResourceType;
use segment_iam_api::types::{MinimalUserGroupV1, PermissionV1, UserGroupV1, UserV1};
use serde::Serialize;

use crate::client::Client;
use crate::config::MAX_PAGE_SIZE;
use crate::email::key as email_key;
use crate::error::{Error, Result};
use crate::grant::Grant;
use crate::jobs::read::{self, GroupReads, GroupState, Members, ReadOptions};
use crate::jobs::{JobOptions, RunOptions};
use crate::label::{Label, Source};
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
    /// Only the rows through this group (by id, or name compared case-insensitively): no
    /// direct rows.
    pub group: Option<String>,
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

    /// Only the rows through this group (id or name).
    pub fn group(mut self, group: impl Into<String>) -> Self {
        self.group = Some(group.into());
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
    /// Every row, sorted by email, then path, role, resource and labels; no duplicates (rows
    /// differing only in labels are two rows).
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
    resource: Wanted,
}

/// Which grants the resource filter keeps.
enum Wanted {
    /// Every grant.
    Every,
    /// The grants on exactly this resource (type, id).
    Exactly(String, String),
    /// The grants that reach this source of workspace `workspace_id`
    /// ([`Grant::reaches_source`]).
    Reaching {
        workspace_id: String,
        source: Source,
    },
}

impl Wanted {
    fn keeps(&self, grant: &Grant) -> bool {
        match self {
            Wanted::Every => true,
            Wanted::Exactly(kind, id) => grant.resource_type == *kind && grant.resource_id == *id,
            Wanted::Reaching {
                workspace_id,
                source,
            } => grant.reaches_source(workspace_id, source),
        }
    }
}

impl Keep {
    fn email(&self, email: &str) -> bool {
        self.emails
            .as_ref()
            .is_none_or(|emails| emails.contains(&email_key(email)))
    }

    /// The grants of `permission` the filters keep; none when its role is filtered out. A
    /// permission on no resource yields one grant on an empty resource (unless a resource is
    /// asked for), so it still shows.
    fn grants(&self, permission: &PermissionV1) -> Vec<Grant> {
        if self
            .role_id
            .as_ref()
            .is_some_and(|r| *r != permission.role_id)
        {
            return Vec::new();
        }
        let mut grants = Grant::of_permission(permission);
        if grants.is_empty() {
            // On no resource: kept by no resource filter.
            grants.push(Grant::new(permission.role_id.clone(), "", ""));
        }
        grants.retain(|g| self.resource.keeps(g));
        grants
    }

    fn group_matters(&self, group: &UserGroupV1) -> bool {
        group.member_count > 0 && group.permissions.iter().any(|p| !self.grants(p).is_empty())
    }
}

/// The rows of one subject's permissions the filters keep, one per kept grant.
fn rows_of<'a>(
    keep: &'a Keep,
    subject: Subject<'a>,
    permissions: &'a [PermissionV1],
) -> impl Iterator<Item = AuditRow> + 'a {
    permissions.iter().flat_map(move |permission| {
        keep.grants(permission)
            .into_iter()
            .map(move |grant| AuditRow {
                email: subject.email.to_string(),
                subject: subject.kind,
                user_id: subject.user_id.map(str::to_string),
                via: subject.via.clone(),
                role_id: permission.role_id.clone(),
                role_name: permission.role_name.clone(),
                resource_type: grant.resource_type,
                resource_id: grant.resource_id,
                labels: grant.labels,
            })
    })
}

/// Who holds a list of permissions, and how.
#[derive(Clone, Copy)]
struct Subject<'a> {
    email: &'a str,
    kind: SubjectKind,
    user_id: Option<&'a str>,
    via: &'a Via,
}

/// Runs the audit. Bad filters (an email that is not one, an unknown role name, an empty
/// group) fail before any listing is read; an unknown or ambiguous group, once the group list
/// is read.
pub async fn audit(
    client: &Client,
    filter: &AuditFilter,
    options: &AuditOptions,
) -> Result<AuditReport> {
    let before = client.metrics().requests;
    let asked = if filter.emails.is_empty() {
        None
    } else {
        Some(distinct_emails("email", filter.emails.iter().cloned())?)
    };
    if let Some(group) = &filter.group
        && group.trim().is_empty()
    {
        return Err(Error::invalid("group", "must not be empty"));
    }
    let role_id = match &filter.role {
        Some(role) => Some(client.roles().resolve(role.clone()).await?.id),
        None => None,
    };
    let resource = match &filter.resource {
        None => Wanted::Every,
        Some(Resource::ThisWorkspace) => Wanted::Exactly(
            ResourceType::Workspace.as_str().to_string(),
            client.workspace().await?.id,
        ),
        Some(Resource::Given(ResourceType::Source, id)) => {
            let (workspace, source) =
                futures::try_join!(client.workspace(), read::find_source(client, id))?;
            Wanted::Reaching {
                workspace_id: workspace.id,
                source,
            }
        }
        Some(Resource::Given(kind, id)) => Wanted::Exactly(kind.to_string(), id.clone()),
    };
    let keep = Keep {
        emails: asked
            .as_ref()
            .map(|emails| emails.iter().map(|e| email_key(e)).collect()),
        role_id,
        resource,
    };
    let read_options = ReadOptions {
        invites: true,
        members: Members::None,
        run: options.run.clone(),
    };

    let mut rows = BTreeSet::new();
    let mut notes = BTreeSet::new();
    match (&filter.group, asked) {
        (Some(group), _) => {
            through_group(client, &keep, group, &read_options, &mut rows).await?;
        }
        (None, Some(emails)) => {
            by_email(client, &keep, emails, &read_options, &mut rows, &mut notes).await?;
        }
        (None, None) => whole(client, &keep, &read_options, &mut rows, &mut notes).await?,
    }
    Ok(AuditReport {
        rows: rows.into_iter().collect(),
        notes: notes.into_iter().collect(),
        requests: client.metrics().requests.saturating_sub(before),
    })
}

/// The full read: the users, groups and invites lists, and the member and invitee listings of
/// every group that matters.
async fn whole(
    client: &Client,
    keep: &Keep,
    options: &ReadOptions,
    rows: &mut BTreeSet<AuditRow>,
    notes: &mut BTreeSet<AuditNote>,
) -> Result<()> {
    let state = read::read_workspace(client, options).await?;
    let groups = state.groups.into_iter().map(|g| g.group).collect();
    let groups = read::read_groups(client, groups, options, |g| {
        let read = keep.group_matters(g);
        GroupReads {
            members: read,
            invitees: read,
        }
    })
    .await?;
    for user in state.users.iter().filter(|u| keep.email(&u.email)) {
        direct_rows(keep, user, rows);
    }
    for group in &groups {
        group_rows(keep, group, rows);
    }
    notes.extend(invite_notes(keep, &state.invites));
    Ok(())
}

/// The scoped read for an email filter, sending only what the answer needs:
/// - the users list, page by page, until every asked email is found (direct permissions
///   come with it);
/// - each found user's groups (`listUserGroupsFromUser`), and those groups' permissions by
///   the cheaper of `getUserGroup` per group and the group list's pages (`groups_by_id`);
/// - for the emails that are not users, the pending invites list, page by page until all are
///   found; an email with a pending invite gets its [`AuditNote`], and since the groups an
///   invitee is in show only in each group's invitee listing, finding one falls back to the
///   whole group list and the invitee listing of every group that matters (no member
///   listings: members are users, found above). An email that is neither user nor invitee
///   holds nothing (a group's invitees are pending invites, and no user has one).
///
/// The rows and notes are those of the full read, kept to these emails. A group deleted
/// between the reads gives no rows.
async fn by_email(
    client: &Client,
    keep: &Keep,
    emails: Vec<String>,
    options: &ReadOptions,
    rows: &mut BTreeSet<AuditRow>,
    notes: &mut BTreeSet<AuditNote>,
) -> Result<()> {
    let mut wanted: BTreeSet<String> = emails.iter().map(|e| email_key(e)).collect();
    let mut users: Vec<UserV1> = Vec::new();
    read::read_pages_until(
        None,
        |cursor| read::users_page(client, cursor),
        |page| {
            users.extend(
                page.into_iter()
                    .filter(|u| wanted.remove(&email_key(&u.email))),
            );
            wanted.is_empty()
        },
    )
    .await?;
    let mut invites: Vec<String> = Vec::new();
    if !wanted.is_empty() {
        read::read_pages_until(
            None,
            |cursor| read::invites_page(client, cursor),
            |page| {
                invites.extend(page.into_iter().filter(|e| wanted.remove(&email_key(e))));
                wanted.is_empty()
            },
        )
        .await?;
    }

    let memberships: Vec<Vec<MinimalUserGroupV1>> = stream::iter(&users)
        .map(|u| {
            client
                .users()
                .groups(&u.id)
                .page_size(MAX_PAGE_SIZE)
                .collect()
        })
        .buffered(options.run.concurrency())
        .try_collect()
        .await?;
    let needed: BTreeSet<&str> = memberships
        .iter()
        .flatten()
        .map(|g| g.id.as_str())
        .collect();

    // With an invitee the whole group list is read anyway: the users' groups come from it.
    let listed: Vec<UserGroupV1> = if !invites.is_empty() {
        client
            .groups()
            .list()
            .page_size(MAX_PAGE_SIZE)
            .collect()
            .await?
    } else {
        groups_by_id(client, &needed, options).await?
    };
    let by_id: BTreeMap<&str, &UserGroupV1> = listed.iter().map(|g| (g.id.as_str(), g)).collect();

    for (user, groups) in users.iter().zip(&memberships) {
        direct_rows(keep, user, rows);
        for group in groups.iter().filter_map(|g| by_id.get(g.id.as_str())) {
            let via = Via::Group {
                id: group.id.clone(),
                name: group.name.clone(),
            };
            let subject = Subject {
                email: &user.email,
                kind: SubjectKind::User,
                user_id: Some(&user.id),
                via: &via,
            };
            rows.extend(rows_of(keep, subject, &group.permissions));
        }
    }
    if !invites.is_empty() {
        let groups = read::read_groups(client, listed, options, |g| GroupReads {
            members: false,
            invitees: keep.group_matters(g),
        })
        .await?;
        for group in &groups {
            group_rows(keep, group, rows);
        }
    }
    notes.extend(invite_notes(keep, &invites));
    Ok(())
}

/// The groups `ids`, with their permissions, by the cheaper read: one `getUserGroup` per
/// group, or the group list (1000 groups a page) until every id is seen. A single group is
/// one get; for several, the list's first page is read (its `totalEntries` says how many
/// pages are left), then the remaining pages if they are fewer than the groups still
/// missing, else one get each. A group the whole list lacks was deleted meanwhile: left out.
async fn groups_by_id(
    client: &Client,
    ids: &BTreeSet<&str>,
    options: &ReadOptions,
) -> Result<Vec<UserGroupV1>> {
    let mut missing = ids.clone();
    let mut found = Vec::new();
    if missing.len() > 1 {
        let first = read::groups_page(client, None).await?;
        let pages_left = first.total_entries.map(|total| {
            total
                .saturating_sub(first.items.len() as u64)
                .div_ceil(u64::from(MAX_PAGE_SIZE))
        });
        found.extend(
            first
                .items
                .into_iter()
                .filter(|g| missing.remove(g.id.as_str())),
        );
        match first.next {
            // The whole list is read: what is still missing is gone.
            None => missing.clear(),
            Some(next)
                if !missing.is_empty()
                    && pages_left.is_none_or(|pages| pages < missing.len() as u64) =>
            {
                read::read_pages_until(
                    Some(next),
                    |cursor| read::groups_page(client, cursor),
                    |page| {
                        found.extend(page.into_iter().filter(|g| missing.remove(g.id.as_str())));
                        missing.is_empty()
                    },
                )
                .await?;
                missing.clear();
            }
            Some(_) => {}
        }
    }
    let got: Vec<UserGroupV1> = stream::iter(missing)
        .map(|id| async move { client.groups().get(id).await })
        .buffered(options.run.concurrency())
        .try_collect()
        .await?;
    found.extend(got);
    Ok(found)
}

/// The rows through one group only: the group list (to find it), then that group's member and
/// invitee listings, if it matters. No direct rows, and no notes: access through the group is
/// read whole.
async fn through_group(
    client: &Client,
    keep: &Keep,
    asked: &str,
    options: &ReadOptions,
    rows: &mut BTreeSet<AuditRow>,
) -> Result<()> {
    let groups = client
        .groups()
        .list()
        .page_size(MAX_PAGE_SIZE)
        .collect()
        .await?;
    let group = pick_group(groups, asked)?;
    let groups = read::read_groups(client, vec![group], options, |g| {
        let read = keep.group_matters(g);
        GroupReads {
            members: read,
            invitees: read,
        }
    })
    .await?;
    for group in &groups {
        group_rows(keep, group, rows);
    }
    Ok(())
}

/// How many near names an unknown group's error suggests.
const CLOSEST: usize = 3;

/// The group `asked` names: the one with that id, else the one with that name
/// (case-insensitive). None is [`Error::InvalidInput`] listing the closest names; several are
/// one listing their ids.
pub(crate) fn pick_group(groups: Vec<UserGroupV1>, asked: &str) -> Result<UserGroupV1> {
    let asked = asked.trim();
    let lower = asked.to_lowercase();
    let (mut named, others): (Vec<UserGroupV1>, Vec<UserGroupV1>) = groups
        .into_iter()
        .partition(|g| g.id == asked || g.name.to_lowercase() == lower);
    if let Some(at) = named.iter().position(|g| g.id == asked) {
        return Ok(named.swap_remove(at));
    }
    match named.len() {
        1 => Ok(named.swap_remove(0)),
        0 => {
            let mut near: Vec<(usize, &str)> = others
                .iter()
                .map(|g| {
                    (
                        edit_distance(&lower, &g.name.to_lowercase()),
                        g.name.as_str(),
                    )
                })
                .collect();
            near.sort();
            let near: Vec<&str> = near.into_iter().take(CLOSEST).map(|(_, n)| n).collect();
            let hint = if near.is_empty() {
                "the workspace has no groups".to_string()
            } else {
                format!("closest: {}", near.join(", "))
            };
            Err(Error::invalid(
                "group",
                format!("no group has the id or name {asked:?} ({hint})"),
            ))
        }
        n => {
            let ids: Vec<&str> = named.iter().map(|g| g.id.as_str()).collect();
            Err(Error::invalid(
                "group",
                format!(
                    "{n} groups are named {asked:?}; give one of their ids: {}",
                    ids.join(", ")
                ),
            ))
        }
    }
}

/// Levenshtein distance over characters, for suggesting near group names.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

/// A user's direct rows.
fn direct_rows(keep: &Keep, user: &UserV1, rows: &mut BTreeSet<AuditRow>) {
    let subject = Subject {
        email: &user.email,
        kind: SubjectKind::User,
        user_id: Some(&user.id),
        via: &Via::Direct,
    };
    rows.extend(rows_of(keep, subject, &user.permissions));
}

/// The rows through one group of its listed members and invitees the email filter keeps.
fn group_rows(keep: &Keep, group: &GroupState, rows: &mut BTreeSet<AuditRow>) {
    let via = Via::Group {
        id: group.group.id.clone(),
        name: group.group.name.clone(),
    };
    let members = group.members.iter().map(|m| Subject {
        email: &m.email,
        kind: SubjectKind::User,
        user_id: Some(&m.id),
        via: &via,
    });
    let invitees = group.invitees.iter().map(|e| Subject {
        email: e,
        kind: SubjectKind::Invitee,
        user_id: None,
        via: &via,
    });
    for subject in members.chain(invitees).filter(|s| keep.email(s.email)) {
        rows.extend(rows_of(keep, subject, &group.group.permissions));
    }
}

/// A note for each pending invite the email filter keeps.
fn invite_notes<'a>(keep: &'a Keep, invites: &'a [String]) -> impl Iterator<Item = AuditNote> + 'a {
    invites
        .iter()
        .filter(|e| keep.email(e))
        .map(|email| AuditNote::InvitePermissionsUnreadable {
            email: email.clone(),
        })
}

#[cfg(test)]
mod tests {
    use segment_iam_api::types::{AllowedLabelBeta, PermissionResourceV1};

    use super::*;

    fn label(text: &str) -> Label {
        text.parse().expect("label")
    }

    /// `role` on (type, id, labels) resources.
    fn permission(role: &str, resources: &[(ResourceType, &str, &[&str])]) -> PermissionV1 {
        PermissionV1 {
            role_id: role.into(),
            role_name: format!("Role {role}"),
            labels: vec![],
            resources: resources
                .iter()
                .map(|(kind, id, labels)| PermissionResourceV1 {
                    id: (*id).into(),
                    type_: kind.clone(),
                    labels: labels
                        .iter()
                        .map(|t| {
                            let l = label(t);
                            AllowedLabelBeta {
                                key: l.key().into(),
                                value: l.value().into(),
                                description: None,
                            }
                        })
                        .collect(),
                })
                .collect(),
        }
    }

    fn keep(resource: Wanted) -> Keep {
        Keep {
            emails: None,
            role_id: None,
            resource,
        }
    }

    /// Source `s1` of workspace `w`, labelled environment:prod and region:emea.
    fn reaching_s1() -> Wanted {
        Wanted::Reaching {
            workspace_id: "w".into(),
            source: Source {
                id: "s1".into(),
                slug: "s1".into(),
                name: None,
                enabled: true,
                labels: [label("environment:prod"), label("region:emea")].into(),
            },
        }
    }

    use ResourceType::{Source as Src, Space, Workspace as Ws};

    #[test]
    fn a_source_filter_keeps_grants_on_it_and_workspace_grants_whose_labels_it_carries() {
        let keep = keep(reaching_s1());
        let p = permission(
            "r",
            &[
                (Ws, "w", &["environment:prod"]),
                (Src, "s1", &[]),
                (Src, "s2", &[]),
                (Space, "s1", &[]),
                (Ws, "other", &[]),
            ],
        );
        let kept: Vec<(String, String)> = keep
            .grants(&p)
            .into_iter()
            .map(|g| (g.resource_type, g.resource_id))
            .collect();
        assert_eq!(
            kept,
            [
                ("WORKSPACE".to_string(), "w".to_string()),
                ("SOURCE".into(), "s1".into())
            ],
            "the workspace grant keeps its real resource"
        );
        assert!(
            keep.grants(&permission("r", &[(Ws, "w", &[])]))[0]
                .labels
                .is_empty()
        );
        assert!(
            keep.grants(&permission("r", &[(Ws, "w", &["environment:dev"])]))
                .is_empty()
        );
        assert!(
            keep.grants(&permission(
                "r",
                &[(Ws, "w", &["environment:prod", "region:us"])]
            ))
            .is_empty(),
            "every label must be carried"
        );
        assert!(
            keep.grants(&permission("r", &[])).is_empty(),
            "a permission on nothing reaches no source"
        );
    }

    #[test]
    fn other_resource_filters_keep_exactly_their_resource_narrowed_or_not() {
        let exactly = keep(Wanted::Exactly("WORKSPACE".into(), "w".into()));
        let p = permission(
            "r",
            &[
                (Ws, "w", &["environment:dev"]),
                (Src, "s1", &[]),
                (Ws, "other", &[]),
            ],
        );
        let kept = exactly.grants(&p);
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].labels, [label("environment:dev")].into());
        assert!(exactly.grants(&permission("r", &[])).is_empty());
        let every = keep(Wanted::Every);
        assert_eq!(every.grants(&p).len(), 3);
        let nothing = every.grants(&permission("r", &[]));
        assert_eq!(nothing.len(), 1, "a permission on nothing still shows");
        assert_eq!(nothing[0].resource_type, "");
    }

    #[test]
    fn a_group_is_listed_only_when_one_of_its_grants_reaches_the_source() {
        let keep = keep(reaching_s1());
        let group = |member_count: u64, permissions: Vec<PermissionV1>| UserGroupV1 {
            id: "g".into(),
            name: "G".into(),
            member_count,
            permissions,
        };
        let dev_only = permission("r", &[(Ws, "w", &["environment:dev"])]);
        let prod = permission("r", &[(Ws, "w", &["environment:prod"])]);
        assert!(!keep.group_matters(&group(3, vec![dev_only.clone()])));
        assert!(keep.group_matters(&group(3, vec![dev_only.clone(), prod.clone()])));
        assert!(!keep.group_matters(&group(0, vec![prod])));
        assert!(keep.group_matters(&group(1, vec![permission("r", &[(Src, "s1", &[])])])));
    }

    #[test]
    fn rows_differing_only_in_labels_are_distinct_and_the_plain_one_sorts_first() {
        let keep = keep(Wanted::Every);
        let permissions = [
            permission("r", &[(Ws, "w", &["region:emea", "environment:prod"])]),
            permission("r", &[(Ws, "w", &["environment:prod"])]),
            permission("r", &[(Ws, "w", &[])]),
            permission("r", &[(Ws, "w", &["environment:prod"])]),
        ];
        let subject = Subject {
            email: "ana@example.com",
            kind: SubjectKind::User,
            user_id: Some("u1"),
            via: &Via::Direct,
        };
        let rows: BTreeSet<AuditRow> = rows_of(&keep, subject, &permissions).collect();
        let labels: Vec<String> = rows
            .iter()
            .map(|r| crate::label::joined(&r.labels))
            .collect();
        assert_eq!(
            labels,
            ["", "environment:prod", "environment:prod&region:emea"],
            "three distinct rows, the duplicate merged"
        );
        assert!(
            rows.iter()
                .all(|r| r.resource_id == "w" && r.role_id == "r")
        );
        let json = serde_json::to_value(rows.iter().nth(2).expect("row")).expect("json");
        assert_eq!(
            json["labels"],
            serde_json::json!(["environment:prod", "region:emea"])
        );
    }
}
