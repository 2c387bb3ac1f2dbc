//! Answer engine speed: a short query answered (match and render), a
//! 6,000-character query, and loading the knowledge plus building the index.
//! Targets: < 20 µs, < 200 µs and < 5 ms median.

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
