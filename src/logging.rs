//! Log output that is safe to keep: every line is bounded in size and
//! anything that looks like a secret (a bot token, an interaction token) is
//! replaced before it is written, whichever crate logged it. Colours only
//! on a terminal, so files and `docker logs` stay plain text.

use std::io::{IsTerminal, Write};

use tracing_subscriber::fmt::MakeWriter;

use crate::config::LogFormat;

/// Longest line written; the rest is cut (a 200 KB gateway frame once made
/// one line).
pub const MAX_LINE: usize = 4096;
/// Runs of token characters at least this long are taken for secrets.
/// Bot tokens are about 70 characters, interaction tokens about 200; ids,
/// hashes and words are far shorter.
const SECRET_MIN: usize = 48;
const REDACTED: &str = "[redacted]";

/// Installs the global subscriber: `RUST_LOG` (or `default_filter`) for the
/// log lines, never events of the `muted` targets, plus `extra` (which sees
/// events through its own filter).
pub fn init<L>(format: LogFormat, default_filter: &str, muted: &'static [&'static str], extra: L)
where
    L: tracing_subscriber::Layer<tracing_subscriber::Registry> + Send + Sync + 'static,
{
    use tracing_subscriber::filter::FilterExt as _;
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    use tracing_subscriber::Layer;

    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_filter));
    let filter = filter.and(tracing_subscriber::filter::filter_fn(move |m| {
        !muted.contains(&m.target())
    }));
    let writer = SafeWriter { format };
    // https://no-color.org: set and not empty means no colours.
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let ansi = format == LogFormat::Text && std::io::stderr().is_terminal() && !no_color;
    let lines = match format {
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .with_writer(writer)
            .with_filter(filter)
            .boxed(),
        LogFormat::Text => tracing_subscriber::fmt::layer()
            .with_ansi(ansi)
            .with_writer(writer)
            .with_filter(filter)
            .boxed(),
    };
    let _ = tracing_subscriber::registry()
        .with(extra)
        .with(lines)
        .try_init();
}

/// Writes each formatted event to stderr, redacted and bounded.
#[derive(Debug, Clone, Copy)]
pub struct SafeWriter {
    format: LogFormat,
}

impl<'a> MakeWriter<'a> for SafeWriter {
    type Writer = SafeLine;

    fn make_writer(&'a self) -> Self::Writer {
        SafeLine {
            format: self.format,
        }
    }
}

/// One event's output (the formatter writes an event in one call).
pub struct SafeLine {
    format: LogFormat,
}

impl Write for SafeLine {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let line = safe_line(&String::from_utf8_lossy(buf), self.format);
        // A closed stderr must not take the bot down with it.
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

/// The line as it may be written: secrets replaced, at most [`MAX_LINE`]
/// bytes, still valid JSON in JSON format.
pub fn safe_line(line: &str, format: LogFormat) -> String {
    let clean = redact(line);
    if clean.len() <= MAX_LINE {
        return clean;
    }
    let total = clean.len();
    match format {
        LogFormat::Text => {
            let mut cut = truncate(&clean, MAX_LINE - 64).to_owned();
            cut.push_str(&format!(" … [log line cut: {total} bytes]\n"));
            cut
        }
        LogFormat::Json => {
            let head = truncate(&clean, 512);
            let mut out = serde_json::json!({
                "level": "WARN",
                "fields": {"message": "log line cut", "bytes": total, "head": head},
                "target": "massage_bot::logging",
            })
            .to_string();
            out.push('\n');
            out
        }
    }
}

/// The longest prefix of `s` of at most `max` bytes that ends on a char.
pub fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Replaces every run of token characters (`A-Z a-z 0-9 _ - .`) of at least
/// [`SECRET_MIN`] that mixes letters and digits.
pub fn redact(s: &str) -> String {
    let is_token = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.');
    let mut out = String::with_capacity(s.len());
    let mut run_start: Option<usize> = None;
    let flush = |out: &mut String, run: &str| {
        let letters = run.bytes().any(|b| b.is_ascii_alphabetic());
        let digits = run.bytes().any(|b| b.is_ascii_digit());
        if run.len() >= SECRET_MIN && letters && digits {
            out.push_str(REDACTED);
        } else {
            out.push_str(run);
        }
    };
    for (i, c) in s.char_indices() {
        if is_token(c) {
            run_start.get_or_insert(i);
            continue;
        }
        if let Some(start) = run_start.take() {
            flush(&mut out, &s[start..i]);
        }
        out.push(c);
    }
    if let Some(start) = run_start {
        flush(&mut out, &s[start..]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOT_TOKEN: &str =
        "MTIzNDU2Nzg5MDEyMzQ1Njc4.GAbCdE.abcdefghijklmnopqrstuvwxyz0123456789AB";
    const INTERACTION_TOKEN: &str = "aW50ZXJhY3Rpb246MTIzNDU2Nzg5MDEyMzQ1Njc4OkRhYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0NTY3ODk";

    #[test]
    fn secrets_are_redacted_anywhere_in_a_line() {
        let line = format!(
            "WARN serenity: text: {{\"token\":\"{INTERACTION_TOKEN}\"}} POST /webhooks/1/{INTERACTION_TOKEN}/messages auth={BOT_TOKEN}\n"
        );
        let out = redact(&line);
        assert!(
            !out.contains(INTERACTION_TOKEN) && !out.contains(BOT_TOKEN),
            "{out}"
        );
        assert_eq!(out.matches(REDACTED).count(), 3);
        assert!(out.ends_with("/messages auth=[redacted]\n"));
    }

    #[test]
    fn ordinary_text_is_kept() {
        for line in [
            "INFO massage_bot: answered command=benefits topic=sleep query=\"can massage help me sleep\" latency_us=412\n",
            "guild=1234567890123456789 channel=987654321098765432 nonce=t3w5e11264sgsf-99991231\n",
            "path=/var/lib/massage-bot/data/massage-bot.db custom_id=q1:0123456789abcdef:b3s4\n",
            "tz=America/Argentina/ComodRivadavia ünïcödé 🙂\n",
        ] {
            assert_eq!(redact(line), line);
        }
    }

    #[test]
    fn long_lines_are_cut_and_json_stays_json() {
        let long = format!("{}\n", "word ".repeat(50_000));
        let text = safe_line(&long, LogFormat::Text);
        assert!(
            text.len() <= MAX_LINE && text.ends_with("bytes]\n"),
            "{}",
            text.len()
        );
        let json_line = format!("{}\n", serde_json::json!({"fields": {"message": long}}));
        let json = safe_line(&json_line, LogFormat::Json);
        assert!(json.len() <= MAX_LINE);
        let v: serde_json::Value = serde_json::from_str(json.trim_end()).unwrap();
        assert_eq!(v["fields"]["message"], "log line cut");
        // Multi-byte characters are never split.
        let emoji = "🙂".repeat(5_000);
        assert!(safe_line(&emoji, LogFormat::Text).len() <= MAX_LINE);
    }
}
