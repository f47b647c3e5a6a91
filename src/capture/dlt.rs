//! `DLT_*` link-type constants with this platform's libpcap values
//! (`<pcap/dlt.h>`): the numbers that `Feed.datalink()` returns here.

use pyo3::prelude::*;

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

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    for (name, value) in ALL {
        m.add(*name, *value)?;
    }
    Ok(())
}
