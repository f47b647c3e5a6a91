//! IGMP (the common 8-byte header of v1/v2 messages and v3 queries).

use super::fields::{py_ipv4, table};
use super::proto::{hdr, new_object, protocol_class, Protocol};
use super::write::{self, Opts};
use pyo3::prelude::*;
use pyo3::types::PyString;

/// `IGMP.itype` options.
pub const IGMP_TYPES: &[(&str, u32)] = &[
    ("MEMBERSHIP_QUERY", 0x11),
    ("V1_MEMBERSHIP_REPORT", 0x12),
    ("V2_MEMBERSHIP_REPORT", 0x16),
    ("LEAVE_GROUP", 0x17),
    ("V3_MEMBERSHIP_REPORT", 0x22),
];

protocol_class!(
    /// An IGMP message.
    Igmp, "IGMP");

pub fn object(py: Python<'_>, base: Protocol) -> PyResult<Py<PyAny>> {
    new_object!(py, base, Igmp)
}

#[pymethods]
impl Igmp {
    #[setter(itype)]
    fn set_itype(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "IGMP.itype", 0, 1, 0, 8, v, Opts::Names(IGMP_TYPES))
    }
    #[setter(maxresp)]
    fn set_maxresp(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "IGMP.maxresp", 1, 1, 0, 8, v, Opts::Plain)
    }
    #[setter(checksum)]
    fn set_checksum(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "IGMP.checksum", 2, 2, 0, 16, v, Opts::Plain)
    }
    #[setter(group)]
    fn set_group(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::ipv4(slf, "IGMP.group", 4, v)
    }
    #[classattr]
    const TYPE: &'static str = "IGMP";
    #[classattr]
    #[pyo3(name = "TypeOptions")]
    fn type_options(py: Python<'_>) -> PyResult<Py<PyAny>> {
        table(py, IGMP_TYPES)
    }
    #[getter]
    fn itype(slf: &Bound<'_, Self>) -> u8 {
        hdr(slf).u8(0)
    }
    /// Maximum response time (tenths of a second).
    #[getter]
    fn maxresp(slf: &Bound<'_, Self>) -> u8 {
        hdr(slf).u8(1)
    }
    #[getter]
    fn checksum(slf: &Bound<'_, Self>) -> u16 {
        hdr(slf).be16(2)
    }
    #[getter]
    fn group<'py>(slf: &Bound<'py, Self>) -> Bound<'py, PyString> {
        py_ipv4(slf.py(), hdr(slf), 4)
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Igmp>()
}
