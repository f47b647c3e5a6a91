//! IPv6 and its extension headers, each its own protocol in the stack.

use super::fields::{ipv6_str, py_bytes, py_ipv6, table, H, PROTOCOLS};
use super::layer::Kind;
use super::proto::{hdr, new_object, protocol_class, Protocol};
use super::write::{self, Opts};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};

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
        _ => format!("IPv6: {}->{}", ipv6_str(h.ipv6(8).unwrap_or_default()), ipv6_str(h.ipv6(24).unwrap_or_default())),
    }
}

#[pymethods]
impl Ipv6 {
    #[setter(version)]
    fn set_version(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "IPv6.version", 0, 1, 4, 4, v, Opts::Plain)
    }
    #[setter(diffservices)]
    fn set_diffservices(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "IPv6.diffservices", 0, 2, 4, 8, v, Opts::Plain)
    }
    #[setter(flowlabel)]
    fn set_flowlabel(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "IPv6.flowlabel", 0, 4, 0, 20, v, Opts::Plain)
    }
    #[setter(payloadlength)]
    fn set_payloadlength(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "IPv6.payloadlength", 4, 2, 0, 16, v, Opts::Plain)
    }
    #[setter(nextheader)]
    fn set_nextheader(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "IPv6.nextheader", 6, 1, 0, 8, v, Opts::Names(PROTOCOLS))
    }
    #[setter(hoplimit)]
    fn set_hoplimit(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "IPv6.hoplimit", 7, 1, 0, 8, v, Opts::Plain)
    }
    #[setter(src)]
    fn set_src(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::ipv6(slf, "IPv6.src", 8, v)
    }
    #[setter(dst)]
    fn set_dst(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::ipv6(slf, "IPv6.dst", 24, v)
    }
    #[classattr]
    const TYPE: &'static str = "IPv6";
    #[classattr]
    #[pyo3(name = "ProtocolOptions")]
    fn protocol_options(py: Python<'_>) -> PyResult<Py<PyAny>> {
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

/// The methods of an options header (hop-by-hop, destination options):
/// `nextheader`, `length`, `options`. `$class` is the class name used in
/// error messages, `$type` its TYPE.
macro_rules! options_header {
    ($rust:ident, $class:literal, $type:literal) => {
        #[pymethods]
        impl $rust {
            /// Option bytes: 2 + their length must be a multiple of 8;
            /// `length` follows.
            #[setter(options)]
            fn set_options(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
                ext_tail(slf, concat!($class, ".options"), 2, v)
            }
            #[setter(nextheader)]
            fn set_nextheader(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
                write::bits(slf, concat!($class, ".nextheader"), 0, 1, 0, 8, v, Opts::Names(PROTOCOLS))
            }
            #[setter(length)]
            fn set_length(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
                write::bits(slf, concat!($class, ".length"), 1, 1, 0, 8, v, Opts::Plain)
            }
            #[classattr]
            const TYPE: &'static str = $type;
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
    };
}

options_header!(HopByHop, "IPv6HopByHopHeader", "IPv6HopByHopHeader");
options_header!(DestOpts, "IPv6DestinationOptionsHeader", "IPv6DestinationOptions");

#[pymethods]
impl Routing {
    /// Type-specific data: 4 + its length must be a multiple of 8;
    /// `length` follows.
    #[setter(data)]
    fn set_data(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        ext_tail(slf, "IPv6RoutingHeader.data", 4, v)
    }
    #[setter(nextheader)]
    fn set_nextheader(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "IPv6RoutingHeader.nextheader", 0, 1, 0, 8, v, Opts::Names(PROTOCOLS))
    }
    #[setter(length)]
    fn set_length(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "IPv6RoutingHeader.length", 1, 1, 0, 8, v, Opts::Plain)
    }
    #[setter(routingType)]
    fn set_routing_type(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "IPv6RoutingHeader.routingType", 2, 1, 0, 8, v, Opts::Plain)
    }
    #[setter(segmentsLeft)]
    fn set_segments_left(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "IPv6RoutingHeader.segmentsLeft", 3, 1, 0, 8, v, Opts::Plain)
    }
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
    #[setter(nextheader)]
    fn set_nextheader(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "IPv6FragmentHeader.nextheader", 0, 1, 0, 8, v, Opts::Names(PROTOCOLS))
    }
    #[setter(reserved)]
    fn set_reserved(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "IPv6FragmentHeader.reserved", 1, 1, 0, 8, v, Opts::Plain)
    }
    #[setter(fragmentOffset)]
    fn set_fragment_offset(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "IPv6FragmentHeader.fragmentOffset", 2, 2, 3, 13, v, Opts::Plain)
    }
    #[setter(res)]
    fn set_res(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "IPv6FragmentHeader.res", 2, 2, 1, 2, v, Opts::Plain)
    }
    #[setter(moreFragments)]
    fn set_more_fragments(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "IPv6FragmentHeader.moreFragments", 2, 2, 0, 1, v, Opts::Plain)
    }
    #[setter(identification)]
    fn set_identification(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "IPv6FragmentHeader.identification", 4, 4, 0, 32, v, Opts::Plain)
    }
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

/// Replaces an extension header's bytes after `rel` and sets its length
/// (8-byte units after the first 8).
fn ext_tail<T: super::proto::IsProtocol>(
    slf: &Bound<'_, T>,
    field: &str,
    rel: usize,
    v: &Bound<'_, PyAny>,
) -> PyResult<()> {
    let b = write::bytes_arg(field, v)?;
    let total = rel + b.len();
    if total % 8 != 0 || total > 2048 {
        return Err(pyo3::exceptions::PyValueError::new_err(format!(
            "{field} must make the header a multiple of 8 bytes, at most 2048: {rel} + {} bytes",
            b.len()
        )));
    }
    super::proto::base(slf).replace_header_tail(slf.py(), field, rel, &b, |d, at, hlen| {
        write::poke(d, at + 1, (hlen / 8).saturating_sub(1) as u8);
    })
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Ipv6>()?;
    m.add_class::<HopByHop>()?;
    m.add_class::<Routing>()?;
    m.add_class::<Fragment>()?;
    m.add_class::<DestOpts>()?;
    Ok(())
}
