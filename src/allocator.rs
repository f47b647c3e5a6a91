//! The allocator of the Rust side of the module: mimalloc, for every
//! allocation the Rust code makes (Arrow buffers, builders, `pread`
//! buffers, packets' layer lists); Python's objects keep Python's.
//!
//! Why not the C library's `malloc`: with `batches(threads=2)` the span
//! threads allocate each batch's buffers and the consumer's thread frees
//! them. glibc gives each thread an arena of its own, hands such frees
//! back to the allocating thread's arena and, when the top of that arena
//! is free beyond its trim threshold, returns the pages to the kernel
//! (`madvise`), so the next batches' buffers fault them in again, zeroed:
//! about 5,000 page faults more than one thread per read of the bench file
//! into a table, 2,300-3,200 per two-thread read of it when each batch is
//! dropped once used. mimalloc keeps freed pages in its thread-local heaps
//! a while and takes frees from other threads without a lock: under 250
//! faults per two-thread read, and reads 2-10 % faster with one thread or
//! two (docs/performance.md, the figures of 2026-12-07, 21:12). The
//! per-packet path (`loop`, `dispatch`, decoding) was measured unchanged.
//! Polars makes the same choice for its module (with jemalloc).
//!
//! The module is loaded with `dlopen`, so mimalloc is built with the
//! local-dynamic TLS model (Cargo.toml).

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[cfg(test)]
mod tests {
    use std::ffi::c_void;

    fn mimalloc_owns(p: *const u8) -> bool {
        // SAFETY: only asks whether an address lies in mimalloc's heap.
        unsafe { libmimalloc_sys::mi_is_in_heap_region(p as *const c_void) }
    }

    #[test]
    fn the_rust_side_allocates_with_mimalloc() {
        let small = Box::new([7u8; 64]);
        let batch = vec![0u64; 1 << 19]; // 4 MiB, as an Arrow column of a batch
        assert!(mimalloc_owns(small.as_ptr()));
        assert!(mimalloc_owns(batch.as_ptr() as *const u8));
        // And not by accident: the C library's malloc is not mimalloc's.
        // SAFETY: a plain malloc/free pair.
        unsafe {
            let c = libc::malloc(64) as *const u8;
            assert!(!c.is_null());
            assert!(!mimalloc_owns(c));
            libc::free(c as *mut c_void);
        }
    }

    #[test]
    fn allocations_of_other_threads_are_mimallocs_too() {
        // The span threads' pattern: allocated on one thread, freed on
        // another, then allocated again on a third.
        let made = std::thread::spawn(|| vec![1u8; 4 << 20]).join().expect("thread");
        assert!(mimalloc_owns(made.as_ptr()));
        assert_eq!(made.iter().map(|&b| b as usize).sum::<usize>(), 4 << 20);
        drop(made);
        let again = std::thread::spawn(|| vec![2u8; 4 << 20]).join().expect("thread");
        assert!(mimalloc_owns(again.as_ptr()));
        assert!(again.iter().all(|&b| b == 2));
    }
}
