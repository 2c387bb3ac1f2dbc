//! Validation of a knowledge file: collects every problem, each with the
//! topic and line it belongs to.

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use toml::Spanned;

use super::quote;
use super::raw::{RawEvidence, RawKnowledge};
use super::{
    Benefits, Caveat, Evidence, Exclusion, Knowledge, KnowledgeError, Problem, Safety, Source,
    SourceDir, SourceId, Tip, Topic, TopicId,
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
                self.at(&span, None, format!("schema error: {}", e.message()));
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
            let span = b.span();
            let b = b.get_ref();
            let summary = c.text_field(&b.summary, topic, "benefits summary", MAX_TEXT);
            let points = b
                .points
                .iter()
                .map(|p| c.text_field(p, topic, "benefits point", MAX_TEXT))
                .collect();
            let evidence =
                check_evidence(&mut c, &folded, &b.evidence, &span, topic, "benefits", true);
            Benefits {
                summary,
                points,
                evidence,
            }
        });
        let safety = t.safety.as_ref().map(|s| {
            let span = s.span();
            let s = s.get_ref();
            let summary = c.text_field(&s.summary, topic, "safety summary", MAX_TEXT);
            let points = s
                .points
                .iter()
                .map(|p| c.text_field(p, topic, "safety point", MAX_TEXT))
                .collect();
            let sources_differ = s
                .sources_differ
                .as_ref()
                .map(|d| c.text_field(d, topic, "sources_differ", MAX_TEXT));
            let evidence =
                check_evidence(&mut c, &folded, &s.evidence, &span, topic, "safety", true);
            Safety {
                level: s.level,
                summary,
                points,
                sources_differ,
                evidence,
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
        let tip = tip.get_ref();
        let text = c.text_field(&tip.text, None, "tip", MAX_TEXT);
        let evidence = check_evidence(&mut c, &folded, &tip.evidence, &span, None, "tip", false);
        tips.push(Tip { text, evidence });
    }
    if raw.tips.is_empty() {
        c.at(
            &(0..0),
            None,
            "no [[tips]]: the daily tip needs at least one",
        );
    }

    let mut excluded = Vec::new();
    for x in &raw.excluded {
        let x = x.get_ref();
        let ev = RawEvidence {
            source: x.source.clone(),
            quote: x.quote.clone(),
        };
        let checked = check_one(&mut c, &folded, &ev, None, "excluded");
        let reason = c.text_field(&x.reason, None, "exclusion reason", MAX_TEXT);
        if let Some(e) = checked {
            excluded.push(Exclusion {
                source: e.source,
                quote: e.quote,
                reason,
            });
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
        tips,
        excluded,
        vocabulary: super::Vocabulary::default(),
        crisis: super::Crisis::embedded()?,
    })
}

fn check_evidence(
    c: &mut Checker<'_>,
    folded: &HashMap<SourceId, String>,
    evidence: &[Spanned<RawEvidence>],
    section: &Range<usize>,
    topic: Option<&str>,
    what: &str,
    required: bool,
) -> Vec<Evidence> {
    if required && evidence.is_empty() {
        c.at(section, topic, format!("{what} section cites no evidence"));
    }
    evidence
        .iter()
        .filter_map(|e| check_one(c, folded, e.get_ref(), topic, what))
        .collect()
}

fn check_one(
    c: &mut Checker<'_>,
    folded: &HashMap<SourceId, String>,
    e: &RawEvidence,
    topic: Option<&str>,
    what: &str,
) -> Option<Evidence> {
    let name = e.source.get_ref();
    let Some((id, doc)) = SourceId::parse(name)
        .ok()
        .and_then(|id| folded.get(&id).map(|d| (id, d)))
    else {
        c.at(
            &e.source.span(),
            topic,
            format!("{what}: source `{name}` does not exist"),
        );
        return None;
    };
    let q = e.quote.get_ref().trim();
    if !quote::contains(doc, q) {
        c.at(
            &e.quote.span(),
            topic,
            format!(
                "{what}: quote not found in source `{id}`: \"{}\"",
                shorten(q, 80)
            ),
        );
        return None;
    }
    Some(Evidence {
        source: id,
        quote: q.to_owned(),
    })
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
