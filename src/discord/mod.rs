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
mod poster;
mod tips;

use std::future::Future;
use std::sync::Arc;

use serenity::all::{ClientBuilder, GatewayIntents, HttpBuilder};
use tokio::sync::watch;

use crate::config::BotConfig;
use crate::engine::Engine;
use crate::health::{self, Metrics};
use crate::storage::{SqliteStore, StorageError, TipStore};
use crate::tips::{Clock, Scheduler, SystemClock};

pub use commands::all as command_definitions;

#[derive(Debug, thiserror::Error)]
pub enum DiscordError {
    #[error("cannot open the database")]
    Storage(#[from] StorageError),
    #[error("Discord client error")]
    Client(#[from] serenity::Error),
    #[error("cannot serve the health endpoint")]
    Health(#[from] std::io::Error),
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
    let store: Arc<dyn TipStore> = Arc::new(SqliteStore::open_url(&config.database_url)?);
    let metrics = Metrics::new();

    let mut http =
        HttpBuilder::new(config.token.expose()).default_allowed_mentions(embed::no_mentions());
    if let Some(proxy) = &config.proxy_url {
        // The proxy does the rate limiting; serenity ignores a proxy while
        // its own rate limiter is on.
        http = http.proxy(proxy.as_str()).ratelimiter_disabled(true);
        tracing::info!(proxy = %proxy, "sending Discord REST calls through a proxy");
    }
    let http = http.build();
    let (stop_tx, stop_rx) = watch::channel(false);

    let poster = poster::DiscordPoster::new(Arc::clone(&engine), Arc::clone(&metrics));
    let handler = handler::Handler::new(
        Arc::clone(&engine),
        Arc::clone(&metrics),
        config.dev_guild_id,
        Arc::clone(&store),
        Arc::clone(&clock),
    );
    let mut client = ClientBuilder::new_with_http(http, GatewayIntents::empty())
        .event_handler_arc(Arc::clone(&handler))
        .await?;
    poster.set_http(Arc::clone(&client.http));

    // One scheduler per process, started here and not from READY, which
    // fires again after every reconnect.
    let scheduler = Scheduler::new(
        Arc::clone(&store),
        Arc::new(poster),
        clock,
        engine.knowledge().tips.len(),
    );
    handler.set_scheduler(scheduler.handle());
    let scheduler_task = tokio::spawn(scheduler.run(stop_rx.clone()));

    let health_task = config.health_addr.map(|addr| {
        let mut stop = stop_rx.clone();
        let metrics = Arc::clone(&metrics);
        tokio::spawn(async move {
            let stopped = async move {
                let _ = stop.wait_for(|s| *s).await;
            };
            if let Err(e) = health::serve(addr, metrics, stopped).await {
                tracing::error!(error = %e, %addr, "health endpoint failed");
            }
        })
    });

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

    tracing::info!(dev_guild = ?config.dev_guild_id, "connecting to Discord");
    // serenity's shutdown_all returns early when no shard is running yet
    // (e.g. Discord unreachable and the shard retrying), and start() would
    // then never return: after a stop, give it a few seconds, then leave.
    let mut stopped = stop_rx.clone();
    let result = tokio::select! {
        r = client.start() => r,
        () = async move {
            let _ = stopped.wait_for(|s| *s).await;
            tokio::time::sleep(std::time::Duration::from_secs(5)).await;
        } => {
            tracing::warn!("the gateway did not stop in time; exiting anyway");
            Ok(())
        }
    };
    let _ = stop_tx.send(true);
    if let Err(e) = scheduler_task.await {
        tracing::error!(error = %e, "tip scheduler task failed");
    }
    if let Some(task) = health_task {
        let _ = task.await;
    }
    tracing::info!("stopped");
    result.map_err(DiscordError::from)
}
