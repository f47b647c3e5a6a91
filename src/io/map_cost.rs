//! Whether the fast reader maps a file's next window or reads it with
//! `pread`, chosen as the read goes from what mapping the last window cost.
//!
//! Mapping a 16 MiB window of the file (`MAP_POPULATE`: the kernel maps all
//! its pages in the `mmap` call) costs what the state of the page cache
//! makes it (Linux 6.18, ext4; docs/performance.md, "The page cache"):
//! about 0.04 ms when read-ahead left the pages in large folios, 1 ms just
//! after a process wrote the file, 3-6 ms when they were cached 4 KiB at a
//! time (as hours of use leave a file, and as file systems without large
//! folios cache every file), more when they are not cached at all. Where
//! mapping is cheap, walking the mapped pages beats copying them; where it
//! is costly, `pread` wins (one thread 8 % faster in the 4 KiB state). So
//! the CPU time each whole window's mapping takes the reading thread is
//! measured (its own time: not time spent waiting for a core or the disk),
//! and after a costly one the next bytes are read with `pread` before a
//! window is mapped again: 16 MiB, twice as many after each costly try in
//! a row, up to 1 GiB (a file's state can change along it: the first
//! windows of a file read once, read while read-ahead was ramping up, are
//! often costly when the rest is not).

use std::time::Duration;

/// Bytes a probe maps (a twin's way of judging a window: [`probe`]).
pub const PROBE: usize = 2 << 20;

/// A window whose mapping took longer than this per MiB is costly
/// (0.1 ms: 1.6 ms for a 16 MiB window; between the 1 ms of a file just
/// written, where mapping and reading cost the same, and the 3-6 ms of
/// pages cached 4 KiB at a time).
const COSTLY_NS_PER_MIB: u64 = 100_000;
/// Bytes read with `pread` after a first costly window before mapping is
/// tried again (one window: in a file read once, the first two windows
/// are often costly, the rest cheap; a longer first stretch cost that
/// read 3-4 %).
pub const FIRST_STRETCH: u64 = 16 << 20;
/// The longest stretch read between tries.
pub const LONGEST_STRETCH: u64 = 1 << 30;

/// The choice for one reader.
#[derive(Clone, Copy, Default)]
pub struct MapCost {
    /// Bytes still to be read with `pread` before a window is mapped again.
    left: u64,
    /// The stretch read after the last costly window (0: the last window
    /// mapped was cheap, or none was).
    stretch: u64,
}

impl MapCost {
    /// Whether the next bytes should come from a mapped window.
    #[inline]
    pub fn map_next(&self) -> bool {
        self.left == 0
    }

    /// Mapping a window of `len` bytes took `took`.
    pub fn mapped(&mut self, len: usize, took: Duration) {
        if costly(len, took) {
            self.stretch = (self.stretch * 2).clamp(FIRST_STRETCH, LONGEST_STRETCH);
            self.left = self.stretch;
        } else {
            self.stretch = 0;
        }
    }

    /// `n` bytes were read with `pread`.
    #[inline]
    pub fn read(&mut self, n: usize) {
        self.left = self.left.saturating_sub(n as u64);
    }
}

/// The CPU time the calling thread has used (zero if the clock cannot be
/// read: no window is then judged costly).
pub fn thread_cpu_time() -> Duration {
    let mut t = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes the timespec it is given.
    if unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) } != 0 {
        return Duration::ZERO;
    }
    Duration::new(u64::try_from(t.tv_sec).unwrap_or(0), u32::try_from(t.tv_nsec).unwrap_or(0))
}

/// Where a probe of the window of `len` bytes at `base` maps: the first
/// `PROBE`-aligned `PROBE` bytes wholly inside it (large folios are at
/// most that size and aligned to it, so a probe maps them whole, as the
/// window would), or `None` when the window holds none.
pub fn probe_at(base: u64, len: usize) -> Option<u64> {
    let p = base.checked_next_multiple_of(PROBE as u64)?;
    (p.checked_add(PROBE as u64)? <= base.checked_add(len as u64)?).then_some(p)
}

/// The CPU time the calling thread spends mapping `len` bytes of `fd` from
/// `off` (a multiple of the page size) with all their pages
/// (`MAP_POPULATE`) and unmapping them again; nothing is read through the
/// mapping (so a file cut short meanwhile raises no SIGBUS). `None` when
/// they cannot be mapped.
pub fn probe(fd: libc::c_int, off: u64, len: usize) -> Option<Duration> {
    let off = libc::off_t::try_from(off).ok()?;
    let t = thread_cpu_time();
    // SAFETY: a fresh read-only mapping at an address the kernel picks,
    // unmapped below and never read.
    let p = unsafe {
        libc::mmap(std::ptr::null_mut(), len, libc::PROT_READ, libc::MAP_PRIVATE | libc::MAP_POPULATE, fd, off)
    };
    if p == libc::MAP_FAILED {
        return None;
    }
    // SAFETY: the mapping just made, `len` bytes long.
    unsafe { libc::munmap(p, len) };
    Some(thread_cpu_time().saturating_sub(t))
}

/// Whether mapping `len` bytes in `took` was costly.
fn costly(len: usize, took: Duration) -> bool {
    let mib = (len as u64).div_ceil(1 << 20).max(1);
    took.as_nanos() > u128::from(mib * COSTLY_NS_PER_MIB)
}

#[cfg(test)]
mod tests {
    use super::*;

    const W: usize = 16 << 20;

    #[test]
    fn cheap_windows_keep_mapping() {
        let mut c = MapCost::default();
        assert!(c.map_next());
        c.mapped(W, Duration::from_micros(40)); // 2 MiB folios
        assert!(c.map_next());
        c.mapped(W, Duration::from_micros(1_000)); // a file just written
        assert!(c.map_next());
    }

    #[test]
    fn a_costly_window_reads_then_tries_again() {
        let mut c = MapCost::default();
        c.mapped(W, Duration::from_micros(3_000)); // 4 KiB folios
        assert!(!c.map_next());
        c.read((FIRST_STRETCH - 1) as usize);
        assert!(!c.map_next());
        c.read(1 << 18);
        assert!(c.map_next(), "mapping is tried again after FIRST_STRETCH bytes");
    }

    #[test]
    fn costly_tries_in_a_row_read_longer_until_a_cheap_one() {
        let mut c = MapCost::default();
        let mut stretches = vec![];
        for _ in 0..9 {
            c.mapped(W, Duration::from_millis(6));
            let mut n = 0u64;
            while !c.map_next() {
                c.read(1 << 20);
                n += 1 << 20;
            }
            stretches.push(n >> 20);
        }
        assert_eq!(stretches, [16, 32, 64, 128, 256, 512, 1024, 1024, 1024]);
        c.mapped(W, Duration::from_micros(40));
        assert!(c.map_next());
        c.mapped(W, Duration::from_millis(6));
        c.read((FIRST_STRETCH - 1) as usize);
        assert!(!c.map_next());
        c.read(1);
        assert!(c.map_next(), "a cheap window starts the stretches over");
    }

    #[test]
    fn the_thread_clock_runs() {
        let t = thread_cpu_time();
        let mut x = 0u64;
        for i in 0..2_000_000u64 {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
        }
        assert!(thread_cpu_time() > t, "{x}");
    }

    #[test]
    fn the_threshold_lies_between_written_and_scattered_pages() {
        assert!(!costly(W, Duration::from_micros(1_600)));
        assert!(costly(W, Duration::from_micros(1_601)));
    }

    #[test]
    fn a_probe_maps_the_first_aligned_2_mib_inside_the_window() {
        const M: u64 = 1 << 20;
        const U: usize = 1 << 20;
        assert_eq!(probe_at(0, W), Some(0));
        assert_eq!(probe_at(4096, W), Some(2 * M));
        assert_eq!(probe_at(2 * M - 4096, W), Some(2 * M));
        assert_eq!(probe_at(14 * M + 4096, W), Some(16 * M));
        assert_eq!(probe_at(M, 3 * U), Some(2 * M), "ends exactly at the window's end");
        assert_eq!(probe_at(M, 3 * U - 4096), None, "no aligned 2 MiB inside");
        assert_eq!(probe_at(u64::MAX - M, W), None, "no overflow");
    }

    #[test]
    fn a_probe_of_a_file_takes_cpu_time_or_says_it_cannot_map() {
        use std::io::Write;
        use std::os::fd::AsRawFd;
        let path = std::env::temp_dir().join(format!("pyopenbsd-probe-{}", std::process::id()));
        let mut f = std::fs::File::create(&path).expect("create");
        f.write_all(&vec![7u8; 4 << 20]).expect("write");
        let f = std::fs::File::open(&path).expect("open");
        // Mapped and unmapped: a cost is measured (the clock may read 0 ns
        // for 512 cached pages only on a coarse clock; it is never more
        // than a second).
        let took = probe(f.as_raw_fd(), 2 << 20, PROBE).expect("a regular file maps");
        assert!(took < Duration::from_secs(1));
        // Not a multiple of the page size, or not a file: not mapped.
        assert!(probe(f.as_raw_fd(), 1, PROBE).is_none());
        assert!(probe(-1, 0, PROBE).is_none());
        drop(f);
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn a_costly_probe_is_judged_as_a_window() {
        // 0.3 ms for 2 MiB of pages cached 4 KiB at a time, 9 us in large
        // folios (docs/performance.md): the same threshold per MiB.
        let mut c = MapCost::default();
        c.mapped(PROBE, Duration::from_micros(9));
        assert!(c.map_next());
        c.mapped(PROBE, Duration::from_micros(300));
        assert!(!c.map_next());
        c.read(FIRST_STRETCH as usize);
        assert!(c.map_next());
    }
}
