//! Reply latency over every realistic question: each of the 2,100 queries of
//! `tests/data` (tidy, realistic tuning and held-out) is answered and
//! rendered many times on one thread, and the distribution of single-reply
//! times is printed: p50, p99 and the maximum, overall and per category.
//!
//! Targets (issue 9): a typical question under 20 µs at p50, every reply
//! under 1 ms at p99, on one core. `cargo bench --bench replies`
//! (harness = false); `REPLIES_ROUNDS` changes the repetitions (default 30).

use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::Instant;

use massage_bot::engine::{Engine, Request};
use massage_bot::render;

fn queries() -> Vec<(String, Request)> {
    let mut out = Vec::new();
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data");
    for file in ["queries.tsv", "realistic/tune.tsv", "realistic/heldout.tsv"] {
        let text = std::fs::read_to_string(format!("{dir}/{file}")).expect("query file");
        for line in text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
        {
            let f: Vec<&str> = line.split('\t').collect();
            let category = f.get(3).copied().unwrap_or("tidy").to_owned();
            let request = match f[0] {
                "benefits" => Request::Benefits(f[1].to_owned()),
                "safe" => Request::Safe(f[1].to_owned()),
                _ => Request::Ask(f[1].to_owned()),
            };
            out.push((category, request));
        }
    }
    out
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn line(name: &str, times: &mut [u64]) {
    times.sort_unstable();
    println!(
        "{name:<14} n={:<6} p50 {:>6.1} µs   p99 {:>7.1} µs   max {:>7.1} µs",
        times.len(),
        percentile(times, 0.50) as f64 / 1000.0,
        percentile(times, 0.99) as f64 / 1000.0,
        *times.last().unwrap_or(&0) as f64 / 1000.0
    );
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let rounds: usize = std::env::var("REPLIES_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(30);
    let engine = Engine::load(None).expect("shipped knowledge");
    let queries = queries();
    // Warm up caches and lazily built tables.
    for (_, q) in &queries {
        black_box(render::text(&engine.answer(q)));
    }
    let mut all = Vec::with_capacity(queries.len() * rounds);
    let mut by_category: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
    for _ in 0..rounds {
        for (category, q) in &queries {
            let start = Instant::now();
            let reply = engine.answer(black_box(q));
            black_box(render::text(&reply));
            let ns = start.elapsed().as_nanos() as u64;
            all.push(ns);
            by_category.entry(category).or_default().push(ns);
        }
    }
    println!(
        "answer + render to text, {rounds} rounds over {} queries",
        queries.len()
    );
    line("all", &mut all);
    for (category, times) in &mut by_category {
        line(category, times);
    }
    let long = Request::Ask("is massage safe for my aching back and varicose veins? ".repeat(110));
    let mut times: Vec<u64> = (0..200)
        .map(|_| {
            let start = Instant::now();
            black_box(render::text(&engine.answer(black_box(&long))));
            start.elapsed().as_nanos() as u64
        })
        .collect();
    line("6000 chars", &mut times);
}
