//! massage-bot: answers questions about the benefits and safety of massage
//! from a curated knowledge base, cites its sources, and always ends with a
//! doctor caveat.
//!
//! The core ([`knowledge`], [`understanding`], [`matching`], [`engine`],
//! [`reply`], [`render`]) knows nothing of Discord, so the command line and
//! the bot give the same replies. Dependencies point one way: `discord` and
//! the command line -> `engine` -> `understanding`/`matching` -> `knowledge`.

pub mod config;
pub mod console;
#[cfg(feature = "discord")]
pub mod discord;
pub mod engine;
#[cfg(feature = "discord")]
pub mod health;
pub mod knowledge;
pub mod logging;
pub mod matching;
pub mod prefs;
pub mod render;
pub mod reply;
pub mod storage;
pub mod tips;
pub mod understanding;
pub mod validate;
