//! Memory-mapped windows of a capture file that survive the file being cut
//! short under them.
//!
//! Reading a mapped file past its end raises SIGBUS, which would kill the
//! process if the file is truncated while a window of it is mapped. Each
//! window is therefore registered here, and a SIGBUS handler (installed on
//! first use, chaining to the one it replaces) maps zero pages over the rest
//! of a window that faults and marks it [`Window::intact`] `false`. The
//! reader checks that mark after reading a record and before handing it out
//! (along with the zeros a cut leaves in the rest of its last page: see
//! `super::savefile`), and then reads from that record on with libpcap,
//! which reports the short file as for any other. A fault anywhere else goes to the previous handler
//! (or the default action) as if this module did not exist.
//!
//! A window is mapped only while the handler is the one in force: if
//! something replaced it (Python's `signal.signal` or `faulthandler.enable`
//! after the first window), [`Window::map`] returns `None` and the reader
//! uses `pread` instead.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Once;

/// Windows mapped at once, process-wide; more readers fall back to `pread`.
const SLOTS: usize = 64;

struct Slot {
    /// 0 when free; set last when taken, cleared first when freed.
    start: AtomicUsize,
    end: AtomicUsize,
    faulted: AtomicBool,
}

#[allow(clippy::declare_interior_mutable_const)]
const FREE: Slot = Slot { start: AtomicUsize::new(0), end: AtomicUsize::new(0), faulted: AtomicBool::new(false) };
static SLOTS_IN_USE: [Slot; SLOTS] = [FREE; SLOTS];

/// The SIGBUS action in force before ours (written once, before ours is
/// installed; read by the handler).
static mut PREVIOUS: std::mem::MaybeUninit<libc::sigaction> = std::mem::MaybeUninit::uninit();
static INSTALL: Once = Once::new();
static INSTALLED: AtomicBool = AtomicBool::new(false);

/// The page size (asked once; the signal handler only reads it).
pub fn page_size() -> usize {
    static PAGE: AtomicUsize = AtomicUsize::new(0);
    match PAGE.load(Ordering::Relaxed) {
        0 => {
            // SAFETY: sysconf has no preconditions.
            let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
            let p = if p > 0 { p as usize } else { 4096 };
            PAGE.store(p, Ordering::Relaxed);
            p
        }
        p => p,
    }
}

extern "C" fn on_sigbus(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    // Only async-signal-safe work here: atomics, mmap, sigaction.
    // SAFETY: the kernel passes a valid siginfo for SA_SIGINFO handlers.
    let addr = if info.is_null() { 0 } else { unsafe { (*info).si_addr() as usize } };
    for s in SLOTS_IN_USE.iter() {
        let start = s.start.load(Ordering::Acquire);
        let end = s.end.load(Ordering::Acquire);
        if start != 0 && (start..end).contains(&addr) {
            let page = addr & !(page_size() - 1);
            // SAFETY: replaces pages of our own live window (registered until
            // it is unmapped) with zero pages; the window stays mapped.
            let p = unsafe {
                libc::mmap(
                    page as *mut libc::c_void,
                    end - page,
                    libc::PROT_READ,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED,
                    -1,
                    0,
                )
            };
            if p != libc::MAP_FAILED {
                s.faulted.store(true, Ordering::Release);
                return; // the read is retried, and reads zeros
            }
        }
    }
    // Not ours: what would have happened without us.
    // SAFETY: PREVIOUS was written before this handler was installed.
    unsafe {
        let prev = &*std::ptr::addr_of!(PREVIOUS).cast::<libc::sigaction>();
        let h = prev.sa_sigaction;
        if h == libc::SIG_DFL || h == libc::SIG_IGN {
            // Restore the default and return: the faulting access runs
            // again and the default action (terminate, core) takes place.
            let mut dfl: libc::sigaction = std::mem::zeroed();
            dfl.sa_sigaction = libc::SIG_DFL;
            libc::sigaction(libc::SIGBUS, &dfl, std::ptr::null_mut());
        } else if prev.sa_flags & libc::SA_SIGINFO != 0 {
            let f: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) = std::mem::transmute(h);
            f(sig, info, ctx);
        } else {
            let f: extern "C" fn(libc::c_int) = std::mem::transmute(h);
            f(sig);
        }
    }
}

/// Installs the handler once; true while it is the SIGBUS action in force.
fn handler_in_force() -> bool {
    INSTALL.call_once(|| {
        page_size();
        // SAFETY: plain sigaction calls; PREVIOUS is written before the
        // handler that reads it is installed.
        unsafe {
            let prev = &mut *std::ptr::addr_of_mut!(PREVIOUS).cast::<libc::sigaction>();
            if libc::sigaction(libc::SIGBUS, std::ptr::null(), prev) != 0 {
                return;
            }
            let mut act: libc::sigaction = std::mem::zeroed();
            act.sa_sigaction = on_sigbus as *const () as libc::sighandler_t;
            act.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK | libc::SA_NODEFER;
            libc::sigemptyset(&mut act.sa_mask);
            if libc::sigaction(libc::SIGBUS, &act, std::ptr::null_mut()) == 0 {
                INSTALLED.store(true, Ordering::Release);
            }
        }
    });
    if !INSTALLED.load(Ordering::Acquire) {
        return false;
    }
    // SAFETY: querying the current action.
    unsafe {
        let mut cur: libc::sigaction = std::mem::zeroed();
        libc::sigaction(libc::SIGBUS, std::ptr::null(), &mut cur) == 0
            && cur.sa_sigaction == on_sigbus as *const () as libc::sighandler_t
    }
}

/// A read-only mapping of part of a file.
pub struct Window {
    ptr: *const u8,
    len: usize,
    slot: &'static Slot,
}

// SAFETY: a window is a read-only mapping owned by the `Window` (like a
// `Box<[u8]>`); it can move between threads and be read from several.
unsafe impl Send for Window {}
unsafe impl Sync for Window {}

impl Window {
    /// Maps `len` bytes of `fd` from `off` (a multiple of the page size), or
    /// `None` (the caller reads with `pread`): mapping failed, every slot
    /// is taken, or the SIGBUS handler is not in force.
    pub fn map(fd: libc::c_int, off: u64, len: usize) -> Option<Window> {
        if len == 0 || off % page_size() as u64 != 0 || !handler_in_force() {
            return None;
        }
        let slot = SLOTS_IN_USE.iter().find(|s| {
            s.start.load(Ordering::Acquire) == 0
                && s.end.compare_exchange(0, 1, Ordering::AcqRel, Ordering::Acquire).is_ok()
        })?;
        // SAFETY: a fresh read-only mapping; the kernel picks the address.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ,
                libc::MAP_PRIVATE | libc::MAP_POPULATE,
                fd,
                off as libc::off_t,
            )
        };
        if p == libc::MAP_FAILED {
            slot.end.store(0, Ordering::Release);
            return None;
        }
        slot.faulted.store(false, Ordering::Release);
        slot.end.store(p as usize + len, Ordering::Release);
        slot.start.store(p as usize, Ordering::Release);
        Some(Window { ptr: p as *const u8, len, slot })
    }

    /// The mapped bytes. After a SIGBUS in the window, they read as zeros
    /// from the faulting page on: check [`Window::intact`] after reading.
    #[inline]
    pub fn bytes(&self) -> &[u8] {
        // SAFETY: mapped for `len` bytes while `self` lives.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }

    /// False once a read faulted (the file became shorter than the window):
    /// what was read from the window since may be zeros instead of data.
    #[inline]
    pub fn intact(&self) -> bool {
        !self.slot.faulted.load(Ordering::Acquire)
    }
}

impl Drop for Window {
    fn drop(&mut self) {
        self.slot.start.store(0, Ordering::Release);
        // SAFETY: our mapping, no longer registered, and no borrow of it
        // outlives `self`.
        unsafe { libc::munmap(self.ptr as *mut libc::c_void, self.len) };
        self.slot.end.store(0, Ordering::Release);
    }
}
