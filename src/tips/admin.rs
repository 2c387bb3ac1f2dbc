//! What `/tips` does, as a service: the Discord glue parses the command and
//! words the answer; this changes the settings and tells the scheduler, so
//! nothing outside the tip domain reaches into the store.

use std::sync::Arc;

use super::{
    next_post, Clock, GuildId, NextPost, PostNowError, PostNowOutcome, Schedule, SchedulerHandle,
    StoreError, TipSettings, TipStore,
};

/// A server's tip settings, and when its next tip goes out.
#[derive(Debug, Clone)]
pub struct TipsStatus {
    pub settings: TipSettings,
    /// `None` while off or paused.
    pub next: Option<NextPost>,
}

pub struct TipsAdmin<C: Clock> {
    store: Arc<dyn TipStore>,
    scheduler: SchedulerHandle,
    clock: Arc<C>,
}

impl<C: Clock> TipsAdmin<C> {
    pub fn new(store: Arc<dyn TipStore>, scheduler: SchedulerHandle, clock: Arc<C>) -> Self {
        TipsAdmin {
            store,
            scheduler,
            clock,
        }
    }

    /// `/tips set`: saves the schedule (which turns tips on and clears a
    /// pause) and wakes the scheduler for this one change.
    pub async fn set(&self, guild: GuildId, schedule: &Schedule) -> Result<TipsStatus, StoreError> {
        let now = self.clock.now();
        let settings = self.store.put_settings(guild, schedule, now).await?;
        self.scheduler.changed(guild);
        Ok(self.status(settings))
    }

    /// `/tips off`. `false` when the server never set tips up.
    pub async fn off(&self, guild: GuildId) -> Result<bool, StoreError> {
        let changed = self
            .store
            .set_enabled(guild, false, self.clock.now())
            .await?;
        if changed.is_some() {
            self.scheduler.changed(guild);
        }
        Ok(changed.is_some())
    }

    /// `/tips show`. `None` when the server never set tips up.
    pub async fn show(&self, guild: GuildId) -> Result<Option<TipsStatus>, StoreError> {
        Ok(self.store.get(guild).await?.map(|s| self.status(s)))
    }

    /// `/tips now`: today's tip at once, counted as today's.
    pub async fn post_now(&self, guild: GuildId) -> Result<PostNowOutcome, PostNowError> {
        self.scheduler.post_now(guild).await
    }

    fn status(&self, settings: TipSettings) -> TipsStatus {
        let next = next_post(&settings, self.clock.now());
        TipsStatus { settings, next }
    }
}
