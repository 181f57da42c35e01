//! The unit permissions are compared in, shared by the live read, the planner, the export and
//! the apply.

use serde::{Deserialize, Serialize};

/// One role on one resource: the unit permissions are compared in.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Grant {
    /// The role's id.
    pub role_id: String,
    /// The resource's type (`WORKSPACE`, `SOURCE`, ...).
    pub resource_type: String,
    /// The resource's id.
    pub resource_id: String,
}
