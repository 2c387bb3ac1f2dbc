//! The buttons under replies, and the `custom_id`s that carry their state.
//!
//! A click must work after a restart and on any process, so nothing is
//! kept in memory: the id names what the reply showed, in topic and term
//! indices, under the fingerprint of the knowledge those indices belong
//! to. Ids are versioned and parsed strictly; anything else (a forged id,
//! one from another knowledge version) gets a clear private reply.
//!
//! `a1:<b|s>:<topic id>` answers `/benefits` or `/safe` for a topic (the
//! follow-ups under an answer, the suggestions of a "did you mean"): it
//! names the topic by id, so it works across knowledge versions while the
//! topic exists. `tp1:<page>` turns the pages of `/topics`.
//! `q1:<fingerprint>:<items>` opens the quotes behind a reply;
//! `qp1:<fingerprint>:<page>:<items>` turns their pages. Items are joined
//! with `.`: `b3` benefits of topic 3 in full, `B3` in brief, `s3`/`S3`
//! safety, `n7` after a section (the note of vocabulary term 7), `x3`/`y3`
//! "no benefits/safety section" for topic 3, `t12` tip 12.

use serenity::all::{ButtonStyle, CreateActionRow, CreateButton};

use crate::engine::{Engine, FollowUp};
use crate::knowledge::TopicId;
use crate::reply::{Intent, Kind, Reply, Shown};

/// Discord's limit on a `custom_id`.
pub const CUSTOM_ID_MAX: usize = 100;
/// Items a reply can show and still get a button; more than any reply has.
const MAX_ITEMS: usize = 16;
/// More pages than any reply's quotes fill.
const MAX_PAGE: usize = 99;

const OPEN: &str = "q1";
const PAGE: &str = "qp1";
const ANSWER: &str = "a1";
const TOPICS_PAGE: &str = "tp1";
/// Discord's limits: five buttons a row, 80 characters a label.
const ROW_MAX: usize = 5;
const LABEL_MAX: usize = 80;

/// What a click asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Click {
    /// The quotes behind a reply, from its first page, in a new private
    /// message.
    Quotes(Vec<Shown>),
    /// Another page of quotes, replacing the page shown.
    QuotesPage { shown: Vec<Shown>, page: usize },
    /// What `/benefits <topic>` or `/safe <topic>` answers.
    Answer { intent: Intent, topic: TopicId },
    /// Page `page` of `/topics`.
    TopicsPage { page: usize },
}

/// Why a click cannot be answered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadClick {
    /// A well-formed id from another version of the knowledge.
    #[error("the button is from another version of the knowledge")]
    Stale,
    /// Not an id this bot makes.
    #[error("the button id is not one this bot makes")]
    Unknown,
}

/// The id of the Quotes button under a reply that showed `shown`, if it
/// has anything to quote and fits.
pub fn quotes_id(engine: &Engine, shown: &[Shown]) -> Option<String> {
    let items = encode_items(engine, shown)?;
    let id = format!("{OPEN}:{:08x}:{items}", engine.fingerprint());
    (id.len() <= CUSTOM_ID_MAX).then_some(id)
}

/// The id of the button that shows page `page` of the quotes.
fn page_id(engine: &Engine, shown: &[Shown], page: usize) -> Option<String> {
    let items = encode_items(engine, shown)?;
    let id = format!("{PAGE}:{:08x}:{page}:{items}", engine.fingerprint());
    (id.len() <= CUSTOM_ID_MAX).then_some(id)
}

/// The id of the button that answers `intent` for `topic`.
pub fn answer_id(intent: Intent, topic: &TopicId) -> String {
    let side = match intent {
        Intent::Benefits => 'b',
        Intent::Safe => 's',
    };
    format!("{ANSWER}:{side}:{}", topic.as_str())
}

/// A button that answers as typing the command would, labelled with it.
fn answer_button(f: &FollowUp) -> CreateButton {
    let label: String = f.label().chars().take(LABEL_MAX).collect();
    CreateButton::new(answer_id(f.intent, &f.topic))
        .label(label)
        .style(ButtonStyle::Secondary)
}

/// The buttons under a reply: its Quotes and the first follow-up (the
/// other side of its topic, when there is one) on the first row, then the
/// rest of [`Engine::follow_ups`] (See also, or the suggestions of a "did
/// you mean" or "not covered"). Each follow-up gives exactly the reply that
/// typing its command would.
pub fn answer_rows(engine: &Engine, reply: &Reply) -> Vec<CreateActionRow> {
    let mut follow_ups = engine.follow_ups(reply).into_iter().peekable();
    let mut first: Vec<CreateButton> = quotes_id(engine, &reply.shown)
        .map(|id| {
            CreateButton::new(id)
                .label("Quotes")
                .style(ButtonStyle::Secondary)
        })
        .into_iter()
        .collect();
    // The other side of the topic sits beside Quotes.
    let other_side = matches!(reply.kind, Kind::Answer | Kind::NoSection)
        && follow_ups
            .peek()
            .is_some_and(|f| Some(&f.topic) == reply.topic.as_ref());
    if other_side {
        first.extend(follow_ups.next().as_ref().map(answer_button));
    }
    let mut rows = Vec::new();
    if !first.is_empty() {
        rows.push(CreateActionRow::Buttons(first));
    }
    let rest: Vec<CreateButton> = follow_ups
        .take(ROW_MAX)
        .map(|f| answer_button(&f))
        .collect();
    if !rest.is_empty() {
        rows.push(CreateActionRow::Buttons(rest));
    }
    rows
}

/// Previous and Next under page `page` of `pages`; none for one page.
pub fn pager_rows(
    engine: &Engine,
    shown: &[Shown],
    page: usize,
    pages: usize,
) -> Vec<CreateActionRow> {
    if pages <= 1 {
        return Vec::new();
    }
    let last = pages - 1;
    // Ids in one message must differ: on the first page Previous points at
    // page 0 (disabled) and Next at 1; on the last, Next at the last page.
    let (Some(prev), Some(next)) = (
        page_id(engine, shown, page.saturating_sub(1)),
        page_id(engine, shown, (page + 1).min(last)),
    ) else {
        return Vec::new();
    };
    pager(prev, next, page, last)
}

/// Previous and Next under page `page` of `/topics`; none for one page.
pub fn topics_pager_rows(page: usize, pages: usize) -> Vec<CreateActionRow> {
    if pages <= 1 {
        return Vec::new();
    }
    let last = pages - 1;
    let id = |p: usize| format!("{TOPICS_PAGE}:{p}");
    pager(
        id(page.saturating_sub(1)),
        id((page + 1).min(last)),
        page,
        last,
    )
}

fn pager(prev: String, next: String, page: usize, last: usize) -> Vec<CreateActionRow> {
    vec![CreateActionRow::Buttons(vec![
        CreateButton::new(prev)
            .label("Previous")
            .style(ButtonStyle::Secondary)
            .disabled(page == 0),
        CreateButton::new(next)
            .label("Next")
            .style(ButtonStyle::Secondary)
            .disabled(page >= last),
    ])]
}

/// Reads a button id back, strictly: it must be exactly what this
/// knowledge would have written.
pub fn parse(engine: &Engine, id: &str) -> Result<Click, BadClick> {
    if id.len() > CUSTOM_ID_MAX {
        return Err(BadClick::Unknown);
    }
    let mut fields = id.split(':');
    let verb = fields.next().ok_or(BadClick::Unknown)?;
    if verb == ANSWER {
        return parse_answer(engine, fields);
    }
    if verb == TOPICS_PAGE {
        let page = parse_index(fields.next().ok_or(BadClick::Unknown)?)?;
        if fields.next().is_some() || format!("{TOPICS_PAGE}:{page}") != id {
            return Err(BadClick::Unknown);
        }
        // Whether the page exists depends on the knowledge: the handler checks.
        return Ok(Click::TopicsPage { page });
    }
    if verb != OPEN && verb != PAGE {
        return Err(BadClick::Unknown);
    }
    let fingerprint = fields.next().ok_or(BadClick::Unknown)?;
    let hex = |b: u8| b.is_ascii_digit() || (b'a'..=b'f').contains(&b);
    if fingerprint.len() != 8 || !fingerprint.bytes().all(hex) {
        return Err(BadClick::Unknown);
    }
    let page = if verb == PAGE {
        let page = parse_index(fields.next().ok_or(BadClick::Unknown)?)?;
        if page > MAX_PAGE {
            return Err(BadClick::Unknown);
        }
        Some(page)
    } else {
        None
    };
    let items = fields.next().ok_or(BadClick::Unknown)?;
    if fields.next().is_some() {
        return Err(BadClick::Unknown);
    }
    if fingerprint != format!("{:08x}", engine.fingerprint()) {
        return Err(BadClick::Stale);
    }
    let shown = decode_items(engine, items)?;
    // Only the canonical spelling is accepted ("b03" is not "b3").
    if encode_items(engine, &shown).as_deref() != Some(items) {
        return Err(BadClick::Unknown);
    }
    Ok(match page {
        None => Click::Quotes(shown),
        Some(page) => Click::QuotesPage { shown, page },
    })
}

/// `a1:<b|s>:<topic id>`: a topic id as the knowledge spells it. A topic
/// that no longer exists (the knowledge changed) is stale, not forged.
fn parse_answer<'a>(
    engine: &Engine,
    mut fields: impl Iterator<Item = &'a str>,
) -> Result<Click, BadClick> {
    let intent = match fields.next() {
        Some("b") => Intent::Benefits,
        Some("s") => Intent::Safe,
        _ => return Err(BadClick::Unknown),
    };
    let raw = fields.next().ok_or(BadClick::Unknown)?;
    if fields.next().is_some() {
        return Err(BadClick::Unknown);
    }
    let topic = TopicId::parse(raw).map_err(|_| BadClick::Unknown)?;
    // Only the canonical spelling ("Sleep" is not "sleep").
    if topic.as_str() != raw {
        return Err(BadClick::Unknown);
    }
    if engine.knowledge().topic(&topic).is_none() {
        return Err(BadClick::Stale);
    }
    Ok(Click::Answer { intent, topic })
}

fn encode_items(engine: &Engine, shown: &[Shown]) -> Option<String> {
    if shown.is_empty() || shown.len() > MAX_ITEMS {
        return None;
    }
    let k = engine.knowledge();
    let index = |id| k.topics.iter().position(|t| &t.id == id);
    let mut out: Vec<String> = Vec::with_capacity(shown.len());
    for item in shown {
        out.push(match item {
            Shown::Section {
                topic,
                side,
                brief,
                note,
            } => {
                let kind = match (side, brief) {
                    (Intent::Benefits, false) => 'b',
                    (Intent::Benefits, true) => 'B',
                    (Intent::Safe, false) => 's',
                    (Intent::Safe, true) => 'S',
                };
                let note = note.map(|n| format!("n{n}")).unwrap_or_default();
                format!("{kind}{}{note}", index(topic)?)
            }
            Shown::Missing { topic, side } => {
                let kind = match side {
                    Intent::Benefits => 'x',
                    Intent::Safe => 'y',
                };
                format!("{kind}{}", index(topic)?)
            }
            Shown::Tip(i) => format!("t{i}"),
        });
    }
    Some(out.join("."))
}

/// Items back to what a reply showed, each checked against the knowledge:
/// a section the topic has, a note some term carries, a tip that exists.
fn decode_items(engine: &Engine, items: &str) -> Result<Vec<Shown>, BadClick> {
    let k = engine.knowledge();
    let mut out = Vec::new();
    for item in items.split('.') {
        let mut chars = item.chars();
        let kind = chars.next().ok_or(BadClick::Unknown)?;
        let rest = chars.as_str();
        if kind == 't' {
            let i = parse_index(rest)?;
            if i >= k.tips.len() {
                return Err(BadClick::Unknown);
            }
            out.push(Shown::Tip(i));
            continue;
        }
        let (topic, note) = match rest.split_once('n') {
            Some((t, n)) => (parse_index(t)?, Some(parse_index(n)?)),
            None => (parse_index(rest)?, None),
        };
        let t = k.topics.get(topic).ok_or(BadClick::Unknown)?;
        let side = match kind {
            'b' | 'B' | 'x' => Intent::Benefits,
            's' | 'S' | 'y' => Intent::Safe,
            _ => return Err(BadClick::Unknown),
        };
        let has = t.section(side == Intent::Safe).is_some();
        if matches!(kind, 'x' | 'y') {
            if has || note.is_some() {
                return Err(BadClick::Unknown);
            }
            out.push(Shown::Missing {
                topic: t.id.clone(),
                side,
            });
            continue;
        }
        if !has {
            return Err(BadClick::Unknown);
        }
        if let Some(n) = note {
            let term = k.vocabulary.terms.get(n).ok_or(BadClick::Unknown)?;
            if term.note.is_none() {
                return Err(BadClick::Unknown);
            }
        }
        out.push(Shown::Section {
            topic: t.id.clone(),
            side,
            brief: kind.is_ascii_uppercase(),
            note,
        });
    }
    if out.len() > MAX_ITEMS {
        return Err(BadClick::Unknown);
    }
    Ok(out)
}

/// A small decimal index, digits only.
fn parse_index(s: &str) -> Result<usize, BadClick> {
    if s.is_empty() || s.len() > 4 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(BadClick::Unknown);
    }
    s.parse().map_err(|_| BadClick::Unknown)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Request;

    fn engine() -> Engine {
        Engine::load(None).expect("embedded knowledge loads")
    }

    /// `/benefits` and `/safe` for every topic.
    fn every_answer(e: &Engine) -> Vec<Reply> {
        e.knowledge()
            .topics
            .iter()
            .flat_map(|t| {
                [Intent::Benefits, Intent::Safe].map(|i| e.answer_topic(i, t.id.as_str()))
            })
            .collect()
    }

    #[test]
    fn every_answer_and_tip_round_trips_within_the_limit() {
        let e = engine();
        let k = e.knowledge();
        let mut replies = every_answer(&e);
        for i in 0..k.tips.len() {
            replies.push(e.tip(i));
        }
        replies.push(e.answer(&Request::Ask(
            "pregnant with back pain and on blood thinners, is a massage ok?".into(),
        )));
        for r in replies {
            let id = quotes_id(&e, &r.shown).expect("an answer has a Quotes button");
            assert!(id.len() <= CUSTOM_ID_MAX, "{id}");
            assert_eq!(parse(&e, &id), Ok(Click::Quotes(r.shown.clone())), "{id}");
            let page = page_id(&e, &r.shown, 2).unwrap();
            assert_eq!(
                parse(&e, &page),
                Ok(Click::QuotesPage {
                    shown: r.shown.clone(),
                    page: 2
                })
            );
        }
    }

    #[test]
    fn replies_that_quote_nothing_get_no_button() {
        let e = engine();
        for r in [
            e.answer(&Request::About),
            e.answer(&Request::Topics),
            e.answer(&Request::Ask("i want to kill myself".into())),
        ] {
            assert!(r.shown.is_empty());
            assert_eq!(quotes_id(&e, &r.shown), None);
        }
    }

    #[test]
    fn forged_and_stale_ids_are_refused() {
        let e = engine();
        let good = quotes_id(&e, &e.answer_topic(Intent::Benefits, "sleep").shown).unwrap();
        let fp = format!("{:08x}", e.fingerprint());
        let other = format!("{:08x}", e.fingerprint().wrapping_add(1));
        assert_eq!(parse(&e, &good.replace(&fp, &other)), Err(BadClick::Stale));
        let n = e.knowledge().topics.len();
        let cancer = e
            .knowledge()
            .topics
            .iter()
            .position(|t| t.benefits.is_none())
            .unwrap();
        let sleep = e
            .knowledge()
            .topics
            .iter()
            .position(|t| t.id.as_str() == "sleep")
            .unwrap();
        for bad in [
            String::new(),
            "hello".into(),
            "q1".into(),
            format!("q1:{fp}"),
            format!("q1:{fp}:"),
            format!("q2:{fp}:b0"),
            format!("q1:{fp}:b{n}"),
            format!("q1:{fp}:b{cancer}"),
            format!("q1:{fp}:x{sleep}"),
            format!("q1:{fp}:b0n9999"),
            format!("q1:{fp}:b00"),
            format!("q1:{fp}:b+1"),
            format!("q1:{fp}:b-1"),
            format!("q1:{fp}:z1"),
            format!("q1:{fp}:t99999"),
            format!("q1:{fp}:b0:extra"),
            format!("qp1:{fp}:100:b0"),
            format!("qp1:{fp}:b0"),
            format!("q1:{fp}:{}", vec!["b0"; 17].join(".")),
            format!("q1:{fp}:b0.{}", "9".repeat(200)),
            "q1:zzzzzzzz:b0".into(),
            "q1:😀😀:b0".into(),
        ] {
            let got = parse(&e, &bad);
            assert_eq!(got, Err(BadClick::Unknown), "{bad:?}");
        }
        if fp != fp.to_uppercase() {
            let upper = format!("q1:{}:b{sleep}", fp.to_uppercase());
            assert_eq!(parse(&e, &upper), Err(BadClick::Unknown));
        }
    }

    /// The ids under every answer and "did you mean" parse back to the
    /// command and topic they name, fit Discord's limits, and differ.
    #[test]
    fn follow_up_buttons_round_trip() {
        let e = engine();
        let k = e.knowledge();
        let mut replies = every_answer(&e);
        replies.push(e.answer_topic(Intent::Benefits, "sleeep"));
        let mut follow_ups = 0;
        for r in &replies {
            let json = serde_json::to_value(answer_rows(&e, r)).unwrap();
            let rows = json.as_array().unwrap();
            assert!(rows.len() <= 5);
            let mut ids = Vec::new();
            for row in rows {
                let buttons = row["components"].as_array().unwrap();
                assert!((1..=ROW_MAX).contains(&buttons.len()));
                for b in buttons {
                    let id = b["custom_id"].as_str().unwrap().to_owned();
                    assert!(id.len() <= CUSTOM_ID_MAX);
                    assert!(b["label"].as_str().unwrap().chars().count() <= LABEL_MAX);
                    if id.starts_with("a1:") {
                        follow_ups += 1;
                        let Ok(Click::Answer { intent, topic }) = parse(&e, &id) else {
                            panic!("{id}");
                        };
                        assert_eq!(answer_id(intent, &topic), id);
                        assert!(k.topic(&topic).is_some());
                    }
                    ids.push(id);
                }
            }
            let n = ids.len();
            ids.sort();
            ids.dedup();
            assert_eq!(ids.len(), n, "duplicate ids under {:?}", r.title);
        }
        assert!(follow_ups > replies.len(), "{follow_ups}");
        let dym = e.answer_topic(Intent::Benefits, "sleeep");
        if dym.kind == Kind::DidYouMean {
            let json = serde_json::to_value(answer_rows(&e, &dym)).unwrap();
            assert!(json.to_string().contains("a1:b:sleep"), "{json}");
        }
        for (bad, why) in [
            ("a1:b:", BadClick::Unknown),
            ("a1:x:sleep", BadClick::Unknown),
            ("a1:b:Sleep", BadClick::Unknown),
            ("a1:b:sleep:more", BadClick::Unknown),
            ("a1:b:no-such-topic", BadClick::Stale),
            ("a2:b:sleep", BadClick::Unknown),
            ("tp1:", BadClick::Unknown),
            ("tp1:01", BadClick::Unknown),
            ("tp1:-1", BadClick::Unknown),
            ("tp1:1:2", BadClick::Unknown),
        ] {
            assert_eq!(parse(&e, bad), Err(why), "{bad}");
        }
    }

    #[test]
    fn topics_pager_ids_parse_back() {
        let e = engine();
        assert!(topics_pager_rows(0, 1).is_empty());
        let json = serde_json::to_value(topics_pager_rows(1, 3)).unwrap();
        let ids: Vec<&str> = json[0]["components"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["custom_id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["tp1:0", "tp1:2"]);
        assert_eq!(parse(&e, "tp1:2"), Ok(Click::TopicsPage { page: 2 }));
    }

    #[test]
    fn pager_ids_differ_and_stay_in_range() {
        let e = engine();
        let shown = e.answer_topic(Intent::Safe, "pregnancy").shown;
        assert!(pager_rows(&e, &shown, 0, 1).is_empty());
        for (page, pages) in [(0usize, 2usize), (1, 2), (0, 3), (1, 3), (2, 3)] {
            let prev = page_id(&e, &shown, page.saturating_sub(1)).unwrap();
            let next = page_id(&e, &shown, (page + 1).min(pages - 1)).unwrap();
            assert_ne!(prev, next, "page {page} of {pages}");
            assert_eq!(pager_rows(&e, &shown, page, pages).len(), 1);
        }
    }
}
