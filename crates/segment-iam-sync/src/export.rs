//! The live workspace as an access file: what `plan` on the result shows as no change.
//!
//! Users come first (sorted by email), with their direct permissions, then pending invitees
//! (`{}`: their permissions cannot be read back); groups sorted by name, with members (users
//! and invitees, sorted) and permissions. Roles are written by name, or by id when the name is
//! shared by several roles; the token's own workspace is written `workspace`.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use segment_iam::Client;
use segment_iam::email::key as email_key;
use segment_iam::jobs::read::ReadOptions;

use crate::error::{Error, Result};
use crate::file::{AccessFile, GroupEntry, PermissionEntry, Text, UserEntry};
use crate::grant::Grant;
use crate::live::Live;

/// Reads the live workspace and writes it as a file (see the module docs).
pub async fn export(client: &Client, options: &ReadOptions) -> Result<AccessFile> {
    let live = Live::read(client, options).await?;
    export_from(&live)
}

/// `live` as a file. Refuses what the file cannot express: two groups sharing a name, and
/// permissions narrowed by labels.
pub fn export_from(live: &Live) -> Result<AccessFile> {
    let mut file = AccessFile::new();
    file.workspace = Some(live.workspace_id.clone());

    let mut users: BTreeMap<String, UserEntry> = BTreeMap::new();
    for user in &live.users {
        if user.labelled {
            return Err(Error::Live(format!(
                "user {}'s permissions are narrowed by labels, which the file format does not express",
                user.email
            )));
        }
        users.insert(
            user.email.clone(),
            UserEntry {
                permissions: entries(live, &user.grants),
            },
        );
    }
    let user_keys: BTreeSet<String> = live.users.iter().map(|u| email_key(&u.email)).collect();
    let mut invitees: BTreeMap<String, UserEntry> = BTreeMap::new();
    for email in &live.invites {
        if !user_keys.contains(&email_key(email)) {
            invitees.insert(email.clone(), UserEntry::default());
        }
    }
    for (email, entry) in users.into_iter().chain(invitees) {
        file.users.push(email, entry);
    }

    let mut groups: BTreeMap<&str, GroupEntry> = BTreeMap::new();
    for group in &live.groups {
        if group.labelled {
            return Err(Error::Live(format!(
                "group {:?}'s permissions are narrowed by labels, which the file format does not express",
                group.name
            )));
        }
        let mut members: Vec<&String> = group.members.iter().chain(&group.invitees).collect();
        members.sort_by_key(|e| email_key(e));
        members.dedup_by_key(|e| email_key(e));
        let entry = GroupEntry {
            members: members.into_iter().map(Text::new).collect(),
            permissions: entries(live, &group.grants),
            ..GroupEntry::default()
        };
        if groups.insert(group.name.as_str(), entry).is_some() {
            return Err(Error::Live(format!(
                "several groups are named {:?}: rename all but one in the app first",
                group.name
            )));
        }
    }
    for (name, entry) in groups {
        file.groups.push(name, entry);
    }
    Ok(file)
}

/// Grants as file permissions: one per role, resources sorted, names where unambiguous.
fn entries(live: &Live, grants: &BTreeSet<Grant>) -> Vec<PermissionEntry> {
    let mut name_count: HashMap<String, usize> = HashMap::new();
    for role in live.roles.roles() {
        *name_count
            .entry(role.name.trim().to_lowercase())
            .or_default() += 1;
    }
    let mut by_role: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for g in grants {
        let role = match live.roles.by_id(&g.role_id) {
            Some(role)
                if !role.name.trim().is_empty()
                    && name_count.get(&role.name.trim().to_lowercase()) == Some(&1)
                    // A name that is another role's id would resolve to that role.
                    && live.roles.by_id(role.name.trim()).is_none() =>
            {
                role.name.clone()
            }
            _ => g.role_id.clone(),
        };
        let resource = if g.resource_type == "WORKSPACE" && g.resource_id == live.workspace_id {
            "workspace".to_string()
        } else {
            format!("{}:{}", g.resource_type, g.resource_id)
        };
        by_role.entry(role).or_default().push(resource);
    }
    by_role
        .into_iter()
        .map(|(role, resources)| PermissionEntry::new(role, resources))
        .collect()
}
