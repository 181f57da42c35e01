//! The official TypeScript SDK (`tests/ts-sdk`) against the emulator: its `listLabels`,
//! `createLabel`, `deleteLabel`, `listSources` and `listAuditEvents` answers parse into the
//! SDK's models. Needs
//! `node` and `npm` (a missing one fails the test, never skips it); installs the pinned SDK
//! with `npm ci` when `node_modules` is absent.
#![allow(clippy::unwrap_used, missing_docs)]

use std::path::PathBuf;
use std::process::{Command, Output};

use segment_iam_emulator::{Emulator, Fault, Operation};

fn sdk_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/ts-sdk")
}

fn tool(name: &str) -> String {
    match Command::new(name).arg("--version").output() {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).trim().to_string(),
        other => panic!(
            "`{name}` is needed to check the official TypeScript SDK against the emulator \
             (install Node.js 18 or later with npm): {other:?}"
        ),
    }
}

/// `npm ci` in `tests/ts-sdk` unless the SDK is installed already; once a process, so the
/// tests of this file do not install side by side.
fn install_sdk() {
    static INSTALL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one_at_a_time = INSTALL.lock().unwrap_or_else(|e| e.into_inner());
    tool("node");
    tool("npm");
    let dir = sdk_dir();
    if dir
        .join("node_modules/@segment/public-api-sdk-typescript")
        .is_dir()
    {
        return;
    }
    let out = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "npm ci in {}: {}\n{}",
        dir.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

async fn run_script(base_url: String, token: String, sources: usize) -> Output {
    run_node(vec![
        "labels.mjs".into(),
        base_url,
        token,
        sources.to_string(),
    ])
    .await
}

async fn run_node(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        Command::new("node")
            .args(args)
            .current_dir(sdk_dir())
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

fn describe(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_typescript_sdk_parses_labels_and_sources() {
    install_sdk();
    let emu = Emulator::builder()
        .token("T")
        .seed(5)
        .sources(5)
        .rate_limits(false)
        .start()
        .await
        .unwrap();
    let out = run_script(emu.base_url(), emu.token(), 5).await;
    assert!(out.status.success(), "{}", describe(&out));
    for op in [
        Operation::ListLabels,
        Operation::CreateLabel,
        Operation::DeleteLabel,
        Operation::ListSources,
    ] {
        assert!(emu.applied_count(op) >= 1, "{op} not applied");
    }
    assert_eq!(emu.applied_count(Operation::CreateLabel), 1);
    assert_eq!(emu.applied_count(Operation::DeleteLabel), 1);
    assert_eq!(
        emu.applied_count(Operation::ListSources),
        3,
        "5 sources, pages of 2"
    );
    let refused = emu.journal_for(Operation::DeleteLabel);
    assert_eq!(
        refused.last().map(|e| e.status),
        Some(409),
        "a label in use"
    );
    assert_eq!(emu.label_strings(), ["environment:dev", "environment:prod"]);
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_check_fails_on_a_source_the_sdk_would_not_accept() {
    install_sdk();
    let emu = Emulator::builder()
        .token("T")
        .sources(1)
        .rate_limits(false)
        .start()
        .await
        .unwrap();
    // A source without `metadata` and `workspaceId`, which SourceV1 requires.
    let body = r#"{"data":{"sources":[{"id":"s1","slug":"s","enabled":true,"writeKeys":[],
        "labels":[{"key":"environment","value":"prod"}]}],
        "pagination":{"current":"c","totalEntries":1}}}"#;
    emu.inject(
        Fault::respond(200, "application/json", body.as_bytes().to_vec())
            .on_operation(Operation::ListSources),
    );
    let out = run_script(emu.base_url(), emu.token(), 1).await;
    assert!(!out.status.success(), "{}", describe(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("required by SourceV1"), "{stderr}");
    emu.shutdown().await;
}

/// Creates groups `G0`.. through the API with `token` (the SDK check reads their events).
async fn create_groups(base_url: &str, token: &str, n: usize) {
    let http = reqwest::Client::new();
    for i in 0..n {
        let r = http
            .post(format!("{base_url}/groups"))
            .bearer_auth(token)
            .json(&serde_json::json!({ "name": format!("G{i}") }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_typescript_sdk_parses_the_audit_trail() {
    install_sdk();
    let emu = Emulator::builder()
        .token_for("T-ana", "ana@example.com")
        .rate_limits(false)
        .start()
        .await
        .unwrap();
    create_groups(&emu.base_url(), "T-ana", 5).await;
    let events = emu.audit_events().len();
    assert_eq!(events, 5);
    let out = run_node(vec![
        "audit.mjs".into(),
        emu.base_url(),
        "T-ana".into(),
        events.to_string(),
        "ana@example.com".into(),
    ])
    .await;
    assert!(out.status.success(), "{}", describe(&out));
    assert!(
        emu.applied_count(Operation::ListAuditEvents) >= 3,
        "5 events, pages of 2"
    );
    let sent: Vec<String> = emu
        .journal_for(Operation::ListAuditEvents)
        .into_iter()
        .map(|e| e.query)
        .collect();
    for param in ["resourceId=", "resourceType=", "startTime=", "endTime="] {
        assert!(
            sent.iter().any(|q| q.contains(param)),
            "the SDK never sent {param}: {sent:?}"
        );
    }
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sdk_sees_a_workspace_without_the_audit_trail_refused_with_403() {
    install_sdk();
    let emu = Emulator::builder()
        .token("T")
        .audit_trail(false)
        .rate_limits(false)
        .start()
        .await
        .unwrap();
    let out = run_node(vec![
        "audit.mjs".into(),
        emu.base_url(),
        "T".into(),
        "unavailable".into(),
    ])
    .await;
    assert!(out.status.success(), "{}", describe(&out));
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_check_fails_on_an_event_the_sdk_would_not_accept() {
    install_sdk();
    let emu = Emulator::builder()
        .token_for("T", "ana@example.com")
        .rate_limits(false)
        .start()
        .await
        .unwrap();
    // An event without `resourceName`, which AuditEventV1 requires.
    let body = r#"{"data":{"events":[{"id":"e1","timestamp":"2026-12-01T10:32:00Z",
        "type":"User Group Created","actor":"ana@example.com","actorEmail":"ana@example.com",
        "resourceId":"g1","resourceType":"USER_GROUP"}]}}"#;
    emu.inject(
        Fault::respond(200, "application/json", body.as_bytes().to_vec())
            .on_operation(Operation::ListAuditEvents),
    );
    let out = run_node(vec![
        "audit.mjs".into(),
        emu.base_url(),
        "T".into(),
        "1".into(),
        "ana@example.com".into(),
    ])
    .await;
    assert!(!out.status.success(), "{}", describe(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("required by AuditEventV1"), "{stderr}");
    emu.shutdown().await;
}
