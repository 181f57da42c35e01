//! The unit permissions are compared in, shared by the live read, the planner, the export and
//! the apply: the facade's [`Grant`] (role, resource, labels), so that the SDK's audit and
//! guards and this crate mean the same thing by "the same permission".

pub use segment_iam::Grant;
