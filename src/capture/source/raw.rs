//! `RawHandle`: a `pcap_t` opened with libpcap's own calls (dead handles,
//! capture files), closed on drop.

use crate::ffi;
use std::ptr::NonNull;

/// A `pcap_t` the project opened itself (dead handles, capture files),
/// closed on drop.
pub struct RawHandle(NonNull<ffi::pcap_t>);

// libpcap handles may move between threads; access is serialised by the
// feed's `HandleCell`.
unsafe impl Send for RawHandle {}

impl RawHandle {
    /// Takes ownership of `p`.
    ///
    /// # Safety
    /// `p` must be an open handle nobody else closes.
    pub unsafe fn from_ptr(p: NonNull<ffi::pcap_t>) -> Self {
        RawHandle(p)
    }

    /// A dead handle whose timestamps have `precision` (a `Dumper` on it
    /// writes a nanosecond savefile for `Nano`).
    pub fn open_dead_with(linktype: i32, snaplen: i32, precision: super::options::Precision) -> Option<Self> {
        // SAFETY: plain constructor; null is handled.
        NonNull::new(unsafe {
            ffi::pcap_open_dead_with_tstamp_precision(linktype, snaplen, precision.raw() as libc::c_uint)
        })
        .map(RawHandle)
    }

    pub fn ptr(&self) -> *mut ffi::pcap_t {
        self.0.as_ptr()
    }
}

impl Drop for RawHandle {
    fn drop(&mut self) {
        // SAFETY: we own the handle and close it once.
        unsafe { ffi::pcap_close(self.0.as_ptr()) }
    }
}
