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
    pub tips: Vec<Spanned<RawTip>>,
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
    pub benefits: Option<Spanned<RawBenefits>>,
    pub safety: Option<Spanned<RawSafety>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBenefits {
    pub summary: Spanned<String>,
    #[serde(default)]
    pub points: Vec<Spanned<String>>,
    #[serde(default)]
    pub evidence: Vec<Spanned<RawEvidence>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSafety {
    pub level: SafetyLevel,
    pub summary: Spanned<String>,
    #[serde(default)]
    pub points: Vec<Spanned<String>>,
    pub sources_differ: Option<Spanned<String>>,
    #[serde(default)]
    pub evidence: Vec<Spanned<RawEvidence>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEvidence {
    pub source: Spanned<String>,
    pub quote: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTip {
    pub text: Spanned<String>,
    #[serde(default)]
    pub evidence: Vec<Spanned<RawEvidence>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawExcluded {
    pub source: Spanned<String>,
    pub quote: Spanned<String>,
    pub reason: Spanned<String>,
}
