//! Groups by name: the API addresses a group by id only, so a name is resolved against the
//! group list (one page per 1,000 groups) before anything is sent. The one owner of how a group
//! is picked from what an operator typed — the audit's `--group`, the onboarding job and the
//! CLI's group arguments all come here.

use segment_iam_api::types::UserGroupV1;
use serde::Serialize;

use crate::error::{Error, Result};

/// How many near names an unknown group's error suggests.
const CLOSEST: usize = 3;

/// A group picked from what was given (an id, or a name compared case-insensitively).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ResolvedGroup {
    /// What was given, as given.
    pub given: String,
    /// The group, as the list holds it (with its permissions and `memberCount`).
    pub group: UserGroupV1,
    /// When `given` is this group's id and also the name of other groups: their ids. The id
    /// wins (an id names one group for sure); [`note`](Self::note) says so for the operator.
    pub also_named: Vec<String>,
}

impl ResolvedGroup {
    /// The group `given` names among `groups`: the one with that exact id, else the one whose
    /// name matches case-insensitively (surrounding whitespace ignored). No match is
    /// [`Error::UnknownGroup`] with the closest names; several are [`Error::AmbiguousGroup`]
    /// with their ids; an empty `given` is [`Error::InvalidInput`].
    pub fn among(groups: &[UserGroupV1], given: &str) -> Result<ResolvedGroup> {
        let wanted = given.trim();
        if wanted.is_empty() {
            return Err(Error::invalid("group", "must not be empty"));
        }
        let lower = wanted.to_lowercase();
        let named: Vec<&UserGroupV1> = groups
            .iter()
            .filter(|g| g.name.trim().to_lowercase() == lower)
            .collect();
        if let Some(group) = groups.iter().find(|g| g.id == wanted) {
            return Ok(ResolvedGroup {
                given: given.to_string(),
                group: group.clone(),
                also_named: named
                    .iter()
                    .filter(|g| g.id != group.id)
                    .map(|g| g.id.clone())
                    .collect(),
            });
        }
        match named.as_slice() {
            [group] => Ok(ResolvedGroup {
                given: given.to_string(),
                group: (*group).clone(),
                also_named: Vec::new(),
            }),
            [] => Err(Error::UnknownGroup {
                given: given.to_string(),
                closest: closest(groups, &lower),
            }),
            several => Err(Error::AmbiguousGroup {
                given: given.to_string(),
                ids: several.iter().map(|g| g.id.clone()).collect(),
            }),
        }
    }

    /// For the operator, when `given` was read as an id although groups bear it as a name.
    pub fn note(&self) -> Option<String> {
        if self.also_named.is_empty() {
            return None;
        }
        Some(format!(
            "{:?} is the id of group {:?}, used as the id; group{} named so: {}",
            self.given,
            self.group.name,
            if self.also_named.len() == 1 { "" } else { "s" },
            self.also_named.join(", ")
        ))
    }
}

/// The groups whose name is `name` (case-insensitive, surrounding whitespace ignored), in the
/// list's order.
pub(crate) fn named<'g>(groups: &'g [UserGroupV1], name: &str) -> Vec<&'g UserGroupV1> {
    let lower = name.trim().to_lowercase();
    groups
        .iter()
        .filter(|g| g.name.trim().to_lowercase() == lower)
        .collect()
}

/// Up to [`CLOSEST`] group names nearest to `lower` by edit distance, nearest first (ties by
/// name), each once.
fn closest(groups: &[UserGroupV1], lower: &str) -> Vec<String> {
    let mut near: Vec<(usize, &str)> = groups
        .iter()
        .map(|g| {
            (
                edit_distance(lower, &g.name.to_lowercase()),
                g.name.as_str(),
            )
        })
        .collect();
    near.sort();
    let mut names: Vec<String> = Vec::new();
    for (_, name) in near {
        if !names.iter().any(|n| n == name) {
            names.push(name.to_string());
        }
        if names.len() == CLOSEST {
            break;
        }
    }
    names
}

/// Levenshtein distance over characters, for suggesting near group names.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(id: &str, name: &str) -> UserGroupV1 {
        UserGroupV1 {
            id: id.into(),
            name: name.into(),
            member_count: 0,
            permissions: vec![],
        }
    }

    fn groups() -> Vec<UserGroupV1> {
        vec![
            group("g-plat", "Platform"),
            group("g-plats", "Platforms"),
            group("g-ops1", "OPS"),
            group("g-ops2", "ops"),
            group("g-odd", "g-plat"),
        ]
    }

    #[test]
    fn a_name_resolves_case_insensitively() {
        let r = ResolvedGroup::among(&groups(), "  platform ").expect("found");
        assert_eq!(r.group.id, "g-plat");
        assert!(r.note().is_none());
    }

    #[test]
    fn an_id_wins_over_a_name_and_says_so() {
        let r = ResolvedGroup::among(&groups(), "g-plat").expect("found");
        assert_eq!(r.group.id, "g-plat");
        assert_eq!(r.also_named, ["g-odd"]);
        let note = r.note().expect("a note");
        assert!(note.contains("g-odd"), "{note}");
    }

    #[test]
    fn unknown_lists_the_closest_and_ambiguous_the_ids() {
        match ResolvedGroup::among(&groups(), "Platfrom") {
            Err(Error::UnknownGroup { closest, .. }) => {
                assert_eq!(closest[..2], ["Platform", "Platforms"]);
            }
            other => panic!("expected UnknownGroup, got {other:?}"),
        }
        match ResolvedGroup::among(&groups(), "Ops") {
            Err(Error::AmbiguousGroup { ids, .. }) => assert_eq!(ids, ["g-ops1", "g-ops2"]),
            other => panic!("expected AmbiguousGroup, got {other:?}"),
        }
        assert!(
            ResolvedGroup::among(&groups(), " ")
                .expect_err("empty")
                .is_invalid_input()
        );
    }

    #[test]
    fn edit_distance_counts_edits() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("same", "same"), 0);
    }
}
