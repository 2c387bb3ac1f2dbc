//! Daily tips from a fleet: `FLEET_N` servers (default 2,000) due in the
//! same minute, `FLEET_REPLICAS` `serve` processes (default 3, the product
//! binary in the bench profile) sharing one PostgreSQL (a throwaway
//! cluster, as in the tests), posting over HTTP to the fake Discord, which
//! answers each post after `LATENCY_MS` (default 100). The replicas share
//! the default budget of 45 posts a second.
//!
//! Prints the time to the last tip and the rate, the replicas' CPU and peak
//! RSS, and the database's load: transactions and rows touched per tip
//! (`pg_stat_database`) and the PostgreSQL processes' CPU.
//!
//! `cargo bench --bench fleet` (harness = false);
//! `FLEET_N=100000 cargo bench --bench fleet` for the full size (about
//! 40 minutes).

#[path = "../tests/support/postgres.rs"]
mod pg;
#[path = "support/proc.rs"]
mod proc;
#[path = "../tests/support/mod.rs"]
mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use massage_bot::storage::PgStore;
use massage_bot::tips::{ChannelId, GuildId, Schedule, TipStore};
use support::{BotProcess, FakeDiscord};

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Database-wide counters from `pg_stat_database`.
async fn db_stats(client: &tokio_postgres::Client) -> [i64; 5] {
    let row = client
        .query_one(
            "SELECT xact_commit, tup_returned, tup_fetched, tup_inserted + tup_updated + tup_deleted,
                    blks_read + blks_hit
             FROM pg_stat_database WHERE datname = current_database()",
            &[],
        )
        .await
        .expect("pg_stat_database");
    [0, 1, 2, 3, 4].map(|i| row.get::<_, i64>(i))
}

#[tokio::main]
async fn main() {
    let n = env("FLEET_N", 2_000);
    let replicas = env("FLEET_REPLICAS", 3) as usize;
    let latency = Duration::from_millis(env("LATENCY_MS", 100));

    let db = pg::fresh_database();
    let store = Arc::new(PgStore::connect(&db).await.expect("connect"));
    let (now, due) = support::a_minute_ago().await;
    let fill = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for part in 0..8u64 {
        let store = Arc::clone(&store);
        tasks.spawn(async move {
            for g in (1..=n).filter(|g| g % 8 == part) {
                let schedule = Schedule {
                    channel: ChannelId(g + 1_000_000),
                    time: due,
                    tz: chrono_tz::UTC,
                };
                store
                    .put_settings(GuildId(g), &schedule, now - chrono::Duration::hours(1))
                    .await
                    .expect("fill");
            }
        });
    }
    tasks.join_all().await;
    eprintln!(
        "{n} servers stored in {:.1} s",
        fill.elapsed().as_secs_f64()
    );

    let (client, conn) = tokio_postgres::connect(&db, tokio_postgres::NoTls)
        .await
        .expect("stats connection");
    tokio::spawn(conn);

    let fake = FakeDiscord::start().await;
    fake.set_response_delay("POST", "/channels/", latency);
    let stats_before = db_stats(&client).await;
    let pg_cpu_before = proc::cpu_seconds_named("postgres");
    let started = Instant::now();
    let public_key = support::public_key_hex(5);
    let fleet: Vec<BotProcess> = (0..replicas)
        .map(|_| {
            let addr = std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("free port")
                .to_string();
            BotProcess::spawn_with(
                Some(&fake),
                &[
                    ("DATABASE_URL", &db),
                    ("DISCORD_PUBLIC_KEY", &public_key),
                    ("INTERACTIONS_ADDR", &addr),
                    ("RUST_LOG", "info"),
                ],
                &[],
                &["serve"],
            )
        })
        .collect();
    let mut last_count = 0;
    let mut stalled_since = Instant::now();
    loop {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let count = fake.message_count();
        if count as u64 >= n {
            break;
        }
        if count != last_count {
            last_count = count;
            stalled_since = Instant::now();
        } else if stalled_since.elapsed() > Duration::from_secs(120) {
            eprintln!("no tip for 2 minutes; giving up at {count} of {n}");
            for (i, r) in fleet.iter().enumerate() {
                eprintln!("---- replica {i} ----\n{}", r.logs());
            }
            std::process::exit(1);
        }
    }
    let took = started.elapsed();
    let stats_after = db_stats(&client).await;
    let pg_cpu = proc::cpu_seconds_named("postgres") - pg_cpu_before;
    let cpu: f64 = fleet
        .iter()
        .map(|r| proc::cpu_seconds_of(&r.pid().to_string()))
        .sum();
    let rss: Vec<u64> = fleet
        .iter()
        .map(|r| r.proc_status_kb("VmHWM").unwrap_or(0) / 1024)
        .collect();
    let sends = fake.count("POST", "/channels/");
    let per_tip = |i: usize| (stats_after[i] - stats_before[i]) as f64 / n as f64;
    println!(
        "{n} tips, {replicas} replicas, {} ms per post: last tip after {:.1} s ({:.1} min), {:.1} tips/s, {sends} sends; 100,000 would take {:.0} min",
        latency.as_millis(),
        took.as_secs_f64(),
        took.as_secs_f64() / 60.0,
        n as f64 / took.as_secs_f64(),
        100_000.0 / (n as f64 / took.as_secs_f64()) / 60.0,
    );
    println!(
        "replicas: CPU {cpu:.1} s in all ({:.2} ms per tip, starting up included), peak RSS {rss:?} MiB",
        cpu * 1e3 / n as f64
    );
    println!(
        "PostgreSQL: {:.1} transactions, {:.1} rows read ({:.1} fetched by index), {:.1} rows written and {:.0} buffer reads per tip; server CPU {pg_cpu:.1} s ({:.2} ms per tip)",
        per_tip(0),
        per_tip(1),
        per_tip(2),
        per_tip(3),
        per_tip(4),
        pg_cpu * 1e3 / n as f64
    );
}
