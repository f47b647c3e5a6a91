//! The modern capture options of `Live` (immediate mode, buffer size,
//! timestamp precision and type, monitor mode), `setdirection`, and the
//! interface listing behind `interfaces()`.
//!
//! Every option libpcap or the interface refuses is a `PcapError` naming the
//! option and the interface.

use crate::ffi;
use crate::py::error::pcap_error_about;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use std::ffi::CString;

/// Timestamp precision of a feed: what the second member of a timestamp
/// counts.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum Precision {
    #[default]
    Micro,
    Nano,
}

impl Precision {
    /// libpcap's `PCAP_TSTAMP_PRECISION_*`.
    pub fn raw(self) -> libc::c_int {
        match self {
            Precision::Micro => ffi::PCAP_TSTAMP_PRECISION_MICRO,
            Precision::Nano => ffi::PCAP_TSTAMP_PRECISION_NANO,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Precision::Micro => "micro",
            Precision::Nano => "nano",
        }
    }

    /// The precision of an open handle.
    ///
    /// # Safety
    /// `p` must be an open handle.
    pub unsafe fn of(p: *mut ffi::pcap_t) -> Self {
        if ffi::pcap_get_tstamp_precision(p) == ffi::PCAP_TSTAMP_PRECISION_NANO {
            Precision::Nano
        } else {
            Precision::Micro
        }
    }
}

/// A keyword argument that must be one of a few strings.
fn choice<'a>(obj: &Bound<'_, PyAny>, what: &str, choices: &[&'a str]) -> PyResult<&'a str> {
    let s: String = obj
        .extract()
        .map_err(|_| PyTypeError::new_err(format!("{what} must be a str, not {}", crate::py::args::type_name(obj))))?;
    choices.iter().find(|c| **c == s).copied().ok_or_else(|| {
        let quoted: Vec<String> = choices.iter().map(|c| format!("{c:?}")).collect();
        PyValueError::new_err(format!("{what} must be one of {}, not {s:?}", quoted.join(", ")))
    })
}

/// `precision=` of `Live`, `Offline` and `Dead`: "micro" or "nano".
pub fn precision_arg(obj: &Bound<'_, PyAny>) -> PyResult<Precision> {
    Ok(match choice(obj, "precision", &["micro", "nano"])? {
        "nano" => Precision::Nano,
        _ => Precision::Micro,
    })
}

/// `setdirection()`'s argument: libpcap's `PCAP_D_*`.
pub fn direction_arg(obj: &Bound<'_, PyAny>) -> PyResult<(libc::c_int, &'static str)> {
    Ok(match choice(obj, "direction", &["inout", "in", "out"])? {
        "in" => (1, "in"),
        "out" => (2, "out"),
        _ => (0, "inout"),
    })
}

/// `buffer_size=` of `Live`: bytes, a positive C int.
pub fn buffer_size_arg(obj: &Bound<'_, PyAny>) -> PyResult<Option<i32>> {
    if obj.is_none() {
        return Ok(None);
    }
    crate::py::args::int_arg(obj, "buffer_size", 1i32, i32::MAX).map(Some)
}

/// `tstamp_type=` of `Live`: a libpcap timestamp type name ("host",
/// "host_lowprec", "host_hiprec", "adapter", "adapter_unsynced", ...).
pub fn tstamp_type_arg(obj: &Bound<'_, PyAny>) -> PyResult<Option<String>> {
    if obj.is_none() {
        return Ok(None);
    }
    obj.extract::<String>().map(Some).map_err(|_| {
        PyTypeError::new_err(format!("tstamp_type must be a str or None, not {}", crate::py::args::type_name(obj)))
    })
}

/// The keyword-only options of `Live`, applied between `pcap_create` and
/// `pcap_activate`.
#[derive(Clone, Debug, Default)]
pub struct LiveOptions {
    pub immediate: bool,
    pub buffer_size: Option<i32>,
    pub precision: Precision,
    pub tstamp_type: Option<String>,
    pub rfmon: bool,
}

/// The timestamp type names the not yet activated handle `p` offers.
///
/// # Safety
/// `p` must be an open handle.
unsafe fn tstamp_types(p: *mut ffi::pcap_t) -> Vec<String> {
    let mut list: *mut libc::c_int = std::ptr::null_mut();
    let n = ffi::pcap_list_tstamp_types(p, &mut list);
    if n <= 0 || list.is_null() {
        return Vec::new();
    }
    let names = std::slice::from_raw_parts(list, n as usize)
        .iter()
        .map(|t| ffi::cstr_lossy(ffi::pcap_tstamp_type_val_to_name(*t)))
        .collect();
    ffi::pcap_free_tstamp_types(list);
    names
}

impl LiveOptions {
    /// Sets the options on the created, not yet activated handle `p`;
    /// `PcapError` naming the option and `label` (the interface) for one
    /// libpcap or the interface refuses.
    ///
    /// # Safety
    /// `p` must be a created, not activated handle.
    pub unsafe fn apply(&self, p: *mut ffi::pcap_t, label: &str) -> PyResult<()> {
        let refused = |opt: String, why: &str| pcap_error_about(label, &format!("{opt} refused: {why}"));
        if self.immediate && ffi::pcap_set_immediate_mode(p, 1) != 0 {
            return Err(refused("immediate=True".into(), &ffi::last_error(p)));
        }
        if let Some(size) = self.buffer_size {
            if ffi::pcap_set_buffer_size(p, size) != 0 {
                return Err(refused(format!("buffer_size={size}"), &ffi::last_error(p)));
            }
        }
        if self.precision != Precision::Micro {
            let rc = ffi::pcap_set_tstamp_precision(p, self.precision.raw());
            if rc != 0 {
                let why = ffi::cstr_lossy(ffi::pcap_statustostr(rc));
                return Err(refused(format!("precision={:?}", self.precision.name()), &why));
            }
        }
        if let Some(name) = &self.tstamp_type {
            let opt = format!("tstamp_type={name:?}");
            let c = CString::new(name.as_str()).map_err(|_| refused(opt.clone(), "contains a NUL byte"))?;
            let t = ffi::pcap_tstamp_type_name_to_val(c.as_ptr());
            if t < 0 {
                return Err(refused(opt, "unknown timestamp type"));
            }
            let rc = ffi::pcap_set_tstamp_type(p, t);
            if rc != 0 {
                // libpcap only warns (and keeps the default) when the
                // interface does not offer the type: we refuse.
                let offered = tstamp_types(p);
                let offered = if offered.is_empty() { "none".to_owned() } else { offered.join(", ") };
                let why = ffi::cstr_lossy(ffi::pcap_statustostr(rc));
                return Err(refused(opt, &format!("{why} (this interface offers: {offered})")));
            }
        }
        if self.rfmon && ffi::pcap_set_rfmon(p, 1) != 0 {
            return Err(refused("rfmon=True".into(), &ffi::last_error(p)));
        }
        Ok(())
    }

    /// The option a failed activation status is about, if it is about one
    /// (monitor mode, the timestamp precision).
    pub fn refused_by(&self, status: libc::c_int) -> Option<String> {
        match status {
            ffi::PCAP_ERROR_RFMON_NOTSUP if self.rfmon => Some("rfmon=True".into()),
            ffi::PCAP_ERROR_TSTAMP_PRECISION_NOTSUP => Some(format!("precision={:?}", self.precision.name())),
            _ => None,
        }
    }
}

/// `setdirection()` on the open live handle `p` of interface `label`.
///
/// # Safety
/// `p` must be an activated live handle.
pub unsafe fn set_direction(p: *mut ffi::pcap_t, label: &str, d: (libc::c_int, &str)) -> PyResult<()> {
    if ffi::pcap_setdirection(p, d.0) != 0 {
        let why = ffi::last_error(p);
        return Err(pcap_error_about(label, &format!("direction={:?} refused: {why}", d.1)));
    }
    Ok(())
}

/// One interface for `interfaces()`: name, description, addresses as
/// `(family, address, netmask, broadcast)` and flag names.
pub type RawInterface = (String, Option<String>, Vec<(i32, String, Option<String>, Option<String>)>, Vec<&'static str>);

/// Every interface libpcap can open, with its addresses and flags.
pub fn list_interfaces() -> PyResult<Vec<RawInterface>> {
    let devices = pcap::Device::list()
        .map_err(|e| crate::py::error::pcap_error(format!("interfaces: {}", crate::py::error::crate_error_text(&e))))?;
    Ok(devices.into_iter().map(describe).collect())
}

fn describe(d: pcap::Device) -> RawInterface {
    let family = |a: &std::net::IpAddr| if a.is_ipv4() { libc::AF_INET } else { libc::AF_INET6 };
    let addrs = d
        .addresses
        .iter()
        .map(|a| {
            (
                family(&a.addr),
                a.addr.to_string(),
                a.netmask.map(|m| m.to_string()),
                a.broadcast_addr.map(|b| b.to_string()),
            )
        })
        .collect();
    let f = &d.flags;
    let flags =
        [(f.is_up(), "up"), (f.is_running(), "running"), (f.is_loopback(), "loopback"), (f.is_wireless(), "wireless")]
            .into_iter()
            .filter_map(|(on, name)| on.then_some(name))
            .collect();
    (d.name, d.desc, addrs, flags)
}
