//! What a plan is made of: the steps, their actions and whom they touch. Plain data, saved as
//! JSON by `plan --out`; shown by `render`, built by the phases.

use std::collections::BTreeMap;

use segment_iam::Label;
use serde::{Deserialize, Serialize};

use crate::grant::Grant;
use crate::scope::Scope;

/// The version of the saved-plan format this crate writes and reads.
pub const PLAN_FORMAT: u32 = 1;

/// A group, by name, with its id when it exists before the apply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupRef {
    /// The group's name.
    pub name: String,
    /// Its id; `None` for a group this plan creates.
    pub id: Option<String>,
}

/// Whose permissions a step changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Subject {
    /// A user.
    User {
        /// The user's id.
        id: String,
        /// Their email.
        email: String,
    },
    /// A group.
    Group {
        /// The group.
        group: GroupRef,
    },
}

/// A person invited by the plan, with their permissions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewInvite {
    /// Their email, as the file spells it.
    pub email: String,
    /// Their permissions.
    pub grants: Vec<Grant>,
}

/// A user the plan deletes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRef {
    /// The user's id.
    pub id: String,
    /// Their email.
    pub email: String,
}

/// One change. Each is one request, except removals split under the URL limit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Action {
    /// `createLabel`, before any grant that uses it.
    CreateLabel {
        /// The label.
        label: Label,
    },
    /// `createUserGroup`.
    CreateGroup {
        /// The new group's name.
        name: String,
    },
    /// `createInvites`, every new person at once.
    Invite {
        /// Who, with which permissions.
        invites: Vec<NewInvite>,
    },
    /// `addUsersToUserGroup`.
    AddMembers {
        /// The group.
        group: GroupRef,
        /// The emails added.
        emails: Vec<String>,
    },
    /// `addPermissionsTo...`: only additions.
    AddPermissions {
        /// Whose.
        subject: Subject,
        /// The pairs added.
        grants: Vec<Grant>,
    },
    /// `replaceUsersInUserGroup`, when cheaper than adding and removing.
    ReplaceMembers {
        /// The group.
        group: GroupRef,
        /// The whole new membership.
        emails: Vec<String>,
        /// Of which new.
        added: Vec<String>,
        /// And who leaves.
        removed: Vec<String>,
    },
    /// `replacePermissionsFor...`: some pair removed.
    ReplacePermissions {
        /// Whose.
        subject: Subject,
        /// The whole new set.
        grants: Vec<Grant>,
        /// Of which new.
        added: Vec<Grant>,
        /// And which go.
        removed: Vec<Grant>,
    },
    /// `removeUsersFromUserGroup`, split under the URL limit.
    RemoveMembers {
        /// The group.
        group: GroupRef,
        /// Who leaves.
        emails: Vec<String>,
    },
    /// `deleteUsers` (`prune.users`), split under the URL limit.
    DeleteUsers {
        /// Who.
        users: Vec<UserRef>,
    },
    /// `deleteInvites` (`prune.users`), split under the URL limit.
    DeleteInvites {
        /// Whose invites.
        emails: Vec<String>,
    },
    /// `deleteUserGroup` (`prune.groups`).
    DeleteGroup {
        /// The group.
        group: GroupRef,
    },
    /// `deleteLabel` (`prune.labels`), after every step that frees it.
    DeleteLabel {
        /// The label.
        label: Label,
    },
}

impl Action {
    /// When the step runs: lower phases first, so additions come before removals.
    pub fn phase(&self) -> u8 {
        match self {
            Action::CreateLabel { .. } | Action::CreateGroup { .. } => 0,
            Action::Invite { .. } => 1,
            Action::AddMembers { .. } | Action::AddPermissions { .. } => 2,
            Action::ReplaceMembers { .. } | Action::ReplacePermissions { .. } => 3,
            Action::RemoveMembers { .. } => 4,
            Action::DeleteUsers { .. } | Action::DeleteInvites { .. } => 5,
            Action::DeleteGroup { .. } => 6,
            Action::DeleteLabel { .. } => 7,
        }
    }

    /// How many things this step removes: members, users, invites, groups, grants, labels.
    pub fn removals(&self) -> u64 {
        match self {
            Action::ReplaceMembers { removed, .. } => count(removed),
            Action::ReplacePermissions { removed, .. } => count(removed),
            Action::RemoveMembers { emails, .. } | Action::DeleteInvites { emails } => {
                count(emails)
            }
            Action::DeleteUsers { users } => count(users),
            Action::DeleteGroup { .. } | Action::DeleteLabel { .. } => 1,
            _ => 0,
        }
    }
}

/// A list's length as a count (a `usize` always fits).
fn count<T>(items: &[T]) -> u64 {
    items.len() as u64
}

/// A step and the requests it costs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// What it does.
    #[serde(flatten)]
    pub action: Action,
    /// The requests it sends (retries aside).
    pub requests: u64,
}

/// An entry of the file that ends: what it is, as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Ending {
    /// A membership of a group.
    Member {
        /// The group's name.
        group: String,
        /// The member's email, as the file spells it.
        email: String,
    },
    /// A person's direct permission.
    UserPermission {
        /// The person's email, as the file spells it.
        email: String,
        /// The role, as the file spells it.
        role: String,
        /// The resources, as the file spells them.
        resources: Vec<String>,
        /// The labels narrowing them.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        labels: Vec<String>,
    },
    /// A group's permission.
    GroupPermission {
        /// The group's name.
        group: String,
        /// The role, as the file spells it.
        role: String,
        /// The resources, as the file spells them.
        resources: Vec<String>,
        /// The labels narrowing them.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        labels: Vec<String>,
    },
}

/// An entry that has expired or expires soon: what, when (as written), where in the file,
/// and, once planned, which step removes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Expiry {
    /// The entry.
    #[serde(flatten)]
    pub entry: Ending,
    /// Its `expires:` as written (`2027-03-31`, or an instant).
    pub expires: String,
    /// Its line in the file (0 when it was not read from one).
    pub line: u64,
    /// The index in [`Plan::steps`] of the step that removes it; `None` when nothing
    /// live is left to remove (or for an entry that has not expired yet).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<usize>,
}

/// What apply will do, in order; saved as JSON by `plan --out`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Plan {
    /// [`PLAN_FORMAT`].
    pub format: u32,
    /// The workspace it was made for.
    pub workspace_id: String,
    /// [`crate::Live::fingerprint`] of the state it was made against.
    pub live_fingerprint: String,
    /// Role names by id, to show the steps.
    pub roles: BTreeMap<String, String>,
    /// The steps, in the order they run.
    pub steps: Vec<Step>,
    /// What the plan could not check, and why.
    pub notes: Vec<String>,
    /// The read requests the live state it was made against took ([`crate::Live::reads`]);
    /// 0 in plans saved before reads were counted (`serde` default: they still read).
    #[serde(default)]
    pub reads: u64,
    /// The scope the live state was read in ([`crate::Live::read_for`]); `None` when it was
    /// read whole, and in plans saved before scoped reads (`serde` default: they still read,
    /// and are checked against a whole read as before). [`crate::check_fresh`] re-reads this
    /// scope, so that its fingerprint compares like with like.
    #[serde(default)]
    pub scope: Option<Scope>,
    /// Entries of the file that had expired when planned, each with the step that removes
    /// it (none when nothing live was left to remove).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expired: Vec<Expiry>,
    /// Entries that end within the warning window: kept, listed as a warning.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expiring: Vec<Expiry>,
}

impl Plan {
    /// No change.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// The mutations apply sends (retries aside).
    pub fn requests(&self) -> u64 {
        self.steps.iter().map(|s| s.requests).sum()
    }

    /// Everything the plan removes (members, users, invites, groups, grants, labels), the
    /// figure [`crate::ApplyOptions::removal_cap`] caps.
    pub fn removals(&self) -> u64 {
        self.steps.iter().map(|s| s.action.removals()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group() -> GroupRef {
        GroupRef {
            name: "G".into(),
            id: Some("g1".into()),
        }
    }

    fn grant(role: &str) -> Grant {
        Grant::new(role, "WORKSPACE", "ws1")
    }

    fn label() -> Label {
        "environment:prod".parse().expect("a label")
    }

    #[test]
    fn label_creations_run_first_and_deletions_last() {
        let create = Action::CreateLabel { label: label() };
        let delete = Action::DeleteLabel { label: label() };
        let group_deleted = Action::DeleteGroup { group: group() };
        assert_eq!(create.phase(), 0);
        assert!(delete.phase() > group_deleted.phase());
        let json = serde_json::to_string(&delete).expect("json");
        assert_eq!(
            json,
            r#"{"action":"delete_label","label":"environment:prod"}"#
        );
    }

    fn emails(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("p{i}@x.io")).collect()
    }

    #[test]
    fn each_action_counts_what_it_removes() {
        let whose = Subject::Group { group: group() };
        let cases = [
            (Action::CreateGroup { name: "N".into() }, 0),
            (Action::Invite { invites: vec![] }, 0),
            (
                Action::AddMembers {
                    group: group(),
                    emails: emails(3),
                },
                0,
            ),
            (
                Action::AddPermissions {
                    subject: whose.clone(),
                    grants: vec![grant("r")],
                },
                0,
            ),
            (
                Action::ReplaceMembers {
                    group: group(),
                    emails: emails(5),
                    added: emails(1),
                    removed: emails(2),
                },
                2,
            ),
            (
                Action::ReplacePermissions {
                    subject: whose,
                    grants: vec![],
                    added: vec![],
                    removed: vec![grant("a"), grant("b"), grant("c")],
                },
                3,
            ),
            (
                Action::RemoveMembers {
                    group: group(),
                    emails: emails(4),
                },
                4,
            ),
            (
                Action::DeleteUsers {
                    users: vec![
                        UserRef {
                            id: "u".into(),
                            email: "u@x.io".into(),
                        };
                        5
                    ],
                },
                5,
            ),
            (Action::DeleteInvites { emails: emails(6) }, 6),
            (Action::DeleteGroup { group: group() }, 1),
            (Action::CreateLabel { label: label() }, 0),
            (Action::DeleteLabel { label: label() }, 1),
        ];
        for (action, removals) in &cases {
            assert_eq!(action.removals(), *removals, "{action:?}");
        }
        let plan = Plan {
            format: PLAN_FORMAT,
            workspace_id: "ws1".into(),
            live_fingerprint: String::new(),
            roles: BTreeMap::new(),
            steps: cases
                .into_iter()
                .map(|(action, _)| Step {
                    action,
                    requests: 2,
                })
                .collect(),
            notes: vec![],
            reads: 0,
            scope: None,
            expired: vec![],
            expiring: vec![],
        };
        assert_eq!(plan.removals(), 2 + 3 + 4 + 5 + 6 + 1 + 1);
        assert_eq!(plan.requests(), 24);
        assert!(!plan.is_empty());
    }
}
