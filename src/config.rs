//! Configuration from the environment (and `.env`), parsed once at start-up.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("DISCORD_TOKEN is not set: put your bot's token in the environment or in .env (see .env.example)")]
    MissingToken,
    #[error("DISCORD_TOKEN is malformed: a bot token is three dot-separated parts of letters, digits, '-' and '_' (the value is not shown)")]
    MalformedToken,
    #[error("{name} is invalid: {why}")]
    Invalid { name: &'static str, why: String },
}

/// The bot token. Its `Debug` and `Display` never show it, so it cannot
/// leak into a log line by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    pub fn parse(raw: &str) -> Result<Token, ConfigError> {
        let raw = raw.trim();
        let raw = raw.strip_prefix("Bot ").unwrap_or(raw);
        let parts: Vec<&str> = raw.split('.').collect();
        let valid_part = |p: &&str| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        };
        if parts.len() != 3 || !parts.iter().all(valid_part) || !(30..=200).contains(&raw.len()) {
            return Err(ConfigError::MalformedToken);
        }
        Ok(Token(raw.to_owned()))
    }

    /// The secret itself: only for handing to the HTTP client.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

impl LogFormat {
    pub fn from_env() -> LogFormat {
        match std::env::var("LOG_FORMAT") {
            Ok(v) if v.eq_ignore_ascii_case("json") => LogFormat::Json,
            _ => LogFormat::Text,
        }
    }
}

/// Everything `massage-bot run` needs besides the knowledge.
#[derive(Debug, Clone)]
pub struct BotConfig {
    pub token: Token,
    /// Register commands to this guild (instant) instead of globally.
    pub dev_guild_id: Option<u64>,
    /// Send REST calls through this HTTP proxy (e.g. twilight-http-proxy,
    /// which then does the rate limiting) and ask it for the gateway URL.
    pub proxy_url: Option<String>,
    pub database_url: String,
    pub health_addr: Option<SocketAddr>,
}

fn var(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

impl BotConfig {
    pub fn from_env() -> Result<BotConfig, ConfigError> {
        let token = Token::parse(&var("DISCORD_TOKEN").ok_or(ConfigError::MissingToken)?)?;
        let dev_guild_id = var("DEV_GUILD_ID")
            .map(|v| {
                v.parse::<u64>()
                    .ok()
                    .filter(|&id| id > 0)
                    .ok_or(ConfigError::Invalid {
                        name: "DEV_GUILD_ID",
                        why: format!("`{v}` is not a guild id (a positive number)"),
                    })
            })
            .transpose()?;
        let proxy_url = var("DISCORD_PROXY_URL")
            .map(|v| {
                if v.starts_with("http://") || v.starts_with("https://") {
                    Ok(v.trim_end_matches('/').to_owned())
                } else {
                    Err(ConfigError::Invalid {
                        name: "DISCORD_PROXY_URL",
                        why: "must start with http:// or https://".to_owned(),
                    })
                }
            })
            .transpose()?;
        let health_addr = var("HEALTH_ADDR")
            .map(|v| {
                v.parse::<SocketAddr>().map_err(|e| ConfigError::Invalid {
                    name: "HEALTH_ADDR",
                    why: format!("`{v}`: {e} (expected e.g. 127.0.0.1:8080)"),
                })
            })
            .transpose()?;
        Ok(BotConfig {
            token,
            dev_guild_id,
            proxy_url,
            database_url: var("DATABASE_URL")
                .unwrap_or_else(|| crate::storage::DEFAULT_DATABASE_URL.to_owned()),
            health_addr,
        })
    }
}

/// The knowledge file named by `KNOWLEDGE_PATH`, if any.
pub fn knowledge_path_from_env() -> Option<PathBuf> {
    var("KNOWLEDGE_PATH").map(PathBuf::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens() {
        let good = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GabcDE.abcdefghijklmnopqrstuvwxyz0123456789AB";
        let t = Token::parse(good).unwrap();
        assert_eq!(t.expose(), good);
        assert!(!format!("{t:?} {t}").contains("MTIz"));
        assert_eq!(Token::parse(&format!("Bot {good}")).unwrap().expose(), good);
        for bad in [
            "",
            "not-a-token",
            "a.b.c",
            &format!("{good}.x"),
            &good.replace('.', " "),
        ] {
            assert!(
                matches!(Token::parse(bad), Err(ConfigError::MalformedToken)),
                "{bad}"
            );
        }
    }
}
