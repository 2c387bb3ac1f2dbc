use serde::Serialize;

use crate::knowledge::TopicId;
use crate::reply::{Command, Intent, Kind, Reply, Said};

/// One reply as a JSON object for `ask --json`: what tools and evaluation
/// scripts read. `text` is exactly what the terminal shows.
#[derive(Debug, Serialize)]
pub struct JsonReply<'a> {
    pub command: Command,
    pub query: &'a str,
    pub intent: Option<Intent>,
    pub topic: Option<&'a TopicId>,
    /// Every topic the reply covers, in order (`topic` is the primary one).
    pub topics: &'a [TopicId],
    /// Topics whose safety warning the reply carries.
    pub warnings: &'a [TopicId],
    pub kind: Kind,
    pub ephemeral: bool,
    pub suggestions: Vec<&'a TopicId>,
    pub sources: Vec<&'a str>,
    pub safety_level: Option<&'static str>,
    pub text: String,
    pub caveat: &'a str,
    /// With `ask --quotes`: each sentence shown, with its verbatim quotes
    /// or marked as the bot's own advice.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quotes: Option<Vec<Said>>,
}

pub fn json(reply: &Reply) -> JsonReply<'_> {
    JsonReply {
        command: reply.command,
        query: &reply.query,
        intent: reply.intent,
        topic: reply.topic.as_ref(),
        topics: &reply.topics,
        warnings: &reply.warnings,
        kind: reply.kind,
        ephemeral: reply.is_private(),
        suggestions: reply.suggestions.iter().map(|s| &s.id).collect(),
        sources: reply.sources.iter().map(|s| s.id.as_str()).collect(),
        safety_level: reply.safety.as_ref().map(|s| s.level.as_str()),
        text: super::text(reply),
        caveat: reply.caveat.as_str(),
        quotes: None,
    }
}
