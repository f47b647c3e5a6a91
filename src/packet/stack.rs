//! The `Packet` object's storage, without its Python methods (see
//! `packet_methods`): the captured bytes and the located stack of layers
//! ([`layer::locate`], one pass per packet, no allocation), and the decoding
//! of a feed's records into packets ([`decode_for_feed`]).
//!
//! A feed decodes into a packet its caller let go of ([`Packet::is_spare`]:
//! no other reference, no protocol object, no weak reference), with its
//! `bytes` from the feed's pool (`crate::py::recycle`): nothing is allocated per
//! packet when the callback keeps nothing.
//!
//! The bytes live behind [`Packet::bytes`] only, and every protocol object
//! reads through its packet; a change goes through [`Packet::modify`], which
//! locates the layers again.

use super::layer::{self, Kind, Layers};
use super::query::Query;
use crate::py::recycle::BytesPool;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
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
    pub(super) linktype: Option<i32>,
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
    pub(super) fn build(data: Bound<'_, PyBytes>, first: Kind, linktype: Option<i32>, swapped: bool) -> Packet {
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
    pub(crate) fn modify_field<R>(
        &self,
        py: Python<'_>,
        idx: usize,
        kind: Kind,
        f: impl FnOnce(&mut Vec<u8>, &Layers) -> R,
    ) -> R {
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

    /// Locates the layers again in the packet's current bytes (the Python
    /// `initialise`).
    pub(super) fn locate_again(&self, py: Python<'_>) {
        // SAFETY: see `state_mut`: no borrow of the state is alive here.
        let st = unsafe { self.state_mut(py) };
        let data = match &st.store {
            Store::Shared(b) => b.bind(py).as_bytes(),
            Store::Owned(v) => v.as_slice(),
        };
        st.layers = layer::locate(data, st.first);
    }
}
