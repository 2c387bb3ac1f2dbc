//! `massage-bot serve`: Discord's interactions as signed HTTP requests.
//!
//! Discord can send each interaction as a POST to an Interactions Endpoint
//! URL instead of a gateway event, and takes the answer from the response
//! body. Nothing then needs a gateway connection or shards; each request
//! stands alone, which is what lets replicas share the work once they share
//! a database (today the store is SQLite, one process's file). The same
//! [`Handler`]
//! answers both ways; only where the first response goes differs
//! ([`Responder`]).

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use serenity::all::{CreateInteractionResponse, Interaction};
use serenity::http::Http;
use serenity::interactions_endpoint::Verifier;
use tokio::sync::watch;

use super::handler::{Handler, Responder};
use super::{poster, rest, DiscordError};
use crate::config::ServeConfig;
use crate::engine::Engine;
use crate::health::{self, Metrics};
use crate::storage;
use crate::tips::{Clock, SystemClock};

/// Discord waits 3 s for the response; past this, answer 500 rather than
/// let it time out unseen (anything slow defers first, as `/tips` does).
const ANSWER_WITHIN: Duration = Duration::from_millis(2_800);
/// A signed request older or newer than this is refused, so a captured
/// request cannot be replayed later.
const MAX_SKEW_SECS: u64 = 5 * 60;

/// What `POST /interactions` needs.
struct Endpoint<C: Clock> {
    handler: Arc<Handler<C>>,
    http: Arc<Http>,
    verifier: Verifier,
}

/// Serves interactions until SIGINT or SIGTERM.
pub async fn serve(config: ServeConfig, engine: Engine) -> Result<(), DiscordError> {
    serve_with_clock(
        config,
        Arc::new(engine),
        Arc::new(SystemClock),
        super::shutdown_signal(),
    )
    .await
}

/// Serves interactions with an injected clock until `shutdown` resolves.
pub async fn serve_with_clock<C: Clock>(
    config: ServeConfig,
    engine: Arc<Engine>,
    clock: Arc<C>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), DiscordError> {
    let verifier = Verifier::try_new(config.public_key).map_err(|_| DiscordError::PublicKey)?;
    let stores = storage::open(&config.bot.database_url).await?;
    let store = Arc::clone(&stores.tips);
    let metrics = Metrics::without_gateway();
    // Each probe reads the database, so a store that stopped answering
    // shows at once, not only the damage found at start.
    metrics.set_store(Arc::clone(&store), true);
    let http = Arc::new(super::http_client(&config.bot));
    let rest = Arc::new(rest::Rest::new(&http));
    let poster = poster::DiscordPoster::new(Arc::clone(&engine), Arc::clone(&metrics));
    poster.set_rest(Arc::clone(&rest));
    let handler = Handler::new(Arc::clone(&engine), Arc::clone(&metrics), None);
    handler.set_rest(Arc::clone(&rest));
    handler.set_prefs(stores.prefs);

    let (stop_tx, stop_rx) = watch::channel(false);
    let scheduler_task = super::start_tips(
        &config.bot,
        &engine,
        store,
        poster,
        clock,
        &handler,
        &stop_rx,
    );
    tokio::spawn(learn_who_we_are(
        Arc::clone(&http),
        Arc::clone(&handler),
        stop_rx.clone(),
    ));

    let endpoint = Arc::new(Endpoint {
        handler,
        http,
        verifier,
    });
    let app = Router::new()
        .route("/interactions", post(interactions::<C>))
        .with_state(endpoint)
        .merge(health::router(Arc::clone(&metrics)));
    let addr = config.interactions_addr;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| DiscordError::Listen { addr, source })?;
    let local = listener.local_addr().unwrap_or(addr);
    tracing::info!(addr = %local, "answering Discord interactions at POST /interactions");

    let health_task = super::spawn_health(config.bot.health_addr, &metrics, &stop_rx);

    let mut stopped = stop_rx.clone();
    let served = axum::serve(listener, app)
        .tcp_nodelay(true)
        .with_graceful_shutdown(async move {
            tokio::select! {
                () = shutdown => {}
                _ = stopped.wait_for(|s| *s) => {}
            }
        })
        .await;
    let _ = stop_tx.send(true);
    if let Err(e) = scheduler_task.await {
        tracing::error!(error = %e, "tip scheduler task failed");
    }
    if let Some(task) = health_task {
        let _ = task.await;
    }
    tracing::info!("stopped");
    served.map_err(|source| DiscordError::Listen { addr, source })
}

/// `/tips set` checks the bot's own permissions, so it must know its user
/// id; without a gateway there is no READY to say it. Asked once at start,
/// and again until Discord answers.
async fn learn_who_we_are<C: Clock>(
    http: Arc<Http>,
    handler: Arc<Handler<C>>,
    mut stopped: watch::Receiver<bool>,
) {
    let mut pause = Duration::from_secs(1);
    loop {
        match http.get_current_user().await {
            Ok(me) => {
                handler.set_bot_user(me.id);
                tracing::info!(user = %me.name, "bot user known");
                return;
            }
            Err(e) => {
                tracing::warn!(error = %e, retry_in_s = pause.as_secs(), "cannot ask Discord who the bot is; retrying")
            }
        }
        tokio::select! {
            () = tokio::time::sleep(pause) => {}
            _ = stopped.wait_for(|s| *s) => return,
        }
        pause = (pause * 2).min(Duration::from_secs(60));
    }
}

/// `POST /interactions`: verify, answer, and hand Discord the response.
async fn interactions<C: Clock>(
    State(ep): State<Arc<Endpoint<C>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let (Some(signature), Some(timestamp)) = (
        header("x-signature-ed25519"),
        header("x-signature-timestamp"),
    ) else {
        return refuse("missing signature headers");
    };
    if ep.verifier.verify(signature, timestamp, &body).is_err() {
        return refuse("bad signature");
    }
    if !fresh(timestamp) {
        return refuse("stale or future timestamp");
    }
    let interaction: Interaction = match serde_json::from_slice(&body) {
        Ok(i) => i,
        Err(e) => return unreadable(&ep, &body, &e),
    };
    if let Some(app) = application_id(&interaction) {
        // Editing a deferred answer (`/tips`) needs the application id.
        ep.http.set_application_id(app);
    }
    let (responder, answer) = Responder::body();
    let task = {
        let ep = Arc::clone(&ep);
        tokio::spawn(async move {
            ep.handler.dispatch(&ep.http, &responder, interaction).await;
        })
    };
    match tokio::time::timeout(ANSWER_WITHIN, answer).await {
        Ok(Ok(response)) => json(&response),
        Ok(Err(_)) => {
            // The handler finished, or panicked, without answering.
            let panicked = task.await.is_err();
            tracing::error!(panicked, "an interaction got no answer");
            (StatusCode::INTERNAL_SERVER_ERROR, "no answer\n").into_response()
        }
        Err(_) => {
            tracing::error!(
                within_ms = ANSWER_WITHIN.as_millis() as u64,
                "an interaction was not answered in time"
            );
            (StatusCode::INTERNAL_SERVER_ERROR, "no answer in time\n").into_response()
        }
    }
}

/// A signed request that does not parse as an interaction: answered like
/// the gateway's (a private "could not read that", or an empty list for
/// autocomplete) when its type is one we answer, else 400.
fn unreadable<C: Clock>(ep: &Endpoint<C>, body: &[u8], error: &serde_json::Error) -> Response {
    let kind = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("type")?.as_u64());
    tracing::warn!(kind = ?kind, %error, bytes = body.len(),
        "Discord sent an interaction that could not be read; answering with an error");
    match kind {
        Some(1) => json(&CreateInteractionResponse::Pong),
        Some(2..=5) => {
            ep.handler.count_malformed();
            json(&ep.handler.unreadable_response(kind))
        }
        _ => (StatusCode::BAD_REQUEST, "not an interaction\n").into_response(),
    }
}

fn application_id(i: &Interaction) -> Option<serenity::all::ApplicationId> {
    match i {
        Interaction::Command(c) | Interaction::Autocomplete(c) => Some(c.application_id),
        Interaction::Component(c) => Some(c.application_id),
        Interaction::Modal(m) => Some(m.application_id),
        Interaction::Ping(p) => Some(p.application_id),
        _ => None,
    }
}

/// Whether a signature timestamp (Unix seconds) is within the allowed skew.
fn fresh(timestamp: &str) -> bool {
    let Ok(then) = timestamp.trim().parse::<u64>() else {
        return false;
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    now.abs_diff(then) <= MAX_SKEW_SECS
}

fn refuse(why: &'static str) -> Response {
    tracing::info!(why, "interaction request refused");
    (StatusCode::UNAUTHORIZED, "invalid request signature\n").into_response()
}

fn json(response: &CreateInteractionResponse) -> Response {
    let encoded = match response {
        // serenity writes `"data": null` after it; Discord documents none.
        CreateInteractionResponse::Pong => Ok(br#"{"type":1}"#.to_vec()),
        other => serde_json::to_vec(other),
    };
    match encoded {
        Ok(body) => ([(header::CONTENT_TYPE, "application/json")], body).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "cannot encode an interaction response");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "cannot encode the answer\n",
            )
                .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_outside_five_minutes_are_stale() {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        assert!(fresh(&now.to_string()));
        assert!(fresh(&(now - 299).to_string()));
        assert!(!fresh(&(now - 301).to_string()));
        assert!(!fresh(&(now + 301).to_string()));
        assert!(!fresh("yesterday"));
        assert!(!fresh(""));
    }
}
