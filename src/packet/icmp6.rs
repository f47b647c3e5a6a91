use super::proto::Protocol;
use pyo3::prelude::*;
pub fn object(py: Python<'_>, base: Protocol, _t: u8) -> PyResult<Py<PyAny>> { super::link::object(py, base) }
pub fn register(_m: &Bound<'_, PyModule>) -> PyResult<()> { Ok(()) }
pub fn subtype_name(_t: u8) -> Option<&'static str> { None }
pub fn is_subtype_name(_n: &str) -> bool { false }
pub fn repr(_t: u8) -> String { String::new() }
