//! Writes RELIABILITY.md at the workspace root from a run it makes itself: fingerprints the
//! code under test, runs every `tests/tests/reliability_*.rs` file with `cargo test`, reads the
//! results, and renders the table from the test sources (see
//! `segment_iam_tests::reliability_table`). It refuses to write a table in which a test is
//! ignored, cfg'd out, missing from the run, or failing.
//!
//! `cargo run -p segment-iam-tests --bin reliability_table [-- --check]`: with `--check` (CI),
//! writes nothing and fails when the checked-in file differs from what this run rendered.

use std::path::PathBuf;
use std::process::{Command, ExitCode};

use segment_iam_tests::reliability_table::{
    files, fingerprint, mutation_section, parse_results, render, rows,
};

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("reliability_table: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let crate_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let tests_dir = crate_dir.join("tests");
    let root = crate_dir
        .parent()
        .ok_or_else(|| format!("no workspace root above {}", crate_dir.display()))?;
    let check = match std::env::args().skip(1).collect::<Vec<_>>().as_slice() {
        [] => false,
        [flag] if flag == "--check" => true,
        _ => return Err("usage: reliability_table [--check]".into()),
    };
    let rows = rows(&tests_dir).map_err(|e| format!("cannot read the tests: {e}"))?;
    if let Some(r) = rows.iter().find(|r| r.excluded.is_some()) {
        return Err(format!(
            "{} in {} is excluded by {}: a test that does not run proves nothing",
            r.test,
            r.file,
            r.excluded.as_deref().unwrap_or_default()
        ));
    }
    let before = fingerprint(root).map_err(|e| format!("cannot fingerprint the code: {e}"))?;

    let stems: Vec<String> = files(&tests_dir)
        .map_err(|e| format!("cannot list {}: {e}", tests_dir.display()))?
        .into_iter()
        .map(|(stem, _)| stem)
        .collect();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(root)
        .args(["test", "-p", "segment-iam-tests"]);
    for stem in &stems {
        command.args(["--test", stem]);
    }
    // Every test must run: ignored ones would be listed as ignored, and are refused above.
    command.args(["--", "--test-threads", "2"]);
    eprintln!("running {} reliability test files ...", stems.len());
    let out = command
        .output()
        .map_err(|e| format!("cannot run cargo test: {e}"))?;
    let results = parse_results(&String::from_utf8_lossy(&out.stdout));

    let after = fingerprint(root).map_err(|e| format!("cannot fingerprint the code: {e}"))?;
    if before != after {
        return Err("the code changed while the tests ran; run again".into());
    }
    let not_passing: Vec<String> = rows
        .iter()
        .filter(|r| results.get(&r.test).map(String::as_str) != Some("pass"))
        .map(|r| {
            format!(
                "{} ({})",
                r.test,
                results.get(&r.test).map_or("not run", String::as_str)
            )
        })
        .collect();
    if !not_passing.is_empty() {
        return Err(format!(
            "not passing, so no table is written: {}",
            not_passing.join(", ")
        ));
    }
    let rendered = render(&rows, &results, &after, &mutation_section(&crate_dir));
    let path = root.join("RELIABILITY.md");
    if check {
        let current = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        if current != rendered {
            return Err(format!(
                "{} differs from this run's table: regenerate it with `cargo run -p segment-iam-tests --bin reliability_table` and commit it",
                path.display()
            ));
        }
        eprintln!(
            "{} matches this run ({} tests, all passed)",
            path.display(),
            rows.len()
        );
        return Ok(());
    }
    std::fs::write(&path, rendered).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    eprintln!(
        "wrote {} ({} tests, all passed)",
        path.display(),
        rows.len()
    );
    Ok(())
}
