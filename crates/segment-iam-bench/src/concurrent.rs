//! Scenario 4, concurrent callers: 64 tasks share one client and each runs a short sequence of
//! different mutations on its own group (create, add a member, add a permission, rename,
//! remove the member) under 60 mutations per 1-second window.
//!
//! What it shows: whether one client's pacing holds across tasks (the bucket state is shared
//! by every clone), counted as 429s received and as completion time against the theoretical
//! minimum (mutations ÷ limit × window). The baseline is the same work written by hand with
//! reqwest, each task retrying its own 429s with the naive 1 s, 2 s, 4 s ... backoff; it runs
//! under a hard deadline and reports what it finished.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use segment_iam::{Permission, ResourceType};
use segment_iam_emulator::{Emulator, EmulatorHandle};

use crate::backoff::{self, Sent};
use crate::bulk::{LIMIT, WINDOW};
use crate::common::{self, Outcome, TOKEN};
use crate::report::{Report, Verdict};

/// Tasks sharing the client.
const TASKS: usize = 64;
/// The role granted (Source Read-only, one of the emulator's default roles).
const ROLE: &str = "1WDUuSJ7eANmTOE8hJzSgcRLn2L";
/// The workspace resource of the documentation's examples.
const WORKSPACE: &str = "9aQ1Lj62S4bomZKLF4DPqW";

async fn emulator(seed: u64) -> Outcome<(EmulatorHandle, Vec<String>)> {
    let emu = Emulator::builder()
        .token(TOKEN)
        .seed(seed)
        .users(TASKS)
        .mutation_limit(LIMIT)
        .window(WINDOW)
        .start()
        .await
        .map_err(|e| e.to_string())?;
    let emails = emu
        .user_ids()
        .iter()
        .map(|id| emu.user(id).map(|u| u.email).ok_or("seeded user vanished"))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((emu, emails))
}

/// One task's work through the SDK: the first `steps` of the sequence.
async fn sdk_task(
    client: segment_iam::Client,
    t: usize,
    email: String,
    steps: usize,
) -> Outcome<()> {
    let groups = client.groups();
    let err = |e: segment_iam::Error| e.to_string();
    let group = groups.create(format!("bench {t}")).await.map_err(err)?;
    if steps > 1 {
        groups
            .add_members(&group.id, [email.as_str()])
            .await
            .map_err(err)?;
    }
    if steps > 2 {
        let permission = Permission::new(ROLE).resource(ResourceType::Workspace, WORKSPACE);
        groups
            .add_permissions(&group.id, [permission])
            .await
            .map_err(err)?;
    }
    if steps > 3 {
        groups
            .rename(&group.id, format!("bench {t} renamed"))
            .await
            .map_err(err)?;
    }
    if steps > 4 {
        groups
            .remove_members(&group.id, [email.as_str()])
            .await
            .map_err(err)?;
    }
    Ok(())
}

/// The same work written by hand with reqwest and naive backoff; adds to `sent`, `done`.
async fn raw_task(
    http: reqwest::Client,
    base: String,
    t: usize,
    email: String,
    steps: usize,
    sent: Arc<[AtomicU64; 2]>,
    done: Arc<AtomicUsize>,
) -> Outcome<()> {
    let record = |s: Sent| {
        sent[0].fetch_add(s.requests, Ordering::Relaxed);
        sent[1].fetch_add(s.rate_limited, Ordering::Relaxed);
        done.fetch_add(1, Ordering::Relaxed);
    };
    let body = serde_json::json!({ "name": format!("bench {t}") });
    let (text, s) = backoff::send(|| http.post(format!("{base}/groups")).json(&body)).await?;
    record(s);
    let created: serde_json::Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    let id = created["data"]["userGroup"]["id"]
        .as_str()
        .ok_or("create_user_group: no id")?
        .to_string();
    if steps > 1 {
        let body = serde_json::json!({ "emails": [email] });
        let (_, s) =
            backoff::send(|| http.post(format!("{base}/groups/{id}/users")).json(&body)).await?;
        record(s);
    }
    if steps > 2 {
        let body = serde_json::json!({ "permissions": [
            { "roleId": ROLE, "resources": [{ "id": WORKSPACE, "type": "WORKSPACE" }] }
        ]});
        let (_, s) = backoff::send(|| {
            http.post(format!("{base}/groups/{id}/permissions"))
                .json(&body)
        })
        .await?;
        record(s);
    }
    if steps > 3 {
        let body = serde_json::json!({ "name": format!("bench {t} renamed") });
        let (_, s) =
            backoff::send(|| http.patch(format!("{base}/groups/{id}")).json(&body)).await?;
        record(s);
    }
    if steps > 4 {
        let email =
            percent_encoding::utf8_percent_encode(&email, percent_encoding::NON_ALPHANUMERIC)
                .to_string();
        let (_, s) =
            backoff::send(|| http.delete(format!("{base}/group/{id}/users?emails.0={email}")))
                .await?;
        record(s);
    }
    Ok(())
}

/// Runs the scenario with `steps` mutations per task; the baseline stops at `baseline_deadline`.
pub async fn run(report: &mut Report, steps: usize, baseline_deadline: Duration) -> Outcome<()> {
    let mutations = (TASKS * steps) as u64;
    let minimum = WINDOW.mul_f64(mutations as f64 / LIMIT as f64);
    let windows = mutations.div_ceil(u64::from(LIMIT));

    // --- SDK: one client, 64 tasks ---
    let (emu, emails) = emulator(6).await?;
    let client = common::facade(&emu)?;
    let started = Instant::now();
    let tasks: Vec<_> = emails
        .iter()
        .enumerate()
        .map(|(t, email)| tokio::spawn(sdk_task(client.clone(), t, email.clone(), steps)))
        .collect();
    for task in tasks {
        task.await.map_err(|e| e.to_string())??;
    }
    let wall = started.elapsed();
    let m = client.metrics();
    let late = common::window_lateness(&emu.journal(), WINDOW);
    emu.shutdown().await;

    // --- Baseline: 64 hand-written tasks, each backing off on its own ---
    let (emu, emails) = emulator(6).await?;
    let http = common::raw_http(TOKEN)?;
    let sent: Arc<[AtomicU64; 2]> = Arc::new([AtomicU64::new(0), AtomicU64::new(0)]);
    let done = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let tasks: Vec<_> = emails
        .iter()
        .enumerate()
        .map(|(t, email)| {
            tokio::spawn(raw_task(
                http.clone(),
                emu.base_url(),
                t,
                email.clone(),
                steps,
                sent.clone(),
                done.clone(),
            ))
        })
        .collect();
    let joined = tokio::time::timeout(baseline_deadline, async {
        for task in &mut tasks.into_iter() {
            task.await.map_err(|e| e.to_string())??;
        }
        Ok::<_, String>(())
    })
    .await;
    let base_wall = started.elapsed();
    let finished = done.load(Ordering::Relaxed) as u64;
    let base_requests = sent[0].load(Ordering::Relaxed);
    let base_429 = sent[1].load(Ordering::Relaxed);
    let base_complete = match joined {
        Ok(result) => {
            result?;
            true
        }
        Err(_) => false,
    };
    emu.shutdown().await;

    let scope = format!("4 {TASKS} tasks × {steps} mixed mutations, one client, 60 / 1 s");
    let base_label = if base_complete {
        String::new()
    } else {
        format!(
            " (stopped at the {} s deadline, {finished}/{mutations} done)",
            baseline_deadline.as_secs()
        )
    };
    report.row(
        &scope,
        "requests / 429s",
        format!("{} / {}", m.requests, m.rate_limited),
        format!("{base_requests} / {base_429}{base_label}"),
        "—",
        format!("(scenario 3's: ≤ 1 429 per window, {windows} windows)"),
        Verdict::Info,
    );
    let r = wall.as_secs_f64() / minimum.as_secs_f64();
    report.row(
        &scope,
        "completion vs theoretical minimum",
        common::secs(wall),
        format!("{} (= {mutations} ÷ {LIMIT} × 1 s)", common::secs(minimum)),
        common::ratio(r),
        "(scenario 3's: ≤ 1.10×)",
        Verdict::Info,
    );
    report.row(
        &scope,
        "completion vs hand-written tasks",
        common::secs(wall),
        format!("{}{base_label}", common::secs(base_wall)),
        common::ratio(wall.as_secs_f64() / base_wall.as_secs_f64()),
        "—",
        Verdict::Info,
    );
    report.note(format!(
        "scenario 4: the SDK's tasks waited {} in total (summed over tasks) on pacing and 429s; \
         {mutations} mutations need {windows} windows, fixed-window floor {}. The SDK crossed {} \
         window boundaries and started each next window on average {:.0} ms after the previous \
         one had ended (from the emulator's journal).",
        common::secs(m.waited),
        common::secs(WINDOW * (windows.saturating_sub(1) as u32)),
        late.0,
        late.1.as_secs_f64() * 1e3 / f64::from(late.0.max(1)),
    ));
    Ok(())
}
