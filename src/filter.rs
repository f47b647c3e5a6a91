//! Compiled BPF filters: `BPFProgram` and the compile step `Feed.filter` uses.

use crate::args::packet_bytes;
use crate::error::pcap_error_about;
use crate::feed::Feed;
use crate::ffi;
use pyo3::prelude::*;
use std::ffi::CString;

/// A `bpf_program` compiled by libpcap, freed on drop.
pub struct CompiledFilter {
    prog: ffi::bpf_program,
}

// The program is immutable once compiled; libpcap only reads it.
unsafe impl Send for CompiledFilter {}
unsafe impl Sync for CompiledFilter {}

impl CompiledFilter {
    /// Compiles `expr` for the handle `p` (its link type and snap length).
    /// Errors name `what` (the feed), the expression and libpcap's reason.
    pub fn compile(
        p: *mut ffi::pcap_t,
        what: &str,
        expr: &str,
        optimise: bool,
        netmask: u32,
    ) -> PyResult<Self> {
        let c = CString::new(expr).map_err(|_| {
            pcap_error_about(what, &format!("bad filter {expr:?}: contains a NUL byte"))
        })?;
        let mut prog = ffi::bpf_program { bf_len: 0, bf_insns: std::ptr::null_mut() };
        // SAFETY: `p` is a live handle; `prog` is an out-parameter. Every
        // compile happens with the GIL held, which also serialises libpcap's
        // compiler on versions where it is not thread-safe.
        let rc = unsafe { ffi::pcap_compile(p, &mut prog, c.as_ptr(), optimise as i32, netmask) };
        if rc != 0 {
            let reason = unsafe { ffi::last_error(p) };
            return Err(pcap_error_about(what, &format!("bad filter {expr:?}: {reason}")));
        }
        Ok(CompiledFilter { prog })
    }

    pub fn as_ptr(&self) -> *mut ffi::bpf_program {
        &self.prog as *const ffi::bpf_program as *mut ffi::bpf_program
    }

    pub fn instructions(&self) -> &[ffi::bpf_insn] {
        if self.prog.bf_insns.is_null() {
            return &[];
        }
        // SAFETY: libpcap allocated `bf_len` instructions.
        unsafe { std::slice::from_raw_parts(self.prog.bf_insns, self.prog.bf_len as usize) }
    }

    /// Whether the program accepts a packet of `data` whose wire length is `len`.
    pub fn matches(&self, data: &[u8], len: u32) -> bool {
        let hdr = ffi::pcap_pkthdr {
            ts: libc::timeval { tv_sec: 0, tv_usec: 0 },
            caplen: data.len() as u32,
            len,
        };
        // SAFETY: the program and the packet are valid for the call.
        unsafe { ffi::pcap_offline_filter(&self.prog, &hdr, data.as_ptr()) != 0 }
    }
}

impl Drop for CompiledFilter {
    fn drop(&mut self) {
        // SAFETY: the program was filled by pcap_compile and is freed once.
        unsafe { ffi::pcap_freecode(&mut self.prog) }
    }
}

/// `optimise` of `BPFProgram`: a C int (non-zero: optimise).
fn optimise_arg(obj: &Bound<'_, PyAny>) -> PyResult<i32> {
    crate::args::c_int(obj, "optimise")
}

/// `length` of `BPFProgram.matches`: a wire length, or `None`.
fn length_arg(obj: &Bound<'_, PyAny>) -> PyResult<Option<u32>> {
    if obj.is_none() {
        return Ok(None);
    }
    crate::args::wire_length(obj).map(Some)
}

/// BPFProgram(feed, filterstr, optimise=1)
///
/// A tcpdump-syntax filter compiled for `feed`'s link type. Apply it with
/// `feed.filter(program)`, or test packets with `program.matches(packet)`.
#[pyclass(frozen, module = "openbsd.pcap")]
pub struct BPFProgram {
    compiled: CompiledFilter,
    expr: String,
    /// The link type it was compiled for (its offsets are that link
    /// header's).
    linktype: i32,
}

impl BPFProgram {
    pub fn compiled(&self) -> &CompiledFilter {
        &self.compiled
    }

    /// Refuses a program compiled for another link type than `dlt` (its
    /// byte offsets would test the wrong fields, silently).
    pub fn check_linktype(&self, name: &str, dlt: i32) -> PyResult<()> {
        if self.linktype == dlt {
            return Ok(());
        }
        Err(crate::error::pcap_error_about(
            name,
            &format!(
                "BPF program {:?} was compiled for link type {}, this feed's is {}",
                self.expr, self.linktype, dlt
            ),
        ))
    }
}

#[pymethods]
impl BPFProgram {
    #[new]
    #[pyo3(signature = (feed, filterstr, optimise = 1))]
    fn new(
        feed: &Bound<'_, Feed>,
        filterstr: String,
        #[pyo3(from_py_with = optimise_arg)] optimise: i32,
    ) -> PyResult<Self> {
        let f = feed.get();
        let (compiled, linktype) = f.with_handle(|h| {
            // As `Feed.filter` does: a live feed's filters know its netmask
            // (for `ip broadcast`); files and dead feeds have none.
            let netmask = match h {
                crate::handle::Handle::Live(_) => crate::live::netmask_of(&f.name),
                _ => ffi::PCAP_NETMASK_UNKNOWN,
            };
            let prog = CompiledFilter::compile(h.ptr(), &f.name, &filterstr, optimise != 0, netmask)?;
            // SAFETY: the feed's open handle.
            Ok((prog, unsafe { ffi::pcap_datalink(h.ptr()) }))
        })?;
        Ok(BPFProgram { compiled, expr: filterstr, linktype })
    }

    /// The link type (DLT) this program was compiled for: `feed.filter()`
    /// takes it only on a feed of that link type.
    #[getter]
    fn linktype(&self) -> i32 {
        self.linktype
    }

    /// The filter expression this program was compiled from.
    #[getter]
    fn filterstr(&self) -> &str {
        &self.expr
    }

    /// The BPF instructions as a list of `(code, jt, jf, k)` tuples.
    fn instructions(&self) -> Vec<(u16, u8, u8, u32)> {
        self.compiled.instructions().iter().map(|i| (i.code, i.jt, i.jf, i.k)).collect()
    }

    /// matches(packet, length=None) -> bool: whether the filter accepts
    /// `packet` (bytes-like or Packet) captured from a packet of `length`
    /// bytes on the wire (default: `len(packet)`).
    #[pyo3(signature = (packet, length = None))]
    fn matches(
        &self,
        packet: &Bound<'_, PyAny>,
        #[pyo3(from_py_with = length_arg)] length: Option<u32>,
    ) -> PyResult<bool> {
        let data = packet_bytes(packet)?;
        let len = length.unwrap_or(data.len() as u32);
        Ok(self.compiled.matches(&data, len))
    }

    fn __len__(&self) -> usize {
        self.compiled.instructions().len()
    }

    fn __repr__(&self) -> String {
        format!("<BPFProgram {:?} ({} instructions)>", self.expr, self.compiled.instructions().len())
    }
}
