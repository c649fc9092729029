//! Market-hours mask (SPEC §4.2): the week opens Monday 07:00 and closes
//! Saturday 07:00 in Australia/Sydney local time, judged on the bar's open time.
//!
//! The kernel knows nothing about time zones: the caller passes the zone's UTC
//! offset history as a transition table (built from the IANA database on the
//! Python side), so the rule follows whatever tzdata the user has.
//!
//! The instants are a file's timestamps: no index here can panic (clippy's
//! `indexing_slicing` is denied).

#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

/// Microseconds per second, hour, day and week.
const US_PER_HOUR: i64 = 3_600_000_000;
const US_PER_DAY: i64 = 24 * US_PER_HOUR;
const US_PER_WEEK: i64 = 7 * US_PER_DAY;
/// 1970-01-05 00:00 (a Monday) as epoch microseconds: the origin of week positions.
const MONDAY_ORIGIN_US: i64 = 4 * US_PER_DAY;
/// The session opens at local Monday 07:00 ...
const OPEN_US: i64 = 7 * US_PER_HOUR;
/// ... and closes at local Saturday 07:00 (exclusive).
const CLOSE_US: i64 = 5 * US_PER_DAY + 7 * US_PER_HOUR;

/// A zone's UTC offset as a step function of UTC time.
///
/// `offsets_us[0]` applies before `transitions_us[0]`, and `offsets_us[k + 1]`
/// from `transitions_us[k]` on. `transitions_us` must be strictly increasing.
#[derive(Debug, Clone, Copy)]
pub struct OffsetTable<'a> {
    pub transitions_us: &'a [i64],
    pub offsets_us: &'a [i64],
}

impl OffsetTable<'_> {
    /// Checks the table's shape; returns a message on failure.
    pub fn validate(&self) -> Result<(), String> {
        if self.offsets_us.len() != self.transitions_us.len() + 1 {
            return Err(format!(
                "offset table needs one more offset than transitions, got {} offsets and {} transitions",
                self.offsets_us.len(),
                self.transitions_us.len()
            ));
        }
        if self
            .transitions_us
            .windows(2)
            .any(|w| matches!(*w, [a, b] if a >= b))
        {
            return Err("offset table transitions must be strictly increasing".to_string());
        }
        Ok(())
    }

    /// Index of the offset in force at `t` (binary search).
    #[inline]
    fn segment(&self, t: i64) -> usize {
        self.transitions_us.partition_point(|&x| x <= t)
    }
}

/// Whether the market is open at the UTC instant `t_us`, given the local offset.
#[inline]
pub fn is_open_local(t_us: i64, offset_us: i64) -> bool {
    // Reduce each term modulo a week first, so no instant can overflow.
    let shift = (offset_us.rem_euclid(US_PER_WEEK) + US_PER_WEEK - MONDAY_ORIGIN_US) % US_PER_WEEK;
    let pos = (t_us.rem_euclid(US_PER_WEEK) + shift) % US_PER_WEEK;
    (OPEN_US..CLOSE_US).contains(&pos)
}

/// Writes the market-hours mask of the UTC instants `ts_us` into `out`.
///
/// Sorted input costs one comparison per row (the current offset segment is
/// remembered); unsorted input falls back to a binary search per jump.
pub fn market_hours_mask(ts_us: &[i64], table: OffsetTable<'_>, out: &mut [bool]) {
    debug_assert_eq!(ts_us.len(), out.len());
    let tr = table.transitions_us;
    let mut seg = 0usize;
    let (mut lo, mut hi) = bounds(tr, seg);
    // A validated table has an offset for every segment; an invalid one reads as UTC.
    let offset_of = |seg: usize| table.offsets_us.get(seg).copied().unwrap_or(0);
    let mut offset = offset_of(seg);
    for (t, o) in ts_us.iter().zip(out.iter_mut()) {
        let t = *t;
        if t < lo || t >= hi {
            seg = table.segment(t);
            (lo, hi) = bounds(tr, seg);
            offset = offset_of(seg);
        }
        *o = is_open_local(t, offset);
    }
}

/// The half-open UTC interval `[lo, hi)` in which segment `seg` applies.
#[inline]
fn bounds(tr: &[i64], seg: usize) -> (i64, i64) {
    let lo = seg
        .checked_sub(1)
        .and_then(|k| tr.get(k))
        .copied()
        .unwrap_or(i64::MIN);
    let hi = tr.get(seg).copied().unwrap_or(i64::MAX);
    (lo, hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = US_PER_HOUR;
    const D: i64 = US_PER_DAY;

    /// 2025-04-06 00:00 UTC (a Sunday) in epoch microseconds.
    const SUN_2025_04_06: i64 = 1_743_897_600_000_000;

    #[test]
    fn weekly_boundaries_in_aedt() {
        let off = 11 * H; // AEDT
        let sunday = SUN_2025_04_06 - 7 * D; // 2025-03-30, AEDT all week
                                             // Opens Sunday 20:00 UTC (= Monday 07:00 AEDT).
        assert!(!is_open_local(sunday + 20 * H - 1, off));
        assert!(is_open_local(sunday + 20 * H, off));
        // Closes Friday 20:00 UTC (= Saturday 07:00 AEDT).
        let friday = sunday + 5 * D;
        assert!(is_open_local(friday + 20 * H - 1, off));
        assert!(!is_open_local(friday + 20 * H, off));
        // Midweek is open, Saturday UTC is closed.
        assert!(is_open_local(sunday + 3 * D, off));
        assert!(!is_open_local(sunday + 6 * D + 12 * H, off));
    }

    #[test]
    fn weekly_boundaries_in_aest() {
        let off = 10 * H;
        let sunday = SUN_2025_04_06 + 7 * D;
        assert!(!is_open_local(sunday + 21 * H - 1, off));
        assert!(is_open_local(sunday + 21 * H, off));
        let friday = sunday + 5 * D;
        assert!(is_open_local(friday + 21 * H - 1, off));
        assert!(!is_open_local(friday + 21 * H, off));
    }

    #[test]
    fn table_lookup_sorted_and_unsorted() {
        // One transition: AEDT until 2025-04-05 16:00 UTC, AEST after.
        let tr = [SUN_2025_04_06 - 8 * H];
        let offs = [11 * H, 10 * H];
        let table = OffsetTable {
            transitions_us: &tr,
            offsets_us: &offs,
        };
        table.validate().unwrap();
        let before = SUN_2025_04_06 - 7 * D + 20 * H; // Sunday 20:00 UTC in AEDT: open
        let after = SUN_2025_04_06 + 7 * D + 20 * H; // Sunday 20:00 UTC in AEST: closed
        let ts = [before, after, before, after, i64::MIN + 1, i64::MAX - 1];
        let mut out = vec![false; ts.len()];
        market_hours_mask(&ts, table, &mut out);
        assert_eq!(&out[..4], &[true, false, true, false]);
    }

    #[test]
    fn bad_tables_are_rejected() {
        let bad = OffsetTable {
            transitions_us: &[1, 1],
            offsets_us: &[0, 0, 0],
        };
        assert!(bad.validate().is_err());
        let bad = OffsetTable {
            transitions_us: &[1],
            offsets_us: &[0],
        };
        assert!(bad.validate().is_err());
    }

    #[test]
    fn empty_input() {
        let table = OffsetTable {
            transitions_us: &[],
            offsets_us: &[0],
        };
        let mut out: Vec<bool> = vec![];
        market_hours_mask(&[], table, &mut out);
        assert!(out.is_empty());
    }
}
