//! The tip domain's storage contract: the settings, attempts and rotation
//! each server has, and [`TipStore`], which a backend implements. The
//! scheduler and `/tips` depend on this, never on a backend; `storage`
//! implements it.

use std::fmt;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;

use super::rotation::RotationState;

/// A Discord server (guild) id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GuildId(pub u64);

/// A Discord channel id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChannelId(pub u64);

impl From<u64> for GuildId {
    fn from(v: u64) -> Self {
        Self(v)
    }
}

impl From<u64> for ChannelId {
    fn from(v: u64) -> Self {
        Self(v)
    }
}

impl fmt::Display for GuildId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Display for ChannelId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// What `/tips set` chooses: where and when (local time in a time zone).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    pub channel: ChannelId,
    /// Local wall-clock time, minute precision (seconds are dropped).
    pub time: NaiveTime,
    pub tz: Tz,
}

/// Why a server's tips stopped by themselves (channel deleted, permission
/// lost), kept so `/tips show` can tell the admins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pause {
    pub reason: String,
    pub at: DateTime<Utc>,
}

/// The last tip that reached Discord.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LastPost {
    /// The server's local date the tip counted for.
    pub date: NaiveDate,
    pub at: DateTime<Utc>,
}

/// Where a day's post stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptStatus {
    /// Started, not confirmed: send (again, with the same nonce).
    Pending,
    /// Confirmed by Discord: never send again that day.
    Posted,
    /// Given up for the day (see the error).
    Failed,
}

impl AttemptStatus {
    pub(crate) fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(Self::Pending),
            "posted" => Some(Self::Posted),
            "failed" => Some(Self::Failed),
            _ => None,
        }
    }

    /// Whether the day is settled (nothing more will be sent for it).
    pub fn is_final(self) -> bool {
        !matches!(self, Self::Pending)
    }
}

/// Summary of a server's most recent attempt, for planning and `/tips show`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptSummary {
    pub date: NaiveDate,
    pub status: AttemptStatus,
    pub tries: u32,
    pub error: Option<String>,
}

/// A server's tip settings as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TipSettings {
    pub guild: GuildId,
    pub schedule: Schedule,
    /// `/tips off` clears it; `/tips set` sets it.
    pub enabled: bool,
    /// Set when posting found the channel gone or forbidden; cleared by
    /// `/tips set`, enabling, or a successful manual post.
    pub paused: Option<Pause>,
    /// When the current schedule took effect: slots before it are not owed,
    /// so setting 09:00 at 15:00 first posts tomorrow, not at once.
    pub active_since: DateTime<Utc>,
    pub last_post: Option<LastPost>,
    /// The newest attempt row (any status).
    pub latest_attempt: Option<AttemptSummary>,
    pub updated_at: DateTime<Utc>,
}

impl TipSettings {
    /// Enabled and not paused: the scheduler should post for it.
    pub fn is_active(&self) -> bool {
        self.enabled && self.paused.is_none()
    }
}

/// One day's post for one server. Recorded before sending, so a restart
/// resends the same tip with the same nonce instead of a new one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub guild: GuildId,
    /// The server's local date this post counts for.
    pub date: NaiveDate,
    pub nonce: String,
    pub tip_index: usize,
    pub channel: ChannelId,
    pub status: AttemptStatus,
    /// How many times sending was started, including this one.
    pub tries: u32,
    pub manual: bool,
    pub started_at: DateTime<Utc>,
    pub posted_at: Option<DateTime<Utc>>,
    pub error: Option<String>,
}

/// Asks [`TipStore::claim`] for the day's attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttemptRequest {
    pub guild: GuildId,
    pub date: NaiveDate,
    pub channel: ChannelId,
    /// Number of tips in the knowledge base, for the rotation.
    pub n_tips: usize,
    pub now: DateTime<Utc>,
    /// A `/tips now` post: it may reopen a day that failed.
    pub manual: bool,
    /// Who asks: the claim is theirs until `now + lease`.
    pub replica: ReplicaId,
    /// How long other replicas keep off a pending attempt this one took.
    /// Longer than a send can take, so a live claim never expires mid-send.
    pub lease: chrono::Duration,
}

/// One process sharing the database with others. A claim held by a
/// replica keeps the others off that server's post until its lease ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ReplicaId(pub u64);

impl ReplicaId {
    /// The only process of a store that is not shared: a restart is the
    /// same replica and resumes its unconfirmed posts at once.
    pub const LOCAL: ReplicaId = ReplicaId(0);

    /// A fresh id for a process on a shared store, so a restarted replica
    /// does not mistake a claim of its killed predecessor for its own.
    pub fn random() -> Self {
        use std::hash::{BuildHasher, Hasher};
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u32(std::process::id());
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos()),
        );
        // Never LOCAL.
        ReplicaId(h.finish().max(1))
    }
}

impl fmt::Display for ReplicaId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

/// What [`TipStore::claim`] found for a server's day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// Ours to send: new, or pending and not held by another live claim.
    Send(Attempt),
    /// Posted, or failed and not reopened: nothing to send.
    Settled(Attempt),
    /// Another replica holds the claim until `until` (or is taking it this
    /// very moment): look again then.
    Elsewhere { until: DateTime<Utc> },
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database refused or failed an operation. `damaged` when it
    /// reports itself damaged (as opposed to busy, full or misconfigured).
    #[error("database error: {message}")]
    Database { message: String, damaged: bool },
    #[error("cannot create database directory {path}: {cause}")]
    CreateDir { path: String, cause: std::io::Error },
    #[error("invalid DATABASE_URL {url:?}: {reason}")]
    InvalidUrl { url: String, reason: String },
    #[error("database schema version {found} is newer than this build supports ({supported}); refusing to touch it")]
    SchemaTooNew { found: i64, supported: i64 },
    #[error("corrupt row for guild {guild}: {what}")]
    Corrupt { guild: u64, what: String },
    #[error("no attempt recorded for guild {guild} on {date}")]
    NoAttempt { guild: u64, date: NaiveDate },
    #[error("no tips to choose from")]
    NoTips,
    /// The file at the database path is no longer the one the bot opened
    /// (restored from a backup, swapped by hand): writing on would split the
    /// settings between two files.
    #[error("the database file {path} was replaced while the bot was running; restart the bot to use the new file")]
    Replaced { path: String },
    /// The database file vanished and could not be written back.
    #[error("the database file {path} was deleted while the bot was running and could not be restored: {reason}")]
    Deleted { path: String, reason: String },
    #[error("cannot open the database file {path}: {reason}")]
    Unopenable { path: String, reason: String },
}

impl StoreError {
    /// Whether this error means the database itself is damaged (as opposed
    /// to busy, full or misconfigured).
    pub fn is_damage(&self) -> bool {
        match self {
            Self::Database { damaged, .. } => *damaged,
            Self::Corrupt { .. } | Self::Replaced { .. } | Self::Deleted { .. } => true,
            _ => false,
        }
    }
}

/// What [`TipStore::all_active`] could read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActiveSettings {
    /// The servers to post for, in guild id order.
    pub settings: Vec<TipSettings>,
    /// Rows (or runs of rows) that could not be read and were skipped. Not
    /// zero means the list is incomplete: read again later.
    pub skipped: usize,
}

/// Durable tip state. Implementations must make each method atomic and
/// durable when it returns, and be safe to call from several tasks (and,
/// for a shared database, several processes).
///
/// Async because a shared database answers over the network; the SQLite
/// backend answers at once.
#[async_trait::async_trait]
pub trait TipStore: Send + Sync + 'static {
    /// Saves a server's schedule (`/tips set`): enables it, clears any pause,
    /// restarts `active_since` at `now`. Keeps rotation and history.
    async fn put_settings(
        &self,
        guild: GuildId,
        schedule: &Schedule,
        now: DateTime<Utc>,
    ) -> Result<TipSettings, StoreError>;

    /// Turns tips on or off. Turning on also clears a pause and restarts
    /// `active_since`. `None` if the server never set tips up.
    async fn set_enabled(
        &self,
        guild: GuildId,
        enabled: bool,
        now: DateTime<Utc>,
    ) -> Result<Option<TipSettings>, StoreError>;

    /// Stops posting for a server and records why. `false` if unknown.
    async fn pause(
        &self,
        guild: GuildId,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// Clears a pause (after a manual post proved the channel works).
    async fn unpause(&self, guild: GuildId, now: DateTime<Utc>) -> Result<bool, StoreError>;

    async fn get(&self, guild: GuildId) -> Result<Option<TipSettings>, StoreError>;

    /// Servers the scheduler should post for (enabled, not paused). Rows that
    /// cannot be read are logged, counted and skipped, so one bad row or page
    /// stops no one else.
    async fn all_active(&self) -> Result<ActiveSettings, StoreError>;

    /// Every server whose settings changed at or after `since` (any state:
    /// turned off or paused too), so a replica can catch up with changes
    /// made through another without reading every server. Every change
    /// moves `updated_at`. Unreadable rows are logged and skipped.
    async fn changed_since(&self, since: DateTime<Utc>) -> Result<Vec<TipSettings>, StoreError>;

    /// Why the store is unhealthy (damaged, replaced under the bot), if it is.
    /// Stays set until the process restarts, so `/healthz` keeps saying so.
    fn problem(&self) -> Option<String> {
        None
    }

    /// Whether the store answers at all (for `/healthz`): a cheap read.
    async fn ping(&self) -> Result<(), StoreError>;

    /// Whether other processes may share this store (PostgreSQL): they then
    /// claim posts with leases, re-read settings changed elsewhere, and
    /// split the rate budget.
    fn is_shared(&self) -> bool {
        false
    }

    /// Says `replica` is alive and returns how many replicas were seen
    /// within `ttl` (itself included), so each can take its share of the
    /// rate budget. A store that is not shared answers 1.
    async fn heartbeat(
        &self,
        _replica: ReplicaId,
        _now: DateTime<Utc>,
        _ttl: chrono::Duration,
    ) -> Result<u32, StoreError> {
        Ok(1)
    }

    /// Claims the attempt for `(guild, date)`, atomically:
    /// - none yet: picks the next tip from the rotation, records a pending
    ///   attempt with a fresh nonce, claimed by `req.replica`;
    /// - pending, and the claim is ours or its lease ran out (a replica was
    ///   killed mid-send): counts another try, takes the claim, returns it
    ///   with the same nonce and tip;
    /// - pending and claimed by another replica: [`Claim::Elsewhere`];
    /// - posted: settled (do not send);
    /// - failed: settled, unless `manual`, which reopens it.
    async fn claim(&self, req: &AttemptRequest) -> Result<Claim, StoreError>;

    /// Records that Discord accepted the day's post.
    async fn mark_posted(
        &self,
        guild: GuildId,
        date: NaiveDate,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// Gives up on the day's post and records why (never undoes `posted`).
    async fn mark_failed(
        &self,
        guild: GuildId,
        date: NaiveDate,
        reason: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    async fn attempt(&self, guild: GuildId, date: NaiveDate)
        -> Result<Option<Attempt>, StoreError>;

    /// Advances the server's rotation and returns the tip index to use.
    /// `claim` does this itself; exposed for tools and tests.
    async fn next_tip(&self, guild: GuildId, n_tips: usize) -> Result<usize, StoreError>;

    async fn rotation(&self, guild: GuildId) -> Result<Option<RotationState>, StoreError>;

    /// Deletes attempt rows for local dates before `before` (history only;
    /// the last post is kept in the settings). Returns how many.
    async fn prune_attempts(&self, before: NaiveDate) -> Result<usize, StoreError>;
}

/// The nonce for a server's post on a local date: `t<guild base36>-<yyyymmdd>`,
/// at most 23 characters (Discord allows 25). The same (guild, date) always
/// gives the same nonce, so a resend after a crash is dropped by Discord if
/// the first send got through.
pub fn nonce_for(guild: GuildId, date: NaiveDate) -> String {
    format!("t{}-{}", base36(guild.0), date.format("%Y%m%d"))
}

fn base36(mut v: u64) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::with_capacity(13);
    loop {
        out.push(DIGITS[(v % 36) as usize]);
        v /= 36;
        if v == 0 {
            break;
        }
    }
    out.reverse();
    out.into_iter().map(char::from).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonce_fits_discord_limit_for_any_guild() {
        let d = NaiveDate::from_ymd_opt(9999, 12, 31).unwrap();
        let n = nonce_for(GuildId(u64::MAX), d);
        assert_eq!(n, "t3w5e11264sgsf-99991231");
        assert!(n.len() <= 25);
        let d = NaiveDate::from_ymd_opt(2026, 3, 29).unwrap();
        assert_eq!(nonce_for(GuildId(0), d), "t0-20260329");
        assert_eq!(nonce_for(GuildId(36), d), "t10-20260329");
    }

    #[test]
    fn nonce_differs_by_guild_and_date() {
        let d1 = NaiveDate::from_ymd_opt(2026, 3, 29).unwrap();
        let d2 = d1.succ_opt().unwrap();
        let g = GuildId(1_234_567_890_123_456_789);
        assert_ne!(nonce_for(g, d1), nonce_for(g, d2));
        assert_ne!(nonce_for(g, d1), nonce_for(GuildId(g.0 + 1), d1));
        assert_eq!(nonce_for(g, d1), nonce_for(g, d1));
    }
}
