//! How fast is the emulator? Run with
//! `cargo run --release -p segment-iam-emulator --example throughput`.
//!
//! Reports seeding time (100k and 1M users), `get_user` requests per second (several
//! concurrent keep-alive connections) and the time to page through 100k users. Loopback
//! only; every phase is bounded in request count and time.
#![allow(clippy::unwrap_used, missing_docs)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use segment_iam_emulator::Emulator;

const USERS: usize = 100_000;
const CONCURRENCY: usize = 16;
const GET_USER_MAX_REQUESTS: u64 = 200_000;
const GET_USER_MAX_TIME: Duration = Duration::from_secs(5);

fn enc(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

async fn get_user_phase(journal: bool) {
    let emu = Emulator::builder()
        .users(USERS)
        .rate_limits(false)
        .journal_capacity(if journal { 100_000 } else { 0 })
        .start()
        .await
        .unwrap();
    let ids = Arc::new(emu.user_ids());
    let base = emu.base_url();
    let token = emu.token();
    let done = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let ok = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..CONCURRENCY {
        let (ids, base, token, done, errors, ok) = (
            ids.clone(),
            base.clone(),
            token.clone(),
            done.clone(),
            errors.clone(),
            ok.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            let mut i = w * 7919;
            loop {
                let n = done.fetch_add(1, Ordering::Relaxed);
                if n >= GET_USER_MAX_REQUESTS || start.elapsed() >= GET_USER_MAX_TIME {
                    break;
                }
                i = (i + 104_729) % ids.len();
                let r = http
                    .get(format!("{base}/users/{}", ids[i]))
                    .bearer_auth(&token)
                    .send()
                    .await;
                match r {
                    Ok(r) if r.status() == 200 => {
                        if r.bytes().await.is_ok() {
                            ok.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    _ => {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let secs = start.elapsed().as_secs_f64();
    let n = ok.load(Ordering::Relaxed);
    println!(
        "get_user ({CONCURRENCY} connections, journal {}): {n} requests in {secs:.2} s = {:.0} req/s, {} errors",
        if journal { "on" } else { "off" },
        n as f64 / secs,
        errors.load(Ordering::Relaxed)
    );
    emu.shutdown().await;
}

async fn paging_phase(count: usize) {
    let emu = Emulator::builder()
        .users(USERS)
        .rate_limits(false)
        .start()
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let start = Instant::now();
    let mut cursor: Option<String> = None;
    let (mut pages, mut users) = (0usize, 0usize);
    loop {
        let mut url = format!("{}/users?pagination.count={count}", emu.base_url());
        if let Some(c) = &cursor {
            url.push_str(&format!("&pagination.cursor={}", enc(c)));
        }
        let v: serde_json::Value = http
            .get(url)
            .bearer_auth(emu.token())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        users += v["data"]["users"].as_array().map_or(0, Vec::len);
        pages += 1;
        cursor = v["data"]["pagination"]["next"].as_str().map(str::to_string);
        if cursor.is_none() || pages > USERS {
            break;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    assert_eq!(users, USERS);
    println!(
        "list_users, {USERS} users at count={count}: {pages} pages in {secs:.2} s = {:.0} pages/s, {:.0} users/s (client JSON decoding included)",
        pages as f64 / secs,
        users as f64 / secs
    );
    emu.shutdown().await;
}

#[tokio::main]
async fn main() {
    if cfg!(debug_assertions) {
        println!("note: debug build; use --release for meaningful figures");
    }
    for n in [USERS, 1_000_000] {
        let t = Instant::now();
        let emu = Emulator::builder()
            .users(n)
            .groups(100)
            .invites(1000)
            .start()
            .await
            .unwrap();
        println!(
            "seeding {n} users (+100 groups, 1000 invites) and starting: {:.2} s",
            t.elapsed().as_secs_f64()
        );
        emu.shutdown().await;
    }
    get_user_phase(false).await;
    get_user_phase(true).await;
    paging_phase(1000).await;
    paging_phase(200).await;
}
