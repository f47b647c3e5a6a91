//! The few libpcap entry points the `pcap` crate does not expose.
//!
//! The `pcap` crate opens captures and owns their handles; everything here
//! operates on the raw `pcap_t` it hands out through `Capture::as_ptr()`, or
//! on dumpers and dead handles that the project owns itself (see `handle.rs`
//! and `dumper.rs`).
#![allow(non_camel_case_types)]

use libc::{c_char, c_int, c_long, c_uchar, c_uint, timeval, FILE};

/// libpcap's opaque capture handle.
#[repr(C)]
pub struct pcap_t {
    _private: [u8; 0],
}

/// libpcap's opaque savefile writer.
#[repr(C)]
pub struct pcap_dumper_t {
    _private: [u8; 0],
}

#[repr(C)]
#[derive(Copy, Clone)]
pub struct pcap_pkthdr {
    pub ts: timeval,
    pub caplen: c_uint,
    pub len: c_uint,
}

#[repr(C)]
pub struct bpf_insn {
    pub code: u16,
    pub jt: u8,
    pub jf: u8,
    pub k: u32,
}

#[repr(C)]
pub struct bpf_program {
    pub bf_len: c_uint,
    pub bf_insns: *mut bpf_insn,
}

#[repr(C)]
#[derive(Default)]
pub struct pcap_stat {
    pub ps_recv: c_uint,
    pub ps_drop: c_uint,
    pub ps_ifdrop: c_uint,
}

pub type pcap_handler = unsafe extern "C" fn(user: *mut c_uchar, h: *const pcap_pkthdr, bytes: *const c_uchar);

pub const PCAP_ERRBUF_SIZE: usize = 256;
pub const PCAP_NETMASK_UNKNOWN: c_uint = 0xffff_ffff;
/// `pcap_activate`'s generic failure (the message is in the handle).
pub const PCAP_ERROR: c_int = -1;
pub const PCAP_ERROR_RFMON_NOTSUP: c_int = -6;
pub const PCAP_ERROR_TSTAMP_PRECISION_NOTSUP: c_int = -12;
pub const PCAP_TSTAMP_PRECISION_MICRO: c_int = 0;
pub const PCAP_TSTAMP_PRECISION_NANO: c_int = 1;

#[link(name = "pcap")]
extern "C" {
    // Opening a live capture ourselves: the `pcap` crate's `open()` keeps
    // only the message of a failed activation (not its status) and treats
    // activation warnings as failures.
    pub fn pcap_create(source: *const c_char, errbuf: *mut c_char) -> *mut pcap_t;
    pub fn pcap_set_snaplen(p: *mut pcap_t, snaplen: c_int) -> c_int;
    pub fn pcap_set_promisc(p: *mut pcap_t, promisc: c_int) -> c_int;
    pub fn pcap_set_timeout(p: *mut pcap_t, ms: c_int) -> c_int;
    pub fn pcap_activate(p: *mut pcap_t) -> c_int;
    pub fn pcap_statustostr(status: c_int) -> *const c_char;
    // The modern capture options (see `crate::capture::options`).
    pub fn pcap_set_immediate_mode(p: *mut pcap_t, on: c_int) -> c_int;
    pub fn pcap_set_buffer_size(p: *mut pcap_t, size: c_int) -> c_int;
    pub fn pcap_set_tstamp_precision(p: *mut pcap_t, precision: c_int) -> c_int;
    pub fn pcap_get_tstamp_precision(p: *mut pcap_t) -> c_int;
    pub fn pcap_set_tstamp_type(p: *mut pcap_t, t: c_int) -> c_int;
    pub fn pcap_tstamp_type_name_to_val(name: *const c_char) -> c_int;
    pub fn pcap_list_tstamp_types(p: *mut pcap_t, types: *mut *mut c_int) -> c_int;
    pub fn pcap_free_tstamp_types(types: *mut c_int);
    pub fn pcap_tstamp_type_val_to_name(t: c_int) -> *const c_char;
    pub fn pcap_set_rfmon(p: *mut pcap_t, on: c_int) -> c_int;
    pub fn pcap_setdirection(p: *mut pcap_t, d: c_int) -> c_int;
    pub fn pcap_open_dead_with_tstamp_precision(linktype: c_int, snaplen: c_int, precision: c_uint) -> *mut pcap_t;
    pub fn pcap_fopen_offline_with_tstamp_precision(
        fp: *mut FILE,
        precision: c_uint,
        errbuf: *mut c_char,
    ) -> *mut pcap_t;
    pub fn pcap_close(p: *mut pcap_t);
    pub fn pcap_geterr(p: *mut pcap_t) -> *mut c_char;
    pub fn pcap_datalink(p: *mut pcap_t) -> c_int;
    pub fn pcap_snapshot(p: *mut pcap_t) -> c_int;
    pub fn pcap_is_swapped(p: *mut pcap_t) -> c_int;
    pub fn pcap_major_version(p: *mut pcap_t) -> c_int;
    pub fn pcap_minor_version(p: *mut pcap_t) -> c_int;
    pub fn pcap_file(p: *mut pcap_t) -> *mut FILE;
    pub fn pcap_get_selectable_fd(p: *mut pcap_t) -> c_int;
    pub fn pcap_setnonblock(p: *mut pcap_t, nonblock: c_int, errbuf: *mut c_char) -> c_int;
    pub fn pcap_dispatch(p: *mut pcap_t, cnt: c_int, cb: pcap_handler, user: *mut c_uchar) -> c_int;
    pub fn pcap_next_ex(p: *mut pcap_t, h: *mut *mut pcap_pkthdr, data: *mut *const c_uchar) -> c_int;
    pub fn pcap_breakloop(p: *mut pcap_t);
    pub fn pcap_inject(p: *mut pcap_t, buf: *const libc::c_void, size: libc::size_t) -> c_int;
    pub fn pcap_stats(p: *mut pcap_t, ps: *mut pcap_stat) -> c_int;
    pub fn pcap_compile(
        p: *mut pcap_t,
        fp: *mut bpf_program,
        s: *const c_char,
        optimize: c_int,
        netmask: c_uint,
    ) -> c_int;
    pub fn pcap_setfilter(p: *mut pcap_t, fp: *mut bpf_program) -> c_int;
    pub fn pcap_freecode(fp: *mut bpf_program);
    pub fn pcap_offline_filter(fp: *const bpf_program, h: *const pcap_pkthdr, pkt: *const c_uchar) -> c_int;
    pub fn pcap_lookupnet(device: *const c_char, netp: *mut c_uint, maskp: *mut c_uint, errbuf: *mut c_char) -> c_int;

    pub fn pcap_dump_open(p: *mut pcap_t, fname: *const c_char) -> *mut pcap_dumper_t;
    pub fn pcap_dump_fopen(p: *mut pcap_t, fp: *mut FILE) -> *mut pcap_dumper_t;
    pub fn pcap_dump(user: *mut c_uchar, h: *const pcap_pkthdr, sp: *const c_uchar);
    pub fn pcap_dump_file(p: *mut pcap_dumper_t) -> *mut FILE;
    pub fn pcap_dump_ftell(p: *mut pcap_dumper_t) -> c_long;
    pub fn pcap_dump_flush(p: *mut pcap_dumper_t) -> c_int;
    pub fn pcap_dump_close(p: *mut pcap_dumper_t);
}

/// Copies a NUL-terminated C string owned by libpcap into a Rust `String`.
///
/// # Safety
/// `s` must be null or point at a NUL-terminated string.
pub unsafe fn cstr_lossy(s: *const c_char) -> String {
    if s.is_null() {
        return String::new();
    }
    std::ffi::CStr::from_ptr(s).to_string_lossy().into_owned()
}

/// libpcap's last error message for a handle.
///
/// # Safety
/// `p` must be a live handle.
pub unsafe fn last_error(p: *mut pcap_t) -> String {
    cstr_lossy(pcap_geterr(p))
}

/// A libpcap timestamp as `(seconds, microseconds)`: `time_t` and
/// `suseconds_t` are `i64` on 64-bit Linux, narrower elsewhere.
#[allow(clippy::unnecessary_cast)]
pub fn tstamp(ts: &libc::timeval) -> (i64, i64) {
    (ts.tv_sec as i64, ts.tv_usec as i64)
}
