//! Three `serve` replicas on one PostgreSQL database post the daily tips of
//! 240 servers due in the same minute while replicas are killed with
//! SIGKILL at random and replaced: every server gets its tip exactly once.
//!
//! The fake Discord creates each message at once but answers 300 ms later,
//! so a replica killed in that window has posted without recording it; the
//! replica that takes its claim over after the lease resends with the same
//! nonce, and Discord (here, the fake) answers with the first message.

#[path = "support/postgres.rs"]
mod pg;
mod support;

use std::collections::HashMap;
use std::time::Duration;

use chrono::Utc;
use massage_bot::storage::PgStore;
use massage_bot::tips::{nonce_for, AttemptStatus, ChannelId, GuildId, Schedule, TipStore};
use support::{BotProcess, FakeDiscord};

const SERVERS: u64 = 240;
const REPLICAS: usize = 3;

fn channel_of(guild: u64) -> u64 {
    guild + 1_000_000
}

fn spawn_replica(fake: &FakeDiscord, db: &str, public_key: &str) -> BotProcess {
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .to_string();
    BotProcess::spawn_with(
        Some(fake),
        &[
            ("DATABASE_URL", db),
            ("DISCORD_PUBLIC_KEY", public_key),
            ("INTERACTIONS_ADDR", &addr),
            // 240 posts take about 12 s at 20 a second (shared by all).
            ("DISCORD_RATE_LIMIT", "20"),
            // A killed replica's tips are taken over 3 s after its claim.
            ("TIP_LEASE_SECS", "3"),
            ("RUST_LOG", "info"),
        ],
        &[],
        &["serve"],
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_killed_at_random_lose_and_duplicate_no_tip() {
    let db = pg::fresh_database();
    let store = PgStore::connect(&db).await.expect("connect");

    let (now, due) = support::a_minute_ago().await;
    let set_up = now - chrono::Duration::hours(1);
    for g in 1..=SERVERS {
        let schedule = Schedule {
            channel: ChannelId(channel_of(g)),
            time: due,
            tz: chrono_tz::UTC,
        };
        store
            .put_settings(GuildId(g), &schedule, set_up)
            .await
            .unwrap();
    }

    let fake = FakeDiscord::start().await;
    fake.set_answer_delay("POST", "/channels/", Duration::from_millis(300));
    let public_key = support::public_key_hex(9);
    let mut replicas: Vec<BotProcess> = (0..REPLICAS)
        .map(|_| spawn_replica(&fake, &db, &public_key))
        .collect();
    let mut retired: Vec<BotProcess> = Vec::new();

    // Kill a random replica every 2 s while tips go out, and start a
    // new one in its place, until three quarters of the servers have had
    // their tip.
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    let mut kills = 0;
    let mut kills_mid_post = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    loop {
        tokio::time::sleep(Duration::from_millis(2000)).await;
        let posted = fake.channel_messages().len() as u64;
        if posted >= SERVERS * 3 / 4 || tokio::time::Instant::now() > deadline {
            break;
        }
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let victim = (rng % REPLICAS as u64) as usize;
        if posted > 0 {
            kills_mid_post += 1;
        }
        replicas[victim].signal("KILL");
        kills += 1;
        let fresh = spawn_replica(&fake, &db, &public_key);
        retired.push(std::mem::replace(&mut replicas[victim], fresh));
    }

    // Every server's tip lands; then nothing more comes.
    let all_in = fake
        .wait_until(Duration::from_secs(90), |f| {
            (f.channel_messages().len() as u64 >= SERVERS).then_some(())
        })
        .await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    let messages = fake.channel_messages();
    // The nonce names the server and the day.
    let day = Utc::now().date_naive();
    let server_of: HashMap<String, u64> = (1..=SERVERS)
        .map(|g| (nonce_for(GuildId(g), day), g))
        .collect();
    let mut tips: HashMap<u64, usize> = HashMap::new();
    for m in &messages {
        let nonce = m["nonce"].as_str().unwrap_or_default();
        let g = server_of
            .get(nonce)
            .unwrap_or_else(|| panic!("a tip with an unknown nonce: {m}"));
        *tips.entry(*g).or_default() += 1;
    }
    let lost: Vec<u64> = (1..=SERVERS).filter(|g| !tips.contains_key(g)).collect();
    let duplicated = tips.values().filter(|&&n| n > 1).count();
    let sends = fake.count("POST", "/channels/");
    eprintln!(
        "{} tips for {SERVERS} servers in {sends} sends; {kills} replicas killed \
         ({kills_mid_post} while tips were going out); {} resends answered by nonce; \
         lost {}, duplicated {duplicated}",
        messages.len(),
        fake.nonce_repeats(),
        lost.len()
    );
    if all_in.is_none() || !lost.is_empty() || duplicated > 0 {
        for (i, r) in replicas.iter().chain(&retired).enumerate() {
            eprintln!("---- replica {i} ----\n{}", r.logs());
        }
    }
    assert!(
        kills_mid_post >= 3,
        "the kills did not land while tips went out"
    );
    assert_eq!(lost, Vec::<u64>::new(), "servers that never got their tip");
    assert_eq!(duplicated, 0, "servers that got their tip twice");
    assert_eq!(messages.len() as u64, SERVERS);
    // Claims, not only the nonce, keep replicas from sending the same tip:
    // only posts a killed replica left unconfirmed are sent again (each had
    // at most 20 in flight). Without claims every replica would send every
    // tip, and Discord de-duplicates by nonce for a few minutes only.
    assert!(
        sends <= SERVERS as usize + kills * 20,
        "{sends} sends for {SERVERS} tips and {kills} kills"
    );

    // The database agrees: every day's attempt is recorded as posted.
    for g in 1..=SERVERS {
        let a = store.attempt(GuildId(g), day).await.unwrap();
        assert_eq!(
            a.map(|a| a.status),
            Some(AttemptStatus::Posted),
            "server {g}"
        );
    }
}
