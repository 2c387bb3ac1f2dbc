//! Command line: parses arguments and wires the library's parts together.

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use chrono::NaiveDate;
use clap::{Parser, Subcommand};
use massage_bot::config::LogFormat;
use massage_bot::engine::{Engine, Request};
use massage_bot::render;

/// Answers questions about the benefits and the safety of massage from a
/// curated, cited knowledge base; every reply ends with a doctor caveat.
///
/// Start with `massage-bot console`: it needs no Discord at all.
#[derive(Parser)]
#[command(name = "massage-bot", version, about, long_about = None)]
struct Cli {
    /// Knowledge file to use instead of the embedded one (sources are read
    /// from `sources/` beside it).
    #[arg(long, global = true, env = "KNOWLEDGE_PATH", value_name = "PATH")]
    knowledge: Option<PathBuf>,
    /// Log lines as `text` or `json`.
    #[arg(
        long,
        global = true,
        env = "LOG_FORMAT",
        default_value = "text",
        value_name = "FORMAT"
    )]
    log_format: String,
    #[command(subcommand)]
    command: Command,
}

/// `run`'s settings: each from its flag or, as usual, its environment
/// variable (`.env` included). Checked in `BotConfig::from_raw`.
#[derive(clap::Args)]
struct RunArgs {
    /// The bot token. Give it in the environment or .env, not on a command
    /// line (where other users can see it).
    #[arg(long, env = "DISCORD_TOKEN", hide = true, hide_env_values = true)]
    token: Option<String>,
    /// Register the commands to this server only (instant, for testing).
    #[arg(long, env = "DEV_GUILD_ID", value_name = "ID")]
    dev_guild_id: Option<String>,
    /// Send REST calls through this proxy and ask it for the gateway URL.
    #[arg(long, env = "DISCORD_PROXY_URL", value_name = "URL")]
    proxy_url: Option<String>,
    /// The tip database (default: sqlite://data/massage-bot.db).
    #[arg(long, env = "DATABASE_URL", value_name = "URL")]
    database_url: Option<String>,
    /// Serve /healthz and /metrics on this HOST:PORT.
    #[arg(long, env = "HEALTH_ADDR", value_name = "HOST:PORT")]
    health_addr: Option<String>,
    /// Stop (so a supervisor can restart the bot and someone notices) when
    /// the gateway has been unreachable this long, in seconds.
    #[arg(long, env = "GATEWAY_GIVE_UP_SECS", value_name = "SECONDS")]
    gateway_give_up_secs: Option<String>,
    /// Daily tips started per second at most (1-50, default 45: Discord
    /// allows 50 requests a second per bot).
    #[arg(long, env = "DISCORD_RATE_LIMIT", value_name = "PER_SECOND")]
    rate_limit: Option<String>,
    /// With replicas on PostgreSQL: how long a replica's claim on a tip
    /// keeps the others off it, in seconds (default 60). A replica killed
    /// mid-post has its tip sent by another this long after.
    #[arg(long, env = "TIP_LEASE_SECS", value_name = "SECONDS")]
    tip_lease_secs: Option<String>,
}

#[derive(clap::Args)]
struct ServeArgs {
    #[command(flatten)]
    bot: RunArgs,
    /// The application's public key (Developer Portal > General
    /// Information), which Discord signs each request with.
    #[arg(long, env = "DISCORD_PUBLIC_KEY", value_name = "HEX")]
    public_key: Option<String>,
    /// Listen for POST /interactions (and /healthz, /metrics) here
    /// (default: 0.0.0.0:8080).
    #[arg(long, env = "INTERACTIONS_ADDR", value_name = "HOST:PORT")]
    interactions_addr: Option<String>,
}

impl From<RunArgs> for massage_bot::config::RawBotConfig {
    fn from(a: RunArgs) -> Self {
        Self {
            token: a.token,
            dev_guild_id: a.dev_guild_id,
            proxy_url: a.proxy_url,
            database_url: a.database_url,
            health_addr: a.health_addr,
            gateway_give_up_secs: a.gateway_give_up_secs,
            rate_limit: a.rate_limit,
            tip_lease_secs: a.tip_lease_secs,
        }
    }
}

#[derive(Subcommand)]
enum Command {
    /// Answer queries offline, exactly as the bot would reply.
    ///
    /// `/benefits sleep`, `/safe pregnancy`, `/tip`, `/topics`, `/about`; a
    /// query without a slash is a plain question (`/ask`). With no QUERY,
    /// reads one query per line from standard input.
    Ask {
        /// The query; several words are joined with spaces.
        query: Vec<String>,
        /// Print one JSON object per query (command, query, intent, topic,
        /// suggestions, text, caveat, ...).
        #[arg(long)]
        json: bool,
        /// After each answer, print every sentence it shows with the
        /// verbatim quotes and source titles behind it (or mark it as the
        /// bot's own advice). With --json, adds `quotes` to the object.
        #[arg(long)]
        quotes: bool,
    },
    /// Interactive prompt with the bot's slash commands, line editing and history.
    Console,
    /// List the topics the bot knows.
    Topics {
        /// Print every topic with id, title, aliases, sections and sources
        /// (document and quote), and the tips, as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print the daily tip for a date, for a server with a fresh rotation.
    Tip {
        /// The date (YYYY-MM-DD); today (UTC) by default.
        #[arg(long, value_name = "YYYY-MM-DD")]
        date: Option<NaiveDate>,
    },
    /// Work with the knowledge base.
    Knowledge {
        #[command(subcommand)]
        command: KnowledgeCommand,
    },
    /// Check or recover the tip database (see README "Operations").
    Db {
        /// The database (default: DATABASE_URL, else the bot's default file).
        #[arg(long, env = "DATABASE_URL", default_value = massage_bot::storage::DEFAULT_DATABASE_URL, value_name = "URL")]
        database: String,
        #[command(subcommand)]
        command: DbCommand,
    },
    /// Connect to Discord and serve slash commands and daily tips.
    ///
    /// Configuration comes from the environment and `.env`: DISCORD_TOKEN
    /// (required), DEV_GUILD_ID, DISCORD_PROXY_URL, DATABASE_URL,
    /// HEALTH_ADDR, KNOWLEDGE_PATH, RUST_LOG, LOG_FORMAT. See .env.example.
    Run(RunArgs),
    /// Answer Discord's interactions as signed HTTP requests at
    /// POST /interactions (an Interactions Endpoint URL): no gateway and no
    /// shards. Also posts the daily tips and serves /healthz and /metrics on
    /// the same address.
    ///
    /// Needs DISCORD_PUBLIC_KEY as well as run's settings; listens on
    /// INTERACTIONS_ADDR (default 0.0.0.0:8080). Register the commands once
    /// with `massage-bot register`.
    Serve(ServeArgs),
    /// Register the slash commands with Discord over REST (in DEV_GUILD_ID
    /// only, when set), for deployments that run `serve`; `run` registers
    /// them itself.
    Register(RunArgs),
    /// Probe a running bot's /healthz (exit 0 when healthy); for container
    /// health checks, where no curl is available.
    Healthcheck {
        /// host:port of the health endpoint (default: HEALTH_ADDR, else 127.0.0.1:8080).
        #[arg(env = "HEALTH_ADDR", default_value = "127.0.0.1:8080")]
        addr: String,
    },
}

#[derive(Subcommand)]
enum KnowledgeCommand {
    /// Validate a knowledge file and list every problem (exit 1 if any).
    Check {
        /// The file to check (default: --knowledge, or the embedded one).
        path: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum DbCommand {
    /// Look for damage and count the readable tip settings, without changing
    /// the file (exit 0 if sound, 1 if damaged).
    Check,
    /// Print every readable server's tip settings, one JSON object per line
    /// (exit 1 if some could not be read, after printing the rest).
    Export,
    /// Read `db export` lines from standard input into the database
    /// (created if missing): each server's schedule, on/off, pause and last
    /// post.
    Import,
}

/// `println!` that returns the write error instead of panicking, so that
/// `massage-bot topics --json | head` ends quietly (see `main`).
macro_rules! say {
    ($($arg:tt)*) => {
        writeln!(std::io::stdout().lock(), $($arg)*)?
    };
}

/// Why a command did not succeed. Its exit code is decided in one place,
/// [`Failure::exit`]: 2 for configuration or knowledge the program refuses,
/// 1 for anything else.
enum Failure {
    /// Configuration or a knowledge file refused; the explanation to print.
    Invalid(String),
    /// A check said no (unhealthy, damaged, invalid file); what it found has
    /// been printed.
    No,
    /// Anything else, printed as `error: …` with its causes.
    Error(anyhow::Error),
}

impl<E: Into<anyhow::Error>> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure::Error(e.into())
    }
}

impl Failure {
    fn exit(self) -> ExitCode {
        match self {
            Failure::Invalid(why) => {
                eprintln!("{why}");
                ExitCode::from(2)
            }
            Failure::No => ExitCode::FAILURE,
            // The reader went away (`| head`): stop quietly, like other tools.
            Failure::Error(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
            Failure::Error(e) => {
                eprintln!("error: {e:#}");
                ExitCode::FAILURE
            }
        }
    }
}

fn main() -> ExitCode {
    // A missing .env is normal; a broken one is reported by the variables' checks.
    let _ = dotenvy::dotenv();
    let matches = <Cli as clap::CommandFactory>::command().get_matches();
    // Said when the knowledge file cannot be loaded: a path nobody typed
    // (it came from .env) is otherwise a puzzle.
    let knowledge_from_env =
        matches.value_source("knowledge") == Some(clap::parser::ValueSource::EnvVariable);
    let cli = match <Cli as clap::FromArgMatches>::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    init_logging(
        matches!(
            cli.command,
            Command::Run(_) | Command::Serve(_) | Command::Register(_)
        ),
        LogFormat::parse(&cli.log_format),
    );
    match run(cli, knowledge_from_env) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.exit(),
    }
}

fn init_logging(bot: bool, format: LogFormat) {
    // serenity's own INFO spans format every HTTP request's fields; at
    // thousands of interactions a second that halves throughput. Our own
    // lines (one per command, connection changes) stay at info.
    let default = if bot { "info,serenity=warn" } else { "warn" };
    #[cfg(feature = "discord")]
    massage_bot::logging::init(
        format,
        default,
        massage_bot::discord::tap::MUTED_TARGETS,
        massage_bot::discord::tap::layer(),
    );
    #[cfg(not(feature = "discord"))]
    massage_bot::logging::init(
        format,
        default,
        &[],
        tracing_subscriber::layer::Identity::new(),
    );
}

/// Loads the engine or explains, in the same words for every command, why not.
fn load(path: Option<&std::path::Path>, from_env: bool) -> Result<Engine, Failure> {
    Engine::load(path).map_err(|e| {
        let mut why = format!("error: {e}");
        if from_env {
            why.push_str(
                "\n(the knowledge file was named by KNOWLEDGE_PATH, from the environment or .env)",
            );
        }
        Failure::Invalid(why)
    })
}

fn run(cli: Cli, knowledge_from_env: bool) -> Result<(), Failure> {
    let knowledge = cli.knowledge.as_deref();
    let load = |path| load(path, knowledge_from_env);
    match cli.command {
        Command::Knowledge {
            command: KnowledgeCommand::Check { path },
        } => {
            let path = path.as_deref().or(knowledge);
            match Engine::load(path) {
                Ok(engine) => {
                    let k = engine.knowledge();
                    say!(
                        "ok: {} topics, {} tips, {} sources, {} exclusions, {} vocabulary terms, {} crisis rules",
                        k.topics.len(),
                        k.tips.len(),
                        k.sources.len(),
                        k.excluded.len(),
                        k.vocabulary.terms.len(),
                        k.crisis.rules.len()
                    );
                    Ok(())
                }
                Err(e) => {
                    // The one check whose "no" is exit 1: the problems are
                    // its answer, not a refusal to run.
                    eprintln!("error: {e}");
                    Err(Failure::No)
                }
            }
        }
        Command::Ask {
            query,
            json,
            quotes,
        } => {
            let style = Style { json, quotes };
            let engine = load(knowledge)?;
            let mut out = std::io::stdout().lock();
            if query.is_empty() {
                for line in std::io::stdin().lock().lines() {
                    let line = line.context("reading standard input")?;
                    if line.trim().is_empty() && !json {
                        continue;
                    }
                    print_answer(&mut out, &engine, &line, style)?;
                }
            } else {
                print_answer(&mut out, &engine, &query.join(" "), style)?;
            }
            Ok(())
        }
        Command::Console => {
            let engine = load(knowledge)?;
            massage_bot::console::run(&engine)?;
            Ok(())
        }
        Command::Topics { json } => {
            let engine = load(knowledge)?;
            if json {
                say!("{}", serde_json::to_string_pretty(engine.knowledge())?);
            } else {
                say!("{}", render::text(&engine.answer(&Request::Topics)));
            }
            Ok(())
        }
        Command::Tip { date } => {
            let engine = load(knowledge)?;
            let date = date.unwrap_or_else(|| chrono::Utc::now().date_naive());
            let index = massage_bot::tips::tip_for_date(date, engine.knowledge().tips.len())
                .context(
                "no tip for that date (the knowledge base has no tips, or the date is before 1970)",
            )?;
            say!("{}", render::text(&engine.daily_tip(index, date)));
            Ok(())
        }
        Command::Db { database, command } => db(&database, command),
        #[cfg(not(feature = "discord"))]
        Command::Healthcheck { .. }
        | Command::Run(_)
        | Command::Serve(_)
        | Command::Register(_) => Err(Failure::Invalid(
            "error: this massage-bot was built without Discord (--no-default-features); \
             build it with the default features to run the bot"
                .to_owned(),
        )),
        #[cfg(feature = "discord")]
        Command::Healthcheck { addr } => {
            // A bot bound to all interfaces is probed on loopback.
            let addr = addr.replace("0.0.0.0", "127.0.0.1");
            match massage_bot::health::probe(&addr, std::time::Duration::from_secs(3)) {
                Ok(200) => Ok(()),
                Ok(code) => {
                    eprintln!("unhealthy: /healthz answered {code}");
                    Err(Failure::No)
                }
                Err(e) => {
                    eprintln!("unhealthy: cannot reach {addr}: {e}");
                    Err(Failure::No)
                }
            }
        }
        #[cfg(feature = "discord")]
        Command::Run(args) => {
            let config = massage_bot::config::BotConfig::from_raw(args.into())
                .map_err(|e| Failure::Invalid(format!("error: {e}")))?;
            let engine = load(knowledge)?;
            run_bot(massage_bot::discord::run(config, engine))
        }
        #[cfg(feature = "discord")]
        Command::Serve(args) => {
            let raw = massage_bot::config::RawServeConfig {
                public_key: args.public_key,
                interactions_addr: args.interactions_addr,
            };
            let config = massage_bot::config::ServeConfig::from_raw(args.bot.into(), raw)
                .map_err(|e| Failure::Invalid(format!("error: {e}")))?;
            let engine = load(knowledge)?;
            run_bot(massage_bot::discord::serve(config, engine))
        }
        #[cfg(feature = "discord")]
        Command::Register(args) => {
            let config = massage_bot::config::BotConfig::from_raw(args.into())
                .map_err(|e| Failure::Invalid(format!("error: {e}")))?;
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .context("starting the async runtime")?;
            let count = runtime.block_on(massage_bot::discord::register(&config))?;
            match config.dev_guild_id {
                Some(guild) => say!("registered {count} commands in server {guild}"),
                None => say!("registered {count} commands globally"),
            }
            Ok(())
        }
    }
}

/// Runs the bot (`run` or `serve`) on a multi-threaded runtime until it
/// stops.
#[cfg(feature = "discord")]
fn run_bot(
    bot: impl std::future::Future<Output = Result<(), massage_bot::discord::DiscordError>>,
) -> Result<(), Failure> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let result = runtime.block_on(bot);
    // A serenity task that never yields (it can spin after some gateway
    // faults) must not keep the process alive.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    result?;
    Ok(())
}

/// How `ask` prints each answer.
#[derive(Clone, Copy)]
struct Style {
    json: bool,
    quotes: bool,
}

fn print_answer(
    out: &mut impl Write,
    engine: &Engine,
    line: &str,
    style: Style,
) -> anyhow::Result<()> {
    let reply = engine.answer(&Request::parse(line));
    let said = style.quotes.then(|| engine.said(&reply.shown));
    if style.json {
        let mut json = render::json(&reply);
        json.quotes = said;
        serde_json::to_writer(&mut *out, &json)?;
        writeln!(out)?;
    } else {
        writeln!(out, "{}\n", render::text(&reply))?;
        if let Some(said) = said {
            writeln!(out, "{}\n", render::quotes::text(&said))?;
        }
    }
    Ok(())
}

/// `massage-bot db check|export|import`.
fn db(url: &str, command: DbCommand) -> Result<(), Failure> {
    use massage_bot::storage::{DatabaseUrl, SqliteStore};
    let path = match DatabaseUrl::parse(url) {
        Ok(DatabaseUrl::SqliteFile(path)) => path,
        Ok(DatabaseUrl::Postgres(url)) => return db_postgres(&url, command),
        Ok(DatabaseUrl::SqliteMemory) => {
            return Err(Failure::Invalid(
                "error: DATABASE_URL names an in-memory database; there is no file to check"
                    .to_owned(),
            ));
        }
        Err(e) => return Err(Failure::Invalid(format!("error: {e}"))),
    };
    match command {
        DbCommand::Check => {
            let store = match SqliteStore::open_read_only(&path) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("damaged: {e}");
                    eprintln!("Nothing can be read from this file. Move it aside and start the bot with a fresh one, or restore a backup (README, \"Operations\").");
                    return Err(Failure::No);
                }
            };
            let report = store.check()?;
            if report.is_ok() {
                say!(
                    "ok: {} — schema version {}, {} servers with tip settings",
                    path.display(),
                    report.schema_version,
                    report.readable
                );
                return Ok(());
            }
            say!("damaged: {}", path.display());
            for p in &report.problems {
                say!("  {p}");
            }
            say!(
                "{} servers' tip settings can be read; {} rows or runs of rows cannot.",
                report.readable,
                report.skipped
            );
            say!("To recover (README, \"Operations\"): stop the bot, then");
            say!("  massage-bot db export > settings.jsonl");
            say!("  mv {0} {0}.damaged", path.display());
            say!("  massage-bot db import < settings.jsonl");
            Err(Failure::No)
        }
        DbCommand::Export => {
            let store = SqliteStore::open_read_only(&path)?;
            let (rows, skipped) = store.export();
            let mut out = std::io::stdout().lock();
            for row in &rows {
                serde_json::to_writer(&mut out, row)?;
                writeln!(out)?;
            }
            out.flush()?;
            eprintln!("exported {} servers' tip settings", rows.len());
            if skipped > 0 {
                eprintln!("{skipped} rows or runs of rows could not be read and are missing");
                return Err(Failure::No);
            }
            Ok(())
        }
        DbCommand::Import => {
            let rows = read_export()?;
            let store = SqliteStore::open(&path)?;
            let n = current_thread()?.block_on(massage_bot::storage::import(
                &store,
                &rows,
                chrono::Utc::now(),
            ))?;
            say!("imported {n} servers' tip settings into {}", path.display());
            Ok(())
        }
    }
}

/// `db check|import` on a PostgreSQL database (`export` is `pg_dump`'s job).
fn db_postgres(url: &str, command: DbCommand) -> Result<(), Failure> {
    use massage_bot::storage::PgStore;
    let runtime = current_thread()?;
    let store = runtime.block_on(PgStore::connect(url))?;
    match command {
        DbCommand::Check => {
            let version = runtime.block_on(store.schema_version())?;
            say!("ok: PostgreSQL answers — schema version {version}");
            Ok(())
        }
        DbCommand::Export => Err(Failure::Invalid(
            "error: `db export` reads a SQLite file; back up PostgreSQL with pg_dump".to_owned(),
        )),
        DbCommand::Import => {
            let rows = read_export()?;
            let n = runtime.block_on(massage_bot::storage::import(
                &store,
                &rows,
                chrono::Utc::now(),
            ))?;
            say!("imported {n} servers' tip settings into PostgreSQL");
            Ok(())
        }
    }
}

/// The `db export` lines on standard input, each checked.
fn read_export() -> anyhow::Result<Vec<massage_bot::storage::ExportedSettings>> {
    let mut rows = Vec::new();
    for (n, line) in std::io::stdin().lock().lines().enumerate() {
        let line = line.context("reading standard input")?;
        if line.trim().is_empty() {
            continue;
        }
        let row: massage_bot::storage::ExportedSettings = serde_json::from_str(&line)
            .with_context(|| format!("line {}: not a `db export` line", n + 1))?;
        row.to_settings()
            .with_context(|| format!("line {}", n + 1))?;
        rows.push(row);
    }
    Ok(rows)
}

fn current_thread() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

/// Whether an error comes from writing to a closed pipe.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .map(std::io::Error::kind)
            .or_else(|| {
                cause
                    .downcast_ref::<serde_json::Error>()
                    .and_then(serde_json::Error::io_error_kind)
            })
            == Some(std::io::ErrorKind::BrokenPipe)
    })
}
