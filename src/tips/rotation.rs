//! Tip rotation: each server walks through a shuffled order of all tips, so
//! no tip repeats until every one has been shown. The order itself is stored
//! (not just a seed), so a restart continues it exactly.

use chrono::NaiveDate;

/// A server's place in its rotation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RotationState {
    /// Per-server seed; each cycle's shuffle is derived from it.
    pub seed: u64,
    /// How many orders have been started (the first is cycle 0).
    pub cycle: u64,
    /// The current order: a permutation of `0..order.len()`.
    pub order: Vec<usize>,
    /// How many of `order` have been handed out.
    pub position: usize,
    /// The last tip handed out, so a new cycle does not start with it.
    pub last: Option<usize>,
}

impl RotationState {
    /// A rotation that has handed out nothing yet.
    pub fn new(seed: u64) -> Self {
        Self {
            seed,
            cycle: 0,
            order: Vec::new(),
            position: 0,
            last: None,
        }
    }

    /// A fresh rotation for a server: seeded from its id, so servers differ.
    pub fn for_guild(guild: u64) -> Self {
        Self::new(splitmix64(guild ^ 0x6d61_7373_6167_6521))
    }

    /// Whether `order` is a permutation and `position` within it; a stored
    /// state failing this is replaced by a new cycle instead of trusted.
    pub fn is_consistent(&self) -> bool {
        let mut seen = vec![false; self.order.len()];
        for &i in &self.order {
            match seen.get_mut(i) {
                Some(s) if !*s => *s = true,
                _ => return false,
            }
        }
        self.position <= self.order.len()
    }

    /// Hands out the next tip index among `n_tips` (`None` if there are no
    /// tips). A new shuffled order starts when the current one is used up, when
    /// the number of tips changed (knowledge edited), or when the stored state
    /// is inconsistent; it never starts with the tip just shown.
    pub fn next(&mut self, n_tips: usize) -> Option<usize> {
        if n_tips == 0 {
            return None;
        }
        let started = !self.order.is_empty();
        if self.order.len() != n_tips || self.position >= self.order.len() || !self.is_consistent()
        {
            if started {
                self.cycle = self.cycle.wrapping_add(1);
            }
            let avoid = self.last.filter(|&l| l < n_tips);
            self.order = shuffled_order(self.seed, self.cycle, n_tips, avoid);
            self.position = 0;
        }
        let tip = *self.order.get(self.position)?;
        self.position += 1;
        self.last = Some(tip);
        Some(tip)
    }
}

/// The first date of the offline rotation used by [`tip_for_date`].
pub const OFFLINE_EPOCH: NaiveDate = match NaiveDate::from_ymd_opt(1970, 1, 1) {
    Some(d) => d,
    None => panic!("valid date"),
};

/// The tip index for `date` in the offline default rotation (for
/// `massage-bot tip --date`): a rotation with seed 0 that posted one tip a
/// day, every day, starting with its first tip on 1970-01-01. So consecutive
/// dates walk through shuffled orders of all tips without repeats within an
/// order, the same on every machine. A real server's sequence differs (its
/// seed comes from its id and it starts when it is set up).
///
/// `None` when there are no tips or the date is before 1970-01-01.
pub fn tip_for_date(date: NaiveDate, n_tips: usize) -> Option<usize> {
    if n_tips == 0 {
        return None;
    }
    let days = usize::try_from((date - OFFLINE_EPOCH).num_days()).ok()?;
    let (cycle, pos) = (days / n_tips, days % n_tips);
    let mut last = None;
    let mut order = Vec::new();
    for c in 0..=cycle {
        order = shuffled_order(0, c as u64, n_tips, last);
        last = order.last().copied();
    }
    order.get(pos).copied()
}

/// A deterministic shuffle of `0..n` for `(seed, cycle)`; if it would start
/// with `avoid_first`, that tip is moved to the end (so no tip shows two days
/// in a row across cycles, unless there is only one tip).
fn shuffled_order(seed: u64, cycle: u64, n: usize, avoid_first: Option<usize>) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    let mut state = seed ^ cycle.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    for i in (1..n).rev() {
        state = splitmix64(state);
        // Modulo bias is irrelevant for a handful of tips.
        let j = (state % (i as u64 + 1)) as usize;
        order.swap(i, j);
    }
    if n > 1 && avoid_first.is_some() && order.first().copied() == avoid_first {
        order.swap(0, n - 1);
    }
    order
}

/// SplitMix64: tiny, well-mixed, and fixed forever (no dependency whose
/// algorithm could change under us).
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashSet;

    #[test]
    fn no_repeat_until_all_used() {
        for n in 1..=12 {
            let mut r = RotationState::for_guild(42);
            for cycle in 0..5 {
                let got: HashSet<usize> = (0..n).map(|_| r.next(n).unwrap()).collect();
                assert_eq!(got.len(), n, "n={n} cycle={cycle}");
            }
        }
    }

    #[test]
    fn never_same_tip_twice_in_a_row_when_possible() {
        for n in 2..=6 {
            let mut r = RotationState::for_guild(7);
            let mut prev = None;
            for _ in 0..200 {
                let t = r.next(n);
                assert_ne!(t, prev, "n={n}");
                prev = t;
            }
        }
    }

    #[test]
    fn tip_count_change_starts_new_order() {
        let mut r = RotationState::for_guild(1);
        r.next(5);
        r.next(5);
        let before = r.cycle;
        let t = r.next(3).unwrap();
        assert!(t < 3);
        assert_eq!(r.order.len(), 3);
        assert_eq!(r.cycle, before + 1);
        let rest: HashSet<usize> = (0..2).map(|_| r.next(3).unwrap()).collect();
        assert!(!rest.contains(&t));
    }

    #[test]
    fn inconsistent_state_is_replaced() {
        let mut r = RotationState::for_guild(1);
        r.order = vec![0, 0, 1];
        assert!(!r.is_consistent());
        assert!(r.next(3).is_some());
        assert!(r.is_consistent());
    }

    #[test]
    fn zero_tips_gives_none() {
        assert_eq!(RotationState::new(0).next(0), None);
        let d = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        assert_eq!(tip_for_date(d, 0), None);
    }

    #[test]
    fn servers_get_different_orders() {
        let orders: HashSet<Vec<usize>> = (0..20u64)
            .map(|g| {
                let mut r = RotationState::for_guild(g);
                (0..8).map(|_| r.next(8).unwrap()).collect()
            })
            .collect();
        assert!(orders.len() > 10);
    }

    #[test]
    fn offline_sequence_is_pinned() {
        // Changing the shuffle would change what `massage-bot tip --date`
        // prints for a date (stored orders are unaffected); do it on purpose.
        let d = |y, m, dd| NaiveDate::from_ymd_opt(y, m, dd).unwrap();
        let first: Vec<usize> = (0..5)
            .map(|i| tip_for_date(d(1970, 1, 1 + i), 5).unwrap())
            .collect();
        assert_eq!(first, [1, 2, 4, 3, 0]);
        assert_eq!(shuffled_order(0, 0, 5, None), first);
    }

    #[test]
    fn offline_matches_a_daily_rotation_with_seed_zero() {
        let mut r = RotationState::new(0);
        let mut day = OFFLINE_EPOCH;
        for _ in 0..100 {
            assert_eq!(tip_for_date(day, 3), r.next(3));
            day = day.succ_opt().unwrap();
        }
        let before = OFFLINE_EPOCH.pred_opt().unwrap();
        assert_eq!(tip_for_date(before, 3), None);
        // Far dates stay cheap enough for a CLI.
        assert!(tip_for_date(NaiveDate::from_ymd_opt(9999, 12, 31).unwrap(), 2).is_some());
    }

    proptest! {
        #[test]
        fn every_window_of_n_from_a_cycle_start_is_a_permutation(
            seed in any::<u64>(), n in 1usize..40, cycles in 1usize..4,
        ) {
            let mut r = RotationState::new(seed);
            for _ in 0..cycles {
                let mut got: Vec<usize> = (0..n).map(|_| r.next(n).unwrap()).collect();
                got.sort_unstable();
                prop_assert_eq!(got, (0..n).collect::<Vec<_>>());
            }
        }
    }
}
