//! Per-server preferences that a server's managers set with `/settings`,
//! kept in the same database as the tip settings. The Discord glue asks
//! for them; storage implements [`PrefsStore`].

use chrono::{DateTime, Utc};

use crate::tips::{GuildId, StoreError};

/// A server's preferences; the default is what a server gets before its
/// managers change anything.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ServerPrefs {
    /// Safety answers (`/safe`, and `/ask` or `/benefits` answers that
    /// carry a warning) are visible only to whoever asked, unless they
    /// choose `private: False`. Health worries are often personal.
    pub private_safety: bool,
}

#[async_trait::async_trait]
pub trait PrefsStore: Send + Sync + 'static {
    /// The server's preferences (the defaults if it never set any).
    async fn prefs(&self, guild: GuildId) -> Result<ServerPrefs, StoreError>;

    /// Makes safety answers private by default, or not.
    async fn set_private_safety(
        &self,
        guild: GuildId,
        on: bool,
        now: DateTime<Utc>,
    ) -> Result<ServerPrefs, StoreError>;
}
