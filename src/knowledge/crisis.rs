//! The crisis file (`crisis.toml`): what counts as a crisis (suicidal
//! thoughts, self-harm, a medical emergency now) and the reply that comes
//! before anything else. Reviewed data, like the knowledge file: the
//! wording and the helplines are edited there, not in code.

use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::check::{Checker, MAX_TEXT};
use super::vocabulary::phrase_key;
use super::{KnowledgeError, TopicId};

/// The crisis file compiled into the binary.
pub const EMBEDDED_CRISIS: &str = include_str!("../../knowledge/crisis.toml");

/// Longest window, in words, a co-occurrence rule may span.
const MAX_WINDOW: usize = 40;

/// Which reply a crisis gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CrisisKind {
    /// Suicidal thoughts or self-harm: crisis lines.
    Mental,
    /// A medical emergency now: emergency services.
    Medical,
}

/// A validated crisis file.
#[derive(Debug, Clone, Serialize)]
pub struct Crisis {
    pub mental: CrisisReply,
    pub medical: CrisisReply,
    pub rules: Vec<CrisisRule>,
}

impl Crisis {
    pub fn reply(&self, kind: CrisisKind) -> &CrisisReply {
        match kind {
            CrisisKind::Mental => &self.mental,
            CrisisKind::Medical => &self.medical,
        }
    }
}

/// The words of a crisis reply: the bot's own advice, not from the sources.
#[derive(Debug, Clone, Serialize)]
pub struct CrisisReply {
    pub title: String,
    pub summary: String,
    pub points: Vec<String>,
}

/// When a message is a crisis: any of `phrases` (word sequences), or one
/// word from every group of `all` within `window` words; never where an
/// `unless` phrase covers the match ("suicide squad").
#[derive(Debug, Clone, Serialize)]
pub struct CrisisRule {
    pub kind: CrisisKind,
    pub why: String,
    /// The topic whose warning follows the emergency help ("blood-vessels"
    /// for a swollen calf).
    pub topic: Option<TopicId>,
    pub phrases: Vec<String>,
    pub all: Vec<Vec<String>>,
    pub window: usize,
    pub unless: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCrisis {
    mental: Spanned<RawReply>,
    medical: Spanned<RawReply>,
    #[serde(default)]
    rules: Vec<Spanned<RawRule>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReply {
    title: Spanned<String>,
    summary: Spanned<String>,
    #[serde(default)]
    points: Vec<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    kind: CrisisKind,
    why: Spanned<String>,
    topic: Option<Spanned<String>>,
    #[serde(default)]
    phrases: Vec<Spanned<String>>,
    #[serde(default)]
    all: Vec<Spanned<Vec<String>>>,
    window: Option<Spanned<usize>>,
    #[serde(default)]
    unless: Vec<Spanned<String>>,
}

impl Crisis {
    /// The crisis file compiled into the binary.
    pub fn embedded() -> Result<Crisis, KnowledgeError> {
        Crisis::from_toml(EMBEDDED_CRISIS, "crisis.toml (embedded)")
    }

    pub fn from_toml(text: &str, origin: &str) -> Result<Crisis, KnowledgeError> {
        let mut c = Checker::new(origin, text);
        let Some(raw) = c.parse::<RawCrisis>() else {
            return Err(KnowledgeError::Invalid {
                origin: origin.to_owned(),
                problems: c.problems,
            });
        };
        let mut reply = |r: &Spanned<RawReply>, what: &str| {
            let span = r.span();
            let r = r.get_ref();
            let points: Vec<String> = r
                .points
                .iter()
                .map(|p| c.text_field(p, None, &format!("[{what}] point"), MAX_TEXT))
                .collect();
            if points.is_empty() {
                c.at(
                    &span,
                    None,
                    format!("[{what}] needs points: where to get help"),
                );
            }
            CrisisReply {
                title: c.text_field(&r.title, None, &format!("[{what}] title"), 200),
                summary: c.text_field(&r.summary, None, &format!("[{what}] summary"), MAX_TEXT),
                points,
            }
        };
        let mental = reply(&raw.mental, "mental");
        let medical = reply(&raw.medical, "medical");
        let mut rules = Vec::new();
        for rule in &raw.rules {
            let span = rule.span();
            let r = rule.get_ref();
            let why = c.text_field(&r.why, None, "rule why", MAX_TEXT);
            let topic = r.topic.as_ref().and_then(|t| {
                TopicId::parse(t.get_ref())
                    .map_err(|e| c.at(&t.span(), None, e.to_string()))
                    .ok()
            });
            let mut phrase_list = |list: &[Spanned<String>], what: &str| -> Vec<String> {
                let mut out = Vec::new();
                for p in list {
                    if phrase_key(p.get_ref()).is_empty() {
                        c.at(
                            &p.span(),
                            None,
                            format!("{what} `{}` has no words", p.get_ref()),
                        );
                    } else {
                        out.push(p.get_ref().trim().to_owned());
                    }
                }
                out
            };
            let phrases = phrase_list(&r.phrases, "phrase");
            let unless = phrase_list(&r.unless, "unless phrase");
            let mut all = Vec::new();
            for group in &r.all {
                let words: Vec<String> = group
                    .get_ref()
                    .iter()
                    .filter(|w| !phrase_key(w).is_empty())
                    .map(|w| w.trim().to_owned())
                    .collect();
                if words.is_empty() {
                    c.at(&group.span(), None, "an `all` group has no words");
                } else {
                    all.push(words);
                }
            }
            let window = r.window.as_ref().map_or(12, |w| *w.get_ref());
            match (phrases.is_empty(), all.is_empty()) {
                (true, true) => c.at(&span, None, "rule has neither `phrases` nor `all`"),
                (false, false) => c.at(
                    &span,
                    None,
                    "rule has both `phrases` and `all`: make it two rules",
                ),
                _ => {}
            }
            if !all.is_empty() && (all.len() < 2 || window < all.len() || window > MAX_WINDOW) {
                let at = r.window.as_ref().map_or(span.clone(), |w| w.span());
                c.at(
                    &at,
                    None,
                    format!(
                        "an `all` rule needs at least 2 groups and a window from their number to {MAX_WINDOW}"
                    ),
                );
            }
            rules.push(CrisisRule {
                kind: r.kind,
                why,
                topic,
                phrases,
                all,
                window,
                unless,
            });
        }
        for kind in [CrisisKind::Mental, CrisisKind::Medical] {
            if !rules.iter().any(|r| r.kind == kind) {
                c.at(&(0..0), None, format!("no rule of kind {kind:?}"));
            }
        }
        if c.problems.is_empty() {
            Ok(Crisis {
                mental,
                medical,
                rules,
            })
        } else {
            Err(KnowledgeError::Invalid {
                origin: origin.to_owned(),
                problems: c.problems,
            })
        }
    }
}
