//! Discord glue: serenity client, slash commands, autocomplete, the daily
//! tip poster. Everything a user sees comes from the engine and the one
//! embed builder in [`embed`].
//!
//! Serenity alone, without poise: the bot has seven flat commands whose
//! replies all come from one builder, and it needs exact control of
//! ephemerality, `allowed_mentions`, deferral and autocomplete; a 100-line
//! router is simpler than a framework's macros and hooks here.

mod buttons;
mod commands;
mod embed;
mod handler;
mod interactions;
mod poster;
mod rest;
mod settings;
pub mod tap;
mod tips;

use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serenity::all::{ClientBuilder, ConnectionStage, GatewayIntents, HttpBuilder, ShardManager};
use serenity::gateway::GatewayError;
use tokio::sync::watch;

use crate::config::BotConfig;
use crate::engine::Engine;
use crate::health::{self, Metrics};
use crate::storage;
use crate::tips::{
    Clock, Scheduler, SchedulerConfig, StoreError, SystemClock, TipStore, TipsAdmin,
};

pub use commands::all as command_definitions;
pub use interactions::{serve, serve_with_clock};

/// Gateway discovery is retried with these pauses, then given up.
const DISCOVERY_BACKOFF: [u64; 8] = [1, 2, 4, 8, 15, 30, 30, 30];
/// After a stop, how long the gateway may take to close before we leave.
const GATEWAY_STOP: Duration = Duration::from_secs(3);

#[derive(Debug, thiserror::Error)]
pub enum DiscordError {
    #[error(transparent)]
    Storage(#[from] StoreError),
    #[error(transparent)]
    Client(#[from] serenity::Error),
    #[error("Discord rejected the bot token ({how}); check DISCORD_TOKEN (Developer Portal > Bot > Reset Token)")]
    TokenRejected { how: &'static str },
    #[error("Discord refused the gateway intents (close code {code}); this bot needs none, so the gateway or proxy is misconfigured")]
    IntentsRejected { code: u16 },
    #[error("Discord closed the gateway with code 4011 (sharding required): the bot is in too many servers for one gateway connection. Run `massage-bot serve` with an Interactions Endpoint URL, or more shards")]
    ShardingRequired,
    #[error("cannot reach Discord to find the gateway after {tries} tries ({last}); check the network and DISCORD_PROXY_URL")]
    Unreachable { tries: usize, last: String },
    #[error("registering the slash commands failed: {0}")]
    Register(rest::RestError),
    #[error("DISCORD_PUBLIC_KEY is not a valid Ed25519 public key; copy it again from the Developer Portal (General Information)")]
    PublicKey,
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("Discord's gateway has been unreachable for {secs} s; stopping so that a supervisor restarts the bot and someone notices (check the network, DISCORD_PROXY_URL and https://discordstatus.com; GATEWAY_GIVE_UP_SECS sets the wait)")]
    GatewayLost { secs: u64 },
}

/// Runs the bot until SIGINT or SIGTERM, then shuts the shards down cleanly.
pub async fn run(config: BotConfig, engine: Engine) -> Result<(), DiscordError> {
    run_with_clock(
        config,
        Arc::new(engine),
        Arc::new(SystemClock),
        shutdown_signal(),
    )
    .await
}

/// `massage-bot register`: registers the slash commands over REST (in
/// `DEV_GUILD_ID` only, when set), for deployments that run `serve`, which
/// opens no gateway and so never registers them by itself. Returns how many.
pub async fn register(config: &BotConfig) -> Result<usize, DiscordError> {
    let http = http_client(config);
    let app = http
        .get_current_application_info()
        .await
        .map_err(|e| match e {
            serenity::Error::Http(serenity::http::HttpError::UnsuccessfulRequest(r))
                if r.status_code.as_u16() == 401 =>
            {
                DiscordError::TokenRejected { how: "HTTP 401" }
            }
            other => DiscordError::Client(other),
        })?;
    let rest = rest::Rest::new(&http);
    let guild = config.dev_guild_id.map(serenity::all::GuildId::new);
    handler::register_commands(&rest, app.id, guild)
        .await
        .map_err(DiscordError::Register)
}

/// Starts the one tip scheduler of the process and hands `/tips` its
/// service; shared by `run` and `serve`.
fn start_tips<C: Clock>(
    config: &BotConfig,
    engine: &Engine,
    store: Arc<dyn TipStore>,
    poster: poster::DiscordPoster,
    clock: Arc<C>,
    handler: &handler::Handler<C>,
    stop: &watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    let scheduler = Scheduler::new(
        Arc::clone(&store),
        Arc::new(poster),
        Arc::clone(&clock),
        engine.knowledge().tips.len(),
    )
    .with_config(SchedulerConfig::for_rate(config.rate_limit).with_lease(config.tip_lease));
    handler.set_tips(TipsAdmin::new(store, scheduler.handle(), clock));
    tokio::spawn(scheduler.run(stop.clone()))
}

/// `/healthz` and `/metrics` on an address of their own, until the stop.
fn spawn_health(
    addr: Option<std::net::SocketAddr>,
    metrics: &Arc<Metrics>,
    stop: &watch::Receiver<bool>,
) -> Option<tokio::task::JoinHandle<()>> {
    let addr = addr?;
    let mut stop = stop.clone();
    let metrics = Arc::clone(metrics);
    Some(tokio::spawn(async move {
        let stopped = async move {
            let _ = stop.wait_for(|s| *s).await;
        };
        if let Err(e) = health::serve(addr, metrics, stopped).await {
            tracing::error!(error = %e, %addr, "health endpoint failed");
        }
    }))
}

/// The REST client for Discord: the bot token, replies that can ping no
/// one, and the proxy when one is set.
fn http_client(config: &BotConfig) -> serenity::http::Http {
    let mut http =
        HttpBuilder::new(config.token.expose()).default_allowed_mentions(embed::no_mentions());
    if let Some(proxy) = &config.proxy_url {
        // The proxy does the rate limiting; serenity ignores a proxy while
        // its own rate limiter is on.
        http = http.proxy(proxy.as_str()).ratelimiter_disabled(true);
        tracing::info!(proxy = %proxy, "sending Discord REST calls through a proxy");
    }
    http.build()
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => tracing::info!("SIGINT received"),
        _ = term => tracing::info!("SIGTERM received"),
    }
}

/// Runs the bot with an injected clock (tests drive time) until `shutdown`
/// resolves.
pub async fn run_with_clock<C: Clock>(
    config: BotConfig,
    engine: Arc<Engine>,
    clock: Arc<C>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), DiscordError> {
    let stores = storage::open(&config.database_url).await?;
    let store = Arc::clone(&stores.tips);
    let metrics = Metrics::new();
    metrics.set_store(Arc::clone(&store), false);
    // Before the client exists, so nothing the gateway logs is missed.
    let mut tapped = tap::subscribe();

    let http = http_client(&config);
    let (stop_tx, stop_rx) = watch::channel(false);

    let poster = poster::DiscordPoster::new(Arc::clone(&engine), Arc::clone(&metrics));
    let handler = handler::Handler::new(
        Arc::clone(&engine),
        Arc::clone(&metrics),
        config.dev_guild_id,
    );
    let mut client = ClientBuilder::new_with_http(http, GatewayIntents::empty())
        .event_handler_arc(Arc::clone(&handler))
        .raw_event_handler(handler::RawEvents(Arc::clone(&handler)))
        .await?;
    let rest = Arc::new(rest::Rest::new(&client.http));
    poster.set_rest(Arc::clone(&rest));
    handler.set_rest(Arc::clone(&rest));
    handler.set_prefs(stores.prefs);

    // Started here and not from READY, which fires again after every
    // reconnect.
    let scheduler_task = start_tips(&config, &engine, store, poster, clock, &handler, &stop_rx);
    let health_task = spawn_health(config.health_addr, &metrics, &stop_rx);

    let shard_manager = Arc::clone(&client.shard_manager);
    let mut stop_for_shards = stop_rx.clone();
    let stop_tx = Arc::new(stop_tx);
    let stop_on_signal = Arc::clone(&stop_tx);
    tokio::spawn(async move {
        tokio::select! {
            () = shutdown => {}
            _ = stop_for_shards.wait_for(|s| *s) => {}
        }
        tracing::info!("shutting down the gateway");
        let _ = stop_on_signal.send(true);
        shard_manager.shutdown_all().await;
    });

    // What only serenity's log reveals: malformed interactions to answer,
    // 4011 to stop on. Received on a thread of its own: the tap fires inside
    // serenity's shard task, and a task woken from there waits in that
    // worker's LIFO slot until the shard task yields, which after 4011 it
    // may not do for a long time.
    let fatal = Arc::new(std::sync::Mutex::new(None::<DiscordError>));
    {
        let fatal = Arc::clone(&fatal);
        let handler = Arc::clone(&handler);
        let http = Arc::clone(&client.http);
        let stop = Arc::clone(&stop_tx);
        let mut stopped = stop_rx.clone();
        let runtime = tokio::runtime::Handle::current();
        let spawner = runtime.clone();
        let watcher = std::thread::Builder::new()
            .name("gateway-tap".into())
            .spawn(move || {
                runtime.block_on(async move {
                    loop {
                        let event = tokio::select! {
                            e = tapped.recv() => e,
                            _ = stopped.wait_for(|s| *s) => return,
                        };
                        match event {
                            Ok(tap::TapEvent::ShardingRequired) => {
                                tracing::error!("Discord closed the gateway with code 4011 (sharding required); stopping");
                                *fatal.lock().unwrap_or_else(|e| e.into_inner()) =
                                    Some(DiscordError::ShardingRequired);
                                let _ = stop.send(true);
                                return;
                            }
                            Ok(event) => {
                                let handler = Arc::clone(&handler);
                                let http = Arc::clone(&http);
                                spawner.spawn(async move { handler.on_tapped(&http, event).await });
                            }
                            Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                                tracing::warn!(missed = n, "gateway tap fell behind");
                            }
                            Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                        }
                    }
                });
            });
        if let Err(e) = watcher {
            tracing::error!(error = %e, "cannot start the gateway tap thread");
        }
    }

    // How many shards Discord asked for; none is "connected" before.
    let expected_shards = Arc::new(AtomicU32::new(0));
    let watchdog = tokio::spawn(watch_gateway(
        Arc::clone(&client.shard_manager),
        Arc::clone(&expected_shards),
        Arc::clone(&metrics),
        config.gateway_give_up,
        Arc::clone(&fatal),
        Arc::clone(&stop_tx),
        stop_rx.clone(),
    ));

    tracing::info!(dev_guild = ?config.dev_guild_id, "connecting to Discord");
    let mut stopped = stop_rx.clone();
    let discovered = tokio::select! {
        r = discover_gateway(&client) => r.map(|n| {
            expected_shards.store(n, Ordering::SeqCst);
            Some(n)
        }),
        _ = stopped.wait_for(|s| *s) => Ok(None),
    };
    // serenity's shutdown_all returns early when no shard is running yet
    // (e.g. Discord unreachable and the shard retrying), and start() would
    // then never return: after a stop, give it a few seconds, then leave.
    let mut stopped = stop_rx.clone();
    let result = match discovered {
        Err(e) => Err(e),
        Ok(None) => Ok(()),
        Ok(Some(_)) if *stop_rx.borrow() => Ok(()),
        Ok(Some(shards)) => tokio::select! {
            r = client.start_shards(shards) => r.map_err(gateway_error),
            connected = async {
                let _ = stopped.wait_for(|s| *s).await;
                // Nothing to close cleanly while serenity is still retrying.
                let connected = metrics.is_connected();
                if connected {
                    tokio::time::sleep(GATEWAY_STOP).await;
                }
                connected
            } => {
                if connected {
                    tracing::warn!("the gateway did not stop in time; exiting anyway");
                }
                Ok(())
            }
        },
    };
    let fatal = fatal.lock().unwrap_or_else(|e| e.into_inner()).take();
    let result = match fatal {
        Some(fatal) => Err(fatal),
        None => result,
    };
    if let Err(e) = &result {
        tracing::error!(error = %e, "the bot is stopping");
    }
    let _ = stop_tx.send(true);
    let _ = watchdog.await;
    if let Err(e) = scheduler_task.await {
        tracing::error!(error = %e, "tip scheduler task failed");
    }
    if let Some(task) = health_task {
        let _ = task.await;
    }
    tracing::info!("stopped");
    result
}

/// How often a lasting gateway outage is logged, in plain words (serenity's
/// own retries are muted as noise).
const OUTAGE_LOG_EVERY: Duration = Duration::from_secs(30);

/// Whether every shard is connected, from serenity's own table of shard
/// runners. Its events cannot tell: a shard that is restarted (a dropped
/// connection that cannot be resumed) sends no stage update, and a closed
/// socket is only noticed at the next heartbeat.
async fn all_shards_connected(shards: &ShardManager, expected: u32) -> bool {
    let runners = shards.runners.lock().await;
    expected > 0
        && runners.len() == expected as usize
        && runners
            .values()
            .all(|r| matches!(r.stage, ConnectionStage::Connected))
}

/// Keeps `/healthz` true to the shards, and bounds serenity's retries: it
/// retries an unreachable gateway forever, so count how long it has been
/// down, say so now and then in plain words, and stop after `give_up`.
async fn watch_gateway(
    shards: Arc<ShardManager>,
    expected: Arc<AtomicU32>,
    metrics: Arc<Metrics>,
    give_up: Duration,
    fatal: Arc<std::sync::Mutex<Option<DiscordError>>>,
    stop: Arc<watch::Sender<bool>>,
    mut stopped: watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut down_since: Option<tokio::time::Instant> = None;
    let first_log = OUTAGE_LOG_EVERY.min(give_up / 2);
    let mut next_log = first_log;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stopped.wait_for(|s| *s) => return,
        }
        let connected = all_shards_connected(&shards, expected.load(Ordering::SeqCst)).await;
        metrics.set_connected(connected);
        if connected {
            if let Some(since) = down_since.take() {
                if next_log > first_log {
                    tracing::info!(
                        down_secs = since.elapsed().as_secs(),
                        "gateway reachable again"
                    );
                }
            }
            next_log = first_log;
            continue;
        }
        let down = down_since
            .get_or_insert_with(tokio::time::Instant::now)
            .elapsed();
        if down >= give_up {
            let e = DiscordError::GatewayLost {
                secs: down.as_secs(),
            };
            tracing::error!(error = %e, "giving up on the gateway");
            *fatal.lock().unwrap_or_else(|e| e.into_inner()) = Some(e);
            let _ = stop.send(true);
            return;
        }
        if down >= next_log {
            tracing::warn!(
                down_secs = down.as_secs(),
                give_up_secs = give_up.as_secs(),
                "cannot reach Discord's gateway; still retrying"
            );
            next_log += OUTAGE_LOG_EVERY;
        }
    }
}

/// Asks Discord (through the proxy, when one is set) for the gateway URL
/// and how many shards it recommends, so the bot opens as many as its
/// number of servers needs (autosharding). serenity's own question falls
/// back to Discord's public URL for good when it fails, which bypasses the
/// proxy: ask again, a bounded number of times, and give up clearly.
async fn discover_gateway(client: &serenity::Client) -> Result<u32, DiscordError> {
    let mut last = String::new();
    for (i, pause) in std::iter::once(0).chain(DISCOVERY_BACKOFF).enumerate() {
        tokio::time::sleep(Duration::from_secs(pause)).await;
        match client.http.get_bot_gateway().await {
            Ok(gateway) => {
                let shards = gateway.shards.max(1);
                tracing::info!(tries = i + 1, shards, "gateway URL discovered");
                *client.ws_url.lock().await = gateway.url;
                return Ok(shards);
            }
            Err(serenity::Error::Http(serenity::http::HttpError::UnsuccessfulRequest(r)))
                if r.status_code.as_u16() == 401 =>
            {
                return Err(DiscordError::TokenRejected { how: "HTTP 401" });
            }
            Err(e) => {
                last = e.to_string();
                tracing::warn!(error = %last, try_ = i + 1,
                    "cannot reach Discord to ask for the gateway URL; retrying");
            }
        }
    }
    Err(DiscordError::Unreachable {
        tries: DISCOVERY_BACKOFF.len() + 1,
        last,
    })
}

/// Close codes after which reconnecting cannot help, in plain words.
fn gateway_error(e: serenity::Error) -> DiscordError {
    match e {
        serenity::Error::Gateway(GatewayError::InvalidAuthentication) => {
            DiscordError::TokenRejected {
                how: "gateway close code 4004",
            }
        }
        serenity::Error::Gateway(GatewayError::DisallowedGatewayIntents) => {
            DiscordError::IntentsRejected { code: 4014 }
        }
        serenity::Error::Gateway(GatewayError::InvalidGatewayIntents) => {
            DiscordError::IntentsRejected { code: 4013 }
        }
        other => DiscordError::Client(other),
    }
}
