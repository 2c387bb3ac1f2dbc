//! Injected time, so that the scheduler can be tested without waiting.
//!
//! The scheduler only ever asks a [`Clock`] for the time and sleeps through
//! it; tests drive a [`ManualClock`] and the bot uses a [`SystemClock`].

use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::watch;

/// A source of wall-clock time that can also be slept on.
pub trait Clock: Send + Sync + 'static {
    /// The current instant.
    fn now(&self) -> DateTime<Utc>;

    /// Resolves once [`Clock::now`] is at or past `deadline`.
    fn sleep_until(&self, deadline: DateTime<Utc>) -> impl Future<Output = ()> + Send;
}

/// The real clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

/// Longest single real sleep: tokio sleeps on the monotonic clock, so after a
/// wall-clock jump (NTP step, suspend) we re-read the time at least this often
/// instead of posting hours late.
const MAX_REAL_SLEEP: Duration = Duration::from_secs(30);

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    async fn sleep_until(&self, deadline: DateTime<Utc>) {
        loop {
            let left = match (deadline - Utc::now()).to_std() {
                Ok(left) if !left.is_zero() => left,
                // Negative or zero: the deadline has passed.
                _ => return,
            };
            tokio::time::sleep(left.min(MAX_REAL_SLEEP)).await;
        }
    }
}

/// A clock that only moves when told to; sleepers wake as soon as the time is
/// set at or past their deadline. Cloning shares the same time.
#[derive(Debug, Clone)]
pub struct ManualClock {
    now: std::sync::Arc<watch::Sender<DateTime<Utc>>>,
}

impl ManualClock {
    pub fn new(start: DateTime<Utc>) -> Self {
        let (tx, _rx) = watch::channel(start);
        Self {
            now: std::sync::Arc::new(tx),
        }
    }

    /// Sets the time (it may go backwards; sleepers then keep waiting).
    pub fn set(&self, to: DateTime<Utc>) {
        self.now.send_replace(to);
    }

    /// Moves the time forward by `by`.
    pub fn advance(&self, by: Duration) {
        let by = chrono::Duration::from_std(by).unwrap_or(chrono::Duration::MAX);
        self.now.send_modify(|now| {
            *now = now
                .checked_add_signed(by)
                .unwrap_or(DateTime::<Utc>::MAX_UTC);
        });
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.now.borrow()
    }

    fn sleep_until(&self, deadline: DateTime<Utc>) -> impl Future<Output = ()> + Send {
        let mut rx = self.now.subscribe();
        async move {
            loop {
                if *rx.borrow_and_update() >= deadline {
                    return;
                }
                if rx.changed().await.is_err() {
                    // The clock is gone: time will never move again.
                    std::future::pending::<()>().await;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
    }

    #[tokio::test]
    async fn manual_sleeper_wakes_only_when_advanced_past_deadline() {
        let clock = ManualClock::new(t0());
        let deadline = t0() + chrono::Duration::seconds(10);
        let c = clock.clone();
        let task = tokio::spawn(async move { c.sleep_until(deadline).await });
        tokio::task::yield_now().await;
        clock.advance(Duration::from_secs(9));
        tokio::task::yield_now().await;
        assert!(!task.is_finished());
        clock.advance(Duration::from_secs(1));
        task.await.unwrap();
        assert_eq!(clock.now(), deadline);
    }

    #[tokio::test]
    async fn past_deadline_returns_at_once() {
        let clock = ManualClock::new(t0());
        clock.sleep_until(t0()).await;
        clock.sleep_until(t0() - chrono::Duration::hours(1)).await;
    }

    #[tokio::test]
    async fn system_clock_past_deadline_returns() {
        SystemClock
            .sleep_until(Utc::now() - chrono::Duration::seconds(1))
            .await;
    }
}
