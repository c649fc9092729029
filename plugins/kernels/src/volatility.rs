//! Range and dispersion indicators: true range, atr, dmi, bollinger,
//! choppiness, zscore (SPEC P3, 2.7, 2.8, 2.10, 2.11, 2.15).

use crate::ewm::{alpha_from_alpha, alpha_from_span, ewm_mean, Ewm, ParamError};
use crate::rolling::{roll_max, roll_mean, roll_mean_std, roll_min, roll_std, roll_std_exact, roll_sum};
use crate::buffer::zeroed;
use crate::missing::{Missing, Watch};

/// `TR` of SPEC P3: the largest of `|H−L|`, `|H−C_{t−1}|`, `|L−C_{t−1}|`,
/// skipping missing terms; missing only if all three are.
pub fn true_range(h: &[f64], l: &[f64], c: &[f64], out: &mut [f64]) {
    for t in 0..out.len() {
        let prev = if t > 0 { c[t - 1] } else { f64::NAN };
        // f64::max returns the other operand when one is NaN: missing terms
        // are skipped, and the result is NaN only if all three are.
        out[t] = (h[t] - l[t]).abs().max((h[t] - prev).abs()).max((l[t] - prev).abs());
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

/// Wilder ATR with SMA seed (SPEC 2.10). With `reseed` (omega_pl's corrected
/// option) the seed is the first run of `period` present true ranges instead
/// of the one starting at the first present TR.
pub fn atr(h: &[f64], l: &[f64], c: &[f64], period: usize, reseed: bool, out: &mut [f64]) -> Missing {
    let n = out.len();
    let mut tr = zeroed(n);
    true_range(h, l, c, &mut tr);
    out.fill(f64::NAN);
    if period == 0 {
        return Missing::all(n);
    }
    let first = tr.iter().position(|v| !v.is_nan()).unwrap_or(0);
    let seed_start = if reseed {
        let mut run = 0;
        let mut found = None;
        for (t, v) in tr.iter().enumerate().skip(first) {
            run = if v.is_nan() { 0 } else { run + 1 };
            if run == period {
                found = Some(t + 1 - period);
                break;
            }
        }
        match found {
            Some(s) => s,
            None => return Missing::all(n),
        }
    } else {
        if first + period > n || tr[first..first + period].iter().any(|v| v.is_nan()) {
            return Missing::all(n);
        }
        first
    };
    let seed_end = seed_start + period - 1;
    let mut value = pairwise_sum(&tr[seed_start..=seed_end]) / period as f64;
    out[seed_end] = value;
    // (ATR·(p−1) + TR) / p, with the division replaced by a multiplication
    // by 1/p: at most one extra rounding per step, and the recursion contracts
    // by (p−1)/p, so the difference stays near p ulps (~1e-15 relative) while
    // the step no longer waits on a division.
    let (keep, inv) = (period as f64 - 1.0, 1.0 / period as f64);
    let mut nan = value.is_nan();
    for t in seed_end + 1..n {
        if !tr[t].is_nan() {
            value = (value * keep + tr[t]) * inv;
        }
        out[t] = value;
        nan |= value.is_nan();
    }
    Missing { prefix: seed_end, interior: nan }
}

/// `DMI(period)` of SPEC 2.7 into `(plus_di, minus_di, adx)`, in one pass.
pub fn dmi(
    h: &[f64],
    l: &[f64],
    c: &[f64],
    period: usize,
    out: (&mut [f64], &mut [f64], &mut [f64]),
) -> Result<[Missing; 3], ParamError> {
    let (plus, minus, adx) = out;
    let mut watch: [Watch; 3] = Default::default();
    let a = alpha_from_alpha(1.0 / period as f64)?;
    let (mut e_tr, mut e_p, mut e_m, mut e_adx) = (None, None, None, None);
    for t in 0..plus.len() {
        let (pdm, mdm, tr) = if t == 0 {
            (0.0, 0.0, (h[0] - l[0]).abs())
        } else {
            let up = h[t] - h[t - 1];
            let dn = l[t - 1] - l[t];
            // Comparisons with NaN are false, so missing moves count as 0.
            let pdm = if up > dn && up > 0.0 { up } else { 0.0 };
            let mdm = if dn > up && dn > 0.0 { dn } else { 0.0 };
            let prev = c[t - 1];
            (pdm, mdm, (h[t] - l[t]).abs().max((h[t] - prev).abs()).max((l[t] - prev).abs()))
        };
        let atr_d = Ewm::feed(&mut e_tr, tr, a);
        let p = 100.0 * Ewm::feed(&mut e_p, pdm, a) / atr_d;
        let m = 100.0 * Ewm::feed(&mut e_m, mdm, a) / atr_d;
        plus[t] = p;
        minus[t] = m;
        let dx = (p - m).abs() / (p + m) * 100.0;
        adx[t] = Ewm::feed(&mut e_adx, dx, a);
        watch[0].see(p);
        watch[1].see(m);
        watch[2].see(adx[t]);
    }
    Ok(watch.map(|w| w.report()))
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

/// `BOLLINGER(period, k)` of SPEC 2.8 into `(upper, middle, lower)`.
pub fn bollinger(
    c: &[f64],
    period: usize,
    k: f64,
    std: StdKind,
    out: (&mut [f64], &mut [f64], &mut [f64]),
) -> [Missing; 3] {
    let (upper, middle, lower) = out;
    let mut watch: [Watch; 3] = Default::default();
    let mut sd = zeroed(c.len());
    match std {
        StdKind::Streaming => roll_mean_std(c, period, 1, middle, &mut sd),
        StdKind::Exact => {
            roll_mean(c, period, middle);
            roll_std_exact(c, period, 1, &mut sd);
        }
    }
    for t in 0..c.len() {
        upper[t] = middle[t] + k * sd[t];
        lower[t] = middle[t] - k * sd[t];
        watch[0].see(upper[t]);
        watch[1].see(middle[t]);
        watch[2].see(lower[t]);
    }
    watch.map(|w| w.report())
}

/// `CHOP(period)` of SPEC 2.11.
pub fn choppiness(h: &[f64], l: &[f64], c: &[f64], period: usize, out: &mut [f64]) {
    let n = out.len();
    let (mut tr, mut s, mut hi, mut lo) = (zeroed(n), zeroed(n), zeroed(n), zeroed(n));
    true_range(h, l, c, &mut tr);
    roll_sum(&tr, period, &mut s);
    roll_max(h, period, &mut hi);
    roll_min(l, period, &mut lo);
    let denom = (period as f64).log10();
    for t in 0..n {
        let range = hi[t] - lo[t];
        out[t] = if range == 0.0 { f64::NAN } else { (100.0 * (s[t] / range).log10()) / denom };
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
) -> Result<(), ParamError> {
    let n = c.len();
    let mut m = zeroed(n);
    match mean {
        ZMean::Rolling => roll_mean(c, window, &mut m),
        ZMean::Ema(p) => ewm_mean(c, alpha_from_span(p as f64)?, &mut m),
    };
    // DEV is missing on missing-close rows even where the EMA mean carries.
    let dev: Vec<f64> =
        c.iter().zip(&m).map(|(x, mi)| if x.is_finite() { x - mi } else { f64::NAN }).collect();
    let mut sd = zeroed(n);
    std.rolling(&dev, window, &mut sd);
    z_from(&dev, &sd, out);
    Ok(())
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
        bollinger(&[5.0; 3], 3, 2.0, StdKind::Streaming, (&mut u, &mut m, &mut lo));
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
