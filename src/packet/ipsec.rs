//! IPsec: `AH` (decoding continues into the protected protocol) and `ESP`
//! (encrypted: decoding stops).

use super::fields::{py_bytes, table, PROTOCOLS};
use super::layer::Kind;
use super::proto::{base, hdr, new_object, protocol_class, Protocol};
use super::write::{self, Opts};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

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
    #[setter(nextheader)]
    fn set_nextheader(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "AH.nextheader", 0, 1, 0, 8, v, Opts::Names(PROTOCOLS))
    }
    #[setter(length)]
    fn set_length(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "AH.length", 1, 1, 0, 8, v, Opts::Plain)
    }
    #[setter(reserved)]
    fn set_reserved(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "AH.reserved", 2, 2, 0, 16, v, Opts::Plain)
    }
    #[setter(spi)]
    fn set_spi(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "AH.spi", 4, 4, 0, 32, v, Opts::Plain)
    }
    #[setter(sequence)]
    fn set_sequence(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "AH.sequence", 8, 4, 0, 32, v, Opts::Plain)
    }
    #[classattr]
    const TYPE: &'static str = "AH";
    #[classattr]
    #[pyo3(name = "ProtocolOptions")]
    fn protocol_options(py: Python<'_>) -> PyResult<Py<PyAny>> {
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
    /// Integrity check value: 12 + its length must be a multiple of 4;
    /// `length` follows.
    #[setter(icv)]
    fn set_icv(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        let b = write::bytes_arg("AH.icv", v)?;
        if b.len() % 4 != 0 || b.len() > 1012 {
            return Err(pyo3::exceptions::PyValueError::new_err(format!(
                "AH.icv must be a multiple of 4 bytes, at most 1012, got {}",
                b.len()
            )));
        }
        base(slf).replace_header_tail(slf.py(), "AH.icv", 12, &b, |d, at, hlen| {
            write::poke(d, at + 1, (hlen / 4).saturating_sub(2) as u8);
        })
    }
    /// Integrity check value.
    #[getter]
    fn icv<'py>(slf: &Bound<'py, Self>) -> Bound<'py, PyBytes> {
        py_bytes(slf.py(), hdr(slf).from(12))
    }
}

#[pymethods]
impl Esp {
    #[setter(spi)]
    fn set_spi(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "ESP.spi", 0, 4, 0, 32, v, Opts::Plain)
    }
    #[setter(sequence)]
    fn set_sequence(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "ESP.sequence", 4, 4, 0, 32, v, Opts::Plain)
    }
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
