//! Streams that cannot seek (a pipe, a FIFO, standard input, a terminal):
//! libpcap reads them through a stdio stream of ours that counts the bytes
//! it hands over, so that `ftell()` there is the number of bytes libpcap
//! has consumed: the offset it would be at in a regular file.
//!
//! The stream (`fopencookie`) is unbuffered, so that stdio holds nothing
//! back: every `fread` of libpcap's comes straight to [`Counted::read`],
//! which serves it from a large buffer of its own (one `read(2)` for many
//! records, as a buffered stdio stream would do) and counts what it served.
//! Linux only (glibc and musl have `fopencookie`); elsewhere such streams
//! are read as any file, and their offset is unknown.

use pyo3::prelude::*;
use std::os::unix::io::RawFd;
use std::ptr::NonNull;

/// The state behind a counting stream, owned by the stream (freed, and
/// its descriptor closed, by `fclose`).
pub struct Counted {
    fd: RawFd,
    buf: Box<[u8]>,
    /// `buf[start..end]` is read from `fd` and not yet handed over.
    start: usize,
    end: usize,
    /// Bytes handed over to stdio (so to libpcap) since the start.
    consumed: u64,
    /// The exception a signal handler raised while a read waited (see
    /// `Counted::read`), for the caller to raise once libpcap gave up.
    pending: Option<PyErr>,
}

impl Counted {
    pub fn fd(&self) -> RawFd {
        self.fd
    }

    /// Bytes libpcap has read from the stream so far.
    pub fn consumed(&self) -> u64 {
        self.consumed
    }

    /// The exception a signal handler raised during a read, if any.
    pub fn take_pending(&mut self) -> Option<PyErr> {
        self.pending.take()
    }

    /// Hands over up to `out.len()` bytes: 0 at the end of the stream, -1
    /// (with `errno` set) when the read failed.
    ///
    /// A read interrupted by a signal (`EINTR`) runs Python's signal
    /// handlers, as Python's own reads do (PEP 475), and is tried again
    /// unless one raised: then the exception is kept for the caller
    /// (`take_pending`) and the read fails with `EINTR`. Without this, a
    /// handler that returns normally (a timer, `SIGCHLD`) would end the read
    /// with an "Interrupted system call" error.
    fn read(&mut self, out: &mut [u8]) -> isize {
        while self.start == self.end {
            // SAFETY: reads at most `buf.len()` bytes into `buf`.
            let n = unsafe { libc::read(self.fd, self.buf.as_mut_ptr().cast(), self.buf.len()) };
            if n > 0 {
                (self.start, self.end) = (0, n as usize);
            } else if n < 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
                // The read runs without the GIL (the caller released it);
                // taking it here is allowed, and nested takes are too.
                if let Some(e) = Python::attach(|py| py.check_signals().err()) {
                    self.pending = Some(e);
                    // SAFETY: this thread's errno.
                    unsafe { *libc::__errno_location() = libc::EINTR };
                    return -1;
                }
            } else {
                return n;
            }
        }
        let n = out.len().min(self.end - self.start);
        out[..n].copy_from_slice(&self.buf[self.start..self.start + n]);
        self.start += n;
        self.consumed += n as u64;
        n as isize
    }
}

#[cfg(target_os = "linux")]
mod cookie {
    use super::Counted;
    use libc::{c_char, c_int, c_void, size_t, ssize_t, FILE};

    #[repr(C)]
    pub struct CookieIoFunctions {
        pub read: Option<unsafe extern "C" fn(*mut c_void, *mut c_char, size_t) -> ssize_t>,
        pub write: Option<unsafe extern "C" fn(*mut c_void, *const c_char, size_t) -> ssize_t>,
        pub seek: Option<unsafe extern "C" fn(*mut c_void, *mut i64, c_int) -> c_int>,
        pub close: Option<unsafe extern "C" fn(*mut c_void) -> c_int>,
    }

    extern "C" {
        pub fn fopencookie(cookie: *mut c_void, mode: *const c_char, funcs: CookieIoFunctions) -> *mut FILE;
    }

    pub unsafe extern "C" fn read(cookie: *mut c_void, buf: *mut c_char, size: size_t) -> ssize_t {
        // SAFETY: stdio passes our cookie and a buffer of `size` bytes.
        let (c, out) = unsafe { (&mut *cookie.cast::<Counted>(), std::slice::from_raw_parts_mut(buf.cast::<u8>(), size)) };
        c.read(out)
    }

    pub unsafe extern "C" fn close(cookie: *mut c_void) -> c_int {
        // SAFETY: the cookie made by `super::open`, closed once by fclose.
        let c = unsafe { Box::from_raw(cookie.cast::<Counted>()) };
        unsafe { libc::close(c.fd) }
    }
}

/// A read-only, unbuffered stdio stream over `fd` that counts what is read
/// from it, and its state (valid until the stream is closed). The stream
/// owns `fd` from then on. `None` where this is not available, or when
/// the stream cannot be made (`fd` is then still the caller's).
///
/// # Safety
/// `fd` must be an open descriptor; the stream must be closed once, with
/// `fclose` (libpcap's `pcap_close` does).
#[allow(unused_variables)]
pub unsafe fn open(fd: RawFd, buffer: usize) -> Option<(*mut libc::FILE, NonNull<Counted>)> {
    #[cfg(target_os = "linux")]
    {
        let state = Box::new(Counted { fd, buf: vec![0u8; buffer].into_boxed_slice(), start: 0, end: 0, consumed: 0, pending: None });
        let raw = Box::into_raw(state);
        let funcs = cookie::CookieIoFunctions { read: Some(cookie::read), write: None, seek: None, close: Some(cookie::close) };
        // SAFETY: the cookie stays valid until `close` frees it.
        let f = unsafe { cookie::fopencookie(raw.cast(), c"rb".as_ptr(), funcs) };
        if f.is_null() {
            // SAFETY: not handed to any stream: still ours.
            drop(unsafe { Box::from_raw(raw) });
            return None;
        }
        // SAFETY: a fresh stream, before any read.
        unsafe { libc::setvbuf(f, std::ptr::null_mut(), libc::_IONBF, 0) };
        NonNull::new(raw).map(|state| (f, state))
    }
    #[cfg(not(target_os = "linux"))]
    None
}
