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

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use futures::future::{BoxFuture, FutureExt};
use futures::{StreamExt, TryStreamExt, stream};
use segment_iam::email::key as email_key;
use segment_iam::guard::RemovalCap;
use segment_iam::jobs::read::ReadOptions;
use segment_iam::jobs::{JobOptions, Progress, RunOptions};
use segment_iam::{Client, Invite, Outcome, Permission};

use crate::error::{Error, Result};
use crate::grant::Grant;
use crate::live::Live;
use crate::plan::{Action, GroupRef, Plan, Step, Subject};
use crate::report::ApplyReport;

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
        if failure.is_some() {
            break;
        }
    }
    let after = client.metrics();
    report.requests = after.requests.saturating_sub(before.requests);
    report.retries = after.retries.saturating_sub(before.retries);
    report.rate_limited = after.rate_limited.saturating_sub(before.rate_limited);
    report.waited = after.waited.saturating_sub(before.waited);
    report.created_groups = run
        .groups
        .lock()
        .map(|g| g.clone().into_iter().collect())
        .unwrap_or_default();
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
    /// Ids of the groups created so far, by name.
    groups: Mutex<HashMap<String, String>>,
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
                let id = match client.groups().create(name).await {
                    Ok(group) => group.id,
                    Err(error) => self.created_after_all(name, error).await?,
                };
                if let Ok(mut groups) = self.groups.lock() {
                    groups.insert(name.clone(), id);
                }
            }
            Action::Invite { invites } => {
                let sent = invites.iter().map(|i| {
                    permissions(&i.grants)
                        .into_iter()
                        .fold(Invite::new(&i.email), Invite::permission)
                });
                if let Err(error) = client.invites().create(sent).await {
                    self.invited_after_all(invites.iter().map(|i| i.email.as_str()), error)
                        .await?;
                }
            }
            Action::AddMembers { group, emails } => {
                client
                    .groups()
                    .add_members(self.group_id(group)?, emails.iter().cloned())
                    .await?;
            }
            Action::ReplaceMembers { group, emails, .. } => {
                client
                    .groups()
                    .replace_members(self.group_id(group)?, emails.iter().cloned())
                    .await?;
            }
            Action::RemoveMembers { group, emails } => {
                client
                    .groups()
                    .remove_members(self.group_id(group)?, emails.iter().cloned())
                    .await?;
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
                client
                    .users()
                    .delete(users.iter().map(|u| u.id.clone()))
                    .await?;
            }
            Action::DeleteInvites { emails } => {
                client.invites().delete(emails.iter().cloned()).await?;
            }
            Action::DeleteGroup { group } => {
                client.groups().delete(self.group_id(group)?).await?;
            }
        }
        Ok(())
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
    /// every email invited; otherwise the failure.
    async fn invited_after_all(
        &self,
        emails: impl Iterator<Item = &str>,
        error: segment_iam::Error,
    ) -> segment_iam::Result<()> {
        if error.outcome() == Outcome::NotApplied {
            return Err(error);
        }
        let pending: std::collections::HashSet<String> = self
            .client
            .invites()
            .list()
            .page_size(segment_iam::MAX_PAGE_SIZE)
            .items()
            .map_ok(|e| email_key(&e))
            .try_collect()
            .await?;
        if emails.into_iter().all(|e| pending.contains(&email_key(e))) {
            Ok(())
        } else {
            Err(error)
        }
    }
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
