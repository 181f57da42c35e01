//! Labels: `key:value`, put on sources and spaces, and narrowing a permission on the workspace
//! to the resources that carry all of them (AND). A narrowed grant is not the plain grant: it is
//! compared, shown and counted apart everywhere.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result};

/// A label, `key:value`. Built by [`Label::new`] or parsed (`"environment:prod".parse()`), both
/// checked as documented: key and value each start with an ASCII letter and hold ASCII letters,
/// digits and hyphens. Labels read from the service are kept as the service sends them.
///
/// Ordered by key, then value; equal when key and value are (a description is not part of a
/// label's identity, see [`WorkspaceLabel`]). Serialised as the string `key:value`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Label {
    key: String,
    value: String,
}

impl Label {
    /// The label `key:value`, refused with [`Error::InvalidInput`] unless both parts are
    /// well formed.
    pub fn new(key: impl AsRef<str>, value: impl AsRef<str>) -> Result<Label> {
        let (key, value) = (key.as_ref(), value.as_ref());
        check_part("label key", key, key, value)?;
        check_part("label value", value, key, value)?;
        Ok(Label {
            key: key.to_string(),
            value: value.to_string(),
        })
    }

    /// A label as the service holds it, unchecked: the service is the authority on what it
    /// holds, and refusing its answer would hide access.
    pub(crate) fn from_wire(key: &str, value: &str) -> Label {
        Label {
            key: key.to_string(),
            value: value.to_string(),
        }
    }

    /// The key (`environment`).
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The value (`prod`).
    pub fn value(&self) -> &str {
        &self.value
    }

    /// The wire shape a permission's resource carries.
    pub(crate) fn to_allowed(&self) -> segment_iam_api::types::AllowedLabelBeta {
        segment_iam_api::types::AllowedLabelBeta {
            key: self.key.clone(),
            value: self.value.clone(),
            description: None,
        }
    }
}

/// One part of a label: non-empty, an ASCII letter first, then ASCII letters, digits, hyphens.
fn check_part(field: &str, part: &str, key: &str, value: &str) -> Result<()> {
    let mut chars = part.chars();
    let reason = match chars.next() {
        None => Some("is empty".to_string()),
        Some(c) if !c.is_ascii_alphabetic() => Some(format!("starts with {c:?}, not a letter")),
        Some(_) => chars
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '-'))
            .map(|c| format!("holds {c:?}; only letters, digits and hyphens are allowed")),
    };
    match reason {
        None => Ok(()),
        Some(reason) => Err(Error::invalid(
            field,
            format!("{:?}: the {field} {reason}", format!("{key}:{value}")),
        )),
    }
}

impl std::str::FromStr for Label {
    type Err = Error;

    /// `key:value`, split at the first `:`, surrounding whitespace ignored.
    fn from_str(text: &str) -> Result<Label> {
        let text = text.trim();
        match text.split_once(':') {
            Some((key, value)) => Label::new(key, value),
            None => Err(Error::invalid(
                "label",
                format!("{text:?} is not `key:value` (e.g. `environment:prod`)"),
            )),
        }
    }
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.key, self.value)
    }
}

impl Serialize for Label {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Label {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// Labels joined with `&` (AND), sorted: `environment:prod&region:emea`; empty for none. The
/// one spelling tables, CSV and plans use.
pub fn joined(labels: &BTreeSet<Label>) -> String {
    labels
        .iter()
        .map(Label::to_string)
        .collect::<Vec<_>>()
        .join("&")
}

/// Every label `allowed` lists (a permission's or a resource's), as a set.
pub(crate) fn from_allowed(
    allowed: &[segment_iam_api::types::AllowedLabelBeta],
) -> BTreeSet<Label> {
    allowed
        .iter()
        .map(|l| Label::from_wire(&l.key, &l.value))
        .collect()
}

/// A label of the workspace, with its description (`listLabels`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[non_exhaustive]
pub struct WorkspaceLabel {
    /// The label.
    pub label: Label,
    /// Its description, if it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl From<segment_iam_api::types::LabelV1> for WorkspaceLabel {
    fn from(wire: segment_iam_api::types::LabelV1) -> Self {
        WorkspaceLabel {
            label: Label::from_wire(&wire.key, &wire.value),
            description: wire.description,
        }
    }
}

/// A source of the workspace with the labels it carries (`listSources`), the part of
/// `SourceV1` access questions need.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Source {
    /// The source's id (the resource id of `SOURCE` permissions).
    pub id: String,
    /// Its slug.
    pub slug: String,
    /// Its name, if it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Whether it is enabled.
    pub enabled: bool,
    /// The labels it carries.
    pub labels: BTreeSet<Label>,
}

impl From<segment_iam_api::types::SourceV1> for Source {
    fn from(wire: segment_iam_api::types::SourceV1) -> Self {
        Source {
            labels: wire
                .labels
                .iter()
                .map(|l| Label::from_wire(&l.key, &l.value))
                .collect(),
            id: wire.id,
            slug: wire.slug,
            name: wire.name,
            enabled: wire.enabled,
        }
    }
}

impl Source {
    /// Whether a grant narrowed by `labels` reaches this source: it carries all of them (an
    /// unnarrowed grant, no labels, reaches every source).
    pub fn carries_all(&self, labels: &BTreeSet<Label>) -> bool {
        labels.is_subset(&self.labels)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_formed_labels_parse_and_print_back() {
        let label: Label = " environment:prod ".parse().expect("parses");
        assert_eq!((label.key(), label.value()), ("environment", "prod"));
        assert_eq!(label.to_string(), "environment:prod");
        assert_eq!(
            Label::new("region", "emea-2").expect("ok").value(),
            "emea-2"
        );
        assert_eq!(
            serde_json::to_string(&label).expect("json"),
            "\"environment:prod\""
        );
        let back: Label = serde_json::from_str("\"environment:prod\"").expect("json");
        assert_eq!(back, label);
    }

    #[test]
    fn malformed_labels_are_typed_errors_naming_the_part() {
        for (text, field) in [
            ("environment", "label"),
            (":prod", "label key"),
            ("environment:", "label value"),
            ("1env:prod", "label key"),
            ("env:prod_1", "label value"),
            ("env:-prod", "label value"),
            ("env:pr od", "label value"),
            ("env:prod:eu", "label value"),
        ] {
            match text.parse::<Label>() {
                Err(Error::InvalidInput { field: f, reason }) => {
                    assert_eq!(f, field, "{text}: {reason}");
                }
                other => panic!("{text}: {other:?}"),
            }
        }
        assert!(serde_json::from_str::<Label>("\"nope\"").is_err());
    }

    #[test]
    fn labels_join_sorted_with_ampersands() {
        let set: BTreeSet<Label> = ["region:emea", "environment:prod"]
            .iter()
            .map(|t| t.parse().expect("ok"))
            .collect();
        assert_eq!(joined(&set), "environment:prod&region:emea");
        assert_eq!(joined(&BTreeSet::new()), "");
    }

    #[test]
    fn a_source_is_reached_by_grants_whose_labels_it_all_carries() {
        let l = |t: &str| t.parse::<Label>().expect("ok");
        let source = Source {
            id: "s".into(),
            slug: "s".into(),
            name: None,
            enabled: true,
            labels: [l("environment:prod"), l("region:emea")].into(),
        };
        assert!(source.carries_all(&BTreeSet::new()));
        assert!(source.carries_all(&[l("environment:prod")].into()));
        assert!(source.carries_all(&[l("environment:prod"), l("region:emea")].into()));
        assert!(!source.carries_all(&[l("environment:dev")].into()));
        assert!(!source.carries_all(&[l("environment:prod"), l("region:us")].into()));
    }
}
