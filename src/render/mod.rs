//! Rendering a [`Reply`]: first into a [`Card`] (the layout of a Discord
//! embed, with Discord's limits, but no Discord types), then into plain text
//! for the terminal or into an embed by the Discord glue. Both front ends
//! draw the same card, so the command line shows exactly what the bot posts.

mod card;
mod json;
mod pages;
pub mod quotes;
mod text;

pub use card::{limits, Card, Field, LimitProblem, ADVICE_HEADING};
pub use json::{json, JsonReply};
pub use pages::section_pages;
pub use text::text;
