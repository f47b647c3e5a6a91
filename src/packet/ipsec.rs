//! IPsec: `AH` (decoding continues into the protected protocol) and `ESP`
//! (encrypted: decoding stops).

use super::fields::{py_bytes, table, PROTOCOLS};
use super::layer::Kind;
use super::proto::{hdr, new_object, protocol_class, Protocol};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

protocol_class!(
    /// An IP Authentication Header.
    Ah, "AH");
protocol_class!(
    /// An Encapsulating Security Payload header; `payload` is the encrypted rest.
    Esp, "ESP");

pub fn object(py: Python<'_>, base: Protocol) -> PyResult<Py<PyAny>> {
    match base.kind() {
        Kind::Ah => new_object!(py, base, Ah),
        _ => new_object!(py, base, Esp),
    }
}

#[pymethods]
impl Ah {
    #[classattr]
    const TYPE: &'static str = "AH";
    #[classattr]
    #[pyo3(name = "ProtocolOptions")]
    fn protocol_options(py: Python<'_>) -> PyResult<Py<PyDict>> {
        table(py, PROTOCOLS)
    }
    #[getter]
    fn nextheader(slf: &Bound<'_, Self>) -> u8 {
        hdr(slf).u8(0)
    }
    /// Header length in 32-bit words, minus 2.
    #[getter]
    fn length(slf: &Bound<'_, Self>) -> u8 {
        hdr(slf).u8(1)
    }
    #[getter]
    fn reserved(slf: &Bound<'_, Self>) -> u16 {
        hdr(slf).be16(2)
    }
    #[getter]
    fn spi(slf: &Bound<'_, Self>) -> u32 {
        hdr(slf).be32(4)
    }
    #[getter]
    fn sequence(slf: &Bound<'_, Self>) -> u32 {
        hdr(slf).be32(8)
    }
    /// Integrity check value.
    #[getter]
    fn icv<'py>(slf: &Bound<'py, Self>) -> Bound<'py, PyBytes> {
        py_bytes(slf.py(), hdr(slf).from(12))
    }
}

#[pymethods]
impl Esp {
    #[classattr]
    const TYPE: &'static str = "ESP";
    #[getter]
    fn spi(slf: &Bound<'_, Self>) -> u32 {
        hdr(slf).be32(0)
    }
    #[getter]
    fn sequence(slf: &Bound<'_, Self>) -> u32 {
        hdr(slf).be32(4)
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Ah>()?;
    m.add_class::<Esp>()?;
    Ok(())
}
