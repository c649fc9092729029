//! Where a kernel left missing values, so callers need not search for them.
//!
//! Turning `NaN` into nulls costs a full read of every output column when the
//! positions are unknown: at 10M rows that pass is a sizeable share of a
//! memory-bound indicator's time. Kernels that know their warm-up length and
//! watch the values they write report it with [`Missing`] instead.

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
        Missing { prefix: len, interior: false }
    }

    /// Nothing is known beyond the rows being `NaN` wherever they are.
    pub fn unknown() -> Self {
        Missing { prefix: 0, interior: true }
    }

    /// Checks the claim against `out` (for tests): `true` when it holds.
    pub fn holds_for(&self, out: &[f64]) -> bool {
        self.prefix <= out.len()
            && out[..self.prefix].iter().all(|v| v.is_nan())
            && (self.interior || !out[self.prefix..].iter().any(|v| v.is_nan()))
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

    /// The report for the rows seen.
    pub fn report(&self) -> Missing {
        Missing { prefix: self.first_value.unwrap_or(self.rows), interior: self.interior }
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

    #[test]
    fn claims() {
        let nan = f64::NAN;
        assert!(Missing::all(2).holds_for(&[nan, nan]));
        assert!(!Missing::all(2).holds_for(&[nan, 1.0]));
        assert!(Missing::unknown().holds_for(&[1.0, nan]));
        let m = Missing { prefix: 1, interior: false };
        assert!(m.holds_for(&[nan, 1.0, 2.0]));
        assert!(!m.holds_for(&[nan, 1.0, nan]));
        assert!(!m.holds_for(&[]));
        assert!(any_nan(&[1.0, nan]) && !any_nan(&[1.0, f64::INFINITY]) && !any_nan(&[]));
        for values in [&[][..], &[nan, nan], &[nan, 1.0, 2.0], &[1.0, nan, 2.0], &[nan, 1.0, nan]] {
            let mut w = Watch::default();
            values.iter().for_each(|&v| w.see(v));
            let m = w.report();
            let mut halves = Watch::default();
            let (a, b) = values.split_at(values.len() / 2);
            halves.see_all(a);
            halves.see_all(b);
            assert_eq!(halves.report(), m);
            assert!(m.holds_for(values), "{values:?}: {m:?}");
            assert_eq!(m.interior, values.iter().skip_while(|v| v.is_nan()).any(|v| v.is_nan()));
        }
    }
}
