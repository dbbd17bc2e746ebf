//! Errors of the GenApi engine.

use crate::access::AccessMode;
use crate::formula::FormulaError;

/// Why a port read or write failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PortError {
    /// The device refused the access to this address.
    #[error("access to address {address:#x} ({length} bytes) refused: {reason}")]
    Refused {
        address: u64,
        length: usize,
        reason: String,
    },
    /// The device did not answer in time.
    #[error("timeout accessing address {address:#x}")]
    Timeout { address: u64 },
    /// The device is gone.
    #[error("device disconnected")]
    Disconnected,
    /// Any other transport failure.
    #[error("port error: {0}")]
    Other(String),
}

/// Where and why a description could not be loaded.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LoadError {
    /// The XML is not well formed.
    #[error("XML error at line {line}, column {column}: {message}")]
    Xml {
        line: u32,
        column: u32,
        message: String,
    },
    /// The root element is not a GenApi `RegisterDescription`.
    #[error("not a GenApi description: root element is <{0}>")]
    NotGenApi(String),
    /// An element holds a value that cannot be understood.
    #[error("line {line}: <{element}> of node '{node}': invalid value '{value}'")]
    BadValue {
        line: u32,
        node: String,
        element: String,
        value: String,
    },
    /// A formula does not parse.
    #[error("line {line}: formula of node '{node}': {source}")]
    Formula {
        line: u32,
        node: String,
        source: FormulaError,
    },
    /// A node refers to a node that does not exist.
    #[error("node '{node}' refers to unknown node '{target}'")]
    UnknownNode { node: String, target: String },
    /// Two nodes carry the same name.
    #[error("line {line}: node '{node}' is defined twice")]
    Duplicate { line: u32, node: String },
    /// A zipped description could not be opened.
    #[error("zip archive: {0}")]
    Zip(String),
    /// The description is not valid UTF-8.
    #[error("the description is not valid UTF-8 at byte {0}")]
    Utf8(usize),
}

/// A warning raised while loading: the description loads, but something was ignored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadWarning {
    /// Line of the element in the XML.
    pub line: u32,
    /// What was ignored and why.
    pub message: String,
}

impl std::fmt::Display for LoadWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// An error accessing a feature.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// No node has this name.
    #[error("no feature named '{0}'")]
    NotFound(String),
    /// The node is not of the type asked for.
    #[error("'{name}' is a {actual}, not {expected}")]
    WrongType {
        name: String,
        expected: &'static str,
        actual: &'static str,
    },
    /// The feature cannot be read in its current access mode.
    #[error("'{name}' is not readable (access mode {access})")]
    NotReadable { name: String, access: AccessMode },
    /// The feature cannot be written in its current access mode.
    #[error("'{name}' is not writable (access mode {access})")]
    NotWritable { name: String, access: AccessMode },
    /// An integer value outside the feature's range or off its increment.
    #[error("{value} is out of range for '{name}': min {min}, max {max}, increment {inc}")]
    OutOfRange {
        name: String,
        value: i64,
        min: i64,
        max: i64,
        inc: i64,
    },
    /// A float value outside the feature's range.
    #[error("{value} is out of range for '{name}': min {min}, max {max}")]
    FloatOutOfRange {
        name: String,
        value: f64,
        min: f64,
        max: f64,
    },
    /// An enumeration entry that does not exist or cannot be used now.
    #[error("'{entry}' is not a valid entry of '{name}'; valid entries: {}", valid.join(", "))]
    UnknownEntry {
        name: String,
        entry: String,
        valid: Vec<String>,
    },
    /// The enumeration holds an integer that matches no entry.
    #[error("'{name}' holds {value}, which matches no entry")]
    NoEntryForValue { name: String, value: i64 },
    /// A Boolean whose register holds neither its on nor its off value.
    #[error("'{name}' holds {value}, which is neither its on value nor its off value")]
    NotBoolean { name: String, value: i64 },
    /// A string too long for its register.
    #[error("string of {len} bytes does not fit '{name}' ({max} bytes)")]
    StringTooLong {
        name: String,
        len: usize,
        max: usize,
    },
    /// A register value of the wrong length.
    #[error("'{name}' takes {expected} bytes, got {actual}")]
    WrongLength {
        name: String,
        expected: usize,
        actual: usize,
    },
    /// A formula failed to evaluate.
    #[error("formula of '{name}': {source}")]
    Formula { name: String, source: FormulaError },
    /// The register space could not be reached.
    #[error("'{name}': {source}")]
    Port { name: String, source: PortError },
    /// No port is connected under the name a node uses.
    #[error("'{name}': no port connected as '{port}'")]
    NoPort { name: String, port: String },
    /// A register whose address or length makes no sense.
    #[error("'{name}': invalid register: {reason}")]
    BadRegister { name: String, reason: String },
    /// The nodes refer to each other in a loop, or too deeply.
    #[error("'{0}': references nest too deeply (a cycle in the description?)")]
    Recursion(String),
    /// A value that cannot be parsed from text.
    #[error("'{name}': cannot parse '{text}' as {expected}")]
    Parse {
        name: String,
        text: String,
        expected: &'static str,
    },
}

/// Result of a feature access.
pub type Result<T> = std::result::Result<T, Error>;
