//! The one error type of the SDK.

use std::path::PathBuf;
use std::time::Duration;

/// Result of an SDK call.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong, each a one-line message naming the problem.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No device matches what the caller asked for.
    #[error("no device matches {selector:?} ({count} device(s) found)")]
    NoDevice {
        /// The index, serial number, user id or address asked for.
        selector: String,
        /// How many devices were listed.
        count: usize,
    },
    /// Another host (or another handle in this process) holds the device.
    #[error("{device} is in use by another host")]
    InUse {
        /// The device.
        device: String,
    },
    /// The device went away; reopen it once it is back.
    #[error("{device} is disconnected")]
    Disconnected {
        /// The device.
        device: String,
    },
    /// A USB/IP server could not be reached.
    #[error("cannot reach USB/IP server {address}: {reason}")]
    Unreachable {
        /// `host:port`.
        address: String,
        /// Why.
        reason: String,
    },
    /// A device address that does not parse.
    #[error("bad device address {0:?}: expected an index, a serial number, a user id or usbip://host:port/busid")]
    BadAddress(String),
    /// The device does not talk USB3 Vision as expected.
    #[error("{device}: {reason}")]
    Protocol {
        /// The device.
        device: String,
        /// What went wrong.
        reason: String,
    },
    /// No feature of this name.
    #[error("no feature named {0:?}")]
    UnknownFeature(String),
    /// A value outside the feature's range.
    #[error("{feature:?}: {value} is out of range {range}")]
    OutOfRange {
        /// The feature.
        feature: String,
        /// The value asked for.
        value: String,
        /// The valid range, e.g. `16..=2448 (step 2)`.
        range: String,
    },
    /// An enumeration entry that does not exist or cannot be chosen now.
    #[error("{feature:?}: no entry {entry:?}; entries: {}", entries.join(", "))]
    NoSuchEntry {
        /// The feature.
        feature: String,
        /// The entry asked for.
        entry: String,
        /// The entries that can be chosen now.
        entries: Vec<String>,
    },
    /// A value of the wrong type for the feature.
    #[error("{feature:?}: {text:?} is not {expected}")]
    WrongType {
        /// The feature.
        feature: String,
        /// The value given.
        text: String,
        /// What the feature takes.
        expected: String,
    },
    /// The feature cannot be written now.
    #[error("{feature:?} is not writable now: {reason}")]
    NotWritable {
        /// The feature.
        feature: String,
        /// Why (locked while acquiring, not available, read-only).
        reason: String,
    },
    /// The feature cannot be read now.
    #[error("{feature:?} is not readable now: {reason}")]
    NotReadable {
        /// The feature.
        feature: String,
        /// Why.
        reason: String,
    },
    /// The camera refused a register access.
    #[error("{feature:?}: the camera refused the value: {reason}")]
    Refused {
        /// The feature.
        feature: String,
        /// The camera's answer.
        reason: String,
    },
    /// Another feature access failure.
    #[error("{feature:?}: {reason}")]
    Feature {
        /// The feature.
        feature: String,
        /// Why.
        reason: String,
    },
    /// A command did not complete in time.
    #[error("command {feature:?} did not complete within {timeout:?}")]
    CommandTimeout {
        /// The command.
        feature: String,
        /// How long was waited.
        timeout: Duration,
    },
    /// No frame (or event) arrived in time.
    #[error("nothing arrived within {0:?}")]
    Timeout(Duration),
    /// The acquisition ended (SingleFrame or MultiFrame done, or stopped).
    #[error("the acquisition has ended")]
    StreamEnded,
    /// A stream is already running on the camera.
    #[error("{device}: a stream is already running")]
    AlreadyStreaming {
        /// The device.
        device: String,
    },
    /// The stream could not be set up.
    #[error("{device}: stream: {reason}")]
    Stream {
        /// The device.
        device: String,
        /// Why.
        reason: String,
    },
    /// A configuration file that is not in the GenApi persistence format.
    #[error("malformed configuration file: {} ({} problem(s))", problems.first().map(String::as_str).unwrap_or(""), problems.len())]
    MalformedConfig {
        /// Every problem found, one per line of the file.
        problems: Vec<String>,
    },
    /// A frame could not be converted or saved.
    #[error("image: {0}")]
    Image(String),
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The USB subsystem failed.
    #[error("USB: {0}")]
    Usb(String),
    /// A virtual camera could not be made.
    #[error("virtual camera: {0}")]
    VirtualCamera(String),
    /// An argument that makes no sense.
    #[error("{0}")]
    InvalidArgument(String),
}

impl Error {
    /// Whether this error means the device is gone.
    pub fn is_disconnected(&self) -> bool {
        matches!(self, Error::Disconnected { .. })
    }
}
