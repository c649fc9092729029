//! The global allocator of omega_pl's plugin library.
//!
//! Ordinary requests go to an inner allocator (Polars' own, in the plugin).
//! Large ones, from [`LARGE_FROM`] bytes, are served from anonymous mappings
//! advised to use huge pages (a fresh one starts on a huge-page boundary); a
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
//! in the environment (a whole number of MiB, read once, when the first large
//! block is freed; `0` keeps nothing; any other value is ignored), by default
//! an eighth of physical memory or of the cgroup's memory limit, whichever is
//! lower. Expiry after [`MAX_AGE`] is checked on each large allocation or
//! free, so an idle process keeps its blocks (reclaimable, as above) until
//! then; [`BlockCache::release`] hands everything back at once.
//!
//! A large block starts a varying number of cache lines into its mapping
//! (its "colour", as jemalloc does for its large allocations): were every
//! output column to start on a page boundary, row `i` of all of them would
//! share one cache set, and a kernel writing three columns at once (macd)
//! ran 5× slower on such a placement.
//!
//! Only Linux takes the large path; elsewhere every request goes to the inner
//! allocator.

use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// Requests from this many bytes (and alignment up to a cache line) take the large path.
pub const LARGE_FROM: usize = 4 << 20;
/// A freed large block is kept at most this long.
pub const MAX_AGE: Duration = Duration::from_secs(5);
/// Large blocks are mapped in multiples of this, starting on a multiple of it.
const HUGE_PAGE: usize = 2 << 20;
const PAGE: usize = 4096;
/// How many freed blocks can be kept at once.
const SLOTS: usize = 64;
/// Block starts are spread over this many cache lines of their first page.
const COLOURS: usize = PAGE / CACHE_LINE;
const CACHE_LINE: usize = 64;
/// `limit` before it is known; a limit itself is at most `LIMIT_UNSET - 1`.
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
        // An empty shelf always has room, so the loop ends with a free slot.
        while self.bytes + block.len > limit || self.slots.iter().all(Option::is_some) {
            let oldest = (0..SLOTS)
                .filter(|&i| self.slots[i].is_some())
                .min_by_key(|&i| self.slots[i].map(|k| k.since));
            let Some(i) = oldest else { break };
            self.remove(i, out);
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
    /// Large blocks handed out so far; picks the next block's colour.
    handed_out: AtomicUsize,
}

impl<A> BlockCache<A> {
    /// Keeps up to `OMEGA_PL_BUFFER_CACHE_MB` MiB of freed large blocks
    /// (default: an eighth of physical memory).
    pub const fn new(inner: A) -> Self {
        BlockCache {
            inner,
            shelf: Mutex::new(Shelf::new()),
            limit: AtomicUsize::new(LIMIT_UNSET),
            handed_out: AtomicUsize::new(0),
        }
    }

    /// Keeps up to `bytes` of freed large blocks, whatever the environment says.
    pub const fn with_limit(inner: A, bytes: usize) -> Self {
        let bytes = if bytes == LIMIT_UNSET { LIMIT_UNSET - 1 } else { bytes };
        BlockCache {
            inner,
            shelf: Mutex::new(Shelf::new()),
            limit: AtomicUsize::new(bytes),
            handed_out: AtomicUsize::new(0),
        }
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
        // Computed outside the lock: reading the environment and the cgroup
        // file allocates (small requests, served by the inner allocator).
        let limit = configured_limit().unwrap_or_else(sys::default_limit).min(LIMIT_UNSET - 1);
        self.limit.store(limit, Ordering::Relaxed);
        limit
    }

    /// The next block's offset into its mapping: 0, 17, 34, … cache lines
    /// modulo a page (17 is odd, so all colours come round before a repeat).
    fn next_colour(&self) -> usize {
        let n = self.handed_out.fetch_add(1, Ordering::Relaxed);
        n.wrapping_mul(17) % COLOURS * CACHE_LINE
    }

    /// A large block of at least `size` bytes, zero-filled if `zero`.
    unsafe fn alloc_large(&self, size: usize, zero: bool) -> *mut u8 {
        let colour = self.next_colour();
        let len = span(size + colour);
        let mut out = Evicted::new();
        let kept = self.lock().take(len, Instant::now(), &mut out);
        out.unmap();
        let base = match kept {
            Some(b) => {
                if b.len > len {
                    sys::unmap(b.addr + len, b.len - len);
                }
                if zero {
                    // SAFETY: the mapping is writable and `len >= colour + size` long.
                    unsafe { std::ptr::write_bytes((b.addr + colour) as *mut u8, 0, size) };
                }
                b.addr as *mut u8
            }
            None => sys::map(len), // fresh pages read as zero
        };
        if base.is_null() {
            return base;
        }
        // SAFETY: `colour < len`, inside the mapping.
        unsafe { base.add(colour) }
    }

    /// Keeps (or unmaps) the large block at `ptr` that served `size` bytes.
    unsafe fn free_large(&self, ptr: *mut u8, size: usize) {
        let block = mapping(ptr, size);
        let limit = self.limit();
        if block.len <= limit {
            sys::lazy_free(block.addr, block.len);
        }
        let mut out = Evicted::new();
        self.lock().put(block, Instant::now(), limit, &mut out);
        out.unmap();
    }
}

/// `OMEGA_PL_BUFFER_CACHE_MB` in bytes, if set to a whole number (the
/// Python package warns at import about any other value).
fn configured_limit() -> Option<usize> {
    cap_bytes(std::env::var_os("OMEGA_PL_BUFFER_CACHE_MB")?.to_str()?)
}

/// A cap in MiB as bytes: ASCII digits only, around whitespace, as the Python
/// check reads it (`"+5"`, `"1.5"` are not caps); too large a number is no cap.
fn cap_bytes(mb: &str) -> Option<usize> {
    let mb = mb.trim();
    if mb.is_empty() || !mb.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(mb.parse::<usize>().unwrap_or(usize::MAX).saturating_mul(1 << 20))
}

/// Whether a request takes the large path.
fn is_large(size: usize, align: usize) -> bool {
    cfg!(target_os = "linux") && size >= LARGE_FROM && align <= CACHE_LINE
}

/// The mapping length for `size` bytes: whole huge pages.
fn span(size: usize) -> usize {
    size.div_ceil(HUGE_PAGE) * HUGE_PAGE
}

/// The mapping behind a large block at `ptr` serving `size` bytes: mappings
/// start on a page, and the block's colour is its offset into that page.
fn mapping(ptr: *mut u8, size: usize) -> Block {
    let colour = ptr as usize % PAGE;
    Block { addr: ptr as usize - colour, len: span(size + colour) }
}

// SAFETY: every method keeps GlobalAlloc's contract. A block is on the large
// path exactly when its current size and alignment say so (`is_large`), for
// its whole life: `realloc` moves a block between the two paths whenever
// its size crosses `LARGE_FROM`, so `dealloc` always finds the allocator that
// made it. A large block lies `colour` bytes (a multiple of the cache line,
// less than a page) into a page-aligned mapping of `span(colour + size)`
// bytes, so it is aligned to at least a cache line; `is_large` admits
// alignments up to the cache line only.
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
            (true, true) => {
                let (old, new) = (mapping(ptr, old_size), mapping(ptr, new_size));
                if old.len == new.len {
                    return ptr;
                }
                let base = sys::remap(old.addr as *mut u8, old.len, new.len);
                if base.is_null() {
                    return base;
                }
                // SAFETY: the colour is kept, and the new mapping is long enough for it.
                unsafe { base.add(ptr as usize - old.addr) }
            }
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
    use super::{HUGE_PAGE, PAGE};

    /// A fresh zero-filled mapping of `len` bytes (a multiple of
    /// `HUGE_PAGE`) starting on a huge-page boundary, or null.
    pub(super) fn map(len: usize) -> *mut u8 {
        // A page short of a huge page more than `len` always holds a
        // huge-page-aligned stretch of `len` bytes.
        let Some(total) = len.checked_add(HUGE_PAGE - PAGE) else {
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

    /// An eighth of physical memory, or of the cgroup's memory limit
    /// (`memory.max`, cgroup v2, as a container sees it) if that is lower.
    pub(super) fn default_limit() -> usize {
        // SAFETY: sysconf has no preconditions.
        let (pages, size) = unsafe { (libc::sysconf(libc::_SC_PHYS_PAGES), libc::sysconf(libc::_SC_PAGESIZE)) };
        let physical = usize::try_from(pages).unwrap_or(0).saturating_mul(usize::try_from(size).unwrap_or(0));
        let cgroup = std::fs::read_to_string("/sys/fs/cgroup/memory.max")
            .ok()
            .and_then(|s| s.trim().parse::<usize>().ok())
            .unwrap_or(usize::MAX);
        physical.min(cgroup) / 8
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
        // Exactly twice the request still fits.
        assert_eq!(s.take(4 * MB, t, &mut out), Some(block(1, 8 * MB)));
        assert_eq!(s.bytes, 0);
        assert_eq!(out.n, 0);
    }

    #[test]
    fn caps_are_whole_numbers_of_mib() {
        assert_eq!(cap_bytes(" 5 "), Some(5 * MB));
        assert_eq!(cap_bytes("0"), Some(0));
        assert_eq!(cap_bytes("99999999999999999999999"), Some(usize::MAX));
        for bad in ["", " ", "+5", "-1", "1.5", "5MB", "\u{0661}"] {
            assert_eq!(cap_bytes(bad), None, "{bad:?}");
        }
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
            // The first block has colour 0: its mapping starts right at it,
            // on a huge page.
            let p = a.alloc(layout(size));
            assert!(!p.is_null());
            assert_eq!(p as usize % HUGE_PAGE, 0);
            std::ptr::write_bytes(p, 0xAB, size);
            a.dealloc(p, layout(size));
            assert_eq!(a.kept_bytes(), 12 * MB);
            // The second has colour 17 lines; 8 MB then need a 10 MB mapping,
            // so the kept 12 MB one comes back with its tail unmapped,
            // zero-filled as asked.
            let q = a.alloc_zeroed(layout(8 * MB));
            assert_eq!(q as usize, p as usize + 17 * CACHE_LINE);
            assert_eq!(a.kept_bytes(), 0);
            let s = std::slice::from_raw_parts(q, 8 * MB);
            assert!(s.iter().all(|&b| b == 0));
            let tail = p.add(10 * MB).cast();
            assert_eq!(libc::msync(tail, HUGE_PAGE, libc::MS_ASYNC), -1);
            assert_eq!(libc::msync(p.cast(), 10 * MB, libc::MS_ASYNC), 0);
            a.dealloc(q, layout(8 * MB));
        }
        assert_eq!(a.release(), 10 * MB);
        assert_eq!(a.kept_bytes(), 0);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn blocks_in_a_row_start_on_different_cache_lines() {
        let a = BlockCache::with_limit(System, 0);
        let mut colours = Vec::new();
        unsafe {
            for _ in 0..COLOURS {
                let p = a.alloc(layout(LARGE_FROM));
                assert_eq!(p as usize % CACHE_LINE, 0);
                colours.push(p as usize % PAGE);
                a.dealloc(p, layout(LARGE_FROM));
            }
        }
        colours.sort_unstable();
        colours.dedup();
        assert_eq!(colours.len(), COLOURS);
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
            assert!(std::slice::from_raw_parts(p, LARGE_FROM).iter().all(|&b| b == 0));
            a.dealloc(p, layout(LARGE_FROM));
        }
        assert_eq!(a.kept_bytes(), 0);
        assert_eq!(a.release(), 0);
    }

    /// `System`, counting the blocks it holds.
    struct Counting(AtomicUsize);

    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            self.0.fetch_add(1, Ordering::Relaxed);
            unsafe { System.alloc(layout) }
        }
        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            self.0.fetch_sub(1, Ordering::Relaxed);
            unsafe { System.dealloc(ptr, layout) }
        }
    }

    #[test]
    fn small_or_over_aligned_requests_go_to_the_inner_allocator() {
        let a = BlockCache::with_limit(Counting(AtomicUsize::new(0)), 64 * MB);
        let held = || a.inner.0.load(Ordering::Relaxed);
        unsafe {
            let p = a.alloc(layout(100));
            assert_eq!(held(), 1);
            let p = a.realloc(p, layout(100), 200);
            assert_eq!(held(), 1);
            a.dealloc(p, layout(200));
            assert_eq!(held(), 0);
            let big = a.alloc(layout(LARGE_FROM));
            let over_aligned = Layout::from_size_align(LARGE_FROM, 2 * PAGE).unwrap();
            let q = a.alloc(over_aligned);
            // On Linux only the over-aligned block is the inner allocator's.
            assert_eq!(held(), if cfg!(target_os = "linux") { 1 } else { 2 });
            a.dealloc(q, over_aligned);
            a.dealloc(big, layout(LARGE_FROM));
        }
        assert_eq!(held(), 0);
        a.release();
    }
}
