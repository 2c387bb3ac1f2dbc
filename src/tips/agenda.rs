//! The scheduler's servers, indexed by when each next needs attention, so
//! that one server's change and each wake-up cost a lookup, not a pass over
//! every server (100,000 of them took 24 ms per `/tips set` that way).

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};

use super::schedule::{plan, Plan};
use super::{GuildId, TipSettings};

/// An active server with nothing to do is looked at again after this long
/// (its plan found no slot in the coming week: a rare time-zone oddity).
const RECHECK: chrono::Duration = chrono::Duration::hours(1);

/// A scheduled retry (or a hold after a storage error) for one server's day.
#[derive(Debug, Clone, Copy)]
pub(super) struct Retry {
    pub date: NaiveDate,
    pub tries: u32,
    pub at: DateTime<Utc>,
}

pub(super) struct GuildState {
    pub settings: TipSettings,
    pub retry: Option<Retry>,
    /// This server's entry in [`Agenda::by_time`].
    key: DateTime<Utc>,
}

/// Whether `st` is held back by a retry at `now`, for the day `date`.
pub(super) fn held(retry: Option<Retry>, date: NaiveDate, now: DateTime<Utc>) -> bool {
    retry.is_some_and(|r| r.date == date && r.at > now)
}

/// When a server next needs the scheduler: its slot when due (or its
/// retry, when held back), the next slot when waiting.
fn attention(settings: &TipSettings, retry: Option<Retry>, now: DateTime<Utc>) -> DateTime<Utc> {
    match plan(settings, now) {
        Plan::Due { date, slot, .. } => match retry {
            Some(r) if held(retry, date, now) => r.at,
            _ => slot,
        },
        Plan::Wait { at, .. } => at,
        Plan::Idle => now.checked_add_signed(RECHECK).unwrap_or(now),
    }
}

#[derive(Default)]
pub(super) struct Agenda {
    guilds: HashMap<GuildId, GuildState>,
    by_time: BTreeSet<(DateTime<Utc>, GuildId)>,
}

impl Agenda {
    pub fn len(&self) -> usize {
        self.guilds.len()
    }

    pub fn get(&self, guild: &GuildId) -> Option<&GuildState> {
        self.guilds.get(guild)
    }

    pub fn contains(&self, guild: &GuildId) -> bool {
        self.guilds.contains_key(guild)
    }

    /// Adds or replaces a server.
    pub fn insert(
        &mut self,
        guild: GuildId,
        settings: TipSettings,
        retry: Option<Retry>,
        now: DateTime<Utc>,
    ) {
        self.remove(&guild);
        let key = attention(&settings, retry, now);
        self.by_time.insert((key, guild));
        self.guilds.insert(
            guild,
            GuildState {
                settings,
                retry,
                key,
            },
        );
    }

    pub fn remove(&mut self, guild: &GuildId) -> Option<GuildState> {
        let st = self.guilds.remove(guild)?;
        self.by_time.remove(&(st.key, *guild));
        Some(st)
    }

    /// Changes a server's state and files it under its new time.
    pub fn update(
        &mut self,
        guild: GuildId,
        now: DateTime<Utc>,
        change: impl FnOnce(&mut TipSettings, &mut Option<Retry>),
    ) {
        if let Some(st) = self.guilds.get_mut(&guild) {
            change(&mut st.settings, &mut st.retry);
            self.by_time.remove(&(st.key, guild));
            st.key = attention(&st.settings, st.retry, now);
            self.by_time.insert((st.key, guild));
        }
    }

    /// Replaces every server (a full read), keeping retries of those known.
    pub fn replace_all(&mut self, settings: Vec<TipSettings>, now: DateTime<Utc>) -> Agenda {
        let mut old = std::mem::take(self);
        for s in settings {
            let retry = old.remove(&s.guild).and_then(|g| g.retry);
            self.insert(s.guild, s, retry, now);
        }
        old
    }

    /// Keeps the servers of `old` that are not known (an incomplete read).
    pub fn keep_missing(&mut self, old: Agenda, now: DateTime<Utc>) {
        for (guild, st) in old.guilds {
            if !self.contains(&guild) {
                self.insert(guild, st.settings, st.retry, now);
            }
        }
    }

    /// Servers filed at or before `now`, earliest first.
    pub fn filed_by(&self, now: DateTime<Utc>) -> impl Iterator<Item = GuildId> + '_ {
        self.by_time
            .range(..=(now, GuildId(u64::MAX)))
            .map(|(_, g)| *g)
    }

    /// The earliest time a server not `flying` is filed under, only among
    /// those after `now` when `after_now`.
    pub fn first(
        &self,
        now: DateTime<Utc>,
        after_now: bool,
        flying: &HashSet<GuildId>,
    ) -> Option<DateTime<Utc>> {
        use std::ops::Bound::{Excluded, Unbounded};
        let from = if after_now {
            Excluded((now, GuildId(u64::MAX)))
        } else {
            Unbounded
        };
        self.by_time
            .range((from, Unbounded))
            .find(|(_, g)| !flying.contains(g))
            .map(|(at, _)| *at)
    }
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveTime, TimeZone};

    use super::*;
    use crate::tips::{ChannelId, Schedule};

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 6, 1, h, m, 0).unwrap()
    }

    fn settings(guild: u64, h: u32) -> TipSettings {
        TipSettings {
            guild: GuildId(guild),
            schedule: Schedule {
                channel: ChannelId(guild),
                time: NaiveTime::from_hms_opt(h, 0, 0).unwrap(),
                tz: chrono_tz::UTC,
            },
            enabled: true,
            paused: None,
            active_since: at(0, 0),
            last_post: None,
            latest_attempt: None,
            updated_at: at(0, 0),
        }
    }

    #[test]
    fn servers_are_filed_by_when_they_need_attention() {
        let now = at(8, 0);
        let mut a = Agenda::default();
        a.insert(GuildId(1), settings(1, 9), None, now);
        a.insert(GuildId(2), settings(2, 7), None, now);
        a.insert(GuildId(3), settings(3, 10), None, now);
        assert_eq!(
            a.filed_by(now).collect::<Vec<_>>(),
            vec![GuildId(2)],
            "07:00 is due"
        );
        let none = HashSet::new();
        assert_eq!(a.first(now, false, &none), Some(at(7, 0)));
        assert_eq!(a.first(now, true, &none), Some(at(9, 0)), "after now");
        let flying = HashSet::from([GuildId(1)]);
        assert_eq!(
            a.first(now, true, &flying),
            Some(at(10, 0)),
            "not the flying one"
        );

        // A retry holds server 2 until 08:30; a change refiles server 3.
        a.update(GuildId(2), now, |_, retry| {
            *retry = Some(Retry {
                date: now.date_naive(),
                tries: 1,
                at: at(8, 30),
            })
        });
        assert_eq!(a.filed_by(now).count(), 0);
        assert_eq!(a.first(now, false, &none), Some(at(8, 30)));
        a.update(GuildId(3), now, |s, _| {
            s.schedule.time = NaiveTime::from_hms_opt(8, 15, 0).unwrap()
        });
        assert_eq!(a.first(now, false, &none), Some(at(8, 15)));

        // A full read keeps retries; an incomplete one keeps the unread.
        let old = a.replace_all(vec![settings(2, 7), settings(4, 11)], now);
        assert_eq!(a.len(), 2);
        assert_eq!(
            a.get(&GuildId(2)).and_then(|g| g.retry).map(|r| r.at),
            Some(at(8, 30))
        );
        a.keep_missing(old, now);
        assert_eq!(a.len(), 4);
        assert!(a.remove(&GuildId(3)).is_some());
        assert_eq!(a.first(now, true, &none), Some(at(8, 30)));
    }
}
