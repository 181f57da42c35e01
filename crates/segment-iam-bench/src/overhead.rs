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

use segment_iam_emulator::{Emulator, EmulatorHandle};
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

/// The emulator scenario 1 measures against (here and counted, in `instructions`): `users`
/// users, the read limit out of reach but on, so every answer carries `X-RateLimit-*` headers
/// as the service's do, and the journal off.
pub async fn emulator(users: usize) -> Outcome<EmulatorHandle> {
    Emulator::builder()
        .token(TOKEN)
        .seed(1)
        .users(users)
        .read_limit(u32::MAX)
        .journal_capacity(0)
        .start()
        .await
        .map_err(|e| e.to_string())
}

/// `GET /users/{id}` as a user writes it with reqwest: send, check the status, decode.
pub async fn get_user_by_hand(http: &reqwest::Client, base: &str, id: &str) -> Outcome<()> {
    let response = http
        .get(format!("{base}/users/{id}"))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if !response.status().is_success() {
        return Err(format!("raw get_user: status {}", response.status()));
    }
    let body: Envelope = response.json().await.map_err(|e| e.to_string())?;
    std::hint::black_box(body.data.user);
    Ok(())
}

/// Runs the scenario: `calls` calls per side and concurrency, split into `rounds`.
pub async fn run(report: &mut Report, calls: usize, rounds: usize, attribute: bool) -> Outcome<()> {
    let emu = emulator(1_000).await?;
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
            async move { get_user_by_hand(&raw, &base, &ids[i % ids.len()]).await }
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
    if attribute {
        attribution(report, &emu, &ids, raw_call, sdk_call).await?;
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

/// Where the SDK's extra time per call goes: the same `get_user` through each layer in turn,
/// best of 5 interleaved rounds of 5,000 calls, in microseconds per call.
///
/// Layers: reqwest by hand; by hand plus a body cap as a re-wrapped stream (how the SDK's
/// transport once capped bodies; it now reads them whole, in the facade's
/// `transport/answer.rs`); the generated client with the pass-through transport; the
/// generated client through the SDK's transport (`client.api()`); the facade with pacing off;
/// the facade as built by default.
async fn attribution<R, S, RF, SF>(
    report: &mut Report,
    emu: &segment_iam_emulator::EmulatorHandle,
    ids: &Arc<Vec<String>>,
    raw_call: R,
    sdk_call: S,
) -> Outcome<()>
where
    R: Fn(usize) -> RF + Clone + Send + Sync + 'static,
    RF: std::future::Future<Output = Outcome<()>> + Send + 'static,
    S: Fn(usize) -> SF + Clone + Send + Sync + 'static,
    SF: std::future::Future<Output = Outcome<()>> + Send + 'static,
{
    use futures::StreamExt;
    use segment_iam_api::ClientIamUsersExt;

    const N: usize = 5_000;
    let base = emu.base_url();
    let raw = common::raw_http(TOKEN)?;
    let capped_call = {
        let (raw, ids, base) = (raw.clone(), ids.clone(), base.clone());
        move |i: usize| {
            let (raw, ids, base) = (raw.clone(), ids.clone(), base.clone());
            async move {
                let url = format!("{base}/users/{}", ids[i % ids.len()]);
                let response = raw.get(url).send().await.map_err(|e| e.to_string())?;
                let response: http::Response<reqwest::Body> = response.into();
                let (parts, body) = response.into_parts();
                let stream = reqwest::Response::from(http::Response::new(body))
                    .bytes_stream()
                    .map(|r| {
                        r.map_err(|e| Box::new(e) as Box<dyn std::error::Error + Send + Sync>)
                    });
                let response = reqwest::Response::from(http::Response::from_parts(
                    parts,
                    reqwest::Body::wrap_stream(stream),
                ));
                let body: Envelope = response.json().await.map_err(|e| e.to_string())?;
                std::hint::black_box(body.data.user);
                Ok(())
            }
        }
    };
    let pass = Arc::new(segment_iam_api::Client::with_exec(
        &base,
        raw.clone(),
        segment_iam_api::PassThrough,
    ));
    let pass_call = {
        let (pass, ids) = (pass.clone(), ids.clone());
        move |i: usize| {
            let (pass, ids) = (pass.clone(), ids.clone());
            async move {
                let user = pass
                    .get_user()
                    .user_id(ids[i % ids.len()].as_str())
                    .send()
                    .await
                    .map_err(|e| e.to_string())?;
                std::hint::black_box(user);
                Ok(())
            }
        }
    };
    let sdk = common::facade(emu)?;
    let generated_call = {
        let (sdk, ids) = (sdk.clone(), ids.clone());
        move |i: usize| {
            let (sdk, ids) = (sdk.clone(), ids.clone());
            async move {
                let user = sdk
                    .api()
                    .get_user()
                    .user_id(ids[i % ids.len()].as_str())
                    .send()
                    .await
                    .map_err(|e| e.to_string())?;
                std::hint::black_box(user);
                Ok(())
            }
        }
    };
    let unpaced = segment_iam::Client::builder()
        .token(TOKEN)
        .base_url(&base)
        .pacing(false)
        .build()
        .map_err(|e| e.to_string())?;
    let unpaced_call = {
        let ids = ids.clone();
        move |i: usize| {
            let (unpaced, ids) = (unpaced.clone(), ids.clone());
            async move {
                let user = unpaced
                    .users()
                    .get(&ids[i % ids.len()])
                    .await
                    .map_err(|e| e.to_string())?;
                std::hint::black_box(user);
                Ok(())
            }
        }
    };
    for concurrency in [1usize, 32] {
        let mut best = [f64::MAX; 6];
        for _ in 0..5 {
            let times = [
                common::drive(N, concurrency, raw_call.clone()).await?,
                common::drive(N, concurrency, capped_call.clone()).await?,
                common::drive(N, concurrency, pass_call.clone()).await?,
                common::drive(N, concurrency, generated_call.clone()).await?,
                common::drive(N, concurrency, unpaced_call.clone()).await?,
                common::drive(N, concurrency, sdk_call.clone()).await?,
            ];
            for (b, t) in best.iter_mut().zip(times) {
                *b = b.min(t.as_secs_f64() * 1e6 / N as f64);
            }
        }
        let [raw, capped, pass, generated, unpaced, full] = best;
        report.row(
            format!("1 where the time goes, concurrency {concurrency}"),
            "µs per call, best of 5 × 5,000",
            format!(
                "{full:.1} = generated client +{:.1}, SDK transport +{:.1} (of which pacing {:.1}, body cap {:.1}), facade +{:.1}",
                pass - raw,
                generated - pass,
                full - unpaced,
                capped - raw,
                full - generated
            ),
            format!("{raw:.1} (reqwest by hand)"),
            common::ratio(raw / full),
            "—",
            Verdict::Info,
        );
    }
    Ok(())
}
