//! From a file and the live workspace to the fewest requests that make them equal, in a safe
//! order, with the guards checked before anything is sent.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use segment_iam::{Client, Operation, ResourceType};

use crate::error::{Error, Result};
use crate::file::{AccessFile, MembersMode, PermissionEntry, Text};
use crate::grant::Grant;
use crate::live::{Live, LiveGroup};
use segment_iam::email_key;

mod render;
mod saved;
pub(crate) mod types;

pub use segment_iam::guard::OWNER_ROLE;
pub use types::{Action, GroupRef, NewInvite, PLAN_FORMAT, Plan, Step, Subject, UserRef};

/// A file's permissions, resolved: role names to ids (with the file's line on an unknown or
/// ambiguous name), `workspace` to the token's workspace.
fn resolve(permissions: &[PermissionEntry], live: &Live) -> Result<BTreeSet<Grant>> {
    let mut grants = BTreeSet::new();
    for permission in permissions {
        let role = live
            .roles
            .resolve(&permission.role.value)
            .map_err(|e| permission.role.error(e.to_string()))?;
        for resource in &permission.resources {
            let resource_parsed: segment_iam::Resource = resource
                .value
                .parse()
                .map_err(|e: segment_iam::Error| resource.error(e.to_string()))?;
            let (resource_type, resource_id) = match resource_parsed {
                segment_iam::Resource::ThisWorkspace => {
                    ("WORKSPACE".to_string(), live.workspace_id.clone())
                }
                segment_iam::Resource::Given(kind, id) => (kind.as_str().to_string(), id),
                other => return Err(resource.error(format!("unsupported resource {other}"))),
            };
            grants.insert(Grant {
                role_id: role.id.clone(),
                resource_type,
                resource_id,
            });
        }
    }
    Ok(grants)
}

/// The permission step a subject needs to go from `live` to `wanted`, if any: additions only
/// are added, anything removed means one replace.
fn permission_step(
    subject: Subject,
    live: &BTreeSet<Grant>,
    labelled: bool,
    wanted: &BTreeSet<Grant>,
) -> Result<Option<Step>> {
    if live == wanted {
        return Ok(None);
    }
    if labelled {
        return Err(Error::Live(format!(
            "{}'s permissions are narrowed by labels, which this file format does not manage; change them in the app or leave them unchanged in the file",
            render::subject(&subject)
        )));
    }
    let added: Vec<Grant> = wanted.difference(live).cloned().collect();
    let removed: Vec<Grant> = live.difference(wanted).cloned().collect();
    let action = if removed.is_empty() {
        Action::AddPermissions {
            subject,
            grants: added,
        }
    } else {
        Action::ReplacePermissions {
            subject,
            grants: wanted.iter().cloned().collect(),
            added,
            removed,
        }
    };
    Ok(Some(Step {
        action,
        requests: 1,
    }))
}

/// Diffs `file` against `live` into a plan. Checks everything before returning: unknown roles
/// and members that are nobody (with their line), a `workspace` guard for another workspace,
/// two live groups sharing a listed name, labelled permissions it would change, and the
/// last-owner guard. `client` only sizes the removals under its URL limit (nothing is sent).
pub fn plan(file: &AccessFile, live: &Live, client: &Client) -> Result<Plan> {
    if let Some(id) = &file.workspace
        && *id != live.workspace_id
    {
        return Err(Error::Guard {
            reason: format!(
                "the file is for workspace {id}, the token for workspace {}",
                live.workspace_id
            ),
        });
    }

    let users_by_key: HashMap<String, &crate::live::LiveUser> = live
        .users
        .iter()
        .map(|u| (email_key(&u.email), u))
        .collect();
    let invite_keys: HashSet<String> = live.invites.iter().map(|e| email_key(e)).collect();
    let mut groups_by_name: HashMap<&str, Vec<&LiveGroup>> = HashMap::new();
    for g in &live.groups {
        groups_by_name.entry(g.name.as_str()).or_default().push(g);
    }

    // Everyone the file names, by key.
    let file_users: HashMap<String, &Text> = file
        .users
        .iter()
        .map(|(email, _)| (email_key(&email.value), email))
        .collect();
    let mut listed: HashSet<String> = file_users.keys().cloned().collect();
    for (name, group) in file.groups.iter() {
        for member in &group.members {
            let key = email_key(&member.value);
            if !users_by_key.contains_key(&key)
                && !invite_keys.contains(&key)
                && !file_users.contains_key(&key)
            {
                return Err(member.error(format!(
                    "{} (a member of {:?}) is neither a user, a pending invitee, nor listed under `users`",
                    member.value, name.value
                )));
            }
            listed.insert(key);
        }
    }

    let mut steps: Vec<Step> = Vec::new();
    let mut notes: Vec<String> = Vec::new();

    // People: invite the missing, align the users' direct permissions.
    let mut invites: Vec<NewInvite> = Vec::new();
    let mut unverifiable: Vec<String> = Vec::new();
    let mut final_user_grants: HashMap<String, BTreeSet<Grant>> = live
        .users
        .iter()
        .map(|u| (u.id.clone(), u.grants.clone()))
        .collect();
    for (email, entry) in file.users.iter() {
        let key = email_key(&email.value);
        let wanted = resolve(&entry.permissions, live)?;
        if let Some(user) = users_by_key.get(&key) {
            let subject = Subject::User {
                id: user.id.clone(),
                email: user.email.clone(),
            };
            if let Some(step) = permission_step(subject, &user.grants, user.labelled, &wanted)? {
                steps.push(step);
            }
            final_user_grants.insert(user.id.clone(), wanted);
        } else if invite_keys.contains(&key) {
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

    // Pruned people: deleted users and withdrawn invites leave their groups with them.
    let mut pruned: HashSet<String> = HashSet::new();
    if file.prune.users {
        let users: Vec<UserRef> = live
            .users
            .iter()
            .filter(|u| !listed.contains(&email_key(&u.email)))
            .map(|u| UserRef {
                id: u.id.clone(),
                email: u.email.clone(),
            })
            .collect();
        let emails: Vec<String> = live
            .invites
            .iter()
            .filter(|e| !listed.contains(&email_key(e)))
            .cloned()
            .collect();
        pruned.extend(users.iter().map(|u| email_key(&u.email)));
        pruned.extend(emails.iter().map(|e| email_key(e)));
        if !users.is_empty() {
            let ids: Vec<&str> = users.iter().map(|u| u.id.as_str()).collect();
            let requests = client.bulk_requests(Operation::DeleteUsers, &[], &ids)?;
            steps.push(Step {
                action: Action::DeleteUsers { users },
                requests,
            });
        }
        if !emails.is_empty() {
            let requests = client.bulk_requests(Operation::DeleteInvites, &[], &emails)?;
            steps.push(Step {
                action: Action::DeleteInvites { emails },
                requests,
            });
        }
    }

    // Groups.
    let mut final_groups: Vec<(BTreeSet<Grant>, BTreeSet<String>)> = Vec::new();
    let mut file_group_names: HashSet<&str> = HashSet::new();
    for (name, entry) in file.groups.iter() {
        file_group_names.insert(name.value.as_str());
        let wanted = resolve(&entry.permissions, live)?;
        let wanted_members: BTreeMap<String, &str> = entry
            .members
            .iter()
            .map(|m| (email_key(&m.value), m.value.as_str()))
            .collect();
        let existing = groups_by_name
            .get(name.value.as_str())
            .map(Vec::as_slice)
            .unwrap_or_default();
        match existing {
            [] => {
                let group = GroupRef {
                    name: name.value.clone(),
                    id: None,
                };
                steps.push(Step {
                    action: Action::CreateGroup {
                        name: name.value.clone(),
                    },
                    requests: 1,
                });
                if !wanted_members.is_empty() {
                    steps.push(Step {
                        action: Action::AddMembers {
                            group: group.clone(),
                            emails: wanted_members.values().map(|e| e.to_string()).collect(),
                        },
                        requests: 1,
                    });
                }
                if !wanted.is_empty() {
                    steps.push(Step {
                        action: Action::AddPermissions {
                            subject: Subject::Group { group },
                            grants: wanted.iter().cloned().collect(),
                        },
                        requests: 1,
                    });
                }
                final_groups.push((wanted, wanted_members.keys().cloned().collect()));
            }
            [live_group] => {
                let group = GroupRef {
                    name: live_group.name.clone(),
                    id: Some(live_group.id.clone()),
                };
                let subject = Subject::Group {
                    group: group.clone(),
                };
                if let Some(step) =
                    permission_step(subject, &live_group.grants, live_group.labelled, &wanted)?
                {
                    steps.push(step);
                }
                let now = live_group.member_keys();
                let spelled: HashMap<String, &str> = live_group
                    .members
                    .iter()
                    .chain(&live_group.invitees)
                    .map(|e| (email_key(e), e.as_str()))
                    .collect();
                let added: Vec<String> = wanted_members
                    .iter()
                    .filter(|(k, _)| !now.contains(*k))
                    .map(|(_, e)| e.to_string())
                    .collect();
                let removed: Vec<String> = match entry.members_mode {
                    MembersMode::Additive => Vec::new(),
                    MembersMode::Exact => now
                        .iter()
                        .filter(|k| !wanted_members.contains_key(*k) && !pruned.contains(*k))
                        .map(|k| spelled.get(k).copied().unwrap_or(k).to_string())
                        .collect(),
                };
                steps.extend(member_steps(
                    client,
                    &group,
                    &wanted_members,
                    added,
                    removed,
                )?);
                let mut members: BTreeSet<String> = wanted_members.keys().cloned().collect();
                if entry.members_mode == MembersMode::Additive {
                    members.extend(now);
                }
                final_groups.push((wanted, members));
            }
            several => {
                return Err(name.error(format!(
                    "{} groups in the workspace are named {:?} (ids {}): rename all but one in the app first",
                    several.len(),
                    name.value,
                    several
                        .iter()
                        .map(|g| g.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
        }
    }
    for g in &live.groups {
        if file_group_names.contains(g.name.as_str()) {
            continue;
        }
        if file.prune.groups {
            steps.push(Step {
                action: Action::DeleteGroup {
                    group: GroupRef {
                        name: g.name.clone(),
                        id: Some(g.id.clone()),
                    },
                },
                requests: 1,
            });
        } else {
            final_groups.push((g.grants.clone(), g.member_keys()));
        }
    }

    // The last-owner guard: someone holds "Workspace Owner" now, nobody would afterwards.
    let owner_grants: BTreeSet<Grant> = live
        .roles
        .roles()
        .iter()
        .filter(|r| r.name.trim().eq_ignore_ascii_case(OWNER_ROLE))
        .map(|r| Grant {
            role_id: r.id.clone(),
            resource_type: ResourceType::Workspace.as_str().to_string(),
            resource_id: live.workspace_id.clone(),
        })
        .collect();
    let holds = |grants: &BTreeSet<Grant>| !grants.is_disjoint(&owner_grants);
    let user_keys: HashSet<String> = users_by_key.keys().cloned().collect();
    let owners_now = live.users.iter().any(|u| holds(&u.grants))
        || live.groups.iter().any(|g| {
            holds(&g.grants) && g.members.iter().any(|m| user_keys.contains(&email_key(m)))
        });
    let owners_after = live
        .users
        .iter()
        .filter(|u| !pruned.contains(&email_key(&u.email)))
        .any(|u| final_user_grants.get(&u.id).is_some_and(&holds))
        || final_groups.iter().any(|(grants, members)| {
            holds(grants)
                && members
                    .iter()
                    .any(|m| user_keys.contains(m) && !pruned.contains(m))
        });
    if owners_now && !owners_after {
        return Err(Error::Guard {
            reason: format!(
                "afterwards no user would hold {OWNER_ROLE:?} on the workspace (directly or through a group): keep at least one owner in the file"
            ),
        });
    }

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
    })
}

/// The cheapest correct way to add `added` and remove `removed` from an existing group: one
/// add plus the removal's URL-sized chunks, or one replace with the whole wanted list when
/// that is fewer requests (a tie keeps the narrower add/remove).
fn member_steps(
    client: &Client,
    group: &GroupRef,
    wanted: &BTreeMap<String, &str>,
    added: Vec<String>,
    removed: Vec<String>,
) -> Result<Vec<Step>> {
    let id = group.id.as_deref().unwrap_or_default();
    let removal_requests =
        client.bulk_requests(Operation::RemoveUsersFromUserGroup, &[id], &removed)?;
    let split = usize::from(!added.is_empty()) + removal_requests;
    if split == 0 {
        return Ok(Vec::new());
    }
    if split > 1 && !removed.is_empty() {
        return Ok(vec![Step {
            action: Action::ReplaceMembers {
                group: group.clone(),
                emails: wanted.values().map(|e| e.to_string()).collect(),
                added,
                removed,
            },
            requests: 1,
        }]);
    }
    let mut steps = Vec::new();
    if !added.is_empty() {
        steps.push(Step {
            action: Action::AddMembers {
                group: group.clone(),
                emails: added,
            },
            requests: 1,
        });
    }
    if !removed.is_empty() {
        steps.push(Step {
            action: Action::RemoveMembers {
                group: group.clone(),
                emails: removed,
            },
            requests: removal_requests,
        });
    }
    Ok(steps)
}
