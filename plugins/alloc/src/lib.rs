//! The global allocator of omega_pl's plugin library.
//!
//! Ordinary requests go to an inner allocator (Polars' own, in the plugin).
//! Large ones, from [`LARGE_FROM`] bytes, are served from anonymous mappings
//! that start on a huge-page boundary and are advised to use huge pages; a
//! freed large block is kept for a few seconds and handed out again.
//!
//! Why: an indicator's output column is one large block, 8 bytes a row (80 MB
//! at 10M rows), and Polars' allocator returns a block of that size to the
//! OS as soon as it is freed. Every new column then paid the kernel to map and
//! zero its pages again: on the project's benchmark machine ~36 ms per 80 MB
//! with 4 KiB pages and ~14 ms with huge pages, where writing the mapped block
//! takes ~5 ms. A batch of ten indicators allocates sixteen such columns.
//!
//! A kept block is marked `MADV_FREE`: until it is reused, the kernel may take
//! its pages back whenever memory is short, without swapping them, so keeping
//! it does not add to memory pressure (the pages still show in the process's
//! RSS until then). How much is kept is bounded: `OMEGA_PL_BUFFER_CACHE_MB`
//! in the environment (read once, when the first large block is freed; `0`
//! keeps nothing), by default an eighth of physical memory. A block is kept
//! at most [`MAX_AGE`]; expiry is checked on each large allocation or free,
//! and [`BlockCache::release`] hands everything back at once.
//!
//! Only Linux takes the large path; elsewhere every request goes to the inner
//! allocator.

use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// Requests from this many bytes (and alignment up to a page) take the large path.
pub const LARGE_FROM: usize = 4 << 20;
/// A freed large block is kept at most this long.
pub const MAX_AGE: Duration = Duration::from_secs(5);
/// Large blocks are mapped in multiples of this, starting on a multiple of it.
const HUGE_PAGE: usize = 2 << 20;
const PAGE: usize = 4096;
/// How many freed blocks can be kept at once.
const SLOTS: usize = 64;
const LIMIT_UNSET: usize = usize::MAX;

/// A mapping: its address and length (a multiple of the page size).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Block {
    addr: usize,
    len: usize,
}

#[derive(Clone, Copy)]
struct Kept {
    block: Block,
    since: Instant,
}

/// Blocks one shelf operation took off the shelf for good; the caller unmaps
/// them once the lock is released. Every kept block can be evicted at most
/// once per operation, plus the block being put, hence `SLOTS + 1`.
struct Evicted {
    blocks: [Block; SLOTS + 1],
    n: usize,
}

impl Evicted {
    const fn new() -> Self {
        Evicted { blocks: [Block { addr: 0, len: 0 }; SLOTS + 1], n: 0 }
    }

    fn push(&mut self, b: Block) {
        if let Some(slot) = self.blocks.get_mut(self.n) {
            *slot = b;
            self.n += 1;
        }
    }

    fn as_slice(&self) -> &[Block] {
        &self.blocks[..self.n]
    }

    fn unmap(&self) {
        for b in self.as_slice() {
            sys::unmap(b.addr, b.len);
        }
    }
}

/// The freed blocks being kept: bookkeeping only, no system calls, so that
/// it can run under the lock and be tested on its own.
struct Shelf {
    slots: [Option<Kept>; SLOTS],
    bytes: usize,
}

impl Shelf {
    const fn new() -> Self {
        Shelf { slots: [None; SLOTS], bytes: 0 }
    }

    fn remove(&mut self, i: usize, out: &mut Evicted) {
        if let Some(k) = self.slots[i].take() {
            self.bytes -= k.block.len;
            out.push(k.block);
        }
    }

    /// Evicts every block kept longer than [`MAX_AGE`].
    fn expire(&mut self, now: Instant, out: &mut Evicted) {
        for i in 0..SLOTS {
            if self.slots[i].is_some_and(|k| now.saturating_duration_since(k.since) > MAX_AGE) {
                self.remove(i, out);
            }
        }
    }

    /// Takes the smallest kept block of at least `len` bytes and at most
    /// twice that (a much larger one is left for a larger request).
    fn take(&mut self, len: usize, now: Instant, out: &mut Evicted) -> Option<Block> {
        self.expire(now, out);
        let fits = |k: &Kept| k.block.len >= len && k.block.len / 2 <= len;
        let best = (0..SLOTS)
            .filter(|&i| self.slots[i].as_ref().is_some_and(fits))
            .min_by_key(|&i| self.slots[i].map_or(usize::MAX, |k| k.block.len))?;
        let k = self.slots[best].take()?;
        self.bytes -= k.block.len;
        Some(k.block)
    }

    /// Keeps `block`, evicting the oldest blocks while more than `limit`
    /// bytes or every slot would be in use. A block larger than `limit` is
    /// evicted itself.
    fn put(&mut self, block: Block, now: Instant, limit: usize, out: &mut Evicted) {
        self.expire(now, out);
        if block.len > limit {
            out.push(block);
            return;
        }
        loop {
            let free = self.slots.iter().position(Option::is_none);
            if free.is_some() && self.bytes + block.len <= limit {
                break;
            }
            let oldest = (0..SLOTS)
                .filter(|&i| self.slots[i].is_some())
                .min_by_key(|&i| self.slots[i].map(|k| k.since));
            match oldest {
                Some(i) => self.remove(i, out),
                None => break, // unreachable: an empty shelf has room
            }
        }
        if let Some(slot) = self.slots.iter_mut().find(|s| s.is_none()) {
            *slot = Some(Kept { block, since: now });
            self.bytes += block.len;
        } else {
            out.push(block);
        }
    }

    /// Evicts every kept block.
    fn drain(&mut self, out: &mut Evicted) {
        for i in 0..SLOTS {
            self.remove(i, out);
        }
    }
}

/// A global allocator: `inner` for ordinary requests, kept huge-page
/// mappings for large ones (see the module documentation).
pub struct BlockCache<A> {
    inner: A,
    shelf: Mutex<Shelf>,
    limit: AtomicUsize,
}

impl<A> BlockCache<A> {
    /// Keeps up to `OMEGA_PL_BUFFER_CACHE_MB` MiB of freed large blocks
    /// (default: an eighth of physical memory).
    pub const fn new(inner: A) -> Self {
        BlockCache { inner, shelf: Mutex::new(Shelf::new()), limit: AtomicUsize::new(LIMIT_UNSET) }
    }

    /// Keeps up to `bytes` of freed large blocks, whatever the environment says.
    pub const fn with_limit(inner: A, bytes: usize) -> Self {
        BlockCache { inner, shelf: Mutex::new(Shelf::new()), limit: AtomicUsize::new(bytes) }
    }

    /// Bytes of freed large blocks kept right now.
    pub fn kept_bytes(&self) -> usize {
        self.lock().bytes
    }

    /// Unmaps every kept block; returns how many bytes that was.
    pub fn release(&self) -> usize {
        let mut out = Evicted::new();
        self.lock().drain(&mut out);
        out.unmap();
        out.as_slice().iter().map(|b| b.len).sum()
    }

    fn lock(&self) -> MutexGuard<'_, Shelf> {
        self.shelf.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn limit(&self) -> usize {
        let limit = self.limit.load(Ordering::Relaxed);
        if limit != LIMIT_UNSET {
            return limit;
        }
        // Computed outside the lock: reading the environment allocates (a
        // small request, served by the inner allocator).
        let limit = configured_limit().unwrap_or_else(sys::default_limit);
        self.limit.store(limit, Ordering::Relaxed);
        limit
    }

    /// A large block of at least `size` bytes, zero-filled if `zero`.
    unsafe fn alloc_large(&self, size: usize, zero: bool) -> *mut u8 {
        let len = span(size);
        let mut out = Evicted::new();
        let kept = self.lock().take(len, Instant::now(), &mut out);
        out.unmap();
        match kept {
            Some(b) => {
                if b.len > len {
                    sys::unmap(b.addr + len, b.len - len);
                }
                let p = b.addr as *mut u8;
                if zero {
                    // SAFETY: the block is mapped, writable and `len >= size` long.
                    unsafe { std::ptr::write_bytes(p, 0, size) };
                }
                p
            }
            None => sys::map(len), // fresh pages read as zero
        }
    }

    /// Keeps (or unmaps) the large block at `ptr` that served `size` bytes.
    unsafe fn free_large(&self, ptr: *mut u8, size: usize) {
        let block = Block { addr: ptr as usize, len: span(size) };
        let limit = self.limit();
        if block.len <= limit {
            sys::lazy_free(block.addr, block.len);
        }
        let mut out = Evicted::new();
        self.lock().put(block, Instant::now(), limit, &mut out);
        out.unmap();
    }
}

/// `OMEGA_PL_BUFFER_CACHE_MB` in bytes, if set to a whole number.
fn configured_limit() -> Option<usize> {
    let v = std::env::var_os("OMEGA_PL_BUFFER_CACHE_MB")?;
    let mb: usize = v.to_str()?.trim().parse().ok()?;
    Some(mb.saturating_mul(1 << 20))
}

/// Whether a request takes the large path.
fn is_large(size: usize, align: usize) -> bool {
    cfg!(target_os = "linux") && size >= LARGE_FROM && align <= PAGE
}

/// The mapping length for `size` bytes: whole huge pages.
fn span(size: usize) -> usize {
    size.div_ceil(HUGE_PAGE) * HUGE_PAGE
}

// SAFETY: every method keeps GlobalAlloc's contract. A block is on the large
// path exactly when its current size and alignment say so (`is_large`), for
// its whole life: `realloc` moves a block between the two paths whenever
// its size crosses `LARGE_FROM`, so `dealloc` always finds the allocator that
// made it. Large blocks are page-aligned mappings of `span(size)` bytes,
// which satisfies any alignment up to `PAGE`.
unsafe impl<A: GlobalAlloc> GlobalAlloc for BlockCache<A> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if is_large(layout.size(), layout.align()) {
            unsafe { self.alloc_large(layout.size(), false) }
        } else {
            unsafe { self.inner.alloc(layout) }
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if is_large(layout.size(), layout.align()) {
            unsafe { self.alloc_large(layout.size(), true) }
        } else {
            unsafe { self.inner.alloc_zeroed(layout) }
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if is_large(layout.size(), layout.align()) {
            unsafe { self.free_large(ptr, layout.size()) }
        } else {
            unsafe { self.inner.dealloc(ptr, layout) }
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let (old_size, align) = (layout.size(), layout.align());
        match (is_large(old_size, align), is_large(new_size, align)) {
            (false, false) => unsafe { self.inner.realloc(ptr, layout, new_size) },
            (true, true) if span(old_size) == span(new_size) => ptr,
            (true, true) => sys::remap(ptr, span(old_size), span(new_size)),
            _ => {
                // SAFETY: the caller guarantees `new_size`, rounded up to
                // `align`, does not overflow isize.
                let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, align) };
                let q = unsafe { self.alloc(new_layout) };
                if !q.is_null() {
                    // SAFETY: both blocks are live and distinct, each at
                    // least `min(old_size, new_size)` bytes long.
                    unsafe {
                        std::ptr::copy_nonoverlapping(ptr, q, old_size.min(new_size));
                        self.dealloc(ptr, layout);
                    }
                }
                q
            }
        }
    }
}

#[cfg(target_os = "linux")]
mod sys {
    use super::HUGE_PAGE;

    /// A fresh zero-filled mapping of `len` bytes (a multiple of
    /// `HUGE_PAGE`) starting on a huge-page boundary, or null.
    pub(super) fn map(len: usize) -> *mut u8 {
        let Some(total) = len.checked_add(HUGE_PAGE) else {
            return std::ptr::null_mut();
        };
        // SAFETY: an anonymous private mapping touches no existing memory;
        // the head and tail trimmed off lie inside it, and the advice only
        // changes how the kernel backs the pages.
        unsafe {
            let p = libc::mmap(
                std::ptr::null_mut(),
                total,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            );
            if p == libc::MAP_FAILED {
                return std::ptr::null_mut();
            }
            let start = p as usize;
            let addr = start.div_ceil(HUGE_PAGE) * HUGE_PAGE;
            let (head, tail) = (addr - start, total - (addr - start) - len);
            if head > 0 {
                libc::munmap(p, head);
            }
            if tail > 0 {
                libc::munmap((addr + len) as *mut libc::c_void, tail);
            }
            libc::madvise(addr as *mut libc::c_void, len, libc::MADV_HUGEPAGE);
            addr as *mut u8
        }
    }

    pub(super) fn unmap(addr: usize, len: usize) {
        // SAFETY: called only on blocks this allocator mapped and no one uses.
        unsafe {
            libc::munmap(addr as *mut libc::c_void, len);
        }
    }

    /// Lets the kernel reclaim the block's pages until they are written again.
    pub(super) fn lazy_free(addr: usize, len: usize) {
        // SAFETY: the block is ours and unused; its contents may be lost,
        // which is what a freed block allows. Failure only forgoes the hint.
        unsafe {
            libc::madvise(addr as *mut libc::c_void, len, libc::MADV_FREE);
        }
    }

    /// Resizes a mapping, moving it if needed; contents are kept, or null.
    pub(super) fn remap(ptr: *mut u8, old_len: usize, new_len: usize) -> *mut u8 {
        // SAFETY: `ptr` is a live mapping of `old_len` bytes made here; on
        // failure it is left as it was.
        let q = unsafe { libc::mremap(ptr.cast(), old_len, new_len, libc::MREMAP_MAYMOVE) };
        if q == libc::MAP_FAILED {
            std::ptr::null_mut()
        } else {
            q.cast()
        }
    }

    /// An eighth of physical memory.
    pub(super) fn default_limit() -> usize {
        // SAFETY: sysconf has no preconditions.
        let (pages, size) = unsafe { (libc::sysconf(libc::_SC_PHYS_PAGES), libc::sysconf(libc::_SC_PAGESIZE)) };
        let bytes = usize::try_from(pages).unwrap_or(0).saturating_mul(usize::try_from(size).unwrap_or(0));
        bytes / 8
    }
}

#[cfg(not(target_os = "linux"))]
mod sys {
    //! Never called: `is_large` is false off Linux.
    pub(super) fn map(_len: usize) -> *mut u8 {
        std::ptr::null_mut()
    }
    pub(super) fn unmap(_addr: usize, _len: usize) {}
    pub(super) fn lazy_free(_addr: usize, _len: usize) {}
    pub(super) fn remap(_ptr: *mut u8, _old_len: usize, _new_len: usize) -> *mut u8 {
        std::ptr::null_mut()
    }
    pub(super) fn default_limit() -> usize {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::alloc::System;

    const MB: usize = 1 << 20;

    fn block(addr: usize, len: usize) -> Block {
        Block { addr, len }
    }

    #[test]
    fn shelf_takes_the_smallest_block_that_fits() {
        let (mut s, mut out, t) = (Shelf::new(), Evicted::new(), Instant::now());
        s.put(block(1, 8 * MB), t, usize::MAX, &mut out);
        s.put(block(2, 4 * MB), t, usize::MAX, &mut out);
        s.put(block(3, 6 * MB), t, usize::MAX, &mut out);
        assert_eq!(s.bytes, 18 * MB);
        assert_eq!(s.take(5 * MB, t, &mut out), Some(block(3, 6 * MB)));
        assert_eq!(s.take(4 * MB, t, &mut out), Some(block(2, 4 * MB)));
        // 8 MB is more than twice 2 MB: left for a larger request.
        assert_eq!(s.take(2 * MB, t, &mut out), None);
        assert_eq!(s.take(10 * MB, t, &mut out), None);
        assert_eq!(s.bytes, 8 * MB);
        assert_eq!(out.n, 0);
    }

    #[test]
    fn shelf_evicts_oldest_beyond_the_limit() {
        let (mut s, mut out, t) = (Shelf::new(), Evicted::new(), Instant::now());
        let ms = Duration::from_millis(1);
        s.put(block(1, 4 * MB), t, 10 * MB, &mut out);
        s.put(block(2, 4 * MB), t + ms, 10 * MB, &mut out);
        s.put(block(3, 4 * MB), t + 2 * ms, 10 * MB, &mut out);
        assert_eq!(out.as_slice(), &[block(1, 4 * MB)]);
        assert_eq!(s.bytes, 8 * MB);
        // Larger than the limit: not kept, nothing else evicted.
        s.put(block(4, 12 * MB), t + 3 * ms, 10 * MB, &mut out);
        assert_eq!(out.as_slice(), &[block(1, 4 * MB), block(4, 12 * MB)]);
        assert_eq!(s.bytes, 8 * MB);
    }

    #[test]
    fn shelf_evicts_oldest_when_every_slot_is_used() {
        let (mut s, mut out, t) = (Shelf::new(), Evicted::new(), Instant::now());
        for i in 0..=SLOTS {
            s.put(block(i + 1, 4 * MB), t + Duration::from_millis(i as u64), usize::MAX, &mut out);
        }
        assert_eq!(out.as_slice(), &[block(1, 4 * MB)]);
        assert_eq!(s.bytes, SLOTS * 4 * MB);
    }

    #[test]
    fn shelf_expires_blocks_kept_too_long() {
        let (mut s, mut out, t) = (Shelf::new(), Evicted::new(), Instant::now());
        s.put(block(1, 4 * MB), t, usize::MAX, &mut out);
        s.put(block(2, 4 * MB), t + MAX_AGE, usize::MAX, &mut out);
        assert_eq!(s.take(4 * MB, t + MAX_AGE + Duration::from_millis(1), &mut out), Some(block(2, 4 * MB)));
        assert_eq!(out.as_slice(), &[block(1, 4 * MB)]);
        assert_eq!(s.bytes, 0);
        s.put(block(3, 4 * MB), t, usize::MAX, &mut out);
        s.drain(&mut out);
        assert_eq!(out.as_slice(), &[block(1, 4 * MB), block(3, 4 * MB)]);
        assert_eq!(s.bytes, 0);
    }

    fn layout(size: usize) -> Layout {
        Layout::from_size_align(size, 8).unwrap()
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn large_blocks_are_reused_and_zeroed_on_request() {
        let a = BlockCache::with_limit(System, 64 * MB);
        let size = 10 * MB + 8;
        unsafe {
            let p = a.alloc(layout(size));
            assert!(!p.is_null());
            assert_eq!(p as usize % HUGE_PAGE, 0);
            std::ptr::write_bytes(p, 0xAB, size);
            a.dealloc(p, layout(size));
            assert_eq!(a.kept_bytes(), span(size));
            // A request one huge page shorter gets the kept block back, its
            // tail unmapped, zero-filled as asked.
            let q = a.alloc_zeroed(layout(size - 8));
            assert_eq!(q, p);
            assert_eq!(a.kept_bytes(), 0);
            let s = std::slice::from_raw_parts(q, size - 8);
            assert!(s.iter().all(|&b| b == 0));
            a.dealloc(q, layout(size - 8));
        }
        assert_eq!(a.release(), span(size - 8));
        assert_eq!(span(size - 8), span(size) - HUGE_PAGE);
        assert_eq!(a.kept_bytes(), 0);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn realloc_keeps_contents_across_both_paths() {
        let a = BlockCache::with_limit(System, 64 * MB);
        unsafe {
            let small = 1 << 16;
            let mut p = a.alloc(layout(small));
            for i in 0..small {
                *p.add(i) = (i % 251) as u8;
            }
            let mut size = small;
            // small -> large -> same span -> larger span -> smaller span -> small
            for new in [LARGE_FROM + 5, LARGE_FROM + 6, 3 * LARGE_FROM, LARGE_FROM, small / 2] {
                p = a.realloc(p, layout(size), new);
                assert!(!p.is_null());
                let kept = size.min(new).min(small);
                assert!((0..kept).all(|i| *p.add(i) == (i % 251) as u8), "to {new}");
                size = new;
            }
            a.dealloc(p, layout(size));
        }
        a.release();
    }

    #[test]
    fn a_zero_limit_keeps_nothing() {
        let a = BlockCache::with_limit(System, 0);
        unsafe {
            let p = a.alloc_zeroed(layout(LARGE_FROM));
            assert!(!p.is_null());
            assert_eq!(*p, 0);
            a.dealloc(p, layout(LARGE_FROM));
        }
        assert_eq!(a.kept_bytes(), 0);
        assert_eq!(a.release(), 0);
    }

    #[test]
    fn small_requests_go_to_the_inner_allocator() {
        let a = BlockCache::with_limit(System, 64 * MB);
        unsafe {
            let p = a.alloc(layout(100));
            assert!(!p.is_null());
            let p = a.realloc(p, layout(100), 200);
            assert!(!p.is_null());
            a.dealloc(p, layout(200));
        }
        assert_eq!(a.kept_bytes(), 0);
    }
}
