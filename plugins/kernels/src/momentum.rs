//! Trend and momentum indicators: rsi, macd, roc, momentum (SPEC 2.4–2.6,
//! 3.3) and the original Rust port's EMA family rema/dema/tema (SPEC 3.0–3.2).

use crate::ewm::{alpha_from_alpha, alpha_from_span, Ewm, ParamError, Smoothing};
use crate::keep_if;
use crate::missing::{Missing, Watch};

/// Rows macd, dema and tema write before they check them for `NaN` together
/// (rsi's divisions use a block of their own).
const BLOCK: usize = 512;

dispatch! { ["avx2"]
/// `RSI(period)` of SPEC 2.4: Wilder-style `EWM(1/period)` of gains and
/// losses with no SMA seed; `NaN` where missing (flat start, before data).
///
/// Both averages advance together row by row (they share their gaps); the
/// two divisions per row then run over a block of rows at once, vectorised
/// and off the averages' serial chains.
pub fn rsi(c: &[f64], period: usize, out: &mut [f64]) -> Result<Missing, ParamError> {
    const DIVISIONS: usize = 256;
    let s = Smoothing::new(alpha_from_alpha(1.0 / period as f64)?);
    let (mut gains, mut losses) = (Ewm::new(), Ewm::new());
    let (mut ag, mut al) = ([0.0; DIVISIONS], [0.0; DIVISIONS]);
    let mut watch = Watch::default();
    // The close before row 0 is missing, so is row 0's difference.
    let mut prev = f64::NAN;
    for (o, c) in out.chunks_mut(DIVISIONS).zip(c.chunks(DIVISIONS)) {
        for ((&x, g), l) in c.iter().zip(ag.iter_mut()).zip(al.iter_mut()) {
            let d = x - prev;
            prev = x;
            // `d` unless `d < 0`, `−d` unless `−d < 0` (so −0.0 is kept).
            let (gain, loss) =
                if d.is_finite() { (keep_if(d, d >= 0.0), keep_if(-d, -d >= 0.0)) } else { (f64::NAN, f64::NAN) };
            *g = gains.step(gain, &s);
            *l = losses.step(loss, &s);
        }
        for ((o, g), l) in o.iter_mut().zip(&ag).zip(&al) {
            *o = 100.0 - 100.0 / (1.0 + g / l);
        }
        watch.see_all(o);
    }
    Ok(watch.report())
}
}

dispatch! { ["avx2"]
/// `MACD(fast, slow, signal)` of SPEC 2.5 into `(macd, signal, histogram)`,
/// in one pass (the three averages start together at the first close).
///
/// A block of rows without gaps, once the averages have started, runs a
/// tight loop of plain steps (no state checks, compares as selects); the
/// block is redone with full steps if a MACD value in it is not finite.
///
/// The three outputs are replaced by the results, appended as computed
/// (see [`dema`]).
pub fn macd(
    c: &[f64],
    fast: usize,
    slow: usize,
    signal: usize,
    out: (&mut Vec<f64>, &mut Vec<f64>, &mut Vec<f64>),
) -> Result<[Missing; 3], ParamError> {
    let (m, s, h) = out;
    let mut watch: [Watch; 3] = Default::default();
    let (sf, ss, sg) = (
        Smoothing::new(alpha_from_span(fast as f64)?),
        Smoothing::new(alpha_from_span(slow as f64)?),
        Smoothing::new(alpha_from_span(signal as f64)?),
    );
    for v in [&mut *m, &mut *s, &mut *h] {
        v.clear();
        v.reserve(c.len());
    }
    let (mut ef, mut es, mut eg) = (Ewm::new(), Ewm::new(), Ewm::new());
    for c in c.chunks(BLOCK) {
        let start = m.len();
        // A non-finite close makes both averages and so the MACD value
        // non-finite: checking the MACD values checks the closes too.
        if ef.is_plain() && es.is_plain() && eg.is_plain() {
            let (mut f, mut sl, mut g) = (ef.m, es.m, eg.m);
            let mut finite = true;
            for &x in c {
                f = Ewm::plain_step(f, x, &sf);
                sl = Ewm::plain_step(sl, x, &ss);
                let mi = f - sl;
                finite &= mi.is_finite();
                g = Ewm::plain_step(g, mi, &sg);
                m.push(mi);
                s.push(g);
                h.push(mi - g);
            }
            // With finite MACD values and a signal that was not NaN, no
            // output is NaN (the signal can only overflow to ±inf).
            if finite && !eg.m.is_nan() {
                (ef.m, es.m, eg.m) = (f, sl, g);
                watch.iter_mut().for_each(|w| w.see_present(c.len()));
                continue;
            }
            if finite {
                (ef.m, es.m, eg.m) = (f, sl, g);
            } else {
                for v in [&mut *m, &mut *s, &mut *h] {
                    v.truncate(start);
                }
                full_steps(c, (m, s, h), (&mut ef, &mut es, &mut eg), (&sf, &ss, &sg));
            }
        } else {
            full_steps(c, (m, s, h), (&mut ef, &mut es, &mut eg), (&sf, &ss, &sg));
        }
        watch[0].see_all(&m[start..]);
        watch[1].see_all(&s[start..]);
        watch[2].see_all(&h[start..]);
    }
    Ok(watch.map(|w| w.report()))
}
}

/// MACD rows with full steps (gaps, the first close, non-finite values),
/// appended to the three outputs.
#[inline(always)]
fn full_steps(
    c: &[f64],
    (m, s, h): (&mut Vec<f64>, &mut Vec<f64>, &mut Vec<f64>),
    (ef, es, eg): (&mut Ewm, &mut Ewm, &mut Ewm),
    (sf, ss, sg): (&Smoothing, &Smoothing, &Smoothing),
) {
    for x in c {
        // Before the first close all three are NaN; the signal starts
        // at the first MACD value (0: both averages start at that close).
        let mi = ef.step(*x, sf) - es.step(*x, ss);
        let si = eg.step(mi, sg);
        m.push(mi);
        s.push(si);
        h.push(mi - si);
    }
}

/// `ROC(period)` of SPEC 2.6: `((C_t − C_{t−p}) / C_{t−p}) · 100`.
pub fn roc(c: &[f64], period: usize, out: &mut Vec<f64>) -> Missing {
    lagged(c, period, out, |now, prev| ((now - prev) / prev) * 100.0)
}

/// `MOM(period)` of SPEC 3.3: `C_t − C_{t−p}` when both are finite.
pub fn momentum(c: &[f64], period: usize, out: &mut Vec<f64>) -> Missing {
    // A select, not a branch, so the loop vectorises.
    lagged(c, period, out, |now, prev| {
        if now.is_finite() & prev.is_finite() {
            now - prev
        } else {
            f64::NAN
        }
    })
}

/// `out[t] = f(c[t], c[t − period])`, missing for the first `period` rows.
/// `out` is replaced by the results, appended (see [`dema`]).
#[inline(always)]
fn lagged(c: &[f64], period: usize, out: &mut Vec<f64>, f: impl Fn(f64, f64) -> f64) -> Missing {
    let first = period.min(c.len());
    out.clear();
    out.reserve(c.len());
    out.resize(first, f64::NAN);
    let mut nan = false;
    out.extend(c[first..].iter().zip(c).map(|(&now, &prev)| {
        let v = f(now, prev);
        nan |= v.is_nan();
        v
    }));
    Missing {
        prefix: first,
        interior: nan,
    }
}

/// The port's EMA `REMA(span)` of SPEC 3.0 one row at a time: `a = 2/(span+1)`;
/// starts at the first finite input; a `NaN` input carries the value without
/// re-weighting.
#[derive(Clone, Copy)]
struct Rema {
    a: f64,
    keep: f64,
    e: f64,
    started: bool,
}

impl Rema {
    fn new(span: usize) -> Self {
        let a = 2.0 / (span as f64 + 1.0);
        Rema {
            a,
            keep: 1.0 - a,
            e: f64::NAN,
            started: false,
        }
    }

    #[inline(always)]
    fn step(&mut self, x: f64) -> f64 {
        if !self.started {
            if x.is_finite() {
                self.e = x;
                self.started = true;
            }
        } else if !x.is_nan() {
            self.e = self.a * x + self.keep * self.e;
        }
        self.e
    }
}

/// `REMA(span)` of SPEC 3.0 (see [`Rema`]).
pub fn rema(x: &[f64], span: usize, out: &mut [f64]) {
    let mut e = Rema::new(span);
    for (xi, o) in x.iter().zip(out.iter_mut()) {
        *o = e.step(*xi);
    }
}

/// `DEMA(span)` of SPEC 3.1: `2·E1 − E2` where both are finite. The two
/// averages advance together in one pass (each row of E2 needs only that row
/// of E1), so no intermediate column is written.
///
/// `out` is replaced by the `x.len()` results, appended to it as they are
/// computed: a fresh vector with room for them is written once (a buffer
/// filled first would be written twice).
pub fn dema(x: &[f64], span: usize, out: &mut Vec<f64>) -> Missing {
    let (mut e1, mut e2) = (Rema::new(span), Rema::new(span));
    out.clear();
    out.reserve(x.len());
    let mut watch = Watch::default();
    for x in x.chunks(BLOCK) {
        let start = out.len();
        for &xi in x {
            let a = e1.step(xi);
            let b = e2.step(a);
            out.push(if a.is_finite() && b.is_finite() {
                2.0 * a - b
            } else {
                f64::NAN
            });
        }
        watch.see_all(&out[start..]);
    }
    watch.report()
}

/// `TEMA(span)` of SPEC 3.2: `3·E1 − 3·E2 + E3` (left to right) where all are
/// finite; the three averages advance together in one pass. `out` is
/// replaced by the results (see [`dema`]).
pub fn tema(x: &[f64], span: usize, out: &mut Vec<f64>) -> Missing {
    let (mut e1, mut e2, mut e3) = (Rema::new(span), Rema::new(span), Rema::new(span));
    out.clear();
    out.reserve(x.len());
    let mut watch = Watch::default();
    for x in x.chunks(BLOCK) {
        let start = out.len();
        for &xi in x {
            let a = e1.step(xi);
            let b = e2.step(a);
            let c = e3.step(b);
            out.push(if a.is_finite() && b.is_finite() && c.is_finite() {
                3.0 * a - 3.0 * b + c
            } else {
                f64::NAN
            });
        }
        watch.see_all(&out[start..]);
    }
    watch.report()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    const N: f64 = f64::NAN;

    /// A series over several kernel blocks with gaps, infinities, a flat run.
    pub(crate) fn gappy(n: usize) -> Vec<f64> {
        let mut x: Vec<f64> = (0..n)
            .map(|i| 1.1 + 1e-3 * (i as f64 * 0.37).sin() * (i as f64 * 0.011).cos())
            .collect();
        x[..3].fill(N);
        x[300..305].fill(N);
        x[511] = N;
        x[700] = f64::INFINITY;
        x[800..900].fill(1.2);
        x
    }

    #[test]
    fn rsi_blocks_equal_the_row_recursion() {
        let x = gappy(1100);
        for period in [1, 2, 14] {
            let mut out = vec![0.0; x.len()];
            rsi(&x, period, &mut out).unwrap();
            let s = Smoothing::new(alpha_from_alpha(1.0 / period as f64).unwrap());
            let (mut g, mut l) = (Ewm::new(), Ewm::new());
            for t in 0..x.len() {
                let d = if t > 0 { x[t] - x[t - 1] } else { N };
                let (gain, loss) = if d.is_finite() {
                    (
                        if d < 0.0 { 0.0 } else { d },
                        if -d < 0.0 { 0.0 } else { -d },
                    )
                } else {
                    (N, N)
                };
                let want = 100.0 - 100.0 / (1.0 + g.step(gain, &s) / l.step(loss, &s));
                assert_eq!(out[t].to_bits(), want.to_bits(), "period {period} row {t}");
            }
        }
    }

    #[test]
    fn macd_blocks_equal_the_row_recursion() {
        let mut x = gappy(1400);
        // A block of finite closes whose MACD overflows (fast span 1 follows
        // the jump at once, a slow one stays near the old value).
        x[1030..1300].fill(-1.7e308);
        x[1300..1310].fill(1.7e308);
        let n = x.len();
        for (fast, slow, signal) in [(12, 26, 9), (1, 2, 1), (3, 5, 2), (1, 50, 1)] {
            let (mut m, mut s, mut h) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
            macd(&x, fast, slow, signal, (&mut m, &mut s, &mut h)).unwrap();
            if slow == 50 {
                assert!(m[1300].is_infinite(), "the overflow case is exercised");
            }
            let sm = |p: usize| Smoothing::new(alpha_from_span(p as f64).unwrap());
            let (sf, ss, sg) = (sm(fast), sm(slow), sm(signal));
            let (mut ef, mut es, mut eg) = (Ewm::new(), Ewm::new(), Ewm::new());
            for t in 0..n {
                let mi = ef.step(x[t], &sf) - es.step(x[t], &ss);
                let si = eg.step(mi, &sg);
                for (got, want) in [(m[t], mi), (s[t], si), (h[t], mi - si)] {
                    assert_eq!(
                        got.to_bits(),
                        want.to_bits(),
                        "({fast}, {slow}, {signal}) row {t}"
                    );
                }
            }
        }
    }

    #[test]
    fn rsi_division_cases() {
        let mut out = vec![0.0; 5];
        rsi(&[1.0, 1.0, 1.0, 2.0, 3.0], 2, &mut out).unwrap();
        assert!(out[0].is_nan() && out[1].is_nan() && out[2].is_nan()); // flat start: 0/0
        assert_eq!(out[3], 100.0); // no losses yet
        let mut out = vec![0.0; 3];
        rsi(&[3.0, 2.0, 1.0], 14, &mut out).unwrap();
        assert_eq!(out[2], 0.0);
    }

    #[test]
    fn macd_starts_at_zero_and_carries() {
        let c = [N, 1.0, 2.0, N, 3.0];
        let (mut m, mut s, mut h) = (vec![0.0; 5], vec![0.0; 5], vec![0.0; 5]);
        macd(&c, 3, 6, 2, (&mut m, &mut s, &mut h)).unwrap();
        assert!(m[0].is_nan() && s[0].is_nan() && h[0].is_nan());
        assert_eq!((m[1], s[1], h[1]), (0.0, 0.0, 0.0));
        assert_eq!(m[3], m[2]); // carried over the gap
        assert!(h[4].is_finite());
    }

    #[test]
    fn roc_and_momentum() {
        let c = [1.0, 2.0, N, 4.0, 8.0];
        let mut out = vec![0.0; 5];
        roc(&c, 1, &mut out);
        assert!(out[0].is_nan() && out[2].is_nan() && out[3].is_nan());
        assert_eq!(out[1], 100.0);
        assert_eq!(out[4], 100.0);
        momentum(&c, 2, &mut out);
        assert!(out[1].is_nan() && out[2].is_nan());
        assert_eq!(out[3], 2.0);
        assert!(out[4].is_nan()); // C_{t-2} is missing
    }

    #[test]
    fn rema_family() {
        let x = [N, 2.0, N, 4.0];
        let mut out = vec![0.0; 4];
        rema(&x, 3, &mut out);
        assert!(out[0].is_nan());
        assert_eq!(out[1], 2.0);
        assert_eq!(out[2], 2.0);
        assert_eq!(out[3], 0.5 * 4.0 + 0.5 * 2.0);
        dema(&x, 3, &mut out);
        assert!(out[0].is_nan());
        assert_eq!(out[1], 2.0);
        tema(&x, 3, &mut out);
        assert_eq!(out[1], 2.0);
    }
}
