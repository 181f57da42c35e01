//! A plan as the operator reads it: one line per step with its cost, then notes and totals.

use std::fmt;

use segment_iam::label;

use crate::grant::Grant;

use super::types::{Action, Ending, Expiry, Plan, Step, Subject};

/// What an expiring entry is, for a person: `ana@x.io in "Analysts"`, `Source Admin on
/// workspace for user ana@x.io`, with its line.
fn ending(e: &Expiry) -> String {
    let what = match &e.entry {
        Ending::Member { group, email } => format!("{email} in group {group:?}"),
        Ending::UserPermission {
            email,
            role,
            resources,
            labels,
        } => format!("{} for user {email}", permission(role, resources, labels)),
        Ending::GroupPermission {
            group,
            role,
            resources,
            labels,
        } => format!(
            "{} for group {group:?}",
            permission(role, resources, labels)
        ),
    };
    if e.line == 0 {
        what
    } else {
        format!("{what} (line {})", e.line)
    }
}

fn permission(role: &str, resources: &[String], labels: &[String]) -> String {
    let on = format!("{role} on {}", resources.join(", "));
    if labels.is_empty() {
        on
    } else {
        format!("{on} narrowed by {}", labels.join("&"))
    }
}

impl Plan {
    fn role_name<'a>(&'a self, id: &'a str) -> &'a str {
        self.roles.get(id).map(String::as_str).unwrap_or(id)
    }

    fn grant(&self, g: &Grant) -> String {
        let resource = if g.resource_type == "WORKSPACE" && g.resource_id == self.workspace_id {
            "workspace".to_string()
        } else {
            format!("{}:{}", g.resource_type, g.resource_id)
        };
        let role = self.role_name(&g.role_id);
        if g.is_narrowed() {
            format!(
                "{role} on {resource} narrowed by {}",
                label::joined(&g.labels)
            )
        } else {
            format!("{role} on {resource}")
        }
    }

    fn grants(&self, grants: &[Grant]) -> String {
        grants
            .iter()
            .map(|g| self.grant(g))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// How a step names whose permissions it changes.
pub(crate) fn subject(s: &Subject) -> String {
    match s {
        Subject::User { email, .. } => format!("user {email}"),
        Subject::Group { group } => format!("group {:?}", group.name),
    }
}

fn list(items: &[String]) -> String {
    items.join(", ")
}

impl Plan {
    /// One step's line (and, for invites and replacements, who or what it adds and removes).
    pub(crate) fn write_step(&self, f: &mut fmt::Formatter<'_>, step: &Step) -> fmt::Result {
        let n = step.requests;
        let cost = if n == 1 {
            "1 request".to_string()
        } else {
            format!("{n} requests")
        };
        match &step.action {
            Action::CreateLabel { label } => writeln!(f, "+ create label {label} ({cost})")?,
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
            Action::DeleteLabel { label } => writeln!(f, "- delete label {label} ({cost})")?,
        }
        Ok(())
    }
}

/// The readable diff: `+` creates and adds, `~` replaces, `-` removes and deletes, each with
/// its request count; then the notes and the totals.
impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, step) in self.steps.iter().enumerate() {
            self.write_step(f, step)?;
            for e in self.expired.iter().filter(|e| e.step == Some(i)) {
                writeln!(f, "    expired on {}: {}", e.expires, ending(e))?;
            }
        }
        self.write_tail(f)
    }
}

impl Plan {
    /// The notes and the totals, after the steps (also under `crate::explain::Explained`).
    pub(crate) fn write_tail(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for note in &self.notes {
            writeln!(f, "note: {note}")?;
        }
        for e in self.expired.iter().filter(|e| e.step.is_none()) {
            writeln!(
                f,
                "note: expired on {}: {}; nothing left to remove, delete it from the file",
                e.expires,
                ending(e)
            )?;
        }
        for e in &self.expiring {
            writeln!(
                f,
                "warning: expires on {}: {}; kept until then",
                e.expires,
                ending(e)
            )?;
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::plan::types::{GroupRef, NewInvite, PLAN_FORMAT, UserRef};

    fn grant(role: &str, kind: &str, id: &str) -> Grant {
        Grant::new(role, kind, id)
    }

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    fn plan(steps: Vec<(Action, u64)>) -> Plan {
        Plan {
            format: PLAN_FORMAT,
            workspace_id: "ws1".into(),
            live_fingerprint: String::new(),
            roles: BTreeMap::from([("r1".to_string(), "Reader".to_string())]),
            steps: steps
                .into_iter()
                .map(|(action, requests)| Step { action, requests })
                .collect(),
            notes: vec![],
            reads: 0,
            scope: None,
            expired: vec![],
            expiring: vec![],
        }
    }

    #[test]
    fn every_step_reads_as_a_line_with_its_cost_then_the_totals() {
        let g = GroupRef {
            name: "G".into(),
            id: Some("g1".into()),
        };
        let user = Subject::User {
            id: "u1".into(),
            email: "a@x.io".into(),
        };
        let reader_ws = grant("r1", "WORKSPACE", "ws1");
        let other_ws = grant("r1", "WORKSPACE", "ws2");
        let unknown_role = grant("r9", "SOURCE", "s1");
        let mut shown = plan(vec![
            (Action::CreateGroup { name: "N".into() }, 1),
            (
                Action::Invite {
                    invites: vec![
                        NewInvite {
                            email: "n1@x.io".into(),
                            grants: vec![reader_ws.clone()],
                        },
                        NewInvite {
                            email: "n2@x.io".into(),
                            grants: vec![],
                        },
                    ],
                },
                1,
            ),
            (
                Action::Invite {
                    invites: vec![NewInvite {
                        email: "n3@x.io".into(),
                        grants: vec![],
                    }],
                },
                1,
            ),
            (
                Action::AddMembers {
                    group: g.clone(),
                    emails: strings(&["a@x.io", "b@x.io"]),
                },
                1,
            ),
            (
                Action::AddPermissions {
                    subject: user.clone(),
                    grants: vec![reader_ws.clone(), other_ws.clone()],
                },
                1,
            ),
            (
                Action::ReplaceMembers {
                    group: g.clone(),
                    emails: strings(&["a@x.io"]),
                    added: strings(&["a@x.io"]),
                    removed: strings(&["c@x.io"]),
                },
                1,
            ),
            (
                Action::ReplaceMembers {
                    group: g.clone(),
                    emails: vec![],
                    added: vec![],
                    removed: vec![],
                },
                1,
            ),
            (
                Action::ReplacePermissions {
                    subject: Subject::Group { group: g.clone() },
                    grants: vec![unknown_role.clone()],
                    added: vec![unknown_role],
                    removed: vec![reader_ws],
                },
                1,
            ),
            (
                Action::ReplacePermissions {
                    subject: user,
                    grants: vec![],
                    added: vec![],
                    removed: vec![],
                },
                1,
            ),
            (
                Action::RemoveMembers {
                    group: g.clone(),
                    emails: strings(&["d@x.io"]),
                },
                2,
            ),
            (
                Action::DeleteUsers {
                    users: vec![UserRef {
                        id: "u2".into(),
                        email: "e@x.io".into(),
                    }],
                },
                1,
            ),
            (
                Action::DeleteInvites {
                    emails: strings(&["f@x.io", "g@x.io"]),
                },
                1,
            ),
            (Action::DeleteGroup { group: g }, 1),
        ]);
        shown.notes.push("a note".into());
        let expected = r#"+ create group "N" (1 request)
+ invite 2 people (1 request)
    + n1@x.io with Reader on workspace
    + n2@x.io
+ invite 1 person (1 request)
    + n3@x.io
+ group "G": add 2 member(s) (1 request): a@x.io, b@x.io
+ user a@x.io: add permissions (1 request): Reader on workspace, Reader on WORKSPACE:ws2
~ group "G": replace members with 1 (1 request; cheaper than adding and removing)
    + a@x.io
    - c@x.io
~ group "G": replace members with 0 (1 request; cheaper than adding and removing)
~ group "G": replace permissions (1 request)
    + r9 on SOURCE:s1
    - Reader on workspace
~ user a@x.io: replace permissions (1 request)
- group "G": remove 1 member(s) (2 requests): d@x.io
- delete 1 user(s) (1 request): e@x.io
- withdraw 2 invite(s) (1 request): f@x.io, g@x.io
- delete group "G" (1 request)
note: a note
Plan: 13 step(s), 14 request(s), 7 removal(s).
"#;
        assert_eq!(shown.to_string(), expected);
    }

    #[test]
    fn narrowed_grants_and_label_steps_show_their_labels() {
        let l = |t: &str| t.parse::<segment_iam::Label>().expect("label");
        let narrowed =
            grant("r1", "WORKSPACE", "ws1").narrowed([l("region:emea"), l("environment:prod")]);
        let shown = plan(vec![
            (
                Action::CreateLabel {
                    label: l("region:emea"),
                },
                1,
            ),
            (
                Action::ReplacePermissions {
                    subject: Subject::User {
                        id: "u1".into(),
                        email: "a@x.io".into(),
                    },
                    grants: vec![narrowed.clone()],
                    added: vec![narrowed],
                    removed: vec![grant("r1", "WORKSPACE", "ws1")],
                },
                1,
            ),
            (
                Action::DeleteLabel {
                    label: l("environment:dev"),
                },
                1,
            ),
        ]);
        let expected = "+ create label region:emea (1 request)
~ user a@x.io: replace permissions (1 request)
    + Reader on workspace narrowed by environment:prod&region:emea
    - Reader on workspace
- delete label environment:dev (1 request)
Plan: 3 step(s), 3 request(s), 2 removal(s).
";
        assert_eq!(shown.to_string(), expected);
    }

    #[test]
    fn an_empty_plan_says_the_workspace_matches() {
        assert_eq!(
            plan(vec![]).to_string(),
            "No changes: the workspace matches the file.\n"
        );
    }
}
