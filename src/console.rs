//! The interactive console: the bot's slash commands at a terminal prompt,
//! with line editing, history and Tab completion, answered by the same
//! engine and laid out for a terminal (wrapped, no Discord markup).

use std::borrow::Cow;
use std::path::PathBuf;

use rustyline::completion::Completer;
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::DefaultHistory;
use rustyline::validate::Validator;
use rustyline::{Context, Editor, Helper};

use crate::engine::{Engine, Request};
use crate::render;
use crate::reply::Intent;

#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    #[error("cannot start the line editor: {0}")]
    Editor(#[from] ReadlineError),
}

const BANNER: &str = "massage-bot console: type /benefits <topic>, /safe <topic>, /ask <question> (or just a question), /tip, /topics, /about; /quotes for the verbatim quotes behind the last answer; a number to ask one of the numbered follow-ups under an answer; /help; /quit or Ctrl-D to leave. Tab completes commands and topics.";

/// What the console understands, for completion and "did you mean".
const COMMANDS: [&str; 10] = [
    "/benefits",
    "/safe",
    "/ask",
    "/tip",
    "/topics",
    "/about",
    "/quotes",
    "/help",
    "/quit",
    "/exit",
];

/// Width used when the output is not a terminal and `COLUMNS` is not set.
const DEFAULT_WIDTH: usize = 80;

/// Where the history is kept between sessions, if a home directory exists.
fn history_path() -> Option<PathBuf> {
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".massage-bot-history"))
}

/// `/quotes [query]`: the rest of the line, if this is that command.
fn quotes_command(line: &str) -> Option<&str> {
    let rest = line.strip_prefix("/quotes")?;
    (rest.is_empty() || rest.starts_with(char::is_whitespace)).then(|| rest.trim())
}

/// What a line asks the console to do.
#[derive(Debug, PartialEq, Eq)]
enum Line<'a> {
    Quit,
    Quotes(&'a str),
    /// `3`: the third follow-up listed under the last answer.
    FollowUp(usize),
    /// A slash command the console does not know, with the closest one.
    Unknown {
        name: &'a str,
        closest: Option<&'static str>,
    },
    Ask(Cow<'a, str>),
}

fn classify(line: &str) -> Line<'_> {
    let lower = line.to_ascii_lowercase();
    match lower.as_str() {
        "/quit" | "/exit" | "quit" | "exit" | "q" => return Line::Quit,
        // Bare words people type at any prompt.
        "help" | "?" | "/?" => return Line::Ask(Cow::Borrowed("/help")),
        _ => {}
    }
    if let Some(rest) = quotes_command(line) {
        return Line::Quotes(rest);
    }
    if let Ok(n) = line.parse::<usize>() {
        if (1..=99).contains(&n) {
            return Line::FollowUp(n);
        }
    }
    if let Some(name) = line.strip_prefix('/') {
        let name = name.split_whitespace().next().unwrap_or("");
        let known = COMMANDS.iter().any(|c| c[1..].eq_ignore_ascii_case(name));
        if !known {
            return Line::Unknown {
                name,
                closest: closest_command(name),
            };
        }
    }
    Line::Ask(Cow::Borrowed(line))
}

/// The command a typo most likely meant (at most two edits away).
fn closest_command(name: &str) -> Option<&'static str> {
    let name = name.to_ascii_lowercase();
    COMMANDS
        .iter()
        .map(|c| (strsim::damerau_levenshtein(&name, &c[1..]), *c))
        .filter(|(d, _)| *d <= 2 && *d < name.len())
        .min()
        .map(|(_, c)| c)
}

/// A reply as the terminal shows it, with its follow-ups numbered under
/// it (what Discord shows as buttons): typing the number asks it.
fn answer_text(reply: &crate::reply::Reply, follow_ups: &[crate::engine::FollowUp]) -> String {
    let mut out = render::text(reply);
    if !follow_ups.is_empty() {
        out.push_str("\n\nNext (type the number):");
        for (i, f) in follow_ups.iter().enumerate() {
            out.push_str(&format!("\n  {}. {}", i + 1, f.label()));
        }
    }
    out
}

/// Tab completion: commands at the start of the line, topic names after
/// `/benefits` and `/safe`.
struct Complete<'e> {
    engine: &'e Engine,
}

impl Complete<'_> {
    fn candidates(&self, line: &str, pos: usize) -> (usize, Vec<String>) {
        let line = &line[..pos];
        if !line.contains(char::is_whitespace) {
            if !line.starts_with('/') {
                return (pos, Vec::new());
            }
            let lower = line.to_ascii_lowercase();
            let found = COMMANDS
                .iter()
                .filter(|c| c.starts_with(&lower) && **c != "/exit")
                .map(|c| format!("{c} "))
                .collect();
            return (0, found);
        }
        let (command, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        let intent = match command.to_ascii_lowercase().as_str() {
            "/benefits" => Intent::Benefits,
            "/safe" => Intent::Safe,
            _ => return (pos, Vec::new()),
        };
        let start = line.len() - rest.trim_start().len();
        let found = self
            .engine
            .autocomplete(rest.trim_start(), intent, 25)
            .into_iter()
            .map(|c| c.value.to_string())
            .collect();
        (start, found)
    }
}

impl Completer for Complete<'_> {
    type Candidate = String;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<String>)> {
        Ok(self.candidates(line, pos))
    }
}

impl Hinter for Complete<'_> {
    type Hint = String;
}
impl Highlighter for Complete<'_> {}
impl Validator for Complete<'_> {}
impl Helper for Complete<'_> {}

/// Discord markup the terminal would show literally: `code`, **bold**,
/// *italics*, and `<t:…>` timestamps are reduced to their text.
fn plain(text: &str) -> String {
    text.replace("**", "").replace('`', "").replace("__", "")
}

/// Wraps each line to `width`, continuing bullets and numbered points under
/// their text rather than under the bullet.
fn wrap(text: &str, width: usize) -> String {
    let width = width.max(20);
    let mut out = String::with_capacity(text.len() + text.len() / width);
    for line in text.lines() {
        let indent: usize = {
            let trimmed = line.trim_start();
            let lead = line.len() - trimmed.len();
            let marker = ["• ", "- ", "* ", "> "]
                .iter()
                .find(|m| trimmed.starts_with(**m))
                .map(|m| m.chars().count())
                .or_else(|| {
                    let digits = trimmed.chars().take_while(char::is_ascii_digit).count();
                    (digits > 0 && trimmed[digits..].starts_with(". ")).then_some(digits + 2)
                })
                .unwrap_or(0);
            lead + marker
        };
        let mut col = 0;
        let mut first = true;
        for word in line.split(' ') {
            let len = word.chars().count();
            if !first && col + 1 + len > width && col > indent {
                out.push('\n');
                out.push_str(&" ".repeat(indent));
                col = indent;
            } else if !first {
                out.push(' ');
                col += 1;
            }
            out.push_str(word);
            col += len;
            first = false;
        }
        out.push('\n');
    }
    out
}

/// The terminal's width: the editor's idea of it, else `COLUMNS`, else 80.
fn width(editor: &mut Editor<Complete<'_>, DefaultHistory>) -> usize {
    if let Some(cols) = std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()) {
        return cols;
    }
    editor
        .dimensions()
        .map(|(cols, _)| cols)
        .filter(|c| *c > 0)
        .unwrap_or(DEFAULT_WIDTH)
}

pub fn run(engine: &Engine) -> Result<(), ConsoleError> {
    let mut editor: Editor<Complete<'_>, DefaultHistory> = Editor::new()?;
    editor.set_helper(Some(Complete { engine }));
    let history = history_path();
    if let Some(path) = &history {
        // A missing history file is normal on the first run.
        let _ = editor.load_history(path);
    }
    let cols = width(&mut editor);
    println!("{}", wrap(BANNER, cols));
    // What the last answer showed, for `/quotes`, and its follow-ups.
    let mut last: Vec<crate::reply::Shown> = Vec::new();
    let mut follow_ups: Vec<crate::engine::FollowUp> = Vec::new();
    loop {
        let cols = width(&mut editor);
        let show = |text: &str| println!("{}", wrap(&plain(text), cols));
        match editor.readline("massage-bot> ") {
            Ok(line) => {
                let line = line.trim();
                if line.is_empty() {
                    continue;
                }
                let _ = editor.add_history_entry(line);
                match classify(line) {
                    Line::Quit => break,
                    Line::Quotes(rest) => {
                        // `/quotes` alone: the last answer; `/quotes <query>`:
                        // that query's answer.
                        if !rest.is_empty() {
                            last = engine.answer(&Request::parse(rest)).shown;
                        }
                        show(&render::quotes::text(&engine.said(&last)));
                    }
                    Line::Unknown { name, closest } => {
                        let hint = match closest {
                            Some(c) => format!(" Did you mean {c}?"),
                            None => " Type /help for the commands.".to_owned(),
                        };
                        let name: String = name.chars().take(32).collect();
                        show(&format!("Unknown command /{name}.{hint}"));
                    }
                    Line::FollowUp(n) => match follow_ups.get(n - 1).cloned() {
                        Some(f) => {
                            println!("{}", f.command());
                            let reply = engine.answer_topic(f.intent, f.topic.as_str());
                            follow_ups = engine.follow_ups(&reply);
                            show(&answer_text(&reply, &follow_ups));
                            last = reply.shown;
                        }
                        None => show(&format!(
                            "There is no follow-up {n} under the last answer. Ask a question, or type /help."
                        )),
                    },
                    Line::Ask(query) => {
                        let reply = engine.answer(&Request::parse(&query));
                        follow_ups = engine.follow_ups(&reply);
                        show(&answer_text(&reply, &follow_ups));
                        last = reply.shown;
                    }
                }
            }
            // Ctrl-C clears the line being typed, as in a shell.
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => break,
            Err(e) => return Err(e.into()),
        }
    }
    if let Some(path) = &history {
        if let Err(e) = editor.save_history(path) {
            tracing::debug!(error = %e, "could not save console history");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_takes_an_optional_query() {
        assert_eq!(quotes_command("/quotes"), Some(""));
        assert_eq!(
            quotes_command("/quotes  /safe pregnancy"),
            Some("/safe pregnancy")
        );
        assert_eq!(quotes_command("/quotesx"), None);
        assert_eq!(quotes_command("/benefits quotes"), None);
    }

    #[test]
    fn numbers_ask_a_follow_up() {
        assert_eq!(classify("2"), Line::FollowUp(2));
        assert_eq!(classify("0"), Line::Ask(Cow::Borrowed("0")));
        assert_eq!(classify("150"), Line::Ask(Cow::Borrowed("150")));
        let engine = Engine::load(None).unwrap();
        let reply = engine.answer(&Request::parse("/safe pregnancy"));
        let follow_ups = engine.follow_ups(&reply);
        let text = answer_text(&reply, &follow_ups);
        assert!(text.contains("Next (type the number):"), "{text}");
        assert!(
            text.contains(&format!("1. {}", follow_ups[0].label())),
            "{text}"
        );
    }

    #[test]
    fn typos_in_commands_get_the_closest_one() {
        assert_eq!(
            classify("/benfits sleep"),
            Line::Unknown {
                name: "benfits",
                closest: Some("/benefits")
            }
        );
        assert_eq!(
            classify("/sfae pregnancy"),
            Line::Unknown {
                name: "sfae",
                closest: Some("/safe")
            }
        );
        assert!(matches!(
            classify("/zzzzzz"),
            Line::Unknown { closest: None, .. }
        ));
        assert_eq!(classify("help"), Line::Ask(Cow::Borrowed("/help")));
        assert_eq!(classify("EXIT"), Line::Quit);
        assert_eq!(
            classify("/Benefits sleep"),
            Line::Ask(Cow::Borrowed("/Benefits sleep"))
        );
        assert_eq!(
            classify("is massage ok when pregnant?"),
            Line::Ask(Cow::Borrowed("is massage ok when pregnant?"))
        );
    }

    #[test]
    fn tab_completes_commands_and_topics() {
        let engine = Engine::load(None).unwrap();
        let c = Complete { engine: &engine };
        assert_eq!(c.candidates("/be", 3), (0, vec!["/benefits ".to_owned()]));
        let (start, all) = c.candidates("/", 1);
        assert_eq!(start, 0);
        assert!(all.len() >= 8 && all.contains(&"/safe ".to_owned()));
        let (start, topics) = c.candidates("/safe preg", 10);
        assert_eq!(start, 6);
        assert!(topics.iter().any(|t| t.contains("pregnan")), "{topics:?}");
        assert_eq!(c.candidates("hello", 5).1, Vec::<String>::new());
    }

    #[test]
    fn wraps_to_the_width_with_hanging_bullets() {
        let text = "• Massage may ease stress and anxiety for many people, according to one source.\nShort line.";
        let out = wrap(text, 40);
        for line in out.lines() {
            assert!(line.chars().count() <= 40, "{line:?}");
        }
        assert!(out.lines().nth(1).unwrap().starts_with("  "), "{out}");
        assert!(out.contains("Short line."));
        assert_eq!(
            plain("Use `/safe pregnancy` **now**"),
            "Use /safe pregnancy now"
        );
    }
}
