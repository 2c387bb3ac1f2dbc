//! The slash commands the bot registers. Names and descriptions follow
//! Discord's rules (names 1-32 lowercase, descriptions up to 100); a unit
//! test checks them.

use serenity::all::{
    CommandOptionType, CommandType, CreateCommand, CreateCommandOption, InstallationContext,
    InteractionContext, Permissions,
};

/// Managing the daily tip and the server's settings is for members with
/// Manage Server. Discord applies this default, server admins may override
/// it, and the bot checks again.
pub const TIPS_PERMISSION: Permissions = Permissions::MANAGE_GUILD;

fn topic_option(description: &str) -> CreateCommandOption {
    CreateCommandOption::new(CommandOptionType::String, "topic", description)
        .required(true)
        .set_autocomplete(true)
        .max_length(100)
}

/// Whether the member who used `cmd` may manage the bot in this server
/// (Manage Server, or Administrator): checked by the bot too, since server
/// admins can change who sees `/tips` and `/settings`.
pub fn may_manage(cmd: &serenity::all::CommandInteraction) -> bool {
    cmd.member
        .as_ref()
        .and_then(|m| m.permissions)
        .is_some_and(|p| p.contains(TIPS_PERMISSION) || p.administrator())
}

/// For a server's managers (`/tips`, `/settings`): installed in a server,
/// used in it, shown by default only to members with Manage Server.
pub fn for_managers(name: &str, description: &str) -> CreateCommand {
    CreateCommand::new(name)
        .description(description)
        .integration_types(vec![InstallationContext::Guild])
        .contexts(vec![InteractionContext::Guild])
        .default_member_permissions(TIPS_PERMISSION)
}

/// Q&A works wherever someone can reach the bot: servers that added it,
/// and for members who installed it themselves, their DMs with the bot and
/// any other DM or group DM (health questions are often asked privately).
fn everywhere(c: CreateCommand) -> CreateCommand {
    c.integration_types(vec![InstallationContext::Guild, InstallationContext::User])
        .contexts(vec![
            InteractionContext::Guild,
            InteractionContext::BotDm,
            InteractionContext::PrivateChannel,
        ])
}

fn private_option() -> CreateCommandOption {
    CreateCommandOption::new(
        CommandOptionType::Boolean,
        "private",
        "Only you see the answer (default: everyone in the channel)",
    )
}

/// Every command the bot registers. Parsed once from an interaction, then
/// dispatched by this type, never by its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BotCommand {
    Benefits,
    Safe,
    Ask,
    Tip,
    Topics,
    About,
    Tips,
    /// A server's preferences (Manage Server).
    Settings,
    /// The message context menu: asks about the message it is used on.
    AskAboutMessage,
}

impl BotCommand {
    /// In the order shown to users.
    pub const ALL: [BotCommand; 9] = [
        BotCommand::Benefits,
        BotCommand::Safe,
        BotCommand::Ask,
        BotCommand::Tip,
        BotCommand::Topics,
        BotCommand::About,
        BotCommand::Tips,
        BotCommand::Settings,
        BotCommand::AskAboutMessage,
    ];

    /// The name Discord shows (and sends back).
    pub fn name(self) -> &'static str {
        match self {
            BotCommand::Benefits => "benefits",
            BotCommand::Safe => "safe",
            BotCommand::Ask => "ask",
            BotCommand::Tip => "tip",
            BotCommand::Topics => "topics",
            BotCommand::About => "about",
            BotCommand::Tips => "tips",
            BotCommand::Settings => "settings",
            BotCommand::AskAboutMessage => "Ask massage-bot",
        }
    }

    /// The label in logs and metrics (lowercase, no spaces).
    pub fn label(self) -> &'static str {
        match self {
            BotCommand::AskAboutMessage => "ask-message",
            other => other.name(),
        }
    }

    fn kind(self) -> CommandType {
        match self {
            BotCommand::AskAboutMessage => CommandType::Message,
            _ => CommandType::ChatInput,
        }
    }

    /// The command an interaction names, if it is one of ours.
    pub fn parse(name: &str, kind: CommandType) -> Option<BotCommand> {
        BotCommand::ALL
            .into_iter()
            .find(|c| c.name() == name && c.kind() == kind)
    }

    /// What is registered with Discord for this command.
    pub fn definition(self) -> CreateCommand {
        match self {
            BotCommand::Benefits => everywhere(
                CreateCommand::new("benefits")
                    .description("What massage may do for a topic, from the sources")
                    .add_option(topic_option("A topic, such as sleep, stress or back pain"))
                    .add_option(private_option()),
            ),
            BotCommand::Safe => everywhere(
                CreateCommand::new("safe")
                    .description("When to be careful with massage or avoid it, from the sources")
                    .add_option(topic_option(
                        "A topic, such as pregnancy, heart or varicose veins",
                    ))
                    .add_option(private_option()),
            ),
            BotCommand::Ask => everywhere(
                CreateCommand::new("ask")
                    .description("Ask about the benefits or safety of massage in plain words")
                    .add_option(
                        CreateCommandOption::new(
                            CommandOptionType::String,
                            "question",
                            "Your question",
                        )
                        .required(true)
                        .max_length(500),
                    )
                    .add_option(private_option()),
            ),
            BotCommand::Tip => {
                everywhere(CreateCommand::new("tip").description("A relaxation tip"))
            }
            BotCommand::Topics => everywhere(
                CreateCommand::new("topics").description("Everything the bot can answer, grouped"),
            ),
            BotCommand::About => everywhere(
                CreateCommand::new("about")
                    .description("What this bot is, its sources and its limits"),
            ),
            BotCommand::Tips => super::tips::definition(),
            BotCommand::Settings => super::settings::definition(),
            BotCommand::AskAboutMessage => {
                everywhere(CreateCommand::new("Ask massage-bot").kind(CommandType::Message))
            }
        }
    }
}

/// Every command, in the order shown to users.
pub fn all() -> Vec<CreateCommand> {
    BotCommand::ALL.map(BotCommand::definition).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_parses_back_from_its_name_and_kind() {
        let json = serde_json::to_value(all()).unwrap();
        for (c, def) in BotCommand::ALL.iter().zip(json.as_array().unwrap()) {
            assert_eq!(def["name"], c.name());
            let kind = CommandType::from(def["type"].as_u64().unwrap_or(1) as u8);
            assert_eq!(BotCommand::parse(c.name(), kind), Some(*c));
        }
        assert_eq!(BotCommand::parse("ask", CommandType::Message), None);
        assert_eq!(
            BotCommand::parse("Ask massage-bot", CommandType::ChatInput),
            None
        );
        assert_eq!(BotCommand::parse("nope", CommandType::ChatInput), None);
    }

    #[test]
    fn names_and_descriptions_follow_discord_rules() {
        let json = serde_json::to_value(all()).unwrap();
        fn walk(v: &serde_json::Value) {
            if let Some(name) = v.get("name").and_then(|n| n.as_str()) {
                assert!((1..=32).contains(&name.len()), "{name}");
                assert!(
                    name.bytes()
                        .all(|b| b.is_ascii_lowercase() || b == b'-' || b == b'_'),
                    "{name}"
                );
                let d = v["description"].as_str().unwrap();
                assert!((1..=100).contains(&d.chars().count()), "{d}");
            }
            if let Some(opts) = v.get("options").and_then(|o| o.as_array()) {
                opts.iter().for_each(walk);
            }
        }
        // A context-menu command (type 3) has a free-form name and no
        // description.
        json.as_array()
            .unwrap()
            .iter()
            .filter(|c| c["type"].as_u64() != Some(3))
            .for_each(walk);
    }
}
