//! The factory of protocol objects: the class of a located layer (and, for
//! ICMP and ICMPv6, of its message type), made by its protocol's module.

use super::layer::Kind;
use super::proto::Protocol;
use super::stack::Packet;
use super::{arp, dhcp, icmp, icmp6, igmp, ip, ipsec, ipv6, link, openbsd, transport};
use pyo3::exceptions::PyKeyError;
use pyo3::prelude::*;

/// A new protocol object for layer `i` of `pkt`.
pub(crate) fn object_at(pkt: &Bound<'_, Packet>, i: usize) -> PyResult<Py<PyAny>> {
    let py = pkt.py();
    let p = pkt.get();
    let Some(&l) = p.layers(py).get(i) else {
        return Err(PyKeyError::new_err("no such layer"));
    };
    let base = Protocol::new(pkt.clone().unbind(), i as u8, l, p.generation(py));
    // The type byte is read first: making the object runs Python code
    // (allocation), during which no borrow of the bytes is held.
    let first = p.bytes(py).get(l.hdr_start()).copied().unwrap_or(0);
    make_object(py, base, first)
}

/// A protocol object of the class its layer (and, for ICMP, type) calls for.
/// `first` is the first byte of its header (the ICMP/ICMPv6 type).
pub(crate) fn make_object(py: Python<'_>, base: Protocol, first: u8) -> PyResult<Py<PyAny>> {
    let l = base.made;
    match l.kind {
        Kind::Raw | Kind::Ethernet | Kind::Vlan | Kind::Loopback | Kind::Sll | Kind::Sll2 => link::object(py, base),
        Kind::Pf | Kind::PfOld | Kind::Enc => openbsd::object(py, base),
        Kind::Ip => ip::object(py, base),
        Kind::Ipv6 | Kind::Ipv6HopByHop | Kind::Ipv6Routing | Kind::Ipv6Fragment | Kind::Ipv6DestOpts => {
            ipv6::object(py, base)
        }
        Kind::Icmp => icmp::object(py, base, first),
        Kind::Icmp6 => icmp6::object(py, base, first),
        Kind::Tcp | Kind::Udp => transport::object(py, base),
        Kind::Dhcp => dhcp::object(py, base),
        Kind::Arp => arp::object(py, base),
        Kind::Ah | Kind::Esp => ipsec::object(py, base),
        Kind::Igmp => igmp::object(py, base),
    }
}
