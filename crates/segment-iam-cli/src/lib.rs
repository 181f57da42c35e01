//! temp
pub mod cli;
pub mod exit;
pub mod input;
pub mod output;
pub mod progress;
/// temp
pub use segment_iam_api::types;
/// temp
pub fn main_entry() -> std::process::ExitCode {
    std::process::ExitCode::SUCCESS
}
