//! Output and scratch buffers.
//!
//! How large buffers are backed is the business of the plugin's global
//! allocator (Polars' own, see the plugin crate), not of the kernels; these
//! helpers only say how a buffer starts out.

/// A vector of `n` zeroed (default) values.
pub fn zeroed<T: Copy + Default>(n: usize) -> Vec<T> {
    vec![T::default(); n]
}

/// A vector of `n` `NaN`s, written once (no zeroing first).
pub fn nan_filled(n: usize) -> Vec<f64> {
    vec![f64::NAN; n]
}

#[cfg(test)]
mod tests {
    #[test]
    fn zeroed_buffers() {
        let v: Vec<f64> = super::zeroed(1 << 20);
        assert!(v.iter().all(|x| *x == 0.0));
        let b: Vec<bool> = super::zeroed(3);
        assert_eq!(b, vec![false; 3]);
        assert!(super::zeroed::<f64>(0).is_empty());
        assert!(super::nan_filled(5).iter().all(|x| x.is_nan()));
    }
}
