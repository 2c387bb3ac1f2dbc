//! The vocabulary file (`vocabulary.toml`): the words people use for each
//! topic beyond its own aliases (lay words, clinical shorthand, drug names,
//! symptoms, slang), each group with the reason it names that topic, and
//! the look-alike words that must name nothing ("heartburn").
//!
//! It is reviewed data like the knowledge file: a mapping a clinician would
//! wince at is fixed here, not in code.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::check::{Checker, MAX_ALIAS, MAX_TEXT};
use super::{Advice, Backing, KnowledgeError, Sentence, Topic, TopicId};

/// The vocabulary compiled into the binary.
pub const EMBEDDED_VOCABULARY: &str = include_str!("../../knowledge/vocabulary.toml");

/// Longest abbreviation matched only in capitals.
const MAX_CAPS: usize = 8;

/// A validated vocabulary.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Vocabulary {
    pub terms: Vec<Term>,
    pub ignored: Vec<Ignored>,
    /// Words that show a message is about something else (homework, a
    /// film, a game, the bot itself): it names a topic only in passing.
    pub off_topic: Vec<Ignored>,
    /// Words of other subjects (a laptop, a recipe, a band): a message with
    /// one that asks nothing about massage is about that subject.
    pub elsewhere: Vec<Ignored>,
}

/// Words that name one topic.
#[derive(Debug, Clone, Serialize)]
pub struct Term {
    pub topic: TopicId,
    /// Further topics the words name as well ("shingles" is an infection
    /// and a skin condition): each gets its mention, and its warning.
    pub also: Vec<TopicId>,
    /// Matched in any case, with typos tolerated.
    pub words: Vec<String>,
    /// Abbreviations matched only as typed in capitals ("MS", "PE"), because
    /// in lower case they are ordinary words.
    pub caps: Vec<String>,
    /// Words that name the topic only when the message says little else
    /// ("back" alone is back pain; "got back from work" is not).
    pub weak: bool,
    /// Said instead of the topic's summary when these words named it: for
    /// things the sources do not discuss specifically (blood thinners,
    /// diabetes), so the reply says so instead of borrowing another text.
    pub note: Option<Note>,
    /// The words name a situation the topic's safety note is about (a torn
    /// muscle, stitches): its warning leads whatever was asked.
    pub warn: bool,
    /// Readings that name the topic ("150/95", "34 weeks").
    pub patterns: Vec<Pattern>,
    pub why: String,
}

/// What the bot says when words name something its sources do not discuss
/// by name: "My sources say nothing specific about {about}.", then its own
/// advice lines.
#[derive(Debug, Clone, Serialize)]
pub struct Note {
    /// What the words name, as the reply says it ("blood thinners").
    pub about: String,
    /// The bot's own general advice lines said with it.
    pub advice: Vec<Sentence>,
}

impl Note {
    /// The sentence that replaces the section's summary: the bot's own
    /// words about what its sources cover, not a claim about massage.
    pub fn framing(&self) -> String {
        format!("My sources say nothing specific about {}.", self.about)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNote {
    about: Spanned<String>,
    #[serde(default)]
    advice: Vec<Spanned<String>>,
}

/// A reading recognised by its shape rather than its words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Pattern {
    /// "150/95", "bp 160 over 100".
    BloodPressureReading,
    /// "34 weeks", "im 20 wks", "36+2".
    WeeksPregnant,
}

/// Words that look like a topic but are not one ("heartburn", "sleeping bag").
#[derive(Debug, Clone, Serialize)]
pub struct Ignored {
    pub words: Vec<String>,
    pub why: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVocabulary {
    #[serde(default)]
    terms: Vec<Spanned<RawTerm>>,
    #[serde(default)]
    ignore: Vec<Spanned<RawIgnored>>,
    #[serde(default)]
    off_topic: Vec<Spanned<RawIgnored>>,
    #[serde(default)]
    elsewhere: Vec<Spanned<RawIgnored>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTerm {
    topic: Spanned<String>,
    #[serde(default)]
    also: Vec<Spanned<String>>,
    why: Spanned<String>,
    #[serde(default)]
    words: Vec<Spanned<String>>,
    #[serde(default)]
    caps: Vec<Spanned<String>>,
    #[serde(default)]
    weak: bool,
    #[serde(default)]
    warn: bool,
    note: Option<Spanned<RawNote>>,
    #[serde(default)]
    patterns: Vec<Pattern>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIgnored {
    why: Spanned<String>,
    words: Vec<Spanned<String>>,
}

/// What to do with a term whose topic the knowledge does not have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnknownTopics {
    /// A problem: the vocabulary was written for this knowledge file.
    Reject,
    /// Leave the term out: the built-in vocabulary used with another
    /// knowledge file.
    Skip,
}

/// The words of a phrase as compared for clashes: lowercase, apostrophes
/// dropped, split at anything else that is not a letter or digit.
pub fn phrase_key(phrase: &str) -> String {
    let mut key = String::new();
    let mut word = String::new();
    for c in phrase.chars().chain(std::iter::once(' ')) {
        if c.is_alphanumeric() {
            word.extend(c.to_lowercase());
        } else if matches!(c, '\'' | '\u{2019}' | '\u{2018}' | '`') {
        } else if !word.is_empty() {
            if !key.is_empty() {
                key.push(' ');
            }
            key.push_str(&word);
            word.clear();
        }
    }
    key
}

impl Vocabulary {
    /// Parses and validates vocabulary text against the topics it names
    /// and the advice lines notes may use. `origin` names the file in
    /// problems.
    pub fn from_toml(
        text: &str,
        origin: &str,
        topics: &[Topic],
        advice: &[Advice],
        unknown: UnknownTopics,
    ) -> Result<Vocabulary, KnowledgeError> {
        let mut c = Checker::new(origin, text);
        let invalid = |problems| KnowledgeError::Invalid {
            origin: origin.to_owned(),
            problems,
        };
        let Some(raw) = c.parse::<RawVocabulary>() else {
            return Err(invalid(c.problems));
        };
        // Every name a topic already has, so a term cannot give it to another.
        let mut owner: HashMap<String, (String, &'static str)> = HashMap::new();
        for t in topics {
            let names = std::iter::once(t.id.as_str().replace('-', " "))
                .chain(std::iter::once(t.title.clone()))
                .chain(t.aliases.iter().cloned());
            for n in names {
                owner
                    .entry(phrase_key(&n))
                    .or_insert((t.id.to_string(), "an alias of"));
            }
        }
        let mut vocabulary = Vocabulary::default();
        for term in &raw.terms {
            let span = term.span();
            let term = term.get_ref();
            let name = term.topic.get_ref().as_str();
            let topic = TopicId::parse(name)
                .ok()
                .filter(|id| topics.iter().any(|t| &t.id == id));
            let Some(topic) = topic else {
                if unknown == UnknownTopics::Reject {
                    c.at(
                        &term.topic.span(),
                        None,
                        format!("term for topic `{name}`, which does not exist"),
                    );
                }
                continue;
            };
            let at = Some(name);
            let mut also = Vec::new();
            for a in &term.also {
                match TopicId::parse(a.get_ref())
                    .ok()
                    .filter(|id| topics.iter().any(|t| &t.id == id))
                {
                    Some(id) if id != topic => also.push(id),
                    Some(_) => c.at(&a.span(), at, "`also` repeats the term's own topic"),
                    None if unknown == UnknownTopics::Skip => {}
                    None => c.at(
                        &a.span(),
                        at,
                        format!("`also` names topic `{}`, which does not exist", a.get_ref()),
                    ),
                }
            }
            let why = c.text_field(&term.why, at, "why", MAX_TEXT);
            let note = term.note.as_ref().map(|n| {
                let n = n.get_ref();
                let about = c.text_field(&n.about, at, "note `about`", 120);
                let mut lines = Vec::new();
                for id in &n.advice {
                    match advice.iter().find(|a| a.id.as_str() == id.get_ref()) {
                        Some(a) => lines.push(Sentence {
                            text: a.text.clone(),
                            backing: Backing::Advice(a.id.clone()),
                        }),
                        None => c.at(
                            &id.span(),
                            at,
                            format!(
                                "note: advice `{}` is not one of the knowledge file's [[advice]] lines",
                                id.get_ref()
                            ),
                        ),
                    }
                }
                Note {
                    about,
                    advice: lines,
                }
            });
            if term.warn
                && topics
                    .iter()
                    .find(|t| t.id == topic)
                    .is_some_and(|t| t.safety.is_none())
            {
                c.at(
                    &span,
                    at,
                    format!(
                        "`warn` needs a safety note to lead with, and topic `{topic}` has none"
                    ),
                );
            }
            if term.words.is_empty() && term.caps.is_empty() && term.patterns.is_empty() {
                c.at(&span, at, "term has no words, caps or patterns");
            }
            let mut words = Vec::new();
            for w in &term.words {
                let key = phrase_key(w.get_ref());
                if w.get_ref().chars().count() > MAX_ALIAS || key.is_empty() {
                    c.at(
                        &w.span(),
                        at,
                        format!(
                            "word `{}` must have a letter or digit and at most {MAX_ALIAS} characters",
                            w.get_ref()
                        ),
                    );
                    continue;
                }
                claim(&mut c, &mut owner, key, name, &w.span());
                words.push(w.get_ref().trim().to_owned());
            }
            let mut caps = Vec::new();
            for w in &term.caps {
                let v = w.get_ref().trim();
                let ok = !v.is_empty()
                    && v.len() <= MAX_CAPS
                    && v.chars().any(|ch| ch.is_ascii_uppercase())
                    && v.chars()
                        .all(|ch| ch.is_ascii_uppercase() || ch.is_ascii_digit());
                if !ok {
                    c.at(
                        &w.span(),
                        at,
                        format!("caps `{v}` must be 1 to {MAX_CAPS} capital letters or digits"),
                    );
                    continue;
                }
                // Capitals are their own namespace: "MS" does not clash with "ms".
                claim(&mut c, &mut owner, format!("CAPS {v}"), name, &w.span());
                caps.push(v.to_owned());
            }
            vocabulary.terms.push(Term {
                topic,
                also,
                words,
                caps,
                weak: term.weak,
                warn: term.warn,
                note,
                patterns: term.patterns.clone(),
                why,
            });
        }
        for (list, into) in [
            (&raw.ignore, &mut vocabulary.ignored),
            (&raw.off_topic, &mut vocabulary.off_topic),
            (&raw.elsewhere, &mut vocabulary.elsewhere),
        ] {
            for ig in list {
                let ig = ig.get_ref();
                let why = c.text_field(&ig.why, None, "why", MAX_TEXT);
                let mut words = Vec::new();
                for w in &ig.words {
                    let key = phrase_key(w.get_ref());
                    if key.is_empty() {
                        c.at(&w.span(), None, "ignored word has no letter or digit");
                        continue;
                    }
                    claim(&mut c, &mut owner, key, "", &w.span());
                    words.push(w.get_ref().trim().to_owned());
                }
                into.push(Ignored { words, why });
            }
        }
        if c.problems.is_empty() {
            Ok(vocabulary)
        } else {
            Err(invalid(c.problems))
        }
    }
}

/// Records that `key` names `topic` ("" for an ignored word), or reports
/// the clash when something else already has it.
fn claim(
    c: &mut Checker<'_>,
    owner: &mut HashMap<String, (String, &'static str)>,
    key: String,
    topic: &str,
    span: &std::ops::Range<usize>,
) {
    let at = (!topic.is_empty()).then_some(topic);
    match owner.get(&key) {
        Some((other, what)) => {
            let other = if other.is_empty() {
                "ignored".to_owned()
            } else {
                format!("{what} topic `{other}`")
            };
            c.at(span, at, format!("`{key}` is already {other}"));
        }
        None => {
            owner.insert(key, (topic.to_owned(), "a term of"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phrase_keys_ignore_case_apostrophes_and_punctuation() {
        assert_eq!(phrase_key("Can't  Sleep!"), "cant sleep");
        assert_eq!(phrase_key("self-harm"), "self harm");
        assert_eq!(phrase_key("..."), "");
    }
}
