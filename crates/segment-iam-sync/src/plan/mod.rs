//! From a file and the live workspace to the fewest requests that make them equal, in a safe
//! order, with the guards checked before anything is sent.
//!
//! [`plan()`] runs the phases in turn, each in its own file: the workspace guard, the people
//! (`people.rs`: direct permissions, invites, pruned users and invites), the groups
//! (`groups.rs`: created, changed or deleted, with each group's permissions by
//! `permissions.rs` and members by `members.rs`), the last-owner guard (`guards.rs`), then
//! the labels (`labels.rs`: created, or pruned once unused). The steps are then ordered by
//! [`Action::phase`], so creations and additions come before removals, label deletions last.

use segment_iam::Client;

use crate::error::{Error, Result};
use crate::file::AccessFile;
use crate::live::Live;

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
pub use types::{Action, GroupRef, NewInvite, PLAN_FORMAT, Plan, Step, Subject, UserRef};

/// Diffs `file` against `live` into a plan. Checks everything before returning: unknown roles,
/// unknown labels and members that are nobody (with their line), a `workspace` guard for
/// another workspace, two live groups sharing a listed name, and the last-owner guard. With
/// `prune.labels`, `live` must hold the sources' labels when a deletion is considered
/// ([`Live::read_for`]). A scoped `live` must have been read for this file (or a wider scope):
/// otherwise [`Error::Live`], since what it did not read would look absent. `client` only sizes
/// the removals under its URL limit (nothing is sent).
pub fn plan(file: &AccessFile, live: &Live, client: &Client) -> Result<Plan> {
    if let Some(scoped) = &live.scope
        && !scoped.scope.covers(file)
    {
        return Err(Error::Live(
            "the live workspace was read scoped to another file (or this file prunes): read it with `Live::read_for` for this file".into(),
        ));
    }
    guards::workspace(file, live)?;
    let ix = index::Index::new(file, live)?;
    let people = people::people(file, &ix, client)?;
    let groups = groups::groups(file, &ix, &people.pruned, client)?;
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
