//! DHCP (BOOTP with the DHCP magic cookie), decoded over UDP 67/68.

use super::fields::{padded_str, py_bytes, py_ipv4, py_mac, table};
use super::proto::{base, hdr, new_object, protocol_class, Protocol};
use super::write::{self, Opts};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyList, PyString, PyTuple};

/// `DHCP.flags` options.
pub const DHCP_FLAGS: &[(&str, u32)] = &[("UNICAST", 0), ("BROADCAST", 0x8000)];
/// `DHCP.op` options.
pub const OPS: &[(&str, u32)] = &[("BOOTREQUEST", 1), ("BOOTREPLY", 2)];

protocol_class!(
    /// A DHCP message: the fixed BOOTP part and the magic cookie are the
    /// header, the options are the payload.
    Dhcp, "DHCP");

pub fn object(py: Python<'_>, base: Protocol) -> PyResult<Py<PyAny>> {
    new_object!(py, base, Dhcp)
}

/// The options area of the smallest BOOTP message (300 bytes, RFC 951 and
/// RFC 1542: relays may drop shorter ones) after the 236-byte header and the
/// 4-byte magic cookie.
const MIN_OPTIONS: usize = 300 - 240;

/// Splits DHCP options into `(code, data)`, skipping pad (0) and stopping
/// at end (255) or at the first truncated option.
pub fn split_dhcp_options(opts: &[u8]) -> Vec<(u8, &[u8])> {
    let mut out = Vec::new();
    let mut i = 0usize;
    while let Some(&c) = opts.get(i) {
        match c {
            0 => i += 1,
            255 => break,
            _ => {
                let Some(&len) = opts.get(i + 1) else { break };
                let Some(data) = opts.get(i + 2..i + 2 + len as usize) else { break };
                out.push((c, data));
                i += 2 + len as usize;
            }
        }
    }
    out
}

#[pymethods]
impl Dhcp {
    #[setter(op)]
    fn set_op(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "DHCP.op", 0, 1, 0, 8, v, Opts::Names(OPS))
    }
    #[setter(htype)]
    fn set_htype(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "DHCP.htype", 1, 1, 0, 8, v, Opts::Plain)
    }
    #[setter(hlen)]
    fn set_hlen(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "DHCP.hlen", 2, 1, 0, 8, v, Opts::Plain)
    }
    #[setter(hops)]
    fn set_hops(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "DHCP.hops", 3, 1, 0, 8, v, Opts::Plain)
    }
    #[setter(xid)]
    fn set_xid(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "DHCP.xid", 4, 4, 0, 32, v, Opts::Plain)
    }
    #[setter(secs)]
    fn set_secs(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "DHCP.secs", 8, 2, 0, 16, v, Opts::Plain)
    }
    #[setter(flags)]
    fn set_flags(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "DHCP.flags", 10, 2, 0, 16, v, Opts::Flags(DHCP_FLAGS))
    }
    #[setter(ciaddr)]
    fn set_ciaddr(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::ipv4(slf, "DHCP.ciaddr", 12, v)
    }
    #[setter(yiaddr)]
    fn set_yiaddr(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::ipv4(slf, "DHCP.yiaddr", 16, v)
    }
    #[setter(siaddr)]
    fn set_siaddr(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::ipv4(slf, "DHCP.siaddr", 20, v)
    }
    #[setter(giaddr)]
    fn set_giaddr(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::ipv4(slf, "DHCP.giaddr", 24, v)
    }
    #[setter(chaddr)]
    fn set_chaddr(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::mac(slf, "DHCP.chaddr", 28, v)
    }
    #[setter(sname)]
    fn set_sname(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::padded(slf, "DHCP.sname", 44, 64, v)
    }
    #[setter(filename)]
    fn set_filename(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::padded(slf, "DHCP.filename", 108, 128, v)
    }
    #[setter(cookie)]
    fn set_cookie(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "DHCP.cookie", 236, 4, 0, 32, v, Opts::Plain)
    }
    #[classattr]
    const TYPE: &'static str = "DHCP";
    #[classattr]
    #[pyo3(name = "FlagsOptions")]
    fn flags_options(py: Python<'_>) -> PyResult<Py<PyAny>> {
        table(py, DHCP_FLAGS)
    }
    #[classattr]
    #[pyo3(name = "OpOptions")]
    fn op_options(py: Python<'_>) -> PyResult<Py<PyAny>> {
        table(py, OPS)
    }
    #[getter]
    fn op(slf: &Bound<'_, Self>) -> u8 {
        hdr(slf).u8(0)
    }
    #[getter]
    fn htype(slf: &Bound<'_, Self>) -> u8 {
        hdr(slf).u8(1)
    }
    #[getter]
    fn hlen(slf: &Bound<'_, Self>) -> u8 {
        hdr(slf).u8(2)
    }
    #[getter]
    fn hops(slf: &Bound<'_, Self>) -> u8 {
        hdr(slf).u8(3)
    }
    #[getter]
    fn xid(slf: &Bound<'_, Self>) -> u32 {
        hdr(slf).be32(4)
    }
    #[getter]
    fn secs(slf: &Bound<'_, Self>) -> u16 {
        hdr(slf).be16(8)
    }
    #[getter]
    fn flags(slf: &Bound<'_, Self>) -> u16 {
        hdr(slf).be16(10)
    }
    #[getter]
    fn ciaddr<'py>(slf: &Bound<'py, Self>) -> Bound<'py, PyString> {
        py_ipv4(slf.py(), hdr(slf), 12)
    }
    #[getter]
    fn yiaddr<'py>(slf: &Bound<'py, Self>) -> Bound<'py, PyString> {
        py_ipv4(slf.py(), hdr(slf), 16)
    }
    #[getter]
    fn siaddr<'py>(slf: &Bound<'py, Self>) -> Bound<'py, PyString> {
        py_ipv4(slf.py(), hdr(slf), 20)
    }
    #[getter]
    fn giaddr<'py>(slf: &Bound<'py, Self>) -> Bound<'py, PyString> {
        py_ipv4(slf.py(), hdr(slf), 24)
    }
    /// Client hardware address: the first 6 bytes, as a MAC string.
    #[getter]
    fn chaddr<'py>(slf: &Bound<'py, Self>) -> Bound<'py, PyString> {
        py_mac(slf.py(), hdr(slf), 28)
    }
    #[getter]
    fn sname(slf: &Bound<'_, Self>) -> String {
        padded_str(hdr(slf).bytes(44, 64))
    }
    #[getter]
    fn filename(slf: &Bound<'_, Self>) -> String {
        padded_str(hdr(slf).bytes(108, 128))
    }
    #[getter]
    fn cookie(slf: &Bound<'_, Self>) -> u32 {
        hdr(slf).be32(236)
    }
    /// A list of `(code, data)` (an end option is added, then zero bytes
    /// up to the 300-byte minimum of a BOOTP message), or the raw bytes:
    /// they replace the DHCP payload.
    #[setter(options)]
    fn set_options(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        let b = if v.is_instance_of::<PyList>() || v.is_instance_of::<PyTuple>() {
            let mut b = write::option_bytes("DHCP.options", v, 1, 65535, |it| {
                let b = write::kind_data("DHCP.options", it, &[0, 255], 0, "")?;
                match b.first() {
                    // The getter leaves them out and the setter writes them:
                    // in a list they would hide the options after them.
                    Some(&k @ (0 | 255)) => Err(PyValueError::new_err(format!(
                        "DHCP.options: a list cannot hold option {k} ({}): End and the padding are added (assign bytes to write them yourself)",
                        if k == 0 { "Pad" } else { "End" }
                    ))),
                    _ => Ok(b),
                }
            })?;
            b.push(255);
            if b.len() < MIN_OPTIONS {
                b.resize(MIN_OPTIONS, 0);
            }
            b
        } else {
            write::bytes_arg("DHCP.options", v)?
        };
        base(slf).replace_payload(slf.py(), "DHCP.options", &b)
    }
    /// The options as a list of `(code, data)`, without pad and end.
    #[getter]
    fn options<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyList>> {
        let py = slf.py();
        let p = base(slf);
        // A copy: making the tuples runs Python code.
        let opts = p.payload_bytes(py).to_vec();
        let items = split_dhcp_options(&opts)
            .into_iter()
            .map(|(c, d)| PyTuple::new(py, [c.into_pyobject(py)?.into_any(), py_bytes(py, d).into_any()]))
            .collect::<PyResult<Vec<_>>>()?;
        PyList::new(py, items)
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Dhcp>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dhcp_options() {
        let o = [53, 1, 3, 0, 0, 61, 2, 1, 2, 255, 1, 1];
        assert_eq!(split_dhcp_options(&o), vec![(53, &[3u8][..]), (61, &[1u8, 2][..])]);
        assert_eq!(split_dhcp_options(&[53, 5, 1]), vec![]);
    }
}
