//! Writes RELIABILITY.md at the workspace root: runs each `tests/tests/reliability_*.rs`
//! test file with `cargo test`, reads the results, and renders the table from the test
//! sources (see `segment_iam_tests::reliability_table`).
//!
//! `cargo run -p segment-iam-tests --bin reliability_table [-- --results FILE]`: with
//! `--results`, reads saved `cargo test` output instead of running the tests.

use std::path::PathBuf;
use std::process::{Command, ExitCode};

use segment_iam_tests::reliability_table::{files, parse_results, render, rows};

fn main() -> ExitCode {
    let crate_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let tests_dir = crate_dir.join("tests");
    let Some(root) = crate_dir.parent() else {
        eprintln!("no workspace root above {}", crate_dir.display());
        return ExitCode::FAILURE;
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let output = match args.as_slice() {
        [flag, file] if flag == "--results" => match std::fs::read_to_string(file) {
            Ok(text) => text,
            Err(e) => {
                eprintln!("cannot read {file}: {e}");
                return ExitCode::FAILURE;
            }
        },
        [] => {
            let stems = match files(&tests_dir) {
                Ok(f) => f.into_iter().map(|(stem, _)| stem).collect::<Vec<_>>(),
                Err(e) => {
                    eprintln!("cannot list {}: {e}", tests_dir.display());
                    return ExitCode::FAILURE;
                }
            };
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            let mut command = Command::new(cargo);
            command
                .current_dir(root)
                .args(["test", "-p", "segment-iam-tests"]);
            for stem in &stems {
                command.args(["--test", stem]);
            }
            eprintln!("running {} reliability test files ...", stems.len());
            match command.output() {
                Ok(out) => String::from_utf8_lossy(&out.stdout).into_owned(),
                Err(e) => {
                    eprintln!("cannot run cargo test: {e}");
                    return ExitCode::FAILURE;
                }
            }
        }
        _ => {
            eprintln!("usage: reliability_table [--results FILE]");
            return ExitCode::from(2);
        }
    };
    let results = parse_results(&output);
    let rows = match rows(&tests_dir) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cannot read the tests: {e}");
            return ExitCode::FAILURE;
        }
    };
    let failed = rows
        .iter()
        .filter(|r| results.get(&r.test).map(String::as_str) != Some("pass"))
        .count();
    let path = root.join("RELIABILITY.md");
    if let Err(e) = std::fs::write(&path, render(&rows, &results)) {
        eprintln!("cannot write {}: {e}", path.display());
        return ExitCode::FAILURE;
    }
    eprintln!(
        "wrote {} ({} tests, {failed} not passing)",
        path.display(),
        rows.len()
    );
    if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
