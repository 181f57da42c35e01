//! `offboard`: remove people by email — users deleted, pending invites withdrawn — in the
//! fewest requests the URL limit allows.
//!
//! The service drops a deleted user's (or withdrawn invitee's) group memberships itself, so
//! offboarding sends no per-group removal: only `delete_users` and `delete_invites`, each split
//! under the URL limit. [`plan`] reads first and changes nothing; [`execute`] carries a plan
//! out. A plan says who goes, which groups they leave, which emails matched nobody (reported,
//! not an error), and how many deletions it will send.
//!
//! **Last-owner guard**: a plan that would leave nobody holding "Workspace Owner" on the
//! workspace (directly or through a group) is refused by [`execute`] with the library's rule
//! ([`guard::last_owner`], a typed [`Refusal`](crate::guard::Refusal)) unless
//! [`OffboardOptions::allow_owner_removal`]. Only a plain grant counts
//! ([`guard::Ownership`]): a Workspace Owner narrowed by labels reaches only the labelled
//! resources, so a workspace left with only such owners would be locked out.
//!
//! **Converges**: a plan is computed from the live workspace, so re-running after an
//! interruption only deletes who is still there; a deletion retried after it may have arrived
//! and then answered 404 counts as done.
//!
//! Reads: users, groups and (when some email is not a user) pending invites, every page; the
//! members of groups holding "Workspace Owner" (for the guard); which groups the leavers are in,
//! the cheaper of one `list_user_groups_from_user` per leaver or one member listing per
//! non-empty group; and, when invites are withdrawn, each non-empty group's invitees.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::time::Duration;

use futures::{StreamExt, TryStreamExt, stream};
use serde::Serialize;

use crate::batch;
use crate::client::Client;
use crate::config::MAX_PAGE_SIZE;
use crate::email::key as email_key;
use crate::error::{Error, Result};
use crate::guard;
use crate::jobs::read::{self, GroupReads, GroupState, Members, ReadOptions};
use crate::jobs::{JobOptions, RunOptions};
use crate::lookup::distinct_emails;
use segment_iam_api::Operation;

pub use crate::guard::OWNER_ROLE;

/// How an offboarding runs. Its [`JobOptions`] setters say how many group listings the plan
/// reads at once (default [`DEFAULT_CONCURRENCY`](crate::jobs::DEFAULT_CONCURRENCY); the
/// deletions go one request after another whatever it is) and which progress counter counts
/// reads while planning, then people removed of people to remove.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct OffboardOptions {
    /// Let [`execute`] remove the last holder of "Workspace Owner" on the workspace.
    pub allow_owner_removal: bool,
    run: RunOptions,
}

impl JobOptions for OffboardOptions {
    fn run(&self) -> &RunOptions {
        &self.run
    }

    fn run_mut(&mut self) -> &mut RunOptions {
        &mut self.run
    }
}

impl OffboardOptions {
    /// The defaults: the last-owner guard on, a fresh progress counter.
    pub fn new() -> Self {
        Self::default()
    }

    /// Lets [`execute`] remove the last holder of "Workspace Owner".
    pub fn allow_owner_removal(mut self, allow: bool) -> Self {
        self.allow_owner_removal = allow;
        self
    }
}

/// A user who goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Leaver {
    /// The user's id.
    pub id: String,
    /// Their email as the service lists it.
    pub email: String,
    /// Names of the groups they leave (by the deletion itself), sorted.
    pub groups: Vec<String>,
    /// Whether they hold a plain "Workspace Owner" on the workspace ([`guard::Ownership`]).
    pub owner: bool,
}

/// A pending invite that is withdrawn.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct WithdrawnInvite {
    /// The invited email as the service lists it.
    pub email: String,
    /// Names of the groups the invitee leaves, sorted.
    pub groups: Vec<String>,
}

/// What an offboarding will do; made by [`plan`], carried out by [`execute`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct OffboardPlan {
    /// Users to delete, in the order asked.
    pub users: Vec<Leaver>,
    /// Pending invites to withdraw, in the order asked.
    pub invites: Vec<WithdrawnInvite>,
    /// Emails that match no user and no pending invite (nothing to do for them).
    pub unmatched: Vec<String>,
    /// Who holds a plain "Workspace Owner" on the workspace now, directly or through a group
    /// (emails, sorted); holders of one narrowed by labels are not owners
    /// ([`guard::Ownership`]).
    pub owners: Vec<String>,
    /// Of [`owners`](Self::owners), how many stay.
    pub owners_remaining: u64,
    /// Whether the plan removes the last of them (the guard refuses it by default).
    pub removes_last_owner: bool,
    /// Deletions [`execute`] will send: `delete_users` chunks plus `delete_invites` chunks.
    pub mutations: u64,
    /// Requests the plan's reads took.
    pub reads: u64,
}

impl OffboardPlan {
    /// Whether there is nothing to do.
    pub fn is_empty(&self) -> bool {
        self.users.is_empty() && self.invites.is_empty()
    }
}

/// What [`execute`] did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct OffboardReport {
    /// Emails of the users deleted.
    pub users_deleted: Vec<String>,
    /// Emails whose pending invite was withdrawn.
    pub invites_withdrawn: Vec<String>,
    /// Requests sent by the deletions (retries included).
    pub requests: u64,
    /// 429 answers met.
    pub rate_limited: u64,
    /// Time spent waiting on the rate limit and retries.
    #[serde(with = "millis")]
    pub waited: Duration,
}

mod millis {
    pub(super) fn serialize<S: serde::Serializer>(
        d: &std::time::Duration,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.serialize_u128(d.as_millis())
    }
}

/// Reads the workspace and plans removing `emails` (checked first: a malformed address is a
/// typed error before any read). Sends no mutation.
pub async fn plan(
    client: &Client,
    emails: impl IntoIterator<Item = impl AsRef<str>>,
    options: &OffboardOptions,
) -> Result<OffboardPlan> {
    let before = client.metrics().requests;
    let emails = distinct_emails("emails", emails)?;
    if emails.is_empty() {
        return Err(Error::invalid("emails", "must not be empty"));
    }
    let roles = client.roles().directory();
    let workspace = client.workspace();
    let users = client.users().list().page_size(MAX_PAGE_SIZE).collect();
    let groups = client.groups().list().page_size(MAX_PAGE_SIZE).collect();
    let (roles, workspace, users, groups) = futures::try_join!(roles, workspace, users, groups)?;
    // Only a plain Workspace Owner grant counts: one narrowed by labels does not own it.
    let ownership = guard::Ownership::from_roles(&roles, workspace.id.clone());
    let holds_owner =
        |permissions: &[segment_iam_api::types::PermissionV1]| ownership.held_by(permissions);

    let users_by_email: HashMap<String, &segment_iam_api::types::UserV1> =
        users.iter().map(|u| (email_key(&u.email), u)).collect();
    let mut leavers: Vec<&segment_iam_api::types::UserV1> = Vec::new();
    let mut not_users: Vec<&String> = Vec::new();
    for email in &emails {
        match users_by_email.get(&email_key(email)) {
            Some(user) => leavers.push(user),
            None => not_users.push(email),
        }
    }
    let invites: Vec<String> = if not_users.is_empty() {
        Vec::new()
    } else {
        client
            .invites()
            .list()
            .page_size(MAX_PAGE_SIZE)
            .collect()
            .await?
    };
    let invites_by_email: HashMap<String, &String> =
        invites.iter().map(|e| (email_key(e), e)).collect();
    let mut withdrawn: Vec<&String> = Vec::new();
    let mut unmatched: Vec<String> = Vec::new();
    for email in not_users {
        match invites_by_email.get(&email_key(email)) {
            Some(invite) => withdrawn.push(invite),
            None => unmatched.push(email.clone()),
        }
    }

    // Which listings to read: the guard needs the members of owner groups; the leavers' groups
    // come from per-user listings when that is cheaper than listing every non-empty group.
    let non_empty = groups.iter().filter(|g| g.member_count > 0).count();
    let per_user = !leavers.is_empty() && leavers.len() < non_empty;
    let scan_members = !leavers.is_empty() && !per_user;
    let scan_invitees = !withdrawn.is_empty();
    let read_options = ReadOptions {
        invites: false,
        members: Members::None,
        run: options.run.clone(),
    };
    let groups: Vec<GroupState> = read::read_groups(client, groups, &read_options, |g| {
        let non_empty = g.member_count > 0;
        GroupReads {
            members: non_empty && (scan_members || holds_owner(&g.permissions)),
            invitees: non_empty && scan_invitees,
        }
    })
    .await?;
    let user_groups: HashMap<String, Vec<String>> = if per_user {
        stream::iter(leavers.iter().map(|u| u.id.clone()))
            .map(|id| async move {
                let names: Vec<String> = client
                    .users()
                    .groups(&id)
                    .page_size(MAX_PAGE_SIZE)
                    .items()
                    .map_ok(|g| g.name)
                    .try_collect()
                    .await?;
                Ok::<_, Error>((id, names))
            })
            .buffered(read_options.run.concurrency())
            .try_collect()
            .await?
    } else {
        let mut by_user: HashMap<String, Vec<String>> = HashMap::new();
        for g in &groups {
            for m in &g.members {
                by_user
                    .entry(m.id.clone())
                    .or_default()
                    .push(g.group.name.clone());
            }
        }
        by_user
    };
    let mut invitee_groups: HashMap<String, Vec<String>> = HashMap::new();
    for g in &groups {
        for e in &g.invitees {
            invitee_groups
                .entry(email_key(e))
                .or_default()
                .push(g.group.name.clone());
        }
    }

    // Who holds Owner on the workspace, directly or through a group (by id; named by email).
    let mut owners: HashMap<&str, &str> = users
        .iter()
        .filter(|u| holds_owner(&u.permissions))
        .map(|u| (u.id.as_str(), u.email.as_str()))
        .collect();
    for g in groups.iter().filter(|g| holds_owner(&g.group.permissions)) {
        owners.extend(g.members.iter().map(|m| (m.id.as_str(), m.email.as_str())));
    }
    let owner_emails: Vec<String> = owners
        .values()
        .map(|e| e.to_string())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();

    let sorted = |mut names: Vec<String>| {
        names.sort();
        names.dedup();
        names
    };
    let users_out: Vec<Leaver> = leavers
        .iter()
        .map(|u| Leaver {
            id: u.id.clone(),
            email: u.email.clone(),
            groups: sorted(user_groups.get(&u.id).cloned().unwrap_or_default()),
            owner: owners.contains_key(u.id.as_str()),
        })
        .collect();
    let invites_out: Vec<WithdrawnInvite> = withdrawn
        .iter()
        .map(|e| WithdrawnInvite {
            email: (*e).clone(),
            groups: sorted(
                invitee_groups
                    .get(&email_key(e))
                    .cloned()
                    .unwrap_or_default(),
            ),
        })
        .collect();
    let user_chunks = chunks(client, Operation::DeleteUsers, "user_ids", &ids(&users_out))?;
    let invite_chunks = chunks(
        client,
        Operation::DeleteInvites,
        "emails",
        &invite_emails(&invites_out),
    )?;
    let (now, after) = owners_now_and_after(&owner_emails, &users_out);
    Ok(OffboardPlan {
        users: users_out,
        invites: invites_out,
        unmatched,
        owners_remaining: after.len() as u64,
        removes_last_owner: guard::last_owner(&now, &after).is_err(),
        owners: owner_emails,
        mutations: (user_chunks.len() + invite_chunks.len()) as u64,
        reads: client.metrics().requests.saturating_sub(before),
    })
}

impl OffboardPlan {
    /// The last-owner guard on this plan, exactly as [`execute`] applies it before sending:
    /// [`guard::last_owner`] on the owners now and after the leavers go, unless `options`
    /// allow removing the last owner. A caller that asks before executing (the CLI) gets the
    /// same refusal here without sending anything.
    pub fn check_guard(
        &self,
        options: &OffboardOptions,
    ) -> std::result::Result<(), guard::Refusal> {
        if options.allow_owner_removal {
            return Ok(());
        }
        let (now, after) = owners_now_and_after(&self.owners, &self.users);
        guard::last_owner(&now, &after)
    }
}

/// The holders of "Workspace Owner" now and after `leavers` go (emails compared
/// case-insensitively), for [`guard::last_owner`].
fn owners_now_and_after<'p>(
    owners: &'p [String],
    leavers: &[Leaver],
) -> (BTreeSet<&'p str>, BTreeSet<&'p str>) {
    let leaving: HashSet<String> = leavers.iter().map(|u| email_key(&u.email)).collect();
    let now: BTreeSet<&str> = owners.iter().map(String::as_str).collect();
    let after = now
        .iter()
        .copied()
        .filter(|e| !leaving.contains(&email_key(e)))
        .collect();
    (now, after)
}

fn ids(users: &[Leaver]) -> Vec<String> {
    users.iter().map(|u| u.id.clone()).collect()
}

fn invite_emails(invites: &[WithdrawnInvite]) -> Vec<String> {
    invites.iter().map(|i| i.email.clone()).collect()
}

fn chunks(
    client: &Client,
    operation: Operation,
    field: &str,
    items: &[String],
) -> Result<Vec<std::ops::Range<usize>>> {
    if items.is_empty() {
        return Ok(Vec::new());
    }
    batch::planned_chunks(
        operation,
        client.base_url(),
        client.max_url_len(),
        &[],
        field,
        items,
    )
}

/// Carries `plan` out: deletes its users, then withdraws its invites, chunk by chunk (exactly
/// [`OffboardPlan::mutations`] requests, retries aside). Refused with [`Error::Refused`]
/// ([`Refusal::LastOwner`](crate::guard::Refusal::LastOwner), from [`guard::last_owner`]) before
/// anything is sent when it would remove the last owner and
/// [`OffboardOptions::allow_owner_removal`] is not set.
/// When a chunk fails after others succeeded, the error is [`Error::Partial`] listing the
/// emails done and not done; re-planning and executing again finishes the job.
pub async fn execute(
    client: &Client,
    plan: &OffboardPlan,
    options: &OffboardOptions,
) -> Result<OffboardReport> {
    plan.check_guard(options)?;
    let start = client.metrics();
    let progress = options.run.progress();
    progress.add_total((plan.users.len() + plan.invites.len()) as u64);
    let mut report = OffboardReport::default();
    let user_ids = ids(&plan.users);
    let emails = invite_emails(&plan.invites);
    let user_chunks = chunks(client, Operation::DeleteUsers, "user_ids", &user_ids)?;
    let invite_chunks = chunks(client, Operation::DeleteInvites, "emails", &emails)?;
    let everyone: Vec<String> = plan
        .users
        .iter()
        .map(|u| u.email.clone())
        .chain(emails.iter().cloned())
        .collect();
    let fail = |report: &OffboardReport, source: Error| -> Error {
        let done = report.users_deleted.len() + report.invites_withdrawn.len();
        if done == 0 {
            return source;
        }
        Error::Partial {
            applied: everyone[..done].to_vec(),
            not_applied: everyone[done..].to_vec(),
            source: Box::new(source),
        }
    };
    for chunk in user_chunks {
        if let Err(e) = client
            .users()
            .delete(user_ids[chunk.clone()].to_vec())
            .await
        {
            return Err(fail(&report, e));
        }
        report
            .users_deleted
            .extend(plan.users[chunk.clone()].iter().map(|u| u.email.clone()));
        progress.advance(chunk.len() as u64);
    }
    for chunk in invite_chunks {
        if let Err(e) = client
            .invites()
            .delete(emails[chunk.clone()].to_vec())
            .await
        {
            return Err(fail(&report, e));
        }
        report
            .invites_withdrawn
            .extend(emails[chunk.clone()].iter().cloned());
        progress.advance(chunk.len() as u64);
    }
    let end = client.metrics();
    report.requests = end.requests.saturating_sub(start.requests);
    report.rate_limited = end.rate_limited.saturating_sub(start.rate_limited);
    report.waited = end.waited.saturating_sub(start.waited);
    Ok(report)
}

/// Groups per leaver, for showing a plan: `group name -> emails leaving it`.
pub fn leavers_by_group(plan: &OffboardPlan) -> BTreeMap<&str, Vec<&str>> {
    let mut by_group: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for u in &plan.users {
        for g in &u.groups {
            by_group
                .entry(g.as_str())
                .or_default()
                .push(u.email.as_str());
        }
    }
    for i in &plan.invites {
        for g in &i.groups {
            by_group
                .entry(g.as_str())
                .or_default()
                .push(i.email.as_str());
        }
    }
    by_group
}
