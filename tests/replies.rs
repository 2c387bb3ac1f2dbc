//! Properties every reply must have, whatever the input: the caveat, no
//! mentions echoed, Discord's limits, no claim of safety the sources lack.

use massage_bot::engine::{Engine, Request};
use massage_bot::render::{self, limits, Card};
use massage_bot::reply::{Intent, Kind, Reply};
use massage_bot::validate;
use proptest::prelude::*;
use std::sync::OnceLock;

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| Engine::load(None).expect("shipped knowledge is valid"))
}

/// What every reply must satisfy.
fn check(reply: &Reply) {
    let caveat = engine().knowledge().caveat.as_str();
    assert!(!caveat.is_empty());
    assert_eq!(reply.caveat.as_str(), caveat);
    let text = render::text(reply);
    assert!(
        text.trim_end().ends_with(caveat),
        "text lacks the caveat: {text}"
    );
    let card = Card::from_reply(reply);
    assert_eq!(card.footer, caveat);
    assert!(card.title.chars().count() <= limits::TITLE);
    assert!(card.description.chars().count() <= limits::DESCRIPTION);
    assert!(card.fields.len() <= limits::FIELDS);
    for f in &card.fields {
        assert!(f.value.chars().count() <= limits::FIELD_VALUE);
    }
    assert!(card.total_len() <= limits::MESSAGE_TOTAL);
    // Nothing can ping, and echoed text can never link: the only links are
    // the helplines of the reviewed crisis reply.
    for bad in ["@everyone", "@here", "<@", "<#"] {
        assert!(!text.contains(bad), "reply echoes {bad}: {text}");
    }
    let allowed = crisis_links();
    for word in text.split_whitespace() {
        if word.contains("http://") || word.contains("https://") {
            assert!(
                allowed.iter().any(|a| word.contains(a.as_str())),
                "reply links {word}: {text}"
            );
        }
    }
    for bad in ["http://", "https://"] {
        assert!(!reply.query.contains(bad), "echo links: {}", reply.query);
    }
    // Every sentence the quotes would show is one the reply says, and its
    // sources are listed.
    let gaps = validate::provenance_gaps(reply, &engine().said(&reply.shown));
    assert!(gaps.is_empty(), "{gaps:?}: {text}");
}

/// The links the crisis file itself gives.
fn crisis_links() -> Vec<String> {
    let c = &engine().knowledge().crisis;
    c.mental
        .points
        .iter()
        .chain(&c.medical.points)
        .flat_map(|p| p.split_whitespace())
        .filter(|w| w.starts_with("https://"))
        .map(|w| w.trim_end_matches(['.', ',', ')']).to_owned())
        .collect()
}

fn all_requests(s: &str) -> Vec<Request> {
    vec![
        Request::Benefits(s.to_owned()),
        Request::Safe(s.to_owned()),
        Request::Ask(s.to_owned()),
        Request::parse(s),
        Request::parse(&format!("/benefits {s}")),
        Request::parse(&format!("/safe {s}")),
        Request::parse(&format!("/{s}")),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn every_reply_carries_the_caveat(s in any::<String>()) {
        for r in all_requests(&s) {
            check(&engine().answer(&r));
        }
        check(&engine().answer_topic(Intent::Benefits, &s));
        check(&engine().answer_topic(Intent::Safe, &s));
    }

    #[test]
    fn wordy_input_too(words in prop::collection::vec("[a-zA-Z@<>#*_`~|:/.!? -]{0,12}", 0..40)) {
        let s = words.join(" ");
        for r in all_requests(&s) {
            check(&engine().answer(&r));
        }
    }

    #[test]
    fn autocomplete_stays_within_limits(s in any::<String>()) {
        for intent in [Intent::Benefits, Intent::Safe] {
            let choices = engine().autocomplete(&s, intent, 25);
            prop_assert!(choices.len() <= 25);
            for c in choices {
                prop_assert!(c.name.chars().count() <= limits::CHOICE_NAME);
                prop_assert!(!c.name.is_empty());
            }
        }
    }
}

#[test]
fn fixed_requests_carry_the_caveat() {
    for r in [
        Request::Tip,
        Request::Topics,
        Request::About,
        Request::Help,
        Request::Unknown {
            name: "x".into(),
            rest: String::new(),
        },
    ] {
        check(&engine().answer(&r));
    }
    for i in 0..engine().knowledge().tips.len() {
        check(&engine().tip(i));
    }
}

#[test]
fn bad_input_gets_a_sensible_reply() {
    let long = "massage ".repeat(750);
    let cases: Vec<(&str, String)> = vec![
        ("empty", String::new()),
        ("whitespace", " \t\n  ".into()),
        ("6000 chars", "a".repeat(6000)),
        ("6000 chars of words", long.clone()),
        ("emoji only", "😴🙂💆‍♀️".into()),
        (
            "zero width and rtl",
            "\u{200B}\u{200D}\u{202E}sleep\u{202C}".into(),
        ),
        ("everyone", "@everyone sleep".into()),
        ("user mention", "<@123> <@!456> <@&789> stress".into()),
        (
            "markdown and links",
            "**sleep** [click](https://evil.example) `code` ||spoiler||".into(),
        ),
        ("newlines", "sleep\n\nstress\r\n".into()),
        (
            "control characters",
            "\u{0000}\u{0007}sle\u{0008}ep\u{001B}[31m".into(),
        ),
    ];
    for (name, input) in cases {
        for r in all_requests(&input) {
            let reply = engine().answer(&r);
            check(&reply);
            assert!(
                reply.query.chars().count() <= 300,
                "{name}: echo not bounded"
            );
        }
    }
    let empty = engine().answer(&Request::Benefits(String::new()));
    assert_eq!(empty.kind, Kind::Error);
    assert!(empty.is_private());
    let rtl = engine().answer(&Request::Benefits("\u{200B}\u{202E}sleep".into()));
    assert_eq!(rtl.topic.as_ref().map(|t| t.as_str()), Some("sleep"));
    let mention = engine().answer(&Request::Benefits("@everyone <@123> sleep".into()));
    assert_eq!(mention.topic.as_ref().map(|t| t.as_str()), Some("sleep"));
}

#[test]
fn missing_safety_information_is_never_presented_as_safe() {
    let k = engine().knowledge();
    for topic in &k.topics {
        let reply = engine().answer_topic(Intent::Safe, topic.id.as_str());
        let text = render::text(&reply).to_lowercase();
        match &topic.safety {
            None => {
                assert_eq!(reply.kind, Kind::NoSection, "{}", topic.id);
                assert!(
                    text.contains("does not mean massage is safe for you"),
                    "{}: {text}",
                    topic.id
                );
                assert!(reply.safety.is_none());
            }
            Some(s) => {
                assert_eq!(reply.kind, Kind::Answer);
                assert_eq!(reply.safety.as_ref().map(|n| n.level), Some(s.level));
                assert!(
                    !reply.sources.is_empty(),
                    "{}: safety answer names no source",
                    topic.id
                );
            }
        }
        // "safe" only ever appears negated or in a command name.
        let cleaned = text
            .replace("does not mean massage is safe", "")
            .replace("/safe", "");
        assert!(
            !cleaned.contains(" safe for") && !cleaned.contains("is safe"),
            "{}: {text}",
            topic.id
        );
    }
}

#[test]
fn see_also_lists_each_topic_once() {
    for topic in &engine().knowledge().topics {
        for intent in [Intent::Benefits, Intent::Safe] {
            let reply = engine().answer_topic(intent, topic.id.as_str());
            let mut seen = std::collections::HashSet::new();
            for r in &reply.related {
                assert!(
                    seen.insert((r.id.clone(), r.command)),
                    "{}: {:?} twice",
                    topic.id,
                    r.id
                );
            }
        }
    }
}

#[test]
fn a_benefit_with_a_safety_note_points_to_it_or_carries_it() {
    for topic in &engine().knowledge().topics {
        if topic.benefits.is_some() && topic.safety.is_some() {
            let reply = engine().answer_topic(Intent::Benefits, topic.id.as_str());
            let links = reply
                .related
                .iter()
                .any(|r| r.id == topic.id && r.command == massage_bot::reply::Command::Safe);
            assert!(links || reply.warnings.contains(&topic.id), "{}", topic.id);
            assert!(!reply.sources.is_empty());
        }
    }
}

#[test]
fn crisis_replies_carry_the_caveat_and_fit_discord() {
    for q in [
        "i want to kill myself",
        "chest pain spreading to my left arm right now",
        "one calf is red, hot and swollen, should i get it massaged",
    ] {
        for r in all_requests(q) {
            let reply = engine().answer(&r);
            check(&reply);
            assert_eq!(reply.kind, Kind::Crisis, "{q}: {r:?}");
        }
    }
}

#[test]
fn out_of_scope_safe_question_is_not_covered_and_not_called_safe() {
    let reply = engine().answer(&Request::Safe("lottery numbers".into()));
    assert_eq!(reply.kind, Kind::NotCovered);
    assert!(reply.topic.is_none());
    assert!(render::text(&reply).contains("does not mean massage is safe"));
    assert!(reply.is_private());
    // The sources' general advice is offered first.
    assert_eq!(
        reply.suggestions.first().map(|s| s.id.as_str()),
        Some("medical-conditions")
    );
}

#[test]
fn examples_from_the_issue() {
    let e = engine();
    let r = e.answer(&Request::parse("/benefits sleep"));
    assert_eq!(
        (r.kind, r.topic.as_ref().map(|t| t.as_str())),
        (Kind::Answer, Some("sleep"))
    );
    let r = e.answer(&Request::parse("/safe pregnancy"));
    assert_eq!(r.topic.as_ref().map(|t| t.as_str()), Some("pregnancy"));
    assert!(r
        .safety
        .as_ref()
        .and_then(|s| s.sources_differ.as_ref())
        .is_some());
    let r = e.answer(&Request::parse("is massage ok when pregnant"));
    assert_eq!(r.intent, Some(Intent::Safe));
    assert_eq!(r.topic.as_ref().map(|t| t.as_str()), Some("pregnancy"));
    for typo in [
        "sleeep",
        "pregnent",
        "trouble sleeping",
        "SLEEP",
        "Sleeping",
    ] {
        let r = e.answer(&Request::Benefits(typo.into()));
        assert!(r.topic.is_some(), "{typo}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// Questions about two or three topics at once: the combined reply
    /// still lists every source its sentences cite.
    #[test]
    fn multi_topic_replies_keep_their_provenance(
        picks in prop::collection::vec(0usize..1000, 2..4),
        safe in any::<bool>(),
    ) {
        let topics = &engine().knowledge().topics;
        let names: Vec<String> = picks
            .iter()
            .map(|i| topics[i % topics.len()].title.to_lowercase())
            .collect();
        let q = if safe {
            format!("is massage ok with {}?", names.join(" and "))
        } else {
            format!("can massage help {}?", names.join(" and "))
        };
        check(&engine().answer(&Request::Ask(q)));
    }
}
