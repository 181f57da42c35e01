//! `segment-iam history` end to end against an embedded emulator: after some mutations made
//! with two tokens named for two people, `history --since 1h -o json` lists them newest first
//! with type, actor, resource and time; `--email` and `--group` narrow them; the other formats
//! hold the same events; a workspace without the audit trail exits 3 with a clear message; a
//! bad `--since` exits 2 having sent nothing.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::time::Duration;

use assert_cmd::Command;
use segment_iam_emulator::{Emulator, EmulatorHandle, Operation};
use serde_json::{Value, json};

const ANA: &str = "sgp_history-ana-5d1c";
const BEN: &str = "sgp_history-ben-8e2f";
const BIN: &str = env!("CARGO_BIN_EXE_segment-iam");

struct Emu {
    rt: tokio::runtime::Runtime,
    handle: Option<EmulatorHandle>,
}

impl Emu {
    fn start(audit_trail: bool) -> Emu {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let builder = Emulator::builder()
            .token_for(ANA, "ana@example.com")
            .token_for(BEN, "ben@example.com")
            .seed(7)
            .users(3)
            .audit_trail(audit_trail);
        let handle = rt.block_on(builder.start()).expect("emulator starts");
        Emu {
            rt,
            handle: Some(handle),
        }
    }

    fn h(&self) -> &EmulatorHandle {
        self.handle.as_ref().expect("running")
    }

    fn cmd(&self, token: &str) -> Command {
        let mut c = Command::new(BIN);
        c.env_clear()
            .env("SEGMENT_PUBLIC_API_TOKEN", token)
            .arg("--base-url")
            .arg(self.h().base_url())
            .timeout(Duration::from_secs(60));
        c
    }

    fn json(&self, token: &str, args: &[&str]) -> Value {
        let out = self.cmd(token).args(args).assert().success();
        serde_json::from_slice(&out.get_output().stdout).expect("stdout is JSON")
    }
}

impl Drop for Emu {
    fn drop(&mut self) {
        if let Some(h) = self.handle.take() {
            self.rt.block_on(h.shutdown());
        }
    }
}

/// Ana creates a group and adds the first seeded user; Ben renames it. Answers the group's
/// id and the member's email.
fn some_changes(emu: &Emu) -> (String, String) {
    let group = emu.json(
        ANA,
        &["groups", "create", "Analysts", "--yes", "-o", "json"],
    );
    let gid = group["id"].as_str().expect("group id").to_string();
    let member = emu.h().state().users[0].email.clone();
    emu.cmd(ANA)
        .args(["groups", "members", "add", &gid, &member, "--yes"])
        .assert()
        .success();
    emu.cmd(BEN)
        .args(["groups", "rename", &gid, "Analysts EU", "--yes"])
        .assert()
        .success();
    (gid, member)
}

#[test]
fn history_since_1h_lists_the_changes_newest_first_with_type_actor_resource_and_time() {
    let emu = Emu::start(true);
    let (gid, member) = some_changes(&emu);
    let events = emu.json(ANA, &["history", "--since", "1h", "-o", "json"]);
    let events = events.as_array().expect("an array");
    let summary: Vec<(&str, &str, &str, &str)> = events
        .iter()
        .map(|e| {
            (
                e["type"].as_str().unwrap(),
                e["actor"].as_str().unwrap(),
                e["resourceType"].as_str().unwrap(),
                e["resourceName"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                "User Group Updated",
                "ben@example.com",
                "USER_GROUP",
                "Analysts EU"
            ),
            (
                "Subjects Added to Group",
                "ana@example.com",
                "USER_GROUP",
                "Analysts"
            ),
            (
                "User Added To User Group",
                "ana@example.com",
                "USER",
                member.as_str()
            ),
            (
                "User Group Created",
                "ana@example.com",
                "USER_GROUP",
                "Analysts"
            ),
        ]
    );
    assert_eq!(events[0]["resourceId"], gid.as_str());
    assert_eq!(events[0]["actorEmail"], "ben@example.com");
    // Time: the emulator's recorded instants, newest first.
    let recorded: Vec<String> = emu
        .h()
        .audit_events()
        .iter()
        .rev()
        .map(|e| e.id.clone())
        .collect();
    let listed: Vec<&str> = events.iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(listed, recorded);
    let stamps: Vec<&str> = events
        .iter()
        .map(|e| e["timestamp"].as_str().unwrap())
        .collect();
    assert!(stamps.windows(2).all(|w| w[0] >= w[1]), "{stamps:?}");
    assert!(stamps.iter().all(|t| t.ends_with('Z')), "{stamps:?}");
    // `--since 1h` reached the service as a startTime.
    let sent = emu.h().journal_for(Operation::ListAuditEvents);
    assert!(
        sent.last().unwrap().query.contains("startTime="),
        "{sent:?}"
    );

    // A window that ends before everything: nothing.
    let none = emu.json(ANA, &["history", "--until", "2000-01-01", "-o", "json"]);
    assert_eq!(none, json!([]));
}

#[test]
fn email_and_group_narrow_the_history() {
    let emu = Emu::start(true);
    let (gid, member) = some_changes(&emu);
    let types = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|e| e["type"].as_str().unwrap().to_string())
            .collect()
    };
    // About the member (their user id), though Ana made the change.
    let about = emu.json(
        ANA,
        &["history", "--email", &member.to_uppercase(), "-o", "json"],
    );
    assert_eq!(types(&about), ["User Added To User Group"]);
    // Made by Ben.
    let by_ben = emu.json(
        ANA,
        &["history", "--email", "ben@example.com", "-o", "json"],
    );
    assert_eq!(types(&by_ben), ["User Group Updated"]);
    // The group, by name as it is now, read with the service's resourceId filter.
    let group = emu.json(ANA, &["history", "--group", "analysts eu", "-o", "json"]);
    assert_eq!(
        types(&group),
        [
            "User Group Updated",
            "Subjects Added to Group",
            "User Group Created"
        ]
    );
    let sent = emu.h().journal_for(Operation::ListAuditEvents);
    assert!(
        sent.last()
            .unwrap()
            .query
            .contains(&format!("resourceId={gid}")),
        "{sent:?}"
    );
    // The group's events Ana made.
    let both = emu.json(
        ANA,
        &[
            "history",
            "--group",
            &gid,
            "--email",
            "ana@example.com",
            "-o",
            "json",
        ],
    );
    assert_eq!(
        types(&both),
        ["Subjects Added to Group", "User Group Created"]
    );
}

#[test]
fn table_csv_and_ndjson_hold_the_same_events() {
    let emu = Emu::start(true);
    some_changes(&emu);
    let out = emu
        .cmd(ANA)
        .args(["history", "-o", "ndjson"])
        .assert()
        .success();
    let lines: Vec<Value> = String::from_utf8_lossy(&out.get_output().stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4);
    assert_eq!(lines[0]["type"], "User Group Updated");
    let out = emu
        .cmd(ANA)
        .args(["history", "-o", "csv"])
        .assert()
        .success();
    let mut csv = csv::Reader::from_reader(out.get_output().stdout.as_slice());
    let headers = csv.headers().unwrap().clone();
    assert_eq!(
        headers.iter().collect::<Vec<_>>(),
        [
            "TIME",
            "TYPE",
            "ACTOR",
            "RESOURCE TYPE",
            "RESOURCE ID",
            "RESOURCE NAME"
        ]
    );
    let rows: Vec<csv::StringRecord> = csv.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 4);
    assert_eq!(&rows[0][1], "User Group Updated");
    assert_eq!(&rows[0][2], "ben@example.com");
    let out = emu
        .cmd(ANA)
        .args(["history", "-o", "table"])
        .assert()
        .success();
    let table = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(table.contains("User Group Created"), "{table}");
    assert!(table.contains("ana@example.com"), "{table}");
}

#[test]
fn a_workspace_without_the_audit_trail_exits_3_with_a_clear_message() {
    let emu = Emu::start(false);
    some_changes(&emu);
    let out = emu
        .cmd(ANA)
        .args(["history", "--since", "7d"])
        .assert()
        .code(3);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(stderr.contains("no audit trail"), "{stderr}");
    assert!(stderr.contains("Business-tier"), "{stderr}");
}

#[test]
fn a_bad_window_is_a_usage_error_and_sends_nothing() {
    let emu = Emu::start(true);
    for args in [
        vec!["history", "--since", "yesterday"],
        vec!["history", "--until", "7y"],
        vec!["history", "--since", "1h", "--until", "2d"],
        vec!["history", "--email", "not-an-email"],
    ] {
        let out = emu.cmd(ANA).args(&args).assert().code(2);
        let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
        assert!(!stderr.is_empty(), "{args:?}");
    }
    assert!(emu.h().journal().is_empty(), "{:?}", emu.h().journal());
}
