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

/// Hands the memory that threads which ended left behind back to the
/// kernel, and frees what this thread's heap holds but does not use.
///
/// A thread that ends while blocks it allocated are still in use (a
/// `to_parquet` row group's encoder thread, whose encoded columns the
/// caller's thread writes and drops after it ended) leaves its pages to
/// mimalloc, which takes them back for reuse only lazily: converting the
/// bench file with every default column peaked at 163-172 MB, its records
/// four times over at 209-213 MB (growing with the file: one encoder
/// thread per row group). Called once a row group is written: 140-185 MB
/// and 167-181 MB, at no cost measurable in the conversion's time
/// (docs/performance.md).
pub fn give_back() {
    // SAFETY: mi_collect only walks mimalloc's own structures; `true`
    // also frees abandoned pages and purges free ones at once.
    unsafe { libmimalloc_sys::mi_collect(true) };
}

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

    fn rss_kb() -> i64 {
        let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let kb = s.lines().find_map(|l| l.strip_prefix("VmRSS:"));
        kb.and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok()).unwrap_or(0)
    }

    /// In a child process (see below): forty threads in turn each allocate
    /// 300 blocks of 40-130 KB (about 25 MB) and end, and this thread
    /// frees the blocks, then gives memory back; prints the most RSS grew.
    #[test]
    fn child_threads_that_ended_leave_no_memory_behind() {
        if std::env::var_os("PYOPENBSD_ALLOCATOR_CHILD").is_none() {
            return;
        }
        let start = rss_kb();
        let mut most = 0;
        for round in 0..40usize {
            let blocks = std::thread::spawn(move || {
                (0..300).map(|i| vec![round as u8; 40_000 + (i * 997 + round * 131) % 90_000]).collect::<Vec<_>>()
            })
            .join()
            .expect("thread");
            assert!(blocks.iter().all(|b| b[0] == round as u8));
            drop(blocks);
            super::give_back();
            most = most.max(rss_kb() - start);
        }
        println!("grew {most} kB");
    }

    #[test]
    fn memory_of_threads_that_ended_goes_back() {
        // Run alone in a child process, where no other test's memory
        // counts. Without `give_back` the child grows by about 88 MB (the
        // pages the ended threads' heaps held, kept for reuse); with it,
        // by at most what one round holds at once.
        let out = std::process::Command::new(std::env::current_exe().expect("test binary"))
            .args(["--exact", "allocator::tests::child_threads_that_ended_leave_no_memory_behind", "--nocapture"])
            .env("PYOPENBSD_ALLOCATOR_CHILD", "1")
            .output()
            .expect("child");
        let text = String::from_utf8_lossy(&out.stdout);
        let grew: i64 = text
            .lines()
            .find_map(|l| l.strip_prefix("grew ").and_then(|v| v.strip_suffix(" kB")))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no figure from the child: {text}"));
        assert!(grew < 40_000, "grew by {grew} kB");
    }
}
