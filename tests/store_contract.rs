//! One contract for every tip store: the same tests run against SQLite and
//! against PostgreSQL (a throwaway cluster started by the suite, see
//! `support/postgres.rs`). A backend passes only if it behaves exactly
//! like the other one, claims and leases included.

#[path = "support/postgres.rs"]
mod pg;

use std::collections::HashSet;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use massage_bot::prefs::{PrefsStore, ServerPrefs};
use massage_bot::storage::{self, ExportedSettings, PgStore, SqliteStore};
use massage_bot::tips::{
    nonce_for, Attempt, AttemptRequest, AttemptStatus, ChannelId, Claim, GuildId, LastPost,
    ReplicaId, RotationState, Schedule, StoreError, TipStore,
};

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

const ME: ReplicaId = ReplicaId(1);
const OTHER: ReplicaId = ReplicaId(2);

fn lease() -> chrono::Duration {
    chrono::Duration::seconds(60)
}

fn req(guild: u64, manual: bool) -> AttemptRequest {
    AttemptRequest {
        guild: GuildId(guild),
        date: day(),
        channel: ChannelId(10),
        n_tips: 4,
        now: now(),
        manual,
        replica: ME,
        lease: lease(),
    }
}

async fn send(s: &dyn TipStore, r: &AttemptRequest) -> Attempt {
    match s.claim(r).await.unwrap() {
        Claim::Send(a) => a,
        other => panic!("expected a claim to send, got {other:?}"),
    }
}

async fn settled(s: &dyn TipStore, r: &AttemptRequest) -> Attempt {
    match s.claim(r).await.unwrap() {
        Claim::Settled(a) => a,
        other => panic!("expected a settled day, got {other:?}"),
    }
}

async fn settings_round_trip_including_big_ids(s: Arc<dyn TipStore>) {
    let g = GuildId(u64::MAX - 5);
    let mut sc = sched();
    sc.channel = ChannelId(u64::MAX);
    let saved = s.put_settings(g, &sc, now()).await.unwrap();
    assert_eq!(saved.guild, g);
    assert_eq!(saved.schedule, sc);
    assert!(saved.is_active());
    assert_eq!(saved.active_since, now());
    assert_eq!(s.get(g).await.unwrap(), Some(saved));
    assert_eq!(s.get(GuildId(1)).await.unwrap(), None);
}

async fn seconds_are_dropped_from_time(s: Arc<dyn TipStore>) {
    let mut sc = sched();
    sc.time = NaiveTime::from_hms_opt(9, 15, 42).unwrap();
    let saved = s.put_settings(GuildId(1), &sc, now()).await.unwrap();
    assert_eq!(
        saved.schedule.time,
        NaiveTime::from_hms_opt(9, 15, 0).unwrap()
    );
}

async fn rotation_hands_out_every_tip_before_repeating(s: Arc<dyn TipStore>) {
    let g = GuildId(99);
    let mut seen = Vec::new();
    for _ in 0..7 {
        seen.push(s.next_tip(g, 7).await.unwrap());
    }
    let uniq: HashSet<_> = seen.iter().collect();
    assert_eq!(uniq.len(), 7, "{seen:?}");
    let mut r = RotationState::for_guild(g.0);
    let expected: Vec<usize> = (0..7).map(|_| r.next(7).unwrap()).collect();
    assert_eq!(seen, expected, "the same sequence on every backend");
    assert_eq!(s.rotation(g).await.unwrap().unwrap().position, 7);
    assert!(matches!(
        s.next_tip(GuildId(1), 0).await,
        Err(StoreError::NoTips)
    ));
}

async fn attempt_lifecycle(s: Arc<dyn TipStore>) {
    s.put_settings(GuildId(1), &sched(), now()).await.unwrap();
    let a = send(&*s, &req(1, false)).await;
    assert_eq!(a.status, AttemptStatus::Pending);
    assert_eq!(a.tries, 1);
    assert_eq!(a.nonce, nonce_for(GuildId(1), day()));
    // The same replica again (as after a restart of a lone process): the
    // same tip and nonce, another try.
    let b = send(&*s, &req(1, false)).await;
    assert_eq!(
        (b.nonce.as_str(), b.tip_index, b.tries),
        (a.nonce.as_str(), a.tip_index, 2)
    );
    s.mark_posted(GuildId(1), day(), now()).await.unwrap();
    let c = settled(&*s, &req(1, true)).await;
    assert_eq!((c.status, c.tries), (AttemptStatus::Posted, 2));
    let st = s.get(GuildId(1)).await.unwrap().unwrap();
    assert_eq!(
        st.last_post,
        Some(LastPost {
            date: day(),
            at: now()
        })
    );
    assert_eq!(st.latest_attempt.unwrap().status, AttemptStatus::Posted);
    // Failing never undoes a success.
    s.mark_failed(GuildId(1), day(), "late error", now())
        .await
        .unwrap();
    assert_eq!(
        s.attempt(GuildId(1), day()).await.unwrap().unwrap().status,
        AttemptStatus::Posted
    );
}

async fn failed_day_reopens_only_manually(s: Arc<dyn TipStore>) {
    let a = send(&*s, &req(2, false)).await;
    s.mark_failed(GuildId(2), day(), "gave up", now())
        .await
        .unwrap();
    let b = settled(&*s, &req(2, false)).await;
    assert_eq!(b.status, AttemptStatus::Failed);
    assert_eq!(b.error.as_deref(), Some("gave up"));
    let c = send(&*s, &req(2, true)).await;
    assert_eq!(c.status, AttemptStatus::Pending);
    assert!(c.manual);
    assert_eq!((c.nonce, c.tip_index), (a.nonce, a.tip_index));
}

async fn marking_without_attempt_is_an_error(s: Arc<dyn TipStore>) {
    assert!(matches!(
        s.mark_posted(GuildId(3), day(), now()).await,
        Err(StoreError::NoAttempt { .. })
    ));
    assert!(matches!(
        s.mark_failed(GuildId(3), day(), "x", now()).await,
        Err(StoreError::NoAttempt { .. })
    ));
}

async fn pause_enable_disable(s: Arc<dyn TipStore>) {
    let g = GuildId(5);
    assert_eq!(s.set_enabled(g, true, now()).await.unwrap(), None);
    assert!(!s.pause(g, "x", now()).await.unwrap());
    s.put_settings(g, &sched(), now()).await.unwrap();
    assert!(s
        .pause(g, "channel deleted (HTTP 404)", now())
        .await
        .unwrap());
    let p = s.get(g).await.unwrap().unwrap();
    assert_eq!(
        p.paused.as_ref().unwrap().reason,
        "channel deleted (HTTP 404)"
    );
    assert!(s.all_active().await.unwrap().settings.is_empty());
    let later = now() + chrono::Duration::hours(1);
    let on = s.set_enabled(g, true, later).await.unwrap().unwrap();
    assert!(on.is_active());
    assert_eq!(on.active_since, later);
    // Enabling something already on keeps its active_since.
    let on2 = s
        .set_enabled(g, true, later + chrono::Duration::hours(1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(on2.active_since, later);
    let off = s.set_enabled(g, false, later).await.unwrap().unwrap();
    assert!(!off.enabled);
    assert!(s.all_active().await.unwrap().settings.is_empty());
    s.put_settings(g, &sched(), later).await.unwrap();
    assert!(s.pause(g, "gone", later).await.unwrap());
    assert!(s.unpause(g, later).await.unwrap());
    assert!(!s.unpause(g, later).await.unwrap());
    let active = s.all_active().await.unwrap();
    assert_eq!((active.settings.len(), active.skipped), (1, 0));
}

async fn all_active_lists_servers_in_id_order_with_their_latest_attempt(s: Arc<dyn TipStore>) {
    for g in [30, 10, 20] {
        s.put_settings(GuildId(g), &sched(), now()).await.unwrap();
    }
    send(&*s, &req(20, false)).await;
    s.mark_posted(GuildId(20), day(), now()).await.unwrap();
    let mut next_day = req(20, false);
    next_day.date = day().succ_opt().unwrap();
    send(&*s, &next_day).await;
    let all = s.all_active().await.unwrap();
    let ids: Vec<u64> = all.settings.iter().map(|t| t.guild.0).collect();
    assert_eq!(ids, [10, 20, 30]);
    let latest = all.settings[1].latest_attempt.clone().unwrap();
    assert_eq!(
        (latest.date, latest.status),
        (next_day.date, AttemptStatus::Pending)
    );
    assert_eq!(all.settings[1].last_post.unwrap().date, day());
}

async fn prune_keeps_settings(s: Arc<dyn TipStore>) {
    s.put_settings(GuildId(1), &sched(), now()).await.unwrap();
    send(&*s, &req(1, false)).await;
    send(&*s, &req(2, false)).await;
    assert_eq!(s.prune_attempts(day()).await.unwrap(), 0);
    assert_eq!(
        s.prune_attempts(day().succ_opt().unwrap()).await.unwrap(),
        2
    );
    assert!(s.attempt(GuildId(1), day()).await.unwrap().is_none());
    assert!(
        s.get(GuildId(1)).await.unwrap().is_some(),
        "settings are kept"
    );
}

/// A claim keeps other replicas off until its lease ends; then the post is
/// taken over with the same nonce and tip (a killed replica's resend).
async fn a_claim_holds_until_its_lease_ends(s: Arc<dyn TipStore>) {
    let mine = send(&*s, &req(7, false)).await;
    let mut theirs = req(7, false);
    theirs.replica = OTHER;
    theirs.now = now() + chrono::Duration::seconds(59);
    assert_eq!(
        s.claim(&theirs).await.unwrap(),
        Claim::Elsewhere {
            until: now() + lease()
        }
    );
    // A manual `/tips now` on the other replica is kept off too.
    theirs.manual = true;
    assert!(matches!(
        s.claim(&theirs).await.unwrap(),
        Claim::Elsewhere { .. }
    ));
    // The lease ends: the other replica takes the post over.
    theirs.manual = false;
    theirs.now = now() + lease();
    let taken = send(&*s, &theirs).await;
    assert_eq!(
        (taken.nonce.as_str(), taken.tip_index, taken.tries),
        (mine.nonce.as_str(), mine.tip_index, 2)
    );
    // Now the first replica is the one kept off.
    let mut back = req(7, false);
    back.now = theirs.now + chrono::Duration::seconds(1);
    assert_eq!(
        s.claim(&back).await.unwrap(),
        Claim::Elsewhere {
            until: theirs.now + lease()
        }
    );
    // Posted is final for everyone, lease or not.
    s.mark_posted(GuildId(7), day(), theirs.now).await.unwrap();
    assert_eq!(settled(&*s, &back).await.status, AttemptStatus::Posted);
    assert_eq!(s.rotation(GuildId(7)).await.unwrap().unwrap().position, 1);
}

/// Many replicas claim the same day's post at the same moment: exactly one
/// sends; the rotation moves once.
async fn concurrent_claims_give_one_sender(stores: Vec<Arc<dyn TipStore>>) {
    let n = stores.len();
    let barrier = Arc::new(tokio::sync::Barrier::new(n));
    let mut tasks = tokio::task::JoinSet::new();
    for (i, s) in stores.iter().enumerate() {
        let (s, barrier) = (Arc::clone(s), Arc::clone(&barrier));
        tasks.spawn(async move {
            let mut r = req(77, false);
            r.replica = ReplicaId(100 + i as u64);
            barrier.wait().await;
            s.claim(&r).await.unwrap()
        });
    }
    let claims: Vec<Claim> = tasks.join_all().await;
    let senders = claims
        .iter()
        .filter(|c| matches!(c, Claim::Send(_)))
        .count();
    assert_eq!(senders, 1, "{claims:?}");
    assert!(
        claims
            .iter()
            .all(|c| matches!(c, Claim::Send(_) | Claim::Elsewhere { .. })),
        "{claims:?}"
    );
    let s = &stores[0];
    assert_eq!(s.rotation(GuildId(77)).await.unwrap().unwrap().position, 1);
    let a = s.attempt(GuildId(77), day()).await.unwrap().unwrap();
    assert_eq!((a.status, a.tries), (AttemptStatus::Pending, 1));
}

/// Replicas share the rate budget by counting each other's heartbeats. A
/// store that is not shared has one replica, always.
async fn heartbeats_count_live_replicas(s: Arc<dyn TipStore>) {
    let ttl = chrono::Duration::seconds(15);
    let at = |secs: i64| now() + chrono::Duration::seconds(secs);
    if !s.is_shared() {
        assert_eq!(s.heartbeat(ME, at(0), ttl).await.unwrap(), 1);
        assert_eq!(s.heartbeat(OTHER, at(0), ttl).await.unwrap(), 1);
        return;
    }
    assert_eq!(s.heartbeat(ReplicaId(1), at(0), ttl).await.unwrap(), 1);
    assert_eq!(s.heartbeat(ReplicaId(2), at(1), ttl).await.unwrap(), 2);
    assert_eq!(s.heartbeat(ReplicaId(3), at(2), ttl).await.unwrap(), 3);
    // Replica 1 beats again; 2 and 3 go quiet (killed) and drop out.
    assert_eq!(s.heartbeat(ReplicaId(1), at(10), ttl).await.unwrap(), 3);
    assert_eq!(s.heartbeat(ReplicaId(1), at(20), ttl).await.unwrap(), 1);
}

/// `db import` writes the same state into either backend: a server that
/// had today's tip does not get it again.
async fn import_carries_settings_and_the_last_post(s: Arc<dyn TipStore>) {
    let rows: Vec<ExportedSettings> = [
        r#"{"guild":"11","channel":"21","time":"09:00","timezone":"Europe/Berlin","enabled":true,"last_posted_date":"2026-06-01","last_posted_at":"2026-06-01T07:00:00Z"}"#,
        r#"{"guild":"12","channel":"22","time":"18:30","timezone":"UTC","enabled":false}"#,
        r#"{"guild":"13","channel":"23","time":"07:15","timezone":"Asia/Tokyo","enabled":true,"paused_reason":"channel deleted (HTTP 404)","paused_at":"2026-05-30T00:00:00Z"}"#,
    ]
    .iter()
    .map(|l| serde_json::from_str(l).unwrap())
    .collect();
    assert_eq!(storage::import(&*s, &rows, now()).await.unwrap(), 3);
    let active = s.all_active().await.unwrap().settings;
    assert_eq!(
        active.iter().map(|t| t.guild.0).collect::<Vec<_>>(),
        [11],
        "off and paused servers are not active"
    );
    assert_eq!(
        settled(&*s, &req(11, false)).await.status,
        AttemptStatus::Posted
    );
    let paused = s.get(GuildId(13)).await.unwrap().unwrap();
    assert_eq!(paused.paused.unwrap().reason, "channel deleted (HTTP 404)");
    assert!(!s.get(GuildId(12)).await.unwrap().unwrap().enabled);
    assert_eq!(
        ExportedSettings::from(&s.get(GuildId(12)).await.unwrap().unwrap()),
        rows[1]
    );
}

/// Every change moves `updated_at`, so a replica can read only what
/// changed: off and paused servers included.
async fn changed_since_lists_every_change(s: Arc<dyn TipStore>) {
    let t = |m: i64| now() + chrono::Duration::minutes(m);
    let ids = |v: Vec<massage_bot::tips::TipSettings>| -> Vec<u64> {
        v.into_iter().map(|s| s.guild.0).collect()
    };
    s.put_settings(GuildId(1), &sched(), t(0)).await.unwrap();
    s.put_settings(GuildId(2), &sched(), t(0)).await.unwrap();
    s.put_settings(GuildId(3), &sched(), t(0)).await.unwrap();
    assert_eq!(ids(s.changed_since(t(0)).await.unwrap()), [1, 2, 3]);
    assert!(s.changed_since(t(1)).await.unwrap().is_empty());
    s.pause(GuildId(2), "gone", t(1)).await.unwrap();
    s.set_enabled(GuildId(3), false, t(2)).await.unwrap();
    assert_eq!(ids(s.changed_since(t(1)).await.unwrap()), [2, 3]);
    s.unpause(GuildId(2), t(3)).await.unwrap();
    s.put_settings(GuildId(1), &sched(), t(4)).await.unwrap();
    assert_eq!(ids(s.changed_since(t(3)).await.unwrap()), [1, 2]);
    // Posting is not a settings change.
    send(&*s, &req(1, false)).await;
    s.mark_posted(GuildId(1), day(), t(5)).await.unwrap();
    assert!(s.changed_since(t(5)).await.unwrap().is_empty());
}

async fn ping_answers(s: Arc<dyn TipStore>) {
    s.ping().await.unwrap();
    assert_eq!(s.problem(), None);
}

/// Runs each contract test against a fresh store of one backend.
macro_rules! contract {
    ($backend:ident, $open:expr, $open_many:expr) => {
        mod $backend {
            use super::*;

            #[tokio::test]
            async fn settings_round_trip_including_big_ids() {
                super::settings_round_trip_including_big_ids($open.await).await;
            }
            #[tokio::test]
            async fn seconds_are_dropped_from_time() {
                super::seconds_are_dropped_from_time($open.await).await;
            }
            #[tokio::test]
            async fn rotation_hands_out_every_tip_before_repeating() {
                super::rotation_hands_out_every_tip_before_repeating($open.await).await;
            }
            #[tokio::test]
            async fn attempt_lifecycle() {
                super::attempt_lifecycle($open.await).await;
            }
            #[tokio::test]
            async fn failed_day_reopens_only_manually() {
                super::failed_day_reopens_only_manually($open.await).await;
            }
            #[tokio::test]
            async fn marking_without_attempt_is_an_error() {
                super::marking_without_attempt_is_an_error($open.await).await;
            }
            #[tokio::test]
            async fn pause_enable_disable() {
                super::pause_enable_disable($open.await).await;
            }
            #[tokio::test]
            async fn all_active_lists_servers_in_id_order_with_their_latest_attempt() {
                super::all_active_lists_servers_in_id_order_with_their_latest_attempt($open.await)
                    .await;
            }
            #[tokio::test]
            async fn prune_keeps_settings() {
                super::prune_keeps_settings($open.await).await;
            }
            #[tokio::test]
            async fn a_claim_holds_until_its_lease_ends() {
                super::a_claim_holds_until_its_lease_ends($open.await).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn concurrent_claims_give_one_sender() {
                super::concurrent_claims_give_one_sender($open_many.await).await;
            }
            #[tokio::test]
            async fn heartbeats_count_live_replicas() {
                super::heartbeats_count_live_replicas($open.await).await;
            }
            #[tokio::test]
            async fn import_carries_settings_and_the_last_post() {
                super::import_carries_settings_and_the_last_post($open.await).await;
            }
            #[tokio::test]
            async fn changed_since_lists_every_change() {
                super::changed_since_lists_every_change($open.await).await;
            }
            #[tokio::test]
            async fn ping_answers() {
                super::ping_answers($open.await).await;
            }
        }
    };
}

async fn sqlite() -> Arc<dyn TipStore> {
    Arc::new(SqliteStore::open_in_memory().unwrap())
}

/// Six handles on one file, as six processes would have.
async fn sqlite_many() -> Vec<Arc<dyn TipStore>> {
    let dir = tempfile::tempdir().unwrap().keep();
    let path = dir.join("bot.db");
    (0..6)
        .map(|_| Arc::new(SqliteStore::open(&path).unwrap()) as Arc<dyn TipStore>)
        .collect()
}

async fn postgres() -> Arc<dyn TipStore> {
    let url = pg::fresh_database();
    Arc::new(PgStore::connect(&url).await.unwrap())
}

/// Six stores (six pools of connections) on one database, as six replicas.
async fn postgres_many() -> Vec<Arc<dyn TipStore>> {
    let url = pg::fresh_database();
    let mut out: Vec<Arc<dyn TipStore>> = Vec::new();
    for _ in 0..6 {
        out.push(Arc::new(PgStore::connect(&url).await.unwrap()));
    }
    out
}

contract!(sqlite_store, sqlite(), sqlite_many());
contract!(postgres_store, postgres(), postgres_many());

/// Replicas starting together on an empty database migrate it once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_replicas_starting_together_migrate_once() {
    let url = pg::fresh_database();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..5 {
        let url = url.clone();
        tasks.spawn(async move { PgStore::connect(&url).await.map(|s| s.is_shared()) });
    }
    for r in tasks.join_all().await {
        assert!(r.unwrap());
    }
    let s = PgStore::connect(&url).await.unwrap();
    assert_eq!(s.schema_version().await.unwrap(), 3);
}

/// A database that does not answer is a clear error, not a hang.
#[tokio::test]
async fn postgres_that_does_not_answer_is_a_clear_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let err = PgStore::connect(&format!("postgres://massage:hunter2@127.0.0.1:{port}/x"))
        .await
        .unwrap_err();
    let shown = err.to_string();
    assert!(shown.starts_with("database error:"), "{shown}");
    assert!(!shown.contains("hunter2"), "{shown}");
}

/// `/settings`: a server's preferences start at the defaults and persist,
/// per server, on both backends (read back through a second handle).
async fn server_prefs_persist(first: Arc<dyn PrefsStore>, second: Arc<dyn PrefsStore>) {
    let g = GuildId(42);
    assert_eq!(first.prefs(g).await.unwrap(), ServerPrefs::default());
    assert!(!ServerPrefs::default().private_safety);
    let on = first.set_private_safety(g, true, now()).await.unwrap();
    assert!(on.private_safety);
    assert!(second.prefs(g).await.unwrap().private_safety);
    assert!(!second.prefs(GuildId(43)).await.unwrap().private_safety);
    first.set_private_safety(g, false, now()).await.unwrap();
    assert!(!second.prefs(g).await.unwrap().private_safety);
}

#[tokio::test]
async fn sqlite_store_server_prefs_persist() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bot.db");
    let first = Arc::new(SqliteStore::open(&path).unwrap());
    let second = Arc::new(SqliteStore::open(&path).unwrap());
    server_prefs_persist(first, second).await;
}

#[tokio::test]
async fn postgres_store_server_prefs_persist() {
    let url = pg::fresh_database();
    let first = Arc::new(PgStore::connect(&url).await.unwrap());
    let second = Arc::new(PgStore::connect(&url).await.unwrap());
    server_prefs_persist(first, second).await;
}
