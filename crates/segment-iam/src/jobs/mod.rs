//! The jobs operators automate, each one typed library function the CLI is a thin shell over:
//! [`audit`] (who can reach what, and through which path), [`history`] (who changed what
//! and when, from the audit trail), [`offboard`] (remove people and their pending invites in
//! the fewest requests, behind a plan and a last-owner guard) and [`onboard`] (give people
//! roles and groups by name, inviting who is new, safe to re-run).
//!
//! Both read the workspace through [`read`], which fetches every page of every listing it
//! needs, group listings concurrently (the client's pacing keeps them within the read limit).

pub mod audit;
pub mod history;
pub mod offboard;
pub mod onboard;
pub mod read;

mod options;

pub use options::{DEFAULT_CONCURRENCY, JobOptions, Progress, RunOptions};
