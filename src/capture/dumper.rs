//! `Dumper`: writes a savefile. libpcap writes the file header (so files are
//! byte-for-byte what tcpdump writes); the records go through a buffer of
//! ours, `crate::io::sink`, that knows what the output holds: a write
//! error says how many records the file holds (and cuts a record it cut
//! short off the file), and a signal never leaves part of a record behind.

use super::feed::Feed;
use crate::ffi;
use crate::io::sink::{DrainError, Sink};
use crate::py::args::{int_arg, packet_bytes, PathArg};
use crate::py::error::{
    os_error_text, pcap_error, pcap_error_about, pcap_error_after_os, pcap_os_error_about, set_cloexec, with_errno,
};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::MutexExt;
use pyo3::types::PyTuple;
use std::ptr::NonNull;
use std::sync::{Mutex, MutexGuard};

const DUMPER_CLOSED: &str = "dumper is closed (not connected)";

/// An open `pcap_dumper_t`, closed on drop (the `Dumper` drains the sink
/// first).
///
/// On Linux every output goes through a stdio stream into a [`Sink`] of
/// ours over a descriptor of ours (for `"-"`, a duplicate of standard
/// output, so closing leaves file descriptor 1 open under `sys.stdout`).
/// Elsewhere libpcap opens and writes the file itself, and writes `"-"` to
/// C's `stdout`, which is then flushed but never closed.
struct Writer {
    dumper: NonNull<ffi::pcap_dumper_t>,
    owns_stream: bool,
    /// The sink the stream writes into (valid while the dumper is open).
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

    fn ptr(&self) -> *mut ffi::pcap_dumper_t {
        self.dumper.as_ptr()
    }

    /// The sink, when the output goes through one.
    #[allow(clippy::mut_from_ref)]
    fn sink(&self) -> Option<&mut Sink> {
        // SAFETY: the sink lives as long as the open dumper; calls are
        // serialised by the Dumper's mutex.
        self.sink.map(|mut s| unsafe { s.as_mut() })
    }

    /// The pending error of libpcap's stream, if a write failed.
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

    /// Flushes libpcap's stream (nothing waits there when a sink is used).
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

/// Opens the output of a sink: a duplicate of standard output for `"-"`;
/// a FIFO or device as it is (opening a FIFO waits for its reader, which
/// may be another thread of this process: without the GIL); anything else
/// as a regular file, created or emptied. Returns the descriptor and
/// whether it is a regular file of ours (which can be cut back after an
/// error).
fn open_output(py: Python<'_>, path: &PathArg, c: &std::ffi::CStr) -> PyResult<(libc::c_int, bool)> {
    let (fd, ours) = if c.to_bytes() == b"-" {
        // SAFETY: duplicates standard output; ours to close.
        (unsafe { libc::fcntl(libc::STDOUT_FILENO, libc::F_DUPFD_CLOEXEC, 0) }, false)
    } else {
        match std::fs::metadata(&path.path) {
            Ok(m) if !m.is_file() && !m.is_dir() => {
                (py.detach(|| crate::io::stream::open_waiting(c, libc::O_WRONLY))?, false)
            }
            // SAFETY: a valid C string; the flags of fopen(path, "wb").
            _ => (
                unsafe {
                    libc::open(c.as_ptr(), libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC | libc::O_CLOEXEC, 0o666)
                },
                true,
            ),
        }
    };
    if fd < 0 {
        return Err(pcap_os_error_about(&path.display, "", &std::io::Error::last_os_error()));
    }
    // SAFETY: fstat on our open descriptor into a zeroed struct.
    let regular = unsafe {
        let mut st: libc::stat = std::mem::zeroed();
        libc::fstat(fd, &mut st) == 0 && (st.st_mode & libc::S_IFMT) == libc::S_IFREG
    };
    Ok((fd, ours && regular))
}

/// libpcap reads some link types it cannot write: a file whose link type
/// field has no `LINKTYPE_*` mapping on this platform (on Linux, OpenBSD's
/// `DLT_ENC` 13 and old pflog 17) is read with that raw value as its
/// `datalink()`, but `pcap_dump_fopen` refuses it ("isn't supported in
/// savefiles"). Write the savefile with libpcap all the same, storing the
/// raw value in the header before it goes out, so that such captures can be
/// copied and filtered byte for byte.
///
/// `None` when this does not apply (another error): the caller reports
/// libpcap's error.
///
/// # Safety
/// `p` must be an open handle, `file` the stream into `sink`, which nothing
/// was written to yet.
unsafe fn open_with_raw_linktype(
    p: *mut ffi::pcap_t,
    file: *mut libc::FILE,
    sink: &mut Sink,
    reason: &str,
) -> Option<NonNull<ffi::pcap_dumper_t>> {
    if !reason.contains("isn't supported in savefiles") {
        return None;
    }
    let dlt = u32::try_from(ffi::pcap_datalink(p)).ok()?;
    // The header is made for Ethernet (which every libpcap can write) with
    // the feed's snap length and precision, then its link type field is
    // replaced.
    let precision = crate::capture::source::options::Precision::of(p);
    let dead = super::source::raw::RawHandle::open_dead_with(super::dlt::DLT_EN10MB, ffi::pcap_snapshot(p), precision)?;
    let d = NonNull::new(ffi::pcap_dump_fopen(dead.ptr(), file))?;
    // Offset 20 of the file header: the link type, in this machine's order.
    sink.patch_header(20, &dlt.to_ne_bytes()).then_some(d)
}

/// A pcapng file of ours (libpcap 1.10 cannot write pcapng), through a
/// sink as a savefile's records are, and the name of the input it
/// copies; closes the sink's output on drop.
struct NgWriter(crate::io::pcapng::Writer, String);

impl Drop for NgWriter {
    fn drop(&mut self) {
        if self.0.sink.fd() >= 0 {
            // SAFETY: our descriptor, closed once.
            unsafe { libc::close(self.0.sink.fd()) };
        }
    }
}

/// Where a `Dumper` writes: a savefile through libpcap, or pcapng.
enum Output {
    Pcap(Writer),
    Pcapng(NgWriter),
}

impl Output {
    /// The sink in front of the output, when there is one.
    fn sink(&mut self) -> Option<&mut Sink> {
        match self {
            Output::Pcap(w) => w.sink(),
            Output::Pcapng(ng) => Some(&mut ng.0.sink),
        }
    }
}

/// `format=` of `Dumper`: whether to write pcapng.
fn format_arg(obj: Option<&Bound<'_, PyAny>>) -> PyResult<bool> {
    let Some(obj) = obj else { return Ok(false) };
    let s: String = obj
        .extract()
        .map_err(|_| PyTypeError::new_err(format!("format must be a str, not {}", crate::py::args::type_name(obj))))?;
    match s.as_str() {
        "pcap" => Ok(false),
        "pcapng" => Ok(true),
        _ => Err(PyValueError::new_err(format!("format must be \"pcap\" or \"pcapng\", not {s:?}"))),
    }
}

/// What a pcapng `Dumper` of a stream says when the stream could not keep
/// the section headers and interface descriptions a copy needs.
fn lost_interfaces(input: &str) -> PyErr {
    pcap_error_about(
        input,
        &format!(
            "more than {} MiB of pcapng section headers and interface descriptions came \
             before this point of the stream and were not kept: a pcapng copy would lose interfaces \
             (open the Dumper before reading)",
            crate::io::stream::MAX_KEPT >> 20
        ),
    )
}

/// Opens `path` (`"-"`: a duplicate of standard output) as `Dumper`
/// opens a savefile, and lays out the pcapng section and interface headers
/// for the feed's handle `p` (or, with `trace`, the pcapng file it reads,
/// named `input`).
///
/// # Safety
/// `p` must be an open handle.
unsafe fn open_pcapng(
    py: Python<'_>,
    p: *mut ffi::pcap_t,
    path: &PathArg,
    c: &std::ffi::CStr,
    live: Option<&str>,
    trace: Option<std::sync::Arc<crate::io::pcapng_read::Trace>>,
    input: &str,
) -> PyResult<NgWriter> {
    let linktype = ffi::pcap_datalink(p);
    let linktype = u16::try_from(linktype).map_err(|_| {
        crate::py::error::pcap_error_about(&path.display, &format!("link type {linktype} cannot be written to pcapng"))
    })?;
    let iface = crate::io::pcapng::Interface {
        linktype,
        snaplen: ffi::pcap_snapshot(p).max(0) as u32,
        nano: crate::capture::source::options::Precision::of(p) == crate::capture::source::options::Precision::Nano,
        name: live.map(str::to_owned),
    };
    // The headers wait in the sink: nothing is written (nor the output
    // opened) when the input's interfaces are not all known.
    let mut w = crate::io::pcapng::Writer::new(Sink::pcapng(), iface, trace);
    if w.incomplete() {
        return Err(lost_interfaces(input));
    }
    let (fd, regular) = open_output(py, path, c)?;
    w.sink.set_output(fd, regular);
    Ok(NgWriter(w, input.to_owned()))
}

/// `tstamp` of a `Dumper` call: a tuple `(sec, usec)`. A savefile stores
/// each in 32 bits: unsigned by the format's definition, signed as libpcap
/// 1.10 reads them back (so a packet read with seconds past 2038 may come as
/// a negative number, and a damaged file's fraction past 2^31 does); both
/// are taken, so that what a feed hands out is written back as it was read.
fn tstamp_arg(obj: &Bound<'_, PyAny>) -> PyResult<(i64, i64)> {
    let t = obj.cast::<PyTuple>().map_err(|_| {
        PyTypeError::new_err(format!("tstamp must be a tuple (sec, usec), not {}", crate::py::args::type_name(obj)))
    })?;
    if t.len() != 2 {
        return Err(PyValueError::new_err(format!(
            "tstamp must be a tuple (sec, usec), got a tuple of length {}",
            t.len()
        )));
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
/// the feed's link type, snap length and timestamp resolution; from an
/// `Offline` of a pcapng file, that file's interfaces, each packet on its
/// own with its timestamp and options as read), where a packet may carry a
/// comment: `dumper(packet, tstamp, length, comment="...")`. Write errors
/// raise `PcapError` saying how many records the file holds; they are
/// never silent.
#[pyclass(frozen, module = "openbsd.pcap")]
pub struct Dumper {
    writer: Mutex<Option<Output>>,
    /// The file name as given.
    #[pyo3(get)]
    filename: Py<PyAny>,
    path: String,
}

impl Dumper {
    /// The writer, for one call. A call that waits for it (another thread
    /// writes) does so without the GIL: the writing thread may need the GIL
    /// to run signal handlers.
    fn lock(&self, py: Python<'_>) -> MutexGuard<'_, Option<Output>> {
        self.writer.lock_py_attached(py).unwrap_or_else(|p| p.into_inner())
    }

    fn io_error(&self, e: std::io::Error) -> PyErr {
        pcap_os_error_about(&self.path, "write failed: ", &e)
    }

    /// The error of a drain that failed: the exception of a signal handler
    /// that raised while a write waited, or the OS error, with what the file
    /// holds.
    fn drain_error(&self, e: DrainError) -> PyErr {
        match e {
            DrainError::Signal(e) => e,
            DrainError::Os { error, header, records, dropped } => {
                let n = |k: u64, one: &str, many: &str| format!("{k} {}", if k == 1 { one } else { many });
                let holds = match (header, dropped) {
                    (true, 0) => format!("the file holds {}", n(records, "record", "records")),
                    (true, _) => format!(
                        "the file holds {}; {} not written",
                        n(records, "record", "records"),
                        n(dropped, "more was", "more were")
                    ),
                    (false, 0) => "the file header is not written yet".to_owned(),
                    (false, _) => {
                        format!(
                            "the file header is not written yet; {} not written",
                            n(dropped, "record was", "records were")
                        )
                    }
                };
                let what = format!("write failed: {} ({holds})", os_error_text(&error));
                with_errno(pcap_error_about(&self.path, &what), error.raw_os_error())
            }
        }
    }

    /// Writes what the sink holds, without the GIL (a write may wait on a
    /// full pipe).
    fn drain(&self, py: Python<'_>, sink: &mut Sink) -> PyResult<()> {
        py.detach(|| sink.drain()).map_err(|e| self.drain_error(e))
    }

    /// Writes one record. `sec`/`usec` are the timestamp, `len` the wire
    /// length. With a sink, the record is taken once this returns normally;
    /// when the buffer first has to be written and that fails, the record
    /// is not taken.
    pub fn write(
        &self,
        py: Python<'_>,
        data: &[u8],
        sec: i64,
        usec: i64,
        len: u32,
        comment: Option<&str>,
    ) -> PyResult<()> {
        let mut guard = self.lock(py);
        let w = match guard.as_mut().ok_or_else(|| pcap_error(DUMPER_CLOSED))? {
            Output::Pcapng(NgWriter(ng, input)) => {
                if ng.incomplete() {
                    return Err(lost_interfaces(input));
                }
                let mark = ng.packet(data, sec, usec, len, comment);
                if ng.sink.is_full_for_unit(ng.blocks().len()) {
                    if let Err(e) = self.drain(py, &mut ng.sink) {
                        ng.undo(mark);
                        return Err(e);
                    }
                }
                ng.push();
                return Ok(());
            }
            Output::Pcap(_) if comment.is_some() => {
                return Err(pcap_error_about(
                    &self.path,
                    "a comment needs format=\"pcapng\" (a pcap savefile has no room for one)",
                ));
            }
            Output::Pcap(w) => w,
        };
        if let Some(sink) = w.sink() {
            if sink.is_full_for(data.len()) {
                self.drain(py, sink)?;
            }
            // The record header as libpcap's pcap_dump writes it: 32-bit
            // seconds and fraction, captured and wire lengths, in this
            // machine's order.
            let mut hdr = [0u8; 16];
            hdr[0..4].copy_from_slice(&(sec as u32).to_ne_bytes());
            hdr[4..8].copy_from_slice(&(usec as u32).to_ne_bytes());
            hdr[8..12].copy_from_slice(&(data.len() as u32).to_ne_bytes());
            hdr[12..16].copy_from_slice(&len.to_ne_bytes());
            sink.push(&hdr, data);
            return Ok(());
        }
        let hdr = ffi::pcap_pkthdr {
            // The same 32 bits whichever way the seconds came.
            ts: libc::timeval { tv_sec: sec as u32 as libc::time_t, tv_usec: usec as libc::suseconds_t },
            caplen: data.len() as u32,
            len,
        };
        // SAFETY: the dumper is open; header and data are valid for the call.
        unsafe { ffi::pcap_dump(w.ptr().cast(), &hdr, data.as_ptr()) };
        match w.stream_error() {
            Some(e) => Err(self.io_error(e)),
            None => Ok(()),
        }
    }

    /// Writes everything buffered.
    fn flush_writer(&self, py: Python<'_>, out: &mut Output) -> PyResult<()> {
        if let Output::Pcapng(ng) = out {
            ng.0.describe_known();
        }
        if let Some(sink) = out.sink() {
            self.drain(py, sink)?;
        }
        match out {
            Output::Pcap(w) => w.flush().map_err(|e| self.io_error(e)),
            Output::Pcapng(_) => Ok(()),
        }
    }
}

#[pymethods]
impl Dumper {
    #[new]
    #[pyo3(signature = (feed, filename, *, format = None))]
    fn new(
        py: Python<'_>,
        feed: &Bound<'_, Feed>,
        filename: &Bound<'_, PyAny>,
        format: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
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
                return Ok(Output::Pcapng(unsafe {
                    open_pcapng(py, p, &path, &c, live, f.ng_trace.clone(), &f.name)?
                }));
            }
            // SAFETY: a new stream, closed here or by the Writer.
            if let Some((file, sink)) = unsafe { crate::io::stream::open_sink() } {
                // libpcap writes the file header into the sink: nothing
                // reaches the output (opened below) before the first drain.
                // SAFETY: live handle; the stream is ours.
                let d = match NonNull::new(unsafe { ffi::pcap_dump_fopen(p, file) }) {
                    Some(d) => d,
                    None => {
                        let reason = unsafe { ffi::last_error(p) };
                        // SAFETY: as above; nothing was written to the sink.
                        match unsafe { open_with_raw_linktype(p, file, &mut *sink.as_ptr(), &reason) } {
                            Some(d) => d,
                            None => {
                                // SAFETY: not taken by libpcap: ours to close.
                                unsafe { libc::fclose(file) };
                                // libpcap names the output "stream" here; we name the path.
                                return Err(pcap_error_about(
                                    &path.display,
                                    reason.strip_prefix("stream: ").unwrap_or(&reason),
                                ));
                            }
                        }
                    }
                };
                let w = Writer { dumper: d, owns_stream: true, sink: Some(sink) };
                let (fd, regular) = open_output(py, &path, &c)?;
                if let Some(s) = w.sink() {
                    s.set_output(fd, regular);
                }
                return Ok(Output::Pcap(w));
            }
            // Elsewhere: libpcap opens and writes the file itself.
            // SAFETY: live handle, valid C string.
            let d = unsafe { ffi::pcap_dump_open(p, c.as_ptr()) };
            // The errno of libpcap's failed fopen, if that is what failed.
            let os = std::io::Error::last_os_error();
            match NonNull::new(d) {
                Some(d) => Ok(Output::Pcap(Writer::new(d, &c))),
                None => Err(pcap_error_after_os(&path.display, &unsafe { ffi::last_error(p) }, &os)),
            }
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
            return Err(PyValueError::new_err(format!(
                "comment too long (at most {} bytes)",
                crate::io::pcapng::MAX_COMMENT
            )));
        }
        self.write(packet.py(), &data, sec, usec, length, comment)
    }

    /// ftell() -> int: the byte offset in the file after every packet
    /// written so far, buffered ones included.
    fn ftell(&self, py: Python<'_>) -> PyResult<i64> {
        let guard = self.lock(py);
        let w = match guard.as_ref().ok_or_else(|| pcap_error(DUMPER_CLOSED))? {
            Output::Pcap(w) => w,
            Output::Pcapng(ng) => return Ok(ng.0.sink.position() as i64),
        };
        if let Some(sink) = w.sink() {
            return Ok(sink.position() as i64);
        }
        // SAFETY: open dumper.
        let off = unsafe { ffi::pcap_dump_ftell(w.ptr()) };
        if off < 0 {
            return Err(self.io_error(std::io::Error::last_os_error()));
        }
        Ok(off as i64)
    }

    /// flush(): writes buffered packets to the file.
    fn flush(&self, py: Python<'_>) -> PyResult<()> {
        let mut guard = self.lock(py);
        let w = guard.as_mut().ok_or_else(|| pcap_error(DUMPER_CLOSED))?;
        self.flush_writer(py, w)
    }

    /// close(): flushes and closes. A second `close()` raises. When a
    /// signal handler raises while the last writes wait (on a full pipe),
    /// that exception propagates and the dumper stays open, with what it
    /// had not written yet: `close()` again finishes.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        let mut guard = self.lock(py);
        let out = guard.as_mut().ok_or_else(|| pcap_error(DUMPER_CLOSED))?;
        if let Output::Pcapng(ng) = out {
            ng.0.describe_known();
        }
        let r = match out.sink().map(|s| py.detach(|| s.drain())) {
            Some(Err(DrainError::Signal(e))) => return Err(e),
            Some(Err(e)) => Err(self.drain_error(e)),
            _ => Ok(()),
        };
        let mut out = guard.take().ok_or_else(|| pcap_error(DUMPER_CLOSED))?;
        let r = r.and(self.flush_writer(py, &mut out));
        drop(out);
        r
    }

    /// True once the dumper has been closed (new).
    #[getter]
    fn closed(&self, py: Python<'_>) -> bool {
        self.lock(py).is_none()
    }

    fn __enter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    /// Closes the dumper (if still open); write errors propagate.
    #[pyo3(signature = (*_args))]
    fn __exit__(&self, py: Python<'_>, _args: &Bound<'_, pyo3::types::PyTuple>) -> PyResult<bool> {
        if !self.closed(py) {
            self.close(py)?;
        }
        Ok(false)
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        let state = if self.closed(py) { "closed " } else { "" };
        format!("<{}openbsd.pcap.Dumper {:?}>", state, self.path)
    }
}

impl Drop for Dumper {
    fn drop(&mut self) {
        let w = self.writer.get_mut().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(mut w) = w {
            Python::attach(|py| {
                if let Err(err) = self.flush_writer(py, &mut w) {
                    err.write_unraisable(py, None);
                }
            });
        }
    }
}
