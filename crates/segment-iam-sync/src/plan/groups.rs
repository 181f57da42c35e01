//! The groups phase: each listed group created when missing (then filled and granted), or
//! brought to its wanted permissions and members when it exists; with `prune.groups`,
//! unlisted groups deleted. Also what every group looks like afterwards, for the guards.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use segment_iam::Client;

use segment_iam::email::key as email_key;

use crate::error::Result;
use crate::file::{AccessFile, GroupEntry, MembersMode, Text};
use crate::grant::Grant;
use crate::live::{Live, LiveGroup};

use super::index::Index;
use super::members::{changes, member_steps};
use super::permissions::{permission_step, resolve};
use super::types::{Action, GroupRef, Step, Subject};

/// A group after the apply: its pairs and its members' email keys.
pub(super) struct GroupAfter {
    /// Its (role, resource) pairs.
    pub grants: BTreeSet<Grant>,
    /// Its members, users and invitees, by email key.
    pub members: BTreeSet<String>,
}

/// What the groups phase decided.
pub(super) struct Groups {
    /// Its steps, group by group in file order, then deletions.
    pub steps: Vec<Step>,
    /// Every group that remains afterwards.
    pub after: Vec<GroupAfter>,
}

/// The groups phase (see the module docs). `pruned` are the people the people phase deletes;
/// `ended` the memberships that expired (email keys by group name), which leave even an
/// additive group.
pub(super) fn groups(
    file: &AccessFile,
    ix: &Index<'_>,
    pruned: &HashSet<String>,
    ended: &HashMap<String, HashSet<String>>,
    client: &Client,
) -> Result<Groups> {
    let none = HashSet::new();
    let mut groups = Groups {
        steps: Vec::new(),
        after: Vec::new(),
    };
    for (name, entry) in file.groups.iter() {
        let wanted = resolve(&entry.permissions, ix)?;
        let members: BTreeMap<String, &str> = entry
            .members
            .iter()
            .map(|m| (email_key(&m.value), m.value.as_str()))
            .collect();
        let existing = ix
            .groups_by_name
            .get(name.value.as_str())
            .map(Vec::as_slice)
            .unwrap_or_default();
        match existing {
            [] => new_group(&mut groups, name, wanted, &members),
            [live] => {
                let wanted = Wanted {
                    entry,
                    grants: wanted,
                    members,
                    ended: ended.get(&name.value).unwrap_or(&none),
                };
                existing_group(&mut groups, live, wanted, pruned, client)?
            }
            several => return Err(name.error(twins(&name.value, several))),
        }
    }
    unlisted(&mut groups, file, ix.live);
    Ok(groups)
}

/// A listed group as the file wants it.
struct Wanted<'a> {
    entry: &'a GroupEntry,
    grants: BTreeSet<Grant>,
    members: BTreeMap<String, &'a str>,
    /// Email keys whose membership expired.
    ended: &'a HashSet<String>,
}

/// A group the workspace lacks: created, then its members added and its pairs granted.
fn new_group(
    groups: &mut Groups,
    name: &Text,
    grants: BTreeSet<Grant>,
    members: &BTreeMap<String, &str>,
) {
    let group = GroupRef {
        name: name.value.clone(),
        id: None,
    };
    groups.steps.push(Step {
        action: Action::CreateGroup {
            name: name.value.clone(),
        },
        requests: 1,
    });
    if !members.is_empty() {
        groups.steps.push(Step {
            action: Action::AddMembers {
                group: group.clone(),
                emails: members.values().map(|e| e.to_string()).collect(),
            },
            requests: 1,
        });
    }
    if !grants.is_empty() {
        groups.steps.push(Step {
            action: Action::AddPermissions {
                subject: Subject::Group { group },
                grants: grants.iter().cloned().collect(),
            },
            requests: 1,
        });
    }
    groups.after.push(GroupAfter {
        grants,
        members: members.keys().cloned().collect(),
    });
}

/// A group that exists: its permission step, then its membership steps.
fn existing_group(
    groups: &mut Groups,
    live: &LiveGroup,
    wanted: Wanted<'_>,
    pruned: &HashSet<String>,
    client: &Client,
) -> Result<()> {
    let group = GroupRef {
        name: live.name.clone(),
        id: Some(live.id.clone()),
    };
    let whose = Subject::Group {
        group: group.clone(),
    };
    if let Some(step) = permission_step(whose, &live.grants, &wanted.grants) {
        groups.steps.push(step);
    }
    let mode = wanted.entry.members_mode;
    let (added, removed) = changes(live, &wanted.members, mode, pruned, wanted.ended);
    groups.steps.extend(member_steps(
        client,
        &group,
        &wanted.members,
        added,
        removed,
    )?);
    let mut members: BTreeSet<String> = wanted.members.keys().cloned().collect();
    if mode == MembersMode::Additive {
        members.extend(
            live.member_keys()
                .into_iter()
                .filter(|k| !wanted.ended.contains(k)),
        );
    }
    groups.after.push(GroupAfter {
        grants: wanted.grants,
        members,
    });
    Ok(())
}

/// Groups the file does not list: deleted with `prune.groups`, otherwise left as they are.
fn unlisted(groups: &mut Groups, file: &AccessFile, live: &Live) {
    let listed: HashSet<&str> = file.groups.iter().map(|(n, _)| n.value.as_str()).collect();
    for g in live
        .groups
        .iter()
        .filter(|g| !listed.contains(g.name.as_str()))
    {
        if file.prune.groups {
            groups.steps.push(Step {
                action: Action::DeleteGroup {
                    group: GroupRef {
                        name: g.name.clone(),
                        id: Some(g.id.clone()),
                    },
                },
                requests: 1,
            });
        } else {
            groups.after.push(GroupAfter {
                grants: g.grants.clone(),
                members: g.member_keys(),
            });
        }
    }
}

/// Why a listed name that several live groups share cannot be planned.
fn twins(name: &str, several: &[&LiveGroup]) -> String {
    format!(
        "{} groups in the workspace are named {name:?} (ids {}): rename all but one in the app first",
        several.len(),
        several
            .iter()
            .map(|g| g.id.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use crate::plan::fixtures::{OWNER, READER, client, file, group, live, on_workspace, user};

    fn run(yaml: &str, live: &Live, pruned: &[&str]) -> Result<Groups> {
        let f = file(yaml);
        let ix = Index::new(&f, live)?;
        let pruned: HashSet<String> = pruned.iter().map(|e| email_key(e)).collect();
        groups(&f, &ix, &pruned, &HashMap::new(), &client())
    }

    fn workspace() -> Live {
        live(
            vec![user("u1", "a@x.io", &[]), user("u2", "b@x.io", &[])],
            &[],
            vec![
                group("g1", "Old", &["a@x.io"], &[on_workspace(READER)]),
                group("g2", "Keep", &["b@x.io"], &[]),
            ],
        )
    }

    fn names(groups: &Groups) -> Vec<String> {
        groups
            .steps
            .iter()
            .map(|s| {
                format!("{:?}", s.action)
                    .split([' ', '{'])
                    .next()
                    .unwrap_or_default()
                    .to_string()
            })
            .collect()
    }

    #[test]
    fn a_missing_group_is_created_then_filled_then_granted() {
        let groups = run(
            "version: 1\ngroups:\n  New:\n    members: [b@x.io, a@x.io]\n    permissions:\n      - role: Reader\n        resources: [workspace]\n",
            &workspace(),
            &[],
        )
        .expect("planned");
        assert_eq!(
            names(&groups),
            ["CreateGroup", "AddMembers", "AddPermissions"]
        );
        assert!(groups.steps.iter().all(|s| s.requests == 1));
        assert!(matches!(
            &groups.steps[1].action,
            Action::AddMembers { group, emails } if group.id.is_none() && emails == &["a@x.io", "b@x.io"]
        ));
        assert_eq!(
            groups.after.len(),
            3,
            "New, and the two unlisted groups kept"
        );
        assert_eq!(groups.after[0].members.len(), 2);
    }

    #[test]
    fn an_empty_new_group_is_only_created() {
        let groups = run("version: 1\ngroups:\n  New:\n", &workspace(), &[]).expect("planned");
        assert_eq!(names(&groups), ["CreateGroup"]);
    }

    #[test]
    fn an_existing_group_gets_its_permission_step_before_its_member_steps() {
        let groups = run(
            "version: 1\ngroups:\n  Old:\n    members: [b@x.io]\n",
            &workspace(),
            &[],
        )
        .expect("planned");
        assert_eq!(names(&groups), ["ReplacePermissions", "ReplaceMembers"]);
        assert!(groups.after[0].grants.is_empty());
        assert_eq!(
            groups.after[0].members,
            [email_key("b@x.io")].into_iter().collect()
        );
    }

    #[test]
    fn an_additive_group_keeps_its_members_afterwards() {
        let groups = run(
            "version: 1\ngroups:\n  Old:\n    members: [b@x.io]\n    members_mode: additive\n    permissions:\n      - role: Reader\n        resources: [workspace]\n",
            &workspace(),
            &[],
        )
        .expect("planned");
        assert_eq!(names(&groups), ["AddMembers"]);
        assert_eq!(groups.after[0].members.len(), 2);
    }

    #[test]
    fn unlisted_groups_are_deleted_only_with_prune_groups() {
        let kept = run("version: 1\n", &workspace(), &[]).expect("planned");
        assert!(kept.steps.is_empty());
        assert_eq!(kept.after.len(), 2);
        assert_eq!(
            kept.after[0].grants,
            [on_workspace(READER)].into_iter().collect()
        );
        let pruned = run(
            "version: 1\nprune: { groups: true }\ngroups:\n  Keep:\n    members: [b@x.io]\n",
            &workspace(),
            &[],
        )
        .expect("planned");
        assert_eq!(
            pruned.steps.iter().map(|s| &s.action).collect::<Vec<_>>(),
            [&Action::DeleteGroup {
                group: GroupRef {
                    name: "Old".into(),
                    id: Some("g1".into())
                }
            }]
        );
        assert_eq!(pruned.after.len(), 1);
    }

    #[test]
    fn two_live_groups_sharing_a_listed_name_are_refused_at_its_line() {
        let mut twins = workspace();
        twins
            .groups
            .push(group("g3", "Keep", &[], &[on_workspace(OWNER)]));
        match run("version: 1\ngroups:\n  Keep:\n", &twins, &[]) {
            Err(Error::File { line, message, .. }) => {
                assert_eq!(line, 3);
                assert!(
                    message.contains("2 groups") && message.contains("g2, g3"),
                    "{message}"
                );
            }
            other => panic!("{:?}", other.map(|g| g.steps)),
        }
    }

    #[test]
    fn a_member_who_is_nobody_is_refused_before_any_step() {
        match run(
            "version: 1\ngroups:\n  New:\n    members: [ghost@x.io]\n",
            &workspace(),
            &[],
        ) {
            Err(Error::File { line, message, .. }) => {
                assert_eq!(line, 4);
                assert!(message.contains("ghost@x.io"), "{message}");
            }
            other => panic!("{:?}", other.map(|g| g.steps)),
        }
    }
}
