//! Access modes, visibility and the other small enumerations of GenApi.

use std::fmt;

/// Whether a node can be read or written now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AccessMode {
    /// Not implemented: the device does not have this feature.
    NI,
    /// Not available now (another feature's state forbids it).
    NA,
    /// Write only.
    WO,
    /// Read only.
    RO,
    /// Read and write.
    RW,
}

impl AccessMode {
    /// Whether a value can be read.
    pub fn is_readable(self) -> bool {
        matches!(self, AccessMode::RO | AccessMode::RW)
    }
    /// Whether a value can be written.
    pub fn is_writable(self) -> bool {
        matches!(self, AccessMode::WO | AccessMode::RW)
    }
    /// The two-letter name used by GenApi (`RW`, `RO`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            AccessMode::NI => "NI",
            AccessMode::NA => "NA",
            AccessMode::WO => "WO",
            AccessMode::RO => "RO",
            AccessMode::RW => "RW",
        }
    }
    pub(crate) fn parse(s: &str) -> Option<AccessMode> {
        Some(match s {
            "RW" => AccessMode::RW,
            "RO" => AccessMode::RO,
            "WO" => AccessMode::WO,
            "NA" => AccessMode::NA,
            "NI" => AccessMode::NI,
            _ => return None,
        })
    }
    /// The mode allowed by both `self` and `other`.
    pub fn combine(self, other: AccessMode) -> AccessMode {
        use AccessMode::*;
        match (self, other) {
            (NI, _) | (_, NI) => NI,
            (NA, _) | (_, NA) => NA,
            (RO, WO) | (WO, RO) => NA,
            (WO, _) | (_, WO) => WO,
            (RO, _) | (_, RO) => RO,
            (RW, RW) => RW,
        }
    }
}

impl fmt::Display for AccessMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The user level at which a feature is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Visibility {
    /// Shown to every user.
    #[default]
    Beginner,
    /// Shown to experts and gurus.
    Expert,
    /// Shown to gurus only.
    Guru,
    /// Never shown.
    Invisible,
}

impl Visibility {
    pub(crate) fn parse(s: &str) -> Option<Visibility> {
        Some(match s {
            "Beginner" => Visibility::Beginner,
            "Expert" => Visibility::Expert,
            "Guru" => Visibility::Guru,
            "Invisible" => Visibility::Invisible,
            _ => return None,
        })
    }
    /// Its name in the XML.
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Beginner => "Beginner",
            Visibility::Expert => "Expert",
            Visibility::Guru => "Guru",
            Visibility::Invisible => "Invisible",
        }
    }
}

/// How an integer should be presented.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Representation {
    /// A slider with a linear scale.
    Linear,
    /// A slider with a logarithmic scale.
    Logarithmic,
    /// A check box.
    Boolean,
    /// A plain number.
    #[default]
    PureNumber,
    /// A hexadecimal number.
    HexNumber,
    /// A dotted IPv4 address.
    IPV4Address,
    /// A MAC address.
    MACAddress,
}

impl Representation {
    pub(crate) fn parse(s: &str) -> Option<Representation> {
        Some(match s {
            "Linear" => Representation::Linear,
            "Logarithmic" => Representation::Logarithmic,
            "Boolean" => Representation::Boolean,
            "PureNumber" => Representation::PureNumber,
            "HexNumber" => Representation::HexNumber,
            "IPV4Address" => Representation::IPV4Address,
            "MACAddress" => Representation::MACAddress,
            _ => return None,
        })
    }
}

/// How a register's value is cached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Cachable {
    /// Written values are kept in the cache.
    #[default]
    WriteThrough,
    /// A write empties the cache; the next read goes to the device.
    WriteAround,
    /// Every read goes to the device.
    NoCache,
}

/// Byte order of a register.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Endianness {
    /// Least significant byte first.
    #[default]
    Little,
    /// Most significant byte first.
    Big,
}

/// How a float should be printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum DisplayNotation {
    /// Whichever of fixed and scientific is shorter.
    #[default]
    Automatic,
    /// Fixed point.
    Fixed,
    /// Scientific.
    Scientific,
}

/// The direction of a converter's mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Slope {
    /// Found by evaluating the mapping at both ends.
    #[default]
    Automatic,
    /// Larger input, larger output.
    Increasing,
    /// Larger input, smaller output.
    Decreasing,
    /// Not monotonic.
    Varying,
}
