//! The quotes behind a reply: each sentence it shows, with the verbatim
//! words and source titles it rests on, or marked as the bot's own.

use crate::knowledge::Caveat;
use crate::reply::{Basis, Command, Kind, Reply, Said};

/// Characters of quotes per Discord page: an embed description holds
/// 4,096, but a page the size of an ordinary message (2,000) still reads
/// on a phone without endless scrolling; longer quotes turn pages.
pub const PAGE_CHARS: usize = 2_000;

/// Said after the quotes: what the list leaves out, and why.
pub const QUOTES_FOOTNOTE: &str =
    "Titles, links, suggestions and crisis help are my own wording, not claims about massage.";

const ADVICE: &str = "My own general advice: from no source.";
const OWN: &str = "My own words about what my sources cover.";

const TITLE: &str = "Quotes behind this answer";

/// Page `page` (from 0; past the end means the last) of the quotes as a
/// private reply, with the page it is and how many there are.
pub fn page_reply(said: &[Said], page: usize, caveat: &Caveat) -> (Reply, usize, usize) {
    let mut pages = pages(said);
    let count = pages.len();
    let page = page.min(count - 1);
    let mut body = std::mem::take(&mut pages[page]);
    if said.is_empty() {
        body = "This reply states nothing from the sources, so there are no quotes behind it."
            .to_owned();
    }
    if page + 1 == count {
        body.push('\n');
        body.push_str(QUOTES_FOOTNOTE);
    }
    let title = if count > 1 {
        format!("{TITLE} (page {} of {count})", page + 1)
    } else {
        TITLE.to_owned()
    };
    let reply = Reply::new(Command::Quotes, Kind::Quotes, title, body, caveat);
    (reply, page, count)
}

/// The quotes as plain text for a terminal.
pub fn text(said: &[Said]) -> String {
    if said.is_empty() {
        return "This reply states nothing from the sources, so there are no quotes behind it."
            .to_owned();
    }
    let mut out = format!("{TITLE}\n");
    let mut heading = "";
    for s in said {
        if s.heading != heading {
            heading = &s.heading;
            out.push('\n');
            out.push_str(heading);
            out.push('\n');
        }
        out.push_str(&format!("  \"{}\"\n", s.text));
        match &s.basis {
            Basis::Sources(quotes) => {
                for q in quotes {
                    out.push_str(&format!(
                        "    {} ({}): \"{}\"\n",
                        q.source.id, q.source.title, q.quote
                    ));
                }
            }
            Basis::Advice => out.push_str(&format!("    {ADVICE}\n")),
            Basis::Own => out.push_str(&format!("    {OWN}\n")),
        }
    }
    out.push('\n');
    out.push_str(QUOTES_FOOTNOTE);
    out
}

/// One sentence and its quotes as Discord markdown.
fn block(s: &Said) -> String {
    let mut out = format!("“{}”\n", s.text);
    match &s.basis {
        Basis::Sources(quotes) => {
            for q in quotes {
                out.push_str(&format!(
                    "> `{}` *{}*: \"{}\"\n",
                    q.source.id, q.source.title, q.quote
                ));
            }
        }
        Basis::Advice => out.push_str(&format!("> *{ADVICE}*\n")),
        Basis::Own => out.push_str(&format!("> *{OWN}*\n")),
    }
    out
}

/// The quotes in pages that each fit one embed. A sentence and its quotes
/// stay on one page; a section heading repeats on the page it continues.
pub fn pages(said: &[Said]) -> Vec<String> {
    let mut pages: Vec<String> = Vec::new();
    let mut page = String::new();
    let mut heading = "";
    for s in said {
        let mut b = block(s);
        let new_heading = s.heading != heading;
        let head = format!("**{}**\n", s.heading);
        if page.chars().count() + head.chars().count() + b.chars().count() > PAGE_CHARS
            && !page.is_empty()
        {
            pages.push(std::mem::take(&mut page));
            page.push_str(&head);
        } else if new_heading {
            if !page.is_empty() {
                page.push('\n');
            }
            page.push_str(&head);
        }
        heading = &s.heading;
        // A block longer than a page on its own is cut (no shipped quote is).
        if b.chars().count() > PAGE_CHARS {
            b = b.chars().take(PAGE_CHARS - 1).collect::<String>() + "…";
        }
        page.push_str(&b);
    }
    if !page.is_empty() || pages.is_empty() {
        pages.push(page);
    }
    pages
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::knowledge::SourceId;
    use crate::reply::{Quote, SourceRef};

    fn said(heading: &str, text: &str, basis: Basis) -> Said {
        Said {
            heading: heading.to_owned(),
            text: text.to_owned(),
            basis,
        }
    }

    fn quoted(quote: &str) -> Basis {
        Basis::Sources(vec![Quote {
            source: SourceRef {
                id: SourceId::parse("001").unwrap(),
                title: "The many benefits".to_owned(),
            },
            quote: quote.to_owned(),
        }])
    }

    #[test]
    fn text_shows_each_sentence_with_its_quotes_or_its_kind() {
        let t = text(&[
            said(
                "Sleep — benefits",
                "Massage may help.",
                quoted("Relieves sleep loss"),
            ),
            said("Sleep — benefits", "See a doctor.", Basis::Advice),
        ]);
        assert!(t.contains("Sleep — benefits\n  \"Massage may help.\"\n    001 (The many benefits): \"Relieves sleep loss\""), "{t}");
        assert!(
            t.contains("\"See a doctor.\"\n    My own general advice: from no source."),
            "{t}"
        );
    }

    #[test]
    fn pages_keep_blocks_whole_and_fit() {
        let long = "word ".repeat(60);
        let said: Vec<Said> = (0..40)
            .map(|i| {
                said(
                    &format!("Topic {} — benefits", i / 10),
                    &format!("Sentence {i}."),
                    quoted(&long),
                )
            })
            .collect();
        let pages = pages(&said);
        assert!(pages.len() > 1);
        for p in &pages {
            assert!(
                p.chars().count() <= PAGE_CHARS + 100,
                "{}",
                p.chars().count()
            );
            assert!(
                p.starts_with("**Topic"),
                "a page starts with its heading: {p}"
            );
        }
        let all = pages.concat();
        for i in 0..40 {
            assert_eq!(all.matches(&format!("“Sentence {i}.”")).count(), 1);
        }
    }
}
