//! `DLT_*` link-type constants with this platform's libpcap values
//! (`<pcap/dlt.h>`): the numbers that `Feed.datalink()` returns here.

use crate::packet::layer::Kind;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyType;

#[cfg(target_os = "openbsd")]
mod platform {
    pub const DLT_RAW: i32 = 14;
    pub const DLT_LOOP: i32 = 12;
    pub const DLT_ENC: i32 = 13;
    pub const DLT_PFSYNC: i32 = 18;
}
#[cfg(any(target_os = "netbsd", target_os = "dragonfly", target_os = "macos"))]
mod platform {
    pub const DLT_RAW: i32 = 12;
    pub const DLT_LOOP: i32 = 108;
    pub const DLT_ENC: i32 = 109;
    pub const DLT_PFSYNC: i32 = 18;
}
#[cfg(target_os = "freebsd")]
mod platform {
    pub const DLT_RAW: i32 = 12;
    pub const DLT_LOOP: i32 = 108;
    pub const DLT_ENC: i32 = 109;
    pub const DLT_PFSYNC: i32 = 121;
}
#[cfg(not(any(
    target_os = "openbsd",
    target_os = "netbsd",
    target_os = "dragonfly",
    target_os = "macos",
    target_os = "freebsd"
)))]
mod platform {
    pub const DLT_RAW: i32 = 12;
    pub const DLT_LOOP: i32 = 108;
    pub const DLT_ENC: i32 = 109;
    pub const DLT_PFSYNC: i32 = 246;
}

#[cfg(any(target_os = "netbsd", target_os = "freebsd"))]
const SLIP_PPP_BSDOS: (i32, i32) = (13, 14);
#[cfg(not(any(target_os = "netbsd", target_os = "freebsd")))]
const SLIP_PPP_BSDOS: (i32, i32) = (15, 16);

pub use platform::*;
pub const DLT_NULL: i32 = 0;
pub const DLT_EN10MB: i32 = 1;
pub const DLT_SLIP_BSDOS: i32 = SLIP_PPP_BSDOS.0;
pub const DLT_PPP_BSDOS: i32 = SLIP_PPP_BSDOS.1;
pub const DLT_PFLOG: i32 = 117;
pub const DLT_LINUX_SLL: i32 = 113;
pub const DLT_LINUX_SLL2: i32 = 276;
pub const DLT_IPV4: i32 = 228;
pub const DLT_IPV6: i32 = 229;

/// Every constant the module exports, by name.
pub const ALL: &[(&str, i32)] = &[
    ("DLT_NULL", DLT_NULL),
    ("DLT_EN10MB", DLT_EN10MB),
    ("DLT_EN3MB", 2),
    ("DLT_AX25", 3),
    ("DLT_PRONET", 4),
    ("DLT_CHAOS", 5),
    ("DLT_IEEE802", 6),
    ("DLT_ARCNET", 7),
    ("DLT_SLIP", 8),
    ("DLT_PPP", 9),
    ("DLT_FDDI", 10),
    ("DLT_ATM_RFC1483", 11),
    ("DLT_RAW", DLT_RAW),
    ("DLT_SLIP_BSDOS", DLT_SLIP_BSDOS),
    ("DLT_PPP_BSDOS", DLT_PPP_BSDOS),
    ("DLT_LOOP", DLT_LOOP),
    ("DLT_ENC", DLT_ENC),
    ("DLT_IEEE802_11", 105),
    ("DLT_PFSYNC", DLT_PFSYNC),
    ("DLT_PFLOG", DLT_PFLOG),
    ("DLT_LINUX_SLL", DLT_LINUX_SLL),
    ("DLT_LINUX_SLL2", DLT_LINUX_SLL2),
    ("DLT_IPV4", DLT_IPV4),
    ("DLT_IPV6", DLT_IPV6),
];

/// The link type whose packets start with protocol `kind` (the reverse of
/// the decoder's choice, with this platform's numbers), or `None` for
/// protocols no link type starts with.
pub fn linktype_of(kind: Kind) -> Option<i32> {
    Some(match kind {
        Kind::Ethernet => DLT_EN10MB,
        Kind::Loopback => DLT_LOOP,
        Kind::Enc => DLT_ENC,
        Kind::Pf => DLT_PFLOG,
        Kind::PfOld => 17,
        Kind::Sll => DLT_LINUX_SLL,
        Kind::Sll2 => DLT_LINUX_SLL2,
        Kind::Ip | Kind::Ipv6 => DLT_RAW,
        _ => return None,
    })
}

/// `linktype` of `Dead`: a C int, or a protocol class (the link type whose
/// packets start with it, as `pcap.DLTLookup` gives it).
pub fn linktype_arg(obj: &Bound<'_, PyAny>) -> PyResult<i32> {
    if !obj.is_instance_of::<PyType>() {
        return crate::py::args::c_int(obj, "linktype");
    }
    let kind = crate::packet::kind_of_class(obj)?;
    linktype_of(kind).ok_or_else(|| {
        PyValueError::new_err(format!("linktype: no link type starts with {}", crate::packet::proto::class_name(kind)))
    })
}

/// _linktype_of(klass) -> int: `linktype_arg` for `pcap.DLTLookup`.
#[pyfunction(name = "_linktype_of")]
fn linktype_of_class(klass: &Bound<'_, PyAny>) -> PyResult<i32> {
    linktype_arg(klass)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    for (name, value) in ALL {
        m.add(*name, *value)?;
    }
    m.add_function(wrap_pyfunction!(linktype_of_class, m)?)?;
    Ok(())
}
