//! Finding every topic a message names, wherever it names it.
//!
//! The lexicon holds every phrase that names a topic (ids, titles, aliases
//! and the vocabulary) and every look-alike that names nothing. A phrase is
//! found when all its words occur close together, in any order ("pain in my
//! lower back" is "lower back pain"), each word exactly, by its stem, or,
//! for a word the lexicon does not know, within a few typing slips. Where
//! found phrases overlap, the longer one wins ("heart rate" is not "heart";
//! "sleeping bag" is not sleep).
//!
//! Typos are looked up in a deletion index (the SymSpell idea): every
//! string one or two deletions away from a lexicon word, so a query word
//! costs a few hash lookups instead of a comparison with every word.

use rustc_hash::FxHashMap as HashMap;

use super::text::{tokens, Token};
use crate::matching::{is_substitution, normalize, typo_budget, typo_similarity};

/// A topic's position in `Knowledge::topics`.
pub type TopicIndex = usize;
/// A term's position in `Vocabulary::terms`.
pub type TermIndex = usize;

type WordId = u32;
type EntryId = u32;

/// How many extra words may sit between the words of a phrase.
const GAP: usize = 2;
/// How sure a match by stem is: below an exact match, above any typo.
const STEM_SIM: f32 = 0.99;
/// Words this short are never corrected: too many real words are one slip
/// away from each other ("pain"/"rain").
const MIN_TYPO_LEN: usize = 4;

/// What a phrase names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Topic(TopicIndex),
    /// A look-alike: it names nothing and hides the words it covers.
    Nothing,
    /// A sign the message is about something else (homework, a film).
    OffTopic,
    /// A word of another subject (a laptop, a recipe): about it only when
    /// the message asks nothing about massage.
    Elsewhere,
}

/// A phrase to put in the lexicon.
#[derive(Debug, Clone)]
pub struct Phrase<'a> {
    pub text: &'a str,
    pub target: Target,
    /// Matched only where every word was typed in capitals.
    pub caps: bool,
    /// Names the topic only when the message says little else.
    pub weak: bool,
    pub term: Option<TermIndex>,
}

#[derive(Debug)]
struct Entry {
    words: Vec<WordId>,
    target: Target,
    caps: bool,
    weak: bool,
    term: Option<TermIndex>,
}

#[derive(Debug)]
struct Word {
    text: String,
    len: usize,
}

/// What kind of word a token is, which decides how loosely it may match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WordClass {
    /// A stopword, cue or greeting: matches only itself ("feels" is not
    /// "feelings").
    Function,
    /// An ordinary English word: itself or its stem, never a typo ("dough"
    /// is not "cough").
    Dictionary,
    /// Anything else: possibly a typing slip of a topic word.
    Unknown,
}

/// A phrase found in a message.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    pub target: Target,
    /// Token positions of its words, in message order.
    pub positions: Vec<usize>,
    /// The weakest word match: 1.0 exact, lower for a typo.
    pub sim: f32,
    pub weak: bool,
    pub term: Option<TermIndex>,
}

/// The phrase index.
#[derive(Debug, Default)]
pub struct Lexicon {
    words: Vec<Word>,
    /// A word -> the lexicon word it is.
    keys: HashMap<String, Vec<WordId>>,
    /// A stem -> the lexicon words with that stem.
    stems: HashMap<String, Vec<WordId>>,
    /// (hash of a string one or two deletions from a lexicon word, the
    /// word), sorted by hash: a flat table, cheap to build at every start.
    /// Hash collisions only add candidates, which the edit distance checks.
    deletes: Vec<(u64, WordId)>,
    /// The longest typo target: a longer token is more than two edits
    /// from every one of them, so its deletions need not be hashed (for a
    /// 6,000-letter "word" that would be 18 million hashes).
    longest_target: usize,
    entries: Vec<Entry>,
    by_word: Vec<Vec<EntryId>>,
}

/// Small words dropped from phrases: "pain in my back" needs no "my".
fn droppable(word: &str) -> bool {
    matches!(
        word,
        "a" | "an" | "the" | "my" | "your" | "his" | "her" | "their" | "our"
    )
}

impl Lexicon {
    pub fn new<'a>(phrases: impl IntoIterator<Item = Phrase<'a>>) -> Lexicon {
        let mut lex = Lexicon::default();
        let mut ids: HashMap<String, WordId> = HashMap::default();
        for p in phrases {
            let all: Vec<String> = tokens(p.text).into_iter().map(|t| t.text).collect();
            let mut words: Vec<String> = all.iter().filter(|w| !droppable(w)).cloned().collect();
            if words.is_empty() {
                words = all;
            }
            if words.is_empty() {
                continue;
            }
            // People drop spaces: "backpain", "selfcare".
            let joined = (!p.caps && (2..=3).contains(&words.len()))
                .then(|| words.concat())
                .filter(|j| j.chars().count() <= 20);
            for ws in std::iter::once(words).chain(joined.map(|j| vec![j])) {
                let word_ids: Vec<WordId> = ws
                    .iter()
                    .map(|w| {
                        *ids.entry(w.clone()).or_insert_with(|| {
                            lex.words.push(Word {
                                text: w.clone(),
                                len: w.chars().count(),
                            });
                            lex.by_word.push(Vec::new());
                            (lex.words.len() - 1) as WordId
                        })
                    })
                    .collect();
                let entry = lex.entries.len() as EntryId;
                for &w in &word_ids {
                    let list = &mut lex.by_word[w as usize];
                    if !list.contains(&entry) {
                        list.push(entry);
                    }
                }
                lex.entries.push(Entry {
                    words: word_ids,
                    target: p.target,
                    caps: p.caps,
                    weak: p.weak,
                    term: p.term,
                });
            }
        }
        for (i, w) in lex.words.iter().enumerate() {
            let id = i as WordId;
            push_unique(lex.keys.entry(w.text.clone()).or_default(), id);
            push_unique(lex.stems.entry(normalize::stem(&w.text)).or_default(), id);
        }
        // Only words some lower-case phrase uses can be typo targets:
        // "MS" typed as "ns" is not multiple sclerosis.
        let mut typo_target = vec![false; lex.words.len()];
        for e in lex.entries.iter().filter(|e| !e.caps) {
            for &w in &e.words {
                typo_target[w as usize] = true;
            }
        }
        for (i, w) in lex.words.iter().enumerate() {
            if typo_target[i] && w.len >= MIN_TYPO_LEN && w.text.is_ascii() {
                let id = i as WordId;
                lex.longest_target = lex.longest_target.max(w.len);
                lex.deletes
                    .extend(deletion_hashes(w.text.as_bytes(), max_edits(w.len)).map(|h| (h, id)));
            }
        }
        lex.deletes.sort_unstable();
        lex.deletes.dedup();
        lex
    }

    /// Lexicon words a token may be, with how sure: exact or same stem
    /// (1.0), or a typo of a word the lexicon has, as its class allows.
    fn candidates(&self, t: &Token, class: WordClass) -> Vec<(WordId, f32)> {
        let token = t.text.as_str();
        let mut out: Vec<(WordId, f32)> = Vec::new();
        // A function word matches only itself ("feels" is not "feelings");
        // other words match their stem too, a shade less surely, so that
        // the word as typed wins ("scared" is anxiety, not "scar").
        for &w in self.keys.get(token).into_iter().flatten() {
            out.push((w, 1.0));
        }
        if class != WordClass::Function {
            for &w in self.stems.get(&t.stem).into_iter().flatten() {
                if !out.iter().any(|(x, _)| *x == w) {
                    // Among words with the same stem, one the token extends
                    // ("scars" of "scar") before one it merely shares a stem
                    // with ("scared").
                    let text = &self.words[w as usize].text;
                    let extends = token.starts_with(text.as_str()) || text.starts_with(token);
                    out.push((w, if extends { STEM_SIM } else { STEM_SIM - 0.01 }));
                }
            }
        }
        let len = token.chars().count();
        if !out.is_empty()
            || len < MIN_TYPO_LEN
            || len > self.longest_target + 2
            || !token.is_ascii()
            || class != WordClass::Unknown
        {
            return out;
        }
        let mut near: Vec<WordId> = Vec::new();
        for h in deletion_hashes(token.as_bytes(), max_edits(len + 1)) {
            let from = self.deletes.partition_point(|(x, _)| *x < h);
            near.extend(
                self.deletes[from..]
                    .iter()
                    .take_while(|(x, _)| *x == h)
                    .map(|(_, w)| *w),
            );
        }
        near.sort_unstable();
        near.dedup();
        for w in near {
            if out.iter().any(|(x, _)| *x == w) {
                continue;
            }
            let word = &self.words[w as usize];
            let short = len.min(word.len);
            let budget = typo_budget(short).min(max_edits(len.max(word.len)));
            let dist = strsim::osa_distance(token, &word.text);
            let substitution = is_substitution(token, &word.text);
            if dist == 0 || dist > budget || (dist == 1 && short <= 4 && substitution) {
                continue;
            }
            out.push((w, typo_similarity(short, dist, substitution)));
        }
        out
    }

    /// Every phrase the tokens contain, longest first where they overlap.
    /// `classes` (one per token) tell how loosely each may match.
    pub fn find(&self, tokens: &[Token], classes: &[WordClass]) -> Vec<Found> {
        let mut positions: HashMap<WordId, Vec<(usize, f32)>> = HashMap::default();
        for (i, (t, &class)) in tokens.iter().zip(classes).enumerate() {
            for (w, sim) in self.candidates(t, class) {
                positions.entry(w).or_default().push((i, sim));
            }
        }
        let mut tried = vec![false; self.entries.len()];
        let mut found = Vec::new();
        for w in positions.keys() {
            for &e in &self.by_word[*w as usize] {
                if !std::mem::replace(&mut tried[e as usize], true) {
                    self.match_entry(&self.entries[e as usize], tokens, &positions, &mut found);
                }
            }
        }
        // Longer phrases first; a word belongs to one phrase only.
        found.sort_by(|a, b| {
            b.positions
                .len()
                .cmp(&a.positions.len())
                .then(b.sim.total_cmp(&a.sim))
                .then(a.positions.cmp(&b.positions))
        });
        let mut taken = vec![false; tokens.len()];
        let mut kept = Vec::new();
        for f in found {
            if f.positions.iter().any(|&p| taken[p]) {
                continue;
            }
            for &p in &f.positions {
                taken[p] = true;
            }
            kept.push(f);
        }
        kept
    }

    fn match_entry(
        &self,
        entry: &Entry,
        tokens: &[Token],
        positions: &HashMap<WordId, Vec<(usize, f32)>>,
        found: &mut Vec<Found>,
    ) {
        let mut lists: Vec<Vec<(usize, f32)>> = Vec::with_capacity(entry.words.len());
        for w in &entry.words {
            let Some(list) = positions.get(w) else { return };
            let list: Vec<(usize, f32)> = list
                .iter()
                .copied()
                // Abbreviations as typed; look-alikes word for word ("heart
                // skipped a beat" is an idiom, "heart skips beats" is not).
                .filter(|&(p, sim)| {
                    let exact = sim == 1.0;
                    (!entry.caps || (tokens[p].caps && exact))
                        && (matches!(entry.target, Target::Topic(_)) || exact)
                })
                .collect();
            if list.is_empty() {
                return;
            }
            lists.push(list);
        }
        let make = |mut pos: Vec<usize>, sim: f32| {
            pos.sort_unstable();
            Found {
                target: entry.target,
                positions: pos,
                sim,
                weak: entry.weak,
                term: entry.term,
            }
        };
        if lists.len() == 1 {
            for &(p, sim) in &lists[0] {
                found.push(make(vec![p], sim));
            }
            return;
        }
        let k = lists.len();
        // A look-alike must read in order ("cancer zodiac", never "signs of
        // cancer"); a topic's words may come in any order.
        let ordered = !matches!(entry.target, Target::Topic(_));
        let mut best: Option<(usize, Vec<usize>, f32)> = None;
        for &(anchor, anchor_sim) in &lists[0] {
            let mut chosen = vec![anchor];
            let mut sim = anchor_sim;
            for list in &lists[1..] {
                let last = *chosen.last().unwrap_or(&anchor);
                let next = if ordered {
                    list.iter()
                        .filter(|(p, _)| *p > last && *p <= last + 1 + GAP)
                        .min_by_key(|(p, _)| *p)
                } else {
                    list.iter()
                        .filter(|(p, _)| !chosen.contains(p))
                        .min_by_key(|(p, _)| p.abs_diff(anchor))
                };
                let Some(&(p, s)) = next else { break };
                chosen.push(p);
                sim = sim.min(s);
            }
            if chosen.len() < k {
                continue;
            }
            let lo = chosen.iter().min().copied().unwrap_or(anchor);
            let hi = chosen.iter().max().copied().unwrap_or(anchor);
            let span = hi - lo + 1;
            if span <= k + GAP && best.as_ref().is_none_or(|(s, _, _)| span < *s) {
                best = Some((span, chosen, sim));
            }
        }
        if let Some((_, pos, sim)) = best {
            found.push(make(pos, sim));
        }
    }
}

fn push_unique(list: &mut Vec<WordId>, id: WordId) {
    if !list.contains(&id) {
        list.push(id);
    }
}

/// Edits looked for in a word this long.
fn max_edits(len: usize) -> usize {
    if len >= 8 {
        2
    } else {
        1
    }
}

/// The word and every string up to `edits` deletions from it.
/// The hashes of a word and of every string up to `edits` deletions from
/// it, without building the strings (ASCII words only: the callers check).
fn deletion_hashes(word: &[u8], edits: usize) -> impl Iterator<Item = u64> {
    use std::hash::Hasher;
    let hash = |skip: &[usize]| {
        let mut h = rustc_hash::FxHasher::default();
        for (i, b) in word.iter().enumerate() {
            if !skip.contains(&i) {
                h.write_u8(*b);
            }
        }
        h.write_usize(word.len() - skip.len());
        h.finish()
    };
    let n = word.len();
    let mut out = vec![hash(&[])];
    if edits >= 1 && n > 2 {
        out.extend((0..n).map(|i| hash(&[i])));
    }
    if edits >= 2 && n > 3 {
        for i in 0..n {
            out.extend((i + 1..n).map(|j| hash(&[i, j])));
        }
    }
    out.sort_unstable();
    out.dedup();
    out.into_iter()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lexicon() -> Lexicon {
        let p = |text, target| Phrase {
            text,
            target,
            caps: false,
            weak: false,
            term: None,
        };
        Lexicon::new([
            p("sleep", Target::Topic(0)),
            p("insomnia", Target::Topic(0)),
            p("lower back pain", Target::Topic(1)),
            p("pain", Target::Topic(2)),
            p("heart", Target::Topic(3)),
            p("heart rate", Target::Topic(4)),
            p("sleeping bag", Target::Nothing),
            Phrase {
                text: "MS",
                target: Target::Topic(5),
                caps: true,
                weak: false,
                term: None,
            },
        ])
    }

    fn topics(text: &str) -> Vec<Target> {
        let t = tokens(text);
        let mut f = lexicon().find(&t, &vec![WordClass::Unknown; t.len()]);
        f.sort_by_key(|f| f.positions[0]);
        f.into_iter().map(|f| f.target).collect()
    }

    #[test]
    fn phrases_in_any_order_and_the_longest_wins() {
        assert_eq!(topics("pain in my lower back"), [Target::Topic(1)]);
        assert_eq!(topics("my heart rate is high"), [Target::Topic(4)]);
        assert_eq!(
            topics("bad heart and cant sleep"),
            [Target::Topic(3), Target::Topic(0)]
        );
        assert_eq!(topics("which sleeping bag"), [Target::Nothing]);
        // Look-alikes only in their own order.
        assert_eq!(topics("bag for sleeping in"), [Target::Topic(0)]);
    }

    #[test]
    fn typos_of_unknown_words_only() {
        assert_eq!(topics("insomnya again"), [Target::Topic(0)]);
        assert_eq!(topics("sleeep"), [Target::Topic(0)]);
        let lex = lexicon();
        // An ordinary word is not a typo.
        assert!(lex
            .find(&tokens("sleek"), &[WordClass::Dictionary])
            .is_empty());
    }

    #[test]
    fn capitals_only_where_typed() {
        assert_eq!(topics("I have MS"), [Target::Topic(5)]);
        assert!(topics("ms smith").is_empty());
    }

    #[test]
    fn deletion_hashes_are_complete() {
        let one: Vec<u64> = deletion_hashes(b"abcd", 1).collect();
        assert_eq!(one.len(), 5);
        let abd: Vec<u64> = deletion_hashes(b"abd", 0).collect();
        assert!(one.contains(&abd[0]));
        // Two deletions of "abcde" include "ace".
        let two: Vec<u64> = deletion_hashes(b"abcde", 2).collect();
        let ace: Vec<u64> = deletion_hashes(b"ace", 0).collect();
        assert!(two.contains(&ace[0]));
    }
}
