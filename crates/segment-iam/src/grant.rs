//! The unit access is compared in: one role on one resource, narrowed by a set of labels.
//! Audit rows, the owner guard and the access-as-code planner all read permissions as
//! [`Grant`]s, so "the same permission" means one thing everywhere: equal role, resource and
//! label set.

use std::collections::BTreeSet;

use segment_iam_api::ResourceType;
use segment_iam_api::types::{PermissionResourceV1, PermissionV1};
use serde::{Deserialize, Serialize};

use crate::label::{self, Label, Source};
use crate::model::{Permission, Resource};

/// One role on one resource, narrowed by labels (none: the plain grant).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Grant {
    /// The role's id.
    pub role_id: String,
    /// The resource's type (`WORKSPACE`, `SOURCE`, ...), as the service spells it.
    pub resource_type: String,
    /// The resource's id.
    pub resource_id: String,
    /// The labels narrowing it: it reaches only resources carrying all of them. Empty for a
    /// plain grant (and then left out of JSON, so grants saved before labels read the same).
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub labels: BTreeSet<Label>,
}

impl Grant {
    /// A plain grant of `role_id` on a resource.
    pub fn new(
        role_id: impl Into<String>,
        resource_type: impl Into<String>,
        resource_id: impl Into<String>,
    ) -> Self {
        Grant {
            role_id: role_id.into(),
            resource_type: resource_type.into(),
            resource_id: resource_id.into(),
            labels: BTreeSet::new(),
        }
    }

    /// This grant narrowed by `labels` (added to any it has).
    pub fn narrowed(mut self, labels: impl IntoIterator<Item = Label>) -> Self {
        self.labels.extend(labels);
        self
    }

    /// Whether labels narrow it.
    pub fn is_narrowed(&self) -> bool {
        !self.labels.is_empty()
    }

    /// The grants one permission read from the service holds: one per resource, each narrowed
    /// by the resource's labels and the permission's own (the service may put them on
    /// either). A permission on no resource holds none.
    pub fn of_permission(permission: &PermissionV1) -> Vec<Grant> {
        let shared = label::from_allowed(&permission.labels);
        permission
            .resources
            .iter()
            .map(|r| Grant::of_resource(&permission.role_id, r, &shared))
            .collect()
    }

    /// Every grant of these permissions, as a set.
    pub fn of_permissions(permissions: &[PermissionV1]) -> BTreeSet<Grant> {
        permissions.iter().flat_map(Grant::of_permission).collect()
    }

    fn of_resource(
        role_id: &str,
        resource: &PermissionResourceV1,
        shared: &BTreeSet<Label>,
    ) -> Grant {
        let mut labels = label::from_allowed(&resource.labels);
        labels.extend(shared.iter().cloned());
        Grant {
            role_id: role_id.to_string(),
            resource_type: resource.type_.as_str().to_string(),
            resource_id: resource.id.clone(),
            labels,
        }
    }

    /// The grant as a [`Permission`] to send (its role by id, its resource narrowed by its
    /// labels).
    pub fn to_permission(&self) -> Permission {
        Permission::new(self.role_id.clone())
            .on_narrowed(self.resource(), self.labels.iter().cloned())
    }

    /// Its resource, typed.
    pub fn resource(&self) -> Resource {
        let kind: ResourceType = ResourceType::from(self.resource_type.as_str());
        Resource::Given(kind, self.resource_id.clone())
    }

    /// Whether this grant reaches `source`, a source of workspace `workspace_id`: a grant on
    /// the source itself does (whatever labels it shows: labels narrow grants on the
    /// workspace, and an audit must not hide access the service may give), and so does a
    /// grant on the workspace whose labels the source all carries (a plain one reaches every
    /// source). Nothing else does.
    pub fn reaches_source(&self, workspace_id: &str, source: &Source) -> bool {
        match ResourceType::from(self.resource_type.as_str()) {
            ResourceType::Source => self.resource_id == source.id,
            ResourceType::Workspace => {
                self.resource_id == workspace_id && source.carries_all(&self.labels)
            }
            _ => false,
        }
    }
}

/// Grants sharing a role as permissions to send: one [`Permission`] per role, holding every
/// resource (each with its labels) — the fewest permission objects a request can carry.
pub fn permissions_of<'a>(grants: impl IntoIterator<Item = &'a Grant>) -> Vec<Permission> {
    let mut by_role: std::collections::BTreeMap<&str, Vec<&Grant>> = Default::default();
    for g in grants {
        by_role.entry(g.role_id.as_str()).or_default().push(g);
    }
    by_role
        .into_iter()
        .map(|(role, grants)| {
            grants.into_iter().fold(Permission::new(role), |p, g| {
                p.on_narrowed(g.resource(), g.labels.iter().cloned())
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use segment_iam_api::types::AllowedLabelBeta;

    fn allowed(key: &str, value: &str) -> AllowedLabelBeta {
        AllowedLabelBeta {
            key: key.into(),
            value: value.into(),
            description: Some("ignored".into()),
        }
    }

    #[test]
    fn a_permission_reads_as_one_grant_per_resource_with_both_kinds_of_labels() {
        let permission = PermissionV1 {
            role_id: "r".into(),
            role_name: "Source Admin".into(),
            labels: vec![allowed("region", "emea")],
            resources: vec![
                PermissionResourceV1 {
                    id: "w".into(),
                    type_: ResourceType::Workspace,
                    labels: vec![allowed("environment", "prod")],
                },
                PermissionResourceV1 {
                    id: "s".into(),
                    type_: ResourceType::Source,
                    labels: vec![],
                },
            ],
        };
        let grants = Grant::of_permission(&permission);
        let l = |t: &str| t.parse::<Label>().expect("ok");
        assert_eq!(
            grants,
            vec![
                Grant::new("r", "WORKSPACE", "w")
                    .narrowed([l("environment:prod"), l("region:emea")]),
                Grant::new("r", "SOURCE", "s").narrowed([l("region:emea")]),
            ]
        );
        assert!(grants[0].is_narrowed());
    }

    #[test]
    fn narrowed_and_plain_grants_differ_and_saved_plain_grants_read_back() {
        let plain = Grant::new("r", "WORKSPACE", "w");
        let narrowed = plain
            .clone()
            .narrowed(["environment:prod".parse().expect("ok")]);
        assert_ne!(plain, narrowed);
        let json = serde_json::to_string(&plain).expect("json");
        assert!(!json.contains("labels"), "{json}");
        let old = r#"{"role_id":"r","resource_type":"WORKSPACE","resource_id":"w"}"#;
        assert_eq!(serde_json::from_str::<Grant>(old).expect("reads"), plain);
        let json = serde_json::to_string(&narrowed).expect("json");
        assert!(json.contains(r#""labels":["environment:prod"]"#), "{json}");
    }

    #[test]
    fn a_source_is_reached_by_grants_on_it_and_by_workspace_grants_whose_labels_it_carries() {
        let l = |t: &str| t.parse::<Label>().expect("ok");
        let source = Source {
            id: "s1".into(),
            slug: "s1".into(),
            name: None,
            enabled: true,
            labels: [l("environment:prod"), l("region:emea")].into(),
        };
        let on_ws = |labels: &[&str]| {
            Grant::new("r", "WORKSPACE", "w").narrowed(labels.iter().map(|t| l(t)))
        };
        // The workspace, plain or narrowed by labels the source all carries.
        assert!(on_ws(&[]).reaches_source("w", &source));
        assert!(on_ws(&["environment:prod"]).reaches_source("w", &source));
        assert!(on_ws(&["environment:prod", "region:emea"]).reaches_source("w", &source));
        // A label it lacks, alone or beside one it carries (AND), does not.
        assert!(!on_ws(&["environment:dev"]).reaches_source("w", &source));
        assert!(!on_ws(&["environment:prod", "region:us"]).reaches_source("w", &source));
        // Another workspace does not, plain or not.
        assert!(!on_ws(&[]).reaches_source("other", &source));
        // The source itself does, even showing labels; another source or kind does not.
        assert!(Grant::new("r", "SOURCE", "s1").reaches_source("w", &source));
        assert!(
            Grant::new("r", "SOURCE", "s1")
                .narrowed([l("environment:dev")])
                .reaches_source("w", &source)
        );
        assert!(!Grant::new("r", "SOURCE", "s2").reaches_source("w", &source));
        assert!(!Grant::new("r", "SPACE", "s1").reaches_source("w", &source));
        assert!(!Grant::new("r", "SOURCE", "w").reaches_source("s1", &source));
    }

    #[test]
    fn grants_become_one_permission_per_role_with_their_labels() {
        let prod: Label = "environment:prod".parse().expect("ok");
        let grants = [
            Grant::new("a", "WORKSPACE", "w").narrowed([prod.clone()]),
            Grant::new("a", "SOURCE", "s"),
            Grant::new("b", "WORKSPACE", "w"),
        ];
        let permissions = permissions_of(&grants);
        assert_eq!(permissions.len(), 2);
        let input = permissions[0].clone().into_input().expect("resolved");
        assert_eq!(input.role_id, "a");
        assert_eq!(input.resources.len(), 2);
        assert_eq!(input.resources[0].labels, vec![prod.to_allowed()]);
        assert!(input.resources[1].labels.is_empty());
    }
}
