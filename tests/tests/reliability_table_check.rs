//! RELIABILITY.md stays true: every reliability test appears in it with its current cases
//! and assertions, every row names an existing test, and every row's result is `pass`.
//! Regenerate with `cargo run -p segment-iam-tests --bin reliability_table`.

use std::path::PathBuf;

use segment_iam_tests::reliability_table::{row_key, rows, theme};

#[test]
fn reliability_md_matches_the_reliability_tests_and_all_of_them_passed() {
    let crate_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let md = std::fs::read_to_string(crate_dir.join("../RELIABILITY.md"))
        .expect("RELIABILITY.md exists: cargo run -p segment-iam-tests --bin reliability_table");
    let expected = rows(&crate_dir.join("tests")).expect("test sources");
    assert!(expected.len() >= 20, "the scan found the tests");
    let table: Vec<&str> = md
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| theme") && !l.starts_with("| ---"))
        .collect();
    let stale =
        "RELIABILITY.md is stale: run `cargo run -p segment-iam-tests --bin reliability_table`";
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
