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
    pcap_error(about_text(what, reason))
}

/// The message of [`pcap_error_about`].
fn about_text(what: &str, reason: &str) -> String {
    let reason = reason.trim_end();
    if what.is_empty() || reason.starts_with(what) {
        reason.to_owned()
    } else {
        format!("{what}: {reason}")
    }
}

/// A `PcapError` about `what` for the OS error `e`: the message as
/// [`pcap_error_about`] words it (`prefix` before the OS's text, if any),
/// and `errno` set, as on any `OSError` (`e.errno == errno.ENOENT`).
pub fn pcap_os_error_about(what: &str, prefix: &str, e: &std::io::Error) -> PyErr {
    with_errno(pcap_error_about(what, &format!("{prefix}{}", os_error_text(e))), e.raw_os_error())
}

/// A `PcapError` about `what` with libpcap's `reason`, and `errno` set to
/// that of `os` (the OS error left by the failed libpcap call) when the
/// reason is libpcap's wording of it (it ends with its `strerror` text):
/// `"x.pcap: error reading dump file: Bad file descriptor"`, `EBADF`.
pub fn pcap_error_after_os(what: &str, reason: &str, os: &std::io::Error) -> PyErr {
    let code = os.raw_os_error().filter(|_| reason.trim_end().ends_with(&os_error_text(os)));
    with_errno(pcap_error_about(what, reason), code)
}

/// Sets the `errno` attribute of `err` (a `PcapError`) to `code`, when there
/// is one. The message is left as it is.
pub fn with_errno(err: PyErr, code: Option<i32>) -> PyErr {
    if let Some(code) = code.filter(|&c| c > 0) {
        pyo3::Python::attach(|py| {
            // Setting an attribute of a fresh OSError cannot fail but for
            // memory; the error is still raised then, without errno.
            let _ = pyo3::types::PyAnyMethods::setattr(err.value(py).as_any(), "errno", code);
        });
    }
    err
}

/// The message of a `pcap` crate error, without the crate's own prefix.
pub fn crate_error_text(e: &pcap::Error) -> String {
    match e {
        pcap::Error::PcapError(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The text of an OS error as libpcap words it (`strerror`), without the
/// " (os error N)" suffix Rust adds. An error with no errno behind it (a
/// stream error flag whose cause was not recorded) reads "I/O error".
pub fn os_error_text(e: &std::io::Error) -> String {
    match e.raw_os_error() {
        Some(0) => "I/O error".to_owned(),
        Some(code) => {
            let text = e.to_string();
            let suffix = format!(" (os error {code})");
            text.strip_suffix(&suffix).map(str::to_owned).unwrap_or(text)
        }
        None => e.to_string(),
    }
}

/// Marks `fd` close-on-exec, as Python does for every file it opens
/// (PEP 446): child processes must not inherit capture files.
pub fn set_cloexec(fd: libc::c_int) {
    // SAFETY: fcntl on a descriptor we own; failure leaves it inheritable,
    // which is harmless.
    unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFD);
        if flags >= 0 {
            libc::fcntl(fd, libc::F_SETFD, flags | libc::FD_CLOEXEC);
        }
    }
}

/// The legacy library said "not connected" for a closed handle; both words
/// are kept so that either kind of script recognises the message.
pub const CLOSED: &str = "feed is closed (not connected)";
pub const BUSY: &str = "feed is busy: it is being read by a callback or another thread (a callback may not \
     re-enter or close its own feed)";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_error_text_is_strerror() {
        let e = std::io::Error::from_raw_os_error(libc::ENOSPC);
        assert_eq!(os_error_text(&e), "No space left on device");
        let e = std::io::Error::from_raw_os_error(libc::ENOENT);
        assert_eq!(os_error_text(&e), "No such file or directory");
    }

    #[test]
    fn about_text_names_the_subject_once() {
        assert_eq!(about_text("x.pcap", "No such file or directory"), "x.pcap: No such file or directory");
        assert_eq!(about_text("x.pcap", "x.pcap: No such file or directory\n"), "x.pcap: No such file or directory");
        assert_eq!(about_text("", "reason"), "reason");
    }

    #[test]
    fn os_error_text_without_errno() {
        assert_eq!(os_error_text(&std::io::Error::from_raw_os_error(0)), "I/O error");
        let e = std::io::Error::other("custom");
        assert_eq!(os_error_text(&e), "custom");
    }
}
