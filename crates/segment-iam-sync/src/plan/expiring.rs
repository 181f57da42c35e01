//! The plan's side of expiry: which step removes each expired entry, so the rendered plan and
//! its JSON say "expired on …" at the removal itself. The entries were already dropped from
//! the file the phases planned ([`crate::AccessFile::at`]); nothing here changes a step.

use segment_iam::email::key as email_key;

use crate::expiry::permission_entry;

use super::index::Index;
use super::permissions::resolve;
use super::types::{Action, Ending, Expiry, Step, Subject};

/// `expired` with [`Expiry::step`] set to the step that removes each (the first, in run
/// order), or `None` when no step does: the entry is no longer live.
pub(super) fn link(mut expired: Vec<Expiry>, steps: &[Step], ix: &Index<'_>) -> Vec<Expiry> {
    for expiry in &mut expired {
        expiry.step = steps
            .iter()
            .position(|step| removes(&step.action, &expiry.entry, ix));
    }
    expired
}

/// Whether `action` removes what `entry` granted.
fn removes(action: &Action, entry: &Ending, ix: &Index<'_>) -> bool {
    match (entry, action) {
        (
            Ending::Member { group, email },
            Action::RemoveMembers { group: g, emails }
            | Action::ReplaceMembers {
                group: g,
                removed: emails,
                ..
            },
        ) => g.name == *group && emails.iter().any(|e| email_key(e) == email_key(email)),
        (
            Ending::UserPermission { .. } | Ending::GroupPermission { .. },
            Action::ReplacePermissions {
                subject, removed, ..
            },
        ) => {
            let whose = match (entry, subject) {
                (Ending::UserPermission { email, .. }, Subject::User { email: e, .. }) => {
                    email_key(e) == email_key(email)
                }
                (Ending::GroupPermission { group, .. }, Subject::Group { group: g }) => {
                    g.name == *group
                }
                _ => false,
            };
            // An entry whose role no longer resolves granted nothing this plan can see.
            let granted = permission_entry(entry)
                .and_then(|p| resolve(std::slice::from_ref(&p), ix).ok())
                .unwrap_or_default();
            whose && removed.iter().any(|g| granted.contains(g))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    use crate::error::{Error, Result};
    use crate::live::Live;
    use crate::plan::fixtures::{OWNER, READER, client, file, group, live, on_workspace, user};
    use crate::plan::{Plan, PlanOptions, plan_with};
    use segment_iam::guard::Refusal;

    use super::*;

    /// 2027-04-01T00:00:00Z: every `2027-03-31` has just ended.
    fn april() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_806_537_600)
    }

    fn planned(yaml: &str, w: &Live, now: SystemTime) -> Result<Plan> {
        plan_with(&file(yaml), w, &client(), &PlanOptions::at(now))
    }

    /// Owner holds the workspace; temp has a direct Reader; groups E (exact) and A (additive)
    /// each hold one member whose membership ends, G holds a Reader grant that ends.
    fn workspace() -> Live {
        live(
            vec![
                user("u1", "own@x.io", &[on_workspace(OWNER)]),
                user("u2", "temp@x.io", &[on_workspace(READER)]),
                user("u3", "ana@x.io", &[]),
                user("u4", "bo@x.io", &[]),
                user("u5", "extra@x.io", &[]),
            ],
            &[],
            vec![
                group("g1", "E", &["ana@x.io", "bo@x.io"], &[]),
                group("g2", "A", &["ana@x.io", "bo@x.io", "extra@x.io"], &[]),
                group("g3", "G", &["ana@x.io"], &[on_workspace(READER)]),
            ],
        )
    }

    const FILE: &str = "version: 1
prune: { users: true }
users:
  own@x.io:
    permissions:
      - role: Workspace Owner
        resources: [workspace]
  temp@x.io:
    permissions:
      - role: Reader
        resources: [workspace]
        expires: 2027-03-31
  ana@x.io:
  extra@x.io:
groups:
  E:
    members: [ana@x.io, {email: bo@x.io, expires: 2027-03-31}]
  A:
    members_mode: additive
    members: [ana@x.io, {email: bo@x.io, expires: 2027-03-31T12:00:00Z}]
  G:
    members: [ana@x.io]
    permissions:
      - role: Reader
        resources: [workspace]
        expires: 2027-03-31
";

    #[test]
    fn before_the_expiry_nothing_changes_and_after_exactly_the_expired_go() {
        let w = workspace();
        let before = planned(FILE, &w, april() - Duration::from_secs(13 * 3600)).expect("plan");
        assert!(before.is_empty(), "{before}");
        assert!(before.expired.is_empty());
        assert_eq!(before.expiring.len(), 4, "{before}");

        let plan = planned(FILE, &w, april()).expect("plan");
        // bo@x.io leaves E (exact) and A (additive, extra@x.io stays); temp's and G's Reader go;
        // bo is not pruned from the workspace for it.
        let actions: Vec<&Action> = plan.steps.iter().map(|s| &s.action).collect();
        assert_eq!(actions.len(), 4, "{plan}");
        assert_eq!(plan.requests(), 4);
        assert_eq!(plan.removals(), 4);
        assert!(
            !actions
                .iter()
                .any(|a| matches!(a, Action::DeleteUsers { .. })),
            "{plan}"
        );
        assert_eq!(plan.expired.len(), 4);
        assert!(plan.expiring.is_empty());
        let mut linked: Vec<usize> = plan.expired.iter().filter_map(|e| e.step).collect();
        linked.sort();
        assert_eq!(linked, [0, 1, 2, 3], "each removal is an expiry's: {plan}");
        let text = plan.to_string();
        assert_eq!(text.matches("expired on 2027-03-31").count(), 4, "{text}");
        assert!(
            text.contains("expired on 2027-03-31T12:00:00Z: bo@x.io in group \"A\" (line 20)"),
            "{text}"
        );
        assert!(
            text.contains("Reader on workspace for user temp@x.io (line 12)"),
            "{text}"
        );
        let json = plan.to_json();
        assert!(json.contains("\"kind\": \"group_permission\""), "{json}");
        assert_eq!(Plan::from_json(&json).expect("reads back"), plan);
    }

    #[test]
    fn once_removed_the_same_clock_plans_nothing_and_says_what_to_tidy() {
        let w = live(
            vec![
                user("u1", "own@x.io", &[on_workspace(OWNER)]),
                user("u2", "temp@x.io", &[]),
                user("u3", "ana@x.io", &[]),
                user("u4", "bo@x.io", &[]),
                user("u5", "extra@x.io", &[]),
            ],
            &[],
            vec![
                group("g1", "E", &["ana@x.io"], &[]),
                group("g2", "A", &["ana@x.io", "extra@x.io"], &[]),
                group("g3", "G", &["ana@x.io"], &[]),
            ],
        );
        let plan = planned(FILE, &w, april()).expect("plan");
        assert!(plan.is_empty(), "{plan}");
        assert!(plan.expired.iter().all(|e| e.step.is_none()));
        assert!(
            plan.to_string().contains("nothing left to remove"),
            "{plan}"
        );
    }

    #[test]
    fn a_future_expiry_is_warned_within_the_window_and_silent_beyond() {
        let w = workspace();
        let now = april() - Duration::from_secs(3 * 86_400);
        let warned = planned(FILE, &w, now).expect("plan");
        assert!(warned.is_empty());
        assert_eq!(warned.expiring.len(), 4);
        assert!(
            warned.to_string().contains(
                "warning: expires on 2027-03-31: bo@x.io in group \"E\" (line 17); kept until then"
            ),
            "{warned}"
        );
        let options = PlanOptions::at(now).warn_expiring(Duration::from_secs(2 * 86_400));
        let quiet = plan_with(&file(FILE), &w, &client(), &options).expect("plan");
        assert!(quiet.expiring.is_empty() && quiet.is_empty(), "{quiet}");
        assert!(!quiet.to_string().contains("expire"), "{quiet}");
    }

    #[test]
    fn an_expiry_that_would_remove_the_last_owner_is_refused() {
        let w = live(
            vec![user("u1", "own@x.io", &[]), user("u2", "bo@x.io", &[])],
            &[],
            vec![
                group("g1", "Owners", &["own@x.io"], &[on_workspace(OWNER)]),
                group("g2", "Direct", &[], &[]),
            ],
        );
        let additive = "version: 1\ngroups:\n  Owners:\n    members_mode: additive\n    members: [{email: own@x.io, expires: 2027-03-31}]\n    permissions:\n      - role: Workspace Owner\n        resources: [workspace]\n";
        assert!(planned(additive, &w, april() - Duration::from_secs(1)).is_ok());
        assert!(matches!(
            planned(additive, &w, april()),
            Err(Error::Refused(Refusal::LastOwner { .. }))
        ));
        let grant = "version: 1\ngroups:\n  Owners:\n    members: [own@x.io]\n    permissions:\n      - role: Workspace Owner\n        resources: [workspace]\n        expires: 2027-03-31\n";
        assert!(matches!(
            planned(grant, &w, april()),
            Err(Error::Refused(Refusal::LastOwner { .. }))
        ));
    }

    #[test]
    fn an_expired_member_who_is_nobody_any_more_is_not_refused() {
        let w = live(vec![user("u1", "ana@x.io", &[])], &[], vec![]);
        let yaml = "version: 1\ngroups:\n  New:\n    members: [ana@x.io, {email: gone@x.io, expires: 2027-03-31}]\n";
        let plan = planned(yaml, &w, april()).expect("the expired member is absent");
        assert!(matches!(
            &plan.steps[1].action,
            Action::AddMembers { emails, .. } if emails == &["ana@x.io"]
        ));
        assert_eq!(plan.expired[0].step, None);
    }

    #[test]
    fn a_pair_another_entry_still_grants_is_not_removed() {
        let w = live(
            vec![
                user("u1", "own@x.io", &[on_workspace(OWNER)]),
                user("u2", "a@x.io", &[on_workspace(READER)]),
            ],
            &[],
            vec![],
        );
        let yaml = "version: 1\nusers:\n  a@x.io:\n    permissions:\n      - role: Reader\n        resources: [workspace]\n        expires: 2027-03-31\n      - role: Reader\n        resources: [workspace]\n";
        let plan = planned(yaml, &w, april()).expect("plan");
        assert!(plan.is_empty(), "{plan}");
        assert_eq!(plan.expired.len(), 1);
        assert_eq!(plan.expired[0].step, None);
    }
}
