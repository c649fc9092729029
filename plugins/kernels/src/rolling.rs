//! Rolling-window statistics (SPEC P2, §3.4, Appendix A).
//!
//! Windows are positional: row `t` covers rows `max(0, t−w+1) ..= t`, and a
//! result exists only when all `w` values are present (`min_periods = w`).
//! Non-finite inputs count as missing. Mean, sum and variance replicate
//! pandas 2.x's streaming add/remove updates (Appendix A.1/A.2) so results
//! agree with the reference to the last bit; the streaming std accumulates
//! rounding, which is why exact alternatives exist as well.

use crate::buffer::zeroed;
use crate::missing::{Missing, Watch};

#[inline]
fn missing(v: f64) -> bool {
    !v.is_finite()
}

/// Whether the window of `w` rows ending at row `t` is complete: it fits in
/// the series and holds none of the missing rows, the last of which is
/// `last_missing`.
#[inline]
fn complete_window(t: usize, w: usize, last_missing: Option<usize>) -> bool {
    w > 0 && t + 1 >= w && last_missing.is_none_or(|m| m + w <= t)
}

/// Runs the Appendix A schedule: at row 0 (and every row when `w == 1`) the
/// accumulator is reset and fed the whole window; otherwise the value leaving
/// the window is removed and the new one added.
trait Streaming {
    fn reset(&mut self, first_of_window: f64);
    fn add(&mut self, v: f64);
    fn remove(&mut self, v: f64);
}

fn drive<S: Streaming>(x: &[f64], w: usize, state: &mut S, mut emit: impl FnMut(usize, &S)) {
    if w == 0 {
        // No window: the empty state everywhere (every result missing).
        (0..x.len()).for_each(|t| emit(t, state));
        return;
    }
    for t in 0..x.len() {
        step(x, w, t, state);
        emit(t, state);
    }
}

/// Row `t` of the schedule of [`drive`] (`w > 0`; rows in order from 0).
#[inline(always)]
fn step<S: Streaming>(x: &[f64], w: usize, t: usize, state: &mut S) {
    if t == 0 || w == 1 {
        let lo = (t + 1).saturating_sub(w);
        state.reset(x[lo]);
        for &v in &x[lo..=t] {
            state.add(v);
        }
    } else {
        if t >= w {
            state.remove(x[t - w]);
        }
        state.add(x[t]);
    }
}

/// Appendix A.1 accumulator (Kahan-compensated sum with the sign and
/// identical-run bookkeeping pandas uses).
#[derive(Default)]
struct SumState {
    k: usize,
    total: f64,
    comp_add: f64,
    comp_rem: f64,
    negatives: usize,
    run: usize,
    last: f64,
}

impl Streaming for SumState {
    fn reset(&mut self, first_of_window: f64) {
        *self = SumState {
            last: first_of_window,
            ..SumState::default()
        };
    }
    fn add(&mut self, v: f64) {
        if missing(v) {
            return;
        }
        self.k += 1;
        let y = v - self.comp_add;
        let s = self.total + y;
        self.comp_add = (s - self.total) - y;
        self.total = s;
        if v.is_sign_negative() {
            self.negatives += 1;
        }
        self.run = if v == self.last { self.run + 1 } else { 1 };
        self.last = v;
    }
    fn remove(&mut self, v: f64) {
        if missing(v) {
            return;
        }
        self.k -= 1;
        let y = -v - self.comp_rem;
        let s = self.total + y;
        self.comp_rem = (s - self.total) - y;
        self.total = s;
        if v.is_sign_negative() {
            self.negatives -= 1;
        }
    }
}

/// `ROLL_MEAN(x, w)` (pandas `rolling(w).mean()`), `NaN` where missing.
pub fn roll_mean(x: &[f64], w: usize, out: &mut [f64]) -> Missing {
    let mut st = SumState::default();
    let mut watch = Watch::default();
    drive(x, w, &mut st, |t, s| {
        out[t] = mean_of(s, w);
        watch.see(out[t]);
    });
    watch.report()
}

/// The A.1 mean of the current window.
#[inline]
fn mean_of(s: &SumState, w: usize) -> f64 {
    if w > 0 && s.k >= w {
        let r = s.total / s.k as f64;
        if s.run >= s.k {
            s.last
        } else if s.negatives == 0 && r < 0.0 || s.negatives == s.k && r > 0.0 {
            0.0
        } else {
            r
        }
    } else {
        f64::NAN
    }
}

/// `ROLL_SUM(x, w)` (pandas `rolling(w).sum()`), `NaN` where missing.
pub fn roll_sum(x: &[f64], w: usize, out: &mut [f64]) {
    let mut st = SumState::default();
    drive(x, w, &mut st, |t, s| {
        out[t] = if w > 0 && s.k >= w {
            if s.run >= s.k {
                s.last * s.k as f64
            } else {
                s.total
            }
        } else {
            f64::NAN
        };
    });
}

/// Appendix A.2 accumulator (Welford with Kahan-compensated mean).
///
/// With `FMA` (only in code compiled with the `fma` feature), the running
/// mean's divisions by the count go through [`div_count`]: same quotient,
/// shorter dependency chain. The reciprocals of the last counts divided by
/// are kept (`add_k`/`add_r`, `rem_k`/`rem_r`; in a full window the count
/// alternates between `w` and `w − 1`).
#[derive(Default)]
struct VarState<const FMA: bool> {
    k: usize,
    mean: f64,
    m2: f64,
    comp_add: f64,
    comp_rem: f64,
    run: usize,
    last: f64,
    add_k: usize,
    add_r: Recip,
    rem_k: usize,
    rem_r: Recip,
}

/// `d / k` for a count `k` (`1 ≤ k < 2^48`, far more rows than memory
/// holds) whose reciprocal the caller keeps as a pair `(r, r_lo)`
/// ([`Recip::new`]: `r` the correctly rounded `1/k`, `r + r_lo` within
/// `2^-106` of it).
///
/// With `FMA`: `q = d·r + (d·r_lo)` in one fused multiply-add. Its exact
/// argument misses `T = d / k` by at most `2^-105·|T|` (the pair's error,
/// and the rounding of `d·r_lo`, whose magnitude is at most `2^-53·|T|`),
/// which is below `2^-52` ulp of `T`. `T` is never a rounding midpoint and
/// lies at least `1/(2k)` ulp from one (write `k = 2^a·k'` with `k'` odd:
/// `d / 2^a` is exact, and a midpoint `m` has `k'·m` an odd multiple of half
/// the ulp while `d / 2^a` is a whole multiple of it), so for `k < 2^48`
/// rounding once gives exactly the correctly rounded `d / k`. It replaces a
/// division on the running mean's dependency chain (~13 cycles) by a product
/// and a fused multiply-add (~8). Zero, NaN, and magnitudes outside
/// `[2^-900, 2^1000]` (where the product could underflow or overflow) take
/// the division.
#[inline(always)]
fn div_count<const FMA: bool>(d: f64, k: f64, r: Recip) -> f64 {
    if !FMA {
        d / k
    } else if by_recip_ok(d) {
        r.times(d)
    } else {
        divide(d, k)
    }
}

/// Whether [`Recip::times`] gives `d / k` exactly: `d` is not zero, `NaN`,
/// nor so small or large that the products could underflow or overflow.
#[inline(always)]
pub(crate) fn by_recip_ok(d: f64) -> bool {
    const TINY: f64 = f64::from_bits((1023 - 900) << 52); // 2^-900
    const HUGE: f64 = f64::from_bits((1023 + 1000) << 52); // 2^1000
    d.abs() >= TINY && d.abs() <= HUGE
}

/// `d / k` out of line, so that [`div_count`] branches to it: as a select,
/// the division would run every time and the chain would wait for it.
#[cold]
#[inline(never)]
fn divide(d: f64, k: f64) -> f64 {
    d / k
}

/// `1/k` as an unevaluated pair `hi + lo` (`hi` correctly rounded, the pair
/// within `2^-106` relative), for [`div_count`].
#[derive(Default, Clone, Copy)]
pub(crate) struct Recip {
    hi: f64,
    lo: f64,
}

impl Recip {
    #[inline]
    pub(crate) fn new(k: f64) -> Self {
        let hi = 1.0 / k;
        // 1 − k·hi is exact in a fused multiply-add (|k·hi − 1| ≤ 2^-53).
        let rem = (-k).mul_add(hi, 1.0);
        Recip { hi, lo: rem / k }
    }

    /// [`Recip::new`] in code compiled with the `fma` feature (`FMA`); a
    /// placeholder elsewhere, where the callers divide instead.
    #[inline]
    pub(crate) fn if_fma<const FMA: bool>(k: f64) -> Self {
        if FMA {
            Recip::new(k)
        } else {
            Recip::default()
        }
    }

    /// `d·(hi + lo)` in one fused multiply-add: exactly `d / k` when
    /// [`by_recip_ok`] (see [`div_count`]); only in code compiled with the
    /// `fma` feature (elsewhere `mul_add` is a slow libm call).
    #[inline(always)]
    pub(crate) fn times(self, d: f64) -> f64 {
        d.mul_add(self.hi, d * self.lo)
    }
}

impl<const FMA: bool> Streaming for VarState<FMA> {
    #[inline(always)]
    fn reset(&mut self, first_of_window: f64) {
        *self = VarState {
            last: first_of_window,
            ..VarState::default()
        };
    }
    #[inline(always)]
    fn add(&mut self, v: f64) {
        if missing(v) {
            return;
        }
        self.k += 1;
        self.run = if v == self.last { self.run + 1 } else { 1 };
        self.last = v;
        let prev_mean = self.mean - self.comp_add;
        let y = v - self.comp_add;
        let d = y - self.mean;
        self.comp_add = (d + self.mean) - y;
        if FMA && self.add_k != self.k {
            (self.add_k, self.add_r) = (self.k, Recip::new(self.k as f64));
        }
        self.mean += div_count::<FMA>(d, self.k as f64, self.add_r);
        self.m2 += (v - prev_mean) * (v - self.mean);
    }
    #[inline(always)]
    fn remove(&mut self, v: f64) {
        if missing(v) {
            return;
        }
        self.k -= 1;
        if self.k > 0 {
            let prev_mean = self.mean - self.comp_rem;
            let y = v - self.comp_rem;
            let d = y - self.mean;
            self.comp_rem = (d + self.mean) - y;
            if FMA && self.rem_k != self.k {
                (self.rem_k, self.rem_r) = (self.k, Recip::new(self.k as f64));
            }
            self.mean -= div_count::<FMA>(d, self.k as f64, self.rem_r);
            self.m2 -= (v - prev_mean) * (v - self.mean);
        } else {
            self.mean = 0.0;
            self.m2 = 0.0;
        }
    }
}

/// `ROLL_STD(x, w)` with `ddof` (pandas 2.x `rolling(w).std(ddof)`), `NaN` where missing.
pub fn roll_std(x: &[f64], w: usize, ddof: usize, out: &mut [f64]) {
    let mut st = VarState::<false>::default();
    drive(x, w, &mut st, |t, s| out[t] = std_of(s, w, ddof));
}

/// Rows [`roll_mean_std`] checks for missing values at a time.
const BLOCK: usize = 256;

/// The A.2 std of the current window.
#[inline]
fn std_of<const FMA: bool>(s: &VarState<FMA>, w: usize, ddof: usize) -> f64 {
    let (num, den) = variance_of(s, w, ddof);
    std_from(num, den)
}

/// The A.2 variance of the current window as `(numerator, denominator)`:
/// `m2 / (k − ddof)`, exactly `0` for one value or a run of identical ones,
/// `NaN` while the window is incomplete.
#[inline]
fn variance_of<const FMA: bool>(s: &VarState<FMA>, w: usize, ddof: usize) -> (f64, f64) {
    if s.k >= w.max(1) && s.k > ddof {
        if s.k == 1 || s.run >= s.k {
            (0.0, 1.0)
        } else {
            (s.m2, (s.k - ddof) as f64)
        }
    } else {
        (f64::NAN, 1.0)
    }
}

/// The std of a [`variance_of`] result, `0` for a negative variance.
#[inline(always)]
pub fn std_from(num: f64, den: f64) -> f64 {
    let var = num / den;
    if var < 0.0 {
        0.0
    } else {
        var.sqrt()
    }
}

/// [`roll_mean`] one row at a time over a series the caller holds: each
/// [`push`] runs the schedule of `drive` for the next row (the value leaving
/// the window is read back from the series), so its result equals
/// `roll_mean` bit for bit.
///
/// [`push`]: StreamingMean::push
pub struct StreamingMean {
    w: usize,
    state: SumState,
}

impl StreamingMean {
    /// An empty window of `w` rows (`w = 0`: every result missing).
    pub fn new(w: usize) -> Self {
        StreamingMean {
            w,
            state: SumState::default(),
        }
    }

    /// The mean of the window ending at row `t` of `x`; call for rows
    /// `0, 1, 2, …` in order.
    #[inline]
    pub fn push(&mut self, x: &[f64], t: usize) -> f64 {
        if self.w == 0 {
            return f64::NAN;
        }
        step(x, self.w, t, &mut self.state);
        mean_of(&self.state, self.w)
    }
}

/// [`roll_std`] one row at a time, for kernels that compute the input on the
/// fly: the last `w` values are kept in a ring, and each [`push_variance`]
/// runs the same Appendix A schedule as `drive`, so `std_from` of its result
/// equals `roll_std` bit for bit.
///
/// [`push_variance`]: StreamingStd::push_variance
///
/// `FMA`: divide as [`div_count`] does; only for code compiled with the
/// `fma` feature (`dispatch!`'s `const WIDE`), same results either way.
pub struct StreamingStd<const FMA: bool> {
    w: usize,
    ddof: usize,
    state: VarState<FMA>,
    ring: Vec<f64>,
    /// Ring slot of the value leaving the window on the next push.
    slot: usize,
    rows: usize,
}

impl<const FMA: bool> StreamingStd<FMA> {
    /// An empty window of `w` rows (`w = 0`: every result missing) for a
    /// series of at most `rows` values.
    ///
    /// The ring holds `min(w, rows)` values: a window longer than the series
    /// (a user's `window=10**11`) allocates nothing it cannot use, as no
    /// value ever leaves such a window.
    pub fn new(w: usize, ddof: usize, rows: usize) -> Self {
        let ring = vec![0.0; w.min(rows).max(1)];
        StreamingStd {
            w,
            ddof,
            state: VarState::default(),
            ring,
            slot: 0,
            rows: 0,
        }
    }

    /// Appends the next row's value; returns the variance of the window
    /// ending there as `(numerator, denominator)`. [`std_from`] turns it into
    /// the std; the two steps are apart so a caller can run the division and
    /// square root, which vectorise, a block of rows at a time.
    #[inline(always)]
    pub fn push_variance(&mut self, v: f64) -> (f64, f64) {
        if self.w == 0 {
            return (f64::NAN, 1.0);
        }
        if self.rows == 0 || self.w == 1 {
            self.state.reset(v);
            self.state.add(v);
        } else {
            if self.rows >= self.w {
                self.state.remove(self.ring[self.slot]);
            }
            self.state.add(v);
        }
        self.ring[self.slot] = v;
        self.slot += 1;
        if self.slot == self.ring.len() {
            self.slot = 0;
        }
        self.rows += 1;
        variance_of(&self.state, self.w, self.ddof)
    }
}

/// Where [`roll_mean_std`] sends its results: each row's mean and std, and
/// the end of every block of rows.
pub trait MeanStdSink {
    /// Row `t`'s `ROLL_MEAN` and `ROLL_STD` (rows in order).
    fn row(&mut self, t: usize, mean: f64, std: f64);
    /// The rows `rows` (at most a few hundred) have all been sent.
    fn block(&mut self, rows: std::ops::Range<usize>);
}

/// `ROLL_MEAN(x, w)` and `ROLL_STD(x, w, ddof)` in one pass, sent to `sink`
/// row by row.
///
/// The two accumulators are independent, so running them together overlaps
/// their latencies. Results equal [`roll_mean`] and [`roll_std`]
/// bit for bit. `FMA` as for [`StreamingStd`]; inlined, so that the caller's
/// target features apply.
#[inline(always)]
pub fn roll_mean_std<const FMA: bool>(
    x: &[f64],
    w: usize,
    ddof: usize,
    sink: &mut impl MeanStdSink,
) {
    struct Both<const FMA: bool>(SumState, VarState<FMA>);
    impl<const FMA: bool> Streaming for Both<FMA> {
        #[inline(always)]
        fn reset(&mut self, first: f64) {
            self.0.reset(first);
            self.1.reset(first);
        }
        #[inline(always)]
        fn add(&mut self, v: f64) {
            self.0.add(v);
            self.1.add(v);
        }
        #[inline(always)]
        fn remove(&mut self, v: f64) {
            self.0.remove(v);
            self.1.remove(v);
        }
    }
    let mut st = Both(SumState::default(), VarState::<FMA>::default());
    let n = x.len();
    for first in (0..n).step_by(BLOCK) {
        let rows = first..(first + BLOCK).min(n);
        // A full window that stays free of missing values through the
        // block: every row is one remove and one add at a fixed count.
        let steady = w >= 2
            && first >= w
            && x[first - w..rows.end]
                .iter()
                .fold(true, |ok, v| ok & v.is_finite());
        if steady {
            steady_rows(&mut st.0, &mut st.1, x, w, ddof, rows.clone(), sink);
        } else {
            // The schedule of `drive`, written out so that the row loop is
            // one body (a per-row closure call was left out of line in the
            // `fma` copy).
            for t in rows.clone() {
                if w > 0 {
                    step(x, w, t, &mut st);
                }
                sink.row(t, mean_of(&st.0, w), std_of(&st.1, w, ddof));
            }
        }
        sink.block(rows);
    }
}

/// The rows of [`roll_mean_std`] whose window is full and free of missing
/// values: the operations of `remove(x[t − w])` then `add(x[t])` on both
/// accumulators, [`mean_of`] and [`std_of`], in the same order, on local
/// copies of the state (kept in registers; through the structs the
/// compiler spilled them, which put store-to-load latency on the chains).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn steady_rows<const FMA: bool>(
    sum: &mut SumState,
    var: &mut VarState<FMA>,
    x: &[f64],
    w: usize,
    ddof: usize,
    rows: std::ops::Range<usize>,
    sink: &mut impl MeanStdSink,
) {
    debug_assert!(w >= 2 && rows.start >= w && sum.k == w && var.k == w);
    let (wf, w1f) = (w as f64, (w - 1) as f64);
    let (add_r, rem_r) = (Recip::if_fma::<FMA>(wf), Recip::if_fma::<FMA>(w1f));
    let den = w.checked_sub(ddof).filter(|&d| d > 0).map(|d| d as f64);
    let (mut total, mut s_add, mut s_rem, mut negatives) =
        (sum.total, sum.comp_add, sum.comp_rem, sum.negatives);
    let (mut mean, mut m2, mut v_add, mut v_rem) = (var.mean, var.m2, var.comp_add, var.comp_rem);
    let (mut run, mut last) = (sum.run, sum.last);
    let leaving = &x[rows.start - w..rows.end - w];
    let entering = &x[rows.clone()];
    for ((&out, &v), t) in leaving.iter().zip(entering).zip(rows) {
        // SumState::remove(out)
        let y = -out - s_rem;
        let sum = total + y;
        s_rem = (sum - total) - y;
        total = sum;
        negatives -= usize::from(out.is_sign_negative());
        // VarState::remove(out), at count w − 1
        let prev_mean = mean - v_rem;
        let y = out - v_rem;
        let d = y - mean;
        v_rem = (d + mean) - y;
        mean -= div_count::<FMA>(d, w1f, rem_r);
        m2 -= (out - prev_mean) * (out - mean);
        // SumState::add(v)
        let y = v - s_add;
        let sum = total + y;
        s_add = (sum - total) - y;
        total = sum;
        negatives += usize::from(v.is_sign_negative());
        run = if v == last { run + 1 } else { 1 };
        last = v;
        // VarState::add(v), at count w
        let prev_mean = mean - v_add;
        let y = v - v_add;
        let d = y - mean;
        v_add = (d + mean) - y;
        mean += div_count::<FMA>(d, wf, add_r);
        m2 += (v - prev_mean) * (v - mean);
        // mean_of and std_of at count w
        let r = total / wf;
        let m = if run >= w {
            last
        } else if negatives == 0 && r < 0.0 || negatives == w && r > 0.0 {
            0.0
        } else {
            r
        };
        let sd = match den {
            Some(_) if run >= w => 0.0,
            Some(den) => std_from(m2, den),
            None => f64::NAN,
        };
        sink.row(t, m, sd);
    }
    (sum.total, sum.comp_add, sum.comp_rem, sum.negatives) = (total, s_add, s_rem, negatives);
    (var.mean, var.m2, var.comp_add, var.comp_rem) = (mean, m2, v_add, v_rem);
    (sum.run, sum.last, var.run, var.last) = (run, last, run, last);
    if FMA {
        (var.add_k, var.add_r, var.rem_k, var.rem_r) = (w, add_r, w - 1, rem_r);
    }
}

/// Exact rolling std (omega_pl's corrected option): per complete window, the
/// mean and the squared deviations are summed with Neumaier compensation, so
/// an all-identical window gives exactly 0 and no rounding accumulates.
pub fn roll_std_exact(x: &[f64], w: usize, ddof: usize, out: &mut [f64]) {
    let mut last_missing: Option<usize> = None;
    for t in 0..x.len() {
        if missing(x[t]) {
            last_missing = Some(t);
        }
        let complete = w > ddof && complete_window(t, w, last_missing);
        out[t] = if complete {
            let win = &x[t + 1 - w..=t];
            let mean = neumaier(win.iter().copied()) / w as f64;
            let ss = neumaier(win.iter().map(|v| (v - mean) * (v - mean)));
            (ss / (w - ddof) as f64).sqrt()
        } else {
            f64::NAN
        };
    }
}

/// Compensated (Neumaier) sum.
pub fn neumaier(values: impl Iterator<Item = f64>) -> f64 {
    let (mut sum, mut comp) = (0.0_f64, 0.0_f64);
    for v in values {
        let t = sum + v;
        if sum.abs() >= v.abs() {
            comp += (sum - t) + v;
        } else {
            comp += (v - t) + sum;
        }
        sum = t;
    }
    sum + comp
}

dispatch! { ["avx512f", "fma"] const WIDE;
/// Plain two-pass std of SPEC §3.4 (the original's Rust port): for complete
/// windows (no `NaN`), left-to-right mean, then left-to-right squared
/// deviations over `w − ddof`. Callers validate `w > ddof`.
pub fn rolling_std_two_pass(x: &[f64], w: usize, ddof: usize, out: &mut [f64]) -> Missing {
    // Rows computed in lockstep: the left-to-right sums of different rows are
    // independent chains, which the compiler packs into vector registers
    // (four 512-bit registers for 32 rows).
    const L: usize = 32;
    // The block's divisions through reciprocals (same quotients, see
    // `div_count`): vector division is slow.
    let (by_w, by_dof) = (Recip::if_fma::<WIDE>(w as f64), Recip::if_fma::<WIDE>(w.saturating_sub(ddof) as f64));
    let complete_from = |t: usize, last_nan: Option<usize>| w > ddof && complete_window(t, w, last_nan);
    let mut watch = Watch::default();
    // last_nan: the last NaN at or before t.
    let mut last_nan: Option<usize> = None;
    let mut t = 0;
    while t < x.len().min(out.len()) {
        if t + L <= x.len().min(out.len()) && complete_from(t, last_nan) && !x[t..t + L].iter().any(|v| v.is_nan()) {
            let span = &x[t + 1 - w..t + L];
            let mut s = [0.0f64; L];
            for j in 0..w {
                let row = lanes::<L>(span, j);
                for l in 0..L {
                    s[l] += row[l];
                }
            }
            let mean = quotients::<WIDE, L>(s, w as f64, by_w);
            let mut ss = [0.0f64; L];
            for j in 0..w {
                let row = lanes::<L>(span, j);
                for l in 0..L {
                    let d = row[l] - mean[l];
                    ss[l] += d * d;
                }
            }
            let var = quotients::<WIDE, L>(ss, (w - ddof) as f64, by_dof);
            let block = &mut out[t..t + L];
            for (o, v) in block.iter_mut().zip(var) {
                *o = v.sqrt();
            }
            watch.see_all(block);
            t += L;
            continue;
        }
        if x[t].is_nan() {
            last_nan = Some(t);
        }
        out[t] = if complete_from(t, last_nan) {
            let win = &x[t + 1 - w..=t];
            let mut sum = 0.0;
            for v in win {
                sum += v;
            }
            let mean = sum / w as f64;
            let mut ss = 0.0;
            for v in win {
                ss += (v - mean) * (v - mean);
            }
            (ss / (w - ddof) as f64).sqrt()
        } else {
            f64::NAN
        };
        watch.see(out[t]);
        t += 1;
    }
    out[t..].fill(f64::NAN);
    watch.see_all(&out[t..]);
    watch.report()
}
}

/// `v / k` for each lane: through the reciprocal `r` of `k` when `FMA`
/// (code compiled with the `fma` feature) and every lane allows it
/// ([`by_recip_ok`]), which gives the same quotients; else by division.
#[inline(always)]
pub(crate) fn quotients<const FMA: bool, const L: usize>(
    v: [f64; L],
    k: f64,
    r: Recip,
) -> [f64; L] {
    // Loops, not `array::map`: the compiler left `map` on 32 lanes out of line.
    let mut q = v;
    if FMA && v.iter().fold(true, |ok, &d| ok & by_recip_ok(d)) {
        for d in &mut q {
            *d = r.times(*d);
        }
    } else {
        for d in &mut q {
            *d /= k;
        }
    }
    q
}

/// `L` consecutive values of `x` from `at`, as an array (the compiler then
/// knows the length and vectorises the lane loops).
#[inline(always)]
fn lanes<const L: usize>(x: &[f64], at: usize) -> &[f64; L] {
    x[at..at + L]
        .try_into()
        .expect("the span holds w + L - 1 values")
}

/// Exact rolling extreme (`max` when `MAX`, else `min`) of complete windows,
/// in O(n) (van Herk / Gil-Werman: per stretch of `w` rows,
/// running extremes from the stretch's start and to its end; a window spans
/// at most two stretches and is the extreme of the two).
///
/// Only complete windows (all values finite) are written, so the running
/// extremes can compare without regard to `NaN`: every value a written
/// window reads lies inside it.
fn roll_extreme<const MAX: bool>(x: &[f64], w: usize, out: &mut [f64]) {
    let n = x.len().min(out.len());
    if w == 0 || n < w {
        out.fill(f64::NAN);
        return;
    }
    // Ties keep the first operand, as `f64::max`/`min` do on x86-64 (it
    // decides the sign of a zero extreme).
    let pick = |a: f64, b: f64| {
        if MAX && a >= b || !MAX && a <= b {
            a
        } else {
            b
        }
    };
    // Running extremes from each stretch's start go straight into `out`.
    for (xs, fs) in x[..n].chunks(w).zip(out.chunks_mut(w)) {
        let mut e = xs[0];
        for (&v, f) in xs.iter().zip(fs.iter_mut()) {
            e = pick(e, v);
            *f = e;
        }
    }
    let mut bwd = zeroed(n);
    for (xs, bs) in x[..n].chunks(w).zip(bwd.chunks_mut(w)) {
        let mut e = xs[xs.len() - 1];
        for (&v, b) in xs.iter().zip(bs.iter_mut()).rev() {
            e = pick(e, v);
            *b = e;
        }
    }
    let mut last_missing: Option<usize> = None;
    for t in 0..n {
        if missing(x[t]) {
            last_missing = Some(t);
        }
        out[t] = if complete_window(t, w, last_missing) {
            pick(bwd[t + 1 - w], out[t])
        } else {
            f64::NAN
        };
    }
    out[n..].fill(f64::NAN);
}

/// `ROLL_MAX(x, w)`.
pub fn roll_max(x: &[f64], w: usize, out: &mut [f64]) {
    roll_extreme::<true>(x, w, out);
}

/// `ROLL_MIN(x, w)`.
pub fn roll_min(x: &[f64], w: usize, out: &mut [f64]) {
    roll_extreme::<false>(x, w, out);
}

#[cfg(test)]
mod tests {
    use super::*;

    const N: f64 = f64::NAN;

    fn run<R>(f: impl Fn(&[f64], &mut [f64]) -> R, x: &[f64]) -> Vec<f64> {
        let mut out = vec![0.0; x.len()];
        f(x, &mut out);
        out
    }

    fn same(a: &[f64], b: &[f64]) -> bool {
        a.len() == b.len()
            && a.iter()
                .zip(b)
                .all(|(x, y)| x == y || (x.is_nan() && y.is_nan()))
    }

    #[test]
    fn mean_sum_windows_and_gaps() {
        let x = [1.0, 2.0, 3.0, N, 5.0, 6.0, 7.0];
        assert!(same(
            &run(|x, o| roll_mean(x, 2, o), &x),
            &[N, 1.5, 2.5, N, N, 5.5, 6.5]
        ));
        assert!(same(
            &run(|x, o| roll_sum(x, 3, o), &x),
            &[N, N, 6.0, N, N, N, 18.0]
        ));
        assert!(same(
            &run(|x, o| roll_mean(x, 1, o), &x),
            &[1.0, 2.0, 3.0, N, 5.0, 6.0, 7.0]
        ));
    }

    #[test]
    fn identical_window_is_exact() {
        let x = [0.3, 0.1, 0.7, 1.23456, 1.23456, 1.23456];
        let m = run(|x, o| roll_mean(x, 3, o), &x);
        assert_eq!(m[5], 1.23456);
        let s = run(|x, o| roll_sum(x, 3, o), &x);
        assert_eq!(s[5], 1.23456 * 3.0);
        let sd = run(|x, o| roll_std(x, 3, 1, o), &x);
        assert_eq!(sd[5], 0.0);
        let ex = run(|x, o| roll_std_exact(x, 3, 1, o), &x);
        assert_eq!(ex[5], 0.0);
    }

    #[test]
    fn std_matches_textbook_on_simple_data() {
        let x = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0];
        let sd = run(|x, o| roll_std(x, 8, 0, o), &x);
        assert!((sd[7] - 2.0).abs() < 1e-15);
        let ex = run(|x, o| roll_std_exact(x, 8, 0, o), &x);
        assert_eq!(ex[7], 2.0);
        let tp = run(|x, o| rolling_std_two_pass(x, 8, 0, o), &x);
        assert_eq!(tp[7], 2.0);
        // w = 1 with ddof 1 is always missing.
        assert!(run(|x, o| roll_std(x, 1, 1, o), &x)
            .iter()
            .all(|v| v.is_nan()));
    }

    #[test]
    fn two_pass_lockstep_equals_the_definition() {
        // SPEC 3.4 row by row: left-to-right mean, then squared deviations.
        fn plain(x: &[f64], w: usize, ddof: usize) -> Vec<f64> {
            (0..x.len())
                .map(|t| {
                    if t + 1 < w || w <= ddof || x[t + 1 - w..=t].iter().any(|v| v.is_nan()) {
                        return f64::NAN;
                    }
                    let win = &x[t + 1 - w..=t];
                    let mean = win.iter().fold(0.0, |a, v| a + v) / w as f64;
                    (win.iter().fold(0.0, |a, v| a + (v - mean) * (v - mean)) / (w - ddof) as f64)
                        .sqrt()
                })
                .collect()
        }
        let mut x: Vec<f64> = (0..700)
            .map(|i| 1.1 + 1e-3 * (f64::from(i) * 0.61).cos())
            .collect();
        x[40] = f64::NAN;
        x[300] = f64::INFINITY;
        x[400..460].fill(1.3);
        for w in [1, 2, 5, 20, 33, 100] {
            for ddof in [0, 1] {
                let mut got = vec![0.0; x.len()];
                let missing = rolling_std_two_pass(&x, w, ddof, &mut got);
                assert!(missing.holds_for(&got), "w={w}: {missing:?}");
                assert!(same(&got, &plain(&x, w, ddof)), "w={w} ddof={ddof}");
            }
        }
    }

    /// Collects what [`roll_mean_std`] sends, checking the order of rows.
    #[derive(Default)]
    struct Rows {
        means: Vec<f64>,
        stds: Vec<f64>,
        blocks_end: usize,
    }

    impl MeanStdSink for Rows {
        fn row(&mut self, t: usize, mean: f64, std: f64) {
            assert_eq!(t, self.means.len());
            self.means.push(mean);
            self.stds.push(std);
        }
        fn block(&mut self, rows: std::ops::Range<usize>) {
            assert_eq!((rows.start, rows.end), (self.blocks_end, self.means.len()));
            self.blocks_end = rows.end;
        }
    }

    #[test]
    fn mean_std_pass_equals_the_columns() {
        // Long finite stretches (the steady rows) around gaps, infinities,
        // runs of identical values, and values crossing zero (the sign
        // bookkeeping of the mean).
        let mut x: Vec<f64> = (0..3000)
            .map(|i| 1.1 + 1e-3 * (f64::from(i) * 0.37).sin())
            .collect();
        x[..3].fill(N);
        x[700] = N;
        x[900] = f64::INFINITY;
        x[1200..1290].fill(1.25);
        x[1500..1900]
            .iter_mut()
            .enumerate()
            .for_each(|(i, v)| *v = (i as f64 * 0.05).sin() * 1e-3);
        x[1900..1950].fill(-0.5);
        x[2300..2310].fill(f64::NEG_INFINITY);
        for w in [0, 1, 2, 3, 20, 257, 300] {
            for ddof in [0, 1, 2] {
                let want_mean = run(|x, o| roll_mean(x, w, o), &x);
                let want_std = run(|x, o| roll_std(x, w, ddof, o), &x);
                let mut plain = Rows::default();
                roll_mean_std::<false>(&x, w, ddof, &mut plain);
                let mut fma = Rows::default();
                roll_mean_std::<true>(&x, w, ddof, &mut fma);
                for got in [&plain, &fma] {
                    assert_eq!(got.blocks_end, x.len());
                    for t in 0..x.len() {
                        assert_eq!(
                            got.means[t].to_bits(),
                            want_mean[t].to_bits(),
                            "mean w={w} row {t}"
                        );
                        assert_eq!(
                            got.stds[t].to_bits(),
                            want_std[t].to_bits(),
                            "std w={w} ddof={ddof} row {t}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn streaming_std_equals_roll_std() {
        let mut x: Vec<f64> = (0..300)
            .map(|i| (f64::from(i) * 0.37).sin() * 1e-3 + 1.1)
            .collect();
        x[7] = f64::NAN;
        x[120] = f64::INFINITY;
        x[121..140].fill(1.25);
        for w in [0, 1, 2, 3, 17, 100, 400] {
            for ddof in [0, 1] {
                let want = run(|x, o| roll_std(x, w, ddof, o), &x);
                let mut s = StreamingStd::<false>::new(w, ddof, x.len());
                let got: Vec<f64> = x
                    .iter()
                    .map(|&v| s.push_variance(v))
                    .map(|(n, d)| std_from(n, d))
                    .collect();
                assert!(same(&got, &want), "w={w} ddof={ddof}");
                let mut s = StreamingStd::<true>::new(w, ddof, x.len());
                let got: Vec<f64> = x
                    .iter()
                    .map(|&v| s.push_variance(v))
                    .map(|(n, d)| std_from(n, d))
                    .collect();
                assert!(same(&got, &want), "fma: w={w} ddof={ddof}");
            }
        }
    }

    #[test]
    fn division_through_the_reciprocal_is_exact() {
        // Random dividends over a wide range of magnitudes, and dividends
        // next to the product of a quotient midpoint and the count (the
        // cases where a wrong last bit would show), for counts 1..=600.
        let mut seed = 0x9E37_79B9_7F4A_7C15_u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for k in 1..=600u32 {
            let (kf, r) = (f64::from(k), Recip::new(f64::from(k)));
            for i in 0..4000 {
                let u = next();
                let d = if i % 2 == 0 {
                    let mant = 1.0 + (next() >> 11) as f64 / (1u64 << 53) as f64;
                    let d = mant * 2f64.powi((u % 1800) as i32 - 900);
                    if u & 1 == 1 {
                        -d
                    } else {
                        d
                    }
                } else {
                    let q = 1.0 + (next() >> 11) as f64 / (1u64 << 53) as f64;
                    let q = q * 2f64.powi((u % 200) as i32 - 100);
                    // q·k rounded lies within an ulp of k times q's upper midpoint.
                    let mid = q + (f64::from_bits(q.to_bits() + 1) - q) / 2.0;
                    let d = mid * kf;
                    f64::from_bits((d.to_bits() as i64 + (u % 5) as i64 - 2) as u64)
                };
                let (want, got) = (d / kf, div_count::<true>(d, kf, r));
                assert_eq!(got.to_bits(), want.to_bits(), "{d:e} / {k}");
            }
        }
        // Counts just below a power of two, where `d·r` is more than an ulp
        // from the quotient (1.28 and 1.003 ulp) and the correction must
        // still land on the right side.
        for (d, k) in [(8246612086226941.0, 60002.0), (8981635609395199.0, 65350.0)] {
            let (want, got) = (d / k, div_count::<true>(d, k, Recip::new(k)));
            assert_eq!(got.to_bits(), want.to_bits(), "{d:e} / {k}");
            let q = d * (1.0 / k);
            let ulp = f64::from_bits(want.to_bits() + 1) - want;
            assert!(
                (q - d / k).abs() > ulp / 2.0,
                "{d:e} / {k} is not a hard case"
            );
        }
        for d in [
            0.0,
            -0.0,
            f64::NAN,
            f64::INFINITY,
            1e-310,
            1e305,
            f64::MIN_POSITIVE,
        ] {
            assert_eq!(
                div_count::<true>(d, 3.0, Recip::new(3.0)).to_bits(),
                (d / 3.0).to_bits(),
                "{d:e}"
            );
        }
    }

    #[test]
    fn extremes() {
        let x = [3.0, 1.0, 4.0, 1.0, 5.0, N, 2.0, 6.0, 5.0];
        assert!(same(
            &run(|x, o| roll_max(x, 3, o), &x),
            &[N, N, 4.0, 4.0, 5.0, N, N, N, 6.0]
        ));
        assert!(same(
            &run(|x, o| roll_min(x, 2, o), &x),
            &[N, 1.0, 1.0, 1.0, 1.0, N, N, 2.0, 5.0]
        ));
    }

    #[test]
    fn empty_and_short() {
        assert!(run(|x, o| roll_mean(x, 3, o), &[]).is_empty());
        assert!(run(|x, o| roll_std(x, 5, 1, o), &[1.0, 2.0])
            .iter()
            .all(|v| v.is_nan()));
        assert!(run(|x, o| roll_max(x, 5, o), &[1.0])
            .iter()
            .all(|v| v.is_nan()));
    }
}
