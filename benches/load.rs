//! Load: the product binary (built by `cargo bench` in the bench profile)
//! against the fake Discord. 2,000 interactions (mixed /benefits, /safe,
//! /ask and autocomplete) are dispatched as fast as the fake can send them;
//! every one must be answered (204) with the right callback type. Prints
//! interactions/s, dispatch→callback latency p50/p99 and the bot's peak RSS.
//!
//! `cargo bench --bench load` (harness = false). Bounded: aborts after 60 s.
//! `LOAD_N` changes the count; `LOAD_RUST_LOG` the bot's log filter
//! (default `info,serenity=warn`, the product's default for `run`).

#[path = "../tests/support/mod.rs"]
mod support;

use std::collections::HashMap;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use serde_json::json;
use support::{opt_str, BotProcess, FakeDiscord, Invoker};

const DEADLINE: Duration = Duration::from_secs(60);

const TOPICS: &[&str] = &[
    "sleep",
    "stress",
    "back pain",
    "pregnancy",
    "headaches",
    "anxiety",
    "circulation",
    "blood pressure",
    "sleeep",
    "lottery numbers",
];
const QUESTIONS: &[&str] = &[
    "can massage help me sleep better?",
    "is massage safe when pregnant?",
    "does massage help with stress and anxiety",
    "massage for lower back pain",
    "is it ok to get a massage with high blood pressure?",
];
const PARTIALS: &[&str] = &["", "s", "slee", "preg", "back", "hea", "zz"];

fn main() -> ExitCode {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    match rt.block_on(async { tokio::time::timeout(DEADLINE, run()).await }) {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(e)) => {
            eprintln!("load: FAILED: {e}");
            ExitCode::FAILURE
        }
        Err(_) => {
            eprintln!("load: FAILED: aborted after {DEADLINE:?}");
            ExitCode::FAILURE
        }
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

async fn run() -> Result<(), String> {
    let n: usize = std::env::var("LOAD_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    // The product's default filter for `run`.
    let log = std::env::var("LOAD_RUST_LOG").unwrap_or_else(|_| "info,serenity=warn".into());

    let fake = FakeDiscord::start().await;
    let arena = std::env::var("LOAD_MALLOC_ARENA_MAX").unwrap_or_default();
    let mut env = vec![("RUST_LOG", log.as_str())];
    if !arena.is_empty() {
        env.push(("MALLOC_ARENA_MAX", arena.as_str()));
    }
    let mut bot = BotProcess::spawn(&fake, &env);
    println!("load: bot {}", support::bot::bot_exe());
    fake.wait_ready(Duration::from_secs(20)).await;
    fake.wait_for(|r| r.is("PUT", "/applications/"), Duration::from_secs(10))
        .await
        .ok_or("commands never registered")?;
    let rss_idle = bot.proc_status_kb("VmRSS").unwrap_or(0);

    let who = Invoker::member();

    // Steady: the same number at a fixed 2,000 per second, the rate the
    // target names; latency here is the bot's, not the burst's queue.
    let rate = 2000.0;
    let paced: Vec<support::Interaction> = (0..n)
        .map(|k| {
            fake.interaction_command(
                if k % 2 == 0 { "benefits" } else { "ask" },
                if k % 2 == 0 {
                    json!([opt_str("topic", TOPICS[k % TOPICS.len()])])
                } else {
                    json!([opt_str("question", QUESTIONS[k % QUESTIONS.len()])])
                },
                &who,
            )
        })
        .collect();
    let mut paced_sent: HashMap<u64, Instant> = HashMap::with_capacity(n);
    let before_paced = fake.count("POST", "/interactions/");
    let p0 = Instant::now();
    for (k, i) in paced.iter().enumerate() {
        let due = p0 + Duration::from_secs_f64(k as f64 / rate);
        tokio::time::sleep_until(due.into()).await;
        paced_sent.insert(i.id, Instant::now());
        fake.dispatch_interaction(i);
    }
    let paced_span = p0.elapsed();
    fake.wait_until(Duration::from_secs(20), |f| {
        (f.count("POST", "/interactions/") >= before_paced + n).then_some(())
    })
    .await;
    let mut paced_lat: Vec<Duration> = Vec::with_capacity(n);
    let mut seen = std::collections::HashSet::new();
    for r in fake.requests() {
        if let Some(id) = r.callback_interaction_id() {
            if let Some(at) = paced_sent.get(&id) {
                if seen.insert(id) {
                    paced_lat.push(r.at.duration_since(*at));
                }
            }
        }
    }
    let paced_missing = n - paced_lat.len();
    paced_lat.sort();
    let paced_peak_kb = bot.proc_status_kb("VmHWM").unwrap_or(0);

    // Burst: build everything first so dispatching is only dispatching.
    let interactions: Vec<(u8, support::Interaction)> = (0..n)
        .map(|k| match k % 4 {
            0 => (
                4,
                fake.interaction_command(
                    "benefits",
                    json!([opt_str("topic", TOPICS[k / 4 % TOPICS.len()])]),
                    &who,
                ),
            ),
            1 => (
                4,
                fake.interaction_command(
                    "safe",
                    json!([opt_str("topic", TOPICS[(k / 4 + 3) % TOPICS.len()])]),
                    &who,
                ),
            ),
            2 => (
                4,
                fake.interaction_command(
                    "ask",
                    json!([opt_str("question", QUESTIONS[k / 4 % QUESTIONS.len()])]),
                    &who,
                ),
            ),
            _ => (
                8,
                fake.interaction_autocomplete(
                    if k % 8 == 3 { "benefits" } else { "safe" },
                    "topic",
                    PARTIALS[k / 4 % PARTIALS.len()],
                    &who,
                ),
            ),
        })
        .collect();

    let before = fake.count("POST", "/interactions/");
    let mut sent: HashMap<u64, (Instant, u8)> = HashMap::with_capacity(n);
    let t0 = Instant::now();
    for (kind, i) in &interactions {
        sent.insert(i.id, (Instant::now(), *kind));
        fake.dispatch_interaction(i);
    }
    let dispatched = t0.elapsed();

    let all = fake
        .wait_until(DEADLINE.saturating_sub(Duration::from_secs(5)), |f| {
            (f.count("POST", "/interactions/") >= before + n).then_some(())
        })
        .await;
    let elapsed = t0.elapsed();
    let peak_kb = bot.proc_status_kb("VmHWM").unwrap_or(0);

    // Every interaction: first callback, its status and type.
    let mut latencies = Vec::with_capacity(n);
    let mut first: HashMap<u64, (Instant, u16, u64)> = HashMap::with_capacity(n);
    let mut last_at = t0;
    for r in fake.requests() {
        if let Some(id) = r.callback_interaction_id() {
            if sent.contains_key(&id) {
                first
                    .entry(id)
                    .or_insert((r.at, r.status, r.body["type"].as_u64().unwrap_or(0)));
                last_at = last_at.max(r.at);
            }
        }
    }
    let mut problems = Vec::new();
    if paced_missing > 0 {
        problems.push(format!("paced: {paced_missing} of {n} not answered"));
    }
    for (id, (at, kind)) in &sent {
        match first.get(id) {
            None => problems.push(format!("{id}: no callback")),
            Some((cb, status, ty)) => {
                latencies.push(cb.duration_since(*at));
                if *status != 204 {
                    problems.push(format!("{id}: callback answered {status}"));
                } else if *ty != u64::from(*kind) {
                    problems.push(format!("{id}: callback type {ty}, expected {kind}"));
                }
            }
        }
    }
    latencies.sort();
    let span = last_at.duration_since(t0).max(Duration::from_millis(1));

    // Unloaded: one interaction at a time, the latency a user sees.
    let seq_n = (n / 10).clamp(1, 200);
    let mut seq = Vec::with_capacity(seq_n);
    for k in 0..seq_n {
        let i = fake.interaction_command(
            "benefits",
            json!([opt_str("topic", TOPICS[k % TOPICS.len()])]),
            &who,
        );
        let t = Instant::now();
        fake.dispatch_interaction(&i);
        match fake.wait_callback(i.id, Duration::from_secs(5)).await {
            Some(r) => seq.push(r.at.duration_since(t)),
            None => problems.push(format!("{}: no callback (sequential)", i.id)),
        }
    }
    seq.sort();
    let peak_kb = bot.proc_status_kb("VmHWM").unwrap_or(peak_kb);
    let status = bot.terminate(Duration::from_secs(10)).await;

    println!(
        "load: {n} interactions dispatched in {:.1} ms; {} answered in {:.1} ms",
        dispatched.as_secs_f64() * 1e3,
        first.len(),
        span.as_secs_f64() * 1e3
    );
    println!(
        "load: throughput {:.0} interactions/s",
        first.len() as f64 / span.as_secs_f64()
    );
    if !latencies.is_empty() {
        println!(
            "load: burst dispatch→callback latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            percentile(&latencies, 0.50).as_secs_f64() * 1e3,
            percentile(&latencies, 0.99).as_secs_f64() * 1e3,
            latencies.last().unwrap().as_secs_f64() * 1e3
        );
    }
    if !paced_lat.is_empty() {
        println!(
            "load: paced at {rate:.0}/s ({n} in {:.1} ms): latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; peak RSS (VmHWM) until then {:.1} MiB",
            paced_span.as_secs_f64() * 1e3,
            percentile(&paced_lat, 0.50).as_secs_f64() * 1e3,
            percentile(&paced_lat, 0.99).as_secs_f64() * 1e3,
            paced_lat.last().map_or(0.0, |d| d.as_secs_f64() * 1e3),
            paced_peak_kb as f64 / 1024.0
        );
    }
    if !seq.is_empty() {
        println!(
            "load: one at a time ({seq_n}): latency p50 {:.2} ms, p99 {:.2} ms",
            percentile(&seq, 0.50).as_secs_f64() * 1e3,
            percentile(&seq, 0.99).as_secs_f64() * 1e3
        );
    }
    println!(
        "load: bot RSS idle {:.1} MiB, peak (VmHWM) {:.1} MiB",
        rss_idle as f64 / 1024.0,
        peak_kb as f64 / 1024.0
    );
    println!("load: bot exit on SIGTERM: {status:?}");

    if all.is_none() {
        problems.push(format!(
            "only {} of {n} callbacks within the deadline ({elapsed:?})",
            first.len()
        ));
    }
    if !problems.is_empty() {
        let shown: Vec<_> = problems.iter().take(10).collect();
        return Err(format!("{} problem(s), e.g. {shown:?}", problems.len()));
    }
    println!("load: ok, all {n} answered");
    Ok(())
}
