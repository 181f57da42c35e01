//! Scenario 1, counted: instructions per `get_user` call under callgrind, for the SDK, for the
//! generated client alone and for the call written by hand with reqwest.
//!
//! Why: calls per second on a shared 2-core machine drift by several points between runs, so a
//! change of a microsecond a call cannot be told from noise there. Callgrind counts the
//! instructions a binary executes, the same from run to run whatever else the machine does.
//! The child (this binary, `__calls-child`) runs the emulator and the client on one
//! current-thread runtime, so the count covers both sides of each call, the same work the
//! wall-clock ratio compares. Each side is one run of its own; an empty run (same start-up:
//! emulator seeded, every client built, no call) is subtracted.

use std::time::Duration;

use crate::common::{self, Outcome, TOKEN};
use crate::overhead;
use crate::report::{Report, Verdict};
use segment_iam_api::ClientIamUsersExt;

/// The child's command-line name.
pub const CHILD_COMMAND: &str = "__calls-child";

/// The sides the child can run, and the empty run subtracted from each.
const SIDES: [&str; 4] = ["none", "reqwest", "generated", "sdk"];

/// Counts each side under callgrind and adds one row; without valgrind, says so instead.
pub async fn run(report: &mut Report, calls: usize) -> Outcome<()> {
    let measure = "instructions per call (callgrind, one thread)";
    let scenario = format!("1 get_user ×{}, counted", common::count(calls as u64));
    if !valgrind_present().await {
        report.row(scenario, measure, "—", "—", "—", "—", Verdict::Info);
        report.note("scenario 1, counted: valgrind is not installed, so instructions were not counted (`apt-get install valgrind`)");
        return Ok(());
    }
    let exe = std::env::current_exe().map_err(|e| format!("finding this binary: {e}"))?;
    let mut totals = [0u64; SIDES.len()];
    for (total, side) in totals.iter_mut().zip(SIDES) {
        *total = count_instructions(&exe, side, calls).await?;
    }
    let [none, reqwest, generated, sdk] = totals;
    let per_call = |total: u64| total.saturating_sub(none) as f64 / calls as f64;
    let (reqwest, generated, sdk) = (per_call(reqwest), per_call(generated), per_call(sdk));
    report.row(
        scenario,
        measure,
        format!(
            "{} (generated client alone {})",
            common::count(sdk as u64),
            common::count(generated as u64)
        ),
        format!("{} (reqwest by hand)", common::count(reqwest as u64)),
        common::ratio(reqwest / sdk),
        "—",
        Verdict::Info,
    );
    Ok(())
}

async fn valgrind_present() -> bool {
    tokio::process::Command::new("valgrind")
        .arg("--version")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .await
        .is_ok_and(|s| s.success())
}

/// Runs the child for `side` under callgrind and reads the total it reports.
async fn count_instructions(exe: &std::path::Path, side: &str, calls: usize) -> Outcome<u64> {
    let child = tokio::process::Command::new("valgrind")
        .args(["--tool=callgrind", "--callgrind-out-file=/dev/null"])
        .arg(exe)
        .args([CHILD_COMMAND, side, &calls.to_string()])
        .kill_on_drop(true)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("starting valgrind: {e}"))?;
    let output = tokio::time::timeout(Duration::from_secs(180), child.wait_with_output())
        .await
        .map_err(|_| format!("callgrind of the {side} side overran 180 s"))?
        .map_err(|e| e.to_string())?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        return Err(format!(
            "callgrind of the {side} side failed ({}): {}",
            output.status,
            stderr.trim()
        ));
    }
    // `==PID== Collected : 123456`
    stderr
        .lines()
        .find_map(|line| line.split_once("Collected :"))
        .and_then(|(_, n)| n.trim().parse::<u64>().ok())
        .ok_or_else(|| format!("callgrind printed no total for the {side} side: {stderr:?}"))
}

/// The child: `calls` calls of one side, client and emulator on one thread.
pub fn child_main(args: &[String]) -> Outcome<()> {
    let [side, calls] = args else {
        return Err(format!(
            "usage: {CHILD_COMMAND} {} <calls>",
            SIDES.join("|")
        ));
    };
    if !SIDES.contains(&side.as_str()) {
        return Err(format!("unknown side {side:?}"));
    }
    let calls: usize = calls.parse().map_err(|e| format!("calls: {e}"))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let emu = overhead::emulator(100).await?;
        let ids = emu.user_ids();
        let base = emu.base_url();
        // Every side's client is built in every run, so start-up is the same in each.
        let raw = common::raw_http(TOKEN)?;
        let generated =
            segment_iam_api::Client::with_exec(&base, raw.clone(), segment_iam_api::PassThrough);
        let sdk = common::facade(&emu)?;
        for i in 0..calls {
            let id = &ids[i % ids.len()];
            match side.as_str() {
                "reqwest" => overhead::get_user_by_hand(&raw, &base, id).await?,
                "generated" => {
                    let user = generated
                        .get_user()
                        .user_id(id.as_str())
                        .send()
                        .await
                        .map_err(|e| e.to_string())?;
                    std::hint::black_box(user);
                }
                "sdk" => {
                    let user = sdk.users().get(id).await.map_err(|e| e.to_string())?;
                    std::hint::black_box(user);
                }
                _ => {}
            }
        }
        emu.shutdown().await;
        Ok(())
    })
}
