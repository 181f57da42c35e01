//! From a file and the live workspace to the fewest requests that make them equal, in a safe
//! order, with the guards checked before anything is sent.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt;

use segment_iam::{Client, ResourceType};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::file::{AccessFile, MembersMode, PermissionEntry, Text, email_key};
use crate::live::{Live, LiveGroup};

/// The version of the saved-plan format this crate writes and reads.
pub const PLAN_FORMAT: u32 = 1;

/// The role the last-owner guard protects.
pub const OWNER_ROLE: &str = segment_iam::jobs::offboard::OWNER_ROLE;

/// One role on one resource: the unit permissions are compared in.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Grant {
    /// The role's id.
    pub role_id: String,
    /// The resource's type (`WORKSPACE`, `SOURCE`, ...).
    pub resource_type: String,
    /// The resource's id.
    pub resource_id: String,
}

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
}

impl Action {
    /// When the step runs: lower phases first, so additions come before removals.
    pub fn phase(&self) -> u8 {
        match self {
            Action::CreateGroup { .. } => 0,
            Action::Invite { .. } => 1,
            Action::AddMembers { .. } | Action::AddPermissions { .. } => 2,
            Action::ReplaceMembers { .. } | Action::ReplacePermissions { .. } => 3,
            Action::RemoveMembers { .. } => 4,
            Action::DeleteUsers { .. } | Action::DeleteInvites { .. } => 5,
            Action::DeleteGroup { .. } => 6,
        }
    }

    /// How many things this step removes: members, users, invites, groups, permission pairs.
    pub fn removals(&self) -> usize {
        match self {
            Action::ReplaceMembers { removed, .. } => removed.len(),
            Action::ReplacePermissions { removed, .. } => removed.len(),
            Action::RemoveMembers { emails, .. } | Action::DeleteInvites { emails } => emails.len(),
            Action::DeleteUsers { users } => users.len(),
            Action::DeleteGroup { .. } => 1,
            _ => 0,
        }
    }
}

/// A step and the requests it costs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// What it does.
    #[serde(flatten)]
    pub action: Action,
    /// The requests it sends (retries aside).
    pub requests: usize,
}

/// What apply will do, in order; saved as JSON by `plan --out`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Plan {
    /// [`PLAN_FORMAT`].
    pub format: u32,
    /// The workspace it was made for.
    pub workspace_id: String,
    /// [`Live::fingerprint`] of the state it was made against.
    pub live_fingerprint: String,
    /// Role names by id, to show the steps.
    pub roles: BTreeMap<String, String>,
    /// The steps, in the order they run.
    pub steps: Vec<Step>,
    /// What the plan could not check, and why.
    pub notes: Vec<String>,
}

impl Plan {
    /// No change.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// The mutations apply sends (retries aside).
    pub fn requests(&self) -> usize {
        self.steps.iter().map(|s| s.requests).sum()
    }

    /// Everything the plan removes (members, users, invites, groups, permission pairs), the
    /// figure [`crate::ApplyOptions::max_removals`] caps.
    pub fn removals(&self) -> usize {
        self.steps.iter().map(|s| s.action.removals()).sum()
    }

    /// A saved plan's JSON.
    pub fn to_json(&self) -> String {
        // Plain data with string keys: serialising cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Reads a saved plan.
    pub fn from_json(text: &str) -> Result<Plan> {
        let plan: Plan =
            serde_json::from_str(text).map_err(|e| Error::PlanFormat(e.to_string()))?;
        if plan.format != PLAN_FORMAT {
            return Err(Error::PlanFormat(format!(
                "format {} is not supported (this tool reads format {PLAN_FORMAT})",
                plan.format
            )));
        }
        Ok(plan)
    }

    fn role_name<'a>(&'a self, id: &'a str) -> &'a str {
        self.roles.get(id).map(String::as_str).unwrap_or(id)
    }

    fn grant(&self, g: &Grant) -> String {
        let resource = if g.resource_type == "WORKSPACE" && g.resource_id == self.workspace_id {
            "workspace".to_string()
        } else {
            format!("{}:{}", g.resource_type, g.resource_id)
        };
        format!("{} on {resource}", self.role_name(&g.role_id))
    }

    fn grants(&self, grants: &[Grant]) -> String {
        grants
            .iter()
            .map(|g| self.grant(g))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn subject(s: &Subject) -> String {
    match s {
        Subject::User { email, .. } => format!("user {email}"),
        Subject::Group { group } => format!("group {:?}", group.name),
    }
}

fn list(items: &[String]) -> String {
    items.join(", ")
}

/// The readable diff: `+` creates and adds, `~` replaces, `-` removes and deletes, each with
/// its request count; then the notes and the totals.
impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for step in &self.steps {
            let n = step.requests;
            let cost = if n == 1 {
                "1 request".to_string()
            } else {
                format!("{n} requests")
            };
            match &step.action {
                Action::CreateGroup { name } => writeln!(f, "+ create group {name:?} ({cost})")?,
                Action::Invite { invites } => {
                    let who = if invites.len() == 1 {
                        "person"
                    } else {
                        "people"
                    };
                    writeln!(f, "+ invite {} {who} ({cost})", invites.len())?;
                    for i in invites {
                        if i.grants.is_empty() {
                            writeln!(f, "    + {}", i.email)?;
                        } else {
                            writeln!(f, "    + {} with {}", i.email, self.grants(&i.grants))?;
                        }
                    }
                }
                Action::AddMembers { group, emails } => writeln!(
                    f,
                    "+ group {:?}: add {} member(s) ({cost}): {}",
                    group.name,
                    emails.len(),
                    list(emails)
                )?,
                Action::AddPermissions { subject: s, grants } => writeln!(
                    f,
                    "+ {}: add permissions ({cost}): {}",
                    subject(s),
                    self.grants(grants)
                )?,
                Action::ReplaceMembers {
                    group,
                    emails,
                    added,
                    removed,
                } => {
                    writeln!(
                        f,
                        "~ group {:?}: replace members with {} ({cost}; cheaper than adding and removing)",
                        group.name,
                        emails.len()
                    )?;
                    if !added.is_empty() {
                        writeln!(f, "    + {}", list(added))?;
                    }
                    if !removed.is_empty() {
                        writeln!(f, "    - {}", list(removed))?;
                    }
                }
                Action::ReplacePermissions {
                    subject: s,
                    added,
                    removed,
                    ..
                } => {
                    writeln!(f, "~ {}: replace permissions ({cost})", subject(s))?;
                    if !added.is_empty() {
                        writeln!(f, "    + {}", self.grants(added))?;
                    }
                    if !removed.is_empty() {
                        writeln!(f, "    - {}", self.grants(removed))?;
                    }
                }
                Action::RemoveMembers { group, emails } => writeln!(
                    f,
                    "- group {:?}: remove {} member(s) ({cost}): {}",
                    group.name,
                    emails.len(),
                    list(emails)
                )?,
                Action::DeleteUsers { users } => writeln!(
                    f,
                    "- delete {} user(s) ({cost}): {}",
                    users.len(),
                    users
                        .iter()
                        .map(|u| u.email.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )?,
                Action::DeleteInvites { emails } => writeln!(
                    f,
                    "- withdraw {} invite(s) ({cost}): {}",
                    emails.len(),
                    list(emails)
                )?,
                Action::DeleteGroup { group } => {
                    writeln!(f, "- delete group {:?} ({cost})", group.name)?
                }
            }
        }
        for note in &self.notes {
            writeln!(f, "note: {note}")?;
        }
        if self.is_empty() {
            writeln!(f, "No changes: the workspace matches the file.")
        } else {
            writeln!(
                f,
                "Plan: {} step(s), {} request(s), {} removal(s).",
                self.steps.len(),
                self.requests(),
                self.removals()
            )
        }
    }
}

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
            self::subject(&subject)
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
            let requests = count(client.users().delete_requests(&ids)?);
            steps.push(Step {
                action: Action::DeleteUsers { users },
                requests,
            });
        }
        if !emails.is_empty() {
            let requests = count(client.invites().delete_requests(&emails)?);
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
    let removal_requests = count(client.groups().remove_members_requests(id, &removed)?);
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
/// A request count from the facade's typed counters as a step's count (a count past `usize`
/// cannot be sent anyway, so it saturates).
fn count(requests: u64) -> usize {
    usize::try_from(requests).unwrap_or(usize::MAX)
}
