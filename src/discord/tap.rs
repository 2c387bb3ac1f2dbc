//! What serenity's gateway only says in its logs, caught and acted on.
//!
//! serenity drops a gateway frame it cannot parse, logging it whole (tokens
//! included), so a malformed interaction would get no answer at all; and on
//! close code 4011 (sharding required) it logs an error and reconnects
//! forever. Neither reaches an event handler. This tracing layer reads
//! those two log events, keeps them out of the log lines, and hands the
//! running bot what it needs: the id and token to answer a malformed
//! interaction, or the order to stop.

use std::sync::OnceLock;

use tokio::sync::broadcast;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::{Filtered, Targets};
use tracing_subscriber::layer::{Context, Layer};

/// serenity's module that logs unparseable frames.
const WS_TARGET: &str = "serenity::gateway::ws";
/// serenity's module that logs close codes.
const SHARD_TARGET: &str = "serenity::gateway::shard";
/// At most this much of a parse error is kept (it can quote the frame).
const ERROR_CHARS: usize = 160;

/// Something the gateway log revealed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TapEvent {
    /// An interaction serenity could not parse: enough to answer it.
    MalformedInteraction {
        id: u64,
        token: String,
        application_id: Option<u64>,
        /// The interaction type (4 is autocomplete).
        kind: Option<u64>,
        error: String,
    },
    /// Any other frame serenity could not parse.
    UnreadableFrame {
        event: Option<String>,
        bytes: usize,
        error: String,
    },
    /// Close code 4011: Discord wants more shards than this process runs.
    ShardingRequired,
}

fn channel() -> &'static broadcast::Sender<TapEvent> {
    static TX: OnceLock<broadcast::Sender<TapEvent>> = OnceLock::new();
    TX.get_or_init(|| broadcast::channel(1024).0)
}

/// Receives what the tap sees from now on (nothing unless [`layer`] is
/// installed in the global subscriber, as `massage-bot run` does).
pub fn subscribe() -> broadcast::Receiver<TapEvent> {
    channel().subscribe()
}

/// The layer to install, with its own filter (so `RUST_LOG` cannot switch
/// it off).
pub fn layer<S>() -> Filtered<GatewayTap, Targets, S>
where
    S: Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    GatewayTap.with_filter(Targets::new().with_target("serenity::gateway", Level::WARN))
}

/// Targets whose events the written log must leave out: the tap logs its
/// own bounded, token-free line for them instead.
pub const MUTED_TARGETS: &[&str] = &[WS_TARGET];

#[derive(Debug, Clone, Copy)]
pub struct GatewayTap;

impl<S: Subscriber> Layer<S> for GatewayTap {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let target = event.metadata().target();
        if target != WS_TARGET && target != SHARD_TARGET {
            return;
        }
        let mut message = Message(String::new());
        event.record(&mut message);
        if let Some(found) = read(target, &message.0) {
            // No receiver (no bot running): nothing to do.
            let _ = channel().send(found);
        }
    }
}

struct Message(String);

impl Visit for Message {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            use std::fmt::Write;
            let _ = write!(self.0, "{value:?}");
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0.push_str(value);
        }
    }
}

/// Interprets one serenity log message.
fn read(target: &str, message: &str) -> Option<TapEvent> {
    if target == SHARD_TARGET {
        return message
            .contains("Shard has too many guilds")
            .then_some(TapEvent::ShardingRequired);
    }
    // serenity: "Err deserializing text: {error:?}; text: {frame}"
    let rest = message.strip_prefix("Err deserializing text: ")?;
    let (error, frame) = rest.split_once("; text: ")?;
    let error: String = crate::logging::redact(error)
        .chars()
        .take(ERROR_CHARS)
        .collect();
    let unreadable = |event: Option<String>| TapEvent::UnreadableFrame {
        event,
        bytes: frame.len(),
        error: error.clone(),
    };
    // Too deep or not JSON at all: nothing to answer.
    let Ok(value) = serde_json::from_str::<serde_json::Value>(frame) else {
        return Some(unreadable(None));
    };
    let event = value.get("t").and_then(|t| t.as_str()).map(|t| {
        t.chars()
            .filter(|c| c.is_ascii_uppercase() || *c == '_')
            .take(40)
            .collect::<String>()
    });
    if event.as_deref() != Some("INTERACTION_CREATE") {
        return Some(unreadable(event));
    }
    Some(interaction(value.get("d"), error.clone()).unwrap_or_else(|| unreadable(event)))
}

/// A malformed interaction's `d` payload: what is needed to answer it, if
/// it has an id and a token. serenity hands such payloads to raw event
/// handlers as unknown events when only the interaction fails to parse.
pub fn interaction(d: Option<&serde_json::Value>, error: String) -> Option<TapEvent> {
    let field = |name: &str| d.and_then(|d| d.get(name));
    let snowflake = |v: Option<&serde_json::Value>| {
        v.and_then(|v| match v {
            serde_json::Value::String(s) => s.parse::<u64>().ok(),
            serde_json::Value::Number(n) => n.as_u64(),
            _ => None,
        })
    };
    let token = field("token")
        .and_then(|t| t.as_str())
        .filter(|t| !t.is_empty() && t.len() <= 1000 && t.bytes().all(|b| b.is_ascii_graphic()));
    // Without an id and token there is no one to answer.
    let (id, token) = (snowflake(field("id"))?, token?);
    Some(TapEvent::MalformedInteraction {
        id,
        token: token.to_owned(),
        application_id: snowflake(field("application_id")),
        kind: field("type").and_then(|t| t.as_u64()),
        error,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(d: serde_json::Value) -> String {
        let f = serde_json::json!({"op": 0, "s": 3, "t": "INTERACTION_CREATE", "d": d});
        format!("Err deserializing text: Error(\"missing field `data`\", line: 1, column: 80); text: {f}")
    }

    #[test]
    fn a_malformed_interaction_yields_its_id_and_token() {
        let msg = frame(
            serde_json::json!({"id": "42", "token": "aW50ZXJhY3Rpb246abc", "type": 2, "application_id": "7"}),
        );
        assert_eq!(
            read(WS_TARGET, &msg),
            Some(TapEvent::MalformedInteraction {
                id: 42,
                token: "aW50ZXJhY3Rpb246abc".into(),
                application_id: Some(7),
                kind: Some(2),
                error: "Error(\"missing field `data`\", line: 1, column: 80)".into(),
            })
        );
    }

    #[test]
    fn frames_without_an_answerable_interaction() {
        let msg = frame(serde_json::json!({"token": "abc", "type": 2}));
        assert!(matches!(
            read(WS_TARGET, &msg),
            Some(TapEvent::UnreadableFrame { .. })
        ));
        let deep = format!(
            "Err deserializing text: Error(\"x\"); text: {}",
            "[".repeat(100_000)
        );
        assert!(matches!(
            read(WS_TARGET, &deep),
            Some(TapEvent::UnreadableFrame {
                event: None,
                bytes: 100_000,
                ..
            })
        ));
        let other = "Err deserializing text: Error(\"x\"); text: {\"op\":0,\"t\":\"GUILD_CREATE\",\"d\":{}}";
        assert!(matches!(
            read(WS_TARGET, other),
            Some(TapEvent::UnreadableFrame { event: Some(e), .. }) if e == "GUILD_CREATE"
        ));
        assert_eq!(read(WS_TARGET, "Err decompressing bytes: oops"), None);
    }

    #[test]
    fn close_4011_is_recognised() {
        assert_eq!(
            read(
                SHARD_TARGET,
                "[ShardInfo { id: ShardId(0), total: 1 }] Shard has too many guilds."
            ),
            Some(TapEvent::ShardingRequired)
        );
        assert_eq!(read(SHARD_TARGET, "[ShardInfo] Invalid session."), None);
    }
}
