//! The fake Discord against the real serenity client, without the product:
//! proves the fake speaks enough Discord for serenity 0.12 to connect, receive
//! interactions, answer them, register commands, post messages, see REST
//! failures, and reconnect after the gateway drops.

mod support;

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use serenity::all::{
    ChannelId, Command, CommandDataOptionValue, Context, CreateAutocompleteResponse, CreateCommand,
    CreateCommandOption, CreateEmbed, CreateInteractionResponse, CreateInteractionResponseMessage,
    CreateMessage, EventHandler, GatewayIntents, HttpBuilder, Interaction, Ready,
};
use serenity::client::ClientBuilder;
use support::{opt_str, subcommand, FakeDiscord, Fault, Invoker, ResumeMode, APP_ID, TOKEN};
use tokio::sync::mpsc;

const T: Duration = Duration::from_secs(10);

/// What the test client's handler observed.
#[derive(Debug)]
enum Seen {
    Ready {
        app: u64,
        registered: Result<usize, String>,
    },
    Answered {
        name: String,
        result: Result<(), String>,
    },
}

struct Handler {
    tx: mpsc::UnboundedSender<Seen>,
}

#[serenity::async_trait]
impl EventHandler for Handler {
    async fn ready(&self, ctx: Context, ready: Ready) {
        let commands = vec![
            CreateCommand::new("ping").description("Ping").add_option(
                CreateCommandOption::new(
                    serenity::all::CommandOptionType::String,
                    "topic",
                    "A topic",
                )
                .required(true)
                .set_autocomplete(true),
            ),
            CreateCommand::new("admin")
                .description("Admin things")
                .default_member_permissions(serenity::all::Permissions::MANAGE_GUILD)
                .add_option(CreateCommandOption::new(
                    serenity::all::CommandOptionType::SubCommand,
                    "show",
                    "Show",
                )),
        ];
        let registered = Command::set_global_commands(&ctx.http, commands)
            .await
            .map(|c| c.len())
            .map_err(|e| e.to_string());
        let _ = self.tx.send(Seen::Ready {
            app: ready.application.id.get(),
            registered,
        });
    }

    async fn interaction_create(&self, ctx: Context, interaction: Interaction) {
        match interaction {
            Interaction::Command(cmd) => {
                let arg = match cmd.data.options.first().map(|o| &o.value) {
                    Some(CommandDataOptionValue::String(s)) => s.clone(),
                    Some(CommandDataOptionValue::SubCommand(_)) => {
                        format!("sub {}", cmd.data.options[0].name)
                    }
                    _ => String::new(),
                };
                let who = cmd.user.name.clone();
                let perms = cmd
                    .member
                    .as_ref()
                    .and_then(|m| m.permissions)
                    .map(|p| p.bits())
                    .unwrap_or(0);
                let msg = CreateInteractionResponseMessage::new()
                    .content(format!(
                        "pong {} {arg} from {who} perms {perms}",
                        cmd.data.name
                    ))
                    .embed(
                        CreateEmbed::new()
                            .title("t")
                            .description("d")
                            .field("f", "v", false),
                    )
                    .allowed_mentions(serenity::all::CreateAllowedMentions::new())
                    .ephemeral(arg == "secret");
                let result = cmd
                    .create_response(&ctx.http, CreateInteractionResponse::Message(msg))
                    .await
                    .map_err(|e| e.to_string());
                let _ = self.tx.send(Seen::Answered {
                    name: cmd.data.name.clone(),
                    result,
                });
            }
            Interaction::Autocomplete(ac) => {
                let typed = ac
                    .data
                    .autocomplete()
                    .map(|o| o.value.to_owned())
                    .unwrap_or_default();
                let resp = CreateAutocompleteResponse::new()
                    .add_string_choice(format!("{typed}-1"), "one")
                    .add_string_choice(format!("{typed}-2"), "two");
                let result = ac
                    .create_response(&ctx.http, CreateInteractionResponse::Autocomplete(resp))
                    .await
                    .map_err(|e| e.to_string());
                let _ = self.tx.send(Seen::Answered {
                    name: ac.data.name.clone(),
                    result,
                });
            }
            _ => {}
        }
    }
}

struct Running {
    fake: FakeDiscord,
    rx: mpsc::UnboundedReceiver<Seen>,
    client: tokio::task::JoinHandle<()>,
    http: Arc<serenity::http::Http>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.client.abort();
    }
}

impl Running {
    async fn next(&mut self) -> Seen {
        tokio::time::timeout(T, self.rx.recv())
            .await
            .expect("handler reported nothing within 10 s")
            .expect("handler channel closed")
    }

    async fn answered(&mut self) -> (String, Result<(), String>) {
        loop {
            if let Seen::Answered { name, result } = self.next().await {
                return (name, result);
            }
        }
    }
}

async fn start() -> Running {
    let fake = FakeDiscord::start().await;
    let (tx, rx) = mpsc::unbounded_channel();
    let http = HttpBuilder::new(TOKEN)
        .proxy(fake.base_url())
        .ratelimiter_disabled(true)
        .build();
    let mut client = ClientBuilder::new_with_http(http, GatewayIntents::empty())
        .event_handler(Handler { tx })
        .await
        .expect("client builds");
    let http = client.http.clone();
    let task = tokio::spawn(async move {
        let _ = client.start().await;
    });
    let mut r = Running {
        fake,
        rx,
        client: task,
        http,
    };
    r.fake.wait_ready(T).await;
    match r.next().await {
        Seen::Ready { app, registered } => {
            assert_eq!(app, APP_ID, "application id from READY");
            assert_eq!(registered, Ok(2), "bulk registration parsed");
        }
        other => panic!("expected ready first, got {other:?}"),
    }
    r
}

#[tokio::test]
async fn serenity_connects_identifies_and_registers() {
    let r = start().await;
    let f = &r.fake;

    // REST went through the proxy base, with the bot token.
    let gw = f
        .wait_for(|q| q.is("GET", "/gateway"), T)
        .await
        .expect("GET /gateway");
    assert_eq!(gw.path, "/api/v10/gateway");
    assert_eq!(
        gw.header("authorization"),
        Some(format!("Bot {TOKEN}").as_str())
    );
    // Gateway: one connection, `?v=10`, no transport compression asked for.
    assert_eq!(f.gateway_queries(), vec![Some("v=10".to_owned())]);
    let identify = f
        .gateway_frames()
        .into_iter()
        .find(|fr| fr.op == 2)
        .expect("IDENTIFY");
    // serenity sends the token with its "Bot " prefix on the gateway too.
    assert_eq!(identify.payload["d"]["token"], format!("Bot {TOKEN}"));
    assert_eq!(
        identify.payload["d"]["compress"], true,
        "payload compression flag (text frames still fine)"
    );
    assert_eq!(identify.payload["d"]["intents"], 0);
    let s = f.gateway_stats();
    assert_eq!((s.connections, s.identifies, s.readies), (1, 1, 1));

    // Registration: PUT with both commands, answered as Command objects.
    let put = f
        .wait_for(
            |q| q.is("PUT", &format!("/applications/{APP_ID}/commands")),
            T,
        )
        .await
        .expect("PUT commands");
    assert_eq!(put.status, 200);
    let body = put.body.as_array().expect("array");
    assert_eq!(body[0]["name"], "ping");
    assert_eq!(body[0]["options"][0]["autocomplete"], true);
    assert_eq!(body[1]["default_member_permissions"], "32");
    let stored = f.registered_commands(None).expect("stored");
    assert!(stored.iter().all(|c| c["id"].is_string()));
    assert!(f.unknown_requests().is_empty(), "{}", f.describe_requests());
}

#[tokio::test]
async fn interactions_are_delivered_and_answered() {
    let mut r = start().await;

    let body = r
        .fake
        .send_command("ping", json!([opt_str("topic", "sleep")]))
        .await;
    assert_eq!(body["type"], 4);
    assert!(body["data"]["content"]
        .as_str()
        .unwrap()
        .starts_with("pong ping sleep from tester"));
    assert_eq!(body["data"]["embeds"][0]["title"], "t");
    assert!(body["data"].get("flags").is_none() || body["data"]["flags"] == 0);
    // serenity serialises an empty CreateAllowedMentions as all three lists empty.
    assert_eq!(
        body["data"]["allowed_mentions"],
        json!({"parse": [], "users": [], "roles": []})
    );
    assert_eq!(r.answered().await, ("ping".into(), Ok(())));

    // Ephemeral flag, admin permissions, subcommands, DMs.
    let body = r
        .fake
        .send_command("ping", json!([opt_str("topic", "secret")]))
        .await;
    assert_eq!(body["data"]["flags"], 64);
    assert_eq!(r.answered().await.1, Ok(()));
    let i = r.fake.interaction_command(
        "admin",
        json!([subcommand("show", json!([]))]),
        &Invoker::admin(),
    );
    let body = r.fake.send_interaction(&i).await;
    let content = body["data"]["content"].as_str().unwrap();
    assert!(content.contains("sub show"), "{content}");
    assert!(
        content.ends_with(&format!("perms {}", support::ADMIN_PERMISSIONS)),
        "{content}"
    );
    assert_eq!(r.answered().await.1, Ok(()));
    let i = r
        .fake
        .interaction_command("ping", json!([opt_str("topic", "x")]), &Invoker::dm());
    let body = r.fake.send_interaction(&i).await;
    assert!(body["data"]["content"]
        .as_str()
        .unwrap()
        .contains("from tester"));
    assert_eq!(r.answered().await.1, Ok(()));

    // Autocomplete.
    let body = r.fake.send_autocomplete("ping", "topic", "sle").await;
    assert_eq!(body["type"], 8);
    assert_eq!(body["data"]["choices"][0]["name"], "sle-1");
    assert_eq!(r.answered().await.1, Ok(()));

    assert_eq!(
        r.fake.count("POST", "/interactions/"),
        5,
        "{}",
        r.fake.describe_requests()
    );
}

#[tokio::test]
async fn rest_failures_reach_the_client() {
    let mut r = start().await;

    // 500 then 429 on the callback; the interaction after still works.
    r.fake.set_route_status("POST", "/interactions/", 500, 1);
    let body = r
        .fake
        .send_command("ping", json!([opt_str("topic", "a")]))
        .await;
    assert_eq!(body["type"], 4);
    let (_, res) = r.answered().await;
    assert!(
        res.unwrap_err().contains("500"),
        "500 surfaces as an HTTP error"
    );
    r.fake.set_route_status("POST", "/interactions/", 429, 1);
    r.fake
        .send_command("ping", json!([opt_str("topic", "b")]))
        .await;
    let (_, res) = r.answered().await;
    let err = res.unwrap_err();
    assert!(err.contains("rate limited") || err.contains("429"), "{err}");
    let last = r.fake.requests().pop().unwrap();
    assert_eq!(last.status, 429);
    r.fake
        .send_command("ping", json!([opt_str("topic", "c")]))
        .await;
    assert_eq!(r.answered().await.1, Ok(()));

    // Channel messages: success, then per-channel failures.
    let ch = ChannelId::new(4242);
    let m = ch
        .send_message(&r.http, CreateMessage::new().content("hello"))
        .await
        .expect("message parses");
    assert_eq!(m.content, "hello");
    assert_eq!(m.channel_id, ch);
    r.fake.fail_channel(4242, Fault::missing_access());
    let e = ch.say(&r.http, "again").await.unwrap_err().to_string();
    assert!(e.contains("Missing Access"), "{e}");
    r.fake.fail_channel(4242, Fault::unknown_channel());
    let e = ch.say(&r.http, "again").await.unwrap_err().to_string();
    assert!(e.contains("Unknown Channel"), "{e}");
    r.fake.clear_channel_failure(4242);
    ch.say(&r.http, "ok").await.expect("works again");
    assert_eq!(r.fake.channel_messages().len(), 2);

    // Discord's limits: a field value over 1024 is refused with 400.
    let e = ch
        .send_message(
            &r.http,
            CreateMessage::new().embed(CreateEmbed::new().field("f", "x".repeat(1025), false)),
        )
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("Invalid Form Body"), "{e}");

    // A callback for an interaction the fake never sent: Unknown interaction.
    let e = r
        .http
        .create_interaction_response(
            serenity::all::InteractionId::new(1),
            "nope",
            &json!({"type": 4, "data": {"content": "x"}}),
            vec![],
        )
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("Unknown interaction"), "{e}");

    // A second answer to an answered interaction: already acknowledged.
    let i = r.fake.interaction_command(
        "ping",
        json!([opt_str("topic", "twice")]),
        &Invoker::member(),
    );
    r.fake.send_interaction(&i).await;
    assert_eq!(r.answered().await.1, Ok(()));
    let e = r
        .http
        .create_interaction_response(
            serenity::all::InteractionId::new(i.id),
            &i.token,
            &json!({"type": 4, "data": {"content": "again"}}),
            vec![],
        )
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("already been acknowledged"), "{e}");

    // A 429 closes the route for `retry_after`: an early retry is limited again.
    r.fake
        .set_route_fault("POST", "/interactions/", Fault::rate_limited(0.3), 1);
    let i = r.fake.interaction_command(
        "ping",
        json!([opt_str("topic", "limited")]),
        &Invoker::member(),
    );
    r.fake.send_interaction(&i).await;
    assert!(r.answered().await.1.is_err());
    let retry = |http: Arc<serenity::http::Http>, i: support::Interaction| async move {
        http.create_interaction_response(
            serenity::all::InteractionId::new(i.id),
            &i.token,
            &json!({"type": 4, "data": {"content": "retry"}}),
            vec![],
        )
        .await
    };
    let e = retry(r.http.clone(), i.clone())
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("rate limited"), "{e}");
    tokio::time::sleep(Duration::from_millis(350)).await;
    retry(r.http.clone(), i.clone())
        .await
        .expect("allowed after retry_after");

    // Current user / application answer sensibly.
    let me = r.http.get_current_user().await.expect("users/@me");
    assert_eq!(me.id.get(), APP_ID);
    let app = r
        .http
        .get_current_application_info()
        .await
        .expect("applications/@me");
    assert_eq!(app.id.get(), APP_ID);
}

#[tokio::test]
async fn dropped_gateway_is_resumed_and_missed_events_replayed() {
    let mut r = start().await;
    r.fake
        .send_command("ping", json!([opt_str("topic", "a")]))
        .await;
    assert_eq!(r.answered().await.1, Ok(()));

    r.fake.drop_gateway();
    // Dispatched while nobody is connected: queued, delivered after RESUME.
    let body = r
        .fake
        .send_command("ping", json!([opt_str("topic", "after")]))
        .await;
    assert!(body["data"]["content"].as_str().unwrap().contains("after"));
    assert_eq!(r.answered().await.1, Ok(()));
    let s = r.fake.gateway_stats();
    assert_eq!(
        (s.connections, s.identifies, s.resumes, s.resumed),
        (2, 1, 1, 1),
        "{s:?}"
    );
    let resume = r
        .fake
        .gateway_frames()
        .into_iter()
        .find(|f| f.op == 6)
        .unwrap();
    assert_eq!(resume.payload["d"]["token"], format!("Bot {TOKEN}"));
    assert!(resume.payload["d"]["session_id"]
        .as_str()
        .unwrap()
        .starts_with("session"));

    // A close frame (4000, unknown error) also leads to a resume.
    r.fake.close_gateway(4000, "unknown error");
    r.fake
        .send_command("ping", json!([opt_str("topic", "b")]))
        .await;
    assert_eq!(r.answered().await.1, Ok(()));
    assert_eq!(r.fake.gateway_stats().resumed, 2);
    // Registration happened once: READY came once.
    assert_eq!(r.fake.count("PUT", "/applications/"), 1);
}

#[tokio::test]
async fn invalid_session_makes_the_client_identify_again() {
    let mut r = start().await;
    r.fake.set_resume_mode(ResumeMode::InvalidSession);
    r.fake.drop_gateway();
    // serenity re-identifies through its shard queuer, which waits 5 s
    // between two IDENTIFYs of a process.
    let s = r
        .fake
        .wait_gateway(|s| s.identifies == 2 && s.live, Duration::from_secs(15))
        .await
        .unwrap_or_else(|| panic!("no second IDENTIFY: {:?}", r.fake.gateway_stats()));
    assert_eq!(s.invalid_sessions, 1);
    // A second READY: the test handler registers again (the product must not).
    assert!(matches!(r.next().await, Seen::Ready { .. }));
    let body = r
        .fake
        .send_command("ping", json!([opt_str("topic", "again")]))
        .await;
    assert!(body["data"]["content"].as_str().unwrap().contains("again"));
}
