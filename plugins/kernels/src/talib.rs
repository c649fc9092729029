//! The TA-Lib convention: TA-Lib's own definitions, operation for operation.
//!
//! Each kernel reproduces the C function of TA-Lib 0.8.1 (the library inside
//! the `ta-lib` 0.8.x Python package) in its default compatibility mode with
//! every unstable period at 0 (`TA_SetUnstablePeriod` never called): the same
//! seeds, the same warm-up ("lookback") lengths, the same floating-point
//! operations in the same order (including TA-Lib 0.8's fused multiply-adds,
//! reproduced with `f64::mul_add`, which rounds once exactly like C's `fma`)
//! and the same zero tests, so that results agree with `talib` bit for bit on
//! gap-free input.
//!
//! TA-Lib 0.8 changed several classic (0.4/0.6) computations, and these
//! kernels follow 0.8.1: EMA-type recursions are `fma(x − m, k, m)`; ATR's
//! Wilder step is `fma(β, atr, α·tr)` with `β = (p−1)/p`, `α = 1 − β`; RSI
//! scales by a precomputed `1/p`; the variance behind STDDEV and BBANDS is
//! cancellation-free (deviations from a shift that is re-anchored on the
//! window mean); and the fixed `1e-14` zero band is gone wherever it compared
//! a price-scaled quantity (RSI, the DIs' true range, the variance).
//!
//! Conventions shared by every kernel here:
//!
//! * `out` slices have the input's length; rows before the first output
//!   (TA-Lib's lookback) are written as `NaN` (missing). Each kernel returns
//!   a [`Missing`] per output: that warm-up length, and whether a `NaN` was
//!   written after it (watched while writing, so the caller need not scan).
//! * Leading `NaN` rows are skipped the way the `talib` Python wrapper skips
//!   them: computation starts at the first row where no input is `NaN`, and
//!   the lookback counts from there.
//! * TA-Lib has no gap semantics. A `NaN` after the first valid row is fed to
//!   TA-Lib's recursions unchanged and behaves exactly as in the C code: it
//!   mostly propagates (running sums and recursive averages: to every later
//!   row), but where TA-Lib guards a division with a comparison the guard's
//!   fallback wins (RSI 0, DI 0). The TA-Lib convention therefore assumes
//!   gap-free input; it never panics on `NaN`, `±inf` or short input.
//! * Parameters are assumed valid (see the `*_MIN_*` constants, which are
//!   TA-Lib's own lower bounds); the expression layer validates them. A
//!   parameter below its minimum yields an all-missing output, not a panic.
//!   TA-Lib's upper bound of 100000 on periods is not enforced here.

/// TA-Lib's zero band, `TA_EPSILON` (`TA_IS_ZERO`).
const EPSILON: f64 = 0.000_000_000_000_01;

/// `TA_IS_ZERO(v)`: `-eps < v < eps` (false for `NaN`). In 0.8.1 only the
/// scale-free DI sum in ADX is still tested this way.
fn is_zero(v: f64) -> bool {
    -EPSILON < v && v < EPSILON
}

/// Smallest period accepted by SMA, EMA, DEMA and TEMA.
pub const MA_MIN_PERIOD: usize = 1;
/// Smallest period accepted by RSI.
pub const RSI_MIN_PERIOD: usize = 2;
/// Smallest fast and slow period accepted by MACD.
pub const MACD_MIN_PERIOD: usize = 2;
/// Smallest signal period accepted by MACD.
pub const MACD_MIN_SIGNAL: usize = 1;
/// Smallest period accepted by BBANDS.
pub const BBANDS_MIN_PERIOD: usize = 2;
/// Smallest period accepted by ATR.
pub const ATR_MIN_PERIOD: usize = 1;
/// Smallest period accepted by the DMI triple (ADX needs 2; +DI/-DI need 1).
pub const DMI_MIN_PERIOD: usize = 2;
/// Smallest period accepted by ROC and MOM.
pub const ROC_MIN_PERIOD: usize = 1;
/// Smallest period accepted by STDDEV.
pub const STDDEV_MIN_PERIOD: usize = 2;

use crate::keep_if;
use crate::missing::{any_nan, Missing};

/// Index of the first row where none of `inputs` is `NaN` (the `talib`
/// wrapper's `check_begidx`), or the common length if there is none.
fn first_valid(inputs: &[&[f64]]) -> usize {
    let n = inputs.iter().map(|x| x.len()).min().unwrap_or(0);
    (0..n)
        .find(|&i| inputs.iter().all(|x| !x[i].is_nan()))
        .unwrap_or(n)
}

/// Returns the range to compute, `(b, n)`: the first valid row of the inputs
/// and the common length of inputs and outputs, after writing `NaN` to every
/// output's rows `..b + lookback` (and rows past `n`). The kernel must then
/// write every row `b + lookback .. n` of each output. `None`, with every row
/// `NaN`, when there is nothing to compute (invalid parameters, or no more
/// than `lookback` rows from the first valid one).
fn prepare(
    inputs: &[&[f64]],
    outs: &mut [&mut [f64]],
    valid: bool,
    lookback: usize,
) -> Option<(usize, usize)> {
    let n = inputs
        .iter()
        .map(|x| x.len())
        .chain(outs.iter().map(|o| o.len()))
        .min()
        .unwrap_or(0);
    let begin = valid
        .then(|| first_valid(inputs).min(n))
        .filter(|&b| n - b > lookback);
    let filled = begin.map_or(n, |b| b + lookback);
    for out in outs.iter_mut() {
        out[..filled].fill(f64::NAN);
        out[n..].fill(f64::NAN);
    }
    begin.map(|b| (b, n))
}

/// The report for an output of `len` rows whose rows `..prefix` are `NaN`
/// and whose rows `prefix..n` hold a `NaN` only if `nan`; rows past the
/// inputs' length `n` (filled by [`prepare`]) count as interior.
fn written(prefix: usize, nan: bool, n: usize, len: usize) -> Missing {
    Missing {
        prefix,
        interior: nan || len > n,
    }
}

/// TA-Lib's recursive EMA state (`TA_EMA` in default compatibility).
///
/// Seeded with the mean of the first `period` values (summed from `0.0` in
/// order, then divided by `period`); afterwards `m = fma(x − m, k, m)` with
/// `k = 2 / (period + 1)`. `period = 1` is no smoothing: the value itself
/// (TA-Lib 0.8 copies there rather than run the recursion with `k = 1`).
struct Ema {
    period: usize,
    k: f64,
    seen: usize,
    value: f64,
}

impl Ema {
    fn new(period: usize) -> Self {
        Ema {
            period,
            k: 2.0 / ((period + 1) as f64),
            seen: 0,
            value: 0.0,
        }
    }

    /// Feeds one value; `Some(ema)` once the seed window is complete.
    #[inline(always)]
    fn update(&mut self, x: f64) -> Option<f64> {
        if self.period == 1 {
            return Some(x);
        }
        if self.seen < self.period {
            self.value += x;
            self.seen += 1;
            if self.seen < self.period {
                return None;
            }
            self.value /= self.period as f64;
        } else {
            self.value = (x - self.value).mul_add(self.k, self.value);
        }
        Some(self.value)
    }
}

/// `TA_SMA`'s running sum: add the new value, take the mean, subtract the
/// value leaving the window.
struct MovingSum {
    total: f64,
    period: f64,
}

impl MovingSum {
    /// State before the first window: `head` holds its first `period − 1` values.
    fn new(head: &[f64]) -> Self {
        let mut total = 0.0;
        for &v in head {
            total += v;
        }
        MovingSum {
            total,
            period: (head.len() + 1) as f64,
        }
    }

    /// The mean of the window ending with `value`; `oldest` is its first value.
    #[inline(always)]
    fn mean(&mut self, value: f64, oldest: f64) -> f64 {
        self.total += value;
        let t = self.total;
        self.total -= oldest;
        t / self.period
    }
}

/// `TA_SMA(period)`: lookback `period - 1`; a running sum (see [`MovingSum`]).
pub fn sma(x: &[f64], period: usize, out: &mut [f64]) -> Missing {
    let lookback = period.saturating_sub(1);
    let Some((b, n)) = prepare(&[x], &mut [&mut *out], period >= MA_MIN_PERIOD, lookback) else {
        return Missing::all(out.len());
    };
    let len = out.len();
    let (x, out) = (&x[b..n], &mut out[b..n]);
    let mut sum = MovingSum::new(&x[..lookback]);
    let mut nan = false;
    for (o, (&v, &old)) in out[lookback..].iter_mut().zip(x[lookback..].iter().zip(x)) {
        let y = sum.mean(v, old);
        nan |= y.is_nan();
        *o = y;
    }
    written(b + lookback, nan, n, len)
}

/// The EMA family's shared body: `D` chained TA-Lib EMAs (each fed the one
/// before it, each seeded with the SMA of its input's first `period` values),
/// and `combine` of their values written from the row where the last is
/// seeded; lookback `D·(period − 1)`. `period = 1` copies the input.
#[inline(always)]
fn ema_chain<const D: usize>(
    x: &[f64],
    period: usize,
    out: &mut [f64],
    combine: impl Fn(&[f64; D]) -> f64,
) -> Missing {
    let lookback = D * period.saturating_sub(1);
    let Some((b, n)) = prepare(&[x], &mut [&mut *out], period >= MA_MIN_PERIOD, lookback) else {
        return Missing::all(out.len());
    };
    let len = out.len();
    if period == 1 {
        out[b..n].copy_from_slice(&x[b..n]);
        return written(b, any_nan(&out[b..n]), n, len);
    }
    let mut nan = false;
    let mut emas: [Ema; D] = std::array::from_fn(|_| Ema::new(period));
    let mut values = [0.0; D];
    for (&v, o) in x[b..n].iter().zip(out[b..n].iter_mut()) {
        let mut input = Some(v);
        for (e, value) in emas.iter_mut().zip(values.iter_mut()) {
            input = input.and_then(|v| e.update(v));
            if let Some(m) = input {
                *value = m;
            }
        }
        if input.is_some() {
            let y = combine(&values);
            nan |= y.is_nan();
            *o = y;
        }
    }
    written(b + lookback, nan, n, len)
}

dispatch! { ["fma"]
/// `TA_EMA(period)`: lookback `period - 1`, seeded with the SMA of the first
/// `period` values, then `m = fma(x − m, k, m)`. `period = 1` copies the
/// input.
pub fn ema(x: &[f64], period: usize, out: &mut [f64]) -> Missing {
    ema_chain(x, period, out, |[m]| *m)
}
}

dispatch! { ["fma"]
/// `TA_DEMA(period)`: `2·EMA1 − EMA2` with EMA2 the EMA of EMA1, seeded with
/// the SMA of EMA1's first `period` values; lookback `2·(period − 1)`.
/// `period = 1` copies the input.
pub fn dema(x: &[f64], period: usize, out: &mut [f64]) -> Missing {
    ema_chain(x, period, out, |[m1, m2]| 2.0 * m1 - m2)
}
}

dispatch! { ["fma"]
/// `TA_TEMA(period)`: `EMA3 + (3·EMA1 − 3·EMA2)` over the chain
/// EMA1 → EMA2 → EMA3, each seeded with the SMA of its input's first
/// `period` values; lookback `3·(period − 1)`. `period = 1` copies the input.
pub fn tema(x: &[f64], period: usize, out: &mut [f64]) -> Missing {
    ema_chain(x, period, out, |[m1, m2, m3]| m3 + (3.0 * m1 - 3.0 * m2))
}
}

/// `TA_RSI(period)`: Wilder's RSI, lookback `period`.
///
/// The first `period` changes are summed into gain and loss and scaled by
/// `1/period`; afterwards each is `(avg · (period − 1) + change) · (1/period)`
/// (the gain/loss split is branch-free: `gain += max(d, 0)`,
/// `loss += max(d, 0) − d`). `RSI = 100 · gain / (gain + loss)`, and `0` when
/// `gain + loss` is not positive (a flat stretch gives 0, not 50).
pub fn rsi(x: &[f64], period: usize, out: &mut [f64]) -> Missing {
    let Some((b, n)) = prepare(&[x], &mut [&mut *out], period >= RSI_MIN_PERIOD, period) else {
        return Missing::all(out.len());
    };
    let len = out.len();
    let (x, out) = (&x[b..n], &mut out[b..n]);
    let inv = 1.0 / period as f64;
    let p1 = (period - 1) as f64;
    let value = |gain: f64, loss: f64| {
        let s = gain + loss;
        if s > 0.0 {
            100.0 * (gain / s)
        } else {
            0.0
        }
    };
    let (mut gain, mut loss) = (0.0, 0.0);
    let mut prev = x[0];
    for &v in &x[1..=period] {
        let d = v - prev;
        prev = v;
        let up = if d > 0.0 { d } else { 0.0 };
        gain += up;
        loss += up - d;
    }
    loss *= inv;
    gain *= inv;
    out[period] = value(gain, loss);
    let mut nan = out[period].is_nan();
    for (o, &v) in out[period + 1..].iter_mut().zip(&x[period + 1..]) {
        let d = v - prev;
        prev = v;
        loss *= p1;
        gain *= p1;
        let up = if d > 0.0 { d } else { 0.0 };
        gain += up;
        loss += up - d;
        loss *= inv;
        gain *= inv;
        let y = value(gain, loss);
        nan |= y.is_nan();
        *o = y;
    }
    written(b + period, nan, n, len)
}

dispatch! { ["fma"]
/// `TA_MACD(fast, slow, signal)` → (macd, signal, histogram).
///
/// If `slow < fast` the two are swapped (as TA-Lib does). The slow EMA is
/// seeded with the SMA of rows `0..slow`; the fast EMA's seed window ends on
/// the same row (`slow − fast .. slow`), not at row `fast − 1`. The signal
/// line is the EMA of the MACD line seeded with the SMA of its first
/// `signal` values. All three outputs start at row `slow + signal − 2`
/// (MACD-line values before that are computed but not written).
pub fn macd(
    x: &[f64],
    fast: usize,
    slow: usize,
    signal: usize,
    out_macd: &mut [f64],
    out_signal: &mut [f64],
    out_hist: &mut [f64],
) -> [Missing; 3] {
    let (fast, slow) = if slow < fast {
        (slow, fast)
    } else {
        (fast, slow)
    };
    let valid = fast >= MACD_MIN_PERIOD && signal >= MACD_MIN_SIGNAL;
    let lookback = (slow + signal).saturating_sub(2);
    let Some((b, n)) = prepare(
        &[x],
        &mut [&mut *out_macd, &mut *out_signal, &mut *out_hist],
        valid,
        lookback,
    ) else {
        return [out_macd.len(), out_signal.len(), out_hist.len()].map(Missing::all);
    };
    let lens = [out_macd.len(), out_signal.len(), out_hist.len()];
    let first = b + lookback;
    let (mut ef, mut es, mut eg) = (Ema::new(fast), Ema::new(slow), Ema::new(signal));
    // Warm-up: seed the three averages, up to the first output row.
    let fast_start = b + (slow - fast);
    let (mut m, mut g) = (f64::NAN, f64::NAN);
    for (i, &v) in x.iter().enumerate().take(first + 1).skip(b) {
        let s = es.update(v);
        if i < fast_start {
            continue;
        }
        if let (Some(f), Some(s)) = (ef.update(v), s) {
            m = f - s;
            if let Some(signal) = eg.update(m) {
                g = signal;
            }
        }
    }
    out_macd[first] = m;
    out_signal[first] = g;
    out_hist[first] = m - g;
    let mut nan = m.is_nan() | g.is_nan() | (m - g).is_nan();
    // Steady state: every average seeded; the same steps without the bookkeeping.
    let (mut f, mut s) = (ef.value, es.value);
    let (kf, ks, kg) = (ef.k, es.k, eg.k);
    let rows = x[first + 1..n]
        .iter()
        .zip(&mut out_macd[first + 1..n])
        .zip(&mut out_signal[first + 1..n])
        .zip(&mut out_hist[first + 1..n]);
    for (((&v, om), os), oh) in rows {
        s = (v - s).mul_add(ks, s);
        f = (v - f).mul_add(kf, f);
        m = f - s;
        // A one-period signal line is the MACD line itself (see `Ema`).
        g = if signal == 1 { m } else { (m - g).mul_add(kg, g) };
        let h = m - g;
        nan |= m.is_nan() | g.is_nan() | h.is_nan();
        *om = m;
        *os = g;
        *oh = h;
    }
    lens.map(|len| written(first, nan, n, len))
}
}

/// TA-Lib 0.8's cancellation-free rolling population variance (`TA_VAR`).
///
/// Running sums of `d = x − shift` and `d²` give `var = Σd²/p − (Σd/p)²`
/// (with `1/p` precomputed). The shift starts at the first value; after each
/// window the trailing value is removed, and the sums are rebuilt from
/// scratch around a new shift (the window's left-to-right mean) when
/// `var < 1e-6 · Σd²/p`, when the removed `d²` exceeds `1e6` times the
/// remaining `Σd²`, or every `32·p` windows. A rebuilt variance below
/// `1e-12 · Σd²/p` is exactly `0`.
struct RollingVar<'a> {
    x: &'a [f64],
    period: usize,
    inv: f64,
    shift: f64,
    total1: f64,
    total2: f64,
    countdown: usize,
}

impl<'a> RollingVar<'a> {
    /// State before the first window (rows `0..period − 1` added).
    fn new(x: &'a [f64], period: usize) -> Self {
        let mut v = RollingVar {
            x,
            period,
            inv: 1.0 / period as f64,
            shift: x[0],
            total1: 0.0,
            total2: 0.0,
            countdown: 32 * period,
        };
        for &value in &x[..period - 1] {
            v.add(value);
        }
        v
    }

    fn add(&mut self, value: f64) {
        let d = value - self.shift;
        self.total1 += d;
        self.total2 += d * d;
    }

    /// Removes `value`, returning its squared deviation.
    fn remove(&mut self, value: f64) -> f64 {
        let d = value - self.shift;
        self.total1 -= d;
        let d2 = d * d;
        self.total2 -= d2;
        d2
    }

    fn variance(&self) -> f64 {
        let mean1 = self.total1 * self.inv;
        self.total2 * self.inv - mean1 * mean1
    }

    /// Variance of the window ending at row `i` (rows are fed in order).
    fn next(&mut self, i: usize) -> f64 {
        let start = i + 1 - self.period;
        self.add(self.x[i]);
        let mut var = self.variance();
        let removed = self.remove(self.x[start]);
        self.countdown -= 1;
        if var < 0.000_001 * (self.total2 * self.inv)
            || removed > 1_000_000.0 * self.total2
            || self.countdown == 0
        {
            self.countdown = 32 * self.period;
            let window = &self.x[start..=i];
            let mut sum = 0.0;
            for &value in window {
                sum += value;
            }
            self.shift = sum * self.inv;
            self.total1 = 0.0;
            self.total2 = 0.0;
            for &value in window {
                self.add(value);
            }
            var = self.variance();
            if var < 0.000_000_000_001 * (self.total2 * self.inv) {
                var = 0.0;
            }
            self.remove(self.x[start]);
        }
        var
    }
}

/// Rows per block in the rolling-variance kernels: the sequential pass
/// writes a block, and the square roots (which vectorise) run over it while
/// it is still in the L1 cache.
const BLOCK: usize = 512;

/// `TA_BBANDS(period, nbdev_up, nbdev_dn, SMA)` → (upper, middle, lower).
///
/// Middle is `TA_SMA`; the deviation is the square root of TA-Lib's rolling
/// population variance (see [`stddev`]), and the bands are
/// `middle ± deviation · nbdev`. Lookback `period − 1`. One pass: the mean
/// and the variance of a block of rows, then its square roots and bands.
pub fn bbands(
    x: &[f64],
    period: usize,
    nbdev_up: f64,
    nbdev_dn: f64,
    upper: &mut [f64],
    middle: &mut [f64],
    lower: &mut [f64],
) -> [Missing; 3] {
    let lookback = period.saturating_sub(1);
    let valid = period >= BBANDS_MIN_PERIOD;
    let Some((b, n)) = prepare(
        &[x],
        &mut [&mut *upper, &mut *middle, &mut *lower],
        valid,
        lookback,
    ) else {
        return [upper.len(), middle.len(), lower.len()].map(Missing::all);
    };
    let lens = [upper.len(), middle.len(), lower.len()];
    let x = &x[b..n];
    let (upper, middle, lower) = (
        &mut upper[b + lookback..n],
        &mut middle[b + lookback..n],
        &mut lower[b + lookback..n],
    );
    let mut sum = MovingSum::new(&x[..lookback]);
    let mut var = RollingVar::new(x, period);
    let (mut nan, mut middle_nan) = (false, false);
    let blocks = upper
        .chunks_mut(BLOCK)
        .zip(middle.chunks_mut(BLOCK))
        .zip(lower.chunks_mut(BLOCK));
    for (k, ((u, m), l)) in blocks.enumerate() {
        let first = lookback + k * BLOCK;
        // Sequential: the mean and (in `upper`, for now) the variance.
        for (j, (m, u)) in m.iter_mut().zip(u.iter_mut()).enumerate() {
            let i = first + j;
            *m = sum.mean(x[i], x[i - lookback]);
            *u = var.next(i);
        }
        // Elementwise: deviation and bands.
        for ((u, m), l) in u.iter_mut().zip(m.iter()).zip(l.iter_mut()) {
            let v = *u;
            let sd = if v != 0.0 { v.sqrt() } else { 0.0 };
            let (hi, lo) = if nbdev_up == nbdev_dn {
                let t = sd * nbdev_up;
                (*m + t, *m - t)
            } else {
                (*m + sd * nbdev_up, *m - sd * nbdev_dn)
            };
            nan |= hi.is_nan() | lo.is_nan();
            middle_nan |= m.is_nan();
            *u = hi;
            *l = lo;
        }
    }
    let prefix = b + lookback;
    [
        written(prefix, nan, n, lens[0]),
        written(prefix, middle_nan, n, lens[1]),
        written(prefix, nan, n, lens[2]),
    ]
}

/// `TA_STDDEV(period, nbdev)`: `sqrt(TA_VAR) · nbdev`, the population
/// standard deviation (divisor `period`, i.e. `ddof = 0`) from TA-Lib 0.8's
/// cancellation-free rolling variance: running sums of deviations from a
/// shift, re-anchored on the window mean when they lose precision (exactly 0
/// on a window of identical values). Lookback `period − 1`.
pub fn stddev(x: &[f64], period: usize, nbdev: f64, out: &mut [f64]) -> Missing {
    let lookback = period.saturating_sub(1);
    let Some((b, n)) = prepare(
        &[x],
        &mut [&mut *out],
        period >= STDDEV_MIN_PERIOD,
        lookback,
    ) else {
        return Missing::all(out.len());
    };
    let len = out.len();
    let (x, out) = (&x[b..n], &mut out[b + lookback..n]);
    let mut var = RollingVar::new(x, period);
    let mut nan = false;
    for (k, block) in out.chunks_mut(BLOCK).enumerate() {
        let first = lookback + k * BLOCK;
        for (j, o) in block.iter_mut().enumerate() {
            *o = var.next(first + j);
        }
        for o in block.iter_mut() {
            let sd = o.sqrt();
            let y = if nbdev != 1.0 { sd * nbdev } else { sd };
            nan |= y.is_nan();
            *o = y;
        }
    }
    written(b + lookback, nan, n, len)
}

/// `TA_ROC(period)`: `(x / x[-period] − 1) · 100`, and `0` when
/// `x[-period] == 0`. Lookback `period`.
pub fn roc(x: &[f64], period: usize, out: &mut [f64]) -> Missing {
    lagged(x, period, out, |v, old| {
        if old != 0.0 {
            ((v / old) - 1.0) * 100.0
        } else {
            0.0
        }
    })
}

/// `TA_MOM(period)`: `x − x[-period]`. Lookback `period`.
pub fn mom(x: &[f64], period: usize, out: &mut [f64]) -> Missing {
    lagged(x, period, out, |v, old| v - old)
}

/// `out[t] = f(x[t], x[t − period])` with TA-Lib's lookback `period` (roc, mom).
#[inline(always)]
fn lagged(x: &[f64], period: usize, out: &mut [f64], f: impl Fn(f64, f64) -> f64) -> Missing {
    let Some((b, n)) = prepare(&[x], &mut [&mut *out], period >= ROC_MIN_PERIOD, period) else {
        return Missing::all(out.len());
    };
    let len = out.len();
    let (x, out) = (&x[b..n], &mut out[b..n]);
    let mut nan = false;
    for (o, (&v, &old)) in out[period..].iter_mut().zip(x[period..].iter().zip(x)) {
        let y = f(v, old);
        nan |= y.is_nan();
        *o = y;
    }
    written(b + period, nan, n, len)
}

/// TA-Lib's true range of a bar: start from `high − low`, then replace it by
/// `|high − prev_close|` and `|low − prev_close|` when those are greater
/// (a `NaN` candidate never replaces).
fn true_range(high: f64, low: f64, prev_close: f64) -> f64 {
    let mut range = high - low;
    let a = (high - prev_close).abs();
    if a > range {
        range = a;
    }
    let c = (low - prev_close).abs();
    if c > range {
        range = c;
    }
    range
}

/// TA-Lib's (+DM, −DM) of a bar from `up = high − prev_high` and
/// `down = prev_low − low`: `−DM = down` if `down > 0 && up < down`, else
/// `+DM = up` if `up > 0 && up > down`; the other (or both) `0`.
///
/// TA-Lib adds only the chosen one to its running sum; adding `0.0` to the
/// other instead changes no bit (the sums are never `−0`), and computing
/// both as selects keeps the unpredictable choice out of the branch
/// predictor's way.
#[inline(always)]
fn directional_movement(up: f64, down: f64) -> (f64, f64) {
    // `&` rather than `&&`, and masks rather than branches: no jumps.
    let minus = (down > 0.0) & (up < down);
    let plus = !minus & (up > 0.0) & (up > down);
    (keep_if(up, plus), keep_if(down, minus))
}

dispatch! { ["fma"]
/// `TA_ATR(period)` on (high, low, close): lookback `period`.
///
/// The seed is the mean of the true ranges of rows `1..=period`; afterwards
/// Wilder's step as TA-Lib 0.8 writes it, `atr = fma(β, atr, α · tr)` with
/// `β = (period − 1)/period` and `α = 1 − β`. `period = 1` takes the same
/// path (`β = 0`), which is the true range itself on finite input.
pub fn atr(high: &[f64], low: &[f64], close: &[f64], period: usize, out: &mut [f64]) -> Missing {
    let Some((b, n)) = prepare(
        &[high, low, close],
        &mut [&mut *out],
        period >= ATR_MIN_PERIOD,
        period,
    ) else {
        return Missing::all(out.len());
    };
    let len = out.len();
    let (h, l, c, out) = (&high[b..n], &low[b..n], &close[b..n], &mut out[b..n]);
    let tr = |i: usize| true_range(h[i], l[i], c[i - 1]);
    let beta = (period - 1) as f64 / period as f64;
    let alpha = 1.0 - beta;
    let mut total = 0.0;
    for i in 1..=period {
        total += tr(i);
    }
    let mut value = total / period as f64;
    out[period] = value;
    let mut nan = value.is_nan();
    for (i, o) in out.iter_mut().enumerate().skip(period + 1) {
        value = beta.mul_add(value, alpha * tr(i));
        nan |= value.is_nan();
        *o = value;
    }
    written(b + period, nan, n, len)
}
}

dispatch! { ["avx2"]
/// `TA_PLUS_DI`, `TA_MINUS_DI` and `TA_ADX` (all with `period`) on
/// (high, low, close), computed in one pass.
///
/// Directional movement of a bar: `up = high − prev_high`,
/// `down = prev_low − low`; `-DM = down` if `down > 0 && up < down`, else
/// `+DM = up` if `up > 0 && up > down` (ties give neither). +DM, -DM and the
/// true range are summed over rows `1..period`, then smoothed with
/// `s = s − s/period + today` from row `period` on. `DI = 100 · DM / TR`
/// (`0` unless `TR > 0`), first written at row `period`.
/// `DX = 100 · |−DI − +DI| / (−DI + +DI)`; ADX is the mean of the DX of rows
/// `period ..= 2·period − 1` (first written at row `2·period − 1`), then
/// `adx = (adx · (period − 1) + dx) / period`. A DX is skipped when `TR` is
/// not positive or the DI sum is within `±1e-14` (it adds nothing to the
/// seed sum, which is still divided by `period`, and later leaves ADX
/// unchanged).
pub fn dmi(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    period: usize,
    plus_di: &mut [f64],
    minus_di: &mut [f64],
    adx: &mut [f64],
) -> [Missing; 3] {
    let Some((b, n)) = prepare(
        &[high, low, close],
        &mut [&mut *plus_di, &mut *minus_di, &mut *adx],
        period >= DMI_MIN_PERIOD,
        period,
    ) else {
        return [plus_di.len(), minus_di.len(), adx.len()].map(Missing::all);
    };
    let lens = [plus_di.len(), minus_di.len(), adx.len()];
    let adx_lookback = 2 * period - 1;
    let (h, l, c) = (&high[b..n], &low[b..n], &close[b..n]);
    let (plus_di, minus_di, adx) = (&mut plus_di[b..n], &mut minus_di[b..n], &mut adx[b..n]);
    let p = period as f64;
    let p1 = (period - 1) as f64;
    let mut dm = DirectionalSums::new(h[0], l[0], c[0]);
    for i in 1..period {
        dm.add(h[i], l[i], c[i]);
    }
    // The DIs from row `period`; ADX's seed sums the DX of rows up to and
    // including `adx_lookback`, where ADX starts.
    let adx_start = adx_lookback.min(h.len());
    adx[period..adx_start].fill(f64::NAN);
    let (mut di_nan, mut adx_nan) = (false, false);
    let mut sum_dx = 0.0;
    for i in period..(adx_start + 1).min(h.len()) {
        let (pdi, mdi, dx) = dm.smooth(h[i], l[i], c[i], p);
        di_nan |= pdi.is_nan() | mdi.is_nan();
        plus_di[i] = pdi;
        minus_di[i] = mdi;
        if let Some(dx) = dx {
            sum_dx += dx;
        }
    }
    if adx_start < h.len() {
        let i = adx_start;
        let mut value = sum_dx / p;
        adx_nan |= value.is_nan();
        adx[i] = value;
        let rows = h[i + 1..]
            .iter()
            .zip(&l[i + 1..])
            .zip(&c[i + 1..])
            .zip(plus_di[i + 1..].iter_mut().zip(&mut minus_di[i + 1..]))
            .zip(&mut adx[i + 1..]);
        for ((((&h, &l), &c), (pd, md)), a) in rows {
            let (pdi, mdi, dx) = dm.smooth(h, l, c, p);
            di_nan |= pdi.is_nan() | mdi.is_nan();
            *pd = pdi;
            *md = mdi;
            if let Some(dx) = dx {
                value = (value * p1 + dx) / p;
            }
            adx_nan |= value.is_nan();
            *a = value;
        }
    }
    [
        written(b + period, di_nan, n, lens[0]),
        written(b + period, di_nan, n, lens[1]),
        written(b + adx_start, adx_nan, n, lens[2]),
    ]
}

}

/// The running +DM, −DM and true-range sums of [`dmi`], with the previous bar.
struct DirectionalSums {
    plus: f64,
    minus: f64,
    range: f64,
    prev: (f64, f64, f64),
}

impl DirectionalSums {
    fn new(high: f64, low: f64, close: f64) -> Self {
        DirectionalSums {
            plus: 0.0,
            minus: 0.0,
            range: 0.0,
            prev: (high, low, close),
        }
    }

    /// The bar's (+DM, −DM, true range); the bar becomes the previous one.
    #[inline(always)]
    fn bar(&mut self, high: f64, low: f64, close: f64) -> (f64, f64, f64) {
        let (prev_high, prev_low, prev_close) = self.prev;
        self.prev = (high, low, close);
        let (plus, minus) = directional_movement(high - prev_high, prev_low - low);
        (plus, minus, true_range(high, low, prev_close))
    }

    /// Adds a bar to the sums (rows before `period`).
    #[inline(always)]
    fn add(&mut self, high: f64, low: f64, close: f64) {
        let (plus, minus, range) = self.bar(high, low, close);
        self.minus += minus;
        self.plus += plus;
        self.range += range;
    }

    /// Wilder-smooths a bar into the sums (`s − s/p + today`) and returns
    /// (+DI, −DI, DX); DX is `None` where TA-Lib skips it.
    ///
    /// The three sums' divisions by `p` are one vector division, as are the
    /// two DIs' divisions by the range: the loop is bound by the divider,
    /// and a wide division takes it about as long as a single one.
    #[inline(always)]
    fn smooth(&mut self, high: f64, low: f64, close: f64, p: f64) -> (f64, f64, Option<f64>) {
        let (plus, minus, range) = self.bar(high, low, close);
        let sums = [self.minus, self.plus, self.range, 0.0];
        let [qm, qp, qr, _] = std::array::from_fn::<f64, 4, _>(|i| sums[i] / p);
        self.minus = (self.minus - qm) + minus;
        self.plus = (self.plus - qp) + plus;
        self.range = self.range - qr + range;
        if self.range > 0.0 {
            let [rp, rm] = [self.plus / self.range, self.minus / self.range];
            let (pdi, mdi) = (100.0 * rp, 100.0 * rm);
            let s = mdi + pdi;
            let dx = (!is_zero(s)).then(|| 100.0 * ((mdi - pdi).abs() / s));
            (pdi, mdi, dx)
        } else {
            (0.0, 0.0, None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAN: f64 = f64::NAN;

    /// A value no kernel computes here: left in a row the kernel did not write.
    const UNWRITTEN: f64 = -7.0e300;

    /// Runs a single-output kernel on an `UNWRITTEN`-filled output and checks
    /// that it wrote every row and that its [`Missing`] report is true.
    fn run1(f: impl Fn(&[f64], &mut [f64]) -> Missing, x: &[f64]) -> Vec<f64> {
        let mut out = vec![UNWRITTEN; x.len()];
        let missing = f(x, &mut out);
        check(&out, missing);
        out
    }

    /// The three-output version of [`run1`].
    fn run3(
        f: impl Fn(&mut [f64], &mut [f64], &mut [f64]) -> [Missing; 3],
        n: usize,
    ) -> [Vec<f64>; 3] {
        let mut outs = [vec![UNWRITTEN; n], vec![UNWRITTEN; n], vec![UNWRITTEN; n]];
        let [a, b, c] = &mut outs;
        let missing = f(a, b, c);
        for (out, m) in outs.iter().zip(missing) {
            check(out, m);
        }
        outs
    }

    fn check(out: &[f64], missing: Missing) {
        assert!(!out.contains(&UNWRITTEN), "row left unwritten: {out:?}");
        assert!(
            missing.holds_for(out),
            "{missing:?} does not hold for {out:?}"
        );
    }

    /// Equal as numbers, `NaN` matching `NaN`, within `tol` absolute.
    fn assert_close(got: &[f64], want: &[f64], tol: f64) {
        assert_eq!(got.len(), want.len(), "{got:?} vs {want:?}");
        for (i, (g, w)) in got.iter().zip(want).enumerate() {
            if w.is_nan() {
                assert!(g.is_nan(), "row {i}: got {g}, want NaN ({got:?})");
            } else {
                assert!((g - w).abs() <= tol, "row {i}: got {g}, want {w} ({got:?})");
            }
        }
    }

    #[test]
    fn sma_by_hand() {
        let x = [1.0, 2.0, 3.0, 4.0, 6.0];
        assert_close(
            &run1(|x, o| sma(x, 3, o), &x),
            &[NAN, NAN, 2.0, 3.0, 13.0 / 3.0],
            1e-15,
        );
        assert_close(&run1(|x, o| sma(x, 1, o), &x), &x, 0.0);
        assert_close(&run1(|x, o| sma(x, 6, o), &x), &[NAN; 5], 0.0);
        assert!(run1(|x, o| sma(x, 3, o), &[]).is_empty());
    }

    #[test]
    fn ema_is_sma_seeded() {
        // k = 2 / 4 = 0.5; seed = mean(1, 2, 3) = 2; then (4 - 2) * .5 + 2 = 3; (8 - 3) * .5 + 3 = 5.5.
        let x = [1.0, 2.0, 3.0, 4.0, 8.0];
        assert_close(
            &run1(|x, o| ema(x, 3, o), &x),
            &[NAN, NAN, 2.0, 3.0, 5.5],
            0.0,
        );
        // Period 1 runs the recursion with k = 1.
        assert_close(&run1(|x, o| ema(x, 1, o), &x), &x, 0.0);
    }

    #[test]
    fn dema_tema_warm_up_and_value() {
        let x = [1.0, 2.0, 3.0, 4.0, 8.0, 8.0];
        // EMA1 (p=2, k=2/3): -, 1.5, 2.5, 3.5, 6.5, 7.5
        // EMA2: seed mean(1.5, 2.5) = 2 at row 2; row 3: (3.5-2)*2/3+2 = 3; row 4: (6.5-3)*2/3+3 = 5.333..
        let d = run1(|x, o| dema(x, 2, o), &x);
        assert_close(&d, &[NAN, NAN, 3.0, 4.0, 23.0 / 3.0, 74.0 / 9.0], 1e-12);
        let t = run1(|x, o| tema(x, 2, o), &x);
        // EMA3: seed mean(2, 3) = 2.5 at row 3; TEMA = 2.5 + 3*3.5 - 3*3 = 4.
        assert!(t[..3].iter().all(|v| v.is_nan()));
        assert!((t[3] - 4.0).abs() < 1e-12, "{t:?}");
        assert_close(&run1(|x, o| tema(x, 1, o), &x), &x, 0.0);
        assert_close(&run1(|x, o| dema(x, 1, o), &x), &x, 0.0);
    }

    #[test]
    fn rsi_by_hand_and_flat() {
        // Changes: +1, -1, +2 -> gain 3/3 = 1, loss 1/3 -> RSI 75.
        let x = [10.0, 11.0, 10.0, 12.0, 12.0];
        let out = run1(|x, o| rsi(x, 3, o), &x);
        assert!(out[..3].iter().all(|v| v.is_nan()));
        assert!((out[3] - 75.0).abs() < 1e-12);
        // Next change 0: gain = 1*2/3, loss = (1/3)*2/3 -> still 75.
        assert!((out[4] - 75.0).abs() < 1e-12);
        // A flat series gives 0, not 50 (TA_IS_ZERO on gain + loss).
        assert_close(
            &run1(|x, o| rsi(x, 2, o), &[5.0; 4]),
            &[NAN, NAN, 0.0, 0.0],
            0.0,
        );
    }

    #[test]
    fn macd_seeds_fast_on_the_slow_window() {
        let x: Vec<f64> = (0..12).map(|i| f64::from(i * i)).collect();
        let [m, s, h] = run3(|m, s, h| macd(&x, 2, 4, 2, m, s, h), 12);
        // Slow seed: mean(0, 1, 4, 9) = 3.5 at row 3; fast seed: mean(4, 9) = 6.5 at row 3.
        // Row 4: slow (16-3.5)*.4+3.5 = 8.5, fast (16-6.5)*2/3+6.5 = 12.8333; macd 4.3333.
        // Signal (p=2) seed mean(3, 4.3333) at row 4 -> first output row 4.
        assert!(m[..4].iter().all(|v| v.is_nan()));
        assert!((m[4] - (12.5 - 8.5 + 1.0 / 3.0)).abs() < 1e-12, "{m:?}");
        assert!((s[4] - (3.0 + m[4]) / 2.0).abs() < 1e-12);
        assert!((h[4] - (m[4] - s[4])).abs() < 1e-15);
        // Swapped periods give the same result.
        let [m2, _, _] = run3(|m, s, h| macd(&x, 4, 2, 2, m, s, h), 12);
        assert_close(&m2, &m, 0.0);
    }

    #[test]
    fn bbands_and_stddev_population() {
        let x = [1.0, 2.0, 3.0, 4.0];
        let [u, m, l] = run3(|u, m, l| bbands(&x, 2, 2.0, 2.0, u, m, l), 4);
        // Population std of two values one apart is 0.5.
        assert_close(&m, &[NAN, 1.5, 2.5, 3.5], 1e-15);
        assert_close(&u, &[NAN, 2.5, 3.5, 4.5], 1e-12);
        assert_close(&l, &[NAN, 0.5, 1.5, 2.5], 1e-12);
        assert_close(
            &run1(|x, o| stddev(x, 2, 1.0, o), &x),
            &[NAN, 0.5, 0.5, 0.5],
            1e-12,
        );
        assert_close(
            &run1(|x, o| stddev(x, 3, 2.0, o), &[2.0; 4]),
            &[NAN, NAN, 0.0, 0.0],
            0.0,
        );
    }

    #[test]
    fn roc_mom() {
        let x = [0.0, 1.0, 2.0, 0.0, 3.0];
        assert_close(
            &run1(|x, o| roc(x, 1, o), &x),
            &[NAN, 0.0, 100.0, -100.0, 0.0],
            1e-12,
        );
        assert_close(
            &run1(|x, o| mom(x, 2, o), &x),
            &[NAN, NAN, 2.0, -1.0, 1.0],
            0.0,
        );
    }

    #[test]
    fn atr_by_hand() {
        let h = [10.0, 11.0, 12.0, 11.0];
        let l = [9.0, 10.0, 10.5, 9.0];
        let c = [9.5, 10.5, 11.0, 10.0];
        // TR: row1 max(1, 1.5, .5) = 1.5; row2 max(1.5, 1.5, 0) = 1.5; row3 max(2, 0, 2) = 2.
        let out = run1(|_, o| atr(&h, &l, &c, 2, o), &c);
        assert_close(&out, &[NAN, NAN, 1.5, 1.75], 1e-15);
        let out = run1(|_, o| atr(&h, &l, &c, 1, o), &c);
        assert_close(&out, &[NAN, 1.5, 1.5, 2.0], 0.0);
    }

    #[test]
    fn dmi_by_hand() {
        let h = [10.0, 11.0, 12.0, 11.0, 13.0];
        let l = [9.0, 10.0, 10.5, 9.0, 11.0];
        let c = [9.5, 10.5, 11.0, 10.0, 12.0];
        let [p, m, a] = run3(|p, m, a| dmi(&h, &l, &c, 2, p, m, a), 5);
        // Row 1: up 1, down -1 -> +DM 1; TR 1.5.  Row 2: up 1, down -.5 -> +DM;
        // smoothed +DM = 1 - .5 + 1 = 1.5, -DM 0, TR = 1.5 - .75 + 1.5 = 2.25.
        assert!(p[..2].iter().all(|v| v.is_nan()));
        assert!((p[2] - 100.0 * 1.5 / 2.25).abs() < 1e-12);
        assert_eq!(m[2], 0.0);
        // Row 3: up -1, down 1.5 -> -DM 1.5; +DM .75, -DM 1.5, TR 1.125 + 2 = 3.125.
        assert!((p[3] - 100.0 * 0.75 / 3.125).abs() < 1e-12);
        assert!((m[3] - 100.0 * 1.5 / 3.125).abs() < 1e-12);
        // ADX at row 3 = mean(DX row 2 = 100, DX row 3 = 100 * |48 - 24| / 72).
        assert!(a[..3].iter().all(|v| v.is_nan()));
        assert!((a[3] - (100.0 + 100.0 / 3.0) / 2.0).abs() < 1e-9, "{a:?}");
    }

    #[test]
    fn period_one_averages_copy_the_input() {
        // The recursion with k = 1 would give (0.3 - 1) + 1 = 0.30000000000000004.
        let x = [1.0, 0.3, 0.1, 5.0, 0.7];
        assert_ne!((0.3 - 1.0) + 1.0, 0.3);
        for f in [ema, dema, tema, sma] {
            assert_eq!(run1(|x, o| f(x, 1, o), &x), x.to_vec());
        }
        let [m, s, h] = run3(|m, s, h| macd(&x, 2, 3, 1, m, s, h), 5);
        assert_eq!(m[2..], s[2..]);
        assert!(h[2..].iter().all(|v| *v == 0.0));
    }

    #[test]
    fn variance_is_cancellation_free() {
        // Around 1e6 the classic sum-of-squares form loses every digit of a 5e-4 std.
        let x: Vec<f64> = (0..200).map(|i| 1e6 + 1e-3 * f64::from(i % 2)).collect();
        let out = run1(|x, o| stddev(x, 2, 1.0, o), &x);
        assert!(out[0].is_nan());
        for v in &out[1..] {
            assert!((v - 5e-4).abs() < 5e-4 * 1e-6, "{v}");
        }
        // Identical values give exactly 0, also after a busy stretch.
        let mut y = vec![3.0, 1.0, 4.0, 1.0, 5.0];
        y.extend([2.5; 10]);
        let out = run1(|x, o| stddev(x, 3, 1.0, o), &y);
        assert!(out[7..].iter().all(|v| *v == 0.0), "{out:?}");
        // A fine quote keeps a non-zero deviation (no fixed 1e-14 variance floor).
        let z: Vec<f64> = (0..50).map(|i| 1.1 + 1e-9 * f64::from(i % 3)).collect();
        assert!(run1(|x, o| stddev(x, 5, 1.0, o), &z)[4..]
            .iter()
            .all(|v| *v > 1e-10));
    }

    #[test]
    fn atr_wilder_step_is_fused() {
        let h = [2.0, 3.0, 4.5, 4.0, 6.0];
        let l = [1.0, 2.0, 3.0, 3.5, 4.0];
        let c = [1.5, 2.5, 4.0, 3.8, 5.0];
        let out = run1(|_, o| atr(&h, &l, &c, 3, o), &c);
        // TR rows 1..=3: 1.5, 2.0, 0.5 -> seed 4/3; row 4: TR 2.2.
        let beta = 2.0 / 3.0;
        let alpha = 1.0 - beta;
        assert_eq!(out[3], 4.0 / 3.0);
        assert_eq!(out[4], f64::mul_add(beta, 4.0 / 3.0, alpha * 2.2));
    }

    #[test]
    fn dmi_flat_bars_are_zero() {
        let x = [1.5; 8];
        let [p, m, a] = run3(|p, m, a| dmi(&x, &x, &x, 2, p, m, a), 8);
        assert_close(&p, &[NAN, NAN, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], 0.0);
        assert_close(&m, &[NAN, NAN, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], 0.0);
        assert_close(&a, &[NAN, NAN, NAN, 0.0, 0.0, 0.0, 0.0, 0.0], 0.0);
    }

    #[test]
    fn leading_nan_skipped_and_nan_never_panics() {
        let x = [NAN, NAN, 1.0, 2.0, 3.0];
        assert_close(
            &run1(|x, o| sma(x, 2, o), &x),
            &[NAN, NAN, NAN, 1.5, 2.5],
            1e-15,
        );
        let y = [1.0, NAN, 3.0, 4.0, f64::INFINITY, 1.0];
        // Every row is written and every report holds, the interior NaN included.
        for f in [sma, ema, dema, tema, rsi, roc, mom] {
            for p in 0..8 {
                let _ = run1(|x, o| f(x, p, o), &y);
            }
        }
        for p in 0..8 {
            let _ = run1(|x, o| stddev(x, p, 1.0, o), &y);
            let _ = run1(|x, o| atr(x, x, x, p, o), &y);
            let _ = run3(|a, b, c| bbands(&y, p, 2.0, 2.0, a, b, c), 6);
            let _ = run3(|a, b, c| dmi(&y, &y, &y, p, a, b, c), 6);
            for q in 0..4 {
                let _ = run3(|a, b, c| macd(&y, p, q, 2, a, b, c), 6);
            }
            // Mismatched lengths never index out of bounds; rows past the
            // shortest input are missing.
            let _ = run1(|x, o| atr(x, &x[..3], x, p, o), &y);
            let _ = run3(|a, b, c| dmi(&y[..4], &y, &y, p, a, b, c), 6);
        }
        // A NaN after the warm-up is reported, not hidden.
        let mut z = vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        z[4] = NAN;
        let mut out = vec![0.0; 6];
        assert!(mom(&z, 1, &mut out).interior);
        assert!(!mom(&[1.0, 2.0, 3.0], 1, &mut out[..3]).interior);
        // All-missing input gives all-missing output.
        assert!(run1(|x, o| ema(x, 2, o), &[NAN; 4])
            .iter()
            .all(|v| v.is_nan()));
        // Period below TA-Lib's minimum gives all-missing output.
        assert!(run1(|x, o| rsi(x, 1, o), &[1.0, 2.0, 3.0])
            .iter()
            .all(|v| v.is_nan()));
    }
}
