//! Where the tip domain's state is kept: the SQLite backend of
//! [`TipStore`](crate::tips::TipStore), its migrations, URL, damage checks
//! and export. The types and the trait belong to `tips`; storage depends on
//! them, never the other way round. Methods are synchronous: with SQLite
//! every call is sub-millisecond. Every `set_*`/`put_*` returns only after
//! the change is durable, so a setting acknowledged to the user survives a
//! kill.

mod export;
mod migrations;
mod postgres;
mod rows;
mod scan;
mod sqlite;
mod url;

pub use export::{import, ExportedSettings};
pub use migrations::MIGRATIONS;
pub use postgres::PgStore;
pub use sqlite::{CheckReport, SqliteStore};
pub use url::{redact, DatabaseUrl, DEFAULT_DATABASE_URL};

use std::sync::Arc;

use crate::prefs::PrefsStore;
use crate::tips::{StoreError, TipStore};

/// One database, seen through the traits its users own.
#[derive(Clone)]
pub struct Stores {
    pub tips: Arc<dyn TipStore>,
    pub prefs: Arc<dyn PrefsStore>,
}

impl Stores {
    fn of<S: TipStore + PrefsStore>(store: S) -> Stores {
        let store = Arc::new(store);
        Stores {
            tips: Arc::clone(&store) as Arc<dyn TipStore>,
            prefs: store,
        }
    }
}

/// Opens the store a `DATABASE_URL` names: a SQLite file (the default) or
/// a PostgreSQL database shared by replicas.
pub async fn open(url: &str) -> Result<Stores, StoreError> {
    Ok(match DatabaseUrl::parse(url)? {
        DatabaseUrl::Postgres(url) => Stores::of(PgStore::connect(&url).await?),
        DatabaseUrl::SqliteFile(path) => Stores::of(SqliteStore::open(path)?),
        DatabaseUrl::SqliteMemory => Stores::of(SqliteStore::open_in_memory()?),
    })
}

/// SQLite's errors, with whether SQLite reports the file damaged.
impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        let damaged = matches!(
            &e,
            rusqlite::Error::SqliteFailure(f, _) if matches!(
                f.code,
                rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase
            )
        );
        StoreError::Database {
            message: e.to_string(),
            damaged,
        }
    }
}
