//! What every scenario shares: the token, how the SDK client and the hand-written baseline's
//! HTTP client are built, hard deadlines, concurrent drivers and number formatting.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};
use segment_iam::Client;
use segment_iam_emulator::EmulatorHandle;

/// The token every emulator accepts for the measured clients.
pub const TOKEN: &str = "bench-token";
/// A second token for setup requests, so setup never spends the measured token's window.
pub const SETUP_TOKEN: &str = "bench-setup-token";

/// A scenario's result: `Err` carries a message for the table.
pub type Outcome<T> = Result<T, String>;

/// The SDK client as a user would build it: defaults except the emulator's address.
pub fn facade(emu: &EmulatorHandle) -> Outcome<Client> {
    Client::builder()
        .token(TOKEN)
        .base_url(emu.base_url())
        .build()
        .map_err(|e| format!("building the SDK client: {e}"))
}

/// The baseline's HTTP client: plain reqwest with the bearer token, as a user writes it.
pub fn raw_http(token: &str) -> Outcome<reqwest::Client> {
    let mut headers = HeaderMap::new();
    let auth = HeaderValue::from_str(&format!("Bearer {token}")).map_err(|e| e.to_string())?;
    headers.insert(AUTHORIZATION, auth);
    reqwest::Client::builder()
        .default_headers(headers)
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| format!("building reqwest client: {e}"))
}

/// Runs `fut` under a hard deadline; a scenario that overruns reports it instead of hanging.
pub async fn deadline<T>(
    what: &str,
    limit: Duration,
    fut: impl Future<Output = Outcome<T>>,
) -> Outcome<T> {
    match tokio::time::timeout(limit, fut).await {
        Ok(result) => result,
        Err(_) => Err(format!(
            "{what}: hard deadline of {} s exceeded",
            limit.as_secs()
        )),
    }
}

/// Calls `call(i)` for `i in 0..n` from `concurrency` tasks pulling indexes from one counter;
/// returns the wall time. The first error stops the run.
pub async fn drive<F, Fut>(n: usize, concurrency: usize, call: F) -> Outcome<Duration>
where
    F: Fn(usize) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Outcome<()>> + Send + 'static,
{
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        let next = next.clone();
        let call = call.clone();
        tasks.push(tokio::spawn(async move {
            let result: Outcome<()> = async {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= n {
                        return Ok(());
                    }
                    call(i).await?;
                }
            }
            .await;
            result
        }));
    }
    for task in tasks {
        task.await.map_err(|e| format!("task failed: {e}"))??;
    }
    Ok(started.elapsed())
}

/// Seconds with a precision that suits the magnitude.
pub fn secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 10.0 {
        format!("{s:.2} s")
    } else {
        format!("{s:.1} s")
    }
}

/// A count with thousands separators.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A ratio as `0.93×`.
pub fn ratio(r: f64) -> String {
    if r > 0.0 && r < 0.01 {
        format!("1/{:.0}", 1.0 / r)
    } else if r >= 100.0 {
        format!("{r:.0}×")
    } else {
        format!("{r:.2}×")
    }
}

/// How late a client started each new rate-limit window, from the emulator's journal: the
/// emulator opens a window at the first request after the previous one ended, so the gap
/// between a window's end and the next request is time the client spent waiting needlessly.
/// Returns the number of window boundaries crossed and the summed gap.
pub fn window_lateness(
    journal: &[segment_iam_emulator::JournalEntry],
    window: Duration,
) -> (u32, Duration) {
    let mut times: Vec<Duration> = journal.iter().map(|e| e.elapsed).collect();
    times.sort();
    let Some(&first) = times.first() else {
        return (0, Duration::ZERO);
    };
    let (mut start, mut boundaries, mut late) = (first, 0u32, Duration::ZERO);
    for t in times {
        if t >= start + window {
            boundaries += 1;
            late += t - (start + window);
            start = t;
        }
    }
    (boundaries, late)
}
