//! Drift, explained: for each drifted item of a [`Plan`], the latest matching event of the
//! workspace's audit trail (`listAuditEvents`): who made the change the file does not hold,
//! and when. `segment-iam plan --explain` shows them under the steps.
//!
//! # Which events explain what
//!
//! | the plan's step | the drift | events looked for | on |
//! | --- | --- | --- | --- |
//! | remove members (or a replace that removes) | members the file does not list | Subjects Added to Group, User Added To User Group | the group's id |
//! | add members (or a replace that adds) | members the file lists, missing | User Removed From User Group, Group Memberships Deleted | the group's id |
//! | replace permissions that removes grants | grants the file does not declare | Policy Created, User Policy Updated (a user) / User Group Policy Updated (a group) | the user's or group's id |
//! | add permissions, or a replace that adds | declared grants, missing | Policy Deleted, User Policy Updated / User Group Policy Updated | the user's or group's id |
//! | create group | a listed group, missing | User Group Deleted, by the group's name | the whole trail |
//! | delete group (`prune.groups`) | a group the file does not list | User Group Created, User Group Updated (a rename) | the group's id |
//!
//! Invites, deleted users and invites, labels and steps on a group the plan creates are not
//! explained (the last follow from the creation).
//!
//! **What an event says.** An audit event names its resource (a group, a user), not which
//! member or which grant changed: an explanation is *the latest change of this kind on this
//! resource*, which is the drift's cause when the drift is its only change since, and says so.
//! No event (the trail keeps 90 days; a new entry in the file has none) is said too.
//!
//! **Reads.** One listing per distinct resource, filtered by its id (the id alone: the
//! service's `resourceType` spellings are not documented, and an id is unique), plus one
//! unfiltered listing when a listed group is missing. Each reads newest first and stops at
//! the page where every kind it looks for is found, or at the end, or after
//! [`ExplainOptions::max_pages`] pages (then the explanation says the cap was hit). Listings
//! run concurrently, [`JobOptions::concurrency`] at a time. Each page is one request, counted
//! in [`Explanations::requests`]; an empty plan reads nothing.

use std::collections::BTreeMap;
use std::fmt;

use futures::{StreamExt, TryStreamExt, stream};
use segment_iam::jobs::{JobOptions, RunOptions};
use segment_iam::{AuditEvent, Client, MAX_PAGE_SIZE};
use serde::Serialize;

use crate::error::Result;
use crate::plan::{Action, GroupRef, Plan, Subject};

/// Pages read at most per resource by default.
pub const DEFAULT_MAX_PAGES: u32 = 5;

/// How [`explain`] reads: pages per resource at most, page size, listings at once
/// ([`JobOptions::concurrency`]) and the progress counter (resources read of resources).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ExplainOptions {
    /// Pages read at most per resource ([`DEFAULT_MAX_PAGES`]); at least 1.
    pub max_pages: u32,
    /// Events per page (default [`MAX_PAGE_SIZE`]: the fewest requests).
    pub page_size: u32,
    run: RunOptions,
}

impl Default for ExplainOptions {
    fn default() -> Self {
        ExplainOptions {
            max_pages: DEFAULT_MAX_PAGES,
            page_size: MAX_PAGE_SIZE,
            run: RunOptions::default(),
        }
    }
}

impl JobOptions for ExplainOptions {
    fn run(&self) -> &RunOptions {
        &self.run
    }

    fn run_mut(&mut self) -> &mut RunOptions {
        &mut self.run
    }
}

impl ExplainOptions {
    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Pages read at most per resource (at least 1).
    pub fn max_pages(mut self, pages: u32) -> Self {
        self.max_pages = pages.max(1);
        self
    }

    /// Events per page (1..=1000; another is refused by the first read, before it is sent).
    pub fn page_size(mut self, size: u32) -> Self {
        self.page_size = size;
        self
    }
}

/// What kind of drift an event is looked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Drift {
    /// The group has members the file does not list.
    MembersAdded,
    /// Members the file lists are missing from the group.
    MembersRemoved,
    /// The user or group holds grants the file does not declare.
    GrantsAdded,
    /// Grants the file declares are missing.
    GrantsRemoved,
    /// A group the file lists is missing (looked up by name).
    GroupDeleted,
    /// A group the file does not list exists (`prune.groups`).
    GroupCreated,
}

impl Drift {
    /// The event types that explain it; `on_group`: the resource is a group (not a user).
    pub fn event_types(self, on_group: bool) -> &'static [&'static str] {
        match (self, on_group) {
            (Drift::MembersAdded, _) => &["Subjects Added to Group", "User Added To User Group"],
            (Drift::MembersRemoved, _) => {
                &["User Removed From User Group", "Group Memberships Deleted"]
            }
            (Drift::GrantsAdded, false) => &["Policy Created", "User Policy Updated"],
            (Drift::GrantsAdded, true) => &["Policy Created", "User Group Policy Updated"],
            (Drift::GrantsRemoved, false) => &["Policy Deleted", "User Policy Updated"],
            (Drift::GrantsRemoved, true) => &["Policy Deleted", "User Group Policy Updated"],
            (Drift::GroupDeleted, _) => &["User Group Deleted"],
            (Drift::GroupCreated, _) => &["User Group Created", "User Group Updated"],
        }
    }
}

/// One drifted item and the event that explains it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Finding {
    /// The drift.
    pub drift: Drift,
    /// Whom it is about, as the plan shows it: `group "Analysts"`, `user ana@example.com`.
    pub subject: String,
    /// The group's name or the user's email.
    pub resource_name: String,
    /// The resource's id the events were read for; `None`: the whole trail, by name.
    pub resource_id: Option<String>,
    /// The event types looked for.
    pub event_types: Vec<String>,
    /// The latest matching event; `None` when the pages read hold none.
    pub event: Option<AuditEvent>,
    /// No event was found within [`ExplainOptions::max_pages`] pages, and more were left.
    pub capped: bool,
}

/// The findings of one step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct StepExplanation {
    /// The step's index in [`Plan::steps`].
    pub step: usize,
    /// Its drifted items.
    pub findings: Vec<Finding>,
}

/// What [`explain`] found, step by step, and what it cost.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[non_exhaustive]
pub struct Explanations {
    /// The explained steps, in the plan's order (steps not explained are absent).
    pub steps: Vec<StepExplanation>,
    /// `listAuditEvents` requests sent (one per page read; retries aside).
    pub requests: u64,
}

impl Explanations {
    /// The findings of the step at `index` in [`Plan::steps`].
    pub fn for_step(&self, index: usize) -> &[Finding] {
        self.steps
            .iter()
            .find(|s| s.step == index)
            .map_or(&[], |s| &s.findings)
    }
}

/// A finding's place: (index in [`Explanations::steps`], index in its findings).
type Slot = (usize, usize);

/// Explains each drifted item of `plan` with the latest matching audit event (see the
/// module's table). An empty plan sends nothing. A workspace without the audit trail is
/// [`segment_iam::Error::AuditTrailUnavailable`] (as [`crate::Error::Api`]), for the caller
/// to show the plan unexplained.
pub async fn explain(
    client: &Client,
    plan: &Plan,
    options: &ExplainOptions,
) -> Result<Explanations> {
    let mut steps = Vec::new();
    // Per resource (`None`: the whole trail), the (step, finding) slots it answers.
    let mut reads: BTreeMap<Option<String>, Vec<Slot>> = BTreeMap::new();
    for (index, step) in plan.steps.iter().enumerate() {
        let findings = findings(&step.action);
        if findings.is_empty() {
            continue;
        }
        for (n, f) in findings.iter().enumerate() {
            reads
                .entry(f.resource_id.clone())
                .or_default()
                .push((steps.len(), n));
        }
        steps.push(StepExplanation {
            step: index,
            findings,
        });
    }
    if reads.is_empty() {
        return Ok(Explanations::default());
    }
    let progress = options.run().progress().clone();
    progress.add_total(reads.len() as u64);
    let wanted = |slots: &[Slot]| -> Vec<Wanted> {
        slots
            .iter()
            .map(|&(s, n)| {
                let f = &steps[s].findings[n];
                Wanted {
                    types: f.event_types.clone(),
                    name: f.resource_id.is_none().then(|| f.resource_name.clone()),
                }
            })
            .collect()
    };
    let jobs: Vec<_> = reads
        .into_iter()
        .map(|(id, slots)| {
            let w = wanted(&slots);
            (id, slots, w)
        })
        .collect();
    let results: Vec<(Vec<Slot>, Read)> = stream::iter(jobs)
        .map(|(id, slots, wanted)| {
            let progress = progress.clone();
            async move {
                let read = read(client, id, wanted, options).await?;
                progress.advance(1);
                Ok::<_, segment_iam::Error>((slots, read))
            }
        })
        .buffer_unordered(options.run().concurrency())
        .try_collect()
        .await?;
    let mut requests = 0;
    for (slots, read) in results {
        requests += read.pages;
        for ((s, n), found) in slots.into_iter().zip(read.found) {
            let finding = &mut steps[s].findings[n];
            finding.capped = found.is_none() && read.capped;
            finding.event = found;
        }
    }
    Ok(Explanations { steps, requests })
}

/// The drifted items of one step, unread.
fn findings(action: &Action) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut push = |drift: Drift, (subject, name): (String, &str), id: Option<&str>, on_group| {
        out.push(Finding {
            drift,
            subject,
            resource_name: name.to_string(),
            resource_id: id.map(str::to_string),
            event_types: drift
                .event_types(on_group)
                .iter()
                .map(|t| t.to_string())
                .collect(),
            event: None,
            capped: false,
        });
    };
    match action {
        Action::CreateGroup { name } => push(
            Drift::GroupDeleted,
            (format!("group {name:?}"), name.as_str()),
            None,
            true,
        ),
        Action::DeleteGroup { group: g } => {
            if let Some(id) = g.id.as_deref() {
                push(Drift::GroupCreated, group(g), Some(id), true);
            }
        }
        Action::AddMembers { group: g, .. } => {
            if let Some(id) = g.id.as_deref() {
                push(Drift::MembersRemoved, group(g), Some(id), true);
            }
        }
        Action::RemoveMembers { group: g, .. } => {
            if let Some(id) = g.id.as_deref() {
                push(Drift::MembersAdded, group(g), Some(id), true);
            }
        }
        Action::ReplaceMembers {
            group: g,
            added,
            removed,
            ..
        } => {
            if let Some(id) = g.id.as_deref() {
                if !removed.is_empty() {
                    push(Drift::MembersAdded, group(g), Some(id), true);
                }
                if !added.is_empty() {
                    push(Drift::MembersRemoved, group(g), Some(id), true);
                }
            }
        }
        Action::AddPermissions { subject, .. } => {
            if let Some((who, id, on_group)) = whose(subject) {
                push(Drift::GrantsRemoved, who, Some(id), on_group);
            }
        }
        Action::ReplacePermissions {
            subject,
            added,
            removed,
            ..
        } => {
            if let Some((who, id, on_group)) = whose(subject) {
                if !removed.is_empty() {
                    push(Drift::GrantsAdded, who.clone(), Some(id), on_group);
                }
                if !added.is_empty() {
                    push(Drift::GrantsRemoved, who, Some(id), on_group);
                }
            }
        }
        _ => {}
    }
    out
}

/// How a step names a group, and its name.
fn group(g: &GroupRef) -> (String, &str) {
    (format!("group {:?}", g.name), g.name.as_str())
}

/// Whose grants a step changes (named, and their name), the resource id, whether a group;
/// `None` for a group the plan creates.
fn whose(s: &Subject) -> Option<((String, &str), &str, bool)> {
    match s {
        Subject::User { id, email } => Some((
            (format!("user {email}"), email.as_str()),
            id.as_str(),
            false,
        )),
        Subject::Group { group: g } => g.id.as_deref().map(|id| (group(g), id, true)),
    }
}

/// An event looked for in one listing.
struct Wanted {
    types: Vec<String>,
    /// For the whole-trail listing: the group's name (compared case-insensitively).
    name: Option<String>,
}

impl Wanted {
    fn matches(&self, e: &AuditEvent) -> bool {
        self.types
            .iter()
            .any(|t| t.eq_ignore_ascii_case(&e.event_type))
            && self
                .name
                .as_deref()
                .is_none_or(|n| n.to_lowercase() == e.resource_name.to_lowercase())
    }
}

/// One listing's outcome.
struct Read {
    /// Per wanted event, the latest match.
    found: Vec<Option<AuditEvent>>,
    /// Pages read: requests sent.
    pages: u64,
    /// Stopped at the page cap with more pages left.
    capped: bool,
}

/// Reads one resource's events (`id`; `None`: the whole trail) newest first, a page at a
/// time, until every wanted event is found, the list ends, or the page cap.
async fn read(
    client: &Client,
    id: Option<String>,
    wanted: Vec<Wanted>,
    options: &ExplainOptions,
) -> segment_iam::Result<Read> {
    let mut events = client.audit_events();
    if let Some(id) = id {
        events = events.resource_id(id);
    }
    let mut found: Vec<Option<AuditEvent>> = vec![None; wanted.len()];
    let mut cursor = None;
    let mut pages = 0;
    loop {
        if pages >= u64::from(options.max_pages) {
            return Ok(Read {
                found,
                pages,
                capped: true,
            });
        }
        let page = events.page(options.page_size, cursor.take()).await?;
        pages += 1;
        for e in &page.items {
            for (w, slot) in wanted.iter().zip(found.iter_mut()) {
                if slot.is_none() && w.matches(e) {
                    *slot = Some(e.clone());
                }
            }
        }
        match page.next {
            Some(next) if found.iter().any(Option::is_none) => cursor = Some(next),
            _ => {
                return Ok(Read {
                    found,
                    pages,
                    capped: false,
                });
            }
        }
    }
}

/// When an event happened, to the minute: `2026-12-01 10:32 UTC`; the service's text when it
/// is no RFC 3339 instant.
pub fn when(e: &AuditEvent) -> String {
    match e.at {
        Some(at) => {
            let t = segment_iam::time::format_rfc3339(at);
            format!("{} {} UTC", &t[..10], &t[11..16])
        }
        None => e.timestamp.clone(),
    }
}

/// Who made it: the actor's email when the service gives one, else the actor.
pub fn who(e: &AuditEvent) -> &str {
    e.actor_email
        .as_deref()
        .filter(|a| !a.is_empty())
        .unwrap_or(&e.actor)
}

/// One line: `added to group "Analysts" by bo@example.com on 2026-12-05 07:50 UTC (...)`.
impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.subject;
        let Some(e) = &self.event else {
            let types = self.event_types.join(" / ");
            let read = if self.capped {
                "in the pages read (the page cap; older events were not read)"
            } else {
                "in the audit trail"
            };
            return write!(
                f,
                "no {types} event on {s} {read}: the file changed, or the change is older than the trail keeps"
            );
        };
        let what = match self.drift {
            Drift::MembersAdded => format!("members added to {s}"),
            Drift::MembersRemoved => format!("members removed from {s}"),
            Drift::GrantsAdded => format!("permissions granted to {s}"),
            Drift::GrantsRemoved => format!("permissions taken from {s}"),
            Drift::GroupDeleted => format!("{s} deleted"),
            Drift::GroupCreated if e.event_type.eq_ignore_ascii_case("User Group Updated") => {
                format!("{s} renamed or changed")
            }
            Drift::GroupCreated => format!("{s} created"),
        };
        write!(f, "{what} by {} on {}", who(e), when(e))?;
        match self.drift {
            Drift::MembersAdded | Drift::MembersRemoved => write!(
                f,
                " ({}: the latest such change on it; the event does not name the member)",
                e.event_type
            ),
            Drift::GrantsAdded | Drift::GrantsRemoved => write!(
                f,
                " ({}: the latest such change on it; the event does not name the permission)",
                e.event_type
            ),
            Drift::GroupDeleted | Drift::GroupCreated => write!(f, " ({})", e.event_type),
        }
    }
}

/// A plan with its explanations under the steps, then the notes, totals and reads.
#[derive(Debug, Clone, Copy)]
pub struct Explained<'a> {
    /// The plan.
    pub plan: &'a Plan,
    /// What [`explain`] found for it.
    pub explanations: &'a Explanations,
}

impl fmt::Display for Explained<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, step) in self.plan.steps.iter().enumerate() {
            self.plan.write_step(f, step)?;
            for finding in self.explanations.for_step(index) {
                writeln!(f, "    why: {finding}")?;
            }
        }
        self.plan.write_tail(f)?;
        if !self.plan.is_empty() {
            let n = self.explanations.requests;
            writeln!(
                f,
                "Explained from the audit trail: read {n} request{}.",
                if n == 1 { "" } else { "s" }
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grant::Grant;

    fn g(id: Option<&str>) -> GroupRef {
        GroupRef {
            name: "An \"A\"".into(),
            id: id.map(str::to_string),
        }
    }

    fn user() -> Subject {
        Subject::User {
            id: "u1".into(),
            email: "a@x.io".into(),
        }
    }

    fn drifts(action: Action) -> Vec<(Drift, Option<String>, Vec<String>)> {
        findings(&action)
            .into_iter()
            .map(|f| (f.drift, f.resource_id, f.event_types))
            .collect()
    }

    fn types(t: &[&str]) -> Vec<String> {
        t.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn each_step_looks_for_its_events_on_its_resource() {
        let grants = vec![Grant::new("r", "WORKSPACE", "ws1")];
        let some = Some("g1".to_string());
        let added = types(&["Subjects Added to Group", "User Added To User Group"]);
        let removed = types(&["User Removed From User Group", "Group Memberships Deleted"]);
        assert_eq!(
            drifts(Action::CreateGroup { name: "N".into() }),
            [(Drift::GroupDeleted, None, types(&["User Group Deleted"]))]
        );
        assert_eq!(
            drifts(Action::RemoveMembers {
                group: g(Some("g1")),
                emails: vec!["a@x.io".into()],
            }),
            [(Drift::MembersAdded, some.clone(), added.clone())]
        );
        assert_eq!(
            drifts(Action::ReplaceMembers {
                group: g(Some("g1")),
                emails: vec![],
                added: vec!["b@x.io".into()],
                removed: vec!["a@x.io".into()],
            }),
            [
                (Drift::MembersAdded, some.clone(), added),
                (Drift::MembersRemoved, some.clone(), removed.clone())
            ]
        );
        assert_eq!(
            drifts(Action::AddMembers {
                group: g(Some("g1")),
                emails: vec!["a@x.io".into()],
            }),
            [(Drift::MembersRemoved, some.clone(), removed)]
        );
        assert_eq!(
            drifts(Action::ReplacePermissions {
                subject: user(),
                grants: vec![],
                added: vec![],
                removed: grants.clone(),
            }),
            [(
                Drift::GrantsAdded,
                Some("u1".into()),
                types(&["Policy Created", "User Policy Updated"])
            )]
        );
        assert_eq!(
            drifts(Action::AddPermissions {
                subject: Subject::Group {
                    group: g(Some("g1"))
                },
                grants: grants.clone(),
            }),
            [(
                Drift::GrantsRemoved,
                some.clone(),
                types(&["Policy Deleted", "User Group Policy Updated"])
            )]
        );
        assert_eq!(
            drifts(Action::DeleteGroup {
                group: g(Some("g1"))
            }),
            [(
                Drift::GroupCreated,
                some,
                types(&["User Group Created", "User Group Updated"])
            )]
        );
        // A group the plan creates: its members and grants follow from the creation.
        assert!(
            drifts(Action::AddMembers {
                group: g(None),
                emails: vec!["a@x.io".into()],
            })
            .is_empty()
        );
        assert!(
            drifts(Action::AddPermissions {
                subject: Subject::Group { group: g(None) },
                grants,
            })
            .is_empty()
        );
        assert!(drifts(Action::Invite { invites: vec![] }).is_empty());
    }

    #[test]
    fn a_group_missing_by_name_matches_its_deletion_by_name_in_any_case() {
        let f = &findings(&Action::CreateGroup {
            name: "An \"A\"".into(),
        })[0];
        assert_eq!(f.resource_name, "An \"A\"");
        assert_eq!(f.subject, "group \"An \\\"A\\\"\"");
        let wanted = Wanted {
            types: f.event_types.clone(),
            name: Some(f.resource_name.clone()),
        };
        let event = |event_type: &str, name: &str| {
            let mut e: AuditEvent =
                serde_json::from_value::<segment_iam::types::AuditEventV1>(serde_json::json!({
                    "id": "e1", "timestamp": "2026-12-01T10:32:59.999Z", "type": event_type,
                    "actor": "t", "resourceId": "g9", "resourceType": "USER_GROUP",
                    "resourceName": name
                }))
                .map(AuditEvent::from)
                .expect("an event");
            e.actor_email = Some("bo@x.io".into());
            e
        };
        assert!(wanted.matches(&event("user group deleted", "an \"a\"")));
        assert!(!wanted.matches(&event("User Group Deleted", "Other")));
        assert!(!wanted.matches(&event("User Group Created", "An \"A\"")));
        let e = event("User Group Deleted", "An \"A\"");
        assert_eq!(when(&e), "2026-12-01 10:32 UTC");
        assert_eq!(who(&e), "bo@x.io");
    }
}
