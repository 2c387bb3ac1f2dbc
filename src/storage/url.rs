//! `DATABASE_URL` parsing: `sqlite:` for the embedded default, `postgres:`
//! for a database shared by replicas. Anything else fails loudly instead of
//! creating a file named after it.

use std::path::PathBuf;

use crate::tips::StoreError;

/// Used when `DATABASE_URL` is not set.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/massage-bot.db";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A database file; relative paths are relative to the working directory.
    SqliteFile(PathBuf),
    /// A private in-memory database (lost on exit; tests and dry runs).
    SqliteMemory,
    /// A PostgreSQL connection string (`postgres://user:pass@host:port/db`),
    /// checked but kept as given for the client.
    Postgres(String),
}

impl DatabaseUrl {
    /// Accepts `sqlite://PATH` (`sqlite:///abs/path` for an absolute path),
    /// `sqlite:PATH` and `sqlite::memory:`. The sqlx-style `?mode=rwc` is
    /// accepted and ignored (we always create); other parameters are rejected.
    pub fn parse(url: &str) -> Result<Self, StoreError> {
        let invalid = |reason: &str| StoreError::InvalidUrl {
            url: url.to_owned(),
            reason: reason.to_owned(),
        };
        let url_trimmed = url.trim();
        if url_trimmed.starts_with("postgres://") || url_trimmed.starts_with("postgresql://") {
            // The client's own parser says what is wrong, never echoing a
            // password (the error is shown with the URL redacted).
            return match url_trimmed.parse::<tokio_postgres::Config>() {
                Ok(_) => Ok(Self::Postgres(url_trimmed.to_owned())),
                Err(e) => Err(StoreError::InvalidUrl {
                    url: redact(url_trimmed),
                    reason: e.to_string(),
                }),
            };
        }
        let rest = url_trimmed
            .strip_prefix("sqlite:")
            .ok_or_else(|| invalid("only sqlite: and postgres:// URLs are supported"))?;
        let (rest, query) = match rest.split_once('?') {
            Some((r, q)) => (r, Some(q)),
            None => (rest, None),
        };
        if let Some(q) = query {
            if q.split('&').any(|p| !p.is_empty() && p != "mode=rwc") {
                return Err(invalid("unsupported query parameter (only mode=rwc)"));
            }
        }
        if rest == ":memory:" || rest == "//:memory:" {
            return Ok(Self::SqliteMemory);
        }
        let path = rest.strip_prefix("//").unwrap_or(rest);
        if path.is_empty() {
            return Err(invalid("missing file path"));
        }
        Ok(Self::SqliteFile(PathBuf::from(path)))
    }
}

/// The URL with any password replaced, for messages and logs.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((userinfo, host)) = rest.split_once('@') else {
        return url.to_owned();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sqlite_urls() {
        let f = |p: &str| DatabaseUrl::SqliteFile(PathBuf::from(p));
        assert_eq!(
            DatabaseUrl::parse(DEFAULT_DATABASE_URL).unwrap(),
            f("data/massage-bot.db")
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:///var/lib/bot.db").unwrap(),
            f("/var/lib/bot.db")
        );
        assert_eq!(DatabaseUrl::parse("sqlite:bot.db").unwrap(), f("bot.db"));
        assert_eq!(
            DatabaseUrl::parse("sqlite://bot.db?mode=rwc").unwrap(),
            f("bot.db")
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite::memory:").unwrap(),
            DatabaseUrl::SqliteMemory
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite://:memory:").unwrap(),
            DatabaseUrl::SqliteMemory
        );
    }

    #[test]
    fn parses_postgres_urls() {
        for ok in [
            "postgres://bot@127.0.0.1:5432/bot",
            "postgresql://bot:secret@db.internal/bot?connect_timeout=5",
        ] {
            assert_eq!(
                DatabaseUrl::parse(ok).unwrap(),
                DatabaseUrl::Postgres(ok.to_owned())
            );
        }
        let err = DatabaseUrl::parse("postgres://bot:secret@db:notaport/bot").unwrap_err();
        let shown = err.to_string();
        assert!(!shown.contains("secret"), "{shown}");
        assert!(shown.contains("bot:***@db"), "{shown}");
    }

    #[test]
    fn rejects_other_urls() {
        for bad in [
            "mysql://localhost/bot",
            "data/bot.db",
            "sqlite://",
            "sqlite:",
            "sqlite://bot.db?cache=shared",
            "",
        ] {
            assert!(DatabaseUrl::parse(bad).is_err(), "{bad:?}");
        }
    }
}
