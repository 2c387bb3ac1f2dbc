//! Identifier newtypes: parsed once at the edge, trusted afterwards.

use std::fmt;

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {kind} id `{value}`: {why}")]
pub struct InvalidId {
    pub kind: &'static str,
    pub value: String,
    pub why: &'static str,
}

/// A topic id: lowercase `a-z0-9-`, 1 to 32 characters, no leading,
/// trailing or doubled hyphen.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct TopicId(String);

impl TopicId {
    pub const MAX_LEN: usize = 32;

    pub fn parse(value: &str) -> Result<Self, InvalidId> {
        let err = |why| InvalidId {
            kind: "topic",
            value: value.to_owned(),
            why,
        };
        if value.is_empty() || value.len() > Self::MAX_LEN {
            return Err(err("must be 1 to 32 characters"));
        }
        if !value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(err("only lowercase a-z, 0-9 and '-' are allowed"));
        }
        if value.starts_with('-') || value.ends_with('-') || value.contains("--") {
            return Err(err("hyphens only between words"));
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TopicId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A source document id, such as `001`: short, shown to users in citations.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct SourceId(String);

impl SourceId {
    pub fn parse(value: &str) -> Result<Self, InvalidId> {
        if value.is_empty()
            || value.len() > 16
            || !value
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(InvalidId {
                kind: "source",
                value: value.to_owned(),
                why: "must be 1 to 16 characters of a-z, 0-9 and '-'",
            });
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_ids() {
        assert!(TopicId::parse("back-pain").is_ok());
        assert!(TopicId::parse("a1").is_ok());
        for bad in [
            "",
            "Back",
            "back_pain",
            "-x",
            "x-",
            "a--b",
            &"a".repeat(33),
            "naïve",
        ] {
            assert!(TopicId::parse(bad).is_err(), "{bad}");
        }
        assert!(TopicId::parse(&"a".repeat(32)).is_ok());
    }

    #[test]
    fn source_ids() {
        assert!(SourceId::parse("001").is_ok());
        assert!(SourceId::parse("../x").is_err());
    }
}
