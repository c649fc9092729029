//! Stepwise evaluation over higher-timeframe bars (SPEC P4).
//!
//! The bar keys are user data: no index here can panic (clippy's
//! `indexing_slicing` is denied).

#![deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)]

/// Rows where a new higher-timeframe bar starts (P4 step 1): the key is
/// present and differs from the most recent earlier present key. A bar that
/// re-appears after rows without a key is not new.
pub fn new_bar_rows(keys: &[i64], present: &[bool]) -> Vec<usize> {
    let mut rows = Vec::new();
    let mut last: Option<i64> = None;
    for (t, (&k, &ok)) in keys.iter().zip(present).enumerate() {
        if ok {
            if last != Some(k) {
                rows.push(t);
            }
            last = Some(k);
        }
    }
    rows
}

/// P4 steps 4–5: writes `values[k]` to row `rows[k]`, then fills every
/// missing (`NaN`) row with the last non-missing value of an earlier row
/// (±inf count as values). Leading rows stay missing.
pub fn scatter_fill(values: &[f64], rows: &[usize], out: &mut [f64]) {
    out.fill(f64::NAN);
    for (&r, &v) in rows.iter().zip(values) {
        if let Some(o) = out.get_mut(r) {
            *o = v;
        }
    }
    let mut last = f64::NAN;
    for o in out.iter_mut() {
        if o.is_nan() {
            *o = last;
        } else {
            last = *o;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_bars_skip_missing_and_reappearing_keys() {
        let keys = [0, 10, 10, 0, 10, 20, 20, 30];
        let present = [false, true, true, false, true, true, true, true];
        assert_eq!(new_bar_rows(&keys, &present), vec![1, 5, 7]);
        assert!(new_bar_rows(&[1, 2], &[false, false]).is_empty());
    }

    #[test]
    fn scatter_then_fill() {
        let mut out = vec![0.0; 6];
        scatter_fill(&[1.0, f64::NAN, f64::INFINITY], &[1, 3, 4], &mut out);
        assert!(out[0].is_nan());
        assert_eq!(&out[1..], &[1.0, 1.0, 1.0, f64::INFINITY, f64::INFINITY]);
    }
}
