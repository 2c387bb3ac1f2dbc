//! Message objects as Discord returns them, and helpers to read them.

use super::*;

/// The message an interaction callback (type 4 or 7) created, as Discord
/// sends it with a click on one of its buttons.
pub fn message_from_callback(channel: u64, callback: &Value) -> Value {
    message_object(channel, &callback["data"])
}

/// A user's message in `channel` saying `content`, as Discord sends it.
pub fn user_message(channel: u64, content: &str, author: u64) -> Value {
    let mut m = message_object(channel, &json!({ "content": content }));
    m["author"] = user_json(author, "someone", false);
    m
}

/// Marks `message` as the answer to a slash command that `user` ran, as
/// Discord does in `interaction_metadata`.
pub fn answered_for(mut message: Value, user: u64, command: &str) -> Value {
    message["interaction_metadata"] = json!({
        "id": snowflake().to_string(),
        "type": 2,
        "name": command,
        "user": user_json(user, "tester", false),
        "authorizing_integration_owners": {"0": GUILD_ID.to_string()},
    });
    message
}

/// The `custom_id`s of a message payload's buttons, in order.
pub fn button_ids(message: &Value) -> Vec<String> {
    message["components"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|row| row["components"].as_array().cloned().unwrap_or_default())
        .filter_map(|b| b["custom_id"].as_str().map(str::to_owned))
        .collect()
}

/// A message as Discord returns it.
pub(crate) fn message_object(channel: u64, body: &Value) -> Value {
    json!({
        "components": body.get("components").cloned().unwrap_or(json!([])),
        "id": snowflake().to_string(),
        "channel_id": channel.to_string(),
        "author": bot_user(),
        "content": body.get("content").cloned().unwrap_or(json!("")),
        "timestamp": TIMESTAMP,
        "edited_timestamp": null,
        "tts": false,
        "mention_everyone": false,
        "mentions": [],
        "mention_roles": [],
        "attachments": [],
        "embeds": body.get("embeds").cloned().unwrap_or(json!([])),
        "pinned": false,
        "type": 0,
        "flags": body.get("flags").cloned().unwrap_or(json!(0)),
    })
}
