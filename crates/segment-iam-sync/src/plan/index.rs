//! The live workspace and the file indexed the way every phase looks them up: users and
//! invites by email key, groups by name, everyone the file names, and the labels a grant may
//! use. Building it refuses a member who is nobody, before any phase runs.

use std::collections::{BTreeSet, HashMap, HashSet};

use segment_iam::Label;
use segment_iam::email::key as email_key;

use crate::error::Result;
use crate::file::AccessFile;
use crate::live::{Live, LiveGroup, LiveUser};

/// What every phase reads.
pub(super) struct Index<'a> {
    /// The live workspace.
    pub live: &'a Live,
    /// Live users by email key.
    pub users_by_key: HashMap<String, &'a LiveUser>,
    /// Pending invites by email key.
    pub invite_keys: HashSet<String>,
    /// Live groups by name (more than one when names collide).
    pub groups_by_name: HashMap<&'a str, Vec<&'a LiveGroup>>,
    /// Everyone the file names, under `users` or as a member, by email key: who `prune.users`
    /// keeps.
    pub listed: HashSet<String>,
    /// The labels the file lists under `labels`.
    pub listed_labels: BTreeSet<Label>,
    /// The labels a grant may use: live or listed (created by the plan).
    pub known_labels: BTreeSet<Label>,
}

impl<'a> Index<'a> {
    /// Indexes `live` and `file`; refuses, with its line, a member who is neither a user, a
    /// pending invitee, nor listed under `users`.
    pub fn new(file: &AccessFile, live: &'a Live) -> Result<Self> {
        let users_by_key: HashMap<String, &LiveUser> = live
            .users
            .iter()
            .map(|u| (email_key(&u.email), u))
            .collect();
        let invite_keys: HashSet<String> = live.invites.iter().map(|e| email_key(e)).collect();
        let mut groups_by_name: HashMap<&str, Vec<&LiveGroup>> = HashMap::new();
        for g in &live.groups {
            groups_by_name.entry(g.name.as_str()).or_default().push(g);
        }
        let file_users: HashSet<String> = file
            .users
            .iter()
            .map(|(email, _)| email_key(&email.value))
            .collect();
        let mut listed = file_users.clone();
        for (name, group) in file.groups.iter() {
            for member in &group.members {
                let key = email_key(&member.value);
                if !users_by_key.contains_key(&key)
                    && !invite_keys.contains(&key)
                    && !file_users.contains(&key)
                {
                    return Err(member.error(format!(
                        "{} (a member of {:?}) is neither a user, a pending invitee, nor listed under `users`",
                        member.value, name.value
                    )));
                }
                listed.insert(key);
            }
        }
        let listed_labels = file.listed_labels()?;
        let known_labels = live.labels.union(&listed_labels).cloned().collect();
        Ok(Index {
            live,
            users_by_key,
            invite_keys,
            groups_by_name,
            listed,
            listed_labels,
            known_labels,
        })
    }
}
