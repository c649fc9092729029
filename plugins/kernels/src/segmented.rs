//! `ROLL_MEAN` for `sma`, computed in independent segments of rows so that
//! several advance at once.
//!
//! pandas' rolling mean ([`crate::rolling::roll_mean`], Appendix A.1) is one
//! Kahan-compensated running total over the whole series: each row waits for
//! the previous row's total and compensations, a chain of dependent
//! additions that no hardware overlaps (~16 cycles a row here, four times
//! TA-Lib's plain running sum). SPEC P2 lets the mean use any accurate
//! summation, so here the rows are cut into segments whose length depends on
//! the window only (never on the series' length: a prefix of a series gets
//! the same values as the whole). Each segment restarts the same compensated
//! running total from the `w` values before its first row, and eight
//! segments advance in lockstep, one per vector lane. The totals are as
//! accurate as pandas' (compensated, restarted more often), so results
//! agree with it to a few ulp; A.1's identical-window and sign rules are kept
//! exactly (an all-identical window returns its value).

use crate::missing::Missing;
use crate::rolling::{quotients, Recip};

/// Segments advanced together (one per lane of a 512-bit register).
const LANES: usize = 8;

dispatch! { ["avx512f", "fma"] const WIDE;
/// `ROLL_MEAN(x, w)` (SPEC P2, `NaN` where missing), appended to `out`
/// after clearing it: results agree with pandas' `rolling(w).mean()` to a
/// few ulp (see the module documentation).
pub fn roll_mean(x: &[f64], w: usize, out: &mut Vec<f64>) -> Missing {
    let n = x.len();
    out.clear();
    if w == 0 || w > n {
        out.resize(n, f64::NAN);
        return Missing::all(n);
    }
    out.reserve(n);
    let seg = segment_len(w);
    // Segment 0 starts from an empty window; the later ones from the full
    // window before their first row (seg > w, so it fits).
    let mut nans = segment::<WIDE>(x, w, 0, seg.min(n), out);
    let mut start = seg.min(n);
    let mut scratch = Scratch::default();
    while start + LANES * seg <= n {
        nans += lanes::<WIDE>(x, w, seg, start, &mut scratch, out);
        start += LANES * seg;
    }
    while start < n {
        let end = (start + seg).min(n);
        nans += segment::<WIDE>(x, w, start, end, out);
        start = end;
    }
    let prefix = out.iter().take_while(|v| v.is_nan()).count();
    Missing {
        prefix,
        interior: nans > prefix,
    }
}
}

/// Rows per segment for a window of `w ≤ n` rows: long enough that
/// restarting the total (`w` additions) costs little next to the segment.
fn segment_len(w: usize) -> usize {
    w.saturating_mul(16).max(2048)
}

/// The A.1 accumulator of `L` segments at once (structure of arrays, so the
/// lane loops vectorise). Counts are kept as `f64` (exact far beyond any
/// window) to stay in the same registers as the totals.
#[derive(Clone, Copy)]
struct Acc<const L: usize> {
    total: [f64; L],
    comp_add: [f64; L],
    comp_rem: [f64; L],
    /// Present values in the window.
    k: [f64; L],
    /// Present values in the window whose sign bit is set.
    negatives: [f64; L],
    /// Length of the run of identical values ending at the last row.
    run: [f64; L],
    last: [f64; L],
}

impl<const L: usize> Acc<L> {
    fn new() -> Self {
        Acc {
            total: [0.0; L],
            comp_add: [0.0; L],
            comp_rem: [0.0; L],
            k: [0.0; L],
            negatives: [0.0; L],
            run: [0.0; L],
            last: [f64::NAN; L],
        }
    }

    /// Adds the next row's value of each lane (a missing one is skipped,
    /// but ends the run of identical values).
    ///
    /// The two flags leave out bookkeeping a caller knows to be idle, with
    /// the same results: `CLEAN`, every value is present (no selects, no
    /// count of present values); `!SIGNED`, no value has its sign bit set
    /// (no count of negative values).
    #[inline(always)]
    fn add<const CLEAN: bool, const SIGNED: bool>(&mut self, v: [f64; L]) {
        for l in 0..L {
            let (v, present) = (v[l], CLEAN || v[l].is_finite());
            let y = v - self.comp_add[l];
            let s = self.total[l] + y;
            let c = (s - self.total[l]) - y;
            self.total[l] = if present { s } else { self.total[l] };
            self.comp_add[l] = if present { c } else { self.comp_add[l] };
            if !CLEAN {
                self.k[l] += if present { 1.0 } else { 0.0 };
            }
            if SIGNED {
                self.negatives[l] += if present & v.is_sign_negative() {
                    1.0
                } else {
                    0.0
                };
            }
            self.run[l] = if v == self.last[l] {
                self.run[l] + 1.0
            } else {
                1.0
            };
            self.last[l] = v;
        }
    }

    /// Removes the value leaving each lane's window (a missing one was never
    /// added). Flags as for [`Acc::add`].
    #[inline(always)]
    fn remove<const CLEAN: bool, const SIGNED: bool>(&mut self, v: [f64; L]) {
        for l in 0..L {
            let (v, present) = (v[l], CLEAN || v[l].is_finite());
            // A.1's `y = −v − c⁻` is `−(v + c⁻)` to the bit (rounding is
            // symmetric), so the sum subtracts `v + c⁻` and no negation runs.
            let y = v + self.comp_rem[l];
            let s = self.total[l] - y;
            let c = (s - self.total[l]) + y;
            self.total[l] = if present { s } else { self.total[l] };
            self.comp_rem[l] = if present { c } else { self.comp_rem[l] };
            if !CLEAN {
                self.k[l] -= if present { 1.0 } else { 0.0 };
            }
            if SIGNED {
                self.negatives[l] -= if present & v.is_sign_negative() {
                    1.0
                } else {
                    0.0
                };
            }
        }
    }

    /// Each lane's mean over a window of `w` rows (A.1's rules), `NaN` unless
    /// all `w` values are present. With `FMA` (code compiled with the `fma`
    /// feature), the totals are divided by `w` through its reciprocal `r`,
    /// which gives the same quotients (see `rolling::div_count`) at a
    /// fraction of a vector division's cost. Flags as for [`Acc::add`] (with
    /// `CLEAN`, the caller also knows the windows are full).
    #[inline(always)]
    fn mean<const CLEAN: bool, const SIGNED: bool, const FMA: bool>(
        &self,
        w: f64,
        r: Recip,
    ) -> [f64; L] {
        let q = quotients::<FMA, L>(self.total, w, r);
        let mut out = [0.0; L];
        for l in 0..L {
            // Selects, not an if-else chain, so that the lanes vectorise.
            let sign_residue = if SIGNED {
                let neg = self.negatives[l];
                (neg == 0.0) & (q[l] < 0.0) | (neg == w) & (q[l] > 0.0)
            } else {
                // No negative value: A.1's first case, and never its second.
                q[l] < 0.0
            };
            let m = if sign_residue { 0.0 } else { q[l] };
            let m = if self.run[l] >= w { self.last[l] } else { m };
            out[l] = if !CLEAN && self.k[l] < w { f64::NAN } else { m };
        }
        out
    }
}

/// Rows `start..end` (one segment, `end − start ≤ seg`) one at a time,
/// appended to `out`; returns how many are `NaN`. The same operations as a
/// lane of [`lanes`], so a segment gets the same bits either way.
fn segment<const FMA: bool>(
    x: &[f64],
    w: usize,
    start: usize,
    end: usize,
    out: &mut Vec<f64>,
) -> usize {
    let mut acc = Acc::<1>::new();
    let r = Recip::if_fma::<FMA>(w as f64);
    for &v in &x[start.saturating_sub(w)..start] {
        acc.add::<false, true>([v]);
    }
    let mut nans = 0;
    for t in start..end {
        if t >= w {
            acc.remove::<false, true>([x[t - w]]);
        }
        acc.add::<false, true>([x[t]]);
        let [m] = acc.mean::<false, true, FMA>(w as f64, r);
        nans += usize::from(m.is_nan());
        out.push(m);
    }
    nans
}

/// Scratch space of [`lanes`], reused from group to group.
#[derive(Default)]
struct Scratch {
    /// The group's input (with the `w` rows before each segment),
    /// lane-interleaved: row `j` of lane `l` at `j·LANES + l`.
    input: Vec<f64>,
    /// The results, lane-interleaved the same way.
    results: Vec<f64>,
    /// The results in row order.
    rows: Vec<f64>,
}

/// The `LANES` segments of `seg` rows from `start` (`start ≥ w`), one per
/// lane, appended to `out` in row order; returns how many are `NaN`.
///
/// The lanes read and write lane-interleaved copies, so that each step is
/// one contiguous vector load per input and one store; the input is read
/// from the series once (while interleaving it), the results written to
/// `out` once.
#[inline(always)]
fn lanes<const FMA: bool>(
    x: &[f64],
    w: usize,
    seg: usize,
    start: usize,
    scratch: &mut Scratch,
    out: &mut Vec<f64>,
) -> usize {
    debug_assert!(start >= w);
    let src: [&[f64]; LANES] = std::array::from_fn(|l| {
        let first = start + l * seg;
        &x[first - w..first + seg]
    });
    let span = w + seg;
    scratch.input.resize(span * LANES, 0.0);
    let (mut clean, mut signed) = (true, false);
    // Eight rows of the eight lanes at a time, transposed in registers
    // (element by element, the compiler gathered and scattered).
    let tiled = span - span % LANES;
    for (j, rows) in (0..tiled)
        .step_by(LANES)
        .zip(scratch.input.chunks_exact_mut(LANES * LANES))
    {
        let tile: [[f64; LANES]; LANES] = std::array::from_fn(|l| {
            src[l][j..j + LANES]
                .try_into()
                .expect("LANES values per lane")
        });
        for (row, values) in rows.chunks_exact_mut(LANES).zip(transpose(&tile)) {
            row.copy_from_slice(&values);
            for v in values {
                clean &= v.is_finite();
                signed |= v.is_sign_negative();
            }
        }
    }
    for (j, row) in scratch
        .input
        .chunks_exact_mut(LANES)
        .enumerate()
        .skip(tiled)
    {
        for l in 0..LANES {
            row[l] = src[l][j];
            clean &= row[l].is_finite();
            signed |= row[l].is_sign_negative();
        }
    }
    scratch.results.resize(seg * LANES, 0.0);
    // With every value of the group and of the windows before it present
    // and not negative (the usual case for prices), the lanes skip the
    // bookkeeping for missing and negative values.
    let (input, results) = (&scratch.input, &mut scratch.results);
    let nans = match (clean, signed) {
        (true, false) => interleaved::<true, false, FMA>(input, w, results),
        (true, true) => interleaved::<true, true, FMA>(input, w, results),
        (false, _) => interleaved::<false, true, FMA>(input, w, results),
    };
    // Back to row order, eight steps of the eight lanes at a time (`seg` is
    // a multiple of eight).
    scratch.rows.resize(seg * LANES, 0.0);
    for (i, tile) in (0..seg)
        .step_by(LANES)
        .zip(scratch.results.chunks_exact(LANES * LANES))
    {
        let tile: [[f64; LANES]; LANES] =
            std::array::from_fn(|s| lane_values(&tile[s * LANES..(s + 1) * LANES]));
        for (l, values) in transpose(&tile).iter().enumerate() {
            scratch.rows[l * seg + i..l * seg + i + LANES].copy_from_slice(values);
        }
    }
    out.extend_from_slice(&scratch.rows);
    nans
}

/// The transpose of an 8 × 8 tile.
#[inline(always)]
fn transpose(t: &[[f64; LANES]; LANES]) -> [[f64; LANES]; LANES] {
    std::array::from_fn(|i| std::array::from_fn(|j| t[j][i]))
}

/// The lanes' rows over lane-interleaved `input` (`w` rows before the
/// segments, then theirs) into lane-interleaved `results`; returns how many
/// are `NaN`. Flags as for [`Acc::add`], for all of `input`.
#[inline(always)]
fn interleaved<const CLEAN: bool, const SIGNED: bool, const FMA: bool>(
    input: &[f64],
    w: usize,
    results: &mut [f64],
) -> usize {
    let mut acc = Acc::<LANES>::new();
    let (before, body) = input.split_at(w * LANES);
    for v in before.chunks_exact(LANES) {
        acc.add::<CLEAN, SIGNED>(lane_values(v));
    }
    let wf = w as f64;
    let r = Recip::if_fma::<FMA>(wf);
    let mut nans = [0.0f64; LANES];
    for ((leave, enter), done) in input
        .chunks_exact(LANES)
        .zip(body.chunks_exact(LANES))
        .zip(results.chunks_exact_mut(LANES))
    {
        acc.remove::<CLEAN, SIGNED>(lane_values(leave));
        acc.add::<CLEAN, SIGNED>(lane_values(enter));
        let m = acc.mean::<CLEAN, SIGNED, FMA>(wf, r);
        done.copy_from_slice(&m);
        if !CLEAN {
            for l in 0..LANES {
                nans[l] += if m[l].is_nan() { 1.0 } else { 0.0 };
            }
        }
    }
    if CLEAN {
        // Present values give a `NaN` mean only through a total that
        // overflowed, and a total that left the finite numbers never comes
        // back (inf, then inf − inf): finite totals at the end mean none.
        if acc.total.iter().all(|t| t.is_finite()) {
            0
        } else {
            results.iter().filter(|m| m.is_nan()).count()
        }
    } else {
        nans.iter().sum::<f64>() as usize
    }
}

/// One lane-interleaved row.
#[inline(always)]
fn lane_values(v: &[f64]) -> [f64; LANES] {
    v.try_into().expect("chunks of LANES values")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(n: usize, seed: u64) -> Vec<f64> {
        // A random walk around 1.1 with gaps, a flat stretch and signed values.
        let mut s = seed;
        let mut v = 1.1;
        (0..n)
            .map(|i| {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                v += ((s >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 4e-4;
                match i % 997 {
                    13 => f64::NAN,
                    500..=530 => 1.3,
                    _ if i % 5003 == 7 => f64::INFINITY,
                    _ => (v * 1e5).round() / 1e5,
                }
            })
            .collect()
    }

    fn run(x: &[f64], w: usize) -> (Vec<f64>, Missing) {
        let mut out = vec![42.0];
        let m = roll_mean(x, w, &mut out);
        assert_eq!(out.len(), x.len());
        assert!(m.holds_for(&out), "{m:?}");
        (out, m)
    }

    #[test]
    fn agrees_with_the_streaming_mean_to_a_few_ulp() {
        for (n, w) in [
            (0, 3),
            (1, 1),
            (5, 5),
            (5, 6),
            (3000, 1),
            (3000, 20),
            (70_000, 20),
            (200_000, 7),
            (200_000, 300),
        ] {
            let x = series(n, n as u64 + w as u64);
            let (got, _) = run(&x, w);
            let mut want = vec![0.0; n];
            crate::rolling::roll_mean(&x, w, &mut want);
            for (t, (g, e)) in got.iter().zip(&want).enumerate() {
                assert_eq!(g.is_nan(), e.is_nan(), "n {n} w {w} row {t}");
                if e.is_finite() {
                    assert!(
                        (g - e).abs() <= 4.0 * f64::EPSILON * e.abs(),
                        "n {n} w {w} row {t}: {g} vs {e}"
                    );
                }
            }
        }
    }

    #[test]
    fn identical_windows_are_exact_and_lanes_match_one_segment_at_a_time() {
        let w = 10;
        let seg = segment_len(w);
        let mut x = series(LANES * seg * 2 + 3 * seg + 17, 9);
        x[seg * 3..seg * 3 + 40].fill(1.23456);
        let (got, _) = run(&x, w);
        assert!(got[seg * 3 + 9..seg * 3 + 40].iter().all(|&v| v == 1.23456));
        let mut one = Vec::new();
        let mut start = 0;
        while start < x.len() {
            let end = (start + seg).min(x.len());
            segment::<false>(&x, w, start, end, &mut one);
            start = end;
        }
        assert_eq!(
            got.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            one.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
        );
        let wide = got;
        let narrow = crate::dispatch::baseline(|| run(&x, w).0);
        assert_eq!(
            wide.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            narrow.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
        );
    }

    #[test]
    fn a_prefix_gets_the_same_values() {
        let x = series(100_000, 3);
        let (full, _) = run(&x, 25);
        for n in [0, 1, 24, 25, 2047, 2048, 2049, 40_000, 99_999] {
            let (head, _) = run(&x[..n], 25);
            assert_eq!(
                head.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                full[..n].iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                "n {n}"
            );
        }
    }

    #[test]
    fn overflowing_totals_and_negative_groups_match_one_segment_at_a_time() {
        let w = 3;
        let seg = segment_len(w);
        let n = LANES * seg * 2 + seg + 5;
        let one_at_a_time = |x: &[f64]| {
            let mut one = Vec::new();
            let mut start = 0;
            while start < x.len() {
                let end = (start + seg).min(x.len());
                segment::<false>(x, w, start, end, &mut one);
                start = end;
            }
            one
        };
        let bits = |v: &[f64]| v.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        // Present values whose totals overflow inside a clean group.
        let huge: Vec<f64> = (0..n)
            .map(|i| {
                if (5 * seg..5 * seg + 4).contains(&i) {
                    1e308
                } else {
                    1.0
                }
            })
            .collect();
        let (got, m) = run(&huge, w);
        assert!(m.interior && got[5 * seg + 3] == 1e308 && got[5 * seg + 4].is_nan());
        // The lane's total stays NaN; only identical windows give values.
        assert!(got[5 * seg + 5].is_nan() && got[6 * seg - 1] == 1.0 && got[6 * seg] == 1.0);
        assert_eq!(bits(&got), bits(&one_at_a_time(&huge)));
        // Signed values (and −0.0) in clean groups.
        let signed: Vec<f64> = series(n, 4)
            .iter()
            .enumerate()
            .map(|(i, v)| match i % 7 {
                0 => -0.0,
                _ if v.is_finite() => v - 1.1,
                _ => 0.5,
            })
            .collect();
        let (got, _) = run(&signed, w);
        assert_eq!(bits(&got), bits(&one_at_a_time(&signed)));
    }

    #[test]
    fn missing_report_and_signs() {
        let (out, m) = run(&[f64::NAN, 1.0, 2.0, f64::NAN, 4.0, 5.0], 2);
        assert_eq!(
            m,
            Missing {
                prefix: 2,
                interior: true
            }
        );
        assert_eq!(out[2], 1.5);
        assert!(out[3].is_nan() && out[4].is_nan());
        assert_eq!(out[5], 4.5);
        let (_, m) = run(&[1.0, 2.0, 3.0], 4);
        assert_eq!(m, Missing::all(3));
        let (out, m) = run(&[-0.0, -0.0, 1.0], 2);
        assert_eq!(
            m,
            Missing {
                prefix: 1,
                interior: false
            }
        );
        assert!(out[1] == 0.0 && out[1].is_sign_negative() && out[2] == 0.5);
        let (_, m) = run(&[1.0; 4], 0);
        assert_eq!(m, Missing::all(4));
    }
}
