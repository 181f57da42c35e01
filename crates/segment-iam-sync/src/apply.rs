//! Carrying a plan out: phase by phase (creations and additions, then replacements, then
//! removals and deletions), the steps of one phase one at a time by default ([`DEFAULT_CONCURRENCY`]), behind the removal cap and,
//! for a saved plan, a check that the workspace has not moved since.
//!
//! After the first failure no new step starts; the steps already in flight finish, and the
//! error reports exactly which steps were done. A creation (`createUserGroup`,
//! `createInvites`) whose answer was lost is resolved by reading the workspace, never by
//! sending it again: when the group or the invites are there, the apply goes on. A label
//! creation answered "exists" (409) and a label deletion answered "not found" (404) are done:
//! the label is as the plan wants it.
//!
//! Applies of one file may overlap (a schedule and a CI run): a creation another run finished
//! first is treated like one whose answer was lost. A group name refused as taken (409) is
//! looked up and that group used; invites refused because someone is already invited or a
//! user (409) are looked up, and only the emails neither invited nor a user are sent again
//! (the refused request changed nothing), so each email is invited once. Adding a member or
//! a permission that is already there is not an error on the service.
//!
//! A service may instead accept two creations of one name. After its creations, and again
//! at the end, a run lists the groups and, for each name it created, keeps the **survivor**:
//! the first group of that name in the service's listing, which lists groups in creation
//! order, so the survivor is the oldest (`survivor`). Every run computes the same one: a
//! group created later is listed after it, so the answer never changes once the survivor is
//! seen, and only a run whose own group is not the survivor deletes anything, and only its
//! own group, after adding to the survivor the members and grants it had added to its own
//! (those the survivor lacks). The report lists such merges ([`ApplyReport::merged_groups`])
//! and the groups used instead of created ([`ApplyReport::adopted_groups`]).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};

use futures::future::{BoxFuture, FutureExt};
use futures::{StreamExt, TryStreamExt, stream};
use segment_iam::email::key as email_key;
use segment_iam::guard::RemovalCap;
use segment_iam::jobs::read::ReadOptions;
use segment_iam::jobs::{JobOptions, Progress, RunOptions};
use segment_iam::types::UserGroupV1;
use segment_iam::{Client, Conflict, Invite, Outcome, Permission};

use crate::error::{Error, Result};
use crate::grant::Grant;
use crate::live::Live;
use crate::plan::types::NewInvite;
use crate::plan::{Action, GroupRef, Plan, Step, Subject};
use crate::report::{ApplyReport, MergedGroup};

/// The removal cap when none is given: the facade's, shared by every job.
pub use segment_iam::guard::DEFAULT_MAX_REMOVALS;

/// Steps of one phase in flight at once by default: one. Mutations are limited to 60 a minute,
/// and one at a time already sends them as fast as that allows unless a request takes over a
/// second; more in flight only hides latency beyond that, and costs at every window's end,
/// where pacing must count requests still in flight as spent (measured in BENCHMARKS.md,
/// scenario 7c). Lower than the facade's [`segment_iam::jobs::DEFAULT_CONCURRENCY`], which is
/// for reads.
pub const DEFAULT_CONCURRENCY: usize = 1;

/// How an apply runs. The shared `concurrency` (steps of one phase in flight at once,
/// [`DEFAULT_CONCURRENCY`] unless set) and `progress` (requests done of requests planned)
/// setters come from [`JobOptions`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ApplyOptions {
    /// Refuse a plan removing more than the cap allows ([`Plan::removals`]).
    pub removal_cap: RemovalCap,
    /// Re-read the workspace first and refuse the plan if it changed since it was made (for
    /// saved plans; a plan made just now from the same read needs no check).
    pub verify_fresh: bool,
    run: RunOptions,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            removal_cap: RemovalCap::default(),
            verify_fresh: false,
            run: RunOptions::new(),
        }
        .concurrency(DEFAULT_CONCURRENCY)
    }
}

impl JobOptions for ApplyOptions {
    fn run(&self) -> &RunOptions {
        &self.run
    }

    fn run_mut(&mut self) -> &mut RunOptions {
        &mut self.run
    }
}

impl ApplyOptions {
    /// The defaults: a cap of [`DEFAULT_MAX_REMOVALS`], no freshness check, one step at a time.
    pub fn new() -> Self {
        Self::default()
    }

    /// The removal cap ([`RemovalCap::off`] lifts it).
    pub fn removal_cap(mut self, cap: RemovalCap) -> Self {
        self.removal_cap = cap;
        self
    }

    /// Whether to check first that the workspace has not changed since the plan was made.
    pub fn verify_fresh(mut self, verify: bool) -> Self {
        self.verify_fresh = verify;
        self
    }
}

/// Carries `plan` out (see the module docs). Refused before anything is sent when it removes
/// more than [`ApplyOptions::removal_cap`] allows ([`Error::Refused`]), or, with [`ApplyOptions::verify_fresh`], when
/// the workspace is another one or has changed since the plan was made.
pub async fn apply(client: &Client, plan: &Plan, options: &ApplyOptions) -> Result<ApplyReport> {
    options
        .removal_cap
        .check(plan.removals())
        .map_err(Error::Refused)?;
    let before = client.metrics();
    if options.verify_fresh {
        check_fresh(client, plan).await?;
    }

    let run = Run {
        client: client.clone(),
        groups: Mutex::new(HashMap::new()),
        races: Mutex::new(Races::default()),
        failed: AtomicBool::new(false),
        progress: options.run().progress().clone(),
    };
    options.run().progress().add_total(plan.requests());
    let mut report = ApplyReport {
        steps_planned: plan.steps.len() as u64,
        mutations_planned: plan.requests(),
        ..ApplyReport::default()
    };
    let mut failure: Option<segment_iam::Error> = None;
    let mut phases: Vec<Vec<&Step>> = Vec::new();
    for step in &plan.steps {
        match phases.last_mut() {
            Some(phase) if phase[0].action.phase() == step.action.phase() => phase.push(step),
            _ => phases.push(vec![step]),
        }
    }
    for phase in phases {
        let run = &run;
        // Boxed up front: a stream holding the mapping closure would make this future
        // non-`Send` (rust-lang/rust#102211), and callers spawn it.
        let steps: Vec<BoxFuture<'_, _>> = phase
            .into_iter()
            .map(|step| run.step(step).boxed())
            .collect();
        let results: Vec<(&Step, Option<segment_iam::Result<()>>)> = stream::iter(steps)
            .buffer_unordered(options.run().concurrency())
            .collect()
            .await;
        for (step, result) in results {
            match result {
                Some(Ok(())) => {
                    report.steps_done += 1;
                    report.mutations_done += step.requests;
                    report.done.push(step.clone());
                }
                Some(Err(error)) => {
                    failure.get_or_insert(error);
                }
                None => {}
            }
        }
        // A phase that created groups: merge any duplicate another run created meanwhile
        // before anything is added to them.
        if failure.is_none()
            && run.take_unsettled()
            && let Err(error) = run.settle_duplicates().await
        {
            failure = Some(error);
        }
        if failure.is_some() {
            break;
        }
    }
    // Again at the end: another run's duplicate may have become visible since.
    if failure.is_none()
        && run.created_any()
        && let Err(error) = run.settle_duplicates().await
    {
        failure = Some(error);
    }
    let after = client.metrics();
    report.requests = after.requests.saturating_sub(before.requests);
    report.retries = after.retries.saturating_sub(before.retries);
    report.rate_limited = after.rate_limited.saturating_sub(before.rate_limited);
    report.waited = after.waited.saturating_sub(before.waited);
    let races = std::mem::take(&mut *locked(&run.races));
    report.created_groups = races.created;
    report.adopted_groups = races.adopted;
    report.merged_groups = races.merged;
    match failure {
        Some(source) => Err(Error::Apply {
            report: Box::new(report),
            source,
        }),
        None => Ok(report),
    }
}

/// Reads the workspace and refuses `plan` when it was made for another workspace
/// ([`Error::Guard`]) or against a state that has changed since ([`Error::StalePlan`]).
/// [`apply`] does this itself with [`ApplyOptions::verify_fresh`]; a caller that asks an
/// operator first can also check before asking, so nobody confirms a stale plan.
///
/// A plan made from a scoped read ([`Plan::scope`]) is checked on a read of the same scope: a
/// change inside it (a listed group, a named person, any group's name or permissions, roles,
/// labels) makes it stale; a change outside it (an unlisted group's members, people the file
/// does not name) does not, since the plan does not depend on it.
pub async fn check_fresh(client: &Client, plan: &Plan) -> Result<()> {
    let live = match &plan.scope {
        Some(scope) => Live::read_scoped(client, scope.clone(), &ReadOptions::new()).await?,
        None => Live::read(client, &ReadOptions::new()).await?,
    };
    if live.workspace_id != plan.workspace_id {
        return Err(Error::Guard {
            reason: format!(
                "the plan is for workspace {}, the token for workspace {}",
                plan.workspace_id, live.workspace_id
            ),
        });
    }
    let now = live.fingerprint();
    if now != plan.live_fingerprint {
        return Err(Error::StalePlan {
            planned: plan.live_fingerprint.clone(),
            live: now,
        });
    }
    Ok(())
}

/// One apply's shared state.
struct Run {
    client: Client,
    /// Ids of the groups the plan creates, by name: the group its later steps use (created,
    /// or adopted from another run).
    groups: Mutex<HashMap<String, String>>,
    /// What overlapping runs need: the groups this run created, adopted and merged.
    races: Mutex<Races>,
    /// Set at the first failure: no step starts after it.
    failed: AtomicBool,
    progress: Progress,
}

impl Run {
    /// Runs one step; `None` when it did not start because another step failed.
    async fn step<'a>(&'a self, step: &'a Step) -> (&'a Step, Option<segment_iam::Result<()>>) {
        if self.failed.load(Ordering::SeqCst) {
            return (step, None);
        }
        let result = self.act(&step.action).await;
        match &result {
            Ok(()) => self.progress.advance(step.requests),
            Err(_) => self.failed.store(true, Ordering::SeqCst),
        }
        (step, Some(result))
    }

    fn group_id(&self, group: &GroupRef) -> segment_iam::Result<String> {
        if let Some(id) = &group.id {
            return Ok(id.clone());
        }
        self.groups
            .lock()
            .ok()
            .and_then(|g| g.get(&group.name).cloned())
            .ok_or_else(|| segment_iam::Error::InvalidInput {
                field: "group".into(),
                reason: format!("group {:?} was not created by this apply", group.name),
            })
    }

    async fn act(&self, action: &Action) -> segment_iam::Result<()> {
        let client = &self.client;
        match action {
            Action::CreateLabel { label } => {
                // 409: it exists (made by someone else, or our answer was lost): done.
                if let Err(error) = client.labels().create(label, None).await
                    && error.status() != Some(409)
                {
                    self.label_after_all(label, true, error).await?;
                }
            }
            Action::DeleteLabel { label } => {
                // 404: it is gone already (our answer was lost, or someone deleted it): done.
                if let Err(error) = client.labels().delete(label).await
                    && !error.is_not_found()
                {
                    self.label_after_all(label, false, error).await?;
                }
            }
            Action::CreateGroup { name } => {
                let (id, own) = match client.groups().create(name).await {
                    Ok(group) => (group.id, true),
                    // Another run created it first: use theirs.
                    Err(error) if error.conflict() == Some(Conflict::GroupNameTaken) => {
                        (self.taken_after_all(name, error).await?, false)
                    }
                    Err(error) => (self.created_after_all(name, error).await?, true),
                };
                let mut races = locked(&self.races);
                if own {
                    races.created.insert(name.clone(), id.clone());
                    races.unsettled = true;
                } else {
                    races.adopted.insert(name.clone(), id.clone());
                }
                locked(&self.groups).insert(name.clone(), id);
            }
            Action::Invite { invites } => self.invite(invites).await?,
            Action::AddMembers { group, emails } => {
                client
                    .groups()
                    .add_members(self.group_id(group)?, emails.iter().cloned())
                    .await?;
                self.added_to(group, emails, &[]);
            }
            Action::ReplaceMembers { group, emails, .. } => {
                client
                    .groups()
                    .replace_members(self.group_id(group)?, emails.iter().cloned())
                    .await?;
            }
            Action::RemoveMembers { group, emails } => {
                let id = self.group_id(group)?;
                if let Err(error) = client
                    .groups()
                    .remove_members(&id, emails.iter().cloned())
                    .await
                {
                    let left = self
                        .gone_after_all(error, async {
                            let mut now: Vec<String> = client
                                .groups()
                                .members(&id)
                                .items()
                                .map_ok(|m| m.email)
                                .try_collect()
                                .await?;
                            now.extend(
                                client
                                    .groups()
                                    .invites(&id)
                                    .items()
                                    .try_collect::<Vec<_>>()
                                    .await?,
                            );
                            Ok(still_there(emails, now.iter().map(String::as_str)))
                        })
                        .await?;
                    if !left.is_empty() {
                        client.groups().remove_members(&id, left).await?;
                    }
                }
            }
            Action::AddPermissions { subject, grants } => match subject {
                Subject::User { id, .. } => {
                    client
                        .users()
                        .add_permissions(id, permissions(grants))
                        .await?;
                }
                Subject::Group { group } => {
                    client
                        .groups()
                        .add_permissions(self.group_id(group)?, permissions(grants))
                        .await?;
                    self.added_to(group, &[], grants);
                }
            },
            Action::ReplacePermissions {
                subject, grants, ..
            } => match subject {
                Subject::User { id, .. } => {
                    client
                        .users()
                        .replace_permissions(id, permissions(grants))
                        .await?;
                }
                Subject::Group { group } => {
                    client
                        .groups()
                        .replace_permissions(self.group_id(group)?, permissions(grants))
                        .await?;
                }
            },
            Action::DeleteUsers { users } => {
                let ids: Vec<String> = users.iter().map(|u| u.id.clone()).collect();
                if let Err(error) = client.users().delete(ids.iter().cloned()).await {
                    let left = self
                        .gone_after_all(error, async {
                            let now: HashSet<String> = client
                                .users()
                                .list()
                                .page_size(segment_iam::MAX_PAGE_SIZE)
                                .items()
                                .map_ok(|u| u.id)
                                .try_collect()
                                .await?;
                            Ok(ids.iter().filter(|id| now.contains(*id)).cloned().collect())
                        })
                        .await?;
                    if !left.is_empty() {
                        client.users().delete(left).await?;
                    }
                }
            }
            Action::DeleteInvites { emails } => {
                if let Err(error) = client.invites().delete(emails.iter().cloned()).await {
                    let left = self
                        .gone_after_all(error, async {
                            Ok(client.invites().find_by_emails(emails).await?.found)
                        })
                        .await?;
                    if !left.is_empty() {
                        client.invites().delete(left).await?;
                    }
                }
            }
            Action::DeleteGroup { group } => {
                // 404: another run deleted it already: done.
                if let Err(error) = client.groups().delete(self.group_id(group)?).await
                    && !error.is_not_found()
                {
                    return Err(error);
                }
            }
        }
        Ok(())
    }

    /// After a removal refused as "not found" (404: another run removed some of them first;
    /// the service removes all or nothing per request), what `read` finds still there, to
    /// remove once more (a DELETE, safe to send again); any other failure as it is.
    async fn gone_after_all(
        &self,
        error: segment_iam::Error,
        read: impl Future<Output = segment_iam::Result<Vec<String>>>,
    ) -> segment_iam::Result<Vec<String>> {
        if !error.is_not_found() {
            return Err(error);
        }
        read.await
    }

    /// After a `createUserGroup` that failed: when it may have arrived, the group's id if a
    /// read finds exactly one group of that name; otherwise the failure.
    async fn created_after_all(
        &self,
        name: &str,
        error: segment_iam::Error,
    ) -> segment_iam::Result<String> {
        if error.outcome() == Outcome::NotApplied {
            return Err(error);
        }
        let found: Vec<_> = self
            .client
            .groups()
            .list()
            .page_size(segment_iam::MAX_PAGE_SIZE)
            .items()
            .try_filter(|g| futures::future::ready(g.name == name))
            .try_collect()
            .await?;
        match found.as_slice() {
            [group] => Ok(group.id.clone()),
            _ => Err(error),
        }
    }

    /// After a label creation (`exists`) or deletion (`!exists`) that failed: fine when it
    /// may have arrived and a read finds the label as wanted; otherwise the failure.
    async fn label_after_all(
        &self,
        label: &segment_iam::Label,
        exists: bool,
        error: segment_iam::Error,
    ) -> segment_iam::Result<()> {
        if error.outcome() == Outcome::NotApplied {
            return Err(error);
        }
        let labels = self.client.labels().list().await?;
        if labels.iter().any(|l| l.label == *label) == exists {
            Ok(())
        } else {
            Err(error)
        }
    }

    /// After a `createInvites` that failed: fine when it may have arrived and a read finds
    /// every email invited or a user; otherwise the failure.
    async fn invited_after_all(
        &self,
        emails: &[&str],
        error: segment_iam::Error,
    ) -> segment_iam::Result<()> {
        if error.outcome() == Outcome::NotApplied {
            return Err(error);
        }
        if self.not_yet_invited(emails).await?.is_empty() {
            Ok(())
        } else {
            Err(error)
        }
    }

    /// `createInvites` for `invites`. Refused because someone is already invited or a user
    /// (another run got there first; the refusal changed nothing): the emails still neither
    /// are sent once more, until none is left. Each round sends fewer emails or stops, so
    /// the loop ends, and no email is sent in a request that may have arrived.
    async fn invite(&self, invites: &[NewInvite]) -> segment_iam::Result<()> {
        let mut pending: Vec<&NewInvite> = invites.iter().collect();
        let mut rounds = 0;
        loop {
            let sent = pending.iter().map(|i| {
                permissions(&i.grants)
                    .into_iter()
                    .fold(Invite::new(&i.email), Invite::permission)
            });
            let emails: Vec<&str> = pending.iter().map(|i| i.email.as_str()).collect();
            let error = match self.client.invites().create(sent).await {
                Ok(_) => return Ok(()),
                Err(error) => error,
            };
            if !matches!(
                error.conflict(),
                Some(Conflict::AlreadyInvited | Conflict::AlreadyUser)
            ) {
                return self.invited_after_all(&emails, error).await;
            }
            let left: HashSet<String> = self
                .not_yet_invited(&emails)
                .await?
                .iter()
                .map(|e| email_key(e))
                .collect();
            if left.is_empty() {
                return Ok(());
            }
            if left.len() == pending.len() {
                // Nobody was invited meanwhile: the conflict is not another run's doing.
                return Err(error);
            }
            rounds += 1;
            if rounds > invites.len() {
                // Not reached (each round shrinks `pending`): a bound all the same.
                return Err(error);
            }
            pending.retain(|i| left.contains(&email_key(&i.email)));
        }
    }

    /// Of `emails`, those neither pending invitees nor users, as given.
    async fn not_yet_invited(&self, emails: &[&str]) -> segment_iam::Result<Vec<String>> {
        let invited = self.client.invites().find_by_emails(emails).await?;
        if invited.missing.is_empty() {
            return Ok(Vec::new());
        }
        let users = self.client.users().find_by_emails(&invited.missing).await?;
        Ok(users.missing)
    }

    /// After a `createUserGroup` refused because the name is taken: the survivor of that
    /// name (another run's group), or the refusal when a read finds none.
    async fn taken_after_all(
        &self,
        name: &str,
        error: segment_iam::Error,
    ) -> segment_iam::Result<String> {
        let listing = self.group_listing().await?;
        match survivor(&listing, name) {
            Some(group) => Ok(group.id.clone()),
            None => Err(error),
        }
    }

    /// Every group, in the service's order.
    async fn group_listing(&self) -> segment_iam::Result<Vec<UserGroupV1>> {
        self.client
            .groups()
            .list()
            .page_size(segment_iam::MAX_PAGE_SIZE)
            .items()
            .try_collect()
            .await
    }

    /// Records members or grants this run added to a group it created itself, so that they
    /// can be moved if that group turns out to be a duplicate.
    fn added_to(&self, group: &GroupRef, emails: &[String], grants: &[Grant]) {
        if group.id.is_some() {
            return;
        }
        let mut races = locked(&self.races);
        if !races.created.contains_key(&group.name) {
            return;
        }
        let added = races.added.entry(group.name.clone()).or_default();
        added.0.extend(emails.iter().cloned());
        added.1.extend(grants.iter().cloned());
    }

    /// Whether groups were created since the last [`Run::settle_duplicates`]; clears it.
    fn take_unsettled(&self) -> bool {
        std::mem::take(&mut locked(&self.races).unsettled)
    }

    /// Whether this run created (and still keeps) any group.
    fn created_any(&self) -> bool {
        !locked(&self.races).created.is_empty()
    }

    /// For each group this run created and keeps: when the survivor of its name is another
    /// group (see the module docs), adds to the survivor what this run added to its own
    /// group and the survivor lacks, deletes its own, and uses the survivor from then on.
    async fn settle_duplicates(&self) -> segment_iam::Result<()> {
        let created: Vec<(String, String)> = locked(&self.races)
            .created
            .iter()
            .map(|(n, i)| (n.clone(), i.clone()))
            .collect();
        if created.is_empty() {
            return Ok(());
        }
        let listing = self.group_listing().await?;
        for (name, own) in created {
            let Some(kept) = survivor(&listing, &name) else {
                continue;
            };
            if kept.id == own {
                continue;
            }
            let (emails, grants) = locked(&self.races)
                .added
                .get(&name)
                .cloned()
                .unwrap_or_default();
            let groups = self.client.groups();
            let members_moved: Vec<String> = emails.into_iter().collect();
            if !members_moved.is_empty() {
                groups
                    .add_members(&kept.id, members_moved.iter().cloned())
                    .await?;
            }
            let has: BTreeSet<Grant> = if grants.is_empty() {
                BTreeSet::new()
            } else {
                Grant::of_permissions(&groups.get(&kept.id).await?.permissions)
            };
            let grants_moved: Vec<Grant> = grants.difference(&has).cloned().collect();
            if !grants_moved.is_empty() {
                groups
                    .add_permissions(&kept.id, permissions(&grants_moved))
                    .await?;
            }
            if let Err(error) = groups.delete(&own).await
                && !error.is_not_found()
            {
                return Err(error);
            }
            locked(&self.groups).insert(name.clone(), kept.id.clone());
            let mut races = locked(&self.races);
            races.created.remove(&name);
            races.added.remove(&name);
            races.adopted.insert(name.clone(), kept.id.clone());
            races.merged.push(MergedGroup {
                name,
                survivor: kept.id.clone(),
                deleted: own,
                members_moved,
                grants_moved,
            });
        }
        Ok(())
    }
}

/// What an apply records for runs that overlap it.
#[derive(Default)]
struct Races {
    /// Groups this run created and keeps, by name.
    created: BTreeMap<String, String>,
    /// Groups another run created first, used instead, by name.
    adopted: BTreeMap<String, String>,
    /// This run's duplicates, merged and deleted.
    merged: Vec<MergedGroup>,
    /// Members and grants this run added to the groups it created, by name.
    added: HashMap<String, (BTreeSet<String>, BTreeSet<Grant>)>,
    /// Groups were created since duplicates were last looked for.
    unsettled: bool,
}

/// Of `wanted`, the emails `now` holds (compared by [`email_key`]), as `wanted` spells them.
fn still_there<'a>(wanted: &[String], now: impl Iterator<Item = &'a str>) -> Vec<String> {
    let now: HashSet<String> = now.map(email_key).collect();
    wanted
        .iter()
        .filter(|e| now.contains(&email_key(e)))
        .cloned()
        .collect()
}

/// The group every run keeps among those named `name`: the first in the service's listing,
/// which is in creation order, so the oldest. A group created later is listed after it, so
/// every run that sees the survivor agrees on it, whenever it looks.
fn survivor<'a>(listing: &'a [UserGroupV1], name: &str) -> Option<&'a UserGroupV1> {
    listing.iter().find(|g| g.name == name)
}

/// The value behind `mutex`, even if a panicking holder poisoned it (the state is a set of
/// records, consistent after every statement).
fn locked<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// Grants as the facade's permissions, one per role, each resource with its labels.
fn permissions(grants: &[Grant]) -> Vec<Permission> {
    segment_iam::permissions_of(grants)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use segment_iam::RetryConfig;
    use segment_iam::guard::Refusal;
    use segment_iam_emulator::state::{PermissionInput, PermissionResource};
    use segment_iam_emulator::{
        Emulator, EmulatorHandle, Fault, Fixture, FixtureGroup, FixtureUser, Operation,
    };

    use super::*;
    use crate::AccessFile;

    const TOKEN: &str = "apply-unit-token";

    /// own@x.io owns the workspace; a@..c@x.io are users; group Old holds a and b.
    async fn emulator() -> EmulatorHandle {
        emulator_allowing_duplicates(false).await
    }

    /// [`emulator`], accepting duplicate group names or not.
    async fn emulator_allowing_duplicates(duplicates: bool) -> EmulatorHandle {
        let owner = PermissionInput {
            role_id: "1WDUuRLxv84rrfCNUwvkrRtkxnS".into(),
            resources: vec![PermissionResource {
                id: segment_iam_emulator::seed::WORKSPACE_ID.into(),
                resource_type: "WORKSPACE".into(),
                labels: vec![],
            }],
        };
        let users = ["own", "a", "b", "c"]
            .iter()
            .map(|n| FixtureUser {
                email: format!("{n}@x.io"),
                permissions: if *n == "own" {
                    vec![owner.clone()]
                } else {
                    vec![]
                },
                ..FixtureUser::default()
            })
            .collect();
        let fixture = Fixture {
            users,
            groups: vec![FixtureGroup {
                name: "Old".into(),
                members: vec!["a@x.io".into(), "b@x.io".into()],
                ..FixtureGroup::default()
            }],
            ..Fixture::default()
        };
        Emulator::builder()
            .token(TOKEN)
            .seed(7)
            .rate_limits(false)
            .allow_duplicate_group_names(duplicates)
            .fixture(fixture)
            .start()
            .await
            .expect("the emulator starts on 127.0.0.1")
    }

    /// A client for `emu` that retries a failure twice, quickly.
    fn client(emu: &EmulatorHandle) -> Client {
        Client::builder()
            .token(TOKEN)
            .base_url(emu.base_url())
            .timeout(Duration::from_secs(10))
            .retry(
                RetryConfig::standard()
                    .max_attempts(2)
                    .initial_backoff(Duration::from_millis(5))
                    .max_backoff(Duration::from_millis(20)),
            )
            .build()
            .expect("a client")
    }

    /// One step of every kind but the deletions: a group created and filled, an invite, a
    /// permission added, a member moved out of Old.
    const FILE: &str = "version: 1\nusers:\n  own@x.io:\n    permissions:\n      - role: Workspace Owner\n        resources: [workspace]\n  c@x.io:\n    permissions:\n      - role: Source Admin\n        resources: [\"SOURCE:s1\"]\n  new@x.io:\ngroups:\n  Old:\n    members: [a@x.io]\n  Fresh:\n    members: [b@x.io, new@x.io]\n    permissions:\n      - role: Source Read-only\n        resources: [workspace]\n";

    async fn planned(client: &Client, yaml: &str) -> Plan {
        let file = AccessFile::parse(yaml).expect("the file parses");
        let live = Live::read(client, &ReadOptions::new()).await.expect("read");
        crate::plan(&file, &live, client).expect("planned")
    }

    fn mutations(emu: &EmulatorHandle) -> Vec<Operation> {
        emu.journal()
            .into_iter()
            .filter(|e| e.method != "GET")
            .filter_map(|e| e.operation)
            .collect()
    }

    #[tokio::test]
    async fn an_apply_sends_the_plan_reports_it_and_converges() {
        let emu = emulator().await;
        let client = client(&emu);
        let plan = planned(&client, FILE).await;
        let progress = Progress::new();
        emu.clear_journal();
        let options = ApplyOptions::new().progress(progress.clone());
        let report = apply(&client, &plan, &options).await.expect("applied");
        let steps = plan.steps.len() as u64;
        assert_eq!(mutations(&emu).len() as u64, plan.requests());
        assert_eq!((report.steps_planned, report.steps_done), (steps, steps));
        assert_eq!(report.mutations_planned, plan.requests());
        assert_eq!(report.mutations_done, plan.requests());
        assert_eq!(report.done.len(), plan.steps.len());
        assert_eq!(report.requests, emu.journal().len() as u64);
        assert_eq!(
            (progress.done(), progress.total()),
            (plan.requests(), plan.requests())
        );
        let fresh = report.created_groups.get("Fresh").expect("Fresh created");
        assert!(!fresh.is_empty());
        assert!(planned(&client, FILE).await.is_empty(), "converged");
    }

    #[tokio::test]
    async fn a_plan_over_the_cap_is_refused_before_anything_is_sent() {
        let emu = emulator().await;
        let client = client(&emu);
        let plan = planned(&client, FILE).await;
        assert_eq!(plan.removals(), 1, "{plan}");
        emu.clear_journal();
        let capped = apply(
            &client,
            &plan,
            &ApplyOptions::new().removal_cap(RemovalCap::at(0)),
        )
        .await;
        assert!(
            matches!(
                capped,
                Err(Error::Refused(Refusal::RemovalCap {
                    removals: 1,
                    cap: 0
                }))
            ),
            "{capped:?}"
        );
        assert!(emu.journal().is_empty(), "nothing sent, nothing read");
        apply(
            &client,
            &plan,
            &ApplyOptions::new().removal_cap(RemovalCap::at(1)),
        )
        .await
        .expect("at the cap");
    }

    #[tokio::test]
    async fn a_saved_plan_is_checked_for_freshness_only_when_asked() {
        let emu = emulator().await;
        let client = client(&emu);
        let plan = planned(&client, FILE).await;
        check_fresh(&client, &plan).await.expect("fresh");
        let mut elsewhere = plan.clone();
        elsewhere.workspace_id = "another".into();
        assert!(matches!(
            check_fresh(&client, &elsewhere).await,
            Err(Error::Guard { reason }) if reason.contains("another")
        ));
        // The workspace moves on: c@x.io joins Old out of band.
        let old = Live::read(&client, &ReadOptions::new())
            .await
            .expect("read")
            .groups[0]
            .id
            .clone();
        client
            .groups()
            .add_members(&old, ["c@x.io".to_string()])
            .await
            .expect("added");
        emu.clear_journal();
        let stale = apply(&client, &plan, &ApplyOptions::new().verify_fresh(true)).await;
        assert!(matches!(stale, Err(Error::StalePlan { .. })), "{stale:?}");
        assert!(mutations(&emu).is_empty());
        let mut moved = plan.clone();
        moved.steps.clear();
        moved.steps.push(plan.steps[0].clone());
        apply(&client, &moved, &ApplyOptions::new())
            .await
            .expect("unchecked");
    }

    #[tokio::test]
    async fn steps_of_one_phase_run_together_and_a_later_phase_waits() {
        let emu = emulator().await;
        // Without pacing, which keeps mutations one at a time until it knows the window, so
        // that two in flight are two in flight.
        let client = Client::builder()
            .token(TOKEN)
            .base_url(emu.base_url())
            .timeout(Duration::from_secs(10))
            .pacing(false)
            .build()
            .expect("a client");
        // Old loses b (a removal, the last phase) and c's permission is added (an addition),
        // a's too (another addition, same phase).
        let yaml = "version: 1\nusers:\n  own@x.io:\n    permissions:\n      - role: Workspace Owner\n        resources: [workspace]\n  a@x.io:\n    permissions:\n      - role: Source Admin\n        resources: [\"SOURCE:s1\"]\n  c@x.io:\n    permissions:\n      - role: Source Admin\n        resources: [\"SOURCE:s2\"]\ngroups:\n  Old:\n    members: [a@x.io]\n";
        let plan = planned(&client, yaml).await;
        let phases: Vec<u8> = plan.steps.iter().map(|s| s.action.phase()).collect();
        assert_eq!(phases, [2, 2, 4], "{plan}");
        // The first step's request is held. With both additions in flight the other one is
        // answered (and journaled) first; the removal, a later phase, only after both.
        let first = match &plan.steps[0].action {
            Action::AddPermissions {
                subject: Subject::User { id, .. },
                ..
            } => format!("/users/{id}/permissions"),
            other => panic!("{other:?}"),
        };
        emu.inject(
            Fault::delay(Duration::from_secs(5))
                .on_path(first.clone())
                .times(1),
        );
        emu.clear_journal();
        let options = ApplyOptions::new().concurrency(2);
        apply(&client, &plan, &options).await.expect("applied");
        let sent: Vec<(Option<Operation>, String)> = emu
            .journal()
            .into_iter()
            .filter(|e| e.method != "GET")
            .map(|e| (e.operation, e.path))
            .collect();
        let operations: Vec<Option<Operation>> = sent.iter().map(|(o, _)| *o).collect();
        assert_eq!(
            operations,
            [
                Some(Operation::AddPermissionsToUser),
                Some(Operation::AddPermissionsToUser),
                Some(Operation::RemoveUsersFromUserGroup)
            ],
            "the removal waited for its phase"
        );
        assert_eq!(
            sent[1].1, first,
            "the held step was answered after the other"
        );
    }

    #[tokio::test]
    async fn a_creation_whose_answer_was_lost_is_looked_up_and_a_refused_one_is_not() {
        let emu = emulator().await;
        let sender = client(&emu);
        let plan = planned(&sender, FILE).await;
        emu.inject(
            Fault::drop_connection()
                .on_operation(Operation::CreateUserGroup)
                .after_apply()
                .times(1),
        );
        emu.inject(
            Fault::drop_connection()
                .on_operation(Operation::CreateInvites)
                .after_apply()
                .times(1),
        );
        let report = apply(&sender, &plan, &ApplyOptions::new())
            .await
            .expect("looked up");
        assert_eq!(emu.applied_count(Operation::CreateUserGroup), 1);
        assert_eq!(emu.applied_count(Operation::CreateInvites), 1);
        assert!(report.created_groups.contains_key("Fresh"));
        assert!(
            planned(&sender, FILE).await.is_empty(),
            "Fresh filled, not Old"
        );

        // Refused before it was applied: not looked up, the apply stops.
        let emu = emulator().await;
        let sender = client(&emu);
        let plan = planned(&sender, FILE).await;
        emu.inject(
            Fault::status(400)
                .on_operation(Operation::CreateUserGroup)
                .always(),
        );
        emu.clear_journal();
        let failed = apply(&sender, &plan, &ApplyOptions::new()).await;
        assert!(matches!(&failed, Err(Error::Apply { .. })), "{failed:?}");
        assert!(
            emu.journal_for(Operation::ListUserGroups).is_empty(),
            "not looked up"
        );
        let emu = emulator().await;
        let invites_client = client(&emu);
        let plan = planned(&invites_client, FILE).await;
        emu.inject(
            Fault::status(400)
                .on_operation(Operation::CreateInvites)
                .always(),
        );
        emu.clear_journal();
        let failed = apply(&invites_client, &plan, &ApplyOptions::new()).await;
        match failed {
            Err(Error::Apply { report, .. }) => assert!(report.steps_done < report.steps_planned),
            other => panic!("{other:?}"),
        }
        assert!(
            emu.journal_for(Operation::ListInvites).is_empty(),
            "not looked up"
        );
    }

    /// The groups named `name`, ids in the service's order.
    fn groups_named(emu: &EmulatorHandle, name: &str) -> Vec<String> {
        emu.state()
            .groups
            .into_iter()
            .filter(|g| g.name == name)
            .map(|g| g.id)
            .collect()
    }

    /// Applied `createInvites` carrying `email`.
    fn invites_of(emu: &EmulatorHandle, email: &str) -> usize {
        emu.journal_for(Operation::CreateInvites)
            .into_iter()
            .filter(|e| e.applied && e.body.as_deref().is_some_and(|b| b.contains(email)))
            .count()
    }

    #[tokio::test]
    async fn a_stale_plan_adopts_the_group_and_invites_another_run_made_first() {
        let emu = emulator().await;
        let client = client(&emu);
        let first = planned(&client, FILE).await;
        let second = planned(&client, FILE).await;
        apply(&client, &first, &ApplyOptions::new())
            .await
            .expect("first");
        let report = apply(&client, &second, &ApplyOptions::new())
            .await
            .expect("the second converges instead of failing on the 409s");
        let fresh = groups_named(&emu, "Fresh");
        assert_eq!(fresh.len(), 1);
        assert_eq!(report.adopted_groups.get("Fresh"), Some(&fresh[0]));
        assert!(report.created_groups.is_empty() && report.merged_groups.is_empty());
        assert_eq!(emu.applied_count(Operation::CreateUserGroup), 1);
        assert_eq!(invites_of(&emu, "new@x.io"), 1, "invited once");
        assert_eq!(emu.journal_for(Operation::CreateInvites).len(), 2);
        // b@x.io left Old in the first run: the second's removal, refused 404, is done.
        let removals = emu.journal_for(Operation::RemoveUsersFromUserGroup);
        assert_eq!(
            removals.iter().map(|e| e.status).collect::<Vec<_>>(),
            [200, 404]
        );
        assert!(planned(&client, FILE).await.is_empty());
    }

    #[tokio::test]
    async fn an_invite_refused_for_one_taken_email_sends_the_others_once_more() {
        let emu = emulator().await;
        let client = client(&emu);
        let yaml = FILE.replace("  new@x.io:\n", "  new@x.io:\n  newer@x.io:\n");
        let plan = planned(&client, &yaml).await;
        // Another run invited new@x.io only, meanwhile.
        client
            .invites()
            .create([Invite::new("new@x.io")])
            .await
            .expect("invited");
        emu.clear_journal();
        apply(&client, &plan, &ApplyOptions::new())
            .await
            .expect("applied");
        let sent = emu.journal_for(Operation::CreateInvites);
        assert_eq!(sent.len(), 2, "refused once, then the rest");
        assert!(!sent[0].applied && sent[1].applied);
        assert_eq!(invites_of(&emu, "newer@x.io"), 1);
        assert_eq!(invites_of(&emu, "new@x.io"), 0, "not sent again");
        assert!(planned(&client, &yaml).await.is_empty());
    }

    #[tokio::test]
    async fn an_invite_refused_with_nobody_invited_meanwhile_fails() {
        let emu = emulator().await;
        let client = client(&emu);
        let plan = planned(&client, FILE).await;
        // A 409 the service words as "already invited" while the read finds nobody invited:
        // not another run's doing, so not sent again.
        emu.inject(
            Fault::respond(
                409,
                "application/json",
                r#"{"errors":[{"type":"conflict","message":"`new@x.io` is already invited"}]}"#,
            )
            .on_operation(Operation::CreateInvites)
            .always(),
        );
        let failed = apply(&client, &plan, &ApplyOptions::new()).await;
        assert!(matches!(failed, Err(Error::Apply { .. })), "{failed:?}");
        assert_eq!(emu.journal_for(Operation::CreateInvites).len(), 1);
    }

    #[tokio::test]
    async fn a_duplicate_created_meanwhile_is_deleted_and_the_survivor_used() {
        let emu = emulator_allowing_duplicates(true).await;
        let client = client(&emu);
        let first = planned(&client, FILE).await;
        let second = planned(&client, FILE).await;
        let kept = apply(&client, &first, &ApplyOptions::new())
            .await
            .expect("first");
        let report = apply(&client, &second, &ApplyOptions::new())
            .await
            .expect("second");
        let fresh = groups_named(&emu, "Fresh");
        assert_eq!(fresh.len(), 1, "the duplicate is gone");
        assert_eq!(kept.created_groups.get("Fresh"), Some(&fresh[0]));
        assert_eq!(emu.applied_count(Operation::CreateUserGroup), 2);
        assert_eq!(emu.applied_count(Operation::DeleteUserGroup), 1);
        let [merged] = report.merged_groups.as_slice() else {
            panic!("{:?}", report.merged_groups);
        };
        assert_eq!(merged.survivor, fresh[0]);
        assert_ne!(merged.deleted, fresh[0]);
        assert!(
            merged.members_moved.is_empty(),
            "merged before anything was added"
        );
        assert_eq!(report.adopted_groups.get("Fresh"), Some(&fresh[0]));
        assert!(report.created_groups.is_empty());
        assert!(planned(&client, FILE).await.is_empty());
    }

    #[tokio::test]
    async fn a_duplicate_found_late_moves_only_what_this_run_added_onto_the_survivor() {
        let emu = emulator_allowing_duplicates(true).await;
        let client = client(&emu);
        let groups = client.groups();
        let older = groups.create("Fresh").await.expect("older").id;
        let role = Live::read(&client, &ReadOptions::new())
            .await
            .expect("read")
            .roles
            .roles()
            .iter()
            .find(|r| r.name == "Source Read-only")
            .expect("a role")
            .id
            .clone();
        let both = Grant::new(&role, "SOURCE", "s1");
        let mine = Grant::new(&role, "SOURCE", "s2");
        groups
            .add_permissions(&older, permissions(std::slice::from_ref(&both)))
            .await
            .expect("the survivor's own grant");
        // This run's group, made after, with what this run added (and c@x.io, added by
        // someone else, which does not move).
        let own = groups.create("Fresh").await.expect("own").id;
        groups
            .add_members(&own, ["b@x.io", "c@x.io"])
            .await
            .expect("members");
        let run = Run {
            client: client.clone(),
            groups: Mutex::new(HashMap::new()),
            races: Mutex::new(Races::default()),
            failed: AtomicBool::new(false),
            progress: Progress::new(),
        };
        {
            let mut races = locked(&run.races);
            races.created.insert("Fresh".into(), own.clone());
            races.added.insert(
                "Fresh".into(),
                (
                    BTreeSet::from(["b@x.io".to_string()]),
                    BTreeSet::from([both.clone(), mine.clone()]),
                ),
            );
        }
        emu.clear_journal();
        run.settle_duplicates().await.expect("settled");
        assert_eq!(groups_named(&emu, "Fresh"), std::slice::from_ref(&older));
        let survivor = emu.group(&older).expect("kept");
        assert_eq!(survivor.users.len(), 1, "b@x.io only: {:?}", survivor.users);
        assert_eq!(survivor.permissions.len(), 2, "the missing grant only");
        let got = Grant::of_permissions(&groups.get(&older).await.expect("get").permissions);
        assert_eq!(
            got,
            BTreeSet::from([both, mine.clone()]),
            "no duplicate policy"
        );
        let races = locked(&run.races);
        let [merged] = races.merged.as_slice() else {
            panic!("{:?}", races.merged);
        };
        assert_eq!(merged.members_moved, ["b@x.io"]);
        assert_eq!(merged.grants_moved, [mine]);
        assert_eq!(
            (merged.deleted.as_str(), merged.survivor.as_str()),
            (own.as_str(), older.as_str())
        );
        assert_eq!(locked(&run.groups).get("Fresh"), Some(&older));
        assert!(races.created.is_empty());
    }

    #[test]
    fn the_survivor_is_the_first_of_its_name_in_the_listing() {
        let group = |id: &str, name: &str| UserGroupV1 {
            id: id.into(),
            name: name.into(),
            member_count: 0,
            permissions: vec![],
        };
        let listing = [
            group("g9", "Other"),
            group("g5", "Team"),
            group("g1", "Team"),
            group("g7", "team"),
        ];
        assert_eq!(
            survivor(&listing, "Team").map(|g| g.id.as_str()),
            Some("g5")
        );
        // Later duplicates are listed after it: the same survivor whenever a run looks.
        assert_eq!(
            survivor(&listing[..2], "Team").map(|g| g.id.as_str()),
            Some("g5")
        );
        assert_eq!(
            survivor(&listing, "team").map(|g| g.id.as_str()),
            Some("g7")
        );
        assert!(survivor(&listing, "None").is_none());
    }

    /// `apply`'s future can be spawned.
    #[allow(dead_code)]
    fn apply_is_send(client: Client, plan: Plan, options: ApplyOptions) {
        fn send<T: Send + 'static>(_: T) {}
        send(async move { apply(&client, &plan, &options).await });
    }

    #[test]
    fn the_defaults_are_the_shared_cap_and_one_step_at_a_time() {
        let options = ApplyOptions::new();
        assert_eq!(options.removal_cap, RemovalCap::default());
        assert!(!options.verify_fresh);
        assert_eq!(options.run().concurrency(), DEFAULT_CONCURRENCY);
        let set = options
            .concurrency(3)
            .verify_fresh(true)
            .removal_cap(RemovalCap::off());
        assert_eq!(set.run().concurrency(), 3);
        assert!(set.verify_fresh);
        assert_eq!(set.removal_cap, RemovalCap::off());
    }

    #[test]
    fn grants_become_one_permission_per_role() {
        let grant = |role: &str, kind: &str, id: &str| Grant::new(role, kind, id);
        let sent = permissions(&[
            grant("r1", "SOURCE", "a"),
            grant("r2", "WORKSPACE", "w"),
            grant("r1", "SOURCE", "b"),
        ]);
        assert_eq!(sent.len(), 2);
        assert_eq!(sent[0].role_id(), "r1");
        assert_eq!(sent[0].resources().count(), 2);
        assert_eq!(sent[1].role_id(), "r2");
    }
}
