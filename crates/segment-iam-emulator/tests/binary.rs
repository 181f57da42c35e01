//! The `segment-iam-emulator` binary: prints its URL, serves, stops on Ctrl-C.
#![allow(clippy::unwrap_used, missing_docs)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[cfg(unix)]
#[tokio::test]
async fn binary_serves_and_stops_on_ctrl_c() {
    let fixture = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        fixture.path(),
        r#"{"users":[{"id":"fx1","name":"Fix","email":"fix@example.com"}],"groups":[{"id":"fg","name":"Fixed","members":["fix@example.com"]}]}"#,
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_segment-iam-emulator"))
        .args([
            "--port",
            "0",
            "--token",
            "T",
            "--seed-users",
            "5",
            "--seed-sources",
            "3",
            "--window-ms",
            "1000",
            "--strict",
        ])
        .arg("--fixture")
        .arg(fixture.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line.trim().to_string();
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");

    let http = reqwest::Client::new();
    let r = http
        .get(format!("{base}/users?pagination.count=10"))
        .bearer_auth("T")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers().contains_key("x-ratelimit-reset"));
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["data"]["users"].as_array().unwrap().len(), 6);
    assert_eq!(v["data"]["users"][0]["id"], "fx1");
    let r = http
        .get(format!("{base}/users?pagination[count]=10"))
        .bearer_auth("T")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422, "strict mode");
    let r = http
        .get(format!("{base}/sources?pagination.count=10"))
        .bearer_auth("T")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = r.json().await.unwrap();
    let labels: Vec<&str> = v["data"]["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["labels"][0]["value"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["prod", "dev", "prod"], "--seed-sources alternates");
    let r = http
        .get(format!("{base}/users"))
        .bearer_auth("emulator-token")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "{status:?}");
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "did not stop");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[test]
fn a_fixture_with_an_unknown_label_fails_naming_it() {
    let fixture = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        fixture.path(),
        r#"{"sources":[{"labels":[{"key":"env","value":"prod"}]}]}"#,
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_segment-iam-emulator"))
        .arg("--fixture")
        .arg(fixture.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("`env:prod`"), "{stderr}");
}

#[test]
fn bad_fixture_fails() {
    let out = Command::new(env!("CARGO_BIN_EXE_segment-iam-emulator"))
        .args(["--fixture", "/nonexistent/fixture.json"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("fixture"));
}
