//! The memberships phase of an existing group: who joins and who leaves, and the cheapest
//! requests that do it — one add plus the removal's URL-sized chunks, or one replace.

use std::collections::{BTreeMap, HashMap, HashSet};

use segment_iam::Client;

use segment_iam::email::key as email_key;

use crate::error::Result;
use crate::file::MembersMode;
use crate::live::LiveGroup;

use super::types::{Action, GroupRef, Step};

/// Who joins `group` (as the file spells them) and who leaves it (as the service does): in
/// `additive` mode only those whose membership `ended` (expired, by email key) leave, and
/// people being pruned are not removed first (deleting them drops their memberships).
pub(super) fn changes(
    group: &LiveGroup,
    wanted: &BTreeMap<String, &str>,
    mode: MembersMode,
    pruned: &HashSet<String>,
    ended: &HashSet<String>,
) -> (Vec<String>, Vec<String>) {
    let now = group.member_keys();
    let spelled: HashMap<String, &str> = group
        .members
        .iter()
        .chain(&group.invitees)
        .map(|e| (email_key(e), e.as_str()))
        .collect();
    let added: Vec<String> = wanted
        .iter()
        .filter(|(k, _)| !now.contains(*k))
        .map(|(_, e)| e.to_string())
        .collect();
    let leaves = |k: &String| match mode {
        MembersMode::Additive => ended.contains(k),
        MembersMode::Exact => true,
    };
    let removed: Vec<String> = now
        .iter()
        .filter(|k| !wanted.contains_key(*k) && !pruned.contains(*k) && leaves(k))
        .map(|k| spelled.get(k).copied().unwrap_or(k).to_string())
        .collect();
    (added, removed)
}

/// The cheapest correct way to add `added` and remove `removed` from an existing group: one
/// add plus the removal's URL-sized chunks, or one replace with the whole wanted list when
/// that is fewer requests (a tie keeps the narrower add/remove).
pub(super) fn member_steps(
    client: &Client,
    group: &GroupRef,
    wanted: &BTreeMap<String, &str>,
    added: Vec<String>,
    removed: Vec<String>,
) -> Result<Vec<Step>> {
    let id = group.id.as_deref().unwrap_or_default();
    let removal_requests = client.groups().remove_members_requests(id, &removed)?;
    let split = u64::from(!added.is_empty()) + removal_requests;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::fixtures::{client, group};

    fn wanted<'a>(emails: &[&'a str]) -> BTreeMap<String, &'a str> {
        emails.iter().map(|e| (email_key(e), *e)).collect()
    }

    fn existing() -> GroupRef {
        GroupRef {
            name: "G".into(),
            id: Some("g1".into()),
        }
    }

    fn strings(emails: &[&str]) -> Vec<String> {
        emails.iter().map(|e| e.to_string()).collect()
    }

    #[test]
    fn a_group_whose_removals_need_two_requests_is_replaced_in_one() {
        let leaving: Vec<String> = (0..400)
            .map(|i| format!("someone.with.a.long.name.{i:04}@example.com"))
            .collect();
        let client = client();
        let chunks = client
            .groups()
            .remove_members_requests("g1", &leaving)
            .expect("sized");
        assert!(chunks >= 2, "the removal must need several requests");
        let steps = member_steps(&client, &existing(), &wanted(&["a@x.io"]), vec![], leaving)
            .expect("planned");
        assert_eq!(steps.len(), 1);
        assert_eq!(steps[0].requests, 1);
        match &steps[0].action {
            Action::ReplaceMembers {
                emails, removed, ..
            } => {
                assert_eq!(emails, &strings(&["a@x.io"]));
                assert_eq!(removed.len(), 400);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_addition_and_a_removal_are_one_replace_not_two_requests() {
        let steps = member_steps(
            &client(),
            &existing(),
            &wanted(&["a@x.io", "b@x.io"]),
            strings(&["b@x.io"]),
            strings(&["c@x.io"]),
        )
        .expect("planned");
        assert_eq!(steps.len(), 1);
        assert!(matches!(
            &steps[0].action,
            Action::ReplaceMembers { emails, added, removed, .. }
                if emails == &strings(&["a@x.io", "b@x.io"])
                    && added == &strings(&["b@x.io"])
                    && removed == &strings(&["c@x.io"])
        ));
    }

    #[test]
    fn a_removal_in_one_request_stays_a_narrow_removal() {
        let steps = member_steps(
            &client(),
            &existing(),
            &wanted(&["a@x.io"]),
            vec![],
            strings(&["c@x.io"]),
        )
        .expect("planned");
        assert_eq!(steps.len(), 1);
        assert_eq!(steps[0].requests, 1);
        assert!(matches!(
            &steps[0].action,
            Action::RemoveMembers { emails, .. } if emails == &strings(&["c@x.io"])
        ));
    }

    #[test]
    fn additions_only_are_one_add() {
        let steps = member_steps(
            &client(),
            &existing(),
            &wanted(&["a@x.io", "b@x.io"]),
            strings(&["b@x.io"]),
            vec![],
        )
        .expect("planned");
        assert_eq!(steps.len(), 1);
        assert_eq!(steps[0].requests, 1);
        assert!(matches!(
            &steps[0].action,
            Action::AddMembers { emails, .. } if emails == &strings(&["b@x.io"])
        ));
    }

    #[test]
    fn no_change_is_no_step() {
        let steps = member_steps(&client(), &existing(), &wanted(&["a@x.io"]), vec![], vec![])
            .expect("planned");
        assert!(steps.is_empty());
    }

    #[test]
    fn exact_mode_adds_the_missing_and_removes_the_unlisted_as_the_service_spells_them() {
        let live = group("g1", "G", &["Ana@X.io", "bo@x.io"], &[]);
        let (added, removed) = changes(
            &live,
            &wanted(&["ana@x.io", "cy@x.io"]),
            MembersMode::Exact,
            &HashSet::new(),
            &HashSet::new(),
        );
        assert_eq!(added, strings(&["cy@x.io"]));
        assert_eq!(removed, strings(&["bo@x.io"]));
        let mut spelled = group("g1", "G", &[], &[]);
        spelled.invitees = vec!["Dee@X.io".into()];
        let (_, removed) = changes(
            &spelled,
            &wanted(&[]),
            MembersMode::Exact,
            &HashSet::new(),
            &HashSet::new(),
        );
        assert_eq!(removed, strings(&["Dee@X.io"]));
    }

    #[test]
    fn additive_members_mode_never_removes() {
        let live = group("g1", "G", &["ana@x.io", "bo@x.io"], &[]);
        let (added, removed) = changes(
            &live,
            &wanted(&["cy@x.io"]),
            MembersMode::Additive,
            &HashSet::new(),
            &HashSet::new(),
        );
        assert_eq!(added, strings(&["cy@x.io"]));
        assert!(removed.is_empty());
    }

    #[test]
    fn an_ended_membership_leaves_an_additive_group_and_nobody_else_does() {
        let live = group("g1", "G", &["ana@x.io", "Bo@x.io", "cy@x.io"], &[]);
        let ended: HashSet<String> = [email_key("bo@x.io"), email_key("gone@x.io")]
            .into_iter()
            .collect();
        let (added, removed) = changes(
            &live,
            &wanted(&["dee@x.io"]),
            MembersMode::Additive,
            &HashSet::new(),
            &ended,
        );
        assert_eq!(added, strings(&["dee@x.io"]));
        assert_eq!(removed, strings(&["Bo@x.io"]), "as the service spells them");
        let pruned: HashSet<String> = [email_key("bo@x.io")].into_iter().collect();
        let (_, removed) = changes(&live, &wanted(&[]), MembersMode::Additive, &pruned, &ended);
        assert!(
            removed.is_empty(),
            "a pruned person is deleted, not removed first"
        );
    }

    #[test]
    fn pruned_people_are_not_removed_from_groups_first() {
        let live = group("g1", "G", &["ana@x.io", "bo@x.io"], &[]);
        let pruned: HashSet<String> = [email_key("bo@x.io")].into_iter().collect();
        let (added, removed) = changes(
            &live,
            &wanted(&["ana@x.io"]),
            MembersMode::Exact,
            &pruned,
            &HashSet::new(),
        );
        assert!(
            added.is_empty() && removed.is_empty(),
            "{added:?} {removed:?}"
        );
    }
}
