//! Timestamp text to UTC epoch microseconds, for the candle layouts vendors write.
//!
//! Accepted (leading/trailing blanks ignored):
//! * year first: `YYYY-MM-DD`, `YYYY.MM.DD` or `YYYY/MM/DD`, optionally followed
//!   by `T` or a blank and `HH:MM[:SS[.fraction]]`;
//! * day first with dots (Dukascopy "Gmt time"): `DD.MM.YYYY HH:MM[:SS[.fraction]]`;
//! * compact (HistData): `YYYYMMDD HHMMSS` or `YYYYMMDD HH:MM[:SS]`;
//! * an optional zone suffix: `Z`, `UTC`, `GMT` or a numeric offset `±HH:MM`,
//!   `±HHMM`, `±HH` (the result is converted to UTC). Naive values are UTC.
//!
//! The fraction may have 1 to 9 digits; digits beyond microseconds are truncated.
//!
//! Every input gives `Some` or `None`, never a panic: the parser reads through
//! `get`, never an index (clippy's `indexing_slicing` is denied here), and is
//! fuzzed (`plugins/fuzz`, target `timestamps`).

#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

const US_PER_SEC: i64 = 1_000_000;

/// Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(y) => 29,
        _ => 28,
    }
}

/// A byte cursor with small parsing helpers.
struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }
    fn done(&self) -> bool {
        self.i >= self.b.len()
    }
    /// Exactly `n` ASCII digits as a number.
    fn digits(&mut self, n: usize) -> Option<i64> {
        let s = self.b.get(self.i..self.i + n)?;
        let mut v = 0i64;
        for &c in s {
            if !c.is_ascii_digit() {
                return None;
            }
            v = v * 10 + i64::from(c - b'0');
        }
        self.i += n;
        Some(v)
    }
    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn eat_str(&mut self, s: &[u8]) -> bool {
        if self
            .b
            .get(self.i..)
            .is_some_and(|rest| rest.eq_ignore_ascii_case(s))
        {
            self.i += s.len();
            true
        } else {
            false
        }
    }
    fn skip_blanks(&mut self) {
        while matches!(self.peek(), Some(b' ') | Some(b'\t')) {
            self.i += 1;
        }
    }
}

/// Parses `HH:MM[:SS[.fff]]` (or `HHMMSS` when `compact`) into microseconds of the day.
fn parse_clock(c: &mut Cursor<'_>, compact: bool) -> Option<i64> {
    let h = c.digits(2)?;
    let (mi, s) = if compact && c.peek().is_some_and(|x| x.is_ascii_digit()) {
        (c.digits(2)?, c.digits(2)?)
    } else {
        if !c.eat(b':') {
            return None;
        }
        let mi = c.digits(2)?;
        let s = if c.eat(b':') { c.digits(2)? } else { 0 };
        (mi, s)
    };
    if h > 23 || mi > 59 || s > 59 {
        return None;
    }
    let mut us = 0i64;
    if c.eat(b'.') || c.eat(b',') {
        let mut n = 0;
        let mut scale = 100_000i64;
        while let Some(d) = c.peek().filter(u8::is_ascii_digit) {
            if n >= 9 {
                return None;
            }
            us += i64::from(d - b'0') * scale;
            scale /= 10;
            n += 1;
            c.i += 1;
        }
        if n == 0 {
            return None;
        }
    }
    Some(((h * 60 + mi) * 60 + s) * US_PER_SEC + us)
}

/// Parses an optional zone suffix: the offset east of UTC in microseconds,
/// and whether there was a suffix at all.
fn parse_zone(c: &mut Cursor<'_>) -> Option<(i64, bool)> {
    c.skip_blanks();
    if c.done() {
        return Some((0, false));
    }
    if c.eat(b'Z') || c.eat(b'z') || c.eat_str(b"UTC") || c.eat_str(b"GMT") {
        return if c.done() { Some((0, true)) } else { None };
    }
    let sign = match c.peek()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    c.i += 1;
    let h = c.digits(2)?;
    let m = if c.done() {
        0
    } else {
        c.eat(b':');
        c.digits(2)?
    };
    if h > 23 || m > 59 || !c.done() {
        return None;
    }
    Some((sign * (h * 3600 + m * 60) * US_PER_SEC, true))
}

/// Parses one timestamp to UTC epoch microseconds; `None` if it is not one of
/// the accepted layouts or not a valid date and time.
pub fn parse_timestamp(text: &[u8]) -> Option<i64> {
    parse_timestamp_zoned(text).map(|(t, _)| t)
}

/// [`parse_timestamp`], and whether the text carried a zone (`Z`, `UTC`,
/// `GMT` or a numeric offset) rather than being naive.
///
/// Readers use the flag to refuse a column that mixes the two: naive values
/// are read as UTC, which is wrong when their neighbours say otherwise.
pub fn parse_timestamp_zoned(text: &[u8]) -> Option<(i64, bool)> {
    let text = text.trim_ascii();
    let mut c = Cursor { b: text, i: 0 };
    let leading_digits = text
        .get(..8)
        .is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    let (y, m, d, compact) = if leading_digits {
        let y = c.digits(4)?;
        let m = c.digits(2)?;
        let d = c.digits(2)?;
        (y, m, d, true)
    } else if let Some(&sep) = text.get(4).filter(|s| matches!(s, b'-' | b'.' | b'/')) {
        let y = c.digits(4)?;
        c.i += 1;
        let m = c.digits(2)?;
        if !c.eat(sep) {
            return None;
        }
        let d = c.digits(2)?;
        (y, m, d, false)
    } else if text.get(2) == Some(&b'.') {
        let d = c.digits(2)?;
        c.i += 1;
        let m = c.digits(2)?;
        if !c.eat(b'.') {
            return None;
        }
        let y = c.digits(4)?;
        (y, m, d, false)
    } else {
        return None;
    };
    if !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) {
        return None;
    }
    let mut us_of_day = 0;
    if !c.done() && (c.eat(b'T') || c.eat(b't') || c.peek() == Some(b' ')) {
        c.skip_blanks();
        if c.peek().is_some_and(|x| x.is_ascii_digit()) {
            us_of_day = parse_clock(&mut c, compact)?;
        }
    }
    let (offset, zoned) = parse_zone(&mut c)?;
    // |days| < 3.7e6 (four-digit years), so the product stays far below i64::MAX.
    Some((
        days_from_civil(y, m, d) * 86_400 * US_PER_SEC + us_of_day - offset,
        zoned,
    ))
}

/// Whether every instant of `ts_us` is a whole multiple of `bar_us` (> 0),
/// i.e. already on the epoch-anchored grid of that bar length.
///
/// One vectorised pass without an integer division: `k`, the nearest whole
/// number to `t / bar` in floating point, is exact for any `t` on the grid
/// (|t| < 2^53, every timestamp before the year 2255), and `k · bar == t`
/// is then checked in integers; an instant off the grid can never pass.
/// Instants of 2^62 and beyond answer `false` (the caller then floors row
/// by row, which is right for them too).
///
/// Compiled a second time for AVX-512 (a test forces the baseline copy),
/// whose conversions between `f64` and `i64` and 64-bit products work on
/// eight values at once.
pub fn on_grid(ts_us: &[i64], bar_us: i64) -> bool {
    bar_us > 0 && on_grid_dispatched(ts_us, bar_us)
}

dispatch! { ["avx512dq"]
fn on_grid_dispatched(ts_us: &[i64], bar_us: i64) -> bool {
    const LIMIT: i64 = 1 << 62;
    let inverse = 1.0 / bar_us as f64;
    ts_us.iter().fold(true, |ok, &t| {
        // The nearest whole number to x, rounding halves away from zero,
        // without a call into libm's `round` (baseline x86-64 has no
        // rounding instruction); only exact when x is near a whole number,
        // which is all the check needs.
        let x = t as f64 * inverse;
        let k = (x + 0.5f64.copysign(x)) as i64;
        // |t| < 2^62 bounds |k·bar| below 2^63: the product cannot wrap.
        ok & (t > -LIMIT) & (t < LIMIT) & (k.wrapping_mul(bar_us) == t)
    })
}
}

/// `ts_us` floored to whole multiples of `bar_us` (> 0) towards the past,
/// appended to `out` after clearing it (what Polars' `dt.truncate` gives for
/// a fixed duration on UTC instants). `Err` with the first instant whose
/// floor lies before the `i64` range.
pub fn floor_to_grid(ts_us: &[i64], bar_us: i64, out: &mut Vec<i64>) -> Result<(), i64> {
    out.clear();
    out.reserve(ts_us.len());
    let bar = bar_us.max(1);
    for &t in ts_us {
        out.push(t.checked_sub(t.rem_euclid(bar)).ok_or(t)?);
    }
    Ok(())
}

#[cfg(test)]
mod tests {

    #[test]
    fn grid_check_and_floor() {
        const MIN: i64 = 60_000_000;
        let on = [
            0,
            MIN,
            -MIN,
            1_699_999_980 * 1_000_000,
            1_699_999_980 * 1_000_000 - 5 * MIN,
        ];
        assert!(super::on_grid(&on, MIN));
        assert!(super::on_grid(&[], MIN));
        for off in [
            1,
            -1,
            MIN - 1,
            1_700_000_000 * 1_000_000 + 1,
            1 << 62,
            i64::MIN,
            i64::MAX,
        ] {
            assert!(!super::on_grid(&[0, off], MIN), "{off}");
        }
        assert!(!super::on_grid(&on, 0));
        assert!(crate::dispatch::baseline(|| super::on_grid(&on, MIN)));
        assert!(!crate::dispatch::baseline(|| super::on_grid(
            &[0, MIN + 1],
            MIN
        )));
        let mut out = vec![7];
        super::floor_to_grid(&[0, 1, MIN - 1, MIN, -1, -MIN - 1, i64::MAX], MIN, &mut out).unwrap();
        assert_eq!(&out[..6], &[0, 0, 0, MIN, -MIN, -2 * MIN]);
        assert_eq!(out[6], i64::MAX - i64::MAX % MIN);
        assert_eq!(
            super::floor_to_grid(&[0, i64::MIN], MIN, &mut out),
            Err(i64::MIN)
        );
        // Every instant a whole number of bars after an on-grid one is on the grid.
        let many: Vec<i64> = (0..10_000)
            .map(|k| 1_599_999_960 * 1_000_000 + k * 7 * MIN)
            .collect();
        assert!(super::on_grid(&many, MIN) && !super::on_grid(&many, 7 * MIN + 1));
    }
    use super::*;

    const JAN1_2025: i64 = 1_735_689_600 * US_PER_SEC;

    fn p(s: &str) -> Option<i64> {
        parse_timestamp(s.as_bytes())
    }

    #[test]
    fn civil_days() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2025, 1, 1), 20089);
        assert_eq!(days_from_civil(1969, 12, 31), -1);
        assert_eq!(days_from_civil(2000, 3, 1), 11017);
    }

    #[test]
    fn native_layout() {
        assert_eq!(p("2025-01-01 00:00:00+00:00"), Some(JAN1_2025));
        assert_eq!(p("2025-01-01 01:00:00+01:00"), Some(JAN1_2025));
        assert_eq!(p("2024-12-31 19:00:00-05:00"), Some(JAN1_2025));
        assert_eq!(p("2025-01-01T00:00:00Z"), Some(JAN1_2025));
        assert_eq!(p("  2025-01-01 00:00  "), Some(JAN1_2025));
        assert_eq!(p("2025-01-01"), Some(JAN1_2025));
        assert_eq!(p("2025-01-01 00:00:00 UTC"), Some(JAN1_2025));
        assert_eq!(p("2025-01-01 00:00:00+0000"), Some(JAN1_2025));
    }

    #[test]
    fn vendor_layouts() {
        assert_eq!(p("01.01.2025 00:00:00.000"), Some(JAN1_2025));
        assert_eq!(p("01.01.2025 00:00:01.250"), Some(JAN1_2025 + 1_250_000));
        assert_eq!(p("2025.01.01 00:05"), Some(JAN1_2025 + 300 * US_PER_SEC));
        assert_eq!(p("20250101 000001"), Some(JAN1_2025 + US_PER_SEC));
        assert_eq!(p("20250101 00:00:01"), Some(JAN1_2025 + US_PER_SEC));
        assert_eq!(
            p("2025-01-01 00:00:00.123456789"),
            Some(JAN1_2025 + 123_456)
        );
    }

    #[test]
    fn zone_flag() {
        let z = |s: &str| parse_timestamp_zoned(s.as_bytes()).map(|(_, zoned)| zoned);
        assert_eq!(z("2025-01-01 00:00:00"), Some(false));
        assert_eq!(z("01.01.2025 00:00:00.000"), Some(false));
        assert_eq!(z("2025-01-01 00:00:00+01:00"), Some(true));
        assert_eq!(z("2025-01-01T00:00:00Z"), Some(true));
        assert_eq!(z("2025-01-01 00:00 UTC"), Some(true));
        assert_eq!(z("2025-01-01 00:00:00+0000"), Some(true));
    }

    #[test]
    fn extreme_years() {
        assert_eq!(p("1969-12-31 23:59:59"), Some(-US_PER_SEC));
        assert_eq!(
            p("0001-01-01"),
            Some(days_from_civil(1, 1, 1) * 86_400 * US_PER_SEC)
        );
        // Past 2262, where nanosecond timestamps end; microseconds go on.
        let late = p("9999-12-31 23:59:59.999999").unwrap();
        assert_eq!(
            late,
            (days_from_civil(9999, 12, 31) * 86_400 + 86_399) * US_PER_SEC + 999_999
        );
        assert!(late > i64::MAX / 1000);
    }

    #[test]
    fn rejects_garbage_and_invalid_dates() {
        for s in [
            "",
            "abc",
            "2025-13-01",
            "2025-02-29",
            "2025-01-01 24:00",
            "2025-01-01 10:61",
            "2025-01-01 00:00:00+25:00",
            "2025-01-01 00:00:00 EST",
            "01/02/2025 00:00",
            "2025-01-01 00:00:00.",
            "2025-01-01 00:00:00.1234567890",
            "2025-01-0",
        ] {
            assert_eq!(p(s), None, "{s:?} should be rejected");
        }
        assert_eq!(
            p("2024-02-29"),
            Some(days_from_civil(2024, 2, 29) * 86_400 * US_PER_SEC)
        );
    }
}
