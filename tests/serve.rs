//! `massage-bot serve` end to end: the real binary answers Discord's HTTP
//! interactions, signed with a real Ed25519 key as Discord signs them, and
//! uses the fake Discord only for REST (tips, deferred edits, who it is).
//! `massage-bot register` registers the commands over REST.

mod support;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ed25519_dalek::{Signer, SigningKey};
use serde_json::{json, Value};
use support::{
    check_callback, opt_channel, opt_str, subcommand, BotProcess, FakeDiscord, Interaction,
    Invoker, APP_ID, GUILD_ID, MEMBER_PERMISSIONS,
};

const T: Duration = Duration::from_secs(10);

/// Discord's key for these tests (any 32 bytes make a key).
fn key() -> SigningKey {
    SigningKey::from_bytes(&[7u8; 32])
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn free_addr() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().to_string()
}

/// A `serve` process and where it listens.
struct Served {
    fake: FakeDiscord,
    bot: BotProcess,
    addr: String,
    client: reqwest::Client,
}

impl Drop for Served {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("---- serve output ----\n{}", self.bot.logs());
        }
    }
}

impl Served {
    async fn start() -> Served {
        let fake = FakeDiscord::start().await;
        let addr = free_addr();
        let public = hex(key().verifying_key().as_bytes());
        let bot = BotProcess::spawn_with(
            Some(&fake),
            &[
                ("DISCORD_PUBLIC_KEY", &public),
                ("INTERACTIONS_ADDR", &addr),
            ],
            &[],
            &["serve"],
        );
        let served = Served {
            fake,
            bot,
            addr,
            client: reqwest::Client::new(),
        };
        assert!(
            served
                .bot
                .wait_for_log("answering Discord interactions", T)
                .await,
            "serve did not start listening"
        );
        served
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// POSTs `body` with the given signature headers.
    async fn post_raw(&self, body: &[u8], headers: &[(&str, String)]) -> (u16, String) {
        let mut req = self
            .client
            .post(self.url("/interactions"))
            .header("content-type", "application/json")
            .body(body.to_vec());
        for (name, value) in headers {
            req = req.header(*name, value);
        }
        let res = req.send().await.expect("serve answers");
        let status = res.status().as_u16();
        (status, res.text().await.unwrap_or_default())
    }

    /// POSTs `body` signed as Discord would sign it at `timestamp`.
    async fn post_signed_at(&self, body: &[u8], timestamp: u64, key: &SigningKey) -> (u16, String) {
        let ts = timestamp.to_string();
        let signature = key.sign(&[ts.as_bytes(), body].concat());
        self.post_raw(
            body,
            &[
                ("x-signature-ed25519", hex(&signature.to_bytes())),
                ("x-signature-timestamp", ts),
            ],
        )
        .await
    }

    /// POSTs `payload`, properly signed; status and JSON body.
    async fn post(&self, payload: &Value) -> (u16, Value) {
        let body = serde_json::to_vec(payload).unwrap();
        let (status, text) = self.post_signed_at(&body, now(), &key()).await;
        let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, value)
    }

    /// An interaction that must be answered 200; the response.
    async fn answer(&self, i: &Interaction) -> Value {
        let (status, body) = self.post(&i.payload).await;
        assert_eq!(status, 200, "{body:#}");
        if let Err(e) = check_callback(&body) {
            panic!("Discord would refuse this response: {e:?}\n{body:#}");
        }
        body
    }

    async fn get(&self, path: &str) -> (u16, String) {
        let res = self
            .client
            .get(self.url(path))
            .send()
            .await
            .expect("serve answers");
        (res.status().as_u16(), res.text().await.unwrap_or_default())
    }
}

fn ping() -> Value {
    json!({
        "id": "1200000000000000001",
        "application_id": APP_ID.to_string(),
        "type": 1,
        "token": "ping-token",
        "version": 1
    })
}

fn embed_text(response: &Value) -> String {
    let e = &response["data"]["embeds"][0];
    let mut out = format!(
        "{}\n{}\n",
        e["title"].as_str().unwrap_or(""),
        e["description"].as_str().unwrap_or("")
    );
    for f in e["fields"].as_array().into_iter().flatten() {
        out.push_str(&format!("{}\n{}\n", f["name"], f["value"]));
    }
    out.push_str(e["footer"]["text"].as_str().unwrap_or(""));
    out
}

#[tokio::test]
async fn signatures_are_checked_and_a_ping_gets_a_pong() {
    let s = Served::start().await;
    let body = serde_json::to_vec(&ping()).unwrap();

    let (status, text) = s.post_signed_at(&body, now(), &key()).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap(),
        json!({"type": 1})
    );

    // No signature, a forged one, another key, a changed body, an old or a
    // future timestamp, garbage in the headers: 401, and no answer.
    let (status, _) = s.post_raw(&body, &[]).await;
    assert_eq!(status, 401, "no signature");
    let (status, _) = s
        .post_raw(
            &body,
            &[
                ("x-signature-ed25519", "00".repeat(64)),
                ("x-signature-timestamp", now().to_string()),
            ],
        )
        .await;
    assert_eq!(status, 401, "forged signature");
    let other = SigningKey::from_bytes(&[8u8; 32]);
    assert_eq!(
        s.post_signed_at(&body, now(), &other).await.0,
        401,
        "another key"
    );
    let ts = now().to_string();
    let signature = hex(&key().sign(&[ts.as_bytes(), &body].concat()).to_bytes());
    let mut changed = body.clone();
    changed.extend_from_slice(b" ");
    let (status, _) = s
        .post_raw(
            &changed,
            &[
                ("x-signature-ed25519", signature.clone()),
                ("x-signature-timestamp", ts.clone()),
            ],
        )
        .await;
    assert_eq!(status, 401, "a body changed after signing");
    assert_eq!(
        s.post_signed_at(&body, now() - 3600, &key()).await.0,
        401,
        "an hour old"
    );
    assert_eq!(
        s.post_signed_at(&body, now() + 3600, &key()).await.0,
        401,
        "an hour ahead"
    );
    let (status, _) = s
        .post_raw(
            &body,
            &[
                ("x-signature-ed25519", "é".repeat(64)),
                ("x-signature-timestamp", ts),
            ],
        )
        .await;
    assert_eq!(status, 401, "not hex");

    // No gateway at all.
    assert_eq!(
        s.fake.gateway_stats().connections,
        0,
        "serve opened a gateway"
    );
}

#[tokio::test]
async fn commands_autocomplete_and_buttons_are_answered_in_the_response() {
    let s = Served::start().await;
    let member = Invoker::member();

    let i = s
        .fake
        .interaction_command("benefits", json!([opt_str("topic", "sleep")]), &member);
    let r = s.answer(&i).await;
    assert_eq!(r["type"], 4, "{r:#}");
    let text = embed_text(&r);
    assert!(text.contains("Sleep"), "{text}");
    assert!(text.contains("doctor"), "the caveat: {text}");
    assert_eq!(
        r["data"]["allowed_mentions"]["parse"],
        json!([]),
        "pings no one: {r:#}"
    );

    // The same words as the command line prints for the same request.
    let engine = massage_bot::engine::Engine::load(None).unwrap();
    let expected = engine.answer_topic(massage_bot::reply::Intent::Benefits, "sleep");
    assert!(
        text.contains(&expected.summary),
        "{text}\n---\n{}",
        expected.summary
    );

    // Crisis wording gets crisis help first.
    let i = s.fake.interaction_command(
        "ask",
        json!([opt_str("question", "i want to kill myself")]),
        &member,
    );
    let r = s.answer(&i).await;
    let text = embed_text(&r);
    assert!(
        text.to_lowercase().contains("emergency")
            || text.contains("988")
            || text.to_lowercase().contains("crisis"),
        "{text}"
    );

    // Autocomplete: choices in the response.
    let i = s
        .fake
        .interaction_autocomplete("safe", "topic", "preg", &member);
    let r = s.answer(&i).await;
    assert_eq!(r["type"], 8, "{r:#}");
    let choices = r["data"]["choices"].as_array().expect("choices");
    assert!(choices.iter().any(|c| c["value"] == "pregnancy"), "{r:#}");

    // The Quotes button under an answer works, and a forged id gets a clear
    // private reply.
    let i = s
        .fake
        .interaction_command("safe", json!([opt_str("topic", "pregnancy")]), &member);
    let r = s.answer(&i).await;
    let custom_id = r["data"]["components"][0]["components"][0]["custom_id"]
        .as_str()
        .unwrap_or_else(|| panic!("a button: {r:#}"))
        .to_owned();
    let message =
        support::message_from_callback(support::CHANNEL_ID, &json!({"type": 4, "data": r["data"]}));
    let click = s
        .fake
        .interaction_component(&custom_id, message.clone(), &member);
    let q = s.answer(&click).await;
    assert_eq!(q["type"], 4, "{q:#}");
    assert_eq!(q["data"]["flags"], 64, "quotes are private: {q:#}");
    assert!(embed_text(&q).contains('"'), "verbatim quotes: {q:#}");
    let forged = s
        .fake
        .interaction_component("q1:forged:b1", message.clone(), &member);
    let f = s.answer(&forged).await;
    assert_eq!(f["data"]["flags"], 64, "{f:#}");
    assert!(embed_text(&f).contains("button"), "{f:#}");

    // A follow-up button answers as the command would, privately for a
    // member who did not ask.
    let follow_up = support::button_ids(&r["data"])
        .into_iter()
        .find(|id| id.starts_with("a1:"))
        .unwrap_or_else(|| panic!("a follow-up button: {r:#}"));
    let click = s
        .fake
        .interaction_component(&follow_up, message.clone(), &member);
    let a = s.answer(&click).await;
    assert_eq!(a["type"], 4, "{a:#}");
    assert_eq!(a["data"]["flags"], 64, "{a:#}");
    assert!(
        a["data"]["embeds"][0]["footer"]["text"].is_string(),
        "the caveat: {a:#}"
    );

    // Nothing went to Discord's callback endpoint: the answers were the
    // responses.
    assert_eq!(
        s.fake.count("POST", "/interactions/"),
        0,
        "{}",
        s.fake.describe_requests()
    );
}

#[tokio::test]
async fn a_signed_but_unreadable_request_gets_a_graceful_answer() {
    let s = Served::start().await;
    // A command with no data: the private "couldn't read that" reply.
    let (status, r) = s
        .post(&json!({"id": "5", "application_id": APP_ID.to_string(), "type": 2, "token": "t"}))
        .await;
    assert_eq!(status, 200, "{r:#}");
    assert_eq!(r["type"], 4, "{r:#}");
    assert_eq!(r["data"]["flags"], 64, "{r:#}");
    assert!(embed_text(&r).contains("couldn't read"), "{r:#}");
    // Autocomplete: an empty list.
    let (status, r) = s
        .post(&json!({"id": "6", "application_id": APP_ID.to_string(), "type": 4, "token": "t"}))
        .await;
    assert_eq!((status, r["type"].clone()), (200, json!(8)), "{r:#}");
    // Not an interaction at all: 400.
    let (status, _) = s.post(&json!({"hello": "world"})).await;
    assert_eq!(status, 400);
    let (status, _) = s.post(&json!("x".repeat(6000))).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn tips_set_defers_and_the_edit_completes_it() {
    let s = Served::start().await;
    let channel = 7_300_001;
    s.fake.add_text_channel(GUILD_ID, channel);
    let manager = Invoker {
        guild_id: Some(GUILD_ID),
        permissions: MEMBER_PERMISSIONS | (1 << 5),
        username: "manager".into(),
        ..Invoker::member()
    };
    // serve asks who the bot is at start, for the permission check.
    assert!(s.bot.wait_for_log("bot user known", T).await);
    let i = s.fake.interaction_command(
        "tips",
        json!([subcommand(
            "set",
            json!([
                opt_channel("channel", channel),
                opt_str("time", "09:00"),
                opt_str("timezone", "Europe/Berlin")
            ])
        )]),
        &manager,
    );
    let r = s.answer(&i).await;
    assert_eq!(r["type"], 5, "deferred: {r:#}");
    assert_eq!(r["data"]["flags"], 64, "privately: {r:#}");
    let edit = s
        .fake
        .wait_until(T, |f| f.original_edits(&i).into_iter().next())
        .await
        .unwrap_or_else(|| {
            panic!(
                "no edit of the deferred reply: {}",
                s.fake.describe_requests()
            )
        });
    let text = edit.body.to_string();
    assert!(text.contains("Daily tip set"), "{text}");
    assert!(text.contains("doctor"), "the caveat: {text}");
}

#[tokio::test]
async fn healthz_and_metrics_are_served_beside_the_endpoint() {
    let s = Served::start().await;
    let (status, body) = s.get("/healthz").await;
    assert_eq!(
        (status, body.as_str()),
        (200, "ok\n"),
        "healthy with no gateway"
    );
    let i = s
        .fake
        .interaction_command("tip", json!([]), &Invoker::member());
    s.answer(&i).await;
    let (status, metrics) = s.get("/metrics").await;
    assert_eq!(status, 200);
    assert!(
        metrics.contains(r#"massage_bot_commands_total{command="tip",outcome="answered"} 1"#),
        "{metrics}"
    );
}

#[tokio::test]
async fn serve_refuses_a_bad_public_key_clearly() {
    let fake = FakeDiscord::start().await;
    for (value, says) in [("", "not set"), ("abc", "64 hexadecimal digits")] {
        let mut bot = BotProcess::spawn_with(
            Some(&fake),
            &[
                ("DISCORD_PUBLIC_KEY", value),
                ("INTERACTIONS_ADDR", &free_addr()),
            ],
            &[],
            &["serve"],
        );
        let status = bot.wait_exit(T).await.expect("exits by itself");
        let logs = bot.logs();
        assert_eq!(status.code(), Some(2), "{logs}");
        assert!(
            logs.contains("DISCORD_PUBLIC_KEY") && logs.contains(says),
            "{logs}"
        );
    }
}

#[tokio::test]
async fn register_registers_the_commands_over_rest() {
    let fake = FakeDiscord::start().await;
    let mut bot = BotProcess::spawn_with(Some(&fake), &[], &[], &["register"]);
    let status = bot.wait_exit(T).await.expect("exits by itself");
    let logs = bot.logs();
    assert!(status.success(), "{logs}");
    let commands = fake.registered_commands(None).expect("registered globally");
    let names: Vec<&str> = commands.iter().filter_map(|c| c["name"].as_str()).collect();
    for name in ["benefits", "safe", "ask", "tip", "topics", "about", "tips"] {
        assert!(names.contains(&name), "{name} missing from {names:?}");
    }
    assert!(
        logs.contains(&format!("registered {} commands globally", names.len())),
        "{logs}"
    );

    // In one server with DEV_GUILD_ID; a rejected token says so.
    let mut bot = BotProcess::spawn_with(
        Some(&fake),
        &[("DEV_GUILD_ID", &GUILD_ID.to_string())],
        &[],
        &["register"],
    );
    assert!(
        bot.wait_exit(T).await.expect("exits").success(),
        "{}",
        bot.logs()
    );
    assert!(fake.registered_commands(Some(GUILD_ID)).is_some());
    fake.set_route_status("GET", "/oauth2/applications/@me", 401, 10);
    let mut bot = BotProcess::spawn_with(Some(&fake), &[], &[], &["register"]);
    let status = bot.wait_exit(T).await.expect("exits");
    let logs = bot.logs();
    assert_eq!(status.code(), Some(1), "{logs}");
    assert!(logs.contains("rejected the bot token"), "{logs}");
}
