//! RELIABILITY.md from the reliability tests themselves: each `reliability_*.rs` file is a
//! theme, each test a row, its doc comment's `Cases:` and `Asserts:` the cases and what is
//! asserted, and the result comes from a run the generator makes itself. The file records a
//! fingerprint of the code it was run against (the facade, the generated client, the emulator
//! and the tests), so it cannot outlive its proof: `tests/tests/reliability_table_check.rs`
//! fails when a test is added, renamed, removed, re-documented, marked `#[ignore]` or
//! cfg'd out, or when any fingerprinted file changes, until `cargo run -p segment-iam-tests
//! --bin reliability_table` runs the tests again; CI runs it with `--check`, which fails when
//! its fresh run renders anything else than the checked-in file.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

/// One test of the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// The file stem, e.g. `reliability_transient`.
    pub file: String,
    /// The test function's name.
    pub test: String,
    /// The doc comment's `Cases:` part.
    pub cases: String,
    /// The doc comment's `Asserts:` part.
    pub asserts: String,
    /// An attribute that keeps the test from running (`#[ignore]`, `#[cfg(..)]`), if any: such
    /// a test proves nothing, and the generator and the check refuse it.
    pub excluded: Option<String>,
}

/// The theme a file covers, as the table shows it.
pub fn theme(file: &str) -> String {
    match file {
        "reliability_transient" => "Transient faults".into(),
        "reliability_exactly_once" => "Exactly once".into(),
        "reliability_rate_limit_storm" => "429 storms".into(),
        "reliability_bulk" => "Partial bulk failure".into(),
        "reliability_properties" => "Property tests".into(),
        "reliability_concurrency" => "Concurrency".into(),
        "reliability_cancellation" => "Cancellation".into(),
        "reliability_secrets" => "Secrets".into(),
        "reliability_hostile" => "Hostile server data".into(),
        "reliability_sync" => "Access as code".into(),
        "reliability_guards" => "Guards".into(),
        "reliability_overlap" => "Overlapping applies".into(),
        other => other.trim_start_matches("reliability_").replace('_', " "),
    }
}

/// The paths of the reliability test files of `dir` (the table check excluded).
fn files_of(dir: &Path) -> std::io::Result<Vec<std::path::PathBuf>> {
    Ok(files(dir)?
        .into_iter()
        .map(|(stem, _)| dir.join(format!("{stem}.rs")))
        .collect())
}

/// The `reliability_*.rs` files of `dir`, sorted by the order of the themes above.
pub fn files(dir: &Path) -> std::io::Result<Vec<(String, String)>> {
    const ORDER: [&str; 11] = [
        "reliability_transient",
        "reliability_exactly_once",
        "reliability_rate_limit_storm",
        "reliability_bulk",
        "reliability_properties",
        "reliability_concurrency",
        "reliability_cancellation",
        "reliability_secrets",
        "reliability_hostile",
        "reliability_sync",
        "reliability_guards",
    ];
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        if stem.starts_with("reliability_")
            && stem != "reliability_table_check"
            && path.extension().is_some_and(|e| e == "rs")
        {
            found.push((stem.to_string(), std::fs::read_to_string(&path)?));
        }
    }
    found.sort_by_key(|(stem, _)| {
        (
            ORDER.iter().position(|o| o == stem).unwrap_or(ORDER.len()),
            stem.clone(),
        )
    });
    Ok(found)
}

/// The tests of one source file: functions under `#[test]` or `#[tokio::test..]`, with
/// their doc comments.
pub fn scan(file: &str, source: &str) -> Vec<Row> {
    let mut rows = Vec::new();
    let mut doc: Vec<String> = Vec::new();
    let mut is_test = false;
    let mut excluded: Option<String> = None;
    for line in source.lines() {
        let line = line.trim();
        if let Some(text) = line.strip_prefix("///") {
            doc.push(text.trim().to_string());
            continue;
        }
        if line.starts_with("#[test]") || line.starts_with("#[tokio::test") {
            is_test = true;
            continue;
        }
        if line.starts_with("#[ignore")
            || line.starts_with("#[cfg(")
            || line.starts_with("#[cfg_attr(")
        {
            excluded = Some(line.to_string());
            continue;
        }
        if line.starts_with("#[") {
            continue;
        }
        let signature = line
            .strip_prefix("async fn ")
            .or_else(|| line.strip_prefix("fn "));
        if let (true, Some(rest)) = (is_test, signature) {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            let text = doc.join(" ");
            let (cases, asserts) = split_doc(&text);
            rows.push(Row {
                file: file.to_string(),
                test: name,
                cases,
                asserts,
                excluded: excluded.take(),
            });
        }
        doc.clear();
        is_test = false;
        excluded = None;
    }
    rows
}

/// What the fingerprint covers, relative to the workspace root: every file the reliability
/// tests exercise or are.
pub const FINGERPRINTED: &[&str] = &[
    "crates/segment-iam/src",
    "crates/segment-iam-api/src",
    "crates/segment-iam-emulator/src",
    "crates/segment-iam-sync/src",
    "tests/src",
    "tests/tests/reliability_*.rs",
];

/// A fingerprint of the `.rs` files under [`FINGERPRINTED`] (paths and contents, in path
/// order; FNV-1a, 64 bits): the same tree gives the same value on any machine, and any edit
/// changes it.
pub fn fingerprint(root: &Path) -> std::io::Result<String> {
    fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) -> std::io::Result<()> {
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            if path.is_dir() {
                walk(&path, out)?;
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
        Ok(())
    }
    let mut files = Vec::new();
    for entry in FINGERPRINTED {
        match entry.strip_suffix("/reliability_*.rs") {
            Some(dir) => files.extend(files_of(&root.join(dir))?),
            None => walk(&root.join(entry), &mut files)?,
        }
    }
    let mut relative: Vec<(String, std::path::PathBuf)> = files
        .into_iter()
        .map(|p| {
            let rel = p
                .strip_prefix(root)
                .unwrap_or(&p)
                .to_string_lossy()
                .replace('\\', "/");
            (rel, p)
        })
        .collect();
    relative.sort();
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut feed = |bytes: &[u8]| {
        for b in bytes {
            hash ^= u64::from(*b);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    };
    for (rel, path) in &relative {
        feed(rel.as_bytes());
        feed(&[0]);
        let text = std::fs::read_to_string(path)?.replace("\r\n", "\n");
        feed(text.as_bytes());
        feed(&[0]);
    }
    Ok(format!("{hash:016x} ({} files)", relative.len()))
}

/// The line of RELIABILITY.md that records the fingerprint.
pub fn fingerprint_line(fingerprint: &str) -> String {
    format!(
        "Run against code fingerprint `{fingerprint}` of {}.",
        FINGERPRINTED.join(", ")
    )
}

/// Splits `Cases: ... Asserts: ...` into its two parts (missing parts are empty).
fn split_doc(text: &str) -> (String, String) {
    let clean = |s: &str| s.trim().trim_end_matches('.').trim().replace('|', "\\|");
    let (before, asserts) = match text.split_once("Asserts:") {
        Some((b, a)) => (b, clean(a)),
        None => (text, String::new()),
    };
    let cases = match before.split_once("Cases:") {
        Some((_, c)) => clean(c),
        None => String::new(),
    };
    (cases, asserts)
}

/// Every row of every reliability test file in `dir`.
pub fn rows(dir: &Path) -> std::io::Result<Vec<Row>> {
    Ok(files(dir)?
        .iter()
        .flat_map(|(stem, source)| scan(stem, source))
        .collect())
}

/// Test results from libtest output (`test NAME ... ok`), by test name.
pub fn parse_results(output: &str) -> BTreeMap<String, String> {
    let mut results = BTreeMap::new();
    for line in output.lines() {
        let Some(rest) = line.strip_prefix("test ") else {
            continue;
        };
        let Some((name, outcome)) = rest.split_once(" ... ") else {
            continue;
        };
        let outcome = match outcome.trim() {
            "ok" => "pass",
            "FAILED" => "FAIL",
            o if o.starts_with("ignored") => "ignored",
            _ => continue,
        };
        results.insert(name.trim().to_string(), outcome.to_string());
    }
    results
}

/// The first line of a row in the markdown, as the check compares it (result excluded).
pub fn row_key(theme: &str, test: &str, cases: &str, asserts: &str) -> String {
    format!("| {theme} | `{test}` | {cases} | {asserts} |")
}

/// The mutation-testing figures, kept beside the tests (`tests/MUTATION.md`, written from a
/// `cargo mutants` run; too slow for CI) and appended to the table as they are.
pub fn mutation_section(crate_dir: &Path) -> String {
    std::fs::read_to_string(crate_dir.join("MUTATION.md")).unwrap_or_default()
}

/// The markdown document, for the run against code with `fingerprint`; `appendix` (the
/// mutation figures) follows the table.
pub fn render(
    rows: &[Row],
    results: &BTreeMap<String, String>,
    fingerprint: &str,
    appendix: &str,
) -> String {
    let passed = rows
        .iter()
        .filter(|r| results.get(&r.test).map(String::as_str) == Some("pass"))
        .count();
    let mut out = String::new();
    out.push_str("# Reliability\n\n");
    out.push_str(
        "What the SDK facade, the CLI and the emulator were put through, and what held. \
         Generated from the tests in `tests/tests/reliability_*.rs` (one file per theme; the \
         cases and assertions are each test's doc comment, the result is from a real run) by \
         `cargo run -p segment-iam-tests --bin reliability_table`. Do not edit by hand: \
         `cargo test -p segment-iam-tests --test reliability_table_check` fails when this \
         file no longer matches the tests or the code they ran against, and CI re-runs the \
         tests and fails when the result differs.\n\n",
    );
    let _ = writeln!(out, "{}\n", fingerprint_line(fingerprint));
    let _ = writeln!(
        out,
        "{} tests, {passed} passed in the run that produced this file.\n",
        rows.len()
    );
    out.push_str("| theme | test | cases | asserted | result |\n");
    out.push_str("| --- | --- | --- | --- | --- |\n");
    for r in rows {
        let result = results.get(&r.test).map_or("not run", String::as_str);
        let _ = writeln!(
            out,
            "{} {result} |",
            row_key(&theme(&r.file), &r.test, &r.cases, &r.asserts)
        );
    }
    if !appendix.trim().is_empty() {
        out.push('\n');
        out.push_str(appendix.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scans_documented_tests_only() {
        let source = "/// Not a test.\nfn helper() {}\n\n/// Cases: 2 (a, b). Asserts: it\n/// holds.\n#[tokio::test]\nasync fn it_holds() {}\n    /// Cases: 3. Asserts: x | y.\n    #[test]\n    fn prop(\n";
        let rows = scan("reliability_x", source);
        assert_eq!(rows.len(), 2);
        assert!(rows.iter().all(|r| r.excluded.is_none()));
        let ignored = scan(
            "reliability_x",
            "/// Cases: 1. Asserts: x.\n#[test]\n#[ignore]\nfn skipped() {}\n",
        );
        assert_eq!(ignored[0].excluded.as_deref(), Some("#[ignore]"));
        assert_eq!(rows[0].test, "it_holds");
        assert_eq!(rows[0].cases, "2 (a, b)");
        assert_eq!(rows[0].asserts, "it holds");
        assert_eq!(rows[1].asserts, "x \\| y");
    }

    #[test]
    fn parses_libtest_lines() {
        let r = parse_results("test a ... ok\ntest b ... FAILED\ntest c ... ignored, slow\nnoise");
        assert_eq!(r["a"], "pass");
        assert_eq!(r["b"], "FAIL");
        assert_eq!(r["c"], "ignored");
    }
}
