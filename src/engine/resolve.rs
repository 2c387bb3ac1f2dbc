//! Deciding what to answer: from what a message says (a [`Reading`]) to a
//! [`Resolution`]. Pure: no text is written here.
//!
//! The order is the product's promise: a crisis first; then a message in
//! another language or small talk; then every topic the message names,
//! with the safety warnings first; and only when it names none, the fuzzy
//! matcher's "did you mean" or an honest "not covered".

use std::cmp::Reverse;

use crate::knowledge::{CrisisKind, Knowledge, SafetyLevel, Topic};
use crate::matching::{self, Matcher, Outcome};
use crate::reply::{Command, Intent};
use crate::understanding::{Chat, Mention, Reader, Reading, TermIndex, TopicIndex};

use super::popularity::Popularity;

/// Words in a message long enough to be a sentence about something else,
/// not a topic looked up by name ("cancer", "heart condition").
const SENTENCE: usize = 5;

/// The fuzzy matcher may answer (not only suggest) a message of at most
/// this many words that could name something.
const FALLBACK_ANSWER_WORDS: usize = 2;
/// The fuzzy matcher is asked at all only about a message this short.
const FALLBACK_WORDS: usize = 4;

/// At most this many topic sections in one reply; the rest are linked.
pub(crate) const MAX_PARTS: usize = 3;

/// What to answer.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Resolution {
    /// Crisis help first; for a medical emergency, the topics named too.
    Crisis {
        kind: CrisisKind,
        answer: Option<TopicAnswer>,
    },
    /// Not in English.
    Foreign,
    Chat(Chat),
    /// Nothing was typed.
    Empty,
    /// About massage in general: "is massage safe?", "what is it good for?".
    General(Intent),
    Answer(TopicAnswer),
    DidYouMean {
        intent: Option<Intent>,
        topics: Vec<TopicIndex>,
    },
    NotCovered {
        intent: Option<Intent>,
        suggestions: Vec<TopicIndex>,
    },
}

/// One topic section to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PartPlan {
    pub topic: TopicIndex,
    /// Which section: benefits, or safety.
    pub side: Intent,
    /// A vocabulary note said instead of the section's summary.
    pub note: Option<TermIndex>,
}

/// Every topic a question names, safety first.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TopicAnswer {
    /// What the question asks.
    pub intent: Intent,
    /// The topic the question is about.
    pub primary: TopicIndex,
    /// Sections in the order shown; the first leads.
    pub parts: Vec<PartPlan>,
    /// Topics named but not shown, linked instead.
    pub rest: Vec<TopicIndex>,
}

impl TopicAnswer {
    /// One topic: the section asked for, after the warning when the topic
    /// is one to avoid or be cautious with.
    pub(crate) fn single(topic: &Topic, t: TopicIndex, intent: Intent) -> TopicAnswer {
        let part = |side| PartPlan {
            topic: t,
            side,
            note: None,
        };
        let mut parts = Vec::new();
        // A topic with only a warning answers "benefits" with that warning
        // in full, saying it has no benefits to tell (see `Composer`).
        if risky(topic) && intent == Intent::Benefits && topic.benefits.is_some() {
            parts.push(part(Intent::Safe));
        }
        parts.push(part(intent));
        TopicAnswer {
            intent,
            primary: t,
            parts,
            rest: Vec::new(),
        }
    }
}

/// How strongly the sources warn about a topic: 0 when they do not.
fn severity(topic: &Topic) -> u8 {
    match topic.safety.as_ref().map(|s| s.level) {
        Some(SafetyLevel::Avoid) => 3,
        Some(SafetyLevel::Caution) => 2,
        Some(SafetyLevel::AskFirst) => 1,
        None => 0,
    }
}

/// Avoid or caution: a warning that goes with every answer naming it.
fn risky(topic: &Topic) -> bool {
    severity(topic) >= 2
}

fn has_side(topic: &Topic, side: Intent) -> bool {
    match side {
        Intent::Benefits => topic.benefits.is_some(),
        Intent::Safe => topic.safety.is_some(),
    }
}

/// When a question doesn't say, a topic the sources mainly warn about is
/// answered with its safety note.
fn default_intent(topic: &Topic) -> Intent {
    if risky(topic) || topic.benefits.is_none() {
        Intent::Safe
    } else {
        Intent::Benefits
    }
}

pub(crate) struct Resolver<'e> {
    pub knowledge: &'e Knowledge,
    pub reader: &'e Reader,
    pub matcher: &'e Matcher,
    pub popularity: &'e Popularity,
}

impl Resolver<'_> {
    /// `forced` is the intent of `/benefits` and `/safe`; `/ask` has none.
    pub(crate) fn resolve(
        &self,
        command: Command,
        text: &str,
        forced: Option<Intent>,
    ) -> Resolution {
        let mut reading = self.reader.read(text);
        // `/benefits neck` names a topic in a word or two; a question needs
        // more than one vague word.
        reading.keep_weak(if command == Command::Ask { 1 } else { 2 });
        // The general topic by a plain word ("doctor", "my condition") adds
        // nothing when the message names a topic of its own; a condition
        // the sources don't name ("diabetes") still does.
        if let Some(general) = self.general_index() {
            let terms = &self.knowledge.vocabulary.terms;
            if reading.mentions.iter().any(|m| m.topic != general) {
                reading.mentions.retain(|m| {
                    m.topic != general
                        || m.term
                            .is_some_and(|k| terms[k].note.is_some() || terms[k].warn)
                });
            }
        }
        if let Some(kind) = reading.crisis {
            // After emergency help, the warning of the condition it may be.
            if kind == CrisisKind::Medical {
                let rule = reading
                    .crisis_rule
                    .and_then(|i| self.knowledge.crisis.rules.get(i));
                let topic = rule
                    .and_then(|r| r.topic.as_ref())
                    .and_then(|id| self.knowledge.topics.iter().position(|t| &t.id == id));
                if let Some(t) = topic {
                    if !reading.mentions.iter().any(|m| m.topic == t) {
                        reading.mentions.insert(
                            0,
                            Mention {
                                topic: t,
                                at: 0,
                                sim: 1.0,
                                term: None,
                                weak: false,
                                object: false,
                                in_question: false,
                            },
                        );
                    }
                }
            }
            let answer = (kind == CrisisKind::Medical && !reading.mentions.is_empty())
                .then(|| self.plan(&reading, Some(Intent::Safe)));
            return Resolution::Crisis { kind, answer };
        }
        if reading.foreign {
            return Resolution::Foreign;
        }
        // About something else (homework, a film): a topic named in
        // passing is not a question about it. A condition to warn about
        // is set aside only in a sentence that asks nothing about massage
        // and names nobody it could apply to ("why is it called the tropic
        // of cancer"); "cancer" alone, "my mum has cancer" or any command
        // keeps its warning.
        let warns = reading.mentions.iter().any(|m| self.warns(m));
        let asks = forced.is_some()
            || reading.names_massage
            || reading.lean.is_safety()
            || reading.lean.is_benefit();
        let about_nobody =
            command == Command::Ask && !asks && !reading.personal && reading.tokens >= SENTENCE;
        let conditions_only = !reading.mentions.is_empty()
            && reading
                .mentions
                .iter()
                .all(|m| self.knowledge.topics[m.topic].safety.is_some());
        let set_aside = if warns { about_nobody } else { !asks };
        if reading.about_an_animal
            || (reading.off_topic && (!warns || about_nobody))
            || (reading.elsewhere && set_aside)
            || (conditions_only && about_nobody)
        {
            return Resolution::NotCovered {
                intent: forced,
                suggestions: Vec::new(),
            };
        }
        if !reading.mentions.is_empty() {
            // "Can massage cure diabetes?": no source claims a cure, and the
            // sources do not discuss what was named.
            let unknown_to_sources = reading.mentions.iter().all(|m| {
                m.term
                    .is_some_and(|k| self.knowledge.vocabulary.terms[k].note.is_some())
            });
            if reading.lean.cure && unknown_to_sources && forced != Some(Intent::Safe) {
                return Resolution::NotCovered {
                    intent: Some(Intent::Benefits),
                    suggestions: self.general_index().into_iter().collect(),
                };
            }
            let answer = self.plan(&reading, forced);
            return Resolution::Answer(answer);
        }
        if reading.tokens == 0 {
            return Resolution::Empty;
        }
        if let Some(chat) = reading.chat {
            return Resolution::Chat(chat);
        }
        let lean = reading.lean;
        let intent = forced.or(if lean.is_safety() {
            Some(Intent::Safe)
        } else if lean.is_benefit() {
            Some(Intent::Benefits)
        } else {
            None
        });
        if reading.content_words == 0 && !reading.about_a_thing {
            // "is massage safe?", "/safe massage", "what are the benefits?"
            let general =
                if lean.is_safety() || (forced == Some(Intent::Safe) && reading.names_massage) {
                    Some(Intent::Safe)
                } else if lean.is_benefit() && command == Command::Ask && reading.names_massage {
                    Some(Intent::Benefits)
                } else {
                    None
                };
            if let Some(i) = general {
                return Resolution::General(i);
            }
        }
        self.fallback(command, &reading.rest, intent, &reading)
    }

    /// The topics named, safety first: every avoid or caution topic's
    /// warning leads, then the topic asked about, then the rest.
    fn plan(&self, reading: &Reading, forced: Option<Intent>) -> TopicAnswer {
        let topics = &self.knowledge.topics;
        let mentions = &reading.mentions;
        let topic = |t: TopicIndex| &topics[t];
        let lean = reading.lean;
        let context = |t: TopicIndex| self.knowledge.context.contains(&topic(t).id);
        let intent = forced.unwrap_or_else(|| {
            if lean.is_safety() {
                Intent::Safe
            } else if lean.is_benefit() {
                Intent::Benefits
            } else if mentions.iter().any(|m| {
                let t = topic(m.topic);
                self.warns(m) || context(m.topic) || (lean.safety > 0 && severity(t) > 0)
            }) {
                Intent::Safe
            } else {
                default_intent(topic(mentions[0].topic))
            }
        });
        // "Will a massage help me get over this flu?": when nothing named
        // has a benefits section, the sources' answer is their warning.
        let intent = if forced.is_none()
            && intent == Intent::Benefits
            && mentions.iter().all(|m| topic(m.topic).benefits.is_none())
        {
            Intent::Safe
        } else {
            intent
        };
        let primary = match intent {
            // The most serious warning, the first named among equals.
            Intent::Safe => mentions
                .iter()
                .enumerate()
                .max_by_key(|(i, m)| (severity(topic(m.topic)), Reverse(m.at), Reverse(*i)))
                .map(|(_, m)| m.topic),
            // What the question hopes massage helps with: a topic with
            // benefits, named after "help" or "for" if one is, and not
            // itself a warning if there is another.
            Intent::Benefits => {
                let helps = |m: &&Mention| topic(m.topic).benefits.is_some();
                let benign = |m: &&Mention| !self.warns(m) && !context(m.topic);
                mentions
                    .iter()
                    .filter(helps)
                    .find(|m| m.object && benign(m))
                    .or_else(|| {
                        mentions
                            .iter()
                            .filter(helps)
                            .find(|m| m.in_question && benign(m))
                    })
                    .or_else(|| mentions.iter().filter(helps).find(benign))
                    .or_else(|| mentions.iter().filter(helps).find(|m| m.object))
                    .or_else(|| mentions.iter().find(helps))
                    .map(|m| m.topic)
            }
        }
        .unwrap_or(mentions[0].topic);
        let note = |t: TopicIndex| {
            mentions
                .iter()
                .find(|m| m.topic == t)
                .and_then(|m| m.term)
                .filter(|&k| self.knowledge.vocabulary.terms[k].note.is_some())
        };
        let part = |t: TopicIndex, side: Intent| PartPlan {
            topic: t,
            side,
            note: note(t),
        };
        let several = mentions.len() > 1;
        let mut warnings: Vec<_> = mentions
            .iter()
            .filter(|m| {
                let t = topic(m.topic);
                severity(t) > 0 && (self.warns(m) || intent == Intent::Safe || several)
            })
            .collect();
        warnings.sort_by_key(|m| (Reverse(severity(topic(m.topic))), m.at));
        let mut parts: Vec<PartPlan> = warnings
            .iter()
            .map(|m| part(m.topic, Intent::Safe))
            .collect();
        let asked = part(primary, intent);
        if intent == Intent::Benefits && !has_side(topic(primary), intent) {
            // Benefits of a topic with only a warning: that warning, in
            // full, under "I have no benefits ... to tell you about".
            for p in parts.iter_mut().filter(|p| p.topic == primary) {
                p.side = Intent::Benefits;
            }
        }
        if !parts.contains(&asked) && (parts.is_empty() || has_side(topic(primary), intent)) {
            // Alone, a missing section is still the answer: "the sources
            // make no safety statement about ...".
            parts.push(asked);
        }
        for m in mentions {
            if !parts.iter().any(|p| p.topic == m.topic) {
                let side = if topic(m.topic).benefits.is_some() {
                    Intent::Benefits
                } else {
                    Intent::Safe
                };
                parts.push(part(m.topic, side));
            }
        }
        // A note says the sources say nothing specific about what was
        // named: the topic's other side would only say it again.
        let mut noted = Vec::new();
        parts.retain(|p| {
            let again = noted.contains(&p.topic);
            if p.note.is_some() {
                noted.push(p.topic);
            }
            !again
        });
        let rest = parts
            .split_off(MAX_PARTS.min(parts.len()))
            .into_iter()
            .map(|p| p.topic)
            .filter(|t| !parts.iter().any(|p| p.topic == *t))
            .collect();
        for p in &parts {
            self.popularity.bump(p.topic);
        }
        TopicAnswer {
            intent,
            primary,
            parts,
            rest,
        }
    }

    /// No topic named: the fuzzy matcher over topic names decides between
    /// a confident answer (a partly typed or misspelt short query),
    /// "did you mean" and "not covered".
    fn fallback(
        &self,
        command: Command,
        text: &str,
        intent: Option<Intent>,
        reading: &Reading,
    ) -> Resolution {
        let not_covered = |ranked: &[matching::Scored]| {
            // The closest topics even when none is close enough to offer as
            // "did you mean"; otherwise the ones asked about most.
            let mut suggestions: Vec<TopicIndex> = ranked
                .iter()
                .filter(|s| s.score >= 0.3)
                .take(3)
                .map(|s| s.topic)
                .collect();
            if suggestions.is_empty() {
                suggestions = self.popularity.top(3);
            }
            // For a safety question, the sources' general advice always applies.
            if intent == Some(Intent::Safe) {
                if let Some(general) = self.general_index() {
                    suggestions.retain(|&t| t != general);
                    suggestions.insert(0, general);
                    suggestions.truncate(3);
                }
            }
            Resolution::NotCovered {
                intent,
                suggestions,
            }
        };
        // A longer message that names no topic is out of scope: a guess
        // from its words would be noise (and cost time).
        if reading.content_words == 0 || reading.content_words > FALLBACK_WORDS {
            return not_covered(&[]);
        }
        let analysis = self.matcher.analyse(text);
        if analysis.content_words == 0 {
            return not_covered(&analysis.ranked);
        }
        let topics = &self.knowledge.topics;
        let mut outcome = analysis.classify(|t| match intent {
            Some(side) => has_side(&topics[t], side),
            None => true,
        });
        // An answer about something near what was asked is worse than none
        // ("covid vaccine" is not "covid"): when the head word matches
        // nothing, only suggest. A question's last word is often not its
        // subject, so there the check is kept for safety questions.
        let head_matters = command != Command::Ask || intent == Some(Intent::Safe);
        // In a longer message a near match is a guess: suggest it only.
        let short = reading.content_words <= FALLBACK_ANSWER_WORDS;
        if let Outcome::Answer { topic, .. } = outcome {
            if (head_matters && !analysis.head_explained) || !short {
                outcome = Outcome::DidYouMean(vec![topic]);
            }
        }
        match outcome {
            Outcome::Answer { topic, .. } => {
                let intent = intent.unwrap_or_else(|| default_intent(&topics[topic]));
                self.popularity.bump(topic);
                Resolution::Answer(TopicAnswer::single(&topics[topic], topic, intent))
            }
            Outcome::DidYouMean(topics) => Resolution::DidYouMean { intent, topics },
            Outcome::NotCovered => not_covered(&analysis.ranked),
        }
    }

    /// Whether a mention brings its warning whatever is asked: its topic
    /// is one to avoid or be cautious with, or the words name a situation
    /// its safety note is about ("torn muscle", "stitches").
    fn warns(&self, m: &Mention) -> bool {
        risky(&self.knowledge.topics[m.topic])
            || m.term
                .is_some_and(|k| self.knowledge.vocabulary.terms[k].warn)
    }

    fn general_index(&self) -> Option<TopicIndex> {
        let id = self.knowledge.general.as_ref()?;
        self.knowledge.topics.iter().position(|t| &t.id == id)
    }
}
