//! The Python methods of every feed (`Live`, `Offline`, `Dead`):
//! `dispatch`, `loop`, `next`, iteration, `breakloop`, `filter`,
//! `datalink`, `snapshot`, `inject`, `stats`, `close`, context manager.
//!
//! The open state is taken for the whole of a call (see `Feed`): a callback
//! that re-enters or closes its own feed (or another thread that touches a
//! feed being read) gets a `PcapError` instead of a deadlock or a
//! use-after-free.

use super::feed::Feed;
use super::filter::BPFProgram;
use super::read::{self, ReadMode};
use super::source::bpf::CompiledFilter;
use crate::ffi;
use crate::packet::LinkInfo;
use crate::py::args::packet_bytes;
use crate::py::error::{pcap_error, CLOSED};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::sync::Arc;

impl Feed {
    /// The link to decode packets with, when `interpret` (default false) is
    /// true; `pclass` (a protocol class, or None) overrides the protocol
    /// the link type starts with.
    pub(crate) fn interpret_info(
        &self,
        interpret: Option<&Bound<'_, PyAny>>,
        pclass: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Option<LinkInfo>> {
        Ok(match interpret {
            Some(i) if i.is_truthy()? => {
                let first = match pclass {
                    Some(c) if !c.is_none() => Some(crate::packet::kind_of_class(c)?),
                    _ => None,
                };
                Some(LinkInfo { first, ..self.link })
            }
            _ => None,
        })
    }

    /// `dispatch` and `loop` (see `read::read`).
    fn read(
        &self,
        py: Python<'_>,
        mode: ReadMode,
        cnt: i64,
        callback: &Bound<'_, PyAny>,
        interpret: Option<&Bound<'_, PyAny>>,
        pclass: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<usize> {
        if !callback.is_callable() {
            return Err(PyTypeError::new_err("callback must be callable"));
        }
        let interpret = self.interpret_info(interpret, pclass)?;
        self.with_open(|open| {
            if self.brk.take() {
                return Ok(0); // breakloop() came before this read
            }
            read::read(self, py, open, mode, cnt, callback, interpret)
        })
    }
}

#[pymethods]
impl Feed {
    /// dispatch(cnt, callback, interpret=0, pclass=None) -> int
    ///
    /// Processes at most one buffer's worth of packets, calling
    /// `callback(packet, (sec, usec), length)` for each (`(sec, nsec)` on a
    /// feed opened with `precision="nano"`). With `interpret` true the
    /// packet is a decoded `Packet` (starting with protocol class `pclass`
    /// when given, else the link type's) and the timestamp a `Timestamp`:
    /// `(sec, usec)` that also answers `datetime`'s attributes. `cnt > 0`: at most
    /// `cnt` packets; `-1`: every packet of one buffer (for a file: all that
    /// remain); `0`: until an error, end of file or a live read timeout.
    /// A `cnt` past `2**63 - 1` means no limit. Returns the number of
    /// packets processed. An exception raised by the
    /// callback stops the read and propagates unchanged.
    #[pyo3(signature = (cnt, callback, interpret = None, pclass = None))]
    fn dispatch(
        &self,
        py: Python<'_>,
        #[pyo3(from_py_with = crate::py::args::count)] cnt: i64,
        callback: &Bound<'_, PyAny>,
        interpret: Option<&Bound<'_, PyAny>>,
        pclass: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<usize> {
        self.read(py, ReadMode::Dispatch, cnt, callback, interpret, pclass)
    }

    /// loop(cnt, callback, interpret=0, pclass=None) -> int
    ///
    /// Reads until `cnt` packets were processed (`cnt <= 0`, or past
    /// `2**63 - 1`: no limit), the end of the file, or an error. Returns the
    /// number of packets processed. `interpret` and `pclass` as for
    /// `dispatch()`.
    #[pyo3(name = "loop", signature = (cnt, callback, interpret = None, pclass = None))]
    fn loop_(
        &self,
        py: Python<'_>,
        #[pyo3(from_py_with = crate::py::args::count)] cnt: i64,
        callback: &Bound<'_, PyAny>,
        interpret: Option<&Bound<'_, PyAny>>,
        pclass: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<usize> {
        self.read(py, ReadMode::Loop, cnt, callback, interpret, pclass)
    }

    /// breakloop() -> None
    ///
    /// Makes the `loop()` or `dispatch()` running on this feed return after
    /// the packet being handled, with the number of packets handled so far;
    /// a live `next()` or iteration waiting for packets returns `None` (ends).
    /// May be called from the callback or from another thread (it does not
    /// wait for the feed); a wait notices it within about 50 ms. Called when
    /// nothing is reading, it makes the next `loop()`/`dispatch()` return 0
    /// at once, as libpcap's `pcap_breakloop` does. On a closed feed it
    /// raises `PcapError("feed is closed (not connected)")`, like every method.
    fn breakloop(&self) -> PyResult<()> {
        // A feed in use (`take` gives nothing: a read is running, on this
        // thread's callback or waiting in another thread) is open; only an
        // idle feed is looked at, so this never waits for a read.
        if self.is_closed()? {
            return Err(pcap_error(CLOSED));
        }
        self.brk.request();
        Ok(())
    }

    /// next(interpret=0) -> (packet, (sec, usec), length) or None
    ///
    /// The next packet, or `None` at the end of a file or when a live read
    /// timed out with nothing (or found nothing, in non-blocking mode). The
    /// timestamp is `(sec, nsec)` on a feed opened with `precision="nano"`.
    #[pyo3(signature = (interpret = None))]
    fn next(&self, py: Python<'_>, interpret: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Py<PyAny>>> {
        let interpret = self.interpret_info(interpret, None)?;
        self.with_open(|open| read::next(self, py, open, interpret, false))
    }

    fn __iter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    /// Yields `(packet, (sec, usec), length)` like `next()`; a live feed
    /// keeps waiting through read timeouts.
    fn __next__(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        self.with_open(|open| read::next(self, py, open, None, true))
    }

    /// inject(packet) -> int
    ///
    /// Sends `packet` (bytes-like or a `Packet`) out of the interface and
    /// returns the number of bytes written. Only a `Live` feed can send.
    fn inject(&self, packet: &Bound<'_, PyAny>) -> PyResult<usize> {
        let data = packet_bytes(packet)?;
        self.with_source(|src| src.inject(&self.name, &data))
    }

    /// datalink() -> int: the link type, one of the `DLT_*` constants.
    fn datalink(&self) -> PyResult<i32> {
        self.with_source(|src| Ok(unsafe { ffi::pcap_datalink(src.ptr()) }))
    }

    /// snapshot() -> int: the snap length in force.
    fn snapshot(&self) -> PyResult<i32> {
        self.with_source(|src| Ok(unsafe { ffi::pcap_snapshot(src.ptr()) }))
    }

    /// filter(filterstr)
    ///
    /// Compiles a tcpdump-syntax filter (or takes a `BPFProgram`) and applies
    /// it. An empty string accepts everything. A bad expression raises
    /// `PcapError` with libpcap's message.
    fn filter(&self, filterstr: &Bound<'_, PyAny>) -> PyResult<()> {
        self.with_source(|src| {
            let prog: Arc<CompiledFilter> = if let Ok(prog) = filterstr.cast::<BPFProgram>() {
                // SAFETY: the open handle.
                prog.get().check_linktype(&self.name, unsafe { ffi::pcap_datalink(src.ptr()) })?;
                prog.get().compiled().clone()
            } else {
                let expr: String = filterstr
                    .extract()
                    .map_err(|_| PyTypeError::new_err("filter expects a str (tcpdump syntax) or a BPFProgram"))?;
                Arc::new(CompiledFilter::compile(src.ptr(), &self.name, &expr, true, src.netmask(&self.name))?)
            };
            src.set_filter(&self.name, prog)
        })
    }

    /// _setfilter(program) -> None
    ///
    /// Applies a compiled `BPFProgram` (the legacy library's internal step
    /// of `filter()`, which some scripts call). Anything else is a
    /// `TypeError`.
    #[pyo3(name = "_setfilter")]
    fn set_filter_program(&self, program: &Bound<'_, BPFProgram>) -> PyResult<()> {
        self.filter(program.as_any())
    }

    /// batches(columns=None, batch_size=65536, threads=1) -> BatchStream
    ///
    /// The feed's packets as a stream of Arrow record batches of up to
    /// `batch_size` rows, decoded in Rust (no Python object per packet):
    /// pass it to `pyarrow.table()`, `polars.DataFrame()` or DuckDB (it
    /// implements `__arrow_c_stream__`). `columns`: a list of column names
    /// (see docs/tables.md; default: every column but `raw`, with the
    /// `pf_*` columns for pflog captures). The feed's filter applies. A
    /// live feed yields a batch when it is full or when the read timeout
    /// passes, and ends when a read timeout passes with no packet or on
    /// `breakloop()`. `threads`: batches decoded at once, each on its own
    /// thread without the GIL (0: one per core). The stream reads the feed
    /// when it is consumed, once.
    #[pyo3(signature = (columns = None, batch_size = 65536, threads = 1))]
    fn batches(
        slf: &Bound<'_, Self>,
        columns: Option<&Bound<'_, PyAny>>,
        batch_size: i64,
        threads: i64,
    ) -> PyResult<super::batches::BatchStream> {
        if let Some(e) = slf.get().with_source(|s| Ok(matches!(s, super::source::Source::Dead(_))))?.then(|| {
            crate::py::error::pcap_error_about(
                &slf.get().name,
                "a Dead feed has no packets to read: batches() reads Offline and Live feeds",
            )
        }) {
            return Err(e);
        }
        super::batches::BatchStream::new(slf, columns, batch_size, threads)
    }

    /// stats() -> dict with int values for `ps_recv`, `ps_drop`, `ps_ifdrop`.
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let st = self.with_source(|src| src.stats(&self.name))?;
        let d = PyDict::new(py);
        d.set_item("ps_recv", st.ps_recv)?;
        d.set_item("ps_drop", st.ps_drop)?;
        d.set_item("ps_ifdrop", st.ps_ifdrop)?;
        Ok(d)
    }

    /// close(): releases the handle. A second `close()`, and any method on a
    /// closed feed, raise `PcapError("feed is closed (not connected)")`.
    fn close(&self) -> PyResult<()> {
        self.close_source()
    }

    /// True once the feed has been closed (new).
    #[getter]
    fn closed(&self) -> PyResult<bool> {
        self.is_closed()
    }

    fn __enter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    /// Closes the feed; does nothing if it is closed already.
    #[pyo3(signature = (*_args))]
    fn __exit__(&self, _args: &Bound<'_, pyo3::types::PyTuple>) -> PyResult<bool> {
        if !self.is_closed()? {
            self.close_source()?;
        }
        Ok(false)
    }
}
