//! Configuration from the environment (and `.env`), parsed once at start-up.

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("DISCORD_TOKEN is not set: put your bot's token in the environment or in .env (see .env.example)")]
    MissingToken,
    #[error("DISCORD_TOKEN is malformed: a bot token is three dot-separated parts of letters, digits, '-' and '_' (the value is not shown)")]
    MalformedToken,
    #[error("DISCORD_TOKEN is in quotes: remove them (docker --env-file and some tools keep quotes as part of the value; the value is not shown)")]
    QuotedToken,
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
        if raw.len() > 1 && (raw.starts_with(['"', '\'']) || raw.ends_with(['"', '\''])) {
            return Err(ConfigError::QuotedToken);
        }
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
    /// `json` (any case) is JSON; anything else, text.
    pub fn parse(v: &str) -> LogFormat {
        if v.trim().eq_ignore_ascii_case("json") {
            LogFormat::Json
        } else {
            LogFormat::Text
        }
    }
}

/// `run`'s settings as given (command line, environment or `.env`, which
/// the command line parser reads), before they are checked.
#[derive(Debug, Clone, Default)]
pub struct RawBotConfig {
    pub token: Option<String>,
    pub dev_guild_id: Option<String>,
    pub proxy_url: Option<String>,
    pub database_url: Option<String>,
    pub health_addr: Option<String>,
    pub gateway_give_up_secs: Option<String>,
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
    /// How long the gateway may stay unreachable before the bot stops.
    pub gateway_give_up: Duration,
}

/// Long enough to ride out a Discord incident or a network blip, short
/// enough that a bot which cannot answer does not run unnoticed for hours.
pub const DEFAULT_GATEWAY_GIVE_UP: Duration = Duration::from_secs(15 * 60);

/// A set, non-blank value.
fn given(v: Option<String>) -> Option<String> {
    v.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

impl BotConfig {
    /// Checks every setting; the one place `run`'s configuration is read.
    pub fn from_raw(raw: RawBotConfig) -> Result<BotConfig, ConfigError> {
        let token = Token::parse(&given(raw.token).ok_or(ConfigError::MissingToken)?)?;
        let dev_guild_id = given(raw.dev_guild_id)
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
        let proxy_url = given(raw.proxy_url)
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
        let health_addr = given(raw.health_addr)
            .map(|v| parse_health_addr(&v))
            .transpose()?;
        let gateway_give_up = given(raw.gateway_give_up_secs)
            .map(|v| {
                v.parse::<u64>()
                    .ok()
                    .filter(|&s| s > 0)
                    .map(Duration::from_secs)
                    .ok_or(ConfigError::Invalid {
                        name: "GATEWAY_GIVE_UP_SECS",
                        why: format!("`{v}` is not a number of seconds (a positive whole number)"),
                    })
            })
            .transpose()?
            .unwrap_or(DEFAULT_GATEWAY_GIVE_UP);
        Ok(BotConfig {
            token,
            gateway_give_up,
            dev_guild_id,
            proxy_url,
            database_url: given(raw.database_url)
                .unwrap_or_else(|| crate::storage::DEFAULT_DATABASE_URL.to_owned()),
            health_addr,
        })
    }
}

/// `HOST:PORT` for the health endpoint: an IP address or a name such as
/// `localhost` (resolved once, here), as `healthcheck` accepts.
pub fn parse_health_addr(v: &str) -> Result<SocketAddr, ConfigError> {
    use std::net::ToSocketAddrs;
    let invalid = |why: String| ConfigError::Invalid {
        name: "HEALTH_ADDR",
        why: format!("`{v}`: {why} (expected e.g. 127.0.0.1:8080 or localhost:8080)"),
    };
    if let Ok(addr) = v.parse::<SocketAddr>() {
        return Ok(addr);
    }
    v.to_socket_addrs()
        .map_err(|e| invalid(e.to_string()))?
        .next()
        .ok_or_else(|| invalid("no address".to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gateway_give_up() {
        let raw = |v: &str| RawBotConfig {
            token: Some("MTA.abcdefghijklmnopqrstuvwxyz.0123456789".to_owned()),
            gateway_give_up_secs: Some(v.to_owned()),
            ..RawBotConfig::default()
        };
        let secs = |v: &str| BotConfig::from_raw(raw(v)).map(|c| c.gateway_give_up.as_secs());
        assert_eq!(secs("").ok(), Some(DEFAULT_GATEWAY_GIVE_UP.as_secs()));
        assert_eq!(secs(" 60 ").ok(), Some(60));
        for bad in ["0", "-5", "1.5", "ten"] {
            let e = secs(bad).expect_err(bad).to_string();
            assert!(e.contains("GATEWAY_GIVE_UP_SECS"), "{e}");
        }
    }

    #[test]
    fn health_addresses() {
        assert_eq!(
            parse_health_addr("0.0.0.0:8080").unwrap().to_string(),
            "0.0.0.0:8080"
        );
        let local = parse_health_addr("localhost:8080").unwrap();
        assert!(local.ip().is_loopback() && local.port() == 8080);
        assert!(parse_health_addr("localhost").is_err());
        assert!(parse_health_addr("nowhere.invalid:80:80").is_err());
    }

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
        for quoted in [
            format!("\"{good}\""),
            format!("'{good}'"),
            format!("\"{good}"),
        ] {
            let e = Token::parse(&quoted).unwrap_err();
            assert!(matches!(e, ConfigError::QuotedToken), "{quoted}");
            assert!(!e.to_string().contains("MTIz"), "the value is not shown");
        }
    }
}
