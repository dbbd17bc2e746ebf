//! The GenICam description (GenApi schema 1.1, StandardNameSpace USB)
//! generated from the feature table.

use std::fmt::Write;

use super::def::{FeatureDef, Kind, Limits};
use super::table::CATEGORIES;
use super::{FeatureTable, Helper};

/// Who the description is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XmlIdentity {
    /// ModelName attribute.
    pub model_name: String,
    /// VendorName attribute.
    pub vendor_name: String,
    /// Major, minor and sub-minor version of the description.
    pub version: (u32, u32, u32),
    /// ProductGuid attribute.
    pub product_guid: String,
    /// VersionGuid attribute.
    pub version_guid: String,
}

fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            c => o.push(c),
        }
    }
    o
}

/// Writes formatted text into a `String` (which cannot fail).
macro_rules! w {
    ($out:expr, $($arg:tt)*) => {
        let _ = write!($out, $($arg)*);
    };
}

/// Generates the XML for `table`.
pub fn generate(table: &FeatureTable, id: &XmlIdentity) -> String {
    let mut o = String::with_capacity(256 * 1024);
    w!(
        o,
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<RegisterDescription ModelName=\"{}\" VendorName=\"{}\" ToolTip=\"{} {}\" StandardNameSpace=\"USB\" SchemaMajorVersion=\"1\" SchemaMinorVersion=\"1\" SchemaSubMinorVersion=\"0\" MajorVersion=\"{}\" MinorVersion=\"{}\" SubMinorVersion=\"{}\" ProductGuid=\"{}\" VersionGuid=\"{}\" xmlns=\"http://www.genicam.org/GenApi/Version_1_1\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:schemaLocation=\"http://www.genicam.org/GenApi/Version_1_1 http://www.genicam.org/GenApi/GenApiSchema_Version_1_1.xsd\">\n",
        esc(&id.model_name),
        esc(&id.vendor_name),
        esc(&id.vendor_name),
        esc(&id.model_name),
        id.version.0,
        id.version.1,
        id.version.2,
        esc(&id.product_guid),
        esc(&id.version_guid),
    );
    // Categories.
    w!(o, "  <Category Name=\"Root\" NameSpace=\"Standard\">\n");
    for c in CATEGORIES {
        w!(o, "    <pFeature>{c}</pFeature>\n");
    }
    w!(o, "  </Category>\n");
    for c in CATEGORIES {
        let visibility = if *c == "Simulation" {
            "Guru"
        } else {
            "Beginner"
        };
        let ns =
            if *c == "Simulation" || *c == "FlatFieldCorrection" || *c == "DefectPixelCorrection" {
                "Custom"
            } else {
                "Standard"
            };
        w!(o, "  <Category Name=\"{c}\" NameSpace=\"{ns}\">\n    <Visibility>{visibility}</Visibility>\n");
        for d in table.defs().iter().filter(|d| d.category == *c) {
            w!(o, "    <pFeature>{}</pFeature>\n", d.name);
        }
        w!(o, "  </Category>\n");
    }
    // Ports.
    w!(o, "  <Port Name=\"Device\" NameSpace=\"Standard\">\n    <Visibility>Invisible</Visibility>\n  </Port>\n");
    for d in table.defs() {
        if let Some(chunk) = d.chunk_id {
            w!(
                o,
                "  <Port Name=\"{}Port\">\n    <Visibility>Invisible</Visibility>\n    <ChunkID>{chunk:08X}</ChunkID>\n  </Port>\n",
                d.name
            );
        }
    }
    for (id, d) in table.defs().iter().enumerate() {
        feature(&mut o, table, id, d);
    }
    w!(o, "</RegisterDescription>\n");
    o
}

fn is_standard(d: &FeatureDef) -> bool {
    !matches!(
        d.category,
        "Simulation" | "FlatFieldCorrection" | "DefectPixelCorrection"
    ) && !matches!(
        d.name,
        "TriggerMissedCount" | "ColorInterpolation" | "AutoTargetBrightness"
    )
}

/// ToolTip, Description, Visibility, pIsAvailable, pIsLocked.
fn common(o: &mut String, table: &FeatureTable, id: usize, d: &FeatureDef) {
    w!(o, "    <ToolTip>{}</ToolTip>\n", esc(d.description));
    w!(o, "    <Description>{}</Description>\n", esc(d.description));
    w!(
        o,
        "    <Visibility>{}</Visibility>\n",
        d.visibility.as_str()
    );
    for h in table.helpers_of(id) {
        if h.helper == Helper::Available {
            w!(
                o,
                "    <pIsAvailable>{}{}</pIsAvailable>\n",
                d.name,
                h.helper.suffix()
            );
        }
    }
    for h in table.helpers_of(id) {
        if h.helper == Helper::Locked {
            w!(
                o,
                "    <pIsLocked>{}{}</pIsLocked>\n",
                d.name,
                h.helper.suffix()
            );
        }
    }
}

fn streamable(o: &mut String, d: &FeatureDef) {
    if d.streamable {
        w!(o, "    <Streamable>Yes</Streamable>\n");
    }
}

/// The features `d` selects (the ones naming it as their selector).
fn selected(o: &mut String, table: &FeatureTable, d: &FeatureDef) {
    for other in table.defs() {
        if other.selector == Some(d.name) {
            w!(o, "    <pSelected>{}</pSelected>\n", other.name);
        }
    }
}

/// Address and pIndex lines of a register of `d` at `address`, `stride`
/// bytes per selector index.
fn addressing(o: &mut String, table: &FeatureTable, d: &FeatureDef, address: u64, stride: u64) {
    w!(o, "    <Address>0x{address:08X}</Address>\n");
    if let Some(sel) = d.selector.and_then(|s| table.def(s)) {
        w!(
            o,
            "    <pIndex Offset=\"{stride}\">{}_Reg</pIndex>\n",
            sel.name
        );
    }
}

fn feature(o: &mut String, table: &FeatureTable, id: usize, d: &FeatureDef) {
    let ns = if is_standard(d) { "Standard" } else { "Custom" };
    let reg = format!("{}_Reg", d.name);
    if let Some(_chunk) = d.chunk_id {
        let tag = if d.kind == Kind::Float {
            "FloatReg"
        } else {
            "IntReg"
        };
        w!(o, "  <{tag} Name=\"{}\" NameSpace=\"{ns}\">\n", d.name);
        common(o, table, id, d);
        w!(o, "    <Address>0x0</Address>\n    <Length>8</Length>\n    <AccessMode>RO</AccessMode>\n    <pPort>{}Port</pPort>\n    <Cachable>NoCache</Cachable>\n", d.name);
        if tag == "IntReg" {
            w!(o, "    <Sign>Signed</Sign>\n");
        }
        w!(o, "    <Endianess>LittleEndian</Endianess>\n");
        if !d.unit.is_empty() && tag == "FloatReg" {
            w!(o, "    <Unit>{}</Unit>\n", esc(d.unit));
        }
        w!(o, "  </{tag}>\n");
        return;
    }
    match &d.kind {
        Kind::Integer => {
            w!(o, "  <Integer Name=\"{}\" NameSpace=\"{ns}\">\n", d.name);
            common(o, table, id, d);
            streamable(o, d);
            w!(o, "    <pValue>{reg}</pValue>\n");
            limits(o, d, true);
            if !d.unit.is_empty() {
                w!(o, "    <Unit>{}</Unit>\n", esc(d.unit));
            }
            selected(o, table, d);
            w!(o, "  </Integer>\n");
            int_reg(o, table, d, &reg, 8);
        }
        Kind::Float => {
            w!(o, "  <Float Name=\"{}\" NameSpace=\"{ns}\">\n", d.name);
            common(o, table, id, d);
            streamable(o, d);
            w!(o, "    <pValue>{reg}</pValue>\n");
            limits(o, d, false);
            if !d.unit.is_empty() {
                w!(o, "    <Unit>{}</Unit>\n", esc(d.unit));
            }
            selected(o, table, d);
            w!(o, "  </Float>\n");
            w!(
                o,
                "  <FloatReg Name=\"{reg}\">\n    <Visibility>Invisible</Visibility>\n"
            );
            addressing(o, table, d, d.address, d.stride());
            w!(o, "    <Length>8</Length>\n    <AccessMode>{}</AccessMode>\n    <pPort>Device</pPort>\n    <Cachable>NoCache</Cachable>\n    <Endianess>LittleEndian</Endianess>\n  </FloatReg>\n", d.access.as_str());
        }
        Kind::Enumeration(entries) => {
            w!(
                o,
                "  <Enumeration Name=\"{}\" NameSpace=\"{ns}\">\n",
                d.name
            );
            common(o, table, id, d);
            streamable(o, d);
            for e in entries {
                w!(
                    o,
                    "    <EnumEntry Name=\"{}\" NameSpace=\"{ns}\">\n",
                    e.name
                );
                if e.conditional {
                    w!(
                        o,
                        "      <pIsAvailable>{}_{}_Avail</pIsAvailable>\n",
                        d.name,
                        e.name
                    );
                }
                w!(o, "      <Value>{}</Value>\n    </EnumEntry>\n", e.value);
            }
            w!(o, "    <pValue>{reg}</pValue>\n");
            selected(o, table, d);
            w!(o, "  </Enumeration>\n");
            int_reg(o, table, d, &reg, 4);
        }
        Kind::Boolean => {
            w!(o, "  <Boolean Name=\"{}\" NameSpace=\"{ns}\">\n", d.name);
            common(o, table, id, d);
            streamable(o, d);
            w!(o, "    <pValue>{reg}</pValue>\n    <OnValue>1</OnValue>\n    <OffValue>0</OffValue>\n");
            selected(o, table, d);
            w!(o, "  </Boolean>\n");
            int_reg(o, table, d, &reg, 4);
        }
        Kind::Command => {
            w!(o, "  <Command Name=\"{}\" NameSpace=\"{ns}\">\n", d.name);
            common(o, table, id, d);
            w!(
                o,
                "    <pValue>{reg}</pValue>\n    <CommandValue>1</CommandValue>\n  </Command>\n"
            );
            int_reg(o, table, d, &reg, 4);
        }
        Kind::String(len) => {
            w!(o, "  <StringReg Name=\"{}\" NameSpace=\"{ns}\">\n", d.name);
            common(o, table, id, d);
            streamable(o, d);
            addressing(o, table, d, d.address, d.stride());
            w!(o, "    <Length>{len}</Length>\n    <AccessMode>{}</AccessMode>\n    <pPort>Device</pPort>\n    <Cachable>NoCache</Cachable>\n  </StringReg>\n", d.access.as_str());
        }
        Kind::Register(len) => {
            w!(o, "  <Register Name=\"{}\" NameSpace=\"{ns}\">\n", d.name);
            common(o, table, id, d);
            addressing(o, table, d, d.address, d.stride());
            w!(o, "    <Length>{len}</Length>\n    <AccessMode>{}</AccessMode>\n    <pPort>Device</pPort>\n    <Cachable>NoCache</Cachable>\n", d.access.as_str());
            selected(o, table, d);
            w!(o, "  </Register>\n");
        }
    }
    // Helper registers.
    for h in table.helpers_of(id) {
        let tag = if h.float { "FloatReg" } else { "IntReg" };
        w!(
            o,
            "  <{tag} Name=\"{}{}\">\n    <Visibility>Invisible</Visibility>\n",
            d.name,
            h.helper.suffix()
        );
        addressing(o, table, d, h.address, 8);
        w!(o, "    <Length>8</Length>\n    <AccessMode>RO</AccessMode>\n    <pPort>Device</pPort>\n    <Cachable>NoCache</Cachable>\n");
        if tag == "IntReg" {
            w!(o, "    <Sign>Signed</Sign>\n");
        }
        w!(o, "    <Endianess>LittleEndian</Endianess>\n  </{tag}>\n");
    }
}

fn limits(o: &mut String, d: &FeatureDef, integer: bool) {
    match d.limits {
        Limits::Fixed { min, max, inc } => {
            if integer {
                w!(
                    o,
                    "    <Min>{}</Min>\n    <Max>{}</Max>\n    <Inc>{}</Inc>\n",
                    min as i64,
                    max as i64,
                    inc.max(1)
                );
            } else {
                w!(o, "    <Min>{min:?}</Min>\n    <Max>{max:?}</Max>\n");
            }
        }
        Limits::Dynamic => {
            w!(
                o,
                "    <pMin>{0}_Min</pMin>\n    <pMax>{0}_Max</pMax>\n",
                d.name
            );
            if integer {
                w!(o, "    <pInc>{}_Inc</pInc>\n", d.name);
            }
        }
        Limits::None => {}
    }
}

fn int_reg(o: &mut String, table: &FeatureTable, d: &FeatureDef, reg: &str, len: usize) {
    w!(
        o,
        "  <IntReg Name=\"{reg}\">\n    <Visibility>Invisible</Visibility>\n"
    );
    addressing(o, table, d, d.address, d.stride());
    w!(o, "    <Length>{len}</Length>\n    <AccessMode>{}</AccessMode>\n    <pPort>Device</pPort>\n    <Cachable>NoCache</Cachable>\n    <Sign>Signed</Sign>\n    <Endianess>LittleEndian</Endianess>\n  </IntReg>\n", d.access.as_str());
}
