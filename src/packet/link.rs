//! Link layers: `Raw`, `Ethernet`, `VLAN`, `Loopback` (BSD loop/null), and
//! Linux cooked captures `SLL`/`SLL2`.

use super::fields::{fmt_hw, py_mac, table, Buf, H};
use super::layer::{loop_family, Kind};
use super::proto::{base, hdr, new_object, protocol_class, Protocol};
use super::write::{self, Opts};
use pyo3::prelude::*;
use pyo3::types::PyString;

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
pub const ADDRESS_FAMILIES: &[(&str, u32)] =
    &[("UNSPEC", 0), ("LOCAL", 1), ("INET", 2), ("APPLETALK", 16), ("LINK", 18), ("INET6", 24), ("ENCAP", 28)];

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
    #[setter(dst)]
    fn set_dst(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::mac(slf, "Ethernet.dst", 0, v)
    }
    #[setter(src)]
    fn set_src(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::mac(slf, "Ethernet.src", 6, v)
    }
    #[setter(etype)]
    fn set_etype(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "Ethernet.etype", 12, 2, 0, 16, v, Opts::Names(ETHER_TYPES))
    }
    #[classattr]
    const TYPE: &'static str = "Ethernet";
    #[classattr]
    #[pyo3(name = "TypeOptions")]
    fn type_options(py: Python<'_>) -> PyResult<Py<PyAny>> {
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
    #[setter(vid)]
    fn set_vid(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "VLAN.vid", 0, 2, 0, 12, v, Opts::Plain)
    }
    #[setter(pcp)]
    fn set_pcp(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "VLAN.pcp", 0, 1, 5, 3, v, Opts::Plain)
    }
    #[setter(dei)]
    fn set_dei(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "VLAN.dei", 0, 1, 4, 1, v, Opts::Plain)
    }
    #[setter(etype)]
    fn set_etype(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "VLAN.etype", 2, 2, 0, 16, v, Opts::Names(ETHER_TYPES))
    }
    #[classattr]
    const TYPE: &'static str = "VLAN";
    #[classattr]
    #[pyo3(name = "TypeOptions")]
    fn type_options(py: Python<'_>) -> PyResult<Py<PyAny>> {
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
    fn af_options(py: Python<'_>) -> PyResult<Py<PyAny>> {
        table(py, ADDRESS_FAMILIES)
    }
    /// Address family (read in whichever byte order gives a small number).
    #[getter]
    #[pyo3(name = "addressFamily")]
    fn address_family(slf: &Bound<'_, Self>) -> u32 {
        loop_family(hdr(slf).0)
    }
    /// Stored in the byte order the header already uses (network order
    /// when it holds zero).
    #[setter(addressFamily)]
    fn set_address_family(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        let af = write::int_arg("Loopback.addressFamily", v, u32::MAX as u64, Opts::Names(ADDRESS_FAMILIES))? as u32;
        let h = hdr(slf);
        let little = h.be32(0) != 0 && h.be32(0) != loop_family(h.0);
        let b = if little { af.to_le_bytes() } else { af.to_be_bytes() };
        base(slf).put(slf.py(), "Loopback.addressFamily", 0, &b)
    }
}

#[pymethods]
impl Sll {
    #[setter(packetType)]
    fn set_packet_type(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "SLL.packetType", 0, 2, 0, 16, v, Opts::Plain)
    }
    #[setter(arphrdType)]
    fn set_arphrd_type(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "SLL.arphrdType", 2, 2, 0, 16, v, Opts::Plain)
    }
    #[setter(addressLength)]
    fn set_address_length(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "SLL.addressLength", 4, 2, 0, 16, v, Opts::Plain)
    }
    #[setter(protocol)]
    fn set_protocol(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "SLL.protocol", 14, 2, 0, 16, v, Opts::Names(ETHER_TYPES))
    }
    #[classattr]
    const TYPE: &'static str = "SLL";
    #[classattr]
    #[pyo3(name = "TypeOptions")]
    fn type_options(py: Python<'_>) -> PyResult<Py<PyAny>> {
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
    /// Colon hex, 1 to 8 bytes; sets `addressLength` too.
    #[setter(address)]
    fn set_address(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        let mut a = write::hw_arg("SLL.address", v, None)?;
        if a.len() > 8 {
            return Err(pyo3::exceptions::PyValueError::new_err(format!(
                "SLL.address must be at most 8 bytes, got {}",
                a.len()
            )));
        }
        let n = a.len() as u16;
        a.resize(8, 0);
        let p = base(slf);
        p.put(slf.py(), "SLL.address", 4, &n.to_be_bytes())?;
        p.put(slf.py(), "SLL.address", 6, &a)
    }
    /// EtherType of the payload.
    #[getter]
    fn protocol(slf: &Bound<'_, Self>) -> u16 {
        hdr(slf).be16(14)
    }
}

#[pymethods]
impl Sll2 {
    #[setter(protocol)]
    fn set_protocol(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "SLL2.protocol", 0, 2, 0, 16, v, Opts::Names(ETHER_TYPES))
    }
    #[setter(ifindex)]
    fn set_ifindex(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "SLL2.ifindex", 4, 4, 0, 32, v, Opts::Plain)
    }
    #[setter(arphrdType)]
    fn set_arphrd_type(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "SLL2.arphrdType", 8, 2, 0, 16, v, Opts::Plain)
    }
    #[setter(packetType)]
    fn set_packet_type(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "SLL2.packetType", 10, 1, 0, 8, v, Opts::Plain)
    }
    #[setter(addressLength)]
    fn set_address_length(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "SLL2.addressLength", 11, 1, 0, 8, v, Opts::Plain)
    }
    #[classattr]
    const TYPE: &'static str = "SLL2";
    #[classattr]
    #[pyo3(name = "TypeOptions")]
    fn type_options(py: Python<'_>) -> PyResult<Py<PyAny>> {
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
    /// Colon hex, 1 to 8 bytes; sets `addressLength` too.
    #[setter(address)]
    fn set_address(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        let mut a = write::hw_arg("SLL2.address", v, None)?;
        if a.len() > 8 {
            return Err(pyo3::exceptions::PyValueError::new_err(format!(
                "SLL2.address must be at most 8 bytes, got {}",
                a.len()
            )));
        }
        let n = a.len() as u8;
        a.resize(8, 0);
        let p = base(slf);
        p.put(slf.py(), "SLL2.address", 11, &[n])?;
        p.put(slf.py(), "SLL2.address", 12, &a)
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
