//! IPv4: the `IP` class and its decoded options (`IPOption*`).

use super::fields::{ipv4_str, py_bytes, py_ipv4, table, H, PROTOCOLS};
use super::proto::{base, hdr, new_object, protocol_class, Protocol};
use super::write::{self, Opts};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyString};

/// `IP.flags` options.
pub const FLAGS: &[(&str, u32)] = &[("MF", 1), ("DF", 2), ("RES", 4)];

/// IP option types.
pub const OPTION_TYPES: &[(&str, u32)] = &[
    ("EndOfList", 0),
    ("NOP", 1),
    ("RecordRoute", 7),
    ("InternetTimestamp", 68),
    ("Security", 130),
    ("LooseSourceRouting", 131),
    ("StreamID", 136),
    ("StrictSourceRouting", 137),
];

protocol_class!(
    /// An IPv4 header.
    Ip, "IP");

pub fn object(py: Python<'_>, base: Protocol) -> PyResult<Py<PyAny>> {
    new_object!(py, base, Ip)
}

pub fn repr(h: H<'_>) -> String {
    format!("IP: {}->{}", ipv4_str(h.ipv4(12).unwrap_or_default()), ipv4_str(h.ipv4(16).unwrap_or_default()))
}

/// Splits the option bytes into options: `(type, whole option bytes)`.
/// Stops at End of List (included) and at the first malformed option.
pub fn split_options(opts: &[u8]) -> Vec<(u8, &[u8])> {
    let mut out = Vec::new();
    let mut i = 0usize;
    while let Some(&t) = opts.get(i) {
        match t {
            0 => {
                out.push((t, opts.get(i..i + 1).unwrap_or(&[])));
                break;
            }
            1 => {
                out.push((t, opts.get(i..i + 1).unwrap_or(&[])));
                i += 1;
            }
            _ => {
                let Some(&len) = opts.get(i + 1) else { break };
                let len = len as usize;
                let Some(whole) = opts.get(i..i + len).filter(|_| len >= 2) else { break };
                out.push((t, whole));
                i += len;
            }
        }
    }
    out
}

#[pymethods]
impl Ip {
    #[setter(version)]
    fn set_version(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "IP.version", 0, 1, 4, 4, v, Opts::Plain)
    }
    #[setter(headerLength)]
    fn set_header_length(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "IP.headerLength", 0, 1, 0, 4, v, Opts::Plain)
    }
    #[setter(tos)]
    fn set_tos(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "IP.tos", 1, 1, 0, 8, v, Opts::Plain)
    }
    #[setter(length)]
    fn set_length(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "IP.length", 2, 2, 0, 16, v, Opts::Plain)
    }
    #[setter(ident)]
    fn set_ident(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "IP.ident", 4, 2, 0, 16, v, Opts::Plain)
    }
    #[setter(flags)]
    fn set_flags(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "IP.flags", 6, 1, 5, 3, v, Opts::Flags(FLAGS))
    }
    #[setter(fragmentOffset)]
    fn set_fragment_offset(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "IP.fragmentOffset", 6, 2, 0, 13, v, Opts::Plain)
    }
    #[setter(ttl)]
    fn set_ttl(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "IP.ttl", 8, 1, 0, 8, v, Opts::Plain)
    }
    #[setter(protocol)]
    fn set_protocol(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "IP.protocol", 9, 1, 0, 8, v, Opts::Names(PROTOCOLS))
    }
    #[setter(checksum)]
    fn set_checksum(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "IP.checksum", 10, 2, 0, 16, v, Opts::Plain)
    }
    #[setter(src)]
    fn set_src(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::ipv4(slf, "IP.src", 12, v)
    }
    #[setter(dst)]
    fn set_dst(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::ipv4(slf, "IP.dst", 16, v)
    }
    #[classattr]
    const TYPE: &'static str = "IP";
    #[classattr]
    #[pyo3(name = "FlagsOptions")]
    fn flags_options(py: Python<'_>) -> PyResult<Py<PyAny>> {
        table(py, FLAGS)
    }
    #[classattr]
    #[pyo3(name = "ProtocolOptions")]
    fn protocol_options(py: Python<'_>) -> PyResult<Py<PyAny>> {
        table(py, PROTOCOLS)
    }
    #[getter]
    fn version(slf: &Bound<'_, Self>) -> u8 {
        hdr(slf).u8(0) >> 4
    }
    /// Header length in 32-bit words.
    #[getter]
    #[pyo3(name = "headerLength")]
    fn header_length(slf: &Bound<'_, Self>) -> u8 {
        hdr(slf).u8(0) & 15
    }
    #[getter]
    fn tos(slf: &Bound<'_, Self>) -> u8 {
        hdr(slf).u8(1)
    }
    /// Total length of the datagram in bytes.
    #[getter]
    fn length(slf: &Bound<'_, Self>) -> u16 {
        hdr(slf).be16(2)
    }
    #[getter]
    fn ident(slf: &Bound<'_, Self>) -> u16 {
        hdr(slf).be16(4)
    }
    /// The three flag bits: MF 1, DF 2, RES 4.
    #[getter]
    fn flags(slf: &Bound<'_, Self>) -> u8 {
        hdr(slf).u8(6) >> 5
    }
    /// Fragment offset in 8-byte units.
    #[getter]
    #[pyo3(name = "fragmentOffset")]
    fn fragment_offset(slf: &Bound<'_, Self>) -> u16 {
        hdr(slf).be16(6) & 0x1fff
    }
    #[getter]
    fn ttl(slf: &Bound<'_, Self>) -> u8 {
        hdr(slf).u8(8)
    }
    #[getter]
    fn protocol(slf: &Bound<'_, Self>) -> u8 {
        hdr(slf).u8(9)
    }
    #[getter]
    fn checksum(slf: &Bound<'_, Self>) -> u16 {
        hdr(slf).be16(10)
    }
    #[getter]
    fn src<'py>(slf: &Bound<'py, Self>) -> Bound<'py, PyString> {
        py_ipv4(slf.py(), hdr(slf), 12)
    }
    #[getter]
    fn dst<'py>(slf: &Bound<'py, Self>) -> Bound<'py, PyString> {
        py_ipv4(slf.py(), hdr(slf), 16)
    }
    /// The raw option bytes (header bytes after the first 20).
    #[getter]
    #[pyo3(name = "optionsField")]
    fn options_field<'py>(slf: &Bound<'py, Self>) -> Bound<'py, PyBytes> {
        py_bytes(slf.py(), hdr(slf).from(20))
    }
    /// Raw option bytes: a multiple of 4 bytes, at most 40; the header
    /// length follows.
    #[setter(optionsField)]
    fn set_options_field(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        let b = write::bytes_arg("IP.optionsField", v)?;
        if b.len() % 4 != 0 || b.len() > 40 {
            return Err(pyo3::exceptions::PyValueError::new_err(format!(
                "IP.optionsField must be a multiple of 4 bytes, at most 40, got {}",
                b.len()
            )));
        }
        set_ip_options(slf, "IP.optionsField", &b)
    }
    /// Bytes, or a list of options, each an `IPOption` object, a `(kind,
    /// data)` tuple (as `TCP.options` takes) or the option's bytes; padded
    /// with End of List to a multiple of 4 bytes, at most 40; the header
    /// length follows.
    #[setter(options)]
    fn set_options(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        let b = write::option_bytes("IP.options", v, 4, 40, |it| match it.cast::<IpOption>() {
            Ok(o) => Ok(o.get().raw.clone()),
            Err(_) => write::kind_data("IP.options", it, &[0, 1], 2, ", IPOption objects"),
        })?;
        set_ip_options(slf, "IP.options", &b)
    }
    /// The decoded options, in order: an `IPOptionList`, a list that can
    /// also be indexed by option type name (`options["ipoptionrecordroute"]`).
    #[getter]
    fn options<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        static LIST: pyo3::sync::PyOnceLock<Py<PyAny>> = pyo3::sync::PyOnceLock::new();
        let py = slf.py();
        let p = base(slf);
        // A copy: making the option objects runs Python code.
        let opts = p.hdr(py).from(20).to_vec();
        let objs =
            split_options(&opts).into_iter().map(|(t, whole)| ip_option(py, t, whole)).collect::<PyResult<Vec<_>>>()?;
        let list = PyList::new(py, objs)?;
        let cls =
            LIST.get_or_try_init(py, || py.import("openbsd._optionlist")?.getattr("IPOptionList").map(Bound::unbind))?;
        cls.bind(py).call1((list,))
    }
}

fn set_ip_options(slf: &Bound<'_, Ip>, field: &str, b: &[u8]) -> PyResult<()> {
    base(slf).replace_header_tail(slf.py(), field, 20, b, |d, at, hlen| {
        let v = d.get(at).copied().unwrap_or(0x45);
        write::poke(d, at, (v & 0xf0) | ((hlen / 4) as u8 & 15));
    })
}

/// One decoded IP option: `optionType`, `length`, `payload` (the bytes after
/// type and length). Subclasses by type add their fields.
#[pyclass(subclass, frozen, module = "openbsd.packet", name = "IPOption")]
pub struct IpOption {
    raw: Vec<u8>,
}

fn opt_class(t: u8) -> &'static str {
    match t {
        0 => "IPOptionEndOfList",
        1 => "IPOptionNOP",
        7 => "IPOptionRecordRoute",
        68 => "IPOptionInternetTimestamp",
        130 => "IPOptionSecurity",
        131 => "IPOptionLooseSourceRouting",
        136 => "IPOptionStreamID",
        137 => "IPOptionStrictSourceRouting",
        _ => "IPOption",
    }
}

#[pymethods]
impl IpOption {
    #[classattr]
    const TYPE: &'static str = "IPOption";
    #[classattr]
    #[pyo3(name = "TypeOptions")]
    fn type_options(py: Python<'_>) -> PyResult<Py<PyAny>> {
        table(py, OPTION_TYPES)
    }
    #[getter]
    #[pyo3(name = "optionType")]
    fn option_type(&self) -> u8 {
        H(&self.raw).u8(0)
    }
    /// Option length in bytes (1 for End of List and NOP).
    #[getter]
    fn length(&self) -> u8 {
        if self.raw.len() < 2 {
            1
        } else {
            H(&self.raw).u8(1)
        }
    }
    #[getter]
    fn payload<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        py_bytes(py, H(&self.raw).from(2))
    }
    #[getter]
    fn raw<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        py_bytes(py, &self.raw)
    }
    #[pyo3(name = "isType")]
    fn is_type(&self, name: &str) -> bool {
        opt_class(H(&self.raw).u8(0)).eq_ignore_ascii_case(name) || "IPOption".eq_ignore_ascii_case(name)
    }
    fn __repr__(&self) -> String {
        format!("{} {:?}", opt_class(H(&self.raw).u8(0)), self.raw)
    }
}

impl IpOption {
    fn h(&self) -> H<'_> {
        H(&self.raw)
    }
}

macro_rules! simple_option {
    ($rust:ident, $name:literal) => {
        #[pyclass(frozen, extends = IpOption, module = "openbsd.packet", name = $name)]
        pub struct $rust;
        #[pymethods]
        impl $rust {
            #[classattr]
            const TYPE: &'static str = $name;
        }
    };
}

simple_option!(OptEndOfList, "IPOptionEndOfList");
simple_option!(OptNop, "IPOptionNOP");
simple_option!(OptSecurity, "IPOptionSecurity");
simple_option!(OptStreamId, "IPOptionStreamID");

/// Base of the route options: `pointer` and `addresses` (every 4-byte slot
/// the option holds).
#[pyclass(subclass, frozen, extends = IpOption, module = "openbsd.packet", name = "_IPOptionRouting")]
pub struct OptRouting;

#[pymethods]
impl OptRouting {
    #[getter]
    fn pointer(slf: &Bound<'_, Self>) -> u8 {
        slf.as_super().get().h().u8(2)
    }
    /// The addresses (the legacy name; the same as `addresses`).
    #[getter]
    fn addrlist(slf: &Bound<'_, Self>) -> Vec<String> {
        Self::addresses(slf)
    }
    #[getter]
    fn addresses(slf: &Bound<'_, Self>) -> Vec<String> {
        let o = slf.as_super().get();
        let h = o.h();
        let len = (h.u8(1) as usize).min(o.raw.len());
        H(h.bytes(3, len.saturating_sub(3))).0.chunks_exact(4).map(|c| ipv4_str([c[0], c[1], c[2], c[3]])).collect()
    }
}

macro_rules! route_option {
    ($rust:ident, $name:literal) => {
        #[pyclass(frozen, extends = OptRouting, module = "openbsd.packet", name = $name)]
        pub struct $rust;
        #[pymethods]
        impl $rust {
            #[classattr]
            const TYPE: &'static str = $name;
        }
    };
}

route_option!(OptLsrr, "IPOptionLooseSourceRouting");
route_option!(OptSsrr, "IPOptionStrictSourceRouting");
route_option!(OptRecordRoute, "IPOptionRecordRoute");

/// Internet Timestamp: `pointer`, `overflow`, `flag`, `payload`.
#[pyclass(frozen, extends = IpOption, module = "openbsd.packet", name = "IPOptionInternetTimestamp")]
pub struct OptTimestamp;

#[pymethods]
impl OptTimestamp {
    #[classattr]
    const TYPE: &'static str = "IPOptionInternetTimestamp";
    #[classattr]
    #[pyo3(name = "FlagOptions")]
    fn flag_options(py: Python<'_>) -> PyResult<Py<PyAny>> {
        table(py, &[("TIMESTAMP_ONLY", 0), ("IP_PRECEDES", 1), ("IP_PRESPECIFIED", 3)])
    }
    #[getter]
    fn pointer(slf: &Bound<'_, Self>) -> u8 {
        slf.as_super().get().h().u8(2)
    }
    #[getter]
    fn overflow(slf: &Bound<'_, Self>) -> u8 {
        slf.as_super().get().h().u8(3) >> 4
    }
    #[getter]
    fn flag(slf: &Bound<'_, Self>) -> u8 {
        slf.as_super().get().h().u8(3) & 15
    }
}

fn ip_option(py: Python<'_>, t: u8, whole: &[u8]) -> PyResult<Py<PyAny>> {
    let init = pyo3::PyClassInitializer::from(IpOption { raw: whole.to_vec() });
    let obj = match t {
        0 => Py::new(py, init.add_subclass(OptEndOfList))?.into_any(),
        1 => Py::new(py, init.add_subclass(OptNop))?.into_any(),
        7 => Py::new(py, init.add_subclass(OptRouting).add_subclass(OptRecordRoute))?.into_any(),
        68 => Py::new(py, init.add_subclass(OptTimestamp))?.into_any(),
        130 => Py::new(py, init.add_subclass(OptSecurity))?.into_any(),
        131 => Py::new(py, init.add_subclass(OptRouting).add_subclass(OptLsrr))?.into_any(),
        136 => Py::new(py, init.add_subclass(OptStreamId))?.into_any(),
        137 => Py::new(py, init.add_subclass(OptRouting).add_subclass(OptSsrr))?.into_any(),
        _ => Py::new(py, init)?.into_any(),
    };
    Ok(obj)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Ip>()?;
    m.add_class::<IpOption>()?;
    m.add_class::<OptEndOfList>()?;
    m.add_class::<OptNop>()?;
    m.add_class::<OptSecurity>()?;
    m.add_class::<OptStreamId>()?;
    m.add_class::<OptRouting>()?;
    m.add_class::<OptLsrr>()?;
    m.add_class::<OptSsrr>()?;
    m.add_class::<OptRecordRoute>()?;
    m.add_class::<OptTimestamp>()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_split_and_stop() {
        let o = [1, 7, 7, 4, 0, 0, 0, 0, 0, 0xff];
        let v = split_options(&o);
        assert_eq!(v.len(), 3);
        assert_eq!(v[1].1.len(), 7);
        assert_eq!(v[2].0, 0);
        assert_eq!(split_options(&[7, 40, 4]).len(), 0);
        assert_eq!(split_options(&[7, 1]).len(), 0);
    }
}
