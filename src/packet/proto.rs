//! `Protocol`, the base class of every protocol object: where the protocol
//! sits in its packet, lookups inward from it, `payload`, `offset`,
//! `packet`, `isType`, `len`, `repr`.
//!
//! A protocol object holds its `Packet` and its located layer; each field
//! getter reads the packet's bytes when it is called.

use super::layer::{Kind, Layer};
use super::query::Query;
use super::{fields::H, Packet};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};

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

    /// The object of the layer `step` places from this one, or None.
    fn neighbour(&self, py: Python<'_>, step: isize) -> PyResult<Option<Py<PyAny>>> {
        if self.idx == DETACHED {
            return Ok(None);
        }
        let pkt = self.pkt.bind(py);
        match (self.idx as usize).checked_add_signed(step) {
            Some(i) if i < pkt.get().layers(py).len() => super::object_at(pkt, i).map(Some),
            _ => Ok(None),
        }
    }

    /// Where inward lookups from this object start.
    fn inner_start(&self) -> Option<usize> {
        (self.idx != DETACHED).then_some(self.idx as usize + 1)
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

#[pymethods]
impl Protocol {
    #[classattr]
    const TYPE: &'static str = "Protocol";

    fn __repr__(&self, py: Python<'_>) -> String {
        super::repr_layer(py, self.pkt.get(), &self.layer(py))
    }

    /// The first protocol *after* this one whose type (or base type) is
    /// `name`, case-insensitively.
    fn __getitem__(&self, py: Python<'_>, name: &Bound<'_, PyString>) -> PyResult<Py<PyAny>> {
        let q = Query::of(name)?;
        let pkt = self.pkt.bind(py);
        match self.inner_start().and_then(|s| pkt.get().find(py, &q, s)) {
            Some(i) => super::object_at(pkt, i),
            None => Err(super::no_such_protocol(name)),
        }
    }

    fn has_key(&self, py: Python<'_>, name: &Bound<'_, PyString>) -> PyResult<bool> {
        self.__contains__(py, name)
    }

    fn __contains__(&self, py: Python<'_>, name: &Bound<'_, PyString>) -> PyResult<bool> {
        let q = Query::of(name)?;
        Ok(self.inner_start().and_then(|s| self.pkt.get().find(py, &q, s)).is_some())
    }

    /// Two protocol objects are equal when they are the same layer of the
    /// same packet (each lookup makes a new object: `p["ip"] == p["ip"]`).
    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        match other.cast::<Protocol>() {
            Ok(o) => {
                let o = o.get();
                o.pkt.is(&self.pkt) && o.idx == self.idx && o.made == self.made
            }
            Err(_) => false,
        }
    }

    fn __hash__(&self) -> u64 {
        (self.pkt.as_ptr() as u64).rotate_left(8) ^ (self.made.hdr_start() as u64) ^ self.idx as u64
    }

    /// Number of protocols from this one to the innermost.
    fn __len__(&self, py: Python<'_>) -> usize {
        match self.inner_start() {
            Some(s) => self.pkt.get().layers(py).len().saturating_sub(s) + 1,
            None => 1,
        }
    }

    /// Whether this object's type (`TYPE`), or one of its base types, is
    /// `name`. It answers for the object's class: an ICMP object whose
    /// type field was changed since is still of the class it was made as
    /// (`p["icmp"]` gives one of the new class).
    #[pyo3(name = "isType")]
    fn is_type(slf: &Bound<'_, Self>, name: &str) -> PyResult<bool> {
        let kind = slf.get().made.kind;
        let own: String = slf.get_type().getattr("TYPE")?.extract()?;
        // The class's ICMP type number, as a one-byte header to match
        // against; the plain ICMP classes have none.
        let sub = match kind {
            Kind::Icmp => super::icmp::subtype_by_name(&own),
            Kind::Icmp6 => super::icmp6::subtype_by_name(&own),
            _ => None,
        };
        let data = sub.map(|t| vec![t]).unwrap_or_default();
        let layer = Layer { kind, off: 0, hlen: 0, end: 0 };
        Ok(super::layer_matches(&data, &layer, name))
    }

    /// Byte offset of this protocol's header in the packet.
    #[getter]
    fn offset(&self, py: Python<'_>) -> usize {
        self.layer(py).hdr_start()
    }

    /// The bytes after this protocol's header, bounded by what encloses it.
    #[getter]
    fn payload<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, self.payload_bytes(py))
    }

    /// Replaces the bytes after this protocol's header: the packet grows or
    /// shrinks, the enclosing length fields follow, and the protocols after
    /// this one are located again in the new bytes.
    #[setter]
    fn set_payload(&self, py: Python<'_>, value: &Bound<'_, PyAny>) -> PyResult<()> {
        let name = format!("{}.payload", class_name(self.made.kind));
        let new = super::write::bytes_arg(&name, value)?;
        self.replace_payload(py, &name, &new)
    }

    #[getter]
    fn packet(&self, py: Python<'_>) -> Py<Packet> {
        self.pkt.clone_ref(py)
    }

    /// The protocol after this one in the stack, or None (the legacy
    /// library's link, which some scripts follow).
    #[getter]
    fn _next(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        self.neighbour(py, 1)
    }

    /// _getProtoList() -> list: every protocol object of the packet,
    /// outermost first (the legacy helper; `packet.getProtoList()`).
    #[pyo3(name = "_getProtoList")]
    fn get_proto_list(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        Ok(self.pkt.bind(py).call_method0("getProtoList")?.unbind())
    }

    /// The protocol before this one in the stack, or None.
    #[getter]
    fn _prev(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        self.neighbour(py, -1)
    }

    /// _fixChecksums() -> None
    ///
    /// Recomputes this protocol's own checksum (none for protocols without
    /// one), leaving every other byte as it is (the legacy library's
    /// helper).
    #[pyo3(name = "_fixChecksums")]
    fn fix_checksums(&self, py: Python<'_>) -> PyResult<()> {
        if self.idx == DETACHED {
            return Err(pyo3::exceptions::PyValueError::new_err(
                "_fixChecksums: this header is not part of its packet's stack",
            ));
        }
        let i = self.idx as usize;
        self.pkt.get().modify(py, |d, layers| super::finalise::fix(d, layers.as_slice(), false, Some(i)));
        Ok(())
    }

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

/// The Python object for [`detached`], or `None`.
pub fn detached_object(py: Python<'_>, p: &Protocol, kind: Kind, at: usize) -> PyResult<Option<Py<PyAny>>> {
    match detached(py, p, kind, at) {
        Some(d) => {
            let first = p.data(py).get(d.made.hdr_start()).copied().unwrap_or(0);
            super::make_object(py, d, first).map(Some)
        }
        None => Ok(None),
    }
}

/// The class name of a layer kind in error messages ("ICMP" for every ICMP
/// message).
pub fn class_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Icmp => "ICMP",
        Kind::Icmp6 => "ICMP6",
        Kind::Ipv6DestOpts => "IPv6DestinationOptionsHeader",
        k => super::type_names(k, 0).0,
    }
}
