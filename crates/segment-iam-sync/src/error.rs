//! What can stop an export, a plan or an apply, each with what the operator needs to act.

use segment_iam::guard::Refusal;

use crate::report::ApplyReport;

/// This crate's results.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a sync job stopped. Everything but [`Error::Apply`] is raised before any mutation is
/// sent.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The access file is malformed or names something that does not exist; `line` and
    /// `column` are 1-based (0 when the problem is not at one place).
    #[error("{}{message}", at(*line, *column))]
    File {
        /// Line in the file, 0 when unknown.
        line: u64,
        /// Column in the file, 0 when unknown.
        column: u64,
        /// What is wrong.
        message: String,
    },
    /// The live workspace is in a shape this tool cannot manage safely (two groups with one
    /// name, permissions narrowed by labels, ...).
    #[error("live workspace: {0}")]
    Live(String),
    /// One of the guards every job shares refused the change before anything was sent: too
    /// many removals ([`Refusal::RemovalCap`], see [`crate::ApplyOptions::removal_cap`]) or
    /// nobody left holding "Workspace Owner" ([`Refusal::LastOwner`]). The rules live in
    /// [`segment_iam::guard`].
    #[error("refused: {0}")]
    Refused(#[source] Refusal),
    /// A guard of this crate's own refused the plan before anything was sent: a file, or a
    /// saved plan, for another workspace than the token's.
    #[error("refused: {reason}")]
    Guard {
        /// What the guard saw, and the option that overrides it.
        reason: String,
    },
    /// A saved plan was made against a workspace that has changed since.
    #[error(
        "the saved plan is stale: the workspace changed since it was made (planned against {planned}, now {live}); run `plan` again"
    )]
    StalePlan {
        /// The fingerprint the plan was made against.
        planned: String,
        /// The live fingerprint now.
        live: String,
    },
    /// A saved plan this version cannot read.
    #[error("plan file: {0}")]
    PlanFormat(String),
    /// A read failed (nothing was sent).
    #[error(transparent)]
    Api(#[from] segment_iam::Error),
    /// A mutation failed part way: `report` says exactly which steps were done. Running
    /// `apply` again with the same file converges from wherever it stopped.
    #[error("apply stopped after {} of {} steps: {source}", report.steps_done, report.steps_planned)]
    Apply {
        /// What was done before the failure.
        report: Box<ApplyReport>,
        /// The failure.
        #[source]
        source: segment_iam::Error,
    },
}

fn at(line: u64, column: u64) -> String {
    match (line, column) {
        (0, _) => String::new(),
        (line, 0) => format!("line {line}: "),
        (line, column) => format!("line {line}, column {column}: "),
    }
}
