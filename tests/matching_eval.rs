//! The matcher measured on the project's labelled query set
//! (`tests/data/queries.tsv`, written independently of the matcher; see its
//! README). Prints every miss, then asserts the quality bars.

use massage_bot::engine::{Engine, Request};
use massage_bot::reply::Intent;

struct Row {
    command: String,
    query: String,
    /// Accepted (intent, topic) pairs; empty means "must match no topic".
    accepted: Vec<(Option<String>, String)>,
}

fn rows() -> Vec<Row> {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/queries.tsv"
    ))
    .unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            assert_eq!(f.len(), 3, "bad row: {l}");
            let accepted = if f[2] == "-" {
                Vec::new()
            } else {
                f[2].split('|')
                    .map(|alt| match alt.split_once(':') {
                        Some((intent, topic)) => (Some(intent.to_owned()), topic.to_owned()),
                        None => (None, alt.to_owned()),
                    })
                    .collect()
            };
            Row {
                command: f[0].to_owned(),
                query: f[1].to_owned(),
                accepted,
            }
        })
        .collect()
}

fn intent_name(i: Option<Intent>) -> Option<&'static str> {
    i.map(|i| match i {
        Intent::Benefits => "benefits",
        Intent::Safe => "safe",
    })
}

#[test]
fn matcher_meets_the_quality_bars() {
    let engine = Engine::load(None).unwrap();
    let (mut in_total, mut in_ok, mut out_total, mut out_ok, mut safe_out_answered) =
        (0, 0, 0, 0, 0);
    let (mut intent_total, mut intent_ok) = (0, 0);
    let mut misses = Vec::new();
    for row in rows() {
        let request = match row.command.as_str() {
            "benefits" => Request::Benefits(row.query.clone()),
            "safe" => Request::Safe(row.query.clone()),
            "ask" => Request::Ask(row.query.clone()),
            other => panic!("unknown command {other}"),
        };
        let reply = engine.answer(&request);
        let topic = reply.topic.as_ref().map(|t| t.as_str().to_owned());
        if row.accepted.is_empty() {
            out_total += 1;
            if topic.is_none() {
                out_ok += 1;
            } else {
                if row.command == "safe" {
                    safe_out_answered += 1;
                }
                misses.push(format!(
                    "OUT  {}\t{}\t-> {:?}",
                    row.command, row.query, topic
                ));
            }
            continue;
        }
        in_total += 1;
        let topic_ok = row.accepted.iter().any(|(_, t)| Some(t) == topic.as_ref());
        if topic_ok {
            in_ok += 1;
        } else {
            let sugg: Vec<&str> = reply.suggestions.iter().map(|s| s.id.as_str()).collect();
            misses.push(format!(
                "IN   {}\t{}\t-> {:?} (suggested {:?})",
                row.command, row.query, topic, sugg
            ));
        }
        if row.command == "ask" && topic_ok {
            intent_total += 1;
            let got = intent_name(reply.intent);
            if row
                .accepted
                .iter()
                .any(|(i, t)| Some(t) == topic.as_ref() && i.as_deref() == got)
            {
                intent_ok += 1;
            } else {
                misses.push(format!("INT  ask\t{}\t-> {:?}", row.query, got));
            }
        }
    }
    for m in &misses {
        println!("{m}");
    }
    let in_rate = in_ok as f64 / in_total as f64;
    let out_rate = out_ok as f64 / out_total as f64;
    let intent_rate = intent_ok as f64 / intent_total.max(1) as f64;
    println!(
        "in scope: {in_ok}/{in_total} ({:.1}%), out of scope: {out_ok}/{out_total} ({:.1}%), ask intent: {intent_ok}/{intent_total} ({:.1}%), safe out-of-scope answered: {safe_out_answered}",
        in_rate * 100.0,
        out_rate * 100.0,
        intent_rate * 100.0
    );
    assert!(in_rate >= 0.97, "in-scope accuracy {in_rate:.3} < 0.97");
    assert!(
        out_rate >= 0.95,
        "out-of-scope rejection {out_rate:.3} < 0.95"
    );
    assert_eq!(
        safe_out_answered, 0,
        "an out-of-scope /safe query was answered as a topic"
    );
    assert!(
        intent_rate >= 0.9,
        "ask intent accuracy {intent_rate:.3} < 0.9"
    );
}
