//! Writing replies: from a [`Resolution`] (or a fixed request) to a
//! [`Reply`]. Every claim comes from the knowledge; this only arranges it,
//! adds the bot's own words about what it covers ("I have no safety note
//! for ..."), and records what it showed so the quotes can be looked up.

use crate::knowledge::{
    Backing, Caveat, CrisisKind, Knowledge, SafetyLevel, Section, Sentence, Topic,
};
use crate::reply::{
    Basis, Command, Intent, Kind, Part, Quote, Reply, SafetyNote, Said, Section as Lines, Shown,
    SourceRef, TopicRef,
};
use crate::understanding::{Chat, TermIndex, TopicIndex};

use super::resolve::{PartPlan, Resolution, TopicAnswer};

/// Arranges replies from one knowledge base.
pub(crate) struct Composer<'k> {
    pub knowledge: &'k Knowledge,
}

/// Sentence texts, in order.
fn texts(sentences: &[Sentence]) -> Vec<String> {
    sentences.iter().map(|s| s.text.clone()).collect()
}

/// Advice lines, each once, in order.
fn push_unique(into: &mut Vec<String>, lines: impl IntoIterator<Item = String>) {
    for l in lines {
        if !into.contains(&l) {
            into.push(l);
        }
    }
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

    fn section_of(topic: &'k Topic, side: Intent) -> Option<&'k Section> {
        topic.section(side == Intent::Safe)
    }

    fn note(&self, term: Option<TermIndex>) -> Option<&'k crate::knowledge::Note> {
        term.and_then(|k| self.knowledge.vocabulary.terms.get(k))
            .and_then(|t| t.note.as_ref())
    }

    fn heading(topic: &Topic, side: Intent) -> String {
        match side {
            Intent::Benefits => format!("{} — benefits", topic.title),
            Intent::Safe => format!("{} — safety", topic.title),
        }
    }

    /// Every sentence a reply shows, with what it rests on, in order.
    pub(crate) fn said(&self, shown: &[Shown]) -> Vec<Said> {
        let k = self.knowledge;
        let mut out = Vec::new();
        let quote = |s: &Sentence| match &s.backing {
            Backing::Advice(_) => Basis::Advice,
            Backing::Sources(cites) => Basis::Sources(
                cites
                    .iter()
                    .filter_map(|c| {
                        k.source(&c.source).map(|src| Quote {
                            source: SourceRef {
                                id: src.id.clone(),
                                title: src.title.clone(),
                            },
                            quote: c.quote.clone(),
                        })
                    })
                    .collect(),
            ),
        };
        for item in shown {
            match item {
                Shown::Section {
                    topic,
                    side,
                    brief,
                    note,
                } => {
                    let Some(t) = k.topic(topic) else { continue };
                    let Some(section) = Self::section_of(t, *side) else {
                        continue;
                    };
                    let heading = Self::heading(t, *side);
                    let note = self.note(*note);
                    let mut lines: Vec<(String, Basis)> = Vec::new();
                    let said = |s: &Sentence| (s.text.clone(), quote(s));
                    match note {
                        Some(n) => lines.push((n.framing(), Basis::Own)),
                        None => lines.extend(section.summary.iter().map(said)),
                    }
                    if !brief {
                        lines.extend(section.points.iter().map(said));
                        lines.extend(section.differ.iter().map(said));
                    }
                    for s in note
                        .into_iter()
                        .flat_map(|n| &n.advice)
                        .chain(&section.advice)
                    {
                        if !lines.iter().any(|(text, _)| *text == s.text) {
                            lines.push(said(s));
                        }
                    }
                    out.extend(lines.into_iter().map(|(text, basis)| Said {
                        heading: heading.clone(),
                        text,
                        basis,
                    }));
                }
                Shown::Missing { topic, side } => {
                    if let Some(t) = k.topic(topic) {
                        out.push(Said {
                            heading: Self::heading(t, *side),
                            text: self.missing_text(t, *side),
                            basis: Basis::Own,
                        });
                    }
                }
                Shown::Tip(i) => {
                    if let Some(tip) = k.tips.get(*i) {
                        out.push(Said {
                            heading: "Relaxation tip".to_owned(),
                            text: tip.sentence.text.clone(),
                            basis: quote(&tip.sentence),
                        });
                    }
                }
            }
        }
        out
    }

    /// The sources the shown sentences cite, by id: exactly those, so the
    /// Sources list can neither miss nor pad one.
    fn cite_sources(&self, r: &mut Reply) {
        let mut ids = Vec::new();
        for said in self.said(&r.shown) {
            if let Basis::Sources(quotes) = said.basis {
                for q in quotes {
                    if !ids.iter().any(|s: &SourceRef| s.id == q.source.id) {
                        ids.push(q.source);
                    }
                }
            }
        }
        ids.sort_by(|a, b| a.id.cmp(&b.id));
        r.sources = ids;
    }

    /// What a reply says when a topic lacks the section asked for: the
    /// bot's own words about what it has, never a claim about massage.
    fn missing_text(&self, topic: &Topic, side: Intent) -> String {
        let name = lower_first(&topic.title);
        match side {
            Intent::Benefits => format!(
                "I have no benefits of massage to tell you about for {name}: what I have is a safety note."
            ),
            Intent::Safe => format!(
                "I have no safety note for massage and {name}. That does not mean massage is safe for you."
            ),
        }
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
        self.apply_note(&mut r, lead);
        for p in &a.parts[1..] {
            let (part, shown) = self.part(p);
            r.more.push(part);
            r.shown.push(shown);
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
        self.cite_sources(r);
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

    /// A vocabulary note replaces the section's summary: the sources say
    /// nothing specific about what was named. Its advice comes first.
    fn apply_note(&self, r: &mut Reply, p: &PartPlan) {
        let Some(note) = self.note(p.note) else {
            return;
        };
        r.summary = note.framing();
        let mut advice = texts(&note.advice);
        push_unique(&mut advice, std::mem::take(&mut r.advice));
        r.advice = advice;
        if let Some(Shown::Section { note: n, .. }) = r.shown.iter_mut().find(|s| {
            matches!(s, Shown::Section { topic, brief: false, .. } if *topic == self.topic(p.topic).id)
        }) {
            *n = p.note;
        }
    }

    /// A further section, in brief: its summary (or note) and advice.
    fn part(&self, p: &PartPlan) -> (Part, Shown) {
        let t = self.topic(p.topic);
        // The side asked for, or the one the topic has.
        let side = match (p.side, &t.benefits, &t.safety) {
            (Intent::Safe, _, Some(_)) | (Intent::Benefits, None, Some(_)) => Intent::Safe,
            _ => Intent::Benefits,
        };
        let section = Self::section_of(t, side);
        let safety = match side {
            Intent::Safe => t.safety.as_ref().map(SafetyNote::from),
            Intent::Benefits => None,
        };
        let note = self.note(p.note);
        let mut advice = note.map(|n| texts(&n.advice)).unwrap_or_default();
        push_unique(
            &mut advice,
            section.map(|s| texts(&s.advice)).unwrap_or_default(),
        );
        let summary = match (note, section) {
            (Some(n), _) => n.framing(),
            (None, Some(s)) => s.summary_text(),
            (None, None) => String::new(),
        };
        let part = Part {
            topic: self.topic_ref(t, p.side.command()),
            heading: Self::heading(t, side),
            summary,
            safety,
            advice,
        };
        let shown = Shown::Section {
            topic: t.id.clone(),
            side,
            brief: true,
            note: p.note,
        };
        (part, shown)
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
        let title = Self::heading(topic, Intent::Benefits);
        let Some(b) = &topic.benefits else {
            // Only a safety section: say so, and show the warning in full.
            let mut r = self.safety(command, topic);
            r.kind = Kind::NoSection;
            r.title = title;
            r.summary = format!(
                "{}\n\n{}",
                self.missing_text(topic, Intent::Benefits),
                r.summary
            );
            r.shown.insert(
                0,
                Shown::Missing {
                    topic: topic.id.clone(),
                    side: Intent::Benefits,
                },
            );
            return r;
        };
        self.found_section(command, topic, title, b, None, Intent::Benefits)
    }

    /// A section the topic has: its text, level, advice, sources, and a
    /// link to the topic's other section when there is one.
    fn found_section(
        &self,
        command: Command,
        topic: &Topic,
        title: String,
        section: &Section,
        safety: Option<SafetyNote>,
        side: Intent,
    ) -> Reply {
        let mut r = Reply::new(
            command,
            Kind::Answer,
            title,
            section.summary_text(),
            self.caveat(),
        );
        r.topic = Some(topic.id.clone());
        r.points = texts(&section.points);
        r.advice = texts(&section.advice);
        let other = if safety.is_some() {
            topic.benefits.as_ref().map(|_| Command::Benefits)
        } else {
            topic.safety.as_ref().map(|_| Command::Safe)
        };
        r.safety = safety;
        r.shown = vec![Shown::Section {
            topic: topic.id.clone(),
            side,
            brief: false,
            note: None,
        }];
        self.cite_sources(&mut r);
        let first = other
            .map(|c| self.topic_ref(topic, c))
            .into_iter()
            .collect();
        r.related = self.see_also(topic, first);
        r
    }

    fn safety(&self, command: Command, topic: &Topic) -> Reply {
        let title = Self::heading(topic, Intent::Safe);
        let Some(s) = &topic.safety else {
            // Never present missing information as "safe": say so, then
            // the general advice that applies to every massage.
            let mut r = Reply::new(
                command,
                Kind::NoSection,
                title,
                self.missing_text(topic, Intent::Safe),
                self.caveat(),
            );
            r.topic = Some(topic.id.clone());
            r.shown.push(Shown::Missing {
                topic: topic.id.clone(),
                side: Intent::Safe,
            });
            let mut first: Vec<TopicRef> = topic
                .benefits
                .iter()
                .map(|_| self.topic_ref(topic, Command::Benefits))
                .collect();
            if let Some(general) = self.knowledge.general_topic() {
                if general.id != topic.id {
                    first.push(self.topic_ref(general, Command::Safe));
                    if let Some(gs) = &general.safety {
                        r.points = texts(&gs.section.summary);
                        r.advice = texts(&gs.section.advice);
                        r.shown.push(Shown::Section {
                            topic: general.id.clone(),
                            side: Intent::Safe,
                            brief: true,
                            note: None,
                        });
                    }
                }
            }
            self.cite_sources(&mut r);
            r.related = self.see_also(topic, first);
            return r;
        };
        self.found_section(
            command,
            topic,
            title,
            &s.section,
            Some(SafetyNote::from(s)),
            Intent::Safe,
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
            for p in &a.parts {
                let (part, shown) = self.part(p);
                r.more.push(part);
                r.shown.push(shown);
            }
            self.finish(&mut r, a);
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
            Chat::Help | Chat::Ack => "",
        };
        let mut r = self.help(Kind::About);
        r.command = command;
        r.title = match chat {
            Chat::Help => "What I can do".to_owned(),
            _ => format!("{}Here's what I can do", opening),
        };
        r.summary = format!(
            "I answer questions about the benefits and the safety of massage from {} source articles, and name them under each answer; the Quotes button shows their exact words. Ask in your own words, such as \"is massage ok when pregnant?\", or use the commands below.",
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
            "My sources don't cover \"{echo}\", so I have nothing reliable to tell you about it. `/topics` lists everything I can answer."
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
            tip.sentence.text.clone(),
            self.caveat(),
        );
        r.shown = vec![Shown::Tip(index % tips.len())];
        self.cite_sources(&mut r);
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
                r.sections.push(Lines {
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
                "I answer questions about the benefits and the safety of massage from {} web articles, listed below. Every sentence I say about massage rests on a verbatim quote from them, except my own general safety advice (such as \"check with your doctor first\") and what I say about what they cover, which are marked as mine. Press **Quotes** under an answer (or run `massage-bot ask --quotes`) to read the words behind each sentence. Where the sources disagree on safety, I follow the more cautious one and say so; claims of theirs that are wrong or too sweeping I leave out. Version {}.",
                k.sources.len(),
                env!("CARGO_PKG_VERSION")
            ),
            self.caveat(),
        );
        r.sections.push(Lines {
            heading: "Commands".to_owned(),
            lines: vec![
                "`/benefits <topic>` what massage may do for it".to_owned(),
                "`/safe <topic>` when to be careful or avoid massage".to_owned(),
                "`/ask <question>` a question in plain words".to_owned(),
                "`/tip` a relaxation tip · `/topics` everything I know".to_owned(),
                "**Quotes** under an answer: the sources' own words".to_owned(),
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
