//! Transport protocols: `TCP` (with decoded options) and `UDP`.

use super::fields::{py_bytes, table, H};
use super::layer::Kind;
use super::proto::{base, hdr, new_object, protocol_class, Protocol};
use super::write::{self, Opts};
use pyo3::prelude::*;
use pyo3::types::{PyList, PyTuple};

/// `TCP.flags` options (the whole flags byte).
pub const TCP_FLAGS: &[(&str, u32)] =
    &[("URG", 32), ("ACK", 16), ("PSH", 8), ("RST", 4), ("SYN", 2), ("FIN", 1), ("ECE", 64), ("CWR", 128)];

protocol_class!(
    /// A TCP header.
    Tcp, "TCP");
protocol_class!(
    /// A UDP header.
    Udp, "UDP");

pub fn object(py: Python<'_>, base: Protocol) -> PyResult<Py<PyAny>> {
    match base.kind() {
        Kind::Tcp => new_object!(py, base, Tcp),
        _ => new_object!(py, base, Udp),
    }
}

pub fn repr(kind: Kind, h: H<'_>) -> String {
    let name = if kind == Kind::Tcp { "TCP" } else { "UDP" };
    format!("{name}: {}->{}", h.be16(0), h.be16(2))
}

/// Splits TCP option bytes into `(kind, data)`: data is what follows kind
/// and length (empty for End of List and NOP). Stops after End of List and
/// at the first malformed option.
pub fn split_tcp_options(opts: &[u8]) -> Vec<(u8, &[u8])> {
    let mut out = Vec::new();
    let mut i = 0usize;
    while let Some(&k) = opts.get(i) {
        match k {
            0 => {
                out.push((0, &[][..]));
                break;
            }
            1 => {
                out.push((1, &[][..]));
                i += 1;
            }
            _ => {
                let Some(&len) = opts.get(i + 1) else { break };
                let len = len as usize;
                if len < 2 {
                    break;
                }
                let Some(data) = opts.get(i + 2..i + len) else { break };
                out.push((k, data));
                i += len;
            }
        }
    }
    out
}

#[pymethods]
impl Tcp {
    #[setter(srcPort)]
    fn set_src_port(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "TCP.srcPort", 0, 2, 0, 16, v, Opts::Plain)
    }
    #[setter(dstPort)]
    fn set_dst_port(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "TCP.dstPort", 2, 2, 0, 16, v, Opts::Plain)
    }
    #[setter(seq_num)]
    fn set_seq_num(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "TCP.seq_num", 4, 4, 0, 32, v, Opts::Plain)
    }
    #[setter(ack_num)]
    fn set_ack_num(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "TCP.ack_num", 8, 4, 0, 32, v, Opts::Plain)
    }
    #[setter(dataOffset)]
    fn set_data_offset(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "TCP.dataOffset", 12, 1, 4, 4, v, Opts::Plain)
    }
    #[setter(reserved)]
    fn set_reserved(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "TCP.reserved", 12, 1, 0, 4, v, Opts::Plain)
    }
    #[setter(flags)]
    fn set_flags(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "TCP.flags", 13, 1, 0, 8, v, Opts::Flags(TCP_FLAGS))
    }
    #[setter(window)]
    fn set_window(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "TCP.window", 14, 2, 0, 16, v, Opts::Plain)
    }
    #[setter(checksum)]
    fn set_checksum(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "TCP.checksum", 16, 2, 0, 16, v, Opts::Plain)
    }
    #[setter(urgent)]
    fn set_urgent(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "TCP.urgent", 18, 2, 0, 16, v, Opts::Plain)
    }
    #[classattr]
    const TYPE: &'static str = "TCP";
    #[classattr]
    #[pyo3(name = "FlagsOptions")]
    fn flags_options(py: Python<'_>) -> PyResult<Py<PyAny>> {
        table(py, TCP_FLAGS)
    }
    #[getter]
    #[pyo3(name = "srcPort")]
    fn src_port(slf: &Bound<'_, Self>) -> u16 {
        hdr(slf).be16(0)
    }
    #[getter]
    #[pyo3(name = "dstPort")]
    fn dst_port(slf: &Bound<'_, Self>) -> u16 {
        hdr(slf).be16(2)
    }
    #[getter]
    fn seq_num(slf: &Bound<'_, Self>) -> u32 {
        hdr(slf).be32(4)
    }
    #[getter]
    fn ack_num(slf: &Bound<'_, Self>) -> u32 {
        hdr(slf).be32(8)
    }
    /// Header length in 32-bit words.
    #[getter]
    #[pyo3(name = "dataOffset")]
    fn data_offset(slf: &Bound<'_, Self>) -> u8 {
        hdr(slf).u8(12) >> 4
    }
    /// The four reserved bits (including the old NS bit).
    #[getter]
    fn reserved(slf: &Bound<'_, Self>) -> u8 {
        hdr(slf).u8(12) & 15
    }
    /// The flags byte: CWR 128, ECE 64, URG 32, ACK 16, PSH 8, RST 4, SYN 2, FIN 1.
    #[getter]
    fn flags(slf: &Bound<'_, Self>) -> u8 {
        hdr(slf).u8(13)
    }
    #[getter]
    fn window(slf: &Bound<'_, Self>) -> u16 {
        hdr(slf).be16(14)
    }
    #[getter]
    fn checksum(slf: &Bound<'_, Self>) -> u16 {
        hdr(slf).be16(16)
    }
    #[getter]
    fn urgent(slf: &Bound<'_, Self>) -> u16 {
        hdr(slf).be16(18)
    }
    /// Bytes, or a list of options, each a `(kind, data)` tuple or the
    /// option's bytes; padded with End of List to a multiple of 4 bytes, at
    /// most 40; the data offset follows.
    #[setter(options)]
    fn set_options(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        let b = write::option_bytes("TCP.options", v, 4, 40, |it| write::kind_data("TCP.options", it, &[0, 1], 2, ""))?;
        base(slf).replace_header_tail(slf.py(), "TCP.options", 20, &b, |d, at, hlen| {
            let v = d.get(at + 12).copied().unwrap_or(0);
            write::poke(d, at + 12, (((hlen / 4) as u8) << 4) | (v & 15));
        })
    }
    /// The options as a list of `(kind, data)`.
    #[getter]
    fn options<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyList>> {
        let py = slf.py();
        // A copy: making the tuples runs Python code.
        let opts = hdr(slf).from(20).to_vec();
        let items = split_tcp_options(&opts)
            .into_iter()
            .map(|(k, d)| PyTuple::new(py, [k.into_pyobject(py)?.into_any(), py_bytes(py, d).into_any()]))
            .collect::<PyResult<Vec<_>>>()?;
        PyList::new(py, items)
    }
}

#[pymethods]
impl Udp {
    #[setter(srcPort)]
    fn set_src_port(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "UDP.srcPort", 0, 2, 0, 16, v, Opts::Plain)
    }
    #[setter(dstPort)]
    fn set_dst_port(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "UDP.dstPort", 2, 2, 0, 16, v, Opts::Plain)
    }
    #[setter(length)]
    fn set_length(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "UDP.length", 4, 2, 0, 16, v, Opts::Plain)
    }
    #[setter(checksum)]
    fn set_checksum(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "UDP.checksum", 6, 2, 0, 16, v, Opts::Plain)
    }
    #[classattr]
    const TYPE: &'static str = "UDP";
    #[getter]
    #[pyo3(name = "srcPort")]
    fn src_port(slf: &Bound<'_, Self>) -> u16 {
        hdr(slf).be16(0)
    }
    #[getter]
    #[pyo3(name = "dstPort")]
    fn dst_port(slf: &Bound<'_, Self>) -> u16 {
        hdr(slf).be16(2)
    }
    #[getter]
    fn length(slf: &Bound<'_, Self>) -> u16 {
        hdr(slf).be16(4)
    }
    #[getter]
    fn checksum(slf: &Bound<'_, Self>) -> u16 {
        hdr(slf).be16(6)
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Tcp>()?;
    m.add_class::<Udp>()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tcp_options() {
        let o = [2, 4, 5, 0xb4, 1, 1, 4, 2, 1, 3, 3, 0];
        let v = split_tcp_options(&o);
        assert_eq!(
            v,
            vec![(2, &[5u8, 0xb4][..]), (1, &[][..]), (1, &[][..]), (4, &[][..]), (1, &[][..]), (3, &[0u8][..])]
        );
        assert_eq!(split_tcp_options(&[8, 10, 1]), vec![]);
        assert_eq!(split_tcp_options(&[0, 1, 1]), vec![(0, &[][..])]);
    }
}
