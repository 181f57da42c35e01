//! The permission rule, for people and groups alike: a file's permissions resolved to grants
//! (role, resource, labels), and the one step that makes a subject's grants the wanted ones —
//! an add when nothing goes, one replace when anything does (a label added to or taken from a
//! grant replaces it: the narrowed grant is another grant).

use std::collections::BTreeSet;

use crate::error::Result;
use crate::file::{PermissionEntry, parse_labels};
use crate::grant::Grant;

use super::index::Index;
use super::types::{Action, Step, Subject};

/// A file's permissions, resolved: role names to ids (with the file's line on an unknown or
/// ambiguous name), `workspace` to the token's workspace, each resource narrowed by the
/// entry's labels; a label neither live nor listed under `labels` refused at its line.
pub(super) fn resolve(permissions: &[PermissionEntry], ix: &Index<'_>) -> Result<BTreeSet<Grant>> {
    let live = ix.live;
    let mut grants = BTreeSet::new();
    for permission in permissions {
        let role = live
            .roles
            .resolve(&permission.role.value)
            .map_err(|e| permission.role.error(e.to_string()))?;
        let labels = parse_labels(&permission.labels)?;
        if let Some(text) = permission
            .labels
            .iter()
            .find(|t| t.value.parse().is_ok_and(|l| !ix.known_labels.contains(&l)))
        {
            return Err(text.error(format!(
                "label {} does not exist; list it under `labels:` to create it",
                text.value.trim()
            )));
        }
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
            grants.insert(
                Grant::new(role.id.clone(), resource_type, resource_id)
                    .narrowed(labels.iter().cloned()),
            );
        }
    }
    Ok(grants)
}

/// The permission step a subject needs to go from `live` to `wanted`, if any: additions only
/// are added, anything removed means one replace.
pub(super) fn permission_step(
    whose: Subject,
    live: &BTreeSet<Grant>,
    wanted: &BTreeSet<Grant>,
) -> Option<Step> {
    if live == wanted {
        return None;
    }
    let added: Vec<Grant> = wanted.difference(live).cloned().collect();
    let removed: Vec<Grant> = live.difference(wanted).cloned().collect();
    let action = if removed.is_empty() {
        Action::AddPermissions {
            subject: whose,
            grants: added,
        }
    } else {
        Action::ReplacePermissions {
            subject: whose,
            grants: wanted.iter().cloned().collect(),
            added,
            removed,
        }
    };
    Some(Step {
        action,
        requests: 1,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use crate::file::AccessFile;
    use crate::live::Live;
    use crate::plan::fixtures::{OWNER, READER, WORKSPACE, file, label, live, on_workspace};
    use crate::plan::types::GroupRef;

    /// The first user's permissions in `f`, resolved against `w`.
    fn resolved(f: &AccessFile, w: &Live) -> Result<BTreeSet<Grant>> {
        let ix = Index::new(f, w)?;
        resolve(&f.users.0[0].1.permissions, &ix)
    }

    fn set(grants: &[Grant]) -> BTreeSet<Grant> {
        grants.iter().cloned().collect()
    }

    fn whose() -> Subject {
        Subject::Group {
            group: GroupRef {
                name: "G".into(),
                id: Some("g1".into()),
            },
        }
    }

    #[test]
    fn role_names_in_any_case_and_workspace_resolve_to_ids_and_the_tokens_workspace() {
        let f = file(
            "version: 1\nusers:\n  a@x.io:\n    permissions:\n      - role: workspace owner\n        resources: [workspace, \"SOURCE:s1\"]\n      - role: r-reader\n        resources: [workspace]\n",
        );
        let grants = resolved(&f, &live(vec![], &[], vec![])).expect("resolves");
        let source = Grant::new(OWNER, "SOURCE", "s1");
        assert_eq!(
            grants,
            set(&[on_workspace(OWNER), source, on_workspace(READER)])
        );
        assert!(grants.iter().any(|g| g.resource_id == WORKSPACE));
    }

    #[test]
    fn an_unknown_role_is_refused_at_its_line() {
        let f = file(
            "version: 1\nusers:\n  a@x.io:\n    permissions:\n      - role: Nobody\n        resources: [workspace]\n",
        );
        match resolved(&f, &live(vec![], &[], vec![])) {
            Err(Error::File { line, .. }) => assert_eq!(line, 5),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn equal_pairs_need_no_step() {
        let pairs = set(&[on_workspace(READER)]);
        assert_eq!(permission_step(whose(), &pairs, &pairs), None);
    }

    #[test]
    fn additions_only_are_added_not_replaced() {
        let live = set(&[on_workspace(READER)]);
        let wanted = set(&[on_workspace(READER), on_workspace(OWNER)]);
        let step = permission_step(whose(), &live, &wanted).expect("a step");
        assert_eq!(step.requests, 1);
        assert_eq!(
            step.action,
            Action::AddPermissions {
                subject: whose(),
                grants: vec![on_workspace(OWNER)]
            }
        );
    }

    #[test]
    fn any_removal_is_one_replace_with_the_whole_wanted_set() {
        let live = set(&[on_workspace(READER)]);
        let wanted = set(&[on_workspace(OWNER)]);
        let step = permission_step(whose(), &live, &wanted).expect("a step");
        assert_eq!(step.requests, 1);
        assert_eq!(
            step.action,
            Action::ReplacePermissions {
                subject: whose(),
                grants: vec![on_workspace(OWNER)],
                added: vec![on_workspace(OWNER)],
                removed: vec![on_workspace(READER)],
            }
        );
    }

    #[test]
    fn an_entrys_labels_narrow_each_of_its_resources() {
        let f = file(
            "version: 1\nusers:\n  a@x.io:\n    permissions:\n      - role: Reader\n        resources: [workspace, \"SOURCE:s1\"]\n        labels: [region:emea, environment:prod]\n      - role: Reader\n        resources: [workspace]\nlabels: [region:emea]\n",
        );
        let grants = resolved(&f, &live(vec![], &[], vec![])).expect("resolves");
        let narrowed = [label("environment:prod"), label("region:emea")];
        assert_eq!(
            grants,
            set(&[
                on_workspace(READER),
                on_workspace(READER).narrowed(narrowed.clone()),
                Grant::new(READER, "SOURCE", "s1").narrowed(narrowed),
            ])
        );
    }

    #[test]
    fn a_label_neither_live_nor_listed_is_refused_at_its_line_and_a_listed_one_is_not() {
        let yaml = "version: 1\nusers:\n  a@x.io:\n    permissions:\n      - role: Reader\n        resources: [workspace]\n        labels: [environment:prod, region:emea]\n";
        match resolved(&file(yaml), &live(vec![], &[], vec![])) {
            Err(Error::File { line, message, .. }) => {
                assert_eq!(line, 7);
                assert_eq!(
                    message,
                    "label region:emea does not exist; list it under `labels:` to create it"
                );
            }
            other => panic!("{other:?}"),
        }
        let listed = format!("{yaml}labels: [region:emea]\n");
        assert_eq!(
            resolved(&file(&listed), &live(vec![], &[], vec![]))
                .expect("listed")
                .len(),
            1
        );
    }

    #[test]
    fn a_label_added_to_a_grant_is_one_replace_and_a_new_narrowed_grant_one_add() {
        let plain = set(&[on_workspace(READER)]);
        let narrowed = on_workspace(READER).narrowed([label("environment:prod")]);
        let step = permission_step(whose(), &plain, &set(std::slice::from_ref(&narrowed)))
            .expect("a step");
        assert_eq!(step.requests, 1);
        assert_eq!(
            step.action,
            Action::ReplacePermissions {
                subject: whose(),
                grants: vec![narrowed.clone()],
                added: vec![narrowed.clone()],
                removed: vec![on_workspace(READER)],
            }
        );
        assert_eq!(step.action.removals(), 1);
        let both = set(&[on_workspace(READER), narrowed.clone()]);
        let step = permission_step(whose(), &plain, &both).expect("a step");
        assert_eq!(
            step.action,
            Action::AddPermissions {
                subject: whose(),
                grants: vec![narrowed]
            }
        );
    }
}
