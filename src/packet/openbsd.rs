//! OpenBSD link layers: pflog (`PF`), the pflog of OpenBSD 3.3 and older
//! (`PFOld`), and enc(4) (`Enc`).

use super::fields::{name_of, padded_str, py_bytes, table, H};
use super::layer::Kind;
use super::proto::{base, hdr, new_object, Protocol};
use super::write::{self, Opts};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

/// `PF.reason` options (PFRES_*).
pub const REASONS: &[(&str, u32)] = &[
    ("match", 0),
    ("badoff", 1),
    ("frag", 2),
    ("short", 3),
    ("norm", 4),
    ("memory", 5),
    ("tstamp", 6),
    ("congest", 7),
    ("ipoption", 8),
    ("protocksum", 9),
    ("state", 10),
    ("stateins", 11),
    ("maxstates", 12),
    ("srclimit", 13),
    ("synproxy", 14),
];

/// `PF.action` options (PF_*).
pub const ACTIONS: &[(&str, u32)] = &[
    ("pass", 0),
    ("drop", 1),
    ("scrub", 2),
    ("noscrub", 3),
    ("nat", 4),
    ("nonat", 5),
    ("binat", 6),
    ("nobinat", 7),
    ("rdr", 8),
    ("nordr", 9),
    ("synproxy_drop", 10),
];

/// `PF.direction` options (PF_INOUT/IN/OUT).
pub const DIRECTIONS: &[(&str, u32)] = &[("inout", 0), ("in", 1), ("out", 2)];

/// `PF.safamily` options.
pub const SA_FAMILIES: &[(&str, u32)] = super::link::ADDRESS_FAMILIES;

/// `Enc.flags` options (M_CONF, M_AUTH, M_AUTH_AH).
pub const ENC_FLAGS: &[(&str, u32)] = &[("CONF", 0x400), ("AUTH", 0x800), ("AUTH_AH", 0x2000)];

/// Base of `PF` and `PFOld`: the option tables.
#[pyclass(subclass, frozen, extends = Protocol, module = "openbsd.packet", name = "_PFBase")]
pub struct PfBase;
unsafe impl super::proto::IsProtocol for PfBase {}

/// An OpenBSD pflog header.
#[pyclass(frozen, extends = PfBase, module = "openbsd.packet", name = "PF")]
pub struct Pf;
unsafe impl super::proto::IsProtocol for Pf {}

/// A pflog header of OpenBSD 3.3 and older.
#[pyclass(frozen, extends = PfBase, module = "openbsd.packet", name = "PFOld")]
pub struct PfOld;
unsafe impl super::proto::IsProtocol for PfOld {}

/// An enc(4) header.
#[pyclass(frozen, extends = Protocol, module = "openbsd.packet", name = "Enc")]
pub struct Enc;
unsafe impl super::proto::IsProtocol for Enc {}

pub fn object(py: Python<'_>, base: Protocol) -> PyResult<Py<PyAny>> {
    match base.kind() {
        Kind::Pf => new_object!(py, base, PfBase, Pf),
        Kind::PfOld => new_object!(py, base, PfBase, PfOld),
        _ => new_object!(py, base, Enc),
    }
}

/// Offset of the direction byte: 44 in the classic 48-byte header
/// (`length` 45), 60 since OpenBSD added uid/pid fields (`length` 61, and
/// 100 once addresses and ports were added after the direction).
fn pf_dir_offset(h: H<'_>) -> usize {
    if h.u8(0) >= 61 {
        60
    } else {
        44
    }
}

/// The direction byte of a pflog header (`PF.direction`; also read by the
/// capture tables).
pub fn pf_direction(h: H<'_>) -> u8 {
    h.u8(pf_dir_offset(h))
}

fn enc_flag_names(flags: u32) -> String {
    ENC_FLAGS.iter().filter(|(_, v)| flags & v != 0).map(|(k, _)| *k).collect::<Vec<_>>().join(",")
}

pub fn repr(kind: Kind, h: H<'_>, swapped: bool) -> String {
    match kind {
        Kind::Pf => {
            let sub = match h.be32(40) {
                u32::MAX => 0,
                s => s,
            };
            format!(
                "PF rule {}/{} ({}) {} {} on {}",
                h.be32(36),
                sub,
                name_of(REASONS, h.u8(3) as u32),
                name_of(ACTIONS, h.u8(2) as u32),
                name_of(DIRECTIONS, pf_direction(h) as u32),
                padded_str(h.bytes(4, 16))
            )
        }
        Kind::PfOld => format!(
            "Old PF rule {} ({}) {} {} on {}",
            h.be16(20),
            name_of(REASONS, h.be16(22) as u32),
            name_of(ACTIONS, h.be16(24) as u32),
            name_of(DIRECTIONS, h.be16(26) as u32),
            padded_str(h.bytes(4, 16))
        ),
        _ => format!("Enc ({})", enc_flag_names(h.host32(8, swapped))),
    }
}

#[pymethods]
impl PfBase {
    #[classattr]
    const TYPE: &'static str = "PF";
    #[classattr]
    #[pyo3(name = "ReasonOptions")]
    fn reason_options(py: Python<'_>) -> PyResult<Py<PyAny>> {
        table(py, REASONS)
    }
    #[classattr]
    #[pyo3(name = "ActionOptions")]
    fn action_options(py: Python<'_>) -> PyResult<Py<PyAny>> {
        table(py, ACTIONS)
    }
    #[classattr]
    #[pyo3(name = "DirectionOptions")]
    fn direction_options(py: Python<'_>) -> PyResult<Py<PyAny>> {
        table(py, DIRECTIONS)
    }
    #[classattr]
    #[pyo3(name = "SAFamilyOptions")]
    fn safamily_options(py: Python<'_>) -> PyResult<Py<PyAny>> {
        table(py, SA_FAMILIES)
    }
}

#[pymethods]
impl Pf {
    #[setter(length)]
    fn set_length(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "PF.length", 0, 1, 0, 8, v, Opts::Plain)
    }
    #[setter(safamily)]
    fn set_safamily(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "PF.safamily", 1, 1, 0, 8, v, Opts::Names(SA_FAMILIES))
    }
    #[setter(action)]
    fn set_action(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "PF.action", 2, 1, 0, 8, v, Opts::Names(ACTIONS))
    }
    #[setter(reason)]
    fn set_reason(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "PF.reason", 3, 1, 0, 8, v, Opts::Names(REASONS))
    }
    #[setter(ifname)]
    fn set_ifname(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::padded(slf, "PF.ifname", 4, 16, v)
    }
    #[setter(ruleset)]
    fn set_ruleset(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::padded(slf, "PF.ruleset", 20, 16, v)
    }
    #[setter(rulenr)]
    fn set_rulenr(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "PF.rulenr", 36, 4, 0, 32, v, Opts::Plain)
    }
    #[setter(subrulenr)]
    fn set_subrulenr(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "PF.subrulenr", 40, 4, 0, 32, v, Opts::Plain)
    }
    #[classattr]
    const TYPE: &'static str = "PF";
    /// Header length without the trailing padding.
    #[getter]
    fn length(slf: &Bound<'_, Self>) -> u8 {
        hdr(slf).u8(0)
    }
    #[getter]
    fn safamily(slf: &Bound<'_, Self>) -> u8 {
        hdr(slf).u8(1)
    }
    #[getter]
    fn action(slf: &Bound<'_, Self>) -> u8 {
        hdr(slf).u8(2)
    }
    #[getter]
    fn reason(slf: &Bound<'_, Self>) -> u8 {
        hdr(slf).u8(3)
    }
    #[getter]
    fn ifname(slf: &Bound<'_, Self>) -> String {
        padded_str(hdr(slf).bytes(4, 16))
    }
    #[getter]
    fn ruleset(slf: &Bound<'_, Self>) -> String {
        padded_str(hdr(slf).bytes(20, 16))
    }
    #[getter]
    fn rulenr(slf: &Bound<'_, Self>) -> u32 {
        hdr(slf).be32(36)
    }
    /// Subrule number (2**32-1 when there is none).
    #[getter]
    fn subrulenr(slf: &Bound<'_, Self>) -> u32 {
        hdr(slf).be32(40)
    }
    #[getter]
    fn direction(slf: &Bound<'_, Self>) -> u8 {
        pf_direction(hdr(slf))
    }
    #[setter(direction)]
    fn set_direction(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        let at = pf_dir_offset(hdr(slf));
        write::bits(slf, "PF.direction", at, 1, 0, 8, v, Opts::Names(DIRECTIONS))
    }
    #[setter(pad)]
    fn set_pad(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        let at = pf_dir_offset(hdr(slf)) + 1;
        write::fixed_bytes(slf, "PF.pad", at, 3, v)
    }
    /// The 3 bytes after the direction (padding in the classic layout).
    #[getter]
    fn pad<'py>(slf: &Bound<'py, Self>) -> Bound<'py, PyBytes> {
        let h = hdr(slf);
        py_bytes(slf.py(), h.bytes(pf_dir_offset(h) + 1, 3))
    }
}

#[pymethods]
impl PfOld {
    #[setter(safamily)]
    fn set_safamily(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "PFOld.safamily", 0, 4, 0, 32, v, Opts::Names(SA_FAMILIES))
    }
    #[setter(ifname)]
    fn set_ifname(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::padded(slf, "PFOld.ifname", 4, 16, v)
    }
    #[setter(ruleno)]
    fn set_ruleno(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "PFOld.ruleno", 20, 2, 0, 16, v, Opts::Plain)
    }
    #[setter(reason)]
    fn set_reason(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "PFOld.reason", 22, 2, 0, 16, v, Opts::Names(REASONS))
    }
    #[setter(action)]
    fn set_action(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "PFOld.action", 24, 2, 0, 16, v, Opts::Names(ACTIONS))
    }
    #[setter(direction)]
    fn set_direction(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "PFOld.direction", 26, 2, 0, 16, v, Opts::Names(DIRECTIONS))
    }
    #[classattr]
    const TYPE: &'static str = "PFOld";
    #[getter]
    fn safamily(slf: &Bound<'_, Self>) -> u32 {
        hdr(slf).be32(0)
    }
    #[getter]
    fn ifname(slf: &Bound<'_, Self>) -> String {
        padded_str(hdr(slf).bytes(4, 16))
    }
    #[getter]
    fn ruleno(slf: &Bound<'_, Self>) -> u16 {
        hdr(slf).be16(20)
    }
    #[getter]
    fn reason(slf: &Bound<'_, Self>) -> u16 {
        hdr(slf).be16(22)
    }
    #[getter]
    fn action(slf: &Bound<'_, Self>) -> u16 {
        hdr(slf).be16(24)
    }
    #[getter]
    fn direction(slf: &Bound<'_, Self>) -> u16 {
        hdr(slf).be16(26)
    }
}

#[pymethods]
impl Enc {
    #[setter(spi)]
    fn set_spi(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        write::bits(slf, "Enc.spi", 4, 4, 0, 32, v, Opts::Plain)
    }
    #[classattr]
    const TYPE: &'static str = "Enc";
    #[classattr]
    #[pyo3(name = "FlagsOptions")]
    fn flags_options(py: Python<'_>) -> PyResult<Py<PyAny>> {
        table(py, ENC_FLAGS)
    }
    #[classattr]
    #[pyo3(name = "AFOptions")]
    fn af_options(py: Python<'_>) -> PyResult<Py<PyAny>> {
        table(py, SA_FAMILIES)
    }
    /// Address family, in the capturing host's byte order.
    #[getter]
    #[pyo3(name = "addressFamily")]
    fn address_family(slf: &Bound<'_, Self>) -> u32 {
        let p = base(slf);
        p.hdr(slf.py()).host32(0, p.swapped())
    }
    #[setter(addressFamily)]
    fn set_address_family(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        base(slf).set_host32(slf.py(), "Enc.addressFamily", 0, v, Opts::Names(SA_FAMILIES))
    }
    #[setter(flags)]
    fn set_flags(slf: &Bound<'_, Self>, v: &Bound<'_, PyAny>) -> PyResult<()> {
        base(slf).set_host32(slf.py(), "Enc.flags", 8, v, Opts::Flags(ENC_FLAGS))
    }
    #[getter]
    fn spi(slf: &Bound<'_, Self>) -> u32 {
        hdr(slf).be32(4)
    }
    /// CONF 0x400, AUTH 0x800, AUTH_AH 0x2000, in the capturing host's byte order.
    #[getter]
    fn flags(slf: &Bound<'_, Self>) -> u32 {
        let p = base(slf);
        p.hdr(slf.py()).host32(8, p.swapped())
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PfBase>()?;
    m.add_class::<Pf>()?;
    m.add_class::<PfOld>()?;
    m.add_class::<Enc>()?;
    Ok(())
}
