//! The structured reply every request produces, whatever the front end.
//!
//! The caveat is a field that cannot be empty, and every renderer draws it,
//! so no reply (errors and "not covered" included) can go out without it.

use serde::Serialize;

use crate::knowledge::{Caveat, SafetyLevel, SourceId, TopicId};

/// What the user asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Command {
    Benefits,
    Safe,
    Ask,
    Tip,
    Topics,
    About,
    Help,
    /// Managing the daily tip (`/tips ...`).
    Tips,
    /// The quotes behind an answer (a button, `ask --quotes`).
    Quotes,
    /// A slash command the bot does not know.
    Unknown,
}

impl Command {
    pub fn as_str(self) -> &'static str {
        match self {
            Command::Benefits => "benefits",
            Command::Safe => "safe",
            Command::Ask => "ask",
            Command::Tip => "tip",
            Command::Topics => "topics",
            Command::About => "about",
            Command::Help => "help",
            Command::Tips => "tips",
            Command::Quotes => "quotes",
            Command::Unknown => "unknown",
        }
    }
}

/// Whether a question is about the benefits or the safety of massage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Intent {
    Benefits,
    Safe,
}

impl Intent {
    pub fn command(self) -> Command {
        match self {
            Intent::Benefits => Command::Benefits,
            Intent::Safe => Command::Safe,
        }
    }
}

/// What kind of reply this is; decides, among other things, whether Discord
/// shows it to everyone or only to the asker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// A topic answered from the knowledge base.
    Answer,
    /// A topic matched, but the sources say nothing for the command asked.
    NoSection,
    /// Matching was unsure: suggestions only.
    DidYouMean,
    /// Nothing in the knowledge base fits.
    NotCovered,
    /// A relaxation tip.
    Tip,
    /// The list of topics.
    Topics,
    /// What the bot is.
    About,
    /// Bad input or an internal failure.
    Error,
    /// Suicidal thoughts, self-harm or a medical emergency: help comes first.
    Crisis,
    /// The verbatim quotes behind another reply's sentences.
    Quotes,
}

/// A cited source document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceRef {
    pub id: SourceId,
    pub title: String,
}

/// A topic offered to the user (a suggestion or a related topic).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TopicRef {
    pub id: TopicId,
    pub title: String,
    /// The command that makes sense for it (`/safe` for a topic with only a
    /// safety section).
    pub command: Command,
}

/// A titled block of lines (used by `/topics` and `/about`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Section {
    pub heading: String,
    pub lines: Vec<String>,
}

/// The safety part of an answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SafetyNote {
    pub level: SafetyLevel,
    /// Set when the sources disagree and the cautious one was followed.
    pub sources_differ: Option<String>,
}

impl From<&crate::knowledge::Safety> for SafetyNote {
    fn from(s: &crate::knowledge::Safety) -> Self {
        SafetyNote {
            level: s.level,
            sources_differ: s.section.differ_text(),
        }
    }
}

/// A further topic section of an answer that names several topics, shown
/// after the lead in brief (on Discord the full section is one click away).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Part {
    /// The topic, with the command that gives this section in full.
    pub topic: TopicRef,
    pub heading: String,
    pub summary: String,
    pub safety: Option<SafetyNote>,
    /// The bot's own general advice for this section.
    pub advice: Vec<String>,
}

/// Knowledge a reply shows, kept so that the quotes behind it can be
/// looked up again: by `ask --quotes`, or from a button after a restart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum Shown {
    /// A topic's section: in full, or in brief (its summary and advice).
    /// `note` is the vocabulary term whose note replaced the summary.
    Section {
        topic: TopicId,
        side: Intent,
        brief: bool,
        note: Option<usize>,
    },
    /// The topic has no such section, and the reply says so.
    Missing { topic: TopicId, side: Intent },
    /// A daily tip, by its index.
    Tip(usize),
}

/// One sentence a reply shows, and what it rests on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Said {
    /// The section it comes from ("Sleep — benefits").
    pub heading: String,
    pub text: String,
    pub basis: Basis,
}

/// What a shown sentence rests on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "quotes")]
pub enum Basis {
    /// Verbatim quotes from these sources.
    Sources(Vec<Quote>),
    /// The bot's own general safety advice, from no source.
    Advice,
    /// The bot's own words about what its sources cover ("My sources say
    /// nothing specific about ..."): not a claim about massage.
    Own,
}

/// A verbatim quote and the document it is from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Quote {
    pub source: SourceRef,
    pub quote: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reply {
    pub command: Command,
    pub kind: Kind,
    /// The query as understood (cleaned words only: safe to echo).
    pub query: String,
    pub intent: Option<Intent>,
    pub topic: Option<TopicId>,
    pub title: String,
    pub summary: String,
    pub points: Vec<String>,
    pub safety: Option<SafetyNote>,
    /// The bot's own general advice, shown apart from what the sources say.
    pub advice: Vec<String>,
    /// Further topics the question names, after the lead.
    pub more: Vec<Part>,
    /// Every topic the reply covers, in the order it shows them.
    pub topics: Vec<TopicId>,
    /// The topics whose safety warning the reply carries.
    pub warnings: Vec<TopicId>,
    pub sections: Vec<Section>,
    pub sources: Vec<SourceRef>,
    pub suggestions: Vec<TopicRef>,
    pub related: Vec<TopicRef>,
    /// The knowledge shown, in order: what the quotes are looked up from.
    pub shown: Vec<Shown>,
    pub caveat: Caveat,
}

impl Reply {
    /// A reply with only the essentials; builders fill in the rest.
    pub fn new(
        command: Command,
        kind: Kind,
        title: impl Into<String>,
        summary: impl Into<String>,
        caveat: &Caveat,
    ) -> Self {
        Reply {
            command,
            kind,
            query: String::new(),
            intent: None,
            topic: None,
            title: title.into(),
            summary: summary.into(),
            points: Vec::new(),
            safety: None,
            advice: Vec::new(),
            more: Vec::new(),
            topics: Vec::new(),
            warnings: Vec::new(),
            sections: Vec::new(),
            sources: Vec::new(),
            suggestions: Vec::new(),
            related: Vec::new(),
            shown: Vec::new(),
            caveat: caveat.clone(),
        }
    }

    /// Replies only the asker should see: Discord shows them ephemerally.
    /// A crisis reply is private too: it is nobody else's business.
    pub fn is_private(&self) -> bool {
        matches!(
            self.kind,
            Kind::DidYouMean | Kind::NotCovered | Kind::Error | Kind::Crisis | Kind::Quotes
        )
    }
}
