//! Output and scratch buffers.
//!
//! How large buffers are backed is the business of the plugin's global
//! allocator (Polars' own, see the plugin crate), not of the kernels; these
//! helpers only say how a buffer starts out.

/// A vector of `n` zeroed (default) values.
///
/// Allocated plainly and then filled, not as a zeroed allocation: jemalloc
/// (Polars' allocator) zeroes a large block it recycles by returning its
/// pages to the kernel, so every 4 KiB page of the output faulted again on
/// first write (10M rows: ~20k faults, ~25 ms per output column); a fill
/// reuses the recycled pages as they are.
pub fn zeroed<T: Copy + Default>(n: usize) -> Vec<T> {
    let mut v = Vec::with_capacity(n);
    v.resize(n, T::default());
    v
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
