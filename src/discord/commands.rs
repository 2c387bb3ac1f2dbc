//! The slash commands the bot registers. Names and descriptions follow
//! Discord's rules (names 1-32 lowercase, descriptions up to 100); a unit
//! test checks them.

use serenity::all::{
    ChannelType, CommandOptionType, CreateCommand, CreateCommandOption, Permissions,
};

/// Managing the daily tip is for members with Manage Server. Discord applies
/// this default, server admins may override it, and the bot checks again.
pub const TIPS_PERMISSION: Permissions = Permissions::MANAGE_GUILD;

fn topic_option(description: &str) -> CreateCommandOption {
    CreateCommandOption::new(CommandOptionType::String, "topic", description)
        .required(true)
        .set_autocomplete(true)
        .max_length(100)
}

/// The names of [`all`], for metric labels.
pub const NAMES: &[&str] = &["benefits", "safe", "ask", "tip", "topics", "about", "tips"];

/// Every command, in the order shown to users.
pub fn all() -> Vec<CreateCommand> {
    vec![
        CreateCommand::new("benefits")
            .description("What massage may do for a topic, from the sources")
            .add_option(topic_option("A topic, such as sleep, stress or back pain")),
        CreateCommand::new("safe")
            .description("When to be careful with massage or avoid it, from the sources")
            .add_option(topic_option(
                "A topic, such as pregnancy, heart or varicose veins",
            )),
        CreateCommand::new("ask")
            .description("Ask about the benefits or safety of massage in plain words")
            .add_option(
                CreateCommandOption::new(CommandOptionType::String, "question", "Your question")
                    .required(true)
                    .max_length(500),
            ),
        CreateCommand::new("tip").description("A relaxation tip"),
        CreateCommand::new("topics").description("Everything the bot can answer, grouped"),
        CreateCommand::new("about").description("What this bot is, its sources and its limits"),
        CreateCommand::new("tips")
            .description("Daily relaxation tip for this server (Manage Server)")
            .dm_permission(false)
            .default_member_permissions(TIPS_PERMISSION)
            .add_option(
                CreateCommandOption::new(
                    CommandOptionType::SubCommand,
                    "set",
                    "Post a tip every day in a channel",
                )
                .add_sub_option(
                    CreateCommandOption::new(
                        CommandOptionType::Channel,
                        "channel",
                        "Where to post",
                    )
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
            )),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_table_matches_definitions() {
        let json = serde_json::to_value(all()).unwrap();
        let names: Vec<&str> = json
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, NAMES);
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
        json.as_array().unwrap().iter().for_each(walk);
    }
}
