//! Turning a message into tokens: lowercase words, with a note of which
//! were typed in capitals (abbreviations) and with readings such as
//! "150/95" or "36+2" kept whole.
//!
//! Bounded: a message is cut to [`MAX_CHARS`] characters and
//! [`MAX_TOKENS`] tokens before any work, so a 6,000-character query costs
//! no more than a long Discord message.

use crate::matching::normalize;

/// Characters of a message considered (a Discord message is at most 2,000).
pub const MAX_CHARS: usize = 2_000;
/// Tokens considered.
pub const MAX_TOKENS: usize = 400;

/// One word of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// Lowercase letters and digits ("cant", "150/95").
    pub text: String,
    /// Typed in capitals, at least two letters ("MS", "PE").
    pub caps: bool,
    /// Its stem, worked out once for every matcher.
    pub stem: String,
}

impl Token {
    pub fn is_number(&self) -> bool {
        self.text.bytes().all(|b| b.is_ascii_digit())
    }
}

/// The tokens of a message. Mentions and links are dropped; apostrophes
/// join ("can't" is "cant"); other punctuation separates.
pub fn tokens(input: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let text: String = input.chars().take(MAX_CHARS).collect();
    for chunk in text.split_whitespace() {
        if out.len() >= MAX_TOKENS {
            break;
        }
        if normalize::is_mention_or_link(chunk) {
            continue;
        }
        let trimmed = chunk.trim_matches(|c: char| !c.is_alphanumeric());
        if let Some(reading) = reading(trimmed) {
            out.push(Token {
                stem: reading.clone(),
                text: reading,
                caps: false,
            });
            continue;
        }
        let mut word = String::new();
        let mut upper = 0usize;
        let mut lower = 0usize;
        let mut flush = |word: &mut String, upper: &mut usize, lower: &mut usize| {
            if !word.is_empty() {
                let text = std::mem::take(word);
                out.push(Token {
                    stem: normalize::stem(&text),
                    text,
                    caps: *upper >= 2 && *lower == 0,
                });
            }
            *upper = 0;
            *lower = 0;
        };
        for c in chunk.chars() {
            if c.is_alphanumeric() {
                if c.is_uppercase() {
                    upper += 1;
                } else if c.is_lowercase() {
                    lower += 1;
                }
                word.extend(c.to_lowercase());
            } else if is_apostrophe(c) {
                // "can't" -> "cant", "i'm" -> "im"
            } else {
                flush(&mut word, &mut upper, &mut lower);
            }
        }
        flush(&mut word, &mut upper, &mut lower);
    }
    out.truncate(MAX_TOKENS);
    out
}

fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '\u{2019}' | '\u{2018}' | '`' | '\u{02BC}')
}

/// "150/95" (a blood pressure reading) or "36+2" (weeks and days of
/// pregnancy): two numbers that mean something only together.
fn reading(chunk: &str) -> Option<String> {
    let (a, sep, b) = chunk
        .split_once('/')
        .map(|(a, b)| (a, '/', b))
        .or_else(|| chunk.split_once('+').map(|(a, b)| (a, '+', b)))?;
    let digits = |s: &str| !s.is_empty() && s.len() <= 3 && s.bytes().all(|c| c.is_ascii_digit());
    (digits(a) && digits(b)).then(|| format!("{a}{sep}{b}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(s: &str) -> Vec<String> {
        tokens(s).into_iter().map(|t| t.text).collect()
    }

    #[test]
    fn words_readings_and_capitals() {
        assert_eq!(
            texts("@everyone Can't SLEEP 😴 bp 150/95, im 36+2 https://x.y"),
            ["cant", "sleep", "bp", "150/95", "im", "36+2"]
        );
        let t = tokens("I have MS and ms pain, PE");
        assert!(t[2].caps && !t[4].caps && t[6].caps);
        assert!(!t[0].caps, "a single capital letter is not an abbreviation");
        assert_eq!(texts("self-harm 24/7"), ["self", "harm", "24/7"]);
    }

    #[test]
    fn bounded() {
        assert_eq!(tokens(&"a ".repeat(5000)).len(), MAX_TOKENS);
        assert!(tokens(&"a".repeat(6000))[0].text.len() <= MAX_CHARS);
    }
}
