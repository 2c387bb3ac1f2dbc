//! The daily tip scheduler end to end: a real SQLite file, a `ManualClock`
//! and a recording fake poster. No test waits for real time beyond task
//! switches: the clock is moved and `SchedulerHandle::settled` waits for the
//! scheduler to catch up.

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use massage_bot::storage::SqliteStore;
use massage_bot::tips::{
    nonce_for, ActiveSettings, Attempt, AttemptRequest, AttemptStatus, ChannelId, Claim, Clock,
    GuildId, ManualClock, PostError, PostNowError, PostNowOutcome, ReplicaId, RotationState,
    Schedule, Scheduler, SchedulerConfig, SchedulerHandle, StoreError, TipPost, TipPoster,
    TipSettings, TipStore,
};
use tokio::sync::watch;
use tokio::task::JoinHandle;

#[path = "support/damage.rs"]
mod damage;

const N_TIPS: usize = 6;
const BERLIN: Tz = Tz::Europe__Berlin;

fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
}
fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}
fn hm(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap()
}

/// One call the scheduler made to the poster.
#[derive(Debug, Clone)]
struct Call {
    post: TipPost,
    at: DateTime<Utc>,
    ok: bool,
}

/// Records every post; answers from a per-guild script (default: success).
struct FakePoster {
    clock: Arc<ManualClock>,
    calls: Mutex<Vec<Call>>,
    script: Mutex<HashMap<GuildId, VecDeque<Script>>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

#[derive(Clone)]
enum Script {
    Answer(Result<(), PostError>),
    /// Never answers (a hung request).
    Hang,
    /// The poster has a bug.
    Panic,
    /// Answers success after this much real time (a slow Discord).
    Slow(Duration),
    /// Answer this for every call.
    Always(Result<(), PostError>),
}

impl FakePoster {
    fn new(clock: Arc<ManualClock>) -> Arc<Self> {
        Arc::new(Self {
            clock,
            calls: Mutex::new(Vec::new()),
            script: Mutex::new(HashMap::new()),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
        })
    }
    fn script(&self, guild: u64, answers: impl IntoIterator<Item = Script>) {
        self.script
            .lock()
            .unwrap()
            .entry(GuildId(guild))
            .or_default()
            .extend(answers);
    }
    fn calls(&self) -> Vec<Call> {
        self.calls.lock().unwrap().clone()
    }
    fn calls_for(&self, guild: u64) -> Vec<Call> {
        self.calls()
            .into_iter()
            .filter(|c| c.post.guild == GuildId(guild))
            .collect()
    }
    fn posted(&self) -> Vec<Call> {
        self.calls().into_iter().filter(|c| c.ok).collect()
    }
    fn posted_for(&self, guild: u64) -> Vec<Call> {
        self.calls_for(guild).into_iter().filter(|c| c.ok).collect()
    }
}

impl TipPoster for FakePoster {
    async fn post(&self, post: TipPost) -> Result<(), PostError> {
        let n = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_in_flight.fetch_max(n, Ordering::SeqCst);
        // Give any concurrent sender a chance to show up.
        tokio::task::yield_now().await;
        let answer = {
            let mut script = self.script.lock().unwrap();
            match script.get_mut(&post.guild) {
                Some(q) => match q.front().cloned() {
                    Some(Script::Always(r)) => Script::Answer(r),
                    Some(_) => q.pop_front().unwrap_or(Script::Answer(Ok(()))),
                    None => Script::Answer(Ok(())),
                },
                None => Script::Answer(Ok(())),
            }
        };
        let result = match answer {
            Script::Answer(r) | Script::Always(r) => r,
            Script::Panic => {
                self.in_flight.fetch_sub(1, Ordering::SeqCst);
                panic!("poster bug (expected by the test)");
            }
            Script::Slow(d) => {
                tokio::time::sleep(d).await;
                Ok(())
            }
            Script::Hang => {
                self.in_flight.fetch_sub(1, Ordering::SeqCst);
                std::future::pending::<()>().await;
                unreachable!()
            }
        };
        self.calls.lock().unwrap().push(Call {
            post,
            at: self.clock.now(),
            ok: result.is_ok(),
        });
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        result
    }
}

/// A database file, a clock and a poster shared by successive "processes".
struct World {
    _dir: tempfile::TempDir,
    path: PathBuf,
    clock: Arc<ManualClock>,
    poster: Arc<FakePoster>,
}

/// One running bot process: its store handle and scheduler.
struct Process {
    store: Arc<SqliteStore>,
    handle: SchedulerHandle,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl World {
    fn new(start: DateTime<Utc>) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bot.db");
        let clock = Arc::new(ManualClock::new(start));
        let poster = FakePoster::new(Arc::clone(&clock));
        Self {
            _dir: dir,
            path,
            clock,
            poster,
        }
    }

    fn store(&self) -> Arc<SqliteStore> {
        Arc::new(SqliteStore::open(&self.path).unwrap())
    }

    fn config() -> SchedulerConfig {
        SchedulerConfig {
            pacing: Duration::ZERO,
            ..SchedulerConfig::default()
        }
    }

    async fn start(&self) -> Process {
        self.start_with(Self::config()).await
    }

    async fn start_with(&self, config: SchedulerConfig) -> Process {
        let store = self.store();
        let (handle, stop, task) = self.spawn_on(Arc::clone(&store), config);
        handle.settled().await;
        Process {
            store,
            handle,
            stop,
            task,
        }
    }

    /// A scheduler on any store, with this world's poster and clock.
    fn spawn_on<S: TipStore + ?Sized>(
        &self,
        store: Arc<S>,
        config: SchedulerConfig,
    ) -> (SchedulerHandle, watch::Sender<bool>, JoinHandle<()>) {
        let sched = Scheduler::new(
            store,
            Arc::clone(&self.poster),
            Arc::clone(&self.clock),
            N_TIPS,
        )
        .with_config(config);
        let handle = sched.handle();
        let (stop, rx) = watch::channel(false);
        (handle, stop, tokio::spawn(sched.run(rx)))
    }

    /// Sets a server up as `/tips set` would, at the clock's current time.
    fn set(&self, store: &SqliteStore, guild: u64, channel: u64, time: NaiveTime, tz: Tz) {
        store
            .put_settings(
                GuildId(guild),
                &Schedule {
                    channel: ChannelId(channel),
                    time,
                    tz,
                },
                self.clock.now(),
            )
            .unwrap();
    }

    /// Moves the clock and lets the scheduler catch up.
    async fn go(&self, p: &Process, to: DateTime<Utc>) {
        self.clock.set(to);
        p.handle.settled().await;
    }

    /// Moves the clock in steps (so nothing due in between is skipped over).
    async fn walk(&self, p: &Process, to: DateTime<Utc>, step: chrono::Duration) {
        while self.clock.now() < to {
            let next = (self.clock.now() + step).min(to);
            self.go(p, next).await;
        }
    }
}

impl Process {
    async fn stop(self) {
        self.stop.send_replace(true);
        self.task.await.unwrap();
        assert!(self.handle.is_stopped());
    }
}

fn first_tips(guild: u64, n: usize) -> Vec<usize> {
    let mut r = RotationState::for_guild(guild);
    (0..n).map(|_| r.next(N_TIPS).unwrap()).collect()
}

#[tokio::test]
async fn posts_at_the_due_time_with_the_right_tip_and_nonce() {
    let w = World::new(utc(2026, 6, 1, 5, 0)); // 07:00 Berlin
    let p = w.start().await;
    w.set(&p.store, 10, 100, hm(9, 0), BERLIN);
    p.handle.notify();
    p.handle.settled().await;

    w.go(&p, utc(2026, 6, 1, 6, 59)).await;
    assert!(w.poster.calls().is_empty());
    w.go(&p, utc(2026, 6, 1, 7, 0)).await;
    let posts = w.poster.posted();
    assert_eq!(posts.len(), 1);
    let c = &posts[0];
    assert_eq!(c.at, utc(2026, 6, 1, 7, 0));
    assert_eq!(c.post.guild, GuildId(10));
    assert_eq!(c.post.channel, ChannelId(100));
    assert_eq!(c.post.date, date(2026, 6, 1));
    assert_eq!(c.post.nonce, nonce_for(GuildId(10), date(2026, 6, 1)));
    assert!(c.post.nonce.len() <= 25);
    assert!(!c.post.manual && !c.post.resend);
    assert_eq!(c.post.tip_index, first_tips(10, 1)[0]);

    // The rest of the day: nothing. Next day: the next tip in the rotation.
    w.walk(&p, utc(2026, 6, 2, 6, 59), chrono::Duration::hours(2))
        .await;
    assert_eq!(w.poster.calls().len(), 1);
    w.go(&p, utc(2026, 6, 2, 7, 0)).await;
    let posts = w.poster.posted();
    assert_eq!(posts.len(), 2);
    assert_eq!(posts[1].post.tip_index, first_tips(10, 2)[1]);
    assert_eq!(posts[1].post.date, date(2026, 6, 2));

    let s = p.store.get(GuildId(10)).unwrap().unwrap();
    assert_eq!(s.last_post.unwrap().date, date(2026, 6, 2));
    p.stop().await;
}

#[tokio::test]
async fn rotation_does_not_repeat_until_all_tips_are_used_across_restarts() {
    let w = World::new(utc(2026, 6, 1, 5, 0));
    w.set(&w.store(), 11, 1, hm(9, 0), BERLIN);
    let mut tips = Vec::new();
    for day in 1..=(N_TIPS as u32) {
        // A fresh process every day.
        let p = w.start().await;
        w.go(&p, utc(2026, 6, day, 7, 0)).await;
        p.stop().await;
        w.clock.set(utc(2026, 6, day, 20, 0));
        tips.push(w.poster.posted().last().unwrap().post.tip_index);
    }
    let mut sorted = tips.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (0..N_TIPS).collect::<Vec<_>>(), "{tips:?}");
    assert_eq!(tips, first_tips(11, N_TIPS));
}

#[tokio::test]
async fn restart_after_the_post_does_not_post_again_that_day() {
    let w = World::new(utc(2026, 6, 1, 5, 0));
    let p = w.start().await;
    w.set(&p.store, 12, 1, hm(9, 0), BERLIN);
    p.handle.notify();
    w.go(&p, utc(2026, 6, 1, 7, 0)).await;
    assert_eq!(w.poster.calls().len(), 1);
    p.stop().await;

    // New process, same file, same day after the slot.
    w.clock.set(utc(2026, 6, 1, 7, 30));
    let p = w.start().await;
    w.walk(&p, utc(2026, 6, 1, 21, 59), chrono::Duration::hours(1))
        .await;
    assert_eq!(w.poster.calls().len(), 1);
    // It does post the next day.
    w.go(&p, utc(2026, 6, 2, 7, 0)).await;
    assert_eq!(w.poster.posted().len(), 2);
    p.stop().await;
}

#[tokio::test]
async fn restart_after_a_missed_slot_the_same_day_posts_once_late() {
    let w = World::new(utc(2026, 6, 1, 5, 0));
    w.set(&w.store(), 13, 1, hm(9, 0), BERLIN);
    // The bot was down from before 09:00 until 11:15.
    w.clock.set(utc(2026, 6, 1, 9, 15));
    let p = w.start().await;
    let posts = w.poster.posted();
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].at, utc(2026, 6, 1, 9, 15));
    assert_eq!(posts[0].post.date, date(2026, 6, 1));
    w.walk(&p, utc(2026, 6, 1, 21, 59), chrono::Duration::minutes(30))
        .await;
    assert_eq!(w.poster.calls().len(), 1);
    p.stop().await;
    // And another restart that day still does not repeat it.
    let p = w.start().await;
    assert_eq!(w.poster.calls().len(), 1);
    p.stop().await;
}

#[tokio::test]
async fn a_missed_day_is_not_back_filled() {
    let w = World::new(utc(2026, 6, 1, 5, 0));
    w.set(&w.store(), 14, 1, hm(9, 0), BERLIN);
    // Down for all of June 1 and 2; back on June 3 at 08:00 local.
    w.clock.set(utc(2026, 6, 3, 6, 0));
    let p = w.start().await;
    assert!(w.poster.calls().is_empty());
    w.go(&p, utc(2026, 6, 3, 7, 0)).await;
    let posts = w.poster.posted();
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].post.date, date(2026, 6, 3));
    // Back just after local midnight: yesterday is skipped, too.
    p.stop().await;
    w.clock.set(utc(2026, 6, 4, 22, 5)); // 00:05 on June 5 in Berlin
    let p = w.start().await;
    assert_eq!(w.poster.calls().len(), 1);
    p.stop().await;
}

#[tokio::test]
async fn a_gone_channel_pauses_that_server_and_others_continue() {
    let w = World::new(utc(2026, 6, 1, 5, 0));
    let p = w.start().await;
    w.set(&p.store, 20, 200, hm(9, 0), BERLIN);
    w.set(&p.store, 21, 210, hm(9, 0), BERLIN);
    p.handle.notify();
    w.poster.script(
        20,
        [Script::Answer(Err(PostError::Gone {
            status: 403,
            reason: "Missing Access".into(),
        }))],
    );
    w.go(&p, utc(2026, 6, 1, 7, 0)).await;
    assert_eq!(w.poster.posted_for(21).len(), 1);
    assert_eq!(w.poster.calls_for(20).len(), 1);

    let s = p.store.get(GuildId(20)).unwrap().unwrap();
    let pause = s.paused.expect("paused");
    assert!(pause.reason.contains("Missing Access"), "{}", pause.reason);
    assert!(pause.reason.contains("403"), "{}", pause.reason);
    let a = p
        .store
        .attempt(GuildId(20), date(2026, 6, 1))
        .unwrap()
        .unwrap();
    assert_eq!(a.status, AttemptStatus::Failed);

    // Next days: the paused server is left alone, the other goes on.
    w.walk(&p, utc(2026, 6, 3, 8, 0), chrono::Duration::hours(1))
        .await;
    assert_eq!(w.poster.calls_for(20).len(), 1);
    assert_eq!(w.poster.posted_for(21).len(), 3);

    // `/tips set` again (a new channel) resumes it.
    w.set(&p.store, 20, 201, hm(12, 0), BERLIN);
    p.handle.notify();
    w.go(&p, utc(2026, 6, 3, 10, 0)).await;
    let posted = w.poster.posted_for(20);
    assert_eq!(posted.len(), 1);
    assert_eq!(posted[0].post.channel, ChannelId(201));
    p.stop().await;
}

#[tokio::test]
async fn retryable_errors_back_off_and_post_once() {
    let w = World::new(utc(2026, 6, 1, 5, 0));
    let p = w.start().await;
    w.set(&p.store, 30, 1, hm(9, 0), BERLIN);
    w.set(&p.store, 31, 1, hm(9, 0), BERLIN);
    p.handle.notify();
    w.poster.script(
        30,
        [
            Script::Answer(Err(PostError::Retryable {
                retry_after: None,
                reason: "HTTP 500".into(),
            })),
            Script::Answer(Err(PostError::Retryable {
                retry_after: None,
                reason: "HTTP 502".into(),
            })),
            Script::Answer(Err(PostError::Retryable {
                retry_after: Some(Duration::from_secs(30)),
                reason: "HTTP 429".into(),
            })),
        ],
    );
    let t0 = utc(2026, 6, 1, 7, 0);
    let s = |secs: i64| t0 + chrono::Duration::seconds(secs);
    w.go(&p, t0).await;
    assert_eq!(w.poster.calls_for(30).len(), 1);
    // The failing server does not hold up the other one.
    assert_eq!(w.poster.posted_for(31).len(), 1);
    // Backoff 5 s, then 10 s, then the 429's retry_after of 30 s.
    w.go(&p, s(4)).await;
    assert_eq!(w.poster.calls_for(30).len(), 1);
    w.go(&p, s(5)).await;
    assert_eq!(w.poster.calls_for(30).len(), 2);
    w.go(&p, s(14)).await;
    assert_eq!(w.poster.calls_for(30).len(), 2);
    w.go(&p, s(15)).await;
    assert_eq!(w.poster.calls_for(30).len(), 3);
    w.go(&p, s(44)).await;
    assert_eq!(w.poster.calls_for(30).len(), 3);
    w.go(&p, s(45)).await;
    let calls = w.poster.calls_for(30);
    assert_eq!(calls.len(), 4);
    assert_eq!(w.poster.posted_for(30).len(), 1);
    // Every try is the same post: same nonce and tip; later ones flagged.
    assert!(calls.iter().all(|c| c.post.nonce == calls[0].post.nonce));
    assert!(calls
        .iter()
        .all(|c| c.post.tip_index == calls[0].post.tip_index));
    assert!(!calls[0].post.resend && calls[1..].iter().all(|c| c.post.resend));
    let a = p
        .store
        .attempt(GuildId(30), date(2026, 6, 1))
        .unwrap()
        .unwrap();
    assert_eq!((a.status, a.tries), (AttemptStatus::Posted, 4));
    w.walk(&p, utc(2026, 6, 1, 20, 0), chrono::Duration::hours(1))
        .await;
    assert_eq!(w.poster.calls_for(30).len(), 4);
    p.stop().await;
}

#[tokio::test]
async fn retries_give_up_at_local_midnight_and_record_the_failure() {
    let w = World::new(utc(2026, 6, 1, 20, 0));
    let p = w.start().await;
    w.set(&p.store, 32, 1, hm(23, 50), BERLIN);
    p.handle.notify();
    w.poster.script(
        32,
        [Script::Always(Err(PostError::Retryable {
            retry_after: None,
            reason: "HTTP 503".into(),
        }))],
    );
    // 23:50 Berlin = 21:50 UTC; walk past local midnight minute by minute.
    w.walk(&p, utc(2026, 6, 1, 22, 30), chrono::Duration::minutes(1))
        .await;
    let calls = w.poster.calls_for(32);
    // Tries at +0, 5 s, 15 s, 35 s, 75 s, 155 s, 315 s, 635 s (capped
    // delays are 5·2ⁿ s up to 10 min), then the next would be past midnight.
    assert!(calls.len() >= 5 && calls.len() <= 9, "{}", calls.len());
    assert!(calls.iter().all(|c| c.at < utc(2026, 6, 1, 22, 0)));
    let a = p
        .store
        .attempt(GuildId(32), date(2026, 6, 1))
        .unwrap()
        .unwrap();
    assert_eq!(a.status, AttemptStatus::Failed);
    assert!(a.error.unwrap().contains("gave up"));
    let s = p.store.get(GuildId(32)).unwrap().unwrap();
    assert!(s.paused.is_none(), "a retryable failure must not pause");

    // The next day is a new day.
    w.poster.script.lock().unwrap().clear();
    w.go(&p, utc(2026, 6, 2, 21, 50)).await;
    assert_eq!(w.poster.posted_for(32).len(), 1);
    assert_eq!(w.poster.posted_for(32)[0].post.date, date(2026, 6, 2));
    p.stop().await;
}

#[tokio::test]
async fn other_errors_fail_the_day_without_pausing() {
    let w = World::new(utc(2026, 6, 1, 5, 0));
    let p = w.start().await;
    w.set(&p.store, 33, 1, hm(9, 0), BERLIN);
    p.handle.notify();
    w.poster.script(
        33,
        [Script::Answer(Err(PostError::Other("HTTP 400".into())))],
    );
    w.walk(&p, utc(2026, 6, 1, 21, 0), chrono::Duration::hours(1))
        .await;
    assert_eq!(w.poster.calls_for(33).len(), 1);
    let s = p.store.get(GuildId(33)).unwrap().unwrap();
    assert!(s.paused.is_none());
    assert_eq!(s.latest_attempt.unwrap().status, AttemptStatus::Failed);
    w.go(&p, utc(2026, 6, 2, 7, 0)).await;
    assert_eq!(w.poster.posted_for(33).len(), 1);
    p.stop().await;
}

#[tokio::test]
async fn a_hung_post_times_out_and_does_not_block_others() {
    let w = World::new(utc(2026, 6, 1, 5, 0));
    let config = SchedulerConfig {
        post_timeout: Duration::from_millis(30),
        ..World::config()
    };
    let p = w.start_with(config).await;
    w.set(&p.store, 34, 1, hm(9, 0), BERLIN);
    w.set(&p.store, 35, 1, hm(9, 0), BERLIN);
    p.handle.notify();
    w.poster.script(34, [Script::Hang]);
    w.go(&p, utc(2026, 6, 1, 7, 0)).await;
    assert_eq!(w.poster.posted_for(35).len(), 1);
    assert!(w.poster.posted_for(34).is_empty());
    // Retried (same nonce) after the backoff.
    w.go(&p, utc(2026, 6, 1, 7, 0) + chrono::Duration::seconds(5))
        .await;
    let posted = w.poster.posted_for(34);
    assert_eq!(posted.len(), 1);
    assert!(posted[0].post.resend);
    p.stop().await;
}

/// Walks across a DST change in 10-minute steps and checks one post per
/// local date.
async fn one_post_per_local_day(
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    time: NaiveTime,
) -> Vec<Call> {
    let w = World::new(start);
    let p = w.start().await;
    w.set(&p.store, 40, 1, time, BERLIN);
    p.handle.notify();
    w.walk(&p, end, chrono::Duration::minutes(10)).await;
    p.stop().await;
    let posts = w.poster.posted();
    assert_eq!(posts.len(), w.poster.calls().len());
    let mut dates: Vec<NaiveDate> = posts.iter().map(|c| c.post.date).collect();
    dates.dedup();
    assert_eq!(
        dates.len(),
        posts.len(),
        "one post per local day: {posts:?}"
    );
    posts
}

#[tokio::test]
async fn dst_gap_day_posts_once_at_the_next_valid_minute() {
    // Berlin skips 02:00-03:00 on 2026-03-29.
    let posts =
        one_post_per_local_day(utc(2026, 3, 27, 12, 0), utc(2026, 3, 30, 12, 0), hm(2, 30)).await;
    let at: Vec<_> = posts.iter().map(|c| (c.post.date, c.at)).collect();
    assert_eq!(
        at,
        [
            (date(2026, 3, 28), utc(2026, 3, 28, 1, 30)), // 02:30 CET
            (date(2026, 3, 29), utc(2026, 3, 29, 1, 0)),  // 03:00 CEST
            (date(2026, 3, 30), utc(2026, 3, 30, 0, 30)), // 02:30 CEST
        ]
    );
}

#[tokio::test]
async fn dst_overlap_day_posts_once_at_the_first_occurrence() {
    // Berlin repeats 02:00-03:00 on 2026-10-25.
    let posts = one_post_per_local_day(
        utc(2026, 10, 23, 12, 0),
        utc(2026, 10, 26, 12, 0),
        hm(2, 30),
    )
    .await;
    let at: Vec<_> = posts.iter().map(|c| (c.post.date, c.at)).collect();
    assert_eq!(
        at,
        [
            (date(2026, 10, 24), utc(2026, 10, 24, 0, 30)), // 02:30 CEST
            (date(2026, 10, 25), utc(2026, 10, 25, 0, 30)), // first 02:30 (CEST)
            (date(2026, 10, 26), utc(2026, 10, 26, 1, 30)), // 02:30 CET
        ]
    );
}

#[tokio::test]
async fn many_servers_due_in_the_same_minute_get_one_post_each_a_few_at_a_time() {
    const SERVERS: u64 = 500;
    let w = World::new(utc(2026, 6, 1, 5, 0));
    {
        let store = w.store();
        for g in 0..SERVERS {
            // Same instant, in different zones.
            let (time, tz) = if g % 2 == 0 {
                (hm(9, 0), BERLIN)
            } else {
                (hm(8, 0), Tz::Europe__London)
            };
            w.set(&store, 1000 + g, g, time, tz);
        }
    }
    let p = w.start().await;
    w.go(&p, utc(2026, 6, 1, 7, 0)).await;
    let posts = w.poster.posted();
    assert_eq!(posts.len(), SERVERS as usize);
    let mut guilds: Vec<u64> = posts.iter().map(|c| c.post.guild.0).collect();
    guilds.sort_unstable();
    guilds.dedup();
    assert_eq!(guilds.len(), SERVERS as usize);
    // Concurrent, within the budget.
    let most = w.poster.max_in_flight.load(Ordering::SeqCst);
    let budget = SchedulerConfig::default().max_in_flight;
    assert!((2..=budget).contains(&most), "{most} in flight at most");
    // And nothing more that day.
    w.go(&p, utc(2026, 6, 1, 12, 0)).await;
    assert_eq!(w.poster.calls().len(), SERVERS as usize);
    p.stop().await;
}

#[tokio::test]
async fn post_now_counts_as_todays_post() {
    let w = World::new(utc(2026, 6, 1, 5, 0));
    let p = w.start().await;
    w.set(&p.store, 50, 5, hm(9, 0), BERLIN);
    p.handle.notify();

    let out = p.handle.post_now(GuildId(50)).await.unwrap();
    let PostNowOutcome::Posted { date: d, tip_index } = out else {
        panic!("expected Posted, got {out:?}");
    };
    assert_eq!(d, date(2026, 6, 1));
    let posts = w.poster.posted();
    assert_eq!(posts.len(), 1);
    assert!(posts[0].post.manual);
    assert_eq!(posts[0].post.tip_index, tip_index);
    assert_eq!(posts[0].post.nonce, nonce_for(GuildId(50), d));

    // A second `/tips now` the same day sends nothing.
    let again = p.handle.post_now(GuildId(50)).await.unwrap();
    assert!(
        matches!(again, PostNowOutcome::AlreadyPosted { .. }),
        "{again:?}"
    );
    // The 09:00 slot does not post again today.
    w.walk(&p, utc(2026, 6, 1, 21, 0), chrono::Duration::hours(1))
        .await;
    assert_eq!(w.poster.calls().len(), 1);
    // Tomorrow it posts as scheduled, with the next tip.
    w.go(&p, utc(2026, 6, 2, 7, 0)).await;
    let posts = w.poster.posted();
    assert_eq!(posts.len(), 2);
    assert_eq!(posts[1].post.tip_index, first_tips(50, 2)[1]);

    assert!(matches!(
        p.handle.post_now(GuildId(999)).await,
        Err(PostNowError::NotConfigured)
    ));
    p.stop().await;
}

#[tokio::test]
async fn post_now_on_a_gone_channel_pauses_and_a_later_success_unpauses() {
    let w = World::new(utc(2026, 6, 1, 5, 0));
    let p = w.start().await;
    w.set(&p.store, 51, 5, hm(9, 0), BERLIN);
    p.handle.notify();
    w.poster.script(
        51,
        [Script::Answer(Err(PostError::Gone {
            status: 404,
            reason: "Unknown Channel".into(),
        }))],
    );
    let err = p.handle.post_now(GuildId(51)).await.unwrap_err();
    assert!(
        matches!(err, PostNowError::Gone { status: 404, .. }),
        "{err:?}"
    );
    assert!(p.store.get(GuildId(51)).unwrap().unwrap().paused.is_some());
    // Paused: the 09:00 slot does nothing.
    w.go(&p, utc(2026, 6, 1, 7, 30)).await;
    assert_eq!(w.poster.calls().len(), 1);
    // The admin fixes permissions and tries again: it posts and unpauses.
    let out = p.handle.post_now(GuildId(51)).await.unwrap();
    assert!(matches!(out, PostNowOutcome::Posted { .. }));
    assert!(p.store.get(GuildId(51)).unwrap().unwrap().paused.is_none());
    w.go(&p, utc(2026, 6, 2, 7, 0)).await;
    assert_eq!(w.poster.posted_for(51).len(), 2);
    p.stop().await;
}

#[tokio::test]
async fn a_crash_between_begin_and_confirm_resends_with_the_same_nonce() {
    let w = World::new(utc(2026, 6, 1, 7, 0));
    let store = w.store();
    w.set(&store, 60, 6, hm(9, 0), BERLIN);
    // A previous process recorded the attempt, sent (maybe), and died.
    let before = match store
        .claim(&AttemptRequest {
            guild: GuildId(60),
            date: date(2026, 6, 1),
            channel: ChannelId(6),
            n_tips: N_TIPS,
            now: w.clock.now(),
            manual: false,
            replica: ReplicaId::LOCAL,
            lease: chrono::Duration::seconds(60),
        })
        .unwrap()
    {
        Claim::Send(a) => a,
        other => panic!("{other:?}"),
    };
    drop(store);
    w.clock.set(utc(2026, 6, 1, 7, 2));
    let p = w.start().await;
    let posts = w.poster.posted();
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].post.nonce, before.nonce);
    assert_eq!(posts[0].post.tip_index, before.tip_index);
    assert!(posts[0].post.resend);
    let a = p
        .store
        .attempt(GuildId(60), date(2026, 6, 1))
        .unwrap()
        .unwrap();
    assert_eq!((a.status, a.tries), (AttemptStatus::Posted, 2));
    // The rotation was not advanced twice for the day.
    assert_eq!(p.store.rotation(GuildId(60)).unwrap().unwrap().position, 1);
    w.walk(&p, utc(2026, 6, 1, 21, 0), chrono::Duration::hours(1))
        .await;
    assert_eq!(w.poster.calls().len(), 1);
    p.stop().await;
}

#[tokio::test]
async fn settings_changes_are_picked_up_on_notify() {
    let w = World::new(utc(2026, 6, 1, 5, 0));
    let p = w.start().await;
    w.set(&p.store, 70, 7, hm(9, 0), BERLIN);
    p.handle.notify();
    p.handle.settled().await;
    // Moved earlier: posts at the new time, once.
    w.set(&p.store, 70, 7, hm(8, 15), BERLIN);
    p.handle.notify();
    w.go(&p, utc(2026, 6, 1, 6, 15)).await;
    assert_eq!(w.poster.posted().len(), 1);
    w.go(&p, utc(2026, 6, 1, 7, 0)).await;
    assert_eq!(w.poster.posted().len(), 1);
    // Turned off: nothing the next day.
    p.store
        .set_enabled(GuildId(70), false, w.clock.now())
        .unwrap();
    p.handle.notify();
    w.walk(&p, utc(2026, 6, 3, 0, 0), chrono::Duration::hours(1))
        .await;
    assert_eq!(w.poster.calls().len(), 1);
    // Set at 15:00 for 09:00: first post is tomorrow, not at once.
    w.go(&p, utc(2026, 6, 3, 13, 0)).await;
    w.set(&p.store, 70, 7, hm(9, 0), BERLIN);
    p.handle.notify();
    p.handle.settled().await;
    assert_eq!(w.poster.calls().len(), 1);
    w.go(&p, utc(2026, 6, 4, 7, 0)).await;
    assert_eq!(w.poster.posted().len(), 2);
    p.stop().await;
}

#[tokio::test]
async fn shutdown_stops_the_loop_and_post_now_then_reports_it() {
    let w = World::new(utc(2026, 6, 1, 5, 0));
    let p = w.start().await;
    let handle = p.handle.clone();
    p.stop().await;
    assert!(matches!(
        handle.post_now(GuildId(1)).await,
        Err(PostNowError::Stopped)
    ));
    handle.notify();
    handle.settled().await;
}

#[tokio::test]
async fn a_panicking_poster_does_not_kill_the_scheduler() {
    let w = World::new(utc(2026, 6, 1, 5, 0));
    let p = w.start().await;
    w.set(&p.store, 80, 1, hm(9, 0), BERLIN);
    w.set(&p.store, 81, 1, hm(9, 0), BERLIN);
    p.handle.notify();
    w.poster.script(80, [Script::Panic]);
    w.go(&p, utc(2026, 6, 1, 7, 0)).await;
    assert_eq!(w.poster.posted_for(81).len(), 1);
    let a = p
        .store
        .attempt(GuildId(80), date(2026, 6, 1))
        .unwrap()
        .unwrap();
    assert_eq!(a.status, AttemptStatus::Failed);
    assert!(!p.handle.is_stopped());
    w.go(&p, utc(2026, 6, 2, 7, 0)).await;
    assert_eq!(w.poster.posted_for(80).len(), 1);
    assert_eq!(w.poster.posted_for(81).len(), 2);
    p.stop().await;
}

#[tokio::test]
async fn a_false_on_the_shutdown_channel_keeps_it_running() {
    let w = World::new(utc(2026, 6, 1, 5, 0));
    let p = w.start().await;
    w.set(&p.store, 82, 1, hm(9, 0), BERLIN);
    p.handle.notify();
    p.stop.send_replace(false);
    p.handle.settled().await;
    assert!(!p.handle.is_stopped());
    w.go(&p, utc(2026, 6, 1, 7, 0)).await;
    assert_eq!(w.poster.posted().len(), 1);
    p.stop().await;
}

/// The scheduler works against `dyn TipStore`, so another backend can be
/// swapped in without touching it.
#[tokio::test]
async fn runs_on_a_dyn_store() {
    let w = World::new(utc(2026, 6, 1, 5, 0));
    let store: Arc<dyn TipStore> = w.store();
    w.set(&w.store(), 90, 1, hm(9, 0), BERLIN);
    let (handle, stop, task) = w.spawn_on(store, World::config());
    w.clock.set(utc(2026, 6, 1, 7, 0));
    handle.settled().await;
    assert_eq!(w.poster.posted().len(), 1);
    // Dropping the shutdown sender also stops it.
    drop(stop);
    task.await.unwrap();
}

/// One server whose answer takes 2 s (real time) holds up no other: they
/// are all posted while it is still waiting.
#[tokio::test]
async fn a_slow_answer_delays_no_other_server() {
    let w = World::new(utc(2026, 6, 1, 5, 0));
    {
        let store = w.store();
        for g in 0..40 {
            w.set(&store, 500 + g, g, hm(9, 0), BERLIN);
        }
    }
    w.poster.script(500, [Script::Slow(Duration::from_secs(2))]);
    let p = w.start().await;
    let started = std::time::Instant::now();
    w.clock.set(utc(2026, 6, 1, 7, 0));
    // The 39 others land long before the slow one.
    let deadline = started + Duration::from_millis(1500);
    while w.poster.posted().len() < 39 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let posted = w.poster.posted();
    assert_eq!(posted.len(), 39, "others posted while the slow one waits");
    assert!(posted.iter().all(|c| c.post.guild != GuildId(500)));
    p.handle.settled().await;
    assert!(started.elapsed() >= Duration::from_secs(2));
    let all = w.poster.posted();
    assert_eq!(all.len(), 40);
    assert_eq!(all.last().map(|c| c.post.guild), Some(GuildId(500)));
    p.stop().await;
}

/// A page of random bytes in the database: the servers on it are skipped,
/// every other server still gets its tip, the store reports the damage, and
/// the settings are read again later.
#[tokio::test]
async fn a_damaged_database_still_posts_for_every_readable_server() {
    const SERVERS: u64 = 300;
    let w = World::new(utc(2026, 6, 1, 5, 0));
    let guilds = (0..SERVERS).map(|g| 10_000 + g * 7919);
    damage::fill(&w.path, guilds, hm(9, 0), BERLIN, w.clock.now());
    let lost = damage::smash_a_leaf_page(&w.path, 4);
    assert!(
        lost > 0 && lost < SERVERS as usize / 2,
        "{lost} rows on the page"
    );
    let p = w.start().await;
    assert!(p.store.problem().is_some(), "damage reported");
    w.go(&p, utc(2026, 6, 1, 7, 0)).await;
    let mut guilds: Vec<u64> = w.poster.posted().iter().map(|c| c.post.guild.0).collect();
    guilds.sort_unstable();
    guilds.dedup();
    assert_eq!(
        guilds.len(),
        SERVERS as usize - lost,
        "every readable server posted once"
    );
    // The read is tried again (it still finds the same damage): no server
    // is posted twice.
    w.go(&p, utc(2026, 6, 1, 7, 5)).await;
    assert_eq!(w.poster.posted().len(), SERVERS as usize - lost);
    p.stop().await;
}

/// A store that counts full reads and passes everything else through;
/// `shared` makes the scheduler treat it as a database other replicas use.
struct CountingStore {
    inner: Arc<SqliteStore>,
    reads: AtomicUsize,
    shared: bool,
}

#[async_trait::async_trait]
impl TipStore for CountingStore {
    async fn put_settings(
        &self,
        guild: GuildId,
        schedule: &Schedule,
        now: DateTime<Utc>,
    ) -> Result<TipSettings, StoreError> {
        self.inner.put_settings(guild, schedule, now)
    }
    async fn set_enabled(
        &self,
        guild: GuildId,
        enabled: bool,
        now: DateTime<Utc>,
    ) -> Result<Option<TipSettings>, StoreError> {
        self.inner.set_enabled(guild, enabled, now)
    }
    async fn pause(
        &self,
        guild: GuildId,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.inner.pause(guild, reason, now)
    }
    async fn unpause(&self, guild: GuildId, now: DateTime<Utc>) -> Result<bool, StoreError> {
        self.inner.unpause(guild, now)
    }
    async fn changed_since(&self, since: DateTime<Utc>) -> Result<Vec<TipSettings>, StoreError> {
        TipStore::changed_since(self.inner.as_ref(), since).await
    }
    async fn get(&self, guild: GuildId) -> Result<Option<TipSettings>, StoreError> {
        self.inner.get(guild)
    }
    async fn all_active(&self) -> Result<ActiveSettings, StoreError> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        self.inner.all_active()
    }
    async fn ping(&self) -> Result<(), StoreError> {
        TipStore::ping(self.inner.as_ref()).await
    }
    fn is_shared(&self) -> bool {
        self.shared
    }
    async fn claim(&self, req: &AttemptRequest) -> Result<Claim, StoreError> {
        self.inner.claim(req)
    }
    async fn mark_posted(
        &self,
        guild: GuildId,
        date: NaiveDate,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.inner.mark_posted(guild, date, at)
    }
    async fn mark_failed(
        &self,
        guild: GuildId,
        date: NaiveDate,
        reason: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.inner.mark_failed(guild, date, reason, at)
    }
    async fn attempt(
        &self,
        guild: GuildId,
        date: NaiveDate,
    ) -> Result<Option<Attempt>, StoreError> {
        self.inner.attempt(guild, date)
    }
    async fn next_tip(&self, guild: GuildId, n_tips: usize) -> Result<usize, StoreError> {
        self.inner.next_tip(guild, n_tips)
    }
    async fn rotation(&self, guild: GuildId) -> Result<Option<RotationState>, StoreError> {
        self.inner.rotation(guild)
    }
    async fn prune_attempts(&self, before: NaiveDate) -> Result<usize, StoreError> {
        self.inner.prune_attempts(before)
    }
}

/// While the damage lasts, the settings are read again after 30 s, then
/// 60 s, 120 s, …: over an hour about seven reads, not 120.
#[tokio::test]
async fn damaged_settings_are_read_again_less_and_less_often() {
    let w = World::new(utc(2026, 6, 1, 5, 0));
    let guilds = (0..300).map(|g| 20_000 + g * 7919);
    damage::fill(&w.path, guilds, hm(9, 0), BERLIN, w.clock.now());
    damage::smash_a_leaf_page(&w.path, 9);
    let store = Arc::new(CountingStore {
        inner: w.store(),
        reads: AtomicUsize::new(0),
        shared: false,
    });
    let (handle, stop, task) = w.spawn_on(Arc::clone(&store), World::config());
    handle.settled().await;
    let start = w.clock.now();
    let mut t = start;
    while t < start + chrono::Duration::hours(1) {
        t += chrono::Duration::seconds(10);
        w.clock.set(t);
        handle.settled().await;
    }
    let reads = store.reads.load(Ordering::SeqCst);
    // 0 s, then +30, +60, +120, +240, +480, +960 (= 1890 s), +1920 (3810 s).
    assert!((6..=8).contains(&reads), "{reads} reads in an hour");
    stop.send_replace(true);
    task.await.unwrap();
}

/// On a shared store, a `/tips set` made through another replica reaches
/// this one's schedule within a minute, by reading only what changed: one
/// full read at start and one an hour later, not one a minute. A server
/// turned off elsewhere gets no tip.
#[tokio::test]
async fn a_replica_catches_up_with_changes_made_elsewhere_without_rereading_all() {
    let w = World::new(utc(2026, 6, 1, 6, 0));
    for g in 0..200 {
        w.set(&w.store(), 1_000 + g, 1, hm(23, 0), BERLIN);
    }
    w.set(&w.store(), 60, 6, hm(8, 30), BERLIN);
    let store = Arc::new(CountingStore {
        inner: w.store(),
        reads: AtomicUsize::new(0),
        shared: true,
    });
    let (handle, stop, task) = w.spawn_on(Arc::clone(&store), World::config());
    handle.settled().await;
    assert_eq!(store.reads.load(Ordering::SeqCst), 1);

    // Another replica: a new server at 08:10 Berlin, and server 60 off.
    w.clock
        .set(utc(2026, 6, 1, 6, 0) + chrono::Duration::seconds(5));
    let elsewhere = w.store();
    w.set(&elsewhere, 70, 7, hm(8, 10), BERLIN);
    elsewhere
        .set_enabled(GuildId(60), false, w.clock.now())
        .unwrap();
    let mut t = w.clock.now();
    while t < utc(2026, 6, 1, 7, 30) {
        t += chrono::Duration::seconds(10);
        w.clock.set(t);
        handle.settled().await;
    }
    let posted = w.poster.posted_for(70);
    assert_eq!(posted.len(), 1, "{:?}", w.poster.calls());
    // 08:10 Berlin is 06:10 UTC: on time, not at the next full read (07:00).
    assert!(
        posted[0].at <= utc(2026, 6, 1, 6, 11),
        "posted at {}",
        posted[0].at
    );
    assert!(w.poster.posted_for(60).is_empty(), "turned off elsewhere");
    let reads = store.reads.load(Ordering::SeqCst);
    assert_eq!(reads, 2, "a full read at start and one an hour later");
    stop.send_replace(true);
    task.await.unwrap();
}

// ----- the /tips service ----------------------------------------------------------

/// `TipsAdmin` is all `/tips` needs: it saves a schedule and wakes the
/// scheduler (which then posts at the new time), turns tips off, and says
/// what is set and when the next tip goes out.
#[tokio::test]
async fn tips_admin_sets_shows_and_turns_off() {
    use massage_bot::tips::{TipsAdmin, TipsStatus};
    let w = World::new(utc(2026, 6, 1, 6, 0));
    let p = w.start().await;
    let store: Arc<dyn TipStore> = p.store.clone();
    let admin = TipsAdmin::new(store, p.handle.clone(), Arc::clone(&w.clock));
    let g = GuildId(5_000_001);

    assert!(admin.show(g).await.unwrap().is_none(), "nothing set up yet");
    assert!(
        !admin.off(g).await.unwrap(),
        "off for a server that never set up"
    );

    let schedule = Schedule {
        channel: ChannelId(5_000_002),
        time: NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
        tz: chrono_tz::UTC,
    };
    let TipsStatus { settings, next } = admin.set(g, &schedule).await.unwrap();
    assert!(settings.is_active());
    assert_eq!(settings.schedule, schedule);
    assert_eq!(next.map(|n| n.at), Some(utc(2026, 6, 1, 9, 0)));

    w.go(&p, utc(2026, 6, 1, 9, 1)).await;
    assert_eq!(w.poster.posted_for(g.0).len(), 1, "posted at the new time");

    assert!(admin.off(g).await.unwrap());
    let shown = admin.show(g).await.unwrap().expect("still known");
    assert!(!shown.settings.enabled);
    assert!(shown.next.is_none(), "no next post while off");
    w.go(&p, utc(2026, 6, 2, 9, 1)).await;
    assert_eq!(w.poster.posted_for(g.0).len(), 1, "nothing after off");
}

/// A `/tips set` reads the one server it changed, not every server: with
/// 2,000 servers and 50 changes the settings are read in full only once (at
/// start), and each changed server posts at its new time.
#[tokio::test]
async fn a_setting_change_reads_one_server_not_all() {
    use massage_bot::tips::TipsAdmin;
    let w = World::new(utc(2026, 6, 1, 5, 0));
    let guilds: Vec<u64> = (0..2_000).map(|g| 30_000 + g).collect();
    damage::fill(
        &w.path,
        guilds.iter().copied(),
        hm(9, 0),
        BERLIN,
        w.clock.now(),
    );
    let store = Arc::new(CountingStore {
        inner: w.store(),
        reads: AtomicUsize::new(0),
        shared: false,
    });
    let (handle, stop, task) = w.spawn_on(Arc::clone(&store), World::config());
    handle.settled().await;
    assert_eq!(store.reads.load(Ordering::SeqCst), 1, "the start-up read");

    let dyn_store: Arc<dyn TipStore> = store.clone();
    let admin = TipsAdmin::new(dyn_store, handle.clone(), Arc::clone(&w.clock));
    let changed: Vec<u64> = guilds.iter().copied().step_by(40).collect();
    for &g in &changed {
        let schedule = Schedule {
            channel: ChannelId(g + 1_000_000),
            time: hm(6, 30),
            tz: chrono_tz::UTC,
        };
        admin.set(GuildId(g), &schedule).await.unwrap();
    }
    handle.settled().await;
    assert_eq!(changed.len(), 50);
    assert_eq!(
        store.reads.load(Ordering::SeqCst),
        1,
        "no full read after a change"
    );

    // 06:31 UTC: only the changed servers are due (the rest at 09:00 Berlin).
    w.clock.set(utc(2026, 6, 1, 6, 31));
    handle.settled().await;
    let mut posted: Vec<u64> = w.poster.posted().iter().map(|c| c.post.guild.0).collect();
    posted.sort_unstable();
    assert_eq!(
        posted, changed,
        "each changed server posted once at its new time"
    );
    let _ = stop.send(true);
    let _ = task.await;
}
