//! The vocabulary and crisis files beside the knowledge file: the shipped
//! ones are sound, and the checker reports every kind of broken entry with
//! its line, as `knowledge check` shows it.

use massage_bot::engine::Engine;
use massage_bot::knowledge::{
    Crisis, Knowledge, KnowledgeError, Problem, UnknownTopics, Vocabulary,
};

fn shipped() -> Knowledge {
    Knowledge::embedded().expect("shipped knowledge loads")
}

fn vocabulary_problems(text: &str) -> Vec<Problem> {
    let k = shipped();
    match Vocabulary::from_toml(
        text,
        "vocab.toml",
        &k.topics,
        &k.advice,
        UnknownTopics::Reject,
    ) {
        Ok(_) => panic!("expected problems:\n{text}"),
        Err(KnowledgeError::Invalid { problems, .. }) => problems,
        Err(e) => panic!("unexpected error: {e}"),
    }
}

#[track_caller]
fn assert_has(problems: &[Problem], line: usize, message: &str) {
    let location = format!("vocab.toml:{line}");
    assert!(
        problems
            .iter()
            .any(|p| p.location == location && p.message.contains(message)),
        "no `{message}` at {location}; got:\n{}",
        problems
            .iter()
            .map(|p| format!("  {p}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn the_shipped_vocabulary_is_reviewed_data() {
    let k = shipped();
    assert!(k.vocabulary.terms.len() >= 40);
    for t in &k.vocabulary.terms {
        assert!(!t.why.is_empty(), "{}: every mapping says why", t.topic);
    }
    // What the issue names is in it, mapped where a clinician would put it.
    let topic_of = |word: &str| -> Vec<String> {
        k.vocabulary
            .terms
            .iter()
            .filter(|t| {
                t.words.iter().any(|w| w.eq_ignore_ascii_case(word))
                    || t.caps.iter().any(|w| w == word)
            })
            .map(|t| t.topic.to_string())
            .collect()
    };
    for (word, topic) in [
        ("PE", "blood-vessels"),
        ("htn", "blood-pressure"),
        ("MI", "heart"),
        ("afib", "heart"),
        ("RA", "arthritis"),
        ("OA", "arthritis"),
        ("MS", "medical-conditions"),
        ("T2DM", "medical-conditions"),
        ("copd", "breathing"),
        ("ibs", "medical-conditions"),
        ("tmj", "muscles"),
        ("apixaban", "medications"),
        ("rivaroxaban", "medications"),
        ("heparin", "medications"),
        ("advil", "medications"),
        ("prednisolone", "medications"),
        ("bisoprolol", "medications"),
        ("sertraline", "medications"),
        ("zopiclone", "medications"),
        ("stent", "heart"),
        ("c-section", "recovery"),
        ("chemo port", "cancer"),
        ("dialysis", "medical-conditions"),
        ("my op", "recovery"),
        ("third trimester", "pregnancy"),
        ("postpartum", "pregnancy"),
        ("preggo", "pregnancy"),
    ] {
        assert_eq!(topic_of(word), [topic], "{word}");
    }
    // Blood thinners: the sources say nothing specific, and the note says so.
    let thinners = k
        .vocabulary
        .terms
        .iter()
        .find(|t| t.words.iter().any(|w| w == "warfarin"))
        .expect("warfarin is in the vocabulary");
    let note = thinners.note.as_ref().expect("a note");
    assert!(
        thinners.warn,
        "blood thinners lead with the medicines warning"
    );
    assert_eq!(note.about, "blood thinners");
    assert!(
        note.framing().contains("nothing specific"),
        "{}",
        note.framing()
    );
    let advice: Vec<&str> = note.advice.iter().map(|s| s.text.as_str()).collect();
    assert!(advice.iter().any(|a| a.contains("doctor")), "{advice:?}");
    assert!(note.advice.iter().all(|s| s.is_advice()));
    assert!(!advice.iter().any(|a| a.contains("NSAID")));
}

#[test]
fn a_word_two_topics_share_is_refused() {
    let text = r#"
[[terms]]
topic = "sleep"
why = "test"
words = ["zonked"]

[[terms]]
topic = "energy"
why = "test"
words = ["Zonked!"]
"#;
    assert_has(
        &vocabulary_problems(text),
        10,
        "`zonked` is already a term of topic `sleep`",
    );
}

#[test]
fn a_word_that_is_another_topics_alias_is_refused() {
    let text = r#"
[[terms]]
topic = "stress"
why = "test"
words = ["insomnia"]
"#;
    assert_has(
        &vocabulary_problems(text),
        5,
        "already an alias of topic `sleep`",
    );
}

#[test]
fn unknown_topics_bad_caps_empty_words_and_missing_why() {
    let text = r#"
[[terms]]
topic = "no-such-topic"
why = "test"
words = ["x"]

[[terms]]
topic = "sleep"
why = "test"
caps = ["ms", "TOOLONGABBREV"]

[[terms]]
topic = "sleep"
why = ""
words = ["..."]

[[terms]]
topic = "sleep"
also = ["sleep"]
why = "test"
words = ["kipping"]
"#;
    let p = vocabulary_problems(text);
    assert_has(&p, 3, "topic `no-such-topic`, which does not exist");
    assert_has(&p, 10, "caps `ms` must be 1 to 8 capital letters");
    assert_has(&p, 10, "caps `TOOLONGABBREV`");
    assert_has(&p, 14, "why is empty");
    assert_has(&p, 15, "must have a letter or digit");
    assert_has(&p, 19, "`also` repeats the term's own topic");
}

#[test]
fn a_schema_error_names_its_line() {
    let p =
        vocabulary_problems("[[terms]]\ntopic = \"sleep\"\nwhy = \"x\"\nwords = \"not a list\"\n");
    assert!(
        p.iter()
            .any(|p| p.location == "vocab.toml:4" && p.message.contains("schema error")),
        "{p:?}"
    );
}

/// Words that differ as text but that the matcher reads alike (same stems,
/// any order) are refused by `Engine::load`, which `knowledge check` runs.
#[test]
fn words_the_matcher_reads_alike_are_refused_at_load() {
    let dir = tempfile::tempdir().expect("temp dir");
    let knowledge = dir.path().join("knowledge.toml");
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/knowledge/knowledge.toml"),
        &knowledge,
    )
    .expect("copy");
    std::fs::create_dir(dir.path().join("sources")).expect("sources");
    for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/knowledge/sources"))
        .expect("sources dir")
    {
        let entry = entry.expect("entry");
        std::fs::copy(
            entry.path(),
            dir.path().join("sources").join(entry.file_name()),
        )
        .expect("copy source");
    }
    std::fs::write(
        dir.path().join("vocabulary.toml"),
        "[[terms]]\ntopic = \"stress\"\nwhy = \"test\"\nwords = [\"sleeping troubles\"]\n",
    )
    .expect("write");
    let err = Engine::load(Some(&knowledge)).unwrap_err().to_string();
    assert!(
        err.contains("`sleeping troubles` reads as") && err.contains("topic `sleep`"),
        "{err}"
    );
}

#[test]
fn the_shipped_crisis_file_is_sound() {
    let c = Crisis::embedded().expect("crisis file loads");
    assert!(c.mental.points.iter().any(|p| p.contains("988")));
    assert!(c.mental.points.iter().any(|p| p.contains("116 123")));
    assert!(c
        .mental
        .points
        .iter()
        .any(|p| p.contains("https://findahelpline.com")));
    assert!(c
        .medical
        .points
        .iter()
        .any(|p| p.contains("emergency number")));
    assert!(c.rules.len() >= 20);
}

#[test]
fn a_broken_crisis_file_lists_every_problem() {
    let text = r#"
[mental]
title = "t"
summary = "s"
points = []

[medical]
title = "t"
summary = "s"
points = ["call"]

[[rules]]
kind = "mental"
why = "both"
phrases = ["a b"]
all = [["x"], ["y"]]

[[rules]]
kind = "mental"
why = "neither"

[[rules]]
kind = "mental"
why = "window"
all = [["x"], ["y"]]
window = 1
"#;
    let err = Crisis::from_toml(text, "crisis.toml")
        .unwrap_err()
        .to_string();
    for needle in [
        "[mental] needs points",
        "rule has both `phrases` and `all`",
        "rule has neither `phrases` nor `all`",
        "a window from their number",
        "no rule of kind Medical",
    ] {
        assert!(err.contains(needle), "missing `{needle}` in:\n{err}");
    }
}
