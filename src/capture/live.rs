//! `Live`, a feed capturing from a network interface, and the interface
//! functions `lookupdev` and `findalldevs`.

use super::feed::Feed;
use super::source::live::{lookupnet_raw, LiveSource};
use super::source::Source;
use crate::ffi;
use crate::py::error::{crate_error_text, pcap_error};
use pyo3::prelude::*;
use pyo3::PyClassInitializer;

/// Live(interface=None, snaplen=96, promisc=1, timeout=1000)
///
/// Captures from a network interface (`None`: `lookupdev()`). `timeout` is
/// the read timeout in milliseconds; 0 waits until packets come. Raises
/// `PcapError` naming the interface when it cannot be opened (no such
/// device, interface down, no permission). While waiting for packets the GIL
/// is released, and Ctrl-C is delivered within a fraction of a second.
#[pyclass(frozen, extends = Feed, module = "openbsd.pcap")]
pub struct Live {
    /// The interface name.
    #[pyo3(get)]
    interface: String,
    /// The snap length asked for.
    #[pyo3(get)]
    snaplen: i32,
    /// The promiscuous-mode flag as given.
    #[pyo3(get)]
    promisc: i32,
    /// The read timeout in milliseconds, as given.
    #[pyo3(get)]
    timeout: i32,
}

#[pymethods]
impl Live {
    #[new]
    #[pyo3(signature = (interface = None, snaplen = 96, promisc = 1, timeout = 1000))]
    fn new(
        py: Python<'_>,
        interface: Option<String>,
        #[pyo3(from_py_with = crate::py::args::snaplen)] snaplen: i32,
        #[pyo3(from_py_with = promisc_arg)] promisc: i32,
        #[pyo3(from_py_with = timeout_arg)] timeout: i32,
    ) -> PyResult<PyClassInitializer<Self>> {
        let interface = match interface {
            Some(i) => i,
            None => lookupdev()?,
        };
        let iface = interface.clone();
        let src = py.detach(move || LiveSource::open(&iface, snaplen, promisc != 0, timeout))?;
        let mut feed = Feed::new(Source::Live(src), interface.clone());
        feed.timeout_ms = timeout;
        Ok(PyClassInitializer::from(feed).add_subclass(Live { interface, snaplen, promisc, timeout }))
    }

    /// lookupnet() -> (net, mask): the interface's IPv4 network and mask as
    /// ints in host order (`ipaddress.IPv4Address(net)` prints them); `(0, 0)`
    /// when it has no IPv4 address.
    fn lookupnet(slf: PyRef<'_, Self>) -> PyResult<(u32, u32)> {
        slf.as_super().with_source(|_| Ok(lookupnet_raw(&slf.interface).unwrap_or((0, 0))))
    }

    /// snapshot() -> int: the snap length in force (packets are at most this
    /// long): the one asked for, or libpcap's maximum when that is smaller.
    fn snapshot(slf: PyRef<'_, Self>) -> PyResult<i32> {
        let asked = slf.snaplen;
        // SAFETY: open handle.
        slf.as_super().with_source(|src| Ok(asked.min(unsafe { ffi::pcap_snapshot(src.ptr()) })))
    }

    fn __repr__(slf: PyRef<'_, Self>) -> String {
        let state = if slf.as_super().is_closed().unwrap_or(false) { "closed " } else { "" };
        format!("<{}openbsd.pcap.Live {:?}>", state, slf.interface)
    }
}

/// `promisc` of `Live`: a C int (non-zero: promiscuous).
fn promisc_arg(obj: &Bound<'_, PyAny>) -> PyResult<i32> {
    crate::py::args::c_int(obj, "promisc")
}

/// `timeout` of `Live`: milliseconds, a C int, not negative.
fn timeout_arg(obj: &Bound<'_, PyAny>) -> PyResult<i32> {
    crate::py::args::int_arg(obj, "timeout", 0, i32::MAX)
}

/// lookupdev() -> str: the name of a default capture interface.
#[pyfunction]
pub fn lookupdev() -> PyResult<String> {
    match pcap::Device::lookup() {
        Ok(Some(d)) => Ok(d.name),
        Ok(None) => Err(pcap_error("lookupdev: no capture device found")),
        Err(e) => Err(pcap_error(format!("lookupdev: {}", crate_error_text(&e)))),
    }
}

/// findalldevs() -> list[str]: the names of the interfaces that can be opened.
#[pyfunction]
pub fn findalldevs() -> PyResult<Vec<String>> {
    pcap::Device::list()
        .map(|l| l.into_iter().map(|d| d.name).collect())
        .map_err(|e| pcap_error(format!("findalldevs: {}", crate_error_text(&e))))
}
