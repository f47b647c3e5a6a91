//! `PcapError`, the module's one exception type, and the helpers that build it.
//!
//! `PcapError` subclasses `OSError`, so legacy `except IOError:` clauses catch
//! it. Its message is libpcap's own text where libpcap gave one, prefixed by
//! the file or interface it is about.

use pyo3::create_exception;
use pyo3::exceptions::PyOSError;
use pyo3::PyErr;

create_exception!(
    openbsd.pcap,
    PcapError,
    PyOSError,
    "Raised for every capture failure: bad files, bad filters, closed feeds, \
     interfaces that cannot be opened. A subclass of OSError (and so of the \
     legacy IOError)."
);

/// A `PcapError` with the given message.
pub fn pcap_error(msg: impl Into<String>) -> PyErr {
    PcapError::new_err(msg.into())
}

/// A `PcapError` about `what` (a path or interface name): `"what: reason"`.
///
/// libpcap often names the file itself (`"x.pcap: No such file or
/// directory"`); the name is not repeated then.
pub fn pcap_error_about(what: &str, reason: &str) -> PyErr {
    let reason = reason.trim_end();
    if !what.is_empty() && reason.starts_with(what) {
        pcap_error(reason.to_owned())
    } else {
        pcap_error(format!("{what}: {reason}"))
    }
}

/// The message of a `pcap` crate error, without the crate's own prefix.
pub fn crate_error_text(e: &pcap::Error) -> String {
    match e {
        pcap::Error::PcapError(s) => s.clone(),
        other => other.to_string(),
    }
}

pub const CLOSED: &str = "feed is closed";
pub const BUSY: &str =
    "feed is busy: it is being read by a callback or another thread (a callback may not \
     re-enter or close its own feed)";
