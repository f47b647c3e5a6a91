//! `Offline`, a feed reading a pcap or pcapng file (or standard input, a
//! pipe, a FIFO), and `isPCapFile`. Opening is here; reading is the file
//! source's (`source::file`).

use super::feed::Feed;
use super::source::file::{FileSource, StreamState};
use super::source::options::{precision_arg, Precision};
use super::source::Source;
use crate::ffi;
use crate::py::args::PathArg;
use crate::py::error::{pcap_error_about, pcap_os_error_about, with_errno};
use pyo3::prelude::*;
use pyo3::PyClassInitializer;
use std::ptr::NonNull;

/// Opens the descriptor to read: the file, or for `"-"` (libpcap's and
/// tcpdump's convention, when `stdin_dash`) a duplicate of standard input,
/// so that closing the feed leaves the process's stdin open. Close-on-exec
/// either way.
///
/// # Safety
/// Returns a descriptor the caller must close.
unsafe fn open_fd(path: &PathArg, c: &std::ffi::CStr, stdin_dash: bool) -> PyResult<libc::c_int> {
    let fd = if stdin_dash && c.to_bytes() == b"-" {
        libc::fcntl(libc::STDIN_FILENO, libc::F_DUPFD_CLOEXEC, 0)
    } else {
        if path.path.is_dir() {
            return Err(with_errno(
                pcap_error_about(&path.display, "is a directory, not a capture file"),
                Some(libc::EISDIR),
            ));
        }
        // (The caller runs this without the GIL.)
        crate::io::stream::open_waiting(c, libc::O_RDONLY)?
    };
    if fd < 0 {
        return Err(pcap_os_error_about(&path.display, "", &std::io::Error::last_os_error()));
    }
    Ok(fd)
}

/// The stdio stream libpcap reads the descriptor `fd` through: for a
/// regular file, a plain stream with a large buffer; for anything else (a
/// pipe, a FIFO, a terminal), one that counts what libpcap read, where
/// this platform has it (see `crate::io::stream`).
///
/// # Safety
/// `fd` must be open; it belongs to the stream from then on (on error it
/// is closed here).
unsafe fn open_stream(path: &PathArg, fd: libc::c_int) -> PyResult<(*mut libc::FILE, StreamState)> {
    let mut st: libc::stat = std::mem::zeroed();
    let regular = libc::fstat(fd, &mut st) == 0 && (st.st_mode & libc::S_IFMT) == libc::S_IFREG;
    if !regular {
        if let Some((f, counted)) = crate::io::stream::open(fd, FileSource::STDIO_BUFFER) {
            return Ok((f, StreamState::Counted(counted)));
        }
    }
    let f = libc::fdopen(fd, c"rb".as_ptr());
    if f.is_null() {
        let e = pcap_os_error_about(&path.display, "", &std::io::Error::last_os_error());
        libc::close(fd);
        return Err(e);
    }
    let mut buffer = vec![0u8; FileSource::STDIO_BUFFER].into_boxed_slice();
    libc::setvbuf(f, buffer.as_mut_ptr().cast(), libc::_IOFBF, FileSource::STDIO_BUFFER);
    Ok((f, StreamState::Buffer(buffer)))
}

/// Opens a capture file with libpcap, naming the path in any error.
/// `stdin_dash`: whether `"-"` means standard input.
fn open_file(path: &PathArg, stdin_dash: bool, precision: Precision) -> PyResult<FileSource> {
    let c = path.c_path()?; // a NUL in the path is a ValueError, not a libpcap error
                            // SAFETY: valid C strings; the stream is handed to libpcap, which
                            // closes it with the handle, or closed here if libpcap refuses it.
    unsafe {
        let (f, mut state) = open_stream(path, open_fd(path, &c, stdin_dash)?)?;
        let mut errbuf = [0 as libc::c_char; ffi::PCAP_ERRBUF_SIZE];
        match NonNull::new(ffi::pcap_fopen_offline_with_tstamp_precision(
            f,
            precision.raw() as libc::c_uint,
            errbuf.as_mut_ptr(),
        )) {
            Some(p) => Ok(FileSource::new(p, state, path.display.clone())),
            None => {
                // A signal handler that raised while the header was awaited.
                // (`state` itself lives on past `fclose`: the buffer of a
                // `Buffer` stream must outlive the stream.)
                let pending = match &mut state {
                    StreamState::Counted(c) => c.as_mut().take_pending(),
                    StreamState::Buffer(_) => None,
                };
                libc::fclose(f);
                if let Some(e) = pending {
                    return Err(e);
                }
                let text = ffi::cstr_lossy(errbuf.as_ptr());
                Err(pcap_error_about(&path.display, &describe_open_error(&text)))
            }
        }
    }
}

/// libpcap's reasons for refusing a file, made plain where they are cryptic.
fn describe_open_error(text: &str) -> String {
    if text.contains("tried to read 4 file header bytes, only got 0") {
        format!("empty file, not a capture file ({text})")
    } else if text == "unknown file format" {
        "not a capture file (unknown file format)".to_owned()
    } else {
        text.to_owned()
    }
}

/// Offline(filename, *, precision="micro")
///
/// A feed reading a pcap or pcapng file. `filename` is `str`, `bytes` or
/// `os.PathLike`; `"-"` reads standard input (as `tcpdump -r -` does).
/// Timestamps are `(sec, usec)`, or with `precision="nano"` `(sec, nsec)`;
/// a nanosecond file read at micro precision has its nanoseconds divided by
/// 1000, rounded towards zero, as libpcap (and tcpdump) do.
/// Raises `PcapError` naming the path when the file is missing,
/// unreadable, empty or not a capture.
#[pyclass(frozen, extends = Feed, module = "openbsd.pcap")]
pub struct Offline {
    /// The file name as given.
    #[pyo3(get)]
    filename: Py<PyAny>,
}

#[pymethods]
impl Offline {
    #[new]
    #[pyo3(signature = (filename, *, precision = None))]
    fn new(
        py: Python<'_>,
        filename: &Bound<'_, PyAny>,
        precision: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PyClassInitializer<Self>> {
        let precision = precision.map(precision_arg).transpose()?.unwrap_or_default();
        let path = PathArg::extract(filename)?;
        // Opening can block (a FIFO waits for its writer, stdin for data):
        // other threads run meanwhile.
        let cap = py.detach(|| open_file(&path, true, precision))?;
        let feed = Feed::new(Source::File(cap), path.display);
        Ok(PyClassInitializer::from(feed).add_subclass(Offline { filename: filename.clone().unbind() }))
    }

    /// lookupnet() -> (0, 0): a file has no network.
    fn lookupnet(slf: PyRef<'_, Self>) -> PyResult<(u32, u32)> {
        slf.as_super().with_source(|_| Ok((0, 0)))
    }

    /// is_swapped() -> bool: whether the file's byte order differs from this
    /// machine's.
    fn is_swapped(slf: PyRef<'_, Self>) -> PyResult<bool> {
        slf.as_super().with_source(|src| Ok(unsafe { ffi::pcap_is_swapped(src.ptr()) } == 1))
    }

    /// version() -> (major, minor) of the file format: (2, 4) for classic
    /// pcap files, (1, 0) for pcapng files.
    fn version(slf: PyRef<'_, Self>) -> PyResult<(i32, i32)> {
        slf.as_super().with_source(|src| {
            let p = src.ptr();
            Ok(unsafe { (ffi::pcap_major_version(p), ffi::pcap_minor_version(p)) })
        })
    }

    /// fileno() -> int: the file descriptor being read.
    fn fileno(slf: PyRef<'_, Self>) -> PyResult<i32> {
        let feed = slf.as_super();
        feed.with_source(|src| match src {
            Source::File(f) => Ok(f.fileno()),
            _ => Err(pcap_error_about(&feed.name, "no file behind this feed")),
        })
    }

    fn __int__(slf: PyRef<'_, Self>) -> PyResult<i32> {
        Self::fileno(slf)
    }

    /// ftell() -> int: the current byte offset in the file: the offset of
    /// the next record, or on a stream that cannot seek (standard input, a
    /// pipe) the number of bytes read from it so far.
    fn ftell(slf: PyRef<'_, Self>) -> PyResult<u64> {
        let feed = slf.as_super();
        feed.with_source(|src| match src {
            Source::File(f) => {
                f.tell().ok_or_else(|| pcap_os_error_about(&feed.name, "", &std::io::Error::last_os_error()))
            }
            _ => Err(pcap_error_about(&feed.name, "no file behind this feed")),
        })
    }

    /// fseek(offset) -> 0
    ///
    /// Moves to byte `offset` of the file, where the next read starts: an
    /// offset `ftell()` gave (a record's start) reads on from that record.
    /// Returns 0, as the legacy library returned `fseek(3)`'s result; a
    /// stream that cannot seek (standard input, a pipe, a FIFO) raises
    /// `PcapError` with `errno` `ESPIPE`, a negative offset `ValueError`.
    fn fseek(slf: PyRef<'_, Self>, offset: &Bound<'_, PyAny>) -> PyResult<i32> {
        let offset: u64 = crate::py::args::int_arg(offset, "offset", 0, i64::MAX as u64)?;
        let feed = slf.as_super();
        feed.with_source(|src| match src {
            Source::File(f) => {
                f.seek(offset).map(|()| 0).map_err(|e| pcap_os_error_about(&feed.name, "cannot seek: ", &e))
            }
            _ => Err(pcap_error_about(&feed.name, "no file behind this feed")),
        })
    }

    /// How the next record will be read: "mapped" (a memory-mapped window),
    /// "buffer" (`pread` into a buffer) or "libpcap". For tests and
    /// benchmarks; not part of the API.
    fn _reader(slf: PyRef<'_, Self>) -> PyResult<&'static str> {
        slf.as_super().with_source(|src| match src {
            Source::File(f) => Ok(f.reader_kind()),
            _ => Ok("libpcap"),
        })
    }

    /// precision -> str: "micro" (timestamps `(sec, usec)`) or "nano"
    /// (`(sec, nsec)`), as asked for when opening.
    #[getter]
    fn precision(slf: PyRef<'_, Self>) -> PyResult<&'static str> {
        // SAFETY: the open handle.
        slf.as_super().with_source(|src| Ok(unsafe { Precision::of(src.ptr()) }.name()))
    }

    fn __repr__(slf: PyRef<'_, Self>) -> String {
        let state = if slf.as_super().is_closed().unwrap_or(false) { "closed " } else { "" };
        format!("<{}openbsd.pcap.Offline {:?}>", state, slf.as_super().name)
    }
}

/// isPCapFile(path) -> bool
///
/// True when `path` is a regular file (or a link to one) that opens as a
/// capture file (pcap or pcapng); false for anything else, including a
/// missing or unreadable file. A FIFO, socket or device is not read and
/// gives false: reading its header would take those bytes from whoever
/// reads it next, and a FIFO with no writer would wait forever.
#[pyfunction(name = "isPCapFile")]
pub fn is_pcap_file(py: Python<'_>, path: &Bound<'_, PyAny>) -> PyResult<bool> {
    let path = PathArg::extract(path)?;
    // "-" is a file name here: testing a path must not consume stdin.
    Ok(path.c_path().is_ok()
        && py.detach(|| {
            std::fs::metadata(&path.path).is_ok_and(|m| m.file_type().is_file())
                && open_file(&path, false, Precision::Micro).is_ok()
        }))
}

#[cfg(test)]
mod tests {
    use super::describe_open_error;

    #[test]
    fn cryptic_libpcap_reasons_are_made_plain() {
        assert_eq!(
            describe_open_error("truncated dump file; tried to read 4 file header bytes, only got 0"),
            "empty file, not a capture file (truncated dump file; tried to read 4 file header bytes, only got 0)"
        );
        assert_eq!(describe_open_error("unknown file format"), "not a capture file (unknown file format)");
    }

    #[test]
    fn other_reasons_are_libpcap_s_own() {
        let r = "truncated dump file; tried to read 24 file header bytes, only got 6";
        assert_eq!(describe_open_error(r), r);
        assert_eq!(describe_open_error("archaic pcap savefile format"), "archaic pcap savefile format");
    }
}
