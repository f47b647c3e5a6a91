//! Writing fields: Python values converted and checked (integers with their
//! range, option names, flag lists, addresses, MAC addresses, padded names),
//! then stored in the packet's bytes; and the changes that resize a layer
//! (payloads, header options), which fix the enclosing length fields and
//! re-locate the layers after them.
//!
//! Every Python value is converted before the packet is touched (a
//! conversion can run Python code: `__index__`, `__bytes__`), and nothing
//! here runs Python code while it writes.

use super::fields::H;
use super::layer::{Kind, Layer};
use super::proto::{base, IsProtocol, Protocol, DETACHED};
use crate::py::args::{int_value, type_name, Int};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyFrozenSet, PyList, PySet, PyString, PyTuple};
use std::net::{Ipv4Addr, Ipv6Addr};
use std::ops::Range;

/// The named values a field accepts besides numbers.
#[derive(Clone, Copy)]
pub enum Opts {
    /// Numbers only.
    Plain,
    /// One name of the table (ASCII case-insensitively).
    Names(&'static [(&'static str, u32)]),
    /// A name, or a list of names and numbers whose OR is the value.
    Flags(&'static [(&'static str, u32)]),
}

fn repr_of(v: &Bound<'_, PyAny>) -> String {
    v.repr().map(|r| r.to_string()).unwrap_or_else(|_| "?".to_owned())
}

fn range_error(field: &str, max: u64, got: &str) -> PyErr {
    PyValueError::new_err(format!("{field} must be in 0..{max}, got {got}"))
}

fn lookup(table: &[(&str, u32)], name: &str) -> Option<u64> {
    table.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| *v as u64)
}

fn unknown_name(field: &str, table: &[(&str, u32)], name: &str) -> PyErr {
    let names = table.iter().map(|(k, _)| *k).collect::<Vec<_>>().join(", ");
    PyValueError::new_err(format!("{field} must be a number or one of {names}, got '{name}'"))
}

/// A Python int (or an object with `__index__`) in `0..=max`.
fn plain_int(field: &str, v: &Bound<'_, PyAny>, max: u64) -> PyResult<u64> {
    let n = int_value(v, field)?;
    match n {
        Int::Value(n) if (0..=max as i128).contains(&n) => Ok(n as u64),
        _ => Err(range_error(field, max, &n.text(v))),
    }
}

/// The value of an integer field: a number in `0..=max`, or an option name
/// (or, for flags, a list of names and numbers, OR-ed).
pub fn int_arg(field: &str, v: &Bound<'_, PyAny>, max: u64, opts: Opts) -> PyResult<u64> {
    let table = match opts {
        Opts::Plain => None,
        Opts::Names(t) | Opts::Flags(t) => Some(t),
    };
    if let Ok(s) = v.cast::<PyString>() {
        let s = s.to_str()?;
        return match table {
            Some(t) => match lookup(t, s) {
                Some(n) if n <= max => Ok(n),
                Some(n) => Err(range_error(field, max, &n.to_string())),
                None => Err(unknown_name(field, t, s)),
            },
            None => Err(PyTypeError::new_err(format!("{field} must be an int, not str"))),
        };
    }
    if let (Opts::Flags(t), true) = (
        opts,
        v.is_instance_of::<PyList>()
            || v.is_instance_of::<PyTuple>()
            || v.is_instance_of::<PySet>()
            || v.is_instance_of::<PyFrozenSet>(),
    ) {
        let mut acc = 0u64;
        for item in v.try_iter()? {
            let item = item?;
            let n = if let Ok(s) = item.cast::<PyString>() {
                let s = s.to_str()?;
                lookup(t, s).ok_or_else(|| unknown_name(field, t, s))?
            } else {
                plain_int(field, &item, max)?
            };
            acc |= n;
        }
        if acc > max {
            return Err(range_error(field, max, &acc.to_string()));
        }
        return Ok(acc);
    }
    plain_int(field, v, max)
}

/// An IP address of `N` bytes from its string (parsed as `A`) or its bytes;
/// `kind` names it in the error.
fn addr_arg<A, const N: usize>(
    field: &str,
    v: &Bound<'_, PyAny>,
    kind: &str,
    octets: fn(A) -> [u8; N],
) -> PyResult<[u8; N]>
where
    A: std::str::FromStr,
{
    if let Ok(s) = v.cast::<PyString>() {
        if let Ok(a) = s.to_str()?.parse::<A>() {
            return Ok(octets(a));
        }
    } else if let Ok(b) = v.cast::<PyBytes>() {
        if let Ok(a) = <[u8; N]>::try_from(b.as_bytes()) {
            return Ok(a);
        }
    }
    Err(PyValueError::new_err(format!("{field} must be an {kind} address, got {}", repr_of(v))))
}

/// An IPv4 address from its dotted string (or 4 bytes).
pub fn ipv4_arg(field: &str, v: &Bound<'_, PyAny>) -> PyResult<[u8; 4]> {
    addr_arg(field, v, "IPv4", |a: Ipv4Addr| a.octets())
}

/// An IPv6 address from its string (or 16 bytes).
pub fn ipv6_arg(field: &str, v: &Bound<'_, PyAny>) -> PyResult<[u8; 16]> {
    addr_arg(field, v, "IPv6", |a: Ipv6Addr| a.octets())
}

/// Colon (or dash) separated hex bytes, `n` of them (any number from 1 to 16
/// when `n` is `None`).
fn parse_hw(s: &str, n: Option<usize>) -> Option<Vec<u8>> {
    let parts: Vec<&str> = s.split([':', '-']).collect();
    let ok_count = match n {
        Some(n) => parts.len() == n,
        None => (1..=16).contains(&parts.len()),
    };
    if !ok_count {
        return None;
    }
    parts.iter().map(|p| if p.is_empty() || p.len() > 2 { None } else { u8::from_str_radix(p, 16).ok() }).collect()
}

/// A hardware address of `n` bytes (1 to 16 when `None`) from its
/// colon-hex string (or bytes).
pub fn hw_arg(field: &str, v: &Bound<'_, PyAny>, n: Option<usize>) -> PyResult<Vec<u8>> {
    if let Ok(s) = v.cast::<PyString>() {
        if let Some(a) = parse_hw(s.to_str()?, n) {
            return Ok(a);
        }
    } else if let Ok(b) = v.cast::<PyBytes>() {
        let b = b.as_bytes();
        if n.map_or(!b.is_empty() && b.len() <= 16, |n| b.len() == n) {
            return Ok(b.to_vec());
        }
    }
    let what = match n {
        Some(6) => "a MAC address".to_owned(),
        Some(n) => format!("a hardware address of {n} bytes"),
        None => "a hardware address".to_owned(),
    };
    Err(PyValueError::new_err(format!("{field} must be {what}, got {}", repr_of(v))))
}

/// A name stored NUL-padded in `size` bytes (at most `size - 1` of text).
pub fn padded_arg(field: &str, v: &Bound<'_, PyAny>, size: usize) -> PyResult<Vec<u8>> {
    let text: Vec<u8> = if let Ok(s) = v.cast::<PyString>() {
        s.to_str()?.as_bytes().to_vec()
    } else if let Ok(b) = v.cast::<PyBytes>() {
        b.as_bytes().to_vec()
    } else {
        return Err(PyTypeError::new_err(format!("{field} must be a str, not {}", type_name(v))));
    };
    if text.len() >= size {
        return Err(PyValueError::new_err(format!("{field} must be at most {} bytes, got {}", size - 1, text.len())));
    }
    if text.contains(&0) {
        return Err(PyValueError::new_err(format!("{field} must not contain NUL")));
    }
    let mut out = text;
    out.resize(size, 0);
    Ok(out)
}

/// Bytes from a bytes-like object.
pub fn bytes_arg(field: &str, v: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    if v.is_instance_of::<PyString>() {
        return Err(PyTypeError::new_err(format!("{field} must be bytes, not str")));
    }
    crate::py::args::packet_bytes(v)
        .map(|c| c.into_owned())
        .map_err(|_| PyTypeError::new_err(format!("{field} must be bytes, not {}", type_name(v))))
}

fn outside(field: &str) -> PyErr {
    PyValueError::new_err(format!("{field} lies outside the captured bytes of its header"))
}

/// Reads `n` (1..=8) big-endian bytes.
fn get_be(s: &[u8]) -> u64 {
    s.iter().fold(0u64, |acc, &b| (acc << 8) | b as u64)
}

fn put_be(s: &mut [u8], v: u64) {
    let n = s.len();
    for (i, b) in s.iter_mut().enumerate() {
        *b = (v >> (8 * (n - 1 - i))) as u8;
    }
}

/// Writing fields of one protocol object.
impl Protocol {
    /// Stores `bytes` at `rel` bytes from the start of this protocol's
    /// header, within the header as the getters read it (`Protocol::hdr`):
    /// a field a getter reads as 0 because the header does not reach it (an
    /// ICMP object whose type was changed to one with a shorter header, a
    /// view of a layer the packet shrank under) is not written either.
    pub fn put(&self, py: Python<'_>, field: &str, rel: usize, bytes: &[u8]) -> PyResult<()> {
        self.put_within(py, field, rel, bytes, Layer::payload_start)
    }

    /// Stores `bytes` at `rel` bytes from the start of this protocol's
    /// header, anywhere in the layer (header or payload): for the fields
    /// read from the payload (ICMPv6 options).
    pub fn put_in_layer(&self, py: Python<'_>, field: &str, rel: usize, bytes: &[u8]) -> PyResult<()> {
        self.put_within(py, field, rel, bytes, Layer::end)
    }

    /// Stores `bytes` at `rel`, ending at most at `limit` of the layer.
    fn put_within(
        &self,
        py: Python<'_>,
        field: &str,
        rel: usize,
        bytes: &[u8],
        limit: fn(&Layer) -> usize,
    ) -> PyResult<()> {
        let l = self.layer(py);
        let limit = limit(&l);
        let at = l.hdr_start() + rel;
        let end = at + bytes.len();
        if end > limit || end > self.data(py).len() {
            return Err(outside(field));
        }
        let write = |d: &mut Vec<u8>, _: &_| {
            if let Some(s) = d.get_mut(at..end) {
                s.copy_from_slice(bytes);
            }
        };
        let pkt = self.pkt.get();
        if self.idx == DETACHED {
            pkt.modify(py, write);
        } else {
            pkt.modify_field(py, self.idx as usize, l.kind, write);
        }
        Ok(())
    }

    /// Sets bits `shift..shift + width` of the `n`-byte big-endian number at
    /// `rel` to the value of `v`.
    #[allow(clippy::too_many_arguments)]
    pub fn set_bits(
        &self,
        py: Python<'_>,
        field: &str,
        rel: usize,
        n: usize,
        shift: u32,
        width: u32,
        v: &Bound<'_, PyAny>,
        opts: Opts,
    ) -> PyResult<()> {
        let max = if width >= 64 { u64::MAX } else { (1u64 << width) - 1 };
        let val = int_arg(field, v, max, opts)?;
        let l = self.layer(py);
        let at = l.hdr_start() + rel;
        let cur =
            self.data(py).get(at..at + n).filter(|_| at + n <= l.payload_start()).ok_or_else(|| outside(field))?;
        let mask = max << shift;
        let new = (get_be(cur) & !mask) | ((val << shift) & mask);
        let mut buf = [0u8; 8];
        let out = buf.get_mut(..n).ok_or_else(|| outside(field))?;
        put_be(out, new);
        self.put(py, field, rel, out)
    }

    /// A 4-byte field stored in the capturing host's byte order (`Enc`).
    pub fn set_host32(
        &self,
        py: Python<'_>,
        field: &str,
        rel: usize,
        v: &Bound<'_, PyAny>,
        opts: Opts,
    ) -> PyResult<()> {
        let val = int_arg(field, v, u32::MAX as u64, opts)? as u32;
        let val = if self.swapped() { val.swap_bytes() } else { val };
        self.put(py, field, rel, &val.to_ne_bytes())
    }

    /// Replaces bytes `range` (absolute offsets inside this layer; inside
    /// its header when `in_header`) with `new`: the packet grows or
    /// shrinks, the length fields of this layer and of those enclosing it
    /// (IP total length, IPv6 payload length, UDP length) follow, `fix`
    /// then adjusts this layer's header (its header length field, given the
    /// header's start and new length), and the layers are located again.
    pub fn splice(
        &self,
        py: Python<'_>,
        field: &str,
        range: Range<usize>,
        in_header: bool,
        new: &[u8],
        fix: impl FnOnce(&mut [u8], usize, usize),
    ) -> PyResult<()> {
        let pkt = self.pkt.get();
        let l = self.layer(py);
        let idx = self.idx as usize;
        let current = pkt.layers(py).get(idx).copied();
        if self.idx == DETACHED || current != Some(l) {
            return Err(PyValueError::new_err(format!(
                "{field}: this header is not part of its packet's stack, it cannot be resized"
            )));
        }
        if range.start < l.hdr_start() || range.end > l.end() || range.start > range.end {
            return Err(outside(field));
        }
        let delta = new.len() as i64 - range.len() as i64;
        // The length fields of this layer and the enclosing ones.
        let data = self.data(py);
        let mut updates: Vec<(usize, u16)> = Vec::new();
        for e in pkt.layers(py).as_slice().iter().take(idx + 1) {
            let h = H(data.get(e.hdr_start()..e.payload_start()).unwrap_or(&[]));
            let (at, name) = match e.kind {
                Kind::Ip => (2, "IP.length"),
                Kind::Ipv6 => (4, "IPv6.payloadlength"),
                Kind::Udp => (4, "UDP.length"),
                _ => continue,
            };
            let cur = h.be16(at) as i64;
            // Zero: TSO captures / jumbograms, no length to follow.
            if cur == 0 {
                continue;
            }
            let n = cur + delta;
            if !(0..=65535).contains(&n) {
                return Err(PyValueError::new_err(format!("{field}: the change makes {name} {n}, outside 0..65535")));
            }
            updates.push((e.hdr_start() + at, n as u16));
        }
        let hdr_start = l.hdr_start();
        let new_hlen = if in_header { (l.hlen as i64 + delta).max(0) as usize } else { l.hlen as usize };
        pkt.modify(py, |d, _| {
            let (a, b) = (range.start.min(d.len()), range.end.min(d.len()));
            d.splice(a..b, new.iter().copied());
            for (at, n) in updates {
                if let Some(s) = d.get_mut(at..at + 2) {
                    s.copy_from_slice(&n.to_be_bytes());
                }
            }
            fix(d, hdr_start, new_hlen);
        });
        Ok(())
    }

    /// Replaces this protocol's header bytes from `rel` (relative to the
    /// header start) to the end of the header with `new`.
    pub fn replace_header_tail(
        &self,
        py: Python<'_>,
        field: &str,
        rel: usize,
        new: &[u8],
        fix: impl FnOnce(&mut [u8], usize, usize),
    ) -> PyResult<()> {
        let l = self.layer(py);
        let start = l.hdr_start() + rel;
        if start > l.payload_start() {
            return Err(outside(field));
        }
        self.splice(py, field, start..l.payload_start(), true, new, fix)
    }

    /// Replaces the payload (the bytes after the header).
    pub fn replace_payload(&self, py: Python<'_>, field: &str, new: &[u8]) -> PyResult<()> {
        let l = self.layer(py);
        self.splice(py, field, l.payload_start()..l.end(), false, new, |_, _, _| {})
    }
}

/// Option bytes for a header: `v` is bytes, or a list whose items `item`
/// encodes; padded with zero bytes (End of List) to a multiple of `align`,
/// at most `max` bytes.
pub fn option_bytes(
    field: &str,
    v: &Bound<'_, PyAny>,
    align: usize,
    max: usize,
    item: impl Fn(&Bound<'_, PyAny>) -> PyResult<Vec<u8>>,
) -> PyResult<Vec<u8>> {
    let mut out = Vec::new();
    if v.is_instance_of::<PyList>() || v.is_instance_of::<PyTuple>() {
        for it in v.try_iter()? {
            out.extend(item(&it?)?);
        }
    } else {
        out = bytes_arg(field, v)?;
    }
    while out.len() % align != 0 {
        out.push(0);
    }
    if out.len() > max {
        return Err(PyValueError::new_err(format!("{field} must be at most {max} bytes, got {}", out.len())));
    }
    Ok(out)
}

/// One item of an option list (`IP.options`, `TCP.options`,
/// `DHCP.options`), one rule for all: a `(kind, data)` tuple, or bytes
/// holding one whole option as on the wire (written as given). In a tuple,
/// `one_byte` kinds are a single byte (data empty); others are kind, length
/// (counting `len_extra` more bytes than the data) and data. `also` names
/// what else the caller takes, for the error message.
pub fn kind_data(
    field: &str,
    it: &Bound<'_, PyAny>,
    one_byte: &[u8],
    len_extra: usize,
    also: &str,
) -> PyResult<Vec<u8>> {
    let bad = |what: String| {
        PyTypeError::new_err(format!("{field} items must be (kind, data) tuples{also} or bytes, not {what}"))
    };
    let Ok(t) = it.cast::<PyTuple>() else {
        return bytes_arg(field, it).map_err(|_| bad(type_name(it)));
    };
    if t.len() != 2 {
        return Err(bad(format!("a tuple of length {}", t.len())));
    }
    let kind = plain_int(field, &t.get_item(0)?, 255)? as u8;
    let data = bytes_arg(field, &t.get_item(1)?)?;
    if one_byte.contains(&kind) {
        if !data.is_empty() {
            return Err(PyValueError::new_err(format!("{field}: option {kind} carries no data")));
        }
        return Ok(vec![kind]);
    }
    let len = data.len() + len_extra;
    if len > 255 {
        return Err(PyValueError::new_err(format!(
            "{field}: option {kind} data must be at most {} bytes, got {}",
            255 - len_extra,
            data.len()
        )));
    }
    let mut out = vec![kind, len as u8];
    out.extend(data);
    Ok(out)
}

/// Stores one byte at an absolute offset (for `fix` closures).
pub fn poke(d: &mut [u8], at: usize, v: u8) {
    if let Some(b) = d.get_mut(at) {
        *b = v;
    }
}

// Short forms for the setters of the protocol classes.

#[allow(clippy::too_many_arguments)]
pub fn bits<T: IsProtocol>(
    slf: &Bound<'_, T>,
    field: &str,
    rel: usize,
    n: usize,
    shift: u32,
    width: u32,
    v: &Bound<'_, PyAny>,
    opts: Opts,
) -> PyResult<()> {
    base(slf).set_bits(slf.py(), field, rel, n, shift, width, v, opts)
}

pub fn ipv4<T: IsProtocol>(slf: &Bound<'_, T>, field: &str, rel: usize, v: &Bound<'_, PyAny>) -> PyResult<()> {
    let a = ipv4_arg(field, v)?;
    base(slf).put(slf.py(), field, rel, &a)
}

pub fn ipv6<T: IsProtocol>(slf: &Bound<'_, T>, field: &str, rel: usize, v: &Bound<'_, PyAny>) -> PyResult<()> {
    let a = ipv6_arg(field, v)?;
    base(slf).put(slf.py(), field, rel, &a)
}

pub fn mac<T: IsProtocol>(slf: &Bound<'_, T>, field: &str, rel: usize, v: &Bound<'_, PyAny>) -> PyResult<()> {
    let a = hw_arg(field, v, Some(6))?;
    base(slf).put(slf.py(), field, rel, &a)
}

pub fn padded<T: IsProtocol>(
    slf: &Bound<'_, T>,
    field: &str,
    rel: usize,
    size: usize,
    v: &Bound<'_, PyAny>,
) -> PyResult<()> {
    let a = padded_arg(field, v, size)?;
    base(slf).put(slf.py(), field, rel, &a)
}

/// Exactly `n` bytes at `rel`.
pub fn fixed_bytes<T: IsProtocol>(
    slf: &Bound<'_, T>,
    field: &str,
    rel: usize,
    n: usize,
    v: &Bound<'_, PyAny>,
) -> PyResult<()> {
    let b = bytes_arg(field, v)?;
    if b.len() != n {
        return Err(PyValueError::new_err(format!("{field} must be {n} bytes, got {}", b.len())));
    }
    base(slf).put(slf.py(), field, rel, &b)
}

/// The layer a protocol object views (for setters that compute offsets).
pub fn layer_of<T: IsProtocol>(slf: &Bound<'_, T>) -> Layer {
    base(slf).layer(slf.py())
}
