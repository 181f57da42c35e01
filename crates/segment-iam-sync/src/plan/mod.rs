//! From a file and the live workspace to the fewest requests that make them equal, in a safe
//! order, with the guards checked before anything is sent.
//!
//! [`plan()`] runs the phases in turn, each in its own file: the workspace guard, the people
//! (`people.rs`: direct permissions, invites, pruned users and invites), the groups
//! (`groups.rs`: created, changed or deleted, with each group's permissions by
//! `permissions.rs` and members by `members.rs`), the last-owner guard (`guards.rs`), then
//! the labels (`labels.rs`: created, or pruned once unused). The steps are then ordered by
//! [`Action::phase`], so creations and additions come before removals, label deletions last.
//!
//! Before the phases, the file is taken as in force at [`PlanOptions::now`]
//! ([`AccessFile::at`]): expired entries count as absent, so every phase and guard works on
//! that effective file unchanged; `expiring.rs` then links each expired entry to the step
//! that removes it.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, SystemTime};

use segment_iam::Client;
use segment_iam::email::key as email_key;

use crate::error::{Error, Result};
use crate::file::AccessFile;
use crate::live::Live;

mod expiring;
#[cfg(test)]
pub(crate) mod fixtures;
mod groups;
mod guards;
mod index;
mod labels;
mod members;
mod people;
mod permissions;
mod render;
mod saved;
pub(crate) mod types;

pub use segment_iam::guard::OWNER_ROLE;
pub use types::{
    Action, Ending, Expiry, GroupRef, NewInvite, PLAN_FORMAT, Plan, Step, Subject, UserRef,
};

/// The default of [`PlanOptions::warn_expiring`]: a week.
pub const DEFAULT_WARN_EXPIRING: Duration = Duration::from_secs(7 * 86_400);

/// When a plan is made: the instant expiries are judged at, and how far ahead an expiry is
/// warned about. The clock is the caller's, so tests set it instead of waiting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct PlanOptions {
    /// The instant the file is taken at: entries expired by then count as absent.
    pub now: SystemTime,
    /// Entries ending within this after `now` are listed in [`Plan::expiring`] (and kept).
    pub warn_expiring: Duration,
}

impl PlanOptions {
    /// Planning at `now`, warning [`DEFAULT_WARN_EXPIRING`] ahead.
    pub fn at(now: SystemTime) -> Self {
        PlanOptions {
            now,
            warn_expiring: DEFAULT_WARN_EXPIRING,
        }
    }

    /// Warns about entries ending within `window` (zero: no warnings).
    pub fn warn_expiring(mut self, window: Duration) -> Self {
        self.warn_expiring = window;
        self
    }
}

/// [`plan_with`] at the system clock's now, warning a week ahead.
pub fn plan(file: &AccessFile, live: &Live, client: &Client) -> Result<Plan> {
    plan_with(file, live, client, &PlanOptions::at(SystemTime::now()))
}

/// Diffs `file`, as in force at `options.now`, against `live` into a plan. Checks everything
/// before returning: malformed expiries, unknown roles, unknown labels and members that are
/// nobody (with their line), a `workspace` guard for another workspace, two live groups
/// sharing a listed name, and the last-owner guard. Expired entries count as absent (an
/// expired member leaves even an `additive` group, and is not pruned from the workspace for
/// it) and are listed in [`Plan::expired`] with the step that removes them. With
/// `prune.labels`, `live` must hold the sources' labels when a deletion is considered
/// ([`Live::read_for`], given the file as written). A scoped `live` must have been read for
/// this file (or a wider scope): otherwise [`Error::Live`], since what it did not read would
/// look absent. `client` only sizes the removals under its URL limit (nothing is sent).
pub fn plan_with(
    file: &AccessFile,
    live: &Live,
    client: &Client,
    options: &PlanOptions,
) -> Result<Plan> {
    if let Some(scoped) = &live.scope
        && !scoped.scope.covers(file)
    {
        return Err(Error::Live(
            "the live workspace was read scoped to another file (or this file prunes): read it with `Live::read_for` for this file".into(),
        ));
    }
    let dated = file.at(options.now, options.warn_expiring)?;
    let file = &dated.file;
    guards::workspace(file, live)?;
    let mut ix = index::Index::new(file, live)?;
    // Memberships that ended, by group name: they leave even an additive group.
    let mut ended: HashMap<String, HashSet<String>> = HashMap::new();
    for expiry in &dated.expired {
        if let Ending::Member { group, email } = &expiry.entry {
            ended
                .entry(group.clone())
                .or_default()
                .insert(email_key(email));
            // A membership ending is not the person leaving: `prune.users` keeps them.
            ix.listed.insert(email_key(email));
        }
    }
    let people = people::people(file, &ix, client)?;
    let groups = groups::groups(file, &ix, &people.pruned, &ended, client)?;
    let after = guards::After {
        user_grants: &people.grants_after,
        groups: &groups.after,
        pruned: &people.pruned,
    };
    guards::last_owner(&ix, &after)?;
    let mut steps = people.steps;
    steps.extend(groups.steps);
    let labels = labels::labels(file, &ix, &after, &steps)?;
    steps.extend(labels.steps);
    let mut notes = people.notes;
    notes.extend(labels.notes);
    // Stable: within a phase, steps keep the order the phases found them in.
    steps.sort_by_key(|s| s.action.phase());
    let expired = expiring::link(dated.expired, &steps, &ix);
    Ok(Plan {
        format: PLAN_FORMAT,
        workspace_id: live.workspace_id.clone(),
        live_fingerprint: live.fingerprint(),
        roles: live
            .roles
            .roles()
            .iter()
            .map(|r| (r.id.clone(), r.name.clone()))
            .collect(),
        steps,
        notes,
        reads: live.reads,
        scope: live.scope.as_ref().map(|s| s.scope.clone()),
        expired,
        expiring: dated.expiring,
    })
}

#[cfg(test)]
mod tests {
    use super::fixtures::{OWNER, READER, client, file, group, live, on_workspace, user};
    use super::*;

    #[test]
    fn steps_are_ordered_additions_then_replacements_then_removals() {
        let w = live(
            vec![
                user("u1", "own@x.io", &[on_workspace(OWNER)]),
                user("u2", "bo@x.io", &[on_workspace(READER)]),
                user("u3", "gone@x.io", &[]),
            ],
            &[],
            vec![
                group("g1", "Old", &[], &[]),
                group("g2", "G", &["own@x.io", "gone@x.io"], &[]),
            ],
        );
        let yaml = "version: 1\nprune: { users: true, groups: true }\nusers:\n  own@x.io:\n    permissions:\n      - role: Workspace Owner\n        resources: [workspace]\n  bo@x.io:\n  new@x.io:\ngroups:\n  G:\n    members: [own@x.io, bo@x.io]\n  New:\n    members: [bo@x.io]\n";
        let plan = plan(&file(yaml), &w, &client()).expect("planned");
        let phases: Vec<u8> = plan.steps.iter().map(|s| s.action.phase()).collect();
        let mut sorted = phases.clone();
        sorted.sort();
        assert_eq!(phases, sorted);
        assert_eq!(phases, [0, 1, 2, 2, 3, 5, 6], "{plan}");
        assert_eq!(plan.requests(), 7);
        // bo's pair, gone@x.io, and group Old; gone is not removed from G first.
        assert_eq!(plan.removals(), 3, "{plan}");
        assert_eq!(plan.workspace_id, "ws1");
        assert_eq!(plan.live_fingerprint, w.fingerprint());
        assert_eq!(
            plan.roles.get(OWNER).map(String::as_str),
            Some("Workspace Owner")
        );
    }

    #[test]
    fn a_file_matching_the_workspace_plans_nothing() {
        let w = live(
            vec![user("u1", "own@x.io", &[on_workspace(OWNER)])],
            &["inv@x.io"],
            vec![group("g1", "G", &["own@x.io"], &[on_workspace(READER)])],
        );
        let yaml = "version: 1\nusers:\n  own@x.io:\n    permissions:\n      - role: Workspace Owner\n        resources: [workspace]\n  inv@x.io:\ngroups:\n  G:\n    members: [own@x.io]\n    permissions:\n      - role: Reader\n        resources: [workspace]\n";
        let plan = plan(&file(yaml), &w, &client()).expect("planned");
        assert!(plan.is_empty(), "{plan}");
        assert_eq!(plan.notes.len(), 1);
        assert_eq!(plan.format, PLAN_FORMAT);
    }
}
