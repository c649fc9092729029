//! Kalman and GARCH filters (SPEC 2.12–2.14, 2.16–2.20) and their
//! per-row rolling-local variants.

use crate::buffer::zeroed;
use crate::missing::{Missing, Watch};
use crate::volatility::{streaming_z, z_from, StdKind};

/// `KALMAN_MEAN(R, Q)` of SPEC 2.12 (only `NaN` counts as missing).
///
/// Reference: after the first missing close every later estimate is missing.
/// With `carry_gaps` (omega_pl's corrected option) a missing close carries
/// the estimate (emitted on the gap row) and grows the variance by `Q`.
pub fn kalman_mean(c: &[f64], r: f64, q: f64, carry_gaps: bool, out: &mut [f64]) -> Missing {
    let mut k = Kalman::new(r, q, carry_gaps);
    let mut watch = Watch::default();
    for (o, &v) in out.iter_mut().zip(c) {
        *o = k.step(v);
        watch.see(*o);
    }
    watch.report()
}

/// The SPEC 2.12 filter one row at a time.
struct Kalman {
    r: f64,
    q: f64,
    carry_gaps: bool,
    /// Estimate and variance; `None` before the first present close.
    state: Option<(f64, f64)>,
    /// Once the variance reaches its exact fixed point, the gain is the same
    /// on every later gap-free step (same operands, same result): kept here.
    steady: Option<f64>,
    /// The reference lost the estimate at a gap: every later row is missing.
    lost: bool,
}

impl Kalman {
    fn new(r: f64, q: f64, carry_gaps: bool) -> Self {
        Kalman {
            r,
            q,
            carry_gaps,
            state: None,
            steady: None,
            lost: false,
        }
    }

    /// Feeds the next close; returns the estimate (`NaN` where missing).
    #[inline(always)]
    fn step(&mut self, c: f64) -> f64 {
        let Some((x, p)) = &mut self.state else {
            if c.is_nan() {
                return f64::NAN;
            }
            self.state = Some((c, self.r));
            return c;
        };
        if self.lost {
            return f64::NAN;
        }
        if !c.is_nan() {
            let gain = match self.steady {
                Some(gain) => gain,
                None => {
                    let prior = (if p.is_nan() { self.r } else { *p }) + self.q;
                    let gain = prior / (prior + self.r);
                    let next = (1.0 - gain) * prior;
                    if next == *p {
                        self.steady = Some(gain);
                    }
                    *p = next;
                    gain
                }
            };
            *x += gain * (c - *x);
        } else if self.carry_gaps {
            *p += self.q;
            self.steady = None;
        } else {
            self.lost = true;
            return f64::NAN;
        }
        *x
    }
}

/// `KALMAN_ZSCORE(window, R, Q)` of SPEC 2.13.
///
/// With the streaming std (the reference) filter, residual, rolling std and
/// z-score run in one pass, the residuals of the current window in a ring:
/// the filter's and the std's dependency chains overlap, and no
/// intermediate column is written.
pub fn kalman_zscore(
    c: &[f64],
    window: usize,
    r: f64,
    q: f64,
    carry_gaps: bool,
    std: StdKind,
    out: &mut [f64],
) -> Missing {
    let n = c.len();
    if std == StdKind::Streaming {
        return kalman_zscore_streaming(c, window, r, q, carry_gaps, out);
    }
    let mut km = zeroed(n);
    kalman_mean(c, r, q, carry_gaps, &mut km);
    let res: Vec<f64> = c.iter().zip(&km).map(|(x, m)| x - m).collect();
    let mut sd = zeroed(n);
    std.rolling(&res, window, &mut sd);
    z_from(&res, &sd, out);
    Missing::unknown()
}

dispatch! { ["avx2", "fma"] const WIDE;
/// [`kalman_zscore`] with the streaming std: [`streaming_z`] of the
/// residuals, the filter's chain beside the std's.
fn kalman_zscore_streaming(c: &[f64], window: usize, r: f64, q: f64, carry_gaps: bool, out: &mut [f64]) -> Missing {
    let mut k = Kalman::new(r, q, carry_gaps);
    streaming_z::<WIDE>(c, window, out, |_, v| v - k.step(v))
}
}

/// GARCH(1,1) parameters shared by every GARCH-based indicator (SPEC 2.16).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Garch {
    pub alpha: f64,
    pub beta: f64,
    pub omega: Option<f64>,
    pub log_returns: bool,
    pub scale: f64,
    pub min_periods: i64,
    pub sigma_floor: f64,
    /// omega_pl's corrected option: estimate LRV and μ from the first `k`
    /// valid returns instead of the reference's single-value slices.
    pub estimate_window: Option<usize>,
}

impl Default for Garch {
    fn default() -> Self {
        Garch {
            alpha: 0.05,
            beta: 0.90,
            omega: None,
            log_returns: true,
            scale: 100.0,
            min_periods: 50,
            sigma_floor: 1e-6,
            estimate_window: None,
        }
    }
}

/// Python's `max(a, b)`: a `NaN` operand never replaces the running maximum,
/// but a `NaN` first operand is kept (SPEC Appendix A.4).
#[inline]
fn py_max(a: f64, b: f64) -> f64 {
    if b > a {
        b
    } else {
        a
    }
}

/// Population variance and mean of the non-`NaN` values (NumPy semantics).
fn var_mean(values: impl Iterator<Item = f64> + Clone) -> (f64, f64) {
    let kept = values.filter(|v| !v.is_nan());
    let n = kept.clone().count();
    if n == 0 {
        return (f64::NAN, f64::NAN);
    }
    let mean = kept.clone().sum::<f64>() / n as f64;
    let var = kept.map(|v| (v - mean) * (v - mean)).sum::<f64>() / n as f64;
    (var, mean)
}

/// The GARCH(1,1) recursion after its start (SPEC 2.16): carries the
/// variance `v` and the last shock `e2`; a non-finite return leaves both.
struct GarchState {
    omega: f64,
    alpha: f64,
    beta: f64,
    floor2: f64,
    mu: f64,
    e2: f64,
    v: f64,
}

impl GarchState {
    /// The state at `f`, the first counted return of `ret`. `mu_lookback` is
    /// 2000 for 2.16/2.18 and 1000 for 2.20.
    fn start(ret: &[f64], f: usize, g: &Garch, mu_lookback: usize) -> Self {
        let (lrv, mu) = match g.estimate_window {
            Some(k) => var_mean(
                ret[f..]
                    .iter()
                    .copied()
                    .filter(|v| !v.is_nan())
                    .take(k.max(1)),
            ),
            None => {
                let (lrv, _) = var_mean(ret[f.saturating_sub(1000)..=f].iter().copied());
                let (_, mu) = var_mean(ret[f.saturating_sub(mu_lookback)..=f].iter().copied());
                (lrv, mu)
            }
        };
        GarchState::new(lrv, mu, ret[f], g)
    }

    /// The state from the raw long-run variance estimate, the mean and the
    /// first counted return.
    fn new(lrv: f64, mu: f64, first: f64, g: &Garch) -> Self {
        let lrv = if lrv.is_finite() && lrv > 0.0 {
            lrv
        } else {
            1e-6
        };
        let omega = g
            .omega
            .unwrap_or(lrv * f64::max(1e-6, 1.0 - g.alpha - g.beta))
            .max(0.0);
        let floor2 = g.sigma_floor * g.sigma_floor;
        let e2 = (first - mu) * (first - mu);
        let v = py_max(py_max(lrv, e2), floor2);
        GarchState {
            omega,
            alpha: g.alpha,
            beta: g.beta,
            floor2,
            mu,
            e2,
            v,
        }
    }

    /// The state of a window whose returns are `ret[1..]` (position 0 has
    /// none) and all finite, so its first counted return is at 1: the same
    /// numbers [`GarchState::start`] computes, without building the window.
    fn start_clean(ret_from_1: &[f64], g: &Garch) -> Self {
        let first = ret_from_1[0];
        let (lrv, mu) = match g.estimate_window {
            Some(k) => var_mean(ret_from_1[..k.max(1).min(ret_from_1.len())].iter().copied()),
            None => var_mean(std::iter::once(first)),
        };
        GarchState::new(lrv, mu, first, g)
    }

    /// Advances over return `r`; returns the variance of this row.
    #[inline]
    fn step(&mut self, r: f64) -> f64 {
        if r.is_finite() {
            self.v = py_max(
                self.omega + self.alpha * self.e2 + self.beta * self.v,
                self.floor2,
            );
            self.e2 = (r - self.mu) * (r - self.mu);
        }
        self.v
    }

    /// The variance at the last row of `ret`, starting at `f`.
    fn run_to_end(ret: &[f64], f: usize, g: &Garch, mu_lookback: usize) -> f64 {
        let mut st = GarchState::start(ret, f, g, mu_lookback);
        for &r in &ret[f + 1..] {
            st.step(r);
        }
        st.v
    }
}

/// Scaled returns `r_t` from `C_{t−1}` to `C_t`. With `ffill` the closes are
/// forward-filled first (pandas 2.x `pct_change` for simple returns, SPEC
/// §7.3): a gap row then has return 0 and the next row spans the gap.
fn returns(c: &[f64], g: &Garch, ffill: bool, out: &mut [f64]) {
    let mut filled = f64::NAN; // last close, forward-filled
    for (t, o) in out.iter_mut().enumerate() {
        let (cur, before) = if ffill {
            (if c[t].is_nan() { filled } else { c[t] }, filled)
        } else {
            (c[t], if t == 0 { f64::NAN } else { c[t - 1] })
        };
        *o = if g.log_returns {
            g.scale * (cur / before).ln()
        } else {
            g.scale * ((cur / before) - 1.0)
        };
        if !c[t].is_nan() {
            filled = c[t];
        }
    }
}

/// `GARCH_VOLATILITY` of SPEC 2.16: one-step-ahead σ in return units.
///
/// Returns where it wrote `NaN`, so that the caller need not search.
pub fn garch_volatility(c: &[f64], g: &Garch, out: &mut [f64]) -> Missing {
    if g.alpha + g.beta >= 1.0 {
        return Missing::fill_all(out);
    }
    let mut ret = zeroed(c.len());
    returns(c, g, !g.log_returns, &mut ret);
    // An infinite return counts as the first one here (SPEC 2.16).
    match ret.iter().position(|v| !v.is_nan()) {
        Some(f) => garch_sigma(&ret, f, g, out),
        None => Missing::fill_all(out),
    }
}

/// σ of one GARCH run over the whole of `c`, SPEC 2.18's computation on one
/// window (the vector the original's `garch_volatility_local` returns for
/// one row): no return into position 0, no forward fill, the first finite
/// return as the first counted one. Its last value is the per-row `_local`
/// value.
pub fn garch_volatility_window(c: &[f64], g: &Garch, out: &mut [f64]) {
    if g.alpha + g.beta >= 1.0 {
        Missing::fill_all(out);
        return;
    }
    let mut ret = zeroed(c.len());
    returns(c, g, false, &mut ret);
    // The first counted return is the first finite one (SPEC 2.18); an
    // infinite one before it still enters the long-run variance and mean.
    match ret.iter().position(|v| v.is_finite()) {
        Some(f) => garch_sigma(&ret, f, g, out),
        None => Missing::fill_all(out),
    };
}

/// The GARCH recursion of SPEC 2.16 over returns `ret` (`NaN` = none) from
/// the first counted one, `f`, writing σ from `f + min_periods` on and `NaN`
/// before; returns where it wrote `NaN`.
fn garch_sigma(ret: &[f64], f: usize, g: &Garch, out: &mut [f64]) -> Missing {
    let n = ret.len().min(out.len());
    let mut st = GarchState::start(ret, f, g, 2000);
    let mut first_valid = f.saturating_add(g.min_periods.max(0) as usize);
    if let Some(k) = g.estimate_window {
        // No look-ahead: nothing is emitted before the k-th counted return, the
        // last one the estimate uses; fewer than k returns leave every row missing.
        match ret[f..]
            .iter()
            .enumerate()
            .filter(|(_, v)| !v.is_nan())
            .nth(k.max(1) - 1)
        {
            Some((j, _)) => first_valid = first_valid.max(f + j),
            None => return Missing::fill_all(out),
        }
    }
    out[..first_valid.min(n)].fill(f64::NAN);
    let mut watch = Watch::default();
    watch.see_missing(first_valid.min(n));
    if first_valid == f && f < n {
        out[f] = st.v.sqrt() / g.scale;
        watch.see(out[f]);
    }
    for t in f + 1..n {
        let v = st.step(ret[t]);
        if t >= first_valid {
            out[t] = v.sqrt() / g.scale;
            watch.see(out[t]);
        }
    }
    watch.report()
}

/// `KALMAN_GARCH_ZSCORE` of SPEC 2.17.
pub fn kalman_garch_zscore(
    c: &[f64],
    r: f64,
    q: f64,
    carry_gaps: bool,
    g: &Garch,
    out: &mut [f64],
) {
    let n = c.len();
    let (mut km, mut sigma) = (zeroed(n), zeroed(n));
    kalman_mean(c, r, q, carry_gaps, &mut km);
    garch_volatility(c, g, &mut sigma);
    for t in 0..n {
        let sp = c[t].abs() * sigma[t];
        out[t] = if sp == 0.0 || sp.is_nan() || km[t].is_nan() {
            f64::NAN
        } else {
            (c[t] - km[t]) / sp
        };
    }
}

/// Returns of the windows ending in `rows`: `global[t]` is the return from
/// `c[t−1]` to `c[t]` without forward fill (the `_local` rule), for every
/// `t` a window of length `len` can reach. Index `t − base` holds row `t`.
fn local_returns(
    c: &[f64],
    g: &Garch,
    rows: &std::ops::Range<usize>,
    len: usize,
) -> (usize, Vec<f64>) {
    let base = (rows.start + 1).saturating_sub(len);
    let mut out = zeroed(rows.end.saturating_sub(base));
    returns(&c[base..rows.end], g, false, &mut out);
    (base, out)
}

/// Copies a window's returns into `scratch`: position 0 has no return (the
/// close before the window is never used), the rest come from `global`.
fn window_returns<'a>(global: &[f64], start: usize, m: usize, scratch: &'a mut [f64]) -> &'a [f64] {
    let ret = &mut scratch[..m];
    ret[0] = f64::NAN;
    ret[1..].copy_from_slice(&global[start + 1..start + m]);
    ret
}

/// Windows processed in lockstep by the `_local` kernels: their recursions
/// are independent, so interleaving them hides each step's latency.
const LANES: usize = 4;

/// Which full-length windows are "clean": no missing close and every return
/// after the window's first position finite. `bad_close[t]`/`bad_ret[t]`
/// count the offending rows up to `base + t` (prefix sums).
struct Clean {
    base: usize,
    bad_close: Vec<u32>,
    bad_ret: Vec<u32>,
}

impl Clean {
    fn new(c: &[f64], global: &[f64], base: usize) -> Self {
        let prefix = |bad: &mut dyn FnMut(usize) -> bool| {
            let mut acc = 0u32;
            (0..global.len())
                .map(|t| {
                    acc += u32::from(bad(t));
                    acc
                })
                .collect::<Vec<u32>>()
        };
        let bad_close = prefix(&mut |t| c[base + t].is_nan());
        let bad_ret = prefix(&mut |t| !global[t].is_finite());
        Clean {
            base,
            bad_close,
            bad_ret,
        }
    }

    fn count(v: &[u32], lo: usize, hi: usize) -> u32 {
        v[hi] - if lo == 0 { 0 } else { v[lo - 1] }
    }

    /// Window `start ..= i` (absolute rows) has no missing close and finite
    /// returns at `start + 1 ..= i`.
    fn is_clean(&self, start: usize, i: usize) -> bool {
        let (s, e) = (start - self.base, i - self.base);
        Self::count(&self.bad_close, s, e) == 0 && Self::count(&self.bad_ret, s + 1, e) == 0
    }
}

/// GARCH variance at the last position of `LANES` clean windows of length
/// `m` starting at `starts` (offsets into `global`), in lockstep.
fn garch_lanes(global: &[f64], starts: [usize; LANES], m: usize, g: &Garch) -> [f64; LANES] {
    let mut st: [GarchState; LANES] =
        std::array::from_fn(|l| GarchState::start_clean(&global[starts[l] + 1..starts[l] + m], g));
    for j in 2..m {
        for (l, s) in st.iter_mut().enumerate() {
            s.step(global[starts[l] + j]);
        }
    }
    std::array::from_fn(|l| st[l].v)
}

/// `GARCH_VOLATILITY_LOCAL(lookback)` of SPEC 2.18 for rows `rows` of `c`,
/// written to `out` (one value per row of the range). Rows are independent,
/// so callers may split the range across threads.
pub fn garch_volatility_local(
    c: &[f64],
    lookback: usize,
    g: &Garch,
    rows: std::ops::Range<usize>,
    out: &mut [f64],
) {
    out.fill(f64::NAN);
    if g.alpha + g.beta >= 1.0 || rows.is_empty() {
        return;
    }
    // A window never reaches before row 0: a lookback beyond the last row
    // gives the same windows as one of exactly that many rows (and must not
    // size buffers, e.g. lookback=10**11).
    let len = lookback.min(rows.end).max(1);
    let (base, global) = local_returns(c, g, &rows, len);
    let clean = Clean::new(c, &global, base);
    let min_rows = 1usize.saturating_add(g.min_periods.max(0) as usize);
    let mut scratch = zeroed(len);
    let (first_row, end) = (rows.start, rows.end);
    let mut i = first_row;
    while i < end {
        // Fast path: LANES consecutive full-length clean windows.
        if len >= 3 && i + 1 >= len && i + LANES <= end {
            let starts: [usize; LANES] = std::array::from_fn(|l| i + l + 1 - len);
            if starts
                .iter()
                .enumerate()
                .all(|(l, &s)| clean.is_clean(s, i + l))
            {
                if len > min_rows {
                    let v = garch_lanes(&global, starts.map(|s| s - base), len, g);
                    for l in 0..LANES {
                        out[i + l - first_row] = v[l].sqrt() / g.scale;
                    }
                }
                i += LANES;
                continue;
            }
        }
        let start = (i + 1).saturating_sub(len);
        let m = i + 1 - start;
        let ret = window_returns(&global, start - base, m, &mut scratch);
        if let Some(f) = ret.iter().position(|v| v.is_finite()) {
            if (m - 1) >= f.saturating_add(g.min_periods.max(0) as usize) {
                out[i - first_row] = GarchState::run_to_end(ret, f, g, 2000).sqrt() / g.scale;
            }
        }
        i += 1;
    }
}

/// Kalman gains of a gap-free run started at `P = R`: `gains[j]` is the gain
/// of the `j`-th step after the first close (index 0 unused).
fn kalman_gains(r: f64, q: f64, len: usize) -> Vec<f64> {
    let mut gains = zeroed(len.max(1));
    let mut p = r;
    for gain in gains.iter_mut().skip(1) {
        let prior = p + q;
        *gain = prior / (prior + r);
        p = (1.0 - *gain) * prior;
    }
    gains
}

/// The 2.20 value of row `i` from its Kalman mean and GARCH variance.
fn kgz_value(ci: f64, km_last: f64, var_last: f64, scale: f64) -> f64 {
    if km_last.is_nan() {
        return f64::NAN;
    }
    let sigma = var_last.sqrt() / scale;
    if !sigma.is_finite() || sigma <= 0.0 {
        return f64::NAN;
    }
    let sp = ci.abs() * sigma;
    if !sp.is_finite() || sp == 0.0 {
        return f64::NAN;
    }
    let z = (ci - km_last) / sp;
    if z.is_finite() {
        z
    } else {
        f64::NAN
    }
}

/// `KALMAN_GARCH_ZSCORE_LOCAL(lookback)` of SPEC 2.20 for rows `rows`.
#[allow(clippy::too_many_arguments)]
pub fn kalman_garch_zscore_local(
    c: &[f64],
    lookback: usize,
    r: f64,
    q: f64,
    carry_gaps: bool,
    g: &Garch,
    rows: std::ops::Range<usize>,
    out: &mut [f64],
) {
    out.fill(f64::NAN);
    if g.alpha + g.beta >= 1.0 || lookback == 0 || rows.is_empty() {
        return;
    }
    // As in garch_volatility_local: windows never reach before row 0.
    let lookback = lookback.min(rows.end);
    let (base, global) = local_returns(c, g, &rows, lookback);
    let clean = Clean::new(c, &global, base);
    let gains = kalman_gains(r, q, lookback);
    let (mut scratch, mut km) = (zeroed(lookback), zeroed(lookback));
    let (first_row, end) = (rows.start, rows.end);
    let mut i = first_row;
    while i < end {
        // Fast path: LANES consecutive full-length clean windows, in lockstep.
        if lookback >= 3 && i + 1 >= lookback && i + LANES <= end {
            let starts: [usize; LANES] = std::array::from_fn(|l| i + l + 1 - lookback);
            if starts
                .iter()
                .enumerate()
                .all(|(l, &s)| clean.is_clean(s, i + l))
            {
                if ((lookback - 2) as i64) >= g.min_periods {
                    let mut x: [f64; LANES] = std::array::from_fn(|l| c[starts[l]]);
                    for (j, gain) in gains.iter().enumerate().take(lookback).skip(1) {
                        for l in 0..LANES {
                            x[l] += gain * (c[starts[l] + j] - x[l]);
                        }
                    }
                    let v = garch_lanes(&global, starts.map(|s| s - base), lookback, g);
                    for l in 0..LANES {
                        out[i + l - first_row] = kgz_value(c[i + l], x[l], v[l], g.scale);
                    }
                }
                i += LANES;
                continue;
            }
        }
        out[i - first_row] = kgz_row(
            c,
            i,
            lookback,
            r,
            q,
            carry_gaps,
            g,
            &global,
            base,
            &gains,
            &mut scratch,
            &mut km,
        );
        i += 1;
    }
}

/// One row of 2.20 on the general path (short, gappy or unclean windows).
#[allow(clippy::too_many_arguments)]
fn kgz_row(
    c: &[f64],
    i: usize,
    lookback: usize,
    r: f64,
    q: f64,
    carry_gaps: bool,
    g: &Garch,
    global: &[f64],
    base: usize,
    gains: &[f64],
    scratch: &mut [f64],
    km: &mut [f64],
) -> f64 {
    let start = (i + 1).saturating_sub(lookback);
    let seg = &c[start..=i];
    let m = seg.len();
    if m < 2 {
        return f64::NAN;
    }
    // The Kalman mean at the segment's last close, restarted on the segment.
    let Some(first) = seg.iter().position(|v| !v.is_nan()) else {
        return f64::NAN;
    };
    let km_last = if seg[first..].iter().any(|v| v.is_nan()) {
        if !carry_gaps {
            return f64::NAN; // the reference loses the estimate for good at a gap
        }
        kalman_mean(seg, r, q, true, &mut km[..m]);
        km[m - 1]
    } else {
        // Gap-free: the gains do not depend on the data, only on the step.
        let mut x = seg[first];
        for (j, v) in seg.iter().enumerate().skip(first + 1) {
            x += gains[j - first] * (v - x);
        }
        x
    };
    let ret = window_returns(global, start - base, m, scratch);
    let Some(f) = ret.iter().position(|v| v.is_finite()) else {
        return f64::NAN;
    };
    if ((m - 1) as i64) - (f as i64) < g.min_periods {
        return f64::NAN;
    }
    kgz_value(
        c[i],
        km_last,
        GarchState::run_to_end(ret, f, g, 1000),
        g.scale,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const N: f64 = f64::NAN;

    #[test]
    fn kalman_gap_is_permanent_unless_carried() {
        let c = [N, 1.0, 2.0, N, 3.0];
        let mut out = vec![0.0; 5];
        kalman_mean(&c, 0.01, 1.0, false, &mut out);
        assert!(out[0].is_nan() && out[3].is_nan() && out[4].is_nan());
        assert_eq!(out[1], 1.0);
        let p = 0.01 + 1.0;
        let k = p / (p + 0.01);
        assert_eq!(out[2], 1.0 + k * (2.0 - 1.0));
        kalman_mean(&c, 0.01, 1.0, true, &mut out);
        assert_eq!(out[3], out[2]);
        assert!(out[4].is_finite() && out[4] > out[3]);
    }

    #[test]
    fn fused_kalman_zscore_equals_the_three_steps() {
        let mut c: Vec<f64> = (0..400)
            .map(|i| 1.1 + 1e-3 * (f64::from(i) * 0.21).sin())
            .collect();
        c[..3].fill(N);
        c[150..170].fill(1.2); // flat residuals: zero std, 0/0
        c[300] = N; // reference: missing for good; carried: one gap row
        for carry in [false, true] {
            for window in [0, 1, 2, 20, 100, 500] {
                let mut km = vec![0.0; c.len()];
                kalman_mean(&c, 0.01, 1.0, carry, &mut km);
                let res: Vec<f64> = c.iter().zip(&km).map(|(x, m)| x - m).collect();
                let mut sd = vec![0.0; c.len()];
                crate::rolling::roll_std(&res, window, 1, &mut sd);
                let mut want = vec![0.0; c.len()];
                z_from(&res, &sd, &mut want);
                let mut got = vec![0.0; c.len()];
                let missing =
                    kalman_zscore(&c, window, 0.01, 1.0, carry, StdKind::Streaming, &mut got);
                assert!(missing.holds_for(&got), "{missing:?}");
                for (g, w) in got.iter().zip(&want) {
                    assert!(
                        g.to_bits() == w.to_bits() || g.is_nan() && w.is_nan(),
                        "{g} vs {w}"
                    );
                }
            }
        }
    }

    #[test]
    fn garch_reference_collapse() {
        // LRV is always the 1e-6 fallback and mu the first return (SPEC 2.16).
        let c: Vec<f64> = (0..80)
            .map(|i| 1.0 + 0.01 * ((i * 7 % 11) as f64))
            .collect();
        let mut out = vec![0.0; c.len()];
        let g = Garch::default();
        garch_volatility(&c, &g, &mut out);
        assert!(out[..51].iter().all(|v| v.is_nan()));
        assert!(out[51..].iter().all(|v| v.is_finite() && *v > 0.0));
        let bad = Garch {
            alpha: 0.5,
            beta: 0.5,
            ..g
        };
        garch_volatility(&c, &bad, &mut out);
        assert!(out.iter().all(|v| v.is_nan()));
    }

    #[test]
    fn garch_local_first_value_at_row_51() {
        let c: Vec<f64> = (0..60)
            .map(|i| 1.0 + 0.01 * ((i * 7 % 11) as f64))
            .collect();
        let mut out = vec![0.0; c.len()];
        garch_volatility_local(&c, 400, &Garch::default(), 0..c.len(), &mut out);
        assert!(out[..51].iter().all(|v| v.is_nan()));
        assert!(out[51].is_finite());
        // Within a full-history window the local value equals the global one.
        let mut global = vec![0.0; c.len()];
        garch_volatility(&c, &Garch::default(), &mut global);
        assert_eq!(out[59], global[59]);
    }

    #[test]
    fn garch_window_ends_in_the_local_value() {
        let mut c: Vec<f64> = (0..300)
            .map(|i| 1.0 + 0.01 * ((i * 7 % 13) as f64))
            .collect();
        c[40] = N;
        c[41] = f64::INFINITY;
        let g = Garch {
            min_periods: 5,
            ..Garch::default()
        };
        let mut local = vec![0.0; c.len()];
        garch_volatility_local(&c, 60, &g, 0..c.len(), &mut local);
        for i in [0usize, 3, 10, 41, 42, 50, 99, 100, 299] {
            let start = (i + 1).saturating_sub(60);
            let mut window = vec![0.0; i + 1 - start];
            garch_volatility_window(&c[start..=i], &g, &mut window);
            let last = window[window.len() - 1];
            assert!(
                last.to_bits() == local[i].to_bits() || last.is_nan() && local[i].is_nan(),
                "row {i}"
            );
        }
    }

    #[test]
    fn kalman_garch_local_needs_two_closes() {
        let c = [1.0, 1.1, 1.2];
        let mut out = vec![0.0; 3];
        let g = Garch {
            min_periods: 0,
            ..Garch::default()
        };
        kalman_garch_zscore_local(&c, 1, 0.01, 1.0, false, &g, 0..3, &mut out);
        assert!(out.iter().all(|v| v.is_nan()));
        kalman_garch_zscore_local(&c, 3, 0.01, 1.0, false, &g, 0..3, &mut out);
        assert!(out[0].is_nan());
        assert!(out[2].is_finite());
    }
}
