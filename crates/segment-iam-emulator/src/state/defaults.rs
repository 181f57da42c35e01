//! What every emulator starts with: the default roles, labels and workspace.

use super::values::Workspace;

/// The roles every emulator knows. The first is the documentation's example role.
pub const DEFAULT_ROLES: &[(&str, &str, &str)] = &[
    (
        "1WDUuRLxv84rrfCNUwvkrRtkxnS",
        "Workspace Owner",
        "Full access to the workspace, including its users and billing.",
    ),
    (
        "1WDUuVBnqMOgaTtWbvNrvOhQFNY",
        "Workspace Member",
        "Access to the workspace through the roles granted on its resources.",
    ),
    (
        "1WDUuQEbvvYQIILOjS5GMDdHPoZ",
        "Source Admin",
        "Edit the sources it is granted on.",
    ),
    (
        "1WDUuSJ7eANmTOE8hJzSgcRLn2L",
        "Source Read-only",
        "View the sources it is granted on.",
    ),
    (
        "1WDUuPt1Hy7YXbygPHSVDjmBqlN",
        "Engage Admin",
        "Edit the Engage spaces it is granted on.",
    ),
    (
        "1WDUuTbWOmSSfIehuLW3ucaLqQg",
        "Engage Read-only",
        "View the Engage spaces it is granted on.",
    ),
    (
        "1WDUuXmn5jF7HGrCvtyJ1BuE7iC",
        "Warehouse Admin",
        "Edit the warehouses it is granted on.",
    ),
    (
        "1WDUuNNt5xeChlybbD2nkIH8dNn",
        "Workspace Read-only",
        "View everything in the workspace.",
    ),
];

/// The workspace resource id of the documentation's examples: the default workspace's id.
pub const WORKSPACE_ID: &str = "9aQ1Lj62S4bomZKLF4DPqW";

impl Default for Workspace {
    fn default() -> Self {
        Workspace {
            id: WORKSPACE_ID.to_string(),
            slug: "emulated-workspace".to_string(),
            name: "Emulated Workspace".to_string(),
        }
    }
}

/// The labels every workspace has (`key`, `value`), as the documentation says.
pub const DEFAULT_LABELS: &[(&str, &str)] = &[("environment", "dev"), ("environment", "prod")];
