//! Routes gateway events: registers commands once, answers interactions.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use serenity::all::{
    AutocompleteChoice, CommandInteraction, ComponentInteraction, Context,
    CreateAutocompleteResponse, CreateInteractionResponse, EventHandler, GuildId, Interaction,
    InteractionId, MessageInteractionMetadata, Ready, ResolvedTarget, ResolvedValue, ResumedEvent,
    ShardStageUpdateEvent, UserId,
};
use serenity::http::Http;
use tokio::sync::oneshot;

use super::buttons::{self, BadClick, Click};
use super::commands::{self, BotCommand};
use super::rest::{Rest, RestError};
use super::tap::TapEvent;
use super::{embed, settings, tips};
use crate::engine::{Engine, Request};
use crate::health::Metrics;
use crate::prefs::PrefsStore;
use crate::reply::{Command, Intent, Kind, Reply, Shown};
use crate::tips::{Clock, TipsAdmin};

/// At most this many characters of user text reach a log line.
const LOG_QUERY_CHARS: usize = 40;
/// Discord wants the first answer within 3 s; a retry after a failed
/// callback is only worth it well inside that.
const RETRY_DEADLINE: Duration = Duration::from_millis(2000);
/// Replies in flight at once. Each holds an HTTP connection; without a cap a
/// burst of interactions opens one connection each and memory balloons,
/// while a few dozen keep the pool warm and the throughput the same.
const REPLY_SLOTS: usize = 32;
/// Discord drops an autocomplete answer after 3 s: one that cannot get a
/// reply slot by this age is dropped (counted) rather than sent late.
const AUTOCOMPLETE_DEADLINE: Duration = Duration::from_millis(2500);
/// Registering the commands is tried this often before waiting for the
/// next READY.
const REGISTER_TRIES: u32 = 5;

/// Where the first response to an interaction goes: the same handler code
/// answers the gateway and the HTTP endpoint.
pub(super) enum Responder {
    /// Gateway: a callback request to Discord.
    Callback { id: InteractionId, token: String },
    /// HTTP endpoint: the body of the response to Discord's own request.
    /// Only the first response can go there.
    Body(std::sync::Mutex<Option<oneshot::Sender<Box<CreateInteractionResponse>>>>),
}

impl Responder {
    pub(super) fn callback(id: InteractionId, token: &str) -> Responder {
        Responder::Callback {
            id,
            token: token.to_owned(),
        }
    }

    /// A responder for the HTTP endpoint, and where its response arrives.
    pub(super) fn body() -> (Responder, oneshot::Receiver<Box<CreateInteractionResponse>>) {
        let (tx, rx) = oneshot::channel();
        (Responder::Body(std::sync::Mutex::new(Some(tx))), rx)
    }

    async fn respond(
        &self,
        http: &Http,
        response: CreateInteractionResponse,
    ) -> serenity::Result<()> {
        match self {
            Responder::Callback { id, token } => {
                http.create_interaction_response(*id, token, &response, Vec::new())
                    .await
            }
            Responder::Body(slot) => {
                let sender = slot.lock().unwrap_or_else(|e| e.into_inner()).take();
                match sender.map(|s| s.send(Box::new(response))) {
                    Some(Ok(())) => Ok(()),
                    Some(Err(_)) => Err(serenity::Error::Other(
                        "Discord's request was gone before the answer was ready",
                    )),
                    None => Err(serenity::Error::Other(
                        "the interaction was already answered",
                    )),
                }
            }
        }
    }

    /// Whether a failed response is worth sending again: a callback is.
    fn can_retry(&self) -> bool {
        matches!(self, Responder::Callback { .. })
    }
}

pub struct Handler<C: Clock> {
    engine: Arc<Engine>,
    metrics: Arc<Metrics>,
    dev_guild: Option<GuildId>,
    /// Commands are registered once per process, not on every READY.
    registered: AtomicBool,
    readies: AtomicU64,
    bot_user: OnceLock<UserId>,
    /// `/tips`; set once the scheduler it talks to exists.
    tips: OnceLock<TipsAdmin<C>>,
    reply_slots: tokio::sync::Semaphore,
    rest: OnceLock<Arc<Rest>>,
    /// Each server's `/settings`.
    prefs: OnceLock<Arc<dyn PrefsStore>>,
}

impl<C: Clock> Handler<C> {
    pub fn new(engine: Arc<Engine>, metrics: Arc<Metrics>, dev_guild: Option<u64>) -> Arc<Self> {
        Arc::new(Handler {
            engine,
            metrics,
            dev_guild: dev_guild.map(GuildId::new),
            registered: AtomicBool::new(false),
            readies: AtomicU64::new(0),
            bot_user: OnceLock::new(),
            tips: OnceLock::new(),
            reply_slots: tokio::sync::Semaphore::new(REPLY_SLOTS),
            rest: OnceLock::new(),
            prefs: OnceLock::new(),
        })
    }

    pub fn set_rest(&self, rest: Arc<Rest>) {
        let _ = self.rest.set(rest);
    }

    pub fn set_prefs(&self, prefs: Arc<dyn PrefsStore>) {
        let _ = self.prefs.set(prefs);
    }

    pub(super) fn prefs(&self) -> Option<&Arc<dyn PrefsStore>> {
        self.prefs.get()
    }

    /// Whether `reply` goes only to whoever asked: their `private` choice,
    /// else the server's `/settings private-safety` for safety answers.
    /// A server whose settings cannot be read gets the default (public):
    /// the answer is not withheld for it.
    async fn private_by_default(&self, guild: Option<GuildId>, reply: &Reply) -> bool {
        let safety = reply.command == Command::Safe
            || reply.intent == Some(Intent::Safe)
            || !reply.warnings.is_empty();
        let (Some(guild), Some(prefs), true) = (guild, self.prefs.get(), safety) else {
            return false;
        };
        match prefs.prefs(crate::tips::GuildId(guild.get())).await {
            Ok(p) => p.private_safety,
            Err(e) => {
                tracing::warn!(guild = %guild, error = %e, "cannot read server settings; answering publicly");
                false
            }
        }
    }

    pub fn set_tips(&self, tips: TipsAdmin<C>) {
        let _ = self.tips.set(tips);
    }

    pub(super) fn tips(&self) -> Option<&TipsAdmin<C>> {
        self.tips.get()
    }

    /// Who the bot is, when no READY says it (the HTTP endpoint).
    pub(super) fn set_bot_user(&self, id: UserId) {
        let _ = self.bot_user.set(id);
    }

    /// Counts a request answered with "could not read that".
    pub(super) fn count_malformed(&self) {
        self.metrics.command("unknown", "malformed", Duration::ZERO);
    }

    pub(super) fn bot_user(&self) -> Option<UserId> {
        self.bot_user.get().copied()
    }

    pub(super) fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Registers the slash commands (a bulk overwrite), waiting out a 429's
    /// `retry_after` and retrying a 5xx a few times.
    async fn register(&self, ctx: &Context) {
        if self.registered.swap(true, Ordering::SeqCst) {
            return;
        }
        let (Some(rest), Some(application_id)) = (self.rest.get(), ctx.http.application_id())
        else {
            self.registered.store(false, Ordering::SeqCst);
            tracing::error!("cannot register slash commands: no application id yet");
            return;
        };
        match register_commands(rest, application_id, self.dev_guild).await {
            Ok(count) => {
                tracing::info!(count, guild = ?self.dev_guild, "slash commands registered")
            }
            Err(e) => {
                // Try again on the next READY.
                self.registered.store(false, Ordering::SeqCst);
                tracing::error!(error = %e, "registering slash commands failed; will retry on the next connection");
            }
        }
    }

    /// Answers what the gateway tap found: a malformed interaction gets a
    /// private "could not read that" reply (an empty list for autocomplete),
    /// so the member never sees "the application did not respond".
    pub(super) async fn on_tapped(&self, http: &serenity::http::Http, event: TapEvent) {
        match event {
            TapEvent::MalformedInteraction {
                id,
                token,
                application_id,
                kind,
                error,
            } => {
                let ours = http.application_id().map(|a| a.get());
                if application_id.is_some() && ours.is_some() && application_id != ours {
                    return;
                }
                tracing::warn!(interaction = id, kind = ?kind, %error,
                    "Discord sent an interaction that could not be read; answering with an error");
                let response = self.unreadable_response(kind);
                let _slot = self.reply_slots.acquire().await.ok();
                let id = serenity::all::InteractionId::new(id.max(1));
                if let Err(e) = http
                    .create_interaction_response(id, &token, &response, Vec::new())
                    .await
                {
                    tracing::warn!(interaction = %id, error = %e, "could not answer a malformed interaction");
                }
                self.count_malformed();
            }
            TapEvent::UnreadableFrame {
                event,
                bytes,
                error,
            } => {
                tracing::warn!(event = event.as_deref().unwrap_or("-"), bytes, %error,
                    "Discord sent a gateway event that could not be read; ignored");
            }
            TapEvent::ShardingRequired => {}
        }
    }

    /// The reply to a request that cannot be understood at all.
    fn unreadable_request(&self) -> Reply {
        Reply::new(
            Command::Unknown,
            Kind::Error,
            "Sorry, I couldn't read that request",
            "Discord sent your command in a form I don't understand. Please try it again; if it keeps happening, use /benefits, /safe or /ask.",
            &self.engine.knowledge().caveat,
        )
    }

    /// The engine's answer, or a polite error if the engine panicked.
    fn answer_safely(&self, command: &str, f: impl FnOnce(&Engine) -> Reply) -> Reply {
        std::panic::catch_unwind(AssertUnwindSafe(|| f(&self.engine))).unwrap_or_else(|_| {
            tracing::error!(command, "internal error while answering");
            self.internal_error()
        })
    }

    pub(super) fn internal_error(&self) -> Reply {
        Reply::new(
            Command::Unknown,
            Kind::Error,
            "Sorry, something went wrong",
            "I couldn't answer that just now. Please try again in a moment.",
            &self.engine.knowledge().caveat,
        )
    }

    async fn on_command(&self, http: &Http, responder: &Responder, cmd: CommandInteraction) {
        let started = Instant::now();
        let Some(command) = BotCommand::parse(&cmd.data.name, cmd.data.kind) else {
            let name = cmd.data.name.clone();
            let reply = self.answer_safely("unknown", |e| {
                e.answer(&Request::Unknown {
                    name,
                    rest: String::new(),
                })
            });
            let response =
                CreateInteractionResponse::Message(embed::response(&reply, &self.engine));
            let sent = self
                .send("unknown", started, http, responder, response)
                .await;
            self.log_outcome("unknown", &reply, started, sent.as_ref().err());
            return;
        };
        let label = command.label();
        let options = cmd.data.options();
        let text = |key: &str| {
            options
                .iter()
                .find(|o| o.name == key)
                .and_then(|o| match o.value {
                    ResolvedValue::String(s) => Some(s.to_owned()),
                    _ => None,
                })
                .unwrap_or_default()
        };
        let asked_private = options.iter().find_map(|o| match o.value {
            ResolvedValue::Boolean(b) if o.name == "private" => Some(b),
            _ => None,
        });
        let reply = match command {
            BotCommand::Tips => {
                // Boxed: its state is large, and inlined it would make every
                // interaction's future (allocated up front) as large.
                Box::pin(tips::handle(self, http, responder, &cmd, started)).await;
                return;
            }
            BotCommand::Settings => {
                Box::pin(settings::handle(self, http, responder, &cmd, started)).await;
                return;
            }
            BotCommand::Benefits => {
                let topic = text("topic");
                self.answer_safely(label, |e| e.answer_topic(Intent::Benefits, &topic))
            }
            BotCommand::Safe => {
                let topic = text("topic");
                self.answer_safely(label, |e| e.answer_topic(Intent::Safe, &topic))
            }
            BotCommand::Ask => {
                let question = text("question");
                self.answer_safely(label, |e| e.answer(&Request::Ask(question)))
            }
            BotCommand::AskAboutMessage => match cmd.data.target() {
                Some(ResolvedTarget::Message(m)) if !m.content.trim().is_empty() => {
                    let question = m.content.clone();
                    self.answer_safely(label, |e| e.answer(&Request::Ask(question)))
                }
                _ => Reply::new(
                    Command::Ask,
                    Kind::Error,
                    "There is no text in that message to ask about",
                    "Use Ask massage-bot on a message with a question in it, or ask with /ask.",
                    &self.engine.knowledge().caveat,
                ),
            },
            BotCommand::Tip => self.answer_safely(label, |e| e.answer(&Request::Tip)),
            BotCommand::Topics => {
                let reply = self.answer_safely(label, |e| e.answer(&Request::Topics));
                let (page, pages) = topics_page(&reply, 0);
                let mut message = embed::response(&page, &self.engine)
                    .components(buttons::topics_pager_rows(0, pages));
                if asked_private == Some(true) {
                    message = message.ephemeral(true);
                }
                let response = CreateInteractionResponse::Message(message);
                let sent = self.send(label, started, http, responder, response).await;
                self.log_outcome(label, &page, started, sent.as_ref().err());
                return;
            }
            BotCommand::About => self.answer_safely(label, |e| e.answer(&Request::About)),
        };
        // An answer about someone else's message is for the one who asked.
        let private = command == BotCommand::AskAboutMessage
            || match asked_private {
                Some(choice) => choice,
                None => self.private_by_default(cmd.guild_id, &reply).await,
            };
        let mut message = embed::response(&reply, &self.engine);
        if private {
            message = message.ephemeral(true);
        }
        let response = CreateInteractionResponse::Message(message);
        let sent = self.send(label, started, http, responder, response).await;
        self.log_outcome(label, &reply, started, sent.as_ref().err());
    }

    /// Sends an interaction response under a reply slot, once more after a
    /// failure worth retrying while Discord still waits for it.
    pub(super) async fn send(
        &self,
        name: &str,
        started: Instant,
        http: &Http,
        responder: &Responder,
        response: CreateInteractionResponse,
    ) -> serenity::Result<()> {
        // The semaphore is never closed; if it were, reply anyway.
        let _slot = self.reply_slots.acquire().await.ok();
        // HTTP futures are large; boxed so that an interaction waiting for a
        // reply slot stays small (a burst holds thousands).
        let mut sent = Box::pin(responder.respond(http, response.clone())).await;
        if let Err(e) = &sent {
            tracing::warn!(command = %name, error = %e, "interaction reply failed");
            if responder.can_retry() && retryable(e) && started.elapsed() < RETRY_DEADLINE {
                tokio::time::sleep(Duration::from_millis(150)).await;
                sent = Box::pin(responder.respond(http, response)).await;
            }
        }
        sent
    }

    /// A button click. The id says everything (see `buttons`): a follow-up
    /// answers as typing its command would; Quotes opens a private message,
    /// whose Previous/Next turn its page in place.
    async fn on_component(&self, http: &Http, responder: &Responder, click: ComponentInteraction) {
        let started = Instant::now();
        let (name, reply, response) = match buttons::parse(&self.engine, &click.data.custom_id) {
            Ok(Click::Answer { intent, topic }) => {
                let label = intent.command().as_str();
                let reply = self.answer_safely(label, |e| e.answer_topic(intent, topic.as_str()));
                let mut message = embed::response(&reply, &self.engine);
                if !clicked_by_asker(&click)
                    || self.private_by_default(click.guild_id, &reply).await
                {
                    message = message.ephemeral(true);
                }
                (label, reply, CreateInteractionResponse::Message(message))
            }
            Ok(Click::TopicsPage { page }) => {
                let label = BotCommand::Topics.label();
                let reply = self.answer_safely(label, |e| e.answer(&Request::Topics));
                let (shown_page, pages) = topics_page(&reply, page);
                if page >= pages {
                    self.bad_click(&click, BadClick::Stale)
                } else {
                    let rows = buttons::topics_pager_rows(page, pages);
                    // The asker turns the page in place; anyone else gets the
                    // page for themselves rather than changing it for all.
                    let response = if clicked_by_asker(&click) {
                        CreateInteractionResponse::UpdateMessage(
                            embed::update(&shown_page).components(rows),
                        )
                    } else {
                        CreateInteractionResponse::Message(
                            embed::response(&shown_page, &self.engine)
                                .components(rows)
                                .ephemeral(true),
                        )
                    };
                    (label, shown_page, response)
                }
            }
            Ok(Click::Quotes(shown)) => self.quotes(shown, 0, false),
            Ok(Click::QuotesPage { shown, page }) => self.quotes(shown, page, true),
            Err(bad) => self.bad_click(&click, bad),
        };
        let sent = self.send(name, started, http, responder, response).await;
        self.log_outcome(name, &reply, started, sent.as_ref().err());
    }

    /// The private reply to a button that cannot be answered.
    fn bad_click(
        &self,
        click: &ComponentInteraction,
        bad: BadClick,
    ) -> (&'static str, Reply, CreateInteractionResponse) {
        let custom_id: String = click.data.custom_id.chars().take(LOG_QUERY_CHARS).collect();
        tracing::info!(%custom_id, error = %bad, "button not understood");
        let summary = match bad {
            BadClick::Stale => "This button belongs to an earlier version of my knowledge. Ask again and use the button under the new answer.",
            BadClick::Unknown => "I don't recognise this button, so I can't tell what it was for. Ask your question again with /benefits, /safe or /ask.",
        };
        let reply = Reply::new(
            Command::Quotes,
            Kind::Error,
            "That button no longer works",
            summary,
            &self.engine.knowledge().caveat,
        );
        let message = embed::response(&reply, &self.engine);
        ("quotes", reply, CreateInteractionResponse::Message(message))
    }

    /// Page `page` of the quotes behind `shown`: a new private message, or
    /// with `turn` the page of the message clicked.
    fn quotes(
        &self,
        shown: Vec<Shown>,
        page: usize,
        turn: bool,
    ) -> (&'static str, Reply, CreateInteractionResponse) {
        let caveat = &self.engine.knowledge().caveat;
        let said = self.engine.said(&shown);
        let (reply, page, pages) = crate::render::quotes::page_reply(&said, page, caveat);
        let rows = buttons::pager_rows(&self.engine, &shown, page, pages);
        let response = if turn {
            // An update keeps the message's own flags (it is private).
            CreateInteractionResponse::UpdateMessage(embed::update(&reply).components(rows))
        } else {
            CreateInteractionResponse::Message(
                embed::response(&reply, &self.engine).components(rows),
            )
        };
        ("quotes", reply, response)
    }

    pub(super) fn log_outcome(
        &self,
        name: &str,
        reply: &Reply,
        started: Instant,
        error: Option<&serenity::Error>,
    ) {
        let latency = started.elapsed();
        let outcome = match (error, reply.kind) {
            (Some(_), _) => "failed",
            (
                None,
                Kind::Answer
                | Kind::NoSection
                | Kind::Tip
                | Kind::Topics
                | Kind::About
                | Kind::Quotes,
            ) => "answered",
            (None, Kind::DidYouMean) => "did_you_mean",
            (None, Kind::NotCovered) => "not_covered",
            (None, Kind::Error) => "error",
            (None, Kind::Crisis) => "crisis",
        };
        // Metric labels come from our own table, never from user input.
        let command = BotCommand::ALL
            .iter()
            .map(|c| c.label())
            .chain([Command::Quotes.as_str()])
            .find(|n| *n == name)
            .unwrap_or("unknown");
        self.metrics.command(command, outcome, latency);
        let query: String = reply.query.chars().take(LOG_QUERY_CHARS).collect();
        let topic = reply.topic.as_ref().map(|t| t.as_str()).unwrap_or("-");
        match error {
            Some(e) => {
                tracing::error!(command, outcome, topic, %query, latency_us = latency.as_micros() as u64, error = %e, "reply not delivered")
            }
            None => {
                tracing::info!(command, outcome, topic, %query, latency_us = latency.as_micros() as u64, "answered")
            }
        }
    }

    async fn on_autocomplete(&self, http: &Http, responder: &Responder, ac: CommandInteraction) {
        let started = Instant::now();
        // Bounded like replies, so a burst cannot open a connection each;
        // an answer that would arrive too late is not sent at all.
        let Ok(Ok(_slot)) = tokio::time::timeout(
            AUTOCOMPLETE_DEADLINE.saturating_sub(started.elapsed()),
            self.reply_slots.acquire(),
        )
        .await
        else {
            self.metrics.autocomplete_dropped();
            tracing::debug!(command = %ac.data.name, "autocomplete dropped: no reply slot in time");
            return;
        };
        let choices: Vec<AutocompleteChoice> = match ac.data.autocomplete() {
            // No focused option (malformed): an empty list is still an answer.
            None => Vec::new(),
            Some(focused) => self.choices(&ac.data.name, focused.name, focused.value),
        };
        let response = CreateInteractionResponse::Autocomplete(
            CreateAutocompleteResponse::new().set_choices(choices),
        );
        if let Err(e) = Box::pin(responder.respond(http, response)).await {
            tracing::warn!(command = %ac.data.name, error = %e, "autocomplete reply failed");
        }
    }

    fn choices(&self, command: &str, option: &str, value: &str) -> Vec<AutocompleteChoice> {
        match (command, option) {
            ("benefits", _) | ("safe", _) => {
                let intent = if command == "safe" {
                    Intent::Safe
                } else {
                    Intent::Benefits
                };
                std::panic::catch_unwind(AssertUnwindSafe(|| {
                    self.engine.autocomplete(value, intent, 25)
                }))
                .unwrap_or_default()
                .into_iter()
                .map(|c| AutocompleteChoice::new(c.name, c.value.to_string()))
                .collect()
            }
            ("tips", "timezone") => crate::tips::search_timezones(value, 25)
                .into_iter()
                .map(|tz| AutocompleteChoice::new(tz.name(), tz.name()))
                .collect(),
            _ => Vec::new(),
        }
    }
}

/// Page `page` of the `/topics` reply (the last if past the end), and how
/// many pages there are.
fn topics_page(reply: &Reply, page: usize) -> (Reply, usize) {
    let mut pages = crate::render::section_pages(reply);
    let count = pages.len();
    let page = pages.swap_remove(page.min(count.saturating_sub(1)));
    (page, count)
}

/// Whether a follow-up button was clicked by the member whose command made
/// the message it is under: then the follow-up is exactly what typing its
/// command gives, public or not. Anyone else's click (or one under a daily
/// tip, or a message of unknown origin) gets a private answer, so nobody
/// posts in a channel by clicking under someone else's question.
fn clicked_by_asker(click: &ComponentInteraction) -> bool {
    let message = &click.message;
    #[allow(deprecated)]
    let asker = match message.interaction_metadata.as_deref() {
        Some(MessageInteractionMetadata::Command(m)) => Some(m.user.id),
        Some(MessageInteractionMetadata::Component(m)) => Some(m.user.id),
        _ => message.interaction.as_ref().map(|i| i.user.id),
    };
    asker == Some(click.user.id)
}

/// Registers the slash commands (a bulk overwrite, globally or in one
/// server), waiting out a 429's `retry_after` and retrying a 5xx or a
/// network failure a few times. Returns how many were registered.
pub(super) async fn register_commands(
    rest: &Rest,
    application_id: serenity::all::ApplicationId,
    guild: Option<GuildId>,
) -> Result<usize, RestError> {
    let defs = commands::all();
    let count = defs.len();
    let body = serde_json::to_vec(&defs)
        .map_err(|e| RestError::Other(format!("cannot encode the slash commands: {e}")))?;
    let route = match guild {
        Some(guild_id) => serenity::http::Route::GuildCommands {
            application_id,
            guild_id,
        },
        None => serenity::http::Route::Commands { application_id },
    };
    let bucket = format!("{:?}", route.ratelimiting_bucket());
    let mut attempt = 1;
    loop {
        let request = serenity::http::Request::new(route, serenity::http::LightMethod::Put)
            .body(Some(body.clone()));
        let wait = match rest.send(request, bucket.clone()).await {
            Ok(_) => return Ok(count),
            Err(RestError::RateLimited { retry_after, .. }) if attempt < REGISTER_TRIES => {
                retry_after
            }
            Err(
                e @ (RestError::Network(_)
                | RestError::Status {
                    status: 500..=599, ..
                }),
            ) if attempt < REGISTER_TRIES => {
                tracing::warn!(error = %e, attempt, "registering slash commands failed; retrying");
                Duration::from_secs(1 << attempt)
            }
            Err(e) => return Err(e),
        };
        tracing::warn!(
            retry_in_ms = wait.as_millis() as u64,
            attempt,
            "slash command registration rate limited or failed; waiting"
        );
        tokio::time::sleep(wait).await;
        attempt += 1;
    }
}

/// A 5xx or a network failure is worth one more try. A 429 is not: serenity
/// drops `retry_after`, so a quick retry would only hit the same limit (with
/// a proxy, the proxy is the one that rate-limits).
pub(super) fn retryable(e: &serenity::Error) -> bool {
    match e {
        serenity::Error::Http(serenity::http::HttpError::UnsuccessfulRequest(r)) => {
            r.status_code.is_server_error()
        }
        serenity::Error::Http(serenity::http::HttpError::Request(_)) => true,
        _ => false,
    }
}

/// Sees every gateway event before serenity's typed dispatch, which drops
/// an interaction it cannot parse (serenity passes it on only as an unknown
/// event): those get an error reply instead of silence.
pub struct RawEvents<C: Clock>(pub Arc<Handler<C>>);

#[serenity::async_trait]
impl<C: Clock> serenity::all::RawEventHandler for RawEvents<C> {
    async fn raw_event(&self, ctx: Context, event: serenity::all::Event) {
        let serenity::all::Event::Unknown(unknown) = event else {
            return;
        };
        if unknown.kind != "INTERACTION_CREATE" {
            return;
        }
        let error = "an interaction the client library could not read".to_owned();
        match super::tap::interaction(Some(&unknown.value), error.clone()) {
            Some(found) => self.0.on_tapped(&ctx.http, found).await,
            None => {
                self.0
                    .on_tapped(
                        &ctx.http,
                        TapEvent::UnreadableFrame {
                            event: Some(unknown.kind),
                            bytes: 0,
                            error,
                        },
                    )
                    .await
            }
        }
    }
}

#[serenity::async_trait]
impl<C: Clock> EventHandler for Handler<C> {
    async fn ready(&self, ctx: Context, ready: Ready) {
        let _ = self.bot_user.set(ready.user.id);
        let n = self.readies.fetch_add(1, Ordering::SeqCst);
        if n > 0 {
            self.metrics.gateway_reconnected();
        }
        tracing::info!(user = %ready.user.name, guilds = ready.guilds.len(), session = n + 1, "gateway ready");
        self.register(&ctx).await;
    }

    async fn resume(&self, _ctx: Context, _event: ResumedEvent) {
        self.metrics.gateway_reconnected();
        tracing::info!("gateway session resumed");
    }

    async fn shard_stage_update(&self, _ctx: Context, event: ShardStageUpdateEvent) {
        tracing::debug!(shard = %event.shard_id, old = ?event.old, new = ?event.new, "shard stage");
    }

    async fn interaction_create(&self, ctx: Context, interaction: Interaction) {
        let responder = match &interaction {
            Interaction::Command(i) | Interaction::Autocomplete(i) => {
                Responder::callback(i.id, &i.token)
            }
            Interaction::Component(i) => Responder::callback(i.id, &i.token),
            Interaction::Modal(i) => Responder::callback(i.id, &i.token),
            Interaction::Ping(i) => Responder::callback(i.id, &i.token),
            other => {
                // Anything newer has no reply type we could know to be valid.
                tracing::warn!(kind = ?other.kind(), "interaction of an unexpected kind ignored");
                return;
            }
        };
        self.dispatch(&ctx.http, &responder, interaction).await;
    }
}

impl<C: Clock> Handler<C> {
    /// Answers one interaction, from the gateway or the HTTP endpoint.
    pub(super) async fn dispatch(
        &self,
        http: &Http,
        responder: &Responder,
        interaction: Interaction,
    ) {
        match interaction {
            Interaction::Command(cmd) => self.on_command(http, responder, cmd).await,
            Interaction::Autocomplete(ac) => self.on_autocomplete(http, responder, ac).await,
            Interaction::Component(click) => self.on_component(http, responder, click).await,
            Interaction::Ping(_) => {
                if let Err(e) = responder
                    .respond(http, CreateInteractionResponse::Pong)
                    .await
                {
                    tracing::warn!(error = %e, "could not answer a ping");
                }
            }
            Interaction::Modal(_) => {
                // The bot opens no forms; answer rather than leave it hanging.
                let started = Instant::now();
                let reply = self.unreadable_request();
                let response = CreateInteractionResponse::Message(
                    embed::response(&reply, &self.engine).ephemeral(true),
                );
                let sent = self
                    .send("unknown", started, http, responder, response)
                    .await;
                self.log_outcome("unknown", &reply, started, sent.as_ref().err());
            }
            other => {
                tracing::warn!(kind = ?other.kind(), "interaction of an unexpected kind ignored");
            }
        }
    }

    /// The response to a request that could not be read at all: a private
    /// "could not read that" (an empty list for autocomplete), never silence.
    pub(super) fn unreadable_response(&self, kind: Option<u64>) -> CreateInteractionResponse {
        if kind == Some(4) {
            CreateInteractionResponse::Autocomplete(CreateAutocompleteResponse::new())
        } else {
            let reply = self.unreadable_request();
            CreateInteractionResponse::Message(
                embed::response(&reply, &self.engine).ephemeral(true),
            )
        }
    }
}
