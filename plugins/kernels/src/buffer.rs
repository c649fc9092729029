//! Zeroed buffers for kernel outputs and scratch space.
//!
//! A fresh multi-megabyte allocation is backed by pages the OS maps only when
//! they are first written, one 4 KiB fault at a time; on Linux with
//! transparent huge pages in `madvise` mode, asking for huge pages (as NumPy
//! does for its arrays) cuts that cost severalfold. Results do not change.

/// Below this many bytes a buffer is used as allocated.
const ADVISE_FROM_BYTES: usize = 4 << 20;

/// A vector of `n` zeroed (default) values, advised to use huge pages when large.
pub fn zeroed<T: Copy + Default>(n: usize) -> Vec<T> {
    let v = vec![T::default(); n];
    advise_huge_pages(v.as_ptr().cast(), n * std::mem::size_of::<T>());
    v
}

/// A vector of `n` `NaN`s (see [`zeroed`]).
pub fn nan_filled(n: usize) -> Vec<f64> {
    let mut v = zeroed(n);
    v.fill(f64::NAN);
    v
}

#[cfg(target_os = "linux")]
fn advise_huge_pages(ptr: *const u8, len: usize) {
    if len < ADVISE_FROM_BYTES {
        return;
    }
    const PAGE: usize = 4096;
    let start = (ptr as usize).div_ceil(PAGE) * PAGE;
    let end = (ptr as usize + len) / PAGE * PAGE;
    if end > start {
        // SAFETY: [start, end) lies inside the live allocation and is page
        // aligned; MADV_HUGEPAGE only changes how the kernel backs the pages,
        // never their contents, and its failure is harmless (ignored).
        unsafe {
            libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE);
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn advise_huge_pages(_ptr: *const u8, _len: usize) {}

#[cfg(test)]
mod tests {
    #[test]
    fn zeroed_buffers() {
        let v: Vec<f64> = super::zeroed(1 << 20);
        assert!(v.iter().all(|x| *x == 0.0));
        let b: Vec<bool> = super::zeroed(3);
        assert_eq!(b, vec![false; 3]);
        assert!(super::zeroed::<f64>(0).is_empty());
    }
}
