//! `/settings private-safety on:<bool>`: a server's preferences. Only for
//! members with Manage Server (checked here too, since admins can override
//! the default); every reply is private.

use std::time::Instant;

use serenity::all::{
    CommandInteraction, CommandOptionType, CreateCommand, CreateCommandOption,
    CreateInteractionResponse, ResolvedOption, ResolvedValue,
};
use serenity::http::Http;

use super::commands;
use super::embed;
use super::handler::{Handler, Responder};
use crate::reply::{Command, Kind, Reply};
use crate::tips::Clock;

pub async fn handle<C: Clock>(
    h: &Handler<C>,
    http: &Http,
    responder: &Responder,
    cmd: &CommandInteraction,
    started: Instant,
) {
    let caveat = &h.engine().knowledge().caveat;
    let say = |kind: Kind, title: &str, text: &str| {
        Reply::new(Command::Unknown, kind, title, text, caveat)
    };
    let reply = match (cmd.guild_id, h.prefs()) {
        (None, _) => say(
            Kind::Error,
            "Servers only",
            "Settings belong to a server; use this command in one.",
        ),
        (Some(_), None) => say(
            Kind::Error,
            "Settings are not available",
            "This bot runs without a database for settings just now. Please try again later.",
        ),
        (Some(guild), Some(prefs)) => {
            match (
                commands::may_manage(cmd),
                private_safety_choice(&cmd.data.options()),
            ) {
                (false, _) => say(
                    Kind::Error,
                    "Manage Server needed",
                    "Only members with the Manage Server permission can change this server's settings.",
                ),
                (true, None) => say(
                    Kind::Error,
                    "Sorry, I couldn't read that request",
                    "Use /settings private-safety on: True or False.",
                ),
                (true, Some(on)) => {
                    let now = chrono::Utc::now();
                    match prefs
                        .set_private_safety(crate::tips::GuildId(guild.get()), on, now)
                        .await
                    {
                        Ok(p) if p.private_safety => say(
                            Kind::About,
                            "Safety answers are now private",
                            "Safety answers in this server are now visible only to whoever asked. Anyone can still share theirs with `private: False`.",
                        ),
                        Ok(_) => say(
                            Kind::About,
                            "Safety answers are now public",
                            "Safety answers in this server are now posted in the channel, like other answers. Anyone can still keep theirs to themselves with `private: True`.",
                        ),
                        Err(e) => {
                            tracing::error!(error = %e, guild = %guild, "cannot save server settings");
                            say(
                                Kind::Error,
                                "Couldn't save that",
                                "The setting could not be saved just now. Nothing changed; please try again in a moment.",
                            )
                        }
                    }
                }
            }
        }
    };
    let message = embed::response(&reply, h.engine()).ephemeral(true);
    let sent = h
        .send(
            "settings",
            started,
            http,
            responder,
            CreateInteractionResponse::Message(message),
        )
        .await;
    h.log_outcome("settings", &reply, started, sent.as_ref().err());
}

/// `/settings`, for the server's managers.
pub(super) fn definition() -> CreateCommand {
    commands::for_managers(
        "settings",
        "This server's settings for the bot (Manage Server)",
    )
    .add_option(
        CreateCommandOption::new(
            CommandOptionType::SubCommand,
            "private-safety",
            "Safety answers visible only to whoever asked, unless they choose otherwise",
        )
        .add_sub_option(
            CreateCommandOption::new(
                CommandOptionType::Boolean,
                "on",
                "True: private by default; False: public, like other answers",
            )
            .required(true),
        ),
    )
}

/// `private-safety`'s `on` option.
fn private_safety_choice(options: &[ResolvedOption<'_>]) -> Option<bool> {
    options.iter().find_map(|o| match &o.value {
        ResolvedValue::SubCommand(sub) if o.name == "private-safety" => {
            sub.iter().find_map(|s| match s.value {
                ResolvedValue::Boolean(on) if s.name == "on" => Some(on),
                _ => None,
            })
        }
        _ => None,
    })
}
