//! `BPFProgram`: a tcpdump-syntax filter compiled for a feed, to apply to
//! feeds of its link type or to test packets with.

use super::feed::Feed;
use super::source::bpf::CompiledFilter;
use crate::ffi;
use crate::py::args::packet_bytes;
use pyo3::prelude::*;
use std::sync::Arc;

/// `optimise` of `BPFProgram`: a C int (non-zero: optimise).
fn optimise_arg(obj: &Bound<'_, PyAny>) -> PyResult<i32> {
    crate::py::args::c_int(obj, "optimise")
}

/// `length` of `BPFProgram.matches`: a wire length, or `None`.
fn length_arg(obj: &Bound<'_, PyAny>) -> PyResult<Option<u32>> {
    if obj.is_none() {
        return Ok(None);
    }
    crate::py::args::wire_length(obj).map(Some)
}

/// BPFProgram(feed, filterstr, optimise=1)
///
/// A tcpdump-syntax filter compiled for `feed`'s link type. Apply it with
/// `feed.filter(program)`, or test packets with `program.matches(packet)`.
#[pyclass(frozen, module = "openbsd.pcap")]
pub struct BPFProgram {
    compiled: Arc<CompiledFilter>,
    expr: String,
    /// The link type it was compiled for (its offsets are that link
    /// header's).
    linktype: i32,
    /// The feed and optimise flag as given (legacy attributes).
    feed: Py<Feed>,
    optimise: i32,
}

impl BPFProgram {
    /// The compiled program, shared with the feeds it is applied to.
    pub fn compiled(&self) -> &Arc<CompiledFilter> {
        &self.compiled
    }

    /// Refuses a program compiled for another link type than `dlt` (its
    /// byte offsets would test the wrong fields, silently).
    pub fn check_linktype(&self, name: &str, dlt: i32) -> PyResult<()> {
        if self.linktype == dlt {
            return Ok(());
        }
        Err(crate::py::error::pcap_error_about(
            name,
            &format!(
                "BPF program {:?} was compiled for link type {}, this feed's is {}",
                self.expr, self.linktype, dlt
            ),
        ))
    }
}

#[pymethods]
impl BPFProgram {
    #[new]
    #[pyo3(signature = (feed, filterstr, optimise = 1))]
    fn new(
        feed: &Bound<'_, Feed>,
        filterstr: String,
        #[pyo3(from_py_with = optimise_arg)] optimise: i32,
    ) -> PyResult<Self> {
        let f = feed.get();
        let (compiled, linktype) = f.with_source(|src| {
            // As `Feed.filter` does: a live feed's filters know its netmask
            // (for `ip broadcast`); files and dead feeds have none.
            let prog = CompiledFilter::compile(src.ptr(), &f.name, &filterstr, optimise != 0, src.netmask(&f.name))?;
            // SAFETY: the feed's open handle.
            Ok((prog, unsafe { ffi::pcap_datalink(src.ptr()) }))
        })?;
        Ok(BPFProgram {
            compiled: Arc::new(compiled),
            expr: filterstr,
            linktype,
            feed: feed.clone().unbind(),
            optimise,
        })
    }

    /// The feed the program was compiled with (the legacy attribute).
    #[getter]
    fn feed(&self, py: Python<'_>) -> Py<Feed> {
        self.feed.clone_ref(py)
    }

    /// The `optimise` flag as given (the legacy attribute).
    #[getter]
    fn optimise(&self) -> i32 {
        self.optimise
    }

    /// The link type (DLT) this program was compiled for: `feed.filter()`
    /// takes it only on a feed of that link type.
    #[getter]
    fn linktype(&self) -> i32 {
        self.linktype
    }

    /// The filter expression this program was compiled from.
    #[getter]
    fn filterstr(&self) -> &str {
        &self.expr
    }

    /// The BPF instructions as a list of `(code, jt, jf, k)` tuples.
    fn instructions(&self) -> Vec<(u16, u8, u8, u32)> {
        self.compiled.instructions().iter().map(|i| (i.code, i.jt, i.jf, i.k)).collect()
    }

    /// matches(packet, length=None) -> bool: whether the filter accepts
    /// `packet` (bytes-like or Packet) captured from a packet of `length`
    /// bytes on the wire (default: `len(packet)`).
    #[pyo3(signature = (packet, length = None))]
    fn matches(
        &self,
        packet: &Bound<'_, PyAny>,
        #[pyo3(from_py_with = length_arg)] length: Option<u32>,
    ) -> PyResult<bool> {
        let data = packet_bytes(packet)?;
        let len = length.unwrap_or(data.len() as u32);
        Ok(self.compiled.matches(&data, len))
    }

    fn __len__(&self) -> usize {
        self.compiled.instructions().len()
    }

    fn __repr__(&self) -> String {
        format!("<BPFProgram {:?} ({} instructions)>", self.expr, self.compiled.instructions().len())
    }
}
