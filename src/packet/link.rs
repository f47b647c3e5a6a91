//! Link layers: `Raw`, `Ethernet`, `VLAN`, `Loopback` (BSD loop/null), and
//! Linux cooked captures `SLL`/`SLL2`.

use super::fields::{fmt_hw, py_mac, table, Buf, H};
use super::layer::{loop_family, Kind};
use super::proto::{hdr, new_object, protocol_class, Protocol};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};

/// `Ethernet.etype` (and `VLAN.etype`, `SLL.protocol`) options.
pub const ETHER_TYPES: &[(&str, u32)] = &[
    ("IP", 0x800),
    ("ARP", 0x806),
    ("RARP", 0x8035),
    ("IP6", 0x86DD),
    ("PPPOE", 0x8864),
    ("LOOPBACK", 0x9000),
    ("VLAN", 0x8100),
];

/// `Loopback.addressFamily` options.
pub const ADDRESS_FAMILIES: &[(&str, u32)] = &[
    ("UNSPEC", 0),
    ("LOCAL", 1),
    ("INET", 2),
    ("APPLETALK", 16),
    ("LINK", 18),
    ("INET6", 24),
    ("ENCAP", 28),
];

protocol_class!(
    /// The bytes of a packet whose link type is not decoded.
    Raw, "Raw");
protocol_class!(
    /// Ethernet II.
    Ethernet, "Ethernet");
protocol_class!(
    /// An 802.1Q / 802.1ad tag.
    Vlan, "VLAN");
protocol_class!(
    /// The 4-byte address family of BSD loop/null captures.
    Loopback, "Loopback");
protocol_class!(
    /// Linux cooked capture header (v1).
    Sll, "SLL");
protocol_class!(
    /// Linux cooked capture header (v2).
    Sll2, "SLL2");

pub fn object(py: Python<'_>, base: Protocol) -> PyResult<Py<PyAny>> {
    match base.kind() {
        Kind::Ethernet => new_object!(py, base, Ethernet),
        Kind::Vlan => new_object!(py, base, Vlan),
        Kind::Loopback => new_object!(py, base, Loopback),
        Kind::Sll => new_object!(py, base, Sll),
        Kind::Sll2 => new_object!(py, base, Sll2),
        _ => new_object!(py, base, Raw),
    }
}

fn hw(h: H<'_>, at: usize, len: usize) -> String {
    let mut b = Buf::new();
    fmt_hw(&mut b, h.bytes(at, len.min(8)));
    b.as_str().to_owned()
}

pub fn repr(kind: Kind, h: H<'_>) -> String {
    match kind {
        Kind::Ethernet => format!("Eth: {}->{}", hw(h, 6, 6), hw(h, 0, 6)),
        Kind::Vlan => format!("VLAN: {}", h.be16(0) & 0xfff),
        Kind::Loopback => String::new(),
        Kind::Sll => format!("SLL: {}", hw(h, 6, h.be16(4) as usize)),
        Kind::Sll2 => format!("SLL2: {}", hw(h, 12, h.u8(11) as usize)),
        _ => "Raw".to_owned(),
    }
}

#[pymethods]
impl Raw {
    #[classattr]
    const TYPE: &'static str = "Raw";
}

#[pymethods]
impl Ethernet {
    #[classattr]
    const TYPE: &'static str = "Ethernet";
    #[classattr]
    #[pyo3(name = "TypeOptions")]
    fn type_options(py: Python<'_>) -> PyResult<Py<PyDict>> {
        table(py, ETHER_TYPES)
    }
    /// Destination MAC address.
    #[getter]
    fn dst<'py>(slf: &Bound<'py, Self>) -> Bound<'py, PyString> {
        py_mac(slf.py(), hdr(slf), 0)
    }
    /// Source MAC address.
    #[getter]
    fn src<'py>(slf: &Bound<'py, Self>) -> Bound<'py, PyString> {
        py_mac(slf.py(), hdr(slf), 6)
    }
    /// EtherType of the payload.
    #[getter]
    fn etype(slf: &Bound<'_, Self>) -> u16 {
        hdr(slf).be16(12)
    }
}

#[pymethods]
impl Vlan {
    #[classattr]
    const TYPE: &'static str = "VLAN";
    #[classattr]
    #[pyo3(name = "TypeOptions")]
    fn type_options(py: Python<'_>) -> PyResult<Py<PyDict>> {
        table(py, ETHER_TYPES)
    }
    /// VLAN identifier (12 bits).
    #[getter]
    fn vid(slf: &Bound<'_, Self>) -> u16 {
        hdr(slf).be16(0) & 0xfff
    }
    /// Priority code point (3 bits).
    #[getter]
    fn pcp(slf: &Bound<'_, Self>) -> u8 {
        hdr(slf).u8(0) >> 5
    }
    /// Drop eligible indicator (1 bit).
    #[getter]
    fn dei(slf: &Bound<'_, Self>) -> u8 {
        (hdr(slf).u8(0) >> 4) & 1
    }
    /// EtherType of the payload.
    #[getter]
    fn etype(slf: &Bound<'_, Self>) -> u16 {
        hdr(slf).be16(2)
    }
}

#[pymethods]
impl Loopback {
    #[classattr]
    const TYPE: &'static str = "Loopback";
    #[classattr]
    #[pyo3(name = "AFOptions")]
    fn af_options(py: Python<'_>) -> PyResult<Py<PyDict>> {
        table(py, ADDRESS_FAMILIES)
    }
    /// Address family (read in whichever byte order gives a small number).
    #[getter]
    #[pyo3(name = "addressFamily")]
    fn address_family(slf: &Bound<'_, Self>) -> u32 {
        loop_family(hdr(slf).0)
    }
}

#[pymethods]
impl Sll {
    #[classattr]
    const TYPE: &'static str = "SLL";
    #[classattr]
    #[pyo3(name = "TypeOptions")]
    fn type_options(py: Python<'_>) -> PyResult<Py<PyDict>> {
        table(py, ETHER_TYPES)
    }
    /// Packet type (0 to us, 1 broadcast, 2 multicast, 3 other host, 4 outgoing).
    #[getter]
    #[pyo3(name = "packetType")]
    fn packet_type(slf: &Bound<'_, Self>) -> u16 {
        hdr(slf).be16(0)
    }
    /// ARPHRD_ type of the interface.
    #[getter]
    #[pyo3(name = "arphrdType")]
    fn arphrd_type(slf: &Bound<'_, Self>) -> u16 {
        hdr(slf).be16(2)
    }
    #[getter]
    #[pyo3(name = "addressLength")]
    fn address_length(slf: &Bound<'_, Self>) -> u16 {
        hdr(slf).be16(4)
    }
    /// Link-layer source address (colon hex, at most 8 bytes).
    #[getter]
    fn address(slf: &Bound<'_, Self>) -> String {
        let h = hdr(slf);
        hw(h, 6, h.be16(4) as usize)
    }
    /// EtherType of the payload.
    #[getter]
    fn protocol(slf: &Bound<'_, Self>) -> u16 {
        hdr(slf).be16(14)
    }
}

#[pymethods]
impl Sll2 {
    #[classattr]
    const TYPE: &'static str = "SLL2";
    #[classattr]
    #[pyo3(name = "TypeOptions")]
    fn type_options(py: Python<'_>) -> PyResult<Py<PyDict>> {
        table(py, ETHER_TYPES)
    }
    /// EtherType of the payload.
    #[getter]
    fn protocol(slf: &Bound<'_, Self>) -> u16 {
        hdr(slf).be16(0)
    }
    #[getter]
    fn ifindex(slf: &Bound<'_, Self>) -> u32 {
        hdr(slf).be32(4)
    }
    #[getter]
    #[pyo3(name = "arphrdType")]
    fn arphrd_type(slf: &Bound<'_, Self>) -> u16 {
        hdr(slf).be16(8)
    }
    #[getter]
    #[pyo3(name = "packetType")]
    fn packet_type(slf: &Bound<'_, Self>) -> u8 {
        hdr(slf).u8(10)
    }
    #[getter]
    #[pyo3(name = "addressLength")]
    fn address_length(slf: &Bound<'_, Self>) -> u8 {
        hdr(slf).u8(11)
    }
    #[getter]
    fn address(slf: &Bound<'_, Self>) -> String {
        let h = hdr(slf);
        hw(h, 12, h.u8(11) as usize)
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Raw>()?;
    m.add_class::<Ethernet>()?;
    m.add_class::<Vlan>()?;
    m.add_class::<Loopback>()?;
    m.add_class::<Sll>()?;
    m.add_class::<Sll2>()?;
    Ok(())
}
