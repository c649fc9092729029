//! Range and dispersion indicators: true range, atr, dmi, bollinger,
//! choppiness, zscore (SPEC P3, 2.7, 2.8, 2.10, 2.11, 2.15).

use crate::buffer::zeroed;
use crate::ewm::{alpha_from_alpha, alpha_from_span, ewm_mean, Ewm, ParamError, Smoothing};
use crate::keep_if;
use crate::missing::{any_nan, Missing, Watch};
use crate::rolling::{
    roll_max, roll_mean, roll_mean_std, roll_min, roll_std, roll_std_exact, roll_sum, std_from,
    MeanStdSink, StreamingMean, StreamingStd,
};

/// `TR` of SPEC P3: the largest of `|H−L|`, `|H−C_{t−1}|`, `|L−C_{t−1}|`,
/// skipping missing terms; missing only if all three are.
pub fn true_range(h: &[f64], l: &[f64], c: &[f64], out: &mut [f64]) {
    for t in 0..out.len() {
        let prev = if t > 0 { c[t - 1] } else { f64::NAN };
        out[t] = true_range_of(h[t], l[t], prev);
    }
}

/// NumPy's pairwise summation (SPEC Appendix A.4), for bit-equal means.
pub fn pairwise_sum(a: &[f64]) -> f64 {
    let n = a.len();
    if n < 8 {
        let mut res = 0.0;
        for v in a {
            res += v;
        }
        res
    } else if n <= 128 {
        let mut r = [0.0; 8];
        r.copy_from_slice(&a[..8]);
        let full = n - n % 8;
        let mut i = 8;
        while i < full {
            for (j, rj) in r.iter_mut().enumerate() {
                *rj += a[i + j];
            }
            i += 8;
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for v in &a[full..] {
            res += v;
        }
        res
    } else {
        let mut n2 = n / 2;
        n2 -= n2 % 8;
        pairwise_sum(&a[..n2]) + pairwise_sum(&a[n2..])
    }
}

dispatch! { ["avx2"]
/// Wilder ATR with SMA seed (SPEC 2.10). With `reseed` (omega_pl's corrected
/// option) the seed is the first run of `period` present true ranges instead
/// of the one starting at the first present TR.
///
/// No column of true ranges is written: they are computed up to the end of
/// the seed window, then a block of rows at a time ahead of the recursion.
pub fn atr(h: &[f64], l: &[f64], c: &[f64], period: usize, reseed: bool, out: &mut [f64]) -> Missing {
    let n = out.len();
    let (h, l, c) = (&h[..n], &l[..n], &c[..n]);
    let tr = |t: usize| {
        let prev = if t > 0 { c[t - 1] } else { f64::NAN };
        true_range_of(h[t], l[t], prev)
    };
    let Some(seed_end) = atr_seed_end(n, period, reseed, tr) else {
        return Missing::fill_all(out);
    };
    let seed: Vec<f64> = (seed_end + 1 - period..=seed_end).map(tr).collect();
    let mut value = pairwise_sum(&seed) / period as f64;
    out[..seed_end].fill(f64::NAN);
    out[seed_end] = value;
    // (ATR·(p−1) + TR) / p as ATR·β + TR·α with β = (p−1)/p and α = 1/p:
    // at most two more roundings per step than the reference's division,
    // and the recursion contracts by β, so the difference stays within a few
    // times p ulps (~1e-15 relative at p = 14), while the step waits on one
    // multiplication and one addition instead of on a division.
    let p = period as f64;
    let (beta, alpha) = ((p - 1.0) / p, 1.0 / p);
    let mut nan = value.is_nan();
    // Rows go a block at a time: the TR·α of a block are computed before its
    // recursion runs, so that the recursion's chain is one multiplication
    // and one addition (computed in the same row, the compiler pairs the two
    // products into one vector multiplication and puts shuffles on the
    // chain). In the common case (full blocks, no missing TR) the next
    // block's TR·α are computed four rows at a time inside the current
    // block's recursion, whose chain leaves the core idle most of the time:
    // the loads and arithmetic run in its shadow.
    const BLOCK: usize = 64;
    const LANES: usize = 4;
    let first = seed_end + 1;
    let block = |k: usize| (first + k * BLOCK).min(n)..(first + (k + 1) * BLOCK).min(n);
    let scale = |rows: std::ops::Range<usize>, into: &mut [f64; BLOCK]| {
        let (h, l, prev) = (&h[rows.clone()], &l[rows.clone()], &c[rows.start - 1..rows.end - 1]);
        for (i, s) in into[..rows.len()].iter_mut().enumerate() {
            *s = true_range_of(h[i], l[i], prev[i]) * alpha;
        }
    };
    let (mut cur, mut next) = ([0.0; BLOCK], [0.0; BLOCK]);
    scale(block(0), &mut cur);
    for k in 0..(n - first).div_ceil(BLOCK) {
        let (rows, next_rows) = (block(k), block(k + 1));
        let o = &mut out[rows.clone()];
        let scaled = &cur[..rows.len()];
        if !any_nan(scaled) && next_rows.len() == BLOCK {
            // No missing TR: the chain is the multiplication and the
            // addition alone. A NaN value (only from one at the start, or
            // from inf·0 at period 1) stays NaN to the block's end.
            let (h, l, prev) = (&h[next_rows.clone()], &l[next_rows.clone()], &c[next_rows.start - 1..next_rows.end - 1]);
            let lanes = next.chunks_exact_mut(LANES).zip(h.chunks_exact(LANES)).zip(l.chunks_exact(LANES)).zip(prev.chunks_exact(LANES));
            for ((((s, h), l), prev), (o, cur)) in lanes.zip(o.chunks_exact_mut(LANES).zip(scaled.chunks_exact(LANES))) {
                for j in 0..LANES {
                    s[j] = true_range_of(h[j], l[j], prev[j]) * alpha;
                }
                for j in 0..LANES {
                    value = value * beta + cur[j];
                    o[j] = value;
                }
            }
            nan |= value.is_nan();
        } else {
            for (o, &s) in o.iter_mut().zip(scaled) {
                // A missing TR (NaN, so is its product) carries the value.
                if !s.is_nan() {
                    value = value * beta + s;
                }
                *o = value;
                nan |= value.is_nan();
            }
            if !next_rows.is_empty() {
                scale(next_rows, &mut next);
            }
        }
        std::mem::swap(&mut cur, &mut next);
    }
    Missing { prefix: seed_end, interior: nan }
}
}

/// The true range of one bar given the previous close (SPEC P3).
#[inline(always)]
fn true_range_of(h: f64, l: f64, prev: f64) -> f64 {
    // f64::max returns the other operand when one is NaN: missing terms are
    // skipped, and the result is NaN only if all three are.
    (h - l).abs().max((h - prev).abs()).max((l - prev).abs())
}

/// The last row of the ATR seed window (SPEC 2.10): the window of `period`
/// true ranges starting at the first present one, which must all be present
/// (else `None`); with `reseed`, the first run of `period` present ones.
fn atr_seed_end(n: usize, period: usize, reseed: bool, tr: impl Fn(usize) -> f64) -> Option<usize> {
    if period == 0 {
        return None;
    }
    let first = (0..n).find(|&t| !tr(t).is_nan())?;
    let mut run = 0;
    for t in first..n {
        if tr(t).is_nan() {
            if !reseed {
                return None;
            }
            run = 0;
        } else {
            run += 1;
            if run == period {
                return Some(t);
            }
        }
    }
    None
}

dispatch! { ["avx2"]
/// `DMI(period)` of SPEC 2.7 into `(plus_di, minus_di, adx)`.
///
/// Rows go a block at a time. The three averages (true range, +DM, −DM)
/// advance row by row; then the block's DI and DX divisions run as one
/// vectorised loop; the block's DX feed the ADX average while the next
/// block's averages advance (two independent serial chains side by side).
/// Kept inside the row loop, three divisions per row would queue on the
/// divider and hold up the averages. The operations and their order per
/// output are the same, so are the results.
pub fn dmi(
    h: &[f64],
    l: &[f64],
    c: &[f64],
    period: usize,
    out: (&mut [f64], &mut [f64], &mut [f64]),
) -> Result<[Missing; 3], ParamError> {
    const BLOCK: usize = 256;
    let (plus, minus, adx) = out;
    let n = plus.len();
    let (minus, adx) = (&mut minus[..n], &mut adx[..n]);
    let s = Smoothing::new(alpha_from_alpha(1.0 / period as f64)?);
    let mut watch: [Watch; 3] = Default::default();
    let (mut e_tr, mut e_p, mut e_m, mut e_adx) = (Ewm::new(), Ewm::new(), Ewm::new(), Ewm::new());
    let mut atr = [0.0; BLOCK];
    // DX of the previous block (rows `pending`), not yet fed to ADX.
    let mut dx = [0.0; BLOCK];
    let mut pending = 0..0;
    // Row 0 has no previous bar: its moves compare false (0) and its true
    // range skips the missing terms, leaving H − L.
    let mut before = Bar { h: f64::NAN, l: f64::NAN, c: f64::NAN };
    for start in (0..n).step_by(BLOCK) {
        let end = (start + BLOCK).min(n);
        let (p, m) = (&mut plus[start..end], &mut minus[start..end]);
        let prev = &mut adx[pending];
        let (hb, lb, cb) = (&h[start..end], &l[start..end], &c[start..end]);
        // Averages that have started, on a block whose bars (and the one
        // before) are finite and far from overflow: every move and true range
        // is finite, and each step is a plain one.
        let tame = |v: f64| v.abs() < 1e300;
        let plain = e_tr.is_plain()
            && e_p.is_plain()
            && e_m.is_plain()
            && tame(before.h) & tame(before.l) & tame(before.c)
            && hb.iter().chain(lb).chain(cb).fold(true, |ok, &v| ok & tame(v));
        // The block's rows, the three averages advanced by `$advance` (one
        // loop body for both kinds of step, each compiled straight).
        macro_rules! rows {
            (|$tr:ident, $pdm:ident, $mdm:ident| $advance:expr) => {
                let bars = hb.iter().zip(lb).zip(cb);
                let outs = p.iter_mut().zip(m.iter_mut()).zip(atr.iter_mut());
                for (i, (((&h, &l), &c), ((pi, mi), tr_avg))) in bars.zip(outs).enumerate() {
                    let bar = Bar { h, l, c };
                    let ($pdm, $mdm, $tr) = movement(&before, &bar);
                    before = bar;
                    (*tr_avg, *pi, *mi) = $advance;
                    if let Some(x) = prev.get_mut(i) {
                        *x = e_adx.step(dx[i], &s);
                    }
                }
            };
        }
        if plain {
            let (mut t, mut pm, mut mm) = (e_tr.m, e_p.m, e_m.m);
            rows!(|tr, pdm, mdm| {
                t = Ewm::plain_step(t, tr, &s);
                pm = Ewm::plain_step(pm, pdm, &s);
                mm = Ewm::plain_step(mm, mdm, &s);
                (t, pm, mm)
            });
            (e_tr.m, e_p.m, e_m.m) = (t, pm, mm);
        } else {
            rows!(|tr, pdm, mdm| (e_tr.step(tr, &s), e_p.step(pdm, &s), e_m.step(mdm, &s)));
        }
        // When this block is shorter (the last one), feed the rest of the
        // previous block's DX.
        for (x, d) in prev.iter_mut().zip(&dx).skip(p.len()) {
            *x = e_adx.step(*d, &s);
        }
        watch[2].see_all(prev);
        for (((pi, mi), d), tr_avg) in p.iter_mut().zip(m.iter_mut()).zip(dx.iter_mut()).zip(&atr) {
            let (pd, md) = (100.0 * *pi / tr_avg, 100.0 * *mi / tr_avg);
            *pi = pd;
            *mi = md;
            *d = (pd - md).abs() / (pd + md) * 100.0;
        }
        watch[0].see_all(p);
        watch[1].see_all(m);
        pending = start..end;
    }
    let last = &mut adx[pending];
    for (x, d) in last.iter_mut().zip(&dx) {
        *x = e_adx.step(*d, &s);
    }
    watch[2].see_all(last);
    Ok(watch.map(|w| w.report()))
}
}

/// One bar's high, low and close.
struct Bar {
    h: f64,
    l: f64,
    c: f64,
}

/// A bar's (+DM, −DM, TR) for [`dmi`], from the bar before it:
/// `+DM = up` if `up > down` and `up > 0`, `−DM = down` if `down > up` and
/// `down > 0`, else `0` (a missing move compares false and counts as `0`);
/// TR as SPEC P3.
#[inline(always)]
fn movement(before: &Bar, bar: &Bar) -> (f64, f64, f64) {
    let up = bar.h - before.h;
    let dn = before.l - bar.l;
    let pdm = keep_if(up, (up > dn) & (up > 0.0));
    let mdm = keep_if(dn, (dn > up) & (dn > 0.0));
    (pdm, mdm, true_range_of(bar.h, bar.l, before.c))
}

/// Which rolling std a dispersion indicator uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StdKind {
    /// pandas 2.x streaming std (reference, Appendix A.2).
    Streaming,
    /// Exact compensated two-pass std (omega_pl's corrected option).
    Exact,
}

impl StdKind {
    /// The sample rolling std (`ddof = 1`) of `x` over `w` rows.
    pub fn rolling(self, x: &[f64], w: usize, out: &mut [f64]) {
        match self {
            StdKind::Streaming => roll_std(x, w, 1, out),
            StdKind::Exact => roll_std_exact(x, w, 1, out),
        }
    }
}

/// `out[t] = num[t] / sd[t]`, missing wherever `sd` is (SPEC 2.13, 2.15): a
/// zero std still divides (±inf, or missing for 0/0).
pub fn z_from(num: &[f64], sd: &[f64], out: &mut [f64]) {
    for ((o, x), s) in out.iter_mut().zip(num).zip(sd) {
        *o = z(*x, *s);
    }
}

/// One row of [`z_from`].
#[inline(always)]
pub fn z(num: f64, sd: f64) -> f64 {
    if sd.is_nan() {
        f64::NAN
    } else {
        num / sd
    }
}

/// The three outputs of [`bollinger`].
type Bands<'a> = (&'a mut Vec<f64>, &'a mut Vec<f64>, &'a mut Vec<f64>);

/// `BOLLINGER(period, k)` of SPEC 2.8 into `(upper, middle, lower)`.
///
/// The three outputs are replaced by the results, appended as computed (a
/// fresh vector with room for them is written once; a buffer filled first
/// would be written twice).
pub fn bollinger(c: &[f64], period: usize, k: f64, std: StdKind, out: Bands<'_>) -> [Missing; 3] {
    let (upper, middle, lower) = out;
    for v in [&mut *upper, &mut *middle, &mut *lower] {
        v.clear();
        v.reserve(c.len());
    }
    let out = (upper, middle, lower);
    match std {
        StdKind::Streaming => bollinger_streaming(c, period, k, out),
        StdKind::Exact => {
            let (mut means, mut stds) = (zeroed(c.len()), zeroed(c.len()));
            roll_mean(c, period, &mut means);
            roll_std_exact(c, period, 1, &mut stds);
            let mut bands = BandWriter::new(k, out);
            bands.write(&means, &stds);
            bands.report()
        }
    }
}

dispatch! { ["avx2", "fma"] const WIDE;
/// [`bollinger`] with pandas' streaming std ([`roll_mean_std`]; with `fma`,
/// its running mean divides through reciprocals, same bits).
fn bollinger_streaming(c: &[f64], period: usize, k: f64, out: Bands<'_>) -> [Missing; 3] {
    let mut bands = BandWriter::new(k, out);
    roll_mean_std::<WIDE>(c, period, 1, &mut bands);
    bands.report()
}
}

/// Rows [`BandWriter`] holds before it writes them out (a block of rows
/// arrives whole within one aligned stretch of this many).
const BAND_ROWS: usize = 512;

/// Appends bands from means and stds (rows in order), watching for `NaN`.
///
/// Rows are kept in two small arrays until their block ends, then the three
/// bands of the block are written in one vectorised pass: pushed row by row,
/// the three vectors' lengths went through memory on every row, which
/// stalled the streaming std's loop.
struct BandWriter<'a> {
    k: f64,
    out: Bands<'a>,
    watch: [Watch; 3],
    means: [f64; BAND_ROWS],
    stds: [f64; BAND_ROWS],
}

impl<'a> BandWriter<'a> {
    fn new(k: f64, out: Bands<'a>) -> Self {
        BandWriter {
            k,
            out,
            watch: Default::default(),
            means: [0.0; BAND_ROWS],
            stds: [0.0; BAND_ROWS],
        }
    }

    /// Bands from columns of means and stds.
    fn write(&mut self, means: &[f64], stds: &[f64]) {
        for (first, (means, stds)) in (0..)
            .step_by(BAND_ROWS)
            .zip(means.chunks(BAND_ROWS).zip(stds.chunks(BAND_ROWS)))
        {
            for (i, (&m, &s)) in means.iter().zip(stds).enumerate() {
                self.row(first + i, m, s);
            }
            self.block(first..first + means.len());
        }
    }

    fn report(&self) -> [Missing; 3] {
        self.watch.each_ref().map(|w| w.report())
    }
}

impl MeanStdSink for BandWriter<'_> {
    #[inline(always)]
    fn row(&mut self, t: usize, mean: f64, sd: f64) {
        self.means[t % BAND_ROWS] = mean;
        self.stds[t % BAND_ROWS] = sd;
    }

    #[inline(always)]
    fn block(&mut self, rows: std::ops::Range<usize>) {
        let (k, (upper, middle, lower)) = (self.k, &mut self.out);
        debug_assert_eq!(rows.start, middle.len(), "blocks arrive in order");
        let at = rows.start % BAND_ROWS;
        let held = at..at + rows.len();
        let (means, stds) = (&self.means[held.clone()], &self.stds[held]);
        upper.extend(means.iter().zip(stds).map(|(m, sd)| m + k * sd));
        middle.extend_from_slice(means);
        lower.extend(means.iter().zip(stds).map(|(m, sd)| m - k * sd));
        for (w, v) in self.watch.iter_mut().zip([&**upper, &**middle, &**lower]) {
            w.see_all(v.get(rows.clone()).unwrap_or_default());
        }
    }
}

/// `CHOP(period)` of SPEC 2.11.
pub fn choppiness(h: &[f64], l: &[f64], c: &[f64], period: usize, out: &mut [f64]) {
    let n = out.len();
    let (mut tr, mut s, mut lo) = (zeroed(n), zeroed(n), zeroed(n));
    true_range(h, l, c, &mut tr);
    roll_sum(&tr, period, &mut s);
    // The rolling high goes into `out`, which then takes the result in place.
    roll_max(h, period, out);
    roll_min(l, period, &mut lo);
    let denom = (period as f64).log10();
    for ((o, s), lo) in out.iter_mut().zip(&s).zip(&lo) {
        let range = *o - lo;
        *o = if range == 0.0 {
            f64::NAN
        } else {
            (100.0 * (s / range).log10()) / denom
        };
    }
}

/// Mean used by `zscore`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZMean {
    /// `ROLL_MEAN(C, window)`.
    Rolling,
    /// `EMA(period)(C)`.
    Ema(usize),
}

/// `ZSCORE(window, mean)` of SPEC 2.15: deviation from the mean over the
/// rolling std of the deviations; missing wherever that std is.
pub fn zscore(
    c: &[f64],
    window: usize,
    mean: ZMean,
    std: StdKind,
    out: &mut [f64],
) -> Result<Missing, ParamError> {
    if std == StdKind::Streaming {
        return zscore_streaming(c, window, mean, out);
    }
    let n = c.len();
    let mut m = zeroed(n);
    match mean {
        ZMean::Rolling => roll_mean(c, window, &mut m),
        ZMean::Ema(p) => ewm_mean(c, alpha_from_span(p as f64)?, &mut m),
    };
    let dev: Vec<f64> = c.iter().zip(&m).map(|(x, mi)| deviation(*x, *mi)).collect();
    let mut sd = zeroed(n);
    std.rolling(&dev, window, &mut sd);
    z_from(&dev, &sd, out);
    Ok(Missing::unknown())
}

/// `DEV = C − M`, missing on a missing close even where the mean carries.
#[inline(always)]
fn deviation(close: f64, mean: f64) -> f64 {
    if close.is_finite() {
        close - mean
    } else {
        f64::NAN
    }
}

dispatch! { ["avx2", "fma"] const WIDE;
/// [`zscore`] with the streaming std, in one pass ([`streaming_z`] of the
/// deviations from the mean). Equal to the column-by-column evaluation bit
/// for bit.
fn zscore_streaming(c: &[f64], window: usize, mean: ZMean, out: &mut [f64]) -> Result<Missing, ParamError> {
    let ema = match mean {
        ZMean::Ema(p) => Some(Smoothing::new(alpha_from_span(p as f64)?)),
        ZMean::Rolling => None,
    };
    let (mut rolling, mut average) = (StreamingMean::new(window), Ewm::new());
    Ok(streaming_z::<WIDE>(c, window, out, |t, v| {
        let m = match &ema {
            Some(s) => average.step(v, s),
            None => rolling.push(c, t),
        };
        deviation(v, m)
    }))
}
}

/// The z-scores of `num(t, c[t])` over the streaming rolling std of those
/// same values (`ddof = 1`), in one pass over blocks of rows: `num` and the
/// std's running sums row by row (their serial chains side by side), then
/// the block's variances, square roots and z-scores together (vectorised,
/// and off the chains' divider). For zscore and kalman_zscore; `FMA` as for
/// [`StreamingStd`].
#[inline(always)]
pub(crate) fn streaming_z<const FMA: bool>(
    c: &[f64],
    window: usize,
    out: &mut [f64],
    mut num: impl FnMut(usize, f64) -> f64,
) -> Missing {
    const B: usize = 256;
    let n = out.len().min(c.len());
    let mut sd = StreamingStd::<FMA>::new(window, 1, n);
    let mut watch = Watch::default();
    let (mut x, mut var_num, mut var_den) = ([0.0; B], [0.0; B], [0.0; B]);
    for (k, o) in out[..n].chunks_mut(B).enumerate() {
        let first = k * B;
        for (j, &v) in c[first..first + o.len()].iter().enumerate() {
            x[j] = num(first + j, v);
            (var_num[j], var_den[j]) = sd.push_variance(x[j]);
        }
        for (j, o) in o.iter_mut().enumerate() {
            *o = z(x[j], std_from(var_num[j], var_den[j]));
        }
        watch.see_all(o);
    }
    out[n..].fill(f64::NAN);
    let mut report = watch.report();
    report.interior |= n < out.len();
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    const N: f64 = f64::NAN;

    #[test]
    fn true_range_skips_missing_terms() {
        let (h, l, c) = ([2.0, 3.0, N, 5.0], [1.0, 2.5, N, 4.0], [1.5, 2.8, N, 4.5]);
        let mut tr = vec![0.0; 4];
        true_range(&h, &l, &c, &mut tr);
        assert_eq!(tr[0], 1.0);
        assert_eq!(tr[1], 1.5); // |H - C_prev| = 3 - 1.5
        assert!(tr[2].is_nan());
        assert_eq!(tr[3], 1.0); // after a gap only H - L counts
    }

    #[test]
    fn pairwise_matches_plain_sum_closely() {
        let a: Vec<f64> = (0..1000).map(|i| (i as f64 * 0.37).sin()).collect();
        let plain: f64 = a.iter().sum();
        assert!((pairwise_sum(&a) - plain).abs() < 1e-12);
        assert_eq!(pairwise_sum(&[1.0, 2.0]), 3.0);
        assert_eq!(pairwise_sum(&[]), 0.0);
    }

    /// Highs and lows a little above and below the closes `c`, by different
    /// amounts row to row (gaps where `c` has them).
    fn highs_lows(c: &[f64]) -> (Vec<f64>, Vec<f64>) {
        let h = c.iter().enumerate().map(|(i, v)| v + 1e-4 * (i % 7) as f64);
        let l = c.iter().enumerate().map(|(i, v)| v - 1e-4 * (i % 5) as f64);
        (h.collect(), l.collect())
    }

    #[test]
    fn atr_blocks_equal_the_row_recursion() {
        let c = crate::momentum::tests::gappy(1500);
        let (h, l) = highs_lows(&c);
        for n in [1500, 1000, 700, 130, 129, 128, 100] {
            let (h, l, c) = (&h[..n], &l[..n], &c[..n]);
            for period in [1, 2, 14, 64] {
                for reseed in [false, true] {
                    let mut got = vec![0.0; n];
                    let missing = atr(h, l, c, period, reseed, &mut got);
                    assert!(missing.holds_for(&got));
                    // The recursion row by row from the kernel's own seed.
                    let Some(seed) = got.iter().position(|v| !v.is_nan()) else {
                        continue;
                    };
                    let p = period as f64;
                    let (beta, alpha) = ((p - 1.0) / p, 1.0 / p);
                    let mut value = got[seed];
                    for t in seed + 1..n {
                        let s = true_range_of(h[t], l[t], c[t - 1]) * alpha;
                        if !s.is_nan() {
                            value = value * beta + s;
                        }
                        assert_eq!(
                            got[t].to_bits(),
                            value.to_bits(),
                            "n={n} p={period} row {t}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn atr_seed_gap_and_reseed() {
        let h = [2.0, 2.0, N, 2.0, 2.0, 2.0, 2.0];
        let l = [1.0, 1.0, N, 1.0, 1.0, 1.0, 1.0];
        let c = [1.5; 7];
        let mut out = vec![0.0; 7];
        atr(&h, &l, &c, 3, false, &mut out);
        assert!(out.iter().all(|v| v.is_nan())); // gap inside the seed window
        atr(&h, &l, &c, 3, true, &mut out);
        assert!(out[..5].iter().all(|v| v.is_nan()));
        assert_eq!(out[5], 1.0);
        assert_eq!(out[6], 1.0);
    }

    #[test]
    fn dmi_blocks_equal_the_row_recursion() {
        let c = crate::momentum::tests::gappy(1100);
        let (h, l) = highs_lows(&c);
        let n = c.len();
        for period in [1, 3, 14] {
            let (mut p, mut m, mut a) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
            dmi(&h, &l, &c, period, (&mut p, &mut m, &mut a)).unwrap();
            let s = Smoothing::new(alpha_from_alpha(1.0 / period as f64).unwrap());
            let mut e = [Ewm::new(); 4];
            for t in 0..n {
                let (pdm, mdm, tr) = if t == 0 {
                    (0.0, 0.0, (h[0] - l[0]).abs())
                } else {
                    let (up, dn) = (h[t] - h[t - 1], l[t - 1] - l[t]);
                    let pdm = if up > dn && up > 0.0 { up } else { 0.0 };
                    let mdm = if dn > up && dn > 0.0 { dn } else { 0.0 };
                    let prev = c[t - 1];
                    (
                        pdm,
                        mdm,
                        (h[t] - l[t])
                            .abs()
                            .max((h[t] - prev).abs())
                            .max((l[t] - prev).abs()),
                    )
                };
                let atr = e[0].step(tr, &s);
                let pd = 100.0 * e[1].step(pdm, &s) / atr;
                let md = 100.0 * e[2].step(mdm, &s) / atr;
                let adx = e[3].step((pd - md).abs() / (pd + md) * 100.0, &s);
                for (got, want) in [(p[t], pd), (m[t], md), (a[t], adx)] {
                    assert_eq!(got.to_bits(), want.to_bits(), "period {period} row {t}");
                }
            }
        }
    }

    #[test]
    fn dmi_flat_is_missing() {
        let x = [1.0; 5];
        let (mut p, mut m, mut a) = (vec![0.0; 5], vec![0.0; 5], vec![0.0; 5]);
        dmi(&x, &x, &x, 3, (&mut p, &mut m, &mut a)).unwrap();
        assert!(p.iter().chain(&m).chain(&a).all(|v| v.is_nan()));
    }

    #[test]
    fn bollinger_period_one_and_flat() {
        let c = [1.0, 2.0, 3.0];
        let (mut u, mut m, mut lo) = (vec![0.0; 3], vec![0.0; 3], vec![0.0; 3]);
        bollinger(&c, 1, 2.0, StdKind::Streaming, (&mut u, &mut m, &mut lo));
        assert_eq!(m, c.to_vec());
        assert!(u.iter().chain(&lo).all(|v| v.is_nan()));
        bollinger(
            &[5.0; 3],
            3,
            2.0,
            StdKind::Streaming,
            (&mut u, &mut m, &mut lo),
        );
        assert_eq!((u[2], m[2], lo[2]), (5.0, 5.0, 5.0));
    }

    #[test]
    fn choppiness_period_one_is_infinite() {
        let (h, l, c) = ([2.0, 3.0], [1.0, 1.0], [1.5, 2.0]);
        let mut out = vec![0.0; 2];
        choppiness(&h, &l, &c, 1, &mut out);
        assert!(out.iter().all(|v| v.is_infinite() || v.is_nan()));
    }

    #[test]
    fn streaming_zscore_equals_the_columns() {
        let c = crate::momentum::tests::gappy(1100);
        let n = c.len();
        for window in [1, 2, 3, 20, 100] {
            for mean in [ZMean::Rolling, ZMean::Ema(1), ZMean::Ema(7)] {
                let mut got = vec![0.0; n];
                let missing = zscore(&c, window, mean, StdKind::Streaming, &mut got).unwrap();
                assert!(missing.holds_for(&got));
                let mut m = vec![0.0; n];
                match mean {
                    ZMean::Rolling => roll_mean(&c, window, &mut m),
                    ZMean::Ema(p) => ewm_mean(&c, alpha_from_span(p as f64).unwrap(), &mut m),
                };
                let dev: Vec<f64> = c.iter().zip(&m).map(|(x, mi)| deviation(*x, *mi)).collect();
                let (mut sd, mut want) = (vec![0.0; n], vec![0.0; n]);
                roll_std(&dev, window, 1, &mut sd);
                z_from(&dev, &sd, &mut want);
                for t in 0..n {
                    assert_eq!(
                        got[t].to_bits(),
                        want[t].to_bits(),
                        "w={window} {mean:?} row {t}"
                    );
                }
            }
        }
    }

    #[test]
    fn window_longer_than_any_series_allocates_nothing_big() {
        let c = crate::momentum::tests::gappy(1100);
        let mut out = vec![0.0; c.len()];
        for mean in [ZMean::Rolling, ZMean::Ema(3)] {
            let missing = zscore(&c, 1 << 40, mean, StdKind::Streaming, &mut out).unwrap();
            assert_eq!(missing, Missing::all(c.len()));
            assert!(out.iter().all(|v| v.is_nan()));
        }
        let missing = crate::filters::kalman_zscore(
            &c,
            1 << 40,
            0.01,
            1.0,
            false,
            StdKind::Streaming,
            &mut out,
        );
        assert_eq!(missing.prefix, c.len());
        assert!(out.iter().all(|v| v.is_nan()));
    }

    #[test]
    fn zscore_warm_up() {
        let c: Vec<f64> = (0..10).map(|i| (i as f64 * 1.7).sin()).collect();
        let mut out = vec![0.0; 10];
        zscore(&c, 3, ZMean::Rolling, StdKind::Streaming, &mut out).unwrap();
        assert!(out[..4].iter().all(|v| v.is_nan()));
        assert!(out[4].is_finite()); // f + 2w − 2 = 4
        zscore(&c, 3, ZMean::Ema(5), StdKind::Streaming, &mut out).unwrap();
        assert!(out[..2].iter().all(|v| v.is_nan()));
        assert!(out[2].is_finite()); // f + w − 1 = 2
    }
}
