//! ICMP for IPv4: the `ICMP` base class and one subclass per message type,
//! chosen by the type byte.

use super::fields::{py_ipv4, table};
use super::layer::Kind;
use super::proto::{base, detached_object, hdr, new_object, protocol_class, Protocol};
use super::subtypes::icmp::TYPES;
use super::write::{self, Opts};
use pyo3::prelude::*;
use pyo3::types::PyString;

pub fn repr(t: u8) -> String {
    match t {
        0 => "ICMP Echo Reply",
        3 => "ICMP Destination Unreachable",
        4 => "ICMP Source Quench",
        5 => "ICMP Redirect",
        8 => "ICMP Echo Request",
        9 => "ICMP Router Advertisement",
        10 => "ICMP Router Solicitation",
        11 => "ICMP Time Exceeded",
        12 => "ICMP Parameter Problem",
        13 => "ICMP Timestamp Request",
        14 => "ICMP Timestamp Reply",
        15 => "ICMP Information Request",
        16 => "ICMP Information Reply",
        17 => "ICMP Address Mask Request",
        18 => "ICMP Address Mask Reply",
        _ => "ICMP",
    }
    .to_owned()
}

protocol_class!(
    /// An ICMP message of a type without a subclass; base of the subclasses.
    Icmp, "ICMP", subclass);

/// Base of the messages with an identifier and a sequence number.
#[pyclass(subclass, frozen, extends = Icmp, module = "openbsd.packet", name = "_ICMPIDSeqBase")]
pub struct IdSeq;
unsafe impl super::proto::IsProtocol for IdSeq {}

/// Base of the timestamp messages.
#[pyclass(subclass, frozen, extends = IdSeq, module = "openbsd.packet", name = "_ICMPTimestampBase")]
pub struct TsBase;
unsafe impl super::proto::IsProtocol for TsBase {}

/// Base of the error messages that quote an IP header (`iphdr`).
#[pyclass(subclass, frozen, extends = Icmp, module = "openbsd.packet", name = "_ICMPWithIPHdr")]
pub struct WithIpHdr;
unsafe impl super::proto::IsProtocol for WithIpHdr {}

macro_rules! leaf {
    ($rust:ident, $name:literal, $base:ty) => {
        protocol_class!($rust, $name, extends $base);
    };
}

leaf!(EchoReply, "ICMPEchoReply", IdSeq);
leaf!(EchoRequest, "ICMPEchoRequest", IdSeq);
leaf!(InformationRequest, "ICMPInformationRequest", IdSeq);
leaf!(InformationReply, "ICMPInformationReply", IdSeq);
leaf!(AddressMaskRequest, "ICMPAddressMaskRequest", IdSeq);
leaf!(AddressMaskReply, "ICMPAddressMaskReply", IdSeq);
leaf!(TimestampRequest, "ICMPTimestampRequest", TsBase);
leaf!(TimestampReply, "ICMPTimestampReply", TsBase);
leaf!(DestinationUnreachable, "ICMPDestinationUnreachable", WithIpHdr);
leaf!(SourceQuench, "ICMPSourceQuench", WithIpHdr);
leaf!(Redirect, "ICMPRedirect", WithIpHdr);
leaf!(TimeExceeded, "ICMPTimeExceeded", WithIpHdr);
leaf!(ParameterProblem, "ICMPParameterProblem", WithIpHdr);
leaf!(RouterAdvertisement, "ICMPRouterAdvertisement", Icmp);
leaf!(RouterSolicitation, "ICMPRouterSolicitation", Icmp);

pub fn object(py: Python<'_>, base: Protocol, t: u8) -> PyResult<Py<PyAny>> {
    match t {
        0 => new_object!(py, base, Icmp, IdSeq, EchoReply),
        8 => new_object!(py, base, Icmp, IdSeq, EchoRequest),
        15 => new_object!(py, base, Icmp, IdSeq, InformationRequest),
        16 => new_object!(py, base, Icmp, IdSeq, InformationReply),
        17 => new_object!(py, base, Icmp, IdSeq, AddressMaskRequest),
        18 => new_object!(py, base, Icmp, IdSeq, AddressMaskReply),
        13 => new_object!(py, base, Icmp, IdSeq, TsBase, TimestampRequest),
        14 => new_object!(py, base, Icmp, IdSeq, TsBase, TimestampReply),
        3 => new_object!(py, base, Icmp, WithIpHdr, DestinationUnreachable),
        4 => new_object!(py, base, Icmp, WithIpHdr, SourceQuench),
        5 => new_object!(py, base, Icmp, WithIpHdr, Redirect),
        11 => new_object!(py, base, Icmp, WithIpHdr, TimeExceeded),
        12 => new_object!(py, base, Icmp, WithIpHdr, ParameterProblem),
        9 => new_object!(py, base, Icmp, RouterAdvertisement),
        10 => new_object!(py, base, Icmp, RouterSolicitation),
        _ => new_object!(py, base, Icmp),
    }
}

#[pymethods]
impl Icmp {
    #[setter(itype)]
    fn set_itype(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "ICMP.itype", 0, 1, 0, 8, v, Opts::Names(TYPES))
    }
    #[setter(checksum)]
    fn set_checksum(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "ICMP.checksum", 2, 2, 0, 16, v, Opts::Plain)
    }
    #[classattr]
    const TYPE: &'static str = "ICMP";
    #[classattr]
    #[pyo3(name = "TypeOptions")]
    fn type_options(py: Python<'_>) -> PyResult<Py<PyAny>> {
        table(py, TYPES)
    }
    #[getter]
    fn itype(slf: &Bound<'_, Self>) -> u8 {
        hdr(slf).u8(0)
    }
    #[getter]
    fn code(slf: &Bound<'_, Self>) -> u8 {
        hdr(slf).u8(1)
    }
    /// A number, or a name of the message type's `CodeOptions`.
    #[setter(code)]
    fn set_code(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        let opts = code_opts(hdr(slf).u8(0));
        write::bits(slf, "ICMP.code", 1, 1, 0, 8, v, opts)
    }
    #[getter]
    fn checksum(slf: &Bound<'_, Self>) -> u16 {
        hdr(slf).be16(2)
    }
}

#[pymethods]
impl IdSeq {
    #[setter(identifier)]
    fn set_identifier(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "ICMP.identifier", 4, 2, 0, 16, v, Opts::Plain)
    }
    #[setter(seq_num)]
    fn set_seq_num(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "ICMP.seq_num", 6, 2, 0, 16, v, Opts::Plain)
    }
    #[getter]
    fn identifier(slf: &Bound<'_, Self>) -> u16 {
        hdr(slf).be16(4)
    }
    #[getter]
    fn seq_num(slf: &Bound<'_, Self>) -> u16 {
        hdr(slf).be16(6)
    }
}

#[pymethods]
impl TsBase {
    #[setter(origin_ts)]
    fn set_origin_ts(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "ICMP.origin_ts", 8, 4, 0, 32, v, Opts::Plain)
    }
    #[setter(receive_ts)]
    fn set_receive_ts(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "ICMP.receive_ts", 12, 4, 0, 32, v, Opts::Plain)
    }
    #[setter(transmit_ts)]
    fn set_transmit_ts(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "ICMP.transmit_ts", 16, 4, 0, 32, v, Opts::Plain)
    }
    #[getter]
    fn origin_ts(slf: &Bound<'_, Self>) -> u32 {
        hdr(slf).be32(8)
    }
    #[getter]
    fn receive_ts(slf: &Bound<'_, Self>) -> u32 {
        hdr(slf).be32(12)
    }
    #[getter]
    fn transmit_ts(slf: &Bound<'_, Self>) -> u32 {
        hdr(slf).be32(16)
    }
}

#[pymethods]
impl WithIpHdr {
    /// The quoted IP header (an `IP` object outside the stack), or None
    /// when fewer than 20 bytes of it were captured.
    #[getter]
    fn iphdr(slf: &Bound<'_, Self>) -> PyResult<Option<Py<PyAny>>> {
        let p = base(slf);
        detached_object(slf.py(), p, Kind::Ip, p.layer(slf.py()).payload_start(), super::ip::object)
    }
}

/// `CodeOptions` of the error messages.
pub const UNREACH_CODES: &[(&str, u32)] = &[
    ("NET_UNREACHABLE", 0),
    ("HOST_UNREACHABLE", 1),
    ("PROTOCOL_UNREACHABLE", 2),
    ("PORT_UNREACHABLE", 3),
    ("FRAG_NEEDED_DF_SET", 4),
    ("SOURCE_ROUTE_FAILED", 5),
];
pub const REDIRECT_CODES: &[(&str, u32)] =
    &[("NETWORK_REDIRECT", 0), ("HOST_REDIRECT", 1), ("TOS_NETWORK_REDIRECT", 2), ("TOS_HOST_REDIRECT", 3)];
pub const TIME_EXCEEDED_CODES: &[(&str, u32)] = &[("TRANSIT", 0), ("REASSEMBLY", 1)];
pub const PARAMETER_PROBLEM_CODES: &[(&str, u32)] = &[("HEADER_BAD", 0), ("OPTION_MISSING", 1)];

/// The one code (0) of each other message type, by the legacy names.
const ECHO_REPLY_CODES: &[(&str, u32)] = &[("ECHO_REPLY", 0)];
const SOURCE_QUENCH_CODES: &[(&str, u32)] = &[("SOURCE_QUENCH", 0)];
const ECHO_REQUEST_CODES: &[(&str, u32)] = &[("ECHO_REQUEST", 0)];
const ROUTER_ADVERTISEMENT_CODES: &[(&str, u32)] = &[("ROUTER_ADVERTISEMENT", 0)];
const ROUTER_SOLICITATION_CODES: &[(&str, u32)] = &[("ROUTER_SOLICITATION", 0)];
const TIMESTAMP_REQUEST_CODES: &[(&str, u32)] = &[("TIMESTAMP_REQUEST", 0)];
const TIMESTAMP_REPLY_CODES: &[(&str, u32)] = &[("TIMESTAMP_REPLY", 0)];
const INFORMATION_REQUEST_CODES: &[(&str, u32)] = &[("INFORMATION_REQUEST", 0)];
const INFORMATION_REPLY_CODES: &[(&str, u32)] = &[("INFORMATION_REPLY", 0)];
const ADDRESSMASK_REQUEST_CODES: &[(&str, u32)] = &[("ADDRESSMASK_REQUEST", 0)];
const ADDRESSMASK_REPLY_CODES: &[(&str, u32)] = &[("ADDRESSMASK_REPLY", 0)];

/// The code table of messages of type `t` (`None`: not a known type).
fn codes_of(t: u8) -> Option<&'static [(&'static str, u32)]> {
    Some(match t {
        0 => ECHO_REPLY_CODES,
        3 => UNREACH_CODES,
        4 => SOURCE_QUENCH_CODES,
        5 => REDIRECT_CODES,
        8 => ECHO_REQUEST_CODES,
        9 => ROUTER_ADVERTISEMENT_CODES,
        10 => ROUTER_SOLICITATION_CODES,
        11 => TIME_EXCEEDED_CODES,
        12 => PARAMETER_PROBLEM_CODES,
        13 => TIMESTAMP_REQUEST_CODES,
        14 => TIMESTAMP_REPLY_CODES,
        15 => INFORMATION_REQUEST_CODES,
        16 => INFORMATION_REPLY_CODES,
        17 => ADDRESSMASK_REQUEST_CODES,
        18 => ADDRESSMASK_REPLY_CODES,
        _ => return None,
    })
}

/// The code names a message of type `t` accepts.
fn code_opts(t: u8) -> Opts {
    match codes_of(t) {
        Some(c) => Opts::Names(c),
        None => Opts::Plain,
    }
}

fn code_table(py: Python<'_>, items: &[(&str, u32)]) -> PyResult<Py<PyAny>> {
    table(py, items)
}

macro_rules! leaf_methods {
    ($rust:ident, $name:literal, $t:literal) => {
        #[pymethods]
        impl $rust {
            #[classattr]
            const TYPE: &'static str = $name;
            #[classattr]
            #[pyo3(name = "CodeOptions")]
            fn code_options(py: Python<'_>) -> PyResult<Py<PyAny>> {
                code_table(py, codes_of($t).unwrap_or(&[]))
            }
        }
    };
}

leaf_methods!(EchoReply, "ICMPEchoReply", 0);
leaf_methods!(EchoRequest, "ICMPEchoRequest", 8);
leaf_methods!(InformationRequest, "ICMPInformationRequest", 15);
leaf_methods!(InformationReply, "ICMPInformationReply", 16);
leaf_methods!(AddressMaskRequest, "ICMPAddressMaskRequest", 17);
leaf_methods!(TimestampRequest, "ICMPTimestampRequest", 13);
leaf_methods!(TimestampReply, "ICMPTimestampReply", 14);
leaf_methods!(SourceQuench, "ICMPSourceQuench", 4);

#[pymethods]
impl AddressMaskReply {
    #[setter(subnet_mask)]
    fn set_subnet_mask(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::ipv4(slf, "ICMPAddressMaskReply.subnet_mask", 8, v)
    }
    #[classattr]
    const TYPE: &'static str = "ICMPAddressMaskReply";
    #[classattr]
    #[pyo3(name = "CodeOptions")]
    fn code_options(py: Python<'_>) -> PyResult<Py<PyAny>> {
        code_table(py, ADDRESSMASK_REPLY_CODES)
    }
    #[getter]
    fn subnet_mask<'py>(slf: &Bound<'py, Self>) -> Bound<'py, PyString> {
        py_ipv4(slf.py(), hdr(slf), 8)
    }
}

#[pymethods]
impl DestinationUnreachable {
    #[classattr]
    const TYPE: &'static str = "ICMPDestinationUnreachable";
    #[classattr]
    #[pyo3(name = "CodeOptions")]
    fn code_options(py: Python<'_>) -> PyResult<Py<PyAny>> {
        code_table(py, UNREACH_CODES)
    }
}

#[pymethods]
impl Redirect {
    #[setter(gateway_addr)]
    fn set_gateway_addr(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::ipv4(slf, "ICMPRedirect.gateway_addr", 4, v)
    }
    #[classattr]
    const TYPE: &'static str = "ICMPRedirect";
    #[classattr]
    #[pyo3(name = "CodeOptions")]
    fn code_options(py: Python<'_>) -> PyResult<Py<PyAny>> {
        code_table(py, REDIRECT_CODES)
    }
    #[getter]
    fn gateway_addr<'py>(slf: &Bound<'py, Self>) -> Bound<'py, PyString> {
        py_ipv4(slf.py(), hdr(slf), 4)
    }
}

#[pymethods]
impl TimeExceeded {
    #[classattr]
    const TYPE: &'static str = "ICMPTimeExceeded";
    #[classattr]
    #[pyo3(name = "CodeOptions")]
    fn code_options(py: Python<'_>) -> PyResult<Py<PyAny>> {
        code_table(py, TIME_EXCEEDED_CODES)
    }
}

#[pymethods]
impl ParameterProblem {
    #[setter(pointer)]
    fn set_pointer(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "ICMPParameterProblem.pointer", 4, 1, 0, 8, v, Opts::Plain)
    }
    #[classattr]
    const TYPE: &'static str = "ICMPParameterProblem";
    #[classattr]
    #[pyo3(name = "CodeOptions")]
    fn code_options(py: Python<'_>) -> PyResult<Py<PyAny>> {
        code_table(py, PARAMETER_PROBLEM_CODES)
    }
    #[getter]
    fn pointer(slf: &Bound<'_, Self>) -> u8 {
        hdr(slf).u8(4)
    }
}

#[pymethods]
impl RouterAdvertisement {
    #[classattr]
    #[pyo3(name = "CodeOptions")]
    fn code_options(py: Python<'_>) -> PyResult<Py<PyAny>> {
        code_table(py, ROUTER_ADVERTISEMENT_CODES)
    }
    #[setter(num_addresses)]
    fn set_num_addresses(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "ICMPRouterAdvertisement.num_addresses", 4, 1, 0, 8, v, Opts::Plain)
    }
    #[setter(address_size)]
    fn set_address_size(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "ICMPRouterAdvertisement.address_size", 5, 1, 0, 8, v, Opts::Plain)
    }
    #[setter(lifetime)]
    fn set_lifetime(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "ICMPRouterAdvertisement.lifetime", 6, 2, 0, 16, v, Opts::Plain)
    }
    #[classattr]
    const TYPE: &'static str = "ICMPRouterAdvertisement";
    #[getter]
    fn num_addresses(slf: &Bound<'_, Self>) -> u8 {
        hdr(slf).u8(4)
    }
    #[getter]
    fn address_size(slf: &Bound<'_, Self>) -> u8 {
        hdr(slf).u8(5)
    }
    #[getter]
    fn lifetime(slf: &Bound<'_, Self>) -> u16 {
        hdr(slf).be16(6)
    }
}

#[pymethods]
impl RouterSolicitation {
    #[classattr]
    #[pyo3(name = "CodeOptions")]
    fn code_options(py: Python<'_>) -> PyResult<Py<PyAny>> {
        code_table(py, ROUTER_SOLICITATION_CODES)
    }
    #[setter(num_addresses)]
    fn set_num_addresses(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "ICMPRouterSolicitation.num_addresses", 4, 1, 0, 8, v, Opts::Plain)
    }
    #[setter(address_size)]
    fn set_address_size(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "ICMPRouterSolicitation.address_size", 5, 1, 0, 8, v, Opts::Plain)
    }
    #[setter(lifetime)]
    fn set_lifetime(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "ICMPRouterSolicitation.lifetime", 6, 2, 0, 16, v, Opts::Plain)
    }
    #[classattr]
    const TYPE: &'static str = "ICMPRouterSolicitation";
    #[getter]
    fn num_addresses(slf: &Bound<'_, Self>) -> u8 {
        hdr(slf).u8(4)
    }
    #[getter]
    fn address_size(slf: &Bound<'_, Self>) -> u8 {
        hdr(slf).u8(5)
    }
    #[getter]
    fn lifetime(slf: &Bound<'_, Self>) -> u16 {
        hdr(slf).be16(6)
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Icmp>()?;
    m.add_class::<IdSeq>()?;
    m.add_class::<TsBase>()?;
    m.add_class::<WithIpHdr>()?;
    m.add_class::<EchoReply>()?;
    m.add_class::<EchoRequest>()?;
    m.add_class::<InformationRequest>()?;
    m.add_class::<InformationReply>()?;
    m.add_class::<AddressMaskRequest>()?;
    m.add_class::<AddressMaskReply>()?;
    m.add_class::<TimestampRequest>()?;
    m.add_class::<TimestampReply>()?;
    m.add_class::<DestinationUnreachable>()?;
    m.add_class::<SourceQuench>()?;
    m.add_class::<Redirect>()?;
    m.add_class::<TimeExceeded>()?;
    m.add_class::<ParameterProblem>()?;
    m.add_class::<RouterAdvertisement>()?;
    m.add_class::<RouterSolicitation>()?;
    Ok(())
}
