//! The repr of packets and protocol objects: `[Ethernet ...] [IP ...]`, one
//! bracketed part per layer (none for Loopback), each written by its
//! protocol's module from the header bytes.

use super::fields::H;
use super::layer::{self, Kind, Layer};
use super::stack::Packet;
use super::{arp, icmp, icmp6, ip, ipv6, link, openbsd, transport};
use pyo3::prelude::*;

/// The repr of one layer, without brackets (empty for Loopback).
pub(crate) fn repr_layer(py: Python<'_>, p: &Packet, l: &Layer) -> String {
    repr_of(p.bytes(py), l, p.swapped)
}

/// The repr of layer `l` of `data` (pure: no Python involved).
pub fn repr_of(data: &[u8], l: &Layer, swapped: bool) -> String {
    let hdr = H(data.get(l.hdr_start()..l.payload_start()).unwrap_or(&[]));
    match l.kind {
        Kind::Raw | Kind::Ethernet | Kind::Vlan | Kind::Loopback | Kind::Sll | Kind::Sll2 => link::repr(l.kind, hdr),
        Kind::Pf | Kind::PfOld | Kind::Enc => openbsd::repr(l.kind, hdr, swapped),
        Kind::Ip => ip::repr(hdr),
        Kind::Ipv6 | Kind::Ipv6HopByHop | Kind::Ipv6Routing | Kind::Ipv6Fragment | Kind::Ipv6DestOpts => {
            ipv6::repr(l.kind, hdr)
        }
        Kind::Icmp => icmp::repr(hdr.u8(0)),
        Kind::Icmp6 => icmp6::repr(hdr.u8(0)),
        Kind::Tcp | Kind::Udp => transport::repr(l.kind, hdr),
        Kind::Dhcp => "DHCP".to_owned(),
        Kind::Arp => arp::repr(hdr),
        Kind::Ah => "AH".to_owned(),
        Kind::Esp => "ESP".to_owned(),
        Kind::Igmp => "IGMP".to_owned(),
    }
}

/// The repr of a whole packet of `data` read with link type `dlt` (pure; for
/// tests and fuzzing).
pub fn repr_packet(data: &[u8], dlt: i32, swapped: bool) -> String {
    let layers = layer::locate(data, layer::first_kind(dlt, data));
    bracketed(layers.as_slice().iter().map(|l| repr_of(data, l, swapped)))
}

impl Packet {
    /// The repr of the whole packet (`Packet.__repr__`).
    pub(super) fn repr_string(&self, py: Python<'_>) -> String {
        bracketed(self.layers(py).as_slice().iter().map(|l| repr_layer(py, self, l)))
    }
}

/// The layers' reprs, each in brackets, separated by spaces; empty ones
/// (Loopback's) left out.
fn bracketed(reprs: impl Iterator<Item = String>) -> String {
    let mut out = String::new();
    for s in reprs {
        if !s.is_empty() {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push('[');
            out.push_str(&s);
            out.push(']');
        }
    }
    out
}
