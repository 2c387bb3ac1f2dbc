//! The one tip scheduler of the process: sleeps until the next due post,
//! wakes on a settings change or shutdown, and posts due tips one after
//! another.
//!
//! Exactly-once per local day rests on the store, not on memory: an attempt
//! row is written before sending and confirmed after, so a restart resends an
//! unconfirmed post with the same nonce and never re-posts a confirmed one.
//! Retries are scheduled, never slept inline, so one failing server cannot
//! hold up the others.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinSet;
use tracing::{debug, error, info, warn};

use super::agenda::{held, Agenda, Retry};
use super::clock::Clock;
use super::schedule::{day_start, local_date, plan, Plan};
use super::{PostError, TipPost, TipPoster};
use crate::tips::{
    Attempt, AttemptRequest, AttemptStatus, Claim, GuildId, ReplicaId, StoreError, TipSettings,
    TipStore,
};

/// Tuning knobs; the defaults suit Discord.
#[derive(Debug, Clone)]
pub struct SchedulerConfig {
    /// Real-time gap between the starts of two posts, keeping a burst of due
    /// servers well under Discord's global limit of 50 requests per second.
    /// Zero in tests.
    pub pacing: Duration,
    /// Posts in flight at once: one slow answer holds up no one else.
    pub max_in_flight: usize,
    /// Real-time limit on one post; a hung request is treated as retryable
    /// (the resend carries the same nonce, well inside the few minutes in
    /// which Discord de-duplicates by nonce).
    pub post_timeout: Duration,
    /// On shutdown, how long posts in flight may take to land.
    pub stop_grace: Duration,
    /// First retry delay after a 429/5xx without `retry_after`; doubles.
    pub backoff_initial: Duration,
    /// Longest retry delay.
    pub backoff_max: Duration,
    /// Clock time to wait before retrying after a storage error.
    pub store_retry: Duration,
    /// Attempt rows older than this many days are deleted (daily).
    pub keep_attempt_days: u32,
    /// How long a claimed post keeps other replicas off it: a replica
    /// killed mid-send has its post taken over this long after the claim.
    /// Kept at least twice `post_timeout`, so a live claim never runs out
    /// while its send is still waiting for Discord.
    pub lease: Duration,
    /// On a shared store: how often this replica says it is alive (and
    /// learns how many share the rate budget). A replica silent for three
    /// of these no longer counts, so a killed one holds no share for long.
    pub heartbeat: Duration,
    /// On a shared store: how often this replica reads the settings that
    /// changed since its last read, to learn of changes made through
    /// another replica. Every `full_reload` it reads them all instead.
    pub shared_reload: Duration,
    /// On a shared store: how often every server's settings are read again
    /// (a safety net under the incremental reads).
    pub full_reload: Duration,
}

/// Posts per second the bot starts by default: under Discord's global
/// limit of 50 requests per second, with room for command registration
/// and the edits that complete deferred answers.
pub const DEFAULT_RATE_LIMIT: u32 = 45;

impl SchedulerConfig {
    /// Starts at most `per_second` posts a second, with enough in flight
    /// to keep that rate while Discord takes up to a second to answer.
    pub fn for_rate(per_second: u32) -> Self {
        let per_second = per_second.max(1);
        Self {
            pacing: Duration::from_secs(1) / per_second,
            max_in_flight: per_second.max(8) as usize,
            ..Self::default()
        }
    }

    /// Sets the claim lease, and shortens the post timeout to half of it
    /// if needed (see [`lease`](Self::lease)).
    pub fn with_lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self.post_timeout = self.post_timeout.min(lease / 2);
        self
    }
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        Self {
            pacing: Duration::from_secs(1) / DEFAULT_RATE_LIMIT,
            max_in_flight: DEFAULT_RATE_LIMIT as usize,
            post_timeout: Duration::from_secs(15),
            stop_grace: Duration::from_secs(2),
            backoff_initial: Duration::from_secs(5),
            backoff_max: Duration::from_secs(600),
            store_retry: Duration::from_secs(30),
            keep_attempt_days: 30,
            lease: Duration::from_secs(60),
            heartbeat: Duration::from_secs(2),
            shared_reload: Duration::from_secs(60),
            full_reload: Duration::from_secs(3600),
        }
    }
}

/// Changes are read from this long before the last read, so a replica
/// whose clock runs a little behind still has its changes seen.
const CLOCK_MARGIN: chrono::Duration = chrono::Duration::minutes(5);

/// Longest wait before reading damaged settings again.
const MAX_RESCAN: Duration = Duration::from_secs(3600);

/// Longest the loop sleeps without re-checking (prunes, clock oddities).
const MAX_IDLE: chrono::Duration = chrono::Duration::hours(1);

/// A `retry_after` longer than this is treated as this (a bogus header must
/// not silence a server for days).
const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// A manual `/tips now` that did post, or found today already posted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PostNowOutcome {
    Posted {
        date: NaiveDate,
        tip_index: usize,
    },
    /// Today's tip was already posted; nothing was sent.
    AlreadyPosted {
        date: NaiveDate,
        at: Option<DateTime<Utc>>,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum PostNowError {
    #[error("tips are not set up for this server")]
    NotConfigured,
    #[error("there are no tips in the knowledge base")]
    NoTips,
    /// The channel is gone or forbidden; the server's tips are now paused.
    #[error("cannot post in the tips channel (HTTP {status}): {reason}")]
    Gone { status: u16, reason: String },
    /// Discord is busy; `will_retry` if the scheduler will retry by itself.
    #[error("Discord is busy: {reason}")]
    Busy { reason: String, will_retry: bool },
    #[error("post failed: {0}")]
    Failed(String),
    #[error(transparent)]
    Storage(#[from] StoreError),
    #[error("the tip scheduler is not running")]
    Stopped,
}

enum Command {
    Reload,
    /// One server's settings changed: read that one row, not all of them.
    Changed(GuildId),
    PostNow {
        guild: GuildId,
        reply: oneshot::Sender<Result<PostNowOutcome, PostNowError>>,
    },
}

/// What the loop is doing, for [`SchedulerHandle::settled`].
#[derive(Debug, Clone, Copy)]
enum LoopStatus {
    Starting,
    Busy,
    /// Sleeping until `wake` with `processed` commands handled.
    Idle {
        wake: DateTime<Utc>,
        processed: u64,
    },
    Stopped,
}

/// A cheap, cloneable way to reach the running scheduler (store it in the
/// bot's shared data).
#[derive(Clone)]
pub struct SchedulerHandle {
    tx: mpsc::UnboundedSender<Command>,
    sent: Arc<AtomicU64>,
    status: watch::Receiver<LoopStatus>,
    now: Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>,
}

impl std::fmt::Debug for SchedulerHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SchedulerHandle")
            .field("status", &*self.status.borrow())
            .finish_non_exhaustive()
    }
}

impl SchedulerHandle {
    fn send(&self, cmd: Command) -> bool {
        // Count before sending so `settled` never misses a queued command.
        self.sent.fetch_add(1, Ordering::SeqCst);
        if self.tx.send(cmd).is_err() {
            self.sent.fetch_sub(1, Ordering::SeqCst);
            return false;
        }
        true
    }

    /// Tells the scheduler that settings changed in the store in ways it
    /// cannot know (a tool, an import), so it reads them all again.
    pub fn notify(&self) {
        if !self.send(Command::Reload) {
            debug!("tip scheduler not running; notify ignored");
        }
    }

    /// Tells the scheduler that one server's settings changed (`/tips set`,
    /// `/tips off`): it reads that server again, whatever the number of
    /// servers.
    pub fn changed(&self, guild: GuildId) {
        if !self.send(Command::Changed(guild)) {
            debug!("tip scheduler not running; change ignored");
        }
    }

    /// Posts today's tip now (`/tips now`). It counts as today's post: the
    /// scheduled one does not post again today, and if today's tip was
    /// already posted nothing is sent. Runs inside the scheduler loop, so it
    /// never races a scheduled post for the same server.
    pub async fn post_now(&self, guild: GuildId) -> Result<PostNowOutcome, PostNowError> {
        let (reply, rx) = oneshot::channel();
        if !self.send(Command::PostNow { guild, reply }) {
            return Err(PostNowError::Stopped);
        }
        rx.await.unwrap_or(Err(PostNowError::Stopped))
    }

    /// Resolves once the scheduler has handled every command sent so far and
    /// everything due at the clock's current time, and is asleep (or has
    /// stopped). For tests driving a `ManualClock`: advance, then settle.
    /// Never resolves if the scheduler was created but never run.
    pub async fn settled(&self) {
        let mut rx = self.status.clone();
        loop {
            match *rx.borrow_and_update() {
                LoopStatus::Stopped => return,
                LoopStatus::Idle { wake, processed }
                    if processed >= self.sent.load(Ordering::SeqCst) && (self.now)() < wake =>
                {
                    return
                }
                _ => {}
            }
            if rx.changed().await.is_err() {
                return;
            }
        }
    }

    /// Whether the scheduler loop has stopped (or was dropped unrun).
    pub fn is_stopped(&self) -> bool {
        matches!(*self.status.borrow(), LoopStatus::Stopped) || self.tx.is_closed()
    }
}

/// The daily tip scheduler. Create one per process, take a [`handle`],
/// then spawn [`run`].
///
/// [`handle`]: Scheduler::handle
/// [`run`]: Scheduler::run
pub struct Scheduler<S: TipStore + ?Sized, P: TipPoster, C: Clock> {
    store: Arc<S>,
    poster: Arc<P>,
    clock: Arc<C>,
    n_tips: usize,
    config: SchedulerConfig,
    tx: mpsc::UnboundedSender<Command>,
    rx: mpsc::UnboundedReceiver<Command>,
    sent: Arc<AtomicU64>,
    status: watch::Sender<LoopStatus>,
    processed: u64,
    guilds: Agenda,
    dirty: bool,
    /// Read the settings again then (an earlier read skipped damaged rows).
    rescan_at: Option<DateTime<Utc>>,
    /// Incomplete reads in a row: the next one waits `store_retry` doubled
    /// this often (at most an hour), so a lasting damage does not fill the
    /// log every 30 s.
    incomplete_reads: u32,
    last_prune: Option<NaiveDate>,
    /// Posts in flight, and whose they are.
    flights: JoinSet<Landed>,
    flying: HashMap<tokio::task::Id, GuildId>,
    /// `/tips now` requests waiting for a server's post in flight.
    waiting: HashMap<GuildId, Vec<oneshot::Sender<Result<PostNowOutcome, PostNowError>>>>,
    /// Real time before which no post starts (pacing).
    next_start: Option<tokio::time::Instant>,
    /// Whose claims this process's posts are.
    replica: ReplicaId,
    /// Replicas sharing the rate budget (1 unless the store is shared).
    replicas: u32,
    /// On a shared store: the next heartbeat and the next full read.
    next_beat: Option<DateTime<Utc>>,
    next_shared_reload: Option<DateTime<Utc>>,
    /// When the settings were last read in full, and up to when changes
    /// have been read since.
    full_read_at: Option<DateTime<Utc>>,
    read_through: Option<DateTime<Utc>>,
}

/// A post that came back from Discord (or gave up waiting).
struct Landed {
    settings: TipSettings,
    attempt: Attempt,
    result: Result<(), PostError>,
    /// Set for `/tips now`.
    reply: Option<oneshot::Sender<Result<PostNowOutcome, PostNowError>>>,
}

/// Aborts the task when dropped, so abandoning a post at shutdown stops it.
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> std::future::Future for AbortOnDrop<T> {
    type Output = Result<T, tokio::task::JoinError>;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        std::pin::Pin::new(&mut self.0).poll(cx)
    }
}

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// What happened to one send, for logs and `/tips now`.
enum Sent {
    Posted,
    Gone { status: u16, reason: String },
    Retrying { reason: String },
    GaveUp { reason: String },
    Failed { reason: String },
}

impl<S: TipStore + ?Sized, P: TipPoster, C: Clock> Scheduler<S, P, C> {
    /// `n_tips` is `Knowledge::tips.len()`; with 0 nothing is posted.
    pub fn new(store: Arc<S>, poster: Arc<P>, clock: Arc<C>, n_tips: usize) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let (status, _) = watch::channel(LoopStatus::Starting);
        let replica = if store.is_shared() {
            ReplicaId::random()
        } else {
            ReplicaId::LOCAL
        };
        Self {
            store,
            poster,
            clock,
            n_tips,
            config: SchedulerConfig::default(),
            tx,
            rx,
            sent: Arc::new(AtomicU64::new(0)),
            status,
            processed: 0,
            guilds: Agenda::default(),
            dirty: true,
            rescan_at: None,
            incomplete_reads: 0,
            last_prune: None,
            flights: JoinSet::new(),
            flying: HashMap::new(),
            waiting: HashMap::new(),
            next_start: None,
            replica,
            replicas: 1,
            next_beat: None,
            next_shared_reload: None,
            full_read_at: None,
            read_through: None,
        }
    }

    pub fn with_config(mut self, config: SchedulerConfig) -> Self {
        self.config = config;
        self
    }

    pub fn handle(&self) -> SchedulerHandle {
        let clock = Arc::clone(&self.clock);
        SchedulerHandle {
            tx: self.tx.clone(),
            sent: Arc::clone(&self.sent),
            status: self.status.subscribe(),
            now: Arc::new(move || clock.now()),
        }
    }

    /// Runs until `shutdown` becomes true (or its sender is dropped). A post
    /// in flight is finished first; an unconfirmed one is resent with the
    /// same nonce by the next process.
    pub async fn run(mut self, mut shutdown: watch::Receiver<bool>) {
        info!(n_tips = self.n_tips, shared = self.store.is_shared(), replica = %self.replica,
              "tip scheduler started");
        if self.n_tips == 0 {
            warn!("no tips in the knowledge base; daily tips will not be posted");
        }
        loop {
            if stop_requested(&mut shutdown) {
                break;
            }
            self.status.send_replace(LoopStatus::Busy);
            // Let the posts in flight run, even on a one-thread runtime.
            tokio::task::yield_now().await;
            self.drain_commands().await;
            while let Some(landed) = self.flights.try_join_next_with_id() {
                self.land(landed).await;
            }
            let now = self.clock.now();
            if self.rescan_at.is_some_and(|t| t <= now) {
                self.dirty = true;
            }
            if self.store.is_shared() {
                self.share(now).await;
            }
            if self.dirty {
                if let Err(e) = self.reload(now).await {
                    error!(error = %e, "cannot load tip settings; retrying");
                    let wake = add(now, self.config.store_retry);
                    if !self.idle_until(wake, &mut shutdown).await {
                        break;
                    }
                    continue;
                }
            }
            self.prune(now).await;
            // Start what is due, as far as the in-flight budget allows; each
            // server started either flies or changes state (no longer due,
            // held), so looping again cannot spin.
            let mut looked = false;
            let room = self
                .config
                .max_in_flight
                .max(1)
                .saturating_sub(self.flights.len());
            for guild in self.due(now, room) {
                if self.flights.len() >= self.config.max_in_flight.max(1) {
                    break;
                }
                if stop_requested(&mut shutdown) {
                    break;
                }
                // Interactive `/tips now` goes before a long batch.
                self.drain_commands().await;
                looked = true;
                self.start(guild).await;
            }
            if looked {
                continue;
            }
            let wake = self.next_wake(now);
            if !self.idle_until(wake, &mut shutdown).await {
                break;
            }
        }
        self.land_before_stop().await;
        self.status.send_replace(LoopStatus::Stopped);
        info!("tip scheduler stopped");
    }

    /// On shutdown: posts in flight get `stop_grace` to land; the rest are
    /// abandoned (their attempts stay pending, and the next process resends
    /// them with the same nonce, which Discord de-duplicates).
    async fn land_before_stop(&mut self) {
        let deadline = tokio::time::Instant::now() + self.config.stop_grace;
        while !self.flights.is_empty() {
            match tokio::time::timeout_at(deadline, self.flights.join_next_with_id()).await {
                Ok(Some(landed)) => {
                    // Waiting `/tips now` callers are told the scheduler stopped.
                    let _ = self.record_landing(landed).await;
                }
                Ok(None) => break,
                Err(_) => {
                    warn!(in_flight = self.flights.len(),
                          "tip posts still in flight at shutdown; the next start resends them with the same nonce");
                    self.flights.shutdown().await;
                    break;
                }
            }
        }
    }

    /// Sleeps until `wake`, a command, a landed post or shutdown. `false` on
    /// shutdown.
    async fn idle_until(
        &mut self,
        wake: DateTime<Utc>,
        shutdown: &mut watch::Receiver<bool>,
    ) -> bool {
        enum Event {
            Wake,
            Shutdown,
            Command(Option<Command>),
            Landed(Box<Result<(tokio::task::Id, Landed), tokio::task::JoinError>>),
        }
        // Settled only with nothing in flight.
        if self.flights.is_empty() {
            self.status.send_replace(LoopStatus::Idle {
                wake,
                processed: self.processed,
            });
        }
        debug!(%wake, in_flight = self.flights.len(), "tip scheduler waiting");
        let flying = !self.flights.is_empty();
        let event = tokio::select! {
            biased;
            _ = shutdown.changed() => Event::Shutdown,
            cmd = self.rx.recv() => Event::Command(cmd),
            Some(landed) = self.flights.join_next_with_id(), if flying => Event::Landed(Box::new(landed)),
            _ = self.clock.sleep_until(wake) => Event::Wake,
        };
        self.status.send_replace(LoopStatus::Busy);
        match event {
            Event::Shutdown => !stop_requested(shutdown),
            Event::Command(Some(cmd)) => {
                self.handle_command(cmd).await;
                true
            }
            // Unreachable while we hold a sender; stop rather than spin.
            Event::Command(None) => false,
            Event::Landed(landed) => {
                self.land(*landed).await;
                true
            }
            Event::Wake => true,
        }
    }

    async fn drain_commands(&mut self) {
        while let Ok(cmd) = self.rx.try_recv() {
            self.handle_command(cmd).await;
        }
    }

    async fn handle_command(&mut self, cmd: Command) {
        match cmd {
            Command::Reload => self.dirty = true,
            Command::Changed(guild) => {
                if let Err(e) = self.refresh(guild).await {
                    warn!(error = %e, %guild, "cannot read a changed server's tip settings; reading all");
                    self.dirty = true;
                }
            }
            Command::PostNow { guild, reply } => self.post_now(guild, reply).await,
        }
        self.processed += 1;
    }

    /// Reads every active server. Rows that cannot be read are skipped by
    /// the store; servers known from an earlier read are then kept (each post
    /// re-reads its server first, so a stale entry sends nothing wrong), and
    /// the read is tried again after `store_retry`.
    async fn reload(&mut self, now: DateTime<Utc>) -> Result<(), StoreError> {
        let all = self.store.all_active().await?;
        self.full_read_at = Some(now);
        self.read_through = Some(now);
        let old = self.guilds.replace_all(all.settings, now);
        if all.skipped > 0 {
            self.guilds.keep_missing(old, now);
            let wait = self
                .config
                .store_retry
                .saturating_mul(2u32.saturating_pow(self.incomplete_reads.min(16)))
                .min(MAX_RESCAN);
            self.incomplete_reads = self.incomplete_reads.saturating_add(1);
            self.rescan_at = Some(add(now, wait));
            warn!(
                skipped = all.skipped,
                guilds = self.guilds.len(),
                "some tip settings could not be read; posting for the rest and reading again later"
            );
        } else {
            self.rescan_at = None;
            self.incomplete_reads = 0;
        }
        self.dirty = false;
        debug!(guilds = self.guilds.len(), "tip settings loaded");
        Ok(())
    }

    /// Re-reads one server after a change, so planning sees the new state.
    async fn refresh(&mut self, guild: GuildId) -> Result<(), StoreError> {
        match self.store.get(guild).await? {
            Some(settings) if settings.is_active() => {
                let retry = self.guilds.get(&guild).and_then(|g| g.retry);
                self.guilds.insert(guild, settings, retry, self.clock.now());
            }
            _ => {
                self.guilds.remove(&guild);
            }
        }
        Ok(())
    }

    /// On a shared store: says this replica is alive, learns how many share
    /// the rate budget, and reads every server again from time to time, as
    /// `/tips` changes may have reached another replica.
    async fn share(&mut self, now: DateTime<Utc>) {
        if self.next_beat.is_none_or(|t| t <= now) {
            let ttl = chrono::Duration::from_std(self.config.heartbeat.saturating_mul(3))
                .unwrap_or(chrono::Duration::seconds(15));
            match self.store.heartbeat(self.replica, now, ttl).await {
                Ok(n) => {
                    let n = n.max(1);
                    if n != self.replicas {
                        info!(replicas = n, "replicas sharing the tip rate budget");
                    }
                    self.replicas = n;
                }
                Err(e) => warn!(error = %e, "cannot record this replica's heartbeat"),
            }
            self.next_beat = Some(add(now, self.config.heartbeat));
        }
        match self.next_shared_reload {
            Some(t) if t > now => {}
            Some(_) => {
                self.next_shared_reload = Some(add(now, self.config.shared_reload));
                let full_due = self
                    .full_read_at
                    .is_none_or(|t| add(t, self.config.full_reload) <= now);
                if full_due || self.catch_up(now).await.is_err() {
                    self.dirty = true;
                }
            }
            None => self.next_shared_reload = Some(add(now, self.config.shared_reload)),
        }
    }

    /// Reads the servers changed since the last read (with a margin for
    /// replicas whose clocks differ a little) and files them again.
    async fn catch_up(&mut self, now: DateTime<Utc>) -> Result<(), StoreError> {
        let since = self.read_through.unwrap_or(now) - CLOCK_MARGIN;
        let changed = match self.store.changed_since(since).await {
            Ok(c) => c,
            Err(e) => {
                warn!(error = %e, "cannot read changed tip settings; reading all");
                return Err(e);
            }
        };
        let n = changed.len();
        for settings in changed {
            let guild = settings.guild;
            if settings.is_active() {
                let retry = self.guilds.get(&guild).and_then(|g| g.retry);
                self.guilds.insert(guild, settings, retry, now);
            } else {
                self.guilds.remove(&guild);
            }
        }
        self.read_through = Some(now);
        debug!(changed = n, "caught up with tip settings changed elsewhere");
        Ok(())
    }

    async fn prune(&mut self, now: DateTime<Utc>) {
        let today = now.date_naive();
        if self.last_prune == Some(today) {
            return;
        }
        let before = today - chrono::Days::new(u64::from(self.config.keep_attempt_days));
        match self.store.prune_attempts(before).await {
            Ok(n) => {
                self.last_prune = Some(today);
                if n > 0 {
                    info!(deleted = n, %before, "old tip attempts pruned");
                }
            }
            Err(e) => warn!(error = %e, "cannot prune old tip attempts"),
        }
    }

    /// Up to `limit` servers with a post due at `now` and not held back by
    /// a retry, in slot order (so the longest-waiting go first). Looks only
    /// at the servers filed by `now`; one filed too early (its plan moved
    /// on) is filed again under its new time.
    fn due(&mut self, now: DateTime<Utc>, limit: usize) -> Vec<GuildId> {
        if self.n_tips == 0 || limit == 0 {
            return Vec::new();
        }
        let flying: HashSet<GuildId> = self.flying.values().copied().collect();
        let mut due = Vec::new();
        let mut stale = Vec::new();
        for g in self.guilds.filed_by(now) {
            if due.len() >= limit {
                break;
            }
            if flying.contains(&g) {
                continue;
            }
            let Some(st) = self.guilds.get(&g) else {
                continue;
            };
            match plan(&st.settings, now) {
                Plan::Due { date, slot, .. } if !held(st.retry, date, now) => {
                    due.push((slot, self.turn(g), g))
                }
                _ => stale.push(g),
            }
        }
        for g in stale {
            self.guilds.update(g, now, |_, _| {});
        }
        due.sort_unstable();
        due.into_iter().map(|(_, _, g)| g).collect()
    }

    /// Where a server comes among those due at the same slot. Alone, in
    /// id order. Replicas each take their own order, so they claim
    /// different servers instead of all asking for the same one and being
    /// turned away (each refusal is a database round trip).
    fn turn(&self, g: GuildId) -> u64 {
        if self.replica == ReplicaId::LOCAL {
            return g.0;
        }
        // splitmix64: a cheap, well-spread mix of the two ids.
        let mut z = (g.0 ^ self.replica.0).wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn next_wake(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        let mut wake = now
            .checked_add_signed(MAX_IDLE)
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        for at in [self.rescan_at, self.next_beat, self.next_shared_reload]
            .into_iter()
            .flatten()
        {
            wake = wake.min(at);
        }
        if self.n_tips == 0 {
            return wake;
        }
        let flying: HashSet<GuildId> = self.flying.values().copied().collect();
        // With no room for another post, a due server waits for a landing
        // (which wakes the loop), not for the clock.
        let full = self.flights.len() >= self.config.max_in_flight.max(1);
        if let Some(at) = self.guilds.first(now, full, &flying) {
            wake = wake.min(at.max(now));
        }
        wake
    }

    fn hold(&mut self, guild: GuildId, date: NaiveDate, at: DateTime<Utc>) {
        self.guilds.update(guild, self.clock.now(), |_, retry| {
            let tries = retry.filter(|r| r.date == date).map_or(0, |r| r.tries);
            *retry = Some(Retry { date, tries, at });
        });
    }

    /// Starts one due server's post if it is still due.
    async fn start(&mut self, guild: GuildId) {
        let now = self.clock.now();
        let Some(cached) = self.guilds.get(&guild) else {
            return;
        };
        let cached_date = local_date(now, cached.settings.schedule.tz);
        let store_retry = add(now, self.config.store_retry);
        // Fresh settings: a `/tips` change may have landed since planning.
        let settings = match self.store.get(guild).await {
            Ok(Some(s)) if s.is_active() => s,
            Ok(_) => {
                self.guilds.remove(&guild);
                return;
            }
            Err(e) => {
                error!(guild = guild.0, error = %e, "cannot read tip settings; will retry");
                self.hold(guild, cached_date, store_retry);
                return;
            }
        };
        let plan_now = plan(&settings, now);
        self.guilds.update(guild, now, |s, _| *s = settings.clone());
        let Plan::Due { date, slot, resume } = plan_now else {
            return;
        };
        let req = AttemptRequest {
            guild,
            date,
            channel: settings.schedule.channel,
            n_tips: self.n_tips,
            now,
            manual: false,
            replica: self.replica,
            lease: lease(&self.config),
        };
        let attempt = match self.store.claim(&req).await {
            Ok(Claim::Send(a)) => a,
            Ok(Claim::Settled(attempt)) => {
                // Settled by an earlier process, another replica or a stale
                // cache: nothing to send.
                debug!(guild = guild.0, %date, status = ?attempt.status, "tip already settled today");
                if self.refresh(guild).await.is_err()
                    || matches!(plan_of(&self.guilds, guild, now), Some(Plan::Due { .. }))
                {
                    let until = day_start_after(date, &settings).unwrap_or(store_retry);
                    self.hold(guild, date, until);
                }
                return;
            }
            Ok(Claim::Elsewhere { until }) => {
                // Another replica is sending it; look again when its lease
                // ends (by then it is posted, or the replica is gone).
                debug!(guild = guild.0, %date, %until, "tip claimed by another replica");
                self.hold(guild, date, until.max(add(now, Duration::from_secs(1))));
                return;
            }
            Err(e) => {
                error!(guild = guild.0, %date, error = %e, "cannot record tip attempt; will retry");
                self.hold(guild, date, store_retry);
                return;
            }
        };
        if resume {
            info!(guild = guild.0, %date, nonce = %attempt.nonce, tries = attempt.tries,
                  late_secs = (now - slot).num_seconds(),
                  "resending unconfirmed tip with the same nonce");
        }
        self.launch(settings, attempt, None).await;
    }

    /// Sends a post in a task of its own, so a slow or hung answer holds up
    /// no other server, and a panicking poster cannot take the loop down.
    /// Starts are paced; the landing is handled by [`land`](Self::land).
    async fn launch(
        &mut self,
        settings: TipSettings,
        attempt: Attempt,
        reply: Option<oneshot::Sender<Result<PostNowOutcome, PostNowError>>>,
    ) {
        if let Some(at) = self.next_start {
            tokio::time::sleep_until(at).await;
        }
        if !self.config.pacing.is_zero() {
            // The budget is shared: with n replicas, each starts 1/n of it.
            let pacing = self.config.pacing.saturating_mul(self.replicas.max(1));
            self.next_start = Some(tokio::time::Instant::now() + pacing);
        }
        let post = TipPost {
            guild: attempt.guild,
            channel: attempt.channel,
            tip_index: attempt.tip_index,
            date: attempt.date,
            nonce: attempt.nonce.clone(),
            manual: reply.is_some(),
            resend: attempt.tries > 1,
        };
        let poster = Arc::clone(&self.poster);
        let timeout = self.config.post_timeout;
        let guild = attempt.guild;
        let handle = self.flights.spawn(async move {
            let mut task = AbortOnDrop(tokio::spawn(async move { poster.post(post).await }));
            let result = match tokio::time::timeout(timeout, &mut task).await {
                Ok(Ok(r)) => r,
                Ok(Err(e)) => {
                    error!(guild = guild.0, error = %e, "tip poster panicked");
                    Err(PostError::Other(format!(
                        "internal error while posting: {e}"
                    )))
                }
                Err(_) => Err(PostError::Retryable {
                    retry_after: None,
                    reason: format!("no answer within {timeout:?}"),
                }),
            };
            Landed {
                settings,
                attempt,
                result,
                reply,
            }
        });
        self.flying.insert(handle.id(), guild);
    }

    /// Records a landed post, answers a waiting `/tips now`, and starts the
    /// `/tips now` requests that waited for this server's post.
    async fn land(&mut self, landed: Result<(tokio::task::Id, Landed), tokio::task::JoinError>) {
        let Some(guild) = self.record_landing(landed).await else {
            return;
        };
        for reply in self.waiting.remove(&guild).unwrap_or_default() {
            self.post_now(guild, reply).await;
        }
    }

    /// The bookkeeping half of [`land`](Self::land); returns the server.
    async fn record_landing(
        &mut self,
        landed: Result<(tokio::task::Id, Landed), tokio::task::JoinError>,
    ) -> Option<GuildId> {
        let (id, landed) = match landed {
            Ok(l) => l,
            Err(e) => {
                // Only an abort at shutdown gets here (the task cannot panic).
                let guild = self.flying.remove(&e.id());
                warn!(guild = ?guild.map(|g| g.0), error = %e, "tip post task ended early");
                return guild;
            }
        };
        self.flying.remove(&id);
        let Landed {
            settings,
            attempt,
            result,
            reply,
        } = landed;
        let (guild, date) = (attempt.guild, attempt.date);
        let sent = self.record(&settings, &attempt, result).await;
        match &sent {
            Sent::Posted => info!(guild = guild.0, channel = attempt.channel.0, %date,
                tip = attempt.tip_index, nonce = %attempt.nonce, tries = attempt.tries,
                manual = reply.is_some(), "daily tip posted"),
            Sent::Retrying { reason } => warn!(guild = guild.0, %date, %reason,
                "daily tip not posted; retry scheduled"),
            Sent::GaveUp { reason } | Sent::Failed { reason } => error!(guild = guild.0,
                %date, %reason, "daily tip not posted; giving up for today"),
            Sent::Gone { status, reason } => warn!(guild = guild.0, channel = attempt.channel.0,
                status, %reason, "tips channel unavailable; tips paused for this server"),
        }
        if let Some(reply) = reply {
            let outcome = self.manual_outcome(&settings, &attempt, sent).await;
            if let Err(e) = &outcome {
                info!(guild = guild.0, error = %e, "manual tip not posted");
            }
            // The caller may have given up waiting; nothing to do then.
            let _ = reply.send(outcome);
        }
        Some(guild)
    }

    async fn manual_outcome(
        &mut self,
        settings: &TipSettings,
        attempt: &Attempt,
        sent: Sent,
    ) -> Result<PostNowOutcome, PostNowError> {
        let (guild, date) = (attempt.guild, attempt.date);
        match sent {
            Sent::Posted => {
                if settings.paused.is_some() {
                    // The post went through, so whatever paused tips is fixed.
                    self.store.unpause(guild, self.clock.now()).await?;
                    self.dirty = true;
                    info!(
                        guild = guild.0,
                        "tips unpaused after a successful manual post"
                    );
                }
                Ok(PostNowOutcome::Posted {
                    date,
                    tip_index: attempt.tip_index,
                })
            }
            Sent::Gone { status, reason } => Err(PostNowError::Gone { status, reason }),
            Sent::Retrying { reason } => Err(PostNowError::Busy {
                reason,
                will_retry: self.guilds.contains(&guild),
            }),
            Sent::GaveUp { reason } | Sent::Failed { reason } => Err(PostNowError::Failed(reason)),
        }
    }

    /// Stores the result of a send and plans what comes next for the server.
    async fn record(
        &mut self,
        settings: &TipSettings,
        attempt: &Attempt,
        result: Result<(), PostError>,
    ) -> Sent {
        let (guild, date) = (attempt.guild, attempt.date);
        let now = self.clock.now();
        let store_retry = add(now, self.config.store_retry);
        let mut stored = true;
        let sent = match result {
            Ok(()) => {
                if let Err(e) = self.store.mark_posted(guild, date, now).await {
                    // Posted but not recorded: a resend would carry the same
                    // nonce, but hold this server so we do not try at once.
                    error!(guild = guild.0, %date, error = %e, "tip posted but not recorded");
                    stored = false;
                }
                Sent::Posted
            }
            Err(PostError::Gone { status, reason }) => {
                let why = format!("{reason} (HTTP {status})");
                let paused = self.store.pause(guild, &why, now).await;
                let failed = self.store.mark_failed(guild, date, &why, now).await;
                if let Err(e) = paused.map(|_| ()).and(failed) {
                    error!(guild = guild.0, error = %e, "cannot record paused tips");
                    stored = false;
                }
                self.guilds.remove(&guild);
                Sent::Gone { status, reason }
            }
            Err(PostError::Retryable {
                retry_after,
                reason,
            }) => {
                let prev = self
                    .guilds
                    .get(&guild)
                    .and_then(|g| g.retry)
                    .filter(|r| r.date == date)
                    .map_or(0, |r| r.tries);
                let tries = prev.saturating_add(1);
                let delay = retry_after
                    .map(|d| d.min(MAX_RETRY_AFTER))
                    .unwrap_or_else(|| self.backoff(tries));
                let at = add(now, delay);
                match day_start_after(date, settings) {
                    Some(deadline) if at < deadline => {
                        self.guilds.update(guild, now, |_, retry| {
                            *retry = Some(Retry { date, tries, at });
                        });
                        debug!(guild = guild.0, %date, tries, retry_in = ?delay, "retry scheduled");
                        return Sent::Retrying { reason };
                    }
                    _ => {
                        let why =
                            format!("gave up at local midnight after {tries} tries: {reason}");
                        if let Err(e) = self.store.mark_failed(guild, date, &why, now).await {
                            error!(guild = guild.0, error = %e, "cannot record failed tip");
                            stored = false;
                        }
                        Sent::GaveUp { reason: why }
                    }
                }
            }
            Err(PostError::Other(reason)) => {
                if let Err(e) = self.store.mark_failed(guild, date, &reason, now).await {
                    error!(guild = guild.0, error = %e, "cannot record failed tip");
                    stored = false;
                }
                Sent::Failed { reason }
            }
        };
        self.guilds.update(guild, now, |_, retry| *retry = None);
        if !stored || self.refresh(guild).await.is_err() {
            self.hold(guild, date, store_retry);
        }
        sent
    }

    fn backoff(&self, tries: u32) -> Duration {
        let factor = 2u32.saturating_pow(tries.saturating_sub(1).min(20));
        self.config
            .backoff_initial
            .saturating_mul(factor)
            .min(self.config.backoff_max)
    }

    /// `/tips now`: answered when its post lands. If the server's scheduled
    /// post is in flight, it waits for that and then decides (usually
    /// "already posted").
    async fn post_now(
        &mut self,
        guild: GuildId,
        reply: oneshot::Sender<Result<PostNowOutcome, PostNowError>>,
    ) {
        if self.flying.values().any(|g| *g == guild) {
            self.waiting.entry(guild).or_default().push(reply);
            return;
        }
        match self.prepare_now(guild).await {
            Ok(Ok((settings, attempt))) => self.launch(settings, attempt, Some(reply)).await,
            Ok(Err(outcome)) => {
                let _ = reply.send(Ok(outcome));
            }
            Err(e) => {
                info!(guild = guild.0, error = %e, "manual tip not posted");
                let _ = reply.send(Err(e));
            }
        }
    }

    /// The attempt a `/tips now` sends, or the outcome when nothing needs
    /// sending.
    #[allow(clippy::type_complexity)]
    async fn prepare_now(
        &mut self,
        guild: GuildId,
    ) -> Result<Result<(TipSettings, Attempt), PostNowOutcome>, PostNowError> {
        if self.n_tips == 0 {
            return Err(PostNowError::NoTips);
        }
        let settings = self
            .store
            .get(guild)
            .await?
            .ok_or(PostNowError::NotConfigured)?;
        let now = self.clock.now();
        let date = local_date(now, settings.schedule.tz);
        let claim = self
            .store
            .claim(&AttemptRequest {
                guild,
                date,
                channel: settings.schedule.channel,
                n_tips: self.n_tips,
                now,
                manual: true,
                replica: self.replica,
                lease: lease(&self.config),
            })
            .await?;
        match claim {
            Claim::Send(attempt) => Ok(Ok((settings, attempt))),
            Claim::Settled(attempt) if attempt.status == AttemptStatus::Posted => {
                Ok(Err(PostNowOutcome::AlreadyPosted {
                    date,
                    at: attempt.posted_at,
                }))
            }
            Claim::Settled(attempt) => Err(PostNowError::Failed(
                attempt.error.unwrap_or_else(|| "not posted".into()),
            )),
            Claim::Elsewhere { .. } => Err(PostNowError::Busy {
                reason: "another replica of the bot is posting today's tip right now".into(),
                will_retry: true,
            }),
        }
    }
}

/// The configured lease as the store wants it.
fn lease(config: &SchedulerConfig) -> chrono::Duration {
    chrono::Duration::from_std(config.lease).unwrap_or(chrono::Duration::seconds(60))
}

fn plan_of(guilds: &Agenda, guild: GuildId, now: DateTime<Utc>) -> Option<Plan> {
    guilds.get(&guild).map(|g| plan(&g.settings, now))
}

/// When the local day after `date` starts: retries for `date` stop there.
fn day_start_after(date: NaiveDate, s: &TipSettings) -> Option<DateTime<Utc>> {
    day_start(date.succ_opt()?, s.schedule.tz)
}

fn add(t: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(d)
        .ok()
        .and_then(|d| t.checked_add_signed(d))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

fn stop_requested(shutdown: &mut watch::Receiver<bool>) -> bool {
    // A dropped sender means nobody can ask us to stop any more: stop now.
    // `borrow_and_update` marks the value seen, so `changed()` does not fire
    // again for it (a `false` sent must not make the loop spin).
    shutdown.has_changed().is_err() || *shutdown.borrow_and_update()
}
