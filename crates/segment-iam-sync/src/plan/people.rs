//! The people phase: listed users get exactly their direct permissions, listed people who
//! are nobody yet are invited in one request, and with `prune.users` unlisted users are
//! deleted and unlisted invites withdrawn (their memberships go with them).

use std::collections::{BTreeSet, HashMap, HashSet};

use segment_iam::Client;

use segment_iam::email::key as email_key;

use crate::error::Result;
use crate::file::AccessFile;
use crate::grant::Grant;

use super::index::Index;
use super::permissions::{permission_step, resolve};
use super::types::{Action, NewInvite, Step, Subject, UserRef};

/// What the people phase decided, and what later phases need from it.
pub(super) struct People {
    /// Its steps, in the order found.
    pub steps: Vec<Step>,
    /// What it could not check.
    pub notes: Vec<String>,
    /// Every live user's direct pairs after the apply, by user id.
    pub grants_after: HashMap<String, BTreeSet<Grant>>,
    /// Email keys of the users deleted and invites withdrawn.
    pub pruned: HashSet<String>,
}

/// The people phase (see the module docs).
pub(super) fn people(file: &AccessFile, ix: &Index<'_>, client: &Client) -> Result<People> {
    let mut people = listed(file, ix)?;
    if file.prune.users {
        let (steps, pruned) = prune(ix, client)?;
        people.steps.extend(steps);
        people.pruned = pruned;
    }
    Ok(people)
}

/// Listed people: users' direct permissions, invites for the missing, a note for pending
/// invitees (whose permissions the API does not return).
fn listed(file: &AccessFile, ix: &Index<'_>) -> Result<People> {
    let mut steps = Vec::new();
    let mut notes = Vec::new();
    let mut invites: Vec<NewInvite> = Vec::new();
    let mut unverifiable: Vec<String> = Vec::new();
    let mut grants_after: HashMap<String, BTreeSet<Grant>> = ix
        .live
        .users
        .iter()
        .map(|u| (u.id.clone(), u.grants.clone()))
        .collect();
    for (email, entry) in file.users.iter() {
        let key = email_key(&email.value);
        let wanted = resolve(&entry.permissions, ix)?;
        if let Some(user) = ix.users_by_key.get(&key) {
            let whose = Subject::User {
                id: user.id.clone(),
                email: user.email.clone(),
            };
            if let Some(step) = permission_step(whose, &user.grants, &wanted) {
                steps.push(step);
            }
            grants_after.insert(user.id.clone(), wanted);
        } else if ix.invite_keys.contains(&key) {
            unverifiable.push(email.value.clone());
        } else {
            invites.push(NewInvite {
                email: email.value.clone(),
                grants: wanted.into_iter().collect(),
            });
        }
    }
    if !unverifiable.is_empty() {
        notes.push(format!(
            "{} pending invitee(s) ({}): the API does not return an invite's permissions, so theirs are neither checked nor changed",
            unverifiable.len(),
            unverifiable.join(", ")
        ));
    }
    if !invites.is_empty() {
        steps.push(Step {
            action: Action::Invite { invites },
            requests: 1,
        });
    }
    Ok(People {
        steps,
        notes,
        grants_after,
        pruned: HashSet::new(),
    })
}

/// `prune.users`: the users and invites the file lists nowhere, deleted and withdrawn in as
/// few requests as the URL limit allows; with their email keys, so that the groups phase does
/// not remove them from groups first.
fn prune(ix: &Index<'_>, client: &Client) -> Result<(Vec<Step>, HashSet<String>)> {
    let users: Vec<UserRef> = ix
        .live
        .users
        .iter()
        .filter(|u| !ix.listed.contains(&email_key(&u.email)))
        .map(|u| UserRef {
            id: u.id.clone(),
            email: u.email.clone(),
        })
        .collect();
    let emails: Vec<String> = ix
        .live
        .invites
        .iter()
        .filter(|e| !ix.listed.contains(&email_key(e)))
        .cloned()
        .collect();
    let mut pruned: HashSet<String> = users.iter().map(|u| email_key(&u.email)).collect();
    pruned.extend(emails.iter().map(|e| email_key(e)));
    let mut steps = Vec::new();
    if !users.is_empty() {
        let ids: Vec<&str> = users.iter().map(|u| u.id.as_str()).collect();
        let requests = client.users().delete_requests(&ids)?;
        steps.push(Step {
            action: Action::DeleteUsers { users },
            requests,
        });
    }
    if !emails.is_empty() {
        let requests = client.invites().delete_requests(&emails)?;
        steps.push(Step {
            action: Action::DeleteInvites { emails },
            requests,
        });
    }
    Ok((steps, pruned))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::Live;
    use crate::plan::fixtures::{OWNER, READER, client, file, group, live, on_workspace, user};

    fn run(yaml: &str, live: &Live) -> People {
        let f = file(yaml);
        let ix = Index::new(&f, live).expect("indexed");
        people(&f, &ix, &client()).expect("planned")
    }

    fn workspace() -> Live {
        live(
            vec![
                user("u1", "own@x.io", &[on_workspace(OWNER)]),
                user("u2", "bo@x.io", &[on_workspace(READER)]),
            ],
            &["inv@x.io"],
            vec![group("g1", "G", &["bo@x.io"], &[])],
        )
    }

    #[test]
    fn a_listed_user_gets_exactly_their_direct_permissions() {
        let people = run("version: 1\nusers:\n  BO@x.io:\n", &workspace());
        assert_eq!(people.steps.len(), 1);
        assert!(matches!(
            &people.steps[0].action,
            Action::ReplacePermissions { subject: Subject::User { id, .. }, removed, grants, .. }
                if id == "u2" && removed == &vec![on_workspace(READER)] && grants.is_empty()
        ));
        assert!(people.grants_after["u2"].is_empty());
    }

    #[test]
    fn unlisted_users_keep_their_permissions() {
        let people = run("version: 1\nusers:\n  bo@x.io:\n", &workspace());
        assert_eq!(
            people.grants_after["u1"],
            [on_workspace(OWNER)].into_iter().collect()
        );
        assert!(people.pruned.is_empty());
    }

    #[test]
    fn people_who_are_nobody_are_invited_in_one_request_with_their_permissions() {
        let people = run(
            "version: 1\nusers:\n  new1@x.io:\n    permissions:\n      - role: Reader\n        resources: [workspace]\n  new2@x.io:\n",
            &workspace(),
        );
        assert_eq!(people.steps.len(), 1);
        assert_eq!(people.steps[0].requests, 1);
        match &people.steps[0].action {
            Action::Invite { invites } => {
                assert_eq!(invites.len(), 2);
                assert_eq!(invites[0].email, "new1@x.io");
                assert_eq!(invites[0].grants, vec![on_workspace(READER)]);
                assert!(invites[1].grants.is_empty());
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn pending_invitees_are_noted_not_changed() {
        let people = run(
            "version: 1\nusers:\n  inv@x.io:\n    permissions:\n      - role: Reader\n        resources: [workspace]\n",
            &workspace(),
        );
        assert!(people.steps.is_empty());
        assert_eq!(people.notes.len(), 1);
        assert!(people.notes[0].starts_with("1 pending invitee(s) (inv@x.io)"));
    }

    #[test]
    fn prune_deletes_unlisted_users_and_withdraws_unlisted_invites() {
        let people = run(
            "version: 1\nprune: { users: true }\nusers:\n  own@x.io:\n    permissions:\n      - role: Workspace Owner\n        resources: [workspace]\n",
            &workspace(),
        );
        let actions: Vec<&Action> = people.steps.iter().map(|s| &s.action).collect();
        assert_eq!(
            actions,
            [
                &Action::DeleteUsers {
                    users: vec![UserRef {
                        id: "u2".into(),
                        email: "bo@x.io".into()
                    }]
                },
                &Action::DeleteInvites {
                    emails: vec!["inv@x.io".into()]
                }
            ]
        );
        assert!(people.steps.iter().all(|s| s.requests == 1));
        let pruned: HashSet<String> = ["bo@x.io", "inv@x.io"]
            .iter()
            .map(|e| email_key(e))
            .collect();
        assert_eq!(people.pruned, pruned);
    }

    #[test]
    fn group_members_count_as_listed_and_are_not_pruned() {
        let people = run(
            "version: 1\nprune: { users: true }\nusers:\n  own@x.io:\n    permissions:\n      - role: Workspace Owner\n        resources: [workspace]\ngroups:\n  G:\n    members: [bo@x.io, inv@x.io]\n",
            &workspace(),
        );
        assert!(people.steps.is_empty(), "{:?}", people.steps);
        assert!(people.pruned.is_empty());
    }

    #[test]
    fn without_prune_nobody_is_deleted() {
        let people = run("version: 1\n", &workspace());
        assert!(people.steps.is_empty() && people.pruned.is_empty());
    }
}
