//! Understanding a message: is it a crisis, is it English, is it small
//! talk, which topics does it name (all of them, wherever they are) and
//! does it ask about safety or benefits. Knows nothing of replies.
//!
//! The words come from the knowledge (topic ids, titles, aliases) and from
//! the reviewed vocabulary beside it; the crisis rules from `crisis.toml`.

mod crisis;
mod cues;
mod lexicon;
mod patterns;
pub mod text;

use crate::knowledge::{CrisisKind, Knowledge, Pattern};

pub use cues::{Chat, Lean};
pub use lexicon::{TermIndex, TopicIndex};

use crisis::CrisisMatcher;
use lexicon::{Lexicon, Phrase, Target, WordClass};

/// A message longer than this many words is a story with a question in it.
const STORY: usize = 40;
/// The words of a story read for what it asks: its end.
const QUESTION: usize = 30;

/// The part of a message that asks: all of a short one, the end of a story
/// ("...my husband has a heart condition. anyway would massage help his
/// stress?").
fn question(tokens: &[text::Token]) -> &[text::Token] {
    if tokens.len() > STORY {
        &tokens[tokens.len() - QUESTION..]
    } else {
        tokens
    }
}

/// Words that say what follows is absent ("no", "not pregnant").
const NEGATIONS: &[&str] = &[
    "no", "not", "never", "without", "nor", "non", "isnt", "arent", "wasnt", "werent", "havent",
    "hasnt", "dont", "doesnt", "didnt",
];

/// Words that may sit between a negation and what it negates ("no known
/// heart problems", "never been diagnosed with cancer").
const NEGATION_GAP: &[&str] = &[
    "any",
    "a",
    "an",
    "had",
    "have",
    "has",
    "got",
    "history",
    "of",
    "sign",
    "signs",
    "real",
    "known",
    "actual",
    "actually",
    "been",
    "diagnosed",
    "with",
    "the",
    "current",
    "currently",
];

/// Absences that are themselves a sign: "no period for 7 weeks" is not
/// "not pregnant".
const NEGATION_KEEPS: &[&str] = &["period", "periods"];

/// Token positions that a negation covers: the first word after it that
/// is not a gap word.
fn negations(tokens: &[text::Token], in_phrase: &[usize]) -> Vec<usize> {
    let mut out = Vec::new();
    for (i, t) in tokens.iter().enumerate() {
        if !NEGATIONS.contains(&t.text.as_str()) || in_phrase.contains(&i) {
            continue;
        }
        let mut j = i + 1;
        while j < tokens.len() && j <= i + 4 && NEGATION_GAP.contains(&tokens[j].text.as_str()) {
            j += 1;
        }
        if j < tokens.len() && !NEGATION_KEEPS.contains(&tokens[j].text.as_str()) {
            out.push(j);
        }
    }
    out
}

/// A question to the bot is small talk only in a message this short.
const SHORT_CHAT: usize = 8;

/// How near a complaint must be to a body part ("my neck is so stiff").
const SYMPTOM_REACH: usize = 4;

/// How near after a benefit cue a topic is its object ("help with my back").
const OBJECT_REACH: usize = 4;

/// A topic named in a message.
#[derive(Debug, Clone, PartialEq)]
pub struct Mention {
    pub topic: TopicIndex,
    /// Token position of its first word.
    pub at: usize,
    /// 1.0 when spelled as in the lexicon; less for a typo.
    pub sim: f32,
    /// The vocabulary term that named it, if one did.
    pub term: Option<TermIndex>,
    /// Named only by weak words ("back"): see [`Reading::keep_weak`].
    pub weak: bool,
    /// Named just after a benefit cue ("does massage help *my anxiety*"):
    /// what the question hopes massage helps with.
    pub object: bool,
    /// Named in the question a story ends with, not in the story.
    pub in_question: bool,
}

/// What a message says, before any reply is chosen.
#[derive(Debug, Clone, PartialEq)]
pub struct Reading {
    pub crisis: Option<CrisisKind>,
    /// Which crisis rule matched (its position in `crisis.toml`), for logs.
    pub crisis_rule: Option<usize>,
    pub foreign: bool,
    pub chat: Option<Chat>,
    /// Every topic named, in the order the message names them.
    pub mentions: Vec<Mention>,
    pub lean: Lean,
    /// Tokens in all.
    pub tokens: usize,
    /// Words that could name something: not stopwords, cues or small talk.
    pub content_words: usize,
    /// The message without its look-alike phrases ("pregnant pause"), for
    /// the fuzzy matcher to try when no topic was found.
    pub rest: String,
    /// It asks about a thing, technique or practicality ("massage chair",
    /// "thai massage", "how often"), not about massage in general.
    pub about_a_thing: bool,
    /// It names massage itself.
    pub names_massage: bool,
    /// The massage is for an animal.
    pub about_an_animal: bool,
    /// The message is about something else (homework, a film, the bot).
    pub off_topic: bool,
    /// It names another subject (a laptop, a recipe), which is what it is
    /// about if it asks nothing about massage.
    pub elsewhere: bool,
    /// It names someone a condition could apply to: the writer ("i",
    /// "my") or someone they ask for ("mum", "client").
    pub personal: bool,
}

/// Reads messages against one knowledge base.
#[derive(Debug)]
pub struct Reader {
    lexicon: Lexicon,
    /// Per vocabulary term, the further topics it names.
    also: Vec<Vec<TopicIndex>>,
    crisis: CrisisMatcher,
    patterns: Vec<(Pattern, TopicIndex, TermIndex)>,
    /// Per topic, whether "no"/"not" before it says it is absent: true for
    /// conditions ("no heart problems"), false for what people lack ("no
    /// sleep", "no energy").
    negatable: Vec<bool>,
}

/// Ordinary English words of four letters or more (SCOWL size 35; see
/// `data/README.md`), sorted: never read as a typo of a topic word.
const ENGLISH: &str = include_str!("data/english.txt");

/// How every known word may match: function words (stopwords, cues,
/// small talk) exactly, ordinary English words by stem but never as typos.
fn classes() -> &'static rustc_hash::FxHashMap<&'static str, WordClass> {
    static CLASSES: std::sync::OnceLock<rustc_hash::FxHashMap<&'static str, WordClass>> =
        std::sync::OnceLock::new();
    CLASSES.get_or_init(|| {
        let mut map: rustc_hash::FxHashMap<&'static str, WordClass> = ENGLISH
            .lines()
            .map(|w| (w, WordClass::Dictionary))
            .collect();
        for w in crate::matching::filler_words().chain(cues::function_words()) {
            map.insert(w, WordClass::Function);
        }
        map
    })
}

fn class(word: &str) -> WordClass {
    classes()
        .get(cues::spelled(word))
        .copied()
        .unwrap_or(WordClass::Unknown)
}

impl Reading {
    /// Keeps weak mentions ("back") only where the message names nothing
    /// else and has at most `content_words` words that could name something:
    /// "back" alone is back pain, "got back from work" is not.
    pub fn keep_weak(&mut self, content_words: usize) {
        let strong = self.mentions.iter().any(|m| !m.weak);
        let short = self.content_words <= content_words;
        self.mentions.retain(|m| !m.weak || (!strong && short));
    }
}

impl Reader {
    pub fn new(knowledge: &Knowledge) -> Reader {
        let ids: Vec<String> = knowledge
            .topics
            .iter()
            .map(|t| t.id.as_str().replace('-', " "))
            .collect();
        let mut phrases: Vec<Phrase<'_>> = Vec::new();
        let plain = |text, target| Phrase {
            text,
            target,
            caps: false,
            weak: false,
            term: None,
        };
        for (i, t) in knowledge.topics.iter().enumerate() {
            let target = Target::Topic(i);
            phrases.push(plain(ids[i].as_str(), target));
            phrases.push(plain(t.title.as_str(), target));
            phrases.extend(t.aliases.iter().map(|a| plain(a.as_str(), target)));
        }
        let topic_of =
            |id: &crate::knowledge::TopicId| knowledge.topics.iter().position(|t| &t.id == id);
        let mut patterns = Vec::new();
        for (k, term) in knowledge.vocabulary.terms.iter().enumerate() {
            let Some(i) = topic_of(&term.topic) else {
                continue;
            };
            let target = Target::Topic(i);
            for w in &term.words {
                phrases.push(Phrase {
                    text: w,
                    target,
                    caps: false,
                    weak: term.weak,
                    term: Some(k),
                });
            }
            for w in &term.caps {
                phrases.push(Phrase {
                    text: w,
                    target,
                    caps: true,
                    weak: term.weak,
                    term: Some(k),
                });
            }
            patterns.extend(term.patterns.iter().map(|&p| (p, i, k)));
        }
        for ig in &knowledge.vocabulary.ignored {
            phrases.extend(ig.words.iter().map(|w| plain(w.as_str(), Target::Nothing)));
        }
        for ig in &knowledge.vocabulary.off_topic {
            phrases.extend(ig.words.iter().map(|w| plain(w.as_str(), Target::OffTopic)));
        }
        for ig in &knowledge.vocabulary.elsewhere {
            phrases.extend(
                ig.words
                    .iter()
                    .map(|w| plain(w.as_str(), Target::Elsewhere)),
            );
        }
        let also = knowledge
            .vocabulary
            .terms
            .iter()
            .map(|t| t.also.iter().filter_map(topic_of).collect())
            .collect();
        Reader {
            negatable: knowledge
                .topics
                .iter()
                .map(|t| t.safety.is_some())
                .collect(),
            also,
            lexicon: Lexicon::new(phrases),
            crisis: CrisisMatcher::new(&knowledge.crisis),
            patterns,
        }
    }

    pub fn read(&self, message: &str) -> Reading {
        let tokens = text::tokens(message);
        let classes: Vec<WordClass> = tokens.iter().map(|t| class(&t.text)).collect();
        let content_words = tokens
            .iter()
            .zip(&classes)
            .filter(|(t, c)| !t.is_number() && **c != WordClass::Function)
            .count();
        let objects = cues::benefit_positions(&tokens);
        let is_object = |at: usize| objects.iter().any(|&p| p < at && at - p <= OBJECT_REACH);
        let mut mentions: Vec<Mention> = Vec::new();
        let question_starts = tokens.len() - question(&tokens).len();
        let found = self.lexicon.find(&tokens, &classes);
        // A negation inside a phrase ("no period for 7 weeks") negates
        // nothing.
        let in_phrase: Vec<usize> = found
            .iter()
            .flat_map(|f| f.positions.iter().copied())
            .collect();
        let negated = negations(&tokens, &in_phrase);
        let negatable = &self.negatable;
        let mut add = |mut m: Mention| {
            // "no heart problems", "not pregnant": named as absent.
            if negatable[m.topic] && negated.contains(&m.at) {
                return;
            }
            m.object = is_object(m.at);
            m.in_question = question_starts > 0 && m.at >= question_starts;
            match mentions.iter_mut().find(|x| x.topic == m.topic) {
                Some(x) => {
                    x.at = x.at.min(m.at);
                    x.sim = x.sim.max(m.sim);
                    x.term = x.term.or(m.term);
                    x.weak &= m.weak;
                    x.object |= m.object;
                    x.in_question |= m.in_question;
                }
                None => mentions.push(m),
            }
        };
        let mut hidden = vec![false; tokens.len()];
        let mut off_topic = false;
        let mut elsewhere = false;
        for f in found {
            off_topic |= f.target == Target::OffTopic;
            elsewhere |= f.target == Target::Elsewhere;
            if !matches!(f.target, Target::Topic(_)) {
                for &p in &f.positions {
                    hidden[p] = true;
                }
            }
            if let Target::Topic(topic) = f.target {
                add(Mention {
                    topic,
                    at: f.positions[0],
                    sim: f.sim,
                    term: f.term,
                    weak: f.weak,
                    object: false,
                    in_question: false,
                });
                for &also in f.term.and_then(|k| self.also.get(k)).into_iter().flatten() {
                    add(Mention {
                        topic: also,
                        at: f.positions[0],
                        sim: f.sim,
                        term: None,
                        weak: f.weak,
                        object: false,
                        in_question: false,
                    });
                }
            }
        }
        for (pattern, at) in patterns::find(&tokens) {
            for &(p, topic, term) in &self.patterns {
                if p == pattern {
                    add(Mention {
                        topic,
                        at,
                        sim: 1.0,
                        term: Some(term),
                        weak: false,
                        object: false,
                        in_question: false,
                    });
                }
            }
        }
        // "burning feeling across my shoulders": a body part with a
        // complaint near it names its topic whatever else is said.
        // A weak word the question asks about ("help with my back") names
        // its topic too.
        for m in mentions.iter_mut().filter(|m| m.weak) {
            let near = tokens.iter().enumerate().any(|(i, t)| {
                i != m.at && i.abs_diff(m.at) <= SYMPTOM_REACH && cues::is_symptom(&t.text)
            });
            m.weak = !near && !m.object;
        }
        // "are you a doctor?": a question to the bot names no topic.
        let to_the_bot = if tokens.len() <= SHORT_CHAT {
            cues::about_the_bot(&tokens)
        } else {
            None
        };
        if let Some((first, last)) = to_the_bot {
            mentions.retain(|m| m.at < first || m.at > last);
        }
        // "cool", "ok": an acknowledgement names nothing.
        if cues::only_acks(&tokens) {
            mentions.clear();
        }
        mentions.sort_by_key(|m| m.at);
        let rest = tokens
            .iter()
            .zip(&hidden)
            .filter(|(_, h)| !**h)
            .map(|(t, _)| t.text.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        let chat = if !mentions.is_empty() {
            None
        } else if to_the_bot.is_some() {
            Some(Chat::Help)
        } else {
            cues::chat(&tokens, content_words)
        };
        let ordinary: Vec<bool> = classes.iter().map(|c| *c != WordClass::Unknown).collect();
        let crisis = self.crisis.find(&tokens, &ordinary);
        Reading {
            crisis: crisis.map(|(kind, _)| kind),
            crisis_rule: crisis.map(|(_, rule)| rule),
            foreign: cues::is_foreign(message, &tokens),
            chat,
            lean: cues::lean(question(&tokens)),
            tokens: tokens.len(),
            content_words,
            about_a_thing: cues::about_a_thing(&tokens),
            about_an_animal: cues::about_an_animal(&tokens),
            off_topic,
            elsewhere,
            personal: tokens.iter().any(|t| cues::is_person(&t.text)),
            names_massage: tokens.iter().any(|t| {
                t.text.starts_with("massag")
                    || (t.text.starts_with("mas") && strsim::osa_distance(&t.text, "massage") <= 1)
            }),
            mentions,
            rest,
        }
    }
}
