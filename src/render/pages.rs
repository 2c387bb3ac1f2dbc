//! Splitting a long list reply (`/topics`) into pages that each fit one
//! Discord message, so the knowledge base can grow without its list being
//! cut: a group too long for one field continues in the next, and a page
//! ends before the message would pass Discord's limits.

use super::card::{limits, Card};
use crate::reply::{Reply, Section};

/// Characters of one field: under Discord's 1,024, with room to spare.
const FIELD_BUDGET: usize = 1000;
/// Fields a page holds at most, so a page stays readable on a phone.
const PAGE_FIELDS: usize = 6;

/// The reply's sections in pieces of at most [`FIELD_BUDGET`] characters,
/// a long group continued under "(continued)".
fn pieces(sections: &[Section]) -> Vec<Section> {
    let mut out = Vec::new();
    for s in sections {
        let mut current = Section {
            heading: s.heading.clone(),
            lines: Vec::new(),
        };
        let mut len = 0;
        for line in &s.lines {
            let add = line.chars().count() + 1;
            if !current.lines.is_empty() && len + add > FIELD_BUDGET {
                out.push(std::mem::replace(
                    &mut current,
                    Section {
                        heading: format!("{} (continued)", s.heading),
                        lines: Vec::new(),
                    },
                ));
                len = 0;
            }
            current.lines.push(line.clone());
            len += add;
        }
        if !current.lines.is_empty() {
            out.push(current);
        }
    }
    out
}

/// Every page of `reply`: its sections spread so that each page fits a
/// Discord message. One page (the reply unchanged) when all of it fits.
pub fn section_pages(reply: &Reply) -> Vec<Reply> {
    if Card::limit_problems(reply).is_empty() && reply.sections.len() <= PAGE_FIELDS {
        return vec![reply.clone()];
    }
    let page_of = |sections: Vec<Section>| {
        let mut r = reply.clone();
        r.sections = sections;
        r
    };
    let mut pages: Vec<Vec<Section>> = Vec::new();
    let mut current: Vec<Section> = Vec::new();
    for piece in pieces(&reply.sections) {
        current.push(piece);
        let fits = current.len() <= PAGE_FIELDS
            && Card::limit_problems(&page_of(current.clone())).is_empty();
        if !fits && current.len() > 1 {
            let piece = current.pop();
            pages.push(std::mem::take(&mut current));
            current.extend(piece);
        }
    }
    if !current.is_empty() || pages.is_empty() {
        pages.push(current);
    }
    let count = pages.len();
    pages
        .into_iter()
        .enumerate()
        .map(|(i, sections)| {
            let mut r = page_of(sections);
            if count > 1 {
                r.title = format!("{} (page {} of {count})", reply.title, i + 1);
                r.title = r.title.chars().take(limits::TITLE).collect();
            }
            r
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reply::{Command, Kind};

    fn list(groups: usize, per_group: usize) -> Reply {
        let engine = crate::engine::Engine::load(None).expect("embedded knowledge");
        let mut r = Reply::new(
            Command::Topics,
            Kind::Topics,
            "What I can answer",
            "Many topics.",
            &engine.knowledge().caveat,
        );
        for g in 0..groups {
            r.sections.push(Section {
                heading: format!("Group {g}"),
                lines: (0..per_group)
                    .map(|i| {
                        format!(
                            "`topic-{g}-{i}` A topic with a longish title {i} (benefits, safety)"
                        )
                    })
                    .collect(),
            });
        }
        r
    }

    #[test]
    fn a_list_that_fits_is_one_page_unchanged() {
        let r = list(3, 5);
        assert_eq!(section_pages(&r), vec![r]);
    }

    /// 240 topics (eight times the shipped base): every page fits Discord,
    /// every line appears once, in order.
    #[test]
    fn a_long_list_is_spread_over_pages_that_each_fit() {
        let r = list(6, 40);
        assert!(!Card::limit_problems(&r).is_empty(), "needs paging");
        let pages = section_pages(&r);
        assert!(pages.len() > 1);
        let mut lines = Vec::new();
        for (i, p) in pages.iter().enumerate() {
            assert_eq!(Card::limit_problems(p), vec![], "page {i}");
            assert!(p.sections.len() <= PAGE_FIELDS);
            assert!(p
                .title
                .ends_with(&format!("(page {} of {})", i + 1, pages.len())));
            lines.extend(p.sections.iter().flat_map(|s| s.lines.clone()));
        }
        let all: Vec<String> = r.sections.iter().flat_map(|s| s.lines.clone()).collect();
        assert_eq!(lines, all);
    }
}
