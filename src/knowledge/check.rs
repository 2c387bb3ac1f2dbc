//! Validation of a knowledge file: collects every problem, each with the
//! topic and line it belongs to.

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use toml::Spanned;

use super::quote;
use super::raw::{RawKnowledge, RawSentence};
use super::{
    Advice, AdviceId, Backing, Caveat, Cite, Exclusion, Knowledge, KnowledgeError, Place, Problem,
    Safety, Section, Sentence, Source, SourceDir, SourceId, Tip, Topic, TopicId,
};

/// Longest caveat accepted: it is appended to every reply, so it must leave
/// room for the answer within Discord's limits (an embed footer is 2048).
const MAX_CAVEAT: usize = 600;
/// Longest single text (summary, point, tip) accepted.
pub(super) const MAX_TEXT: usize = 900;
/// Longest title: an autocomplete choice name (100) is the title plus a
/// note of up to 28 characters such as " (no safety note in sources)".
const MAX_TITLE: usize = 70;
/// Longest alias: aliases are matched against capped queries.
pub(super) const MAX_ALIAS: usize = 60;
/// The most of all sentences that may be the bot's own general advice:
/// the bot answers from its sources, and its own advice stays a small part.
pub const MAX_ADVICE_SHARE: f64 = 0.15;

/// Collects problems with the line they are on. Shared by the checks of
/// every curated file (knowledge, vocabulary, crisis).
pub(super) struct Checker<'a> {
    origin: &'a str,
    text: &'a str,
    pub(super) problems: Vec<Problem>,
}

impl<'a> Checker<'a> {
    pub(super) fn new(origin: &'a str, text: &'a str) -> Self {
        Checker {
            origin,
            text,
            problems: Vec::new(),
        }
    }

    /// Parses TOML, or records where the syntax or the schema is wrong.
    pub(super) fn parse<T: serde::de::DeserializeOwned>(&mut self) -> Option<T> {
        match toml::from_str(self.text) {
            Ok(raw) => Some(raw),
            Err(e) => {
                let span = e.span().unwrap_or(0..0);
                // Not TOML at all, or TOML that does not fit the schema.
                let what = if toml::from_str::<toml::Table>(self.text).is_err() {
                    "TOML syntax error"
                } else {
                    "schema error"
                };
                self.at(&span, None, format!("{what}: {}", e.message()));
                None
            }
        }
    }

    fn line(&self, span: &Range<usize>) -> usize {
        let end = span.start.min(self.text.len());
        self.text.as_bytes()[..end]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1
    }

    pub(super) fn at(
        &mut self,
        span: &Range<usize>,
        topic: Option<&str>,
        message: impl Into<String>,
    ) {
        let location = format!("{}:{}", self.origin, self.line(span));
        self.problems.push(Problem {
            location,
            topic: topic.map(str::to_owned),
            message: message.into(),
        });
    }

    pub(super) fn text_field(
        &mut self,
        field: &Spanned<String>,
        topic: Option<&str>,
        what: &str,
        max: usize,
    ) -> String {
        let value = field.get_ref().trim();
        if value.is_empty() {
            self.at(&field.span(), topic, format!("{what} is empty"));
        } else if value.chars().count() > max {
            self.at(
                &field.span(),
                topic,
                format!(
                    "{what} is {} characters; at most {max} fit in a reply",
                    value.chars().count()
                ),
            );
        }
        if value.chars().any(|c| c.is_control() && c != '\n') {
            self.at(
                &field.span(),
                topic,
                format!("{what} contains control characters"),
            );
        }
        value.to_owned()
    }
}

pub(super) fn parse_and_validate(
    text: &str,
    origin: &str,
    source_dir: &SourceDir,
) -> Result<Knowledge, KnowledgeError> {
    let invalid = |problems| KnowledgeError::Invalid {
        origin: origin.to_owned(),
        problems,
    };
    let mut c = Checker::new(origin, text);
    let Some(raw) = c.parse::<RawKnowledge>() else {
        return Err(invalid(c.problems));
    };

    let caveat = match &raw.caveat {
        Some(caveat) => Caveat(c.text_field(caveat, None, "caveat", MAX_CAVEAT)),
        None => {
            c.at(
                &(0..0),
                None,
                "missing `caveat`: every reply must carry the doctor caveat",
            );
            Caveat(String::new())
        }
    };

    // Sources.
    let mut sources = Vec::new();
    let mut folded: HashMap<SourceId, String> = HashMap::new();
    for s in &raw.sources {
        let span = s.span();
        let s = s.get_ref();
        let id = match SourceId::parse(s.id.get_ref()) {
            Ok(id) => id,
            Err(e) => {
                c.at(&s.id.span(), None, e.to_string());
                continue;
            }
        };
        if folded.contains_key(&id) {
            c.at(&span, None, format!("duplicate source id `{id}`"));
            continue;
        }
        let Some(doc) = source_dir.read(s.file.get_ref()) else {
            c.at(
                &s.file.span(),
                None,
                format!(
                    "source `{id}`: document `{}` does not exist",
                    s.file.get_ref()
                ),
            );
            continue;
        };
        folded.insert(id.clone(), quote::fold(&doc));
        sources.push(Source {
            id,
            file: s.file.get_ref().clone(),
            title: s.title.trim().to_owned(),
            text: doc,
        });
    }
    if raw.sources.is_empty() {
        c.at(
            &(0..0),
            None,
            "no [[sources]]: every section must cite a source document",
        );
    }

    // Exclusions before the sentences, which must not repeat them.
    let mut excluded = Vec::new();
    for x in &raw.excluded {
        let x = x.get_ref();
        let reason = c.text_field(&x.reason, None, "exclusion reason", MAX_TEXT);
        let name = x.source.get_ref();
        let Some((id, doc)) = SourceId::parse(name)
            .ok()
            .and_then(|id| folded.get(&id).map(|d| (id, d)))
        else {
            c.at(
                &x.source.span(),
                None,
                format!("excluded: source `{name}` does not exist"),
            );
            continue;
        };
        let q = x.quote.get_ref().trim();
        if !quote::contains(doc, q) {
            c.at(
                &x.quote.span(),
                None,
                format!(
                    "excluded: quote not found in source `{id}`: \"{}\"",
                    shorten(q, 80)
                ),
            );
            continue;
        }
        excluded.push(Exclusion {
            source: id,
            quote: q.to_owned(),
            reason,
        });
    }

    // The bot's own advice lines.
    let mut advice: Vec<Advice> = Vec::new();
    for a in &raw.advice {
        let a = a.get_ref();
        let id = match AdviceId::parse(a.id.get_ref()) {
            Ok(id) => id,
            Err(e) => {
                c.at(&a.id.span(), None, e.to_string());
                continue;
            }
        };
        if advice.iter().any(|x| x.id == id) {
            c.at(&a.id.span(), None, format!("duplicate advice id `{id}`"));
            continue;
        }
        let text = c.text_field(&a.say, None, &format!("advice `{id}`"), MAX_TEXT);
        one_sentence(&mut c, &a.say, None, &format!("advice `{id}`"));
        if let Some(word) = attribution(&text) {
            c.at(
                &a.say.span(),
                None,
                format!(
                    "advice `{id}` attributes to sources or research (\"{word}\"): general advice is the bot's own and names no source, study or expert"
                ),
            );
        }
        advice.push(Advice { id, text });
    }

    let mut sc = Sentences {
        folded: &folded,
        excluded: &excluded,
        advice: &advice,
        sources: sources.len(),
        sentences: 0,
        advice_uses: 0,
    };

    // Topic ids first, so `related` can be checked in any order.
    let mut ids: HashMap<String, usize> = HashMap::new();
    for t in &raw.topics {
        let id = t.get_ref().id.get_ref();
        if let Some(_first) = ids.insert(id.clone(), c.line(&t.get_ref().id.span())) {
            c.at(
                &t.get_ref().id.span(),
                Some(id),
                format!("duplicate topic id `{id}`"),
            );
        }
    }
    if raw.topics.is_empty() {
        c.at(&(0..0), None, "no [[topics]]");
    }

    let mut alias_owner: HashMap<String, String> = HashMap::new();
    let mut topics = Vec::new();
    for t in &raw.topics {
        let t = t.get_ref();
        let name = t.id.get_ref().as_str();
        let topic = Some(name);
        // An invalid id is reported, and the rest of the topic still checked.
        let id = TopicId::parse(name)
            .map_err(|e| c.at(&t.id.span(), topic, e.to_string()))
            .ok();
        let title = c.text_field(&t.title, topic, "title", MAX_TITLE);

        // An alias (or id, or title) that two topics share would make the
        // matcher's exact hits ambiguous.
        let mut own = HashSet::new();
        let mut names: Vec<(String, Range<usize>)> = vec![
            (name.replace('-', " "), t.id.span()),
            (title.to_lowercase(), t.title.span()),
        ];
        for a in &t.aliases {
            let alias = a.get_ref().trim();
            if alias.is_empty() || alias.chars().count() > MAX_ALIAS {
                c.at(
                    &a.span(),
                    topic,
                    format!("alias `{alias}` must be 1 to {MAX_ALIAS} characters"),
                );
            }
            names.push((alias.to_lowercase(), a.span()));
        }
        for (key, span) in names {
            if !own.insert(key.clone()) {
                continue;
            }
            match alias_owner.get(&key) {
                Some(other) if other != name => c.at(
                    &span,
                    topic,
                    format!("alias `{key}` is also used by topic `{other}`"),
                ),
                _ => {
                    alias_owner.insert(key, name.to_owned());
                }
            }
        }

        let mut related = Vec::new();
        for r in &t.related {
            match TopicId::parse(r.get_ref()) {
                Ok(rid) if id.as_ref() == Some(&rid) => {
                    c.at(&r.span(), topic, "a topic cannot be related to itself")
                }
                Ok(rid) if ids.contains_key(rid.as_str()) => related.push(rid),
                _ => c.at(
                    &r.span(),
                    topic,
                    format!("related topic `{}` does not exist", r.get_ref()),
                ),
            }
        }

        let benefits = t.benefits.as_ref().map(|b| {
            let span = t.id.span();
            let parts = [
                (Place::Summary, b.summary.as_slice()),
                (Place::Point, b.points.as_slice()),
            ];
            let ctx = Where {
                topic,
                what: "benefits",
                span: &span,
            };
            sc.section(&mut c, &ctx, &parts, &b.advice, true)
        });
        let safety = t.safety.as_ref().map(|s| {
            let span = t.id.span();
            let parts = [
                (Place::Summary, s.summary.as_slice()),
                (Place::Point, s.points.as_slice()),
                (Place::Differ, s.differ.as_slice()),
            ];
            let ctx = Where {
                topic,
                what: "safety",
                span: &span,
            };
            Safety {
                level: s.level,
                section: sc.section(&mut c, &ctx, &parts, &s.advice, false),
            }
        });
        if benefits.is_none() && safety.is_none() {
            c.at(
                &t.id.span(),
                topic,
                "topic has neither a [benefits] nor a [safety] section",
            );
        }
        let Some(id) = id else { continue };
        topics.push(Topic {
            id,
            title,
            group: t.group,
            aliases: t
                .aliases
                .iter()
                .map(|a| a.get_ref().trim().to_owned())
                .collect(),
            related,
            benefits,
            safety,
        });
    }

    let mut tips = Vec::new();
    for tip in &raw.tips {
        let span = tip.span();
        let ctx = Where {
            topic: None,
            what: "tip",
            span: &span,
        };
        if let Some(sentence) = sc.sentence(&mut c, &ctx, Place::Point, tip, true) {
            tips.push(Tip { sentence });
        }
    }
    if raw.tips.is_empty() {
        c.at(
            &(0..0),
            None,
            "no [[tips]]: the daily tip needs at least one",
        );
    }

    // The bot's own advice stays a small part of what it says.
    let total = sc.sentences + sc.advice_uses;
    if total > 0 {
        let share = sc.advice_uses as f64 / total as f64;
        if share > MAX_ADVICE_SHARE {
            c.at(
                &(0..0),
                None,
                format!(
                    "general advice is {} of {total} sentences ({:.0}%); at most {:.0}% may be the bot's own advice rather than the sources'",
                    sc.advice_uses,
                    share * 100.0,
                    MAX_ADVICE_SHARE * 100.0
                ),
            );
        }
    }
    let general = raw.general.as_ref().and_then(|g| {
        let found = topics
            .iter()
            .find(|t| t.id.as_str() == g.get_ref())
            .filter(|t| t.safety.is_some());
        if found.is_none() {
            c.at(
                &g.span(),
                None,
                format!(
                    "`general` must name a topic with a [safety] section; `{}` does not",
                    g.get_ref()
                ),
            );
        }
        found.map(|t| t.id.clone())
    });

    let mut context = Vec::new();
    for t in &raw.context {
        match topics.iter().find(|x| x.id.as_str() == t.get_ref()) {
            Some(x) => context.push(x.id.clone()),
            None => c.at(
                &t.span(),
                None,
                format!(
                    "`context` names topic `{}`, which does not exist",
                    t.get_ref()
                ),
            ),
        }
    }

    if !c.problems.is_empty() {
        return Err(invalid(c.problems));
    }
    Ok(Knowledge {
        caveat,
        general,
        context,
        sources,
        topics,
        advice,
        tips,
        excluded,
        vocabulary: super::Vocabulary::default(),
        crisis: super::Crisis::embedded()?,
    })
}

/// Where a sentence is, for messages.
struct Where<'a> {
    topic: Option<&'a str>,
    /// "benefits", "safety" or "tip".
    what: &'a str,
    span: &'a Range<usize>,
}

/// Checks sentences against the sources, the exclusions and the advice
/// lines, and counts them for the advice share.
struct Sentences<'a> {
    folded: &'a HashMap<SourceId, String>,
    excluded: &'a [Exclusion],
    advice: &'a [Advice],
    /// How many source documents there are ("all five sources").
    sources: usize,
    sentences: usize,
    advice_uses: usize,
}

impl Sentences<'_> {
    /// A section: its sentences and its advice lines. `benefit` sections
    /// must hedge or attribute every claim.
    fn section(
        &mut self,
        c: &mut Checker<'_>,
        at: &Where<'_>,
        parts: &[(Place, &[Spanned<RawSentence>])],
        advice: &[Spanned<String>],
        benefit: bool,
    ) -> Section {
        let mut section = Section::default();
        for (place, raw) in parts {
            for r in raw.iter() {
                let Some(sentence) = self.sentence(c, at, *place, r, benefit) else {
                    continue;
                };
                match place {
                    Place::Summary => section.summary.push(sentence),
                    Place::Point => section.points.push(sentence),
                    Place::Differ => section.differ.push(sentence),
                    Place::Advice => section.advice.push(sentence),
                }
            }
        }
        if section.summary.is_empty() && parts.first().is_some_and(|(_, r)| r.is_empty()) {
            c.at(
                at.span,
                at.topic,
                format!("{} section has no summary sentence", at.what),
            );
        }
        for id in advice {
            let Some(a) = self.advice.iter().find(|a| a.id.as_str() == id.get_ref()) else {
                c.at(
                    &id.span(),
                    at.topic,
                    format!(
                        "{}: advice `{}` is not one of the [[advice]] lines",
                        at.what,
                        id.get_ref()
                    ),
                );
                continue;
            };
            if section.advice.iter().any(|s| s.text == a.text) {
                c.at(
                    &id.span(),
                    at.topic,
                    format!("{}: advice `{}` is listed twice", at.what, a.id),
                );
                continue;
            }
            self.advice_uses += 1;
            section.advice.push(Sentence {
                text: a.text.clone(),
                backing: Backing::Advice(a.id.clone()),
            });
        }
        section
    }

    /// One cited sentence, or `None` (with the problems recorded).
    fn sentence(
        &mut self,
        c: &mut Checker<'_>,
        at: &Where<'_>,
        place: Place,
        raw: &Spanned<RawSentence>,
        benefit: bool,
    ) -> Option<Sentence> {
        let r = raw.get_ref();
        // A tip is one sentence: "tip", not "tip point".
        let what = if at.what == "tip" {
            at.what.to_owned()
        } else {
            format!("{} {}", at.what, place_name(place))
        };
        let text = c.text_field(&r.say, at.topic, &what, MAX_TEXT);
        one_sentence(c, &r.say, at.topic, &what);
        self.sentences += 1;
        if r.cite.is_empty() {
            c.at(
                &r.say.span(),
                at.topic,
                format!(
                    "{what} cites nothing: \"{}\". Cite the verbatim words it rests on (`cite = [\"000: ...\"]`), or, if it is the bot's own general safety advice, list an [[advice]] line in the section's `advice`",
                    shorten(&text, 60)
                ),
            );
            return None;
        }
        let mut cites = Vec::new();
        for q in &r.cite {
            if let Some(cite) = self.cite(c, q, at.topic, &what, place) {
                cites.push(cite);
            }
        }
        if cites.len() != r.cite.len() {
            return None;
        }
        let mut ids: Vec<&SourceId> = cites.iter().map(|c| &c.source).collect();
        ids.sort();
        ids.dedup();
        if let Some(problem) = count_mismatch(&text, ids.len(), self.sources) {
            c.at(&r.say.span(), at.topic, format!("{what}: {problem}"));
        }
        if let Some(word) = research_word(&text) {
            let backed = cites.iter().any(|c| research_word_in_quote(&c.quote));
            if !backed {
                c.at(
                    &r.say.span(),
                    at.topic,
                    format!(
                        "{what} mentions \"{word}\", but none of its quotes speaks of studies or research"
                    ),
                );
            }
        }
        if benefit && place != Place::Differ && !hedged(&text) {
            c.at(
                &r.say.span(),
                at.topic,
                format!(
                    "{what} states a benefit as bare fact: \"{}\". Say who says it (\"one source says\") or soften it (may, can, could)",
                    shorten(&text, 60)
                ),
            );
        }
        Some(Sentence {
            text,
            backing: Backing::Sources(cites),
        })
    }

    /// `"000: verbatim words"`: the source exists and has those words, and
    /// they are not a claim the file excludes (only "sources differ" may
    /// cite one, to say the sources disagree).
    fn cite(
        &self,
        c: &mut Checker<'_>,
        raw: &Spanned<String>,
        topic: Option<&str>,
        what: &str,
        place: Place,
    ) -> Option<Cite> {
        let Some((name, q)) = raw.get_ref().split_once(':') else {
            c.at(
                &raw.span(),
                topic,
                format!(
                    "{what}: a citation is `\"000: verbatim words\"` (source id, colon, quote); got \"{}\"",
                    shorten(raw.get_ref(), 40)
                ),
            );
            return None;
        };
        let name = name.trim();
        let Some((id, doc)) = SourceId::parse(name)
            .ok()
            .and_then(|id| self.folded.get(&id).map(|d| (id, d)))
        else {
            c.at(
                &raw.span(),
                topic,
                format!("{what}: source `{name}` does not exist"),
            );
            return None;
        };
        let q = q.trim();
        if !quote::contains(doc, q) {
            c.at(
                &raw.span(),
                topic,
                format!(
                    "{what}: quote not found in source `{id}`: \"{}\"",
                    shorten(q, 80)
                ),
            );
            return None;
        }
        if place != Place::Differ {
            let fq = quote::fold(q);
            if let Some(x) = self.excluded.iter().find(|x| {
                let fx = quote::fold(&x.quote);
                x.source == id && (fq.contains(&fx) || fx.contains(&fq))
            }) {
                c.at(
                    &raw.span(),
                    topic,
                    format!(
                        "{what}: cites an excluded claim of source `{id}` (\"{}\"): {}",
                        shorten(&x.quote, 60),
                        x.reason
                    ),
                );
                return None;
            }
        }
        Some(Cite {
            source: id,
            quote: q.to_owned(),
        })
    }
}

fn place_name(place: Place) -> &'static str {
    match place {
        Place::Summary => "summary",
        Place::Point => "point",
        Place::Differ => "`differ`",
        Place::Advice => "advice",
    }
}

/// A `say` holds one sentence, so that each has its own citations.
fn one_sentence(c: &mut Checker<'_>, field: &Spanned<String>, topic: Option<&str>, what: &str) {
    let text = field.get_ref().trim();
    let chars: Vec<char> = text.chars().collect();
    let split = chars
        .windows(3)
        .any(|w| matches!(w[0], '.' | '!' | ';') && w[1] == ' ' && w[2].is_uppercase());
    if split {
        c.at(
            &field.span(),
            topic,
            format!(
                "{what} holds more than one sentence: \"{}\". Give each sentence its own entry and citations",
                shorten(text, 60)
            ),
        );
    }
}

/// Lowercase words of a text.
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric() && c != '\'')
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// A word that attributes a statement to sources, studies or experts.
fn attribution(text: &str) -> Option<String> {
    const WORDS: &[&str] = &[
        "source",
        "sources",
        "study",
        "studies",
        "research",
        "researchers",
        "according",
        "evidence",
        "proven",
        "shown",
        "experts",
        "findings",
        "scientists",
        "article",
        "articles",
    ];
    words(text)
        .into_iter()
        .find(|w| WORDS.contains(&w.as_str()))
}

/// A word claiming studies or research behind a sentence.
fn research_word(text: &str) -> Option<String> {
    const WORDS: &[&str] = &[
        "study",
        "studies",
        "research",
        "researchers",
        "trial",
        "trials",
        "proven",
        "evidence",
        "scientific",
    ];
    words(text)
        .into_iter()
        .find(|w| WORDS.contains(&w.as_str()))
}

fn research_word_in_quote(quote: &str) -> bool {
    let q = quote.to_lowercase();
    ["stud", "research", "shown", "proven", "findings"]
        .iter()
        .any(|w| q.contains(w))
}

/// Whether a benefit sentence says who claims it or softens it.
fn hedged(text: &str) -> bool {
    words(text).iter().any(|w| {
        matches!(
            w.as_str(),
            "source" | "sources" | "may" | "might" | "can" | "could"
        )
    })
}

/// How many sources a sentence says it rests on ("one source", "two
/// sources", "all five sources", "one source ..., another ..."), when it
/// says; compared with how many it cites.
fn count_mismatch(text: &str, cited: usize, total: usize) -> Option<String> {
    let w = words(text);
    let number = |s: &str| match s {
        "one" | "a" => Some(1),
        "two" | "both" => Some(2),
        "three" => Some(3),
        "four" => Some(4),
        "five" => Some(5),
        _ => None,
    };
    let mut exact = 0usize;
    let mut at_least = 0usize;
    let mut counted = false;
    for (i, word) in w.iter().enumerate() {
        let prev = |k: usize| i.checked_sub(k).and_then(|j| w.get(j)).map(String::as_str);
        match word.as_str() {
            "source" | "sources" => {
                let before = prev(1);
                let all = matches!(before, Some("all" | "every" | "each"))
                    || (before.and_then(number).is_some() && prev(2) == Some("all"));
                if all {
                    // "all sources but one"
                    let but_one = w.get(i + 1).map(String::as_str) == Some("but")
                        && w.get(i + 2).map(String::as_str) == Some("one");
                    exact += if but_one { total - 1 } else { total };
                    counted = true;
                } else if let Some(n) = before.and_then(number) {
                    if prev(2) == Some("of") || prev(2) == Some("than") {
                        continue;
                    }
                    exact += n;
                    counted = true;
                } else if matches!(before, Some("another" | "other")) {
                    exact += 1;
                    counted = true;
                } else if word == "sources" {
                    // "sources say", "several sources": more than one.
                    at_least = 2;
                }
            }
            // "One source says ..., another ...": one more. After "two
            // sources: one ..., another ..." it only tells them apart.
            "another" if exact == 1 && w.get(i + 1).map(String::as_str) != Some("source") => {
                exact += 1;
            }
            _ => {}
        }
    }
    if counted && exact != cited {
        return Some(format!(
            "says {exact} source{} but cites {cited}",
            if exact == 1 { "" } else { "s" }
        ));
    }
    if !counted && at_least > cited {
        return Some(format!("speaks of several sources but cites {cited}"));
    }
    None
}

fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut out: String = s.chars().take(max).collect();
        out.push('…');
        out
    }
}
