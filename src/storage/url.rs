//! `DATABASE_URL` parsing. Only SQLite for now; the scheme is checked so a
//! future `postgres://` URL fails loudly instead of creating a file named so.

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
        let rest = url_trimmed
            .strip_prefix("sqlite:")
            .ok_or_else(|| invalid("only sqlite:// URLs are supported"))?;
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
    fn rejects_other_urls() {
        for bad in [
            "postgres://localhost/bot",
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
