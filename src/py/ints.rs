//! Shared Python ints for 16-bit values (packet lengths): each value
//! is made once, on first use, and then handed out again, saving an
//! allocation and a free per packet in the hot paths. CPython itself only
//! shares -5..=256.

use pyo3::prelude::*;
use std::cell::UnsafeCell;

/// One slot per 16-bit value; filled lazily. Only touched with the GIL held
/// (callers pass a `Python` token), so never concurrently.
struct Table(UnsafeCell<[Option<Py<PyAny>>; 1 << 16]>);

// SAFETY: see the type's documentation: all access is serialised by the GIL.
unsafe impl Sync for Table {}

static TABLE: Table = Table(UnsafeCell::new([const { None }; 1 << 16]));

/// `v` as a Python int.
#[inline]
pub fn u16_int(py: Python<'_>, v: u16) -> Bound<'_, PyAny> {
    // SAFETY: GIL held (the token); the slot is read or filled, and no other
    // reference into the table lives across this block.
    unsafe {
        let slot = &mut (*TABLE.0.get())[v as usize];
        if let Some(o) = slot {
            return o.bind(py).clone();
        }
        let o = pyo3::types::PyInt::new(py, v).into_any();
        *slot = Some(o.clone().unbind());
        o
    }
}

/// `v` as a Python int, shared when it fits in 16 bits.
#[inline]
pub fn u32_int(py: Python<'_>, v: u32) -> Bound<'_, PyAny> {
    match u16::try_from(v) {
        Ok(s) => u16_int(py, s),
        Err(_) => pyo3::types::PyInt::new(py, v).into_any(),
    }
}
