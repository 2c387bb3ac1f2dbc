//! Turning raw user text into words the matcher can compare.
//!
//! Everything here is bounded: the input is cut to [`MAX_CHARS`] characters
//! and [`MAX_WORDS`] words before any real work, so a 6,000-character query
//! costs no more than a short one.

/// Characters of input considered at all.
pub const MAX_CHARS: usize = 300;
/// Words kept after cleaning.
pub const MAX_WORDS: usize = 12;

/// Lowercased, cleaned words of a query, in order. Mentions, links, markdown,
/// emoji, punctuation and control characters are gone.
pub fn words(input: &str) -> Vec<String> {
    let mut words = Vec::new();
    for token in input
        .chars()
        .take(MAX_CHARS)
        .collect::<String>()
        .split_whitespace()
    {
        if is_mention_or_link(token) {
            continue;
        }
        let mut word = String::new();
        let flush = |word: &mut String, words: &mut Vec<String>| {
            if !word.is_empty() {
                words.push(std::mem::take(word));
            }
        };
        for c in token.chars() {
            if c.is_alphanumeric() {
                word.extend(c.to_lowercase());
            } else if is_apostrophe(c) {
                // "can't" -> "cant", "i'm" -> "im", "endorphin's" -> "endorphins"
            } else {
                flush(&mut word, &mut words);
            }
        }
        flush(&mut word, &mut words);
        if words.len() >= MAX_WORDS {
            words.truncate(MAX_WORDS);
            break;
        }
    }
    words
}

fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '\u{2019}' | '\u{2018}' | '`' | '\u{02BC}')
}

/// Discord mentions (`<@123>`, `<#1>`, `<@&1>`, `<:emoji:1>`), `@everyone`,
/// `@here` and links carry no topic words and must never be echoed.
pub fn is_mention_or_link(token: &str) -> bool {
    let t = token
        .trim_matches(|c: char| !c.is_alphanumeric() && !matches!(c, '<' | '>' | '@' | ':' | '/'));
    t.starts_with('@')
        || (t.starts_with('<') && t.contains('>'))
        || t.starts_with("http://")
        || t.starts_with("https://")
        || t.starts_with("www.")
}

/// A light English stemmer: enough to make "sleeping", "sleeps" and "sleep"
/// meet, without a dictionary. Applied to both sides, so odd stems still match.
pub fn stem(word: &str) -> String {
    let mut w = word.to_owned();
    let n = w.chars().count();
    if n <= 3 || !w.is_ascii() {
        return w;
    }
    if w.ends_with("ies") && n > 4 {
        w.truncate(w.len() - 3);
        w.push('y');
    } else if w.ends_with("sses") {
        w.truncate(w.len() - 2);
    } else if w.ends_with('s') && !w.ends_with("ss") && !w.ends_with("us") && !w.ends_with("is") {
        w.truncate(w.len() - 1);
    }
    // "stressful", "sleepless", "painfully", "tiredness": the root names the topic.
    for suffix in ["fully", "ful", "lessness", "less", "ness"] {
        if w.len() >= suffix.len() + 4 && w.ends_with(suffix) {
            w.truncate(w.len() - suffix.len());
            break;
        }
    }
    if w.ends_with("ing") && w.len() >= 6 {
        w.truncate(w.len() - 3);
        undouble(&mut w);
    } else if w.ends_with("ed") && w.len() >= 5 {
        w.truncate(w.len() - 2);
        undouble(&mut w);
    }
    if w.ends_with('e') && w.len() >= 5 {
        w.truncate(w.len() - 1);
    }
    w
}

fn undouble(w: &mut String) {
    let b = w.as_bytes();
    let n = b.len();
    if n >= 2 && b[n - 1] == b[n - 2] && !matches!(b[n - 1], b'l' | b's' | b'z' | b'e' | b'o') {
        w.truncate(n - 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleans_mentions_links_markdown_and_emoji() {
        assert_eq!(
            words("@everyone <@123> **Can't** SLEEP 😴 https://x.y/z __help__!!"),
            ["cant", "sleep", "help"]
        );
        assert_eq!(
            words("blood-pressure\u{200B}\u{202E}\n\tok"),
            ["blood", "pressure", "ok"]
        );
        assert!(words("😴🙂 ??? \u{0000}").is_empty());
    }

    #[test]
    fn bounded() {
        let long = "sleep ".repeat(1000);
        assert_eq!(words(&long).len(), MAX_WORDS);
        let one = "a".repeat(6000);
        assert!(words(&one)[0].len() <= MAX_CHARS);
    }

    #[test]
    fn stems() {
        for (a, b) in [
            ("sleeping", "sleep"),
            ("sleeps", "sleep"),
            ("headaches", "headach"),
            ("headache", "headach"),
            ("babies", "baby"),
            ("stressed", "stress"),
            ("stress", "stress"),
            ("arthritis", "arthritis"),
            ("breathing", "breath"),
            ("breathe", "breath"),
            ("running", "run"),
            ("stressful", "stress"),
            ("sleepless", "sleep"),
            ("painful", "pain"),
        ] {
            assert_eq!(stem(a), b, "{a}");
        }
    }
}
