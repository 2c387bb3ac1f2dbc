//! Reading every key of a table whose file has unreadable pages.
//!
//! SQLite stops a scan at the first damaged page, so one bad page would hide
//! every row after it. A key-ordered table can be read around the damage:
//! seeking to a key lands on one leaf page, so a seek either fails (it lands
//! on the bad page) or succeeds (it lands after it), and the first key that
//! seeks cleanly can be found by doubling and then bisecting. That skips the
//! damaged page and nothing else.

/// Keys read per query on the happy path.
const PAGE: usize = 512;

/// A run of keys that could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Gap {
    /// The first key of the run.
    pub from: i64,
    /// Where reading resumed (`None`: the damage reached the end).
    pub resumed_at: Option<i64>,
    pub error: String,
}

/// Reads all keys in ascending order with `page(from, limit)`, which returns
/// the keys `>= from` (at most `limit`) it could read before an error, and
/// that error. Returns the keys read and the gaps skipped.
pub(super) fn keys<E: std::fmt::Display>(
    mut page: impl FnMut(i64, usize) -> (Vec<i64>, Option<E>),
) -> (Vec<i64>, Vec<Gap>) {
    let mut keys = Vec::new();
    let mut gaps = Vec::new();
    let mut from = i64::MIN;
    loop {
        let (got, err) = page(from, PAGE);
        let n = got.len();
        let last = got.last().copied();
        keys.extend(got);
        let next = match last {
            Some(l) => match l.checked_add(1) {
                Some(f) => f,
                None => break,
            },
            None => from,
        };
        match err {
            None if n < PAGE => break,
            None => from = next,
            // Rows came before the error: read on from the last good one; the
            // next query fails at once and takes the branch below.
            Some(_) if n > 0 => from = next,
            Some(e) => {
                let error = e.to_string();
                let resumed_at = first_readable_after(from, &mut page);
                gaps.push(Gap {
                    from,
                    resumed_at,
                    error,
                });
                match resumed_at {
                    Some(x) => from = x,
                    None => break,
                }
            }
        }
    }
    (keys, gaps)
}

/// The smallest `x > bad` from which a seek succeeds, or `None` if none does.
fn first_readable_after<E>(
    bad: i64,
    page: &mut impl FnMut(i64, usize) -> (Vec<i64>, Option<E>),
) -> Option<i64> {
    let mut ok = |x: i64| page(x, 1).1.is_none();
    // Doubling: find some readable `hi`, with `lo` the last unreadable.
    let mut lo = bad;
    let mut step: i64 = 1;
    let hi = loop {
        let x = bad.saturating_add(step);
        if x <= lo {
            // Saturated at the largest key: nothing after the damage.
            return None;
        }
        if ok(x) {
            break x;
        }
        lo = x;
        step = step.saturating_mul(2);
    };
    // Bisecting: `lo` unreadable, `hi` readable.
    let mut hi = hi;
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if ok(mid) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    Some(hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fake table: sorted keys, some of which sit on a "bad page" (a seek
    /// landing on any key in `bad` fails, as does reading through it).
    fn table(
        keys: &[i64],
        bad: std::ops::RangeInclusive<i64>,
    ) -> impl FnMut(i64, usize) -> (Vec<i64>, Option<String>) + '_ {
        move |from, limit| {
            let mut out = Vec::new();
            // The seek lands on the first key >= from; if that key (or the
            // gap before it) is on the bad page, the query fails at once.
            for &k in keys.iter().filter(|&&k| k >= from) {
                if bad.contains(&k) || (from > *bad.start() && from <= *bad.end()) {
                    return (out, Some("database disk image is malformed".to_owned()));
                }
                out.push(k);
                if out.len() == limit {
                    break;
                }
            }
            (out, None)
        }
    }

    #[test]
    fn undamaged_table_reads_in_pages() {
        let all: Vec<i64> = (0..2000).map(|i| i * 7 - 5000).collect();
        let (read, gaps) = keys::<String>(table(&all, 100_000..=100_000));
        assert_eq!(read, all);
        assert!(gaps.is_empty());
    }

    #[test]
    fn skips_only_the_bad_page() {
        let all: Vec<i64> = (0..3000)
            .map(|i| 1_000_000_000_000 + i * 1_000_003)
            .collect();
        let bad = all[1000]..=all[1099];
        let (read, gaps) = keys(table(&all, bad.clone()));
        let expected: Vec<i64> = all.iter().copied().filter(|k| !bad.contains(k)).collect();
        assert_eq!(read, expected);
        assert_eq!(gaps.len(), 1);
        assert_eq!(gaps[0].resumed_at, Some(all[1099] + 1));
    }

    #[test]
    fn damage_at_the_start_and_the_end() {
        let all: Vec<i64> = vec![i64::MIN, -3, 0, 5, 9, i64::MAX - 1, i64::MAX];
        let (read, gaps) = keys(table(&all, i64::MIN..=-3));
        assert_eq!(read, vec![0, 5, 9, i64::MAX - 1, i64::MAX]);
        assert_eq!(gaps.len(), 1);
        let (read, gaps) = keys(table(&all, 9..=i64::MAX));
        assert_eq!(read, vec![i64::MIN, -3, 0, 5]);
        assert_eq!(gaps.last().map(|g| g.resumed_at), Some(None));
    }

    #[test]
    fn everything_unreadable_ends() {
        let all: Vec<i64> = vec![1, 2, 3];
        let (read, gaps) = keys(table(&all, i64::MIN..=i64::MAX));
        assert!(read.is_empty());
        assert_eq!(gaps.len(), 1);
    }
}
