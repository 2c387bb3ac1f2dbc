//! The interactive console: the bot's slash commands at a terminal prompt,
//! with line editing and history, answered by the same engine.

use std::path::PathBuf;

use rustyline::error::ReadlineError;
use rustyline::DefaultEditor;

use crate::engine::{Engine, Request};
use crate::render;

#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    #[error("cannot start the line editor: {0}")]
    Editor(#[from] ReadlineError),
}

const BANNER: &str = "massage-bot console: type /benefits <topic>, /safe <topic>, /ask <question> (or just a question), /tip, /topics, /about; /quotes for the verbatim quotes behind the last answer; /quit to leave.";

/// Where the history is kept between sessions, if a home directory exists.
fn history_path() -> Option<PathBuf> {
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".massage-bot-history"))
}

/// `/quotes [query]`: the rest of the line, if this is that command.
fn quotes_command(line: &str) -> Option<&str> {
    let rest = line.strip_prefix("/quotes")?;
    (rest.is_empty() || rest.starts_with(char::is_whitespace)).then(|| rest.trim())
}

pub fn run(engine: &Engine) -> Result<(), ConsoleError> {
    let mut editor = DefaultEditor::new()?;
    let history = history_path();
    if let Some(path) = &history {
        // A missing history file is normal on the first run.
        let _ = editor.load_history(path);
    }
    println!("{BANNER}\n");
    // What the last answer showed, for `/quotes`.
    let mut last: Vec<crate::reply::Shown> = Vec::new();
    loop {
        match editor.readline("massage-bot> ") {
            Ok(line) => {
                let line = line.trim();
                if line.is_empty() {
                    continue;
                }
                let _ = editor.add_history_entry(line);
                if matches!(line, "/quit" | "/exit" | "quit" | "exit") {
                    break;
                }
                if let Some(rest) = quotes_command(line) {
                    // `/quotes` alone: the last answer; `/quotes <query>`:
                    // that query's answer.
                    if !rest.is_empty() {
                        last = engine.answer(&Request::parse(rest)).shown;
                    }
                    println!("{}\n", render::quotes::text(&engine.said(&last)));
                    continue;
                }
                let reply = engine.answer(&Request::parse(line));
                println!("{}\n", render::text(&reply));
                last = reply.shown;
            }
            Err(ReadlineError::Interrupted | ReadlineError::Eof) => break,
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
    use super::quotes_command;

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
}
