//! Posts the daily tip to a channel, and tells the scheduler what Discord's
//! answer means for retrying.

use std::sync::{Arc, OnceLock};

use serenity::all::{ChannelId, Nonce};

use super::embed;
use super::rest::{Rest, RestError};
use crate::engine::Engine;
use crate::health::Metrics;
use crate::tips::{PostError, TipPost, TipPoster};

pub struct DiscordPoster {
    engine: Arc<Engine>,
    metrics: Arc<Metrics>,
    /// Set once the client exists (the client is built after the poster).
    rest: OnceLock<Arc<Rest>>,
}

impl DiscordPoster {
    pub fn new(engine: Arc<Engine>, metrics: Arc<Metrics>) -> Self {
        DiscordPoster {
            engine,
            metrics,
            rest: OnceLock::new(),
        }
    }

    pub fn set_rest(&self, rest: Arc<Rest>) {
        let _ = self.rest.set(rest);
    }
}

/// Sorts a Discord error into what the scheduler should do.
pub fn classify(e: &RestError) -> PostError {
    match e {
        RestError::RateLimited { retry_after, .. } => PostError::Retryable {
            retry_after: Some(*retry_after),
            reason: e.to_string(),
        },
        RestError::Status { status, .. } => match *status {
            403 | 404 => PostError::Gone {
                status: *status,
                reason: e.to_string(),
            },
            500..=599 => PostError::Retryable {
                retry_after: None,
                reason: e.to_string(),
            },
            _ => PostError::Other(e.to_string()),
        },
        RestError::Network(_) => PostError::Retryable {
            retry_after: None,
            reason: e.to_string(),
        },
        RestError::Other(_) => PostError::Other(e.to_string()),
    }
}

impl TipPoster for DiscordPoster {
    async fn post(&self, post: TipPost) -> Result<(), PostError> {
        let Some(rest) = self.rest.get() else {
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
        match rest
            .post_message(ChannelId::new(post.channel.0.max(1)), &message)
            .await
        {
            Ok(id) => {
                self.metrics.tip_posted();
                tracing::info!(guild = %post.guild, channel = %post.channel, date = %post.date, message = id, resend = post.resend, "daily tip posted");
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
