//! Word lists: stopwords, and the words that reveal whether a question is
//! about benefits or about safety.

/// Words that never name a topic. Domain words ("massage", "therapy",
/// "help", "good for") are here because every query could contain them.
/// Words that are part of aliases ("back", "down", "up") are not.
pub const STOPWORDS: &[&str] = &[
    "a",
    "about",
    "after",
    "again",
    "all",
    "also",
    "am",
    "an",
    "and",
    "any",
    "anyone",
    "anything",
    "are",
    "as",
    "at",
    "be",
    "been",
    "before",
    "being",
    "benefit",
    "benefits",
    "best",
    "better",
    "bit",
    "but",
    "by",
    "can",
    "cant",
    "could",
    "dangerous",
    "day",
    "days",
    "did",
    "do",
    "does",
    "doing",
    "dont",
    "during",
    "effect",
    "effects",
    "else",
    "ever",
    "feel",
    "feels",
    "for",
    "from",
    "get",
    "gets",
    "getting",
    "give",
    "go",
    "going",
    "good",
    "got",
    "had",
    "has",
    "have",
    "having",
    "he",
    "hear",
    "heard",
    "hello",
    "help",
    "helpful",
    "helps",
    "her",
    "hey",
    "hi",
    "him",
    "his",
    "how",
    "i",
    "id",
    "if",
    "im",
    "in",
    "into",
    "is",
    "isnt",
    "it",
    "its",
    "ive",
    "just",
    "kind",
    "know",
    "lot",
    "lots",
    "massage",
    "massaged",
    "massages",
    "massaging",
    "me",
    "might",
    "month",
    "months",
    "more",
    "much",
    "my",
    "myself",
    "need",
    "of",
    "oh",
    "ok",
    "okay",
    "old",
    "on",
    "one",
    "or",
    "other",
    "our",
    "please",
    "pls",
    "plz",
    "read",
    "really",
    "risk",
    "risks",
    "risky",
    "safe",
    "safely",
    "safety",
    "said",
    "saw",
    "says",
    "she",
    "should",
    "so",
    "some",
    "someone",
    "something",
    "sort",
    "still",
    "such",
    "tell",
    "than",
    "thanks",
    "that",
    "the",
    "their",
    "them",
    "then",
    "therapeutic",
    "therapist",
    "therapists",
    "therapy",
    "there",
    "these",
    "they",
    "thing",
    "things",
    "this",
    "those",
    "to",
    "today",
    "tomorrow",
    "too",
    "treatment",
    "treatments",
    "u",
    "um",
    "very",
    "want",
    "was",
    "way",
    "we",
    "week",
    "weeks",
    "well",
    "were",
    "what",
    "whats",
    "when",
    "where",
    "whether",
    "which",
    "while",
    "who",
    "why",
    "will",
    "with",
    "work",
    "works",
    "would",
    "year",
    "years",
    "yesterday",
    "you",
    "your",
    "yours",
];

/// Words that make a question about safety.
const SAFETY_WORDS: &[&str] = &[
    "safe",
    "safely",
    "safety",
    "unsafe",
    "dangerous",
    "danger",
    "risk",
    "risks",
    "risky",
    "avoid",
    "harm",
    "harmful",
    "hurt",
    "okay",
    "ok",
    "allowed",
    "contraindicated",
    "contraindication",
    "contraindications",
    "careful",
    "wise",
    "advisable",
    "recommended",
    "precaution",
    "precautions",
    "side",
    "fine",
    "permitted",
];

/// Weaker safety cues: "can I", "should I", "while pregnant", "with varicose veins".
const WEAK_SAFETY_WORDS: &[&str] = &[
    "can", "should", "while", "with", "pregnant", "have", "if", "after", "during",
];

/// Words that make a question about benefits.
const BENEFIT_WORDS: &[&str] = &[
    "help",
    "helps",
    "helpful",
    "helping",
    "benefit",
    "benefits",
    "beneficial",
    "improve",
    "improves",
    "relieve",
    "relieves",
    "relief",
    "reduce",
    "reduces",
    "ease",
    "eases",
    "boost",
    "boosts",
    "treat",
    "treats",
    "effective",
    "lower",
    "lowers",
    "increase",
    "increases",
    "fix",
    "cure",
    "cures",
    "support",
];

/// Weaker benefit cues: "good for", "does it work".
const WEAK_BENEFIT_WORDS: &[&str] = &[
    "good", "better", "for", "work", "works", "useful", "does", "do",
];

pub fn is_stopword(word: &str) -> bool {
    STOPWORDS.binary_search(&word).is_ok()
}

/// A word that carries no topic: a stopword or a word of intent
/// ("improve", "dangerous").
pub fn is_filler(word: &str) -> bool {
    is_stopword(word)
        || SAFETY_WORDS.contains(&word)
        || BENEFIT_WORDS.contains(&word)
        || WEAK_BENEFIT_WORDS.contains(&word)
}

/// Which way a question leans: positive for safety, negative for benefits.
pub fn intent_lean(words: &[String]) -> i32 {
    let mut lean = 0;
    for (i, w) in words.iter().enumerate() {
        let w = w.as_str();
        if SAFETY_WORDS.contains(&w) {
            // "side effects" is a safety question; "side" alone is not a topic.
            if w != "side" || words.get(i + 1).is_some_and(|n| n.starts_with("effect")) {
                lean += 3;
            }
        } else if BENEFIT_WORDS.contains(&w) {
            lean -= 3;
        } else if WEAK_BENEFIT_WORDS.contains(&w) {
            lean -= 1;
        } else if WEAK_SAFETY_WORDS.contains(&w) {
            lean += 1;
        }
    }
    lean
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stopwords_are_sorted_for_binary_search() {
        let mut sorted = STOPWORDS.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted, STOPWORDS);
    }

    fn lean(s: &str) -> i32 {
        intent_lean(&crate::matching::normalize::words(s))
    }

    #[test]
    fn intents() {
        assert!(lean("is massage safe if I'm pregnant") > 0);
        assert!(lean("can massage help with migraines") < 0);
        assert!(lean("does massage improve circulation") < 0);
        assert!(lean("can I get a massage while pregnant") > 0);
        assert!(lean("should I avoid massage with varicose veins") > 0);
        assert!(lean("is it ok to get a massage with a cold") > 0);
        assert_eq!(lean("sleep"), 0);
    }
}
