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

/// How the keys of a sequence of chunks are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// Every key is greater than the one before.
    StrictlyIncreasing,
    /// Non-decreasing, with at least one repeated key.
    NonDecreasing,
    /// Some key is smaller than the one before.
    Unsorted,
}

/// Classifies the order of the keys in `chunks`, read as one sequence.
pub fn key_order<'a>(chunks: impl IntoIterator<Item = &'a [i64]>) -> Order {
    let mut prev: Option<i64> = None;
    let mut repeated = false;
    for chunk in chunks {
        let Some(&first) = chunk.first() else {
            continue;
        };
        if let Some(p) = prev {
            if first < p {
                return Order::Unsorted;
            }
            repeated |= first == p;
        }
        for w in chunk.windows(2) {
            if let [a, b] = *w {
                if b < a {
                    return Order::Unsorted;
                }
                repeated |= b == a;
            }
        }
        prev = chunk.last().copied();
    }
    if repeated {
        Order::NonDecreasing
    } else {
        Order::StrictlyIncreasing
    }
}

#[cfg(test)]
mod order_tests {
    use super::*;

    #[test]
    fn classifies_across_chunk_boundaries() {
        assert_eq!(
            key_order([&[1, 2][..], &[3][..]]),
            Order::StrictlyIncreasing
        );
        assert_eq!(key_order([&[1, 2][..], &[2, 3][..]]), Order::NonDecreasing);
        assert_eq!(key_order([&[1, 3][..], &[2][..]]), Order::Unsorted);
        assert_eq!(key_order([&[2, 1][..]]), Order::Unsorted);
        assert_eq!(
            key_order([&[][..], &[5][..], &[][..]]),
            Order::StrictlyIncreasing
        );
        assert_eq!(
            key_order(std::iter::empty::<&[i64]>()),
            Order::StrictlyIncreasing
        );
    }
}
