//! Where a kernel left missing values, so callers need not search for them.
//!
//! Turning `NaN` into nulls costs a full read of every output column when the
//! positions are unknown: at 10M rows that pass is a sizeable share of a
//! memory-bound indicator's time. Kernels that know their warm-up length and
//! watch the values they write report it with [`Missing`] instead.

#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

/// The missing (`NaN`) rows of one kernel output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Missing {
    /// Rows `..prefix` are all `NaN` (warm-up rows, leading gaps, or all rows
    /// when nothing could be computed).
    pub prefix: usize,
    /// Whether a row after the prefix may be `NaN` too. When `false`, rows
    /// `prefix..` hold no `NaN`.
    pub interior: bool,
}

impl Missing {
    /// Everything is missing: all `len` rows are `NaN`.
    pub fn all(len: usize) -> Self {
        Missing {
            prefix: len,
            interior: false,
        }
    }

    /// Writes `NaN` to every row of `out` and says so: what a kernel returns
    /// when nothing can be computed.
    pub fn fill_all(out: &mut [f64]) -> Self {
        out.fill(f64::NAN);
        Missing::all(out.len())
    }

    /// Nothing is known beyond the rows being `NaN` wherever they are.
    pub fn unknown() -> Self {
        Missing {
            prefix: 0,
            interior: true,
        }
    }

    /// Checks the claim against `out` (kernel tests, and a debug assertion in
    /// the expression layer): `true` when it holds.
    pub fn holds_for(&self, out: &[f64]) -> bool {
        let Some((head, rest)) = out.split_at_checked(self.prefix) else {
            return false;
        };
        head.iter().all(|v| v.is_nan()) && (self.interior || !rest.iter().any(|v| v.is_nan()))
    }
}

/// Builds a [`Missing`] report from the values a kernel writes, in row order.
#[derive(Debug, Default)]
pub struct Watch {
    rows: usize,
    first_value: Option<usize>,
    interior: bool,
}

impl Watch {
    /// Records the next row's output.
    #[inline(always)]
    pub fn see(&mut self, v: f64) {
        let nan = v.is_nan();
        match self.first_value {
            Some(_) => self.interior |= nan,
            None if !nan => self.first_value = Some(self.rows),
            None => {}
        }
        self.rows += 1;
    }

    /// Records the next rows' outputs (vectorised once a value has been seen).
    #[inline]
    pub fn see_all(&mut self, values: &[f64]) {
        if self.first_value.is_some() {
            self.interior |= any_nan(values);
            self.rows += values.len();
        } else {
            values.iter().for_each(|&v| self.see(v));
        }
    }

    /// Records the next `rows` outputs, which the caller knows hold no `NaN`.
    #[inline]
    pub fn see_present(&mut self, rows: usize) {
        if rows > 0 && self.first_value.is_none() {
            self.first_value = Some(self.rows);
        }
        self.rows += rows;
    }

    /// Records the next `rows` outputs, which the caller knows are all `NaN`.
    #[inline]
    pub fn see_missing(&mut self, rows: usize) {
        if self.first_value.is_some() {
            self.interior |= rows > 0;
        }
        self.rows += rows;
    }

    /// The report for the rows seen.
    pub fn report(&self) -> Missing {
        Missing {
            prefix: self.first_value.unwrap_or(self.rows),
            interior: self.interior,
        }
    }
}

/// Whether any of `values` is `NaN`; a branch-free scan the compiler
/// vectorises, meant for a block a kernel has just written (still in cache).
#[inline]
pub fn any_nan(values: &[f64]) -> bool {
    values.iter().fold(false, |acc, v| acc | v.is_nan())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every kernel that reports, on series with leading and interior gaps,
    /// infinities and flat stretches: each report holds for what was written.
    #[test]
    fn kernel_reports_hold() {
        let nan = f64::NAN;
        let mut x: Vec<f64> = (0..1100)
            .map(|i| 1.1 + 1e-3 * (f64::from(i) * 0.7).sin())
            .collect();
        x[..4].fill(nan);
        x[60] = nan;
        x[100] = f64::INFINITY;
        x[150..180].fill(1.2);
        x[600..610].fill(nan); // past the first block of the blocked kernels
        let y: Vec<f64> = x.iter().map(|v| v + 2e-4).collect();
        let z: Vec<f64> = x.iter().map(|v| v - 2e-4).collect();
        let series: [&[f64]; 4] = [&x, &x[..3], &x[4..60], &[]];
        for (i, x) in series.iter().enumerate() {
            let (h, l) = (&y[..x.len()], &z[..x.len()]);
            let n = x.len();
            let check = |what: &str, m: Missing, out: &[f64]| {
                assert!(m.holds_for(out), "series {i}, {what}: {m:?}")
            };
            for p in [1, 2, 14] {
                let mut o = vec![0.0; n];
                let mut o3 = [vec![0.0; n], vec![0.0; n], vec![0.0; n]];
                check(
                    "ema",
                    crate::ewm::ewm_mean(x, 2.0 / (p as f64 + 1.0), &mut o),
                    &o,
                );
                check("sma streaming", crate::rolling::roll_mean(x, p, &mut o), &o);
                {
                    let mut v = Vec::new();
                    check("sma", crate::segmented::roll_mean(x, p, &mut v), &v);
                }
                check("roc", crate::momentum::roc(x, p, &mut o), &o);
                check("momentum", crate::momentum::momentum(x, p, &mut o), &o);
                check("dema", crate::momentum::dema(x, p, &mut o), &o);
                check("tema", crate::momentum::tema(x, p, &mut o), &o);
                check("rsi", crate::momentum::rsi(x, p, &mut o).unwrap(), &o);
                check("atr", crate::volatility::atr(h, l, x, p, false, &mut o), &o);
                check(
                    "atr reseed",
                    crate::volatility::atr(h, l, x, p, true, &mut o),
                    &o,
                );
                check(
                    "kalman",
                    crate::filters::kalman_mean(x, 0.01, 1.0, false, &mut o),
                    &o,
                );
                check(
                    "kalman carry",
                    crate::filters::kalman_mean(x, 0.01, 1.0, true, &mut o),
                    &o,
                );
                for (min_periods, estimate_window) in [(p as i64, None), (0, Some(p)), (-1, None)] {
                    let g = crate::filters::Garch {
                        min_periods,
                        estimate_window,
                        ..Default::default()
                    };
                    check("garch", crate::filters::garch_volatility(x, &g, &mut o), &o);
                }
                if p > 1 {
                    check(
                        "two-pass std",
                        crate::rolling::rolling_std_two_pass(x, p, 1, &mut o),
                        &o,
                    );
                }
                let [a, b, c] = &mut o3;
                let ms = crate::momentum::macd(x, p, p + 3, p, (a, b, c)).unwrap();
                o3.iter().zip(ms).for_each(|(o, m)| check("macd", m, o));
                let [a, b, c] = &mut o3;
                let ms = crate::volatility::dmi(h, l, x, p, (a, b, c)).unwrap();
                o3.iter().zip(ms).for_each(|(o, m)| check("dmi", m, o));
                for std in [
                    crate::volatility::StdKind::Streaming,
                    crate::volatility::StdKind::Exact,
                ] {
                    let [a, b, c] = &mut o3;
                    let ms = crate::volatility::bollinger(x, p, 2.0, std, (a, b, c));
                    o3.iter()
                        .zip(ms)
                        .for_each(|(o, m)| check("bollinger", m, o));
                }
            }
        }
    }

    #[test]
    fn claims() {
        let nan = f64::NAN;
        assert!(Missing::all(2).holds_for(&[nan, nan]));
        assert!(!Missing::all(2).holds_for(&[nan, 1.0]));
        assert!(Missing::unknown().holds_for(&[1.0, nan]));
        let m = Missing {
            prefix: 1,
            interior: false,
        };
        assert!(m.holds_for(&[nan, 1.0, 2.0]));
        assert!(!m.holds_for(&[nan, 1.0, nan]));
        assert!(!m.holds_for(&[]));
        assert!(any_nan(&[1.0, nan]) && !any_nan(&[1.0, f64::INFINITY]) && !any_nan(&[]));
        for values in [
            &[][..],
            &[nan, nan],
            &[nan, 1.0, 2.0],
            &[1.0, nan, 2.0],
            &[nan, 1.0, nan],
        ] {
            let mut w = Watch::default();
            values.iter().for_each(|&v| w.see(v));
            let m = w.report();
            let mut halves = Watch::default();
            let (a, b) = values.split_at(values.len() / 2);
            halves.see_all(a);
            halves.see_all(b);
            assert_eq!(halves.report(), m);
            assert!(m.holds_for(values), "{values:?}: {m:?}");
            assert_eq!(
                m.interior,
                values.iter().skip_while(|v| v.is_nan()).any(|v| v.is_nan())
            );
        }
    }
}
