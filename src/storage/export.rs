//! The portable form of a server's tip settings: what `db export` writes
//! (one JSON object per line) and `db import` reads, so the readable part of
//! a damaged database can be carried into a fresh one.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::tips::{
    AttemptRequest, ChannelId, GuildId, LastPost, Pause, ReplicaId, Schedule, StoreError,
    TipSettings, TipStore,
};

/// One server's settings. Ids are strings, as in Discord's own JSON, so no
/// tool rounds them through a float.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportedSettings {
    pub guild: String,
    pub channel: String,
    /// Local time, `HH:MM`.
    pub time: String,
    /// IANA time zone name.
    pub timezone: String,
    pub enabled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused_at: Option<DateTime<Utc>>,
    /// The server's local date of the last tip that reached Discord.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_posted_date: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_posted_at: Option<DateTime<Utc>>,
}

impl From<&TipSettings> for ExportedSettings {
    fn from(s: &TipSettings) -> Self {
        Self {
            guild: s.guild.0.to_string(),
            channel: s.schedule.channel.0.to_string(),
            time: s.schedule.time.format("%H:%M").to_string(),
            timezone: s.schedule.tz.name().to_owned(),
            enabled: s.enabled,
            paused_reason: s.paused.as_ref().map(|p| p.reason.clone()),
            paused_at: s.paused.as_ref().map(|p| p.at),
            last_posted_date: s.last_post.map(|l| l.date),
            last_posted_at: s.last_post.map(|l| l.at),
        }
    }
}

impl ExportedSettings {
    /// Validates the line back into settings (`active_since` and the
    /// attempt history are not carried over).
    pub fn to_settings(&self) -> Result<TipSettings, StoreError> {
        let guild: u64 = self.guild.parse().map_err(|_| StoreError::Corrupt {
            guild: 0,
            what: format!("guild id {:?}", self.guild),
        })?;
        let bad = |what: String| StoreError::Corrupt { guild, what };
        let channel: u64 = self
            .channel
            .parse()
            .map_err(|_| bad(format!("channel id {:?}", self.channel)))?;
        let time = NaiveTime::parse_from_str(&self.time, "%H:%M")
            .map_err(|_| bad(format!("time {:?}", self.time)))?;
        let tz: Tz = self
            .timezone
            .parse()
            .map_err(|_| bad(format!("timezone {:?}", self.timezone)))?;
        let now = Utc::now();
        Ok(TipSettings {
            guild: GuildId(guild),
            schedule: Schedule {
                channel: ChannelId(channel),
                time,
                tz,
            },
            enabled: self.enabled,
            paused: self.paused_reason.as_ref().map(|reason| Pause {
                reason: reason.clone(),
                at: self.paused_at.unwrap_or(now),
            }),
            active_since: now,
            last_post: match (self.last_posted_date, self.last_posted_at) {
                (Some(date), Some(at)) => Some(LastPost { date, at }),
                _ => None,
            },
            latest_attempt: None,
            updated_at: now,
        })
    }
}

/// Writes exported settings into a store (`db import`), SQLite or
/// PostgreSQL: each server's schedule, whether it is on, a pause, and the
/// last post (so a server that already had today's tip does not get it
/// twice). This is also how a SQLite deployment moves to PostgreSQL.
pub async fn import(
    store: &dyn TipStore,
    rows: &[ExportedSettings],
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    for row in rows {
        let settings = row.to_settings()?;
        let guild = settings.guild;
        store.put_settings(guild, &settings.schedule, now).await?;
        if let Some(last) = settings.last_post {
            store
                .claim(&AttemptRequest {
                    guild,
                    date: last.date,
                    channel: settings.schedule.channel,
                    n_tips: 1,
                    now: last.at,
                    manual: false,
                    replica: ReplicaId::LOCAL,
                    lease: chrono::Duration::zero(),
                })
                .await?;
            store.mark_posted(guild, last.date, last.at).await?;
        }
        if let Some(p) = &settings.paused {
            store.pause(guild, &p.reason, p.at).await?;
        }
        if !settings.enabled {
            store.set_enabled(guild, false, now).await?;
        }
    }
    Ok(rows.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_json() {
        let line = r#"{"guild":"18446744073709551610","channel":"42","time":"09:30","timezone":"Europe/Berlin","enabled":false,"paused_reason":"channel deleted (HTTP 404)","paused_at":"2026-06-01T05:00:00Z","last_posted_date":"2026-05-31","last_posted_at":"2026-05-31T07:30:00Z"}"#;
        let e: ExportedSettings = serde_json::from_str(line).unwrap();
        let s = e.to_settings().unwrap();
        assert_eq!(s.guild, GuildId(18_446_744_073_709_551_610));
        assert_eq!(s.schedule.tz, Tz::Europe__Berlin);
        assert!(!s.enabled);
        assert_eq!(
            s.paused.as_ref().unwrap().reason,
            "channel deleted (HTTP 404)"
        );
        assert_eq!(ExportedSettings::from(&s), e);
        assert_eq!(serde_json::to_string(&e).unwrap(), line);
    }

    #[test]
    fn rejects_bad_values() {
        let mut e: ExportedSettings = serde_json::from_str(
            r#"{"guild":"1","channel":"2","time":"09:00","timezone":"UTC","enabled":true}"#,
        )
        .unwrap();
        assert!(e.to_settings().is_ok());
        e.timezone = "Mars/Base".into();
        assert!(e.to_settings().is_err());
        e.timezone = "UTC".into();
        e.time = "25:00".into();
        assert!(e.to_settings().is_err());
        e.time = "09:00".into();
        e.guild = "-1".into();
        assert!(e.to_settings().is_err());
    }
}
