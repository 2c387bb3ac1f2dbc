//! Posts the daily tip to a channel, and tells the scheduler what Discord's
//! answer means for retrying.

use std::sync::{Arc, OnceLock};

use serenity::all::{ChannelId, Http, Nonce};

use super::embed;
use crate::engine::Engine;
use crate::health::Metrics;
use crate::tips::{PostError, TipPost, TipPoster};

pub struct DiscordPoster {
    engine: Arc<Engine>,
    metrics: Arc<Metrics>,
    /// Set once the client exists (the client is built after the poster).
    http: OnceLock<Arc<Http>>,
}

impl DiscordPoster {
    pub fn new(engine: Arc<Engine>, metrics: Arc<Metrics>) -> Self {
        DiscordPoster {
            engine,
            metrics,
            http: OnceLock::new(),
        }
    }

    pub fn set_http(&self, http: Arc<Http>) {
        let _ = self.http.set(http);
    }
}

/// Sorts a Discord error into what the scheduler should do.
pub fn classify(e: &serenity::Error) -> PostError {
    use serenity::http::HttpError;
    match e {
        serenity::Error::Http(HttpError::UnsuccessfulRequest(r)) => {
            let status = r.status_code.as_u16();
            let reason = format!("HTTP {status}: {} (code {})", r.error.message, r.error.code);
            match status {
                403 | 404 => PostError::Gone { status, reason },
                429 | 500..=599 => PostError::Retryable {
                    retry_after: None,
                    reason,
                },
                _ => PostError::Other(reason),
            }
        }
        serenity::Error::Http(HttpError::Request(e)) => PostError::Retryable {
            retry_after: None,
            reason: format!("network: {e}"),
        },
        other => PostError::Other(other.to_string()),
    }
}

impl TipPoster for DiscordPoster {
    async fn post(&self, post: TipPost) -> Result<(), PostError> {
        let Some(http) = self.http.get() else {
            return Err(PostError::Retryable {
                retry_after: None,
                reason: "Discord client not ready".to_owned(),
            });
        };
        let reply = self.engine.daily_tip(post.tip_index, post.date);
        // The nonce makes Discord drop a resend of a post that got through.
        let message = embed::message(&reply, &self.engine)
            .nonce(Nonce::String(post.nonce.clone()))
            .enforce_nonce(true);
        match ChannelId::new(post.channel.0.max(1))
            .send_message(http.as_ref(), message)
            .await
        {
            Ok(msg) => {
                self.metrics.tip_posted();
                tracing::info!(guild = %post.guild, channel = %post.channel, date = %post.date, message = %msg.id, resend = post.resend, "daily tip posted");
                Ok(())
            }
            Err(e) => {
                self.metrics.tip_failed();
                let err = classify(&e);
                tracing::warn!(guild = %post.guild, channel = %post.channel, date = %post.date, error = %err, "daily tip not posted");
                Err(err)
            }
        }
    }
}
