//! A fake Discord for tests: the REST API and the gateway WebSocket on
//! 127.0.0.1, close enough to the real thing that the real serenity client
//! (inside the product binary or inside a test) runs against it unchanged.
//!
//! * REST: every call is recorded ([`RecordedRequest`]); the routes the bot
//!   uses answer like Discord does (valid `Command`/`Message` objects, 204 for
//!   interaction callbacks, Discord's limits checked on message payloads), and
//!   unknown routes answer 404 `{"message":"Unknown","code":0}`. Servers,
//!   roles and channels added with [`FakeDiscord::add_text_channel`] and
//!   friends are served by `GET /channels/{id}`, `GET /guilds/{id}` and
//!   `GET /guilds/{id}/members/{user}` (see [`guilds`]); channel options in
//!   interactions come with `data.resolved.channels`.
//! * Gateway: HELLO → IDENTIFY → READY, heartbeats acknowledged, RESUME with
//!   replay of missed dispatches (or an invalid session, see [`ResumeMode`]),
//!   dispatches sent while no session is live are queued and delivered once one is.
//! * Controls: dispatch interactions and wait for their callbacks, drop the
//!   gateway, inject REST failures per route or per channel.
//!
//! [`BotProcess`] runs the product binary against it.
#![allow(dead_code)]

pub mod bot;
pub mod guilds;

#[allow(unused_imports)]
pub use bot::BotProcess;
#[allow(unused_imports)]
pub use guilds::{perms, ChannelModel, GuildModel, Overwrite, OverwriteTarget};

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::body::to_bytes;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{RawQuery, Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::sync::{mpsc, watch};

/// A well-formed but fake bot token. Its first part is base64 of [`APP_ID`],
/// as in a real token.
pub const TOKEN: &str = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GabcDE.abcdefghijklmnopqrstuvwxyz0123456789AB";
/// The application id (also the bot's user id), sent in READY.
pub const APP_ID: u64 = 123_456_789_012_345_678;
/// The guild the default invoker is in.
pub const GUILD_ID: u64 = 1_100_000_000_000_000_001;
/// The channel interactions come from by default.
pub const CHANNEL_ID: u64 = 1_100_000_000_000_000_002;
/// The default invoking user.
pub const USER_ID: u64 = 1_100_000_000_000_000_003;
/// Permissions of an ordinary member (view, send, embed, read history, use
/// application commands).
pub const MEMBER_PERMISSIONS: u64 = (1 << 10) | (1 << 11) | (1 << 14) | (1 << 16) | (1 << 31);
/// Administrator plus Manage Guild.
pub const ADMIN_PERMISSIONS: u64 = MEMBER_PERMISSIONS | (1 << 3) | (1 << 5);
/// Default heartbeat interval sent in HELLO (ms): long, so tests see no
/// heartbeat traffic unless they ask for it.
pub const DEFAULT_HEARTBEAT_MS: u64 = 45_000;
/// What Discord allows in one message / embed / autocomplete reply.
pub mod limits {
    pub const CONTENT: usize = 2000;
    pub const EMBEDS: usize = 10;
    pub const TITLE: usize = 256;
    pub const DESCRIPTION: usize = 4096;
    pub const FIELDS: usize = 25;
    pub const FIELD_NAME: usize = 256;
    pub const FIELD_VALUE: usize = 1024;
    pub const FOOTER: usize = 2048;
    pub const AUTHOR: usize = 256;
    pub const EMBED_TOTAL: usize = 6000;
    pub const CHOICES: usize = 25;
    pub const CHOICE_NAME: usize = 100;
    pub const CHOICE_VALUE: usize = 100;
    pub const ACTION_ROWS: usize = 5;
    pub const BUTTONS_PER_ROW: usize = 5;
    pub const BUTTON_LABEL: usize = 80;
    pub const CUSTOM_ID: usize = 100;
}

static NEXT_SNOWFLAKE: AtomicU64 = AtomicU64::new(1_300_000_000_000_000_000);

/// A fresh id, unique within the test process.
/// An interaction token shaped like Discord's: `interaction:<id>:` in
/// base64 followed by a long random part (about 170 characters in all), so
/// tests that look for tokens in logs look for something realistic.
pub fn interaction_token(id: u64) -> String {
    let mut t = String::from("aW50ZXJhY3Rpb246");
    t.push_str(&format!("{id}"));
    let mut x = snowflake() ^ id.rotate_left(17);
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
    for _ in 0..150 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        t.push(ALPHABET[(x % 64) as usize] as char);
    }
    t
}

pub fn snowflake() -> u64 {
    NEXT_SNOWFLAKE.fetch_add(1, Ordering::Relaxed)
}

/// One REST call the fake received.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    /// Order of arrival, from 0.
    pub index: usize,
    pub method: String,
    /// Path without the query, e.g. `/api/v10/interactions/1/tok/callback`.
    pub path: String,
    pub query: Option<String>,
    /// Header names lowercased.
    pub headers: Vec<(String, String)>,
    /// The body as JSON; `Value::Null` when empty, `Value::String` when not JSON.
    pub body: Value,
    /// The status the fake answered with.
    pub status: u16,
    pub at: Instant,
}

impl RecordedRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Method matches (case-insensitive) and the path starts with `prefix`
    /// (`/api/v10` is added when the prefix lacks `/api/`).
    pub fn is(&self, method: &str, prefix: &str) -> bool {
        self.method.eq_ignore_ascii_case(method) && self.path.starts_with(&api_path(prefix))
    }

    /// For `POST /api/v10/interactions/{id}/{token}/callback`: the interaction id.
    pub fn callback_interaction_id(&self) -> Option<u64> {
        let rest = self.path.strip_prefix("/api/v10/interactions/")?;
        let mut parts = rest.split('/');
        let id = parts.next()?.parse().ok()?;
        let _token = parts.next()?;
        (parts.next()? == "callback").then_some(id)
    }
}

/// Adds `/api/v10` to a path given without it.
pub fn api_path(p: &str) -> String {
    if p.starts_with("/api/") {
        p.to_owned()
    } else if p.starts_with('/') {
        format!("/api/v10{p}")
    } else {
        format!("/api/v10/{p}")
    }
}

/// What the fake does with a RESUME (op 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResumeMode {
    /// Accept it when the session id is the current one: replay the
    /// dispatches after the client's `seq`, then send RESUMED.
    Resume,
    /// Answer op 9 (invalid session, not resumable): the client must
    /// IDENTIFY again and gets a fresh READY.
    InvalidSession,
}

/// A canned failure for REST calls.
#[derive(Debug, Clone)]
pub struct Fault {
    pub status: u16,
    pub body: Value,
    pub headers: Vec<(String, String)>,
}

impl Fault {
    /// A Discord-like error for `status` (429 gets `retry_after` and the
    /// rate-limit headers).
    pub fn status(status: u16) -> Fault {
        match status {
            429 => Fault::rate_limited(0.25),
            403 => Fault::missing_access(),
            404 => Fault::unknown_channel(),
            s => Fault {
                status: s,
                body: json!({
                    "message": format!(
                        "{s}: {}",
                        StatusCode::from_u16(s)
                            .ok()
                            .and_then(|c| c.canonical_reason())
                            .unwrap_or("Fake Failure")
                    ),
                    "code": 0
                }),
                headers: vec![],
            },
        }
    }

    pub fn rate_limited(retry_after_secs: f64) -> Fault {
        Fault {
            status: 429,
            body: json!({
                "message": "You are being rate limited.",
                "retry_after": retry_after_secs,
                "global": false,
                "code": 0,
            }),
            headers: vec![
                (
                    "retry-after".into(),
                    format!("{}", retry_after_secs.ceil() as u64),
                ),
                ("x-ratelimit-limit".into(), "5".into()),
                ("x-ratelimit-remaining".into(), "0".into()),
                (
                    "x-ratelimit-reset-after".into(),
                    format!("{retry_after_secs}"),
                ),
                ("x-ratelimit-bucket".into(), "fakebucket".into()),
                ("x-ratelimit-scope".into(), "user".into()),
                ("x-ratelimit-global".into(), "false".into()),
            ],
        }
    }

    pub fn missing_access() -> Fault {
        Fault {
            status: 403,
            body: json!({"message": "Missing Access", "code": 50001}),
            headers: vec![],
        }
    }

    pub fn missing_permissions() -> Fault {
        Fault {
            status: 403,
            body: json!({"message": "Missing Permissions", "code": 50013}),
            headers: vec![],
        }
    }

    pub fn unknown_channel() -> Fault {
        Fault {
            status: 404,
            body: json!({"message": "Unknown Channel", "code": 10003}),
            headers: vec![],
        }
    }
}

/// While open, requests to this exact path are answered 429.
#[derive(Debug, Clone)]
struct RateWindow {
    method: String,
    path: String,
    until: Instant,
}

#[derive(Debug, Clone)]
struct RouteFault {
    method: String,
    prefix: String,
    fault: Fault,
    remaining: u32,
}

/// Gateway counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GatewayStats {
    /// WebSocket connections accepted.
    pub connections: u32,
    pub identifies: u32,
    pub resumes: u32,
    /// RESUMEs accepted (RESUMED sent).
    pub resumed: u32,
    pub invalid_sessions: u32,
    pub readies: u32,
    pub heartbeats: u32,
    /// Whether a session is live right now (READY or RESUMED sent on the
    /// current connection).
    pub live: bool,
    /// Dispatches waiting for a live session.
    pub pending: usize,
}

/// One frame the gateway received from the client.
#[derive(Debug, Clone)]
pub struct GatewayFrame {
    pub connection: u32,
    pub op: i64,
    pub payload: Value,
}

enum Out {
    Text(String),
    /// Close the TCP connection without a close frame.
    Drop,
    /// Send a close frame with this code, then close.
    Close(u16, String),
}

struct Conn {
    id: u32,
    tx: mpsc::UnboundedSender<Out>,
}

#[derive(Default)]
struct State_ {
    requests: Vec<RecordedRequest>,
    route_faults: Vec<RouteFault>,
    rate_windows: Vec<RateWindow>,
    channel_faults: HashMap<u64, Fault>,
    /// Interactions dispatched: id → token.
    interactions: HashMap<u64, String>,
    /// Interactions whose callback succeeded.
    acknowledged: HashSet<u64>,
    /// Registered commands by scope (`None` = global).
    commands: HashMap<Option<u64>, Vec<Value>>,
    messages: Vec<Value>,
    /// Messages sent with `enforce_nonce`, by channel and nonce: Discord
    /// answers a repeat with the first message and creates none.
    nonces: HashMap<(u64, String), Value>,
    /// Posts answered that way.
    nonce_repeats: usize,
    stats: GatewayStats,
    frames: Vec<GatewayFrame>,
    connection_queries: Vec<Option<String>>,
    /// All open connections.
    conns: Vec<Conn>,
    /// The connection with the live session.
    live: Option<u32>,
    session_id: Option<String>,
    seq: u64,
    /// Dispatches of the current session: (seq, frame text).
    history: Vec<(u64, String)>,
    /// Events to send: name and the `d` payload, serialised.
    pending: VecDeque<(String, String)>,
    resume_mode: Option<ResumeMode>,
    validate: Option<bool>,
    enforce_ack: Option<bool>,
    heartbeat_ms: Option<u64>,
    /// What `GET /gateway/bot` recommends (1 when unset).
    recommended_shards: Option<u32>,
    guilds: Vec<u64>,
    /// Servers and channels `GET /guilds/..` and `GET /channels/..` answer with.
    guild_models: HashMap<u64, GuildModel>,
    channel_models: HashMap<u64, ChannelModel>,
    response_delays: Vec<ResponseDelay>,
    /// `POST /channels/*/messages` being answered right now, and the most ever.
    posts_in_flight: usize,
    max_posts_in_flight: usize,
}

/// Requests matching `method` and `prefix` are answered after `delay`.
#[derive(Debug, Clone)]
struct ResponseDelay {
    method: String,
    prefix: String,
    delay: Duration,
    /// Applied after the request took effect (a message is created, but
    /// its sender hears of it only later), not before.
    after: bool,
}

struct Inner {
    addr: SocketAddr,
    state: Mutex<State_>,
    /// Bumped on every change tests may wait for.
    version: watch::Sender<u64>,
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State_> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn bump(&self) {
        self.version.send_modify(|v| *v += 1);
    }
}

/// Handle on a running fake Discord. The server stops when this is dropped.
pub struct FakeDiscord {
    inner: Arc<Inner>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for FakeDiscord {
    fn drop(&mut self) {
        self.server.abort();
        let mut st = self.inner.lock();
        for c in st.conns.drain(..) {
            let _ = c.tx.send(Out::Drop);
        }
    }
}

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

fn user_json(id: u64, username: &str, bot: bool) -> Value {
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

fn bot_user() -> Value {
    user_json(APP_ID, "massage-bot", true)
}

const TIMESTAMP: &str = "2024-01-01T00:00:00.000000+00:00";

impl FakeDiscord {
    /// Starts the fake on 127.0.0.1 with an ephemeral port.
    pub async fn start() -> FakeDiscord {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        let (version, _) = watch::channel(0u64);
        let inner = Arc::new(Inner {
            addr,
            state: Mutex::new(State_ {
                guilds: vec![GUILD_ID],
                ..State_::default()
            }),
            version,
        });
        let app = Router::new()
            .route("/gateway", get(gateway_upgrade))
            .fallback(rest)
            .with_state(inner.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).tcp_nodelay(true).await;
        });
        FakeDiscord { inner, server }
    }

    /// `http://127.0.0.1:PORT`: what the bot gets as its proxy URL.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.inner.addr)
    }

    /// `ws://127.0.0.1:PORT/gateway`: what `GET /gateway` answers.
    pub fn gateway_url(&self) -> String {
        format!("ws://{}/gateway", self.inner.addr)
    }

    // ----- configuration -------------------------------------------------

    pub fn set_resume_mode(&self, mode: ResumeMode) {
        self.inner.lock().resume_mode = Some(mode);
    }

    /// Check Discord's limits on callback and message payloads (on by
    /// default); a violation is answered 400 "Invalid Form Body".
    pub fn set_validate_payloads(&self, on: bool) {
        self.inner.lock().validate = Some(on);
    }

    /// Answer 404 "Unknown interaction" to callbacks for interactions the fake
    /// did not dispatch and 400 "already acknowledged" to a second successful
    /// callback (on by default).
    pub fn set_enforce_acknowledgement(&self, on: bool) {
        self.inner.lock().enforce_ack = Some(on);
    }

    /// Heartbeat interval sent in the next HELLOs (ms).
    pub fn set_heartbeat_interval(&self, ms: u64) {
        self.inner.lock().heartbeat_ms = Some(ms);
    }

    /// The number of shards `GET /gateway/bot` recommends.
    pub fn set_recommended_shards(&self, n: u32) {
        self.inner.lock().recommended_shards = Some(n);
    }

    /// Guilds listed (unavailable) in READY.
    pub fn set_guilds(&self, guilds: &[u64]) {
        self.inner.lock().guilds = guilds.to_vec();
    }

    /// The next `times` requests with this method whose path starts with
    /// `path_prefix` (with or without `/api/v10`) get `status`, with a
    /// Discord-like body (429: `retry_after` and rate-limit headers).
    pub fn set_route_status(&self, method: &str, path_prefix: &str, status: u16, times: u32) {
        self.set_route_fault(method, path_prefix, Fault::status(status), times);
    }

    pub fn set_route_fault(&self, method: &str, path_prefix: &str, fault: Fault, times: u32) {
        self.inner.lock().route_faults.push(RouteFault {
            method: method.to_ascii_uppercase(),
            prefix: api_path(path_prefix),
            fault,
            remaining: times,
        });
    }

    pub fn clear_route_faults(&self) {
        self.inner.lock().route_faults.clear();
    }

    /// Every `POST /channels/{channel}/messages` fails with `fault` until cleared.
    pub fn fail_channel(&self, channel: u64, fault: Fault) {
        self.inner.lock().channel_faults.insert(channel, fault);
    }

    pub fn clear_channel_failure(&self, channel: u64) {
        self.inner.lock().channel_faults.remove(&channel);
    }

    /// Makes `GET /guilds/{id}` (and its members) known: a [`GuildModel::new`]
    /// unless already there. Returns the model now stored.
    pub fn add_guild(&self, guild: u64) -> GuildModel {
        self.inner
            .lock()
            .guild_models
            .entry(guild)
            .or_insert_with(|| GuildModel::new(guild))
            .clone()
    }

    /// Changes a server (added first if unknown).
    pub fn update_guild(&self, guild: u64, f: impl FnOnce(&mut GuildModel)) {
        let mut st = self.inner.lock();
        f(st.guild_models
            .entry(guild)
            .or_insert_with(|| GuildModel::new(guild)));
    }

    /// Adds (or replaces) a text channel of `guild`, adding the server if
    /// unknown; `GET /channels/{channel}` then answers it.
    pub fn add_text_channel(&self, guild: u64, channel: u64) {
        self.add_guild(guild);
        self.inner
            .lock()
            .channel_models
            .insert(channel, ChannelModel::text(guild, channel));
    }

    /// Sets an overwrite on a known channel (replacing one for the same target).
    pub fn set_overwrite(&self, channel: u64, overwrite: Overwrite) {
        let mut st = self.inner.lock();
        let c = st
            .channel_models
            .get_mut(&channel)
            .unwrap_or_else(|| panic!("channel {channel} unknown: add_text_channel first"));
        c.overwrites.retain(|o| o.target != overwrite.target);
        c.overwrites.push(overwrite);
    }

    /// Denies the bot `permissions` in `channel` with a member overwrite.
    pub fn deny_bot_in_channel(&self, channel: u64, permissions: u64) {
        self.set_overwrite(
            channel,
            Overwrite {
                target: OverwriteTarget::Member(APP_ID),
                allow: 0,
                deny: permissions,
            },
        );
    }

    /// Requests with this method whose path starts with `path_prefix` are
    /// answered `delay` after they arrive (the latest setting wins; zero
    /// removes it).
    pub fn set_response_delay(&self, method: &str, path_prefix: &str, delay: Duration) {
        self.set_delay(method, path_prefix, delay, false);
    }

    /// Like [`set_response_delay`](Self::set_response_delay), but the
    /// request takes effect at once and only the answer waits: a client
    /// killed meanwhile has posted without knowing it.
    pub fn set_answer_delay(&self, method: &str, path_prefix: &str, delay: Duration) {
        self.set_delay(method, path_prefix, delay, true);
    }

    fn set_delay(&self, method: &str, path_prefix: &str, delay: Duration, after: bool) {
        let (method, prefix) = (method.to_ascii_uppercase(), api_path(path_prefix));
        let mut st = self.inner.lock();
        st.response_delays
            .retain(|d| !(d.method == method && d.prefix == prefix));
        if !delay.is_zero() {
            st.response_delays.push(ResponseDelay {
                method,
                prefix,
                delay,
                after,
            });
        }
    }

    /// How many channel messages exist (cheap, unlike `channel_messages`).
    pub fn message_count(&self) -> usize {
        self.inner.lock().messages.len()
    }

    /// Channel posts that repeated an earlier post's nonce and were
    /// answered with the earlier message instead of creating one.
    pub fn nonce_repeats(&self) -> usize {
        self.inner.lock().nonce_repeats
    }

    // ----- observation ---------------------------------------------------

    /// The most `POST /channels/*/messages` the fake was answering at once.
    /// Meaningful with a response delay on that route.
    pub fn max_channel_posts_in_flight(&self) -> usize {
        self.inner.lock().max_posts_in_flight
    }

    /// Every REST request so far.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.inner.lock().requests.clone()
    }

    /// REST requests matching method and path prefix.
    pub fn requests_to(&self, method: &str, path_prefix: &str) -> Vec<RecordedRequest> {
        self.inner
            .lock()
            .requests
            .iter()
            .filter(|r| r.is(method, path_prefix))
            .cloned()
            .collect()
    }

    pub fn count(&self, method: &str, path_prefix: &str) -> usize {
        self.inner
            .lock()
            .requests
            .iter()
            .filter(|r| r.is(method, path_prefix))
            .count()
    }

    /// Requests whose route the fake does not know (answered 404).
    pub fn unknown_requests(&self) -> Vec<RecordedRequest> {
        self.inner
            .lock()
            .requests
            .iter()
            .filter(|r| route_of(&r.method, &r.path).is_none())
            .cloned()
            .collect()
    }

    /// Bodies of successful `POST /channels/*/messages`.
    pub fn channel_messages(&self) -> Vec<Value> {
        self.inner.lock().messages.clone()
    }

    /// Commands as last registered (`None`: global; `Some(guild)`).
    pub fn registered_commands(&self, guild: Option<u64>) -> Option<Vec<Value>> {
        self.inner.lock().commands.get(&guild).cloned()
    }

    pub fn gateway_stats(&self) -> GatewayStats {
        let st = self.inner.lock();
        let mut s = st.stats.clone();
        s.live = st.live.is_some();
        s.pending = st.pending.len();
        s
    }

    /// Frames received on the gateway (IDENTIFY, RESUME, heartbeats, ...).
    pub fn gateway_frames(&self) -> Vec<GatewayFrame> {
        self.inner.lock().frames.clone()
    }

    /// Query string of every gateway connection (serenity sends `v=10`).
    pub fn gateway_queries(&self) -> Vec<Option<String>> {
        self.inner.lock().connection_queries.clone()
    }

    /// Waits until `check` returns `Some`, re-checking after every change in
    /// the fake; `None` after `timeout`.
    pub async fn wait_until<T>(
        &self,
        timeout: Duration,
        mut check: impl FnMut(&FakeDiscord) -> Option<T>,
    ) -> Option<T> {
        let mut rx = self.inner.version.subscribe();
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            rx.borrow_and_update();
            if let Some(t) = check(self) {
                return Some(t);
            }
            match tokio::time::timeout_at(deadline, rx.changed()).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) | Err(_) => return check(self),
            }
        }
    }

    /// The first recorded request (from the start) matching `pred`.
    pub async fn wait_for(
        &self,
        pred: impl Fn(&RecordedRequest) -> bool,
        timeout: Duration,
    ) -> Option<RecordedRequest> {
        self.wait_for_from(0, pred, timeout).await
    }

    /// The first request with index ≥ `from` matching `pred`.
    pub async fn wait_for_from(
        &self,
        from: usize,
        pred: impl Fn(&RecordedRequest) -> bool,
        timeout: Duration,
    ) -> Option<RecordedRequest> {
        self.wait_until(timeout, |f| {
            f.inner
                .lock()
                .requests
                .iter()
                .skip(from)
                .find(|r| pred(r))
                .cloned()
        })
        .await
    }

    /// Waits for a live session (READY or RESUMED sent); panics after `timeout`.
    pub async fn wait_ready(&self, timeout: Duration) {
        let ok = self
            .wait_until(timeout, |f| f.inner.lock().live.map(|_| ()))
            .await;
        assert!(
            ok.is_some(),
            "the client never identified within {timeout:?}; gateway: {:?}; requests: {}",
            self.gateway_stats(),
            self.describe_requests()
        );
    }

    /// Waits until the gateway counters satisfy `pred`.
    pub async fn wait_gateway(
        &self,
        pred: impl Fn(&GatewayStats) -> bool,
        timeout: Duration,
    ) -> Option<GatewayStats> {
        self.wait_until(timeout, |f| {
            let s = f.gateway_stats();
            pred(&s).then_some(s)
        })
        .await
    }

    /// A short description of every request, for assertion messages.
    pub fn describe_requests(&self) -> String {
        let st = self.inner.lock();
        let mut s = String::new();
        for r in &st.requests {
            s.push_str(&format!(
                "\n  #{} {} {} -> {}",
                r.index, r.method, r.path, r.status
            ));
        }
        s
    }

    // ----- gateway control -----------------------------------------------

    /// Sends a dispatch (op 0) with the next sequence number, or queues it
    /// until a session is live.
    pub fn dispatch(&self, event: &str, data: Value) {
        self.dispatch_raw(event, data.to_string());
    }

    /// Sends a dispatch whose `d` is `raw` as is (it need not be JSON a
    /// parser accepts, e.g. nested too deep for serde_json).
    pub fn dispatch_raw(&self, event: &str, raw: String) {
        let mut st = self.inner.lock();
        st.pending.push_back((event.to_owned(), raw));
        if st.live.is_some() {
            flush_pending(&mut st);
        }
        drop(st);
        self.inner.bump();
    }

    /// Closes the live gateway connection abruptly (no close frame), as a
    /// network failure would. The client must reconnect.
    pub fn drop_gateway(&self) {
        self.end_gateway(Out::Drop);
    }

    /// Closes the live gateway connection with a close frame.
    pub fn close_gateway(&self, code: u16, reason: &str) {
        self.end_gateway(Out::Close(code, reason.to_owned()));
    }

    /// Discord goes away entirely: the listener closes (new connections are
    /// refused) and every gateway connection drops without a close frame.
    pub fn vanish(&self) {
        self.server.abort();
        let mut st = self.inner.lock();
        st.live = None;
        for c in st.conns.drain(..) {
            let _ = c.tx.send(Out::Drop);
        }
        drop(st);
        self.inner.bump();
    }

    /// Sends op 7 (RECONNECT) on the live connection.
    pub fn request_reconnect(&self) {
        let st = self.inner.lock();
        if let Some(c) = st.live.and_then(|id| st.conns.iter().find(|c| c.id == id)) {
            let _ =
                c.tx.send(Out::Text(json!({"op": 7, "d": null}).to_string()));
        }
    }

    fn end_gateway(&self, how: Out) {
        let mut st = self.inner.lock();
        if let Some(id) = st.live.take() {
            if let Some(pos) = st.conns.iter().position(|c| c.id == id) {
                let c = st.conns.remove(pos);
                let _ = c.tx.send(how);
            }
        }
        drop(st);
        self.inner.bump();
    }

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

// ----- gateway -------------------------------------------------------------

/// Sends every pending dispatch to the live connection. Caller holds the lock
/// and has checked `st.live`.
fn flush_pending(st: &mut State_) {
    let Some(live) = st.live else { return };
    let Some(tx) = st.conns.iter().find(|c| c.id == live).map(|c| c.tx.clone()) else {
        st.live = None;
        return;
    };
    while let Some((t, d)) = st.pending.pop_front() {
        st.seq += 1;
        let frame = format!(r#"{{"op":0,"s":{},"t":{},"d":{d}}}"#, st.seq, json!(t));
        st.history.push((st.seq, frame.clone()));
        if tx.send(Out::Text(frame)).is_err() {
            // The connection is gone: it will be replayed on RESUME.
            st.live = None;
            return;
        }
    }
}

async fn gateway_upgrade(
    State(inner): State<Arc<Inner>>,
    RawQuery(query): RawQuery,
    ws: WebSocketUpgrade,
) -> Response {
    ws.max_message_size(64 << 20)
        .on_upgrade(move |socket| gateway_conn(socket, inner, query))
}

async fn gateway_conn(socket: WebSocket, inner: Arc<Inner>, query: Option<String>) {
    let (tx, mut rx) = mpsc::unbounded_channel::<Out>();
    let id;
    {
        let mut st = inner.lock();
        st.stats.connections += 1;
        id = st.stats.connections;
        st.connection_queries.push(query);
        st.conns.push(Conn { id, tx: tx.clone() });
        let interval = st.heartbeat_ms.unwrap_or(DEFAULT_HEARTBEAT_MS);
        let _ = tx.send(Out::Text(
            json!({"op": 10, "s": null, "t": null, "d": {"heartbeat_interval": interval}})
                .to_string(),
        ));
    }
    inner.bump();
    let (mut sink, mut stream) = socket.split();
    loop {
        tokio::select! {
            out = rx.recv() => match out {
                Some(Out::Text(s)) => {
                    if sink.send(Message::Text(s)).await.is_err() {
                        break;
                    }
                }
                Some(Out::Close(code, reason)) => {
                    let _ = sink
                        .send(Message::Close(Some(CloseFrame { code, reason: reason.into() })))
                        .await;
                    break;
                }
                // Abrupt: drop the socket with no close frame.
                Some(Out::Drop) | None => break,
            },
            msg = stream.next() => match msg {
                Some(Ok(Message::Text(t))) => on_client_frame(&inner, id, &tx, &t),
                Some(Ok(Message::Binary(b))) => {
                    if let Ok(t) = String::from_utf8(b) {
                        on_client_frame(&inner, id, &tx, &t);
                    }
                }
                Some(Ok(Message::Close(frame))) => {
                    // Complete the closing handshake, as Discord does.
                    let _ = sink.send(Message::Close(frame)).await;
                    break;
                }
                Some(Err(_)) | None => break,
                Some(Ok(_)) => {}
            },
        }
    }
    drop(sink);
    drop(stream);
    let mut st = inner.lock();
    st.conns.retain(|c| c.id != id);
    if st.live == Some(id) {
        st.live = None;
    }
    drop(st);
    inner.bump();
}

fn on_client_frame(inner: &Inner, conn: u32, tx: &mpsc::UnboundedSender<Out>, text: &str) {
    let Ok(v) = serde_json::from_str::<Value>(text) else {
        return;
    };
    let op = v["op"].as_i64().unwrap_or(-1);
    let mut st = inner.lock();
    st.frames.push(GatewayFrame {
        connection: conn,
        op,
        payload: v.clone(),
    });
    match op {
        1 => {
            st.stats.heartbeats += 1;
            let _ = tx.send(Out::Text(json!({"op": 11}).to_string()));
        }
        2 => {
            st.stats.identifies += 1;
            st.stats.readies += 1;
            let session = format!("session{}", snowflake());
            st.session_id = Some(session.clone());
            st.seq = 1;
            st.history.clear();
            let guilds: Vec<Value> = st
                .guilds
                .iter()
                .map(|g| json!({"id": g.to_string(), "unavailable": true}))
                .collect();
            let ready = json!({
                "op": 0,
                "s": 1,
                "t": "READY",
                "d": {
                    "v": 10,
                    "user": {
                        "id": APP_ID.to_string(),
                        "username": "massage-bot",
                        "discriminator": "0",
                        "global_name": null,
                        "avatar": null,
                        "bot": true,
                        "verified": true,
                        "mfa_enabled": false,
                        "email": null,
                        "flags": 0,
                    },
                    "guilds": guilds,
                    "session_id": session,
                    "resume_gateway_url": format!("ws://{}/gateway", inner.addr),
                    "shard": v["d"]["shard"].as_array().cloned().unwrap_or_else(|| vec![json!(0), json!(1)]),
                    "application": {"id": APP_ID.to_string(), "flags": 0},
                    "private_channels": [],
                    "relationships": [],
                    "user_settings": {},
                    "presences": [],
                    "geo_ordered_rtc_regions": [],
                    "session_type": "normal",
                }
            })
            .to_string();
            st.history.push((1, ready.clone()));
            let _ = tx.send(Out::Text(ready));
            st.live = Some(conn);
            flush_pending(&mut st);
        }
        6 => {
            st.stats.resumes += 1;
            let mode = st.resume_mode.unwrap_or(ResumeMode::Resume);
            let same_session = st.session_id.as_deref() == v["d"]["session_id"].as_str();
            if mode == ResumeMode::Resume && same_session {
                st.stats.resumed += 1;
                let after = v["d"]["seq"].as_u64().unwrap_or(0);
                for (s, frame) in st.history.iter() {
                    if *s > after {
                        let _ = tx.send(Out::Text(frame.clone()));
                    }
                }
                st.seq += 1;
                let resumed = json!({"op": 0, "s": st.seq, "t": "RESUMED", "d": {}}).to_string();
                let seq = st.seq;
                st.history.push((seq, resumed.clone()));
                let _ = tx.send(Out::Text(resumed));
                st.live = Some(conn);
                flush_pending(&mut st);
            } else {
                st.stats.invalid_sessions += 1;
                let _ = tx.send(Out::Text(json!({"op": 9, "d": false}).to_string()));
            }
        }
        _ => {}
    }
    drop(st);
    inner.bump();
}

// ----- REST ----------------------------------------------------------------

/// The routes the fake knows, after `/api/v10`.
#[derive(Debug, PartialEq, Eq)]
enum Route {
    Gateway,
    GatewayBot,
    CurrentUser,
    CurrentApplication,
    /// PUT/GET/POST `/applications/{app}/commands` or `.../guilds/{g}/commands`.
    Commands {
        guild: Option<u64>,
    },
    Command,
    InteractionCallback {
        id: u64,
    },
    Webhook,
    ChannelMessages {
        channel: u64,
    },
    Channel {
        channel: u64,
    },
    Guild {
        guild: u64,
    },
    GuildMember {
        guild: u64,
        user: u64,
    },
}

fn route_of(method: &str, path: &str) -> Option<Route> {
    let rest = path.strip_prefix("/api/v10")?;
    let parts: Vec<&str> = rest.trim_start_matches('/').split('/').collect();
    let r = match (method, parts.as_slice()) {
        ("GET", ["gateway"]) => Route::Gateway,
        ("GET", ["gateway", "bot"]) => Route::GatewayBot,
        ("GET", ["users", "@me"]) => Route::CurrentUser,
        ("GET", ["oauth2", "applications", "@me"]) | ("GET", ["applications", "@me"]) => {
            Route::CurrentApplication
        }
        ("GET" | "PUT" | "POST", ["applications", _app, "commands"]) => {
            Route::Commands { guild: None }
        }
        ("GET" | "PUT" | "POST", ["applications", _app, "guilds", g, "commands"]) => {
            Route::Commands {
                guild: Some(g.parse().ok()?),
            }
        }
        (_, ["applications", _app, "commands", _id])
        | (_, ["applications", _app, "guilds", _, "commands", _id]) => Route::Command,
        ("POST", ["interactions", id, _token, "callback"]) => Route::InteractionCallback {
            id: id.parse().ok()?,
        },
        (_, ["webhooks", _app, _token, ..]) => Route::Webhook,
        ("POST", ["channels", c, "messages"]) => Route::ChannelMessages {
            channel: c.parse().ok()?,
        },
        ("GET", ["channels", c]) => Route::Channel {
            channel: c.parse().ok()?,
        },
        ("GET", ["guilds", g]) => Route::Guild {
            guild: g.parse().ok()?,
        },
        ("GET", ["guilds", g, "members", u]) => Route::GuildMember {
            guild: g.parse().ok()?,
            user: u.parse().ok()?,
        },
        _ => return None,
    };
    Some(r)
}

fn json_response(status: u16, body: &Value, headers: &[(String, String)]) -> Response {
    let mut resp = (
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response();
    for (k, v) in headers {
        if let (Ok(k), Ok(v)) = (HeaderName::try_from(k.as_str()), HeaderValue::from_str(v)) {
            resp.headers_mut().insert(k, v);
        }
    }
    resp
}

/// 400 Invalid Form Body with Discord's nested `errors` object, built from
/// `"dotted.path: message"` strings.
fn invalid_form_body(errors: Vec<String>) -> Answer {
    let mut tree = json!({});
    for e in errors {
        let (path, message) = e.split_once(": ").unwrap_or(("", e.as_str()));
        let mut node = &mut tree;
        for seg in path.split('.').filter(|s| !s.is_empty()) {
            node = node
                .as_object_mut()
                .expect("object")
                .entry(seg)
                .or_insert_with(|| json!({}));
        }
        let list = node
            .as_object_mut()
            .expect("object")
            .entry("_errors")
            .or_insert_with(|| json!([]));
        list.as_array_mut()
            .expect("array")
            .push(json!({"code": "FAKE_DISCORD_INVALID", "message": message}));
    }
    (
        400,
        json!({"code": 50035, "message": "Invalid Form Body", "errors": tree}),
        vec![],
    )
}

async fn rest(State(inner): State<Arc<Inner>>, req: Request) -> Response {
    let method = req.method().as_str().to_owned();
    let path = req.uri().path().to_owned();
    let query = req.uri().query().map(str::to_owned);
    let headers: Vec<(String, String)> = req
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_ascii_lowercase(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let is_post = matches!(
        route_of(&method, &path),
        Some(Route::ChannelMessages { .. })
    );
    // Counts this post as in flight until answered (or dropped half-way).
    let in_flight = is_post.then(|| PostInFlight::new(&inner));
    let delay = {
        let st = inner.lock();
        st.response_delays
            .iter()
            .rev()
            .find(|d| d.method == method && path.starts_with(&d.prefix))
            .map(|d| (d.delay, d.after))
    };
    let bytes = to_bytes(req.into_body(), 64 << 20)
        .await
        .unwrap_or_default();
    if let Some((d, false)) = delay {
        tokio::time::sleep(d).await;
    }
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
    };

    let (status, resp_body, resp_headers) = {
        let mut st = inner.lock();
        let (status, resp_body, resp_headers) = answer(&inner, &mut st, &method, &path, &body);
        let index = st.requests.len();
        st.requests.push(RecordedRequest {
            index,
            method,
            path,
            query,
            headers,
            body,
            status,
            at: Instant::now(),
        });
        (status, resp_body, resp_headers)
    };
    if let Some((d, true)) = delay {
        tokio::time::sleep(d).await;
    }
    drop(in_flight);
    inner.bump();
    if status == 204 {
        let mut r = StatusCode::NO_CONTENT.into_response();
        r.headers_mut().remove(axum::http::header::CONTENT_TYPE);
        return r;
    }
    json_response(status, &resp_body, &resp_headers)
}

/// One `POST /channels/*/messages` being answered.
struct PostInFlight(Arc<Inner>);

impl PostInFlight {
    fn new(inner: &Arc<Inner>) -> PostInFlight {
        let mut st = inner.lock();
        st.posts_in_flight += 1;
        st.max_posts_in_flight = st.max_posts_in_flight.max(st.posts_in_flight);
        PostInFlight(Arc::clone(inner))
    }
}

impl Drop for PostInFlight {
    fn drop(&mut self) {
        self.0.lock().posts_in_flight -= 1;
    }
}

type Answer = (u16, Value, Vec<(String, String)>);

fn answer(inner: &Inner, st: &mut State_, method: &str, path: &str, body: &Value) -> Answer {
    // A request inside the window of an earlier 429 on the same path is
    // limited again, as Discord does (its buckets are per route and id).
    let now = Instant::now();
    st.rate_windows.retain(|w| w.until > now);
    if let Some(w) = st
        .rate_windows
        .iter()
        .find(|w| w.method == method && w.path == path)
    {
        let left = w.until.duration_since(now).as_secs_f64();
        let f = Fault::rate_limited(left);
        return (f.status, f.body, f.headers);
    }
    // Injected route faults come first.
    if let Some(f) = st
        .route_faults
        .iter_mut()
        .find(|f| f.remaining > 0 && f.method == method && path.starts_with(&f.prefix))
    {
        f.remaining -= 1;
        let fault = f.fault.clone();
        st.route_faults.retain(|f| f.remaining > 0);
        if fault.status == 429 {
            if let Some(secs) = fault.body["retry_after"].as_f64() {
                st.rate_windows.push(RateWindow {
                    method: method.to_owned(),
                    path: path.to_owned(),
                    until: now + Duration::from_secs_f64(secs),
                });
            }
        }
        return (fault.status, fault.body, fault.headers);
    }
    let ok = |v: Value| (200, v, vec![]);
    let Some(route) = route_of(method, path) else {
        return (404, json!({"message": "Unknown", "code": 0}), vec![]);
    };
    let validate = st.validate.unwrap_or(true);
    match route {
        Route::Gateway => ok(json!({"url": format!("ws://{}/gateway", inner.addr)})),
        Route::GatewayBot => ok(json!({
            "url": format!("ws://{}/gateway", inner.addr),
            "shards": st.recommended_shards.unwrap_or(1),
            "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 14_400_000, "max_concurrency": 1},
        })),
        Route::CurrentUser => ok(bot_user()),
        Route::CurrentApplication => ok(json!({
            "id": APP_ID.to_string(),
            "name": "massage-bot",
            "icon": null,
            "description": "A fake application",
            "rpc_origins": [],
            "bot_public": false,
            "bot_require_code_grant": false,
            "owner": user_json(USER_ID, "owner", false),
            "verify_key": "0000000000000000000000000000000000000000000000000000000000000000",
            "team": null,
            "flags": 0,
            "bot": bot_user(),
        })),
        Route::Commands { guild } => match method {
            "PUT" => {
                let Some(list) = body.as_array() else {
                    return invalid_form_body(vec!["_: expected an array of commands".into()]);
                };
                if validate {
                    if let Err(e) = check_commands(list) {
                        return invalid_form_body(e);
                    }
                }
                let previous = st.commands.get(&guild).cloned().unwrap_or_default();
                let out: Vec<Value> = list
                    .iter()
                    .map(|c| {
                        let id = previous
                            .iter()
                            .find(|p| p["name"] == c["name"])
                            .and_then(|p| p["id"].as_str().map(str::to_owned))
                            .unwrap_or_else(|| snowflake().to_string());
                        command_object(c, &id, guild)
                    })
                    .collect();
                st.commands.insert(guild, out.clone());
                ok(Value::Array(out))
            }
            "POST" => {
                let id = snowflake().to_string();
                let c = command_object(body, &id, guild);
                let list = st.commands.entry(guild).or_default();
                list.retain(|p| p["name"] != c["name"]);
                list.push(c.clone());
                (201, c, vec![])
            }
            _ => ok(Value::Array(
                st.commands.get(&guild).cloned().unwrap_or_default(),
            )),
        },
        Route::Command => match method {
            "DELETE" => (204, Value::Null, vec![]),
            _ => (
                404,
                json!({"message": "Unknown application command", "code": 10063}),
                vec![],
            ),
        },
        Route::InteractionCallback { id } => {
            if st.enforce_ack.unwrap_or(true) {
                if !st.interactions.contains_key(&id) {
                    return (
                        404,
                        json!({"message": "Unknown interaction", "code": 10062}),
                        vec![],
                    );
                }
                if st.acknowledged.contains(&id) {
                    return (
                        400,
                        json!({"message": "Interaction has already been acknowledged.", "code": 40060}),
                        vec![],
                    );
                }
            }
            if validate {
                if let Err(e) = check_callback(body) {
                    return invalid_form_body(e);
                }
            }
            st.acknowledged.insert(id);
            (204, Value::Null, vec![])
        }
        Route::Webhook => match method {
            "DELETE" => (204, Value::Null, vec![]),
            _ => {
                if validate && !body.is_null() {
                    if let Err(e) = check_message(body) {
                        return invalid_form_body(e);
                    }
                }
                ok(message_object(CHANNEL_ID, body))
            }
        },
        Route::ChannelMessages { channel } => {
            if let Some(f) = st.channel_faults.get(&channel) {
                return (f.status, f.body.clone(), f.headers.clone());
            }
            if validate {
                if let Err(e) = check_message(body) {
                    return invalid_form_body(e);
                }
            }
            // Discord de-duplicates by nonce for a few minutes; the fake
            // for as long as it runs.
            let nonce = (body["enforce_nonce"] == json!(true))
                .then(|| body["nonce"].as_str().map(|n| (channel, n.to_owned())))
                .flatten();
            if let Some(first) = nonce.as_ref().and_then(|k| st.nonces.get(k)) {
                let first = first.clone();
                st.nonce_repeats += 1;
                return ok(first);
            }
            let m = message_object(channel, body);
            st.messages.push(body.clone());
            if let Some(k) = nonce {
                st.nonces.insert(k, m.clone());
            }
            ok(m)
        }
        Route::Channel { channel } => match st.channel_models.get(&channel) {
            Some(c) => ok(guilds::channel_json(c)),
            None => (
                404,
                json!({"message": "Unknown Channel", "code": 10003}),
                vec![],
            ),
        },
        Route::Guild { guild } => match st.guild_models.get(&guild) {
            Some(g) => ok(guilds::guild_json(g)),
            None => unknown_guild(),
        },
        Route::GuildMember { guild, user } => match st.guild_models.get(&guild) {
            Some(g) => ok(guilds::member_json(g, user)),
            None => unknown_guild(),
        },
    }
}

fn unknown_guild() -> Answer {
    (
        404,
        json!({"message": "Unknown Guild", "code": 10004}),
        vec![],
    )
}

/// A registered command as Discord returns it.
fn command_object(c: &Value, id: &str, guild: Option<u64>) -> Value {
    let mut out = c.clone();
    if !out.is_object() {
        out = json!({});
    }
    let o = out.as_object_mut().expect("object");
    o.insert("id".into(), json!(id));
    o.insert("application_id".into(), json!(APP_ID.to_string()));
    o.insert("version".into(), json!(snowflake().to_string()));
    o.entry("type").or_insert(json!(1));
    o.entry("description").or_insert(json!(""));
    o.entry("default_member_permissions").or_insert(Value::Null);
    o.entry("nsfw").or_insert(json!(false));
    if let Some(g) = guild {
        o.insert("guild_id".into(), json!(g.to_string()));
    }
    out
}

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
fn message_object(channel: u64, body: &Value) -> Value {
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

fn chars(v: &Value) -> usize {
    v.as_str().map_or(0, |s| s.chars().count())
}

/// Discord's limits on a message payload (content, embeds).
pub fn check_message(m: &Value) -> Result<(), Vec<String>> {
    use limits::*;
    let mut errs = Vec::new();
    if chars(&m["content"]) > CONTENT {
        errs.push(format!("content: {} > {CONTENT}", chars(&m["content"])));
    }
    if let Some(embeds) = m["embeds"].as_array() {
        if embeds.len() > EMBEDS {
            errs.push(format!("embeds: {} > {EMBEDS}", embeds.len()));
        }
        for (i, e) in embeds.iter().enumerate() {
            let mut total = 0;
            let mut check = |what: &str, v: &Value, max: usize| {
                let n = chars(v);
                total += n;
                if n > max {
                    errs.push(format!("embeds.{i}.{what}: {n} > {max}"));
                }
            };
            check("title", &e["title"], TITLE);
            check("description", &e["description"], DESCRIPTION);
            check("footer.text", &e["footer"]["text"], FOOTER);
            check("author.name", &e["author"]["name"], AUTHOR);
            let fields = e["fields"].as_array().cloned().unwrap_or_default();
            let mut empty = Vec::new();
            for (j, f) in fields.iter().enumerate() {
                check(&format!("fields.{j}.name"), &f["name"], FIELD_NAME);
                check(&format!("fields.{j}.value"), &f["value"], FIELD_VALUE);
                if chars(&f["name"]) == 0 || chars(&f["value"]) == 0 {
                    empty.push(format!(
                        "embeds.{i}.fields.{j}: name and value must not be empty"
                    ));
                }
            }
            errs.extend(empty);
            if fields.len() > FIELDS {
                errs.push(format!("embeds.{i}.fields: {} > {FIELDS}", fields.len()));
            }
            if total > EMBED_TOTAL {
                errs.push(format!("embeds.{i}: total {total} > {EMBED_TOTAL}"));
            }
        }
    }
    check_components(&m["components"], &mut errs);
    if errs.is_empty() {
        Ok(())
    } else {
        Err(errs)
    }
}

/// Discord's checks on a message's action rows and buttons.
fn check_components(rows: &Value, errs: &mut Vec<String>) {
    use limits::*;
    let Some(rows) = rows.as_array() else {
        if !rows.is_null() {
            errs.push("components: not an array".to_owned());
        }
        return;
    };
    if rows.len() > ACTION_ROWS {
        errs.push(format!("components: {} rows > {ACTION_ROWS}", rows.len()));
    }
    let mut ids = HashSet::new();
    for (i, row) in rows.iter().enumerate() {
        if row["type"] != 1 {
            errs.push(format!(
                "components.{i}: type {} is not an action row",
                row["type"]
            ));
        }
        let buttons = row["components"].as_array().cloned().unwrap_or_default();
        if buttons.is_empty() || buttons.len() > BUTTONS_PER_ROW {
            errs.push(format!(
                "components.{i}: {} buttons not in 1..={BUTTONS_PER_ROW}",
                buttons.len()
            ));
        }
        for (j, b) in buttons.iter().enumerate() {
            let at = format!("components.{i}.components.{j}");
            if b["type"] != 2 {
                errs.push(format!("{at}: type {} is not a button", b["type"]));
            }
            let style = b["style"].as_u64().unwrap_or(0);
            if !(1..=5).contains(&style) {
                errs.push(format!("{at}: style {style} not in 1..=4 (or 5, link)"));
            }
            if chars(&b["label"]) > BUTTON_LABEL {
                errs.push(format!("{at}.label: > {BUTTON_LABEL}"));
            }
            if style == 5 {
                continue;
            }
            let id = b["custom_id"].as_str().unwrap_or("");
            let n = id.chars().count();
            if n == 0 || n > CUSTOM_ID {
                errs.push(format!("{at}.custom_id: length {n} not in 1..={CUSTOM_ID}"));
            }
            if !ids.insert(id.to_owned()) {
                errs.push(format!("{at}.custom_id: {id:?} repeats in the message"));
            }
        }
    }
}

/// Discord's checks on an interaction callback body.
pub fn check_callback(b: &Value) -> Result<(), Vec<String>> {
    use limits::*;
    match b["type"].as_u64() {
        Some(1 | 5 | 6 | 9 | 10 | 12) => Ok(()),
        Some(4 | 7) => check_message(&b["data"]),
        Some(8) => {
            let mut errs = Vec::new();
            let choices = b["data"]["choices"].as_array().cloned().unwrap_or_default();
            if choices.len() > CHOICES {
                errs.push(format!("data.choices: {} > {CHOICES}", choices.len()));
            }
            for (i, c) in choices.iter().enumerate() {
                let n = chars(&c["name"]);
                if n == 0 || n > CHOICE_NAME {
                    errs.push(format!(
                        "data.choices.{i}.name: length {n} not in 1..={CHOICE_NAME}"
                    ));
                }
                if c["value"].is_string() && chars(&c["value"]) > CHOICE_VALUE {
                    errs.push(format!("data.choices.{i}.value: > {CHOICE_VALUE}"));
                }
            }
            if errs.is_empty() {
                Ok(())
            } else {
                Err(errs)
            }
        }
        other => Err(vec![format!(
            "type: unknown interaction response type {other:?}"
        )]),
    }
}

/// Discord's checks on a bulk command registration.
pub fn check_commands(list: &[Value]) -> Result<(), Vec<String>> {
    let mut errs = Vec::new();
    let mut names = HashSet::new();
    for (i, c) in list.iter().enumerate() {
        let name = c["name"].as_str().unwrap_or("");
        let kind = c["type"].as_u64().unwrap_or(1);
        if !names.insert((name.to_owned(), kind)) {
            errs.push(format!("{i}.name: duplicate {name}"));
        }
        if kind == 3 {
            if !(1..=32).contains(&name.chars().count()) {
                errs.push(format!("{i}.name: length not in 1..=32"));
            }
            if c["description"].as_str().is_some_and(|d| !d.is_empty()) {
                errs.push(format!("{i}.description: a message command has none"));
            }
            if c["options"].as_array().is_some_and(|o| !o.is_empty()) {
                errs.push(format!("{i}.options: a message command has none"));
            }
        }
        if c.get("dm_permission").is_some_and(|v| !v.is_null())
            && c.get("contexts").is_some_and(|v| !v.is_null())
        {
            errs.push(format!(
                "{i}: dm_permission is deprecated; contexts replaces it"
            ));
        }
        for (field, allowed) in [("contexts", 0..=2u64), ("integration_types", 0..=1u64)] {
            if let Some(values) = c[field].as_array() {
                if values.is_empty()
                    || values
                        .iter()
                        .any(|v| !v.as_u64().is_some_and(|v| allowed.contains(&v)))
                {
                    errs.push(format!("{i}.{field}: {}", c[field]));
                }
            }
        }
        if kind == 1 {
            let ok_name = !name.is_empty()
                && name.chars().count() <= 32
                && name
                    .chars()
                    .all(|ch| ch.is_lowercase() || ch.is_ascii_digit() || ch == '-' || ch == '_');
            if !ok_name {
                errs.push(format!("{i}.name: invalid chat command name {name:?}"));
            }
            let d = chars(&c["description"]);
            if !(1..=100).contains(&d) {
                errs.push(format!("{i}.description: length {d} not in 1..=100"));
            }
        }
        check_options(&format!("{i}"), &c["options"], &mut errs);
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(errs)
    }
}

fn check_options(at: &str, options: &Value, errs: &mut Vec<String>) {
    let Some(opts) = options.as_array() else {
        return;
    };
    if opts.len() > 25 {
        errs.push(format!("{at}.options: {} > 25", opts.len()));
    }
    let mut seen_optional = false;
    for (j, o) in opts.iter().enumerate() {
        let at = format!("{at}.options.{j}");
        let d = chars(&o["description"]);
        if !(1..=100).contains(&d) {
            errs.push(format!("{at}.description: length {d} not in 1..=100"));
        }
        let required = o["required"].as_bool().unwrap_or(false);
        if required && seen_optional {
            errs.push(format!(
                "{at}: required options must come before optional ones"
            ));
        }
        if !required && !matches!(o["type"].as_u64(), Some(1 | 2)) {
            seen_optional = true;
        }
        if o["autocomplete"].as_bool() == Some(true)
            && o["choices"].as_array().is_some_and(|c| !c.is_empty())
        {
            errs.push(format!("{at}: autocomplete and choices are exclusive"));
        }
        check_options(&at, &o["options"], errs);
    }
}

/// Asserts a callback/message body is within Discord's limits, with details.
pub fn assert_within_limits(body: &Value) {
    if let Err(e) = check_callback(body) {
        panic!("payload breaks Discord's limits: {e:?}\n{body:#}");
    }
}
