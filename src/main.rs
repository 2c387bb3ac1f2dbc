//! Command line: parses arguments and wires the library's parts together.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use massage_bot::knowledge::Knowledge;

#[derive(Parser)]
#[command(
    name = "massage-bot",
    version,
    about = "Answers questions about the benefits and safety of massage."
)]
struct Cli {
    /// Knowledge file to use instead of the embedded one.
    #[arg(long, global = true, env = "KNOWLEDGE_PATH", value_name = "PATH")]
    knowledge: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Work with the knowledge base.
    Knowledge {
        #[command(subcommand)]
        command: KnowledgeCommand,
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Knowledge {
            command: KnowledgeCommand::Check { path },
        } => {
            let path = path.or(cli.knowledge);
            match Knowledge::load_or_embedded(path.as_deref()) {
                Ok(k) => {
                    println!(
                        "ok: {} topics, {} tips, {} sources, {} exclusions",
                        k.topics.len(),
                        k.tips.len(),
                        k.sources.len(),
                        k.excluded.len()
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::from(1)
                }
            }
        }
    }
}
