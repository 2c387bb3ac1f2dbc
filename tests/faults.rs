//! Faults end to end: the real `massage-bot run` binary and its serenity
//! client against the fake Discord, each test breaking one thing (the
//! database, the gateway, gateway discovery, interactions serenity cannot
//! parse, a burst under a file-descriptor limit) and checking that the bot
//! says so clearly and loses nothing.

mod support;

#[path = "support/damage.rs"]
mod damage;

use std::io::{Read, Write};
use std::time::Duration;

use serde_json::{json, Value};
use support::{opt_str, BotProcess, FakeDiscord, Invoker};

const READY: Duration = Duration::from_secs(20);
const T: Duration = Duration::from_secs(10);

/// A loopback port nothing listens on yet.
fn free_addr() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().to_string()
}

/// `GET path` on `addr`: status and body.
fn get(addr: &str, path: &str) -> Option<(u16, String)> {
    let mut s = std::net::TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(3))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    let status = text.split_whitespace().nth(1)?.parse().ok()?;
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_owned())?;
    Some((status, body))
}

/// Prints the bot's output when a test fails.
struct Logs<'a>(&'a BotProcess);

impl Drop for Logs<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("---- bot output ----\n{}", self.0.logs());
        }
    }
}

// ----- storage ------------------------------------------------------------------

/// A page of random bytes in the database: the bot starts, says in the log
/// which file is damaged and what to run, and `/healthz` is unhealthy with
/// the reason (it used to say 200 while no tip went out).
#[tokio::test]
async fn a_damaged_database_is_reported_by_the_log_and_healthz() {
    let fake = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bot.db");
    damage::fill(
        &path,
        (0..300).map(|g| 77_000 + g * 31),
        chrono::NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
        chrono_tz::Tz::UTC,
        chrono::Utc::now(),
    );
    damage::smash_a_leaf_page(&path, 3);
    let health = free_addr();
    let url = format!("sqlite://{}", path.display());
    let bot = BotProcess::spawn(&fake, &[("DATABASE_URL", &url), ("HEALTH_ADDR", &health)]);
    let _logs = Logs(&bot);
    fake.wait_ready(READY).await;
    assert!(
        bot.wait_for_log("tip database is damaged", T).await,
        "an error in the log"
    );
    let logs = bot.logs();
    let line = logs
        .lines()
        .find(|l| l.contains("tip database is damaged"))
        .unwrap();
    assert!(
        line.contains(&path.display().to_string()) && line.contains("db check"),
        "{line}"
    );
    let (status, body) = get(&health, "/healthz").expect("health endpoint answers");
    assert_eq!(status, 503, "{body}");
    assert!(
        body.contains("damaged") && body.contains(&path.display().to_string()),
        "{body}"
    );
    let (_, metrics) = get(&health, "/metrics").unwrap();
    assert!(metrics.contains("massage_bot_storage_ok 0"), "{metrics}");
    // Still answering questions.
    let reply = fake
        .send_command("benefits", json!([opt_str("topic", "sleep")]))
        .await;
    assert_eq!(reply["type"], 4, "{reply:#}");
}

// ----- gateway ------------------------------------------------------------------

/// Starts the bot, lets the fake close the gateway with `code`, and waits
/// for the bot to exit by itself: the fake, the exit status and the logs.
async fn closed_with(code: u16, reason: &str) -> (FakeDiscord, std::process::ExitStatus, String) {
    let fake = FakeDiscord::start().await;
    let mut bot = BotProcess::spawn(&fake, &[]);
    fake.wait_ready(READY).await;
    fake.close_gateway(code, reason);
    let status = bot.wait_exit(T).await;
    let logs = bot.logs();
    let status = status.unwrap_or_else(|| panic!("still running after {code}:\n{logs}"));
    (fake, status, logs)
}

/// Close code 4011 (sharding required) used to make serenity re-identify
/// forever; now the bot stops with a message that says what to do.
#[tokio::test]
async fn close_4011_stops_the_bot_with_a_clear_message() {
    let (fake, status, logs) = closed_with(4011, "Sharding required.").await;
    assert!(!status.success(), "a non-zero exit: {status:?}");
    assert!(
        logs.contains("4011") && logs.contains("sharding required"),
        "{logs}"
    );
    assert!(
        // The IDENTIFY before the close and at most one after: no loop.
        fake.gateway_stats().identifies <= 2,
        "no identify loop: {:?}",
        fake.gateway_stats()
    );
}

/// 4014 (disallowed intents) is as final: a clear message, a non-zero exit.
#[tokio::test]
async fn close_4014_stops_the_bot_with_a_clear_message() {
    let (_fake, status, logs) = closed_with(4014, "Disallowed intent(s).").await;
    assert!(!status.success());
    assert!(logs.contains("close code 4014"), "{logs}");
}

/// A token the gateway rejects (close code 4004, e.g. reset while the bot
/// runs) ends the run with the same plain message as a 401, not retries.
#[tokio::test]
async fn close_4004_stops_the_bot_with_a_clear_message() {
    let (_fake, status, logs) = closed_with(4004, "Authentication failed.").await;
    assert_eq!(status.code(), Some(1), "{logs}");
    assert!(
        logs.contains("rejected the bot token (gateway close code 4004)"),
        "{logs}"
    );
    assert!(logs.contains("DISCORD_TOKEN"), "{logs}");
}

/// One 500 from `GET /gateway` at start used to send serenity to Discord's
/// public gateway URL, bypassing `DISCORD_PROXY_URL` for good. Now the bot
/// asks the proxy again and connects where it says.
#[tokio::test]
async fn a_500_from_gateway_discovery_is_retried_through_the_proxy() {
    let fake = FakeDiscord::start().await;
    fake.set_route_status("GET", "/gateway", 500, 1);
    let bot = BotProcess::spawn(&fake, &[]);
    let _logs = Logs(&bot);
    fake.wait_ready(READY).await;
    let asked = fake.requests_to("GET", "/gateway");
    assert_eq!(asked.len(), 2, "asked twice: {}", fake.describe_requests());
    assert_eq!((asked[0].status, asked[1].status), (500, 200));
    assert!(!bot.logs().contains("gateway.discord.gg"));
    let reply = fake.send_command("tip", json!([])).await;
    assert_eq!(reply["type"], 4);
}

// ----- malformed interactions and log lines ---------------------------------------

/// Every interaction that carries an id and a token gets an answer, however
/// broken the rest is; no token reaches the log, and no log line is huge.
#[tokio::test]
async fn malformed_interactions_get_an_answer_and_logs_stay_clean() {
    let fake = FakeDiscord::start().await;
    let mut bot = BotProcess::spawn(&fake, &[]);
    fake.wait_ready(READY).await;
    let base = || {
        fake.interaction_command(
            "benefits",
            json!([opt_str("topic", "sleep")]),
            &Invoker::member(),
        )
    };
    type Breakage = fn(&mut Value);
    let cases: [(&str, Breakage); 7] = [
        ("no data", |p| {
            p.as_object_mut().unwrap().remove("data");
        }),
        ("no name", |p| {
            p["data"].as_object_mut().unwrap().remove("name");
        }),
        ("an option without a value", |p| {
            p["data"]["options"] = json!([{"name": "topic", "type": 3}]);
        }),
        ("options: null", |p| p["data"]["options"] = Value::Null),
        ("a wrong-typed value", |p| {
            p["data"]["options"] = json!([{"name": "topic", "type": 3, "value": {"x": [1, 2]}}]);
        }),
        ("an unknown type", |p| p["type"] = json!(99)),
        ("autocomplete with no focused option", |p| {
            p["type"] = json!(4)
        }),
    ];
    let mut tokens = Vec::new();
    let mut sent = Vec::new();
    for (what, breakage) in cases {
        let mut i = base();
        breakage(&mut i.payload);
        fake.dispatch_interaction(&i);
        tokens.push(i.token.clone());
        sent.push((what, i));
    }
    // A frame nested too deep for any parser, and one with a token but no id.
    fake.dispatch_raw(
        "INTERACTION_CREATE",
        format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)),
    );
    let orphan = base();
    tokens.push(orphan.token.clone());
    let mut payload = orphan.payload.clone();
    payload.as_object_mut().unwrap().remove("id");
    payload.as_object_mut().unwrap().remove("data");
    fake.dispatch("INTERACTION_CREATE", payload);

    for (what, i) in &sent {
        let cb = fake.wait_callback(i.id, T).await;
        let cb = cb.unwrap_or_else(|| panic!("{what}: no answer\n{}", bot.logs()));
        assert_eq!(cb.status, 204, "{what}: accepted");
        let body = &cb.body;
        if *what == "autocomplete with no focused option" {
            assert_eq!(body["type"], 8, "{what}: {body:#}");
        } else {
            assert_eq!(body["type"], 4, "{what}: {body:#}");
            assert_eq!(
                body["data"]["flags"].as_u64().unwrap_or(0) & 64,
                64,
                "{what}: private"
            );
            let text = body.to_string();
            assert!(
                text.contains("couldn't read that request"),
                "{what}: {text}"
            );
            assert!(text.contains("doctor"), "{what}: the caveat: {text}");
        }
    }
    // The bot is still fine.
    let reply = fake
        .send_command("benefits", json!([opt_str("topic", "sleep")]))
        .await;
    assert_eq!(reply["type"], 4);
    assert!(
        bot.wait_for_log("could not be read; ignored", T).await,
        "the deep frame is logged"
    );
    bot.terminate(T).await.expect("stops on SIGTERM");
    let logs = bot.logs();
    for (n, line) in logs.lines().enumerate() {
        assert!(line.len() <= 4096, "line {n} is {} bytes", line.len());
        for t in &tokens {
            assert!(
                !line.contains(t.as_str()),
                "line {n} has an interaction token: {line}"
            );
        }
    }
}

// ----- bounded work -------------------------------------------------------------

/// 3,000 autocomplete requests at once under the usual limit of 1,024 open
/// files: every one is answered or cleanly dropped (counted), no request
/// fails for want of a file descriptor, and the bot answers normally after.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_autocomplete_burst_stays_within_1024_files() {
    const BURST: usize = 3000;
    let fake = FakeDiscord::start().await;
    let health = free_addr();
    let bot = BotProcess::spawn_wrapped(
        Some(&fake),
        &[("HEALTH_ADDR", &health)],
        &[],
        &["run"],
        &["prlimit", "--nofile=1024:1024", "--"],
    );
    let _logs = Logs(&bot);
    fake.wait_ready(READY).await;
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", bot.pid())).unwrap();
    let files = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .unwrap();
    assert!(files.split_whitespace().any(|w| w == "1024"), "{files}");

    let ids: Vec<u64> = (0..BURST)
        .map(|n| {
            let mut i = fake.interaction_command(
                "benefits",
                json!([{"name": "topic", "type": 3, "value": format!("sl{}", n % 7), "focused": true}]),
                &Invoker::member(),
            );
            i.payload["type"] = json!(4);
            fake.dispatch_interaction(&i);
            i.id
        })
        .collect();
    let mut most_files = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let answered = loop {
        let fds = std::fs::read_dir(format!("/proc/{}/fd", bot.pid()))
            .map(|d| d.count())
            .unwrap_or(0);
        most_files = most_files.max(fds);
        let answered = fake
            .requests_to("POST", "/interactions/")
            .iter()
            .filter(|r| r.status == 204)
            .count();
        let (_, metrics) = get(&health, "/metrics").unwrap_or_default();
        let dropped: usize = metrics
            .lines()
            .find_map(|l| l.strip_prefix("massage_bot_autocomplete_dropped_total "))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        if answered + dropped >= BURST || tokio::time::Instant::now() > deadline {
            assert_eq!(
                answered + dropped,
                BURST,
                "answered {answered}, dropped {dropped}"
            );
            eprintln!("burst of {BURST}: answered {answered}, dropped {dropped}");
            break answered;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(answered > 0);
    eprintln!("at most {most_files} files open");
    assert!(most_files < 1024, "{most_files} files open at most");
    let logs = bot.logs();
    assert!(!logs.contains("Too many open files"), "out of files");
    assert!(
        !logs.contains("autocomplete reply failed"),
        "a reply failed"
    );
    assert!(ids.iter().all(|id| fake
        .requests()
        .iter()
        .filter(|r| r.callback_interaction_id() == Some(*id))
        .count()
        <= 1));
    let reply = fake
        .send_command("benefits", json!([opt_str("topic", "sleep")]))
        .await;
    assert_eq!(reply["type"], 4);
}

/// A token Discord rejects at the first REST call (401) ends the run at
/// once with a plain message, instead of retrying forever.
#[tokio::test]
async fn a_rejected_token_stops_the_bot_with_a_clear_message() {
    let fake = FakeDiscord::start().await;
    fake.set_route_status("GET", "/gateway", 401, 100);
    let mut bot = BotProcess::spawn(&fake, &[]);
    let status = bot.wait_exit(T).await;
    let logs = bot.logs();
    let status = status.unwrap_or_else(|| panic!("still running after a 401:\n{logs}"));
    assert!(!status.success());
    assert!(logs.contains("rejected the bot token (HTTP 401)"), "{logs}");
}

/// Discord vanishes under a connected bot: `/healthz` turns 503 promptly,
/// not only when the next heartbeat fails.
#[tokio::test]
async fn healthz_turns_unhealthy_soon_after_discord_vanishes() {
    let fake = FakeDiscord::start().await;
    let health = free_addr();
    let bot = BotProcess::spawn(&fake, &[("HEALTH_ADDR", &health)]);
    let _logs = Logs(&bot);
    fake.wait_ready(READY).await;
    let healthy = wait_status(&health, 200, T).await;
    assert!(healthy.is_some(), "never healthy while connected");
    fake.vanish();
    let gone = std::time::Instant::now();
    let unhealthy = wait_status(&health, 503, T).await;
    let after = gone.elapsed();
    let body =
        unhealthy.unwrap_or_else(|| panic!("still healthy {after:?} after Discord vanished"));
    assert!(after < Duration::from_secs(3), "503 only after {after:?}");
    assert!(body.contains("gateway"), "{body}");
}

/// Polls `/healthz` until it answers `status`; the body then.
async fn wait_status(addr: &str, status: u16, timeout: Duration) -> Option<String> {
    let end = std::time::Instant::now() + timeout;
    while std::time::Instant::now() < end {
        if let Some((s, body)) = get(addr, "/healthz") {
            if s == status {
                return Some(body);
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    None
}

/// serenity would retry a vanished gateway forever: the bot says so in
/// plain words while it retries, then stops with a clear message after
/// `GATEWAY_GIVE_UP_SECS`, so a supervisor restarts it and someone notices.
#[tokio::test]
async fn a_gateway_unreachable_for_too_long_stops_the_bot() {
    let fake = FakeDiscord::start().await;
    let mut bot = BotProcess::spawn(&fake, &[("GATEWAY_GIVE_UP_SECS", "3")]);
    fake.wait_ready(READY).await;
    fake.vanish();
    let gone = std::time::Instant::now();
    let status = bot.wait_exit(T).await;
    let logs = bot.logs();
    let status = status.unwrap_or_else(|| panic!("still running after Discord vanished:\n{logs}"));
    assert_eq!(status.code(), Some(1), "{logs}");
    let took = gone.elapsed();
    assert!(
        took >= Duration::from_secs(3),
        "gave up after only {took:?}"
    );
    assert!(
        logs.contains("cannot reach Discord's gateway; still retrying"),
        "{logs}"
    );
    assert!(
        logs.contains("Discord's gateway has been unreachable for 3 s"),
        "{logs}"
    );
}

// ----- sharding -------------------------------------------------------------------

/// The bot opens as many shards as Discord recommends (autosharding, as a
/// bot in more than 2,500 servers must), and `/healthz` is healthy only
/// once every one of them is connected.
#[tokio::test]
async fn the_bot_opens_the_shards_discord_recommends() {
    let fake = FakeDiscord::start().await;
    fake.set_recommended_shards(2);
    let health = free_addr();
    let bot = BotProcess::spawn(&fake, &[("HEALTH_ADDR", &health)]);
    let _logs = Logs(&bot);
    // serenity waits 5 s between identifies (max_concurrency 1): with one
    // shard of two ready, the bot is not healthy yet.
    let first = fake
        .wait_until(READY, |f| (f.gateway_stats().readies >= 1).then_some(()))
        .await;
    assert!(first.is_some(), "no shard identified");
    tokio::time::sleep(Duration::from_millis(800)).await;
    let (status, body) = get(&health, "/healthz").expect("health endpoint answers");
    if fake.gateway_stats().identifies == 1 {
        assert_eq!(status, 503, "healthy with one shard of two: {body}");
    }
    let both = fake
        .wait_until(Duration::from_secs(20), |f| {
            (f.gateway_stats().identifies >= 2).then_some(())
        })
        .await;
    assert!(both.is_some(), "two shards never identified");
    let mut shards: Vec<Value> = fake
        .gateway_frames()
        .into_iter()
        .filter(|f| f.op == 2)
        .map(|f| f.payload["d"]["shard"].clone())
        .collect();
    shards.sort_by_key(|s| s[0].as_u64());
    assert_eq!(shards, vec![json!([0, 2]), json!([1, 2])]);
    assert!(
        wait_status(&health, 200, T).await.is_some(),
        "healthy with both shards"
    );
    let reply = fake.send_command("tip", json!([])).await;
    assert_eq!(reply["type"], 4);
}
