//! Understanding measured on questions typed the way people really type
//! (`tests/data/realistic/`, written blind: see its README).
//!
//! The tuning part may be looked at, row by row, and its misses are printed.
//! The held-out part is not tuned on: only its figures per category are
//! printed, never its rows.
//!
//! The build fails if the tuning part ever misses a crisis or drops a
//! warning, or if its accuracy falls below the bars; the held-out figures
//! are reported for the record (`cargo test --test realistic_eval -- --nocapture`).

use std::collections::BTreeMap;

use massage_bot::engine::{Engine, Request};
use massage_bot::reply::{Intent, Kind, Reply};

struct Row {
    command: String,
    query: String,
    expected: String,
    category: String,
    warn: Vec<String>,
}

fn rows(file: &str) -> Vec<Row> {
    let path = format!("{}/tests/data/realistic/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            assert_eq!(f.len(), 5, "bad row in {file}: {l}");
            Row {
                command: f[0].to_owned(),
                query: f[1].to_owned(),
                expected: f[2].to_owned(),
                category: f[3].to_owned(),
                warn: f[4]
                    .split(',')
                    .map(str::trim)
                    .filter(|w| *w != "-" && !w.is_empty())
                    .map(str::to_owned)
                    .collect(),
            }
        })
        .collect()
}

fn intent_name(i: Option<Intent>) -> &'static str {
    match i {
        Some(Intent::Benefits) => "benefits",
        Some(Intent::Safe) => "safe",
        None => "",
    }
}

/// Whether the reply is one the row accepts. A crisis reply that goes on
/// to the expected topic (emergency help, then the warning) is accepted for
/// that topic, as `ask --json` shows it: `topic` and `intent` are set.
fn accepted(row: &Row, reply: &Reply) -> bool {
    let topic = reply.topic.as_ref().map(|t| t.as_str());
    let crisis = reply.kind == Kind::Crisis;
    row.expected.split('|').any(|alt| match alt {
        "crisis" => crisis,
        "-" => topic.is_none() && !crisis,
        _ => match alt.split_once(':') {
            Some((intent, t)) if row.command == "ask" => {
                topic == Some(t) && intent_name(reply.intent) == intent
            }
            Some((_, t)) => topic == Some(t),
            None => topic == Some(alt),
        },
    })
}

#[derive(Default)]
struct Tally {
    ok: usize,
    total: usize,
}

impl Tally {
    fn add(&mut self, ok: bool) {
        self.total += 1;
        self.ok += usize::from(ok);
    }

    fn rate(&self) -> f64 {
        self.ok as f64 / self.total.max(1) as f64
    }

    fn show(&self) -> String {
        format!(
            "{:>4}/{:<4} {:5.1}%",
            self.ok,
            self.total,
            100.0 * self.rate()
        )
    }
}

#[derive(Default)]
struct Report {
    by_category: BTreeMap<String, Tally>,
    in_scope: Tally,
    out_of_scope: Tally,
    crisis: Tally,
    /// Warnings the rows require and the replies carry.
    warnings: Tally,
    /// Crisis replies to rows that are not a crisis.
    false_crisis: usize,
    misses: Vec<String>,
}

fn measure(engine: &Engine, rows: &[Row]) -> Report {
    let mut r = Report::default();
    for row in rows {
        let request = match row.command.as_str() {
            "benefits" => Request::Benefits(row.query.clone()),
            "safe" => Request::Safe(row.query.clone()),
            "ask" => Request::Ask(row.query.clone()),
            other => panic!("unknown command {other}"),
        };
        let reply = engine.answer(&request);
        let ok = accepted(row, &reply);
        r.by_category
            .entry(row.category.clone())
            .or_default()
            .add(ok);
        let is_crisis_row = row.expected == "crisis";
        let out_row = row.expected.split('|').all(|a| a == "-");
        if is_crisis_row {
            r.crisis.add(ok);
        } else if out_row {
            r.out_of_scope.add(ok);
        } else {
            r.in_scope.add(ok);
        }
        if !is_crisis_row && reply.kind == Kind::Crisis {
            r.false_crisis += 1;
            r.misses.push(format!(
                "CRISIS REPLY TO {}\t{}\t{}",
                row.command, row.query, row.expected
            ));
        }
        for w in &row.warn {
            // A crisis reply comes before any warning: it is help, not a miss.
            let carried =
                reply.kind == Kind::Crisis || reply.warnings.iter().any(|t| t.as_str() == w);
            r.warnings.add(carried);
            if !carried {
                r.misses.push(format!(
                    "WARN {}\t{}\twants {w}, carries {:?}",
                    row.command, row.query, reply.warnings
                ));
            }
        }
        if !ok {
            r.misses.push(format!(
                "MISS {}\t{}\t{}\t-> {}:{:?} ({:?})",
                row.command,
                row.query,
                row.expected,
                intent_name(reply.intent),
                reply.topic.as_ref().map(|t| t.as_str()),
                reply.kind
            ));
        }
    }
    r
}

fn print(name: &str, r: &Report) {
    println!("== {name}");
    for (category, t) in &r.by_category {
        println!("  {category:<14} {}", t.show());
    }
    println!("  in scope (topic and intent)  {}", r.in_scope.show());
    println!("  out of scope rejected        {}", r.out_of_scope.show());
    println!("  crisis answered as crisis    {}", r.crisis.show());
    println!("  required warnings carried    {}", r.warnings.show());
    println!("  crisis replies to non-crisis rows: {}", r.false_crisis);
}

#[test]
fn realistic_questions_tuning_and_held_out() {
    let engine = Engine::load(None).expect("shipped knowledge");
    let tune = measure(&engine, &rows("tune.tsv"));
    for m in &tune.misses {
        println!("{m}");
    }
    print("tuning part", &tune);
    let held = measure(&engine, &rows("heldout.tsv"));
    print("held-out part (figures only)", &held);

    assert_eq!(
        tune.crisis.ok, tune.crisis.total,
        "a crisis message in the tuning part did not get the crisis reply"
    );
    assert_eq!(
        tune.warnings.ok, tune.warnings.total,
        "a required safety warning was dropped in the tuning part"
    );
    assert!(
        tune.in_scope.rate() >= 0.92,
        "tuning in-scope accuracy {:.3} < 0.92",
        tune.in_scope.rate()
    );
    assert!(
        tune.out_of_scope.rate() >= 0.95,
        "tuning out-of-scope rejection {:.3} < 0.95",
        tune.out_of_scope.rate()
    );
}
