//! Conversions of Python arguments: paths and packet bytes.

use pyo3::buffer::PyBuffer;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyMemoryView, PyString};
use std::borrow::Cow;
use std::ffi::{CString, OsStr};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

/// A filesystem path given as `str`, `bytes` or `os.PathLike`, with the
/// text used to name it in error messages.
pub struct PathArg {
    pub path: PathBuf,
    pub display: String,
}

impl PathArg {
    pub fn extract(obj: &Bound<'_, PyAny>) -> PyResult<Self> {
        let py = obj.py();
        let fspath = py.import("os")?.getattr("fspath")?;
        let p = fspath.call1((obj,)).map_err(|_| {
            PyTypeError::new_err(format!(
                "expected a path (str, bytes or os.PathLike), got {}",
                obj.get_type().name().map(|n| n.to_string()).unwrap_or_default()
            ))
        })?;
        let path = if let Ok(b) = p.cast::<PyBytes>() {
            PathBuf::from(OsStr::from_bytes(b.as_bytes()))
        } else {
            // os.fsencode applies the filesystem encoding and surrogateescape.
            let enc = py.import("os")?.getattr("fsencode")?.call1((p.cast::<PyString>()?,))?;
            PathBuf::from(OsStr::from_bytes(enc.cast::<PyBytes>()?.as_bytes()))
        };
        let display = path.to_string_lossy().into_owned();
        Ok(PathArg { path, display })
    }

    /// The path as a C string for libpcap; a NUL inside is a `ValueError`.
    pub fn c_path(&self) -> PyResult<CString> {
        CString::new(self.path.as_os_str().as_bytes()).map_err(|_| {
            pyo3::exceptions::PyValueError::new_err(format!(
                "{}: path contains a NUL byte",
                self.display
            ))
        })
    }
}

/// The bytes of a packet argument: `bytes`, `bytearray`, `memoryview` or
/// any other object with the buffer protocol (its raw bytes), or an object
/// with `__bytes__` such as a `Packet`.
pub fn packet_bytes<'a>(obj: &'a Bound<'_, PyAny>) -> PyResult<Cow<'a, [u8]>> {
    if let Ok(b) = obj.cast::<PyBytes>() {
        return Ok(Cow::Borrowed(b.as_bytes()));
    }
    if let Ok(b) = obj.cast::<PyByteArray>() {
        return Ok(Cow::Owned(b.to_vec()));
    }
    if let Ok(buf) = PyBuffer::<u8>::get(obj) {
        return Ok(Cow::Owned(buf.to_vec(obj.py())?));
    }
    if let Ok(view) = PyMemoryView::from(obj) {
        // Any other buffer (a memoryview `cast("I")`, an `array('h')`, an
        // mmap...): its raw bytes.
        let b = view.call_method0("tobytes")?;
        return Ok(Cow::Owned(b.cast::<PyBytes>()?.as_bytes().to_vec()));
    }
    if obj.hasattr("__bytes__")? {
        let b = obj.call_method0("__bytes__")?;
        let b = b.cast::<PyBytes>()?;
        return Ok(Cow::Owned(b.as_bytes().to_vec()));
    }
    Err(PyTypeError::new_err(format!(
        "packet must be bytes, bytearray, memoryview or a Packet, not {}",
        obj.get_type().name().map(|n| n.to_string()).unwrap_or_default()
    )))
}
