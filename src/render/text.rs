use super::Card;
use crate::reply::Reply;

/// The reply as plain text for a terminal: the same card the bot posts,
/// drawn line by line, ending with the caveat.
pub fn text(reply: &Reply) -> String {
    let card = Card::from_reply(reply);
    let mut out = String::new();
    out.push_str(&card.title);
    out.push_str("\n\n");
    if !card.description.is_empty() {
        out.push_str(&card.description);
        out.push_str("\n\n");
    }
    for field in &card.fields {
        out.push_str(&field.name);
        out.push_str(":\n");
        for line in field.value.lines() {
            out.push_str("  ");
            out.push_str(line);
            out.push('\n');
        }
        out.push('\n');
    }
    out.push_str("⚕ ");
    out.push_str(&card.footer);
    out
}
