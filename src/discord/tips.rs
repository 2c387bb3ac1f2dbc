//! `/tips set|off|show|now`: managing the daily tip. Only for members with
//! Manage Server (checked here too, since admins can override the default);
//! every reply is ephemeral.

use std::time::Instant;

use serenity::all::{
    ChannelId, ChannelType, CommandInteraction, CommandOptionType, CreateCommand,
    CreateCommandOption, CreateInteractionResponse, CreateInteractionResponseMessage, GuildId,
    Permissions, ResolvedOption, ResolvedValue,
};

use serenity::http::Http;

use super::handler::{Handler, Responder};
use super::{commands, embed};
use crate::reply::{Command, Kind, Reply, Section};
use crate::tips::{self, Clock, PostNowError, PostNowOutcome, Schedule, TipSettings, TipsStatus};

/// What the bot needs in the tip channel, with the name users see.
const NEEDED: [(Permissions, &str); 3] = [
    (Permissions::VIEW_CHANNEL, "View Channel"),
    (Permissions::SEND_MESSAGES, "Send Messages"),
    (Permissions::EMBED_LINKS, "Embed Links"),
];

/// `/tips`, for the server's managers.
pub(super) fn definition() -> CreateCommand {
    commands::for_managers(
        "tips",
        "Daily relaxation tip for this server (Manage Server)",
    )
    .add_option(
        CreateCommandOption::new(
            CommandOptionType::SubCommand,
            "set",
            "Post a tip every day in a channel",
        )
        .add_sub_option(
            CreateCommandOption::new(CommandOptionType::Channel, "channel", "Where to post")
                .required(true)
                .channel_types(vec![ChannelType::Text, ChannelType::News]),
        )
        .add_sub_option(
            CreateCommandOption::new(
                CommandOptionType::String,
                "time",
                "Local time, 24 h HH:MM, e.g. 08:30",
            )
            .required(true)
            .max_length(5),
        )
        .add_sub_option(
            CreateCommandOption::new(
                CommandOptionType::String,
                "timezone",
                "Time zone, e.g. Europe/Berlin or America/New_York",
            )
            .required(true)
            .set_autocomplete(true)
            .max_length(64),
        ),
    )
    .add_option(CreateCommandOption::new(
        CommandOptionType::SubCommand,
        "off",
        "Stop the daily tip",
    ))
    .add_option(CreateCommandOption::new(
        CommandOptionType::SubCommand,
        "show",
        "Show the daily tip settings, next and last post",
    ))
    .add_option(CreateCommandOption::new(
        CommandOptionType::SubCommand,
        "now",
        "Post today's tip now (counts as today's)",
    ))
}

pub async fn handle<C: Clock>(
    h: &Handler<C>,
    http: &Http,
    responder: &Responder,
    cmd: &CommandInteraction,
    started: Instant,
) {
    let caveat = &h.engine().knowledge().caveat;
    let reply_now =
        |title: &str, text: String| Reply::new(Command::Tips, Kind::Error, title, text, caveat);

    let Some(guild) = cmd.guild_id else {
        let r = reply_now(
            "Servers only",
            "Daily tips are set per server; use this command in a server.".into(),
        );
        respond_now(h, http, responder, &r, started).await;
        return;
    };
    if !commands::may_manage(cmd) {
        let r = reply_now(
            "Manage Server needed",
            "Only members with the Manage Server permission can change the daily tip.".into(),
        );
        respond_now(h, http, responder, &r, started).await;
        return;
    }

    // Storage and Discord calls follow: defer, so the 3-second deadline
    // cannot be missed.
    let defer =
        CreateInteractionResponse::Defer(CreateInteractionResponseMessage::new().ephemeral(true));
    if let Err(e) = h.send("tips", started, http, responder, defer).await {
        tracing::warn!(error = %e, "could not defer /tips");
    }
    let options = cmd.data.options();
    let (sub, args) = match options.first() {
        Some(ResolvedOption {
            name,
            value: ResolvedValue::SubCommand(args),
            ..
        }) => (*name, args.as_slice()),
        _ => ("", &[][..]),
    };
    let reply = match sub {
        "set" => set(h, http, guild, args).await,
        "off" => off(h, guild).await,
        "show" => show(h, guild).await,
        "now" => now(h, guild).await,
        _ => reply_now(
            "Unknown subcommand",
            "Use `/tips set`, `/tips off`, `/tips show` or `/tips now`.".into(),
        ),
    };
    let sent = cmd.edit_response(http, embed::edit(&reply)).await;
    h.log_outcome("tips", &reply, started, sent.as_ref().err());
}

async fn respond_now<C: Clock>(
    h: &Handler<C>,
    http: &Http,
    responder: &Responder,
    reply: &Reply,
    started: Instant,
) {
    let msg: CreateInteractionResponseMessage = embed::response(reply, h.engine()).ephemeral(true);
    let response = CreateInteractionResponse::Message(msg);
    let sent = h.send("tips", started, http, responder, response).await;
    h.log_outcome("tips", reply, started, sent.as_ref().err());
}

fn reply<C: Clock>(h: &Handler<C>, kind: Kind, title: &str, summary: String) -> Reply {
    Reply::new(
        Command::Tips,
        kind,
        title,
        summary,
        &h.engine().knowledge().caveat,
    )
}

fn storage_error<C: Clock>(h: &Handler<C>, e: &tips::StoreError) -> Reply {
    tracing::error!(error = %e, "tip settings storage failed");
    let summary = if e.is_damage() {
        // Not "try again": it will fail the same way until the operator acts.
        "I can't read or save this server's tip settings because the bot's database is damaged. Its operator is told so by the bot's logs and health check."
    } else {
        "I couldn't read or save the tip settings. Please try again."
    };
    reply(
        h,
        Kind::Error,
        "Sorry, something went wrong",
        summary.into(),
    )
}

fn discord_time(unix: i64) -> String {
    format!("<t:{unix}:F> (<t:{unix}:R>)")
}

async fn set<C: Clock>(
    h: &Handler<C>,
    http: &Http,
    guild: GuildId,
    args: &[ResolvedOption<'_>],
) -> Reply {
    let mut channel = None;
    let (mut time, mut zone) = ("", "");
    for a in args {
        match (a.name, &a.value) {
            ("channel", ResolvedValue::Channel(c)) => channel = Some(c.id),
            ("time", ResolvedValue::String(s)) => time = s,
            ("timezone", ResolvedValue::String(s)) => zone = s,
            _ => {}
        }
    }
    let Some(channel) = channel else {
        return reply(
            h,
            Kind::Error,
            "Which channel?",
            "Pick the channel for the daily tip.".into(),
        );
    };
    let time = match tips::parse_time(time) {
        Ok(t) => t,
        Err(e) => {
            return reply(
                h,
                Kind::Error,
                "Time not understood",
                format!("{e}. Use 24-hour HH:MM, for example 08:30."),
            )
        }
    };
    let tz = match tips::parse_tz(zone) {
        Ok(tz) => tz,
        Err(e) => {
            return reply(
                h,
                Kind::Error,
                "Time zone not understood",
                format!("{e}. Use a name such as Europe/Berlin or America/New_York (the list suggests them)."),
            )
        }
    };
    if let Err(missing) = check_channel(h, http, guild, channel).await {
        return reply(h, Kind::Error, "I can't post there", missing);
    }
    let Some(admin) = h.tips() else {
        return h.internal_error();
    };
    let schedule = Schedule {
        channel: tips::ChannelId(channel.get()),
        time,
        tz,
    };
    let status = match admin.set(tips::GuildId(guild.get()), &schedule).await {
        Ok(s) => s,
        Err(e) => return storage_error(h, &e),
    };
    let next = status
        .next
        .map(|n| format!("Next post: {}.", discord_time(n.unix())))
        .unwrap_or_default();
    tracing::info!(guild = %guild, channel = %channel, time = %tips::format_time(time), tz = %tz.name(), "daily tip set");
    reply(
        h,
        Kind::Answer,
        "Daily tip set",
        format!(
            "A relaxation tip will be posted in <#{channel}> every day at {} ({}). {next}",
            tips::format_time(time),
            tz.name()
        ),
    )
}

/// Checks the bot can view the channel and send messages and embeds there;
/// on failure says exactly what is missing.
async fn check_channel<C: Clock>(
    h: &Handler<C>,
    http: &Http,
    guild: GuildId,
    channel: ChannelId,
) -> Result<(), String> {
    let cannot_see = || {
        format!("I can't see <#{channel}>. Give me the View Channel permission there, or pick another channel.")
    };
    let Some(bot) = h.bot_user() else {
        return Err("I'm still connecting to Discord; please try again in a moment.".into());
    };
    let channel_obj = match http.get_channel(channel).await {
        Ok(serenity::all::Channel::Guild(c)) if c.guild_id == guild => c,
        Ok(_) => return Err("That is not a channel of this server.".into()),
        Err(e) => {
            tracing::info!(error = %e, channel = %channel, "tip channel not readable");
            return Err(cannot_see());
        }
    };
    let (guild_obj, member) =
        match tokio::try_join!(http.get_guild(guild), http.get_member(guild, bot)) {
            Ok(pair) => pair,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read server roles to check permissions");
                return Err(
                    "I couldn't check my permissions in this server just now; please try again."
                        .into(),
                );
            }
        };
    let perms = guild_obj.user_permissions_in(&channel_obj, &member);
    let missing: Vec<&str> = NEEDED
        .iter()
        .filter(|(p, _)| !perms.contains(*p))
        .map(|(_, n)| *n)
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "I'm missing {} in <#{channel}>. Grant it, or pick another channel.",
            missing.join(", ")
        ))
    }
}

async fn off<C: Clock>(h: &Handler<C>, guild: GuildId) -> Reply {
    let Some(admin) = h.tips() else {
        return h.internal_error();
    };
    match admin.off(tips::GuildId(guild.get())).await {
        Ok(true) => reply(
            h,
            Kind::Answer,
            "Daily tip off",
            "No more daily tips. `/tips set` turns them back on.".into(),
        ),
        Ok(false) => reply(
            h,
            Kind::Answer,
            "Daily tip off",
            "The daily tip was not set up for this server.".into(),
        ),
        Err(e) => storage_error(h, &e),
    }
}

async fn show<C: Clock>(h: &Handler<C>, guild: GuildId) -> Reply {
    let Some(admin) = h.tips() else {
        return h.internal_error();
    };
    let TipsStatus { settings, next } = match admin.show(tips::GuildId(guild.get())).await {
        Ok(Some(s)) => s,
        Ok(None) => {
            return reply(
                h,
                Kind::Answer,
                "Daily tip",
                "Not set up. Use `/tips set` to choose a channel, time and time zone.".into(),
            )
        }
        Err(e) => return storage_error(h, &e),
    };
    let mut r = reply(h, Kind::Answer, "Daily tip", status_line(&settings));
    let mut lines = vec![
        format!("Channel: <#{}>", settings.schedule.channel.0),
        format!(
            "Time: {} ({})",
            tips::format_time(settings.schedule.time),
            settings.schedule.tz.name()
        ),
    ];
    if let Some(next) = next {
        lines.push(format!("Next post: {}", discord_time(next.unix())));
    }
    match &settings.last_post {
        Some(last) => lines.push(format!("Last post: {}", discord_time(last.at.timestamp()))),
        None => lines.push("Last post: none yet".to_owned()),
    }
    if let Some(a) = &settings.latest_attempt {
        if let Some(err) = &a.error {
            lines.push(format!("Last problem ({}): {}", a.date, err));
        }
    }
    r.sections.push(Section {
        heading: "Settings".into(),
        lines,
    });
    r
}

fn status_line(s: &TipSettings) -> String {
    match (&s.paused, s.enabled) {
        (Some(p), _) => format!(
            "⏸ Paused since <t:{}:f>: {}. Fix the channel or permissions, then `/tips set` again.",
            p.at.timestamp(),
            p.reason
        ),
        (None, true) => "✅ On.".to_owned(),
        (None, false) => "Off. `/tips set` turns it on.".to_owned(),
    }
}

async fn now<C: Clock>(h: &Handler<C>, guild: GuildId) -> Reply {
    let Some(admin) = h.tips() else {
        return h.internal_error();
    };
    match admin.post_now(tips::GuildId(guild.get())).await {
        Ok(PostNowOutcome::Posted { date, .. }) => reply(
            h,
            Kind::Answer,
            "Tip posted",
            format!("Today's tip ({date}) is posted; it counts as today's."),
        ),
        Ok(PostNowOutcome::AlreadyPosted { date, .. }) => reply(
            h,
            Kind::Answer,
            "Already posted",
            format!("Today's tip ({date}) was already posted."),
        ),
        Err(PostNowError::NotConfigured) => reply(
            h,
            Kind::Error,
            "Not set up",
            "Use `/tips set` first to choose a channel.".into(),
        ),
        Err(PostNowError::Gone { reason, .. }) => reply(
            h,
            Kind::Error,
            "I can't post there",
            format!("{reason}. Tips are paused until `/tips set` picks a channel I can use."),
        ),
        Err(e) => {
            tracing::warn!(error = %e, guild = %guild, "/tips now failed");
            reply(
                h,
                Kind::Error,
                "Not posted",
                format!("The tip could not be posted: {e}."),
            )
        }
    }
}
