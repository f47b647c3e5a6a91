//! The libpcap handle behind a feed, whichever way it was opened.

use crate::ffi;
use crate::savefile::OfflineFile;
use std::ptr::NonNull;

/// A `pcap_t` the project opened itself (dead handles, capture files),
/// closed on drop.
pub struct RawHandle(NonNull<ffi::pcap_t>);

// libpcap handles may move between threads; access is serialised by the
// feed's mutex.
unsafe impl Send for RawHandle {}

impl RawHandle {
    /// Takes ownership of `p`.
    ///
    /// # Safety
    /// `p` must be an open handle nobody else closes.
    pub unsafe fn from_ptr(p: NonNull<ffi::pcap_t>) -> Self {
        RawHandle(p)
    }

    pub fn open_dead(linktype: i32, snaplen: i32) -> Option<Self> {
        // SAFETY: plain constructor; null is handled.
        NonNull::new(unsafe { ffi::pcap_open_dead(linktype, snaplen) }).map(RawHandle)
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

/// An open capture. Dropping it closes the handle (and the file it read).
pub enum Handle {
    Offline(OfflineFile),
    Live(pcap::Capture<pcap::Active>),
    Dead(RawHandle),
}

impl Handle {
    /// The raw handle, valid for as long as `self` lives.
    pub fn ptr(&self) -> *mut ffi::pcap_t {
        match self {
            Handle::Offline(f) => f.ptr(),
            Handle::Live(c) => c.as_ptr().cast(),
            Handle::Dead(d) => d.ptr(),
        }
    }

    pub fn is_live(&self) -> bool {
        matches!(self, Handle::Live(_))
    }
}
