//! Scenario 5, code generation: how long `cargo xtask codegen --check` takes and how many lines
//! it generates, beside the hand-written facade it saves from growing.
//!
//! The generator times itself (document load, progenitor, formatting) and prints
//! `codegen: N files, L lines generated from ... in T`; the bench parses that line and also
//! times the whole subprocess, which includes cargo's up-to-date check (and a build of xtask
//! if someone changed the generator since it was last built).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::common::{self, Outcome};
use crate::report::{Report, Verdict};

/// The workspace root: two levels above this crate.
fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// Parses a `Duration`'s `Debug` form (`337.28ms`, `1.02s`, `950.1µs`).
fn parse_debug_duration(text: &str) -> Option<Duration> {
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    let secs = match unit {
        "s" => number,
        "ms" => number / 1e3,
        "µs" | "us" => number / 1e6,
        "ns" => number / 1e9,
        _ => return None,
    };
    Some(Duration::from_secs_f64(secs))
}

/// Lines of the hand-written facade (`crates/segment-iam/src`), for scale.
fn facade_lines(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| {
            let path = e.path();
            if path.is_dir() {
                facade_lines(&path)
            } else if path.extension().is_some_and(|x| x == "rs") {
                std::fs::read_to_string(&path).map_or(0, |s| s.lines().count())
            } else {
                0
            }
        })
        .sum()
}

/// Runs the scenario under `deadline`.
pub async fn run(report: &mut Report, deadline: Duration) -> Outcome<()> {
    let root = workspace_root();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let started = Instant::now();
    let child = tokio::process::Command::new(cargo)
        .args(["xtask", "codegen", "--check"])
        .current_dir(&root)
        .kill_on_drop(true)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("spawning cargo xtask: {e}"))?;
    let output = tokio::time::timeout(deadline, child.wait_with_output())
        .await
        .map_err(|_| {
            format!(
                "cargo xtask codegen --check overran {} s",
                deadline.as_secs()
            )
        })?
        .map_err(|e| e.to_string())?;
    let wall = started.elapsed();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout
        .lines()
        .find(|l| l.starts_with("codegen:"))
        .ok_or_else(|| {
            format!(
                "no `codegen:` line from cargo xtask ({}): {}",
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            )
        })?;
    // codegen: 4 files, 11027 lines generated from openapi/segment-iam.yaml in 337.28ms
    let words: Vec<&str> = line.split_whitespace().collect();
    let lines: u64 = words
        .iter()
        .position(|w| *w == "lines")
        .and_then(|i| words.get(i.wrapping_sub(1)))
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| format!("no line count in {line:?}"))?;
    let generation = words
        .last()
        .and_then(|t| parse_debug_duration(t))
        .ok_or_else(|| format!("no generation time in {line:?}"))?;
    if !output.status.success() {
        report.note(format!(
            "scenario 5: `cargo xtask codegen --check` exited with {} (the checked-in files are stale \
             against the document); the timing is still valid",
            output.status
        ));
    }
    let hand = facade_lines(&root.join("crates/segment-iam/src")) as u64;
    report.row(
        "5 `cargo xtask codegen --check`",
        "generation time (self-timed) / subprocess wall",
        format!("{} / {}", common::secs(generation), common::secs(wall)),
        "—",
        "—",
        "—",
        Verdict::Info,
    );
    report.row(
        "5 generated code",
        "lines generated / hand-written facade lines",
        common::count(lines),
        format!("{} (crates/segment-iam/src)", common::count(hand)),
        common::ratio(lines as f64 / hand.max(1) as f64),
        "—",
        Verdict::Info,
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_durations_parse() {
        assert_eq!(
            parse_debug_duration("337.28ms"),
            Some(Duration::from_secs_f64(0.33728))
        );
        assert_eq!(
            parse_debug_duration("1.5s"),
            Some(Duration::from_secs_f64(1.5))
        );
        assert_eq!(
            parse_debug_duration("12µs"),
            Some(Duration::from_secs_f64(12e-6))
        );
        assert_eq!(parse_debug_duration("fast"), None);
    }
}
