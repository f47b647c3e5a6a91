//! The libpcap handle behind a feed, whichever way it was opened.

use crate::ffi;
use crate::savefile::OfflineFile;
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
///
/// One per feed, so the size of the largest variant costs nothing worth an
/// indirection on every packet read from a file.
#[allow(clippy::large_enum_variant)]
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

/// A feed's handle, used by one call at a time.
///
/// Every method of a feed takes the handle with the GIL held and gives it
/// back with the GIL held; a call that waits without the GIL (for a live
/// packet, or data from a pipe) keeps it meanwhile. The GIL orders all of
/// these, so a plain flag is enough to tell a second user — a callback
/// re-entering its own feed, or another thread while the first waits — that
/// the handle is in use. (A mutex's atomic read-modify-write costs a stall
/// on the memory traffic in flight, twice per `next()`.)
pub struct HandleCell {
    busy: std::sync::atomic::AtomicBool,
    handle: std::cell::UnsafeCell<Option<Handle>>,
}

// SAFETY: the handle is only reached through a `HandleGuard`, of which at
// most one exists at a time: `take` and the guard's drop run with the GIL
// held (see above), which serialises them across threads.
unsafe impl Sync for HandleCell {}

/// The handle, while a call uses it; given back on drop.
pub struct HandleGuard<'a>(&'a HandleCell);

impl HandleCell {
    pub fn new(h: Handle) -> Self {
        HandleCell { busy: false.into(), handle: std::cell::UnsafeCell::new(Some(h)) }
    }

    /// The handle (`None` inside once closed), or `None` while another call
    /// has it. Call with the GIL held.
    #[inline]
    pub fn take(&self) -> Option<HandleGuard<'_>> {
        use std::sync::atomic::Ordering;
        if self.busy.load(Ordering::Acquire) {
            return None;
        }
        self.busy.store(true, Ordering::Release);
        Some(HandleGuard(self))
    }
}

impl std::ops::Deref for HandleGuard<'_> {
    type Target = Option<Handle>;
    fn deref(&self) -> &Option<Handle> {
        // SAFETY: this guard is the only one (see `HandleCell`).
        unsafe { &*self.0.handle.get() }
    }
}

impl std::ops::DerefMut for HandleGuard<'_> {
    fn deref_mut(&mut self) -> &mut Option<Handle> {
        // SAFETY: this guard is the only one (see `HandleCell`).
        unsafe { &mut *self.0.handle.get() }
    }
}

impl Drop for HandleGuard<'_> {
    #[inline]
    fn drop(&mut self) {
        self.0.busy.store(false, std::sync::atomic::Ordering::Release);
    }
}
