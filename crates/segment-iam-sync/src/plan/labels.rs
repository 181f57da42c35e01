//! The labels phase: a label listed under `labels` and missing is created (before the grants
//! that use it, by [`Action::phase`]); with `prune.labels`, a live label the file does not
//! list is deleted once nothing uses it: no grant after the plan (so it runs after the
//! revocations that free it) and no source. A label in use is kept, and the plan says so.

use std::collections::BTreeSet;

use segment_iam::Label;
use segment_iam::email::key as email_key;

use crate::error::{Error, Result};
use crate::file::AccessFile;

use super::guards::After;
use super::index::Index;
use super::types::{Action, Step};

/// What the labels phase decided.
pub(super) struct Labels {
    /// Creations, then deletions.
    pub steps: Vec<Step>,
    /// Unlisted labels kept because they are in use, and what could not be checked.
    pub notes: Vec<String>,
}

/// The labels phase (see the module docs). `after` is every grant's holder after the plan;
/// `steps` are the other phases' steps (the invitations carry grants too).
pub(super) fn labels(
    file: &AccessFile,
    ix: &Index<'_>,
    after: &After<'_>,
    steps: &[Step],
) -> Result<Labels> {
    let live = &ix.live.labels;
    let mut labels = Labels {
        steps: ix
            .listed_labels
            .difference(live)
            .map(|label| Step {
                action: Action::CreateLabel {
                    label: label.clone(),
                },
                requests: 1,
            })
            .collect(),
        notes: Vec::new(),
    };
    if !file.prune.labels {
        return Ok(labels);
    }
    let unlisted: Vec<&Label> = live.difference(&ix.listed_labels).collect();
    if unlisted.is_empty() {
        return Ok(labels);
    }
    let Some(on_sources) = &ix.live.source_labels else {
        return Err(Error::Live(
            "`prune.labels` may delete labels, and a label a source carries is in use, but the sources were not read (read the workspace with `Live::read_for`)".into(),
        ));
    };
    let granted = used_by_grants(ix, after, steps);
    let mut kept = Vec::new();
    for label in unlisted {
        if granted.contains(label) || on_sources.contains(label) {
            kept.push(label.to_string());
        } else {
            labels.steps.push(Step {
                action: Action::DeleteLabel {
                    label: label.clone(),
                },
                requests: 1,
            });
        }
    }
    if !kept.is_empty() {
        labels.notes.push(format!(
            "{} label(s) not listed under `labels` kept, in use by a grant or a source: {}",
            kept.len(),
            kept.join(", ")
        ));
    }
    let deletes = labels
        .steps
        .iter()
        .any(|s| matches!(s.action, Action::DeleteLabel { .. }));
    if deletes && !ix.live.invites.is_empty() {
        labels.notes.push(format!(
            "{} pending invite(s): the API does not return an invite's permissions, so a label one of them uses cannot be seen here (the service refuses to delete a label in use, and the apply stops there)",
            ix.live.invites.len()
        ));
    }
    Ok(labels)
}

/// Every label some grant narrows by after the plan: remaining users' direct grants, the
/// remaining groups' grants, and the invitations' grants.
fn used_by_grants(ix: &Index<'_>, after: &After<'_>, steps: &[Step]) -> BTreeSet<Label> {
    let users = ix
        .live
        .users
        .iter()
        .filter(|u| !after.pruned.contains(&email_key(&u.email)))
        .filter_map(|u| after.user_grants.get(&u.id))
        .flatten();
    let groups = after.groups.iter().flat_map(|g| &g.grants);
    let invited = steps.iter().flat_map(|s| match &s.action {
        Action::Invite { invites } => invites.iter().flat_map(|i| &i.grants).collect(),
        _ => Vec::new(),
    });
    users
        .chain(groups)
        .chain(invited)
        .flat_map(|g| g.labels.iter().cloned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::Live;
    use crate::plan::fixtures::{READER, client, file, group, label, live, on_workspace, user};
    use crate::plan::{Plan, plan};

    /// A workspace with labels environment:dev/prod and region:emea: u1 holds Reader narrowed
    /// by region:emea directly; group G (u2) holds Reader narrowed by environment:prod; a
    /// source carries environment:dev.
    fn workspace() -> Live {
        let mut w = live(
            vec![
                user(
                    "u1",
                    "a@x.io",
                    &[on_workspace(READER).narrowed([label("region:emea")])],
                ),
                user("u2", "b@x.io", &[]),
            ],
            &[],
            vec![group(
                "g1",
                "G",
                &["b@x.io"],
                &[on_workspace(READER).narrowed([label("environment:prod")])],
            )],
        );
        w.labels.insert(label("region:emea"));
        w.source_labels = Some([label("environment:dev")].into());
        w
    }

    const KEEP_ALL: &str = "version: 1\nusers:\n  a@x.io:\n    permissions:\n      - role: Reader\n        resources: [workspace]\n        labels: [region:emea]\ngroups:\n  G:\n    members: [b@x.io]\n    permissions:\n      - role: Reader\n        resources: [workspace]\n        labels: [environment:prod]\n";

    fn planned(yaml: &str, w: &Live) -> Plan {
        plan(&file(yaml), w, &client()).unwrap_or_else(|e| panic!("{e}"))
    }

    fn label_steps(plan: &Plan) -> Vec<String> {
        plan.steps
            .iter()
            .filter_map(|s| match &s.action {
                Action::CreateLabel { label } => Some(format!("+{label}")),
                Action::DeleteLabel { label } => Some(format!("-{label}")),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn listed_labels_missing_are_created_before_the_grants_that_use_them() {
        let yaml = format!(
            "{}labels: [environment:prod, region:us]\n",
            KEEP_ALL.replace(
                "labels: [environment:prod]",
                "labels: [environment:prod, region:us]"
            )
        );
        let p = planned(&yaml, &workspace());
        assert_eq!(label_steps(&p), ["+region:us"]);
        assert!(
            matches!(p.steps[0].action, Action::CreateLabel { .. }),
            "{p}"
        );
        assert!(
            matches!(p.steps[1].action, Action::ReplacePermissions { .. }),
            "{p}"
        );
        assert_eq!(p.requests(), 2);
        assert_eq!(p.removals(), 1, "the group's grant narrowed again");
    }

    #[test]
    fn without_prune_labels_nothing_is_deleted() {
        let p = planned(KEEP_ALL, &workspace());
        assert!(p.is_empty(), "{p}");
    }

    #[test]
    fn prune_deletes_only_unused_labels_and_notes_the_kept() {
        let yaml = format!("{KEEP_ALL}prune: {{ labels: true }}\n");
        let p = planned(&yaml, &workspace());
        // region:emea and environment:prod narrow grants; environment:dev is on a source.
        assert!(p.is_empty(), "{p}");
        assert_eq!(p.notes.len(), 1, "{:?}", p.notes);
        assert!(p.notes[0].contains("environment:dev, environment:prod, region:emea"));

        let mut unused = workspace();
        unused.source_labels = Some(BTreeSet::new());
        let p = planned(&yaml, &unused);
        assert_eq!(label_steps(&p), ["-environment:dev"]);
        assert_eq!((p.requests(), p.removals()), (1, 1));
    }

    #[test]
    fn a_label_freed_by_a_revocation_is_deleted_after_it() {
        let mut w = workspace();
        w.source_labels = Some(BTreeSet::new());
        // a@x.io loses the grant narrowed by region:emea; the group's stays.
        let yaml = "version: 1\nprune: { labels: true }\nlabels: [environment:dev]\nusers:\n  a@x.io:\ngroups:\n  G:\n    members: [b@x.io]\n    permissions:\n      - role: Reader\n        resources: [workspace]\n        labels: [environment:prod]\n";
        let p = planned(yaml, &w);
        assert_eq!(label_steps(&p), ["-region:emea"], "{p}");
        let revoke = p
            .steps
            .iter()
            .position(|s| matches!(s.action, Action::ReplacePermissions { .. }))
            .expect("the revocation");
        let delete = p
            .steps
            .iter()
            .position(|s| matches!(s.action, Action::DeleteLabel { .. }))
            .expect("the deletion");
        assert!(revoke < delete, "{p}");
        assert_eq!(p.removals(), 2);
    }

    #[test]
    fn a_label_used_by_an_invitation_or_a_pruned_group_counts_as_it_should() {
        let mut w = workspace();
        w.source_labels = Some(BTreeSet::new());
        // The group goes (prune.groups), so environment:prod is free; the invitee uses
        // region:emea, which a@x.io stops using.
        let yaml = "version: 1\nprune: { labels: true, groups: true }\nlabels: [environment:dev]\nusers:\n  a@x.io:\n  new@x.io:\n    permissions:\n      - role: Reader\n        resources: [workspace]\n        labels: [region:emea]\n";
        let p = planned(yaml, &w);
        assert_eq!(label_steps(&p), ["-environment:prod"], "{p}");
        assert_eq!(p.steps.last().map(|s| s.action.phase()), Some(7));
    }

    #[test]
    fn pruning_labels_without_the_sources_read_is_refused() {
        let mut w = workspace();
        w.source_labels = None;
        let yaml = format!("{KEEP_ALL}prune: {{ labels: true }}\n");
        let refused = plan(&file(&yaml), &w, &client());
        assert!(
            matches!(&refused, Err(Error::Live(m)) if m.contains("sources were not read")),
            "{refused:?}"
        );
        assert!(w.needs_sources(&file(&yaml)));
        let all = format!("{yaml}labels: [environment:dev, environment:prod, region:emea]\n");
        assert!(!w.needs_sources(&file(&all)), "nothing to delete");
        assert!(planned(&all, &w).is_empty());
        assert!(!w.needs_sources(&file(KEEP_ALL)), "no prune");
    }
}
