//! What one feature is: its type, access, visibility, limits and rules.

/// The GenICam interface of a feature and what its register holds.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// A signed 64-bit integer (IntReg, 8 bytes).
    Integer,
    /// An IEEE double (FloatReg, 8 bytes).
    Float,
    /// An enumeration (IntReg, 4 bytes) with its entries.
    Enumeration(Vec<Entry>),
    /// A boolean (IntReg, 4 bytes, 1 = true).
    Boolean,
    /// A command (IntReg, 4 bytes): writing 1 executes it; it reads 1
    /// while running and 0 once done.
    Command,
    /// A string of at most this many bytes (StringReg).
    String(usize),
    /// A block of bytes (Register).
    Register(usize),
}

impl Kind {
    /// Bytes of one value in the register map.
    pub fn register_len(&self) -> usize {
        match self {
            Kind::Integer | Kind::Float => 8,
            Kind::Enumeration(_) | Kind::Boolean | Kind::Command => 4,
            Kind::String(n) | Kind::Register(n) => *n,
        }
    }

    /// Whether the kind holds a number (Integer, Float, Enumeration,
    /// Boolean, Command).
    pub fn is_numeric(&self) -> bool {
        !matches!(self, Kind::String(_) | Kind::Register(_))
    }
}

/// One entry of an enumeration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Symbolic name.
    pub name: &'static str,
    /// Integer value.
    pub value: i64,
    /// Whether the firmware decides at run time if the entry is available
    /// (otherwise it always is).
    pub conditional: bool,
}

/// Who may read and write a feature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Access {
    /// Read only.
    RO,
    /// Read and write.
    RW,
    /// Write only.
    WO,
}

impl Access {
    /// The GenICam spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Access::RO => "RO",
            Access::RW => "RW",
            Access::WO => "WO",
        }
    }
    /// Whether a host may write.
    pub fn writable(self) -> bool {
        self != Access::RO
    }
    /// Whether a host may read.
    pub fn readable(self) -> bool {
        self != Access::WO
    }
}

/// The user level a feature is shown at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Visibility {
    /// Beginner.
    Beginner,
    /// Expert.
    Expert,
    /// Guru.
    Guru,
    /// Not shown.
    Invisible,
}

impl Visibility {
    /// The GenICam spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Beginner => "Beginner",
            Visibility::Expert => "Expert",
            Visibility::Guru => "Guru",
            Visibility::Invisible => "Invisible",
        }
    }
}

/// The range of a numeric feature.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Limits {
    /// No range (enumerations, booleans, commands, strings, registers).
    None,
    /// A fixed range; `inc` is the integer increment (1 for floats).
    Fixed {
        /// Minimum.
        min: f64,
        /// Maximum.
        max: f64,
        /// Increment (integers).
        inc: i64,
    },
    /// A range the firmware computes from other features; it is served
    /// through the registers `<Name>_Min`, `_Max` (and `_Inc` for
    /// integers).
    Dynamic,
}

/// One feature of the camera.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureDef {
    /// SFNC name.
    pub name: &'static str,
    /// The category it is listed in.
    pub category: &'static str,
    /// Interface and register contents.
    pub kind: Kind,
    /// Access.
    pub access: Access,
    /// User level.
    pub visibility: Visibility,
    /// One-line description (the tooltip).
    pub description: &'static str,
    /// Unit (µs, dB, Hz, ...), empty for none.
    pub unit: &'static str,
    /// The selector that selects this feature, if any: one value per
    /// selector index (the selector's integer value).
    pub selector: Option<&'static str>,
    /// Number of values: the selector's index range (1 when unselected).
    pub count: usize,
    /// Range.
    pub limits: Limits,
    /// Not writable while the camera acquires (TLParamsLocked).
    pub locked_while_acquiring: bool,
    /// The firmware decides at run time whether the feature is available.
    pub conditional: bool,
    /// Saved in user sets and configuration files.
    pub streamable: bool,
    /// Address of the first value (assigned by the layout); unused for
    /// chunk features.
    pub address: u64,
    /// For a chunk feature, the id of the chunk that carries its value
    /// (it has no register then).
    pub chunk_id: Option<u32>,
}

impl FeatureDef {
    /// Bytes of one value.
    pub fn stride(&self) -> u64 {
        self.kind.register_len() as u64
    }

    /// Bytes of every value.
    pub fn span(&self) -> u64 {
        self.stride() * self.count as u64
    }

    /// The entry called `name` of an enumeration.
    pub fn entry(&self, name: &str) -> Option<&Entry> {
        match &self.kind {
            Kind::Enumeration(e) => e.iter().find(|e| e.name == name),
            _ => None,
        }
    }

    /// The entry whose value is `value`, of an enumeration.
    pub fn entry_by_value(&self, value: i64) -> Option<&Entry> {
        match &self.kind {
            Kind::Enumeration(e) => e.iter().find(|e| e.value == value),
            _ => None,
        }
    }
}
