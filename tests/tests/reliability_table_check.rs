//! RELIABILITY.md stays true: every reliability test appears in it with its current cases and
//! assertions, none is ignored or cfg'd out, every row names an existing test that passed, and
//! the file was produced by a run against exactly the current code (its fingerprint).
//! Regenerate with `cargo run -p segment-iam-tests --bin reliability_table`.

use std::path::PathBuf;

use segment_iam_tests::reliability_table::{fingerprint, fingerprint_line, row_key, rows, theme};

#[test]
fn reliability_md_matches_the_reliability_tests_and_a_run_of_the_current_code() {
    let crate_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let root = crate_dir.parent().expect("workspace root");
    let md = std::fs::read_to_string(root.join("RELIABILITY.md"))
        .expect("RELIABILITY.md exists: cargo run -p segment-iam-tests --bin reliability_table");
    let expected = rows(&crate_dir.join("tests")).expect("test sources");
    assert!(expected.len() >= 20, "the scan found the tests");
    let stale =
        "RELIABILITY.md is stale: run `cargo run -p segment-iam-tests --bin reliability_table`";
    for row in &expected {
        assert!(
            row.excluded.is_none(),
            "{} is excluded by {:?}: a reliability test must run",
            row.test,
            row.excluded
        );
    }
    let current = fingerprint(root).expect("fingerprint");
    assert!(
        md.contains(&fingerprint_line(&current)),
        "{stale}: the code changed since the run that produced it (now {current})"
    );
    // The table: the rows under its header, up to the first line that is not a row (the
    // mutation figures may follow with tables of their own).
    let table: Vec<&str> = md
        .lines()
        .skip_while(|l| !l.starts_with("| theme"))
        .skip(2)
        .take_while(|l| l.starts_with("| "))
        .collect();
    assert_eq!(table.len(), expected.len(), "{stale}");
    for (line, row) in table.iter().zip(&expected) {
        let key = row_key(&theme(&row.file), &row.test, &row.cases, &row.asserts);
        assert!(
            line.starts_with(&key),
            "{stale}\nexpected: {key}\nfound:    {line}"
        );
        assert!(
            line.ends_with(" pass |"),
            "{} did not pass: {line}",
            row.test
        );
        assert!(
            !row.cases.is_empty() && !row.asserts.is_empty(),
            "{} is documented",
            row.test
        );
    }
}
