//! The daily tip end to end: the real bot (`run_with_clock`, its serenity
//! client, its scheduler and a SQLite file) in this process, against the fake
//! Discord in `support`, with a `ManualClock` for time. `/tips` arrives as
//! interactions, tips leave as `POST /channels/{id}/messages`; a "restart"
//! stops the bot through its shutdown future and starts a new one on the
//! same database.
//!
//! Nothing waits for the clock: it is moved. Positive checks poll the fake's
//! recorded requests with a timeout; checks that something did *not* happen
//! give the bot a short real grace period ([`GRACE`]) after the clock moved.

mod support;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use massage_bot::config::{BotConfig, Token};
use massage_bot::discord::{run_with_clock, DiscordError};
use massage_bot::engine::Engine;
use massage_bot::knowledge::Knowledge;
use massage_bot::storage::SqliteStore;
use massage_bot::tips::{nonce_for, ChannelId, GuildId, ManualClock, Schedule};
use serde_json::{json, Value};
use support::{
    check_message, opt_channel, opt_str, perms, subcommand, FakeDiscord, Fault, Invoker, Overwrite,
    OverwriteTarget, RecordedRequest, APP_ID, GUILD_ID, MEMBER_PERMISSIONS, TOKEN,
};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Bound on connecting and registering commands.
const READY: Duration = Duration::from_secs(20);
/// Bound on any single expected event.
const T: Duration = Duration::from_secs(10);
/// Real time the bot gets to (not) do something after the clock moved.
const GRACE: Duration = Duration::from_millis(300);
const BERLIN: Tz = Tz::Europe__Berlin;

fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn caveat() -> String {
    Knowledge::embedded().unwrap().caveat.as_str().to_owned()
}

/// One engine for every test (loading checks the whole knowledge base).
fn engine() -> Arc<Engine> {
    static ENGINE: OnceLock<Arc<Engine>> = OnceLock::new();
    ENGINE
        .get_or_init(|| Arc::new(Engine::load(None).expect("embedded knowledge loads")))
        .clone()
}

/// The bot's logs go to the test's captured output (`RUST_LOG` overrides).
fn init_logs() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let filter = tracing_subscriber::EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| "warn,massage_bot=info".into());
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_ansi(false)
            .with_test_writer()
            .try_init();
    });
}

// ----- harness ----------------------------------------------------------------

/// One run of the bot: `run_with_clock` on a task, stopped through its
/// shutdown future.
struct Bot {
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<(), DiscordError>>,
}

/// A fake Discord, a clock, a database directory, and the bot when running.
struct Env {
    fake: FakeDiscord,
    clock: Arc<ManualClock>,
    dir: tempfile::TempDir,
    bot: Option<Bot>,
}

impl Drop for Env {
    fn drop(&mut self) {
        if let Some(bot) = self.bot.take() {
            bot.task.abort();
        }
        if std::thread::panicking() {
            eprintln!(
                "---- fake Discord requests ----{}",
                self.fake.describe_requests()
            );
        }
    }
}

impl Env {
    /// A fake and a clock at `start`; the bot is not started.
    async fn new(start: DateTime<Utc>) -> Env {
        init_logs();
        Env {
            fake: FakeDiscord::start().await,
            clock: Arc::new(ManualClock::new(start)),
            dir: tempfile::tempdir().expect("temp dir"),
            bot: None,
        }
    }

    /// Like [`Env::new`], then starts the bot.
    async fn started(start: DateTime<Utc>) -> Env {
        let mut env = Env::new(start).await;
        env.start_bot().await;
        env
    }

    fn database_url(&self) -> String {
        format!("sqlite://{}", self.dir.path().join("bot.db").display())
    }

    /// A handle on the bot's database of its own.
    fn store(&self) -> SqliteStore {
        SqliteStore::open_url(&self.database_url()).expect("open the bot's database")
    }

    /// Starts the bot and waits until it is connected and has registered its
    /// commands (so `/tips` knows the bot's user).
    async fn start_bot(&mut self) {
        assert!(self.bot.is_none(), "the bot is already running");
        let config = BotConfig {
            token: Token::parse(TOKEN).expect("token"),
            dev_guild_id: None,
            proxy_url: Some(self.fake.base_url()),
            database_url: self.database_url(),
            health_addr: None,
            gateway_give_up: massage_bot::config::DEFAULT_GATEWAY_GIVE_UP,
            rate_limit: massage_bot::tips::DEFAULT_RATE_LIMIT,
            tip_lease: massage_bot::config::DEFAULT_TIP_LEASE,
        };
        let from = self.fake.requests().len();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(run_with_clock(
            config,
            engine(),
            Arc::clone(&self.clock),
            async move {
                let _ = stopped.await;
            },
        ));
        self.bot = Some(Bot {
            stop: Some(stop),
            task,
        });
        let registered = self
            .fake
            .wait_for_from(
                from,
                |r| r.is("PUT", "/applications/") && r.status == 200,
                READY,
            )
            .await;
        if registered.is_none() {
            let bot = self.bot.as_mut().unwrap();
            if bot.task.is_finished() {
                let r = (&mut bot.task).await;
                panic!("the bot stopped while starting: {r:?}");
            }
            panic!(
                "the bot did not connect and register within {READY:?}; gateway: {:?}",
                self.fake.gateway_stats()
            );
        }
        self.fake.wait_ready(READY).await;
    }

    /// Stops the bot through its shutdown future and waits until it is done.
    async fn stop_bot(&mut self) {
        let mut bot = self.bot.take().expect("the bot is running");
        let _ = bot.stop.take().unwrap().send(());
        match tokio::time::timeout(T, &mut bot.task).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(e))) => panic!("the bot stopped with an error: {e}"),
            Ok(Err(e)) => panic!("the bot task failed: {e}"),
            Err(_) => {
                bot.task.abort();
                panic!("the bot did not stop within {T:?}");
            }
        }
    }

    async fn restart_bot(&mut self) {
        self.stop_bot().await;
        self.start_bot().await;
    }

    /// Moves the clock and gives the bot [`GRACE`] to act on it.
    async fn set_clock_and_settle(&self, t: DateTime<Utc>) {
        self.clock.set(t);
        tokio::time::sleep(GRACE).await;
    }

    /// Walks the clock from `from` to `to` (inclusive) in `step`s, giving the
    /// scheduler a moment at each, then [`GRACE`].
    async fn walk_clock(&self, from: DateTime<Utc>, to: DateTime<Utc>, step: chrono::Duration) {
        let mut t = from;
        while t <= to {
            self.clock.set(t);
            tokio::time::sleep(Duration::from_millis(15)).await;
            t += step;
        }
        self.clock.set(to);
        tokio::time::sleep(GRACE).await;
    }

    /// Every `POST /channels/{channel}/messages` (any status), in order.
    fn posts_to(&self, channel: u64) -> Vec<RecordedRequest> {
        self.fake
            .requests_to("POST", &format!("/channels/{channel}/messages"))
    }

    /// Every `POST /channels/*/messages` (any status), in order.
    fn all_posts(&self) -> Vec<RecordedRequest> {
        self.fake
            .requests_to("POST", "/channels/")
            .into_iter()
            .filter(|r| r.path.ends_with("/messages"))
            .collect()
    }

    /// Waits until `channel` has had `n` posts (any status).
    async fn wait_posts(&self, channel: u64, n: usize) -> Vec<RecordedRequest> {
        let path = format!("/api/v10/channels/{channel}/messages");
        let got = self
            .fake
            .wait_until(T, |f| {
                let v: Vec<_> = f
                    .requests()
                    .into_iter()
                    .filter(|r| r.method == "POST" && r.path == path)
                    .collect();
                (v.len() >= n).then_some(v)
            })
            .await;
        got.unwrap_or_else(|| {
            panic!(
                "channel {channel}: wanted {n} posts within {T:?}, got {} (clock {})",
                self.posts_to(channel).len(),
                massage_bot::tips::Clock::now(self.clock.as_ref())
            )
        })
    }

    /// Exactly `n` posts to `channel` so far.
    fn assert_posts(&self, channel: u64, n: usize, when: &str) -> Vec<RecordedRequest> {
        let posts = self.posts_to(channel);
        assert_eq!(
            posts.len(),
            n,
            "channel {channel} {when}: {} posts: {:#?}",
            posts.len(),
            posts.iter().map(|p| &p.body["nonce"]).collect::<Vec<_>>()
        );
        posts
    }
}

/// A member with Manage Server (and nothing more) in `guild`.
fn manager(guild: u64) -> Invoker {
    Invoker {
        guild_id: Some(guild),
        permissions: MEMBER_PERMISSIONS | perms::MANAGE_GUILD,
        username: "manager".into(),
        ..Invoker::member()
    }
}

/// A member with Administrator but not Manage Server in `guild`.
fn administrator(guild: u64) -> Invoker {
    Invoker {
        guild_id: Some(guild),
        permissions: MEMBER_PERMISSIONS | perms::ADMINISTRATOR,
        username: "administrator".into(),
        ..Invoker::member()
    }
}

/// A `/tips` reply as the user finally sees it.
#[derive(Debug)]
struct TipsReply {
    /// Deferred (type 5) and completed by editing the original response.
    deferred: bool,
    ephemeral: bool,
    /// The message payload: the edit's body, or the callback's `data`.
    message: Value,
    embed: Value,
}

impl TipsReply {
    fn title(&self) -> &str {
        self.embed["title"].as_str().unwrap_or("")
    }

    /// Title, description and fields as one text, for `contains` checks.
    fn text(&self) -> String {
        let mut s = format!(
            "{}\n{}",
            self.title(),
            self.embed["description"].as_str().unwrap_or("")
        );
        for f in self.embed["fields"].as_array().into_iter().flatten() {
            s.push_str(&format!(
                "\n{}: {}",
                f["name"].as_str().unwrap_or(""),
                f["value"].as_str().unwrap_or("")
            ));
        }
        s
    }
}

/// Nothing may ping.
fn assert_no_pings(m: &Value) {
    let am = &m["allowed_mentions"];
    assert!(am.is_object(), "allowed_mentions missing: {m:#}");
    assert_eq!(am["parse"], json!([]), "allowed_mentions.parse: {am}");
    for k in ["users", "roles"] {
        assert!(
            am[k].is_null() || am[k] == json!([]),
            "allowed_mentions.{k} must be empty: {am}"
        );
    }
}

/// Sends `/tips <sub>` and returns the reply once complete (after the edit
/// of a deferred reply). Every `/tips` reply is ephemeral, carries the
/// caveat, pings nobody and fits Discord's limits.
async fn tips(fake: &FakeDiscord, who: &Invoker, sub: &str, options: Value) -> TipsReply {
    let i = fake.interaction_command("tips", json!([subcommand(sub, options)]), who);
    let cb = fake.send_interaction(&i).await;
    let reply = match cb["type"].as_u64() {
        Some(5) => {
            let edit = fake.wait_original_edit(&i, T).await.unwrap_or_else(|| {
                panic!("/tips {sub} deferred but never completed within {T:?}: {cb:#}")
            });
            assert_eq!(edit.status, 200, "edit refused: {edit:#?}");
            TipsReply {
                deferred: true,
                ephemeral: cb["data"]["flags"].as_u64().unwrap_or(0) & 64 != 0,
                embed: edit.body["embeds"][0].clone(),
                message: edit.body,
            }
        }
        Some(4) => TipsReply {
            deferred: false,
            ephemeral: cb["data"]["flags"].as_u64().unwrap_or(0) & 64 != 0,
            embed: cb["data"]["embeds"][0].clone(),
            message: cb["data"].clone(),
        },
        other => panic!("/tips {sub}: unexpected callback type {other:?}: {cb:#}"),
    };
    assert!(reply.ephemeral, "/tips replies are ephemeral: {cb:#}");
    assert!(reply.embed.is_object(), "an embed: {reply:#?}");
    assert_eq!(
        reply.embed["footer"]["text"].as_str(),
        Some(caveat().as_str()),
        "the caveat is the footer: {reply:#?}"
    );
    assert_no_pings(&reply.message);
    if let Err(e) = check_message(&reply.message) {
        panic!("/tips {sub} reply breaks Discord's limits: {e:?}");
    }
    reply
}

fn set_options(channel: u64, time: &str, zone: &str) -> Value {
    json!([
        opt_channel("channel", channel),
        opt_str("time", time),
        opt_str("timezone", zone)
    ])
}

/// `/tips set` that must succeed; returns the reply.
async fn set_tips(env: &Env, who: &Invoker, channel: u64, time: &str, zone: &str) -> TipsReply {
    let r = tips(&env.fake, who, "set", set_options(channel, time, zone)).await;
    assert!(r.deferred, "/tips set defers: {r:#?}");
    assert_eq!(r.title(), "Daily tip set", "{}", r.text());
    r
}

/// A scheduled (or `/tips now`) tip as posted: the embed, the nonce that
/// makes a resend harmless, and no pings.
fn assert_tip_post(post: &RecordedRequest, guild: u64, day: NaiveDate) {
    assert_eq!(post.status, 200, "post refused: {post:#?}");
    let b = &post.body;
    let e = &b["embeds"][0];
    let title = e["title"].as_str().unwrap_or("");
    assert!(title.contains("Relaxation tip"), "title {title:?}: {b:#}");
    let day_text = day.format("%A %-d %B %Y").to_string();
    assert!(
        title.contains(&day_text),
        "title {title:?} names {day_text}"
    );
    assert!(
        e["description"].as_str().is_some_and(|d| !d.is_empty()),
        "a tip text: {b:#}"
    );
    assert_eq!(
        e["footer"]["text"].as_str(),
        Some(caveat().as_str()),
        "the caveat is the footer: {b:#}"
    );
    assert_eq!(
        b["nonce"].as_str(),
        Some(nonce_for(GuildId(guild), day).as_str()),
        "nonce for guild {guild} on {day}: {b:#}"
    );
    assert_eq!(b["enforce_nonce"], json!(true), "{b:#}");
    assert_no_pings(b);
    // The quotes behind the tip are one click away.
    let ids = support::button_ids(b);
    assert_eq!(ids.len(), 1, "one Quotes button: {b:#}");
    assert!(ids[0].starts_with("q1:"), "{ids:?}");
    assert!(b["content"].is_null() || b["content"] == "", "{b:#}");
}

fn unix(t: DateTime<Utc>) -> i64 {
    t.timestamp()
}

// ----- the fake itself ------------------------------------------------------

/// The guild, channel and member the fake serves parse as serenity's types,
/// and permissions computed from them come out as set up.
#[tokio::test]
async fn fake_guild_channel_and_member_parse_in_serenity() {
    use serenity::all::{Channel, HttpBuilder, Permissions};
    let fake = FakeDiscord::start().await;
    let http = HttpBuilder::new(TOKEN)
        .proxy(fake.base_url())
        .ratelimiter_disabled(true)
        .build();
    let (g, open, closed) = (GUILD_ID, 7_000_001, 7_000_002);
    fake.add_text_channel(g, open);
    fake.add_text_channel(g, closed);
    fake.deny_bot_in_channel(closed, perms::EMBED_LINKS);
    fake.set_overwrite(
        closed,
        Overwrite {
            target: OverwriteTarget::Role(g),
            allow: 0,
            deny: perms::SEND_MESSAGES,
        },
    );
    let guild = http
        .get_guild(g.into())
        .await
        .expect("GET /guilds/{id} parses");
    let me = http
        .get_member(g.into(), APP_ID.into())
        .await
        .expect("GET /guilds/{id}/members/{bot} parses");
    assert_eq!(me.user.id.get(), APP_ID);
    let perms_in = |c: Channel| match c {
        Channel::Guild(c) => {
            assert_eq!(c.guild_id.get(), g);
            guild.user_permissions_in(&c, &me)
        }
        other => panic!("a guild channel: {other:?}"),
    };
    let p = perms_in(http.get_channel(open.into()).await.expect("channel parses"));
    assert!(p.contains(
        Permissions::VIEW_CHANNEL | Permissions::SEND_MESSAGES | Permissions::EMBED_LINKS
    ));
    let p = perms_in(
        http.get_channel(closed.into())
            .await
            .expect("channel parses"),
    );
    assert!(p.contains(Permissions::VIEW_CHANNEL), "{p:?}");
    assert!(!p.contains(Permissions::SEND_MESSAGES), "{p:?}");
    assert!(!p.contains(Permissions::EMBED_LINKS), "{p:?}");

    // Unknown ids answer like Discord.
    let e = http.get_channel(7_000_003.into()).await.unwrap_err();
    assert!(e.to_string().contains("Unknown Channel"), "{e}");
    let e = http.get_guild(7_000_004.into()).await.unwrap_err();
    assert!(e.to_string().contains("Unknown Guild"), "{e}");

    // A channel option is resolved in the interaction, as serenity needs.
    let i = fake.interaction_command(
        "tips",
        json!([subcommand("set", json!([opt_channel("channel", open)]))]),
        &manager(g),
    );
    let ch = &i.payload["data"]["resolved"]["channels"][open.to_string()];
    assert_eq!(ch["id"], open.to_string(), "{:#}", i.payload);
    let parsed: serenity::all::CommandInteraction =
        serde_json::from_value(i.payload.clone()).expect("interaction parses");
    let opts = parsed.data.options();
    match &opts[0].value {
        serenity::all::ResolvedValue::SubCommand(args) => match &args[0].value {
            serenity::all::ResolvedValue::Channel(c) => assert_eq!(c.id.get(), open),
            other => panic!("channel not resolved: {other:?}"),
        },
        other => panic!("{other:?}"),
    }
}

// ----- 1. set, then exactly one post at the due time ---------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_then_one_post_at_the_due_time() {
    // 08:00 in Berlin (CEST, UTC+2) on Monday 1 June 2026.
    let env = Env::started(utc(2026, 6, 1, 6, 0)).await;
    let (g, ch) = (GUILD_ID, 7_100_001);
    env.fake.add_text_channel(g, ch);

    let r = set_tips(&env, &manager(g), ch, "09:00", "Europe/Berlin").await;
    let due = utc(2026, 6, 1, 7, 0);
    let text = r.text();
    assert!(
        text.contains(&format!("<t:{}:F>", unix(due))),
        "the reply shows the next post at 09:00 Berlin: {text}"
    );
    assert!(text.contains(&format!("<#{ch}>")), "{text}");
    assert!(
        text.contains("09:00") && text.contains("Europe/Berlin"),
        "{text}"
    );
    // The bot checked it may post there before saving.
    for (m, p) in [
        ("GET", format!("/channels/{ch}")),
        ("GET", format!("/guilds/{g}")),
        ("GET", format!("/guilds/{g}/members/{APP_ID}")),
    ] {
        assert!(env.fake.count(m, &p) >= 1, "{m} {p} not requested");
    }
    let stored = env.store().get(GuildId(g)).unwrap().expect("stored");
    assert_eq!(stored.schedule.channel, ChannelId(ch));
    assert_eq!(
        stored.schedule.time,
        NaiveTime::from_hms_opt(9, 0, 0).unwrap()
    );
    assert_eq!(stored.schedule.tz, BERLIN);

    // A second before: nothing. At 09:00: one post.
    env.set_clock_and_settle(due - chrono::Duration::seconds(1))
        .await;
    env.assert_posts(ch, 0, "before 09:00");
    env.clock.set(due);
    let posts = env.wait_posts(ch, 1).await;
    assert_tip_post(&posts[0], g, date(2026, 6, 1));
    assert_eq!(posts[0].query, None);
    if let Err(e) = check_message(&posts[0].body) {
        panic!("the tip breaks Discord's limits: {e:?}");
    }

    // The rest of the day: still one.
    env.walk_clock(due, utc(2026, 6, 1, 21, 59), chrono::Duration::hours(1))
        .await;
    env.assert_posts(ch, 1, "through the rest of the day");
    assert_eq!(env.all_posts().len(), 1, "nowhere else either");

    // `/tips show` tells the last post.
    let show = tips(&env.fake, &manager(g), "show", json!([])).await;
    let text = show.text();
    assert!(text.contains("✅ On"), "{text}");
    assert!(
        text.contains(&format!("Last post: <t:{}:F>", unix(due))),
        "{text}"
    );

    // The next day: the next tip, once.
    let due2 = utc(2026, 6, 2, 7, 0);
    env.set_clock_and_settle(due2 - chrono::Duration::minutes(1))
        .await;
    env.assert_posts(ch, 1, "before 09:00 the next day");
    env.clock.set(due2);
    let posts = env.wait_posts(ch, 2).await;
    assert_tip_post(&posts[1], g, date(2026, 6, 2));
    tokio::time::sleep(GRACE).await;
    env.assert_posts(ch, 2, "after the second day's post");
}

// ----- 2. a restart after the post does not post again ----------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_after_the_post_does_not_post_again() {
    let mut env = Env::started(utc(2026, 6, 1, 6, 0)).await;
    // A at 09:00 Berlin; B at 12:00 (a control: it will be missed and posted
    // late after the restart, after A would have been if A were due).
    let (ga, ca) = (GUILD_ID, 7_200_001);
    let (gb, cb) = (GUILD_ID + 1, 7_200_002);
    env.fake.add_text_channel(ga, ca);
    env.fake.add_text_channel(gb, cb);
    set_tips(&env, &manager(ga), ca, "09:00", "Europe/Berlin").await;
    set_tips(&env, &manager(gb), cb, "12:00", "Europe/Berlin").await;

    env.clock.set(utc(2026, 6, 1, 7, 0));
    let posts = env.wait_posts(ca, 1).await;
    assert_tip_post(&posts[0], ga, date(2026, 6, 1));
    tokio::time::sleep(GRACE).await;

    env.stop_bot().await;
    // 13:00 Berlin, the same day.
    env.clock.set(utc(2026, 6, 1, 11, 0));
    env.start_bot().await;
    let posts = env.wait_posts(cb, 1).await;
    assert_tip_post(&posts[0], gb, date(2026, 6, 1));
    tokio::time::sleep(GRACE).await;
    env.assert_posts(ca, 1, "after a restart the same day");

    // And once more, later that day.
    env.restart_bot().await;
    env.set_clock_and_settle(utc(2026, 6, 1, 20, 0)).await;
    env.assert_posts(ca, 1, "after a second restart");
    env.assert_posts(cb, 1, "after a second restart");
}

// ----- 3. a restart after a missed slot posts once, the same day -----------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_after_a_missed_slot_posts_once_the_same_day() {
    let mut env = Env::started(utc(2026, 6, 1, 6, 0)).await;
    let (g, ch) = (GUILD_ID, 7_300_001);
    env.fake.add_text_channel(g, ch);
    set_tips(&env, &manager(g), ch, "09:00", "Europe/Berlin").await;

    // Down from 08:30 to 15:00 Berlin: the 09:00 slot is missed.
    env.clock.set(utc(2026, 6, 1, 6, 30));
    env.stop_bot().await;
    env.assert_posts(ch, 0, "before the slot");
    env.clock.set(utc(2026, 6, 1, 13, 0));
    env.start_bot().await;
    let posts = env.wait_posts(ch, 1).await;
    assert_tip_post(&posts[0], g, date(2026, 6, 1));
    tokio::time::sleep(GRACE).await;
    env.assert_posts(ch, 1, "after posting the missed slot");

    // Neither a later restart nor the rest of the day adds one.
    env.restart_bot().await;
    env.walk_clock(
        utc(2026, 6, 1, 13, 0),
        utc(2026, 6, 1, 21, 59),
        chrono::Duration::hours(1),
    )
    .await;
    env.assert_posts(ch, 1, "the rest of the day");

    // Down over the whole next slot and its day: that day is not back-filled
    // when the bot comes back the day after, before that day's slot.
    env.stop_bot().await;
    env.clock.set(utc(2026, 6, 3, 5, 0)); // 07:00 Berlin on the 3rd
    env.start_bot().await;
    tokio::time::sleep(GRACE).await;
    env.assert_posts(ch, 1, "a missed day is not back-filled");
    env.clock.set(utc(2026, 6, 3, 7, 0));
    let posts = env.wait_posts(ch, 2).await;
    assert_tip_post(&posts[1], g, date(2026, 6, 3));
}

// ----- 4. a 403 pauses that server only ----------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forbidden_channel_pauses_that_server_and_others_continue() {
    let env = Env::started(utc(2026, 6, 1, 6, 0)).await;
    let (ga, ca) = (GUILD_ID, 7_400_001);
    let (gb, cb) = (GUILD_ID + 1, 7_400_002);
    env.fake.add_text_channel(ga, ca);
    env.fake.add_text_channel(gb, cb);
    set_tips(&env, &manager(ga), ca, "09:00", "Europe/Berlin").await;
    set_tips(&env, &manager(gb), cb, "09:00", "Europe/Berlin").await;
    // The bot loses access to A's channel after the setup.
    env.fake.fail_channel(ca, Fault::missing_access());

    env.clock.set(utc(2026, 6, 1, 7, 0));
    let a = env.wait_posts(ca, 1).await;
    assert_eq!(a[0].status, 403);
    let b = env.wait_posts(cb, 1).await;
    assert_tip_post(&b[0], gb, date(2026, 6, 1));
    tokio::time::sleep(GRACE).await;
    env.assert_posts(ca, 1, "a 403 is not retried");

    let show = tips(&env.fake, &manager(ga), "show", json!([])).await;
    let text = show.text();
    assert!(text.contains("Paused"), "/tips show says paused: {text}");
    assert!(
        text.contains("Missing Access") && text.contains("403"),
        "/tips show says why: {text}"
    );
    assert!(
        !text.contains("Next post"),
        "no next post while paused: {text}"
    );
    let show = tips(&env.fake, &manager(gb), "show", json!([])).await;
    assert!(show.text().contains("✅ On"), "{}", show.text());
    let stored = env.store().get(GuildId(ga)).unwrap().unwrap();
    assert!(stored.paused.is_some(), "{stored:?}");

    // The next day: B posts, A stays quiet.
    env.set_clock_and_settle(utc(2026, 6, 2, 7, 0)).await;
    let b = env.wait_posts(cb, 2).await;
    assert_tip_post(&b[1], gb, date(2026, 6, 2));
    tokio::time::sleep(GRACE).await;
    env.assert_posts(ca, 1, "paused: no more attempts");

    // Access fixed and `/tips set` again (at 12:00 Berlin): A is back from
    // the next day's slot.
    env.fake.clear_channel_failure(ca);
    env.set_clock_and_settle(utc(2026, 6, 2, 10, 0)).await;
    let r = set_tips(&env, &manager(ga), ca, "09:00", "Europe/Berlin").await;
    assert!(
        r.text()
            .contains(&format!("<t:{}:F>", unix(utc(2026, 6, 3, 7, 0)))),
        "{}",
        r.text()
    );
    let show = tips(&env.fake, &manager(ga), "show", json!([])).await;
    assert!(show.text().contains("✅ On"), "{}", show.text());
    tokio::time::sleep(GRACE).await;
    env.assert_posts(ca, 1, "re-set after today's slot");
    env.clock.set(utc(2026, 6, 3, 7, 0));
    let a = env.wait_posts(ca, 2).await;
    assert_tip_post(&a[1], ga, date(2026, 6, 3));
    env.wait_posts(cb, 3).await;
}

// ----- 5. daylight-saving days post exactly once ----------------------------------

/// 29 March 2026 in Berlin: 02:00 CET jumps to 03:00 CEST, so 02:30 does not
/// exist; the tip goes out at 03:00 CEST (01:00 UTC), once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spring_forward_gap_posts_once_at_three() {
    let env = Env::started(utc(2026, 3, 28, 12, 0)).await;
    let (g, ch) = (GUILD_ID, 7_500_001);
    env.fake.add_text_channel(g, ch);
    let r = set_tips(&env, &manager(g), ch, "02:30", "Europe/Berlin").await;
    let due = utc(2026, 3, 29, 1, 0);
    assert_eq!(
        due.with_timezone(&BERLIN).format("%H:%M %Z").to_string(),
        "03:00 CEST"
    );
    assert!(
        r.text().contains(&format!("<t:{}:F>", unix(due))),
        "the next post is announced at 03:00 CEST: {}",
        r.text()
    );

    env.walk_clock(
        utc(2026, 3, 28, 12, 0),
        due - chrono::Duration::minutes(1),
        chrono::Duration::minutes(30),
    )
    .await;
    env.assert_posts(ch, 0, "before 03:00 CEST");
    env.clock.set(due);
    let posts = env.wait_posts(ch, 1).await;
    assert_tip_post(&posts[0], g, date(2026, 3, 29));
    // 01:30 UTC is 03:30 CEST; walk to the end of the local day.
    env.walk_clock(due, utc(2026, 3, 29, 21, 59), chrono::Duration::minutes(30))
        .await;
    env.assert_posts(ch, 1, "the rest of the DST day");

    // The next day 02:30 exists again (CEST, 00:30 UTC).
    env.set_clock_and_settle(utc(2026, 3, 30, 0, 29)).await;
    env.assert_posts(ch, 1, "before 02:30 the next day");
    env.clock.set(utc(2026, 3, 30, 0, 30));
    let posts = env.wait_posts(ch, 2).await;
    assert_tip_post(&posts[1], g, date(2026, 3, 30));
}

/// 25 October 2026 in Berlin: 03:00 CEST falls back to 02:00 CET, so 02:30
/// happens twice; the tip goes out at the first (00:30 UTC), once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fall_back_overlap_posts_once_at_the_first_occurrence() {
    let env = Env::started(utc(2026, 10, 24, 12, 0)).await;
    let (g, ch) = (GUILD_ID, 7_500_002);
    env.fake.add_text_channel(g, ch);
    let r = set_tips(&env, &manager(g), ch, "02:30", "Europe/Berlin").await;
    let first = utc(2026, 10, 25, 0, 30);
    let second = utc(2026, 10, 25, 1, 30);
    assert_eq!(
        first.with_timezone(&BERLIN).format("%H:%M %Z").to_string(),
        "02:30 CEST"
    );
    assert_eq!(
        second.with_timezone(&BERLIN).format("%H:%M %Z").to_string(),
        "02:30 CET"
    );
    assert!(
        r.text().contains(&format!("<t:{}:F>", unix(first))),
        "the next post is announced at the first 02:30: {}",
        r.text()
    );

    env.set_clock_and_settle(first - chrono::Duration::minutes(1))
        .await;
    env.assert_posts(ch, 0, "before the first 02:30");
    env.clock.set(first);
    let posts = env.wait_posts(ch, 1).await;
    assert_tip_post(&posts[0], g, date(2026, 10, 25));
    env.set_clock_and_settle(second).await;
    env.assert_posts(ch, 1, "at the second 02:30");
    env.walk_clock(
        second,
        utc(2026, 10, 25, 22, 59),
        chrono::Duration::minutes(30),
    )
    .await;
    env.assert_posts(ch, 1, "the rest of the 25-hour day");

    // The next day: 02:30 CET = 01:30 UTC.
    env.set_clock_and_settle(utc(2026, 10, 26, 1, 29)).await;
    env.assert_posts(ch, 1, "before 02:30 the next day");
    env.clock.set(utc(2026, 10, 26, 1, 30));
    let posts = env.wait_posts(ch, 2).await;
    assert_tip_post(&posts[1], g, date(2026, 10, 26));
}

// ----- 6. 500 servers due in the same minute ------------------------------------

/// Every server gets exactly one post, posts start paced (the fake answers
/// at once, so hardly two are in flight), and the burst stays under
/// Discord's global limit of 50 requests per second.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_hundred_servers_due_in_the_same_minute_get_one_post_each() {
    const N: u64 = 500;
    const GUILD0: u64 = 1_500_000_000_000_000_000;
    const CHANNEL0: u64 = 1_600_000_000_000_000_000;
    let start = utc(2026, 6, 1, 6, 0);
    let mut env = Env::new(start).await;
    {
        let store = env.store();
        for i in 0..N {
            store
                .put_settings(
                    GuildId(GUILD0 + i),
                    &Schedule {
                        channel: ChannelId(CHANNEL0 + i),
                        time: NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
                        tz: BERLIN,
                    },
                    start,
                )
                .expect("put_settings");
        }
    }
    // Each post takes a little while to answer, so posts sent concurrently
    // would overlap in the fake.
    env.fake
        .set_response_delay("POST", "/channels/", Duration::from_millis(5));
    env.start_bot().await;

    let began = Instant::now();
    env.clock.set(utc(2026, 6, 1, 7, 0));
    let all = env
        .fake
        .wait_until(Duration::from_secs(120), |f| {
            let n = f
                .requests_to("POST", "/channels/")
                .iter()
                .filter(|r| r.path.ends_with("/messages"))
                .count();
            (n >= N as usize).then_some(())
        })
        .await;
    let took = began.elapsed();
    assert!(
        all.is_some(),
        "{} of {N} posts within 120 s",
        env.all_posts().len()
    );
    // Later the same day: nothing more.
    env.set_clock_and_settle(utc(2026, 6, 1, 12, 0)).await;

    let posts = env.all_posts();
    assert_eq!(posts.len(), N as usize, "exactly one post per server");
    let mut channels = HashSet::new();
    let mut nonces = HashSet::new();
    for p in &posts {
        let channel: u64 = p
            .path
            .trim_start_matches("/api/v10/channels/")
            .trim_end_matches("/messages")
            .parse()
            .expect("channel id");
        assert!(
            (CHANNEL0..CHANNEL0 + N).contains(&channel),
            "unexpected channel {channel}"
        );
        assert!(channels.insert(channel), "channel {channel} posted twice");
        assert!(
            nonces.insert(p.body["nonce"].clone()),
            "nonce reused: {p:#?}"
        );
        assert_tip_post(p, GUILD0 + (channel - CHANNEL0), date(2026, 6, 1));
    }
    assert_eq!(channels.len(), N as usize);

    let max = env.fake.max_channel_posts_in_flight();
    assert!(max <= 2, "{max} posts were in flight at once");
    // No second of the burst carries more than 50 posts.
    let at: Vec<Instant> = posts.iter().map(|p| p.at).collect();
    let mut busiest = 0;
    for (i, t) in at.iter().enumerate() {
        let n = at[i..]
            .iter()
            .take_while(|u| u.duration_since(*t) < Duration::from_secs(1))
            .count();
        busiest = busiest.max(n);
    }
    assert!(busiest <= 50, "{busiest} posts within one second");
    eprintln!("{N} posts in {took:?} (max in flight {max}, busiest second {busiest})");

    // Every attempt is recorded as posted.
    let store = env.store();
    for i in [0, N / 2, N - 1] {
        let s = store.get(GuildId(GUILD0 + i)).unwrap().unwrap();
        assert_eq!(s.last_post.map(|p| p.date), Some(date(2026, 6, 1)), "{s:?}");
    }
    env.stop_bot().await;
}

// ----- 7. permissions ----------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_managers_may_change_tips_and_the_bot_must_be_able_to_post() {
    let env = Env::started(utc(2026, 6, 1, 6, 0)).await;
    let g = GUILD_ID;
    let ok_channel = 7_700_001;
    env.fake.add_text_channel(g, ok_channel);

    // A member without Manage Server: refused, at once and privately, for
    // every subcommand; nothing stored, nothing checked, nothing posted.
    let member = Invoker {
        guild_id: Some(g),
        ..Invoker::member()
    };
    for (sub, options) in [
        ("set", set_options(ok_channel, "09:00", "Europe/Berlin")),
        ("off", json!([])),
        ("show", json!([])),
        ("now", json!([])),
    ] {
        let r = tips(&env.fake, &member, sub, options).await;
        assert!(!r.deferred, "refused at once: {r:#?}");
        assert_eq!(
            r.title(),
            "Manage Server needed",
            "/tips {sub}: {}",
            r.text()
        );
        assert!(r.text().contains("Manage Server"), "{}", r.text());
    }
    assert_eq!(env.fake.count("GET", &format!("/channels/{ok_channel}")), 0);
    assert!(
        env.store().get(GuildId(g)).unwrap().is_none(),
        "nothing stored"
    );

    // The bot may not embed links in the chosen channel: said exactly.
    let no_embeds = 7_700_002;
    env.fake.add_text_channel(g, no_embeds);
    env.fake.deny_bot_in_channel(no_embeds, perms::EMBED_LINKS);
    let r = tips(
        &env.fake,
        &manager(g),
        "set",
        set_options(no_embeds, "09:00", "Europe/Berlin"),
    )
    .await;
    let text = r.text();
    assert_eq!(r.title(), "I can't post there", "{text}");
    assert!(text.contains("Embed Links"), "{text}");
    assert!(
        !text.contains("View Channel") && !text.contains("Send Messages"),
        "only what is missing: {text}"
    );
    assert!(text.contains(&format!("<#{no_embeds}>")), "{text}");
    assert!(
        env.store().get(GuildId(g)).unwrap().is_none(),
        "nothing stored"
    );

    // @everyone may not send there (a role overwrite): said exactly.
    let no_send = 7_700_003;
    env.fake.add_text_channel(g, no_send);
    env.fake.set_overwrite(
        no_send,
        Overwrite {
            target: OverwriteTarget::Role(g),
            allow: 0,
            deny: perms::SEND_MESSAGES,
        },
    );
    let r = tips(
        &env.fake,
        &manager(g),
        "set",
        set_options(no_send, "09:00", "Europe/Berlin"),
    )
    .await;
    let text = r.text();
    assert!(text.contains("Send Messages"), "{text}");
    assert!(
        !text.contains("Embed Links") && !text.contains("View Channel"),
        "{text}"
    );
    assert!(
        env.store().get(GuildId(g)).unwrap().is_none(),
        "nothing stored"
    );

    // A channel of another server is refused.
    let elsewhere = 7_700_004;
    env.fake.add_text_channel(GUILD_ID + 9, elsewhere);
    let r = tips(
        &env.fake,
        &manager(g),
        "set",
        set_options(elsewhere, "09:00", "Europe/Berlin"),
    )
    .await;
    assert_eq!(r.title(), "I can't post there", "{}", r.text());
    assert!(
        env.store().get(GuildId(g)).unwrap().is_none(),
        "nothing stored"
    );

    // Nothing was scheduled: two days pass without a post.
    env.walk_clock(
        utc(2026, 6, 1, 6, 0),
        utc(2026, 6, 3, 6, 0),
        chrono::Duration::hours(3),
    )
    .await;
    assert_eq!(env.all_posts().len(), 0, "nothing posted anywhere");

    // @everyone lacks Embed Links but the bot's role grants it: allowed.
    env.fake.update_guild(g, |m| {
        m.everyone &= !perms::EMBED_LINKS;
        m.roles.push((7_700_100, perms::EMBED_LINKS));
        m.bot_roles.push(7_700_100);
    });
    set_tips(&env, &manager(g), ok_channel, "09:00", "Europe/Berlin").await;
    assert!(env.store().get(GuildId(g)).unwrap().is_some());
}

// ----- 8. /tips now counts as today's post ----------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tips_now_posts_todays_tip_and_the_slot_does_not_post_again() {
    let env = Env::started(utc(2026, 6, 1, 6, 0)).await;
    let (g, ch) = (GUILD_ID, 7_800_001);
    env.fake.add_text_channel(g, ch);
    // Administrator without Manage Server may manage tips too.
    let admin = administrator(g);
    set_tips(&env, &admin, ch, "09:00", "Europe/Berlin").await;

    let r = tips(&env.fake, &admin, "now", json!([])).await;
    assert!(r.deferred);
    assert_eq!(r.title(), "Tip posted", "{}", r.text());
    assert!(r.text().contains("2026-06-01"), "{}", r.text());
    let posts = env.assert_posts(ch, 1, "after /tips now");
    assert_tip_post(&posts[0], g, date(2026, 6, 1));

    // The 09:00 slot and the rest of the day: no second post.
    env.set_clock_and_settle(utc(2026, 6, 1, 7, 0)).await;
    env.assert_posts(ch, 1, "at the 09:00 slot");
    env.walk_clock(
        utc(2026, 6, 1, 7, 0),
        utc(2026, 6, 1, 21, 59),
        chrono::Duration::hours(2),
    )
    .await;
    env.assert_posts(ch, 1, "the rest of the day");

    // Asking again the same day sends nothing.
    let r = tips(&env.fake, &admin, "now", json!([])).await;
    assert_eq!(r.title(), "Already posted", "{}", r.text());
    tokio::time::sleep(GRACE).await;
    env.assert_posts(ch, 1, "after a second /tips now");

    // The next day's slot posts as usual.
    env.clock.set(utc(2026, 6, 2, 7, 0));
    let posts = env.wait_posts(ch, 2).await;
    assert_tip_post(&posts[1], g, date(2026, 6, 2));

    // Every post went to the tips channel; count per channel.
    let mut per_channel: HashMap<String, usize> = HashMap::new();
    for p in env.all_posts() {
        *per_channel.entry(p.path).or_default() += 1;
    }
    assert_eq!(per_channel.len(), 1, "{per_channel:?}");
}

// ----- resends ---------------------------------------------------------------------

/// A post that fails with a 5xx is retried (on the clock, after the backoff)
/// with the same nonce, so Discord could drop it if the first had got
/// through; an unconfirmed post is resent the same way by the next process.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_post_is_resent_with_the_same_nonce_also_after_a_restart() {
    let mut env = Env::started(utc(2026, 6, 1, 6, 0)).await;
    let (g, ch) = (GUILD_ID, 7_900_001);
    env.fake.add_text_channel(g, ch);
    set_tips(&env, &manager(g), ch, "09:00", "Europe/Berlin").await;
    let route = format!("/channels/{ch}/messages");

    env.fake.set_route_status("POST", &route, 500, 1);
    let due = utc(2026, 6, 1, 7, 0);
    env.clock.set(due);
    let posts = env.wait_posts(ch, 1).await;
    assert_eq!(posts[0].status, 500);
    tokio::time::sleep(GRACE).await;
    env.assert_posts(ch, 1, "no retry before the backoff");
    env.clock.set(due + chrono::Duration::seconds(5));
    let posts = env.wait_posts(ch, 2).await;
    assert_tip_post(&posts[1], g, date(2026, 6, 1));
    assert_eq!(posts[0].body["nonce"], posts[1].body["nonce"]);
    assert_eq!(
        posts[0].body["embeds"], posts[1].body["embeds"],
        "the same tip"
    );
    env.set_clock_and_settle(utc(2026, 6, 1, 20, 0)).await;
    env.assert_posts(ch, 2, "after the successful retry");

    // The next day the post fails and the bot stops before retrying: the
    // next process resends it, once, with the same nonce.
    env.fake.set_route_status("POST", &route, 503, 1);
    let due = utc(2026, 6, 2, 7, 0);
    env.clock.set(due);
    let posts = env.wait_posts(ch, 3).await;
    assert_eq!(posts[2].status, 503);
    env.stop_bot().await;
    env.start_bot().await;
    let posts = env.wait_posts(ch, 4).await;
    assert_tip_post(&posts[3], g, date(2026, 6, 2));
    assert_eq!(posts[2].body["nonce"], posts[3].body["nonce"]);
    assert_eq!(
        posts[2].body["embeds"], posts[3].body["embeds"],
        "the same tip"
    );
    env.set_clock_and_settle(utc(2026, 6, 2, 20, 0)).await;
    env.assert_posts(ch, 4, "after the resend");
}

// ----- a 429 is retried when Discord says --------------------------------------

/// A rate-limited post is retried after the 429's `retry_after` (1.5 s
/// here), not at a fixed guess (it used to be 5 s whatever Discord said),
/// and not before. The bot is behind a proxy, where serenity's own limiter
/// is off, as in production with one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limited_post_is_retried_when_discord_says() {
    let env = Env::started(utc(2026, 6, 1, 6, 0)).await;
    let (g, ch) = (GUILD_ID, 7_500_001);
    env.fake.add_text_channel(g, ch);
    set_tips(&env, &manager(g), ch, "09:00", "Europe/Berlin").await;
    env.fake.set_route_fault(
        "POST",
        &format!("/channels/{ch}/messages"),
        Fault::rate_limited(1.5),
        1,
    );
    let slot = utc(2026, 6, 1, 7, 0);
    env.clock.set(slot);
    let first = env.wait_posts(ch, 1).await;
    assert_eq!(first[0].status, 429);
    // Let the bot read the answer at the slot's time before the clock moves.
    tokio::time::sleep(GRACE).await;
    env.set_clock_and_settle(slot + chrono::Duration::milliseconds(1000))
        .await;
    env.assert_posts(ch, 1, "no retry before retry_after");
    // Real time too: the bucket the 429 emptied has refilled.
    tokio::time::sleep(Duration::from_millis(1600)).await;
    env.clock.set(slot + chrono::Duration::milliseconds(2000));
    let posts = env.wait_posts(ch, 2).await;
    assert_eq!(posts[1].status, 200, "retried at retry_after");
    assert_tip_post(&posts[1], g, date(2026, 6, 1));
}

// ----- the database deleted under the bot ----------------------------------------

/// The database file (and its directory) deleted while the bot runs: the
/// next `/tips set` is still confirmed, the bot writes its copy back, and
/// after a restart every server is still set up (it used to confirm, log
/// nothing, and come back with every server "Not set up").
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_deleted_under_the_bot_loses_no_setting() {
    let mut env = Env::started(utc(2026, 6, 1, 6, 0)).await;
    let (ga, ca) = (GUILD_ID, 7_600_001);
    let (gb, cb) = (GUILD_ID + 1, 7_600_002);
    env.fake.add_text_channel(ga, ca);
    env.fake.add_text_channel(gb, cb);
    set_tips(&env, &manager(ga), ca, "09:00", "Europe/Berlin").await;
    for entry in std::fs::read_dir(env.dir.path()).unwrap() {
        std::fs::remove_file(entry.unwrap().path()).unwrap();
    }
    set_tips(&env, &manager(gb), cb, "10:00", "Europe/Berlin").await;
    assert!(env.dir.path().join("bot.db").exists(), "written back");
    env.restart_bot().await;
    for (g, c) in [(ga, ca), (gb, cb)] {
        let show = tips(&env.fake, &manager(g), "show", json!([])).await;
        let text = show.text();
        assert!(
            text.contains("✅ On") && text.contains(&c.to_string()),
            "{g}: {text}"
        );
    }
}
