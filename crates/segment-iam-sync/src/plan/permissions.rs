//! The permission rule, for people and groups alike: a file's permissions resolved to
//! (role, resource) pairs, and the one step that makes a subject's pairs the wanted ones —
//! an add when nothing goes, one replace when anything does.

use std::collections::BTreeSet;

use crate::error::{Error, Result};
use crate::file::PermissionEntry;
use crate::grant::Grant;
use crate::live::Live;

use super::render::subject;
use super::types::{Action, Step, Subject};

/// A file's permissions, resolved: role names to ids (with the file's line on an unknown or
/// ambiguous name), `workspace` to the token's workspace.
pub(super) fn resolve(permissions: &[PermissionEntry], live: &Live) -> Result<BTreeSet<Grant>> {
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
            grants.insert(Grant::new(role.id.clone(), resource_type, resource_id));
        }
    }
    Ok(grants)
}

/// The permission step a subject needs to go from `live` to `wanted`, if any: additions only
/// are added, anything removed means one replace. A labelled subject that would change is
/// refused: labels are not managed, and a replace would drop them.
pub(super) fn permission_step(
    whose: Subject,
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
            subject(&whose)
        )));
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
    Ok(Some(Step {
        action,
        requests: 1,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::fixtures::{OWNER, READER, WORKSPACE, file, live, on_workspace};
    use crate::plan::types::GroupRef;

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
        let grants =
            resolve(&f.users.0[0].1.permissions, &live(vec![], &[], vec![])).expect("resolves");
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
        match resolve(&f.users.0[0].1.permissions, &live(vec![], &[], vec![])) {
            Err(Error::File { line, .. }) => assert_eq!(line, 5),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn equal_pairs_need_no_step() {
        let pairs = set(&[on_workspace(READER)]);
        assert_eq!(
            permission_step(whose(), &pairs, true, &pairs).expect("ok"),
            None
        );
    }

    #[test]
    fn additions_only_are_added_not_replaced() {
        let live = set(&[on_workspace(READER)]);
        let wanted = set(&[on_workspace(READER), on_workspace(OWNER)]);
        let step = permission_step(whose(), &live, false, &wanted)
            .expect("ok")
            .expect("a step");
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
        let step = permission_step(whose(), &live, false, &wanted)
            .expect("ok")
            .expect("a step");
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
    fn a_labelled_subject_that_would_change_is_refused() {
        let live = set(&[on_workspace(READER)]);
        let refused = permission_step(whose(), &live, true, &set(&[]));
        assert!(
            matches!(&refused, Err(Error::Live(m)) if m.contains("group \"G\"")),
            "{refused:?}"
        );
    }
}
