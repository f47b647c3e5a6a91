//! Conversions of Python arguments: paths, packet bytes and integers.

use pyo3::buffer::PyBuffer;
use pyo3::exceptions::{PyOverflowError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyMemoryView, PyString};
use std::borrow::Cow;
use std::ffi::{CString, OsStr};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

/// The name of `obj`'s type, for error messages.
pub fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type().name().map(|n| n.to_string()).unwrap_or_default()
}

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
            PyTypeError::new_err(format!("expected a path (str, bytes or os.PathLike), got {}", type_name(obj)))
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
        CString::new(self.path.as_os_str().as_bytes())
            .map_err(|_| pyo3::exceptions::PyValueError::new_err(format!("{}: path contains a NUL byte", self.display)))
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
        type_name(obj)
    )))
}

/// An int argument: its value, or (too large for an `i128`) its sign.
pub enum Int {
    Value(i128),
    Huge { negative: bool },
}

impl Int {
    /// The value as an error message shows it (`obj` is the argument).
    pub fn text(&self, obj: &Bound<'_, PyAny>) -> String {
        match self {
            Int::Value(v) => v.to_string(),
            // str() of an int of more than 4300 digits raises (CPython's limit).
            Int::Huge { .. } => {
                obj.str().map(|s| s.to_string()).unwrap_or_else(|_| "an int too long to print".to_owned())
            }
        }
    }
}

/// The int `obj` (an `int`, or anything with `__index__`); `TypeError`
/// naming the argument `name` for anything else.
pub fn int_value(obj: &Bound<'_, PyAny>, name: &str) -> PyResult<Int> {
    match obj.extract::<i128>() {
        Ok(v) => Ok(Int::Value(v)),
        Err(e) if e.is_instance_of::<PyOverflowError>(obj.py()) => Ok(Int::Huge { negative: obj.lt(0)? }),
        Err(_) => Err(PyTypeError::new_err(format!("{name} must be an int, not {}", type_name(obj)))),
    }
}

/// The int argument `name` for a C type `T`, checked against `lo..=hi`:
/// `ValueError` naming the argument and its range otherwise (never the
/// `OverflowError` of a plain conversion).
pub fn int_arg<T>(obj: &Bound<'_, PyAny>, name: &str, lo: T, hi: T) -> PyResult<T>
where
    T: Copy + std::fmt::Display + Into<i128> + TryFrom<i128>,
{
    let v = int_value(obj, name)?;
    if let Int::Value(n) = v {
        if (lo.into()..=hi.into()).contains(&n) {
            if let Ok(t) = T::try_from(n) {
                return Ok(t);
            }
        }
    }
    Err(PyValueError::new_err(format!("{name} must be between {lo} and {hi}, got {}", v.text(obj))))
}

/// `cnt` of `dispatch`/`loop`: any int. One past what an `i64` holds is
/// the nearest one (`2**63 - 1`: no limit; a negative one: the same as -1).
pub fn count(obj: &Bound<'_, PyAny>) -> PyResult<i64> {
    Ok(match int_value(obj, "cnt")? {
        Int::Value(v) => v.clamp(i64::MIN.into(), i64::MAX.into()) as i64,
        Int::Huge { negative: true } => i64::MIN,
        Int::Huge { negative: false } => i64::MAX,
    })
}

/// `snaplen` of `Live` and `Dead`: a positive C int.
pub fn snaplen(obj: &Bound<'_, PyAny>) -> PyResult<i32> {
    int_arg(obj, "snaplen", 1, i32::MAX)
}

/// A packet's `length` on the wire, as a savefile stores it: 32 bits.
pub fn wire_length(obj: &Bound<'_, PyAny>) -> PyResult<u32> {
    int_arg(obj, "length", 0, u32::MAX)
}

/// A C int argument (a flag or a code libpcap takes as an `int`).
pub fn c_int(obj: &Bound<'_, PyAny>, name: &str) -> PyResult<i32> {
    int_arg(obj, name, i32::MIN, i32::MAX)
}
