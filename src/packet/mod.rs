//! `openbsd.packet`: decoded packets.
//!
//! A [`Packet`] owns the captured bytes and the located stack of layers
//! ([`layer::locate`], one pass per packet, no allocation). A lookup
//! (`p["ip"]`) makes a small protocol object that holds the packet and its
//! layer; its fields are read from the bytes when asked for. Names are
//! matched through [`query::Query`].
//!
//! This file only declares the modules, re-exports what the rest of the
//! crate uses (`crate::packet::{Packet, LinkInfo, decode_for_feed, ...}`),
//! registers the classes and holds [`exercise`]. Modules, from the bottom
//! up (each uses only modules before it; only the tests use this file):
//! - `layer` (locating the layers), `options`, `fields` (byte readers,
//!   address formatting, option tables), `subtypes` (the ICMP and ICMPv6
//!   message types with a class), `names` (class names and kinds), `query`
//!   (names as lookups see them);
//! - `stack` (the `Packet` struct and its storage, decoding a feed's
//!   records), `proto` (the `Protocol` base class), `write` (writing
//!   fields), `finalise` (lengths and checksums);
//! - one module per protocol family for the classes and their fields:
//!   `link`, `openbsd`, `ip`, `ipv6`, `icmp`, `icmp6`, `transport`, `dhcp`,
//!   `arp`, `ipsec`, `igmp`;
//! - `objects` (the protocol object of a layer), `repr`, `build`
//!   (`createPacket`), and the Python methods of the two base classes,
//!   `packet_methods` and `proto_methods`.
//!
//! Lifetimes: protocol objects refer to their packet and the packet refers
//! to none of them, so there are no reference cycles: a packet and its
//! objects are freed by reference counting as soon as the last of them goes,
//! and neither is a garbage-collected type. (Protocol objects are not cached:
//! `p["ip"]` twice gives two equal views of the same bytes.)

pub mod build;
pub mod fields;
pub mod finalise;
pub mod layer;
pub mod options;
pub mod proto;
pub mod query;

mod arp;
mod dhcp;
mod icmp;
mod icmp6;
mod igmp;
mod ip;
mod ipsec;
mod ipv6;
mod link;
mod names;
mod objects;
pub(crate) mod openbsd;
mod packet_methods;
mod proto_methods;
mod repr;
mod stack;
mod subtypes;
mod transport;
pub mod write;

use layer::Kind;
pub(crate) use names::kind_of_class;
pub use names::ALL_KINDS;
use proto::Protocol;
use pyo3::prelude::*;
pub use repr::{repr_of, repr_packet};
pub use stack::{decode_for_feed, LinkInfo, Packet};

/// Runs everything the decoder does that does not need Python over `data`,
/// starting with every protocol kind and every link type it knows, and
/// checks the located layers' invariants. Panics on a violated invariant;
/// for the fuzz target and the randomised tests.
pub fn exercise(data: &[u8]) {
    let dlts = [0, 1, 12, 13, 14, 17, 101, 108, 109, 113, 117, 228, 229, 276, 9999];
    for dlt in dlts {
        let _ = repr_packet(data, dlt, false);
        let _ = repr_packet(data, dlt, true);
    }
    for first in ALL_KINDS {
        let layers = layer::locate(data, first);
        // finalise() keeps the size, and a second one (after locating the
        // layers again, as the Packet does) changes nothing more.
        let mut once = data.to_vec();
        finalise::finalise(&mut once, layers.as_slice());
        assert_eq!(once.len(), data.len(), "finalise keeps the size");
        let again_layers = layer::locate(&once, first);
        let mut twice = once.clone();
        finalise::finalise(&mut twice, again_layers.as_slice());
        assert_eq!(twice, once, "finalise is idempotent");
        let mut bound = data.len();
        let mut next_off = 0usize;
        for l in layers.as_slice() {
            assert_eq!(l.hdr_start(), next_off, "layer starts where the previous header ended");
            assert!(l.payload_start() <= l.end(), "header within the layer");
            assert!(l.end() <= bound, "payload within the parent's");
            bound = l.end();
            next_off = l.payload_start();
            let _ = repr_of(data, l, false);
            let hdr = data.get(l.hdr_start()..l.payload_start()).unwrap_or(&[]);
            let payload = data.get(l.payload_start()..l.end()).unwrap_or(&[]);
            let _ = ip::split_options(hdr.get(20..).unwrap_or(&[]));
            let _ = transport::split_tcp_options(hdr.get(20..).unwrap_or(&[]));
            let _ = dhcp::split_dhcp_options(payload);
            let _ = icmp6::linklayer_addr(payload);
            // The quoted headers of ICMP errors.
            if let Some(q) = data.get(l.payload_start()..l.end()) {
                for k in [Kind::Ip, Kind::Ipv6] {
                    for ql in layer::locate(q, k).as_slice() {
                        assert!(ql.end() <= q.len());
                    }
                }
            }
        }
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Packet>()?;
    m.add_class::<Protocol>()?;
    m.add_function(wrap_pyfunction!(build::create_packet, m)?)?;
    m.add("ProtocolOptions", fields::table(m.py(), fields::PROTOCOLS)?)?;
    link::register(m)?;
    openbsd::register(m)?;
    ip::register(m)?;
    ipv6::register(m)?;
    icmp::register(m)?;
    icmp6::register(m)?;
    transport::register(m)?;
    dhcp::register(m)?;
    arp::register(m)?;
    ipsec::register(m)?;
    igmp::register(m)?;
    options::register(m)?;
    // Last: wraps fields of the classes registered above.
    options::install(m)?;
    Ok(())
}

#[cfg(test)]
mod tests;
