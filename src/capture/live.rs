//! `Live`, a feed capturing from a network interface, and the interface
//! functions `lookupdev` and `findalldevs`.

use super::feed::Feed;
use super::source::live::{lookupnet_raw, LiveSource};
use super::source::options::{LiveOptions, Precision};
use super::source::Source;
use crate::ffi;
use crate::py::error::{crate_error_text, pcap_error};
use pyo3::prelude::*;
use pyo3::PyClassInitializer;

/// Live(interface=None, snaplen=96, promisc=1, timeout=1000, *,
///      immediate=False, buffer_size=None, precision="micro",
///      tstamp_type=None, rfmon=False)
///
/// Captures from a network interface (`None`: `lookupdev()`). `timeout` is
/// the read timeout in milliseconds; 0 waits until packets come. The
/// keyword-only options set libpcap's immediate mode, the kernel buffer
/// size in bytes, `(sec, nsec)` timestamps ("nano"), the timestamp type
/// (a libpcap name such as "host" or "adapter") and monitor mode; one that
/// libpcap or the interface refuses raises `PcapError` naming it and the
/// interface. Raises
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
    #[pyo3(signature = (interface = None, snaplen = 96, promisc = 1, timeout = 1000, *,
        immediate = false, buffer_size = None, precision = None, tstamp_type = None, rfmon = false))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        interface: Option<String>,
        #[pyo3(from_py_with = crate::py::args::snaplen)] snaplen: i32,
        #[pyo3(from_py_with = promisc_arg)] promisc: i32,
        #[pyo3(from_py_with = timeout_arg)] timeout: i32,
        immediate: bool,
        buffer_size: Option<&Bound<'_, PyAny>>,
        precision: Option<&Bound<'_, PyAny>>,
        tstamp_type: Option<&Bound<'_, PyAny>>,
        rfmon: bool,
    ) -> PyResult<PyClassInitializer<Self>> {
        let opts = LiveOptions {
            immediate,
            buffer_size: buffer_size.map(super::source::options::buffer_size_arg).transpose()?.flatten(),
            precision: precision.map(super::source::options::precision_arg).transpose()?.unwrap_or_default(),
            tstamp_type: tstamp_type.map(super::source::options::tstamp_type_arg).transpose()?.flatten(),
            rfmon,
        };
        let interface = match interface {
            Some(i) => i,
            None => lookupdev()?,
        };
        let iface = interface.clone();
        let src = py.detach(move || LiveSource::open(&iface, snaplen, promisc != 0, timeout, &opts))?;
        let mut feed = Feed::new(Source::Live(src), interface.clone());
        feed.timeout_ms = timeout;
        Ok(PyClassInitializer::from(feed).add_subclass(Live { interface, snaplen, promisc, timeout }))
    }

    /// lookupnet() -> (net, mask): the interface's IPv4 network and mask as
    /// libpcap's `pcap_lookupnet` gives them, as the legacy library returned
    /// them: the 32 bits in network byte order read as a native int (on a
    /// little-endian machine 192.168.1.0 is 0x0001a8c0;
    /// `socket.inet_ntoa(net.to_bytes(4, sys.byteorder))` prints it).
    /// `(0, 0)` when the interface has no IPv4 address. `lookupnet_host()`
    /// gives them in host order.
    fn lookupnet(slf: PyRef<'_, Self>) -> PyResult<(u32, u32)> {
        let (net, mask) = Self::lookupnet_host(slf)?;
        Ok((net.to_be(), mask.to_be()))
    }

    /// lookupnet_host() -> (net, mask) (new): the interface's IPv4 network
    /// and mask as ints in host order (`ipaddress.IPv4Address(net)` prints
    /// them); `(0, 0)` when it has no IPv4 address.
    fn lookupnet_host(slf: PyRef<'_, Self>) -> PyResult<(u32, u32)> {
        slf.as_super().with_source(|_| Ok(lookupnet_raw(&slf.interface).unwrap_or((0, 0))))
    }

    /// snapshot() -> int: the snap length in force (packets are at most this
    /// long): the one asked for, or libpcap's maximum when that is smaller.
    fn snapshot(slf: PyRef<'_, Self>) -> PyResult<i32> {
        let asked = slf.snaplen;
        // SAFETY: open handle.
        slf.as_super().with_source(|src| Ok(asked.min(unsafe { ffi::pcap_snapshot(src.ptr()) })))
    }

    /// setdirection(direction): which packets to capture: "in" (received
    /// by the interface), "out" (sent from it) or "inout" (both, the
    /// default). `PcapError` naming the direction and the interface when
    /// libpcap or the interface refuses it.
    fn setdirection(
        slf: PyRef<'_, Self>,
        #[pyo3(from_py_with = super::source::options::direction_arg)] direction: (libc::c_int, &'static str),
    ) -> PyResult<()> {
        let feed = slf.as_super();
        // SAFETY: the open live handle.
        feed.with_source(|src| unsafe { super::source::options::set_direction(src.ptr(), &feed.name, direction) })
    }

    /// setnonblock(nonblock): in non-blocking mode `dispatch()`, `next()`
    /// and iteration never wait: they hand out the packets already
    /// buffered, and `next()` returns `None` (iteration ends) when there
    /// are none. Wait with `select`/`poll` on `fileno()`, or use `aiter()`.
    fn setnonblock(slf: PyRef<'_, Self>, nonblock: &Bound<'_, PyAny>) -> PyResult<()> {
        let on = nonblock.is_truthy()?;
        let feed = slf.as_super();
        feed.with_source(|_| {
            feed.nonblock.store(on, std::sync::atomic::Ordering::Relaxed);
            Ok(())
        })
    }

    /// getnonblock() -> bool: whether the feed is in non-blocking mode
    /// (`setnonblock()`; off when opened).
    fn getnonblock(slf: PyRef<'_, Self>) -> PyResult<bool> {
        let feed = slf.as_super();
        feed.with_source(|_| Ok(feed.nonblock()))
    }

    /// fileno() -> int: a descriptor that `select`, `poll`, `epoll` and
    /// asyncio report readable when packets wait. Read them with
    /// `dispatch()` or `next()` (best in non-blocking mode).
    fn fileno(slf: PyRef<'_, Self>) -> PyResult<i32> {
        let feed = slf.as_super();
        feed.with_source(|src| {
            // SAFETY: the open live handle.
            let fd = unsafe { ffi::pcap_get_selectable_fd(src.ptr()) };
            if fd < 0 {
                return Err(crate::py::error::pcap_error_about(
                    &feed.name,
                    "no selectable descriptor for this interface",
                ));
            }
            Ok(fd)
        })
    }

    /// precision -> str: "micro" (timestamps `(sec, usec)`) or "nano"
    /// (`(sec, nsec)`).
    #[getter]
    fn precision(slf: PyRef<'_, Self>) -> PyResult<&'static str> {
        // SAFETY: the open handle.
        slf.as_super().with_source(|src| Ok(unsafe { Precision::of(src.ptr()) }.name()))
    }

    /// aiter(interpret=0) -> async iterator of `(packet, tstamp, length)`.
    ///
    /// `async for packet, tstamp, length in live.aiter(): ...` reads on the
    /// running asyncio event loop: it waits on `fileno()` (no thread) and
    /// hands out the packets buffered each time it is readable. The reader
    /// is registered only while it waits, so `break` leaves nothing behind,
    /// and cancelling the task removes it at once. The feed stays open, and
    /// its blocking mode (`setnonblock`) is not touched; closing it while
    /// the iteration waits ends that with `PcapError("feed is closed")`.
    #[pyo3(signature = (interpret = None))]
    fn aiter<'py>(slf: Bound<'py, Self>, interpret: Option<Bound<'py, PyAny>>) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        py.import("openbsd._aio")?.getattr("aiter")?.call1((slf, interpret))
    }

    /// The next buffered packet, or `None` at once when none is; for `aiter`.
    #[pyo3(signature = (interpret = None))]
    fn _next_nowait(
        slf: PyRef<'_, Self>,
        py: Python<'_>,
        interpret: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Option<Py<PyAny>>> {
        let feed = slf.as_super();
        let interpret = feed.interpret_info(interpret, None)?;
        feed.with_open(|open| super::read::next_nowait(feed, py, open, interpret))
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

/// _interfaces() -> list of `(name, description, addresses, flags)`; the
/// Python layer's `interfaces()` makes named tuples of them.
#[pyfunction(name = "_interfaces")]
pub fn interfaces_raw() -> PyResult<Vec<super::source::options::RawInterface>> {
    super::source::options::list_interfaces()
}
