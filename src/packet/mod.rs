//! `openbsd.packet`: decoded packets.
//!
//! A [`Packet`] owns the captured bytes and the located stack of layers
//! ([`layer::locate`], one pass per packet, no allocation). A lookup
//! (`p["ip"]`) makes a small protocol object that holds the packet and its
//! layer; its fields are read from the bytes when asked for. Names are
//! matched through [`query::Query`].
//!
//! Modules: `layer` (locating), `proto` (the `Protocol` base class), `fields`
//! (byte readers, address formatting, option tables) and one module per
//! protocol family for the classes and their fields: `link`, `openbsd`,
//! `ip`, `ipv6`, `icmp`, `icmp6`, `transport`, `dhcp`, `arp`, `ipsec`,
//! `igmp`.
//!
//! Lifetimes: protocol objects refer to their packet and the packet refers
//! to none of them, so there are no reference cycles: a packet and its
//! objects are freed by reference counting as soon as the last of them goes,
//! and neither is a garbage-collected type. (Protocol objects are not cached:
//! `p["ip"]` twice gives two equal views of the same bytes.)
//!
//! A feed decodes into a packet its caller let go of ([`Packet::is_spare`]:
//! no other reference, no protocol object, no weak reference), with its
//! `bytes` from the feed's pool (`crate::py::recycle`): nothing is allocated per
//! packet when the callback keeps nothing.
//!
//! Design for writable packets (next issue): the bytes live behind
//! [`Packet::bytes`] only, and every protocol object reads through its
//! packet, so making the storage mutable and re-running `layer::locate`
//! after a change touches this module and `proto` only.

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
mod openbsd;
mod transport;
pub mod write;

use fields::H;
use layer::{Kind, Layer, Layers};
use proto::Protocol;
use query::Query;
use pyo3::exceptions::{PyKeyError, PyTypeError};
use pyo3::prelude::*;
use crate::py::recycle::BytesPool;
use pyo3::types::{PyBytes, PyList, PyString};
use std::cell::UnsafeCell;

/// What a feed knows about the link layer of the packets it hands out.
#[derive(Clone, Copy, Debug)]
pub struct LinkInfo {
    /// The feed's `datalink()`.
    pub dlt: i32,
    /// Whether the capture file's byte order differs from this machine's
    /// (for fields stored in the capturing host's order, like `Enc`'s).
    pub swapped: bool,
    /// The protocol to decode from instead of the link type's (the `pclass`
    /// argument of `loop`/`dispatch`).
    pub first: Option<Kind>,
    /// Whether timestamps are `(sec, nsec)` (a feed opened with
    /// `precision="nano"`): they stay plain tuples, `Timestamp` is for
    /// microseconds.
    pub nano: bool,
}

/// Decodes one packet handed out by a feed with `interpret` true, into
/// `spare` (a packet of the same feed nobody else refers to any more, see
/// [`Packet::is_spare`]) when there is one, else into a new packet. The
/// packet's `bytes` come from `pool`, and the bytes of a reused packet go
/// back to it.
pub fn decode_for_feed<'py>(
    py: Python<'py>,
    data: &[u8],
    link: &LinkInfo,
    pool: &mut BytesPool,
    spare: Option<Bound<'py, Packet>>,
) -> PyResult<Bound<'py, PyAny>> {
    let first = match link.first {
        Some(k) => k,
        None => layer::first_kind(link.dlt, data),
    };
    let bytes = pool.bytes(py, data)?;
    // SAFETY: `BytesPool::bytes` gives an exact `bytes` object.
    let bytes = unsafe { bytes.cast_into_unchecked::<PyBytes>() };
    if let Some(pkt) = spare {
        let p = pkt.get();
        if p.linktype == Some(link.dlt) && p.swapped == link.swapped {
            // SAFETY: a spare packet is referred to by `pkt` alone (no
            // protocol object, no weak reference: `is_spare`), so no borrow of
            // its state exists and nobody can see it change.
            let st = unsafe { p.state_mut(py) };
            let data = bytes.as_bytes();
            (st.ptr, st.len) = (data.as_ptr(), data.len());
            layer::locate_into(&mut st.layers, data, first);
            (st.gen, st.modified, st.first) = (0, false, first);
            let old = std::mem::replace(&mut st.store, Store::Shared(bytes.unbind()));
            if let Store::Shared(b) = old {
                pool.give_back(b.into_bound(py).into_any());
            }
            return Ok(pkt.into_any());
        }
    }
    Ok(Bound::new(py, Packet::build(bytes, first, Some(link.dlt), link.swapped))?.into_any())
}

/// A decoded packet: a stack of protocol objects looked up by name.
///
/// `Packet(klass, data)` decodes `data` starting with protocol class
/// `klass`; `p["ip"]`, `p.has_key("tcp")`, `"udp" in p`, `p.getProtoList()`,
/// `p.getRaw()`/`bytes(p)`, `len(p)`.
#[pyclass(frozen, weakref, module = "openbsd.packet", name = "Packet")]
pub struct Packet {
    /// The bytes and the located layers. Only touched with the GIL held
    /// (every accessor takes a `Python` token and the module is not
    /// free-threaded), so never concurrently; see [`Packet::state_mut`] for
    /// the rule that keeps shared borrows and writes apart.
    state: UnsafeCell<State>,
    linktype: Option<i32>,
    pub(crate) swapped: bool,
}

// SAFETY: the `UnsafeCell` is only accessed through methods that take a
// `Python` token, i.e. with the GIL held (the module does not declare itself
// free-threaded), so accesses are serialised.
unsafe impl Sync for Packet {}
// SAFETY: the only non-`Send` part is `State::ptr`, which points into the
// buffer the same `State` owns (a `bytes` object or a `Vec`), wherever the
// packet goes.
unsafe impl Send for Packet {}

/// Where a packet's bytes live: the `bytes` object it was decoded from
/// (shared with the feed, no copy), or, once modified, a buffer of its own.
enum Store {
    Shared(Py<PyBytes>),
    Owned(Vec<u8>),
}

struct State {
    store: Store,
    /// Where `store`'s bytes are (kept in step with it: reading a `bytes`
    /// object's data takes two calls into Python's C API).
    ptr: *const u8,
    len: usize,
    /// Counts the changes that located the layers again (protocol objects
    /// made before the last one look their layer up again).
    gen: u32,
    layers: Layers,
    /// Whether any field was set since the packet was decoded or built.
    modified: bool,
    /// The protocol the packet starts with (for re-locating after a change).
    first: Kind,
}

impl State {
    /// The state of a packet decoded from `data`.
    fn shared(data: Bound<'_, PyBytes>, first: Kind) -> State {
        let bytes = data.as_bytes();
        let layers = layer::locate(bytes, first);
        let (ptr, len) = (bytes.as_ptr(), bytes.len());
        State { store: Store::Shared(data.unbind()), ptr, len, gen: 0, layers, modified: false, first }
    }
}

impl Packet {
    fn build(
        data: Bound<'_, PyBytes>,
        first: Kind,
        linktype: Option<i32>,
        swapped: bool,
    ) -> Packet {
        Packet { state: UnsafeCell::new(State::shared(data, first)), linktype, swapped }
    }

    /// Whether `obj` is a packet only its holder (our reference) refers to:
    /// no other reference, no protocol object (each holds its packet), no
    /// weak reference. Such a packet can be decoded into again without
    /// anyone seeing it change.
    pub(crate) fn is_spare(obj: &Bound<'_, PyAny>) -> bool {
        let p = obj.as_ptr();
        // SAFETY: reading the reference count, type and weak reference list
        // of a live object; the list is at the type's weaklist offset.
        unsafe {
            if pyo3::ffi::Py_REFCNT(p) != 1 {
                return false;
            }
            let ty = pyo3::ffi::Py_TYPE(p);
            if ty != <Packet as pyo3::PyTypeInfo>::type_object_raw(obj.py()) {
                return false;
            }
            let off = (*ty).tp_weaklistoffset;
            off > 0 && (*p.cast::<u8>().offset(off).cast::<*mut pyo3::ffi::PyObject>()).is_null()
        }
    }

    /// A packet over bytes of its own (built by `createPacket`).
    pub(crate) fn from_vec(data: Vec<u8>, first: Kind) -> Packet {
        let layers = layer::locate(&data, first);
        let (ptr, len) = (data.as_ptr(), data.len());
        let state = State { store: Store::Owned(data), ptr, len, gen: 0, layers, modified: false, first };
        Packet { state: UnsafeCell::new(state), linktype: None, swapped: false }
    }

    #[inline]
    fn state<'a>(&'a self, _py: Python<'a>) -> &'a State {
        // SAFETY: GIL held (the token); writes happen only in
        // `state_mut`, whose callers hold no borrow from this one.
        unsafe { &*self.state.get() }
    }

    /// The state, for writing.
    ///
    /// # Safety
    /// No reference obtained from [`Packet::bytes`], [`Packet::layers`] or
    /// `state` may be alive while the returned one is used. Writers (setters,
    /// `finalise`) convert their Python arguments first, then call this, and
    /// run no Python code until they drop it; readers never run Python code
    /// that could reach a writer while they hold the bytes (the getters that
    /// build lists copy what they need first).
    #[allow(clippy::mut_from_ref)]
    unsafe fn state_mut<'a>(&'a self, _py: Python<'a>) -> &'a mut State {
        unsafe { &mut *self.state.get() }
    }

    /// The packet's bytes.
    #[inline]
    pub fn bytes<'a>(&'a self, py: Python<'a>) -> &'a [u8] {
        let st = self.state(py);
        // SAFETY: `ptr`/`len` describe the buffer `store` holds now (set
        // with it in `build`, `from_vec` and `modify`): a `bytes` object's
        // data (immutable, alive while held) or the `Vec`'s (not touched
        // until the next `modify`, see `state_mut`). Both are non-null.
        unsafe { std::slice::from_raw_parts(st.ptr, st.len) }
    }

    /// The change count (see `State::gen`).
    #[inline]
    pub(crate) fn generation(&self, py: Python<'_>) -> u32 {
        self.state(py).gen
    }

    /// The located layers.
    #[inline]
    pub(crate) fn layers<'a>(&'a self, py: Python<'a>) -> &'a Layers {
        &self.state(py).layers
    }

    /// Whether a field was set since the packet was decoded or built.
    pub(crate) fn is_modified(&self, py: Python<'_>) -> bool {
        self.state(py).modified
    }

    /// Applies `f` to the packet's bytes (copied into a buffer of the
    /// packet's own on the first change), marks the packet modified and
    /// re-locates its layers. `f` must not run Python code.
    pub(crate) fn modify<R>(&self, py: Python<'_>, f: impl FnOnce(&mut Vec<u8>, &Layers) -> R) -> R {
        // SAFETY: see `state_mut`: callers hold no borrow of the state, and
        // `f` is plain Rust.
        let st = unsafe { self.state_mut(py) };
        // Dropping a shared bytes object (a refcount decrement) runs no
        // Python code: bytes have no finaliser.
        let mut v = match std::mem::replace(&mut st.store, Store::Owned(Vec::new())) {
            Store::Shared(b) => b.bind(py).as_bytes().to_vec(),
            Store::Owned(v) => v,
        };
        let r = f(&mut v, &st.layers);
        st.layers = layer::locate(&v, st.first);
        (st.ptr, st.len) = (v.as_ptr(), v.len());
        st.store = Store::Owned(v);
        st.gen = st.gen.wrapping_add(1);
        st.modified = true;
        r
    }

    /// [`Packet::modify`] for a change of a field of layer `idx` (of kind
    /// `kind`) that keeps the packet's size. When the new value no longer
    /// parses as that layer (a TCP data offset past the data, an IP version
    /// of 6), the layers stay where they were, so that the layer does not
    /// vanish and reads give back the value set, as in the legacy library
    /// (which never located its layers again after a field was set).
    pub(crate) fn modify_field<R>(&self, py: Python<'_>, idx: usize, kind: Kind, f: impl FnOnce(&mut Vec<u8>, &Layers) -> R) -> R {
        let before = *self.layers(py);
        let r = self.modify(py, f);
        let kept = self.layers(py).get(idx).map(|l| l.kind) == Some(kind);
        if !kept && before.get(idx).map(|l| l.kind) == Some(kind) {
            // SAFETY: see `state_mut`: no borrow of the state is alive here.
            unsafe { self.state_mut(py) }.layers = before;
        }
        r
    }

    /// The packet's bytes as a `bytes` object (the one it was decoded from
    /// while unmodified).
    pub(crate) fn raw(&self, py: Python<'_>) -> Py<PyBytes> {
        match &self.state(py).store {
            Store::Shared(b) => b.clone_ref(py),
            Store::Owned(v) => PyBytes::new(py, v).unbind(),
        }
    }

    /// Clears the modified flag (after `finalise`, or building).
    pub(crate) fn set_modified(&self, py: Python<'_>, m: bool) {
        // SAFETY: see `state_mut`.
        unsafe { self.state_mut(py) }.modified = m;
    }

    /// Index of the first layer at or after `start` matching `q`.
    #[inline]
    pub(crate) fn find(&self, py: Python<'_>, q: &Query, start: usize) -> Option<usize> {
        let data = self.bytes(py);
        let layers = self.layers(py).as_slice();
        let found = layers.get(start..)?.iter().position(|l| q.matches(data, l));
        found.map(|i| i + start)
    }

    fn repr_string(&self, py: Python<'_>) -> String {
        let mut out = String::new();
        for l in self.layers(py).as_slice() {
            let s = repr_layer(py, self, l);
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
}

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
        Kind::Raw | Kind::Ethernet | Kind::Vlan | Kind::Loopback | Kind::Sll | Kind::Sll2 => {
            link::object(py, base)
        }
        Kind::Pf | Kind::PfOld | Kind::Enc => openbsd::object(py, base),
        Kind::Ip => ip::object(py, base),
        Kind::Ipv6 | Kind::Ipv6HopByHop | Kind::Ipv6Routing | Kind::Ipv6Fragment
        | Kind::Ipv6DestOpts => ipv6::object(py, base),
        Kind::Icmp => icmp::object(py, base, first),
        Kind::Icmp6 => icmp6::object(py, base, first),
        Kind::Tcp | Kind::Udp => transport::object(py, base),
        Kind::Dhcp => dhcp::object(py, base),
        Kind::Arp => arp::object(py, base),
        Kind::Ah | Kind::Esp => ipsec::object(py, base),
        Kind::Igmp => igmp::object(py, base),
    }
}

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

/// Whether the layer's class or one of its bases has TYPE `name`
/// (ASCII case-insensitively).
pub(crate) fn layer_matches(data: &[u8], l: &Layer, name: &str) -> bool {
    Query::parse(name).matches(data, l)
}

/// The repr of one layer, without brackets (empty for Loopback).
pub(crate) fn repr_layer(py: Python<'_>, p: &Packet, l: &Layer) -> String {
    repr_of(p.bytes(py), l, p.swapped)
}

/// The repr of layer `l` of `data` (pure: no Python involved).
pub fn repr_of(data: &[u8], l: &Layer, swapped: bool) -> String {
    let hdr = H(data.get(l.hdr_start()..l.payload_start()).unwrap_or(&[]));
    match l.kind {
        Kind::Raw | Kind::Ethernet | Kind::Vlan | Kind::Loopback | Kind::Sll | Kind::Sll2 => {
            link::repr(l.kind, hdr)
        }
        Kind::Pf | Kind::PfOld | Kind::Enc => openbsd::repr(l.kind, hdr, swapped),
        Kind::Ip => ip::repr(hdr),
        Kind::Ipv6 | Kind::Ipv6HopByHop | Kind::Ipv6Routing | Kind::Ipv6Fragment
        | Kind::Ipv6DestOpts => ipv6::repr(l.kind, hdr),
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
    let mut out = String::new();
    for l in layers.as_slice() {
        let s = repr_of(data, l, swapped);
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

#[pymethods]
impl Packet {
    /// `_initialise` (legacy: whether to decode at once) is accepted and
    /// ignored: the layers are always located.
    #[new]
    #[pyo3(signature = (klass, data, _initialise = None))]
    fn py_new(
        py: Python<'_>,
        klass: &Bound<'_, PyAny>,
        data: &Bound<'_, PyAny>,
        _initialise: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let kind = kind_of_class(klass)?;
        let bytes = match data.cast::<PyBytes>() {
            Ok(b) => b.clone(),
            Err(_) => {
                let b = py.get_type::<PyBytes>().call1((data,))?;
                b.cast_into::<PyBytes>()?
            }
        };
        Ok(Packet::build(bytes, kind, None, false))
    }

    /// The first protocol of the stack whose type (or a base type) is `name`.
    fn __getitem__(slf: &Bound<'_, Self>, name: &Bound<'_, PyString>) -> PyResult<Py<PyAny>> {
        match slf.get().find(slf.py(), &Query::of(name)?, 0) {
            Some(i) => object_at(slf, i),
            None => Err(no_such_protocol(name)),
        }
    }

    fn has_key(&self, py: Python<'_>, name: &Bound<'_, PyString>) -> PyResult<bool> {
        Ok(self.find(py, &Query::of(name)?, 0).is_some())
    }

    fn __contains__(&self, py: Python<'_>, name: &Bound<'_, PyString>) -> PyResult<bool> {
        Ok(self.find(py, &Query::of(name)?, 0).is_some())
    }

    /// The protocol objects, outermost first.
    #[pyo3(name = "getProtoList")]
    fn get_proto_list<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyList>> {
        let n = slf.get().layers(slf.py()).len();
        let objs = (0..n).map(|i| object_at(slf, i)).collect::<PyResult<Vec<_>>>()?;
        PyList::new(slf.py(), objs)
    }

    /// The packet's bytes.
    #[pyo3(name = "getRaw")]
    fn get_raw(&self, py: Python<'_>) -> Py<PyBytes> {
        self.raw(py)
    }

    fn __bytes__(&self, py: Python<'_>) -> Py<PyBytes> {
        self.raw(py)
    }

    fn __len__(&self, py: Python<'_>) -> usize {
        self.bytes(py).len()
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        self.repr_string(py)
    }

    /// The outermost protocol object (the legacy name; the same as
    /// `getProtoList()[0]`).
    #[getter]
    fn protostack(slf: &Bound<'_, Self>) -> PyResult<Py<PyAny>> {
        object_at(slf, 0)
    }

    /// The outermost protocol's payload (everything after its header);
    /// assigning replaces it, as `p.protostack.payload = ...` does.
    #[getter]
    fn payload(slf: &Bound<'_, Self>) -> PyResult<Py<PyAny>> {
        Ok(object_at(slf, 0)?.bind(slf.py()).getattr("payload")?.unbind())
    }

    #[setter]
    fn set_payload(slf: &Bound<'_, Self>, value: &Bound<'_, PyAny>) -> PyResult<()> {
        object_at(slf, 0)?.bind(slf.py()).setattr("payload", value)
    }

    /// The DLT the packet was read with (None when built by hand).
    #[getter]
    fn linktype(&self) -> Option<i32> {
        self.linktype
    }

    /// finalise() -> None
    ///
    /// Recomputes every length field (IP total length, IPv6 payload
    /// length, UDP length, pflog header length) and every checksum (IPv4
    /// header, TCP, UDP, ICMP, ICMPv6, IGMP), inner protocols first. A
    /// packet with no field set since it was decoded or built is left as
    /// it is, byte for byte.
    fn finalise(&self, py: Python<'_>) {
        if !self.is_modified(py) {
            return;
        }
        self.modify(py, |d, layers| finalise::finalise(d, layers.as_slice()));
        // Lengths may have moved layer ends: locate once more and finalise
        // what that changed (a no-op when nothing moved).
        self.modify(py, |d, layers| finalise::finalise(d, layers.as_slice()));
        self.set_modified(py, false);
    }

    /// _fixChecksums() -> None
    ///
    /// Recomputes every checksum, inner protocols first, and leaves the
    /// length fields as they are (the legacy library's helper, which some
    /// scripts call; `finalise()` does lengths and checksums).
    #[pyo3(name = "_fixChecksums")]
    fn fix_checksums(&self, py: Python<'_>) {
        self.modify(py, |d, layers| finalise::fix(d, layers.as_slice(), false, None));
    }

    /// finalize() -> None: the same as `finalise()`.
    fn finalize(&self, py: Python<'_>) {
        self.finalise(py)
    }

    /// initialise() -> None
    ///
    /// Locates the protocols again in the packet's current bytes (the
    /// legacy library's re-decode). Every change already does this, so it
    /// changes nothing; kept for legacy scripts.
    fn initialise(&self, py: Python<'_>) {
        // SAFETY: see `state_mut`: no borrow of the state is alive here.
        let st = unsafe { self.state_mut(py) };
        let data = match &st.store {
            Store::Shared(b) => b.bind(py).as_bytes(),
            Store::Owned(v) => v.as_slice(),
        };
        st.layers = layer::locate(data, st.first);
    }

    /// initialize() -> None: the same as `initialise()`.
    fn initialize(&self, py: Python<'_>) {
        self.initialise(py)
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
