//! `segment-iam plan --explain` end to end against an embedded emulator: after a member added
//! out of band with a second token named for bo@example.com, the plan names bo and the
//! event's time under the step (text and JSON) and says what it read; an empty plan reads no
//! audit event; a workspace without the audit trail gets a warning and the plain plan, exit 0.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::path::PathBuf;
use std::time::Duration;

use assert_cmd::Command;
use segment_iam_emulator::{Emulator, EmulatorHandle, Operation};
use serde_json::Value;

const ME: &str = "sgp_explain-me-2c9a";
const BO: &str = "sgp_explain-bo-7d3b";
const BIN: &str = env!("CARGO_BIN_EXE_segment-iam");

const FILE: &str = "version: 1
users:
  user1@example.com:
    permissions:
      - role: Workspace Owner
        resources: [workspace]
groups:
  Analysts:
    members: [user2@example.com]
";

struct Emu {
    rt: tokio::runtime::Runtime,
    handle: Option<EmulatorHandle>,
    dir: tempfile::TempDir,
}

impl Emu {
    fn start(audit_trail: bool) -> Emu {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let builder = Emulator::builder()
            .token_for(ME, "me@example.com")
            .token_for(BO, "bo@example.com")
            .seed(7)
            .users(3)
            .audit_trail(audit_trail);
        let handle = rt.block_on(builder.start()).expect("emulator starts");
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("access.yaml"), FILE).expect("write the file");
        Emu {
            rt,
            handle: Some(handle),
            dir,
        }
    }

    fn h(&self) -> &EmulatorHandle {
        self.handle.as_ref().expect("running")
    }

    fn file(&self) -> PathBuf {
        self.dir.path().join("access.yaml")
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

    /// `plan -f access.yaml --explain` plus `args`, as me: (stdout, stderr), exit 0.
    fn explain(&self, args: &[&str]) -> (String, String) {
        let out = self
            .cmd(ME)
            .arg("plan")
            .arg("-f")
            .arg(self.file())
            .arg("--explain")
            .args(args)
            .assert()
            .success();
        let o = out.get_output();
        (
            String::from_utf8(o.stdout.clone()).expect("utf-8"),
            String::from_utf8(o.stderr.clone()).expect("utf-8"),
        )
    }

    fn apply(&self) {
        self.cmd(ME)
            .arg("apply")
            .arg("-f")
            .arg(self.file())
            .arg("--yes")
            .assert()
            .success();
    }

    fn audit_reads(&self) -> usize {
        self.h().journal_for(Operation::ListAuditEvents).len()
    }
}

impl Drop for Emu {
    fn drop(&mut self) {
        if let Some(h) = self.handle.take() {
            self.rt.block_on(h.shutdown());
        }
    }
}

#[test]
fn plan_explain_names_who_changed_the_drift_and_when() {
    let emu = Emu::start(true);
    emu.apply();
    let gid = emu
        .h()
        .state()
        .groups
        .iter()
        .find(|g| g.name == "Analysts")
        .map(|g| g.id.clone())
        .expect("Analysts");
    emu.cmd(BO)
        .args([
            "groups",
            "members",
            "add",
            &gid,
            "user3@example.com",
            "--yes",
        ])
        .assert()
        .success();
    let event = emu
        .h()
        .state()
        .audit
        .into_iter()
        .find(|e| e.event == "Subjects Added to Group" && e.actor == "bo@example.com")
        .expect("bo's event");
    let t = segment_iam::time::format_rfc3339(event.at);
    let minute = format!("{} {} UTC", &t[..10], &t[11..16]);

    let before = emu.audit_reads();
    let (out, err) = emu.explain(&["-o", "table"]);
    assert_eq!(emu.audit_reads() - before, 1, "one listing: the group's");
    let why = format!(
        "    why: members added to group \"Analysts\" by bo@example.com on {minute} (Subjects Added to Group: the latest such change on it; the event does not name the member)\n"
    );
    assert!(out.contains(&why), "{out}");
    assert!(
        out.ends_with("Explained from the audit trail: read 1 request.\n"),
        "{out}"
    );
    assert!(
        err.contains("of them audit-event request to explain the drift)"),
        "{err}"
    );

    let (json, _) = emu.explain(&["-o", "json"]);
    let v: Value = serde_json::from_str(&json).expect("JSON");
    assert_eq!(v["explanations"]["requests"], 1);
    // The plan's count includes the audit-event page, on stderr and in the JSON alike (both
    // runs read the same unchanged workspace).
    let total = v["reads"].as_u64().expect("reads");
    assert!(total > 1, "{json}");
    assert!(
        err.contains(&format!("read {total} requests (")),
        "{err} vs {total}"
    );
    let finding = &v["explanations"]["steps"][0]["findings"][0];
    assert_eq!(finding["drift"], "members_added");
    assert_eq!(finding["event"]["actorEmail"], "bo@example.com");
    assert_eq!(finding["event"]["id"], event.id.as_str());
    let served = finding["event"]["timestamp"].as_str().expect("timestamp");
    assert_eq!(
        segment_iam::time::parse_rfc3339(served).map(segment_iam::time::format_rfc3339),
        Some(t.clone()),
        "{served}"
    );
    assert!(v["steps"].as_array().is_some_and(|s| s.len() == 1), "{v}");

    // Converged: nothing to explain, nothing read.
    emu.apply();
    let before = emu.audit_reads();
    let (out, _) = emu.explain(&["-o", "table"]);
    assert_eq!(out, "No changes: the workspace matches the file.\n");
    assert_eq!(emu.audit_reads(), before);
}

#[test]
fn without_the_audit_trail_plan_explain_warns_and_shows_the_plan() {
    let emu = Emu::start(false);
    let (out, err) = emu.explain(&["-o", "table"]);
    assert!(out.contains("+ create group \"Analysts\""), "{out}");
    assert!(out.contains("Plan: "), "{out}");
    assert!(!out.contains("why:"), "{out}");
    assert!(
        err.contains("warning: the drift cannot be explained: this workspace has no audit trail"),
        "{err}"
    );
    assert_eq!(err.matches("warning:").count(), 1, "{err}");
}
