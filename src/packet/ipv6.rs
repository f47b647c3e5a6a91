//! IPv6 and its extension headers, each its own protocol in the stack.

use super::fields::{ipv6_str, py_bytes, py_ipv6, table, H, PROTOCOLS};
use super::layer::Kind;
use super::proto::{hdr, new_object, protocol_class, Protocol};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyString};

protocol_class!(
    /// An IPv6 header.
    Ipv6, "IPv6");
protocol_class!(
    /// Hop-by-hop options header.
    HopByHop, "IPv6HopByHopHeader");
protocol_class!(
    /// Routing header.
    Routing, "IPv6RoutingHeader");
protocol_class!(
    /// Fragment header.
    Fragment, "IPv6FragmentHeader");
protocol_class!(
    /// Destination options header.
    DestOpts, "IPv6DestinationOptionsHeader");

pub fn object(py: Python<'_>, base: Protocol) -> PyResult<Py<PyAny>> {
    match base.kind() {
        Kind::Ipv6HopByHop => new_object!(py, base, HopByHop),
        Kind::Ipv6Routing => new_object!(py, base, Routing),
        Kind::Ipv6Fragment => new_object!(py, base, Fragment),
        Kind::Ipv6DestOpts => new_object!(py, base, DestOpts),
        _ => new_object!(py, base, Ipv6),
    }
}

pub fn repr(kind: Kind, h: H<'_>) -> String {
    match kind {
        Kind::Ipv6HopByHop => "IPv6HopByHopHeader".to_owned(),
        Kind::Ipv6Routing => "IPv6RoutingHeader".to_owned(),
        Kind::Ipv6Fragment => "IPv6FragmentHeader".to_owned(),
        Kind::Ipv6DestOpts => "IPv6DestinationOptions".to_owned(),
        _ => format!(
            "IPv6: {}->{}",
            ipv6_str(h.ipv6(8).unwrap_or_default()),
            ipv6_str(h.ipv6(24).unwrap_or_default())
        ),
    }
}

#[pymethods]
impl Ipv6 {
    #[classattr]
    const TYPE: &'static str = "IPv6";
    #[classattr]
    #[pyo3(name = "ProtocolOptions")]
    fn protocol_options(py: Python<'_>) -> PyResult<Py<PyDict>> {
        table(py, PROTOCOLS)
    }
    #[getter]
    fn version(slf: &Bound<'_, Self>) -> u8 {
        hdr(slf).u8(0) >> 4
    }
    /// Traffic class (8 bits).
    #[getter]
    fn diffservices(slf: &Bound<'_, Self>) -> u8 {
        ((hdr(slf).be16(0) >> 4) & 0xff) as u8
    }
    #[getter]
    fn flowlabel(slf: &Bound<'_, Self>) -> u32 {
        hdr(slf).be32(0) & 0xfffff
    }
    #[getter]
    fn payloadlength(slf: &Bound<'_, Self>) -> u16 {
        hdr(slf).be16(4)
    }
    #[getter]
    fn nextheader(slf: &Bound<'_, Self>) -> u8 {
        hdr(slf).u8(6)
    }
    #[getter]
    fn hoplimit(slf: &Bound<'_, Self>) -> u8 {
        hdr(slf).u8(7)
    }
    #[getter]
    fn src<'py>(slf: &Bound<'py, Self>) -> Bound<'py, PyString> {
        py_ipv6(slf.py(), hdr(slf), 8)
    }
    #[getter]
    fn dst<'py>(slf: &Bound<'py, Self>) -> Bound<'py, PyString> {
        py_ipv6(slf.py(), hdr(slf), 24)
    }
}

#[pymethods]
impl HopByHop {
    #[classattr]
    const TYPE: &'static str = "IPv6HopByHopHeader";
    #[getter]
    fn nextheader(slf: &Bound<'_, Self>) -> u8 {
        hdr(slf).u8(0)
    }
    /// Header length in 8-byte units, not counting the first 8 bytes.
    #[getter]
    fn length(slf: &Bound<'_, Self>) -> u8 {
        hdr(slf).u8(1)
    }
    /// The option bytes (after next header and length).
    #[getter]
    fn options<'py>(slf: &Bound<'py, Self>) -> Bound<'py, PyBytes> {
        py_bytes(slf.py(), hdr(slf).from(2))
    }
}

#[pymethods]
impl DestOpts {
    #[classattr]
    const TYPE: &'static str = "IPv6DestinationOptions";
    #[getter]
    fn nextheader(slf: &Bound<'_, Self>) -> u8 {
        hdr(slf).u8(0)
    }
    #[getter]
    fn length(slf: &Bound<'_, Self>) -> u8 {
        hdr(slf).u8(1)
    }
    #[getter]
    fn options<'py>(slf: &Bound<'py, Self>) -> Bound<'py, PyBytes> {
        py_bytes(slf.py(), hdr(slf).from(2))
    }
}

#[pymethods]
impl Routing {
    #[classattr]
    const TYPE: &'static str = "IPv6RoutingHeader";
    #[getter]
    fn nextheader(slf: &Bound<'_, Self>) -> u8 {
        hdr(slf).u8(0)
    }
    #[getter]
    fn length(slf: &Bound<'_, Self>) -> u8 {
        hdr(slf).u8(1)
    }
    #[getter]
    #[pyo3(name = "routingType")]
    fn routing_type(slf: &Bound<'_, Self>) -> u8 {
        hdr(slf).u8(2)
    }
    #[getter]
    #[pyo3(name = "segmentsLeft")]
    fn segments_left(slf: &Bound<'_, Self>) -> u8 {
        hdr(slf).u8(3)
    }
    /// The type-specific data (after the first 4 bytes).
    #[getter]
    fn data<'py>(slf: &Bound<'py, Self>) -> Bound<'py, PyBytes> {
        py_bytes(slf.py(), hdr(slf).from(4))
    }
}

#[pymethods]
impl Fragment {
    #[classattr]
    const TYPE: &'static str = "IPv6FragmentHeader";
    #[getter]
    fn nextheader(slf: &Bound<'_, Self>) -> u8 {
        hdr(slf).u8(0)
    }
    #[getter]
    fn reserved(slf: &Bound<'_, Self>) -> u8 {
        hdr(slf).u8(1)
    }
    /// Fragment offset in 8-byte units.
    #[getter]
    #[pyo3(name = "fragmentOffset")]
    fn fragment_offset(slf: &Bound<'_, Self>) -> u16 {
        hdr(slf).be16(2) >> 3
    }
    /// The two reserved bits after the offset.
    #[getter]
    fn res(slf: &Bound<'_, Self>) -> u16 {
        (hdr(slf).be16(2) >> 1) & 3
    }
    /// More-fragments flag (0 or 1).
    #[getter]
    #[pyo3(name = "moreFragments")]
    fn more_fragments(slf: &Bound<'_, Self>) -> u16 {
        hdr(slf).be16(2) & 1
    }
    #[getter]
    fn identification(slf: &Bound<'_, Self>) -> u32 {
        hdr(slf).be32(4)
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Ipv6>()?;
    m.add_class::<HopByHop>()?;
    m.add_class::<Routing>()?;
    m.add_class::<Fragment>()?;
    m.add_class::<DestOpts>()?;
    Ok(())
}
