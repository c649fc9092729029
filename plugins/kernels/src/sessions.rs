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
    (OPEN_US..CLOSE_US).contains(&week_position(t_us, offset_us))
}

/// Where the UTC instant `t_us` falls in its local week (offset `offset_us`),
/// in microseconds since local Monday 00:00.
#[inline]
fn week_position(t_us: i64, offset_us: i64) -> i64 {
    // Reduce each term modulo a week first, so no instant can overflow.
    let shift = (offset_us.rem_euclid(US_PER_WEEK) + US_PER_WEEK - MONDAY_ORIGIN_US) % US_PER_WEEK;
    (t_us.rem_euclid(US_PER_WEEK) + shift) % US_PER_WEEK
}

/// Writes the market-hours mask of the UTC instants `ts_us` into `out` as
/// bits, least significant first (Arrow's layout): row `i` is bit `i % 8` of
/// byte `i / 8`; `out` holds `ts_us.len().div_ceil(8)` bytes (bits past the
/// last row are left clear).
///
/// The answer is constant between two instants where the session opens or
/// closes, or the zone's offset changes: the kernel keeps that stretch, and
/// eight rows inside it cost two vector comparisons and one byte (sorted
/// candles leave it about twice a week). A row outside it finds its own
/// stretch (a binary search in the offset table, then its position in the
/// local week and the distances to the week's boundaries), so unsorted input is
/// correct too, only slower.
pub fn market_hours_mask(ts_us: &[i64], table: OffsetTable<'_>, out: &mut [u8]) {
    debug_assert_eq!(out.len(), ts_us.len().div_ceil(8));
    // The stretch [lo, hi) around the last row looked up, and its answer.
    let (mut lo, mut hi, mut open) = (0i64, 0i64, false);
    for (eight, byte) in ts_us.chunks(8).zip(out.iter_mut()) {
        if eight.len() == 8
            && eight
                .iter()
                .fold(true, |inside, &t| inside & (t >= lo) & (t < hi))
        {
            *byte = if open { 0xff } else { 0 };
            continue;
        }
        let mut bits = 0u8;
        for (i, &t) in eight.iter().enumerate() {
            if t < lo || t >= hi {
                (lo, hi, open) = stretch(t, table);
            }
            bits |= u8::from(open) << i;
        }
        *byte = bits;
    }
}

/// The half-open UTC stretch around `t` over which the mask does not change
/// (within one offset segment and one open or closed spell), and the mask.
fn stretch(t: i64, table: OffsetTable<'_>) -> (i64, i64, bool) {
    let seg = table.segment(t);
    let (seg_lo, seg_hi) = bounds(table.transitions_us, seg);
    // A validated table has an offset for every segment; an invalid one reads as UTC.
    let offset = table.offsets_us.get(seg).copied().unwrap_or(0);
    let pos = week_position(t, offset);
    let open = (OPEN_US..CLOSE_US).contains(&pos);
    // Where the current spell started and ends, as offsets from the week's
    // start (in i128: near the ends of i64 they leave its range).
    let (from, to) = if open {
        (OPEN_US, CLOSE_US)
    } else if pos < OPEN_US {
        (CLOSE_US - US_PER_WEEK, OPEN_US)
    } else {
        (CLOSE_US, US_PER_WEEK + OPEN_US)
    };
    let week_start = i128::from(t) - i128::from(pos);
    let clamp = |v: i128| i64::try_from(v).unwrap_or(if v < 0 { i64::MIN } else { i64::MAX });
    let lo = clamp(week_start + i128::from(from)).max(seg_lo);
    let hi = clamp(week_start + i128::from(to)).min(seg_hi);
    (lo, hi, open)
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

    /// The mask as one `bool` per row.
    fn mask(ts: &[i64], table: OffsetTable<'_>) -> Vec<bool> {
        let mut out = vec![0xa5u8; ts.len().div_ceil(8)];
        market_hours_mask(ts, table, &mut out);
        let rest = ts.len() % 8;
        if rest > 0 {
            assert_eq!(
                out.last().map(|b| b >> rest),
                Some(0),
                "bits past the last row are clear"
            );
        }
        (0..ts.len())
            .map(|i| out[i / 8] >> (i % 8) & 1 == 1)
            .collect()
    }

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
        assert_eq!(&mask(&ts, table)[..4], &[true, false, true, false]);
    }

    #[test]
    fn stretches_agree_with_the_rule_row_by_row() {
        // Sydney-like transitions every ~half year, instants around them and
        // around the weekly boundaries, sorted and shuffled, and the extremes.
        let base = SUN_2025_04_06 - 400 * D;
        let tr: Vec<i64> = (0..5).map(|k| base + k * 182 * D + 16 * H).collect();
        let offs: Vec<i64> = (0..6)
            .map(|k| if k % 2 == 0 { 11 * H } else { 10 * H })
            .collect();
        let table = OffsetTable {
            transitions_us: &tr,
            offsets_us: &offs,
        };
        table.validate().unwrap();
        let mut ts: Vec<i64> = (0..200_000)
            .map(|k| base - 3 * D + k * 17 * 60_000_000 + k % 7)
            .collect();
        for &b in &tr {
            ts.extend((-3..=3).map(|d| b + d));
        }
        ts.extend([i64::MIN, i64::MIN + 1, i64::MAX - 1, i64::MAX, -1, 0, 1]);
        let want = |ts: &[i64]| -> Vec<bool> {
            ts.iter()
                .map(|&t| is_open_local(t, offs[table.segment(t)]))
                .collect()
        };
        let mut sorted = ts.clone();
        sorted.sort_unstable();
        let mut s = 0x9e37_79b9_7f4a_7c15u64;
        let mut shuffled = ts.clone();
        for i in (1..shuffled.len()).rev() {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            shuffled.swap(i, (s % (i as u64 + 1)) as usize);
        }
        for ts in [ts, sorted, shuffled] {
            for n in [ts.len(), 1, 7, 8, 9, 1000] {
                assert_eq!(mask(&ts[..n], table), want(&ts[..n]));
            }
        }
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
        assert!(mask(&[], table).is_empty());
    }
}
