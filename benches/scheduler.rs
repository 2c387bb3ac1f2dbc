//! What one `/tips set` costs the tip scheduler when many servers use tips:
//! `N` servers (default 100,000) in SQLite, the scheduler settled, then
//! `CHANGES` (default 200) settings changed one at a time through
//! `TipsAdmin` (which tells the scheduler which server changed), and as many
//! through a full re-read (`SchedulerHandle::notify`, what every change
//! cost before). Each change is timed from the store write to the
//! scheduler having planned again; the process's CPU time is read from
//! `/proc/self/stat`. Prints p50/p99 and CPU per change for both.
//!
//! `cargo bench --bench scheduler` (harness = false). `SCHED_N` and
//! `SCHED_CHANGES` change the sizes.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{NaiveTime, TimeZone, Utc};
use massage_bot::storage::SqliteStore;
use massage_bot::tips::{
    ChannelId, Clock, GuildId, ManualClock, PostError, Schedule, Scheduler, TipPost, TipPoster,
    TipStore, TipsAdmin,
};
use tokio::sync::watch;

#[path = "support/proc.rs"]
mod proc;

struct Quiet;

impl TipPoster for Quiet {
    async fn post(&self, _post: TipPost) -> Result<(), PostError> {
        Ok(())
    }
}

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn cpu() -> Duration {
    Duration::from_secs_f64(proc::cpu_seconds())
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn report(what: &str, mut times: Vec<Duration>, cpu: Duration) {
    times.sort_unstable();
    println!(
        "{what:<34} p50 {:>9.3} ms  p99 {:>9.3} ms  CPU {:>8.3} ms per change",
        percentile(&times, 0.5).as_secs_f64() * 1e3,
        percentile(&times, 0.99).as_secs_f64() * 1e3,
        cpu.as_secs_f64() * 1e3 / times.len() as f64,
    );
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let n = env("SCHED_N", 100_000);
    let changes = env("SCHED_CHANGES", 200).max(1);
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("tips.db");
    let start = Utc.with_ymd_and_hms(2026, 6, 1, 5, 0, 0).unwrap();
    let zones = [
        chrono_tz::Europe::Berlin,
        chrono_tz::America::New_York,
        chrono_tz::Asia::Tokyo,
        chrono_tz::UTC,
    ];
    let filling = Instant::now();
    {
        let store = SqliteStore::open(&path).expect("open");
        for g in 0..n as u64 {
            let schedule = Schedule {
                channel: ChannelId(g + 1),
                time: NaiveTime::from_hms_opt(9, (g % 60) as u32, 0).unwrap(),
                tz: zones[(g % 4) as usize],
            };
            store
                .put_settings(GuildId(g + 1), &schedule, start)
                .expect("fill");
        }
    }
    println!(
        "{n} servers set up in {:.1} s",
        filling.elapsed().as_secs_f64()
    );

    let store: Arc<dyn TipStore> = Arc::new(SqliteStore::open(&path).expect("open"));
    let clock = Arc::new(ManualClock::new(start));
    let scheduler = Scheduler::new(Arc::clone(&store), Arc::new(Quiet), Arc::clone(&clock), 30);
    let handle = scheduler.handle();
    let (stop, stopped) = watch::channel(false);
    let task = tokio::spawn(scheduler.run(stopped));
    let first = Instant::now();
    handle.settled().await;
    println!(
        "first plan of {n} servers: {:.1} ms",
        first.elapsed().as_secs_f64() * 1e3
    );

    let admin = TipsAdmin::new(Arc::clone(&store), handle.clone(), Arc::clone(&clock));
    // Later today, so nothing falls due while measuring.
    let schedule = |g: u64| Schedule {
        channel: ChannelId(g + 7),
        time: NaiveTime::from_hms_opt(23, 0, 0).unwrap(),
        tz: chrono_tz::UTC,
    };
    let step = (n / changes).max(1) as u64;

    let mut times = Vec::with_capacity(changes);
    let cpu_before = cpu();
    for i in 0..changes as u64 {
        let g = GuildId(1 + i * step);
        let t = Instant::now();
        admin.set(g, &schedule(g.0)).await.expect("set");
        handle.settled().await;
        times.push(t.elapsed());
    }
    report("one server re-read (TipsAdmin)", times, cpu() - cpu_before);

    let mut times = Vec::with_capacity(changes);
    let cpu_before = cpu();
    for i in 0..changes as u64 {
        let g = GuildId(2 + i * step);
        let t = Instant::now();
        store
            .put_settings(g, &schedule(g.0), clock.now())
            .await
            .expect("set");
        handle.notify();
        handle.settled().await;
        times.push(t.elapsed());
    }
    report("everything re-read (notify)", times, cpu() - cpu_before);

    let _ = stop.send(true);
    let _ = task.await;
}
