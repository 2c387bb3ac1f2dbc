//! PostgreSQL backend, for replicas sharing one database (`serve` behind a
//! load balancer). Same rows as SQLite (see `rows`); what differs is
//! concurrency between processes: a day's post is claimed with
//! `FOR UPDATE SKIP LOCKED` and a lease, so no replica waits on another and
//! a killed one's claim is taken over when its lease ends.
//!
//! tokio-postgres rather than sqlx: it is the plain async client (sqlx's
//! compile-time checking needs a database at build time, or checked-in
//! query metadata, and builds much more); a handful of connections reused
//! in turn is all the pooling this needs.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use tokio::sync::{Mutex, MutexGuard};
use tokio_postgres::{Client, Config, GenericClient, NoTls, Row};
use tracing::{debug, error, info, warn};

use super::rows::{date_str, from_db, ms, to_db, RawAttempt, RawSettings};
use crate::prefs::{PrefsStore, ServerPrefs};
use crate::tips::{
    nonce_for, rotation::RotationState, ActiveSettings, Attempt, AttemptRequest, AttemptStatus,
    Claim, GuildId, ReplicaId, Schedule, StoreError, TipSettings, TipStore,
};

/// Connections per process: the scheduler's loop uses one at a time and
/// `/tips` commands are rare; a few spare ones keep them from queueing.
const POOL_SIZE: usize = 4;

/// How long connecting may take before the store reports an error.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Any statement taking longer fails instead of holding a connection.
const STATEMENT_TIMEOUT_MS: u32 = 10_000;

/// Serialises migrations between replicas starting at once (an arbitrary
/// constant: "massage" in ASCII).
const MIGRATION_LOCK: i64 = 0x006d_6173_7361_6765;

/// Migration `i` moves the schema from version `i` to `i + 1`. Never edit a
/// shipped one: append.
const MIGRATIONS: &[&str] = &[
    // 1: settings, attempts with claims, rotation, replicas.
    r#"
    CREATE TABLE tip_settings (
        guild_id         BIGINT  PRIMARY KEY,  -- u64 stored bit-for-bit
        channel_id       BIGINT  NOT NULL,
        local_time       TEXT    NOT NULL,     -- HH:MM
        timezone         TEXT    NOT NULL,     -- IANA name
        enabled          BOOLEAN NOT NULL,
        paused_reason    TEXT,
        paused_at        BIGINT,               -- unix ms
        active_since     BIGINT  NOT NULL,     -- unix ms
        last_posted_date TEXT,                 -- YYYY-MM-DD, local
        last_posted_at   BIGINT,               -- unix ms
        updated_at       BIGINT  NOT NULL      -- unix ms
    );
    CREATE TABLE tip_attempts (
        guild_id    BIGINT  NOT NULL,
        local_date  TEXT    NOT NULL,          -- YYYY-MM-DD, the server's local date
        nonce       TEXT    NOT NULL,
        tip_index   BIGINT  NOT NULL,
        channel_id  BIGINT  NOT NULL,
        status      TEXT    NOT NULL CHECK (status IN ('pending', 'posted', 'failed')),
        tries       BIGINT  NOT NULL,
        manual      BOOLEAN NOT NULL,
        started_at  BIGINT  NOT NULL,
        posted_at   BIGINT,
        error       TEXT,
        claimed_by  BIGINT,                    -- ReplicaId, bit-for-bit
        lease_until BIGINT,                    -- unix ms
        PRIMARY KEY (guild_id, local_date)
    );
    CREATE INDEX tip_attempts_by_date ON tip_attempts (local_date);
    CREATE TABLE tip_rotation (
        guild_id  BIGINT PRIMARY KEY,
        seed      BIGINT NOT NULL,
        cycle     BIGINT NOT NULL,
        tip_order TEXT   NOT NULL,             -- comma-separated tip indices
        position  BIGINT NOT NULL,
        last_tip  BIGINT
    );
    CREATE TABLE tip_replicas (
        replica_id BIGINT PRIMARY KEY,
        seen_at    BIGINT NOT NULL             -- unix ms
    );
    "#,
    // 2: per-server preferences (`/settings`).
    r#"
    CREATE TABLE server_prefs (
        guild_id       BIGINT  PRIMARY KEY,
        private_safety BOOLEAN NOT NULL,
        updated_at     BIGINT  NOT NULL        -- unix ms
    );
    "#,
    // 3: replicas catch up with changes by `updated_at`.
    r#"
    CREATE INDEX tip_settings_by_update ON tip_settings (updated_at);
    "#,
];

const SETTINGS_SELECT: &str = "
    SELECT s.guild_id, s.channel_id, s.local_time, s.timezone, s.enabled,
           s.paused_reason, s.paused_at, s.active_since,
           s.last_posted_date, s.last_posted_at, s.updated_at,
           a.local_date, a.status, a.tries, a.error
    FROM tip_settings s
    LEFT JOIN LATERAL (SELECT x.local_date, x.status, x.tries, x.error FROM tip_attempts x
                       WHERE x.guild_id = s.guild_id
                       ORDER BY x.local_date DESC LIMIT 1) a ON true";

const ATTEMPT_COLUMNS: &str = "guild_id, local_date, nonce, tip_index, channel_id, status, \
     tries, manual, started_at, posted_at, error";

/// The PostgreSQL [`TipStore`]: a few connections, each reconnected when
/// it breaks, used in turn.
pub struct PgStore {
    config: Config,
    slots: Vec<Mutex<Option<Client>>>,
    next: AtomicUsize,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the config: it holds the password.
        f.debug_struct("PgStore").finish_non_exhaustive()
    }
}

impl From<tokio_postgres::Error> for StoreError {
    fn from(e: tokio_postgres::Error) -> Self {
        let message = match e.as_db_error() {
            Some(db) => format!("{} ({})", db.message(), db.code().code()),
            None => match std::error::Error::source(&e) {
                Some(cause) => format!("{e}: {cause}"),
                None => e.to_string(),
            },
        };
        StoreError::Database {
            message,
            damaged: false,
        }
    }
}

impl PgStore {
    /// Connects to the database a `postgres://` URL names and brings its
    /// schema up to date.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let mut config: Config =
            url.parse()
                .map_err(|e: tokio_postgres::Error| StoreError::InvalidUrl {
                    url: super::redact(url),
                    reason: e.to_string(),
                })?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        config.application_name("massage-bot");
        let store = PgStore {
            config,
            slots: (0..POOL_SIZE).map(|_| Mutex::new(None)).collect(),
            next: AtomicUsize::new(0),
        };
        store.migrate().await?;
        Ok(store)
    }

    async fn open_connection(&self) -> Result<Client, StoreError> {
        let (client, connection) = self.config.connect(NoTls).await?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                warn!(error = %e, "PostgreSQL connection closed");
            }
        });
        client
            .batch_execute(&format!(
                "SET statement_timeout = {STATEMENT_TIMEOUT_MS}; SET lock_timeout = {STATEMENT_TIMEOUT_MS}"
            ))
            .await?;
        Ok(client)
    }

    /// A connection of the pool, (re)connected if it is closed.
    async fn conn(&self) -> Result<Conn<'_>, StoreError> {
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.slots.len();
        let mut slot = self.slots[i].lock().await;
        if slot.as_ref().is_none_or(Client::is_closed) {
            *slot = Some(self.open_connection().await?);
        }
        Ok(Conn(slot))
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        let mut conn = self.conn().await?;
        let client = conn.client()?;
        let tx = client.transaction().await?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .await?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS massage_bot_schema (version BIGINT NOT NULL);
             INSERT INTO massage_bot_schema (version)
             SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM massage_bot_schema)",
        )
        .await?;
        let version: i64 = tx
            .query_one("SELECT version FROM massage_bot_schema", &[])
            .await?
            .get(0);
        let supported = MIGRATIONS.len() as i64;
        if version > supported {
            return Err(StoreError::SchemaTooNew {
                found: version,
                supported,
            });
        }
        for (v, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            tx.batch_execute(sql).await?;
            info!(from = v, to = v + 1, "PostgreSQL tip store migrated");
        }
        tx.execute("UPDATE massage_bot_schema SET version = $1", &[&supported])
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The schema version in the database.
    pub async fn schema_version(&self) -> Result<i64, StoreError> {
        let mut conn = self.conn().await?;
        Ok(conn
            .client()?
            .query_one("SELECT version FROM massage_bot_schema", &[])
            .await?
            .get(0))
    }
}

/// A pooled connection, held for one operation.
struct Conn<'a>(MutexGuard<'a, Option<Client>>);

impl Conn<'_> {
    fn client(&mut self) -> Result<&mut Client, StoreError> {
        self.0.as_mut().ok_or_else(|| StoreError::Database {
            message: "no connection to PostgreSQL".into(),
            damaged: false,
        })
    }
}

fn raw_settings(r: &Row) -> Result<RawSettings, tokio_postgres::Error> {
    Ok(RawSettings {
        guild: r.try_get(0)?,
        channel: r.try_get(1)?,
        time: r.try_get(2)?,
        tz: r.try_get(3)?,
        enabled: r.try_get(4)?,
        paused_reason: r.try_get(5)?,
        paused_at: r.try_get(6)?,
        active_since: r.try_get(7)?,
        last_posted_date: r.try_get(8)?,
        last_posted_at: r.try_get(9)?,
        updated_at: r.try_get(10)?,
        att_date: r.try_get(11)?,
        att_status: r.try_get(12)?,
        att_tries: r.try_get(13)?,
        att_error: r.try_get(14)?,
    })
}

fn raw_attempt(r: &Row) -> Result<RawAttempt, tokio_postgres::Error> {
    Ok(RawAttempt {
        guild: r.try_get(0)?,
        date: r.try_get(1)?,
        nonce: r.try_get(2)?,
        tip_index: r.try_get(3)?,
        channel: r.try_get(4)?,
        status: r.try_get(5)?,
        tries: r.try_get(6)?,
        manual: r.try_get(7)?,
        started_at: r.try_get(8)?,
        posted_at: r.try_get(9)?,
        error: r.try_get(10)?,
    })
}

async fn read_settings(
    c: &impl GenericClient,
    guild: GuildId,
) -> Result<Option<TipSettings>, StoreError> {
    let sql = format!("{SETTINGS_SELECT} WHERE s.guild_id = $1");
    match c.query_opt(&sql, &[&to_db(guild.0)]).await? {
        Some(row) => Ok(Some(raw_settings(&row)?.parse()?)),
        None => Ok(None),
    }
}

async fn read_attempt(
    c: &impl GenericClient,
    guild: GuildId,
    date: NaiveDate,
) -> Result<Option<Attempt>, StoreError> {
    let sql = format!(
        "SELECT {ATTEMPT_COLUMNS} FROM tip_attempts WHERE guild_id = $1 AND local_date = $2"
    );
    match c
        .query_opt(&sql, &[&to_db(guild.0), &date_str(date)])
        .await?
    {
        Some(row) => Ok(Some(raw_attempt(&row)?.parse()?)),
        None => Ok(None),
    }
}

async fn read_rotation(
    c: &impl GenericClient,
    guild: GuildId,
    lock: bool,
) -> Result<Option<RotationState>, StoreError> {
    let sql = format!(
        "SELECT seed, cycle, tip_order, position, last_tip FROM tip_rotation WHERE guild_id = $1{}",
        if lock { " FOR UPDATE" } else { "" }
    );
    let Some(row) = c.query_opt(&sql, &[&to_db(guild.0)]).await? else {
        return Ok(None);
    };
    let order: String = row.try_get(2)?;
    let order: Result<Vec<usize>, _> = order
        .split(',')
        .filter(|s| !s.is_empty())
        .map(str::parse::<usize>)
        .collect();
    Ok(Some(RotationState {
        seed: from_db(row.try_get(0)?),
        cycle: from_db(row.try_get(1)?),
        // Unreadable order: start over with a new one rather than fail posting.
        order: order.unwrap_or_default(),
        position: usize::try_from(row.try_get::<_, i64>(3)?).unwrap_or(usize::MAX),
        last: row
            .try_get::<_, Option<i64>>(4)?
            .and_then(|l| usize::try_from(l).ok()),
    }))
}

/// Advances the stored rotation inside the caller's transaction (the row
/// is locked, so two replicas cannot hand out the same step).
async fn advance_rotation(
    c: &impl GenericClient,
    guild: GuildId,
    n_tips: usize,
) -> Result<usize, StoreError> {
    let mut r = read_rotation(c, guild, true)
        .await?
        .unwrap_or_else(|| RotationState::for_guild(guild.0));
    let tip = r.next(n_tips).ok_or(StoreError::NoTips)?;
    let order = r
        .order
        .iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join(",");
    c.execute(
        "INSERT INTO tip_rotation (guild_id, seed, cycle, tip_order, position, last_tip)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (guild_id) DO UPDATE SET seed = excluded.seed, cycle = excluded.cycle,
           tip_order = excluded.tip_order, position = excluded.position,
           last_tip = excluded.last_tip",
        &[
            &to_db(guild.0),
            &to_db(r.seed),
            &to_db(r.cycle),
            &order,
            &i64::try_from(r.position).unwrap_or(i64::MAX),
            &r.last.and_then(|l| i64::try_from(l).ok()),
        ],
    )
    .await?;
    Ok(tip)
}

fn tip_db(tip: usize) -> i64 {
    i64::try_from(tip).unwrap_or(i64::MAX)
}

#[async_trait::async_trait]
impl TipStore for PgStore {
    async fn put_settings(
        &self,
        guild: GuildId,
        schedule: &Schedule,
        now: DateTime<Utc>,
    ) -> Result<TipSettings, StoreError> {
        let mut conn = self.conn().await?;
        let tx = conn.client()?.transaction().await?;
        tx.execute(
            "INSERT INTO tip_settings (guild_id, channel_id, local_time, timezone, enabled,
                 paused_reason, paused_at, active_since, updated_at)
             VALUES ($1, $2, $3, $4, true, NULL, NULL, $5, $5)
             ON CONFLICT (guild_id) DO UPDATE SET channel_id = excluded.channel_id,
                 local_time = excluded.local_time, timezone = excluded.timezone,
                 enabled = true, paused_reason = NULL, paused_at = NULL,
                 active_since = excluded.active_since, updated_at = excluded.updated_at",
            &[
                &to_db(guild.0),
                &to_db(schedule.channel.0),
                &schedule.time.format("%H:%M").to_string(),
                &schedule.tz.name(),
                &ms(now),
            ],
        )
        .await?;
        let saved = read_settings(&tx, guild)
            .await?
            .ok_or(StoreError::Corrupt {
                guild: guild.0,
                what: "settings vanished after insert".into(),
            })?;
        tx.commit().await?;
        debug!(guild = guild.0, channel = schedule.channel.0, time = %schedule.time,
               tz = schedule.tz.name(), "tip settings saved");
        Ok(saved)
    }

    async fn set_enabled(
        &self,
        guild: GuildId,
        enabled: bool,
        now: DateTime<Utc>,
    ) -> Result<Option<TipSettings>, StoreError> {
        let mut conn = self.conn().await?;
        let tx = conn.client()?.transaction().await?;
        let n = if enabled {
            tx.execute(
                "UPDATE tip_settings SET
                     active_since = CASE WHEN NOT enabled OR paused_reason IS NOT NULL
                                         THEN $2 ELSE active_since END,
                     enabled = true, paused_reason = NULL, paused_at = NULL, updated_at = $2
                 WHERE guild_id = $1",
                &[&to_db(guild.0), &ms(now)],
            )
            .await?
        } else {
            tx.execute(
                "UPDATE tip_settings SET enabled = false, updated_at = $2 WHERE guild_id = $1",
                &[&to_db(guild.0), &ms(now)],
            )
            .await?
        };
        if n == 0 {
            tx.rollback().await?;
            return Ok(None);
        }
        let saved = read_settings(&tx, guild).await?;
        tx.commit().await?;
        debug!(guild = guild.0, enabled, "tips toggled");
        Ok(saved)
    }

    async fn pause(
        &self,
        guild: GuildId,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut conn = self.conn().await?;
        let n = conn
            .client()?
            .execute(
                "UPDATE tip_settings SET paused_reason = $2, paused_at = $3, updated_at = $3
                 WHERE guild_id = $1",
                &[&to_db(guild.0), &reason, &ms(now)],
            )
            .await?;
        Ok(n > 0)
    }

    async fn unpause(&self, guild: GuildId, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let mut conn = self.conn().await?;
        let n = conn
            .client()?
            .execute(
                "UPDATE tip_settings SET paused_reason = NULL, paused_at = NULL, updated_at = $2
                 WHERE guild_id = $1 AND paused_reason IS NOT NULL",
                &[&to_db(guild.0), &ms(now)],
            )
            .await?;
        Ok(n > 0)
    }

    async fn changed_since(&self, since: DateTime<Utc>) -> Result<Vec<TipSettings>, StoreError> {
        let mut conn = self.conn().await?;
        let sql = format!("{SETTINGS_SELECT} WHERE s.updated_at >= $1 ORDER BY s.guild_id");
        let rows = conn.client()?.query(&sql, &[&ms(since)]).await?;
        Ok(rows
            .iter()
            .filter_map(|row| {
                match raw_settings(row)
                    .map_err(StoreError::from)
                    .and_then(RawSettings::parse)
                {
                    Ok(s) => Some(s),
                    Err(e) => {
                        error!(error = %e, "skipping unreadable tip settings row");
                        None
                    }
                }
            })
            .collect())
    }

    async fn get(&self, guild: GuildId) -> Result<Option<TipSettings>, StoreError> {
        let mut conn = self.conn().await?;
        read_settings(conn.client()?, guild).await
    }

    async fn all_active(&self) -> Result<ActiveSettings, StoreError> {
        let mut conn = self.conn().await?;
        let sql = format!(
            "{SETTINGS_SELECT} WHERE s.enabled AND s.paused_reason IS NULL ORDER BY s.guild_id"
        );
        let rows = conn.client()?.query(&sql, &[]).await?;
        let mut out = ActiveSettings::default();
        for row in &rows {
            // A row another tool wrote badly is skipped, not fatal; unlike a
            // damaged SQLite file it says nothing about the database, so
            // `/healthz` stays green (pulling every replica would stop all).
            match raw_settings(row)
                .map_err(StoreError::from)
                .and_then(RawSettings::parse)
            {
                Ok(s) => out.settings.push(s),
                Err(e) => {
                    error!(error = %e, "skipping unreadable tip settings row");
                    out.skipped += 1;
                }
            }
        }
        Ok(out)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        let mut conn = self.conn().await?;
        conn.client()?.query_one("SELECT 1", &[]).await?;
        Ok(())
    }

    fn is_shared(&self) -> bool {
        true
    }

    async fn heartbeat(
        &self,
        replica: ReplicaId,
        now: DateTime<Utc>,
        ttl: chrono::Duration,
    ) -> Result<u32, StoreError> {
        let mut conn = self.conn().await?;
        let c = conn.client()?;
        let since = ms(now) - ttl.num_milliseconds();
        c.execute(
            "INSERT INTO tip_replicas (replica_id, seen_at) VALUES ($1, $2)
             ON CONFLICT (replica_id) DO UPDATE SET seen_at = excluded.seen_at",
            &[&to_db(replica.0), &ms(now)],
        )
        .await?;
        // Forget replicas long gone, so the table stays small.
        c.execute(
            "DELETE FROM tip_replicas WHERE seen_at < $1",
            &[&(since - 10 * ttl.num_milliseconds())],
        )
        .await?;
        let live: i64 = c
            .query_one(
                "SELECT count(*) FROM tip_replicas WHERE seen_at >= $1",
                &[&since],
            )
            .await?
            .get(0);
        Ok(u32::try_from(live).unwrap_or(u32::MAX).max(1))
    }

    async fn claim(&self, req: &AttemptRequest) -> Result<Claim, StoreError> {
        let (g, date) = (req.guild, req.date);
        let lease_until = req.now.checked_add_signed(req.lease).unwrap_or(req.now);
        // Another transaction holds the row this very moment: look again
        // shortly (it is either finishing a claim or recording a result).
        let busy = Claim::Elsewhere {
            until: req.now + chrono::Duration::seconds(1),
        };
        let mut conn = self.conn().await?;
        let tx = conn.client()?.transaction().await?;
        // Every return ends the transaction before the connection goes back
        // to the pool: a dropped one rolls back only later, and its row lock
        // would meanwhile turn the next claim away.
        let locked = tx
            .query_opt(
                &format!(
                    "SELECT {ATTEMPT_COLUMNS}, claimed_by, lease_until FROM tip_attempts
                     WHERE guild_id = $1 AND local_date = $2 FOR UPDATE SKIP LOCKED"
                ),
                &[&to_db(g.0), &date_str(date)],
            )
            .await?;
        match locked {
            Some(row) => {
                let holder: Option<i64> = row.try_get(11)?;
                let until: Option<i64> = row.try_get(12)?;
                let existing = raw_attempt(&row)?.parse()?;
                let settled = match existing.status {
                    AttemptStatus::Posted => true,
                    AttemptStatus::Failed => !req.manual,
                    AttemptStatus::Pending => false,
                };
                if settled {
                    tx.rollback().await?;
                    return Ok(Claim::Settled(existing));
                }
                if existing.status == AttemptStatus::Pending {
                    let until = until.and_then(DateTime::from_timestamp_millis);
                    if let (Some(h), Some(until)) = (holder, until) {
                        if from_db(h) != req.replica.0 && until > req.now {
                            tx.rollback().await?;
                            return Ok(Claim::Elsewhere { until });
                        }
                    }
                }
                // The knowledge shrank since: the stored tip no longer exists.
                let tip = if existing.tip_index < req.n_tips {
                    existing.tip_index
                } else {
                    advance_rotation(&tx, g, req.n_tips).await?
                };
                tx.execute(
                    "UPDATE tip_attempts SET status = 'pending', tries = tries + 1,
                         channel_id = $3, tip_index = $4, error = NULL,
                         manual = manual OR $5, claimed_by = $6, lease_until = $7
                     WHERE guild_id = $1 AND local_date = $2",
                    &[
                        &to_db(g.0),
                        &date_str(date),
                        &to_db(req.channel.0),
                        &tip_db(tip),
                        &req.manual,
                        &to_db(req.replica.0),
                        &ms(lease_until),
                    ],
                )
                .await?;
            }
            None => {
                // No row, or one locked by another transaction. Inserting
                // tells them apart without waiting on a committed row.
                let tip = advance_rotation(&tx, g, req.n_tips).await?;
                let inserted = tx
                    .execute(
                        "INSERT INTO tip_attempts (guild_id, local_date, nonce, tip_index,
                             channel_id, status, tries, manual, started_at, claimed_by,
                             lease_until)
                         VALUES ($1, $2, $3, $4, $5, 'pending', 1, $6, $7, $8, $9)
                         ON CONFLICT (guild_id, local_date) DO NOTHING",
                        &[
                            &to_db(g.0),
                            &date_str(date),
                            &nonce_for(g, date),
                            &tip_db(tip),
                            &to_db(req.channel.0),
                            &req.manual,
                            &ms(req.now),
                            &to_db(req.replica.0),
                            &ms(lease_until),
                        ],
                    )
                    .await?;
                if inserted == 0 {
                    // Someone else's: undo our step of the rotation.
                    tx.rollback().await?;
                    return Ok(busy);
                }
            }
        }
        let attempt = read_attempt(&tx, g, date)
            .await?
            .ok_or(StoreError::NoAttempt { guild: g.0, date })?;
        tx.commit().await?;
        Ok(Claim::Send(attempt))
    }

    async fn mark_posted(
        &self,
        guild: GuildId,
        date: NaiveDate,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut conn = self.conn().await?;
        let c = conn.client()?;
        // The attempt row is what stops a second post that day: committed
        // on its own, before the date shown by `/tips show`.
        let n = c
            .execute(
                "UPDATE tip_attempts SET status = 'posted', posted_at = $3, error = NULL
                 WHERE guild_id = $1 AND local_date = $2",
                &[&to_db(guild.0), &date_str(date), &ms(at)],
            )
            .await?;
        if n == 0 {
            return Err(StoreError::NoAttempt {
                guild: guild.0,
                date,
            });
        }
        let shown = c
            .execute(
                "UPDATE tip_settings SET last_posted_date = $2, last_posted_at = $3
                 WHERE guild_id = $1 AND (last_posted_date IS NULL OR last_posted_date <= $2)",
                &[&to_db(guild.0), &date_str(date), &ms(at)],
            )
            .await;
        if let Err(e) = shown {
            warn!(guild = guild.0, %date, error = %e, "tip posted and recorded, but its date not saved for /tips show");
        }
        Ok(())
    }

    async fn mark_failed(
        &self,
        guild: GuildId,
        date: NaiveDate,
        reason: &str,
        _at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut conn = self.conn().await?;
        let c = conn.client()?;
        let n = c
            .execute(
                "UPDATE tip_attempts SET status = 'failed', error = $3
                 WHERE guild_id = $1 AND local_date = $2 AND status <> 'posted'",
                &[&to_db(guild.0), &date_str(date), &reason],
            )
            .await?;
        if n == 0 && read_attempt(c, guild, date).await?.is_none() {
            return Err(StoreError::NoAttempt {
                guild: guild.0,
                date,
            });
        }
        Ok(())
    }

    async fn attempt(
        &self,
        guild: GuildId,
        date: NaiveDate,
    ) -> Result<Option<Attempt>, StoreError> {
        let mut conn = self.conn().await?;
        read_attempt(conn.client()?, guild, date).await
    }

    async fn next_tip(&self, guild: GuildId, n_tips: usize) -> Result<usize, StoreError> {
        let mut conn = self.conn().await?;
        let tx = conn.client()?.transaction().await?;
        let tip = advance_rotation(&tx, guild, n_tips).await?;
        tx.commit().await?;
        Ok(tip)
    }

    async fn rotation(&self, guild: GuildId) -> Result<Option<RotationState>, StoreError> {
        let mut conn = self.conn().await?;
        read_rotation(conn.client()?, guild, false).await
    }

    async fn prune_attempts(&self, before: NaiveDate) -> Result<usize, StoreError> {
        let mut conn = self.conn().await?;
        let n = conn
            .client()?
            .execute(
                "DELETE FROM tip_attempts WHERE local_date < $1",
                &[&date_str(before)],
            )
            .await?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }
}

#[async_trait::async_trait]
impl PrefsStore for PgStore {
    async fn prefs(&self, guild: GuildId) -> Result<ServerPrefs, StoreError> {
        let mut conn = self.conn().await?;
        let row = conn
            .client()?
            .query_opt(
                "SELECT private_safety FROM server_prefs WHERE guild_id = $1",
                &[&to_db(guild.0)],
            )
            .await?;
        Ok(ServerPrefs {
            private_safety: match row {
                Some(r) => r.try_get(0)?,
                None => false,
            },
        })
    }

    async fn set_private_safety(
        &self,
        guild: GuildId,
        on: bool,
        now: DateTime<Utc>,
    ) -> Result<ServerPrefs, StoreError> {
        let mut conn = self.conn().await?;
        conn.client()?
            .execute(
                "INSERT INTO server_prefs (guild_id, private_safety, updated_at) VALUES ($1, $2, $3)
                 ON CONFLICT (guild_id) DO UPDATE SET private_safety = excluded.private_safety,
                     updated_at = excluded.updated_at",
                &[&to_db(guild.0), &on, &ms(now)],
            )
            .await?;
        Ok(ServerPrefs { private_safety: on })
    }
}
