//! `Dumper`: writes a savefile with libpcap's own writer (so files are
//! byte-for-byte what tcpdump writes), checking every write for errors.

use super::feed::Feed;
use crate::py::args::{int_arg, packet_bytes, PathArg};
use crate::py::error::{pcap_error, pcap_error_after_os, pcap_os_error_about, set_cloexec};
use crate::ffi;
use crate::io::stream::Sink;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyTuple;
use std::ptr::NonNull;
use std::sync::{Mutex, MutexGuard};

const DUMPER_CLOSED: &str = "dumper is closed (not connected)";

/// An open `pcap_dumper_t`, flushed and closed on drop.
///
/// Standard output (`"-"`) and other outputs that are not regular files (a
/// FIFO) are written through a stream of ours over a descriptor of ours
/// (`crate::io::stream::Sink`: a signal does not fail a blocked write, and
/// `ftell()` counts what was written); closing it leaves file descriptor 1
/// open under Python's `sys.stdout`. Where that stream is not available,
/// libpcap writes `"-"` to C's `stdout`, which is then flushed but never
/// closed.
struct Writer {
    dumper: NonNull<ffi::pcap_dumper_t>,
    owns_stream: bool,
    /// The state of our stream, when the output goes through one (valid
    /// while the dumper is open).
    sink: Option<NonNull<Sink>>,
}

// Access is serialised by the Dumper's mutex.
unsafe impl Send for Writer {}

impl Writer {
    /// Takes over a dumper libpcap opened for the file name `c`.
    fn new(dumper: NonNull<ffi::pcap_dumper_t>, c: &std::ffi::CStr) -> Self {
        let owns_stream = c.to_bytes() != b"-";
        // SAFETY: the FILE belongs to the open dumper.
        let f = unsafe { ffi::pcap_dump_file(dumper.as_ptr()) };
        if owns_stream && !f.is_null() {
            // Our own file: not inherited by child processes (PEP 446).
            set_cloexec(unsafe { libc::fileno(f) });
        }
        Writer { dumper, owns_stream, sink: None }
    }

    /// Takes over a dumper libpcap opened on our stream `sink`.
    fn over_sink(dumper: NonNull<ffi::pcap_dumper_t>, sink: NonNull<Sink>) -> Self {
        Writer { dumper, owns_stream: true, sink: Some(sink) }
    }

    /// The exception a signal handler raised during a write that failed
    /// because of it: what the caller must see rather than the write error.
    fn take_pending(&self) -> Option<PyErr> {
        // SAFETY: the sink lives as long as the open dumper; calls are
        // serialised by the Dumper's mutex.
        self.sink.and_then(|mut s| unsafe { s.as_mut().take_pending() })
    }

    fn ptr(&self) -> *mut ffi::pcap_dumper_t {
        self.dumper.as_ptr()
    }

    /// The pending error of the underlying stream, if a write failed.
    fn stream_error(&self) -> Option<std::io::Error> {
        // SAFETY: the FILE belongs to the open dumper.
        unsafe {
            let f = ffi::pcap_dump_file(self.ptr());
            if !f.is_null() && libc::ferror(f) != 0 {
                let e = std::io::Error::last_os_error();
                libc::clearerr(f);
                return Some(e);
            }
        }
        None
    }

    fn flush(&self) -> Result<(), std::io::Error> {
        // SAFETY: open dumper.
        if unsafe { ffi::pcap_dump_flush(self.ptr()) } != 0 {
            let e = std::io::Error::last_os_error();
            // Reported now: clear the stream's error flag so that a later
            // flush or close does not report it again with a stale errno.
            // (stdio has dropped the data it could not write.)
            unsafe {
                let f = ffi::pcap_dump_file(self.ptr());
                if !f.is_null() {
                    libc::clearerr(f);
                }
            }
            return Err(e);
        }
        match self.stream_error() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        // SAFETY: closed exactly once; stdout is only flushed.
        unsafe {
            if self.owns_stream {
                ffi::pcap_dump_close(self.ptr())
            } else {
                ffi::pcap_dump_flush(self.ptr());
            }
        }
    }
}

/// For standard output (`"-"`) and outputs that exist and are not regular
/// files (a FIFO, a terminal): a stream of ours over a descriptor of ours
/// (see `Writer`). `None` for a regular file or a new one (libpcap opens
/// those itself), or where our stream is not available.
fn open_sink_output(
    py: Python<'_>,
    path: &PathArg,
    c: &std::ffi::CStr,
) -> PyResult<Option<(*mut libc::FILE, NonNull<Sink>)>> {
    let fd = if c.to_bytes() == b"-" {
        // SAFETY: duplicates standard output; ours to close.
        unsafe { libc::fcntl(libc::STDOUT_FILENO, libc::F_DUPFD_CLOEXEC, 0) }
    } else {
        match std::fs::metadata(&path.path) {
            Ok(m) if !m.is_file() && !m.is_dir() => {}
            _ => return Ok(None),
        }
        // Opening a FIFO waits for its reader, which may be another thread
        // of this process: without the GIL.
        py.detach(|| crate::io::stream::open_waiting(c, libc::O_WRONLY))?
    };
    if fd < 0 {
        return Err(pcap_os_error_about(&path.display, "", &std::io::Error::last_os_error()));
    }
    // SAFETY: an open descriptor of ours, handed to the stream.
    match unsafe { crate::io::stream::open_sink(fd) } {
        Some(s) => Ok(Some(s)),
        None => {
            // SAFETY: not taken by a stream: still ours.
            unsafe { libc::close(fd) };
            Ok(None)
        }
    }
}

/// libpcap reads some link types it cannot write: a file whose link type
/// field has no `LINKTYPE_*` mapping on this platform (on Linux, OpenBSD's
/// `DLT_ENC` 13 and old pflog 17) is read with that raw value as its
/// `datalink()`, but `pcap_dump_open` refuses it ("isn't supported in
/// savefiles"). For a regular file, write the savefile with libpcap all the
/// same, storing the raw value back in the header, so that such captures
/// can be copied and filtered byte for byte.
///
/// `None` when this does not apply (another error, or an output that is not
/// a regular file, where the header cannot be rewritten): the caller
/// reports libpcap's error.
///
/// # Safety
/// `p` must be an open handle.
unsafe fn open_with_raw_linktype(
    p: *mut ffi::pcap_t,
    path: &PathArg,
    c: &std::ffi::CStr,
    reason: &str,
) -> Option<Result<Writer, std::io::Error>> {
    if !reason.contains("isn't supported in savefiles") || c.to_bytes() == b"-" {
        return None;
    }
    match std::fs::metadata(&path.path) {
        Ok(m) if !m.is_file() => return None,
        _ => {}
    }
    let dlt = u32::try_from(ffi::pcap_datalink(p)).ok()?;
    // The header is written for Ethernet (which every libpcap can write)
    // with the feed's snap length and precision, then its link type field is replaced.
    let precision = crate::capture::source::options::Precision::of(p);
    let dead = super::source::raw::RawHandle::open_dead_with(super::dlt::DLT_EN10MB, ffi::pcap_snapshot(p), precision)?;
    let w = Writer::new(NonNull::new(ffi::pcap_dump_open(dead.ptr(), c.as_ptr()))?, c);
    let f = ffi::pcap_dump_file(w.ptr());
    if f.is_null() {
        return None;
    }
    if libc::fflush(f) != 0 {
        return Some(Err(std::io::Error::last_os_error()));
    }
    // Offset 20 of the file header: the link type, in this machine's order.
    let field = dlt.to_ne_bytes();
    if libc::pwrite(libc::fileno(f), field.as_ptr().cast(), field.len(), 20) != field.len() as isize {
        return Some(Err(std::io::Error::last_os_error()));
    }
    Some(Ok(w))
}

/// A pcapng file of ours (libpcap 1.10 cannot write pcapng).
type NgWriter = crate::io::pcapng::Writer<std::io::BufWriter<std::fs::File>>;

/// Where a `Dumper` writes: a savefile through libpcap, or pcapng.
enum Output {
    Pcap(Writer),
    Pcapng(NgWriter),
}

impl Output {
    fn flush(&mut self) -> Result<(), std::io::Error> {
        match self {
            Output::Pcap(w) => w.flush(),
            Output::Pcapng(w) => w.flush(),
        }
    }

    /// The exception of a signal handler that failed a write (pcap only:
    /// pcapng writes retry interrupted writes).
    fn take_pending(&self) -> Option<PyErr> {
        match self {
            Output::Pcap(w) => w.take_pending(),
            Output::Pcapng(_) => None,
        }
    }
}

/// `format=` of `Dumper`: whether to write pcapng.
fn format_arg(obj: Option<&Bound<'_, PyAny>>) -> PyResult<bool> {
    let Some(obj) = obj else { return Ok(false) };
    let s: String = obj.extract().map_err(|_| {
        PyTypeError::new_err(format!("format must be a str, not {}", crate::py::args::type_name(obj)))
    })?;
    match s.as_str() {
        "pcap" => Ok(false),
        "pcapng" => Ok(true),
        _ => Err(PyValueError::new_err(format!("format must be \"pcap\" or \"pcapng\", not {s:?}"))),
    }
}

/// Opens `path` (`"-"`: a duplicate of standard output) and writes the
/// pcapng section and interface headers for the feed's handle `p`.
///
/// # Safety
/// `p` must be an open handle.
unsafe fn open_pcapng(py: Python<'_>, p: *mut ffi::pcap_t, path: &PathArg, c: &std::ffi::CStr, live: Option<&str>) -> PyResult<NgWriter> {
    let os_err = |e: std::io::Error| pcap_os_error_about(&path.display, "", &e);
    let linktype = ffi::pcap_datalink(p);
    let linktype = u16::try_from(linktype)
        .map_err(|_| crate::py::error::pcap_error_about(&path.display, &format!("link type {linktype} cannot be written to pcapng")))?;
    let iface = crate::io::pcapng::Interface {
        linktype,
        snaplen: ffi::pcap_snapshot(p).max(0) as u32,
        nano: crate::capture::source::options::Precision::of(p) == crate::capture::source::options::Precision::Nano,
        name: live.map(str::to_owned),
    };
    let file = if c.to_bytes() == b"-" {
        let fd = libc::fcntl(libc::STDOUT_FILENO, libc::F_DUPFD_CLOEXEC, 0);
        if fd < 0 {
            return Err(os_err(std::io::Error::last_os_error()));
        }
        <std::fs::File as std::os::fd::FromRawFd>::from_raw_fd(fd)
    } else {
        // A FIFO waits for its reader: without the GIL.
        py.detach(|| std::fs::File::create(&path.path)).map_err(os_err)?
    };
    let out = std::io::BufWriter::with_capacity(1 << 16, file);
    crate::io::pcapng::Writer::new(out, &iface).map_err(|e| pcap_os_error_about(&path.display, "write failed: ", &e))
}

/// `tstamp` of a `Dumper` call: a tuple `(sec, usec)`. A savefile stores
/// each in 32 bits: unsigned by the format's definition, signed as libpcap
/// 1.10 reads them back (so a packet read with seconds past 2038 may come as
/// a negative number, and a damaged file's fraction past 2^31 does); both
/// are taken, so that what a feed hands out is written back as it was read.
fn tstamp_arg(obj: &Bound<'_, PyAny>) -> PyResult<(i64, i64)> {
    let t = obj.cast::<PyTuple>().map_err(|_| {
        PyTypeError::new_err(format!(
            "tstamp must be a tuple (sec, usec), not {}",
            crate::py::args::type_name(obj)
        ))
    })?;
    if t.len() != 2 {
        return Err(PyValueError::new_err(format!("tstamp must be a tuple (sec, usec), got a tuple of length {}", t.len())));
    }
    let sec = int_arg(&t.get_item(0)?, "tstamp seconds", i64::from(i32::MIN), i64::from(u32::MAX))?;
    let usec = int_arg(&t.get_item(1)?, "tstamp microseconds", i64::from(i32::MIN), i64::from(u32::MAX))?;
    Ok((sec, usec))
}

/// Dumper(feed, filename, *, format="pcap")
///
/// Opens `filename` for writing a savefile with `feed`'s link type and snap
/// length. Call it like a feed callback, `dumper(packet, (sec, usec),
/// length)`, so `feed.loop(10, Dumper(feed, "out.pcap"))` copies ten
/// packets. A feed with `precision="nano"` gets a nanosecond savefile, and
/// takes `(sec, nsec)`. `format="pcapng"` writes pcapng (one interface with
/// the feed's link type, snap length and timestamp resolution), where a
/// packet may carry a comment: `dumper(packet, tstamp, length,
/// comment="...")`. Write errors raise `PcapError`; they are never silent.
#[pyclass(frozen, module = "openbsd.pcap")]
pub struct Dumper {
    writer: Mutex<Option<Output>>,
    /// The file name as given.
    #[pyo3(get)]
    filename: Py<PyAny>,
    path: String,
}

impl Dumper {
    fn lock(&self) -> MutexGuard<'_, Option<Output>> {
        self.writer.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The error of a failed write or flush of `w`: the exception of a
    /// signal handler that interrupted it, or the OS error `e`.
    fn write_error(&self, w: &Output, e: std::io::Error) -> PyErr {
        w.take_pending().unwrap_or_else(|| self.io_error(e))
    }

    fn io_error(&self, e: std::io::Error) -> PyErr {
        pcap_os_error_about(&self.path, "write failed: ", &e)
    }

    /// Writes one record. `sec`/`usec` are the timestamp, `len` the wire length.
    pub fn write(&self, data: &[u8], sec: i64, usec: i64, len: u32, comment: Option<&str>) -> PyResult<()> {
        let mut guard = self.lock();
        let w = match guard.as_mut().ok_or_else(|| pcap_error(DUMPER_CLOSED))? {
            Output::Pcapng(ng) => {
                return ng.packet(data, sec, usec, len, comment).map_err(|e| self.io_error(e));
            }
            Output::Pcap(_) if comment.is_some() => {
                return Err(crate::py::error::pcap_error_about(&self.path, "a comment needs format=\"pcapng\" (a pcap savefile has no room for one)"));
            }
            Output::Pcap(w) => w,
        };
        let hdr = ffi::pcap_pkthdr {
            // The same 32 bits whichever way the seconds came.
            ts: libc::timeval { tv_sec: sec as u32 as libc::time_t, tv_usec: usec as libc::suseconds_t },
            caplen: data.len() as u32,
            len,
        };
        // SAFETY: the dumper is open; header and data are valid for the call.
        unsafe { ffi::pcap_dump(w.ptr().cast(), &hdr, data.as_ptr()) };
        match w.stream_error() {
            Some(e) => Err(w.take_pending().unwrap_or_else(|| self.io_error(e))),
            None => Ok(()),
        }
    }
}

impl Dumper {
    /// Opens a pcap savefile with libpcap's writer for the handle `p`.
    fn open_pcap(py: Python<'_>, p: *mut ffi::pcap_t, path: &PathArg, c: &std::ffi::CStr) -> PyResult<Writer> {
        // Standard output or a FIFO: through our stream.
        if let Some((f, sink)) = open_sink_output(py, path, c)? {
            // SAFETY: live handle; the stream is ours until libpcap
            // takes it, closed here if libpcap refuses it.
            let d = unsafe { ffi::pcap_dump_fopen(p, f) };
            // The errno of the failed header write, if that is what failed.
            let os = std::io::Error::last_os_error();
            return match NonNull::new(d) {
                Some(d) => Ok(Writer::over_sink(d, sink)),
                None => {
                    let reason = unsafe { ffi::last_error(p) };
                    // A signal handler that raised while the header waited.
                    let pending = unsafe { sink.as_ptr().as_mut() }.and_then(Sink::take_pending);
                    unsafe { libc::fclose(f) };
                    if let Some(e) = pending {
                        return Err(e);
                    }
                    // libpcap names the output "stream" here; we name the path.
                    Err(pcap_error_after_os(&path.display, reason.strip_prefix("stream: ").unwrap_or(&reason), &os))
                }
            };
        }
        // SAFETY: live handle, valid C string.
        let d = unsafe { ffi::pcap_dump_open(p, c.as_ptr()) };
        // The errno of libpcap's failed fopen, if that is what failed.
        let os = std::io::Error::last_os_error();
        let w = match NonNull::new(d) {
            Some(d) => Writer::new(d, c),
            None => {
                let reason = unsafe { ffi::last_error(p) };
                // SAFETY: as above.
                match unsafe { open_with_raw_linktype(p, path, c, &reason) } {
                    Some(r) => r.map_err(|e| pcap_os_error_about(&path.display, "", &e))?,
                    None => return Err(pcap_error_after_os(&path.display, &reason, &os)),
                }
            }
        };
        Ok(w)
    }
}

#[pymethods]
impl Dumper {
    #[new]
    #[pyo3(signature = (feed, filename, *, format = None))]
    fn new(py: Python<'_>, feed: &Bound<'_, Feed>, filename: &Bound<'_, PyAny>, format: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        let pcapng = format_arg(format)?;
        let path = PathArg::extract(filename)?;
        let c = path.c_path()?;
        let f = feed.get();
        // From the feed's own callback (the feed is in use) the savefile is
        // opened with a dead handle of the same link type, snap length and
        // timestamp precision.
        let w = f.with_handle_or_twin(|p, live| {
            if pcapng {
                let live = live.then_some(f.name.as_str());
                // SAFETY: an open handle (the feed's, or its twin).
                return Ok(Output::Pcapng(unsafe { open_pcapng(py, p, &path, &c, live)? }));
            }
            Ok(Output::Pcap(Self::open_pcap(py, p, &path, &c)?))
        })?;
        Ok(Dumper { writer: Mutex::new(Some(w)), filename: filename.clone().unbind(), path: path.display })
    }

    /// dumper(packet, (sec, usec), length, comment=None): writes one packet.
    /// `packet` is bytes, bytearray, memoryview or a `Packet` (recorded whole
    /// as the captured data); the timestamp is `(sec, nsec)` when the feed
    /// has `precision="nano"`; `length` is the packet's length on the wire;
    /// `comment` (pcapng only) is stored with the packet.
    #[pyo3(signature = (packet, tstamp, length, comment = None))]
    fn __call__(
        &self,
        packet: &Bound<'_, PyAny>,
        #[pyo3(from_py_with = tstamp_arg)] tstamp: (i64, i64),
        #[pyo3(from_py_with = crate::py::args::wire_length)] length: u32,
        comment: Option<&str>,
    ) -> PyResult<()> {
        let data = packet_bytes(packet)?;
        let (sec, usec) = tstamp;
        if data.len() > u32::MAX as usize {
            return Err(PyTypeError::new_err("packet too large for a savefile"));
        }
        if comment.is_some_and(|c| c.len() > crate::io::pcapng::MAX_COMMENT) {
            return Err(PyValueError::new_err(format!("comment too long (at most {} bytes)", crate::io::pcapng::MAX_COMMENT)));
        }
        self.write(&data, sec, usec, length, comment)
    }

    /// ftell() -> int: the current byte offset in the file.
    fn ftell(&self) -> PyResult<i64> {
        let guard = self.lock();
        let w = match guard.as_ref().ok_or_else(|| pcap_error(DUMPER_CLOSED))? {
            Output::Pcap(w) => w,
            Output::Pcapng(ng) => return Ok(ng.tell() as i64),
        };
        // SAFETY: open dumper.
        let off = unsafe { ffi::pcap_dump_ftell(w.ptr()) };
        if off < 0 {
            return Err(self.io_error(std::io::Error::last_os_error()));
        }
        Ok(off as i64)
    }

    /// flush(): writes buffered packets to the file.
    fn flush(&self) -> PyResult<()> {
        let mut guard = self.lock();
        let w = guard.as_mut().ok_or_else(|| pcap_error(DUMPER_CLOSED))?;
        w.flush().map_err(|e| self.write_error(w, e))
    }

    /// close(): flushes and closes the file. A second `close()` raises.
    fn close(&self) -> PyResult<()> {
        let mut w = self.lock().take().ok_or_else(|| pcap_error(DUMPER_CLOSED))?;
        let r = w.flush().map_err(|e| self.write_error(&w, e));
        drop(w);
        r
    }

    /// True once the dumper has been closed (new).
    #[getter]
    fn closed(&self) -> bool {
        self.lock().is_none()
    }

    fn __enter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    /// Closes the dumper (if still open); write errors propagate.
    #[pyo3(signature = (*_args))]
    fn __exit__(&self, _args: &Bound<'_, pyo3::types::PyTuple>) -> PyResult<bool> {
        if !self.closed() {
            self.close()?;
        }
        Ok(false)
    }

    fn __repr__(&self) -> String {
        let state = if self.closed() { "closed " } else { "" };
        format!("<{}openbsd.pcap.Dumper {:?}>", state, self.path)
    }
}

impl Drop for Dumper {
    fn drop(&mut self) {
        if let Some(mut w) = self.lock().take() {
            if let Err(e) = w.flush() {
                let err = self.io_error(e);
                Python::attach(|py| err.write_unraisable(py, None));
            }
        }
    }
}
