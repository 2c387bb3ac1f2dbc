//! The SQLite tip store against real files: durability, migrations, WAL and
//! several handles at once.

use std::collections::HashSet;
use std::path::Path;
use std::sync::{Arc, Barrier};

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use massage_bot::storage::{SqliteStore, MIGRATIONS};
use massage_bot::tips::{
    nonce_for, AttemptRequest, AttemptStatus, ChannelId, Claim, GuildId, ReplicaId, Schedule,
    StoreError,
};

#[path = "support/damage.rs"]
mod damage;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 1, 6, 0, 0).unwrap()
}

fn schedule(channel: u64) -> Schedule {
    Schedule {
        channel: ChannelId(channel),
        time: NaiveTime::from_hms_opt(7, 30, 0).unwrap(),
        tz: Tz::America__New_York,
    }
}

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 6, 1).unwrap()
}

#[test]
fn settings_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bot.db");
    let saved = {
        let s = SqliteStore::open(&path).unwrap();
        s.put_settings(GuildId(42), &schedule(7), now()).unwrap()
    };
    let s = SqliteStore::open(&path).unwrap();
    assert_eq!(s.get(GuildId(42)).unwrap(), Some(saved));
}

/// What is on disk the moment `put_settings` returns (db + WAL, while the
/// writer is still open, as after a kill) already holds the setting.
#[test]
fn acknowledged_setting_is_on_disk_before_close() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bot.db");
    let s = SqliteStore::open(&path).unwrap();
    let saved = s.put_settings(GuildId(1), &schedule(2), now()).unwrap();

    let snap = tempfile::tempdir().unwrap();
    copy_db(&path, &snap.path().join("bot.db"));
    let copy = SqliteStore::open(snap.path().join("bot.db")).unwrap();
    assert_eq!(copy.get(GuildId(1)).unwrap(), Some(saved.clone()));

    // The writer never closes cleanly (no checkpoint): another handle sees it.
    std::mem::forget(s);
    let other = SqliteStore::open(&path).unwrap();
    assert_eq!(other.get(GuildId(1)).unwrap(), Some(saved));
}

fn copy_db(from: &Path, to: &Path) {
    std::fs::copy(from, to).unwrap();
    let wal = |p: &Path| {
        let mut s = p.as_os_str().to_owned();
        s.push("-wal");
        std::path::PathBuf::from(s)
    };
    if wal(from).exists() {
        std::fs::copy(wal(from), wal(to)).unwrap();
    }
}

#[test]
fn migrations_are_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bot.db");
    let s = SqliteStore::open(&path).unwrap();
    assert_eq!(s.schema_version().unwrap(), MIGRATIONS.len() as i64);
    s.put_settings(GuildId(5), &schedule(6), now()).unwrap();
    drop(s);
    for _ in 0..3 {
        let s = SqliteStore::open(&path).unwrap();
        assert_eq!(s.schema_version().unwrap(), MIGRATIONS.len() as i64);
        assert!(s.get(GuildId(5)).unwrap().is_some());
    }
}

#[test]
fn newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bot.db");
    drop(SqliteStore::open(&path).unwrap());
    // As if a newer build had migrated this file.
    rusqlite::Connection::open(&path)
        .unwrap()
        .pragma_update(None, "user_version", 99)
        .unwrap();
    match SqliteStore::open(&path) {
        Err(StoreError::SchemaTooNew {
            found: 99,
            supported,
        }) => {
            assert_eq!(supported, MIGRATIONS.len() as i64)
        }
        other => panic!("expected SchemaTooNew, got {other:?}"),
    }
}

#[test]
fn wal_and_full_sync_are_on() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bot.db");
    let s = SqliteStore::open(&path).unwrap();
    assert_eq!(s.journal_mode().unwrap().to_lowercase(), "wal");
    assert_eq!(s.synchronous().unwrap(), 2, "synchronous=FULL");
    s.put_settings(GuildId(1), &schedule(1), now()).unwrap();
    assert!(dir.path().join("bot.db-wal").exists());
}

#[test]
fn url_creates_parent_directories() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a/b/c/bot.db");
    let url = format!("sqlite://{}", path.display());
    let s = SqliteStore::open_url(&url).unwrap();
    assert_eq!(s.path(), Some(path.as_path()));
    s.put_settings(GuildId(1), &schedule(1), now()).unwrap();
    assert!(path.exists());
    let mem = SqliteStore::open_url("sqlite::memory:").unwrap();
    assert_eq!(mem.path(), None);
    assert!(SqliteStore::open_url("postgres://db/bot").is_err());
}

#[test]
fn concurrent_handles_open_and_write() {
    let dir = tempfile::tempdir().unwrap();
    let path = Arc::new(dir.path().join("bot.db"));
    let threads = 8;
    let per_thread = 25u64;
    let barrier = Arc::new(Barrier::new(threads));
    let joins: Vec<_> = (0..threads as u64)
        .map(|t| {
            let (path, barrier) = (Arc::clone(&path), Arc::clone(&barrier));
            std::thread::spawn(move || {
                barrier.wait();
                // Every thread opens (and migrates) the fresh file at once.
                let s = SqliteStore::open(path.as_path()).unwrap();
                for i in 0..per_thread {
                    let g = GuildId(t * 1000 + i);
                    s.put_settings(g, &schedule(i), now()).unwrap();
                    assert!(s.get(g).unwrap().is_some());
                }
            })
        })
        .collect();
    for j in joins {
        j.join().unwrap();
    }
    let s = SqliteStore::open(path.as_path()).unwrap();
    assert_eq!(
        s.all_active().unwrap().settings.len(),
        threads * per_thread as usize
    );
    assert_eq!(s.schema_version().unwrap(), MIGRATIONS.len() as i64);
}

/// Processes racing to claim the same day's post: exactly one claim to
/// send, the rest told another holds it; the rotation advanced once.
#[test]
fn concurrent_claims_give_one_sender() {
    let dir = tempfile::tempdir().unwrap();
    let path = Arc::new(dir.path().join("bot.db"));
    drop(SqliteStore::open(path.as_path()).unwrap());
    let threads = 6;
    let barrier = Arc::new(Barrier::new(threads));
    let joins: Vec<_> = (0..threads)
        .map(|i| {
            let (path, barrier) = (Arc::clone(&path), Arc::clone(&barrier));
            std::thread::spawn(move || {
                let s = SqliteStore::open(path.as_path()).unwrap();
                barrier.wait();
                s.claim(&AttemptRequest {
                    guild: GuildId(77),
                    date: day(),
                    channel: ChannelId(1),
                    n_tips: 10,
                    now: now(),
                    manual: false,
                    replica: ReplicaId(i as u64 + 1),
                    lease: chrono::Duration::seconds(60),
                })
                .unwrap()
            })
        })
        .collect();
    let claims: Vec<_> = joins.into_iter().map(|j| j.join().unwrap()).collect();
    let sent: Vec<_> = claims
        .iter()
        .filter_map(|c| match c {
            Claim::Send(a) => Some(a),
            _ => None,
        })
        .collect();
    assert_eq!(sent.len(), 1, "{claims:?}");
    assert_eq!(sent[0].tries, 1);
    let lease_end = now() + chrono::Duration::seconds(60);
    for c in &claims {
        assert!(
            matches!(c, Claim::Send(_)) || *c == Claim::Elsewhere { until: lease_end },
            "{c:?}"
        );
    }
    let s = SqliteStore::open(path.as_path()).unwrap();
    assert_eq!(s.rotation(GuildId(77)).unwrap().unwrap().position, 1);
    let a = s.attempt(GuildId(77), day()).unwrap().unwrap();
    assert_eq!(a.nonce, nonce_for(GuildId(77), day()));
    assert_eq!(a.status, AttemptStatus::Pending);
}

#[test]
fn rotation_continues_across_reopen_without_repeats() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bot.db");
    let mut seen = Vec::new();
    for _ in 0..5 {
        let s = SqliteStore::open(&path).unwrap();
        seen.push(s.next_tip(GuildId(3), 5).unwrap());
    }
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 5, "{seen:?}");
}

// ----- damage, deletion, replacement ------------------------------------------

/// The guilds a fresh handle on `path` would post for.
fn active_guilds(path: &Path) -> Vec<u64> {
    let store = SqliteStore::open(path).unwrap();
    let active = store.all_active().unwrap();
    active.settings.iter().map(|t| t.guild.0).collect()
}

fn remove_db_files(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let f = format!("{}{suffix}", path.display());
        let _ = std::fs::remove_file(f);
    }
}

/// Opening a damaged file is not refused (the readable servers still get
/// their tips) but reported; the scan skips only the bad page.
#[test]
fn a_damaged_file_opens_with_a_problem_and_reads_around_the_damage() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bot.db");
    let sound = schedule(0);
    damage::fill(
        &path,
        (0..300).map(|g| 5_000 + g * 104_729),
        sound.time,
        sound.tz,
        now(),
    );
    assert_eq!(SqliteStore::open(&path).unwrap().problem(), None);
    let lost = damage::smash_a_leaf_page(&path, 7);
    let s = SqliteStore::open(&path).unwrap();
    let problem = s.problem().expect("damage is reported");
    assert!(problem.contains(&path.display().to_string()), "{problem}");
    let read = s.all_active().unwrap();
    assert_eq!(read.settings.len(), 300 - lost);
    assert!(read.skipped >= 1);
}

/// A file whose header is destroyed cannot be read at all: a clear refusal
/// naming the file.
#[test]
fn a_file_that_is_not_a_database_is_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bot.db");
    std::fs::write(&path, vec![0x5a; 8192]).unwrap();
    let e = SqliteStore::open(&path).unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains(&path.display().to_string()) && text.contains("not a database"),
        "{text}"
    );
}

/// The file deleted under a running bot: the next write notices, writes the
/// bot's copy back, and nothing is lost after a restart.
#[test]
fn a_deleted_file_is_written_back_before_the_next_write_is_confirmed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data").join("bot.db");
    let s = SqliteStore::open(&path).unwrap();
    s.put_settings(GuildId(1), &schedule(10), now()).unwrap();
    std::fs::remove_dir_all(dir.path().join("data")).unwrap();
    s.put_settings(GuildId(2), &schedule(20), now()).unwrap();
    assert!(path.exists(), "the file is back");
    s.put_settings(GuildId(3), &schedule(30), now()).unwrap();
    drop(s);
    assert_eq!(active_guilds(&path), vec![1, 2, 3]);
}

/// Another file put in its place (a restored backup): writes are refused
/// and the store reports it, instead of splitting settings across files.
#[test]
fn a_replaced_file_refuses_writes_and_reports_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bot.db");
    let other = dir.path().join("backup.db");
    let s = SqliteStore::open(&path).unwrap();
    s.put_settings(GuildId(1), &schedule(10), now()).unwrap();
    {
        let b = SqliteStore::open(&other).unwrap();
        b.put_settings(GuildId(9), &schedule(90), now()).unwrap();
    }
    remove_db_files(&path);
    std::fs::rename(&other, &path).unwrap();
    let e = s
        .put_settings(GuildId(2), &schedule(20), now())
        .unwrap_err();
    assert!(matches!(e, StoreError::Replaced { .. }), "{e}");
    assert!(s.problem().unwrap().contains("replaced"));
    drop(s);
    assert_eq!(active_guilds(&path), vec![9], "the new file is untouched");
}
