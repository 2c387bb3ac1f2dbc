//! Servers, roles, channels and members the fake knows, so that a client can
//! read them back (`GET /channels/{id}`, `GET /guilds/{id}`,
//! `GET /guilds/{id}/members/{user}`) and compute its own permissions from
//! them as it would on Discord: the @everyone role (id = guild id), the
//! bot's roles, and per-channel overwrites.

use serde_json::{json, Value};

use super::{user_json, APP_ID, TIMESTAMP, USER_ID};

/// Discord permission bits used by the tests.
pub mod perms {
    pub const ADMINISTRATOR: u64 = 1 << 3;
    pub const MANAGE_GUILD: u64 = 1 << 5;
    pub const VIEW_CHANNEL: u64 = 1 << 10;
    pub const SEND_MESSAGES: u64 = 1 << 11;
    pub const EMBED_LINKS: u64 = 1 << 14;
    pub const READ_MESSAGE_HISTORY: u64 = 1 << 16;
    pub const USE_APPLICATION_COMMANDS: u64 = 1 << 31;
}

/// A server: its @everyone permissions, other roles, and the bot's roles.
#[derive(Debug, Clone)]
pub struct GuildModel {
    pub id: u64,
    pub name: String,
    /// Not the bot, so the bot gets no owner bypass.
    pub owner_id: u64,
    /// Permissions of @everyone (the role whose id is the guild id).
    pub everyone: u64,
    /// Other roles: (role id, permissions).
    pub roles: Vec<(u64, u64)>,
    /// Roles the bot's member has.
    pub bot_roles: Vec<u64>,
}

impl GuildModel {
    /// A server where @everyone may view, send, embed, read history and use
    /// commands: the bot can post anywhere unless an overwrite says otherwise.
    pub fn new(id: u64) -> GuildModel {
        GuildModel {
            id,
            name: format!("server {id}"),
            owner_id: USER_ID,
            everyone: super::MEMBER_PERMISSIONS,
            roles: Vec::new(),
            bot_roles: Vec::new(),
        }
    }
}

/// Who a channel permission overwrite applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OverwriteTarget {
    /// A role (the guild id for @everyone).
    Role(u64),
    /// One member.
    Member(u64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overwrite {
    pub target: OverwriteTarget,
    pub allow: u64,
    pub deny: u64,
}

/// A guild channel.
#[derive(Debug, Clone)]
pub struct ChannelModel {
    pub id: u64,
    pub guild_id: u64,
    pub name: String,
    /// 0 text, 5 announcement, ...
    pub kind: u8,
    pub overwrites: Vec<Overwrite>,
}

impl ChannelModel {
    pub fn text(guild_id: u64, id: u64) -> ChannelModel {
        ChannelModel {
            id,
            guild_id,
            name: format!("channel-{id}"),
            kind: 0,
            overwrites: Vec::new(),
        }
    }
}

fn role_json(id: u64, name: &str, permissions: u64, position: u32) -> Value {
    json!({
        "id": id.to_string(),
        "name": name,
        "color": 0,
        "colors": {"primary_color": 0, "secondary_color": null, "tertiary_color": null},
        "hoist": false,
        "icon": null,
        "unicode_emoji": null,
        "position": position,
        "permissions": permissions.to_string(),
        "managed": false,
        "mentionable": false,
        "flags": 0,
    })
}

/// `GET /guilds/{id}`, as Discord answers it (a guild object without counts).
pub fn guild_json(g: &GuildModel) -> Value {
    let mut roles = vec![role_json(g.id, "@everyone", g.everyone, 0)];
    for (i, (id, p)) in g.roles.iter().enumerate() {
        roles.push(role_json(*id, &format!("role {id}"), *p, i as u32 + 1));
    }
    json!({
        "id": g.id.to_string(),
        "name": g.name,
        "icon": null,
        "icon_hash": null,
        "splash": null,
        "discovery_splash": null,
        "owner_id": g.owner_id.to_string(),
        "afk_channel_id": null,
        "afk_timeout": 300,
        "widget_enabled": false,
        "widget_channel_id": null,
        "verification_level": 0,
        "default_message_notifications": 0,
        "explicit_content_filter": 0,
        "roles": roles,
        "emojis": [],
        "features": [],
        "mfa_level": 0,
        "application_id": null,
        "system_channel_id": null,
        "system_channel_flags": 0,
        "rules_channel_id": null,
        "max_presences": null,
        "max_members": 500_000,
        "vanity_url_code": null,
        "description": null,
        "banner": null,
        "premium_tier": 0,
        "premium_subscription_count": 0,
        "preferred_locale": "en-US",
        "public_updates_channel_id": null,
        "max_video_channel_users": 25,
        "max_stage_video_channel_users": 50,
        "nsfw_level": 0,
        "stickers": [],
        "premium_progress_bar_enabled": false,
        "safety_alerts_channel_id": null,
        "incidents_data": null,
    })
}

/// `GET /guilds/{id}/members/{user}`: the bot has [`GuildModel::bot_roles`],
/// anybody else no roles.
pub fn member_json(g: &GuildModel, user: u64) -> Value {
    let (name, bot, roles) = if user == APP_ID {
        ("massage-bot", true, g.bot_roles.clone())
    } else {
        ("member", false, Vec::new())
    };
    let roles: Vec<String> = roles.iter().map(u64::to_string).collect();
    json!({
        "user": user_json(user, name, bot),
        "nick": null,
        "avatar": null,
        "banner": null,
        "roles": roles,
        "joined_at": TIMESTAMP,
        "premium_since": null,
        "deaf": false,
        "mute": false,
        "flags": 0,
        "pending": false,
        "communication_disabled_until": null,
    })
}

/// `GET /channels/{id}` for a guild channel.
pub fn channel_json(c: &ChannelModel) -> Value {
    let overwrites: Vec<Value> = c
        .overwrites
        .iter()
        .map(|o| {
            let (id, kind) = match o.target {
                OverwriteTarget::Role(id) => (id, 0),
                OverwriteTarget::Member(id) => (id, 1),
            };
            json!({
                "id": id.to_string(),
                "type": kind,
                "allow": o.allow.to_string(),
                "deny": o.deny.to_string(),
            })
        })
        .collect();
    json!({
        "id": c.id.to_string(),
        "type": c.kind,
        "guild_id": c.guild_id.to_string(),
        "position": 0,
        "permission_overwrites": overwrites,
        "name": c.name,
        "topic": null,
        "nsfw": false,
        "last_message_id": null,
        "rate_limit_per_user": 0,
        "parent_id": null,
        "last_pin_timestamp": null,
        "flags": 0,
    })
}

/// A channel in an interaction's `data.resolved.channels`; `permissions` are
/// the invoker's in that channel.
pub fn resolved_channel_json(id: u64, c: Option<&ChannelModel>, invoker_permissions: u64) -> Value {
    json!({
        "id": id.to_string(),
        "name": c.map_or_else(|| format!("channel-{id}"), |c| c.name.clone()),
        "type": c.map_or(0, |c| c.kind),
        "permissions": invoker_permissions.to_string(),
        "parent_id": null,
    })
}

/// The ids of every channel option (type 7) in an options tree.
pub fn channel_option_ids(options: &Value, out: &mut Vec<u64>) {
    let Some(opts) = options.as_array() else {
        return;
    };
    for o in opts {
        if o["type"] == 7 {
            if let Some(id) = o["value"].as_str().and_then(|v| v.parse().ok()) {
                out.push(id);
            }
        }
        channel_option_ids(&o["options"], out);
    }
}
