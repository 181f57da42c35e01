//! `plan` and `apply` with `expires:` in the access file, through the binary on the emulator.
//! The CLI plans at the system clock, so the dates are chosen to hold whatever the day: one
//! long past (2020-01-01, always expired) and one far ahead (2100-01-01), warned about only
//! under a window wide enough to reach it.

use std::path::PathBuf;
use std::time::Duration;

use assert_cmd::Command;
use segment_iam_emulator::{Emulator, EmulatorHandle, Fixture, FixtureGroup, FixtureUser};
use segment_iam_sync::AccessFile;
use segment_iam_sync::file::Member;
use serde_json::Value;

const TOKEN: &str = "sgp_expiry-test-TOKEN-4f1a09";
const BIN: &str = env!("CARGO_BIN_EXE_segment-iam");

struct Emu {
    rt: tokio::runtime::Runtime,
    handle: Option<EmulatorHandle>,
    dir: tempfile::TempDir,
}

impl Emu {
    fn start() -> Emu {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let person = |email: &str| FixtureUser {
            email: email.into(),
            ..FixtureUser::default()
        };
        let fixture = Fixture {
            users: vec![
                person("ana@example.com"),
                person("bo@example.com"),
                person("cy@example.com"),
            ],
            groups: vec![FixtureGroup {
                name: "Contractors".into(),
                members: vec![
                    "ana@example.com".into(),
                    "bo@example.com".into(),
                    "cy@example.com".into(),
                ],
                ..FixtureGroup::default()
            }],
            ..Fixture::default()
        };
        let builder = Emulator::builder().token(TOKEN).fixture(fixture);
        let handle = rt.block_on(builder.start()).expect("emulator starts");
        Emu {
            rt,
            handle: Some(handle),
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    fn h(&self) -> &EmulatorHandle {
        self.handle.as_ref().expect("running")
    }

    fn cmd(&self) -> Command {
        let mut c = Command::new(BIN);
        c.env_clear()
            .env("SEGMENT_PUBLIC_API_TOKEN", TOKEN)
            .arg("--base-url")
            .arg(self.h().base_url())
            .timeout(Duration::from_secs(120));
        c
    }

    fn mutations(&self) -> usize {
        self.h()
            .journal()
            .iter()
            .filter(|e| e.method != "GET")
            .count()
    }

    /// The workspace exported, with bo@'s membership ended in 2020 and cy@'s ending in 2100.
    fn dated_file(&self) -> PathBuf {
        let path = self.dir.path().join("access.yaml");
        self.cmd()
            .arg("export")
            .arg("--file")
            .arg(&path)
            .assert()
            .success();
        let text = std::fs::read_to_string(&path).expect("exported");
        assert!(!text.contains("expires"), "{text}");
        let mut file = AccessFile::parse(&text).expect("the export parses");
        let group = file.groups.get_mut("Contractors").expect("exported");
        for m in &mut group.members {
            if m.value == "bo@example.com" {
                *m = Member::new("bo@example.com").expires("2020-01-01");
            } else if m.value == "cy@example.com" {
                *m = Member::new("cy@example.com").expires("2100-01-01T00:00:00Z");
            }
        }
        std::fs::write(&path, file.to_yaml().expect("writes")).expect("write");
        path
    }
}

impl Drop for Emu {
    fn drop(&mut self) {
        if let Some(h) = self.handle.take() {
            self.rt.block_on(h.shutdown());
        }
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn plan_says_expired_apply_removes_only_it_and_the_window_decides_the_warning() {
    let emu = Emu::start();
    let file = emu.dated_file();

    let out = emu
        .cmd()
        .args(["plan", "-o", "table", "-f"])
        .arg(&file)
        .output()
        .expect("runs");
    let shown = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        shown.contains("remove 1 member(s) (1 request): bo@example.com"),
        "{shown}"
    );
    assert!(
        shown.contains("    expired on 2020-01-01: bo@example.com in group \"Contractors\""),
        "{shown}"
    );
    assert!(!shown.contains("warning"), "2100 is beyond a week: {shown}");

    let wide = emu
        .cmd()
        .args(["plan", "-o", "table", "--warn-expiring", "5000w", "-f"])
        .arg(&file)
        .output()
        .expect("runs");
    let shown = text(&wide.stdout);
    assert!(
        shown.contains(
            "warning: expires on 2100-01-01T00:00:00Z: cy@example.com in group \"Contractors\""
        ),
        "{shown}"
    );

    let json = emu
        .cmd()
        .args(["plan", "-o", "json", "-f"])
        .arg(&file)
        .output()
        .expect("runs");
    let plan: Value = serde_json::from_slice(&json.stdout).expect("JSON");
    assert_eq!(plan["expired"][0]["kind"], "member");
    assert_eq!(plan["expired"][0]["email"], "bo@example.com");
    assert_eq!(plan["expired"][0]["expires"], "2020-01-01");
    assert_eq!(plan["expired"][0]["step"], 0);
    assert_eq!(plan["steps"][0]["action"], "remove_members");

    let bad = emu
        .cmd()
        .args(["plan", "--warn-expiring", "two weeks", "-f"])
        .arg(&file)
        .output()
        .expect("runs");
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad.stderr));
    assert!(
        text(&bad.stderr).contains("not a duration"),
        "{}",
        text(&bad.stderr)
    );
    assert_eq!(emu.mutations(), 0, "planning sends nothing");

    emu.cmd()
        .args(["apply", "--yes", "-f"])
        .arg(&file)
        .assert()
        .success();
    let sent: Vec<_> = emu
        .h()
        .journal()
        .into_iter()
        .filter(|e| e.method != "GET")
        .collect();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(
        sent[0].query.contains("bo%40example.com") || sent[0].query.contains("bo@example.com"),
        "{:?}",
        sent[0]
    );

    // Applied: nothing pending, though the stale entry is still pointed out.
    let again = emu
        .cmd()
        .args(["plan", "--detailed-exitcode", "-o", "table", "-f"])
        .arg(&file)
        .output()
        .expect("runs");
    assert_eq!(again.status.code(), Some(0), "{}", text(&again.stdout));
    assert!(
        text(&again.stdout).contains("nothing left to remove"),
        "{}",
        text(&again.stdout)
    );
    assert_eq!(emu.mutations(), 1);
}
