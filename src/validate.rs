//! Checks that need the built engine: names the matcher would read alike
//! for two topics, and replies that would not fit Discord. The knowledge
//! checker (`knowledge::check`) compares spellings; this compares what the
//! matchers see after stemming, and renders every reply the knowledge can
//! produce.

use std::collections::HashMap;

use crate::engine::{Engine, Request, CHOICE_NOTE_MAX};
use crate::knowledge::SourceId;
use crate::knowledge::{Knowledge, Problem, TopicId};
use crate::matching::{self, normalize};
use crate::render::{limits, Card};
use crate::reply::{Basis, Intent, Reply, Said};

/// Every problem the built engine finds in its knowledge.
pub fn problems(engine: &Engine, origin: &str) -> Vec<Problem> {
    let mut problems = alias_problems(engine.knowledge(), origin);
    problems.extend(vocabulary_problems(engine.knowledge(), origin));
    problems.extend(rendering_problems(engine, origin));
    problems.extend(provenance_problems(engine, origin));
    problems
}

fn problem(origin: &str, topic: Option<&TopicId>, message: String) -> Problem {
    Problem {
        location: origin.to_owned(),
        topic: topic.map(|t| t.to_string()),
        message,
    }
}

/// Aliases the fuzzy matcher cannot use, or reads the same for two topics.
fn alias_problems(k: &Knowledge, origin: &str) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut owner: HashMap<String, &TopicId> = HashMap::new();
    for topic in &k.topics {
        for alias in &topic.aliases {
            let words = matching::content_words(alias);
            if words.is_empty() {
                problems.push(problem(
                    origin,
                    Some(&topic.id),
                    format!("alias `{alias}` has only stopwords, so no query can match it"),
                ));
                continue;
            }
            let mut key: Vec<String> = words.iter().map(|w| normalize::stem(w)).collect();
            key.sort();
            let key = key.join(" ");
            match owner.get(&key) {
                Some(other) if *other != &topic.id => problems.push(problem(
                    origin,
                    Some(&topic.id),
                    format!(
                        "alias `{alias}` reads as `{key}` to the matcher, as an alias of topic `{other}` does"
                    ),
                )),
                _ => {
                    owner.insert(key, &topic.id);
                }
            }
        }
    }
    problems
}

/// The words of a phrase as the lexicon finds them: stems, in any order.
fn lexicon_key(phrase: &str) -> String {
    let mut key: Vec<String> = crate::understanding::text::tokens(phrase)
        .iter()
        .filter(|t| !matches!(t.text.as_str(), "a" | "an" | "the" | "my" | "your"))
        .map(|t| normalize::stem(&t.text))
        .collect();
    key.sort();
    key.join(" ")
}

/// Vocabulary words that the lexicon reads like a name of another topic or
/// an ignored look-alike, and readings claimed by two topics.
fn vocabulary_problems<'k>(k: &'k Knowledge, origin: &str) -> Vec<Problem> {
    let origin = format!("{origin} (vocabulary)");
    let mut problems = Vec::new();
    // key -> Some(topic) or None for an ignored word.
    let mut owner: HashMap<String, Option<&'k TopicId>> = HashMap::new();
    for t in &k.topics {
        let names = std::iter::once(t.id.as_str().replace('-', " "))
            .chain(std::iter::once(t.title.clone()))
            .chain(t.aliases.iter().cloned());
        for n in names {
            owner.entry(lexicon_key(&n)).or_insert(Some(&t.id));
        }
    }
    let mut claim = |key: String, topic: Option<&'k TopicId>, word: &str| {
        if key.is_empty() {
            return;
        }
        // A single word as typed beats another word with its stem
        // ("scared" is not "scar"), so only phrases can clash by stems.
        let single = !key.contains(' ');
        match owner.get(&key) {
            Some(_) if single => {}
            Some(other) if *other != topic => {
                let other = match other {
                    Some(id) => format!("a name of topic `{id}`"),
                    None => "an ignored word".to_owned(),
                };
                problems.push(problem(
                    &origin,
                    topic,
                    format!("`{word}` reads as `{key}` to the matcher, like {other}"),
                ));
            }
            Some(_) => {}
            None => {
                owner.insert(key, topic);
            }
        }
    };
    for term in &k.vocabulary.terms {
        for w in &term.words {
            claim(lexicon_key(w), Some(&term.topic), w);
        }
    }
    for ig in &k.vocabulary.ignored {
        for w in &ig.words {
            claim(lexicon_key(w), None, w);
        }
    }
    for rule in &k.crisis.rules {
        if let Some(t) = &rule.topic {
            if k.topic(t).is_none() {
                problems.push(problem(
                    &origin,
                    None,
                    format!(
                        "crisis rule \"{}\" names topic `{t}`, which does not exist",
                        rule.why
                    ),
                ));
            }
        }
    }
    let mut patterns: HashMap<crate::knowledge::Pattern, &TopicId> = HashMap::new();
    for term in &k.vocabulary.terms {
        for p in &term.patterns {
            if let Some(other) = patterns.insert(*p, &term.topic) {
                if other != &term.topic {
                    problems.push(problem(
                        &origin,
                        Some(&term.topic),
                        format!("pattern {p:?} is already a pattern of topic `{other}`"),
                    ));
                }
            }
        }
    }
    problems
}

/// Every reply the knowledge can produce that would not fit Discord.
fn rendering_problems(engine: &Engine, origin: &str) -> Vec<Problem> {
    let k = engine.knowledge();
    let mut problems = Vec::new();
    let mut check = |reply: Reply, topic: Option<&TopicId>, what: &str| {
        for p in Card::limit_problems(&reply) {
            problems.push(problem(origin, topic, format!("{what} reply: {p}")));
        }
    };
    for topic in &k.topics {
        check(
            engine.answer_topic(Intent::Benefits, topic.id.as_str()),
            Some(&topic.id),
            "/benefits",
        );
        check(
            engine.answer_topic(Intent::Safe, topic.id.as_str()),
            Some(&topic.id),
            "/safe",
        );
    }
    for i in 0..k.tips.len() {
        check(engine.tip(i), None, &format!("tip #{}", i + 1));
    }
    // On Discord `/topics` comes in pages; each must fit.
    for (i, page) in crate::render::section_pages(&engine.answer(&Request::Topics))
        .into_iter()
        .enumerate()
    {
        check(page, None, &format!("/topics page {}", i + 1));
    }
    check(engine.answer(&Request::About), None, "/about");
    check(engine.answer(&Request::Ask("help".into())), None, "help");
    check(
        engine.answer(&Request::Ask("is massage safe?".into())),
        None,
        "general safety",
    );
    for kind in [
        crate::knowledge::CrisisKind::Mental,
        crate::knowledge::CrisisKind::Medical,
    ] {
        check(
            engine.crisis_reply(kind),
            None,
            &format!("crisis ({kind:?})"),
        );
    }
    for topic in &k.topics {
        // An autocomplete choice is the title plus a short note.
        if topic.title.chars().count() + CHOICE_NOTE_MAX > limits::CHOICE_NAME {
            problems.push(problem(
                origin,
                Some(&topic.id),
                "title too long for an autocomplete choice name".to_owned(),
            ));
        }
    }
    problems
}

/// Every reply the knowledge can produce whose provenance does not hold:
/// a sentence whose source is missing from the reply's Sources, or a
/// sentence the quotes would show that the reply does not say.
fn provenance_problems(engine: &Engine, origin: &str) -> Vec<Problem> {
    let k = engine.knowledge();
    let mut problems = Vec::new();
    let mut check = |reply: Reply, topic: Option<&TopicId>, what: &str| {
        let said = engine.said(&reply.shown);
        for p in provenance_gaps(&reply, &said) {
            problems.push(problem(origin, topic, format!("{what} reply: {p}")));
        }
    };
    for topic in &k.topics {
        for (side, what) in [(Intent::Benefits, "/benefits"), (Intent::Safe, "/safe")] {
            check(
                engine.answer_topic(side, topic.id.as_str()),
                Some(&topic.id),
                what,
            );
        }
    }
    for i in 0..k.tips.len() {
        check(engine.tip(i), None, &format!("tip #{}", i + 1));
    }
    check(
        engine.answer(&Request::Ask("is massage safe?".into())),
        None,
        "general safety",
    );
    problems
}

/// What is wrong with a reply's provenance, given the sentences it shows:
/// a cited source its Sources list misses, or a shown sentence its text
/// does not contain (so the quotes would describe another reply).
pub fn provenance_gaps(reply: &Reply, said: &[Said]) -> Vec<String> {
    let mut gaps = Vec::new();
    let mut missing: Vec<&SourceId> = Vec::new();
    for s in said {
        if let Basis::Sources(quotes) = &s.basis {
            for q in quotes {
                let listed = reply.sources.iter().any(|r| r.id == q.source.id);
                if !listed && !missing.contains(&&q.source.id) {
                    missing.push(&q.source.id);
                }
            }
        }
    }
    for id in missing {
        gaps.push(format!(
            "its sentences cite source {id}, which its Sources list misses"
        ));
    }
    let card = Card::from_reply(reply);
    let mut shown = card.title.clone();
    shown.push(' ');
    shown.push_str(&card.description);
    for f in &card.fields {
        shown.push(' ');
        shown.push_str(&f.value);
    }
    let shown = squash(&shown);
    for s in said {
        if !shown.contains(&squash(&s.text)) {
            gaps.push(format!(
                "\"{}\" is listed as shown but the reply does not say it",
                s.text
            ));
        }
    }
    gaps
}

/// Text with markup and runs of white space reduced, for comparing a
/// sentence with the card that shows it.
fn squash(s: &str) -> String {
    s.replace(['*', '_', '`'], "")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn engine() -> Engine {
        Engine::load(None).expect("embedded knowledge loads")
    }

    #[test]
    fn a_reply_that_drops_a_cited_source_is_refused() {
        let e = engine();
        let mut reply = e.answer_topic(Intent::Benefits, "sleep");
        let said = e.said(&reply.shown);
        assert!(provenance_gaps(&reply, &said).is_empty());
        let dropped = reply.sources.pop().expect("sleep cites a source");
        let gaps = provenance_gaps(&reply, &said);
        assert_eq!(gaps.len(), 1, "{gaps:?}");
        assert!(gaps[0].contains(dropped.id.as_str()), "{gaps:?}");
    }

    #[test]
    fn a_reply_that_does_not_say_a_listed_sentence_is_refused() {
        let e = engine();
        let mut reply = e.answer_topic(Intent::Safe, "pregnancy");
        let said = e.said(&reply.shown);
        reply.points.pop();
        let gaps = provenance_gaps(&reply, &said);
        assert!(
            gaps.iter().any(|g| g.contains("does not say it")),
            "{gaps:?}"
        );
    }
}
