//! The command line end to end: the built `massage-bot` binary, run as a
//! user would, in an empty working directory (so no `.env` is read) and with
//! none of the bot's variables inherited from the test environment.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use massage_bot::knowledge::Knowledge;
use serde_json::Value;
use tempfile::TempDir;

#[path = "support/damage.rs"]
mod damage;

/// Every variable the program reads.
const VARS: &[&str] = &[
    "DISCORD_TOKEN",
    "DEV_GUILD_ID",
    "DISCORD_PROXY_URL",
    "KNOWLEDGE_PATH",
    "DATABASE_URL",
    "HEALTH_ADDR",
    "RUST_LOG",
    "LOG_FORMAT",
];

/// Well-formed but fake: it gets past the format check, never to Discord.
const FAKE_TOKEN: &str = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GabcDE.abcdefghijklmnopqrstuvwxyz0123456789AB";

/// A scratch working directory and a command running the binary in it.
struct Cli {
    dir: TempDir,
}

impl Cli {
    fn new() -> Cli {
        Cli {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_massage-bot"));
        cmd.args(args)
            .current_dir(self.dir.path())
            .stdin(Stdio::null());
        for var in VARS {
            cmd.env_remove(var);
        }
        cmd
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().unwrap()
    }

    /// The command with standard input, output and error all piped.
    fn piped(&self, args: &[&str]) -> Command {
        let mut cmd = self.cmd(args);
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    }

    fn run_with_stdin(&self, args: &[&str], input: &str) -> Output {
        let mut child = self.piped(args).spawn().unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    }
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).unwrap()
}

#[track_caller]
fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        stdout(&out),
        stderr(&out)
    );
    stdout(&out)
}

fn caveat() -> String {
    Knowledge::embedded().unwrap().caveat.as_str().to_owned()
}

fn shipped_knowledge() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge/knowledge.toml")
}

#[test]
fn help_for_every_command_names_its_purpose() {
    let cli = Cli::new();
    let top = ok(cli.run(&["--help"]));
    assert!(top.contains("benefits and safety of massage"), "{top}");
    for (args, purpose) in [
        (&["ask"][..], "Answer queries offline"),
        (&["console"], "Interactive prompt"),
        (&["topics"], "List the topics"),
        (&["tip"], "daily tip"),
        (&["knowledge"], "knowledge base"),
        (&["knowledge", "check"], "Validate a knowledge file"),
        (&["run"], "Connect to Discord"),
        (&["healthcheck"], "/healthz"),
    ] {
        let name = args.join(" ");
        assert!(
            top.contains(args[0]),
            "`{}` missing from --help:\n{top}",
            args[0]
        );
        let mut with_help = args.to_vec();
        with_help.push("--help");
        let help = ok(cli.run(&with_help));
        assert!(help.contains(purpose), "`{name} --help`:\n{help}");
        assert!(
            help.contains("Usage: massage-bot"),
            "`{name} --help`:\n{help}"
        );
    }
    let version = ok(cli.run(&["--version"]));
    assert!(version.contains(env!("CARGO_PKG_VERSION")), "{version}");
}

#[test]
fn ask_answers_with_the_caveat() {
    let cli = Cli::new();
    let text = ok(cli.run(&["ask", "/benefits sleep"]));
    assert!(text.contains("Sleep"), "{text}");
    assert!(text.contains(&caveat()), "{text}");
    // Several words are joined into one query.
    let joined = ok(cli.run(&["ask", "/benefits", "sleep"]));
    assert_eq!(joined, text);
}

const JSON_KEYS: &[&str] = &[
    "command",
    "query",
    "intent",
    "topic",
    "suggestions",
    "text",
    "caveat",
    "topics",
    "warnings",
];

#[test]
fn ask_json_reads_one_query_per_line_from_stdin() {
    let cli = Cli::new();
    let queries = [
        "/benefits sleep",
        "/safe pregnancy",
        "is massage good for back pain?",
        "/tip",
        "/topics",
        "/benefits qwertyuiop",
    ];
    let out = ok(cli.run_with_stdin(&["ask", "--json"], &(queries.join("\n") + "\n")));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), queries.len(), "{out}");
    let caveat = caveat();
    for (line, query) in lines.iter().zip(queries) {
        let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        for key in JSON_KEYS {
            assert!(v.get(key).is_some(), "{key} missing for {query}: {line}");
        }
        assert!(v["suggestions"].is_array(), "{line}");
        assert_eq!(v["caveat"], caveat.as_str(), "{line}");
        assert!(
            v["text"].as_str().unwrap().contains(&caveat),
            "every reply ends with the caveat: {line}"
        );
    }
    let first: Value = serde_json::from_str(lines[0]).unwrap();
    assert_eq!(first["command"], "benefits");
    assert_eq!(first["query"], "sleep");
    assert_eq!(first["topic"], "sleep");
    assert_eq!(first["intent"], "benefits");
}

#[test]
fn safe_pregnancy_as_json() {
    let cli = Cli::new();
    let out = ok(cli.run(&["ask", "/safe pregnancy", "--json"]));
    assert_eq!(out.lines().count(), 1, "{out}");
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["topic"], "pregnancy", "{out}");
    assert_eq!(v["intent"], "safe", "{out}");
    assert_eq!(v["command"], "safe", "{out}");
}

#[test]
fn ask_json_lists_every_topic_and_the_warnings_it_carries() {
    let cli = Cli::new();
    let out = ok(cli.run(&[
        "ask",
        "--json",
        "I'm pregnant, can massage help my back pain?",
    ]));
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["topic"], "back-pain", "{out}");
    assert_eq!(v["intent"], "benefits", "{out}");
    assert_eq!(
        v["topics"],
        serde_json::json!(["pregnancy", "back-pain"]),
        "{out}"
    );
    assert_eq!(v["warnings"], serde_json::json!(["pregnancy"]), "{out}");
    let out = ok(cli.run(&["ask", "--json", "i want to kill myself"]));
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["kind"], "crisis", "{out}");
    assert_eq!(v["topic"], Value::Null, "{out}");
    assert_eq!(v["ephemeral"], true, "{out}");
}

#[track_caller]
fn assert_sentence(owner: &str, s: &Value) {
    let text = s["text"].as_str().expect("text");
    assert!(!text.is_empty(), "{owner}");
    let cites = s["cites"].as_array().expect("cites");
    let advice = s["advice"].as_bool().expect("advice");
    assert!(
        cites.is_empty() == advice,
        "{owner}: a sentence has cites or is advice: {s}"
    );
    for c in cites {
        assert!(!c["source"].as_str().unwrap().is_empty(), "{owner}");
        assert!(!c["quote"].as_str().unwrap().is_empty(), "{owner}");
    }
}

#[test]
fn topics_json_lists_topics_with_quotes_and_tips() {
    let cli = Cli::new();
    let out = ok(cli.run(&["topics", "--json"]));
    let v: Value = serde_json::from_str(&out).unwrap();
    let topics = v["topics"].as_array().expect("topics array");
    assert!(topics.len() >= 30, "{} topics", topics.len());
    for t in topics {
        let id = t["id"].as_str().unwrap();
        assert!(!t["title"].as_str().unwrap().is_empty(), "{id}");
        // Every section: `sentences`, each `{text, cites, advice}` with
        // cites or advice, never both and never neither.
        let sentences: Vec<&Value> = ["benefits", "safety"]
            .iter()
            .filter_map(|s| t.get(*s).filter(|s| !s.is_null()))
            .flat_map(|s| s["sentences"].as_array().expect("sentences"))
            .collect();
        assert!(!sentences.is_empty(), "topic {id} says nothing");
        for s in sentences {
            assert_sentence(id, s);
        }
    }
    let tips = v["tips"].as_array().expect("tips array");
    assert!(tips.len() >= 20, "{} tips", tips.len());
    for tip in tips {
        let sentences = tip["sentences"].as_array().expect("tip sentences");
        assert!(!sentences.is_empty());
        for s in sentences {
            assert_sentence("tip", s);
            assert!(
                !s["cites"].as_array().unwrap().is_empty(),
                "a tip cites: {s}"
            );
        }
    }

    // The plain listing names them too.
    let text = ok(cli.run(&["topics"]));
    assert!(
        text.contains("sleep") && text.contains("pregnancy"),
        "{text}"
    );
}

#[test]
fn tip_for_a_date_is_deterministic() {
    let cli = Cli::new();
    let a = ok(cli.run(&["tip", "--date", "2026-01-01"]));
    let b = ok(cli.run(&["tip", "--date", "2026-01-01"]));
    assert_eq!(a, b);
    assert!(a.contains(&caveat()), "{a}");
    assert!(a.contains("2026"), "{a}");
    let bad = cli.run(&["tip", "--date", "yesterday"]);
    assert!(!bad.status.success());
    // Today's tip works too.
    assert!(ok(cli.run(&["tip"])).contains(&caveat()));
}

#[test]
fn knowledge_check_accepts_the_shipped_file() {
    let cli = Cli::new();
    let embedded = ok(cli.run(&["knowledge", "check"]));
    assert!(embedded.starts_with("ok:"), "{embedded}");
    let file = ok(cli.run(&["knowledge", "check", shipped_knowledge().to_str().unwrap()]));
    assert_eq!(file, embedded);
}

/// Writes a copy of the shipped knowledge file with one quote altered so it
/// is no longer in its source; returns the path and the line of the quote.
fn broken_knowledge(cli: &Cli) -> (PathBuf, usize) {
    let text = std::fs::read_to_string(shipped_knowledge()).unwrap();
    let at = text.find("quote = \"").expect("a quote") + "quote = \"".len();
    let line = text[..at].lines().count();
    let broken = format!("{}Not in any source: {}", &text[..at], &text[at..]);
    let path = cli.path("broken.toml");
    std::fs::write(&path, broken).unwrap();
    (path, line)
}

#[test]
fn knowledge_check_lists_problems_with_file_and_line() {
    let cli = Cli::new();
    let (path, line) = broken_knowledge(&cli);
    let out = cli.run(&["knowledge", "check", path.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = stderr(&out);
    let location = format!("{}:{line}", path.display());
    assert!(err.contains(&location), "want {location}:\n{err}");
    assert!(err.contains("quote not found"), "{err}");
    assert!(stdout(&out).is_empty(), "{}", stdout(&out));

    // A file that is not TOML at all is refused the same way.
    let junk = cli.path("junk.toml");
    std::fs::write(&junk, "caveat = \n[[topics]\n").unwrap();
    let out = cli.run(&["knowledge", "check", junk.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("junk.toml"), "{}", stderr(&out));
}

#[test]
fn every_command_refuses_an_invalid_knowledge_file() {
    let cli = Cli::new();
    let (path, _) = broken_knowledge(&cli);
    let path = path.to_str().unwrap();
    let reference = stderr(&cli.run(&["knowledge", "check", path]));
    assert!(reference.contains("invalid knowledge file"), "{reference}");

    for args in [
        &["ask", "/benefits sleep"][..],
        &["topics"],
        &["tip", "--date", "2026-01-01"],
        &["console"],
        &["run"],
    ] {
        for how in ["--knowledge", "KNOWLEDGE_PATH"] {
            let mut cmd = if how == "--knowledge" {
                let mut with = args.to_vec();
                with.extend(["--knowledge", path]);
                cli.cmd(&with)
            } else {
                let mut cmd = cli.cmd(args);
                cmd.env("KNOWLEDGE_PATH", path);
                cmd
            };
            // `run` checks its configuration first: give it one that would
            // otherwise pass, and nowhere to connect to.
            cmd.env("DISCORD_TOKEN", FAKE_TOKEN)
                .env("DATABASE_URL", "sqlite::memory:")
                .env("DISCORD_PROXY_URL", "http://127.0.0.1:9");
            let out = cmd.output().unwrap();
            let what = format!("{} via {how}", args.join(" "));
            assert!(!out.status.success(), "{what} accepted a broken file");
            // The same problems; from the environment, also where the path came from.
            let expected = if how == "KNOWLEDGE_PATH" {
                format!("{reference}(the knowledge file was named by KNOWLEDGE_PATH, from the environment or .env)\n")
            } else {
                reference.clone()
            };
            assert_eq!(stderr(&out), expected, "{what}");
            assert!(stdout(&out).is_empty(), "{what}: {}", stdout(&out));
        }
    }
    assert!(
        !cli.path("data").exists(),
        "nothing may be created on refusal"
    );
}

#[test]
fn run_without_a_token_names_the_variable() {
    let cli = Cli::new();
    let out = cli.run(&["run"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("DISCORD_TOKEN"), "{err}");
    assert!(!cli.path("data").exists(), "no database before a token");

    // An empty value is the same as none.
    let out = cli
        .cmd(&["run"])
        .env("DISCORD_TOKEN", "  ")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(stderr(&out).contains("DISCORD_TOKEN"), "{}", stderr(&out));
}

#[test]
fn a_malformed_token_is_refused_without_being_printed() {
    let cli = Cli::new();
    let secret = "not-a-real-token-but-secret-7f3a9c";
    let out = cli
        .cmd(&["run"])
        .env("DISCORD_TOKEN", secret)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("DISCORD_TOKEN"), "{err}");
    assert!(err.contains("malformed"), "{err}");
    assert!(
        !err.contains(secret) && !stdout(&out).contains(secret),
        "{err}"
    );
}

#[test]
fn run_reads_dot_env_in_the_working_directory() {
    let cli = Cli::new();
    let secret = "from-dot-env-not-a-token-5b1e";
    std::fs::write(cli.path(".env"), format!("DISCORD_TOKEN={secret}\n")).unwrap();
    let out = cli.run(&["run"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("malformed"), "the token came from .env: {err}");
    assert!(!err.contains(secret), "{err}");
}

/// The console takes the same slash commands; piped (not a terminal) it
/// reads lines until `/quit`, answering each with the caveat.
#[test]
fn console_answers_each_line_until_quit() {
    let cli = Cli::new();
    let out = cli
        .cmd(&["console"])
        .env("HOME", cli.dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            child
                .stdin
                .take()
                .unwrap()
                .write_all(b"/benefits sleep\n/safe heart\n/quit\n/benefits stress\n")?;
            child.wait_with_output()
        })
        .unwrap();
    let text = ok(out);
    assert!(text.contains("Sleep — benefits"), "{text}");
    assert!(text.contains("Heart"), "{text}");
    assert!(
        !text.contains("Stress and relaxation — benefits"),
        "answered after /quit: {text}"
    );
    // The console wraps lines to the terminal: compare words, not lines.
    let words = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    assert_eq!(words(&text).matches(&words(&caveat())).count(), 2, "{text}");
    // History is kept between sessions.
    let history = std::fs::read_to_string(cli.path(".massage-bot-history")).unwrap_or_default();
    assert!(history.contains("/benefits sleep"), "history: {history:?}");
}

/// `ask --quotes` prints the answer, then every sentence it shows with the
/// verbatim words and the title of each source behind it; the bot's own
/// advice is marked as such and quotes nothing.
#[test]
fn ask_quotes_shows_the_words_behind_each_sentence() {
    let cli = Cli::new();
    let text = ok(cli.run(&["ask", "--quotes", "/safe pregnancy"]));
    let (answer, quotes) = text
        .split_once("Quotes behind this answer")
        .expect("a quotes section after the answer");
    assert!(answer.contains(&caveat()), "{answer}");
    let engine = massage_bot::engine::Engine::load(None).unwrap();
    let k = engine.knowledge();
    let pregnancy = k
        .topics
        .iter()
        .find(|t| t.id.as_str() == "pregnancy")
        .unwrap();
    let section = &pregnancy.safety.as_ref().unwrap().section;
    for (_, s) in section.sentences() {
        assert!(quotes.contains(&s.text), "missing {:?}: {quotes}", s.text);
        for c in s.cites() {
            let source = k.source(&c.source).unwrap();
            let line = format!("{} ({}): \"{}\"", c.source, source.title, c.quote);
            assert!(quotes.contains(&line), "missing {line}: {quotes}");
        }
    }
    // The bot's own advice is marked as such, with no quote under it.
    let text = ok(cli.run(&["ask", "--quotes", "/benefits depression"]));
    let quotes = text.split_once("Quotes behind this answer").unwrap().1;
    let advice = "\"If low mood or worry is affecting your life, talk to your doctor or a mental health professional.\"\n    My own general advice: from no source.";
    assert!(quotes.contains(advice), "{quotes}");

    // As JSON, every shown sentence with its quotes.
    let out = ok(cli.run(&["ask", "--json", "--quotes", "/benefits sleep"]));
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    let quotes = v["quotes"].as_array().expect("quotes array");
    assert!(!quotes.is_empty());
    for q in quotes {
        assert!(q["text"].as_str().is_some_and(|t| !t.is_empty()), "{q}");
        let basis = &q["basis"];
        if basis["kind"] == "sources" {
            for quote in basis["quotes"].as_array().unwrap() {
                assert!(quote["source"]["id"].is_string(), "{quote}");
                assert!(quote["quote"].as_str().is_some_and(|t| !t.is_empty()));
            }
        } else {
            assert_eq!(basis["kind"], "advice", "{q}");
        }
    }
    // Without the flag, no quotes.
    let plain = ok(cli.run(&["ask", "--json", "/benefits sleep"]));
    assert!(!plain.contains("\"quotes\""), "{plain}");
}

/// In the console, `/quotes` shows the quotes behind the last answer.
#[test]
fn console_quotes_shows_the_last_answers_quotes() {
    let cli = Cli::new();
    let out = cli.run_with_stdin(&["console"], "/quotes\n/benefits sleep\n/quotes\n/quit\n");
    let text = ok(out);
    assert!(
        text.contains("This reply states nothing from the sources"),
        "{text}"
    );
    let after = text
        .split("Sleep — benefits")
        .nth(2)
        .unwrap_or_else(|| panic!("quotes repeat the section heading: {text}"));
    assert!(after.contains("(Benefits of massage"), "{after}");
}

/// Under an answer the console numbers what Discord shows as buttons;
/// typing a number asks it, exactly as typing its command would.
#[test]
fn console_numbers_the_follow_ups_and_asks_them() {
    let cli = Cli::new();
    let out = cli.run_with_stdin(&["console"], "/safe pregnancy\n1\n9\n/quit\n");
    let text = ok(out);
    assert!(text.contains("Next (type the number):"), "{text}");
    let first = text
        .split("Next (type the number):")
        .nth(1)
        .and_then(|rest| rest.lines().nth(1))
        .unwrap_or_else(|| panic!("a numbered follow-up: {text}"))
        .trim()
        .to_owned();
    assert!(first.starts_with("1. /benefits pregnancy"), "{first}");
    let typed = ok(cli.run_with_stdin(&["console"], "/benefits pregnancy\n/quit\n"));
    let title = typed
        .lines()
        .find(|l| l.contains("— benefits"))
        .unwrap_or_else(|| panic!("{typed}"))
        .trim()
        .to_owned();
    assert!(text.contains(&title), "the follow-up answered: {text}");
    assert!(text.contains("There is no follow-up 9"), "{text}");
}

// ----- db check / export / import --------------------------------------------

/// The documented recovery path, on a file with a page of random bytes:
/// `db check` says what is wrong and what to do, `db export` prints every
/// readable server, `db import` puts them in a fresh file that checks clean.
#[test]
fn a_damaged_database_is_checked_exported_and_imported() {
    use massage_bot::storage::SqliteStore;
    let cli = Cli::new();
    let db = cli.path("bot.db");
    let url = format!("sqlite://{}", db.display());
    const SERVERS: u64 = 200;
    damage::fill(
        &db,
        (0..SERVERS).map(|g| 1_000_000 + g * 1013),
        chrono::NaiveTime::from_hms_opt(9, 30, 0).unwrap(),
        chrono_tz::Tz::Europe__Berlin,
        chrono::Utc::now(),
    );
    let ok = cli.run(&["db", "--database", &url, "check"]);
    assert!(ok.status.success(), "{}", stdout(&ok));
    assert!(
        stdout(&ok).contains(&format!("{SERVERS} servers")),
        "{}",
        stdout(&ok)
    );

    let lost = damage::smash_a_leaf_page(&db, 11);
    let before = std::fs::read(&db).unwrap();
    let check = cli.run(&["db", "--database", &url, "check"]);
    let text = stdout(&check);
    assert_eq!(check.status.code(), Some(1), "{text}");
    assert!(
        text.starts_with(&format!("damaged: {}", db.display())),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "{} servers' tip settings can be read",
            SERVERS as usize - lost
        )),
        "{text}"
    );
    assert!(
        text.contains("massage-bot db export"),
        "says how to recover: {text}"
    );
    assert_eq!(std::fs::read(&db).unwrap(), before, "check changes nothing");

    let export = cli.run(&["db", "--database", &url, "export"]);
    assert_eq!(export.status.code(), Some(1), "some rows are missing");
    let lines = stdout(&export);
    assert_eq!(lines.lines().count(), SERVERS as usize - lost);
    for line in lines.lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["time"], "09:30");
        assert_eq!(v["timezone"], "Europe/Berlin");
    }

    std::fs::rename(&db, cli.path("bot.db.damaged")).unwrap();
    let import = cli.run_with_stdin(&["db", "--database", &url, "import"], &lines);
    assert!(
        import.status.success(),
        "{}",
        String::from_utf8_lossy(&import.stderr)
    );
    let check = cli.run(&["db", "--database", &url, "check"]);
    assert!(check.status.success(), "{}", stdout(&check));
    let store = SqliteStore::open(&db).unwrap();
    assert_eq!(
        store.all_active().unwrap().settings.len(),
        SERVERS as usize - lost
    );

    let bad = cli.run_with_stdin(&["db", "--database", &url, "import"], "{\"guild\":\"x\"}\n");
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("line 1"));
}

// ----- pipes, colours, tokens ---------------------------------------------------

/// `massage-bot ask … | head`: the reader goes away, the bot stops quietly
/// with exit 0 (it used to panic or print "error: Broken pipe").
#[test]
fn a_closed_pipe_ends_quietly_with_exit_0() {
    use std::io::Read;
    let cli = Cli::new();
    for args in [&["ask"][..], &["topics", "--json"][..]] {
        let mut child = cli.piped(args).spawn().unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let writer = std::thread::spawn(move || {
            for _ in 0..3000 {
                if stdin.write_all(b"/benefits sleep\n").is_err() {
                    break;
                }
            }
        });
        let mut first = [0u8; 64];
        child
            .stdout
            .as_mut()
            .unwrap()
            .read_exact(&mut first)
            .unwrap();
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        writer.join().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {err}");
        assert!(
            !err.contains("panicked") && !err.contains("Broken pipe"),
            "{args:?}: {err}"
        );
    }
}

/// A token pasted with its quotes (as `docker --env-file` keeps them) gets
/// a hint about the quotes, and the value is never printed.
#[test]
fn a_quoted_token_gets_a_hint_about_the_quotes() {
    let cli = Cli::new();
    let quoted = format!("\"{FAKE_TOKEN}\"");
    let out = cli
        .cmd(&["run"])
        .env("DISCORD_TOKEN", &quoted)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("in quotes"), "{err}");
    assert!(
        !err.contains(&FAKE_TOKEN[..20]),
        "the value is not shown: {err}"
    );
}

/// Log lines carry colour codes only on a terminal, and not even there with
/// `NO_COLOR` set; `script` gives the bot a terminal.
#[test]
fn colours_only_on_a_terminal_and_never_with_no_color() {
    let cli = Cli::new();
    let run = |terminal: bool, no_color: bool| -> String {
        // The bot gets SIGTERM after 2 s and stops by itself.
        let line = format!(
            "timeout -s TERM 2 {} run",
            env!("CARGO_BIN_EXE_massage-bot")
        );
        let mut cmd = if terminal {
            let mut c = Command::new("script");
            c.args(["-qefc", &line, "/dev/null"]);
            c
        } else {
            let mut c = Command::new("sh");
            c.args(["-c", &line]);
            c
        };
        cmd.current_dir(cli.dir.path()).stdin(Stdio::null());
        for var in VARS {
            cmd.env_remove(var);
        }
        cmd.env("DISCORD_TOKEN", FAKE_TOKEN)
            .env("DISCORD_PROXY_URL", "http://127.0.0.1:9")
            .env("DATABASE_URL", "sqlite::memory:")
            .env("RUST_LOG", "info")
            .env_remove("NO_COLOR")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if no_color {
            cmd.env("NO_COLOR", "1");
        }
        let out = cmd.output().unwrap();
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    };
    let piped = run(false, false);
    assert!(piped.contains("connecting to Discord"), "{piped}");
    assert!(!piped.contains('\u{1b}'), "no colours into a pipe: {piped}");
    let tty = run(true, false);
    assert!(tty.contains('\u{1b}'), "colours on a terminal: {tty}");
    let tty_no_color = run(true, true);
    assert!(
        tty_no_color.contains("connecting to Discord"),
        "{tty_no_color}"
    );
    assert!(!tty_no_color.contains('\u{1b}'), "NO_COLOR: {tty_no_color}");
}

/// A database that cannot be created is one clear error, its cause said
/// once (it used to repeat "No such file or directory").
#[test]
fn a_database_that_cannot_be_created_is_one_clear_error() {
    let cli = Cli::new();
    std::fs::write(cli.path("blocker"), "a file, not a directory").unwrap();
    let out = cli
        .cmd(&["run"])
        .env("DISCORD_TOKEN", FAKE_TOKEN)
        .env("DISCORD_PROXY_URL", "http://127.0.0.1:9")
        .env("DATABASE_URL", "sqlite://blocker/bot.db")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    let last = err.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("error: cannot create database directory blocker"),
        "{err}"
    );
    assert_eq!(
        last.matches("(os error").count(),
        1,
        "the cause once: {last}"
    );
}

/// `ask "/tip"` in a new process gives today's tip, as `tip` does (it used
/// to give the same first tip whatever the day).
#[test]
fn ask_tip_and_tip_agree_on_todays_tip() {
    let cli = Cli::new();
    let asked = ok(cli.run(&["ask", "/tip"]));
    let today = ok(cli.run(&["tip"]));
    let body = |s: &str| s.lines().skip(1).take(3).collect::<Vec<_>>().join("\n");
    assert_eq!(body(&asked), body(&today), "ask:\n{asked}\ntip:\n{today}");
}

/// The console lays answers out for a terminal: wrapped to its width
/// (`COLUMNS` when piped), without Discord's markup; a mistyped command gets
/// the closest one; bare `help` is `/help`.
#[test]
fn the_console_fits_the_terminal_and_forgives_typos() {
    let cli = Cli::new();
    let mut cmd = cli.cmd(&["console"]);
    cmd.env("COLUMNS", "60")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"/benfits sleep\nhelp\n/safe pregnancy\n/topics\n/quit\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text = stdout(&out);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("Unknown command /benfits. Did you mean /benefits?"),
        "{text}"
    );
    assert!(text.contains("Commands:"), "help answered: {text}");
    assert!(text.contains("Pregnancy"), "{text}");
    assert!(
        !text.contains('`') && !text.contains("**"),
        "no Discord markup: {text}"
    );
    for line in text.lines() {
        let longest_word = line
            .split(' ')
            .map(|w| w.chars().count())
            .max()
            .unwrap_or(0);
        assert!(
            line.chars().count() <= 60 || longest_word > 40,
            "{} columns: {line}",
            line.chars().count()
        );
    }
}

/// A bad knowledge path that came from the environment (or `.env`) says so.
#[test]
fn a_bad_knowledge_path_from_the_environment_says_where_it_came_from() {
    let cli = Cli::new();
    let out = cli
        .cmd(&["ask", "hi"])
        .env("KNOWLEDGE_PATH", cli.path("missing.toml"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("missing.toml") && err.contains("KNOWLEDGE_PATH"),
        "{err}"
    );
    let typed = cli.run(&["--knowledge", "missing.toml", "ask", "hi"]);
    let err = String::from_utf8_lossy(&typed.stderr);
    assert!(
        !err.contains("KNOWLEDGE_PATH"),
        "typed on the command line: {err}"
    );
}

/// `run`'s settings come through one path: a flag or its environment
/// variable, checked in one place with the same messages.
#[test]
fn run_settings_come_from_flags_or_the_environment_alike() {
    let cli = Cli::new();
    let refused = |args: &[&str], env: &[(&str, &str)]| {
        let mut cmd = cli.cmd(args);
        cmd.env("DISCORD_TOKEN", FAKE_TOKEN);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?} {env:?}");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let by_flag = refused(&["run", "--health-addr", "nowhere"], &[]);
    let by_env = refused(&["run"], &[("HEALTH_ADDR", "nowhere")]);
    assert_eq!(by_flag, by_env);
    assert!(by_flag.contains("HEALTH_ADDR is invalid"), "{by_flag}");
    let guild = refused(&["run", "--dev-guild-id", "abc"], &[("DEV_GUILD_ID", "1")]);
    assert!(
        guild.contains("DEV_GUILD_ID") && guild.contains("`abc`"),
        "the flag wins: {guild}"
    );
    // The token is never shown, not even in --help.
    let help = cli
        .cmd(&["run", "--help"])
        .env("DISCORD_TOKEN", FAKE_TOKEN)
        .output()
        .unwrap();
    assert!(!stdout(&help).contains(&FAKE_TOKEN[..20]));
}
