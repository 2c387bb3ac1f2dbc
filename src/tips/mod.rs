//! The daily relaxation tip: when each server's tip is due, which tip it
//! gets, and the scheduler that posts it exactly once per local day.
//!
//! Nothing here renders Discord messages: the scheduler hands a [`TipPost`]
//! to a [`TipPoster`] (implemented on Discord by the bot, by a fake in tests).

pub mod admin;
mod agenda;
pub mod clock;
pub mod rotation;
pub mod schedule;
pub mod scheduler;
pub mod store;
pub mod timezones;

use std::future::Future;
use std::time::Duration;

use chrono::NaiveDate;

pub use admin::{TipsAdmin, TipsStatus};
pub use clock::{Clock, ManualClock, SystemClock};
pub use rotation::{tip_for_date, RotationState};
pub use schedule::{next_post, plan, NextPost, Plan};
pub use scheduler::{
    PostNowError, PostNowOutcome, Scheduler, SchedulerConfig, SchedulerHandle, DEFAULT_RATE_LIMIT,
};
pub use store::{
    nonce_for, ActiveSettings, Attempt, AttemptRequest, AttemptStatus, AttemptSummary, ChannelId,
    Claim, GuildId, LastPost, Pause, ReplicaId, Schedule, StoreError, TipSettings, TipStore,
};
pub use timezones::{format_time, parse_time, parse_tz, search as search_timezones};

/// One tip to post. Send it with `nonce` and `enforce_nonce`, so that a
/// resend after a crash or timeout is dropped by Discord if the first one
/// got through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TipPost {
    pub guild: GuildId,
    pub channel: ChannelId,
    /// Index into `Knowledge::tips`.
    pub tip_index: usize,
    /// The server's local date this tip is for.
    pub date: NaiveDate,
    /// At most 25 characters; the same for every send of this (guild, date).
    pub nonce: String,
    /// Requested with `/tips now` rather than scheduled.
    pub manual: bool,
    /// A previous send of this post may have gone out (crash, timeout, 5xx).
    pub resend: bool,
}

/// Why a post failed, as the poster classifies Discord's answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PostError {
    /// The channel is gone or the bot may not post there (HTTP 403/404):
    /// retrying cannot help, so the server's tips are paused.
    #[error("channel unavailable (HTTP {status}): {reason}")]
    Gone { status: u16, reason: String },
    /// Rate limited (429) or Discord trouble (5xx, network): try again later,
    /// not before `retry_after` if given.
    #[error("temporary failure: {reason}")]
    Retryable {
        retry_after: Option<Duration>,
        reason: String,
    },
    /// Anything else (e.g. 400): give up for the day without pausing.
    #[error("post failed: {0}")]
    Other(String),
}

/// Delivers tips (to Discord, or to a recorder in tests).
pub trait TipPoster: Send + Sync + 'static {
    fn post(&self, post: TipPost) -> impl Future<Output = Result<(), PostError>> + Send;
}
