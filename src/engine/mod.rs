//! The answer engine: turns a request into a [`Reply`]. No Discord here, so
//! the command line and the bot give the same answers.
//!
//! - [`request`]: parsing a typed line;
//! - `resolve`: deciding what to answer (crisis, topics, safety first);
//! - `compose`: writing the reply from the knowledge;
//! - `popularity`: how often each topic was asked, for suggestions.

mod compose;
mod popularity;
mod request;
mod resolve;

use std::sync::atomic::{AtomicUsize, Ordering};

use crate::knowledge::{Knowledge, KnowledgeError, TopicId};
use crate::matching::{normalize, Matcher};
use crate::reply::{Command, Intent, Reply};
use crate::understanding::{Reader, TopicIndex};

use compose::Composer;
use popularity::Popularity;
use resolve::Resolver;

pub use request::Request;

const NOTE_SAFETY_ONLY: &str = " (safety note only)";
const NOTE_NO_SAFETY: &str = " (no safety note)";
/// The longest note an autocomplete choice adds to a topic title.
pub const CHOICE_NOTE_MAX: usize = NOTE_NO_SAFETY.len();

/// An autocomplete choice: shown name and submitted value (a topic id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub name: String,
    pub value: TopicId,
}

/// The knowledge base with its indexes, shared by every front end.
/// A question to ask next: `/benefits` or `/safe` for a topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowUp {
    pub intent: Intent,
    pub topic: TopicId,
    pub title: String,
}

impl FollowUp {
    /// The command that asks it, as typed: `/safe pregnancy`.
    pub fn command(&self) -> String {
        format!("/{} {}", self.intent.command().as_str(), self.topic)
    }

    /// How a button or a list names it: `/safe pregnancy and childbirth`.
    pub fn label(&self) -> String {
        format!(
            "/{} {}",
            self.intent.command().as_str(),
            self.title.to_lowercase()
        )
    }
}

#[derive(Debug)]
pub struct Engine {
    knowledge: Knowledge,
    reader: Reader,
    matcher: Matcher,
    popularity: Popularity,
    next_tip: AtomicUsize,
    fingerprint: u32,
}

impl Engine {
    pub fn new(knowledge: Knowledge) -> Self {
        // `/tip` starts at today's tip, as `massage-bot tip` prints, and
        // moves on with each request.
        let today =
            crate::tips::tip_for_date(chrono::Utc::now().date_naive(), knowledge.tips.len())
                .unwrap_or(0);
        Engine {
            reader: Reader::new(&knowledge),
            matcher: Matcher::new(&knowledge),
            popularity: Popularity::new(knowledge.topics.len()),
            next_tip: AtomicUsize::new(today),
            fingerprint: knowledge.fingerprint(),
            knowledge,
        }
    }

    /// Loads the knowledge (embedded, or the file at `path` with the
    /// vocabulary and crisis files beside it), builds the indexes, and
    /// checks what only the built engine can: that the matcher can tell
    /// every name apart and that every reply fits Discord's limits. Every
    /// front end starts here, so all refuse a bad file alike.
    pub fn load(path: Option<&std::path::Path>) -> Result<Engine, KnowledgeError> {
        let knowledge = Knowledge::load_or_embedded(path)?;
        let origin = path.map_or_else(
            || "knowledge.toml (embedded)".to_owned(),
            |p| p.display().to_string(),
        );
        let engine = Engine::new(knowledge);
        let problems = crate::validate::problems(&engine, &origin);
        if problems.is_empty() {
            Ok(engine)
        } else {
            Err(KnowledgeError::Invalid { origin, problems })
        }
    }

    pub fn knowledge(&self) -> &Knowledge {
        &self.knowledge
    }

    /// See [`Knowledge::fingerprint`].
    pub fn fingerprint(&self) -> u32 {
        self.fingerprint
    }

    fn composer(&self) -> Composer<'_> {
        Composer {
            knowledge: &self.knowledge,
        }
    }

    fn resolver(&self) -> Resolver<'_> {
        Resolver {
            knowledge: &self.knowledge,
            reader: &self.reader,
            matcher: &self.matcher,
            popularity: &self.popularity,
        }
    }

    pub fn answer(&self, request: &Request) -> Reply {
        match request {
            Request::Benefits(q) => self.topic_query(Command::Benefits, q, Some(Intent::Benefits)),
            Request::Safe(q) => self.topic_query(Command::Safe, q, Some(Intent::Safe)),
            Request::Ask(q) => self.topic_query(Command::Ask, q, None),
            Request::Tip => {
                let n = self.knowledge.tips.len().max(1);
                self.tip(self.next_tip.fetch_add(1, Ordering::Relaxed) % n)
            }
            Request::Topics => self.composer().topics(),
            Request::About => self.composer().about(),
            Request::Help => self.composer().help(crate::reply::Kind::About),
            Request::Unknown { name, rest } => {
                // "/i want to die" is not a command, but it is a crisis.
                let line = format!("{name} {rest}");
                if let Some(kind) = self.reader.read(&line).crisis {
                    let mut r = self.composer().crisis(Command::Unknown, kind, None);
                    r.query = normalize::words(&line).join(" ");
                    return r;
                }
                let mut r = self.composer().help(crate::reply::Kind::Error);
                let name: String = name
                    .chars()
                    .filter(|c| c.is_alphanumeric() || *c == '-')
                    .collect();
                r.title = format!("Unknown command /{name}");
                r
            }
        }
    }

    fn topic_query(&self, command: Command, query: &str, intent: Option<Intent>) -> Reply {
        // Only cleaned words are ever echoed: no mention, link or markup.
        let echo = normalize::words(query).join(" ");
        let resolution = self.resolver().resolve(command, query, intent);
        let mut reply = self.composer().resolution(command, &echo, &resolution);
        reply.query = echo;
        reply
    }

    /// Tip number `index` (modulo the number of tips).
    pub fn tip(&self, index: usize) -> Reply {
        self.composer().tip(index)
    }

    /// The daily tip post for a date.
    pub fn daily_tip(&self, index: usize, date: chrono::NaiveDate) -> Reply {
        let mut r = self.tip(index);
        r.title = format!("Relaxation tip · {}", date.format("%A %-d %B %Y"));
        r
    }

    /// The crisis reply on its own, as a message naming no topic gets it.
    pub fn crisis_reply(&self, kind: crate::knowledge::CrisisKind) -> Reply {
        self.composer().crisis(Command::Ask, kind, None)
    }

    /// What to ask next after `reply`, in order: the other side of its
    /// topic (benefits or safety, when the topic has it) and its See-also
    /// topics; after "did you mean" or "not covered", its suggestions.
    /// Discord shows them as buttons, the console numbers them.
    pub fn follow_ups(&self, reply: &Reply) -> Vec<FollowUp> {
        let k = &self.knowledge;
        let intent_of = |c: Command| match c {
            Command::Benefits => Some(Intent::Benefits),
            Command::Safe => Some(Intent::Safe),
            _ => None,
        };
        let mut out: Vec<FollowUp> = Vec::new();
        let mut push = |f: FollowUp| {
            if !out
                .iter()
                .any(|o| o.intent == f.intent && o.topic == f.topic)
            {
                out.push(f);
            }
        };
        use crate::reply::Kind;
        let more =
            match reply.kind {
                Kind::Answer | Kind::NoSection => {
                    let other = reply.topic.as_ref().zip(intent_of(reply.command)).and_then(
                        |(id, asked)| {
                            let other = match asked {
                                Intent::Benefits => Intent::Safe,
                                Intent::Safe => Intent::Benefits,
                            };
                            let topic = k.topic(id)?;
                            topic.section(other == Intent::Safe)?;
                            Some(FollowUp {
                                intent: other,
                                topic: topic.id.clone(),
                                title: topic.title.clone(),
                            })
                        },
                    );
                    other.into_iter().for_each(&mut push);
                    &reply.related
                }
                Kind::DidYouMean | Kind::NotCovered => &reply.suggestions,
                _ => return out,
            };
        for t in more {
            if let Some(intent) = intent_of(t.command) {
                push(FollowUp {
                    intent,
                    topic: t.id.clone(),
                    title: t.title.clone(),
                });
            }
        }
        out
    }

    /// Every sentence the knowledge shown in a reply says, with the quotes
    /// (or the note that it is the bot's own advice) behind it.
    pub fn said(&self, shown: &[crate::reply::Shown]) -> Vec<crate::reply::Said> {
        self.composer().said(shown)
    }

    /// One section of one topic in full, as `/benefits` or `/safe` shows it.
    pub fn section(&self, topic: TopicIndex, side: Intent) -> Reply {
        self.composer().section(side.command(), topic, side)
    }

    /// Autocomplete for `/benefits` and `/safe`: at most `limit` topics,
    /// ranked by the matcher; empty input gives the most asked.
    pub fn autocomplete(&self, partial: &str, intent: Intent, limit: usize) -> Vec<Choice> {
        let topics = &self.knowledge.topics;
        let mut order: Vec<TopicIndex> = if normalize::words(partial).is_empty() {
            self.popularity.top(topics.len())
        } else {
            self.matcher
                .rank(partial)
                .into_iter()
                .map(|s| s.topic)
                .collect()
        };
        if order.is_empty() {
            order = self.matcher.rank_prefix(partial);
        }
        order
            .into_iter()
            .take(limit)
            .map(|t| {
                let topic = &topics[t];
                let has = match intent {
                    Intent::Benefits => topic.benefits.is_some(),
                    Intent::Safe => topic.safety.is_some(),
                };
                let mut name = topic.title.clone();
                if !has {
                    name.push_str(match intent {
                        Intent::Benefits => NOTE_SAFETY_ONLY,
                        Intent::Safe => NOTE_NO_SAFETY,
                    });
                }
                Choice {
                    name: name
                        .chars()
                        .take(crate::render::limits::CHOICE_NAME)
                        .collect(),
                    value: topic.id.clone(),
                }
            })
            .collect()
    }

    /// Answers a submitted `/benefits` or `/safe` value. Discord lets users
    /// submit any text: a topic id (from autocomplete) is answered
    /// directly, anything else is read like a typed question.
    pub fn answer_topic(&self, intent: Intent, value: &str) -> Reply {
        let known = TopicId::parse(value.trim())
            .ok()
            .and_then(|id| self.knowledge.topics.iter().position(|t| t.id == id));
        match known {
            Some(t) => {
                self.popularity.bump(t);
                let topic = &self.knowledge.topics[t];
                let answer = resolve::TopicAnswer::single(topic, t, intent);
                let mut r = self.composer().answer(intent.command(), &answer);
                r.query = topic.id.to_string();
                r
            }
            None => self.answer(&match intent {
                Intent::Benefits => Request::Benefits(value.to_owned()),
                Intent::Safe => Request::Safe(value.to_owned()),
            }),
        }
    }
}
