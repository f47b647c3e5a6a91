//! Reuse of the `bytes` objects a callback did not keep.
//!
//! Every packet handed to Python as `bytes` costs an allocation and a free
//! (frames over 512 bytes are beyond CPython's small-object allocator and go
//! to `malloc`). When the callback returns and our reference is the only one
//! left, nobody else can ever see that object again, so it is kept here, one
//! per size, and its contents are overwritten for the next packet of the same
//! size: the reasoning of CPython's own in-place `bytes` resizing
//! (`_PyBytes_Resize`) and of the tuple reuse of `zip`. A kept object is
//! refilled only while its reference count is still 1, and its cached hash
//! is reset.
//!
//! Sizes 2..=[`MAX_SIZE`] are kept (one- and zero-byte `bytes` are shared
//! singletons in CPython), and at most [`MAX_RETAINED`] bytes per pool; a
//! pool lives as long as one `loop`/`dispatch` call, or as long as its feed
//! for `next()` and iteration. The pool is off where the object layout is
//! not the one written here (interpreters other than CPython 3.9–3.14,
//! free-threaded builds).

use pyo3::ffi as py;
use pyo3::prelude::*;
use std::sync::OnceLock;

/// Largest packet size kept: Ethernet frames with a tag or two, and then
/// some (larger ones are allocated as usual).
pub const MAX_SIZE: usize = 2048;
/// Most bytes kept by one pool.
pub const MAX_RETAINED: usize = 4 << 20;

/// Whether this interpreter's `bytes` layout is the one this module writes.
fn supported(py: Python<'_>) -> bool {
    static SUPPORTED: OnceLock<bool> = OnceLock::new();
    *SUPPORTED.get_or_init(|| {
        let v = py.version_info();
        let cpython = py
            .import("sys")
            .and_then(|m| m.getattr("implementation")?.getattr("name")?.extract::<String>())
            .is_ok_and(|n| n == "cpython");
        let free_threaded = py
            .import("sysconfig")
            .and_then(|m| m.call_method1("get_config_var", ("Py_GIL_DISABLED",)))
            .and_then(|r| r.is_truthy())
            .unwrap_or(true);
        cpython
            && (3, 9) <= (v.major, v.minor)
            && (v.major, v.minor) < (3, 15)
            && !free_threaded
    })
}

/// `bytes` objects kept for reuse, indexed by size.
#[derive(Default)]
pub struct BytesPool {
    /// Empty until first used, and when the pool is off.
    slots: Vec<Option<Py<PyAny>>>,
    ready: bool,
    retained: usize,
}

impl BytesPool {
    #[cold]
    fn init(&mut self, py: Python<'_>) {
        self.ready = true;
        if supported(py) {
            self.slots = (0..=MAX_SIZE).map(|_| None).collect();
        }
    }

    /// A `bytes` holding `data`: a kept one of that size refilled, or a new
    /// one.
    #[inline]
    pub fn bytes<'py>(&mut self, py: Python<'py>, data: &[u8]) -> Bound<'py, PyAny> {
        let n = data.len();
        if !self.ready {
            self.init(py);
        }
        if let Some(kept) = self.slots.get_mut(n).and_then(Option::take) {
            self.retained -= n;
            let obj = kept.into_bound(py);
            let p = obj.as_ptr();
            // SAFETY: `p` is an exact `bytes` of size `n` (checked when kept);
            // with a reference count of 1 the only reference is `obj`, so no
            // one can see it change. The layout is CPython's (`supported`).
            unsafe {
                if py::Py_REFCNT(p) == 1 {
                    #[allow(deprecated)]
                    {
                        (*p.cast::<py::PyBytesObject>()).ob_shash = -1;
                    }
                    std::ptr::copy_nonoverlapping(
                        data.as_ptr(),
                        py::PyBytes_AS_STRING(p) as *mut u8,
                        n,
                    );
                    return obj;
                }
            }
        }
        pyo3::types::PyBytes::new(py, data).into_any()
    }

    /// Takes back a packet object after the callback: a `bytes` nobody else
    /// refers to is kept for a later packet of its size; anything else is
    /// just released.
    #[inline]
    pub fn give_back(&mut self, obj: Bound<'_, PyAny>) {
        let p = obj.as_ptr();
        // SAFETY: reading the type, size and reference count of a live object.
        let n = unsafe {
            if py::Py_REFCNT(p) != 1 || py::PyBytes_CheckExact(p) == 0 {
                return;
            }
            py::Py_SIZE(p) as usize
        };
        if n < 2 || self.retained + n > MAX_RETAINED {
            return;
        }
        if let Some(slot @ None) = self.slots.get_mut(n) {
            *slot = Some(obj.unbind());
            self.retained += n;
        }
    }
}
