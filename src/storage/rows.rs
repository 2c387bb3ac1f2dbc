//! Rows as both backends store them (ids bit-for-bit as i64, instants as
//! unix milliseconds, local dates as `YYYY-MM-DD`), and their validation
//! into tip types: one reading of a row, whichever database it came from.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;

use crate::tips::{
    Attempt, AttemptStatus, AttemptSummary, ChannelId, GuildId, LastPost, Pause, Schedule,
    StoreError, TipSettings,
};

pub(super) const DATE_FMT: &str = "%Y-%m-%d";

pub(super) fn to_db(v: u64) -> i64 {
    // Discord ids fit in 63 bits, but store any u64 losslessly.
    v as i64
}

pub(super) fn from_db(v: i64) -> u64 {
    v as u64
}

pub(super) fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub(super) fn date_str(d: NaiveDate) -> String {
    d.format(DATE_FMT).to_string()
}

/// Columns of a settings row, before validation.
pub(super) struct RawSettings {
    pub(super) guild: i64,
    pub(super) channel: i64,
    pub(super) time: String,
    pub(super) tz: String,
    pub(super) enabled: bool,
    pub(super) paused_reason: Option<String>,
    pub(super) paused_at: Option<i64>,
    pub(super) active_since: i64,
    pub(super) last_posted_date: Option<String>,
    pub(super) last_posted_at: Option<i64>,
    pub(super) updated_at: i64,
    pub(super) att_date: Option<String>,
    pub(super) att_status: Option<String>,
    pub(super) att_tries: Option<i64>,
    pub(super) att_error: Option<String>,
}

impl RawSettings {
    pub(super) fn parse(self) -> Result<TipSettings, StoreError> {
        let guild = from_db(self.guild);
        let row = RowCheck(guild);
        let bad = |what: &str| row.corrupt(what);
        let instant = |v: i64, what: &str| row.instant(v, what);
        let date = |s: &str, what: &str| row.date(s, what);
        let time = NaiveTime::parse_from_str(&self.time, "%H:%M")
            .map_err(|_| bad(&format!("local_time {:?}", self.time)))?;
        let tz: Tz = self
            .tz
            .parse()
            .map_err(|_| bad(&format!("timezone {:?}", self.tz)))?;
        let paused = match self.paused_reason {
            Some(reason) => Some(Pause {
                reason,
                at: instant(self.paused_at.unwrap_or(self.updated_at), "paused_at")?,
            }),
            None => None,
        };
        let last_post = match (self.last_posted_date, self.last_posted_at) {
            (Some(d), Some(at)) => Some(LastPost {
                date: date(&d, "last_posted_date")?,
                at: instant(at, "last_posted_at")?,
            }),
            _ => None,
        };
        let latest_attempt = match (self.att_date, self.att_status) {
            (Some(d), Some(st)) => Some(AttemptSummary {
                date: date(&d, "attempt date")?,
                status: AttemptStatus::parse(&st).ok_or_else(|| bad("attempt status"))?,
                tries: u32::try_from(self.att_tries.unwrap_or(0)).unwrap_or(0),
                error: self.att_error,
            }),
            _ => None,
        };
        Ok(TipSettings {
            guild: GuildId(guild),
            schedule: Schedule {
                channel: ChannelId(from_db(self.channel)),
                time,
                tz,
            },
            enabled: self.enabled,
            paused,
            active_since: instant(self.active_since, "active_since")?,
            last_post,
            latest_attempt,
            updated_at: instant(self.updated_at, "updated_at")?,
        })
    }
}

pub(super) struct RawAttempt {
    pub(super) guild: i64,
    pub(super) date: String,
    pub(super) nonce: String,
    pub(super) tip_index: i64,
    pub(super) channel: i64,
    pub(super) status: String,
    pub(super) tries: i64,
    pub(super) manual: bool,
    pub(super) started_at: i64,
    pub(super) posted_at: Option<i64>,
    pub(super) error: Option<String>,
}

impl RawAttempt {
    pub(super) fn parse(self) -> Result<Attempt, StoreError> {
        let guild = from_db(self.guild);
        let row = RowCheck(guild);
        let bad = |what: &str| row.corrupt(what);
        let instant = |v: i64, what: &str| row.instant(v, what);
        Ok(Attempt {
            guild: GuildId(guild),
            date: row.date(&self.date, "attempt date")?,
            nonce: self.nonce,
            tip_index: usize::try_from(self.tip_index).map_err(|_| bad("tip_index"))?,
            channel: ChannelId(from_db(self.channel)),
            status: AttemptStatus::parse(&self.status).ok_or_else(|| bad("attempt status"))?,
            tries: u32::try_from(self.tries).unwrap_or(u32::MAX),
            manual: self.manual,
            started_at: instant(self.started_at, "started_at")?,
            posted_at: self
                .posted_at
                .map(|v| instant(v, "posted_at"))
                .transpose()?,
            error: self.error,
        })
    }
}

/// Turns unreadable column values of one guild's row into `Corrupt` errors.
pub(super) struct RowCheck(pub(super) u64);

impl RowCheck {
    pub(super) fn corrupt(&self, what: &str) -> StoreError {
        StoreError::Corrupt {
            guild: self.0,
            what: what.to_owned(),
        }
    }

    pub(super) fn instant(&self, millis: i64, what: &str) -> Result<DateTime<Utc>, StoreError> {
        DateTime::from_timestamp_millis(millis).ok_or_else(|| self.corrupt(what))
    }

    pub(super) fn date(&self, s: &str, what: &str) -> Result<NaiveDate, StoreError> {
        NaiveDate::parse_from_str(s, DATE_FMT).map_err(|_| self.corrupt(&format!("{what} {s:?}")))
    }
}
