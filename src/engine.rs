//! The answer engine: turns a request into a [`Reply`]. No Discord here, so
//! the command line and the bot give the same answers.

use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

use crate::knowledge::{Knowledge, SafetyLevel, Topic, TopicId};
use crate::matching::{self, normalize, Matcher, Outcome, TopicIndex};
use crate::reply::{Command, Intent, Kind, Reply, SafetyNote, Section, SourceRef, TopicRef};

/// A parsed request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    Benefits(String),
    Safe(String),
    /// A question in plain words: intent and topic are worked out.
    Ask(String),
    Tip,
    Topics,
    About,
    Help,
    /// `/something` the bot does not know.
    Unknown(String),
}

impl Request {
    /// Parses a line as typed in the console or passed to `ask`:
    /// `/benefits sleep`, `/safe pregnancy`, `/tip`; no slash means `ask`.
    pub fn parse(line: &str) -> Request {
        let line = line.trim();
        let Some(rest) = line.strip_prefix('/') else {
            return Request::Ask(line.to_owned());
        };
        let (name, arg) = match rest.split_once(char::is_whitespace) {
            Some((name, arg)) => (name, arg.trim()),
            None => (rest, ""),
        };
        // Accept Discord's option syntax too: `/benefits topic:sleep`.
        let arg = arg
            .strip_prefix("topic:")
            .or_else(|| arg.strip_prefix("question:"))
            .unwrap_or(arg)
            .trim()
            .to_owned();
        match name.to_lowercase().as_str() {
            "benefits" | "benefit" => Request::Benefits(arg),
            "safe" | "safety" => Request::Safe(arg),
            "ask" => Request::Ask(arg),
            "tip" => Request::Tip,
            "topics" => Request::Topics,
            "about" => Request::About,
            "help" => Request::Help,
            _ => Request::Unknown(name.chars().take(32).collect()),
        }
    }

    pub fn command(&self) -> Command {
        match self {
            Request::Benefits(_) => Command::Benefits,
            Request::Safe(_) => Command::Safe,
            Request::Ask(_) => Command::Ask,
            Request::Tip => Command::Tip,
            Request::Topics => Command::Topics,
            Request::About => Command::About,
            Request::Help => Command::Help,
            Request::Unknown(_) => Command::Unknown,
        }
    }
}

const NOTE_SAFETY_ONLY: &str = " (safety note only)";
const NOTE_NO_SAFETY: &str = " (no safety note in sources)";
const CHOICE_NOTE_MAX: usize = NOTE_NO_SAFETY.len();

/// An autocomplete choice: shown name and submitted value (a topic id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub name: String,
    pub value: TopicId,
}

/// The knowledge base with its search index, shared by every front end.
#[derive(Debug)]
pub struct Engine {
    knowledge: Knowledge,
    matcher: Matcher,
    /// How often each topic was answered, for autocomplete's empty input.
    asked: Vec<AtomicU32>,
    next_tip: AtomicUsize,
}

impl Engine {
    pub fn new(knowledge: Knowledge) -> Self {
        let matcher = Matcher::new(&knowledge);
        let asked = knowledge.topics.iter().map(|_| AtomicU32::new(0)).collect();
        Engine {
            knowledge,
            matcher,
            asked,
            next_tip: AtomicUsize::new(0),
        }
    }

    pub fn knowledge(&self) -> &Knowledge {
        &self.knowledge
    }

    pub fn matcher(&self) -> &Matcher {
        &self.matcher
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
            Request::Topics => self.topics(),
            Request::About => self.about(),
            Request::Help => self.help(Kind::About),
            Request::Unknown(name) => {
                let mut r = self.help(Kind::Error);
                let name: String = name
                    .chars()
                    .filter(|c| c.is_alphanumeric() || *c == '-')
                    .collect();
                r.title = format!("Unknown command /{name}");
                r
            }
        }
    }

    fn caveat(&self) -> &crate::knowledge::Caveat {
        &self.knowledge.caveat
    }

    fn topic_ref(&self, topic: &Topic, command: Command) -> TopicRef {
        TopicRef {
            id: topic.id.clone(),
            title: topic.title.clone(),
            command,
        }
    }

    /// The command that suits a topic when the user's intent is unknown.
    fn natural_command(topic: &Topic, intent: Option<Intent>) -> Command {
        match intent {
            Some(i) => i.command(),
            None if topic.benefits.is_some() => Command::Benefits,
            None => Command::Safe,
        }
    }

    fn topic_query(&self, command: Command, query: &str, intent: Option<Intent>) -> Reply {
        let words = normalize::words(query);
        let echo = words.join(" ");
        let intent = intent.or_else(|| match matching::intent_lean(&words) {
            l if l > 0 => Some(Intent::Safe),
            l if l < 0 => Some(Intent::Benefits),
            _ => None,
        });
        let analysis = self.matcher.analyse(query);
        let mut reply = if echo.is_empty() {
            self.empty_query(command)
        } else if analysis.content_words == 0 {
            // Words, but none that could name a topic ("how often should I
            // get a massage"): honestly not covered.
            self.not_covered(command, &echo, intent, &analysis)
        } else {
            let has_section = |t: TopicIndex| {
                let topic = &self.knowledge.topics[t];
                match intent {
                    Some(Intent::Benefits) => topic.benefits.is_some(),
                    Some(Intent::Safe) => topic.safety.is_some(),
                    None => true,
                }
            };
            let mut outcome = analysis.classify(has_section);
            // An answer about something near what was asked is worse than
            // none ("covid vaccine" is not "covid", a "sleeping bag" is not
            // sleep): when the head word matches nothing, only suggest.
            // A question's last word is often not its subject ("... lately"),
            // so there the check is kept for safety questions.
            let head_matters = command != Command::Ask || intent == Some(Intent::Safe);
            if let Outcome::Answer { topic, .. } = outcome {
                if head_matters && !analysis.head_explained {
                    outcome = Outcome::DidYouMean(vec![topic]);
                }
            }
            match outcome {
                Outcome::Answer { topic, .. } => {
                    if let Some(count) = self.asked.get(topic) {
                        count.fetch_add(1, Ordering::Relaxed);
                    }
                    let topic = &self.knowledge.topics[topic];
                    let intent = intent.unwrap_or_else(|| default_intent(topic));
                    let mut r = match intent {
                        Intent::Benefits => self.benefits(command, topic),
                        Intent::Safe => self.safety(command, topic),
                    };
                    r.intent = Some(intent);
                    r
                }
                Outcome::DidYouMean(topics) => self.did_you_mean(command, &echo, intent, &topics),
                Outcome::NotCovered => self.not_covered(command, &echo, intent, &analysis),
            }
        };
        reply.query = echo;
        if reply.intent.is_none() {
            reply.intent = intent;
        }
        reply
    }

    fn empty_query(&self, command: Command) -> Reply {
        let example = match command {
            Command::Safe => "`/safe pregnancy`",
            Command::Ask => "`/ask is massage ok when pregnant?`",
            _ => "`/benefits sleep`",
        };
        Reply::new(
            command,
            Kind::Error,
            "What would you like to know?",
            format!("Tell me a topic, for example {example}. `/topics` lists everything I know."),
            self.caveat(),
        )
    }

    fn sources(&self, evidence: &[crate::knowledge::Evidence]) -> Vec<SourceRef> {
        let mut refs: Vec<SourceRef> = Vec::new();
        for e in evidence {
            if refs.iter().any(|r| r.id == e.source) {
                continue;
            }
            if let Some(s) = self.knowledge.source(&e.source) {
                refs.push(SourceRef {
                    id: s.id.clone(),
                    title: s.title.clone(),
                });
            }
        }
        refs.sort_by(|a, b| a.id.cmp(&b.id));
        refs
    }

    /// "See also": `first` (the other section of the same topic, the
    /// general advice), then the topic's related topics, each topic once.
    fn see_also(&self, topic: &Topic, first: Vec<TopicRef>) -> Vec<TopicRef> {
        let related = topic
            .related
            .iter()
            .filter_map(|id| self.knowledge.topic(id))
            .map(|t| self.topic_ref(t, Self::natural_command(t, None)));
        let mut out: Vec<TopicRef> = Vec::new();
        for r in first.into_iter().chain(related) {
            if !out.iter().any(|o| o.id == r.id && o.command == r.command) {
                out.push(r);
            }
        }
        out
    }

    fn benefits(&self, command: Command, topic: &Topic) -> Reply {
        let title = format!("{} — benefits", topic.title);
        let Some(b) = &topic.benefits else {
            // Only a safety section: say so, and show the warning.
            let mut r = Reply::new(
                command,
                Kind::NoSection,
                title,
                format!(
                    "The sources describe no benefit of massage for {}. They do carry a safety note, below.",
                    lower_first(&topic.title)
                ),
                self.caveat(),
            );
            r.topic = Some(topic.id.clone());
            let mut first = Vec::new();
            if let Some(s) = &topic.safety {
                r.points.push(s.summary.clone());
                r.safety = Some(SafetyNote::from(s));
                r.sources = self.sources(&s.evidence);
                first.push(self.topic_ref(topic, Command::Safe));
            }
            r.related = self.see_also(topic, first);
            return r;
        };
        let mut r = Reply::new(
            command,
            Kind::Answer,
            title,
            b.summary.clone(),
            self.caveat(),
        );
        r.topic = Some(topic.id.clone());
        r.points = b.points.clone();
        r.sources = self.sources(&b.evidence);
        // A benefit with a safety note always points to it.
        let first = topic
            .safety
            .iter()
            .map(|_| self.topic_ref(topic, Command::Safe))
            .collect();
        r.related = self.see_also(topic, first);
        r
    }

    fn safety(&self, command: Command, topic: &Topic) -> Reply {
        let title = format!("{} — safety", topic.title);
        let Some(s) = &topic.safety else {
            // Never present missing information as "safe".
            let mut r = Reply::new(
                command,
                Kind::NoSection,
                title,
                format!(
                    "The sources make no safety statement about massage and {}. That does not mean it is safe for you: they advise checking with your doctor before any massage.",
                    lower_first(&topic.title)
                ),
                self.caveat(),
            );
            r.topic = Some(topic.id.clone());
            let mut first: Vec<TopicRef> = topic
                .benefits
                .iter()
                .map(|_| self.topic_ref(topic, Command::Benefits))
                .collect();
            if let Some(general) = self.general_safety_topic() {
                if general.id != topic.id {
                    first.push(self.topic_ref(general, Command::Safe));
                    if let Some(gs) = &general.safety {
                        r.sources = self.sources(&gs.evidence);
                    }
                }
            }
            r.related = self.see_also(topic, first);
            return r;
        };
        let mut r = Reply::new(
            command,
            Kind::Answer,
            title,
            s.summary.clone(),
            self.caveat(),
        );
        r.topic = Some(topic.id.clone());
        r.points = s.points.clone();
        r.safety = Some(SafetyNote::from(s));
        r.sources = self.sources(&s.evidence);
        let first = topic
            .benefits
            .iter()
            .map(|_| self.topic_ref(topic, Command::Benefits))
            .collect();
        r.related = self.see_also(topic, first);
        r
    }

    /// The topic holding the sources' general advice ("check with your
    /// doctor first"), pointed to when a topic has no safety section.
    fn general_safety_topic(&self) -> Option<&Topic> {
        TopicId::parse("medical-conditions")
            .ok()
            .and_then(|id| self.knowledge.topic(&id))
            .filter(|t| t.safety.is_some())
    }

    fn did_you_mean(
        &self,
        command: Command,
        echo: &str,
        intent: Option<Intent>,
        topics: &[TopicIndex],
    ) -> Reply {
        let mut r = Reply::new(
            command,
            Kind::DidYouMean,
            "Did you mean…?",
            format!("I'm not sure which topic you mean by \"{echo}\". Pick one below, or see `/topics`."),
            self.caveat(),
        );
        r.suggestions = topics
            .iter()
            .map(|&t| {
                let topic = &self.knowledge.topics[t];
                self.topic_ref(topic, Self::natural_command(topic, intent))
            })
            .collect();
        r
    }

    fn not_covered(
        &self,
        command: Command,
        echo: &str,
        intent: Option<Intent>,
        analysis: &matching::Analysis,
    ) -> Reply {
        let mut summary = format!(
            "My sources don't cover \"{echo}\", and I don't guess about health. `/topics` lists everything I can answer."
        );
        if intent == Some(Intent::Safe) {
            summary.push_str(" That it is not covered does not mean massage is safe for it: please ask your doctor.");
        }
        let mut r = Reply::new(
            command,
            Kind::NotCovered,
            "Not covered",
            summary,
            self.caveat(),
        );
        // Suggest the closest topics even when none is close enough to offer
        // as "did you mean"; otherwise the ones asked about most.
        let mut suggestions: Vec<TopicIndex> = analysis
            .ranked
            .iter()
            .filter(|s| s.score >= 0.3)
            .take(3)
            .map(|s| s.topic)
            .collect();
        if suggestions.is_empty() {
            suggestions = self.popular(3);
        }
        // For a safety question, the sources' general advice always applies.
        if intent == Some(Intent::Safe) {
            if let Some(general) = self.general_safety_topic() {
                if let Some(pos) = self
                    .knowledge
                    .topics
                    .iter()
                    .position(|t| t.id == general.id)
                {
                    suggestions.retain(|&t| t != pos);
                    suggestions.insert(0, pos);
                    suggestions.truncate(3);
                }
            }
        }
        r.suggestions = suggestions
            .into_iter()
            .map(|t| {
                let topic = &self.knowledge.topics[t];
                self.topic_ref(topic, Self::natural_command(topic, intent))
            })
            .collect();
        r
    }

    /// Topics by how often they were answered, then in knowledge order.
    fn popular(&self, n: usize) -> Vec<TopicIndex> {
        // Snapshot first: other threads bump the counters while we sort, and
        // a key that changes mid-sort breaks the sort's total order (panic).
        let counts: Vec<u32> = self
            .asked
            .iter()
            .map(|c| c.load(Ordering::Relaxed))
            .collect();
        let mut order: Vec<TopicIndex> = (0..counts.len()).collect();
        order.sort_by_key(|&t| std::cmp::Reverse(counts[t]));
        order.truncate(n);
        order
    }

    /// Tip number `index` (modulo the number of tips).
    pub fn tip(&self, index: usize) -> Reply {
        let tips = &self.knowledge.tips;
        let Some(tip) = tips.get(index % tips.len().max(1)) else {
            return Reply::new(
                Command::Tip,
                Kind::Error,
                "No tips",
                "The knowledge base has no tips.",
                self.caveat(),
            );
        };
        let mut r = Reply::new(
            Command::Tip,
            Kind::Tip,
            "Relaxation tip",
            tip.text.clone(),
            self.caveat(),
        );
        r.sources = self.sources(&tip.evidence);
        r
    }

    /// The daily tip post for a date.
    pub fn daily_tip(&self, index: usize, date: chrono::NaiveDate) -> Reply {
        let mut r = self.tip(index);
        r.title = format!("Relaxation tip · {}", date.format("%A %-d %B %Y"));
        r
    }

    fn topics(&self) -> Reply {
        let mut r = Reply::new(
            Command::Topics,
            Kind::Topics,
            "What I can answer",
            format!(
                "{} topics from {} source documents. Ask with `/benefits <topic>`, `/safe <topic>` or `/ask <question>`.",
                self.knowledge.topics.len(),
                self.knowledge.sources.len()
            ),
            self.caveat(),
        );
        for group in crate::knowledge::Group::ALL {
            let lines: Vec<String> = self
                .knowledge
                .topics
                .iter()
                .filter(|t| t.group == group)
                .map(|t| {
                    let mut has = Vec::new();
                    if t.benefits.is_some() {
                        has.push("benefits");
                    }
                    if let Some(s) = &t.safety {
                        has.push(match s.level {
                            SafetyLevel::Avoid => "safety ⚠",
                            _ => "safety",
                        });
                    }
                    format!("`{}` {} ({})", t.id, t.title, has.join(", "))
                })
                .collect();
            if !lines.is_empty() {
                r.sections.push(Section {
                    heading: group.label().to_owned(),
                    lines,
                });
            }
        }
        r
    }

    fn about(&self) -> Reply {
        let mut r = self.help(Kind::About);
        r.command = Command::About;
        r
    }

    fn help(&self, kind: Kind) -> Reply {
        let mut r = Reply::new(
            Command::Help,
            kind,
            "About massage-bot",
            format!(
                "I answer questions about the benefits and the safety of massage from a curated knowledge base built from {} web articles, and I cite which ones say so. Where the sources disagree on safety, I follow the more cautious one. I don't guess: what the sources don't cover, I say so. Version {}.",
                self.knowledge.sources.len(),
                env!("CARGO_PKG_VERSION")
            ),
            self.caveat(),
        );
        r.sections.push(Section {
            heading: "Commands".to_owned(),
            lines: vec![
                "`/benefits <topic>` what massage may do for it".to_owned(),
                "`/safe <topic>` when to be careful or avoid massage".to_owned(),
                "`/ask <question>` a question in plain words".to_owned(),
                "`/tip` a relaxation tip · `/topics` everything I know".to_owned(),
            ],
        });
        r.sources = self
            .knowledge
            .sources
            .iter()
            .map(|s| SourceRef {
                id: s.id.clone(),
                title: s.title.clone(),
            })
            .collect();
        r
    }

    /// Autocomplete for `/benefits` and `/safe`: at most `limit` topics,
    /// ranked by the same matcher; empty input gives the most asked.
    pub fn autocomplete(&self, partial: &str, intent: Intent, limit: usize) -> Vec<Choice> {
        let mut order: Vec<TopicIndex> = if normalize::words(partial).is_empty() {
            self.popular(self.knowledge.topics.len())
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
                let topic = &self.knowledge.topics[t];
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

    /// Validates a submitted topic value: Discord lets users submit any text,
    /// so this is the same matching as for typed words.
    pub fn answer_topic(&self, intent: Intent, value: &str) -> Reply {
        match TopicId::parse(value.trim())
            .ok()
            .and_then(|id| self.knowledge.topic(&id))
        {
            Some(topic) => {
                let command = intent.command();
                if let Some(pos) = self.knowledge.topics.iter().position(|t| t.id == topic.id) {
                    self.asked[pos].fetch_add(1, Ordering::Relaxed);
                }
                let mut r = match intent {
                    Intent::Benefits => self.benefits(command, topic),
                    Intent::Safe => self.safety(command, topic),
                };
                r.intent = Some(intent);
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

/// When a question doesn't say, a topic the sources mainly warn about is
/// answered with its safety note.
fn default_intent(topic: &Topic) -> Intent {
    match (&topic.benefits, &topic.safety) {
        (_, Some(s)) if s.level == SafetyLevel::Avoid => Intent::Safe,
        (Some(_), _) => Intent::Benefits,
        (None, _) => Intent::Safe,
    }
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) if !s.chars().nth(1).is_some_and(char::is_uppercase) => {
            f.to_lowercase().chain(c).collect()
        }
        _ => s.to_owned(),
    }
}

impl Engine {
    /// Loads the knowledge (embedded, or the file at `path`), builds the
    /// index, and checks that every reply it can produce fits Discord's
    /// limits. Every front end starts here, so all refuse a bad file alike.
    pub fn load(
        path: Option<&std::path::Path>,
    ) -> Result<Engine, crate::knowledge::KnowledgeError> {
        let knowledge = Knowledge::load_or_embedded(path)?;
        let origin = path.map_or_else(
            || "knowledge.toml (embedded)".to_owned(),
            |p| p.display().to_string(),
        );
        let engine = Engine::new(knowledge);
        let mut problems = engine.alias_problems(&origin);
        problems.extend(engine.rendering_problems(&origin));
        if problems.is_empty() {
            Ok(engine)
        } else {
            Err(crate::knowledge::KnowledgeError::Invalid { origin, problems })
        }
    }

    /// Names that the matcher cannot use, or that it reads the same for two
    /// topics (the checker compares spellings; this compares what the
    /// matcher sees after stopwords and stemming).
    fn alias_problems(&self, origin: &str) -> Vec<crate::knowledge::Problem> {
        let mut problems = Vec::new();
        let mut owner: std::collections::HashMap<String, &TopicId> =
            std::collections::HashMap::new();
        for topic in &self.knowledge.topics {
            for alias in &topic.aliases {
                let words = matching::content_words(alias);
                let problem = |message: String| crate::knowledge::Problem {
                    location: origin.to_owned(),
                    topic: Some(topic.id.to_string()),
                    message,
                };
                if words.is_empty() {
                    problems.push(problem(format!(
                        "alias `{alias}` has only stopwords, so no query can match it"
                    )));
                    continue;
                }
                let mut key: Vec<String> = words.iter().map(|w| normalize::stem(w)).collect();
                key.sort();
                let key = key.join(" ");
                match owner.get(&key) {
                    Some(other) if *other != &topic.id => problems.push(problem(format!(
                        "alias `{alias}` reads as `{key}` to the matcher, as an alias of topic `{other}` does"
                    ))),
                    _ => {
                        owner.insert(key, &topic.id);
                    }
                }
            }
        }
        problems
    }

    /// Every reply the knowledge can produce that would not fit Discord.
    fn rendering_problems(&self, origin: &str) -> Vec<crate::knowledge::Problem> {
        use crate::render::Card;
        let mut problems = Vec::new();
        let mut check = |reply: Reply, topic: Option<&TopicId>, what: &str| {
            for p in Card::limit_problems(&reply) {
                problems.push(crate::knowledge::Problem {
                    location: origin.to_owned(),
                    topic: topic.map(|t| t.to_string()),
                    message: format!("{what} reply: {p}"),
                });
            }
        };
        for topic in &self.knowledge.topics {
            check(
                self.benefits(Command::Benefits, topic),
                Some(&topic.id),
                "/benefits",
            );
            check(self.safety(Command::Safe, topic), Some(&topic.id), "/safe");
        }
        for i in 0..self.knowledge.tips.len() {
            check(self.tip(i), None, &format!("tip #{}", i + 1));
        }
        check(self.topics(), None, "/topics");
        check(self.about(), None, "/about");
        for topic in &self.knowledge.topics {
            // An autocomplete choice is the title plus a short note.
            if topic.title.chars().count() + CHOICE_NOTE_MAX > crate::render::limits::CHOICE_NAME {
                problems.push(crate::knowledge::Problem {
                    location: origin.to_owned(),
                    topic: Some(topic.id.to_string()),
                    message: "title too long for an autocomplete choice name".to_owned(),
                });
            }
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Autocomplete's "most asked" order is read while other threads answer
    /// (and bump the counters); that must never panic.
    #[test]
    fn popular_is_safe_while_counters_change() {
        let engine = std::sync::Arc::new(Engine::load(None).expect("shipped knowledge"));
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let writers: Vec<_> = (0..2)
            .map(|_| {
                let (engine, stop) = (engine.clone(), stop.clone());
                std::thread::spawn(move || {
                    // Jump topics over each other so their order keeps flipping.
                    let n = engine.asked.len();
                    let mut x = 7usize;
                    while !stop.load(Ordering::Relaxed) {
                        x = (x * 31 + 17) % n;
                        engine.asked[x].fetch_add(1 + (x as u32 % 5) * 1000, Ordering::Relaxed);
                    }
                })
            })
            .collect();
        for _ in 0..20_000 {
            assert_eq!(engine.popular(3).len(), 3);
        }
        stop.store(true, Ordering::Relaxed);
        for w in writers {
            w.join().expect("writer");
        }
    }
}
