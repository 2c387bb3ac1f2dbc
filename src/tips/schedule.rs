//! When a server's tip is due, in its own time zone. Pure functions of the
//! settings and "now", shared by the scheduler and the `/tips` replies so
//! what we announce is what we do.
//!
//! Rules: one tip per local calendar day, at the chosen local time. A time
//! that does not exist that day (spring-forward gap) posts at the next valid
//! minute; one that occurs twice (fall-back) posts at the first occurrence.
//! If the bot was down at the slot it posts late the same local day; a day
//! that has ended is never back-filled.

use chrono::{DateTime, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

use crate::tips::{AttemptStatus, TipSettings};

/// Longest stretch of non-existent local time we step over (Samoa skipped
/// a whole day in 2011).
const MAX_GAP_MINUTES: i64 = 48 * 60;

/// How many days ahead to look for a day that has the chosen time.
const LOOKAHEAD_DAYS: u64 = 8;

/// The server's local date at `now`.
pub fn local_date(now: DateTime<Utc>, tz: Tz) -> NaiveDate {
    now.with_timezone(&tz).date_naive()
}

/// The first instant at or after local `naive` that exists in `tz`
/// (earliest of two in a fall-back overlap).
fn resolve_forward(naive: NaiveDateTime, tz: Tz) -> Option<DateTime<Utc>> {
    let mut t = naive;
    for _ in 0..=MAX_GAP_MINUTES {
        match tz.from_local_datetime(&t) {
            LocalResult::Single(dt) => return Some(dt.with_timezone(&Utc)),
            LocalResult::Ambiguous(a, b) => return Some(a.min(b).with_timezone(&Utc)),
            LocalResult::None => t = t.checked_add_signed(Duration::minutes(1))?,
        }
    }
    None
}

/// The instant the tip for local `date` is due: `time` on that date, moved
/// past a DST gap, first occurrence in an overlap. `None` if that day has no
/// such time at all (the gap runs past midnight or the day was skipped).
pub fn slot(date: NaiveDate, time: NaiveTime, tz: Tz) -> Option<DateTime<Utc>> {
    let at = resolve_forward(date.and_time(time), tz)?;
    (local_date(at, tz) == date).then_some(at)
}

/// The first instant of local `date` (midnight, or the end of a gap there).
/// Retries for a day stop here on the next day.
pub fn day_start(date: NaiveDate, tz: Tz) -> Option<DateTime<Utc>> {
    resolve_forward(date.and_time(NaiveTime::MIN), tz)
}

/// What the scheduler should do for one server at some instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    /// Post now for local `date`. `slot` is when it was due (earlier if late);
    /// `resume` when an unconfirmed attempt for the day exists.
    Due {
        date: NaiveDate,
        slot: DateTime<Utc>,
        resume: bool,
    },
    /// Nothing to do until `at`, when the tip for `date` is due.
    Wait { at: DateTime<Utc>, date: NaiveDate },
    /// Tips are off or paused, or no day in the next week has the time.
    Idle,
}

/// Plans one server at `now` from its stored settings (see module docs).
pub fn plan(s: &TipSettings, now: DateTime<Utc>) -> Plan {
    if !s.is_active() {
        return Plan::Idle;
    }
    let tz = s.schedule.tz;
    let today = local_date(now, tz);
    let today_attempt = s.latest_attempt.as_ref().filter(|a| a.date == today);
    if let Some(a) = today_attempt {
        if a.status == AttemptStatus::Pending {
            return Plan::Due {
                date: today,
                slot: slot(today, s.schedule.time, tz).unwrap_or(now).min(now),
                resume: true,
            };
        }
    }
    // Local dates up to this one already had their tip (or gave up).
    let done_through = s
        .last_post
        .map(|p| p.date)
        .into_iter()
        .chain(
            s.latest_attempt
                .as_ref()
                .filter(|a| a.status.is_final())
                .map(|a| a.date),
        )
        .max();
    let mut date = today;
    for _ in 0..LOOKAHEAD_DAYS {
        let done = done_through.is_some_and(|d| date <= d);
        if !done {
            if let Some(at) = slot(date, s.schedule.time, tz) {
                if at >= s.active_since {
                    return if at <= now {
                        Plan::Due {
                            date,
                            slot: at,
                            resume: false,
                        }
                    } else {
                        Plan::Wait { at, date }
                    };
                }
            }
        }
        match date.succ_opt() {
            Some(d) => date = d,
            None => break,
        }
    }
    Plan::Idle
}

/// The next post as shown to users (`/tips set`, `/tips show`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NextPost {
    /// When it will be sent (now, if it is overdue and about to go out).
    pub at: DateTime<Utc>,
    /// The local date it counts for.
    pub date: NaiveDate,
    /// The slot has passed and the post is going out late.
    pub late: bool,
}

impl NextPost {
    /// For Discord's `<t:UNIX:F>` timestamp markup.
    pub fn unix(&self) -> i64 {
        self.at.timestamp()
    }
}

/// The next post for a server, or `None` if tips are off or paused.
pub fn next_post(s: &TipSettings, now: DateTime<Utc>) -> Option<NextPost> {
    match plan(s, now) {
        Plan::Due { date, .. } => Some(NextPost {
            at: now,
            date,
            late: true,
        }),
        Plan::Wait { at, date } => Some(NextPost {
            at,
            date,
            late: false,
        }),
        Plan::Idle => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tips::{AttemptSummary, ChannelId, GuildId, LastPost, Pause, Schedule, TipSettings};
    use chrono::Timelike;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }
    fn hm(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }
    fn utc(y: i32, m: u32, day: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, day, h, min, 0).unwrap()
    }
    fn settings(time: NaiveTime, tz: Tz, active_since: DateTime<Utc>) -> TipSettings {
        TipSettings {
            guild: GuildId(1),
            schedule: Schedule {
                channel: ChannelId(2),
                time,
                tz,
            },
            enabled: true,
            paused: None,
            active_since,
            last_post: None,
            latest_attempt: None,
            updated_at: active_since,
        }
    }
    const BERLIN: Tz = Tz::Europe__Berlin;

    #[test]
    fn ordinary_day_slot() {
        assert_eq!(
            slot(d(2026, 6, 1), hm(9, 0), BERLIN),
            Some(utc(2026, 6, 1, 7, 0))
        );
        assert_eq!(
            slot(d(2026, 1, 1), hm(9, 0), BERLIN),
            Some(utc(2026, 1, 1, 8, 0))
        );
        assert_eq!(
            slot(d(2026, 1, 1), hm(9, 0), Tz::America__New_York),
            Some(utc(2026, 1, 1, 14, 0))
        );
    }

    #[test]
    fn dst_gap_posts_at_next_valid_minute() {
        // Berlin springs from 02:00 to 03:00 on 2026-03-29.
        let at = slot(d(2026, 3, 29), hm(2, 30), BERLIN).unwrap();
        assert_eq!(at, utc(2026, 3, 29, 1, 0));
        let local = at.with_timezone(&BERLIN);
        assert_eq!((local.hour(), local.minute()), (3, 0));
        assert_eq!(
            slot(d(2026, 3, 29), hm(2, 0), BERLIN),
            Some(utc(2026, 3, 29, 1, 0))
        );
        assert_eq!(
            slot(d(2026, 3, 29), hm(3, 0), BERLIN),
            Some(utc(2026, 3, 29, 1, 0))
        );
        assert_eq!(
            slot(d(2026, 3, 29), hm(1, 59), BERLIN),
            Some(utc(2026, 3, 29, 0, 59))
        );
    }

    #[test]
    fn dst_overlap_posts_at_first_occurrence() {
        // Berlin falls back from 03:00 CEST to 02:00 CET on 2026-10-25.
        let at = slot(d(2026, 10, 25), hm(2, 30), BERLIN).unwrap();
        assert_eq!(at, utc(2026, 10, 25, 0, 30)); // 02:30 CEST
    }

    #[test]
    fn overlap_day_plans_once() {
        let mut s = settings(hm(2, 30), BERLIN, utc(2026, 10, 1, 0, 0));
        let first = utc(2026, 10, 25, 0, 30);
        assert!(matches!(plan(&s, first), Plan::Due { slot, .. } if slot == first));
        s.latest_attempt = Some(AttemptSummary {
            date: d(2026, 10, 25),
            status: AttemptStatus::Posted,
            tries: 1,
            error: None,
        });
        // At the second 02:30 (CET) nothing is due; next is tomorrow 02:30 CET.
        assert_eq!(
            plan(&s, utc(2026, 10, 25, 1, 30)),
            Plan::Wait {
                at: utc(2026, 10, 26, 1, 30),
                date: d(2026, 10, 26)
            }
        );
    }

    #[test]
    fn day_without_the_time_has_no_slot() {
        // Samoa skipped 2011-12-30 entirely.
        assert_eq!(slot(d(2011, 12, 30), hm(9, 0), Tz::Pacific__Apia), None);
        assert!(slot(d(2011, 12, 31), hm(9, 0), Tz::Pacific__Apia).is_some());
    }

    #[test]
    fn setting_after_todays_slot_starts_tomorrow() {
        let now = utc(2026, 6, 1, 13, 0); // 15:00 Berlin
        let s = settings(hm(9, 0), BERLIN, now);
        assert_eq!(
            next_post(&s, now),
            Some(NextPost {
                at: utc(2026, 6, 2, 7, 0),
                date: d(2026, 6, 2),
                late: false
            })
        );
    }

    #[test]
    fn setting_before_todays_slot_posts_today() {
        let now = utc(2026, 6, 1, 5, 0); // 07:00 Berlin
        let s = settings(hm(9, 0), BERLIN, now);
        assert_eq!(
            plan(&s, now),
            Plan::Wait {
                at: utc(2026, 6, 1, 7, 0),
                date: d(2026, 6, 1)
            }
        );
    }

    #[test]
    fn down_at_slot_posts_late_same_day_only() {
        let s = settings(hm(9, 0), BERLIN, utc(2026, 5, 1, 0, 0));
        // Back at 11:00 the same day: due, late.
        let late = plan(&s, utc(2026, 6, 1, 9, 0));
        assert_eq!(
            late,
            Plan::Due {
                date: d(2026, 6, 1),
                slot: utc(2026, 6, 1, 7, 0),
                resume: false
            }
        );
        // Back just after local midnight: yesterday is not back-filled.
        assert_eq!(
            plan(&s, utc(2026, 6, 1, 22, 1)),
            Plan::Wait {
                at: utc(2026, 6, 2, 7, 0),
                date: d(2026, 6, 2)
            }
        );
    }

    #[test]
    fn posted_today_waits_for_tomorrow_and_pending_resumes() {
        let mut s = settings(hm(9, 0), BERLIN, utc(2026, 5, 1, 0, 0));
        s.last_post = Some(LastPost {
            date: d(2026, 6, 1),
            at: utc(2026, 6, 1, 7, 0),
        });
        let now = utc(2026, 6, 1, 8, 0);
        assert!(matches!(plan(&s, now), Plan::Wait { date, .. } if date == d(2026, 6, 2)));
        s.last_post = None;
        s.latest_attempt = Some(AttemptSummary {
            date: d(2026, 6, 1),
            status: AttemptStatus::Pending,
            tries: 1,
            error: None,
        });
        assert!(matches!(plan(&s, now), Plan::Due { resume: true, .. }));
        // A pending attempt from yesterday is abandoned, not resumed.
        assert!(matches!(
            plan(&s, utc(2026, 6, 2, 5, 0)),
            Plan::Wait { date, .. } if date == d(2026, 6, 2)
        ));
    }

    #[test]
    fn failed_today_waits_for_tomorrow() {
        let mut s = settings(hm(9, 0), BERLIN, utc(2026, 5, 1, 0, 0));
        s.latest_attempt = Some(AttemptSummary {
            date: d(2026, 6, 1),
            status: AttemptStatus::Failed,
            tries: 9,
            error: Some("gave up".into()),
        });
        assert!(matches!(
            plan(&s, utc(2026, 6, 1, 8, 0)),
            Plan::Wait { date, .. } if date == d(2026, 6, 2)
        ));
    }

    #[test]
    fn off_or_paused_has_no_next_post() {
        let now = utc(2026, 6, 1, 5, 0);
        let mut s = settings(hm(9, 0), BERLIN, now);
        s.enabled = false;
        assert_eq!(next_post(&s, now), None);
        s.enabled = true;
        s.paused = Some(Pause {
            reason: "channel deleted".into(),
            at: now,
        });
        assert_eq!(next_post(&s, now), None);
    }

    #[test]
    fn gap_day_plan_waits_for_shifted_slot() {
        let s = settings(hm(2, 30), BERLIN, utc(2026, 3, 1, 0, 0));
        assert_eq!(
            plan(&s, utc(2026, 3, 28, 23, 0)), // 00:00 CET on the 29th
            Plan::Wait {
                at: utc(2026, 3, 29, 1, 0),
                date: d(2026, 3, 29)
            }
        );
        assert_eq!(
            day_start(d(2026, 3, 30), BERLIN),
            Some(utc(2026, 3, 29, 22, 0))
        );
    }

    #[test]
    fn local_date_uses_the_zone() {
        let now = utc(2026, 6, 1, 23, 30);
        assert_eq!(local_date(now, BERLIN), d(2026, 6, 2));
        assert_eq!(local_date(now, Tz::America__New_York), d(2026, 6, 1));
    }
}
