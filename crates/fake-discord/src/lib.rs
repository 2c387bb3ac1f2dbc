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
//! A crate of its own, for tests only: compiled once for every test and
//! bench that needs it. Modules by concern: the gateway, the REST routes,
//! canned faults, interactions to send, servers and channels (`guilds`),
//! messages, and Discord's payload rules (`validate`).

mod faults;
mod gateway;
pub mod guilds;
mod interactions;
mod messages;
mod rest;
mod validate;

pub use faults::{Fault, ResumeMode};
pub use guilds::{perms, ChannelModel, GuildModel, Overwrite, OverwriteTarget};
pub use interactions::{opt_channel, opt_str, subcommand, Interaction, Invoker};
pub use messages::{answered_for, button_ids, message_from_callback, user_message};
pub use validate::{assert_within_limits, check_callback, check_commands, check_message};

// What the modules share with each other (each sees the root's items).
use gateway::*;
use interactions::*;
use messages::*;
use rest::*;

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
}
