//! Duplicate timestamps: keep the last row of each run of equal keys.
//!
//! The keys are a file's timestamps: no index here can panic (clippy's
//! `indexing_slicing` is denied).

#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

/// What [`keep_last_of_runs`] dropped.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Dropped {
    /// Rows whose key equals the next present key (earlier duplicates).
    pub duplicates: usize,
    /// Rows without a key.
    pub missing: usize,
}

/// Marks in `out` the rows to keep from keys `t` sorted ascending (stable, so
/// equal keys stand in file order): the last row of every run of equal keys.
/// Rows whose `valid` flag is false have no key and are dropped.
pub fn keep_last_of_runs(t: &[i64], valid: Option<&[bool]>, out: &mut [bool]) -> Dropped {
    debug_assert_eq!(t.len(), out.len());
    let mut dropped = Dropped::default();
    // Walk backwards: a row is kept iff its key differs from the next kept key.
    let mut next: Option<i64> = None;
    for (i, (&key, keep_row)) in t.iter().zip(out.iter_mut()).enumerate().rev() {
        if valid.and_then(|v| v.get(i)) == Some(&false) {
            *keep_row = false;
            dropped.missing += 1;
            continue;
        }
        let keep = next != Some(key);
        *keep_row = keep;
        if keep {
            next = Some(key);
        } else {
            dropped.duplicates += 1;
        }
    }
    dropped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_last_of_each_run() {
        let t = [1, 2, 2, 2, 3, 4, 4];
        let mut out = vec![false; t.len()];
        let d = keep_last_of_runs(&t, None, &mut out);
        assert_eq!(out, [true, false, false, true, true, false, true]);
        assert_eq!(
            d,
            Dropped {
                duplicates: 3,
                missing: 0
            }
        );
    }

    #[test]
    fn missing_keys_are_dropped_and_counted() {
        let t = [0, 1, 1, 0, 2];
        let valid = [false, true, true, false, true];
        let mut out = vec![false; t.len()];
        let d = keep_last_of_runs(&t, Some(&valid), &mut out);
        assert_eq!(out, [false, false, true, false, true]);
        assert_eq!(
            d,
            Dropped {
                duplicates: 1,
                missing: 2
            }
        );
    }

    #[test]
    fn empty_and_unique() {
        let mut out: Vec<bool> = vec![];
        assert_eq!(keep_last_of_runs(&[], None, &mut out), Dropped::default());
        let mut out = vec![false; 3];
        assert_eq!(
            keep_last_of_runs(&[1, 2, 3], None, &mut out),
            Dropped::default()
        );
        assert_eq!(out, [true, true, true]);
    }
}

/// How a sequence of keys (timestamps) is spaced, from one pass over it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spacing {
    /// How many keys.
    pub count: usize,
    /// Gaps between consecutive keys shorter than the `short_below` asked for.
    pub short: usize,
    /// The smallest gap (`i64::MAX` for fewer than two keys): `≤ 0` when a
    /// key repeats or is smaller than the one before.
    pub min_gap: i64,
}

impl Spacing {
    /// No keys yet.
    const EMPTY: Spacing = Spacing {
        count: 0,
        short: 0,
        min_gap: i64::MAX,
    };

    /// Every key is greater than the one before.
    pub fn strictly_increasing(&self) -> bool {
        self.min_gap > 0
    }

    /// Counts the gap from key `prev` to the next key `t` (saturating at the
    /// `i64` range), short below `short_below`.
    #[inline(always)]
    fn see_gap(&mut self, prev: i64, t: i64, short_below: i64) {
        let gap = t.saturating_sub(prev);
        self.min_gap = self.min_gap.min(gap);
        self.short += usize::from(gap < short_below);
    }
}

/// The [`Spacing`] of `keys`, gaps counted as short below `short_below`
/// (gaps saturate at the `i64` range).
pub fn spacing(keys: impl IntoIterator<Item = i64>, short_below: i64) -> Spacing {
    let mut out = Spacing::EMPTY;
    let mut last = None::<i64>;
    for t in keys {
        if let Some(prev) = last {
            out.see_gap(prev, t, short_below);
        }
        last = Some(t);
        out.count += 1;
    }
    out
}

/// [`spacing`] of `chunks` read as one sequence of keys, each chunk in one
/// vectorised pass over its neighbouring pairs (the plugin's common case: a
/// column's chunks of timestamps, checked before anything else runs).
///
/// Compiled a second time for AVX2 (a test forces the baseline copy): the
/// 64-bit comparisons and minimum it needs are not in baseline x86-64.
pub fn spacing_of_chunks(chunks: &[&[i64]], short_below: i64) -> Spacing {
    spacing_of_chunks_dispatched(chunks, short_below)
}

dispatch! { ["avx2"]
fn spacing_of_chunks_dispatched(chunks: &[&[i64]], short_below: i64) -> Spacing {
    let mut out = Spacing::EMPTY;
    let mut last = None::<i64>;
    for &chunk in chunks {
        let (Some(&first), Some(&end)) = (chunk.first(), chunk.last()) else {
            continue;
        };
        if let Some(prev) = last {
            out.see_gap(prev, first, short_below);
        }
        // `see_gap` over the chunk's pairs, its two sums kept in locals so
        // that the loop vectorises.
        let later = chunk.get(1..).unwrap_or_default();
        let (min_gap, short) =
            chunk
                .iter()
                .zip(later)
                .fold((out.min_gap, 0usize), |(min_gap, short), (&a, &b)| {
                    let gap = b.saturating_sub(a);
                    (min_gap.min(gap), short + usize::from(gap < short_below))
                });
        out.min_gap = min_gap;
        out.short += short;
        out.count += chunk.len();
        last = Some(end);
    }
    out
}
}

#[cfg(test)]
mod spacing_tests {
    use super::*;

    /// The keys of `chunks` read as one sequence, as the plugin reads a
    /// chunked column (both ways agree).
    fn chunked(chunks: &[&[i64]], short_below: i64) -> Spacing {
        let one = spacing(chunks.iter().flat_map(|c| c.iter().copied()), short_below);
        assert_eq!(spacing_of_chunks(chunks, short_below), one);
        let narrow = crate::dispatch::baseline(|| spacing_of_chunks(chunks, short_below));
        assert_eq!(narrow, one);
        one
    }

    #[test]
    fn order_across_chunk_boundaries() {
        assert!(chunked(&[&[1, 2], &[3]], 0).strictly_increasing());
        assert!(!chunked(&[&[1, 2], &[2, 3]], 0).strictly_increasing());
        assert!(!chunked(&[&[1, 3], &[2]], 0).strictly_increasing());
        assert!(!chunked(&[&[2, 1]], 0).strictly_increasing());
        assert!(chunked(&[&[], &[5], &[]], 0).strictly_increasing());
        assert!(chunked(&[], 0).strictly_increasing());
    }

    #[test]
    fn counts_short_gaps_and_the_smallest() {
        let s = chunked(&[&[0, 60], &[90, 150, 210]], 54);
        assert_eq!((s.count, s.short, s.min_gap), (5, 1, 30));
        let s = chunked(&[&[i64::MIN], &[i64::MAX, i64::MIN]], 0);
        assert_eq!((s.count, s.min_gap), (3, i64::MIN));
        let s = spacing([i64::MIN, i64::MAX], 0);
        assert_eq!((s.count, s.min_gap), (2, i64::MAX));
        assert_eq!(spacing([7], 10).min_gap, i64::MAX);
    }
}
