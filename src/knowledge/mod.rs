//! The curated knowledge base: its types, loading and validation.
//!
//! The TOML file is parsed into `raw` structs that keep source spans, so that
//! validation can report *every* problem with a line number instead of
//! stopping at the first. Only a file that passes every check becomes a
//! [`Knowledge`]; the rest of the crate trusts it.

mod check;
mod crisis;
mod ids;
mod quote;
mod raw;
mod sentence;
mod vocabulary;

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

pub use check::MAX_ADVICE_SHARE;
pub use crisis::{Crisis, CrisisKind, CrisisReply, CrisisRule, EMBEDDED_CRISIS};
pub use ids::{InvalidId, SourceId, TopicId};
/// The folding quote matching tolerates (whitespace, quote and dash styles, U+FFFD).
pub use quote::fold as fold_quote;
pub use sentence::{join, AdviceId, Backing, Cite, Place, Section, Sentence};
pub use vocabulary::{
    phrase_key, Ignored, Note, Pattern, Term, UnknownTopics, Vocabulary, EMBEDDED_VOCABULARY,
};

/// The knowledge file compiled into the binary, used when no path is given.
pub const EMBEDDED_TOML: &str = include_str!("../../knowledge/knowledge.toml");

/// The source documents compiled into the binary, by file name.
pub const EMBEDDED_SOURCES: &[(&str, &str)] = &[
    (
        "000_aa453d2dcef63885.txt",
        include_str!("../../knowledge/sources/000_aa453d2dcef63885.txt"),
    ),
    (
        "001_d3fa59d844f73cb7.txt",
        include_str!("../../knowledge/sources/001_d3fa59d844f73cb7.txt"),
    ),
    (
        "002_f461170599c34f96.txt",
        include_str!("../../knowledge/sources/002_f461170599c34f96.txt"),
    ),
    (
        "003_cb65142ebff7559d.txt",
        include_str!("../../knowledge/sources/003_cb65142ebff7559d.txt"),
    ),
    (
        "004_6a726d5e9aa60a34.txt",
        include_str!("../../knowledge/sources/004_6a726d5e9aa60a34.txt"),
    ),
];

/// A validated knowledge base: what the bot says (topics, tips, the
/// caveat), the words that lead to it (vocabulary) and the crisis plan.
#[derive(Debug, Clone, Serialize)]
pub struct Knowledge {
    pub caveat: Caveat,
    /// The topic whose safety section is the sources' general advice
    /// ("check with your doctor first"): the answer to "is massage safe?",
    /// and offered whenever a topic has no safety section.
    pub general: Option<TopicId>,
    /// Topics that usually describe the person asking rather than what they
    /// hope massage helps with ("on warfarin", "diabetic"): with another
    /// topic the question is about the other one, and alone it is a safety
    /// question.
    pub context: Vec<TopicId>,
    pub sources: Vec<Source>,
    pub topics: Vec<Topic>,
    /// The bot's own general safety advice lines, by id.
    pub advice: Vec<Advice>,
    pub tips: Vec<Tip>,
    pub excluded: Vec<Exclusion>,
    pub vocabulary: Vocabulary,
    pub crisis: Crisis,
}

/// The doctor caveat. A newtype so that a reply cannot be built without one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Caveat(String);

impl Caveat {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Caveat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One of the source documents the knowledge is built from.
#[derive(Debug, Clone, Serialize)]
pub struct Source {
    pub id: SourceId,
    pub file: String,
    pub title: String,
    #[serde(skip)]
    pub text: String,
}

/// How topics are grouped in `/topics`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Group {
    Mind,
    Body,
    LifeStages,
    Conditions,
}

impl Group {
    pub const ALL: [Group; 4] = [
        Group::Mind,
        Group::Body,
        Group::LifeStages,
        Group::Conditions,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Group::Mind => "Mind and mood",
            Group::Body => "Body and movement",
            Group::LifeStages => "Babies and pregnancy",
            Group::Conditions => "Health conditions",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Topic {
    pub id: TopicId,
    pub title: String,
    pub group: Group,
    pub aliases: Vec<String>,
    pub related: Vec<TopicId>,
    pub benefits: Option<Section>,
    pub safety: Option<Safety>,
}

/// A topic's safety section: how strongly the sources warn, and what they say.
#[derive(Debug, Clone, Serialize)]
pub struct Safety {
    pub level: SafetyLevel,
    #[serde(flatten)]
    pub section: Section,
}

/// How strongly the sources warn. There is deliberately no "safe" level: the
/// sources never support one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SafetyLevel {
    /// The sources say massage is unsafe or contraindicated.
    Avoid,
    /// Only with precautions (a qualified therapist, avoiding some areas).
    Caution,
    /// The sources say to check with a doctor first.
    AskFirst,
}

impl SafetyLevel {
    pub fn label(self) -> &'static str {
        match self {
            SafetyLevel::Avoid => "Avoid unless your doctor agrees",
            SafetyLevel::Caution => "Caution",
            SafetyLevel::AskFirst => "Ask your doctor first",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SafetyLevel::Avoid => "avoid",
            SafetyLevel::Caution => "caution",
            SafetyLevel::AskFirst => "ask-first",
        }
    }
}

/// One of the bot's own general safety advice lines ("see your doctor"):
/// shown as the bot's advice, never attributed to a source.
#[derive(Debug, Clone, Serialize)]
pub struct Advice {
    pub id: AdviceId,
    pub text: String,
}

/// A daily relaxation tip: one cited sentence.
#[derive(Debug, Clone)]
pub struct Tip {
    pub sentence: Sentence,
}

impl Serialize for Tip {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Tip", 3)?;
        st.serialize_field("text", &self.sentence.text)?;
        st.serialize_field("sentences", std::slice::from_ref(&self.sentence))?;
        let mut sources: Vec<&SourceId> = Vec::new();
        for c in self.sentence.cites() {
            if !sources.contains(&&c.source) {
                sources.push(&c.source);
            }
        }
        st.serialize_field("sources", &sources)?;
        st.end()
    }
}

/// A claim from the sources deliberately left out, kept for review.
#[derive(Debug, Clone, Serialize)]
pub struct Exclusion {
    pub source: SourceId,
    pub quote: String,
    pub reason: String,
}

/// One problem found in a knowledge file, with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// `file:line` (or just the file when the line is unknown).
    pub location: String,
    /// The topic the problem belongs to, if any.
    pub topic: Option<String>,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.location)?;
        if let Some(topic) = &self.topic {
            write!(f, "topic `{topic}`: ")?;
        }
        f.write_str(&self.message)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KnowledgeError {
    #[error("cannot read knowledge file {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid knowledge file {origin} ({} problem{}):\n{}", .problems.len(), if .problems.len() == 1 { "" } else { "s" }, ProblemList(.problems))]
    Invalid {
        origin: String,
        problems: Vec<Problem>,
    },
}

struct ProblemList<'a>(&'a [Problem]);

impl fmt::Display for ProblemList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "  - {p}")?;
        }
        Ok(())
    }
}

/// Where source documents are looked up: beside the knowledge file first,
/// then among the embedded ones (so a corrected knowledge file can be
/// deployed alone).
#[derive(Debug, Clone)]
pub enum SourceDir {
    Embedded,
    Dir(PathBuf),
}

impl SourceDir {
    fn read(&self, file: &str) -> Option<String> {
        if let SourceDir::Dir(dir) = self {
            // A file name, never a path: the knowledge file may not reach outside.
            if !file.contains(['/', '\\']) && file != ".." {
                if let Ok(text) = std::fs::read_to_string(dir.join(file)) {
                    return Some(text);
                }
            }
        }
        EMBEDDED_SOURCES
            .iter()
            .find(|(name, _)| *name == file)
            .map(|(_, text)| (*text).to_owned())
    }
}

impl Knowledge {
    /// The knowledge base compiled into the binary, with its vocabulary.
    pub fn embedded() -> Result<Self, KnowledgeError> {
        let mut k = Self::from_toml(
            EMBEDDED_TOML,
            "knowledge.toml (embedded)",
            &SourceDir::Embedded,
        )?;
        k.vocabulary = Vocabulary::from_toml(
            EMBEDDED_VOCABULARY,
            "vocabulary.toml (embedded)",
            &k.topics,
            &k.advice,
            UnknownTopics::Reject,
        )?;
        Ok(k)
    }

    /// Loads and validates a knowledge file. Sources are read from
    /// `sources/` beside it; `vocabulary.toml` and `crisis.toml` too, and
    /// where they are absent the built-in ones serve (the vocabulary only
    /// for the topics this file has).
    pub fn load(path: &Path) -> Result<Self, KnowledgeError> {
        let text = read(path)?;
        let dir = path.parent().unwrap_or(Path::new(".")).to_owned();
        let mut k = Self::from_toml(
            &text,
            &path.display().to_string(),
            &SourceDir::Dir(dir.join("sources")),
        )?;
        let vocabulary = dir.join("vocabulary.toml");
        k.vocabulary = if vocabulary.exists() {
            let text = read(&vocabulary)?;
            let origin = vocabulary.display().to_string();
            Vocabulary::from_toml(&text, &origin, &k.topics, &k.advice, UnknownTopics::Reject)?
        } else {
            Vocabulary::from_toml(
                EMBEDDED_VOCABULARY,
                "vocabulary.toml (embedded)",
                &k.topics,
                &k.advice,
                UnknownTopics::Skip,
            )?
        };
        let crisis = dir.join("crisis.toml");
        if crisis.exists() {
            k.crisis = Crisis::from_toml(&read(&crisis)?, &crisis.display().to_string())?;
        }
        Ok(k)
    }

    /// The embedded knowledge, or the file at `path` when given.
    pub fn load_or_embedded(path: Option<&Path>) -> Result<Self, KnowledgeError> {
        match path {
            Some(path) => Self::load(path),
            None => Self::embedded(),
        }
    }

    /// Parses and validates knowledge text. `origin` names the file in
    /// errors. The vocabulary is left empty and the crisis plan is the
    /// built-in one.
    pub fn from_toml(
        text: &str,
        origin: &str,
        sources: &SourceDir,
    ) -> Result<Self, KnowledgeError> {
        check::parse_and_validate(text, origin, sources)
    }

    pub fn topic(&self, id: &TopicId) -> Option<&Topic> {
        self.topics.iter().find(|t| &t.id == id)
    }

    /// The topic holding the general safety advice.
    pub fn general_topic(&self) -> Option<&Topic> {
        self.general.as_ref().and_then(|id| self.topic(id))
    }

    pub fn source(&self, id: &SourceId) -> Option<&Source> {
        self.sources.iter().find(|s| &s.id == id)
    }

    /// A short fingerprint of everything this knowledge says, the same in
    /// every process that loads the same files: a reference to "topic 3,
    /// term 7" kept outside (in a button) is only read back by a process
    /// with the same fingerprint. FNV-1a over the JSON form, which has a
    /// fixed order (no hash maps).
    pub fn fingerprint(&self) -> u32 {
        let bytes = serde_json::to_vec(self).unwrap_or_default();
        let mut h: u32 = 0x811c_9dc5;
        for b in bytes {
            h ^= u32::from(b);
            h = h.wrapping_mul(0x0100_0193);
        }
        h
    }
}

fn read(path: &Path) -> Result<String, KnowledgeError> {
    std::fs::read_to_string(path).map_err(|source| KnowledgeError::Read {
        path: path.to_owned(),
        source,
    })
}

impl Topic {
    /// Every source this topic cites, in order, without repeats.
    pub fn source_ids(&self) -> Vec<SourceId> {
        let mut ids: Vec<SourceId> = Vec::new();
        let sections = self
            .benefits
            .iter()
            .chain(self.safety.iter().map(|s| &s.section));
        for id in sections.flat_map(Section::source_ids) {
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        ids
    }

    /// The section for one side, if the topic has it.
    pub fn section(&self, safety: bool) -> Option<&Section> {
        if safety {
            self.safety.as_ref().map(|s| &s.section)
        } else {
            self.benefits.as_ref()
        }
    }
}

impl Knowledge {
    /// The text of a general advice line.
    pub fn advice(&self, id: &AdviceId) -> Option<&Advice> {
        self.advice.iter().find(|a| &a.id == id)
    }
}
