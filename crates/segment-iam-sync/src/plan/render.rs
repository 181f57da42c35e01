//! A plan as the operator reads it: one line per step with its cost, then notes and totals.

use std::fmt;

use crate::grant::Grant;

use super::types::{Action, Plan, Step, Subject};

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
    fn write_step(&self, f: &mut fmt::Formatter<'_>, step: &Step) -> fmt::Result {
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
        Ok(())
    }
}

/// The readable diff: `+` creates and adds, `~` replaces, `-` removes and deletes, each with
/// its request count; then the notes and the totals.
impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for step in &self.steps {
            self.write_step(f, step)?;
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
