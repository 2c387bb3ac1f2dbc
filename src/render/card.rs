use serde::Serialize;

use crate::knowledge::SafetyLevel;
use crate::reply::{Command, Kind, Reply, TopicRef};

/// Discord's limits on what one message may carry.
pub mod limits {
    pub const TITLE: usize = 256;
    pub const DESCRIPTION: usize = 4096;
    pub const FIELD_NAME: usize = 256;
    pub const FIELD_VALUE: usize = 1024;
    pub const FIELDS: usize = 25;
    pub const FOOTER: usize = 2048;
    /// All embeds of one message together.
    pub const MESSAGE_TOTAL: usize = 6000;
    /// An autocomplete choice name.
    pub const CHOICE_NAME: usize = 100;
}

/// The layout of one embed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Card {
    pub title: String,
    pub description: String,
    /// 0xRRGGBB.
    pub color: u32,
    pub fields: Vec<Field>,
    /// Always the caveat.
    pub footer: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Field {
    pub name: String,
    pub value: String,
    pub inline: bool,
}

/// A part of a card that exceeds a Discord limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitProblem {
    pub part: String,
    pub len: usize,
    pub max: usize,
}

impl std::fmt::Display for LimitProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} is {} characters once rendered; Discord allows {}",
            self.part, self.len, self.max
        )
    }
}

/// Where the bot's own general advice is shown: apart from what the
/// sources say, and named as the bot's.
pub const ADVICE_HEADING: &str = "My own advice (not from the sources)";

const GREEN: u32 = 0x3BA55C;
const RED: u32 = 0xD64545;
const ORANGE: u32 = 0xE8912D;
const YELLOW: u32 = 0xE8C72D;
const GREY: u32 = 0x99AAB5;
const TEAL: u32 = 0x1ABC9C;
const BLURPLE: u32 = 0x5865F2;

pub fn safety_color(level: SafetyLevel) -> u32 {
    match level {
        SafetyLevel::Avoid => RED,
        SafetyLevel::Caution => ORANGE,
        SafetyLevel::AskFirst => YELLOW,
    }
}

pub fn safety_badge(level: SafetyLevel) -> &'static str {
    match level {
        SafetyLevel::Avoid => "🔴",
        SafetyLevel::Caution => "🟠",
        SafetyLevel::AskFirst => "🟡",
    }
}

fn chars(s: &str) -> usize {
    s.chars().count()
}

/// Cuts `s` to at most `max` characters, marking the cut.
fn fit(s: &str, max: usize) -> String {
    if chars(s) <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

fn topic_line(t: &TopicRef) -> String {
    format!("`/{} {}` · {}", t.command.as_str(), t.id, t.title)
}

impl Card {
    /// Lays a reply out. Parts that would exceed a limit are cut (the
    /// knowledge check makes sure no shipped text needs it); the caveat is
    /// never cut.
    pub fn from_reply(reply: &Reply) -> Card {
        let mut card = layout(reply, true);
        // The whole message must stay within 6,000: shorten the description.
        let over = card.total_len().saturating_sub(limits::MESSAGE_TOTAL);
        if over > 0 {
            let keep = chars(&card.description).saturating_sub(over + 1);
            card.description = fit(&card.description, keep);
        }
        card
    }

    /// Characters Discord counts towards the 6,000 per message.
    pub fn total_len(&self) -> usize {
        chars(&self.title)
            + chars(&self.description)
            + chars(&self.footer)
            + self
                .fields
                .iter()
                .map(|f| chars(&f.name) + chars(&f.value))
                .sum::<usize>()
    }

    /// Every part of the reply that would exceed a Discord limit once
    /// rendered; empty when it fits without cutting anything.
    pub fn limit_problems(reply: &Reply) -> Vec<LimitProblem> {
        let card = layout(reply, false);
        let mut problems = Vec::new();
        let mut check = |part: String, len: usize, max: usize| {
            if len > max {
                problems.push(LimitProblem { part, len, max });
            }
        };
        check("title".into(), chars(&card.title), limits::TITLE);
        check(
            "description".into(),
            chars(&card.description),
            limits::DESCRIPTION,
        );
        check(
            "caveat (footer)".into(),
            chars(&card.footer),
            limits::FOOTER,
        );
        check("number of fields".into(), card.fields.len(), limits::FIELDS);
        for f in &card.fields {
            check(
                format!("field `{}` name", f.name),
                chars(&f.name),
                limits::FIELD_NAME,
            );
            check(
                format!("field `{}`", f.name),
                chars(&f.value),
                limits::FIELD_VALUE,
            );
        }
        check(
            "whole message".into(),
            card.total_len(),
            limits::MESSAGE_TOTAL,
        );
        problems
    }
}

/// The card for a reply; with `cut`, each part is cut to its limit.
fn layout(reply: &Reply, cut: bool) -> Card {
    let fit = |s: &str, max: usize| if cut { fit(s, max) } else { s.to_owned() };
    let mut description = reply.summary.clone();
    if !reply.points.is_empty() {
        description.push('\n');
        for p in &reply.points {
            description.push_str("\n• ");
            description.push_str(p);
        }
    }
    let mut fields = Vec::new();
    let mut field = |name: &str, value: String| {
        if !value.is_empty() {
            fields.push(Field {
                name: fit(name, limits::FIELD_NAME),
                value: fit(&value, limits::FIELD_VALUE),
                inline: false,
            });
        }
    };
    if let Some(safety) = &reply.safety {
        field(
            "Safety level",
            format!("{} {}", safety_badge(safety.level), safety.level.label()),
        );
        if let Some(differ) = &safety.sources_differ {
            field("Sources differ", differ.clone());
        }
    }
    if !reply.advice.is_empty() {
        let lines: Vec<String> = reply.advice.iter().map(|a| format!("• {a}")).collect();
        field(ADVICE_HEADING, lines.join("\n"));
    }
    for part in &reply.more {
        let mut value = part.summary.clone();
        if let Some(safety) = &part.safety {
            value = format!(
                "{} {}\n{value}",
                safety_badge(safety.level),
                safety.level.label()
            );
        }
        if !part.advice.is_empty() {
            value = format!("{value}\n*My advice:* {}", part.advice.join(" "));
        }
        field(&part.heading, value);
    }
    for section in &reply.sections {
        field(&section.heading, section.lines.join("\n"));
    }
    if !reply.suggestions.is_empty() {
        let lines: Vec<String> = reply.suggestions.iter().map(topic_line).collect();
        let heading = if reply.kind == Kind::NotCovered {
            "You could try"
        } else {
            "Did you mean"
        };
        field(heading, lines.join("\n"));
    }
    if !reply.related.is_empty() {
        let lines: Vec<String> = reply.related.iter().map(topic_line).collect();
        field("See also", lines.join("\n"));
    }
    if !reply.sources.is_empty() {
        let lines: Vec<String> = reply
            .sources
            .iter()
            .map(|s| format!("`{}` {}", s.id, s.title))
            .collect();
        field("Sources", lines.join("\n"));
    }
    if cut {
        fields.truncate(limits::FIELDS);
    }
    let color = match (reply.kind, &reply.safety, reply.command) {
        (Kind::Crisis, _, _) => RED,
        (_, Some(s), _) => safety_color(s.level),
        (Kind::Answer, None, _) => GREEN,
        (Kind::Tip, _, _) => TEAL,
        (Kind::Topics | Kind::About | Kind::Quotes, _, _) => BLURPLE,
        (Kind::Error, _, _) => RED,
        (_, None, Command::Safe) => YELLOW,
        _ => GREY,
    };
    Card {
        title: fit(&reply.title, limits::TITLE),
        description: fit(&description, limits::DESCRIPTION),
        color,
        fields,
        footer: reply.caveat.as_str().to_owned(),
    }
}
