//! ARP and RARP.

use super::fields::{fmt_hw, name_of, py_addr, table, Buf, H};
use super::proto::{base, hdr, new_object, protocol_class, Protocol};
use super::write::{self, Opts};
use pyo3::prelude::*;
use pyo3::types::PyString;

/// `ARP.opcode` options.
pub const OPCODES: &[(&str, u32)] = &[("ARP_REQUEST", 1), ("ARP_REPLY", 2), ("RARP_REQUEST", 3), ("RARP_REPLY", 4)];

protocol_class!(
    /// An ARP/RARP packet; the address fields follow the sizes it declares.
    Arp, "ARP");

pub fn object(py: Python<'_>, base: Protocol) -> PyResult<Py<PyAny>> {
    new_object!(py, base, Arp)
}

/// Offsets of sender hardware, sender protocol, target hardware, target
/// protocol addresses, and the two sizes.
fn layout(h: H<'_>) -> ([usize; 4], usize, usize) {
    let hs = h.u8(4) as usize;
    let ps = h.u8(5) as usize;
    ([8, 8 + hs, 8 + hs + ps, 8 + 2 * hs + ps], hs, ps)
}

fn hw(h: H<'_>, at: usize, n: usize) -> String {
    let mut b = Buf::new();
    fmt_hw(&mut b, h.bytes(at, n.min(16)));
    b.as_str().to_owned()
}

pub fn repr(h: H<'_>) -> String {
    let (o, hs, _) = layout(h);
    format!("{}:  {}->{}", name_of(OPCODES, h.be16(6) as u32), hw(h, o[0], hs), hw(h, o[2], hs))
}

#[pymethods]
impl Arp {
    #[setter(hardware_type)]
    fn set_hardware_type(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "ARP.hardware_type", 0, 2, 0, 16, v, Opts::Plain)
    }
    #[setter(protocol_type)]
    fn set_protocol_type(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "ARP.protocol_type", 2, 2, 0, 16, v, Opts::Plain)
    }
    #[setter(hardware_size)]
    fn set_hardware_size(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "ARP.hardware_size", 4, 1, 0, 8, v, Opts::Plain)
    }
    #[setter(protocol_size)]
    fn set_protocol_size(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "ARP.protocol_size", 5, 1, 0, 8, v, Opts::Plain)
    }
    #[setter(opcode)]
    fn set_opcode(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "ARP.opcode", 6, 2, 0, 16, v, Opts::Names(OPCODES))
    }
    #[classattr]
    const TYPE: &'static str = "ARP";
    #[classattr]
    #[pyo3(name = "OpcodeOptions")]
    fn opcode_options(py: Python<'_>) -> PyResult<Py<PyAny>> {
        table(py, OPCODES)
    }
    #[getter]
    fn hardware_type(slf: &Bound<'_, Self>) -> u16 {
        hdr(slf).be16(0)
    }
    #[getter]
    fn protocol_type(slf: &Bound<'_, Self>) -> u16 {
        hdr(slf).be16(2)
    }
    #[getter]
    fn hardware_size(slf: &Bound<'_, Self>) -> u8 {
        hdr(slf).u8(4)
    }
    #[getter]
    fn protocol_size(slf: &Bound<'_, Self>) -> u8 {
        hdr(slf).u8(5)
    }
    #[getter]
    fn opcode(slf: &Bound<'_, Self>) -> u16 {
        hdr(slf).be16(6)
    }
    /// MAC string (colon hex for other sizes).
    #[setter(sender_hardware_addr)]
    fn set_sender_hardware_addr(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        set_addr(slf, "ARP.sender_hardware_addr", 0, v)
    }
    #[setter(sender_proto_addr)]
    fn set_sender_proto_addr(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        set_addr(slf, "ARP.sender_proto_addr", 1, v)
    }
    #[setter(target_hardware_addr)]
    fn set_target_hardware_addr(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        set_addr(slf, "ARP.target_hardware_addr", 2, v)
    }
    #[setter(target_proto_addr)]
    fn set_target_proto_addr(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        set_addr(slf, "ARP.target_proto_addr", 3, v)
    }
    #[getter]
    fn sender_hardware_addr(slf: &Bound<'_, Self>) -> String {
        let h = hdr(slf);
        let (o, hs, _) = layout(h);
        hw(h, o[0], hs)
    }
    /// IPv4 (or IPv6) address string.
    #[getter]
    fn sender_proto_addr<'py>(slf: &Bound<'py, Self>) -> Bound<'py, PyString> {
        let h = hdr(slf);
        let (o, _, ps) = layout(h);
        py_addr(slf.py(), h.bytes(o[1], ps))
    }
    #[getter]
    fn target_hardware_addr(slf: &Bound<'_, Self>) -> String {
        let h = hdr(slf);
        let (o, hs, _) = layout(h);
        hw(h, o[2], hs)
    }
    #[getter]
    fn target_proto_addr<'py>(slf: &Bound<'py, Self>) -> Bound<'py, PyString> {
        let h = hdr(slf);
        let (o, _, ps) = layout(h);
        py_addr(slf.py(), h.bytes(o[3], ps))
    }
}

/// Sets address `which` (0 sender hardware, 1 sender protocol, 2 target
/// hardware, 3 target protocol) of the sizes the header declares: a MAC
/// string for 6-byte hardware addresses, an IPv4 (4) or IPv6 (16) address
/// for protocol addresses, colon hex otherwise.
fn set_addr(slf: &Bound<'_, Arp>, field: &str, which: usize, v: &Bound<'_, PyAny>) -> PyResult<()> {
    let h = hdr(slf);
    let (o, hs, ps) = layout(h);
    let at = o[which];
    let size = if which % 2 == 0 { hs } else { ps };
    let bytes = match (which % 2, size) {
        (1, 4) => write::ipv4_arg(field, v)?.to_vec(),
        (1, 16) => write::ipv6_arg(field, v)?.to_vec(),
        _ => write::hw_arg(field, v, Some(size))?,
    };
    base(slf).put(slf.py(), field, at, &bytes)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Arp>()
}
