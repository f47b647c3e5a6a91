//! Reading fields out of header bytes, never panicking: a field that lies
//! past the bytes reads as zero (the layer locator only hands out complete
//! headers, so this only guards against mistakes), and formatting addresses
//! straight into Python strings without going through `ipaddress`.

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};
use std::cell::UnsafeCell;

/// A header's bytes with bounds-checked big-endian readers.
#[derive(Clone, Copy)]
pub struct H<'a>(pub &'a [u8]);

impl<'a> H<'a> {
    pub fn u8(&self, i: usize) -> u8 {
        self.0.get(i).copied().unwrap_or(0)
    }
    pub fn be16(&self, i: usize) -> u16 {
        match self.0.get(i..i + 2) {
            Some(&[a, b]) => u16::from_be_bytes([a, b]),
            _ => 0,
        }
    }
    pub fn be32(&self, i: usize) -> u32 {
        match self.0.get(i..i + 4) {
            Some(&[a, b, c, d]) => u32::from_be_bytes([a, b, c, d]),
            _ => 0,
        }
    }
    /// Four bytes in the given order: `swapped` means little-endian on
    /// big-endian host or vice versa, relative to this machine.
    pub fn host32(&self, i: usize, swapped: bool) -> u32 {
        match self.0.get(i..i + 4) {
            Some(&[a, b, c, d]) => {
                let v = u32::from_ne_bytes([a, b, c, d]);
                if swapped {
                    v.swap_bytes()
                } else {
                    v
                }
            }
            _ => 0,
        }
    }
    pub fn bytes(&self, i: usize, n: usize) -> &'a [u8] {
        let end = i.saturating_add(n).min(self.0.len());
        self.0.get(i..end).unwrap_or(&[])
    }
    pub fn from(&self, i: usize) -> &'a [u8] {
        self.0.get(i..).unwrap_or(&[])
    }
    pub fn ipv4(&self, i: usize) -> Option<[u8; 4]> {
        match self.0.get(i..i + 4) {
            Some(&[a, b, c, d]) => Some([a, b, c, d]),
            _ => None,
        }
    }
    pub fn ipv6(&self, i: usize) -> Option<[u8; 16]> {
        self.0.get(i..i + 16).and_then(|s| s.try_into().ok())
    }
}

/// A small stack buffer for formatting.
pub struct Buf {
    b: [u8; 64],
    n: usize,
}

impl Buf {
    pub fn new() -> Self {
        Buf { b: [0; 64], n: 0 }
    }
    pub fn push(&mut self, c: u8) {
        if let Some(slot) = self.b.get_mut(self.n) {
            *slot = c;
            self.n += 1;
        }
    }
    pub fn as_bytes(&self) -> &[u8] {
        self.b.get(..self.n).unwrap_or(&[])
    }
    pub fn as_str(&self) -> &str {
        // Only ASCII is ever pushed.
        std::str::from_utf8(self.b.get(..self.n).unwrap_or(&[])).unwrap_or("")
    }
}

impl Default for Buf {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Write for Buf {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        for &c in s.as_bytes() {
            self.push(c);
        }
        Ok(())
    }
}

fn push_dec(buf: &mut Buf, v: u8) {
    if v >= 100 {
        buf.push(b'0' + v / 100);
    }
    if v >= 10 {
        buf.push(b'0' + (v / 10) % 10);
    }
    buf.push(b'0' + v % 10);
}

const HEX: &[u8; 16] = b"0123456789abcdef";

pub fn fmt_ipv4(buf: &mut Buf, a: [u8; 4]) {
    for (i, v) in a.into_iter().enumerate() {
        if i > 0 {
            buf.push(b'.');
        }
        push_dec(buf, v);
    }
}

/// RFC 5952 text of an IPv6 address (what Python's `ipaddress`, tshark and
/// Rust's `Ipv6Addr` print): lower-case hex groups without leading zeros,
/// the longest run (the first of equal ones) of two or more zero groups
/// shown as `::`; IPv4-mapped addresses as `::ffff:a.b.c.d`, like tshark
/// and `Ipv6Addr`.
pub fn fmt_ipv6(buf: &mut Buf, a: [u8; 16]) {
    let mut g = [0u16; 8];
    for (slot, pair) in g.iter_mut().zip(a.chunks_exact(2)) {
        *slot = u16::from_be_bytes([pair[0], pair[1]]);
    }
    if g[..5] == [0; 5] && g[5] == 0xffff {
        for c in b"::ffff:" {
            buf.push(*c);
        }
        fmt_ipv4(buf, [a[12], a[13], a[14], a[15]]);
        return;
    }
    // Longest run of zero groups.
    let (mut best_at, mut best_len) = (8usize, 0usize);
    let mut i = 0;
    while i < 8 {
        if g[i] == 0 {
            let start = i;
            while i < 8 && g[i] == 0 {
                i += 1;
            }
            if i - start > best_len {
                best_at = start;
                best_len = i - start;
            }
        } else {
            i += 1;
        }
    }
    if best_len < 2 {
        best_at = 8;
        best_len = 0;
    }
    let mut i = 0;
    while i < 8 {
        if i == best_at {
            buf.push(b':');
            buf.push(b':');
            i += best_len;
            continue;
        }
        if i > 0 && i != best_at + best_len {
            buf.push(b':');
        }
        push_hex16(buf, g[i]);
        i += 1;
    }
}

fn push_hex16(buf: &mut Buf, v: u16) {
    let mut started = false;
    for shift in [12u32, 8, 4, 0] {
        let d = ((v >> shift) & 15) as usize;
        if d != 0 || started || shift == 0 {
            buf.push(HEX[d]);
            started = true;
        }
    }
}

/// Colon-separated lower-case hex bytes (a MAC address for 6 bytes).
pub fn fmt_hw(buf: &mut Buf, a: &[u8]) {
    for (i, &v) in a.iter().enumerate() {
        if i > 0 {
            buf.push(b':');
        }
        buf.push(HEX[(v >> 4) as usize]);
        buf.push(HEX[(v & 15) as usize]);
    }
}

pub fn ipv4_str(a: [u8; 4]) -> String {
    let mut b = Buf::new();
    fmt_ipv4(&mut b, a);
    b.as_str().to_owned()
}

pub fn ipv6_str(a: [u8; 16]) -> String {
    let mut b = Buf::new();
    fmt_ipv6(&mut b, a);
    b.as_str().to_owned()
}

pub fn hw_str(a: &[u8]) -> String {
    let mut b = Buf::new();
    fmt_hw(&mut b, a);
    b.as_str().to_owned()
}

/// A Python `str` of the text in `b`, built directly as a compact ASCII
/// string when it is ASCII (no UTF-8 decoding). The crate builds against
/// the full (non-limited) C API.
pub fn py_ascii<'py>(py: Python<'py>, b: &Buf) -> Bound<'py, PyString> {
    let s = b.as_bytes();
    if !s.is_ascii() {
        return PyString::new(py, b.as_str());
    }
    // SAFETY: PyUnicode_New(n, 127) returns a compact ASCII string with room
    // for exactly `n` one-byte characters, which are all written before the
    // object is used; null means an exception is set (we then fall back).
    unsafe {
        let o = pyo3::ffi::PyUnicode_New(s.len() as pyo3::ffi::Py_ssize_t, 127);
        if o.is_null() {
            pyo3::ffi::PyErr_Clear();
            return PyString::new(py, b.as_str());
        }
        std::ptr::copy_nonoverlapping(s.as_ptr(), pyo3::ffi::PyUnicode_1BYTE_DATA(o), s.len());
        Bound::from_owned_ptr(py, o).cast_into_unchecked()
    }
}

/// Recently formatted addresses: a direct-mapped table (4096 slots per
/// address family, well under a megabyte) from an address to
/// its (immutable, so shareable) Python string. Traffic repeats its
/// addresses, so most reads of `src`/`dst` format nothing and allocate
/// nothing.
///
/// Only touched with the GIL held (every caller has a `Python` token, and
/// the module is not declared free-threaded), so never concurrently.
struct AddrCache<const K: usize>(UnsafeCell<[AddrSlot<K>; ADDR_SLOTS]>);

/// One slot of an [`AddrCache`]: an address and its string, or nothing.
type AddrSlot<const K: usize> = Option<([u8; K], Py<PyString>)>;

const ADDR_SLOTS: usize = 4096;

// SAFETY: see the type's documentation: all access is serialised by the GIL.
unsafe impl<const K: usize> Sync for AddrCache<K> {}

impl<const K: usize> AddrCache<K> {
    const fn new() -> Self {
        AddrCache(UnsafeCell::new([const { None }; ADDR_SLOTS]))
    }

    fn slot(a: &[u8; K]) -> usize {
        let mut x = 0u64;
        for chunk in a.chunks(8) {
            let mut w = [0u8; 8];
            w[..chunk.len()].copy_from_slice(chunk);
            x ^= u64::from_ne_bytes(w);
        }
        (x.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - ADDR_SLOTS.trailing_zeros())) as usize
    }

    /// The string of `a`, formatted by `fmt` on a miss.
    fn get<'py>(&self, py: Python<'py>, a: [u8; K], fmt: fn(&mut Buf, [u8; K])) -> Bound<'py, PyString> {
        let i = Self::slot(&a);
        // SAFETY: GIL held (the token); no other reference into the table
        // lives across this block, and dropping an evicted string cannot
        // re-enter it (a str has no finaliser).
        unsafe {
            let table = &mut *self.0.get();
            if let Some((k, s)) = &table[i] {
                if *k == a {
                    return s.bind(py).clone();
                }
            }
            let mut b = Buf::new();
            fmt(&mut b, a);
            let s = py_ascii(py, &b);
            let old = table[i].replace((a, s.clone().unbind()));
            drop(old);
            s
        }
    }
}

static IPV4_STRINGS: AddrCache<4> = AddrCache::new();
static IPV6_STRINGS: AddrCache<16> = AddrCache::new();

/// Python string of the IPv4 address at `i` (`"0.0.0.0"` if absent).
pub fn py_ipv4<'py>(py: Python<'py>, h: H<'_>, i: usize) -> Bound<'py, PyString> {
    IPV4_STRINGS.get(py, h.ipv4(i).unwrap_or_default(), fmt_ipv4)
}

pub fn py_ipv6<'py>(py: Python<'py>, h: H<'_>, i: usize) -> Bound<'py, PyString> {
    IPV6_STRINGS.get(py, h.ipv6(i).unwrap_or_default(), fmt_ipv6)
}

pub fn py_mac<'py>(py: Python<'py>, h: H<'_>, i: usize) -> Bound<'py, PyString> {
    let mut b = Buf::new();
    fmt_hw(&mut b, h.bytes(i, 6));
    py_ascii(py, &b)
}

/// A network address of `n` bytes: dotted for 4, IPv6 notation for 16,
/// colon hex otherwise.
pub fn py_addr<'py>(py: Python<'py>, bytes: &[u8]) -> Bound<'py, PyString> {
    let mut b = Buf::new();
    match bytes.len() {
        4 => fmt_ipv4(&mut b, bytes.try_into().unwrap_or_default()),
        16 => fmt_ipv6(&mut b, bytes.try_into().unwrap_or_default()),
        _ => fmt_hw(&mut b, bytes),
    }
    PyString::new(py, b.as_str())
}

/// A NUL-padded name (interface, ruleset) as `str`, up to the first NUL.
pub fn padded_str(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&c| c == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(bytes.get(..end).unwrap_or(&[])).into_owned()
}

pub fn py_bytes<'py>(py: Python<'py>, b: &[u8]) -> Bound<'py, PyBytes> {
    PyBytes::new(py, b)
}

/// An option table (`{name: value}`), exposed as a class attribute.
pub fn table(py: Python<'_>, items: &[(&str, u32)]) -> PyResult<Py<PyAny>> {
    // Read-only (see `Options`).
    Ok(Py::new(py, super::options::Options::of(items))?.into_any())
}

/// The name of `v` in `items`, or the number as text.
pub fn name_of(items: &[(&str, u32)], v: u32) -> String {
    items.iter().find(|(_, x)| *x == v).map(|(k, _)| (*k).to_owned()).unwrap_or_else(|| v.to_string())
}

/// IP protocol numbers (`IP.protocol`, `IPv6.nextheader`, `AH.nextheader`).
pub const PROTOCOLS: &[(&str, u32)] = &[
    ("ICMP", 1),
    ("IGMP", 2),
    ("IP_IN_IP", 4),
    ("TCP", 6),
    ("UDP", 17),
    ("IPv6", 41),
    ("ROUTING_HEADER", 43),
    ("FRAGMENTATION_HEADER", 44),
    ("ESP", 50),
    ("AH", 51),
    ("ICMP6", 58),
    ("NO_NEXT_HEADER", 59),
    ("DESTINATION_OPTIONS_HEADER", 60),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(ipv4_str([192, 168, 0, 1]), "192.168.0.1");
        assert_eq!(ipv4_str([0, 10, 255, 100]), "0.10.255.100");
        let mut a = [0u8; 16];
        a[0] = 0xfe;
        a[1] = 0x80;
        a[8..].copy_from_slice(&[0x02, 0xe0, 0x29, 0xff, 0xfe, 0x94, 0x49, 0x5d]);
        assert_eq!(ipv6_str(a), "fe80::2e0:29ff:fe94:495d");
        assert_eq!(hw_str(&[0, 9, 0x6b, 0xe0, 0xca, 0xce]), "00:09:6b:e0:ca:ce");
        // Agrees with std's RFC 5952 formatting on awkward addresses.
        let mut rng = 0x1234_5678_9abc_def0u64;
        for n in 0..20000u32 {
            let mut a = [0u8; 16];
            for (i, b) in a.iter_mut().enumerate() {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                // Mostly zero groups, to exercise the runs.
                *b = if (rng >> (i % 8)) & 3 == 0 { rng as u8 } else { 0 };
            }
            if n % 7 == 0 {
                a[..10].fill(0);
                a[10] = 0xff;
                a[11] = 0xff;
            }
            assert_eq!(ipv6_str(a), std::net::Ipv6Addr::from(a).to_string(), "{a:?}");
        }
        assert_eq!(ipv6_str([0; 16]), "::");
        let mut one = [0u8; 16];
        one[15] = 1;
        assert_eq!(ipv6_str(one), "::1");
        assert_eq!(padded_str(b"lo0\0\0\0"), "lo0");
        assert_eq!(H(&[1, 2]).be32(0), 0);
    }
}
