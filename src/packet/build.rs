//! `createPacket(*classes)`: a new packet with the given stack of
//! protocols, each header with its defaults (IPv4 version 4, header length
//! 5, TTL 255; IPv6 version 6, hop limit 255; TCP data offset 5; ICMP and
//! ICMPv6 messages of the class's type; ARP an Ethernet/IPv4 request; DHCP a
//! BOOTREQUEST with the magic cookie), the fields that link one layer to the
//! next set (EtherType, IP protocol, IPv6 next header, address family), and
//! lengths and checksums valid.

use super::finalise::finalise;
use super::layer::{self, Kind, DHCP_LEN};
use super::names::{kind_of_class, type_names};
use super::stack::Packet;
use super::subtypes::{icmp, icmp6};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyTuple;

/// One requested protocol: its kind and, for ICMP/ICMPv6, the message type.
#[derive(Clone, Copy)]
struct Want {
    kind: Kind,
    sub: u8,
    name: &'static str,
}

fn ethertype(next: Option<Kind>) -> Option<u16> {
    match next {
        None => Some(0),
        Some(Kind::Ip) => Some(0x0800),
        Some(Kind::Ipv6) => Some(0x86DD),
        Some(Kind::Arp) => Some(0x0806),
        Some(Kind::Vlan) => Some(0x8100),
        Some(_) => None,
    }
}

fn ip_proto(next: Option<Kind>, v6: bool) -> Option<u8> {
    match next {
        None => Some(if v6 { 59 } else { 0xff }),
        Some(Kind::Ipv6HopByHop) if v6 => Some(0),
        // ICMP and IGMP are IPv4's, ICMPv6 is IPv6's (the decoder reads
        // them under either, as tshark does; a new packet gets them right).
        Some(Kind::Icmp) if !v6 => Some(1),
        Some(Kind::Igmp) if !v6 => Some(2),
        Some(Kind::Ip) => Some(4),
        Some(Kind::Tcp) => Some(6),
        Some(Kind::Udp) => Some(17),
        Some(Kind::Ipv6) => Some(41),
        Some(Kind::Ipv6Routing) if v6 => Some(43),
        Some(Kind::Ipv6Fragment) if v6 => Some(44),
        Some(Kind::Esp) => Some(50),
        Some(Kind::Ah) => Some(51),
        Some(Kind::Icmp6) if v6 => Some(58),
        Some(Kind::Ipv6DestOpts) if v6 => Some(60),
        Some(_) => None,
    }
}

fn family(next: Option<Kind>) -> Option<u32> {
    match next {
        None => Some(0),
        Some(Kind::Ip) => Some(2),
        Some(Kind::Ipv6) => Some(24),
        Some(_) => None,
    }
}

/// Whether the stack below an IP header is IPv6 (for AH/extension headers).
fn under_v6(stack: &[Want], i: usize) -> bool {
    stack
        .get(..i)
        .and_then(|s| s.iter().rev().find(|w| matches!(w.kind, Kind::Ip | Kind::Ipv6)))
        .is_some_and(|w| w.kind == Kind::Ipv6)
}

/// The header bytes of `w` followed by `next`; `None` when `next` cannot
/// follow it.
fn header(stack: &[Want], i: usize) -> Option<Vec<u8>> {
    let w = stack.get(i)?;
    let next = stack.get(i + 1).map(|n| n.kind);
    let mut h: Vec<u8>;
    match w.kind {
        Kind::Raw => return next.is_none().then(Vec::new),
        Kind::Ethernet => {
            h = vec![0; 14];
            h[12..14].copy_from_slice(&ethertype(next)?.to_be_bytes());
        }
        Kind::Vlan => {
            h = vec![0; 4];
            h[2..4].copy_from_slice(&ethertype(next)?.to_be_bytes());
        }
        Kind::Sll => {
            h = vec![0; 16];
            h[14..16].copy_from_slice(&ethertype(next)?.to_be_bytes());
        }
        Kind::Sll2 => {
            h = vec![0; 20];
            h[0..2].copy_from_slice(&ethertype(next)?.to_be_bytes());
        }
        Kind::Loopback => {
            // Network byte order, as OpenBSD's DLT_LOOP writes it (either
            // order is read back).
            h = family(next)?.to_be_bytes().to_vec();
        }
        Kind::Pf => {
            // The classic 48-byte pflog header (length 45).
            h = vec![0; 48];
            h[0] = 45;
            h[1] = family(next)? as u8;
        }
        Kind::PfOld => {
            h = vec![0; 28];
            h[0..4].copy_from_slice(&family(next)?.to_be_bytes());
        }
        Kind::Enc => {
            if !matches!(next, Some(Kind::Ip | Kind::Ipv6)) {
                return None;
            }
            h = vec![0; 12];
            // Host byte order, as enc(4) writes it.
            h[0..4].copy_from_slice(&family(next)?.to_ne_bytes());
        }
        Kind::Ip => {
            // Lengths are zero until `finalise` (zero reads as "all the data").
            h = vec![0x45, 0, 0, 0, 0, 0, 0, 0, 255, ip_proto(next, false)?, 0, 0];
            h.resize(20, 0);
        }
        Kind::Ipv6 => {
            h = vec![0x60, 0, 0, 0, 0, 0, ip_proto(next, true)?, 255];
            h.resize(40, 0);
        }
        Kind::Ipv6HopByHop | Kind::Ipv6Routing | Kind::Ipv6DestOpts | Kind::Ipv6Fragment => {
            h = vec![ip_proto(next, true)?, 0, 0, 0, 0, 0, 0, 0];
            if w.kind == Kind::Ipv6HopByHop || w.kind == Kind::Ipv6DestOpts {
                // One PadN option filling the 6 bytes.
                h[2] = 1;
                h[3] = 4;
            }
        }
        Kind::Ah => {
            h = vec![ip_proto(next, under_v6(stack, i))?, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        }
        Kind::Esp => {
            if next.is_some() {
                return None;
            }
            h = vec![0; 8];
        }
        Kind::Tcp => {
            if next.is_some() {
                return None;
            }
            h = vec![0; 20];
            h[12] = 5 << 4;
        }
        Kind::Udp => {
            h = vec![0; 8];
            match next {
                None => {}
                Some(Kind::Dhcp) => {
                    // BOOTP client to server.
                    h[0..4].copy_from_slice(&[0, 68, 0, 67]);
                }
                Some(_) => return None,
            }
        }
        Kind::Dhcp => {
            if next.is_some() {
                return None;
            }
            h = vec![0; DHCP_LEN];
            h[0] = 1; // BOOTREQUEST
            h[1] = 1; // Ethernet
            h[2] = 6;
            h[236..240].copy_from_slice(&0x6382_5363u32.to_be_bytes());
            // No options: just the end option.
            h.push(255);
        }
        Kind::Icmp => {
            if next.is_some() {
                return None;
            }
            h = vec![0; layer::icmp_header_len(w.sub)];
            h[0] = w.sub;
        }
        Kind::Icmp6 => {
            if next.is_some() {
                return None;
            }
            h = vec![0; layer::icmp6_header_len(w.sub)];
            h[0] = w.sub;
        }
        Kind::Igmp => {
            if next.is_some() {
                return None;
            }
            // A general membership query.
            h = vec![0x11, 100, 0, 0, 0, 0, 0, 0];
        }
        Kind::Arp => {
            if next.is_some() {
                return None;
            }
            h = vec![0, 1, 8, 0, 6, 4, 0, 1];
            h.resize(28, 0);
        }
    }
    Some(h)
}

fn want_of(klass: &Bound<'_, PyAny>) -> PyResult<Want> {
    let kind = kind_of_class(klass)?;
    let t: String = klass.getattr("TYPE")?.extract()?;
    let sub = match kind {
        // The base classes make echo requests.
        Kind::Icmp => icmp::subtype_by_name(&t).unwrap_or(8),
        Kind::Icmp6 => icmp6::subtype_by_name(&t).unwrap_or(128),
        _ => 0,
    };
    let name = match kind {
        Kind::Icmp => icmp::subtype_name(sub).unwrap_or("ICMP"),
        Kind::Icmp6 => icmp6::subtype_name(sub).unwrap_or("ICMP6"),
        k => type_names(k, 0).0,
    };
    Ok(Want { kind, sub, name })
}

/// The bytes of a new packet with the stack `stack`.
fn build(stack: &[Want]) -> PyResult<Vec<u8>> {
    let mut data = Vec::new();
    for i in 0..stack.len() {
        let Some(h) = header(stack, i) else {
            let (a, b) = (stack.get(i).map_or("", |w| w.name), stack.get(i + 1).map_or("", |w| w.name));
            return Err(PyValueError::new_err(if b.is_empty() {
                format!("createPacket: {a} cannot be the last protocol")
            } else {
                format!("createPacket: {b} cannot follow {a}")
            }));
        };
        data.extend_from_slice(&h);
    }
    Ok(data)
}

/// createPacket(*classes) -> Packet
///
/// A new packet with the given stack of protocol classes, outermost first,
/// e.g. `createPacket(Ethernet, IP, TCP)` or `createPacket(IP,
/// ICMPEchoRequest)`: linking fields set, defaults filled in, lengths and
/// checksums valid.
#[pyfunction]
#[pyo3(name = "createPacket", signature = (*classes))]
pub fn create_packet(classes: &Bound<'_, PyTuple>) -> PyResult<Packet> {
    if classes.is_empty() {
        return Err(PyTypeError::new_err("createPacket() needs at least one protocol class"));
    }
    let stack = classes.iter().map(|c| want_of(&c)).collect::<PyResult<Vec<_>>>()?;
    if stack.len() > layer::MAX_LAYERS {
        return Err(PyValueError::new_err(format!("createPacket: at most {} protocols", layer::MAX_LAYERS)));
    }
    let mut data = build(&stack)?;
    let first = stack.first().map_or(Kind::Raw, |w| w.kind);
    let layers = layer::locate(&data, first);
    // Every requested protocol must be found where it was put.
    let kinds: Vec<Kind> = layers.kinds().collect();
    let wanted: Vec<Kind> = stack.iter().map(|w| w.kind).collect();
    if kinds != wanted {
        let at = kinds.iter().zip(&wanted).take_while(|(a, b)| a == b).count();
        let a = stack.get(at.wrapping_sub(1)).map_or("", |w| w.name);
        let b = stack.get(at).map_or("", |w| w.name);
        return Err(PyValueError::new_err(format!("createPacket: {b} cannot follow {a}")));
    }
    finalise(&mut data, layers.as_slice());
    Ok(Packet::from_vec(data, first))
}
