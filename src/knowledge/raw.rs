//! The knowledge file as written, with spans for error messages.

use serde::Deserialize;
use toml::Spanned;

use super::{Group, SafetyLevel};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawKnowledge {
    pub caveat: Option<Spanned<String>>,
    pub general: Option<Spanned<String>>,
    #[serde(default)]
    pub context: Vec<Spanned<String>>,
    #[serde(default)]
    pub sources: Vec<Spanned<RawSource>>,
    #[serde(default)]
    pub topics: Vec<Spanned<RawTopic>>,
    #[serde(default)]
    pub advice: Vec<Spanned<RawAdvice>>,
    #[serde(default)]
    pub tips: Vec<Spanned<RawSentence>>,
    #[serde(default)]
    pub excluded: Vec<Spanned<RawExcluded>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSource {
    pub id: Spanned<String>,
    pub file: Spanned<String>,
    pub title: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTopic {
    pub id: Spanned<String>,
    pub title: Spanned<String>,
    pub group: Group,
    #[serde(default)]
    pub aliases: Vec<Spanned<String>>,
    #[serde(default)]
    pub related: Vec<Spanned<String>>,
    // Not spanned: a section written only as `[[topics.benefits.summary]]`
    // is an implicit table, which has no span. Messages use the topic's id.
    pub benefits: Option<RawBenefits>,
    pub safety: Option<RawSafety>,
}

/// A section's sentences, as written: `[[topics.benefits.summary]]` and so on.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBenefits {
    #[serde(default)]
    pub summary: Vec<Spanned<RawSentence>>,
    #[serde(default)]
    pub points: Vec<Spanned<RawSentence>>,
    /// Ids of `[[advice]]` lines.
    #[serde(default)]
    pub advice: Vec<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSafety {
    pub level: SafetyLevel,
    #[serde(default)]
    pub summary: Vec<Spanned<RawSentence>>,
    #[serde(default)]
    pub points: Vec<Spanned<RawSentence>>,
    #[serde(default)]
    pub differ: Vec<Spanned<RawSentence>>,
    #[serde(default)]
    pub advice: Vec<Spanned<String>>,
}

/// `say` and the quotes behind it, each `"000: verbatim words"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSentence {
    pub say: Spanned<String>,
    #[serde(default)]
    pub cite: Vec<Spanned<String>>,
}

/// One of the bot's own general safety advice lines.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAdvice {
    pub id: Spanned<String>,
    pub say: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawExcluded {
    pub source: Spanned<String>,
    pub quote: Spanned<String>,
    pub reason: Spanned<String>,
}
