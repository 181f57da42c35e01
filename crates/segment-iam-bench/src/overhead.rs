//! Scenario 1, call overhead: `get_user` through the SDK against the same call written by hand
//! with reqwest, on loopback, at concurrency 1 and 32.
//!
//! Why this shape: against a loopback server that answers in microseconds, whatever the SDK
//! adds per call (validation, the generated builder, the pacing permit, header parsing, the
//! retry engine, the body cap) shows up directly in calls per second. The emulator's read limit
//! is raised out of reach but left *on*, so every response still carries `X-RateLimit-*`
//! headers and the SDK pays for reading them, as it would against the service. The journal is
//! off so the server's bookkeeping does not dilute the difference. The two sides run
//! alternately in several rounds, so drift on a shared machine hits both alike.

use std::sync::Arc;
use std::time::Duration;

use segment_iam_emulator::Emulator;
use serde::Deserialize;

use crate::common::{self, Outcome, TOKEN};
use crate::report::{Report, Verdict};

/// What a user writes to decode `GET /users/{id}` without the SDK.
#[derive(Deserialize)]
struct Envelope {
    data: UserData,
}
#[derive(Deserialize)]
struct UserData {
    user: RawUser,
}
#[derive(Deserialize)]
#[allow(dead_code)] // decoded like a user would, never read
struct RawUser {
    id: String,
    name: String,
    email: String,
}

/// Runs the scenario: `calls` calls per side and concurrency, split into `rounds`.
pub async fn run(report: &mut Report, calls: usize, rounds: usize) -> Outcome<()> {
    let emu = Emulator::builder()
        .token(TOKEN)
        .seed(1)
        .users(1_000)
        .read_limit(u32::MAX)
        .journal_capacity(0)
        .start()
        .await
        .map_err(|e| e.to_string())?;
    let ids: Arc<Vec<String>> = Arc::new(emu.user_ids());
    let base = emu.base_url();
    let sdk = common::facade(&emu)?;
    let raw = common::raw_http(TOKEN)?;

    let sdk_call = {
        let (sdk, ids) = (sdk.clone(), ids.clone());
        move |i: usize| {
            let (sdk, ids) = (sdk.clone(), ids.clone());
            async move {
                let user = sdk
                    .users()
                    .get(&ids[i % ids.len()])
                    .await
                    .map_err(|e| format!("SDK get_user: {e}"))?;
                std::hint::black_box(user);
                Ok(())
            }
        }
    };
    let raw_call = {
        let (raw, ids, base) = (raw.clone(), ids.clone(), base.clone());
        move |i: usize| {
            let (raw, ids, base) = (raw.clone(), ids.clone(), base.clone());
            async move {
                let url = format!("{base}/users/{}", ids[i % ids.len()]);
                let response = raw.get(url).send().await.map_err(|e| e.to_string())?;
                if !response.status().is_success() {
                    return Err(format!("raw get_user: status {}", response.status()));
                }
                let body: Envelope = response.json().await.map_err(|e| e.to_string())?;
                std::hint::black_box(body.data.user);
                Ok(())
            }
        }
    };

    // Warm both connection pools and caches before timing.
    common::drive(500, 8, sdk_call.clone()).await?;
    common::drive(500, 8, raw_call.clone()).await?;

    for concurrency in [1usize, 32] {
        let per_round = calls / rounds;
        let (mut t_sdk, mut t_raw) = (Duration::ZERO, Duration::ZERO);
        for round in 0..rounds {
            // Alternate which side goes first, so neither always gets the warmer machine.
            if round % 2 == 0 {
                t_raw += common::drive(per_round, concurrency, raw_call.clone()).await?;
                t_sdk += common::drive(per_round, concurrency, sdk_call.clone()).await?;
            } else {
                t_sdk += common::drive(per_round, concurrency, sdk_call.clone()).await?;
                t_raw += common::drive(per_round, concurrency, raw_call.clone()).await?;
            }
        }
        let total = (per_round * rounds) as f64;
        let sdk_rate = total / t_sdk.as_secs_f64();
        let raw_rate = total / t_raw.as_secs_f64();
        let r = sdk_rate / raw_rate;
        report.row(
            format!(
                "1 get_user ×{}, concurrency {concurrency}",
                common::count(total as u64)
            ),
            "calls/s",
            format!("{sdk_rate:.0}"),
            format!("{raw_rate:.0} (reqwest by hand)"),
            common::ratio(r),
            "≥ 0.90×",
            Verdict::check(r >= 0.90),
        );
    }
    let m = sdk.metrics();
    if m.retries > 0 || m.rate_limited > 0 {
        report.note(format!(
            "scenario 1: the SDK retried {} times and saw {} 429s (expected none)",
            m.retries, m.rate_limited
        ));
    }
    emu.shutdown().await;
    Ok(())
}
