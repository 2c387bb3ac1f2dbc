//! Writing replies: from a [`Resolution`] (or a fixed request) to a
//! [`Reply`]. Every text comes from the knowledge; this only arranges it.

use crate::knowledge::{Caveat, CrisisKind, Evidence, Knowledge, SafetyLevel, Topic};
use crate::reply::{Command, Intent, Kind, Part, Reply, SafetyNote, Section, SourceRef, TopicRef};
use crate::understanding::{Chat, TopicIndex};

use super::resolve::{PartPlan, Resolution, TopicAnswer};

/// Arranges replies from one knowledge base.
pub(crate) struct Composer<'k> {
    pub knowledge: &'k Knowledge,
}

impl<'k> Composer<'k> {
    fn caveat(&self) -> &'k Caveat {
        &self.knowledge.caveat
    }

    fn topic(&self, t: TopicIndex) -> &'k Topic {
        &self.knowledge.topics[t]
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

    fn sources<'e>(&self, evidence: impl IntoIterator<Item = &'e Evidence>) -> Vec<SourceRef> {
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

    pub(crate) fn resolution(&self, command: Command, echo: &str, r: &Resolution) -> Reply {
        match r {
            Resolution::Crisis { kind, answer } => self.crisis(command, *kind, answer.as_ref()),
            Resolution::Foreign => self.foreign(command),
            Resolution::Chat(chat) => self.chat(command, *chat),
            Resolution::Empty => self.empty_query(command),
            Resolution::General(Intent::Safe) => self.general_safety(command),
            Resolution::General(Intent::Benefits) => {
                let mut r = self.topics();
                r.command = command;
                r.title = "What massage may help with".to_owned();
                r
            }
            Resolution::Answer(a) => self.answer(command, a),
            Resolution::DidYouMean { intent, topics } => {
                self.did_you_mean(command, echo, *intent, topics)
            }
            Resolution::NotCovered {
                intent,
                suggestions,
            } => self.not_covered(command, echo, *intent, suggestions),
        }
    }

    /// A topic answer: the lead section in full, the others in brief.
    pub(crate) fn answer(&self, command: Command, a: &TopicAnswer) -> Reply {
        let Some(lead) = a.parts.first() else {
            return self.empty_query(command);
        };
        let mut r = self.section(command, lead.topic, lead.side);
        self.apply_note(&mut r.summary, lead);
        for p in &a.parts[1..] {
            r.more.push(self.part(p));
        }
        if !r.more.is_empty() {
            let lead_topic = &self.topic(lead.topic).id;
            let others: Vec<&str> = r
                .more
                .iter()
                .filter(|p| &p.topic.id != lead_topic)
                .map(|p| p.topic.title.as_str())
                .collect();
            if !others.is_empty() {
                r.title = format!("{} · also {}", r.title, others.join(", "));
            }
        }
        self.finish(&mut r, a);
        r
    }

    /// Topics, warnings, sources and links of an answer with these parts.
    fn finish(&self, r: &mut Reply, a: &TopicAnswer) {
        r.topic = Some(self.topic(a.primary).id.clone());
        r.intent = Some(a.intent);
        r.topics.clear();
        r.warnings.clear();
        for p in &a.parts {
            let t = self.topic(p.topic);
            if !r.topics.contains(&t.id) {
                r.topics.push(t.id.clone());
            }
            if shows_safety(t, p.side) && !r.warnings.contains(&t.id) {
                r.warnings.push(t.id.clone());
            }
        }
        if a.parts.len() > 1 {
            let evidence = a.parts.iter().flat_map(|p| self.evidence(p));
            r.sources = self.sources(evidence);
        }
        // The rest of what was asked, then the usual links, each once.
        let mut links: Vec<TopicRef> = a
            .rest
            .iter()
            .map(|&t| {
                let topic = self.topic(t);
                self.topic_ref(topic, Self::natural_command(topic, Some(a.intent)))
            })
            .collect();
        links.append(&mut r.related);
        // Each further part is shown in brief: its full section is a link.
        for p in a.parts.iter().skip(1) {
            let t = self.topic(p.topic);
            links.insert(0, self.topic_ref(t, p.side.command()));
        }
        let shown = |l: &TopicRef| {
            a.parts.first().is_some_and(|p| {
                let t = self.topic(p.topic);
                t.id == l.id && p.side.command() == l.command
            })
        };
        for l in links {
            if !shown(&l)
                && !r
                    .related
                    .iter()
                    .any(|o| o.id == l.id && o.command == l.command)
            {
                r.related.push(l);
            }
        }
    }

    fn evidence(&self, p: &PartPlan) -> &'k [Evidence] {
        let t = self.topic(p.topic);
        match p.side {
            Intent::Benefits => t.benefits.as_ref().map_or(&[], |b| &b.evidence),
            Intent::Safe => t.safety.as_ref().map_or(&[], |s| &s.evidence),
        }
    }

    /// A vocabulary note replaces the section's summary: the sources say
    /// nothing specific about what was named.
    fn apply_note(&self, summary: &mut String, p: &PartPlan) {
        if let Some(note) = p
            .note
            .and_then(|k| self.knowledge.vocabulary.terms.get(k))
            .and_then(|t| t.note.as_ref())
        {
            summary.clone_from(note);
        }
    }

    /// A further section, in brief.
    fn part(&self, p: &PartPlan) -> Part {
        let t = self.topic(p.topic);
        let (heading, mut summary, safety) = match (p.side, &t.benefits, &t.safety) {
            (Intent::Safe, _, Some(s)) => (
                format!("{} — safety", t.title),
                s.summary.clone(),
                Some(SafetyNote::from(s)),
            ),
            (Intent::Benefits, Some(b), _) | (Intent::Safe, Some(b), None) => {
                (format!("{} — benefits", t.title), b.summary.clone(), None)
            }
            (Intent::Benefits, None, Some(s)) => (
                format!("{} — safety", t.title),
                s.summary.clone(),
                Some(SafetyNote::from(s)),
            ),
            (_, None, None) => (t.title.clone(), String::new(), None),
        };
        self.apply_note(&mut summary, p);
        Part {
            topic: self.topic_ref(t, p.side.command()),
            heading,
            summary,
            safety,
        }
    }

    /// One section of one topic in full: what `/benefits` and `/safe` show.
    pub(crate) fn section(&self, command: Command, t: TopicIndex, side: Intent) -> Reply {
        let topic = self.topic(t);
        let mut r = match side {
            Intent::Benefits => self.benefits(command, topic),
            Intent::Safe => self.safety(command, topic),
        };
        r.intent = Some(side);
        r.topics = vec![topic.id.clone()];
        if r.safety.is_some() {
            r.warnings = vec![topic.id.clone()];
        }
        r
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
        // A benefit with a safety note always points to it.
        self.found_section(
            command,
            topic,
            title,
            &b.summary,
            &b.points,
            &b.evidence,
            None,
        )
    }

    /// A section the topic has: its text, level, sources, and a link to the
    /// topic's other section when there is one.
    #[allow(clippy::too_many_arguments)]
    fn found_section(
        &self,
        command: Command,
        topic: &Topic,
        title: String,
        summary: &str,
        points: &[String],
        evidence: &[Evidence],
        safety: Option<SafetyNote>,
    ) -> Reply {
        let mut r = Reply::new(command, Kind::Answer, title, summary, self.caveat());
        r.topic = Some(topic.id.clone());
        r.points = points.to_vec();
        let other = if safety.is_some() {
            topic.benefits.as_ref().map(|_| Command::Benefits)
        } else {
            topic.safety.as_ref().map(|_| Command::Safe)
        };
        r.safety = safety;
        r.sources = self.sources(evidence);
        let first = other
            .map(|c| self.topic_ref(topic, c))
            .into_iter()
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
            if let Some(general) = self.knowledge.general_topic() {
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
        self.found_section(
            command,
            topic,
            title,
            &s.summary,
            &s.points,
            &s.evidence,
            Some(SafetyNote::from(s)),
        )
    }

    /// Crisis help first; for a medical emergency the topics named follow.
    pub(crate) fn crisis(
        &self,
        command: Command,
        kind: CrisisKind,
        answer: Option<&TopicAnswer>,
    ) -> Reply {
        let text = self.knowledge.crisis.reply(kind);
        let mut r = Reply::new(
            command,
            Kind::Crisis,
            text.title.clone(),
            text.summary.clone(),
            self.caveat(),
        );
        r.points = text.points.clone();
        if let Some(a) = answer {
            r.more = a.parts.iter().map(|p| self.part(p)).collect();
            self.finish(&mut r, a);
            let evidence = a.parts.iter().flat_map(|p| self.evidence(p));
            r.sources = self.sources(evidence);
        }
        r
    }

    /// "Is massage safe?": the sources' general advice.
    fn general_safety(&self, command: Command) -> Reply {
        let Some(general) = self.knowledge.general_topic() else {
            return self.not_covered(command, "massage", Some(Intent::Safe), &[]);
        };
        let mut r = self.safety(command, general);
        r.title = "Is massage safe? — what the sources advise".to_owned();
        r.intent = Some(Intent::Safe);
        r.topics = vec![general.id.clone()];
        r.warnings = vec![general.id.clone()];
        r
    }

    pub(crate) fn empty_query(&self, command: Command) -> Reply {
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

    fn foreign(&self, command: Command) -> Reply {
        Reply::new(
            command,
            Kind::NotCovered,
            "English only, sorry",
            "I can only read questions in English, so I won't guess at this one. Please ask again in English, for example `/ask is massage ok when pregnant?`, or see `/topics`.",
            self.caveat(),
        )
    }

    fn chat(&self, command: Command, chat: Chat) -> Reply {
        let opening = match chat {
            Chat::Greeting => "Hi! ",
            Chat::Thanks => "You're welcome! ",
            Chat::Farewell => "Take care! ",
            Chat::Help => "",
        };
        let mut r = self.help(Kind::About);
        r.command = command;
        r.title = match chat {
            Chat::Help => "What I can do".to_owned(),
            _ => format!("{}Here's what I can do", opening),
        };
        r.summary = format!(
            "I answer questions about the benefits and the safety of massage from {} source articles, and I say which ones. Ask in your own words, such as \"is massage ok when pregnant?\", or use the commands below.",
            self.knowledge.sources.len()
        );
        r
    }

    pub(crate) fn did_you_mean(
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
        r.intent = intent;
        r.suggestions = topics
            .iter()
            .map(|&t| {
                let topic = self.topic(t);
                self.topic_ref(topic, Self::natural_command(topic, intent))
            })
            .collect();
        r
    }

    pub(crate) fn not_covered(
        &self,
        command: Command,
        echo: &str,
        intent: Option<Intent>,
        suggestions: &[TopicIndex],
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
        r.intent = intent;
        r.suggestions = suggestions
            .iter()
            .map(|&t| {
                let topic = self.topic(t);
                self.topic_ref(topic, Self::natural_command(topic, intent))
            })
            .collect();
        r
    }

    /// Tip number `index` (modulo the number of tips).
    pub(crate) fn tip(&self, index: usize) -> Reply {
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

    pub(crate) fn topics(&self) -> Reply {
        let k = self.knowledge;
        let mut r = Reply::new(
            Command::Topics,
            Kind::Topics,
            "What I can answer",
            format!(
                "{} topics from {} source documents. Ask with `/benefits <topic>`, `/safe <topic>` or `/ask <question>`.",
                k.topics.len(),
                k.sources.len()
            ),
            self.caveat(),
        );
        for group in crate::knowledge::Group::ALL {
            let lines: Vec<String> = k
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

    pub(crate) fn about(&self) -> Reply {
        let mut r = self.help(Kind::About);
        r.command = Command::About;
        r
    }

    pub(crate) fn help(&self, kind: Kind) -> Reply {
        let k = self.knowledge;
        let mut r = Reply::new(
            Command::Help,
            kind,
            "About massage-bot",
            format!(
                "I answer questions about the benefits and the safety of massage from a curated knowledge base built from {} web articles, and I cite which ones say so. Where the sources disagree on safety, I follow the more cautious one. I don't guess: what the sources don't cover, I say so. Version {}.",
                k.sources.len(),
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
        r.sources = k
            .sources
            .iter()
            .map(|s| SourceRef {
                id: s.id.clone(),
                title: s.title.clone(),
            })
            .collect();
        r
    }
}

/// Whether this side of a topic shows its safety section: the safety side,
/// or the benefits side of a topic that has only a safety section.
fn shows_safety(t: &Topic, side: Intent) -> bool {
    t.safety.is_some() && (side == Intent::Safe || t.benefits.is_none())
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
