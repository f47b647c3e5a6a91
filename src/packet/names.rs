//! Protocol class names: the TYPE of each layer kind's class
//! ([`type_names`]), the kind of a class (`Packet(klass, ...)`, `pclass=`,
//! `createPacket`), and the names in error messages.

use super::layer::Kind;
use super::subtypes::{icmp, icmp6};
use pyo3::exceptions::{PyKeyError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::PyString;

/// The `KeyError` of a lookup that found nothing.
pub(crate) fn no_such_protocol(name: &Bound<'_, PyString>) -> PyErr {
    PyKeyError::new_err(format!("No such protocol: {}.", name.to_string_lossy()))
}

/// The TYPE of a layer's class followed by its base classes' TYPEs.
pub(crate) fn type_names(kind: Kind, first: u8) -> (&'static str, &'static str) {
    match kind {
        Kind::Raw => ("Raw", ""),
        Kind::Ethernet => ("Ethernet", ""),
        Kind::Vlan => ("VLAN", ""),
        Kind::Loopback => ("Loopback", ""),
        Kind::Sll => ("SLL", ""),
        Kind::Sll2 => ("SLL2", ""),
        Kind::Pf => ("PF", ""),
        Kind::PfOld => ("PFOld", "PF"),
        Kind::Enc => ("Enc", ""),
        Kind::Ip => ("IP", ""),
        Kind::Ipv6 => ("IPv6", ""),
        Kind::Ipv6HopByHop => ("IPv6HopByHopHeader", ""),
        Kind::Ipv6Routing => ("IPv6RoutingHeader", ""),
        Kind::Ipv6Fragment => ("IPv6FragmentHeader", ""),
        Kind::Ipv6DestOpts => ("IPv6DestinationOptions", ""),
        Kind::Icmp => (icmp::subtype_name(first).unwrap_or("ICMP"), "ICMP"),
        Kind::Icmp6 => (icmp6::subtype_name(first).unwrap_or("ICMP6"), "ICMP6"),
        Kind::Tcp => ("TCP", ""),
        Kind::Udp => ("UDP", ""),
        Kind::Dhcp => ("DHCP", ""),
        Kind::Arp => ("ARP", ""),
        Kind::Ah => ("AH", ""),
        Kind::Esp => ("ESP", ""),
        Kind::Igmp => ("IGMP", ""),
    }
}

/// Every layer kind.
pub const ALL_KINDS: [Kind; 24] = [
    Kind::Raw,
    Kind::Ethernet,
    Kind::Vlan,
    Kind::Loopback,
    Kind::Sll,
    Kind::Sll2,
    Kind::Pf,
    Kind::PfOld,
    Kind::Enc,
    Kind::Ip,
    Kind::Ipv6,
    Kind::Ipv6HopByHop,
    Kind::Ipv6Routing,
    Kind::Ipv6Fragment,
    Kind::Ipv6DestOpts,
    Kind::Icmp,
    Kind::Icmp6,
    Kind::Tcp,
    Kind::Udp,
    Kind::Dhcp,
    Kind::Arp,
    Kind::Ah,
    Kind::Esp,
    Kind::Igmp,
];

/// The layer kind of a protocol class, from its TYPE.
pub(crate) fn kind_of_class(klass: &Bound<'_, PyAny>) -> PyResult<Kind> {
    let t = klass.getattr("TYPE").map_err(|_| PyTypeError::new_err("not a protocol class"))?;
    let t: String = t.extract()?;
    // ICMP kinds are named after their subtype by `type_names`; they are
    // matched by the TYPE names below instead.
    let mut plain = ALL_KINDS.into_iter().filter(|k| !matches!(k, Kind::Icmp | Kind::Icmp6));
    if let Some(k) = plain.find(|&k| type_names(k, 0).0 == t) {
        return Ok(k);
    }
    if t == "ICMP" || icmp::is_subtype_name(&t) {
        return Ok(Kind::Icmp);
    }
    if t == "ICMP6" || icmp6::is_subtype_name(&t) {
        return Ok(Kind::Icmp6);
    }
    Err(PyTypeError::new_err(format!("cannot decode a packet starting with {t}")))
}

/// The class name of a layer kind in error messages ("ICMP" for every ICMP
/// message).
pub fn class_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Icmp => "ICMP",
        Kind::Icmp6 => "ICMP6",
        Kind::Ipv6DestOpts => "IPv6DestinationOptionsHeader",
        k => type_names(k, 0).0,
    }
}
