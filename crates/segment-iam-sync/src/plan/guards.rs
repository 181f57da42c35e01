//! The plan's guards: a file for another workspace is refused before anything is planned, and
//! a plan after which nobody holds "Workspace Owner" on the workspace is refused by the
//! facade's last-owner rule ([`segment_iam::guard::last_owner`]), fed the owners now and after.

use std::collections::{BTreeSet, HashMap, HashSet};

use segment_iam::email::key as email_key;
use segment_iam::guard;

use crate::error::{Error, Result};
use crate::file::AccessFile;
use crate::grant::Grant;
use crate::live::Live;

use super::groups::GroupAfter;
use super::index::Index;

/// Refuses a file whose `workspace` is not the token's.
pub(super) fn workspace(file: &AccessFile, live: &Live) -> Result<()> {
    match &file.workspace {
        Some(id) if *id != live.workspace_id => Err(Error::Guard {
            reason: format!(
                "the file is for workspace {id}, the token for workspace {}",
                live.workspace_id
            ),
        }),
        _ => Ok(()),
    }
}

/// What the last-owner rule is checked on: the plan's outcome for every user and group.
pub(super) struct After<'a> {
    /// Every live user's direct pairs afterwards, by id.
    pub user_grants: &'a HashMap<String, BTreeSet<Grant>>,
    /// Every group that remains, with its pairs and members afterwards.
    pub groups: &'a [GroupAfter],
    /// Email keys of the people deleted or withdrawn.
    pub pruned: &'a HashSet<String>,
}

/// Refuses a plan after which no user holds [`OWNER_ROLE`] on the workspace, directly or
/// through a group, while one does now. Invitees do not count: they cannot act yet.
pub(super) fn last_owner(ix: &Index<'_>, after: &After<'_>) -> Result<()> {
    let ownership = guard::Ownership::from_roles(&ix.live.roles, ix.live.workspace_id.clone());
    let holds = |grants: &BTreeSet<Grant>| ownership.holds(grants);
    // A member key as the user's email, when the member is a user.
    let user = |key: &String| ix.users_by_key.get(key).map(|u| u.email.clone());
    let mut now: BTreeSet<String> = ix
        .live
        .users
        .iter()
        .filter(|u| holds(&u.grants))
        .map(|u| u.email.clone())
        .collect();
    for g in ix.live.groups.iter().filter(|g| holds(&g.grants)) {
        now.extend(g.members.iter().filter_map(|m| user(&email_key(m))));
    }
    let mut owners_after: BTreeSet<String> = ix
        .live
        .users
        .iter()
        .filter(|u| !after.pruned.contains(&email_key(&u.email)))
        .filter(|u| after.user_grants.get(&u.id).is_some_and(&holds))
        .map(|u| u.email.clone())
        .collect();
    for g in after.groups.iter().filter(|g| holds(&g.grants)) {
        let members = g.members.iter().filter(|m| !after.pruned.contains(*m));
        owners_after.extend(members.filter_map(user));
    }
    guard::last_owner(&now, &owners_after).map_err(Error::Refused)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::fixtures::{
        OWNER, READER, client, file, group, label, live, on_workspace, user,
    };
    use crate::plan::plan;
    use segment_iam::guard::Refusal;

    fn planned(yaml: &str, live: &Live) -> Result<crate::plan::Plan> {
        plan(&file(yaml), live, &client())
    }

    fn refused_owners(result: Result<crate::plan::Plan>) -> Vec<String> {
        match result {
            Err(Error::Refused(Refusal::LastOwner { owners })) => owners,
            other => panic!("{other:?}"),
        }
    }

    const OWNER_FILE: &str = "version: 1\nusers:\n  own@x.io:\n    permissions:\n      - role: Workspace Owner\n        resources: [workspace]\n";

    #[test]
    fn a_file_for_another_workspace_is_refused_and_its_own_is_not() {
        let w = live(vec![], &[], vec![]);
        assert!(matches!(
            workspace(&file("version: 1\nworkspace: other\n"), &w),
            Err(Error::Guard { reason }) if reason.contains("other") && reason.contains("ws1")
        ));
        assert!(workspace(&file("version: 1\nworkspace: ws1\n"), &w).is_ok());
        assert!(workspace(&file("version: 1\n"), &w).is_ok());
    }

    #[test]
    fn dropping_the_only_direct_owner_is_refused_naming_them() {
        let w = live(
            vec![user("u1", "Own@x.io", &[on_workspace(OWNER)])],
            &[],
            vec![],
        );
        let owners = refused_owners(planned("version: 1\nusers:\n  own@x.io:\n", &w));
        assert_eq!(owners, ["Own@x.io"]);
        assert!(planned(OWNER_FILE, &w).is_ok());
    }

    #[test]
    fn pruning_the_only_owner_is_refused() {
        let w = live(
            vec![
                user("u1", "own@x.io", &[on_workspace(OWNER)]),
                user("u2", "bo@x.io", &[]),
            ],
            &[],
            vec![],
        );
        refused_owners(planned(
            "version: 1\nprune: { users: true }\nusers:\n  bo@x.io:\n",
            &w,
        ));
    }

    #[test]
    fn the_last_owner_through_a_group_counts() {
        let w = live(
            vec![user("u1", "own@x.io", &[])],
            &[],
            vec![group("g1", "Admins", &["own@x.io"], &[on_workspace(OWNER)])],
        );
        let kept = "version: 1\ngroups:\n  Admins:\n    members: [own@x.io]\n    permissions:\n      - role: Workspace Owner\n        resources: [workspace]\n";
        assert!(planned(kept, &w).is_ok());
        let emptied = "version: 1\ngroups:\n  Admins:\n    permissions:\n      - role: Workspace Owner\n        resources: [workspace]\n";
        assert_eq!(refused_owners(planned(emptied, &w)), ["own@x.io"]);
        let stripped = "version: 1\ngroups:\n  Admins:\n    members: [own@x.io]\n";
        refused_owners(planned(stripped, &w));
        let deleted = "version: 1\nprune: { groups: true }\n";
        refused_owners(planned(deleted, &w));
        let pruned = "version: 1\nprune: { users: true }\ngroups:\n  Admins:\n    members: []\n    members_mode: additive\n    permissions:\n      - role: Workspace Owner\n        resources: [workspace]\n";
        refused_owners(planned(pruned, &w));
    }

    #[test]
    fn an_owner_moved_from_direct_to_a_group_is_allowed() {
        let w = live(
            vec![user("u1", "own@x.io", &[on_workspace(OWNER)])],
            &[],
            vec![group("g1", "Admins", &[], &[on_workspace(OWNER)])],
        );
        let moved = "version: 1\nusers:\n  own@x.io:\ngroups:\n  Admins:\n    members: [own@x.io]\n    permissions:\n      - role: Workspace Owner\n        resources: [workspace]\n";
        assert!(planned(moved, &w).is_ok());
    }

    #[test]
    fn invitees_in_an_owner_group_are_not_owners() {
        let mut admins = group("g1", "Admins", &[], &[on_workspace(OWNER)]);
        admins.invitees = vec!["inv@x.io".into()];
        let w = live(
            vec![user("u1", "own@x.io", &[on_workspace(OWNER)])],
            &["inv@x.io"],
            vec![admins],
        );
        // Only an invitee would hold the role afterwards.
        refused_owners(planned("version: 1\nusers:\n  own@x.io:\n", &w));
    }

    #[test]
    fn a_workspace_without_an_owner_is_left_as_it_is() {
        let w = live(
            vec![user("u1", "a@x.io", &[on_workspace(READER)])],
            &[],
            vec![],
        );
        assert!(planned("version: 1\nusers:\n  a@x.io:\n", &w).is_ok());
    }

    #[test]
    fn removing_the_only_plain_owner_while_a_narrowed_owner_remains_is_refused() {
        let narrowed = on_workspace(OWNER).narrowed([label("environment:prod")]);
        let w = live(
            vec![
                user("u1", "own@x.io", &[on_workspace(OWNER)]),
                user("u2", "prod@x.io", std::slice::from_ref(&narrowed)),
            ],
            &[],
            vec![group("g1", "Prod owners", &["prod@x.io"], &[narrowed])],
        );
        let keep_narrowed = "version: 1\nusers:\n  own@x.io:\n  prod@x.io:\n    permissions:\n      - role: Workspace Owner\n        resources: [workspace]\n        labels: [environment:prod]\n";
        assert_eq!(refused_owners(planned(keep_narrowed, &w)), ["own@x.io"]);
        // Narrowing the only plain owner's grant is losing it too.
        let narrowed_too = "version: 1\nusers:\n  own@x.io:\n    permissions:\n      - role: Workspace Owner\n        resources: [workspace]\n        labels: [environment:prod]\n";
        assert_eq!(refused_owners(planned(narrowed_too, &w)), ["own@x.io"]);
        // Dropping a narrowed owner grant instead is fine.
        let drop_narrowed = format!("{OWNER_FILE}  prod@x.io:\n");
        assert!(planned(&drop_narrowed, &w).is_ok());
    }

    #[test]
    fn another_owner_remaining_lets_one_go() {
        let w = live(
            vec![
                user("u1", "own@x.io", &[on_workspace(OWNER)]),
                user("u2", "two@x.io", &[on_workspace(OWNER)]),
            ],
            &[],
            vec![],
        );
        assert!(planned("version: 1\nusers:\n  own@x.io:\n", &w).is_ok());
    }
}
