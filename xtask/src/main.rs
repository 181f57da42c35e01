//! Project automation. `cargo xtask codegen` regenerates the client crates from
//! `openapi/segment-iam.yaml`; `cargo xtask codegen --check` changes nothing and fails when a
//! checked-in generated file differs from what the document gives.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use segment_iam_generator::{Document, GeneratedFile, generate};

const DOCUMENT: &str = "openapi/segment-iam.yaml";
const USAGE: &str = "usage: cargo xtask codegen [--check]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.as_slice() {
        ["codegen"] => codegen(&workspace_root(), Mode::Write),
        ["codegen", "--check"] => codegen(&workspace_root(), Mode::Check),
        _ => Err(USAGE.to_string()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Write,
    Check,
}

fn workspace_root() -> PathBuf {
    // xtask lives one level below the workspace root.
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// Generates every file from `root/openapi/segment-iam.yaml` into `root`, or (in check mode)
/// compares them with what is there and fails on any difference.
fn codegen(root: &Path, mode: Mode) -> Result<(), String> {
    let started = Instant::now();
    let document = Document::load(root.join(DOCUMENT)).map_err(|e| e.to_string())?;
    let files = generate(&document).map_err(|e| e.to_string())?;
    let elapsed = started.elapsed();
    let lines: usize = files.iter().map(|f| f.contents.lines().count()).sum();

    let mut stale = Vec::new();
    for file in &files {
        let target = root.join(&file.path);
        let current = std::fs::read_to_string(&target).ok();
        if current.as_deref() == Some(file.contents.as_str()) {
            continue;
        }
        match mode {
            Mode::Write => {
                if let Some(dir) = target.parent() {
                    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
                }
                std::fs::write(&target, &file.contents)
                    .map_err(|e| format!("{}: {e}", target.display()))?;
                println!("wrote {}", file.path);
            }
            Mode::Check => {
                print_diff(file, current.as_deref().unwrap_or(""));
                stale.push(file.path.clone());
            }
        }
    }
    println!(
        "codegen: {} files, {lines} lines generated from {DOCUMENT} in {:.2?}",
        files.len(),
        elapsed
    );
    if stale.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "generated files are stale: {}\nrun `cargo xtask codegen` and commit the result",
            stale.join(", ")
        ))
    }
}

fn print_diff(file: &GeneratedFile, current: &str) {
    let diff = similar::TextDiff::from_lines(current, file.contents.as_str());
    let unified = diff
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{}", file.path), &format!("b/{}", file.path))
        .to_string();
    // A whole new file would print thousands of lines; the head is enough to see why.
    const MAX_LINES: usize = 200;
    let total = unified.lines().count();
    for line in unified.lines().take(MAX_LINES) {
        println!("{line}");
    }
    if total > MAX_LINES {
        println!("... ({} more diff lines)", total - MAX_LINES);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A copy of the document and generated files in a temporary workspace root.
    fn scratch_root() -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = workspace_root();
        std::fs::create_dir_all(dir.path().join("openapi")).expect("mkdir");
        std::fs::copy(root.join(DOCUMENT), dir.path().join(DOCUMENT)).expect("copy document");
        codegen(dir.path(), Mode::Write).expect("initial generation");
        dir
    }

    #[test]
    fn check_fails_after_an_edit_until_codegen_runs() {
        let dir = scratch_root();
        codegen(dir.path(), Mode::Check).expect("fresh output passes the check");

        let document = dir.path().join(DOCUMENT);
        let text = std::fs::read_to_string(&document).expect("read");
        let edited = text.replacen(
            "Returns a user given their id.",
            "Returns one user by id.",
            1,
        );
        assert_ne!(text, edited, "the edit must apply");
        std::fs::write(&document, edited).expect("write");

        let err = codegen(dir.path(), Mode::Check).expect_err("stale output fails the check");
        assert!(
            err.contains("crates/segment-iam-api/src/generated.rs"),
            "{err}"
        );
        codegen(dir.path(), Mode::Write).expect("regenerate");
        codegen(dir.path(), Mode::Check).expect("passes again");
    }

    #[test]
    fn checked_in_files_match_the_document() {
        codegen(&workspace_root(), Mode::Check)
            .expect("the repository's generated files are current");
    }
}
