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
//!
//! [`Sink`] is the writing side, for a `Dumper` writing to a pipe: it
//! counts what was written (for `ftell()`), writes everything it is given,
//! and, like [`Counted`], lets a signal interrupt a blocked write without
//! failing it.

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
            } else if n < 0 && interrupted() {
                if !go_on_after_signal(&mut self.pending) {
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

/// Whether the last failed call of this thread was interrupted by a signal.
fn interrupted() -> bool {
    std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR)
}

/// After a call was interrupted by a signal: runs Python's signal handlers
/// (PEP 475). True when the call should be made again; false when a
/// handler raised: the exception is kept in `pending` and `errno` is EINTR
/// again, for the failing call to report.
///
/// The caller may hold the GIL or not: taking it here is allowed either way.
fn go_on_after_signal(pending: &mut Option<PyErr>) -> bool {
    match Python::attach(|py| py.check_signals().err()) {
        None => true,
        Some(e) => {
            *pending = Some(e);
            // SAFETY: this thread's errno.
            unsafe { *libc::__errno_location() = libc::EINTR };
            false
        }
    }
}

/// `open(path, flags)`, run without the GIL. Opening a FIFO waits for the
/// other end: a signal then runs its Python handlers and the open goes on,
/// unless one raised (PEP 475), as for reads and writes. `Ok(-1)` with
/// `errno` set when the open failed.
pub fn open_waiting(path: &std::ffi::CStr, flags: libc::c_int) -> PyResult<RawFd> {
    loop {
        // SAFETY: a valid C string.
        let fd = unsafe { libc::open(path.as_ptr(), flags | libc::O_CLOEXEC) };
        if fd < 0 && interrupted() {
            Python::attach(|py| py.check_signals())?;
            continue;
        }
        return Ok(fd);
    }
}

/// The state behind a writing stream: a pipe, a FIFO, standard output.
pub struct Sink {
    fd: RawFd,
    /// Bytes written to `fd` since the start.
    written: u64,
    /// As `Counted::pending`.
    pending: Option<PyErr>,
}

impl Sink {
    /// The exception a signal handler raised during a write, if any.
    pub fn take_pending(&mut self) -> Option<PyErr> {
        self.pending.take()
    }

    /// Writes all of `data` (stdio takes a short write for an error), going
    /// on after signals whose handlers return; -1 with `errno` set when a
    /// write failed or a handler raised.
    fn write(&mut self, data: &[u8]) -> isize {
        let mut done = 0;
        while done < data.len() {
            let rest = &data[done..];
            // SAFETY: writes at most `rest.len()` bytes from `rest`.
            let n = unsafe { libc::write(self.fd, rest.as_ptr().cast(), rest.len()) };
            if n >= 0 {
                done += n as usize;
                self.written += n as u64;
            } else if !(interrupted() && go_on_after_signal(&mut self.pending)) {
                return -1;
            }
        }
        done as isize
    }
}

#[cfg(target_os = "linux")]
mod cookie {
    use super::{Counted, Sink};
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

    pub unsafe extern "C" fn sink_write(cookie: *mut c_void, buf: *const c_char, size: size_t) -> ssize_t {
        // SAFETY: stdio passes our cookie and `size` bytes to write.
        let (s, data) = unsafe { (&mut *cookie.cast::<Sink>(), std::slice::from_raw_parts(buf.cast::<u8>(), size)) };
        s.write(data)
    }

    /// `ftell` asks where the stream is (offset 0 from the current
    /// position): the bytes written so far. Any real seek is refused.
    pub unsafe extern "C" fn sink_seek(cookie: *mut c_void, offset: *mut i64, whence: c_int) -> c_int {
        // SAFETY: stdio passes our cookie and a valid offset.
        let (s, off) = unsafe { (&*cookie.cast::<Sink>(), &mut *offset) };
        if whence == libc::SEEK_CUR && *off == 0 {
            *off = s.written as i64;
            return 0;
        }
        // SAFETY: this thread's errno.
        unsafe { *libc::__errno_location() = libc::ESPIPE };
        -1
    }

    pub unsafe extern "C" fn sink_close(cookie: *mut c_void) -> c_int {
        // SAFETY: the cookie made by `super::open_sink`, closed once by fclose.
        let s = unsafe { Box::from_raw(cookie.cast::<Sink>()) };
        unsafe { libc::close(s.fd) }
    }
}

/// A write-only stdio stream over `fd` (see [`Sink`]), and its state (valid
/// until the stream is closed). The stream owns `fd` from then on. `None`
/// where this is not available, or when the stream cannot be made (`fd` is
/// then still the caller's).
///
/// # Safety
/// `fd` must be an open descriptor; the stream must be closed once, with
/// `fclose` (libpcap's `pcap_dump_close` does).
#[allow(unused_variables)]
pub unsafe fn open_sink(fd: RawFd) -> Option<(*mut libc::FILE, NonNull<Sink>)> {
    #[cfg(target_os = "linux")]
    {
        let raw = Box::into_raw(Box::new(Sink { fd, written: 0, pending: None }));
        let funcs = cookie::CookieIoFunctions {
            read: None,
            write: Some(cookie::sink_write),
            seek: Some(cookie::sink_seek),
            close: Some(cookie::sink_close),
        };
        // SAFETY: the cookie stays valid until `sink_close` frees it.
        let f = unsafe { cookie::fopencookie(raw.cast(), c"wb".as_ptr(), funcs) };
        if f.is_null() {
            // SAFETY: not handed to any stream: still ours.
            drop(unsafe { Box::from_raw(raw) });
            return None;
        }
        NonNull::new(raw).map(|state| (f, state))
    }
    #[cfg(not(target_os = "linux"))]
    None
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
