//! Interactions as Discord sends them: who invokes, and the options.

use super::*;

/// Who invokes an interaction, and where.
#[derive(Debug, Clone)]
pub struct Invoker {
    /// `None`: a DM (the payload carries `user` instead of `member`).
    pub guild_id: Option<u64>,
    pub channel_id: u64,
    pub user_id: u64,
    pub username: String,
    pub permissions: u64,
    pub locale: String,
}

impl Default for Invoker {
    fn default() -> Self {
        Invoker::member()
    }
}

impl Invoker {
    /// An ordinary member of [`GUILD_ID`] in [`CHANNEL_ID`].
    pub fn member() -> Invoker {
        Invoker {
            guild_id: Some(GUILD_ID),
            channel_id: CHANNEL_ID,
            user_id: USER_ID,
            username: "tester".into(),
            permissions: MEMBER_PERMISSIONS,
            locale: "en-US".into(),
        }
    }

    /// A member with Administrator and Manage Guild.
    pub fn admin() -> Invoker {
        Invoker {
            permissions: ADMIN_PERMISSIONS,
            username: "admin".into(),
            ..Invoker::member()
        }
    }

    /// A direct message with the bot.
    pub fn dm() -> Invoker {
        Invoker {
            guild_id: None,
            channel_id: snowflake(),
            ..Invoker::member()
        }
    }

    pub fn in_channel(mut self, channel_id: u64) -> Invoker {
        self.channel_id = channel_id;
        self
    }
}

/// An interaction built by the fake, ready to dispatch.
#[derive(Debug, Clone)]
pub struct Interaction {
    pub id: u64,
    pub token: String,
    /// The INTERACTION_CREATE `d` payload.
    pub payload: Value,
}

/// `{"name", "type": 3, "value"}`: a string option.
pub fn opt_str(name: &str, value: &str) -> Value {
    json!({"name": name, "type": 3, "value": value})
}

/// `{"name", "type": 7, "value"}`: a channel option. The interaction gets
/// the channel in `data.resolved.channels`, as Discord sends it.
pub fn opt_channel(name: &str, channel: u64) -> Value {
    json!({"name": name, "type": 7, "value": channel.to_string()})
}

/// A subcommand (type 1) with its options.
pub fn subcommand(name: &str, options: Value) -> Value {
    json!({"name": name, "type": 1, "options": options})
}

pub(crate) fn user_json(id: u64, username: &str, bot: bool) -> Value {
    json!({
        "id": id.to_string(),
        "username": username,
        "discriminator": "0",
        "global_name": username,
        "avatar": null,
        "bot": bot,
        "system": false,
        "public_flags": 0,
        "flags": 0,
    })
}

pub(crate) fn bot_user() -> Value {
    user_json(APP_ID, "massage-bot", true)
}

pub(crate) const TIMESTAMP: &str = "2024-01-01T00:00:00.000000+00:00";

impl FakeDiscord {
    // ----- interactions --------------------------------------------------

    fn command_id(&self, name: &str) -> String {
        let st = self.inner.lock();
        st.commands
            .values()
            .flatten()
            .find(|c| c["name"] == name)
            .and_then(|c| c["id"].as_str().map(str::to_owned))
            .unwrap_or_else(|| snowflake().to_string())
    }

    fn interaction(&self, kind: u8, name: &str, options: Value, who: &Invoker) -> Interaction {
        let id = snowflake();
        let token = interaction_token(id);
        let mut d = json!({
            "id": id.to_string(),
            "application_id": APP_ID.to_string(),
            "type": kind,
            "data": {
                "id": self.command_id(name),
                "name": name,
                "type": 1,
                "options": options,
            },
            "channel_id": who.channel_id.to_string(),
            "channel": {"id": who.channel_id.to_string(), "type": if who.guild_id.is_some() { 0 } else { 1 }},
            "token": token,
            "version": 1,
            "locale": who.locale,
            "app_permissions": MEMBER_PERMISSIONS.to_string(),
            "entitlements": [],
            "attachment_size_limit": 10_485_760,
        });
        let mut channel_ids = Vec::new();
        guilds::channel_option_ids(&d["data"]["options"], &mut channel_ids);
        if !channel_ids.is_empty() {
            let st = self.inner.lock();
            let resolved: serde_json::Map<String, Value> = channel_ids
                .iter()
                .map(|&c| {
                    (
                        c.to_string(),
                        guilds::resolved_channel_json(
                            c,
                            st.channel_models.get(&c),
                            who.permissions,
                        ),
                    )
                })
                .collect();
            d["data"]["resolved"] = json!({ "channels": resolved });
        }
        let user = user_json(who.user_id, &who.username, false);
        match who.guild_id {
            Some(g) => {
                d["guild_id"] = json!(g.to_string());
                d["guild_locale"] = json!("en-US");
                d["data"]["guild_id"] = json!(g.to_string());
                d["member"] = json!({
                    "user": user,
                    "nick": null,
                    "avatar": null,
                    "roles": [],
                    "joined_at": TIMESTAMP,
                    "premium_since": null,
                    "deaf": false,
                    "mute": false,
                    "flags": 0,
                    "pending": false,
                    "permissions": who.permissions.to_string(),
                    "communication_disabled_until": null,
                });
                d["authorizing_integration_owners"] = json!({"0": g.to_string()});
                d["context"] = json!(0);
            }
            None => {
                d["user"] = user;
                d["authorizing_integration_owners"] = json!({"0": "0"});
                d["context"] = json!(1);
            }
        }
        Interaction {
            id,
            token,
            payload: d,
        }
    }

    /// A slash command (interaction type 2). `options` is the JSON array of
    /// options, e.g. `json!([opt_str("topic", "sleep")])`.
    pub fn interaction_command(&self, name: &str, options: Value, who: &Invoker) -> Interaction {
        self.interaction(2, name, options, who)
    }

    /// An autocomplete request (interaction type 4) with `option` focused
    /// and `partial` typed so far.
    pub fn interaction_autocomplete(
        &self,
        name: &str,
        option: &str,
        partial: &str,
        who: &Invoker,
    ) -> Interaction {
        let options = json!([{"name": option, "type": 3, "value": partial, "focused": true}]);
        self.interaction(4, name, options, who)
    }

    /// The message context-menu command `name` (interaction type 2, command
    /// type 3) used on `target`, a message object, which Discord sends in
    /// `data.resolved.messages`.
    pub fn interaction_message_command(
        &self,
        name: &str,
        target: Value,
        who: &Invoker,
    ) -> Interaction {
        let mut i = self.interaction(2, name, Value::Null, who);
        let id = target["id"].as_str().unwrap_or("1").to_owned();
        let data = &mut i.payload["data"];
        data["type"] = json!(3);
        data["target_id"] = json!(id);
        data["resolved"] = json!({ "messages": { id: target } });
        if let Some(o) = data.as_object_mut() {
            o.remove("options");
        }
        i
    }

    /// A button click (interaction type 3) on `message`, a message object
    /// as Discord would send it (see [`message_from_callback`]).
    pub fn interaction_component(
        &self,
        custom_id: &str,
        message: Value,
        who: &Invoker,
    ) -> Interaction {
        let mut i = self.interaction(3, "", json!([]), who);
        i.payload["data"] = json!({"custom_id": custom_id, "component_type": 2});
        i.payload["message"] = message;
        i
    }

    /// Dispatches INTERACTION_CREATE.
    pub fn dispatch_interaction(&self, i: &Interaction) {
        self.inner.lock().interactions.insert(i.id, i.token.clone());
        self.dispatch("INTERACTION_CREATE", i.payload.clone());
    }

    /// The first callback request for interaction `id`, if any yet.
    pub fn callback_for(&self, id: u64) -> Option<RecordedRequest> {
        self.inner
            .lock()
            .requests
            .iter()
            .find(|r| r.method == "POST" && r.callback_interaction_id() == Some(id))
            .cloned()
    }

    /// Waits for the first callback for interaction `id`.
    pub async fn wait_callback(&self, id: u64, timeout: Duration) -> Option<RecordedRequest> {
        self.wait_until(timeout, |f| f.callback_for(id)).await
    }

    /// Waits for the `n`th (from 1) callback for interaction `id`.
    pub async fn wait_callbacks(
        &self,
        id: u64,
        n: usize,
        timeout: Duration,
    ) -> Option<Vec<RecordedRequest>> {
        self.wait_until(timeout, |f| {
            let v: Vec<_> = f
                .inner
                .lock()
                .requests
                .iter()
                .filter(|r| r.method == "POST" && r.callback_interaction_id() == Some(id))
                .cloned()
                .collect();
            (v.len() >= n).then_some(v)
        })
        .await
    }

    /// `PATCH /webhooks/{app}/{token}/messages/@original` for `i` (the edit
    /// that completes a deferred reply), in order.
    pub fn original_edits(&self, i: &Interaction) -> Vec<RecordedRequest> {
        let path = format!("/api/v10/webhooks/{APP_ID}/{}/messages/@original", i.token);
        self.inner
            .lock()
            .requests
            .iter()
            .filter(|r| r.method == "PATCH" && r.path == path)
            .cloned()
            .collect()
    }

    /// Waits for the first edit of `i`'s original response.
    pub async fn wait_original_edit(
        &self,
        i: &Interaction,
        timeout: Duration,
    ) -> Option<RecordedRequest> {
        self.wait_until(timeout, |f| f.original_edits(i).into_iter().next())
            .await
    }

    /// Dispatches `i` and returns its callback's body; panics after 10 s.
    pub async fn send_interaction(&self, i: &Interaction) -> Value {
        self.dispatch_interaction(i);
        match self.wait_callback(i.id, Duration::from_secs(10)).await {
            Some(r) => r.body,
            None => panic!(
                "no callback for interaction {} ({}) within 10 s; gateway: {:?}; requests: {}",
                i.id,
                i.payload["data"]["name"],
                self.gateway_stats(),
                self.describe_requests()
            ),
        }
    }

    /// A slash command from an ordinary member; returns the callback body.
    pub async fn send_command(&self, name: &str, options: Value) -> Value {
        let i = self.interaction_command(name, options, &Invoker::member());
        self.send_interaction(&i).await
    }

    /// An autocomplete request from an ordinary member; returns the callback body.
    pub async fn send_autocomplete(&self, name: &str, option: &str, partial: &str) -> Value {
        let i = self.interaction_autocomplete(name, option, partial, &Invoker::member());
        self.send_interaction(&i).await
    }
}
