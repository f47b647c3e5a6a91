//! BPF programs compiled by libpcap (`CompiledFilter`), and the filter in
//! force on a source (`ActiveFilter`), which file sources run themselves on
//! the records their fast reader reads.

use crate::ffi;
use crate::py::error::pcap_error_about;
use pyo3::prelude::*;
use std::ffi::CString;
use std::sync::Arc;

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
    pub fn compile(p: *mut ffi::pcap_t, what: &str, expr: &str, optimise: bool, netmask: u32) -> PyResult<Self> {
        let c = CString::new(expr)
            .map_err(|_| pcap_error_about(what, &format!("bad filter {expr:?}: contains a NUL byte")))?;
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
        let hdr = ffi::pcap_pkthdr { ts: libc::timeval { tv_sec: 0, tv_usec: 0 }, caplen: data.len() as u32, len };
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

/// The filter in force on a source: compiled by `Feed.filter`, or shared
/// with the `BPFProgram` it was given.
#[derive(Clone)]
pub struct ActiveFilter(Arc<CompiledFilter>);

impl ActiveFilter {
    pub fn new(prog: Arc<CompiledFilter>) -> Self {
        ActiveFilter(prog)
    }

    #[inline]
    pub fn matches(&self, data: &[u8], len: u32) -> bool {
        self.0.matches(data, len)
    }

    /// Whether `other` is this same filter (not another of the same text).
    pub fn same(&self, other: &ActiveFilter) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    pub fn compiled(&self) -> &CompiledFilter {
        &self.0
    }
}
