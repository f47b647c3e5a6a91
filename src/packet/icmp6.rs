//! ICMPv6: the `ICMP6` base class and one subclass per message type.

use super::fields::{fmt_hw, py_ipv6, table, Buf};
use super::layer::Kind;
use super::proto::{base, detached_object, hdr, new_object, protocol_class, Protocol};
use super::subtypes::icmp6::SUBTYPES;
use super::write::{self, Opts};
use pyo3::prelude::*;
use pyo3::types::PyString;

/// `ICMP6NeighbourAdvertisement.flags` options.
pub const NA_FLAGS: &[(&str, u32)] = &[("OVERRIDE", 1), ("SOLICITED", 2), ("ROUTER", 4)];

/// `ICMP6.icmp6type` options.
pub const TYPES: &[(&str, u32)] = &[
    ("DESTINATION_UNREACHABLE", 1),
    ("PACKET_TOO_BIG", 2),
    ("TIME_EXCEEDED", 3),
    ("PARAMETER_PROBLEM", 4),
    ("ECHO_REQUEST", 128),
    ("ECHO_REPLY", 129),
    ("MULTICAST_LISTENER_QUERY", 130),
    ("MULTICAST_LISTENER_REPORT", 131),
    ("MULTICAST_LISTENER_DONE", 132),
    ("ROUTER_SOLICITATION", 133),
    ("ROUTER_ADVERTISEMENT", 134),
    ("NEIGHBOUR_SOLICITATION", 135),
    ("NEIGHBOUR_ADVERTISEMENT", 136),
    ("REDIRECT", 137),
    ("ROUTER_RENUMBERING", 138),
    ("NODE_INFO_QUERY", 139),
    ("NODE_INFO_RESPONSE", 140),
    ("INVERSE_ND_SOLICITATION", 141),
    ("INVERSE_ND_ADV", 142),
];

pub fn repr(t: u8) -> String {
    SUBTYPES.iter().find(|s| s.1 == t).map(|s| s.2).unwrap_or("ICMP6").to_owned()
}

/// The first source/target link-layer address option in neighbour
/// discovery options `opts` (8-byte units), as colon hex.
pub fn linklayer_addr(opts: &[u8]) -> Option<String> {
    let mut i = 0usize;
    loop {
        let t = *opts.get(i)?;
        let units = *opts.get(i + 1)? as usize;
        if units == 0 {
            return None;
        }
        if t == 1 || t == 2 {
            let addr = opts.get(i + 2..i + units * 8)?;
            let addr = addr.get(..6).unwrap_or(addr);
            let mut b = Buf::new();
            fmt_hw(&mut b, addr);
            return Some(b.as_str().to_owned());
        }
        i += units * 8;
    }
}

/// Offset and length (8-byte units) of the first link-layer address option.
fn linklayer_option(opts: &[u8]) -> Option<(usize, usize)> {
    let mut i = 0usize;
    loop {
        let t = *opts.get(i)?;
        let units = *opts.get(i + 1)? as usize;
        if units == 0 {
            return None;
        }
        if (t == 1 || t == 2) && opts.len() >= i + 8 {
            return Some((i, units));
        }
        i += units * 8;
    }
}

protocol_class!(
    /// An ICMPv6 message of a type without a subclass; base of the subclasses.
    Icmp6, "ICMP6", subclass);

/// Base of the error messages that quote an IPv6 header (`ip6hdr`).
#[pyclass(subclass, frozen, extends = Icmp6, module = "openbsd.packet", name = "_ICMP6Error")]
pub struct Error6;
unsafe impl super::proto::IsProtocol for Error6 {}

/// Base of echo request/reply.
#[pyclass(subclass, frozen, extends = Icmp6, module = "openbsd.packet", name = "_ICMP6EchoBase")]
pub struct Echo6;
unsafe impl super::proto::IsProtocol for Echo6 {}

/// Base of neighbour solicitation/advertisement.
#[pyclass(subclass, frozen, extends = Icmp6, module = "openbsd.packet", name = "_ICMP6NeighbourBase")]
pub struct Neighbour6;
unsafe impl super::proto::IsProtocol for Neighbour6 {}

protocol_class!(DestinationUnreachable, "ICMP6DestinationUnreachable", extends Error6);
protocol_class!(PacketTooBig, "ICMP6PacketTooBig", extends Error6);
protocol_class!(TimeExceeded, "ICMP6TimeExceeded", extends Error6);
protocol_class!(ParameterProblem, "ICMP6ParameterProblem", extends Error6);
protocol_class!(EchoRequest, "ICMP6EchoRequest", extends Echo6);
protocol_class!(EchoReply, "ICMP6EchoReply", extends Echo6);
protocol_class!(NeighbourSolicitation, "ICMP6NeighbourSolicitation", extends Neighbour6);
protocol_class!(NeighbourAdvertisement, "ICMP6NeighbourAdvertisement", extends Neighbour6);

pub fn object(py: Python<'_>, base: Protocol, t: u8) -> PyResult<Py<PyAny>> {
    match t {
        1 => new_object!(py, base, Icmp6, Error6, DestinationUnreachable),
        2 => new_object!(py, base, Icmp6, Error6, PacketTooBig),
        3 => new_object!(py, base, Icmp6, Error6, TimeExceeded),
        4 => new_object!(py, base, Icmp6, Error6, ParameterProblem),
        128 => new_object!(py, base, Icmp6, Echo6, EchoRequest),
        129 => new_object!(py, base, Icmp6, Echo6, EchoReply),
        135 => new_object!(py, base, Icmp6, Neighbour6, NeighbourSolicitation),
        136 => new_object!(py, base, Icmp6, Neighbour6, NeighbourAdvertisement),
        _ => new_object!(py, base, Icmp6),
    }
}

#[pymethods]
impl Icmp6 {
    #[setter(icmp6type)]
    fn set_icmp6type(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "ICMP6.icmp6type", 0, 1, 0, 8, v, Opts::Names(TYPES))
    }
    #[setter(code)]
    fn set_code(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "ICMP6.code", 1, 1, 0, 8, v, Opts::Plain)
    }
    #[setter(checksum)]
    fn set_checksum(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "ICMP6.checksum", 2, 2, 0, 16, v, Opts::Plain)
    }
    #[classattr]
    const TYPE: &'static str = "ICMP6";
    #[classattr]
    #[pyo3(name = "TypeOptions")]
    fn type_options(py: Python<'_>) -> PyResult<Py<PyAny>> {
        table(py, TYPES)
    }
    #[getter]
    fn icmp6type(slf: &Bound<'_, Self>) -> u8 {
        hdr(slf).u8(0)
    }
    #[getter]
    fn code(slf: &Bound<'_, Self>) -> u8 {
        hdr(slf).u8(1)
    }
    #[getter]
    fn checksum(slf: &Bound<'_, Self>) -> u16 {
        hdr(slf).be16(2)
    }
}

#[pymethods]
impl Error6 {
    /// The quoted IPv6 header (an `IPv6` object outside the stack), or None.
    #[getter]
    fn ip6hdr(slf: &Bound<'_, Self>) -> PyResult<Option<Py<PyAny>>> {
        let p = base(slf);
        detached_object(slf.py(), p, Kind::Ipv6, p.layer(slf.py()).payload_start(), super::ipv6::object)
    }
}

#[pymethods]
impl Echo6 {
    #[setter(identifier)]
    fn set_identifier(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "ICMP6.identifier", 4, 2, 0, 16, v, Opts::Plain)
    }
    #[setter(seq_num)]
    fn set_seq_num(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "ICMP6.seq_num", 6, 2, 0, 16, v, Opts::Plain)
    }
    #[getter]
    fn identifier(slf: &Bound<'_, Self>) -> u16 {
        hdr(slf).be16(4)
    }
    #[getter]
    fn seq_num(slf: &Bound<'_, Self>) -> u16 {
        hdr(slf).be16(6)
    }
}

#[pymethods]
impl Neighbour6 {
    #[setter(target_addr)]
    fn set_target_addr(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::ipv6(slf, "ICMP6.target_addr", 8, v)
    }
    #[getter]
    fn target_addr<'py>(slf: &Bound<'py, Self>) -> Bound<'py, PyString> {
        py_ipv6(slf.py(), hdr(slf), 8)
    }
    /// The source/target link-layer address option (MAC string), or None.
    #[getter]
    fn linklayer_addr(slf: &Bound<'_, Self>) -> Option<String> {
        let p = base(slf);
        linklayer_addr(p.payload_bytes(slf.py()))
    }
    /// The link-layer address option's MAC string: the legacy name of
    /// `linklayer_addr`, read and set the same way.
    #[getter]
    fn options(slf: &Bound<'_, Self>) -> Option<String> {
        Self::linklayer_addr(slf)
    }
    #[setter(options)]
    fn set_options(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        Self::set_linklayer_addr(slf, v)
    }
    /// A MAC string: stored in the first link-layer address option (one is
    /// added when there is none); `None` removes that option.
    #[setter(linklayer_addr)]
    fn set_linklayer_addr(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        const F: &str = "ICMP6.linklayer_addr";
        let mac = if v.is_none() { None } else { Some(write::hw_arg(F, v, Some(6))?) };
        let py = slf.py();
        let p = base(slf);
        let l = p.layer(py);
        let opts = p.payload_bytes(py);
        let found = linklayer_option(opts);
        let start = l.payload_start();
        match (found, mac) {
            (Some((at, _)), Some(mac)) => p.put_in_layer(py, F, at + 2 + (start - l.hdr_start()), &mac),
            (Some((at, units)), None) => {
                let mut new = opts.to_vec();
                new.drain(at..(at + units * 8).min(new.len()));
                p.replace_payload(py, F, &new)
            }
            (None, Some(mac)) => {
                // Source link-layer address in solicitations, target in
                // advertisements.
                let t = if hdr(slf).u8(0) == 136 { 2 } else { 1 };
                let mut new = opts.to_vec();
                new.extend_from_slice(&[t, 1]);
                new.extend_from_slice(&mac);
                p.replace_payload(py, F, &new)
            }
            (None, None) => Ok(()),
        }
    }
}

#[pymethods]
impl DestinationUnreachable {
    #[setter(unused)]
    fn set_unused(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "ICMP6DestinationUnreachable.unused", 4, 4, 0, 32, v, Opts::Plain)
    }
    #[classattr]
    const TYPE: &'static str = "ICMP6DestinationUnreachable";
    #[getter]
    fn unused(slf: &Bound<'_, Self>) -> u32 {
        hdr(slf).be32(4)
    }
}

#[pymethods]
impl PacketTooBig {
    #[setter(mtu)]
    fn set_mtu(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "ICMP6PacketTooBig.mtu", 4, 4, 0, 32, v, Opts::Plain)
    }
    #[classattr]
    const TYPE: &'static str = "ICMP6PacketTooBig";
    #[getter]
    fn mtu(slf: &Bound<'_, Self>) -> u32 {
        hdr(slf).be32(4)
    }
}

#[pymethods]
impl TimeExceeded {
    #[setter(unused)]
    fn set_unused(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "ICMP6TimeExceeded.unused", 4, 4, 0, 32, v, Opts::Plain)
    }
    #[classattr]
    const TYPE: &'static str = "ICMP6TimeExceeded";
    #[getter]
    fn unused(slf: &Bound<'_, Self>) -> u32 {
        hdr(slf).be32(4)
    }
}

#[pymethods]
impl ParameterProblem {
    #[setter(pointer)]
    fn set_pointer(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "ICMP6ParameterProblem.pointer", 4, 4, 0, 32, v, Opts::Plain)
    }
    #[classattr]
    const TYPE: &'static str = "ICMP6ParameterProblem";
    #[getter]
    fn pointer(slf: &Bound<'_, Self>) -> u32 {
        hdr(slf).be32(4)
    }
}

#[pymethods]
impl EchoRequest {
    #[classattr]
    const TYPE: &'static str = "ICMP6EchoRequest";
}

#[pymethods]
impl EchoReply {
    #[classattr]
    const TYPE: &'static str = "ICMP6EchoReply";
}

#[pymethods]
impl NeighbourSolicitation {
    #[classattr]
    const TYPE: &'static str = "ICMP6NeighbourSolicitation";
}

#[pymethods]
impl NeighbourAdvertisement {
    #[setter(flags)]
    fn set_flags(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "ICMP6NeighbourAdvertisement.flags", 4, 1, 5, 3, v, Opts::Flags(NA_FLAGS))
    }
    #[classattr]
    const TYPE: &'static str = "ICMP6NeighbourAdvertisement";
    #[classattr]
    #[pyo3(name = "FlagsOptions")]
    fn flags_options(py: Python<'_>) -> PyResult<Py<PyAny>> {
        table(py, NA_FLAGS)
    }
    /// The three flag bits: ROUTER 4, SOLICITED 2, OVERRIDE 1.
    #[getter]
    fn flags(slf: &Bound<'_, Self>) -> u8 {
        hdr(slf).u8(4) >> 5
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Icmp6>()?;
    m.add_class::<Error6>()?;
    m.add_class::<Echo6>()?;
    m.add_class::<Neighbour6>()?;
    m.add_class::<DestinationUnreachable>()?;
    m.add_class::<PacketTooBig>()?;
    m.add_class::<TimeExceeded>()?;
    m.add_class::<ParameterProblem>()?;
    m.add_class::<EchoRequest>()?;
    m.add_class::<EchoReply>()?;
    m.add_class::<NeighbourSolicitation>()?;
    m.add_class::<NeighbourAdvertisement>()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ll_option() {
        let o = [1, 1, 0, 0xe0, 0x29, 0x94, 0x49, 0x5d];
        assert_eq!(linklayer_addr(&o).as_deref(), Some("00:e0:29:94:49:5d"));
        assert_eq!(linklayer_addr(&[1, 0, 0, 0]), None);
        assert_eq!(linklayer_addr(&[5, 1, 0, 0, 0, 0, 0, 0, 1, 1, 1]), None);
    }
}
