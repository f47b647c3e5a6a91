//! Reuse of the `bytes` objects a callback did not keep.
//!
//! Every packet handed to Python as `bytes` costs an allocation and a free
//! (frames over 512 bytes are beyond CPython's small-object allocator and go
//! to `malloc`). When the callback returns and our reference is the only one
//! left, nobody else can ever see that object again, so it is kept here and
//! its contents are overwritten for a later packet: the reasoning of
//! CPython's own in-place `bytes` resizing (`_PyBytes_Resize`) and of the
//! tuple reuse of `zip`. A kept object is refilled only while its reference
//! count is still 1; its size, contents, terminating NUL and cached hash are
//! all set anew.
//!
//! The objects this pool makes are allocated for a whole size class (sizes
//! rounded up to [`CLASS`] bytes), so one kept object serves any packet of
//! its class, and the few kept objects (one per class) stay in cache. Only
//! objects this pool made ever come back to it: what the callback got as
//! its packet, or what a reused `Packet` held.
//!
//! Sizes 2..=[`MAX_SIZE`] are pooled (one- and zero-byte `bytes` are shared
//! singletons in CPython); others are allocated as usual. A pool lives as
//! long as one `loop`/`dispatch` call, or as long as its feed for `next()`
//! and iteration, and holds at most `MAX_SIZE / CLASS` objects. It is off
//! where the object layout is not the one written here (interpreters other
//! than CPython 3.9–3.14, free-threaded builds).

use pyo3::ffi as py;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;

/// Largest packet size pooled: Ethernet frames with a tag or two, and then
/// some.
pub const MAX_SIZE: usize = 2048;
/// Size classes are this many bytes wide.
pub const CLASS: usize = 64;

/// Asks [`supported`] once, when the module is imported: the answer runs
/// Python code (imports), which must not run inside a read. There it would
/// run pending signal handlers in the middle of handing a packet over (a
/// Ctrl-C then lost the packet being delivered), and before, under a
/// `std::sync::OnceLock`, it deadlocked threads making their first reads at
/// once (one waited on the lock holding the GIL, the other ran Python and
/// waited for the GIL).
pub fn prepare(py: Python<'_>) {
    supported(py);
}

/// Whether this interpreter's `bytes` layout is the one this module writes
/// (kept in a GIL-aware cell; see [`prepare`]).
fn supported(py: Python<'_>) -> bool {
    static SUPPORTED: PyOnceLock<bool> = PyOnceLock::new();
    *SUPPORTED.get_or_init(py, || {
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
        cpython && (3, 9) <= (v.major, v.minor) && (v.major, v.minor) < (3, 15) && !free_threaded
    })
}

/// `bytes` objects kept for reuse, one per size class.
#[derive(Default)]
pub struct BytesPool {
    /// Indexed by class (size rounded up to `CLASS`, over `CLASS`); empty
    /// until first used, and when the pool is off.
    slots: Vec<Option<Py<PyAny>>>,
    ready: bool,
}

/// The class of a pooled size.
#[inline]
fn class_of(n: usize) -> usize {
    n.div_ceil(CLASS)
}

impl BytesPool {
    #[cold]
    fn init(&mut self, py: Python<'_>) {
        self.ready = true;
        if supported(py) {
            self.slots = (0..=class_of(MAX_SIZE)).map(|_| None).collect();
        }
    }

    /// A `bytes` holding `data`: a kept one of its class refilled, or a new
    /// one.
    #[inline]
    pub fn bytes<'py>(&mut self, py: Python<'py>, data: &[u8]) -> PyResult<Bound<'py, PyAny>> {
        let n = data.len();
        if !self.ready {
            self.init(py);
        }
        if !(2..=MAX_SIZE).contains(&n) || self.slots.is_empty() {
            return Ok(pyo3::types::PyBytes::new(py, data).into_any());
        }
        let c = class_of(n);
        let obj = match self.slots[c].take() {
            // SAFETY: reading the reference count of a live object.
            Some(kept) if unsafe { py::Py_REFCNT(kept.as_ptr()) } == 1 => kept.into_bound(py),
            _ => {
                // SAFETY: a new bytes object of the class's size, filled below
                // before anyone sees it.
                let p = unsafe { py::PyBytes_FromStringAndSize(std::ptr::null(), (c * CLASS) as py::Py_ssize_t) };
                if p.is_null() {
                    return Err(PyErr::fetch(py));
                }
                // SAFETY: `p` is a new, owned reference.
                unsafe { Bound::from_owned_ptr(py, p) }
            }
        };
        let p = obj.as_ptr();
        // SAFETY: `p` is an exact `bytes` allocated for `c * CLASS >= n` bytes
        // (made above, or kept by `give_back`, which only ever sees objects
        // made here) plus the NUL; its only reference is `obj`, so no one can
        // see it change. The layout is CPython's (`supported`).
        unsafe {
            (*p.cast::<py::PyVarObject>()).ob_size = n as py::Py_ssize_t;
            #[allow(deprecated)]
            {
                (*p.cast::<py::PyBytesObject>()).ob_shash = -1;
            }
            let dst = py::PyBytes_AS_STRING(p) as *mut u8;
            std::ptr::copy_nonoverlapping(data.as_ptr(), dst, n);
            *dst.add(n) = 0;
        }
        Ok(obj)
    }

    /// Takes back a packet object of this pool after the callback: a `bytes`
    /// nobody else refers to is kept for a later packet of its class;
    /// anything else is just released.
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
        if (2..=MAX_SIZE).contains(&n) {
            if let Some(slot @ None) = self.slots.get_mut(class_of(n)) {
                *slot = Some(obj.unbind());
            }
        }
    }
}
