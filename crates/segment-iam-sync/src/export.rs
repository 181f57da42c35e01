//! The live workspace as an access file: what `plan` on the result shows as no change.
//!
//! Users come first (sorted by email), with their direct permissions, then pending invitees
//! (`{}`: their permissions cannot be read back); groups sorted by name, with members (users
//! and invitees, sorted) and permissions; then every label of the workspace. A permission
//! entry holds the resources of one role narrowed by one label set (the plain ones apart).
//! Roles are written by name, or by id when the name is shared by several roles; the token's
//! own workspace is written `workspace`.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use segment_iam::email::key as email_key;
use segment_iam::jobs::read::ReadOptions;
use segment_iam::{Client, Label};

use crate::error::{Error, Result};
use crate::file::{AccessFile, GroupEntry, Member, PermissionEntry, Text, UserEntry};
use crate::grant::Grant;
use crate::live::Live;

/// Reads the live workspace and writes it as a file (see the module docs).
pub async fn export(client: &Client, options: &ReadOptions) -> Result<AccessFile> {
    let live = Live::read(client, options).await?;
    export_from(&live)
}

/// `live` as a file. Refuses what the file cannot express: two groups sharing a name; and a
/// scoped read ([`Live::read_for`] of a file without prune), which holds only part of the
/// workspace.
pub fn export_from(live: &Live) -> Result<AccessFile> {
    if live.scope.is_some() {
        return Err(Error::Live(
            "export needs the whole workspace, and this read was scoped to a file: read it with `Live::read`".into(),
        ));
    }
    let mut file = AccessFile::new();
    file.workspace = Some(live.workspace_id.clone());

    let mut users: BTreeMap<String, UserEntry> = BTreeMap::new();
    for user in &live.users {
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
        let mut members: Vec<&String> = group.members.iter().chain(&group.invitees).collect();
        members.sort_by_key(|e| email_key(e));
        members.dedup_by_key(|e| email_key(e));
        let entry = GroupEntry {
            members: members.into_iter().map(Member::new).collect(),
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
    file.labels = live
        .labels
        .iter()
        .map(|l| Text::new(l.to_string()))
        .collect();
    Ok(file)
}

/// Grants as file permissions: one per role and label set, resources sorted, names where
/// unambiguous.
fn entries(live: &Live, grants: &BTreeSet<Grant>) -> Vec<PermissionEntry> {
    let mut name_count: HashMap<String, usize> = HashMap::new();
    for role in live.roles.roles() {
        *name_count
            .entry(role.name.trim().to_lowercase())
            .or_default() += 1;
    }
    let mut by_role: BTreeMap<(String, &BTreeSet<Label>), Vec<String>> = BTreeMap::new();
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
        by_role.entry((role, &g.labels)).or_default().push(resource);
    }
    by_role
        .into_iter()
        .map(|((role, labels), resources)| {
            PermissionEntry::new(role, resources).labels(labels.iter().map(Label::to_string))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::fixtures::{OWNER, READER, client, group, label, live, on_workspace, user};

    #[test]
    fn a_labelled_workspace_exports_by_role_and_label_set_and_plans_nothing() {
        let prod = [label("environment:prod")];
        let mut w = live(
            vec![user(
                "u1",
                "a@x.io",
                &[
                    on_workspace(OWNER),
                    on_workspace(READER).narrowed(prod.clone()),
                    Grant::new(READER, "SOURCE", "s1").narrowed(prod.clone()),
                    Grant::new(READER, "SOURCE", "s2"),
                ],
            )],
            &[],
            vec![group(
                "g1",
                "G",
                &["a@x.io"],
                &[on_workspace(READER).narrowed([label("region:emea"), label("environment:dev")])],
            )],
        );
        w.labels.insert(label("region:emea"));
        let file = export_from(&w).expect("exports");
        let text = file.to_yaml().expect("writes");
        let user = &file.users.0[0].1.permissions;
        let shown: Vec<(String, Vec<String>, Vec<String>)> = user
            .iter()
            .map(|p| {
                (
                    p.role.value.clone(),
                    p.resources.iter().map(|r| r.value.clone()).collect(),
                    p.labels.iter().map(|l| l.value.clone()).collect(),
                )
            })
            .collect();
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            shown,
            [
                ("Reader".into(), s(&["SOURCE:s2"]), s(&[])),
                (
                    "Reader".into(),
                    s(&["SOURCE:s1", "workspace"]),
                    s(&["environment:prod"])
                ),
                ("Workspace Owner".into(), s(&["workspace"]), s(&[])),
            ],
            "{text}"
        );
        let listed: Vec<&str> = file.labels.iter().map(|t| t.value.as_str()).collect();
        assert_eq!(
            listed,
            ["environment:dev", "environment:prod", "region:emea"]
        );
        assert!(text.contains("labels:\n- environment:dev"), "{text}");
        let reread = AccessFile::parse(&text).expect("reads back");
        let plan = crate::plan(&reread, &w, &client()).expect("planned");
        assert!(plan.is_empty(), "{plan}");
    }
}
