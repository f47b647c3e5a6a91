//! `Dead`, a feed with no source: for writing savefiles (`Dumper`) and
//! compiling filters (`BPFProgram`) for a given link type.

use super::feed::Feed;
use super::source::options::precision_arg;
use super::source::raw::RawHandle;
use super::source::Source;
use crate::py::error::pcap_error;
use pyo3::prelude::*;
use pyo3::PyClassInitializer;

/// Dead(linktype, snaplen=1500, *, precision="micro")
///
/// A feed with no source, for writing savefiles (`Dumper`) and compiling
/// filters (`BPFProgram`) for a given link type: a `DLT_*` number, or a
/// protocol class the link type starts with (`Dead(packet.Ethernet)` is
/// `Dead(DLT_EN10MB)`; see `pcap.DLTLookup`). With `precision="nano"` a
/// `Dumper` on it writes nanosecond timestamps `(sec, nsec)`.
#[pyclass(frozen, extends = Feed, module = "openbsd.pcap")]
pub struct Dead {}

#[pymethods]
impl Dead {
    #[new]
    #[pyo3(signature = (linktype, snaplen = 1500, *, precision = None))]
    fn new(
        #[pyo3(from_py_with = super::dlt::linktype_arg)] linktype: i32,
        #[pyo3(from_py_with = crate::py::args::snaplen)] snaplen: i32,
        precision: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PyClassInitializer<Self>> {
        let precision = precision.map(precision_arg).transpose()?.unwrap_or_default();
        let h = RawHandle::open_dead_with(linktype, snaplen, precision)
            .ok_or_else(|| pcap_error(format!("cannot open a dead feed for link type {linktype}")))?;
        let feed = Feed::new(Source::Dead(h), format!("Dead(linktype={linktype})"));
        Ok(PyClassInitializer::from(feed).add_subclass(Dead {}))
    }

    fn __repr__(slf: PyRef<'_, Self>) -> String {
        format!("<openbsd.pcap.{}>", slf.as_super().name)
    }
}
