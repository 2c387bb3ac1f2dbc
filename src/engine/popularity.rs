//! How often each topic was answered: autocomplete offers the most asked
//! topics for empty input, and "not covered" suggests them.

use std::sync::atomic::{AtomicU32, Ordering};

use crate::understanding::TopicIndex;

#[derive(Debug)]
pub(crate) struct Popularity {
    counts: Vec<AtomicU32>,
}

impl Popularity {
    pub(crate) fn new(topics: usize) -> Self {
        Popularity {
            counts: (0..topics).map(|_| AtomicU32::new(0)).collect(),
        }
    }

    pub(crate) fn bump(&self, topic: TopicIndex) {
        if let Some(c) = self.counts.get(topic) {
            c.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The `n` most answered topics, then in knowledge order.
    pub(crate) fn top(&self, n: usize) -> Vec<TopicIndex> {
        // Snapshot first: other threads bump the counters while we sort, and
        // a key that changes mid-sort breaks the sort's total order (panic).
        let counts: Vec<u32> = self
            .counts
            .iter()
            .map(|c| c.load(Ordering::Relaxed))
            .collect();
        let mut order: Vec<TopicIndex> = (0..counts.len()).collect();
        order.sort_by_key(|&t| std::cmp::Reverse(counts[t]));
        order.truncate(n);
        order
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;
    use std::sync::Arc;

    /// The order is read while other threads answer (and bump the
    /// counters); that must never panic.
    #[test]
    fn top_is_safe_while_counters_change() {
        let p = Arc::new(Popularity::new(30));
        let stop = Arc::new(AtomicBool::new(false));
        let writers: Vec<_> = (0..2)
            .map(|_| {
                let (p, stop) = (p.clone(), stop.clone());
                std::thread::spawn(move || {
                    // Jump topics over each other so their order keeps flipping.
                    let mut x = 7usize;
                    while !stop.load(Ordering::Relaxed) {
                        x = (x * 31 + 17) % 30;
                        p.counts[x].fetch_add(1 + (x as u32 % 5) * 1000, Ordering::Relaxed);
                    }
                })
            })
            .collect();
        for _ in 0..20_000 {
            assert_eq!(p.top(3).len(), 3);
        }
        stop.store(true, Ordering::Relaxed);
        for w in writers {
            w.join().expect("writer");
        }
    }

    #[test]
    fn most_asked_first() {
        let p = Popularity::new(4);
        p.bump(2);
        p.bump(2);
        p.bump(3);
        p.bump(99);
        assert_eq!(p.top(3), [2, 3, 0]);
    }
}
