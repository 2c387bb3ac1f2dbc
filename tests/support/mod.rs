//! What the Discord tests share: the fake Discord (its own crate,
//! `crates/fake-discord`) and the product binary run as a process against
//! it ([`BotProcess`]).
#![allow(dead_code, unused_imports)]

pub mod bot;

pub use bot::BotProcess;
pub use fake_discord::*;
