//! Protocol names as lookups see them: `p["ip"]`, `"tcp" in p`,
//! `obj.isType("icmp")`.
//!
//! A name is turned once into a [`Query`] (the set of layer kinds whose class
//! or a base class has that TYPE, ASCII case-insensitively, or one ICMP/ICMP6
//! message type), and a layer then matches with a bit test. Queries of the
//! `str` objects a program passes are remembered by identity (string
//! literals are interned, so `p["ip"]` in a callback is the same object every
//! time): a lookup costs a pointer comparison, not a parse.

use super::layer::{Kind, Layer};
use super::names::{type_names, ALL_KINDS};
use super::subtypes::{icmp, icmp6};
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::PyString;
use std::cell::UnsafeCell;

/// What a protocol name matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Query {
    /// Layers whose kind's bit is set (`1 << kind as u32`).
    Kinds(u32),
    /// Layers of this kind (ICMP or ICMP6) whose message type is this.
    Subtype(Kind, u8),
    /// Layers of this kind whose message type is one of these two (the
    /// legacy `ICMPEcho` base class of echo requests and replies).
    Subtypes(Kind, u8, u8),
}

const fn bit(k: Kind) -> u32 {
    1 << k as u32
}

impl Query {
    /// The query for `name` (ASCII case-insensitive).
    pub fn parse(name: &str) -> Query {
        if "Protocol".eq_ignore_ascii_case(name) {
            return Query::Kinds(u32::MAX);
        }
        let mut mask = 0;
        for k in ALL_KINDS {
            let (own, base) = match k {
                Kind::Icmp => ("ICMP", ""),
                Kind::Icmp6 => ("ICMP6", ""),
                _ => type_names(k, 0),
            };
            if own.eq_ignore_ascii_case(name) || (!base.is_empty() && base.eq_ignore_ascii_case(name)) {
                mask |= bit(k);
            }
        }
        if mask != 0 {
            return Query::Kinds(mask);
        }
        // The legacy library's names that are not a class here: the base
        // class of both echo messages, and its misspelt TYPE of the address
        // mask request.
        if "ICMPEcho".eq_ignore_ascii_case(name) {
            return Query::Subtypes(Kind::Icmp, 8, 0);
        }
        if "ICMPAddressMarkRequest".eq_ignore_ascii_case(name) {
            return Query::Subtype(Kind::Icmp, 17);
        }
        if let Some(t) = icmp::subtype_by_name(name) {
            return Query::Subtype(Kind::Icmp, t);
        }
        if let Some(t) = icmp6::subtype_by_name(name) {
            return Query::Subtype(Kind::Icmp6, t);
        }
        Query::Kinds(0)
    }

    /// Whether layer `l` of `data` matches.
    #[inline]
    pub fn matches(&self, data: &[u8], l: &Layer) -> bool {
        match *self {
            Query::Kinds(m) => m & bit(l.kind) != 0,
            Query::Subtype(k, t) => l.kind == k && data.get(l.hdr_start()) == Some(&t),
            Query::Subtypes(k, a, b) => l.kind == k && matches!(data.get(l.hdr_start()), Some(&t) if t == a || t == b),
        }
    }

    /// The query of a Python string, remembered by identity.
    #[inline]
    pub fn of(name: &Bound<'_, PyString>) -> PyResult<Query> {
        let ptr = name.as_ptr();
        if let Some(q) = CACHE.get(ptr) {
            return Ok(q);
        }
        let q = Query::parse(name.to_str()?);
        CACHE.put(ptr, q);
        Ok(q)
    }
}

/// Whether the layer's class or one of its bases has TYPE `name`
/// (ASCII case-insensitively).
pub(crate) fn layer_matches(data: &[u8], l: &Layer, name: &str) -> bool {
    Query::parse(name).matches(data, l)
}

const SLOTS: usize = 16;

/// The last few names looked up. Each slot holds a strong reference to its
/// string, so a remembered pointer cannot be reused by another object.
/// Only touched with the GIL held (callers hold a `Bound`), so the cell is
/// never accessed concurrently.
struct Cache(UnsafeCell<([(*mut ffi::PyObject, Query); SLOTS], usize)>);

// SAFETY: see the type's documentation: all access is serialised by the GIL.
unsafe impl Sync for Cache {}

static CACHE: Cache = Cache(UnsafeCell::new(([(std::ptr::null_mut(), Query::Kinds(0)); SLOTS], 0)));

impl Cache {
    #[inline]
    fn get(&self, ptr: *mut ffi::PyObject) -> Option<Query> {
        // SAFETY: GIL held; read only.
        let (slots, _) = unsafe { &*self.0.get() };
        slots.iter().find(|(p, _)| *p == ptr).map(|(_, q)| *q)
    }

    fn put(&self, ptr: *mut ffi::PyObject, q: Query) {
        // SAFETY: GIL held; the evicted string's reference is released after
        // the slot no longer names it (its deallocation cannot re-enter us:
        // a str has no finaliser).
        unsafe {
            let (slots, next) = &mut *self.0.get();
            let old = std::mem::replace(&mut slots[*next], (ptr, q)).0;
            *next = (*next + 1) % SLOTS;
            ffi::Py_INCREF(ptr);
            if !old.is_null() {
                ffi::Py_DECREF(old);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_to_kinds() {
        assert_eq!(Query::parse("ip"), Query::Kinds(bit(Kind::Ip)));
        assert_eq!(Query::parse("TCP"), Query::Kinds(bit(Kind::Tcp)));
        assert_eq!(Query::parse("pf"), Query::Kinds(bit(Kind::Pf) | bit(Kind::PfOld)));
        assert_eq!(Query::parse("PFOld"), Query::Kinds(bit(Kind::PfOld)));
        assert_eq!(Query::parse("icmp"), Query::Kinds(bit(Kind::Icmp)));
        assert_eq!(Query::parse("icmpechorequest"), Query::Subtype(Kind::Icmp, 8));
        assert_eq!(Query::parse("ICMP6EchoReply"), Query::Subtype(Kind::Icmp6, 129));
        assert_eq!(Query::parse("protocol"), Query::Kinds(u32::MAX));
        assert_eq!(Query::parse("IcmpEcho"), Query::Subtypes(Kind::Icmp, 8, 0));
        assert_eq!(Query::parse("icmpaddressmarkrequest"), Query::Subtype(Kind::Icmp, 17));
        assert_eq!(Query::parse("nope"), Query::Kinds(0));
        assert_eq!(Query::parse(""), Query::Kinds(0));
    }
}
