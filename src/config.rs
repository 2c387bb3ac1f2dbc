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
    pub rate_limit: Option<String>,
    pub tip_lease_secs: Option<String>,
}

/// `serve`'s own settings as given, besides [`RawBotConfig`].
#[derive(Debug, Clone, Default)]
pub struct RawServeConfig {
    pub public_key: Option<String>,
    pub interactions_addr: Option<String>,
}

/// Everything `massage-bot serve` needs besides the knowledge.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// Token, proxy, database and health address, as for `run`.
    pub bot: BotConfig,
    /// The application's public key (Developer Portal > General
    /// Information), which Discord's requests are signed with.
    pub public_key: [u8; 32],
    /// Where `POST /interactions` (and `/healthz`, `/metrics`) listen.
    pub interactions_addr: SocketAddr,
}

impl ServeConfig {
    pub fn from_raw(bot: RawBotConfig, raw: RawServeConfig) -> Result<ServeConfig, ConfigError> {
        let bot = BotConfig::from_raw(bot)?;
        let key = given(raw.public_key).ok_or(ConfigError::Invalid {
            name: "DISCORD_PUBLIC_KEY",
            why: "not set: copy the application's public key from the Developer Portal (General Information)".to_owned(),
        })?;
        let public_key = parse_hex_key(&key).ok_or(ConfigError::Invalid {
            name: "DISCORD_PUBLIC_KEY",
            why: "expected 64 hexadecimal digits (the application's public key, not the bot token)"
                .to_owned(),
        })?;
        let interactions_addr = parse_socket_addr(
            "INTERACTIONS_ADDR",
            &given(raw.interactions_addr).unwrap_or_else(|| "0.0.0.0:8080".to_owned()),
        )?;
        Ok(ServeConfig {
            bot,
            public_key,
            interactions_addr,
        })
    }
}

/// 64 hex digits as 32 bytes.
fn parse_hex_key(v: &str) -> Option<[u8; 32]> {
    let v = v.trim();
    if v.len() != 64 || !v.is_ascii() {
        return None;
    }
    let mut key = [0u8; 32];
    for (i, byte) in key.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&v[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(key)
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
    /// Requests per second the bot starts itself (daily tips), shared by
    /// every replica on one database.
    pub rate_limit: u32,
    /// How long a replica's claim on a day's tip holds (see
    /// `SchedulerConfig::lease`).
    pub tip_lease: Duration,
}

/// Long enough for any send (they time out at 15 s) with room to spare;
/// short enough that a killed replica's tips go out a minute late, not an
/// hour.
pub const DEFAULT_TIP_LEASE: Duration = Duration::from_secs(60);

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
        let rate_limit = given(raw.rate_limit)
            .map(|v| {
                v.parse::<u32>()
                    .ok()
                    .filter(|r| (1..=50).contains(r))
                    .ok_or(ConfigError::Invalid {
                        name: "DISCORD_RATE_LIMIT",
                        why: format!("`{v}` is not a number of requests per second from 1 to 50 (Discord's global limit)"),
                    })
            })
            .transpose()?
            .unwrap_or(crate::tips::DEFAULT_RATE_LIMIT);
        let tip_lease = given(raw.tip_lease_secs)
            .map(|v| {
                v.parse::<u64>()
                    .ok()
                    .filter(|s| (2..=3600).contains(s))
                    .map(Duration::from_secs)
                    .ok_or(ConfigError::Invalid {
                        name: "TIP_LEASE_SECS",
                        why: format!("`{v}` is not a number of seconds from 2 to 3600"),
                    })
            })
            .transpose()?
            .unwrap_or(DEFAULT_TIP_LEASE);
        Ok(BotConfig {
            tip_lease,
            token,
            gateway_give_up,
            rate_limit,
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
    parse_socket_addr("HEALTH_ADDR", v)
}

/// `HOST:PORT` for a listening address, named `name` in errors.
fn parse_socket_addr(name: &'static str, v: &str) -> Result<SocketAddr, ConfigError> {
    use std::net::ToSocketAddrs;
    let invalid = |why: String| ConfigError::Invalid {
        name,
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
    fn serve_settings() {
        let bot = || RawBotConfig {
            token: Some("MTA.abcdefghijklmnopqrstuvwxyz.0123456789".to_owned()),
            ..RawBotConfig::default()
        };
        let key = "67c6bd767ca099e79efac9fcce4d2022a63bf7dea780e7f3d813f694c1597089";
        let serve = |key: Option<&str>, addr: Option<&str>| {
            ServeConfig::from_raw(
                bot(),
                RawServeConfig {
                    public_key: key.map(str::to_owned),
                    interactions_addr: addr.map(str::to_owned),
                },
            )
        };
        let ok = serve(Some(key), None).expect("valid");
        assert_eq!(ok.public_key[0], 0x67);
        assert_eq!(ok.public_key[31], 0x89);
        assert_eq!(ok.interactions_addr.to_string(), "0.0.0.0:8080");
        let e = serve(None, None).expect_err("missing key").to_string();
        assert!(e.contains("DISCORD_PUBLIC_KEY"), "{e}");
        for bad in [
            &key[..63],
            "zz",
            "é7c6bd767ca099e79efac9fcce4d2022a63bf7dea780e7f3d813f694c15970",
        ] {
            let e = serve(Some(bad), None).expect_err(bad).to_string();
            assert!(e.contains("64 hexadecimal digits"), "{e}");
        }
        let e = serve(Some(key), Some("nowhere"))
            .expect_err("bad addr")
            .to_string();
        assert!(e.contains("INTERACTIONS_ADDR"), "{e}");
    }

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
    fn rate_limit() {
        let rate = |v: &str| {
            BotConfig::from_raw(RawBotConfig {
                token: Some("MTA.abcdefghijklmnopqrstuvwxyz.0123456789".to_owned()),
                rate_limit: Some(v.to_owned()),
                ..RawBotConfig::default()
            })
            .map(|c| c.rate_limit)
        };
        assert_eq!(rate("").ok(), Some(crate::tips::DEFAULT_RATE_LIMIT));
        assert_eq!(rate("20").ok(), Some(20));
        for bad in ["0", "51", "fast"] {
            let e = rate(bad).expect_err(bad).to_string();
            assert!(e.contains("DISCORD_RATE_LIMIT") && e.contains("50"), "{e}");
        }
    }

    #[test]
    fn tip_lease() {
        let lease = |v: &str| {
            BotConfig::from_raw(RawBotConfig {
                token: Some("MTA.abcdefghijklmnopqrstuvwxyz.0123456789".to_owned()),
                tip_lease_secs: Some(v.to_owned()),
                ..RawBotConfig::default()
            })
            .map(|c| c.tip_lease.as_secs())
        };
        assert_eq!(lease("").ok(), Some(DEFAULT_TIP_LEASE.as_secs()));
        assert_eq!(lease("5").ok(), Some(5));
        for bad in ["0", "1", "3601", "soon"] {
            let e = lease(bad).expect_err(bad).to_string();
            assert!(e.contains("TIP_LEASE_SECS"), "{e}");
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
