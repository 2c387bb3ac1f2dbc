//! Ordered schema migrations. `PRAGMA user_version` records how many have
//! been applied; each runs once, in order, in its own transaction. Never edit
//! a shipped migration: append a new one.

/// Migration `i` moves the schema from version `i` to `i + 1`.
pub const MIGRATIONS: &[&str] = &[
    // 1: settings, attempts, rotation.
    r#"
    CREATE TABLE tip_settings (
        guild_id         INTEGER PRIMARY KEY,  -- u64 stored bit-for-bit as i64
        channel_id       INTEGER NOT NULL,
        local_time       TEXT    NOT NULL,     -- HH:MM
        timezone         TEXT    NOT NULL,     -- IANA name
        enabled          INTEGER NOT NULL,
        paused_reason    TEXT,
        paused_at        INTEGER,              -- unix ms
        active_since     INTEGER NOT NULL,     -- unix ms
        last_posted_date TEXT,                 -- YYYY-MM-DD, local
        last_posted_at   INTEGER,              -- unix ms
        updated_at       INTEGER NOT NULL      -- unix ms
    );

    CREATE TABLE tip_attempts (
        guild_id    INTEGER NOT NULL,
        local_date  TEXT    NOT NULL,          -- YYYY-MM-DD, the server's local date
        nonce       TEXT    NOT NULL,
        tip_index   INTEGER NOT NULL,
        channel_id  INTEGER NOT NULL,
        status      TEXT    NOT NULL CHECK (status IN ('pending', 'posted', 'failed')),
        tries       INTEGER NOT NULL,
        manual      INTEGER NOT NULL,
        started_at  INTEGER NOT NULL,
        posted_at   INTEGER,
        error       TEXT,
        PRIMARY KEY (guild_id, local_date)
    ) WITHOUT ROWID;

    CREATE TABLE tip_rotation (
        guild_id  INTEGER PRIMARY KEY,
        seed      INTEGER NOT NULL,
        cycle     INTEGER NOT NULL,
        tip_order TEXT    NOT NULL,            -- comma-separated tip indices
        position  INTEGER NOT NULL,
        last_tip  INTEGER
    );
    "#,
    // 2: claims, so replicas sharing a database post each tip once. A
    // pending attempt is held by `claimed_by` until `lease_until`.
    r#"
    ALTER TABLE tip_attempts ADD COLUMN claimed_by INTEGER;   -- ReplicaId, bit-for-bit
    ALTER TABLE tip_attempts ADD COLUMN lease_until INTEGER;  -- unix ms
    "#,
    // 3: per-server preferences (`/settings`).
    r#"
    CREATE TABLE server_prefs (
        guild_id       INTEGER PRIMARY KEY,
        private_safety INTEGER NOT NULL,
        updated_at     INTEGER NOT NULL        -- unix ms
    );
    "#,
];
