//! What the Discord tests share: the fake Discord (its own crate,
//! `crates/fake-discord`) and the product binary run as a process against
//! it ([`BotProcess`]).
#![allow(dead_code, unused_imports)]

pub mod bot;

pub use bot::BotProcess;
pub use fake_discord::*;

use chrono::{DateTime, NaiveTime, Timelike, Utc};

/// Now, and the minute before it as a local time in UTC: a daily tip set
/// for it an hour ago is due at once. Waits out the first minutes of a UTC
/// day, when that minute would be yesterday's.
pub async fn a_minute_ago() -> (DateTime<Utc>, NaiveTime) {
    while Utc::now().hour() == 0 && Utc::now().minute() < 3 {
        tokio::time::sleep(std::time::Duration::from_secs(5)).await;
    }
    let now = Utc::now();
    let due = (now - chrono::Duration::minutes(1))
        .time()
        .with_second(0)
        .and_then(|t| t.with_nanosecond(0))
        .expect("a time of day");
    (now, due)
}

/// The hex public key of the Ed25519 key made from `seed`, as
/// `DISCORD_PUBLIC_KEY` takes it.
pub fn public_key_hex(seed: u8) -> String {
    ed25519_dalek::SigningKey::from_bytes(&[seed; 32])
        .verifying_key()
        .as_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
