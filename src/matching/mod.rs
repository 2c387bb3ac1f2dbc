//! Matching a user's words to a topic.
//!
//! `fuzzy-matcher` alone only finds subsequences, so "sleeep", "pregnent"
//! and "trouble sleeping" find nothing and its raw scores grow with length.
//! The pipeline here keeps it for what it is good at (partly typed words)
//! and puts word-level matching around it:
//!
//! 1. [`normalize`] cleans and bounds the text; stopwords and intent words go;
//! 2. each query word is compared with each distinct word of the topic
//!    names and aliases: exact or same stem (1.0), an optimal-string-alignment
//!    typo within a budget that grows with word length, a prefix (partly
//!    typed), and last a fuzzy subsequence;
//! 3. a phrase (id, title or alias) scores the idf-weighted mean of its words'
//!    best similarities, scaled by how much of the query it explains;
//! 4. the best phrase per topic is the topic's score, in 0..1, and the score
//!    falls into one of three bands: answer, "did you mean", not covered.

pub mod normalize;
mod words;

use std::collections::HashMap;

use fuzzy_matcher::skim::SkimMatcherV2;
use fuzzy_matcher::FuzzyMatcher;

use crate::knowledge::Knowledge;

pub use words::{filler_words, is_filler};

/// A topic's position in `Knowledge::topics`.
pub type TopicIndex = usize;

/// At or above this score the topic is answered.
pub const ANSWER: f32 = 0.78;
/// At or above this score a topic is offered as "did you mean".
pub const SUGGEST: f32 = 0.45;
/// The share of a phrase's score that does not depend on how much of the
/// query it explains.
const COVERAGE_FLOOR: f32 = 0.6;
/// Two answers closer than this are ambiguous.
const TIE: f32 = 0.04;

/// What the matcher made of a query.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Confident: answer this topic.
    Answer { topic: TopicIndex, score: f32 },
    /// Unsure: offer these (best first, at most 3).
    DidYouMean(Vec<TopicIndex>),
    /// Nothing close enough.
    NotCovered,
}

/// A scored topic.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scored {
    pub topic: TopicIndex,
    pub score: f32,
}

#[derive(Debug)]
struct Word {
    raw: String,
    stem: String,
    len: usize,
    hist: [u8; 26],
    /// Inverse document frequency over topics: rarer words say more.
    idf: f32,
}

#[derive(Debug)]
struct Phrase {
    topic: TopicIndex,
    words: Vec<usize>,
    weight: f32,
}

/// The search index over topic ids, titles and aliases.
pub struct Matcher {
    words: Vec<Word>,
    phrases: Vec<Phrase>,
    /// Raw word or stem to word index.
    exact: HashMap<String, Vec<usize>>,
    /// Word index to the phrases containing it.
    phrases_of: Vec<Vec<usize>>,
    topics: usize,
    /// "id title aliases" per topic, for fuzzy autocomplete of a few letters.
    haystacks: Vec<String>,
    /// Built once: it keeps its scoring buffers between queries.
    skim: SkimMatcherV2,
}

impl std::fmt::Debug for Matcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Matcher")
            .field("topics", &self.topics)
            .field("words", &self.words.len())
            .field("phrases", &self.phrases.len())
            .finish_non_exhaustive()
    }
}

/// Words of a phrase or query that can name a topic.
pub fn content_words(text: &str) -> Vec<String> {
    normalize::words(text)
        .into_iter()
        .filter(|w| !words::is_filler(w) && !w.bytes().all(|b| b.is_ascii_digit()))
        .collect()
}

fn histogram(word: &str) -> [u8; 26] {
    let mut h = [0u8; 26];
    for b in word.bytes() {
        if b.is_ascii_lowercase() {
            h[(b - b'a') as usize] = h[(b - b'a') as usize].saturating_add(1);
        }
    }
    h
}

fn hist_distance(a: &[u8; 26], b: &[u8; 26]) -> usize {
    a.iter().zip(b).map(|(x, y)| x.abs_diff(*y) as usize).sum()
}

/// Edits tolerated in a word of this length.
pub(crate) fn typo_budget(len: usize) -> usize {
    match len {
        0..=3 => 0,
        4..=6 => 1,
        7..=10 => 2,
        _ => 3,
    }
}

/// Similarity of a typo. Short words have many real neighbours
/// ("pain"/"rain"), so one substituted letter there only suggests; a missing,
/// extra or swapped letter ("slep", "pian") is a likelier slip.
pub(crate) fn typo_similarity(len: usize, edits: usize, substitution: bool) -> f32 {
    match (len, edits) {
        (_, 0) => 1.0,
        (0..=4, 1) if substitution => 0.7,
        (0..=4, 1) => 0.8,
        (5, 1) => 0.8,
        (_, 1) => 0.88,
        (_, 2) => 0.8,
        _ => 0.78,
    }
}

/// Whether a one-edit pair is a substitution (same length, different letters).
pub(crate) fn is_substitution(a: &str, b: &str) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let (mut x, mut y): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    x.sort_unstable();
    y.sort_unstable();
    x != y
}

impl Matcher {
    pub fn new(knowledge: &Knowledge) -> Self {
        let mut m = Matcher {
            words: Vec::new(),
            phrases: Vec::new(),
            exact: HashMap::new(),
            phrases_of: Vec::new(),
            topics: knowledge.topics.len(),
            haystacks: knowledge
                .topics
                .iter()
                .map(|t| format!("{} {} {}", t.id, t.title, t.aliases.join(" ")).to_lowercase())
                .collect(),
            skim: SkimMatcherV2::default().ignore_case(),
        };
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut df: Vec<Vec<TopicIndex>> = Vec::new();
        for (t, topic) in knowledge.topics.iter().enumerate() {
            let names = std::iter::once(topic.id.as_str().replace('-', " "))
                .chain(std::iter::once(topic.title.clone()))
                .chain(topic.aliases.iter().cloned());
            for (n, name) in names.enumerate() {
                let mut ws = content_words(&name);
                if ws.is_empty() {
                    ws = normalize::words(&name);
                }
                if ws.is_empty() {
                    continue;
                }
                // "backpain" for "back pain": people drop spaces.
                let joined = (ws.len() > 1).then(|| ws.concat());
                for ws in std::iter::once(ws).chain(joined.map(|j| vec![j])) {
                    let ids: Vec<usize> = ws
                        .iter()
                        .map(|w| {
                            *index.entry(w.clone()).or_insert_with(|| {
                                m.words.push(Word {
                                    raw: w.clone(),
                                    stem: normalize::stem(w),
                                    len: w.chars().count(),
                                    hist: histogram(w),
                                    idf: 0.0,
                                });
                                df.push(Vec::new());
                                m.words.len() - 1
                            })
                        })
                        .collect();
                    for &i in &ids {
                        if !df[i].contains(&t) {
                            df[i].push(t);
                        }
                    }
                    // The id and title are what a topic is; aliases a shade less.
                    let weight = if n < 2 { 1.0 } else { 0.98 };
                    m.phrases.push(Phrase {
                        topic: t,
                        words: ids,
                        weight,
                    });
                }
            }
        }
        let n = m.topics.max(1) as f32;
        for (i, w) in m.words.iter_mut().enumerate() {
            w.idf = (1.0 + n / df[i].len().max(1) as f32).ln();
            m.exact.entry(w.raw.clone()).or_default().push(i);
            if w.stem != w.raw {
                m.exact.entry(w.stem.clone()).or_default().push(i);
            }
        }
        m.phrases_of = vec![Vec::new(); m.words.len()];
        for (p, phrase) in m.phrases.iter().enumerate() {
            for &w in &phrase.words {
                if !m.phrases_of[w].contains(&p) {
                    m.phrases_of[w].push(p);
                }
            }
        }
        m
    }

    /// Best similarity of each index word to some query word: (sim, query word).
    fn word_hits(&self, query: &[String]) -> HashMap<usize, (f32, usize)> {
        let skim = &self.skim;
        let mut hits: HashMap<usize, (f32, usize)> = HashMap::new();
        let mut record = |w: usize, sim: f32, q: usize| {
            let e = hits.entry(w).or_insert((0.0, q));
            if sim > e.0 {
                *e = (sim, q);
            }
        };
        for (qi, q) in query.iter().enumerate() {
            let stem = normalize::stem(q);
            let mut found = false;
            for key in [q, &stem] {
                for &w in self.exact.get(key.as_str()).into_iter().flatten() {
                    record(w, 1.0, qi);
                    found = true;
                }
            }
            if found {
                continue;
            }
            let qlen = q.chars().count();
            let qhist = histogram(q);
            let budget = typo_budget(qlen);
            for (wi, w) in self.words.iter().enumerate() {
                let mut sim = 0.0f32;
                if budget > 0
                    && w.len.abs_diff(qlen) <= budget
                    && hist_distance(&qhist, &w.hist) <= 2 * budget
                {
                    let d =
                        strsim::osa_distance(q, &w.raw).min(strsim::osa_distance(&stem, &w.stem));
                    if d <= budget {
                        sim = typo_similarity(qlen.min(w.len), d, is_substitution(q, &w.raw));
                    }
                }
                if qlen >= 3 && w.len > qlen && w.raw.starts_with(q.as_str()) {
                    // Three letters fit too many words to answer on.
                    let prefix = if qlen == 3 {
                        0.7
                    } else {
                        0.7 + 0.25 * qlen as f32 / w.len as f32
                    };
                    sim = sim.max(prefix);
                }
                if sim == 0.0
                    && qlen >= 4
                    && w.len > qlen
                    && w.raw.chars().next() == q.chars().next()
                {
                    if let Some(score) = skim.fuzzy_match(&w.raw, q) {
                        // Normalise by the score of a perfect match, so
                        // longer words don't win by length.
                        let perfect = skim.fuzzy_match(&w.raw, &w.raw).unwrap_or(1).max(1);
                        let ratio = (score as f32 / perfect as f32).clamp(0.0, 1.0);
                        sim = 0.5 + 0.25 * ratio;
                    }
                }
                if sim > 0.0 {
                    record(wi, sim, qi);
                }
            }
        }
        hits
    }

    /// Every topic with some similarity to the query words, best first.
    /// `query` is raw user text.
    pub fn rank(&self, query: &str) -> Vec<Scored> {
        self.analyse(query).ranked
    }

    /// Matches a query once: everything the bands, the head-word rule and
    /// the suggestions need.
    pub fn analyse(&self, query: &str) -> Analysis {
        let words = content_words(query);
        let hits = self.word_hits(&words);
        // The last content word is, in English, usually the head of the
        // phrase ("covid *vaccine*", "breast *cancer*"); the words before it
        // only narrow what it names.
        let last = words.len().saturating_sub(1);
        let head_explained =
            words.len() < 2 || hits.values().any(|&(sim, q)| q == last && sim >= ANSWER);
        Analysis {
            ranked: self.rank_hits(&words, &hits),
            content_words: words.len(),
            head_explained,
        }
    }

    fn rank_hits(&self, query: &[String], hits: &HashMap<usize, (f32, usize)>) -> Vec<Scored> {
        if query.is_empty() {
            return Vec::new();
        }
        // How much each query word says: the idf of what it matched best, or
        // that of a rare word when it matched nothing (an unexplained word
        // makes a match less certain).
        let unknown = (1.0 + self.topics.max(1) as f32).ln();
        let mut weight = vec![unknown; query.len()];
        let mut strength = vec![0.0f32; query.len()];
        for (&w, &(sim, q)) in hits {
            let idf = self.words[w].idf;
            // Among equally good matches, the commonest meaning decides
            // ("painful" is an alias, but its stem "pain" is everywhere).
            if sim > strength[q] || (sim == strength[q] && idf < weight[q]) {
                strength[q] = sim;
                weight[q] = idf;
            }
        }
        let total: f32 = weight.iter().sum();
        let mut best = vec![0.0f32; self.topics];
        let mut seen = vec![false; self.phrases.len()];
        let mut used = Vec::with_capacity(query.len());
        for &w in hits.keys() {
            for &p in &self.phrases_of[w] {
                if std::mem::replace(&mut seen[p], true) {
                    continue;
                }
                let phrase = &self.phrases[p];
                let (mut num, mut den) = (0.0f32, 0.0f32);
                used.clear();
                for &pw in &phrase.words {
                    let idf = self.words[pw].idf;
                    den += idf;
                    if let Some(&(sim, q)) = hits.get(&pw) {
                        num += sim * idf;
                        if !used.contains(&q) {
                            used.push(q);
                        }
                    }
                }
                let sim = if den > 0.0 { num / den } else { 0.0 };
                let coverage =
                    used.iter().map(|&q| weight[q]).sum::<f32>() / total.max(f32::EPSILON);
                let score =
                    sim * (COVERAGE_FLOOR + (1.0 - COVERAGE_FLOOR) * coverage) * phrase.weight;
                let b = &mut best[phrase.topic];
                *b = b.max(score);
            }
        }
        let mut ranked: Vec<Scored> = best
            .into_iter()
            .enumerate()
            .filter(|(_, s)| *s > 0.0)
            .map(|(topic, score)| Scored {
                topic,
                score: score.clamp(0.0, 1.0),
            })
            .collect();
        ranked.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.topic.cmp(&b.topic)));
        ranked
    }

    /// Topics whose names contain the letters of `partial` in order (for
    /// autocomplete of a word still being typed), best first.
    pub fn rank_prefix(&self, partial: &str) -> Vec<TopicIndex> {
        let pattern: String = normalize::words(partial).join(" ");
        if pattern.is_empty() {
            return Vec::new();
        }
        let skim = &self.skim;
        let mut scored: Vec<(i64, TopicIndex)> = self
            .haystacks
            .iter()
            .enumerate()
            .filter_map(|(t, h)| skim.fuzzy_match(h, &pattern).map(|s| (s, t)))
            .collect();
        scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        scored.into_iter().map(|(_, t)| t).collect()
    }
}

/// A query as the matcher saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct Analysis {
    /// Every topic with some similarity, best first.
    pub ranked: Vec<Scored>,
    /// How many words could name a topic.
    pub content_words: usize,
    /// Whether the phrase's head word (its last content word) matched a
    /// topic word well enough to answer on.
    pub head_explained: bool,
}

impl Analysis {
    /// Sorts the query into a band. `prefer` breaks near-ties in favour of
    /// topics that have the section asked for.
    pub fn classify(&self, prefer: impl Fn(TopicIndex) -> bool) -> Outcome {
        classify_ranked(&self.ranked, prefer)
    }
}

fn classify_ranked(ranked: &[Scored], prefer: impl Fn(TopicIndex) -> bool) -> Outcome {
    let Some(top) = ranked.first() else {
        return Outcome::NotCovered;
    };
    if top.score >= ANSWER {
        let close: Vec<&Scored> = ranked
            .iter()
            .take_while(|s| top.score - s.score < TIE)
            .collect();
        if close.len() == 1 {
            return Outcome::Answer {
                topic: top.topic,
                score: top.score,
            };
        }
        let preferred: Vec<&&Scored> = close.iter().filter(|s| prefer(s.topic)).collect();
        if let [only] = preferred.as_slice() {
            return Outcome::Answer {
                topic: only.topic,
                score: only.score,
            };
        }
        return Outcome::DidYouMean(close.iter().take(3).map(|s| s.topic).collect());
    }
    let suggestions: Vec<TopicIndex> = ranked
        .iter()
        .take_while(|s| s.score >= SUGGEST)
        .take(3)
        .map(|s| s.topic)
        .collect();
    if suggestions.is_empty() {
        Outcome::NotCovered
    } else {
        Outcome::DidYouMean(suggestions)
    }
}
