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
//!
//! Address columns are dictionary-encoded (Arrow `Dictionary(Int32,
//! Utf8)`): each distinct address of a batch is formatted once, and a
//! packet costs a hash of its address's bytes and a 32-bit key.

use crate::io::record::Record;
use crate::packet::fields::{fmt_hw, fmt_ipv4, fmt_ipv6, Buf, H};
use crate::packet::layer::{first_kind, locate_each, Kind};
use crate::packet::openbsd::pf_direction;
use crate::packet::LinkInfo;
use arrow_array::types::{ArrowPrimitiveType, Int32Type, TimestampNanosecondType, UInt16Type, UInt32Type, UInt8Type};
use arrow_array::{ArrayRef, DictionaryArray, LargeBinaryArray, PrimitiveArray, RecordBatch, StringArray};
use arrow_buffer::{BooleanBufferBuilder, Buffer, NullBuffer, OffsetBuffer, ScalarBuffer};
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef, TimeUnit};
use hashbrown::HashTable;
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
    /// Addresses: `Dictionary(Int32, Utf8)`.
    Addr,
    Bin,
}

/// Every column: its name, storage, and whether it can be null.
const ALL: &[(Col, &str, Ty, bool)] = &[
    (Col::Ts, "ts", Ty::Ts, false),
    (Col::Caplen, "caplen", Ty::U32, false),
    (Col::Len, "len", Ty::U32, false),
    (Col::Linktype, "linktype", Ty::I32, false),
    (Col::EthSrc, "eth_src", Ty::Addr, true),
    (Col::EthDst, "eth_dst", Ty::Addr, true),
    (Col::EthType, "eth_type", Ty::U16, true),
    (Col::Vlan, "vlan", Ty::U16, true),
    (Col::IpVersion, "ip_version", Ty::U8, true),
    (Col::IpSrc, "ip_src", Ty::Addr, true),
    (Col::IpDst, "ip_dst", Ty::Addr, true),
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
            Ty::Addr => addr_type(),
            Ty::Bin => DataType::LargeBinary,
        };
        Field::new(name, dt, nullable)
    }
}

/// The Arrow type of the address columns.
fn addr_type() -> DataType {
    DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8))
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

/// The layer a column's values come from: a value is null where its
/// packet lacks that layer. Columns of one layer share one validity bitmap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
enum Group {
    /// Every packet has a value.
    Always,
    Eth,
    Vlan,
    /// The first IP layer, IPv4 or IPv6.
    Ip,
    /// The first IP layer, when it is IPv4.
    Ip4,
    /// The first TCP or UDP layer.
    Ports,
    /// The first TCP or UDP layer, when it is TCP.
    Tcp,
    Icmp,
    /// Any layer at all (the innermost one's payload).
    Payload,
    Pf,
}

const GROUPS: usize = Group::Pf as usize + 1;
/// A flag beside the groups' ones: the pflog header has the old layout.
const PF_OLD: u16 = 1 << GROUPS;

const fn bit(g: Group) -> u16 {
    1 << g as u16
}

impl Col {
    fn group(self) -> Group {
        match self {
            Col::Ts | Col::Caplen | Col::Len | Col::Linktype | Col::Raw => Group::Always,
            Col::EthSrc | Col::EthDst | Col::EthType => Group::Eth,
            Col::Vlan => Group::Vlan,
            Col::IpVersion | Col::IpSrc | Col::IpDst | Col::IpProto | Col::IpTtl | Col::IpLen => Group::Ip,
            Col::IpFlags | Col::IpFragOffset => Group::Ip4,
            Col::Sport | Col::Dport => Group::Ports,
            Col::TcpFlags | Col::TcpSeq | Col::TcpAck | Col::TcpWindow => Group::Tcp,
            Col::IcmpType | Col::IcmpCode => Group::Icmp,
            Col::PayloadLen => Group::Payload,
            Col::PfAction | Col::PfReason | Col::PfDirection | Col::PfRule | Col::PfIfname => Group::Pf,
        }
    }
}

/// Where a header is in a packet's bytes (`0..0`: nowhere).
#[derive(Clone, Copy, Default)]
struct Span {
    start: u32,
    end: u32,
}

impl Span {
    /// The header's bytes in `data`, with the decoder's readers.
    #[inline(always)]
    fn of(self, data: &[u8]) -> H<'_> {
        H(data.get(self.start as usize..self.end as usize).unwrap_or(&[]))
    }
}

/// The layers of one packet that the columns read, located once by
/// `packet::layer::locate_each`: the first of each kind's header.
#[derive(Clone, Copy, Default)]
struct Loc {
    eth: Span,
    vlan: Span,
    ip: Span,
    ports: Span,
    icmp: Span,
    pf: Span,
    /// The innermost layer's payload length.
    payload: u32,
    /// `bit(group)` for every group the packet has, and `PF_OLD`.
    flags: u16,
}

impl Loc {
    const NONE: Loc = Loc {
        eth: Span { start: 0, end: 0 },
        vlan: Span { start: 0, end: 0 },
        ip: Span { start: 0, end: 0 },
        ports: Span { start: 0, end: 0 },
        icmp: Span { start: 0, end: 0 },
        pf: Span { start: 0, end: 0 },
        payload: 0,
        flags: bit(Group::Always),
    };

    #[inline(always)]
    fn has(&self, g: Group) -> bool {
        self.flags & bit(g) != 0
    }

    /// The layers of `data`, each read as the locator finds it.
    #[inline]
    fn locate(&mut self, data: &[u8], dlt: i32) {
        // Written in place (a `Loc` returned by value is copied through
        // the stack in pieces that stall the load of the whole).
        let l = self;
        *l = Loc::NONE;
        let mut last = None;
        locate_each(data, first_kind(dlt, data), |y| {
            last = Some(y);
            let sp = Span { start: y.off, end: y.off + y.hlen };
            let (slot, flags) = match y.kind {
                Kind::Ethernet => (&mut l.eth, bit(Group::Eth)),
                Kind::Vlan => (&mut l.vlan, bit(Group::Vlan)),
                Kind::Ip => (&mut l.ip, bit(Group::Ip) | bit(Group::Ip4)),
                Kind::Ipv6 => (&mut l.ip, bit(Group::Ip)),
                Kind::Tcp => (&mut l.ports, bit(Group::Ports) | bit(Group::Tcp)),
                Kind::Udp => (&mut l.ports, bit(Group::Ports)),
                Kind::Icmp | Kind::Icmp6 => (&mut l.icmp, bit(Group::Icmp)),
                Kind::Pf => (&mut l.pf, bit(Group::Pf)),
                Kind::PfOld => (&mut l.pf, bit(Group::Pf) | PF_OLD),
                _ => return true,
            };
            // The first layer of each group wins (its own group bit says
            // whether one was seen).
            if l.flags & flags & !PF_OLD & !bit(Group::Ip4) & !bit(Group::Tcp) == 0 {
                *slot = sp;
                l.flags |= flags;
            }
            true
        });
        if let Some(y) = last {
            l.payload = (y.end() - y.payload_start()) as u32;
            l.flags |= bit(Group::Payload);
        }
    }
}

/// A column of variable-length values (text or bytes) being built.
struct Var<O> {
    offsets: Vec<O>,
    bytes: Vec<u8>,
}

impl<O: Copy + Default + TryFrom<usize>> Var<O> {
    fn new(cap: usize) -> Self {
        let mut offsets = Vec::with_capacity(cap + 1);
        offsets.push(O::default());
        Var { offsets, bytes: Vec::new() }
    }

    /// Ends the current value (its bytes were appended); `false` when the
    /// column has grown past what its offsets can address.
    #[inline(always)]
    fn end_value(&mut self) -> bool {
        match O::try_from(self.bytes.len()) {
            Ok(o) => {
                self.offsets.push(o);
                true
            }
            Err(_) => false,
        }
    }

    fn truncate(&mut self, n: usize, to_usize: impl Fn(O) -> usize) {
        self.offsets.truncate(n + 1);
        let end = self.offsets.last().map_or(0, |&o| to_usize(o));
        self.bytes.truncate(end);
    }

    fn take(&mut self) -> (OffsetBuffer<O>, Buffer)
    where
        O: arrow_buffer::ArrowNativeType,
    {
        // The next batch starts with buffers of this one's size.
        let mut fresh = Vec::with_capacity(self.offsets.len());
        fresh.push(O::default());
        let offsets = std::mem::replace(&mut self.offsets, fresh);
        let size = self.bytes.len();
        let bytes = std::mem::replace(&mut self.bytes, Vec::with_capacity(size));
        // SAFETY: offsets start at 0 and never decrease (each is the byte
        // length after a value), and the last is the byte length.
        (unsafe { OffsetBuffer::new_unchecked(ScalarBuffer::from(offsets)) }, Buffer::from_vec(bytes))
    }
}

/// The values of one column being built (validity is kept per `Group`).
enum Vals {
    Ts(Vec<i64>),
    U8(Vec<u8>),
    U16(Vec<u16>),
    U32(Vec<u32>),
    I32(Vec<i32>),
    Text(Var<i32>),
    Addr(Dict),
    Bin(Var<i64>),
}

fn take_vec<T>(v: &mut Vec<T>, cap: usize) -> Vec<T> {
    // The next batch gets buffers of the same size at once (no growing).
    std::mem::replace(v, Vec::with_capacity(cap))
}

impl Vals {
    fn new(ty: Ty, cap: usize) -> Vals {
        match ty {
            Ty::Ts => Vals::Ts(Vec::with_capacity(cap)),
            Ty::U8 => Vals::U8(Vec::with_capacity(cap)),
            Ty::U16 => Vals::U16(Vec::with_capacity(cap)),
            Ty::U32 => Vals::U32(Vec::with_capacity(cap)),
            Ty::I32 => Vals::I32(Vec::with_capacity(cap)),
            Ty::Text => Vals::Text(Var::new(cap)),
            Ty::Addr => Vals::Addr(Dict::new(cap)),
            Ty::Bin => Vals::Bin(Var::new(cap)),
        }
    }

    fn truncate(&mut self, n: usize) {
        match self {
            Vals::Ts(v) => v.truncate(n),
            Vals::U8(v) => v.truncate(n),
            Vals::U16(v) => v.truncate(n),
            Vals::U32(v) => v.truncate(n),
            Vals::I32(v) => v.truncate(n),
            Vals::Text(t) => t.truncate(n, |o| o as usize),
            // The addresses of the rows forgotten stay in the dictionary
            // (an unused value is valid Arrow).
            Vals::Addr(d) => d.keys.truncate(n),
            Vals::Bin(b) => b.truncate(n, |o| o as usize),
        }
    }

    fn finish(&mut self, nulls: Option<NullBuffer>, cap: usize) -> ArrayRef {
        fn prim<T: ArrowPrimitiveType>(v: Vec<T::Native>, nulls: Option<NullBuffer>) -> PrimitiveArray<T> {
            PrimitiveArray::new(ScalarBuffer::from(v), nulls)
        }
        match self {
            Vals::Ts(v) => Arc::new(prim::<TimestampNanosecondType>(take_vec(v, cap), nulls).with_timezone("UTC")),
            Vals::U8(v) => Arc::new(prim::<UInt8Type>(take_vec(v, cap), nulls)),
            Vals::U16(v) => Arc::new(prim::<UInt16Type>(take_vec(v, cap), nulls)),
            Vals::U32(v) => Arc::new(prim::<UInt32Type>(take_vec(v, cap), nulls)),
            Vals::I32(v) => Arc::new(prim::<Int32Type>(take_vec(v, cap), nulls)),
            Vals::Text(t) => {
                let (offsets, bytes) = t.take();
                // SAFETY: the offsets are valid (see `Var::take`) and every
                // value appended is the bytes of a `str` (ASCII formatting,
                // or a `String`), so valid UTF-8.
                Arc::new(unsafe { StringArray::new_unchecked(offsets, bytes, nulls) })
            }
            Vals::Addr(d) => d.finish(nulls, cap),
            Vals::Bin(b) => {
                let (offsets, bytes) = b.take();
                // SAFETY: valid offsets (see `Var::take`); any bytes are
                // valid binary.
                Arc::new(unsafe { LargeBinaryArray::new_unchecked(offsets, bytes, nulls) })
            }
        }
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

/// The timestamp column's value: nanoseconds since the epoch. The fraction
/// is in nanoseconds on a feed opened with precision="nano", else in
/// microseconds.
#[inline(always)]
fn ts_ns(r: &Record<'_>, nano: bool) -> i64 {
    let frac = if nano { r.usec } else { r.usec.saturating_mul(1000) };
    r.sec.saturating_mul(1_000_000_000).saturating_add(frac)
}

/// The text of a pflog header's interface name, as the `ifname` getter
/// shows it.
fn pf_ifname(out: &mut Vec<u8>, h: H<'_>) {
    out.extend_from_slice(crate::packet::fields::padded_str(h.bytes(4, 16)).as_bytes());
}

/// Appends the values of column `c` for the rows `recs` (located at
/// `locs`) to `v`, one tight loop per column. False when a text column
/// outgrew its offsets.
fn fill(c: Col, v: &mut Vals, recs: &[Record<'_>], locs: &[Loc], link: LinkInfo) -> bool {
    let rows = || recs.iter().zip(locs);
    // Numbers: one value per row (0 under a null).
    macro_rules! nums {
        ($variant:ident, |$r:ident, $l:ident| $e:expr) => {{
            if let Vals::$variant(o) = v {
                o.extend(rows().map(|($r, $l)| $e));
            }
            true
        }};
    }
    // Text: the bytes of each row whose packet has layer `$g`.
    macro_rules! text {
        ($g:expr, |$out:ident, $r:ident, $l:ident| $e:expr) => {{
            let mut ok = true;
            if let Vals::Text(t) = v {
                for ($r, $l) in rows() {
                    if $l.has($g) {
                        let $out = &mut t.bytes;
                        $e;
                    }
                    ok &= t.end_value();
                }
            }
            ok
        }};
    }
    // Addresses: the key of each row's text in the batch's dictionary (0
    // under a null).
    macro_rules! addr {
        ($g:expr, |$r:ident, $l:ident| $bytes:expr, $fmt:expr) => {{
            if let Vals::Addr(Dict { keys, texts }) = v {
                keys.extend(rows().map(|($r, $l)| if $l.has($g) { texts.key($bytes, $fmt) } else { 0 }));
                return !texts.overflow;
            }
            true
        }};
    }
    // The bytes of the IP layer's address at `at4` (IPv4) or `at6` (IPv6).
    fn ip<'a>(r: &Record<'a>, l: &Loc, at4: usize, at6: usize) -> &'a [u8] {
        let h = l.ip.of(r.data);
        if l.has(Group::Ip4) {
            h.bytes(at4, 4)
        } else {
            h.bytes(at6, 16)
        }
    }
    // A field of the IP header: `v4` of IPv4, `v6` of IPv6.
    let ipf = |l: &Loc, v4: u8, v6: u8| if l.has(Group::Ip4) { v4 } else { v6 };
    let tcp = |l: &Loc| if l.has(Group::Tcp) { l.ports } else { Span::default() };
    let ip4 = |l: &Loc| if l.has(Group::Ip4) { l.ip } else { Span::default() };
    let old = |l: &Loc| l.flags & PF_OLD != 0;
    match c {
        Col::Ts => nums!(Ts, |r, _l| ts_ns(r, link.nano)),
        Col::Caplen => nums!(U32, |r, _l| r.data.len() as u32),
        Col::Len => nums!(U32, |r, _l| r.len),
        Col::Linktype => nums!(I32, |_r, _l| link.dlt),
        Col::EthSrc => addr!(Group::Eth, |r, l| l.eth.of(r.data).bytes(6, 6), fmt_hw),
        Col::EthDst => addr!(Group::Eth, |r, l| l.eth.of(r.data).bytes(0, 6), fmt_hw),
        Col::EthType => nums!(U16, |r, l| l.eth.of(r.data).be16(12)),
        Col::Vlan => nums!(U16, |r, l| l.vlan.of(r.data).be16(0) & 0xfff),
        Col::IpVersion => nums!(U8, |r, l| l.ip.of(r.data).u8(0) >> 4),
        Col::IpSrc => addr!(Group::Ip, |r, l| ip(r, l, 12, 8), fmt_ip),
        Col::IpDst => addr!(Group::Ip, |r, l| ip(r, l, 16, 24), fmt_ip),
        Col::IpProto => nums!(U8, |r, l| l.ip.of(r.data).u8(ipf(l, 9, 6) as usize)),
        Col::IpTtl => nums!(U8, |r, l| l.ip.of(r.data).u8(ipf(l, 8, 7) as usize)),
        Col::IpLen => nums!(U16, |r, l| l.ip.of(r.data).be16(ipf(l, 2, 4) as usize)),
        Col::IpFlags => nums!(U8, |r, l| ip4(l).of(r.data).u8(6) >> 5),
        Col::IpFragOffset => nums!(U16, |r, l| ip4(l).of(r.data).be16(6) & 0x1fff),
        Col::Sport => nums!(U16, |r, l| l.ports.of(r.data).be16(0)),
        Col::Dport => nums!(U16, |r, l| l.ports.of(r.data).be16(2)),
        Col::TcpFlags => nums!(U8, |r, l| tcp(l).of(r.data).u8(13)),
        Col::TcpSeq => nums!(U32, |r, l| tcp(l).of(r.data).be32(4)),
        Col::TcpAck => nums!(U32, |r, l| tcp(l).of(r.data).be32(8)),
        Col::TcpWindow => nums!(U16, |r, l| tcp(l).of(r.data).be16(14)),
        Col::IcmpType => nums!(U8, |r, l| l.icmp.of(r.data).u8(0)),
        Col::IcmpCode => nums!(U8, |r, l| l.icmp.of(r.data).u8(1)),
        Col::PayloadLen => nums!(U32, |_r, l| l.payload),
        Col::PfAction => nums!(U16, |r, l| {
            let h = l.pf.of(r.data);
            if old(l) {
                h.be16(24)
            } else {
                h.u8(2) as u16
            }
        }),
        Col::PfReason => nums!(U16, |r, l| {
            let h = l.pf.of(r.data);
            if old(l) {
                h.be16(22)
            } else {
                h.u8(3) as u16
            }
        }),
        Col::PfDirection => nums!(U16, |r, l| {
            let h = l.pf.of(r.data);
            match (l.has(Group::Pf), old(l)) {
                (false, _) => 0,
                (true, true) => h.be16(26),
                (true, false) => pf_direction(h) as u16,
            }
        }),
        Col::PfRule => nums!(U32, |r, l| {
            let h = l.pf.of(r.data);
            if old(l) {
                h.be16(20) as u32
            } else {
                h.be32(36)
            }
        }),
        Col::PfIfname => text!(Group::Pf, |out, r, l| pf_ifname(out, l.pf.of(r.data))),
        Col::Raw => {
            let mut ok = true;
            if let Vals::Bin(b) = v {
                for r in recs {
                    b.bytes.extend_from_slice(r.data);
                    ok &= b.end_value();
                }
            }
            ok
        }
    }
}

/// An address (4, 6 or 16 bytes) as two words and its length.
#[derive(Clone, Copy, PartialEq, Eq)]
struct AddrKey {
    words: (u64, u64),
    len: u8,
}

impl AddrKey {
    #[inline(always)]
    fn of(addr: &[u8]) -> AddrKey {
        AddrKey { words: key_words(addr), len: addr.len().min(16) as u8 }
    }

    /// A multiply folded on itself: every bit of the address reaches the
    /// low bits (the table's slot) and the high ones (its tag).
    #[inline(always)]
    fn hash(self) -> u64 {
        let (a, b) = self.words;
        let x = a ^ b.rotate_left(29) ^ self.len as u64;
        let p = (x as u128).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        (p as u64) ^ (p >> 64) as u64
    }
}

/// `key` (at most 16 bytes) as two words, zeros after its end: plain loads
/// for the lengths of addresses (4, 6, 16).
#[inline(always)]
fn key_words(key: &[u8]) -> (u64, u64) {
    let word = |b: &[u8]| -> u64 {
        let mut w = [0u8; 8];
        let n = b.len().min(8);
        w[..n].copy_from_slice(&b[..n]);
        u64::from_ne_bytes(w)
    };
    match *key {
        [a, b, c, d] => (u32::from_ne_bytes([a, b, c, d]) as u64, 0),
        [a, b, c, d, e, f] => (u64::from_ne_bytes([a, b, c, d, e, f, 0, 0]), 0),
        _ => match key.get(..16).and_then(|k| <[u8; 16]>::try_from(k).ok()) {
            Some(k) => (
                u64::from_ne_bytes(k[..8].try_into().unwrap_or_default()),
                u64::from_ne_bytes(k[8..].try_into().unwrap_or_default()),
            ),
            None => (word(key.get(..8).unwrap_or(key)), word(key.get(8..).unwrap_or(&[]))),
        },
    }
}

/// The distinct addresses of one address column's batch, each formatted
/// once (by the Packet API's formatter) into the dictionary's texts.
struct Texts {
    /// The dictionary: one text per distinct address.
    values: Var<i32>,
    /// Each address with its dictionary index (the address in the table
    /// itself: a lookup is one probe; its length is the number of texts).
    table: HashTable<(AddrKey, u32)>,
    /// The texts outgrew their offsets (never, in practice: at most 16 Mi
    /// rows of at most 46 bytes).
    overflow: bool,
}

impl Texts {
    /// The dictionary key of `addr`'s text, formatted by `f` if it is new.
    #[inline(always)]
    fn key(&mut self, addr: &[u8], f: impl FnOnce(&mut Buf, &[u8])) -> i32 {
        let k = AddrKey::of(addr);
        let h = k.hash();
        match self.table.find(h, |e| e.0 == k) {
            Some(&(_, i)) => i as i32,
            None => self.insert(k, h, |out| {
                let mut buf = Buf::new();
                f(&mut buf, addr);
                out.extend_from_slice(buf.as_bytes());
            }),
        }
    }

    /// The key of `k` (hash `h`, not in the table), its text written by
    /// `text`.
    #[inline(never)]
    fn insert(&mut self, k: AddrKey, h: u64, text: impl FnOnce(&mut Vec<u8>)) -> i32 {
        let i = self.table.len() as u32;
        text(&mut self.values.bytes);
        self.overflow |= !self.values.end_value();
        self.table.insert_unique(h, (k, i), |e| e.0.hash());
        i as i32
    }
}

/// An address column being built: a key per row into the batch's
/// dictionary of texts.
struct Dict {
    keys: Vec<i32>,
    texts: Texts,
}

impl Dict {
    fn new(cap: usize) -> Dict {
        let texts = Texts { values: Var::new(0), table: HashTable::new(), overflow: false };
        Dict { keys: Vec::with_capacity(cap), texts }
    }

    /// The rows as a dictionary array; the dictionary starts empty again.
    fn finish(&mut self, nulls: Option<NullBuffer>, cap: usize) -> ArrayRef {
        use arrow_array::Array as _;
        let t = &mut self.texts;
        if t.overflow {
            // The texts lost offsets (impossible within the 16 Mi rows a batch may have):
            // the batch is refused (`Builder::finish`); no invalid array.
            let n = self.keys.len();
            self.keys.clear();
            t.clear();
            return arrow_array::new_null_array(&addr_type(), n);
        }
        if t.table.is_empty() && !self.keys.is_empty() {
            // Every row is null; their keys (0) must still index a value.
            t.values.end_value();
        }
        let (offsets, bytes) = t.values.take();
        // SAFETY: valid offsets (see `Var::take`); every text is ASCII
        // (the address formatters' output).
        let values = unsafe { StringArray::new_unchecked(offsets, bytes, None) };
        let keys = PrimitiveArray::<Int32Type>::new(ScalarBuffer::from(take_vec(&mut self.keys, cap)), nulls);
        debug_assert!(keys.values().iter().all(|&k| (k as usize) < values.len()));
        t.clear();
        // SAFETY: every key is an index `Texts::key` returned (below the
        // number of texts) or 0 under a null, and there is a text when
        // there is a row.
        Arc::new(unsafe { DictionaryArray::new_unchecked(keys, Arc::new(values)) })
    }
}

impl Texts {
    fn clear(&mut self) {
        self.values.truncate(0, |o| o as usize);
        self.table.clear();
        self.overflow = false;
    }
}

/// Records located and filled at a time on one thread (their located
/// layers and header bytes stay in the L2 cache).
const PART: usize = 1024;

/// Decodes records into the columns of one batch.
///
/// Records come in runs ([`Builder::push_run`]): the layers of every record
/// of a run are located first, then each column is filled by a loop of its
/// own over the run, and one validity bitmap per layer serves every column
/// of that layer.
pub struct Builder {
    cols: Vec<Col>,
    vals: Vec<Vals>,
    /// The validity of each group a column needs (not `Always`).
    valid: Vec<(Group, BooleanBufferBuilder)>,
    schema: SchemaRef,
    link: LinkInfo,
    /// The located layers of the run being pushed (kept for its buffer).
    locs: Vec<Loc>,
    /// Whether a chosen column reads a layer (else nothing is located).
    layered: bool,
    rows: usize,
    cap: usize,
    /// A value past what a column's offsets can hold (over 2 GiB of text
    /// in one batch): the batch is refused.
    overflow: bool,
}

impl Builder {
    pub fn new(cols: Vec<Col>, link: LinkInfo, cap: usize) -> Builder {
        let vals = cols.iter().map(|c| Vals::new(c.ty(), cap)).collect();
        let mut groups: Vec<Group> = cols.iter().map(|c| c.group()).filter(|&g| g != Group::Always).collect();
        groups.sort_by_key(|&g| g as u8);
        groups.dedup();
        let valid = groups.into_iter().map(|g| (g, BooleanBufferBuilder::new(cap))).collect();
        let schema = schema(&cols);
        let layered = !cols.iter().all(|c| matches!(c, Col::Ts | Col::Caplen | Col::Len | Col::Linktype | Col::Raw));
        Builder { cols, vals, valid, schema, link, locs: Vec::new(), layered, rows: 0, cap, overflow: false }
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
            for v in &mut self.vals {
                v.truncate(n);
            }
            for (_, b) in &mut self.valid {
                b.truncate(n);
            }
            self.rows = n;
        }
    }

    /// Appends one row: the columns of `rec`.
    pub fn push(&mut self, rec: &Record<'_>) {
        self.push_run(std::slice::from_ref(rec));
    }

    /// Appends one row per record of `recs`, in order.
    pub fn push_run(&mut self, recs: &[Record<'_>]) {
        // In parts whose located layers stay in the cache.
        for part in recs.chunks(PART) {
            self.locs.clear();
            self.locs.resize(part.len(), Loc::NONE);
            if self.layered {
                for (l, r) in self.locs.iter_mut().zip(part) {
                    l.locate(r.data, self.link.dlt);
                }
            }
            for (g, b) in &mut self.valid {
                // The part's bits packed eight to a byte, then appended at once.
                let m = bit(*g);
                let mut bits = [0u8; PART / 8];
                for (byte, locs) in bits.iter_mut().zip(self.locs.chunks(8)) {
                    for (i, l) in locs.iter().enumerate() {
                        *byte |= ((l.flags & m != 0) as u8) << i;
                    }
                }
                b.append_packed_range(0..self.locs.len(), &bits);
            }
            for (&c, v) in self.cols.iter().zip(self.vals.iter_mut()) {
                self.overflow |= !fill(c, v, part, &self.locs, self.link);
            }
            self.rows += part.len();
        }
    }

    /// The rows built so far, as a batch; the builder starts empty again.
    pub fn finish(&mut self) -> Result<RecordBatch, ArrowError> {
        let mut nulls: [Option<NullBuffer>; GROUPS] = Default::default();
        for (g, b) in &mut self.valid {
            let n = NullBuffer::new(b.finish());
            nulls[*g as usize] = (n.null_count() > 0).then_some(n);
        }
        let cap = self.cap;
        let arrays: Vec<ArrayRef> = self
            .cols
            .iter()
            .zip(self.vals.iter_mut())
            .map(|(c, v)| v.finish(nulls[c.group() as usize].clone(), cap))
            .collect();
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
    use arrow_array::{Array, ArrayAccessor, StringArray, UInt16Array};

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

    /// The texts of an address column (None under a null).
    fn texts(a: &ArrayRef) -> Vec<Option<String>> {
        let d = a.as_any().downcast_ref::<DictionaryArray<Int32Type>>().unwrap();
        let t = d.downcast_dict::<StringArray>().unwrap();
        (0..d.len()).map(|i| d.is_valid(i).then(|| t.value(i).to_string())).collect()
    }

    fn some(v: &[&str]) -> Vec<Option<String>> {
        v.iter().map(|s| Some(s.to_string())).collect()
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
        let want = vec![Some("1.2.3.4".to_string()), Some("9.9.9.9".to_string()), None];
        assert_eq!(texts(batch.column(0)), want);
        let sp = batch.column(1).as_any().downcast_ref::<UInt16Array>().unwrap();
        assert_eq!((sp.value(0), sp.value(1), sp.is_null(2)), (1000, 3000, true));
        // The builder starts empty again, its dictionary too.
        b.push(&rec(&c));
        let batch = b.finish().unwrap();
        assert_eq!((batch.num_rows(), texts(batch.column(0))), (1, some(&["5.6.7.8"])));
        let d = batch.column(0).as_any().downcast_ref::<DictionaryArray<Int32Type>>().unwrap();
        assert_eq!(d.values().len(), 1);
    }

    #[test]
    fn an_address_is_formatted_once_per_batch_and_an_all_null_batch_is_valid() {
        let link = LinkInfo { dlt: 1, swapped: false, first: None, nano: false };
        let mut b = Builder::new(vec![Col::IpSrc, Col::IpDst, Col::EthSrc], link, 8);
        let (a, c) = (frame([1, 2, 3, 4], 1), frame([5, 6, 7, 8], 2));
        for r in [&a, &c, &a, &a, &c] {
            b.push(&rec(r));
        }
        let batch = b.finish().unwrap();
        assert_eq!(texts(batch.column(0)), some(&["1.2.3.4", "5.6.7.8", "1.2.3.4", "1.2.3.4", "5.6.7.8"]));
        assert_eq!(texts(batch.column(1)), some(&["10.0.0.1"; 5]));
        assert_eq!(texts(batch.column(2)), some(&["00:00:00:00:00:00"; 5]));
        let d = batch.column(0).as_any().downcast_ref::<DictionaryArray<Int32Type>>().unwrap();
        assert_eq!((d.values().len(), d.keys().values().to_vec()), (2, vec![0, 1, 0, 0, 1]));
        // No packet with an IP layer: every key is null and indexes a value.
        b.push(&rec(&[0u8; 3]));
        b.push(&rec(&[0u8; 3]));
        let batch = b.finish().unwrap();
        assert_eq!(texts(batch.column(0)), vec![None, None]);
        let d = batch.column(0).as_any().downcast_ref::<DictionaryArray<Int32Type>>().unwrap();
        assert_eq!(d.values().len(), 1);
        batch.column(0).to_data().validate_full().unwrap();
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
