//! How fast the tip scheduler fans out when many servers are due at the
//! same minute: `N` servers (default 2,000) due at 09:00 UTC, a poster that
//! takes `LATENCY_MS` (default 100) per post as Discord would, the default
//! rate budget (45 posts a second). Prints the time to the last tip, the
//! rate, the most posts in flight and the busiest second. The rate is
//! independent of `N`: 100,000 servers take `N / rate`.
//!
//! `cargo bench --bench fanout` (harness = false). `FANOUT_N`,
//! `LATENCY_MS` and `RATE` change the sizes; `IN_FLIGHT` and `PACING_MS`
//! override what the rate sets (`IN_FLIGHT=8 PACING_MS=40` is the old
//! configuration).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{NaiveTime, TimeZone, Utc};
use massage_bot::storage::SqliteStore;
use massage_bot::tips::{
    ChannelId, GuildId, ManualClock, PostError, Schedule, Scheduler, SchedulerConfig, TipPost,
    TipPoster, TipStore, DEFAULT_RATE_LIMIT,
};
use tokio::sync::watch;

#[path = "support/proc.rs"]
mod proc;

struct SlowDiscord {
    latency: Duration,
    in_flight: AtomicUsize,
    most: AtomicUsize,
    done: Mutex<Vec<Instant>>,
}

impl TipPoster for SlowDiscord {
    async fn post(&self, _post: TipPost) -> Result<(), PostError> {
        let n = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.most.fetch_max(n, Ordering::SeqCst);
        tokio::time::sleep(self.latency).await;
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        self.done
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(Instant::now());
        Ok(())
    }
}

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() {
    let n = env("FANOUT_N", 2_000);
    let latency = Duration::from_millis(env("LATENCY_MS", 100));
    let rate = env("RATE", u64::from(DEFAULT_RATE_LIMIT)) as u32;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("tips.db");
    let before = Utc.with_ymd_and_hms(2026, 6, 1, 8, 0, 0).unwrap();
    {
        let store = SqliteStore::open(&path).expect("open");
        for g in 0..n {
            let schedule = Schedule {
                channel: ChannelId(g + 1),
                time: NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
                tz: chrono_tz::UTC,
            };
            store
                .put_settings(GuildId(g + 1), &schedule, before)
                .expect("fill");
        }
    }
    let store: Arc<dyn TipStore> = Arc::new(SqliteStore::open(&path).expect("open"));
    let clock = Arc::new(ManualClock::new(before));
    let discord = Arc::new(SlowDiscord {
        latency,
        in_flight: AtomicUsize::new(0),
        most: AtomicUsize::new(0),
        done: Mutex::new(Vec::new()),
    });
    let mut config = SchedulerConfig::for_rate(rate);
    let label = format!("{rate}/s budget");
    if let Some(most) = std::env::var("IN_FLIGHT").ok().and_then(|v| v.parse().ok()) {
        config.max_in_flight = most;
    }
    if let Some(ms) = std::env::var("PACING_MS").ok().and_then(|v| v.parse().ok()) {
        config.pacing = Duration::from_millis(ms);
    }
    let label = format!(
        "{label} (one start every {} ms, up to {} in flight)",
        config.pacing.as_millis(),
        config.max_in_flight
    );
    let scheduler =
        Scheduler::new(store, Arc::clone(&discord), Arc::clone(&clock), 30).with_config(config);
    let handle = scheduler.handle();
    let (stop, stopped) = watch::channel(false);
    let task = tokio::spawn(scheduler.run(stopped));
    handle.settled().await;

    let cpu_before = proc::cpu_seconds();
    let started = Instant::now();
    clock.set(Utc.with_ymd_and_hms(2026, 6, 1, 9, 0, 0).unwrap());
    while discord.done.lock().unwrap_or_else(|e| e.into_inner()).len() < n as usize {
        if started.elapsed() > Duration::from_secs(3600) {
            eprintln!("gave up after an hour");
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let took = started.elapsed();
    let done = discord
        .done
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    let mut busiest = 0;
    for (i, t) in done.iter().enumerate() {
        let in_second = done[i..]
            .iter()
            .take_while(|u| u.duration_since(*t) < Duration::from_secs(1))
            .count();
        busiest = busiest.max(in_second);
    }
    println!(
        "{n} tips at {label}, {} ms per post: last tip after {:.1} s, {:.1} tips/s, at most {} in flight, busiest second {busiest}; 100,000 would take {:.0} min",
        latency.as_millis(),
        took.as_secs_f64(),
        done.len() as f64 / took.as_secs_f64(),
        discord.most.load(Ordering::SeqCst),
        100_000.0 / (done.len() as f64 / took.as_secs_f64()) / 60.0,
    );
    let (cpu_after, peak_rss) = (proc::cpu_seconds(), proc::peak_rss_mib());
    println!(
        "CPU while posting {:.1} s ({:.2} ms per tip), peak RSS {peak_rss:.0} MiB, database {:.1} MiB",
        cpu_after - cpu_before,
        (cpu_after - cpu_before) * 1e3 / done.len().max(1) as f64,
        std::fs::metadata(&path).map_or(0.0, |m| m.len() as f64 / (1 << 20) as f64),
    );
    let _ = stop.send(true);
    let _ = task.await;
}
