//! End to end: the real `massage-bot run` binary, its real serenity client,
//! against the fake Discord in `support`. Each test starts its own fake and
//! bot; every wait is bounded.

mod support;

use std::time::Duration;

use massage_bot::engine::{Engine, Request};
use massage_bot::knowledge::Knowledge;
use massage_bot::reply::Kind;
use serde_json::{json, Value};
use support::{
    assert_within_limits, limits, opt_str, subcommand, BotProcess, FakeDiscord, Invoker,
    ResumeMode, APP_ID, GUILD_ID, TOKEN,
};

const READY: Duration = Duration::from_secs(20);
const T: Duration = Duration::from_secs(10);

fn caveat() -> String {
    Knowledge::embedded().unwrap().caveat.as_str().to_owned()
}

/// A fake and a bot connected to it. On a failing test the bot's output is
/// printed, which is usually what explains the failure.
struct Harness {
    fake: FakeDiscord,
    bot: BotProcess,
}

impl Drop for Harness {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let logs = self.bot.logs();
            let tail: Vec<&str> = logs.lines().rev().take(80).collect();
            eprintln!("---- bot output (last 80 lines) ----");
            for l in tail.into_iter().rev() {
                eprintln!("{l}");
            }
            eprintln!(
                "---- fake Discord requests ----{}",
                self.fake.describe_requests()
            );
        }
    }
}

async fn start(extra_env: &[(&str, &str)]) -> Harness {
    let fake = FakeDiscord::start().await;
    let bot = BotProcess::spawn(&fake, extra_env);
    let h = Harness { fake, bot };
    h.fake.wait_ready(READY).await;
    h
}

/// Starts and waits until the commands are registered (global unless
/// `DEV_GUILD_ID` is given).
async fn start_registered(extra_env: &[(&str, &str)]) -> Harness {
    let h = start(extra_env).await;
    h.fake
        .wait_for(|r| r.is("PUT", "/applications/") && r.status == 200, T)
        .await
        .expect("commands registered");
    h
}

/// The embeds of a type-4 callback; panics with the body otherwise.
fn embeds(body: &Value) -> &Vec<Value> {
    assert_eq!(body["type"], 4, "a message callback: {body:#}");
    body["data"]["embeds"]
        .as_array()
        .filter(|e| !e.is_empty())
        .unwrap_or_else(|| panic!("no embeds: {body:#}"))
}

fn is_ephemeral(body: &Value) -> bool {
    body["data"]["flags"].as_u64().unwrap_or(0) & 64 != 0
}

/// Nothing may ping: no `parse` entry, no user or role allowed.
fn assert_no_pings(body: &Value) {
    let am = &body["data"]["allowed_mentions"];
    assert!(am.is_object(), "allowed_mentions missing: {body:#}");
    assert_eq!(am["parse"], json!([]), "allowed_mentions.parse: {am}");
    for k in ["users", "roles"] {
        assert!(
            am[k].is_null() || am[k] == json!([]),
            "allowed_mentions.{k} must be empty: {am}"
        );
    }
    assert_ne!(am["replied_user"], json!(true), "{am}");
}

/// A public answer (or ephemeral, when asked) with the caveat as footer.
fn assert_reply(body: &Value, ephemeral: bool) -> Value {
    let e = embeds(body)[0].clone();
    assert_eq!(
        e["footer"]["text"].as_str(),
        Some(caveat().as_str()),
        "the caveat is the footer: {body:#}"
    );
    assert_eq!(is_ephemeral(body), ephemeral, "flags: {body:#}");
    assert_no_pings(body);
    assert_within_limits(body);
    e
}

fn title(e: &Value) -> &str {
    e["title"].as_str().unwrap_or("")
}

// ----- registration ----------------------------------------------------------

fn option<'a>(cmd: &'a Value, name: &str) -> &'a Value {
    cmd["options"]
        .as_array()
        .and_then(|o| o.iter().find(|o| o["name"] == name))
        .unwrap_or_else(|| panic!("/{} has no option {name}: {cmd:#}", cmd["name"]))
}

/// `/benefits`, `/safe` and `/ask` end with an optional boolean `private`.
fn assert_private_option(c: &Value) {
    let options = c["options"].as_array().unwrap();
    assert_eq!(options.len(), 2, "{c}");
    let p = option(c, "private");
    assert_eq!(p["type"], 5, "a boolean: {p}");
    assert_ne!(p["required"], true, "{p}");
}

fn check_commands(list: &[Value]) {
    let find = |name: &str| {
        list.iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("/{name} not registered: {list:#?}"))
    };
    for name in ["benefits", "safe"] {
        let c = find(name);
        assert!(
            c["description"].as_str().is_some_and(|d| !d.is_empty()),
            "{c}"
        );
        let o = option(c, "topic");
        assert_eq!(o["type"], 3, "/{name} topic is a string: {o}");
        assert_eq!(o["required"], true, "/{name} topic is required: {o}");
        assert_eq!(o["autocomplete"], true, "/{name} topic autocompletes: {o}");
        assert_private_option(c);
    }
    let ask = find("ask");
    let q = option(ask, "question");
    assert_eq!(q["type"], 3, "{q}");
    assert_eq!(q["required"], true, "{q}");
    assert_ne!(q["autocomplete"], true, "{q}");
    assert_private_option(ask);
    for name in ["tip", "topics", "about"] {
        let c = find(name);
        assert!(
            c["options"].is_null() || c["options"] == json!([]),
            "/{name} takes no options: {c}"
        );
        assert!(
            c["description"].as_str().is_some_and(|d| !d.is_empty()),
            "{c}"
        );
    }
    for c in list {
        if c["name"] != "tips" && c["name"] != "settings" {
            assert!(
                c["default_member_permissions"].is_null(),
                "only /tips and /settings are restricted: {c}"
            );
        }
    }
    let settings = find("settings");
    assert_eq!(settings["default_member_permissions"], "32", "{settings}");
    assert_eq!(settings["contexts"], json!([0]), "{settings}");
    let sub = option(settings, "private-safety");
    assert_eq!(sub["type"], 1, "{sub}");
    assert_eq!(option(sub, "on")["type"], 5, "{sub}");
    let tips = find("tips");
    assert_eq!(tips["default_member_permissions"], "32", "{tips}");
    // /tips is a server's: installed there, used there (no deprecated
    // dm_permission); everything else also works installed by a user, in
    // DMs with the bot and in other DMs.
    assert_eq!(tips["contexts"], json!([0]), "{tips}");
    assert_eq!(tips["integration_types"], json!([0]), "{tips}");
    assert!(
        tips.get("dm_permission").is_none_or(Value::is_null),
        "{tips}"
    );
    for c in list
        .iter()
        .filter(|c| c["name"] != "tips" && c["name"] != "settings")
    {
        assert_eq!(c["contexts"], json!([0, 1, 2]), "{c}");
        assert_eq!(c["integration_types"], json!([0, 1]), "{c}");
    }
    // The message context menu.
    let menu = find("Ask massage-bot");
    assert_eq!(menu["type"], 3, "a message command: {menu}");
    assert_eq!(list.len(), 9, "exactly nine commands");
    // Discord's own rules (names, description lengths, option order).
    support::check_commands(list).unwrap_or_else(|e| panic!("Discord would refuse: {e:?}"));
}

#[tokio::test]
async fn registration_carries_every_command_globally() {
    let h = start_registered(&[]).await;
    let puts = h.fake.requests_to("PUT", "/applications/");
    assert_eq!(puts.len(), 1, "one bulk overwrite");
    assert_eq!(
        puts[0].path,
        format!("/api/v10/applications/{APP_ID}/commands")
    );
    assert_eq!(
        puts[0].header("authorization"),
        Some(format!("Bot {TOKEN}").as_str())
    );
    check_commands(puts[0].body.as_array().expect("an array"));
}

#[tokio::test]
async fn registration_goes_to_the_dev_guild_when_set() {
    let guild = GUILD_ID.to_string();
    let h = start_registered(&[("DEV_GUILD_ID", guild.as_str())]).await;
    let puts = h.fake.requests_to("PUT", "/applications/");
    assert_eq!(puts.len(), 1);
    assert_eq!(
        puts[0].path,
        format!("/api/v10/applications/{APP_ID}/guilds/{GUILD_ID}/commands")
    );
    check_commands(puts[0].body.as_array().unwrap());
}

// ----- answers -------------------------------------------------------------

#[tokio::test]
async fn benefits_sleep_is_a_public_answer_with_the_caveat() {
    let h = start(&[]).await;
    let body = h
        .fake
        .send_command("benefits", json!([opt_str("topic", "sleep")]))
        .await;
    let e = assert_reply(&body, false);
    assert!(title(&e).contains("Sleep"), "title: {e:#}");
    assert!(
        e["description"].as_str().is_some_and(|d| !d.is_empty()),
        "{e:#}"
    );
}

#[tokio::test]
async fn safe_pregnancy_says_qualified_and_that_sources_differ() {
    let h = start(&[]).await;
    let body = h
        .fake
        .send_command("safe", json!([opt_str("topic", "pregnancy")]))
        .await;
    let e = assert_reply(&body, false);
    assert!(title(&e).contains("Pregnancy"), "title: {e:#}");
    let text = e.to_string();
    assert!(text.contains("qualified"), "{e:#}");
    assert!(text.contains("differ"), "sources differ is said: {e:#}");
}

#[tokio::test]
async fn ask_answers_a_plain_question() {
    let h = start(&[]).await;
    let body = h
        .fake
        .send_command(
            "ask",
            json!([opt_str("question", "can massage help me sleep better?")]),
        )
        .await;
    let e = assert_reply(&body, false);
    assert!(title(&e).contains("Sleep"), "title: {e:#}");
}

#[tokio::test]
async fn tip_topics_and_about_answer_publicly_with_the_caveat() {
    let h = start(&[]).await;
    for name in ["tip", "topics", "about"] {
        let body = h.fake.send_command(name, json!([])).await;
        let e = assert_reply(&body, false);
        assert!(!title(&e).is_empty(), "/{name} has a title: {e:#}");
    }
    let body = h.fake.send_command("topics", json!([])).await;
    assert!(
        body["data"]["embeds"].to_string().contains("Sleep"),
        "/topics lists sleep: {body:#}"
    );
}

/// An input the engine answers with "did you mean": found by asking the
/// library, so the test follows the matcher's tuning.
fn did_you_mean_input() -> String {
    let k = Knowledge::embedded().unwrap();
    let mut candidates: Vec<String> = Vec::new();
    for t in &k.topics {
        let mut words = vec![t.id.to_string(), t.title.to_lowercase()];
        words.extend(t.aliases.iter().cloned());
        for w in words {
            let chars: Vec<char> = w.chars().collect();
            for i in 1..chars.len().saturating_sub(1) {
                let mut c = chars.clone();
                c.remove(i);
                candidates.push(c.into_iter().collect());
            }
            for n in 3..chars.len().min(6) {
                candidates.push(chars[..n].iter().collect());
            }
        }
    }
    let engine = Engine::new(k);
    candidates
        .into_iter()
        .find(|c| engine.answer(&Request::Benefits(c.clone())).kind == Kind::DidYouMean)
        .expect("the engine gives \"did you mean\" for some typo of a topic")
}

#[tokio::test]
async fn not_covered_and_did_you_mean_are_ephemeral() {
    let h = start(&[]).await;
    let body = h
        .fake
        .send_command("benefits", json!([opt_str("topic", "lottery numbers")]))
        .await;
    embeds(&body);
    assert!(is_ephemeral(&body), "not covered is ephemeral: {body:#}");
    assert_no_pings(&body);
    assert_within_limits(&body);

    let typo = did_you_mean_input();
    let body = h
        .fake
        .send_command("benefits", json!([opt_str("topic", &typo)]))
        .await;
    embeds(&body);
    assert!(
        is_ephemeral(&body),
        "did you mean ({typo:?}) is ephemeral: {body:#}"
    );
    assert_no_pings(&body);

    // An error (empty topic) too.
    let body = h
        .fake
        .send_command("safe", json!([opt_str("topic", "   ")]))
        .await;
    assert_eq!(body["type"], 4, "{body:#}");
    assert!(is_ephemeral(&body), "errors are ephemeral: {body:#}");
}

// ----- autocomplete --------------------------------------------------------

fn choices(body: &Value) -> Vec<(String, String)> {
    assert_eq!(body["type"], 8, "an autocomplete result: {body:#}");
    assert_within_limits(body);
    let c = body["data"]["choices"]
        .as_array()
        .unwrap_or_else(|| panic!("no choices: {body:#}"));
    assert!(c.len() <= limits::CHOICES, "{body:#}");
    c.iter()
        .map(|c| {
            let name = c["name"].as_str().expect("name").to_owned();
            let value = c["value"].as_str().expect("string value").to_owned();
            assert!(
                (1..=limits::CHOICE_NAME).contains(&name.chars().count()),
                "{c}"
            );
            (name, value)
        })
        .collect()
}

#[tokio::test]
async fn autocomplete_returns_ranked_choices() {
    let h = start(&[]).await;
    let c = choices(&h.fake.send_autocomplete("benefits", "topic", "slee").await);
    assert!(!c.is_empty());
    assert!(
        c[0].1 == "sleep" || c[0].0.contains("Sleep"),
        "sleep ranks first for \"slee\": {c:?}"
    );
    for name in ["benefits", "safe"] {
        let c = choices(&h.fake.send_autocomplete(name, "topic", "").await);
        assert!(!c.is_empty(), "/{name}: empty input still suggests topics");
    }
    let c = choices(&h.fake.send_autocomplete("safe", "topic", "pregn").await);
    assert!(
        c.first()
            .is_some_and(|c| c.1 == "pregnancy" || c.0.contains("Pregnancy")),
        "{c:?}"
    );
    // Whatever is typed, the answer stays within Discord's limits.
    let long = "x".repeat(300);
    for typed in ["zzzzqqq", "@everyone", long.as_str()] {
        choices(&h.fake.send_autocomplete("benefits", "topic", typed).await);
    }
    // Picking a choice sends its value: the bot answers that topic.
    let body = h
        .fake
        .send_command("benefits", json!([opt_str("topic", "sleep")]))
        .await;
    assert!(title(&assert_reply(&body, false)).contains("Sleep"));
}

// ----- hostile input -------------------------------------------------------

#[tokio::test]
async fn mentions_in_a_query_cannot_ping() {
    let h = start(&[]).await;
    let q = "@everyone <@123> @here <@&456> <@!789> can massage help me sleep?";
    for (cmd, opt) in [("ask", "question"), ("benefits", "topic")] {
        let body = h.fake.send_command(cmd, json!([opt_str(opt, q)])).await;
        assert_eq!(body["type"], 4, "{body:#}");
        assert_no_pings(&body);
        // Plain content (if any) carries no live mention either.
        let content = body["data"]["content"].as_str().unwrap_or("");
        for m in ["@everyone", "@here", "<@123>", "<@&456>", "<@!789>"] {
            assert!(!content.contains(m), "content pings {m}: {content}");
        }
    }
}

#[tokio::test]
async fn a_huge_query_is_answered_within_discord_limits() {
    let h = start(&[]).await;
    let huge = "sleep ".repeat(1000);
    assert_eq!(huge.len(), 6000);
    let worst = format!("{}{}", "<@123> ".repeat(500), "ż".repeat(2500));
    for (cmd, opt, q) in [
        ("ask", "question", huge.as_str()),
        ("benefits", "topic", huge.as_str()),
        ("safe", "topic", worst.as_str()),
    ] {
        let i = h
            .fake
            .interaction_command(cmd, json!([opt_str(opt, q)]), &Invoker::member());
        let body = h.fake.send_interaction(&i).await;
        for e in embeds(&body) {
            let d = e["description"].as_str().unwrap_or("").chars().count();
            assert!(d <= limits::DESCRIPTION, "description {d}");
            let fields = e["fields"].as_array().cloned().unwrap_or_default();
            assert!(fields.len() <= limits::FIELDS);
            for f in &fields {
                assert!(f["value"].as_str().unwrap().chars().count() <= limits::FIELD_VALUE);
            }
        }
        assert_within_limits(&body);
        assert_no_pings(&body);
        // The callback was accepted, not refused as an invalid form body.
        let status = h.fake.callback_for(i.id).unwrap().status;
        assert_eq!(status, 204, "{}", h.fake.describe_requests());
    }
}

// ----- resilience ----------------------------------------------------------

#[tokio::test]
async fn dropped_gateway_is_reestablished_without_registering_again() {
    let h = start_registered(&[]).await;
    h.fake
        .send_command("benefits", json!([opt_str("topic", "sleep")]))
        .await;

    // Network failure: serenity resumes; events sent meanwhile are delivered.
    h.fake.drop_gateway();
    let body = h
        .fake
        .send_command("safe", json!([opt_str("topic", "pregnancy")]))
        .await;
    assert_reply(&body, false);
    let s = h.fake.gateway_stats();
    assert_eq!((s.identifies, s.resumed), (1, 1), "{s:?}");

    // Session lost: serenity identifies again and gets a new READY.
    h.fake.set_resume_mode(ResumeMode::InvalidSession);
    h.fake.drop_gateway();
    h.fake
        .wait_gateway(|s| s.identifies == 2 && s.live, Duration::from_secs(20))
        .await
        .unwrap_or_else(|| panic!("no new session: {:?}", h.fake.gateway_stats()));
    let body = h
        .fake
        .send_command("benefits", json!([opt_str("topic", "sleep")]))
        .await;
    assert_reply(&body, false);
    // Give a (wrong) second registration time to show up.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        h.fake.count("PUT", "/applications/"),
        1,
        "commands are registered once per process: {}",
        h.fake.describe_requests()
    );
}

/// Sends a command and waits until Discord (the fake) accepted an answer to
/// it (204), retries included; returns the accepted body.
async fn answered_ok(h: &Harness, name: &str, options: Value) -> Value {
    let i = h
        .fake
        .interaction_command(name, options, &Invoker::member());
    h.fake.dispatch_interaction(&i);
    h.fake
        .wait_until(T, |f| {
            f.requests()
                .into_iter()
                .find(|r| r.callback_interaction_id() == Some(i.id) && r.status == 204)
        })
        .await
        .unwrap_or_else(|| panic!("/{name} never answered successfully"))
        .body
}

/// Whether a WARN or ERROR line mentioning one of `needles` shows up.
async fn logged_failure(h: &Harness, needles: &[&str]) -> bool {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let found = h.bot.logs().lines().any(|l| {
            (l.contains("WARN") || l.contains("ERROR") || l.contains("\"level\":\"W"))
                && needles.iter().any(|n| l.contains(n))
        });
        if found || tokio::time::Instant::now() > deadline {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn callback_failures_are_logged_and_the_bot_keeps_serving() {
    let h = start(&[]).await;

    h.fake.set_route_status("POST", "/interactions/", 500, 1);
    let i = h.fake.interaction_command(
        "benefits",
        json!([opt_str("topic", "sleep")]),
        &Invoker::member(),
    );
    h.fake.dispatch_interaction(&i);
    let first = h.fake.wait_callback(i.id, T).await.expect("a callback");
    assert_eq!(first.status, 500);
    // The bot may retry a 5xx within 2 s of receiving the interaction; wait
    // that out, so its retry cannot meet the fault armed below (as it did
    // once on a loaded machine).
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(
        logged_failure(&h, &["Internal Server Error", "500"]).await,
        "the 500 is logged as a warning or error"
    );
    let body = answered_ok(&h, "safe", json!([opt_str("topic", "pregnancy")])).await;
    assert_reply(&body, false);

    h.fake.set_route_status("POST", "/interactions/", 429, 1);
    let i = h.fake.interaction_command(
        "benefits",
        json!([opt_str("topic", "sleep")]),
        &Invoker::member(),
    );
    h.fake.dispatch_interaction(&i);
    let first = h.fake.wait_callback(i.id, T).await.expect("a callback");
    assert_eq!(first.status, 429);
    assert!(
        logged_failure(&h, &["rate limited", "429"]).await,
        "the 429 is logged as a warning or error"
    );
    let body = answered_ok(&h, "tip", json!([])).await;
    assert_reply(&body, false);
}

/// Discord answers 429 again to a request made before `retry_after` has
/// passed; the fake does the same. A bot that retries must wait that long
/// (or not retry at all), else the retry is wasted.
#[tokio::test]
async fn a_retry_after_429_waits_for_retry_after() {
    let h = start(&[]).await;
    h.fake.set_route_fault(
        "POST",
        "/interactions/",
        support::Fault::rate_limited(0.5),
        1,
    );
    let i = h.fake.interaction_command(
        "benefits",
        json!([opt_str("topic", "sleep")]),
        &Invoker::member(),
    );
    h.fake.dispatch_interaction(&i);
    let first = h.fake.wait_callback(i.id, T).await.expect("a callback");
    assert_eq!(first.status, 429);
    // Discord's deadline for the first answer is 3 s.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let tries: Vec<_> = h
        .fake
        .requests()
        .into_iter()
        .filter(|r| r.callback_interaction_id() == Some(i.id))
        .collect();
    for t in &tries[1..] {
        let after = t.at.duration_since(first.at);
        assert!(
            t.status != 429 && after >= Duration::from_millis(500),
            "retry {after:?} after a 429 with retry_after 0.5 s (answered {})",
            t.status
        );
    }
}

// ----- process -------------------------------------------------------------

#[tokio::test]
async fn the_token_never_reaches_the_logs() {
    let mut h = start_registered(&[]).await;
    h.fake
        .send_command("benefits", json!([opt_str("topic", "sleep")]))
        .await;
    h.fake.set_route_status("POST", "/interactions/", 401, 1);
    let i = h
        .fake
        .interaction_command("about", json!([]), &Invoker::member());
    h.fake.dispatch_interaction(&i);
    h.fake.wait_callback(i.id, T).await.expect("a callback");
    h.fake.drop_gateway();
    h.fake.send_command("tip", json!([])).await;
    let status = h.bot.terminate(T).await;
    assert!(status.is_some(), "exits on SIGTERM");
    let logs = h.bot.logs();
    assert!(!logs.is_empty(), "the bot logs something");
    let secret = TOKEN.rsplit('.').next().unwrap();
    for (n, line) in logs.lines().enumerate() {
        assert!(!line.contains(TOKEN), "line {n} has the token: {line}");
        assert!(
            !line.contains(secret),
            "line {n} has the token's secret part: {line}"
        );
    }
}

#[tokio::test]
async fn a_missing_token_is_a_clear_error() {
    let fake = FakeDiscord::start().await;
    let mut bot = BotProcess::spawn_with(Some(&fake), &[], &["DISCORD_TOKEN"], &["run"]);
    let status = bot.wait_exit(T).await.expect("exits by itself");
    assert!(!status.success(), "non-zero exit: {status:?}");
    let logs = bot.logs();
    assert!(
        logs.contains("DISCORD_TOKEN"),
        "says what is missing: {logs}"
    );
    assert_eq!(fake.requests().len(), 0, "nothing sent to Discord");
}

#[tokio::test]
async fn a_malformed_token_is_refused_without_echoing_it() {
    let fake = FakeDiscord::start().await;
    let mut bot = BotProcess::spawn(&fake, &[("DISCORD_TOKEN", "not-a-token")]);
    let status = bot.wait_exit(T).await.expect("exits by itself");
    assert!(!status.success(), "non-zero exit: {status:?}");
    let logs = bot.logs();
    assert!(logs.contains("DISCORD_TOKEN"), "says what is wrong: {logs}");
    assert!(
        !logs.contains("not-a-token"),
        "the value is not printed: {logs}"
    );
    assert_eq!(fake.requests().len(), 0, "nothing sent to Discord");
}

#[tokio::test]
async fn sigterm_exits_cleanly() {
    let mut h = start_registered(&[]).await;
    h.fake.send_command("tip", json!([])).await;
    let asked = std::time::Instant::now();
    let status = h.bot.terminate(T).await.expect("exits within 10 s");
    let took = asked.elapsed();
    let logs = h.bot.logs();
    assert_eq!(status.code(), Some(0), "exit 0 on SIGTERM: {status:?}");
    assert!(
        took < Duration::from_secs(2),
        "took {took:?} to stop:\n{logs}"
    );
    assert!(!logs.contains("did not stop in time"), "{logs}");
    assert!(logs.contains("stopped"), "{logs}");
}

/// With Discord unreachable, serenity keeps retrying the shard and its own
/// shutdown does not stop it; SIGTERM must still end the process with 0 (a
/// container's `docker stop` would otherwise wait for the kill).
#[tokio::test]
async fn sigterm_exits_0_even_when_discord_is_unreachable() {
    let mut bot = BotProcess::spawn_with(
        None,
        &[("DISCORD_PROXY_URL", "http://127.0.0.1:9")],
        &[],
        &["run"],
    );
    assert!(
        bot.wait_for_log("connecting to Discord", Duration::from_secs(10))
            .await,
        "{}",
        bot.logs()
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let asked = std::time::Instant::now();
    let status = bot.terminate(Duration::from_secs(15)).await;
    let took = asked.elapsed();
    let logs = bot.logs();
    assert_eq!(status.and_then(|s| s.code()), Some(0), "logs:\n{logs}");
    assert!(took < Duration::from_secs(2), "took {took:?}:\n{logs}");
    assert!(!logs.contains("did not stop in time"), "{logs}");
}

/// The bot posts exactly what the command line prints: each callback's
/// embed is the card the shared engine and renderer make for that request.
#[tokio::test]
async fn discord_replies_are_the_cards_the_cli_prints() {
    use massage_bot::engine::{Engine, Request};
    use massage_bot::render::Card;
    use massage_bot::reply::Intent;

    let h = start_registered(&[]).await;
    let engine = Engine::load(None).unwrap();
    let cases = [
        (
            "benefits",
            json!([opt_str("topic", "sleep")]),
            engine.answer_topic(Intent::Benefits, "sleep"),
        ),
        (
            "safe",
            json!([opt_str("topic", "pregnancy")]),
            engine.answer_topic(Intent::Safe, "pregnancy"),
        ),
        (
            "ask",
            json!([opt_str("question", "is massage ok with varicose veins?")]),
            engine.answer(&Request::Ask("is massage ok with varicose veins?".into())),
        ),
        ("topics", json!([]), engine.answer(&Request::Topics)),
        ("about", json!([]), engine.answer(&Request::About)),
    ];
    for (name, options, reply) in cases {
        let body = h.fake.send_command(name, options).await;
        let embed = &body["data"]["embeds"][0];
        let card = Card::from_reply(&reply);
        assert_eq!(embed["title"], json!(card.title), "/{name}");
        assert_eq!(embed["description"], json!(card.description), "/{name}");
        assert_eq!(embed["footer"]["text"], json!(card.footer), "/{name}");
        assert_eq!(embed["color"], json!(card.color), "/{name}");
        let fields: Vec<(String, String)> = embed["fields"]
            .as_array()
            .map(|f| {
                f.iter()
                    .map(|f| {
                        (
                            f["name"].as_str().unwrap_or_default().to_owned(),
                            f["value"].as_str().unwrap_or_default().to_owned(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let expected: Vec<(String, String)> = card
            .fields
            .iter()
            .map(|f| (f.name.clone(), f.value.clone()))
            .collect();
        assert_eq!(fields, expected, "/{name}");
        let ephemeral = body["data"]["flags"].as_u64().unwrap_or(0) & 64 != 0;
        assert_eq!(ephemeral, reply.is_private(), "/{name}");
    }
}

/// LOG_FORMAT=json: one JSON object per line; one line per command with
/// command, outcome, topic and latency, and at most a short prefix of what
/// the user typed.
#[tokio::test]
async fn json_logs_have_one_line_per_command_with_a_bounded_query() {
    let h = start_registered(&[("LOG_FORMAT", "json"), ("RUST_LOG", "info")]).await;
    let long = format!("{} sleep", "zzzz ".repeat(400));
    h.fake
        .send_command("ask", json!([opt_str("question", &long)]))
        .await;
    h.fake
        .send_command("benefits", json!([opt_str("topic", "sleep")]))
        .await;
    assert!(
        h.bot.wait_for_log("\"topic\":\"sleep\"", T).await,
        "{}",
        h.bot.logs()
    );
    let logs = h.bot.logs();
    let mut answered = Vec::new();
    for line in logs.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        if v["fields"]["message"] == "answered" {
            answered.push(v);
        }
    }
    assert_eq!(answered.len(), 2, "{logs}");
    for v in &answered {
        let f = &v["fields"];
        for key in ["command", "outcome", "topic", "latency_us", "query"] {
            assert!(!f[key].is_null(), "{key} missing: {v}");
        }
        assert!(f["query"].as_str().unwrap().chars().count() <= 40, "{v}");
    }
    let benefits = answered
        .iter()
        .find(|v| v["fields"]["command"] == "benefits")
        .expect("a line for /benefits");
    assert_eq!(benefits["fields"]["outcome"], "answered");
    assert!(!logs.contains(&"zzzz ".repeat(20)), "user text not bounded");
}

// ----- the Quotes button ------------------------------------------------------

/// Clicks `custom_id` on the message a callback created, as another member;
/// returns the click's callback body.
async fn click(h: &Harness, on: &Value, custom_id: &str) -> Value {
    let message = support::message_from_callback(support::CHANNEL_ID, on);
    let i = h.fake.interaction_component(
        custom_id,
        message,
        &Invoker {
            user_id: support::snowflake(),
            ..Invoker::member()
        },
    );
    h.fake.send_interaction(&i).await
}

/// The one button labelled `label` under a callback's message.
fn button(body: &Value, label: &str) -> Value {
    let buttons: Vec<Value> = body["data"]["components"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|row| row["components"].as_array().cloned().unwrap_or_default())
        .filter(|b| b["label"] == label)
        .collect();
    assert_eq!(buttons.len(), 1, "one {label} button: {body:#}");
    buttons[0].clone()
}

fn quotes_engine() -> Engine {
    Engine::load(None).expect("embedded knowledge")
}

#[tokio::test]
async fn every_answer_has_a_quotes_button_that_answers_privately_with_the_quotes() {
    let h = start(&[]).await;
    let engine = quotes_engine();
    let body = h
        .fake
        .send_command("benefits", json!([opt_str("topic", "sleep")]))
        .await;
    assert_reply(&body, false);
    let quotes = button(&body, "Quotes");
    let id = quotes["custom_id"].as_str().unwrap().to_owned();
    assert!(id.len() <= 100, "{id}");

    let page = click(&h, &body, &id).await;
    let e = assert_reply(&page, true);
    assert!(title(&e).starts_with("Quotes behind this answer"), "{e:#}");
    let description = e["description"].as_str().unwrap_or("");
    // Every sentence of the answer, and every verbatim quote behind it.
    let reply = engine.answer_topic(massage_bot::reply::Intent::Benefits, "sleep");
    for said in engine.said(&reply.shown) {
        assert!(
            description.contains(&said.text),
            "{}: {description}",
            said.text
        );
        if let massage_bot::reply::Basis::Sources(quotes) = said.basis {
            for q in quotes {
                assert!(description.contains(&q.quote), "{}: {description}", q.quote);
                assert!(description.contains(&q.source.title), "{description}");
            }
        }
    }
    // Short enough for one page: no Previous / Next.
    assert!(support::button_ids(&page["data"]).is_empty(), "{page:#}");

    // A tip and a plain question carry the button too; /about does not.
    for (name, options) in [
        ("tip", json!([])),
        (
            "ask",
            json!([opt_str("question", "does massage help with anxiety?")]),
        ),
    ] {
        let body = h.fake.send_command(name, options).await;
        let id = button(&body, "Quotes")["custom_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let page = click(&h, &body, &id).await;
        assert_reply(&page, true);
    }
    let about = h.fake.send_command("about", json!([])).await;
    assert!(support::button_ids(&about["data"]).is_empty(), "{about:#}");
}

#[tokio::test]
async fn a_quotes_button_works_on_another_process_after_a_restart() {
    let first = start(&[]).await;
    let body = first
        .fake
        .send_command("safe", json!([opt_str("topic", "pregnancy")]))
        .await;
    let id = button(&body, "Quotes")["custom_id"]
        .as_str()
        .unwrap()
        .to_owned();
    drop(first);
    // A new fake and a new bot process: nothing of the first is left.
    let second = start(&[]).await;
    let page = click(&second, &body, &id).await;
    let e = assert_reply(&page, true);
    assert!(title(&e).starts_with("Quotes behind this answer"), "{e:#}");
    assert!(
        e["description"]
            .as_str()
            .unwrap_or("")
            .contains("qualified to do pregnancy massage"),
        "{e:#}"
    );
}

#[tokio::test]
async fn long_quotes_are_paged_with_previous_and_next() {
    let h = start(&[]).await;
    let engine = quotes_engine();
    let question = "can massage help anxiety, depression, sleep, stress, headaches and back pain?";
    let reply = engine.answer(&Request::Ask(question.into()));
    let pages = massage_bot::render::quotes::pages(&engine.said(&reply.shown)).len();
    assert!(
        pages >= 2,
        "the question must need two pages of quotes, has {pages}"
    );

    let body = h
        .fake
        .send_command("ask", json!([opt_str("question", question)]))
        .await;
    let id = button(&body, "Quotes")["custom_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let first = click(&h, &body, &id).await;
    let e = assert_reply(&first, true);
    assert_eq!(
        title(&e),
        format!("Quotes behind this answer (page 1 of {pages})")
    );
    assert_eq!(button(&first, "Previous")["disabled"], true, "{first:#}");
    assert_ne!(button(&first, "Next")["disabled"], true, "{first:#}");

    // Next replaces the page in place (type 7), and so on to the last.
    let mut on = first;
    for n in 2..=pages {
        let next = button(&on, "Next")["custom_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let turned = click(&h, &on, &next).await;
        assert_eq!(turned["type"], 7, "an update of the message: {turned:#}");
        assert_within_limits(&turned);
        assert_no_pings(&turned);
        let e = &turned["data"]["embeds"][0];
        assert_eq!(
            title(e),
            format!("Quotes behind this answer (page {n} of {pages})")
        );
        assert_eq!(e["footer"]["text"].as_str(), Some(caveat().as_str()));
        on = turned;
    }
    assert_eq!(button(&on, "Next")["disabled"], true, "{on:#}");
    assert!(
        on["data"]["embeds"][0]["description"]
            .as_str()
            .unwrap_or("")
            .contains("my own wording"),
        "the footnote ends the last page: {on:#}"
    );
    // And back.
    let prev = button(&on, "Previous")["custom_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let back = click(&h, &on, &prev).await;
    assert_eq!(back["type"], 7);
    assert!(title(&back["data"]["embeds"][0]).contains(&format!("page {} of", pages - 1)));
}

#[tokio::test]
async fn forged_and_stale_buttons_get_a_clear_private_reply() {
    let h = start(&[]).await;
    let engine = quotes_engine();
    let body = h
        .fake
        .send_command("benefits", json!([opt_str("topic", "sleep")]))
        .await;
    let good = button(&body, "Quotes")["custom_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let fp = format!("{:08x}", engine.fingerprint());
    let other = format!("{:08x}", engine.fingerprint() ^ 1);
    let cases = [
        (good.replace(&fp, &other), "earlier version of my knowledge"),
        ("q1:zz:b0".to_owned(), "don't recognise this button"),
        (format!("q1:{fp}:b9999"), "don't recognise this button"),
        (
            format!("q1:{fp}:b0;DROP TABLE"),
            "don't recognise this button",
        ),
        ("@everyone".to_owned(), "don't recognise this button"),
        ("x".repeat(100), "don't recognise this button"),
    ];
    for (id, says) in cases {
        let reply = click(&h, &body, &id).await;
        let e = assert_reply(&reply, true);
        assert_eq!(title(&e), "That button no longer works", "{id}: {e:#}");
        assert!(
            e["description"].as_str().unwrap_or("").contains(says),
            "{id}: {e:#}"
        );
        assert!(!e.to_string().contains("@everyone"), "{e:#}");
    }
    // The bot still answers after all that.
    let ok = h
        .fake
        .send_command("benefits", json!([opt_str("topic", "stress")]))
        .await;
    assert_reply(&ok, false);
}

// ----- Discord-native: follow-ups, the context menu, DMs, private answers ----

/// The embed an answer shows, without what varies between two sends.
fn shown(body: &Value) -> Value {
    embeds(body)[0].clone()
}

/// Every follow-up button (`a1:…`) under a callback's message.
fn follow_ups(body: &Value) -> Vec<String> {
    support::button_ids(&body["data"])
        .into_iter()
        .filter(|id| id.starts_with("a1:"))
        .collect()
}

/// The command a follow-up id stands for: (`benefits` or `safe`, topic).
fn typed(id: &str) -> (&'static str, String) {
    let mut parts = id.splitn(3, ':').skip(1);
    let command = match parts.next() {
        Some("b") => "benefits",
        Some("s") => "safe",
        other => panic!("not a follow-up id: {other:?}"),
    };
    (command, parts.next().unwrap().to_owned())
}

/// What typing the command a follow-up id stands for answers.
async fn typed_reply(h: &Harness, id: &str) -> Value {
    let (command, topic) = typed(id);
    h.fake
        .send_command(command, json!([opt_str("topic", &topic)]))
        .await
}

async fn click_as(h: &Harness, message: Value, custom_id: &str, user_id: u64) -> Value {
    let i = h.fake.interaction_component(
        custom_id,
        message,
        &Invoker {
            user_id,
            ..Invoker::member()
        },
    );
    h.fake.send_interaction(&i).await
}

/// Under an answer: the other side of its topic and its See-also topics.
/// Each click answers exactly as typing the command does: publicly for the
/// member who asked, privately for anyone else.
#[tokio::test]
async fn follow_up_buttons_answer_exactly_as_typing_the_command() {
    let h = start(&[]).await;
    let body = h
        .fake
        .send_command("safe", json!([opt_str("topic", "pregnancy")]))
        .await;
    assert_reply(&body, false);
    let ids = follow_ups(&body);
    assert!(ids.len() >= 2, "the other side and See also: {body:#}");
    let engine = quotes_engine();
    let pregnancy = engine
        .knowledge()
        .topics
        .iter()
        .find(|t| t.id.as_str() == "pregnancy")
        .expect("a pregnancy topic");
    assert_eq!(
        ids.contains(&"a1:b:pregnancy".to_owned()),
        pregnancy.benefits.is_some(),
        "the other side, when the topic has it: {ids:?}"
    );
    let message = support::message_from_callback(support::CHANNEL_ID, &body);
    let asked = support::answered_for(message.clone(), support::USER_ID, "safe");
    for id in &ids {
        let typed_body = typed_reply(&h, id).await;
        // The asker: the same reply, as public as typing it.
        let mine = click_as(&h, asked.clone(), id, support::USER_ID).await;
        assert_reply(&mine, is_ephemeral(&typed_body));
        assert_eq!(shown(&mine), shown(&typed_body), "{id}");
        assert_eq!(follow_ups(&mine), follow_ups(&typed_body), "{id}");
        // Anyone else: the same reply, only for them.
        let theirs = click_as(&h, asked.clone(), id, support::snowflake()).await;
        assert_reply(&theirs, true);
        assert_eq!(shown(&theirs), shown(&typed_body), "{id}");
    }
    // A message of unknown origin (no interaction metadata): private.
    let unknown = click_as(&h, message, &ids[0], support::USER_ID).await;
    assert_reply(&unknown, true);
}

/// "Did you mean" and "not covered" offer one button per suggestion,
/// each answering exactly as typing it would.
#[tokio::test]
async fn suggestions_have_a_button_each_that_answers_it() {
    let h = start(&[]).await;
    for (topic, kind) in [
        (did_you_mean_input(), "did you mean"),
        ("lottery numbers".to_owned(), "not covered"),
    ] {
        let body = h
            .fake
            .send_command("benefits", json!([opt_str("topic", &topic)]))
            .await;
        assert_reply(&body, true);
        let ids = follow_ups(&body);
        assert!(!ids.is_empty(), "{kind}: {body:#}");
        let asked = support::answered_for(
            support::message_from_callback(support::CHANNEL_ID, &body),
            support::USER_ID,
            "benefits",
        );
        for id in &ids {
            let typed_body = typed_reply(&h, id).await;
            let answer = click_as(&h, asked.clone(), id, support::USER_ID).await;
            assert_reply(&answer, is_ephemeral(&typed_body));
            assert_eq!(shown(&answer), shown(&typed_body), "{kind}: {id}");
        }
    }
}

/// Forged, stale and unknown follow-up ids get a clear private reply.
#[tokio::test]
async fn forged_follow_up_ids_get_a_clear_private_reply() {
    let h = start(&[]).await;
    let body = h
        .fake
        .send_command("benefits", json!([opt_str("topic", "sleep")]))
        .await;
    let message = support::message_from_callback(support::CHANNEL_ID, &body);
    for (id, says) in [
        ("a1:b:no-such-topic", "earlier version of my knowledge"),
        ("a1:b:../../etc", "don't recognise this button"),
        ("a1:z:sleep", "don't recognise this button"),
        ("a1:b:sleep:@everyone", "don't recognise this button"),
        ("a9:b:sleep", "don't recognise this button"),
    ] {
        let reply = click_as(&h, message.clone(), id, support::USER_ID).await;
        let e = assert_reply(&reply, true);
        assert_eq!(title(&e), "That button no longer works", "{id}: {e:#}");
        assert!(e.to_string().contains(says), "{id}: {e:#}");
    }
}

/// The message context menu answers the text of the message it is used
/// on, as /ask would, privately; crisis wording gets the crisis reply.
#[tokio::test]
async fn ask_about_a_message_answers_privately_as_ask_would() {
    let h = start(&[]).await;
    let question = "im 20 weeks pregnant, is a foot massage ok?";
    let target = support::user_message(support::CHANNEL_ID, question, support::snowflake());
    let i = h
        .fake
        .interaction_message_command("Ask massage-bot", target, &Invoker::member());
    let body = h.fake.send_interaction(&i).await;
    let e = assert_reply(&body, true);
    let typed_body = h
        .fake
        .send_command("ask", json!([opt_str("question", question)]))
        .await;
    assert_eq!(e, shown(&typed_body), "the same answer as /ask");
    assert!(e.to_string().to_lowercase().contains("pregnan"), "{e:#}");

    let crisis = support::user_message(
        support::CHANNEL_ID,
        "honestly i want to kill myself",
        support::snowflake(),
    );
    let i = h
        .fake
        .interaction_message_command("Ask massage-bot", crisis, &Invoker::member());
    let body = h.fake.send_interaction(&i).await;
    let e = assert_reply(&body, true);
    let engine = quotes_engine();
    let expected = engine.answer(&Request::Ask("honestly i want to kill myself".into()));
    assert_eq!(expected.kind, Kind::Crisis);
    assert_eq!(title(&e), expected.title, "{e:#}");

    // A message with no text (an image, an embed) gets a clear reply.
    let empty = support::user_message(support::CHANNEL_ID, "", support::snowflake());
    let i = h
        .fake
        .interaction_message_command("Ask massage-bot", empty, &Invoker::member());
    let body = h.fake.send_interaction(&i).await;
    let e = assert_reply(&body, true);
    assert!(title(&e).contains("no text"), "{e:#}");
}

/// In a DM (no guild, `user` instead of `member`) the Q&A commands answer
/// as in a server, and their buttons work; /tips says it is for servers.
#[tokio::test]
async fn commands_work_in_dms() {
    let h = start(&[]).await;
    let dm = Invoker::dm();
    for (name, options) in [
        ("safe", json!([opt_str("topic", "pregnancy")])),
        ("benefits", json!([opt_str("topic", "sleep")])),
        (
            "ask",
            json!([opt_str("question", "does massage help with anxiety?")]),
        ),
        ("tip", json!([])),
        ("about", json!([])),
    ] {
        let i = h.fake.interaction_command(name, options.clone(), &dm);
        let body = h.fake.send_interaction(&i).await;
        let typed_body = h.fake.send_command(name, options).await;
        assert_reply(&body, is_ephemeral(&typed_body));
        if name != "tip" {
            assert_eq!(shown(&body), shown(&typed_body), "/{name}");
        }
    }
    let i = h
        .fake
        .interaction_command("tips", json!([subcommand("show", json!([]))]), &dm);
    let body = h.fake.send_interaction(&i).await;
    assert_reply(&body, true);
}

/// `private: true` makes an answer ephemeral; false or absent keeps it
/// public.
#[tokio::test]
async fn the_private_option_makes_an_answer_ephemeral() {
    let h = start(&[]).await;
    let private = |v: bool| json!({"name": "private", "type": 5, "value": v});
    for (name, option) in [
        ("benefits", opt_str("topic", "sleep")),
        ("safe", opt_str("topic", "pregnancy")),
        ("ask", opt_str("question", "can massage help my back pain?")),
    ] {
        let public = h.fake.send_command(name, json!([option.clone()])).await;
        assert_reply(&public, false);
        let off = h
            .fake
            .send_command(name, json!([option.clone(), private(false)]))
            .await;
        assert_reply(&off, false);
        let on = h
            .fake
            .send_command(name, json!([option, private(true)]))
            .await;
        assert_reply(&on, true);
        assert_eq!(shown(&on), shown(&public), "/{name}");
    }
}

/// The shipped knowledge with `extra` copies of its first topic (new ids,
/// titles and aliases), written to a directory of its own.
fn grown_knowledge(extra: usize) -> tempfile::TempDir {
    let shipped = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/knowledge/knowledge.toml"
    ))
    .unwrap();
    let starts: Vec<usize> = shipped
        .match_indices("\n[[topics]]\n")
        .map(|(i, _)| i + 1)
        .collect();
    let first = &shipped[starts[0]..starts[1]];
    let id_line = first.lines().find(|l| l.starts_with("id = ")).unwrap();
    let title_line = first.lines().find(|l| l.starts_with("title = ")).unwrap();
    // Everything from `aliases = [` to the `]` that closes it, and the
    // `related` line (copies point nowhere).
    let aliases_at = first.find("aliases = [").unwrap();
    let aliases_end = aliases_at + first[aliases_at..].find("]\n").unwrap() + 2;
    let aliases = &first[aliases_at..aliases_end];
    let related = first
        .lines()
        .find(|l| l.starts_with("related = "))
        .map(|l| format!("{l}\n"))
        .unwrap_or_default();
    let names = [
        "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel",
    ];
    let colours = [
        "amber", "cobalt", "crimson", "indigo", "jade", "ochre", "olive", "teal",
    ];
    let sizes = ["small", "large", "tiny"];
    let mut copies = String::new();
    for i in 0..extra {
        let name = format!(
            "{} {} {}",
            names[i % 8],
            colours[i / 8 % 8],
            sizes[i / 64 % 3]
        );
        copies.push_str(
            &first
                .replacen(id_line, &format!("id = \"grown-{i}\""), 1)
                .replacen(title_line, &format!("title = \"Grown {name}\""), 1)
                .replacen(
                    aliases,
                    &format!("aliases = [\"{name} rest\", \"{name} calm\", \"{name} ease\"]\n"),
                    1,
                )
                .replacen(&related, "", 1),
        );
    }
    let tips = shipped.find("\n[[tips]]\n").unwrap() + 1;
    let grown = format!("{}{copies}{}", &shipped[..tips], &shipped[tips..]);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("knowledge.toml"), grown).unwrap();
    dir
}

/// A knowledge base six times the shipped one: `/topics` comes in pages
/// that each fit, turned in place by the asker and shown privately to
/// anyone else; a page that no longer exists gets a clear reply.
#[tokio::test]
async fn topics_come_in_pages_turned_with_buttons() {
    let knowledge = grown_knowledge(150);
    let path = knowledge.path().join("knowledge.toml");
    let h = start(&[("KNOWLEDGE_PATH", path.to_str().unwrap())]).await;
    let body = h.fake.send_command("topics", json!([])).await;
    let e = assert_reply(&body, false);
    let pages: usize = title(&e)
        .rsplit_once(" of ")
        .and_then(|(_, n)| n.trim_end_matches(')').parse().ok())
        .unwrap_or_else(|| panic!("a page count in the title: {e:#}"));
    assert!(pages > 1, "{e:#}");
    assert!(title(&e).contains("(page 1 of"), "{e:#}");
    assert_eq!(support::button_ids(&body["data"]), ["tp1:0", "tp1:1"]);

    let asked = support::answered_for(
        support::message_from_callback(support::CHANNEL_ID, &body),
        support::USER_ID,
        "topics",
    );
    let mut seen = e.to_string();
    for page in 1..pages {
        let turned = click_as(&h, asked.clone(), &format!("tp1:{page}"), support::USER_ID).await;
        assert_eq!(turned["type"], 7, "the page turns in place: {turned:#}");
        let e = turned["data"]["embeds"][0].clone();
        assert!(
            title(&e).contains(&format!("(page {} of {pages})", page + 1)),
            "{e:#}"
        );
        assert_eq!(e["footer"]["text"].as_str(), Some(caveat().as_str()));
        assert_within_limits(&turned);
        seen.push_str(&e.to_string());
    }
    for i in 0..150 {
        assert!(
            seen.contains(&format!("`grown-{i}`")),
            "grown-{i} on no page"
        );
    }
    // Someone else gets the page for themselves.
    let theirs = click_as(&h, asked.clone(), "tp1:1", support::snowflake()).await;
    assert_reply(&theirs, true);
    // A page past the end (the knowledge shrank since).
    let gone = click_as(&h, asked, "tp1:99", support::USER_ID).await;
    let e = assert_reply(&gone, true);
    assert_eq!(title(&e), "That button no longer works");
}

/// `/settings private-safety on: True` (Manage Server) makes this server's
/// safety answers private by default; an explicit `private` still wins,
/// other answers and other servers stay public; members without Manage
/// Server and DMs are refused.
#[tokio::test]
async fn a_server_can_make_safety_answers_private_by_default() {
    let h = start(&[]).await;
    let set = |on: bool| {
        json!([subcommand(
            "private-safety",
            json!([{"name": "on", "type": 5, "value": on}])
        )])
    };
    // A member without Manage Server cannot.
    let refused = h.fake.send_command("settings", set(true)).await;
    let e = assert_reply(&refused, true);
    assert_eq!(title(&e), "Manage Server needed", "{e:#}");
    let safe = || json!([opt_str("topic", "pregnancy")]);
    assert_reply(&h.fake.send_command("safe", safe()).await, false);

    let i = h
        .fake
        .interaction_command("settings", set(true), &Invoker::admin());
    let e = assert_reply(&h.fake.send_interaction(&i).await, true);
    assert_eq!(title(&e), "Safety answers are now private", "{e:#}");

    assert_reply(&h.fake.send_command("safe", safe()).await, true);
    let pregnant_ask = json!([opt_str("question", "is massage ok when pregnant?")]);
    assert_reply(&h.fake.send_command("ask", pregnant_ask).await, true);
    // Benefits stay public; an explicit choice wins.
    assert_reply(
        &h.fake
            .send_command("benefits", json!([opt_str("topic", "sleep")]))
            .await,
        false,
    );
    let shared = json!([
        opt_str("topic", "pregnancy"),
        {"name": "private", "type": 5, "value": false}
    ]);
    assert_reply(&h.fake.send_command("safe", shared).await, false);
    // Another server is not affected.
    let elsewhere = Invoker {
        guild_id: Some(GUILD_ID + 1),
        ..Invoker::member()
    };
    let i = h.fake.interaction_command("safe", safe(), &elsewhere);
    assert_reply(&h.fake.send_interaction(&i).await, false);

    // Turned off again: public.
    let i = h
        .fake
        .interaction_command("settings", set(false), &Invoker::admin());
    let e = assert_reply(&h.fake.send_interaction(&i).await, true);
    assert_eq!(title(&e), "Safety answers are now public", "{e:#}");
    assert_reply(&h.fake.send_command("safe", safe()).await, false);

    // Not in DMs.
    let i = h
        .fake
        .interaction_command("settings", set(true), &Invoker::dm());
    let e = assert_reply(&h.fake.send_interaction(&i).await, true);
    assert_eq!(title(&e), "Servers only", "{e:#}");
}
