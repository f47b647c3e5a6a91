//! `Protocol`, the base class of every protocol object, on the Rust side:
//! where the protocol sits in its packet and the bytes it views, the marker
//! and macros of the classes that extend it, and the headers quoted inside
//! ICMP errors. Its Python methods are in `proto_methods`.
//!
//! A protocol object holds its `Packet` and its located layer; each field
//! getter reads the packet's bytes when it is called.

use super::fields::H;
use super::layer::{Kind, Layer};
use super::stack::Packet;
use pyo3::prelude::*;

/// Kept here for the code that names it as `proto::class_name`.
pub use super::names::class_name;

/// `idx` of a protocol object that is not part of its packet's stack (the IP
/// header quoted inside an ICMP error).
pub const DETACHED: u8 = u8::MAX;

#[pyclass(subclass, frozen, module = "openbsd.packet", name = "Protocol")]
pub struct Protocol {
    pub(crate) pkt: Py<Packet>,
    pub(crate) idx: u8,
    /// The layer as located when the object was made (its kind is the
    /// object's class; see [`Protocol::layer`] for where it is now).
    pub(crate) made: Layer,
    /// The packet's change count when the object was made: while it is
    /// the same, `made` is where the layer is.
    pub(crate) gen: u32,
}

impl Protocol {
    pub fn new(pkt: Py<Packet>, idx: u8, layer: Layer, gen: u32) -> Self {
        Protocol { pkt, idx, made: layer, gen }
    }

    /// The layer this object views, as the packet locates it now (a change
    /// to the packet can move it): the packet's layer `idx` while it is of
    /// this object's kind, else the layer the object was made for (reads of
    /// it are bounds-checked; the quoted headers of ICMP errors, outside the
    /// stack, always use it).
    #[inline]
    pub fn layer(&self, py: Python<'_>) -> Layer {
        let pkt = self.pkt.get();
        if self.idx != DETACHED && pkt.generation(py) != self.gen {
            if let Some(l) = pkt.layers(py).get(self.idx as usize) {
                if l.kind == self.made.kind {
                    return *l;
                }
            }
        }
        self.made
    }

    /// The whole packet's bytes.
    pub fn data<'a>(&'a self, py: Python<'a>) -> &'a [u8] {
        self.pkt.get().bytes(py)
    }

    /// The packet's bytes from `start` to `end`, as far as the packet has
    /// them. A layer in the stack lies within the packet; a view of a layer
    /// that left the stack may not (the packet shrank under it), and then
    /// reads what is left, as its writes do (see `Protocol::put`).
    fn span<'a>(&'a self, py: Python<'a>, start: usize, end: usize) -> &'a [u8] {
        let data = self.data(py);
        data.get(start..end.min(data.len())).unwrap_or(&[])
    }

    /// This protocol's header bytes.
    pub fn hdr<'a>(&'a self, py: Python<'a>) -> H<'a> {
        let l = self.layer(py);
        H(self.span(py, l.hdr_start(), l.payload_start()))
    }

    /// This protocol's header and payload bytes.
    pub fn whole<'a>(&'a self, py: Python<'a>) -> H<'a> {
        let l = self.layer(py);
        H(self.span(py, l.hdr_start(), l.end()))
    }

    pub fn payload_bytes<'a>(&'a self, py: Python<'a>) -> &'a [u8] {
        let l = self.layer(py);
        self.span(py, l.payload_start(), l.end())
    }

    pub fn swapped(&self) -> bool {
        self.pkt.get().swapped
    }

    pub fn kind(&self) -> Kind {
        self.made.kind
    }
}

/// Marker for the pyclasses that extend [`Protocol`] (directly or through
/// `ICMP`/`ICMP6`/`_PFBase`), so their instances can be read as one.
///
/// # Safety
/// Only implement for classes whose base chain ends in `Protocol`.
pub unsafe trait IsProtocol: pyo3::PyClass {}

/// The `Protocol` part of a protocol object.
pub fn base<'a, T: IsProtocol>(slf: &'a Bound<'_, T>) -> &'a Protocol {
    // SAFETY: `T: IsProtocol` guarantees the object's layout begins with a
    // `Protocol` (pyo3 lays subclasses out after their base).
    unsafe { slf.as_any().cast_unchecked::<Protocol>() }.get()
}

/// The header bytes of a protocol object.
pub fn hdr<'a, T: IsProtocol>(slf: &'a Bound<'_, T>) -> H<'a> {
    base(slf).hdr(slf.py())
}

/// Declares a protocol class: a frozen pyclass extending `$base` (default
/// `Protocol`), marked as a protocol. Add `subclass` for classes that have
/// subclasses of their own.
macro_rules! protocol_class {
    ($(#[$m:meta])* $rust:ident, $name:literal) => {
        $(#[$m])*
        #[pyclass(frozen, extends = $crate::packet::proto::Protocol, module = "openbsd.packet", name = $name)]
        pub struct $rust;
        // SAFETY: extends Protocol.
        unsafe impl $crate::packet::proto::IsProtocol for $rust {}
    };
    ($(#[$m:meta])* $rust:ident, $name:literal, subclass) => {
        $(#[$m])*
        #[pyclass(subclass, frozen, extends = $crate::packet::proto::Protocol, module = "openbsd.packet", name = $name)]
        pub struct $rust;
        // SAFETY: extends Protocol.
        unsafe impl $crate::packet::proto::IsProtocol for $rust {}
    };
    ($(#[$m:meta])* $rust:ident, $name:literal, extends $base:ty) => {
        $(#[$m])*
        #[pyclass(frozen, extends = $base, module = "openbsd.packet", name = $name)]
        pub struct $rust;
        // SAFETY: $base extends Protocol.
        unsafe impl $crate::packet::proto::IsProtocol for $rust {}
    };
}
pub(crate) use protocol_class;

/// A new protocol object of class `$sub` (through the intermediate classes
/// listed before it) over `$base`.
macro_rules! new_object {
    ($py:expr, $base:expr, $($sub:expr),+) => {
        pyo3::Py::new($py, pyo3::PyClassInitializer::from($base)$(.add_subclass($sub))+)
            .map(|o| o.into_any())
    };
}
pub(crate) use new_object;

/// A protocol object for a header found inside `p`'s payload at absolute
/// offset `at` that is not part of the stack (the IP header quoted by an
/// ICMP error), or `None` when that header is not complete.
pub fn detached(py: Python<'_>, p: &Protocol, kind: Kind, at: usize) -> Option<Protocol> {
    let sub = p.data(py).get(at..p.layer(py).end())?;
    let l = *super::layer::locate(sub, kind).get(0)?;
    let at32 = at as u32;
    let layer = Layer { kind, off: l.off + at32, hlen: l.hlen, end: l.end + at32 };
    Some(Protocol::new(p.pkt.clone_ref(py), DETACHED, layer, 0))
}

/// The Python object for [`detached`], made by `object` (`ip::object` or
/// `ipv6::object`: the quoted headers are IP or IPv6), or `None`.
pub fn detached_object(
    py: Python<'_>,
    p: &Protocol,
    kind: Kind,
    at: usize,
    object: fn(Python<'_>, Protocol) -> PyResult<Py<PyAny>>,
) -> PyResult<Option<Py<PyAny>>> {
    match detached(py, p, kind, at) {
        Some(d) => object(py, d).map(Some),
        None => Ok(None),
    }
}
