//! massage-bot: answers questions about the benefits and safety of massage
//! from a curated knowledge base, cites its sources, and always ends with a
//! doctor caveat.
//!
//! The core ([`knowledge`], [`matching`], [`reply`], [`render`]) knows nothing
//! of Discord, so the command line and the bot give the same replies.

pub mod knowledge;
