//! The libpcap handle behind a feed, whichever way it was opened.

use crate::ffi;
use std::ptr::NonNull;

/// A `pcap_t` opened with `pcap_open_dead`, closed on drop.
pub struct DeadHandle(NonNull<ffi::pcap_t>);

// libpcap handles may move between threads; access is serialised by the
// feed's mutex.
unsafe impl Send for DeadHandle {}

impl DeadHandle {
    pub fn open(linktype: i32, snaplen: i32) -> Option<Self> {
        // SAFETY: plain constructor; null is handled.
        NonNull::new(unsafe { ffi::pcap_open_dead(linktype, snaplen) }).map(DeadHandle)
    }
}

impl Drop for DeadHandle {
    fn drop(&mut self) {
        // SAFETY: we own the handle and close it once.
        unsafe { ffi::pcap_close(self.0.as_ptr()) }
    }
}

/// An open capture. Dropping it closes the handle (and the file it read).
pub enum Handle {
    Offline(pcap::Capture<pcap::Offline>),
    Live(pcap::Capture<pcap::Active>),
    Dead(DeadHandle),
}

impl Handle {
    /// The raw handle, valid for as long as `self` lives.
    pub fn ptr(&self) -> *mut ffi::pcap_t {
        match self {
            Handle::Offline(c) => c.as_ptr().cast(),
            Handle::Live(c) => c.as_ptr().cast(),
            Handle::Dead(d) => d.0.as_ptr(),
        }
    }

    pub fn is_live(&self) -> bool {
        matches!(self, Handle::Live(_))
    }
}
