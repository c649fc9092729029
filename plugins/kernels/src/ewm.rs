//! Recursive exponential average with gap re-weighting (SPEC P1).
//!
//! This is pandas' `ewm(adjust=False, ignore_na=False).mean()` with
//! `min_periods = 0`, evaluated operation by operation so that results agree
//! to the last bit (SPEC Appendix A.4).

use crate::missing::Missing;

/// Error for a smoothing parameter outside its domain.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamError(pub String);

impl std::fmt::Display for ParamError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Smoothing factor `a` for a span `s`, derived as pandas does:
/// `com = (s - 1) / 2`, `a = 1 / (1 + com)`. Requires `s >= 1`.
pub fn alpha_from_span(span: f64) -> Result<f64, ParamError> {
    if span.is_nan() || span < 1.0 || span.is_infinite() {
        return Err(ParamError(format!("span must be >= 1, got {span}")));
    }
    let com = (span - 1.0) / 2.0;
    Ok(1.0 / (1.0 + com))
}

/// Smoothing factor `a` for an explicit alpha, derived as pandas does:
/// `com = (1 - alpha) / alpha`, `a = 1 / (1 + com)`. Requires `0 < alpha <= 1`.
pub fn alpha_from_alpha(alpha: f64) -> Result<f64, ParamError> {
    if alpha.is_nan() || alpha <= 0.0 || alpha > 1.0 {
        return Err(ParamError(format!("alpha must be in (0, 1], got {alpha}")));
    }
    let com = (1.0 - alpha) / alpha;
    Ok(1.0 / (1.0 + com))
}

/// `EWM(a)` of SPEC P1 written into `out` (`out.len() == x.len()`).
///
/// Non-finite inputs are missing. Output is missing (`NaN`) only before the
/// first observation; afterwards missing rows carry the last value forward and
/// the next observation is re-weighted by the decayed old weight.
pub fn ewm_mean(x: &[f64], a: f64, out: &mut [f64]) -> Missing {
    debug_assert_eq!(x.len(), out.len());
    let s = Smoothing::new(a);
    let mut e = Ewm::new();
    let mut i = 0;
    // Leading missing rows.
    while i < x.len() && !x[i].is_finite() {
        out[i] = f64::NAN;
        i += 1;
    }
    if i == x.len() {
        return Missing::all(i);
    }
    let mut nan = false;
    for (xi, oi) in x[i..].iter().zip(out[i..].iter_mut()) {
        *oi = e.step(*xi, &s);
        nan |= oi.is_nan();
    }
    Missing {
        prefix: i,
        interior: nan,
    }
}

/// The constants of one smoothing factor `a`, shared by every average that
/// uses it (kernels fusing several averages keep one copy in registers).
#[derive(Debug, Clone, Copy)]
pub struct Smoothing {
    a: f64,
    keep: f64,
    /// `keep + a == 1.0` exactly: a step right after an observation divides
    /// by exactly 1 and the division can be skipped without changing a bit.
    unit: bool,
}

impl Smoothing {
    /// The constants for smoothing factor `a` (from [`alpha_from_span`] or
    /// [`alpha_from_alpha`]).
    #[inline]
    pub fn new(a: f64) -> Self {
        let keep = 1.0 - a;
        Smoothing {
            a,
            keep,
            unit: keep + a == 1.0,
        }
    }
}

/// The P1 recursion as a state machine, for kernels that fuse several
/// averages into one pass; the smoothing constants are passed to each step.
#[derive(Debug, Clone, Copy)]
pub struct Ewm {
    /// Current value (`NaN` before the first observation).
    pub m: f64,
    /// Weight of the old mass; `NaN` before the first observation.
    w: f64,
    /// The last row was an observation and `keep + a == 1`: the next
    /// observed row is the plain `keep·m + a·x` (the common case, kept apart
    /// so that it is a few instructions with no division).
    plain: bool,
}

impl Default for Ewm {
    fn default() -> Self {
        Ewm::new()
    }
}

impl Ewm {
    /// The state before any observation.
    #[inline]
    pub fn new() -> Self {
        Ewm {
            m: f64::NAN,
            w: f64::NAN,
            plain: false,
        }
    }

    /// Whether the next steps, as long as their input is finite, are
    /// [`Ewm::plain_step`]s: the last row was an observation and
    /// `keep + a == 1`. The flag stays set through plain steps.
    #[inline]
    pub fn is_plain(&self) -> bool {
        self.plain
    }

    /// [`Ewm::step`] of a plain state (see [`Ewm::is_plain`]) on a finite
    /// `x`, on the value alone: for tight loops over gap-free rows, which
    /// write the value back to `m` afterwards.
    #[inline(always)]
    pub fn plain_step(m: f64, x: f64, s: &Smoothing) -> f64 {
        let next = s.keep * m + s.a * x;
        if x != m {
            next
        } else {
            m
        }
    }

    /// Whether the first observation has been seen.
    #[inline]
    pub fn started(&self) -> bool {
        !self.w.is_nan()
    }

    /// One row: returns the output. A missing (non-finite) `x` carries the
    /// value; before the first observation the output is `NaN`.
    #[inline(always)]
    pub fn step(&mut self, x: f64, s: &Smoothing) -> f64 {
        if self.plain && x.is_finite() {
            // w goes to keep and back to 1; (keep·m + a·x) / (keep + a) is
            // divided by exactly 1. (As `plain_step`, but a branch rather
            // than a select: on a lone average's chain the select's blend
            // costs more than a well-predicted branch.)
            if x != self.m {
                self.m = s.keep * self.m + s.a * x;
            }
            return self.m;
        }
        self.step_general(x, s)
    }

    /// [`Ewm::step`] for the rows after a gap, the first observation, and
    /// factors whose `keep + a` is not exactly 1.
    #[inline]
    fn step_general(&mut self, x: f64, s: &Smoothing) -> f64 {
        if !self.started() {
            if x.is_finite() {
                *self = Ewm {
                    m: x,
                    w: 1.0,
                    plain: s.unit,
                };
            }
            return self.m;
        }
        self.w *= s.keep;
        if x.is_finite() {
            if x != self.m {
                self.m = (self.w * self.m + s.a * x) / (self.w + s.a);
            }
            self.w = 1.0;
        }
        self.plain = self.w == 1.0 && s.unit;
        self.m
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(x: &[f64], a: f64) -> Vec<f64> {
        let mut out = vec![0.0; x.len()];
        ewm_mean(x, a, &mut out);
        out
    }

    #[test]
    fn alpha_matches_pandas_derivation() {
        assert_eq!(alpha_from_span(20.0).unwrap(), 1.0 / (1.0 + 9.5));
        assert_eq!(alpha_from_span(1.0).unwrap(), 1.0);
        assert!(alpha_from_span(0.5).is_err());
        assert!(alpha_from_span(f64::NAN).is_err());
        assert_eq!(alpha_from_alpha(0.25).unwrap(), 1.0 / (1.0 + 3.0));
        assert!(alpha_from_alpha(0.0).is_err());
        assert!(alpha_from_alpha(1.5).is_err());
    }

    #[test]
    fn empty_and_all_missing() {
        assert!(run(&[], 0.5).is_empty());
        let out = run(&[f64::NAN, f64::INFINITY, f64::NAN], 0.5);
        assert!(out.iter().all(|v| v.is_nan()));
    }

    #[test]
    fn first_value_and_plain_recursion() {
        let a = alpha_from_span(3.0).unwrap();
        let out = run(&[f64::NAN, 2.0, 4.0], a);
        assert!(out[0].is_nan());
        assert_eq!(out[1], 2.0);
        let keep = 1.0 - a;
        assert_eq!(out[2], (keep * 2.0 + a * 4.0) / (keep + a));
    }

    #[test]
    fn gap_carries_then_reweights() {
        let a = alpha_from_span(5.0).unwrap();
        let keep = 1.0 - a;
        let out = run(&[1.0, f64::NAN, f64::NAN, 2.0], a);
        assert_eq!(out[1], 1.0);
        assert_eq!(out[2], 1.0);
        let w = keep * keep * keep;
        assert_eq!(out[3], (w * 1.0 + a * 2.0) / (w + a));
        // SPEC P1: span 5, gap of 2 rows gives the new observation weight ~0.53.
        let weight = a / (w + a);
        assert!((weight - 0.53).abs() < 0.01, "{weight}");
    }

    #[test]
    fn equal_value_does_not_divide() {
        let a = alpha_from_span(7.0).unwrap();
        let x = [1.1, 1.1, 1.1, 1.1];
        assert_eq!(run(&x, a), x.to_vec());
    }
}
