//! The columns of a capture table: their names and Arrow types, and the
//! builder that decodes records into them.
//!
//! Every value comes from the packet decoder's own code: the layers are
//! located by `packet::layer::locate` (from `first_kind` of the feed's link
//! type), fields are read at the offsets the `openbsd.packet` getters read
//! (with the same bounds-checked `fields::H` readers), and addresses are
//! formatted by the same `fields::fmt_*` functions, so a column prints what
//! `p["ip"].src` prints. A column that does not apply to a packet (no such
//! layer) is null.

use crate::io::record::Record;
use crate::packet::fields::{fmt_hw, fmt_ipv4, fmt_ipv6, Buf, H};
use crate::packet::layer::{first_kind, locate_into, Kind, Layer, Layers};
use crate::packet::openbsd::pf_direction;
use crate::packet::LinkInfo;
use arrow_array::types::{
    ArrowPrimitiveType, Int32Type, TimestampNanosecondType, UInt16Type, UInt32Type, UInt8Type,
};
use arrow_array::{ArrayRef, LargeBinaryArray, PrimitiveArray, RecordBatch, StringArray};
use arrow_buffer::{BooleanBufferBuilder, Buffer, NullBuffer, OffsetBuffer, ScalarBuffer};
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef, TimeUnit};
use std::sync::Arc;

/// One column a table can have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Col {
    Ts,
    Caplen,
    Len,
    Linktype,
    EthSrc,
    EthDst,
    EthType,
    Vlan,
    IpVersion,
    IpSrc,
    IpDst,
    IpProto,
    IpTtl,
    IpLen,
    IpFlags,
    IpFragOffset,
    Sport,
    Dport,
    TcpFlags,
    TcpSeq,
    TcpAck,
    TcpWindow,
    IcmpType,
    IcmpCode,
    PayloadLen,
    PfAction,
    PfReason,
    PfDirection,
    PfRule,
    PfIfname,
    Raw,
}

/// The Arrow type a column is stored as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ty {
    Ts,
    U8,
    U16,
    U32,
    I32,
    Text,
    Bin,
}

/// Every column: its name, storage, and whether it can be null.
const ALL: &[(Col, &str, Ty, bool)] = &[
    (Col::Ts, "ts", Ty::Ts, false),
    (Col::Caplen, "caplen", Ty::U32, false),
    (Col::Len, "len", Ty::U32, false),
    (Col::Linktype, "linktype", Ty::I32, false),
    (Col::EthSrc, "eth_src", Ty::Text, true),
    (Col::EthDst, "eth_dst", Ty::Text, true),
    (Col::EthType, "eth_type", Ty::U16, true),
    (Col::Vlan, "vlan", Ty::U16, true),
    (Col::IpVersion, "ip_version", Ty::U8, true),
    (Col::IpSrc, "ip_src", Ty::Text, true),
    (Col::IpDst, "ip_dst", Ty::Text, true),
    (Col::IpProto, "ip_proto", Ty::U8, true),
    (Col::IpTtl, "ip_ttl", Ty::U8, true),
    (Col::IpLen, "ip_len", Ty::U16, true),
    (Col::IpFlags, "ip_flags", Ty::U8, true),
    (Col::IpFragOffset, "ip_frag_offset", Ty::U16, true),
    (Col::Sport, "sport", Ty::U16, true),
    (Col::Dport, "dport", Ty::U16, true),
    (Col::TcpFlags, "tcp_flags", Ty::U8, true),
    (Col::TcpSeq, "tcp_seq", Ty::U32, true),
    (Col::TcpAck, "tcp_ack", Ty::U32, true),
    (Col::TcpWindow, "tcp_window", Ty::U16, true),
    (Col::IcmpType, "icmp_type", Ty::U8, true),
    (Col::IcmpCode, "icmp_code", Ty::U8, true),
    (Col::PayloadLen, "payload_len", Ty::U32, true),
    (Col::PfAction, "pf_action", Ty::U16, true),
    (Col::PfReason, "pf_reason", Ty::U16, true),
    (Col::PfDirection, "pf_direction", Ty::U16, true),
    (Col::PfRule, "pf_rule", Ty::U32, true),
    (Col::PfIfname, "pf_ifname", Ty::Text, true),
    (Col::Raw, "raw", Ty::Bin, false),
];

fn entry(c: Col) -> &'static (Col, &'static str, Ty, bool) {
    // Every `Col` is in `ALL`, in declaration order.
    &ALL[c as usize]
}

impl Col {
    fn ty(self) -> Ty {
        entry(self).2
    }

    fn is_pf(self) -> bool {
        matches!(self, Col::PfAction | Col::PfReason | Col::PfDirection | Col::PfRule | Col::PfIfname)
    }

    /// The column called `name`.
    pub fn by_name(name: &str) -> Option<Col> {
        ALL.iter().find(|e| e.1 == name).map(|e| e.0)
    }

    fn field(self) -> Field {
        let (_, name, ty, nullable) = *entry(self);
        let dt = match ty {
            Ty::Ts => DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into())),
            Ty::U8 => DataType::UInt8,
            Ty::U16 => DataType::UInt16,
            Ty::U32 => DataType::UInt32,
            Ty::I32 => DataType::Int32,
            Ty::Text => DataType::Utf8,
            Ty::Bin => DataType::LargeBinary,
        };
        Field::new(name, dt, nullable)
    }
}

/// Every column's name, in table order.
pub fn all_names() -> impl Iterator<Item = &'static str> {
    ALL.iter().map(|e| e.1)
}

/// Whether packets of link type `dlt` start with a pflog header.
pub fn is_pflog(dlt: i32) -> bool {
    matches!(first_kind(dlt, &[]), Kind::Pf | Kind::PfOld)
}

/// The columns a table has when none are named: every column but `raw`,
/// and the `pf_*` columns only for pflog captures.
pub fn default_columns(dlt: i32) -> Vec<Col> {
    let pf = is_pflog(dlt);
    ALL.iter().map(|e| e.0).filter(|&c| c != Col::Raw && (pf || !c.is_pf())).collect()
}

/// The schema of a table of `cols`.
pub fn schema(cols: &[Col]) -> SchemaRef {
    Arc::new(Schema::new(cols.iter().map(|c| c.field()).collect::<Vec<_>>()))
}

/// A column of fixed-width values being built.
struct Prim<T: ArrowPrimitiveType> {
    vals: Vec<T::Native>,
    valid: BooleanBufferBuilder,
    cap: usize,
}

impl<T: ArrowPrimitiveType> Prim<T> {
    fn new(cap: usize) -> Self {
        Prim { vals: Vec::with_capacity(cap), valid: BooleanBufferBuilder::new(cap), cap }
    }

    #[inline(always)]
    fn push(&mut self, v: Option<T::Native>) {
        self.vals.push(v.unwrap_or_default());
        self.valid.append(v.is_some());
    }

    fn truncate(&mut self, n: usize) {
        self.vals.truncate(n);
        self.valid.truncate(n);
    }

    fn finish(&mut self) -> PrimitiveArray<T> {
        // The next batch gets buffers of the same size at once (no growing).
        let vals = std::mem::replace(&mut self.vals, Vec::with_capacity(self.cap));
        let nulls = NullBuffer::new(self.valid.finish());
        let nulls = (nulls.null_count() > 0).then_some(nulls);
        PrimitiveArray::new(ScalarBuffer::from(vals), nulls)
    }
}

/// A column of variable-length values (text or bytes) being built.
struct Var<O> {
    offsets: Vec<O>,
    bytes: Vec<u8>,
    valid: BooleanBufferBuilder,
}

impl<O: Copy + Default + TryFrom<usize>> Var<O> {
    fn new(cap: usize) -> Self {
        let mut offsets = Vec::with_capacity(cap + 1);
        offsets.push(O::default());
        Var { offsets, bytes: Vec::new(), valid: BooleanBufferBuilder::new(cap) }
    }

    /// Ends the current value (its bytes were appended); `false` when the
    /// column has grown past what its offsets can address.
    #[inline(always)]
    fn end_value(&mut self, valid: bool) -> bool {
        match O::try_from(self.bytes.len()) {
            Ok(o) => {
                self.offsets.push(o);
                self.valid.append(valid);
                true
            }
            Err(_) => false,
        }
    }

    fn truncate(&mut self, n: usize, to_usize: impl Fn(O) -> usize) {
        self.offsets.truncate(n + 1);
        let end = self.offsets.last().map_or(0, |&o| to_usize(o));
        self.bytes.truncate(end);
        self.valid.truncate(n);
    }

    fn take(&mut self) -> (Vec<O>, Vec<u8>, Option<NullBuffer>) {
        // The next batch starts with buffers of this one's size.
        let mut fresh = Vec::with_capacity(self.offsets.len());
        fresh.push(O::default());
        let offsets = std::mem::replace(&mut self.offsets, fresh);
        let size = self.bytes.len();
        let bytes = std::mem::replace(&mut self.bytes, Vec::with_capacity(size));
        let nulls = NullBuffer::new(self.valid.finish());
        (offsets, bytes, (nulls.null_count() > 0).then_some(nulls))
    }
}

enum Store {
    Ts(Prim<TimestampNanosecondType>),
    U8(Prim<UInt8Type>),
    U16(Prim<UInt16Type>),
    U32(Prim<UInt32Type>),
    I32(Prim<Int32Type>),
    Text(Var<i32>),
    Bin(Var<i64>),
}

impl Store {
    fn new(ty: Ty, cap: usize) -> Store {
        match ty {
            Ty::Ts => Store::Ts(Prim::new(cap)),
            Ty::U8 => Store::U8(Prim::new(cap)),
            Ty::U16 => Store::U16(Prim::new(cap)),
            Ty::U32 => Store::U32(Prim::new(cap)),
            Ty::I32 => Store::I32(Prim::new(cap)),
            Ty::Text => Store::Text(Var::new(cap)),
            Ty::Bin => Store::Bin(Var::new(cap)),
        }
    }

    /// Appends a number (or null) to a numeric column; the value fits the
    /// column's type by construction (each column reads a field of its
    /// type's width).
    #[inline(always)]
    fn num(&mut self, v: Option<i64>) {
        match self {
            Store::Ts(p) => p.push(v),
            Store::U8(p) => p.push(v.map(|x| x as u8)),
            Store::U16(p) => p.push(v.map(|x| x as u16)),
            Store::U32(p) => p.push(v.map(|x| x as u32)),
            Store::I32(p) => p.push(v.map(|x| x as i32)),
            Store::Text(t) => {
                t.end_value(false);
            }
            Store::Bin(b) => {
                b.end_value(false);
            }
        }
    }

    /// Appends the text of address `key` (`None`: null) to a text column,
    /// formatted by `f` or found in `cache`.
    #[inline(always)]
    fn addr(&mut self, cache: &mut TextCache, key: Option<&[u8]>, f: impl FnOnce(&mut Buf, &[u8])) -> bool {
        match (self, key) {
            (Store::Text(t), Some(key)) => {
                cache.append(&mut t.bytes, key, f);
                t.end_value(true)
            }
            (Store::Text(t), None) => t.end_value(false),
            (other, _) => {
                other.num(None);
                true
            }
        }
    }

    /// Appends text written by `f` (or null) to a text column.
    #[inline]
    fn text(&mut self, f: Option<impl FnOnce(&mut Buf)>) -> bool {
        match self {
            Store::Text(t) => match f {
                Some(f) => {
                    let mut b = Buf::new();
                    f(&mut b);
                    t.bytes.extend_from_slice(b.as_bytes());
                    t.end_value(true)
                }
                None => t.end_value(false),
            },
            _ => {
                self.num(None);
                true
            }
        }
    }

    fn truncate(&mut self, n: usize) {
        match self {
            Store::Ts(p) => p.truncate(n),
            Store::U8(p) => p.truncate(n),
            Store::U16(p) => p.truncate(n),
            Store::U32(p) => p.truncate(n),
            Store::I32(p) => p.truncate(n),
            Store::Text(t) => t.truncate(n, |o| o as usize),
            Store::Bin(b) => b.truncate(n, |o| o as usize),
        }
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            Store::Ts(p) => Arc::new(p.finish().with_timezone("UTC")),
            Store::U8(p) => Arc::new(p.finish()),
            Store::U16(p) => Arc::new(p.finish()),
            Store::U32(p) => Arc::new(p.finish()),
            Store::I32(p) => Arc::new(p.finish()),
            Store::Text(t) => {
                let (offsets, bytes, nulls) = t.take();
                // SAFETY: offsets start at 0 and never decrease (each is the
                // byte length after a value), the last is the byte length,
                // and every value appended is the bytes of a `str` (ASCII
                // formatting, or a `String`), so valid UTF-8.
                Arc::new(unsafe {
                    StringArray::new_unchecked(
                        OffsetBuffer::new_unchecked(ScalarBuffer::from(offsets)),
                        Buffer::from_vec(bytes),
                        nulls,
                    )
                })
            }
            Store::Bin(b) => {
                let (offsets, bytes, nulls) = b.take();
                // SAFETY: as above (offsets start at 0, never decrease, end
                // at the byte length); any bytes are valid binary.
                Arc::new(unsafe {
                    LargeBinaryArray::new_unchecked(
                        OffsetBuffer::new_unchecked(ScalarBuffer::from(offsets)),
                        Buffer::from_vec(bytes),
                        nulls,
                    )
                })
            }
        }
    }
}

/// The layers of one packet that the columns read, located once.
#[derive(Default)]
struct Located<'a> {
    eth: Option<H<'a>>,
    vlan: Option<H<'a>>,
    /// The first IP layer, IPv4 or IPv6 (`p["ip"]` or `p["ipv6"]`).
    ip: Option<(Kind, H<'a>)>,
    tcp: Option<H<'a>>,
    /// The first TCP or UDP layer (ports).
    ports: Option<H<'a>>,
    /// The first ICMP or ICMPv6 layer.
    icmp: Option<H<'a>>,
    pf: Option<(Kind, H<'a>)>,
    /// The innermost layer's payload length.
    payload: Option<u32>,
}

impl<'a> Located<'a> {
    /// The layers of `data` (located into `layers`, reused from packet to
    /// packet).
    fn of(data: &'a [u8], dlt: i32, layers: &mut Layers) -> Located<'a> {
        locate_into(layers, data, first_kind(dlt, data));
        let mut l = Located::default();
        let hdr = |y: &Layer| H(data.get(y.hdr_start()..y.payload_start()).unwrap_or(&[]));
        for y in layers.as_slice() {
            match y.kind {
                Kind::Ethernet if l.eth.is_none() => l.eth = Some(hdr(y)),
                Kind::Vlan if l.vlan.is_none() => l.vlan = Some(hdr(y)),
                Kind::Ip | Kind::Ipv6 if l.ip.is_none() => l.ip = Some((y.kind, hdr(y))),
                Kind::Tcp | Kind::Udp if l.ports.is_none() => {
                    l.ports = Some(hdr(y));
                    if y.kind == Kind::Tcp {
                        l.tcp = Some(hdr(y));
                    }
                }
                Kind::Icmp | Kind::Icmp6 if l.icmp.is_none() => l.icmp = Some(hdr(y)),
                Kind::Pf | Kind::PfOld if l.pf.is_none() => l.pf = Some((y.kind, hdr(y))),
                _ => {}
            }
        }
        l.payload = layers.as_slice().last().map(|y| (y.end() - y.payload_start()) as u32);
        l
    }

    /// The bytes of the IP layer's address at `at4` (IPv4) or `at6` (IPv6).
    fn ip_addr(&self, at4: usize, at6: usize) -> Option<&'a [u8]> {
        self.ip.map(|(k, h)| if k == Kind::Ip { h.bytes(at4, 4) } else { h.bytes(at6, 16) })
    }

    fn ip4(&self) -> Option<H<'a>> {
        self.ip.and_then(|(k, h)| (k == Kind::Ip).then_some(h))
    }

    /// A field of the IP layer: `v4` of an IPv4 header, `v6` of an IPv6 one.
    fn ip_field(&self, v4: impl Fn(H<'a>) -> i64, v6: impl Fn(H<'a>) -> i64) -> Option<i64> {
        self.ip.map(|(k, h)| if k == Kind::Ip { v4(h) } else { v6(h) })
    }

    /// A field of the pflog header, current (`PF`) or old (`PFOld`) layout.
    fn pf_field(&self, new: impl Fn(H<'a>) -> i64, old: impl Fn(H<'a>) -> i64) -> Option<i64> {
        self.pf.map(|(k, h)| if k == Kind::Pf { new(h) } else { old(h) })
    }
}

/// Formats an IPv4 (4 bytes) or IPv6 (16 bytes) address as the Packet API
/// does.
fn fmt_ip(b: &mut Buf, a: &[u8]) {
    match a.len() {
        4 => fmt_ipv4(b, H(a).ipv4(0).unwrap_or_default()),
        _ => fmt_ipv6(b, H(a).ipv6(0).unwrap_or_default()),
    }
}

/// Recently formatted addresses (IPv4, IPv6, MAC): a direct-mapped table
/// from an address's bytes to its text, so that an address that repeats
/// (most do) is copied, not formatted again. 4096 slots of 64 bytes.
pub struct TextCache {
    slots: Box<[Slot]>,
}

#[derive(Clone, Copy)]
struct Slot {
    key: [u8; 16],
    klen: u8,
    tlen: u8,
    text: [u8; 46],
}

const CACHE_BITS: u32 = 12;

impl Default for TextCache {
    fn default() -> Self {
        let empty = Slot { key: [0; 16], klen: u8::MAX, tlen: 0, text: [0; 46] };
        TextCache { slots: vec![empty; 1 << CACHE_BITS].into_boxed_slice() }
    }
}

impl TextCache {
    /// Appends the text of `key` (at most 16 bytes) to `out`, formatted by
    /// `f` unless known.
    #[inline(always)]
    fn append(&mut self, out: &mut Vec<u8>, key: &[u8], f: impl FnOnce(&mut Buf, &[u8])) {
        let mut k = [0u8; 16];
        let n = key.len().min(16);
        k[..n].copy_from_slice(&key[..n]);
        let a = u64::from_ne_bytes(k[..8].try_into().unwrap_or_default());
        let b = u64::from_ne_bytes(k[8..].try_into().unwrap_or_default());
        let h = (a ^ b.rotate_left(29) ^ n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - CACHE_BITS);
        let slot = &mut self.slots[h as usize];
        if slot.klen as usize != n || slot.key != k {
            let mut buf = Buf::new();
            f(&mut buf, key);
            let t = buf.as_bytes();
            let tlen = t.len().min(slot.text.len());
            slot.text[..tlen].copy_from_slice(&t[..tlen]);
            (slot.key, slot.klen, slot.tlen) = (k, n as u8, tlen as u8);
        }
        // A copy of fixed size (a few vector moves, no call), then the
        // length cut back to the text's.
        let end = out.len() + slot.tlen as usize;
        out.extend_from_slice(&slot.text);
        out.truncate(end);
    }
}

/// Decodes records into the columns of one batch.
pub struct Builder {
    cols: Vec<Col>,
    stores: Vec<Store>,
    schema: SchemaRef,
    link: LinkInfo,
    cache: TextCache,
    layers: Layers,
    /// Whether a chosen column reads a layer (else nothing is located).
    layered: bool,
    rows: usize,
    /// A value past what a column's offsets can hold (over 2 GiB of text
    /// in one batch): the batch is refused.
    overflow: bool,
}

impl Builder {
    pub fn new(cols: Vec<Col>, link: LinkInfo, cap: usize) -> Builder {
        let stores = cols.iter().map(|c| Store::new(c.ty(), cap)).collect();
        let schema = schema(&cols);
        let layered = !cols.iter().all(|c| matches!(c, Col::Ts | Col::Caplen | Col::Len | Col::Linktype | Col::Raw));
        Builder { cols, stores, schema, link, cache: TextCache::default(), layers: Layers::default(), layered, rows: 0, overflow: false }
    }

    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Forgets the rows after the first `n`.
    pub fn truncate(&mut self, n: usize) {
        if n < self.rows {
            for s in &mut self.stores {
                s.truncate(n);
            }
            self.rows = n;
        }
    }

    /// Appends one row: the columns of `rec`.
    pub fn push(&mut self, rec: &Record<'_>) {
        let data = rec.data;
        let l = if self.layered { Located::of(data, self.link.dlt, &mut self.layers) } else { Located::default() };
        let cache = &mut self.cache;
        for (c, s) in self.cols.iter().zip(self.stores.iter_mut()) {
            let v = |x: u64| x as i64;
            let ok = match c {
                Col::Ts => {
                    // The fraction is in nanoseconds on a feed opened with
                    // precision="nano", else in microseconds.
                    let frac = if self.link.nano { rec.usec } else { rec.usec.saturating_mul(1000) };
                    s.num(Some(rec.sec.saturating_mul(1_000_000_000).saturating_add(frac)));
                    true
                }
                Col::Caplen => {
                    s.num(Some(data.len() as i64));
                    true
                }
                Col::Len => {
                    s.num(Some(rec.len as i64));
                    true
                }
                Col::Linktype => {
                    s.num(Some(self.link.dlt as i64));
                    true
                }
                Col::EthSrc => s.addr(cache, l.eth.map(|h| h.bytes(6, 6)), fmt_hw),
                Col::EthDst => s.addr(cache, l.eth.map(|h| h.bytes(0, 6)), fmt_hw),
                Col::EthType => {
                    s.num(l.eth.map(|h| v(h.be16(12) as u64)));
                    true
                }
                Col::Vlan => {
                    s.num(l.vlan.map(|h| v((h.be16(0) & 0xfff) as u64)));
                    true
                }
                Col::IpVersion => {
                    s.num(l.ip_field(|h| (h.u8(0) >> 4) as i64, |h| (h.u8(0) >> 4) as i64));
                    true
                }
                Col::IpSrc => s.addr(cache, l.ip_addr(12, 8), fmt_ip),
                Col::IpDst => s.addr(cache, l.ip_addr(16, 24), fmt_ip),
                Col::IpProto => {
                    s.num(l.ip_field(|h| h.u8(9) as i64, |h| h.u8(6) as i64));
                    true
                }
                Col::IpTtl => {
                    s.num(l.ip_field(|h| h.u8(8) as i64, |h| h.u8(7) as i64));
                    true
                }
                Col::IpLen => {
                    s.num(l.ip_field(|h| h.be16(2) as i64, |h| h.be16(4) as i64));
                    true
                }
                Col::IpFlags => {
                    s.num(l.ip4().map(|h| (h.u8(6) >> 5) as i64));
                    true
                }
                Col::IpFragOffset => {
                    s.num(l.ip4().map(|h| (h.be16(6) & 0x1fff) as i64));
                    true
                }
                Col::Sport => {
                    s.num(l.ports.map(|h| h.be16(0) as i64));
                    true
                }
                Col::Dport => {
                    s.num(l.ports.map(|h| h.be16(2) as i64));
                    true
                }
                Col::TcpFlags => {
                    s.num(l.tcp.map(|h| h.u8(13) as i64));
                    true
                }
                Col::TcpSeq => {
                    s.num(l.tcp.map(|h| h.be32(4) as i64));
                    true
                }
                Col::TcpAck => {
                    s.num(l.tcp.map(|h| h.be32(8) as i64));
                    true
                }
                Col::TcpWindow => {
                    s.num(l.tcp.map(|h| h.be16(14) as i64));
                    true
                }
                Col::IcmpType => {
                    s.num(l.icmp.map(|h| h.u8(0) as i64));
                    true
                }
                Col::IcmpCode => {
                    s.num(l.icmp.map(|h| h.u8(1) as i64));
                    true
                }
                Col::PayloadLen => {
                    s.num(l.payload.map(|n| n as i64));
                    true
                }
                Col::PfAction => {
                    s.num(l.pf_field(|h| h.u8(2) as i64, |h| h.be16(24) as i64));
                    true
                }
                Col::PfReason => {
                    s.num(l.pf_field(|h| h.u8(3) as i64, |h| h.be16(22) as i64));
                    true
                }
                Col::PfDirection => {
                    s.num(l.pf_field(|h| pf_direction(h) as i64, |h| h.be16(26) as i64));
                    true
                }
                Col::PfRule => {
                    s.num(l.pf_field(|h| h.be32(36) as i64, |h| h.be16(20) as i64));
                    true
                }
                Col::PfIfname => s.text(l.pf.map(|(_, h)| {
                    move |b: &mut Buf| {
                        let name = h.bytes(4, 16);
                        let end = name.iter().position(|&c| c == 0).unwrap_or(name.len());
                        // Interface names are ASCII; anything else is shown
                        // as `padded_str` (the `ifname` getter) shows it.
                        let text = crate::packet::fields::padded_str(name.get(..end).unwrap_or(&[]));
                        use std::fmt::Write;
                        let _ = b.write_str(&text);
                    }
                })),
                Col::Raw => match s {
                    Store::Bin(bin) => {
                        bin.bytes.extend_from_slice(data);
                        bin.end_value(true)
                    }
                    _ => true,
                },
            };
            self.overflow |= !ok;
        }
        self.rows += 1;
    }

    /// The rows built so far, as a batch; the builder starts empty again.
    pub fn finish(&mut self) -> Result<RecordBatch, ArrowError> {
        let arrays: Vec<ArrayRef> = self.stores.iter_mut().map(|s| s.finish()).collect();
        let rows = std::mem::take(&mut self.rows);
        if std::mem::take(&mut self.overflow) {
            return Err(ArrowError::ComputeError(
                "a batch holds more than 2 GiB of text: use a smaller batch_size".into(),
            ));
        }
        RecordBatch::try_new_with_options(
            self.schema.clone(),
            arrays,
            &arrow_array::RecordBatchOptions::new().with_row_count(Some(rows)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{Array, StringArray, UInt16Array};

    fn frame(src: [u8; 4], sport: u16) -> Vec<u8> {
        let mut p = vec![0u8; 12];
        p.extend_from_slice(&[0x08, 0x00]);
        p.extend_from_slice(&[0x45, 0, 0, 28, 0, 0, 0x40, 0, 64, 17, 0, 0]);
        p.extend_from_slice(&src);
        p.extend_from_slice(&[10, 0, 0, 1]);
        p.extend_from_slice(&sport.to_be_bytes());
        p.extend_from_slice(&[0, 53, 0, 8, 0, 0]);
        p
    }

    fn rec(data: &[u8]) -> Record<'_> {
        Record { sec: 1, usec: 2, len: data.len() as u32, data }
    }

    #[test]
    fn a_row_built_again_replaces_the_one_not_taken() {
        let link = LinkInfo { dlt: 1, swapped: false, first: None, nano: false };
        let mut b = Builder::new(vec![Col::IpSrc, Col::Sport, Col::Ts], link, 4);
        let (a, c, d) = (frame([1, 2, 3, 4], 1000), frame([5, 6, 7, 8], 2000), frame([9, 9, 9, 9], 3000));
        b.push(&rec(&a));
        b.push(&rec(&c));
        b.truncate(1); // the second record was not read whole
        b.push(&rec(&d));
        b.push(&rec(&[0u8; 3])); // too short for Ethernet: nulls
        let batch = b.finish().unwrap();
        assert_eq!(batch.num_rows(), 3);
        let ip = batch.column(0).as_any().downcast_ref::<StringArray>().unwrap();
        assert_eq!((ip.value(0), ip.value(1), ip.is_null(2)), ("1.2.3.4", "9.9.9.9", true));
        let sp = batch.column(1).as_any().downcast_ref::<UInt16Array>().unwrap();
        assert_eq!((sp.value(0), sp.value(1), sp.is_null(2)), (1000, 3000, true));
        // The builder starts empty again, its cache still right.
        b.push(&rec(&c));
        let batch = b.finish().unwrap();
        let ip = batch.column(0).as_any().downcast_ref::<StringArray>().unwrap();
        assert_eq!((batch.num_rows(), ip.value(0)), (1, "5.6.7.8"));
    }

    #[test]
    fn every_column_has_a_name_and_a_default_set_per_link() {
        for (i, e) in ALL.iter().enumerate() {
            assert_eq!(e.0 as usize, i);
            assert_eq!(Col::by_name(e.1), Some(e.0));
        }
        assert!(!default_columns(1).contains(&Col::PfAction));
        assert!(default_columns(117).contains(&Col::PfAction));
        assert!(!default_columns(117).contains(&Col::Raw));
    }
}
