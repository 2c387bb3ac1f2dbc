//! Recognising a crisis (the rules of `knowledge/crisis.toml`) before
//! anything else is read into a message.
//!
//! Recall matters more than precision here: a caring reply to a figure of
//! speech costs little, a missed crisis a great deal. So phrase words may
//! have one word between them ("want to just die") and longer words one
//! typing slip ("suicidial"); the near-misses ("suicide squad") are spelled
//! out as `unless` phrases in the data.

use rustc_hash::FxHashMap as HashMap;

use super::text::{tokens, Token};
use crate::knowledge::{Crisis, CrisisKind};
use crate::matching::normalize;

/// Words at least this long match with one slip.
const TYPO_LEN: usize = 5;
/// How far around a match an `unless` phrase cancels it.
const UNLESS_REACH: usize = 5;

type WordId = u32;
type PhraseId = usize;

#[derive(Debug)]
struct Rule {
    kind: CrisisKind,
    phrases: Vec<PhraseId>,
    all: Vec<Vec<PhraseId>>,
    window: usize,
    unless: Vec<PhraseId>,
}

/// The compiled crisis rules: every word of every rule indexed once, so a
/// message costs a few hash lookups per word, not a comparison with every
/// phrase.
#[derive(Debug, Default)]
pub struct CrisisMatcher {
    words: Vec<String>,
    exact: HashMap<String, WordId>,
    stems: HashMap<String, Vec<WordId>>,
    /// A word of `TYPO_LEN` letters or more, and each string one deletion
    /// from it -> the word.
    deletes: HashMap<String, Vec<WordId>>,
    phrases: Vec<Vec<WordId>>,
    /// First word -> the phrases that start with it.
    starts: HashMap<WordId, Vec<PhraseId>>,
    /// Phrase -> where rules use it, so a message only visits the rules
    /// its phrases touch.
    roles: Vec<Vec<(usize, Role)>>,
    rules: Vec<Rule>,
}

/// How a rule uses a phrase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Phrase,
    Group(usize),
    Unless,
}

/// What one rule found in a message: (start, end) occurrences.
#[derive(Debug, Default)]
struct Hits {
    phrases: Vec<(usize, usize)>,
    groups: Vec<Vec<(usize, usize)>>,
    unless: Vec<(usize, usize)>,
}

impl CrisisMatcher {
    pub fn new(crisis: &Crisis) -> CrisisMatcher {
        let mut m = CrisisMatcher::default();
        let mut phrase_ids: HashMap<Vec<WordId>, PhraseId> = HashMap::default();
        let mut phrase = |m: &mut CrisisMatcher, text: &str| -> Option<PhraseId> {
            let ids: Vec<WordId> = tokens(text).into_iter().map(|t| m.word(&t.text)).collect();
            let first = *ids.first()?;
            Some(*phrase_ids.entry(ids.clone()).or_insert_with(|| {
                m.phrases.push(ids);
                let id = m.phrases.len() - 1;
                m.starts.entry(first).or_default().push(id);
                id
            }))
        };
        for r in &crisis.rules {
            let list = |m: &mut CrisisMatcher, texts: &[String], phrase: &mut dyn FnMut(&mut CrisisMatcher, &str) -> Option<PhraseId>| {
                texts.iter().filter_map(|t| phrase(m, t)).collect::<Vec<_>>()
            };
            let phrases = list(&mut m, &r.phrases, &mut phrase);
            let unless = list(&mut m, &r.unless, &mut phrase);
            let all = r.all.iter().map(|g| list(&mut m, g, &mut phrase)).collect();
            m.rules.push(Rule {
                kind: r.kind,
                phrases,
                all,
                window: r.window,
                unless,
            });
        }
        m.roles = vec![Vec::new(); m.phrases.len()];
        for (i, rule) in m.rules.iter().enumerate() {
            for &p in &rule.phrases {
                m.roles[p].push((i, Role::Phrase));
            }
            for (g, group) in rule.all.iter().enumerate() {
                for &p in group {
                    m.roles[p].push((i, Role::Group(g)));
                }
            }
            for &p in &rule.unless {
                m.roles[p].push((i, Role::Unless));
            }
        }
        m
    }

    fn word(&mut self, text: &str) -> WordId {
        if let Some(&id) = self.exact.get(text) {
            return id;
        }
        let id = self.words.len() as WordId;
        self.words.push(text.to_owned());
        self.exact.insert(text.to_owned(), id);
        self.stems
            .entry(normalize::stem(text))
            .or_default()
            .push(id);
        if text.len() >= TYPO_LEN && text.is_ascii() {
            for d in std::iter::once(text.to_owned()).chain(one_deletion(text)) {
                self.deletes.entry(d).or_default().push(id);
            }
        }
        id
    }

    /// The rule words a token is: itself, an inflection ("pills",
    /// "fainted") but not any word with a shared stem ("breathe" is not
    /// "breathless"), or, unless `ordinary` says it is a real word, one slip
    /// from a long word ("suicidial").
    fn words_of(&self, t: &Token, ordinary: bool) -> Vec<WordId> {
        let token = t.text.as_str();
        let mut out = Vec::new();
        if let Some(&id) = self.exact.get(token) {
            out.push(id);
        }
        for &id in self.stems.get(&t.stem).into_iter().flatten() {
            let word = &self.words[id as usize];
            let inflected = (token.starts_with(word.as_str()) && token.len() <= word.len() + 3)
                || (word.starts_with(token) && word.len() <= token.len() + 2);
            if inflected && !out.contains(&id) {
                out.push(id);
            }
        }
        if token.len() + 1 >= TYPO_LEN && token.is_ascii() && !ordinary {
            for d in std::iter::once(token.to_owned()).chain(one_deletion(token)) {
                for &id in self.deletes.get(&d).into_iter().flatten() {
                    let word = &self.words[id as usize];
                    if !out.contains(&id)
                        && token.len().abs_diff(word.len()) <= 1
                        && strsim::osa_distance(token, word) <= 1
                    {
                        out.push(id);
                    }
                }
            }
        }
        out
    }

    /// The crisis a message expresses, if any, with the index of the rule
    /// that said so; suicidal thoughts and self-harm before a medical
    /// emergency. `ordinary` (one per token) tells which are real words,
    /// not slips.
    pub fn find(&self, tokens: &[Token], ordinary: &[bool]) -> Option<(CrisisKind, usize)> {
        let words: Vec<Vec<WordId>> = tokens
            .iter()
            .zip(ordinary)
            .map(|(t, &o)| self.words_of(t, o))
            .collect();
        // Every occurrence of every phrase, filed under the rules using it.
        let mut hits: HashMap<usize, Hits> = HashMap::default();
        for (i, ws) in words.iter().enumerate() {
            for w in ws {
                for &p in self.starts.get(w).into_iter().flatten() {
                    let Some(end) = self.phrase_at(&words, i, &self.phrases[p]) else {
                        continue;
                    };
                    for &(rule, role) in &self.roles[p] {
                        let h = hits.entry(rule).or_default();
                        match role {
                            Role::Phrase => h.phrases.push((i, end)),
                            Role::Unless => h.unless.push((i, end)),
                            Role::Group(g) => {
                                if h.groups.len() <= g {
                                    h.groups.resize(g + 1, Vec::new());
                                }
                                h.groups[g].push((i, end));
                            }
                        }
                    }
                }
            }
        }
        let mut touched: Vec<usize> = hits.keys().copied().collect();
        touched.sort_unstable();
        let mut result = None;
        for i in touched {
            let rule = &self.rules[i];
            if rule.matches(&hits[&i]) {
                if rule.kind == CrisisKind::Mental {
                    return Some((CrisisKind::Mental, i));
                }
                result = result.or(Some((rule.kind, i)));
            }
        }
        result
    }

    /// Where a phrase starting at `i` ends (one extra word allowed between
    /// its words).
    fn phrase_at(&self, words: &[Vec<WordId>], i: usize, phrase: &[WordId]) -> Option<usize> {
        let mut at = i;
        for w in &phrase[1..] {
            let last = (at + 2).min(words.len().saturating_sub(1));
            at = (at + 1..=last).find(|&j| words[j].contains(w))?;
        }
        Some(at)
    }
}

fn one_deletion(word: &str) -> impl Iterator<Item = String> + '_ {
    (0..word.len()).map(move |i| {
        let mut d = word.to_owned();
        d.remove(i);
        d
    })
}

impl Rule {
    fn matches(&self, hits: &Hits) -> bool {
        let cancelled = |(start, end): (usize, usize)| {
            hits.unless
                .iter()
                .any(|&(s, e)| s <= end + UNLESS_REACH && e + UNLESS_REACH >= start)
        };
        if !self.phrases.is_empty() {
            return hits.phrases.iter().any(|&m| !cancelled(m));
        }
        // One phrase of every group, distinct places, within the window.
        let groups = &hits.groups;
        if self.all.is_empty() || groups.len() < self.all.len() || groups.iter().any(Vec::is_empty)
        {
            return false;
        }
        for &(start, end) in &groups[0] {
            let mut used = vec![start];
            let (mut lo, mut hi) = (start, end);
            let mut complete = true;
            for g in &groups[1..] {
                let next = g
                    .iter()
                    .filter(|(s, _)| !used.contains(s))
                    .filter(|(s, e)| hi.max(*e) - lo.min(*s) < self.window)
                    .min_by_key(|(s, _)| s.abs_diff(start));
                match next {
                    Some(&(s, e)) => {
                        used.push(s);
                        lo = lo.min(s);
                        hi = hi.max(e);
                    }
                    None => {
                        complete = false;
                        break;
                    }
                }
            }
            if complete && !cancelled((lo, hi)) {
                return true;
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matcher() -> CrisisMatcher {
        CrisisMatcher::new(&Crisis::embedded().expect("built-in crisis file"))
    }

    fn kind(text: &str) -> Option<CrisisKind> {
        let t = tokens(text);
        matcher().find(&t, &vec![false; t.len()]).map(|(k, _)| k)
    }

    #[test]
    fn phrases_gaps_and_typos() {
        assert_eq!(kind("i want to kill myself"), Some(CrisisKind::Mental));
        assert_eq!(
            kind("honestly i want to just die"),
            Some(CrisisKind::Mental)
        );
        assert_eq!(kind("feeling suicidial tonight"), Some(CrisisKind::Mental));
    }

    #[test]
    fn figures_of_speech_are_not_a_crisis() {
        for s in [
            "this deadline is killing me",
            "my back is killing me, would massage help",
            "i'd kill for a massage rn",
            "watched suicide squad last night",
            "overdosed on netflix this weekend",
        ] {
            assert_eq!(kind(s), None, "{s}");
        }
    }

    #[test]
    fn emergencies_need_every_sign() {
        assert_eq!(
            kind("one calf is red, hot and swollen"),
            Some(CrisisKind::Medical)
        );
        assert_eq!(kind("my calf is a bit tight after running"), None);
        assert_eq!(
            kind("chest feels super tight and my left arm is tingling"),
            Some(CrisisKind::Medical)
        );
        assert_eq!(kind("my chest is tight from coughing with a cold"), None);
    }
}
