//! SQLite backend: one file, WAL journal, `synchronous=FULL` so a committed
//! setting survives a kill or power loss, `busy_timeout` so several handles
//! (or processes) wait for each other instead of failing.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{
    params, Connection, OpenFlags, OptionalExtension, Row, Transaction, TransactionBehavior,
};
use tracing::{debug, error, info, warn};

use super::export::ExportedSettings;
use super::migrations::MIGRATIONS;
use super::rows::{date_str, from_db, ms, to_db, RawAttempt, RawSettings};
use super::scan;
use super::url::DatabaseUrl;
use crate::prefs::{PrefsStore, ServerPrefs};
use crate::tips::{
    nonce_for, rotation::RotationState, ActiveSettings, Attempt, AttemptRequest, AttemptStatus,
    Claim, GuildId, Schedule, StoreError, TipSettings, TipStore,
};

/// How long a writer waits for another to finish before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

const SETTINGS_SELECT: &str = "
    SELECT s.guild_id, s.channel_id, s.local_time, s.timezone, s.enabled,
           s.paused_reason, s.paused_at, s.active_since,
           s.last_posted_date, s.last_posted_at, s.updated_at,
           a.local_date, a.status, a.tries, a.error
    FROM tip_settings s
    LEFT JOIN tip_attempts a
      ON a.guild_id = s.guild_id
     AND a.local_date = (SELECT MAX(x.local_date) FROM tip_attempts x
                         WHERE x.guild_id = s.guild_id)";

const ATTEMPT_SELECT: &str = "
    SELECT guild_id, local_date, nonce, tip_index, channel_id, status, tries, manual,
           started_at, posted_at, error
    FROM tip_attempts WHERE guild_id = ?1 AND local_date = ?2";

/// How many problems `quick_check` reports at most (it lists every one).
const QUICK_CHECK_LINES: usize = 10;

/// The SQLite [`TipStore`]. One connection behind a mutex: calls are short,
/// and separate handles (other processes, tests) coordinate through SQLite.
#[derive(Debug)]
pub struct SqliteStore {
    conn: Mutex<Connection>,
    path: Option<PathBuf>,
    /// The file the connection has open, to notice it being deleted or
    /// replaced under us (the connection would go on writing to the old one).
    file: Mutex<Option<FileId>>,
    /// Why the store is unhealthy, once it is (see [`TipStore::problem`]).
    problem: Mutex<Option<String>>,
}

/// Identity of a file on disk: its device and inode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileId {
    dev: u64,
    ino: u64,
}

impl FileId {
    /// `Ok(None)` where the platform has no inodes (checks are then skipped).
    fn of(path: &Path) -> std::io::Result<Option<FileId>> {
        let meta = std::fs::metadata(path)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            Ok(Some(FileId {
                dev: meta.dev(),
                ino: meta.ino(),
            }))
        }
        #[cfg(not(unix))]
        {
            let _ = meta;
            Ok(None)
        }
    }
}

/// What `massage-bot db check` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckReport {
    /// `PRAGMA integrity_check` lines; empty when the file is sound.
    pub problems: Vec<String>,
    /// Settings rows read (all of them when `skipped` is 0).
    pub readable: usize,
    /// Rows or runs of rows that could not be read.
    pub skipped: usize,
    pub schema_version: i64,
}

impl CheckReport {
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty() && self.skipped == 0
    }
}

impl SqliteStore {
    /// Opens the database a `DATABASE_URL` names.
    pub fn open_url(url: &str) -> Result<Self, StoreError> {
        match DatabaseUrl::parse(url)? {
            DatabaseUrl::SqliteFile(path) => Self::open(path),
            DatabaseUrl::SqliteMemory => Self::open_in_memory(),
            DatabaseUrl::Postgres(url) => Err(StoreError::InvalidUrl {
                url: super::redact(&url),
                reason: "a PostgreSQL URL names no SQLite file".into(),
            }),
        }
    }

    /// Opens (creating it and its directory if needed) a database file and
    /// brings its schema up to date.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|cause| StoreError::CreateDir {
                path: dir.display().to_string(),
                cause,
            })?;
        }
        let unopenable = |e: &dyn std::fmt::Display| unopenable(path, e);
        let conn = Connection::open(path).map_err(|e| unopenable(&e))?;
        // A file whose header is destroyed fails here ("file is not a
        // database"): nothing in it can be read, so refuse clearly.
        let mut conn = configure(conn, true).map_err(|e| unopenable(&e))?;
        let problems = quick_check(&conn);
        migrate(&mut conn)?;
        let store = Self::new(conn, Some(path.to_path_buf()));
        *store.file.lock().unwrap_or_else(|e| e.into_inner()) =
            FileId::of(path).map_err(|e| unopenable(&e))?;
        if !problems.is_empty() {
            store.damaged(&format!(
                "PRAGMA quick_check found damage: {}",
                problems.join("; ")
            ));
        }
        info!(path = %path.display(), "tip store opened");
        Ok(store)
    }

    /// Opens a database file read-only, without migrating it: for looking at
    /// a damaged file (`db check`, `db export`) without changing it.
    pub fn open_read_only(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref();
        let unopenable = |e: &dyn std::fmt::Display| unopenable(path, e);
        if !path.exists() {
            return Err(unopenable(&"no such file"));
        }
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| unopenable(&e))?;
        let mut conn = configure(conn, false).map_err(|e| unopenable(&e))?;
        migrate(&mut conn)?;
        Ok(Self::new(conn, Some(path.to_path_buf())))
    }

    /// A private in-memory database (nothing survives the process).
    pub fn open_in_memory() -> Result<Self, StoreError> {
        let mut conn = configure(Connection::open_in_memory()?, false)?;
        migrate(&mut conn)?;
        Ok(Self::new(conn, None))
    }

    fn new(conn: Connection, path: Option<PathBuf>) -> Self {
        Self {
            conn: Mutex::new(conn),
            path,
            file: Mutex::new(None),
            problem: Mutex::new(None),
        }
    }

    /// Records that the database is damaged and says so, once, in the log.
    fn damaged(&self, why: &str) {
        let mut problem = self.problem.lock().unwrap_or_else(|e| e.into_inner());
        if problem.is_none() {
            let path = self.path_text();
            error!(%path, problem = %why,
                "the tip database is damaged; servers whose settings can be read keep their tips. Run `massage-bot db check`, then see README \"Operations\" to recover");
            *problem = Some(format!("database {path} is damaged: {why}"));
        }
    }

    fn path_text(&self) -> String {
        self.path
            .as_deref()
            .map_or_else(|| ":memory:".to_owned(), |p| p.display().to_string())
    }

    /// Passes a result through, noting damage on the way.
    fn watch<T>(&self, r: Result<T, StoreError>) -> Result<T, StoreError> {
        if let Err(e) = &r {
            if e.is_damage() {
                self.damaged(&e.to_string());
            }
        }
        r
    }

    /// The database file, if not in memory.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// How many migrations the database has applied.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        Ok(self
            .lock()
            .query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }

    /// The journal mode in effect ("wal" for files).
    pub fn journal_mode(&self) -> Result<String, StoreError> {
        Ok(self
            .lock()
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))?)
    }

    /// The `synchronous` level in effect (2 = FULL).
    pub fn synchronous(&self) -> Result<i64, StoreError> {
        Ok(self
            .lock()
            .query_row("PRAGMA synchronous", [], |r| r.get(0))?)
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic mid-call leaves no open transaction (it rolls back on drop),
        // so the connection is still usable.
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn write<T>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.lock();
        self.watch(self.ensure_file(&mut conn))?;
        // IMMEDIATE takes the write lock up front, so read-then-write cannot
        // fail with SQLITE_BUSY halfway (busy_timeout does not cover that).
        let tx = self.watch(
            conn.transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(StoreError::from),
        )?;
        let out = self.watch(f(&tx))?;
        self.watch(tx.commit().map_err(StoreError::from))?;
        // Deleted between the check and the commit: the write went to the
        // old file, which ensure_file copies back.
        self.watch(self.ensure_file(&mut conn))?;
        Ok(out)
    }

    /// Checks that the database path still names the file we have open.
    /// Deleted: the open connection still has every row, so it writes them
    /// back to the path and carries on there. Replaced by another file:
    /// refuse to write (restarting picks the new file up).
    fn ensure_file(&self, conn: &mut Connection) -> Result<(), StoreError> {
        let Some(path) = self.path.as_deref() else {
            return Ok(());
        };
        let mut file = self.file.lock().unwrap_or_else(|e| e.into_inner());
        let Some(opened) = *file else {
            return Ok(());
        };
        match FileId::of(path) {
            Ok(Some(now)) if now == opened => Ok(()),
            Ok(None) => Ok(()),
            Ok(Some(_)) => Err(StoreError::Replaced {
                path: path.display().to_string(),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                error!(path = %path.display(),
                    "the tip database file was deleted while the bot was running; writing the bot's copy back");
                let restored = restore(conn, path).map_err(|reason| StoreError::Deleted {
                    path: path.display().to_string(),
                    reason,
                })?;
                *file = restored;
                warn!(path = %path.display(), "tip database restored from the running bot's copy");
                Ok(())
            }
            Err(e) => Err(StoreError::Deleted {
                path: path.display().to_string(),
                reason: e.to_string(),
            }),
        }
    }

    /// `PRAGMA integrity_check` plus a full read of every settings row.
    pub fn check(&self) -> Result<CheckReport, StoreError> {
        let conn = self.lock();
        let problems = damage_report(&conn, "integrity_check", usize::MAX);
        let schema_version = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap_or(-1);
        let (rows, skipped) = scan_settings(&conn, |_| true);
        Ok(CheckReport {
            problems,
            readable: rows.len(),
            skipped,
            schema_version,
        })
    }

    /// Every settings row that can be read, for `db export`, and how many
    /// could not be.
    pub fn export(&self) -> (Vec<ExportedSettings>, usize) {
        let conn = self.lock();
        let (rows, skipped) = scan_settings(&conn, |_| true);
        (rows.iter().map(ExportedSettings::from).collect(), skipped)
    }
}

fn unopenable(path: &Path, e: &dyn std::fmt::Display) -> StoreError {
    StoreError::Unopenable {
        path: path.display().to_string(),
        reason: e.to_string(),
    }
}

/// Busy timeout, WAL (for a writable file) and durability settings.
fn configure(conn: Connection, wal: bool) -> rusqlite::Result<Connection> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    if wal {
        let mode: String =
            retry_busy(|| conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0)))?;
        if !mode.eq_ignore_ascii_case("wal") {
            // E.g. a file system without shared memory; still correct, slower.
            warn!(%mode, "SQLite refused WAL journal mode");
        }
    }
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(conn)
}

/// `PRAGMA quick_check`: the problems it lists (empty when sound). Cheap
/// enough for every start (it skips the index cross-checks).
fn quick_check(conn: &Connection) -> Vec<String> {
    damage_report(conn, "quick_check", QUICK_CHECK_LINES)
}

/// The problems `PRAGMA <check>` lists, at most `limit` (empty when it says
/// "ok"); a check that cannot even run is itself the problem.
fn damage_report(conn: &Connection, check: &str, limit: usize) -> Vec<String> {
    let lines = conn.prepare(&format!("PRAGMA {check}")).and_then(|mut st| {
        st.query_map([], |r| r.get::<_, String>(0))?
            .take(limit)
            .collect::<rusqlite::Result<Vec<String>>>()
    });
    match lines {
        Ok(lines) if lines.len() == 1 && lines[0] == "ok" => Vec::new(),
        Ok(lines) => lines,
        Err(e) => vec![e.to_string()],
    }
}

/// Copies the open database to `path` (which no longer exists) and reopens
/// it there. Returns the new file's identity.
fn restore(conn: &mut Connection, path: &Path) -> Result<Option<FileId>, String> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    }
    let target = path.to_str().ok_or("the path is not valid UTF-8")?;
    conn.execute("VACUUM INTO ?1", [target])
        .map_err(|e| e.to_string())?;
    let reopened = Connection::open(path)
        .and_then(|c| configure(c, true))
        .map_err(|e| e.to_string())?;
    *conn = reopened;
    FileId::of(path).map_err(|e| e.to_string())
}

/// Reads settings rows that pass `keep`: one query while the file is sound;
/// around damaged pages row by row (see [`scan`]). Returns the rows and how
/// many rows or runs of rows were skipped, each logged.
fn scan_settings(
    conn: &Connection,
    keep: impl Fn(&TipSettings) -> bool,
) -> (Vec<TipSettings>, usize) {
    let mut out = Vec::new();
    let mut skipped = 0;
    let fast = (|| -> rusqlite::Result<()> {
        let mut stmt = conn.prepare(&format!("{SETTINGS_SELECT} ORDER BY s.guild_id"))?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            match RawSettings::from_row(row)
                .map_err(StoreError::from)
                .and_then(RawSettings::parse)
            {
                Ok(s) => {
                    if keep(&s) {
                        out.push(s);
                    }
                }
                Err(e) => {
                    error!(error = %e, "skipping unreadable tip settings row");
                    skipped += 1;
                }
            }
        }
        Ok(())
    })();
    let Err(e) = fast else {
        return (out, skipped);
    };
    warn!(error = %e, "reading tip settings failed part-way; reading around the damage");
    out.clear();
    skipped = 0;
    let (keys, gaps) = scan::keys(|from, limit| {
        let mut keys = Vec::new();
        let result = (|| -> rusqlite::Result<()> {
            let mut stmt = conn.prepare_cached(
                "SELECT guild_id FROM tip_settings WHERE guild_id >= ?1 ORDER BY guild_id LIMIT ?2",
            )?;
            let mut rows = stmt.query(params![from, i64::try_from(limit).unwrap_or(i64::MAX)])?;
            while let Some(row) = rows.next()? {
                keys.push(row.get(0)?);
            }
            Ok(())
        })();
        (keys, result.err())
    });
    for gap in &gaps {
        error!(from_guild = from_db(gap.from), resumed_at = ?gap.resumed_at.map(from_db),
               error = %gap.error, "skipping unreadable tip settings");
    }
    skipped += gaps.len();
    for key in keys {
        match read_settings(conn, GuildId(from_db(key))) {
            Ok(Some(s)) => {
                if keep(&s) {
                    out.push(s);
                }
            }
            Ok(None) => {}
            Err(e) => {
                error!(guild = from_db(key), error = %e, "skipping unreadable tip settings row");
                skipped += 1;
            }
        }
    }
    (out, skipped)
}

/// Applies the missing migrations, each in its own IMMEDIATE transaction that
/// re-reads the version, so two processes starting together migrate once.
/// Switching a fresh file to WAL needs an exclusive lock, and SQLite
/// answers SQLITE_BUSY there without calling the busy handler when another
/// handle is opening the same file at that moment: retry for as long as
/// `busy_timeout` would have waited.
fn retry_busy<T>(mut f: impl FnMut() -> rusqlite::Result<T>) -> rusqlite::Result<T> {
    let deadline = std::time::Instant::now() + BUSY_TIMEOUT;
    loop {
        match f() {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::DatabaseBusy
                    && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(10));
            }
            other => return other,
        }
    }
}

fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    // A read-only handle only checks the version.
    if conn.is_readonly(rusqlite::DatabaseName::Main)? {
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        let supported = MIGRATIONS.len() as i64;
        if version > supported {
            return Err(StoreError::SchemaTooNew {
                found: version,
                supported,
            });
        }
        return Ok(());
    }
    let supported = MIGRATIONS.len() as i64;
    loop {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if version > supported {
            return Err(StoreError::SchemaTooNew {
                found: version,
                supported,
            });
        }
        let Some(sql) = usize::try_from(version)
            .ok()
            .and_then(|v| MIGRATIONS.get(v))
        else {
            return Ok(());
        };
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", version + 1)?;
        tx.commit()?;
        info!(from = version, to = version + 1, "tip store migrated");
    }
}

impl RawSettings {
    fn from_row(r: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            guild: r.get(0)?,
            channel: r.get(1)?,
            time: r.get(2)?,
            tz: r.get(3)?,
            enabled: r.get(4)?,
            paused_reason: r.get(5)?,
            paused_at: r.get(6)?,
            active_since: r.get(7)?,
            last_posted_date: r.get(8)?,
            last_posted_at: r.get(9)?,
            updated_at: r.get(10)?,
            att_date: r.get(11)?,
            att_status: r.get(12)?,
            att_tries: r.get(13)?,
            att_error: r.get(14)?,
        })
    }
}

fn read_settings(conn: &Connection, guild: GuildId) -> Result<Option<TipSettings>, StoreError> {
    let sql = format!("{SETTINGS_SELECT} WHERE s.guild_id = ?1");
    conn.query_row(&sql, [to_db(guild.0)], RawSettings::from_row)
        .optional()?
        .map(RawSettings::parse)
        .transpose()
}

impl RawAttempt {
    fn from_row(r: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            guild: r.get(0)?,
            date: r.get(1)?,
            nonce: r.get(2)?,
            tip_index: r.get(3)?,
            channel: r.get(4)?,
            status: r.get(5)?,
            tries: r.get(6)?,
            manual: r.get(7)?,
            started_at: r.get(8)?,
            posted_at: r.get(9)?,
            error: r.get(10)?,
        })
    }
}

fn read_attempt(
    conn: &Connection,
    guild: GuildId,
    date: NaiveDate,
) -> Result<Option<Attempt>, StoreError> {
    conn.query_row(
        ATTEMPT_SELECT,
        params![to_db(guild.0), date_str(date)],
        RawAttempt::from_row,
    )
    .optional()?
    .map(RawAttempt::parse)
    .transpose()
}

fn read_rotation(conn: &Connection, guild: GuildId) -> Result<Option<RotationState>, StoreError> {
    let row = conn
        .query_row(
            "SELECT seed, cycle, tip_order, position, last_tip FROM tip_rotation WHERE guild_id = ?1",
            [to_db(guild.0)],
            |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, Option<i64>>(4)?,
                ))
            },
        )
        .optional()?;
    let Some((seed, cycle, order, position, last)) = row else {
        return Ok(None);
    };
    let order: Result<Vec<usize>, _> = order
        .split(',')
        .filter(|s| !s.is_empty())
        .map(str::parse::<usize>)
        .collect();
    let state = RotationState {
        seed: from_db(seed),
        cycle: from_db(cycle),
        // Unreadable order: start over with a new one rather than fail posting.
        order: order.unwrap_or_default(),
        position: usize::try_from(position).unwrap_or(usize::MAX),
        last: last.and_then(|l| usize::try_from(l).ok()),
    };
    Ok(Some(state))
}

fn write_rotation(conn: &Connection, guild: GuildId, r: &RotationState) -> Result<(), StoreError> {
    let order = r
        .order
        .iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join(",");
    conn.execute(
        "INSERT INTO tip_rotation (guild_id, seed, cycle, tip_order, position, last_tip)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT(guild_id) DO UPDATE SET seed = excluded.seed, cycle = excluded.cycle,
           tip_order = excluded.tip_order, position = excluded.position,
           last_tip = excluded.last_tip",
        params![
            to_db(guild.0),
            to_db(r.seed),
            to_db(r.cycle),
            order,
            i64::try_from(r.position).unwrap_or(i64::MAX),
            r.last.and_then(|l| i64::try_from(l).ok()),
        ],
    )?;
    Ok(())
}

/// Advances the stored rotation inside the caller's transaction.
fn advance_rotation(conn: &Connection, guild: GuildId, n_tips: usize) -> Result<usize, StoreError> {
    let mut r = read_rotation(conn, guild)?.unwrap_or_else(|| RotationState::for_guild(guild.0));
    let tip = r.next(n_tips).ok_or(StoreError::NoTips)?;
    write_rotation(conn, guild, &r)?;
    Ok(tip)
}

/// The store's operations, synchronous: SQLite answers at once. The
/// [`TipStore`] implementation below calls these; tools and tests may call
/// them directly.
impl SqliteStore {
    pub fn put_settings(
        &self,
        guild: GuildId,
        schedule: &Schedule,
        now: DateTime<Utc>,
    ) -> Result<TipSettings, StoreError> {
        let saved = self.write(|tx| {
            tx.execute(
                "INSERT INTO tip_settings (guild_id, channel_id, local_time, timezone, enabled,
                     paused_reason, paused_at, active_since, updated_at)
                 VALUES (?1, ?2, ?3, ?4, 1, NULL, NULL, ?5, ?5)
                 ON CONFLICT(guild_id) DO UPDATE SET channel_id = excluded.channel_id,
                     local_time = excluded.local_time, timezone = excluded.timezone,
                     enabled = 1, paused_reason = NULL, paused_at = NULL,
                     active_since = excluded.active_since, updated_at = excluded.updated_at",
                params![
                    to_db(guild.0),
                    to_db(schedule.channel.0),
                    schedule.time.format("%H:%M").to_string(),
                    schedule.tz.name(),
                    ms(now),
                ],
            )?;
            read_settings(tx, guild)?.ok_or(StoreError::Corrupt {
                guild: guild.0,
                what: "settings vanished after insert".into(),
            })
        })?;
        debug!(guild = guild.0, channel = schedule.channel.0, time = %schedule.time,
               tz = schedule.tz.name(), "tip settings saved");
        Ok(saved)
    }

    pub fn set_enabled(
        &self,
        guild: GuildId,
        enabled: bool,
        now: DateTime<Utc>,
    ) -> Result<Option<TipSettings>, StoreError> {
        self.write(|tx| {
            let n = if enabled {
                tx.execute(
                    "UPDATE tip_settings SET
                         active_since = CASE WHEN enabled = 0 OR paused_reason IS NOT NULL
                                             THEN ?2 ELSE active_since END,
                         enabled = 1, paused_reason = NULL, paused_at = NULL, updated_at = ?2
                     WHERE guild_id = ?1",
                    params![to_db(guild.0), ms(now)],
                )?
            } else {
                tx.execute(
                    "UPDATE tip_settings SET enabled = 0, updated_at = ?2 WHERE guild_id = ?1",
                    params![to_db(guild.0), ms(now)],
                )?
            };
            if n == 0 {
                return Ok(None);
            }
            debug!(guild = guild.0, enabled, "tips toggled");
            read_settings(tx, guild)
        })
    }

    pub fn pause(
        &self,
        guild: GuildId,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.write(|tx| {
            let n = tx.execute(
                "UPDATE tip_settings SET paused_reason = ?2, paused_at = ?3, updated_at = ?3
                 WHERE guild_id = ?1",
                params![to_db(guild.0), reason, ms(now)],
            )?;
            Ok(n > 0)
        })
    }

    pub fn unpause(&self, guild: GuildId, now: DateTime<Utc>) -> Result<bool, StoreError> {
        self.write(|tx| {
            let n = tx.execute(
                "UPDATE tip_settings SET paused_reason = NULL, paused_at = NULL, updated_at = ?2
                 WHERE guild_id = ?1 AND paused_reason IS NOT NULL",
                params![to_db(guild.0), ms(now)],
            )?;
            Ok(n > 0)
        })
    }

    pub fn get(&self, guild: GuildId) -> Result<Option<TipSettings>, StoreError> {
        self.watch(read_settings(&self.lock(), guild))
    }

    pub fn all_active(&self) -> Result<ActiveSettings, StoreError> {
        let (settings, skipped) = scan_settings(&self.lock(), TipSettings::is_active);
        if skipped > 0 {
            self.damaged(&format!(
                "{skipped} tip settings rows (or runs of rows) could not be read"
            ));
        }
        Ok(ActiveSettings { settings, skipped })
    }

    /// See [`TipStore::problem`].
    pub fn problem(&self) -> Option<String> {
        self.problem
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn claim(&self, req: &AttemptRequest) -> Result<Claim, StoreError> {
        let (g, date) = (req.guild, req.date);
        let lease_until = req.now.checked_add_signed(req.lease).unwrap_or(req.now);
        self.write(|tx| {
            if let Some(existing) = read_attempt(tx, g, date)? {
                match existing.status {
                    AttemptStatus::Posted => return Ok(Claim::Settled(existing)),
                    AttemptStatus::Failed if !req.manual => return Ok(Claim::Settled(existing)),
                    AttemptStatus::Failed => {}
                    AttemptStatus::Pending => {
                        if let Some(until) = held_elsewhere(tx, g, date, req)? {
                            return Ok(Claim::Elsewhere { until });
                        }
                    }
                }
                // The knowledge shrank since: the stored tip no longer exists.
                let tip = if existing.tip_index < req.n_tips {
                    existing.tip_index
                } else {
                    advance_rotation(tx, g, req.n_tips)?
                };
                tx.execute(
                    "UPDATE tip_attempts SET status = 'pending', tries = tries + 1,
                         channel_id = ?3, tip_index = ?4, error = NULL,
                         manual = manual OR ?5, claimed_by = ?6, lease_until = ?7
                     WHERE guild_id = ?1 AND local_date = ?2",
                    params![
                        to_db(g.0),
                        date_str(date),
                        to_db(req.channel.0),
                        i64::try_from(tip).unwrap_or(i64::MAX),
                        req.manual,
                        to_db(req.replica.0),
                        ms(lease_until),
                    ],
                )?;
            } else {
                let tip = advance_rotation(tx, g, req.n_tips)?;
                tx.execute(
                    "INSERT INTO tip_attempts (guild_id, local_date, nonce, tip_index, channel_id,
                         status, tries, manual, started_at, claimed_by, lease_until)
                     VALUES (?1, ?2, ?3, ?4, ?5, 'pending', 1, ?6, ?7, ?8, ?9)",
                    params![
                        to_db(g.0),
                        date_str(date),
                        nonce_for(g, date),
                        i64::try_from(tip).unwrap_or(i64::MAX),
                        to_db(req.channel.0),
                        req.manual,
                        ms(req.now),
                        to_db(req.replica.0),
                        ms(lease_until),
                    ],
                )?;
            }
            read_attempt(tx, g, date)?
                .map(Claim::Send)
                .ok_or(StoreError::NoAttempt { guild: g.0, date })
        })
    }

    pub fn mark_posted(
        &self,
        guild: GuildId,
        date: NaiveDate,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        // The attempt row is what stops a second post that day; it is
        // committed on its own, so damage elsewhere in the file (the
        // settings row's page) cannot undo it and cause a resend.
        self.write(|tx| {
            let n = tx.execute(
                "UPDATE tip_attempts SET status = 'posted', posted_at = ?3, error = NULL
                 WHERE guild_id = ?1 AND local_date = ?2",
                params![to_db(guild.0), date_str(date), ms(at)],
            )?;
            if n == 0 {
                return Err(StoreError::NoAttempt {
                    guild: guild.0,
                    date,
                });
            }
            Ok(())
        })?;
        let shown = self.write(|tx| {
            tx.execute(
                "UPDATE tip_settings SET last_posted_date = ?2, last_posted_at = ?3
                 WHERE guild_id = ?1 AND (last_posted_date IS NULL OR last_posted_date <= ?2)",
                params![to_db(guild.0), date_str(date), ms(at)],
            )?;
            Ok(())
        });
        if let Err(e) = shown {
            warn!(guild = guild.0, %date, error = %e, "tip posted and recorded, but its date not saved for /tips show");
        }
        Ok(())
    }

    pub fn mark_failed(
        &self,
        guild: GuildId,
        date: NaiveDate,
        reason: &str,
        _at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.write(|tx| {
            let n = tx.execute(
                "UPDATE tip_attempts SET status = 'failed', error = ?3
                 WHERE guild_id = ?1 AND local_date = ?2 AND status <> 'posted'",
                params![to_db(guild.0), date_str(date), reason],
            )?;
            if n == 0 && read_attempt(tx, guild, date)?.is_none() {
                return Err(StoreError::NoAttempt {
                    guild: guild.0,
                    date,
                });
            }
            Ok(())
        })
    }

    pub fn attempt(&self, guild: GuildId, date: NaiveDate) -> Result<Option<Attempt>, StoreError> {
        self.watch(read_attempt(&self.lock(), guild, date))
    }

    pub fn next_tip(&self, guild: GuildId, n_tips: usize) -> Result<usize, StoreError> {
        self.write(|tx| advance_rotation(tx, guild, n_tips))
    }

    pub fn rotation(&self, guild: GuildId) -> Result<Option<RotationState>, StoreError> {
        self.watch(read_rotation(&self.lock(), guild))
    }

    pub fn prune_attempts(&self, before: NaiveDate) -> Result<usize, StoreError> {
        self.write(|tx| {
            Ok(tx.execute(
                "DELETE FROM tip_attempts WHERE local_date < ?1",
                [date_str(before)],
            )?)
        })
    }
}

/// Another replica's live claim on a pending attempt: until when.
fn held_elsewhere(
    conn: &Connection,
    guild: GuildId,
    date: NaiveDate,
    req: &AttemptRequest,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    let (holder, until): (Option<i64>, Option<i64>) = conn.query_row(
        "SELECT claimed_by, lease_until FROM tip_attempts WHERE guild_id = ?1 AND local_date = ?2",
        params![to_db(guild.0), date_str(date)],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let until = until.and_then(DateTime::from_timestamp_millis);
    Ok(match (holder, until) {
        (Some(h), Some(until)) if from_db(h) != req.replica.0 && until > req.now => Some(until),
        _ => None,
    })
}

#[async_trait::async_trait]
impl TipStore for SqliteStore {
    async fn put_settings(
        &self,
        guild: GuildId,
        schedule: &Schedule,
        now: DateTime<Utc>,
    ) -> Result<TipSettings, StoreError> {
        SqliteStore::put_settings(self, guild, schedule, now)
    }

    async fn set_enabled(
        &self,
        guild: GuildId,
        enabled: bool,
        now: DateTime<Utc>,
    ) -> Result<Option<TipSettings>, StoreError> {
        SqliteStore::set_enabled(self, guild, enabled, now)
    }

    async fn pause(
        &self,
        guild: GuildId,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        SqliteStore::pause(self, guild, reason, now)
    }

    async fn unpause(&self, guild: GuildId, now: DateTime<Utc>) -> Result<bool, StoreError> {
        SqliteStore::unpause(self, guild, now)
    }

    async fn changed_since(&self, since: DateTime<Utc>) -> Result<Vec<TipSettings>, StoreError> {
        let since = ms(since);
        let (rows, _) = scan_settings(&self.lock(), |s| ms(s.updated_at) >= since);
        Ok(rows)
    }

    async fn get(&self, guild: GuildId) -> Result<Option<TipSettings>, StoreError> {
        SqliteStore::get(self, guild)
    }

    async fn all_active(&self) -> Result<ActiveSettings, StoreError> {
        SqliteStore::all_active(self)
    }

    fn problem(&self) -> Option<String> {
        SqliteStore::problem(self)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.watch(
            self.lock()
                .query_row("SELECT count(*) FROM tip_settings", [], |_| Ok(()))
                .map_err(StoreError::from),
        )
    }

    async fn claim(&self, req: &AttemptRequest) -> Result<Claim, StoreError> {
        SqliteStore::claim(self, req)
    }

    async fn mark_posted(
        &self,
        guild: GuildId,
        date: NaiveDate,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        SqliteStore::mark_posted(self, guild, date, at)
    }

    async fn mark_failed(
        &self,
        guild: GuildId,
        date: NaiveDate,
        reason: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        SqliteStore::mark_failed(self, guild, date, reason, at)
    }

    async fn attempt(
        &self,
        guild: GuildId,
        date: NaiveDate,
    ) -> Result<Option<Attempt>, StoreError> {
        SqliteStore::attempt(self, guild, date)
    }

    async fn next_tip(&self, guild: GuildId, n_tips: usize) -> Result<usize, StoreError> {
        SqliteStore::next_tip(self, guild, n_tips)
    }

    async fn rotation(&self, guild: GuildId) -> Result<Option<RotationState>, StoreError> {
        SqliteStore::rotation(self, guild)
    }

    async fn prune_attempts(&self, before: NaiveDate) -> Result<usize, StoreError> {
        SqliteStore::prune_attempts(self, before)
    }
}

#[async_trait::async_trait]
impl PrefsStore for SqliteStore {
    async fn prefs(&self, guild: GuildId) -> Result<ServerPrefs, StoreError> {
        let on: Option<bool> = self.watch(
            self.lock()
                .query_row(
                    "SELECT private_safety FROM server_prefs WHERE guild_id = ?1",
                    [to_db(guild.0)],
                    |r| r.get(0),
                )
                .optional()
                .map_err(StoreError::from),
        )?;
        Ok(ServerPrefs {
            private_safety: on.unwrap_or(false),
        })
    }

    async fn set_private_safety(
        &self,
        guild: GuildId,
        on: bool,
        now: DateTime<Utc>,
    ) -> Result<ServerPrefs, StoreError> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO server_prefs (guild_id, private_safety, updated_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT(guild_id) DO UPDATE SET private_safety = excluded.private_safety,
                     updated_at = excluded.updated_at",
                params![to_db(guild.0), on, ms(now)],
            )?;
            Ok(ServerPrefs { private_safety: on })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tips::{ChannelId, ReplicaId};
    use chrono::{NaiveTime, TimeZone};
    use chrono_tz::Tz;
    use std::collections::HashSet;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 6, 1, 5, 0, 0).unwrap()
    }
    fn sched() -> Schedule {
        Schedule {
            channel: ChannelId(10),
            time: NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
            tz: Tz::Europe__Berlin,
        }
    }
    fn day() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 6, 1).unwrap()
    }
    fn req(guild: u64, manual: bool) -> AttemptRequest {
        AttemptRequest {
            guild: GuildId(guild),
            date: day(),
            channel: ChannelId(10),
            n_tips: 4,
            now: now(),
            manual,
            replica: ReplicaId::LOCAL,
            lease: chrono::Duration::seconds(60),
        }
    }

    fn send(s: &SqliteStore, r: &AttemptRequest) -> Attempt {
        match s.claim(r).unwrap() {
            Claim::Send(a) => a,
            other => panic!("expected a claim to send, got {other:?}"),
        }
    }

    #[test]
    fn rotation_continues_after_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let g = GuildId(99);
        let mut seen = Vec::new();
        {
            let s = SqliteStore::open(&path).unwrap();
            for _ in 0..3 {
                seen.push(s.next_tip(g, 7).unwrap());
            }
        }
        let s = SqliteStore::open(&path).unwrap();
        for _ in 3..7 {
            seen.push(s.next_tip(g, 7).unwrap());
        }
        let uniq: HashSet<_> = seen.iter().collect();
        assert_eq!(uniq.len(), 7, "{seen:?}");
        // Same sequence as an uninterrupted rotation.
        let mut r = RotationState::for_guild(g.0);
        let expected: Vec<usize> = (0..7).map(|_| r.next(7).unwrap()).collect();
        assert_eq!(seen, expected);
    }

    #[test]
    fn shrunk_knowledge_reassigns_pending_tip() {
        let s = SqliteStore::open_in_memory().unwrap();
        let first = send(&s, &req(4, false));
        s.lock()
            .execute(
                "UPDATE tip_attempts SET tip_index = 40 WHERE guild_id = 4",
                [],
            )
            .unwrap();
        let again = send(&s, &req(4, false));
        assert!(again.tip_index < 4);
        assert_eq!(again.nonce, first.nonce);
        assert_eq!(again.tries, 2);
    }

    #[test]
    fn corrupt_row_is_skipped_not_fatal() {
        let s = SqliteStore::open_in_memory().unwrap();
        s.put_settings(GuildId(1), &sched(), now()).unwrap();
        s.put_settings(GuildId(2), &sched(), now()).unwrap();
        s.lock()
            .execute(
                "UPDATE tip_settings SET timezone = 'Mars/Base' WHERE guild_id = 1",
                [],
            )
            .unwrap();
        let all = s.all_active().unwrap();
        assert_eq!(all.settings.len(), 1);
        assert_eq!(all.settings[0].guild, GuildId(2));
        assert_eq!(all.skipped, 1);
        assert!(s.problem().is_some());
        assert!(matches!(
            s.get(GuildId(1)),
            Err(StoreError::Corrupt { guild: 1, .. })
        ));
    }
}
