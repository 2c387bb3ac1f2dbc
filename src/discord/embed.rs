//! The one place where a reply becomes a Discord message.

use serenity::all::{
    CreateAllowedMentions, CreateEmbed, CreateEmbedFooter, CreateInteractionResponseMessage,
    CreateMessage, EditInteractionResponse,
};

use super::buttons;
use crate::engine::Engine;
use crate::render::Card;
use crate::reply::Reply;

/// Nothing may be pinged: user text is echoed, `@everyone` included.
pub fn no_mentions() -> CreateAllowedMentions {
    CreateAllowedMentions::new()
}

pub fn embed(reply: &Reply) -> CreateEmbed {
    let card = Card::from_reply(reply);
    let mut e = CreateEmbed::new()
        .title(card.title)
        .colour(card.color)
        .footer(CreateEmbedFooter::new(card.footer));
    if !card.description.is_empty() {
        e = e.description(card.description);
    }
    for f in card.fields {
        e = e.field(f.name, f.value, f.inline);
    }
    e
}

/// An interaction reply: public for answers, ephemeral otherwise, with
/// the Quotes button when it states anything from the sources.
pub fn response(reply: &Reply, engine: &Engine) -> CreateInteractionResponseMessage {
    CreateInteractionResponseMessage::new()
        .embed(embed(reply))
        .allowed_mentions(no_mentions())
        .ephemeral(reply.is_private())
        .components(buttons::answer_rows(engine, reply))
}

/// The new content of the message a button is on.
pub fn update(reply: &Reply) -> CreateInteractionResponseMessage {
    CreateInteractionResponseMessage::new()
        .embed(embed(reply))
        .allowed_mentions(no_mentions())
}

/// The edit that completes a deferred reply.
pub fn edit(reply: &Reply) -> EditInteractionResponse {
    EditInteractionResponse::new()
        .embed(embed(reply))
        .allowed_mentions(no_mentions())
}

/// A channel message (the daily tip), with its Quotes button.
pub fn message(reply: &Reply, engine: &Engine) -> CreateMessage {
    CreateMessage::new()
        .embed(embed(reply))
        .allowed_mentions(no_mentions())
        .components(buttons::answer_rows(engine, reply))
}
