use super::fields::H;
use super::layer::Kind;
use super::proto::Protocol;
use pyo3::prelude::*;
pub fn object(py: Python<'_>, base: Protocol) -> PyResult<Py<PyAny>> { super::link::object(py, base) }
pub fn register(_m: &Bound<'_, PyModule>) -> PyResult<()> { Ok(()) }
pub fn repr(_k: Kind, _h: H<'_>) -> String { String::new() }
