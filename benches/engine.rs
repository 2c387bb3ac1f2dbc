//! Answer engine speed: a short query answered (match and render), a
//! 6,000-character query, and loading the knowledge plus building the index.
//! Targets: < 20 µs for a typical question, < 200 µs for 6,000 characters.
//! Loading and indexing took ~5 ms before issue 9; the vocabulary, the typo
//! index and the crisis rules make it ~20 ms (once per process).
//! `benches/replies.rs` gives the p50/p99 over every realistic question.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use massage_bot::engine::{Engine, Request};
use massage_bot::render;

fn bench(c: &mut Criterion) {
    let engine = Engine::load(None).expect("shipped knowledge is valid");
    let mut group = c.benchmark_group("answer");
    for (name, query) in [
        ("short_exact", "/benefits sleep"),
        ("short_typo", "/benefits sleeep"),
        ("question", "is massage ok when I'm pregnant?"),
        ("not_covered", "/safe broken leg"),
        // Typical questions as people type them (issue 9: under 20 µs at p50).
        (
            "typical_typos",
            "does massage help with anxeity or is that a myth lol",
        ),
        (
            "typical_two_topics",
            "im 20 weeks and my lower back is killing me, can massage help",
        ),
        ("typical_drug", "on eliquis for afib, is deep tissue ok?"),
        ("typical_crisis", "honestly i dont see the point anymore"),
        (
            "typical_out_of_scope",
            "how much should i tip my massage therapist",
        ),
    ] {
        let request = Request::parse(query);
        group.bench_function(name, |b| {
            b.iter(|| render::text(&engine.answer(black_box(&request))))
        });
    }
    let long = Request::Ask("is massage safe for my aching back and varicose veins? ".repeat(110));
    assert!(matches!(&long, Request::Ask(q) if q.len() >= 6000));
    group.bench_function("6000_chars", |b| {
        b.iter(|| render::text(&engine.answer(black_box(&long))))
    });
    group.finish();

    c.bench_function("autocomplete_partial", |b| {
        b.iter(|| engine.autocomplete(black_box("preg"), massage_bot::reply::Intent::Safe, 25))
    });
    c.bench_function("load_and_index", |b| {
        b.iter(|| Engine::load(black_box(None)).map(|e| e.knowledge().topics.len()))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
