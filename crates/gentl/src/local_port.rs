//! The producer's own ports: each module (System, Interface, Device,
//! DataStream, Buffer) describes its standard GenTL features in a small
//! table, from which both its GenICam XML and its register space are
//! generated. The XML is served from the producer's memory through a
//! `local:` URL on the same port.

use crate::error::{GcError, GcResult};

/// Where a module's XML starts in its register space.
pub const XML_ADDRESS: u64 = 0x1_0000;
/// Bytes of a string register.
const STRING_LEN: u64 = 64;
/// Bytes of an integer register.
const INT_LEN: u64 = 8;

/// How a feature is presented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeatureKind {
    /// A `StringReg`.
    Str,
    /// An unsigned 64-bit `IntReg`.
    Int,
    /// An `Enumeration` over an `IntReg`, with its entries.
    Enum(&'static [(&'static str, i64)]),
}

/// One feature of a module.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeatureDef {
    /// SFNC / GenTL SFNC name.
    pub name: &'static str,
    /// Presentation.
    pub kind: FeatureKind,
    /// Whether the consumer may write it.
    pub writable: bool,
}

/// A read-only feature.
pub const fn ro(name: &'static str, kind: FeatureKind) -> FeatureDef {
    FeatureDef {
        name,
        kind,
        writable: false,
    }
}

/// A read-write feature.
pub const fn rw(name: &'static str, kind: FeatureKind) -> FeatureDef {
    FeatureDef {
        name,
        kind,
        writable: true,
    }
}

/// A feature's current value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeatureValue {
    /// Text (cut to 63 bytes).
    Str(String),
    /// An integer or an enumeration entry's value.
    Int(i64),
}

/// What a module gives its port: the values of its features, and the
/// effect of writing the writable ones.
pub trait ModuleFeatures {
    /// The value of feature `name` of the table.
    fn feature(&self, name: &str) -> FeatureValue;
    /// Writes integer feature `name` (only called for writable ones).
    fn set_feature(&self, name: &str, value: i64) -> GcResult<()>;
}

/// A module's port: its name in the XML, the module name `GCGetPortInfo`
/// reports, and its feature table.
#[derive(Debug, Clone, Copy)]
pub struct PortDescription {
    /// The `Port` node's name.
    pub port_name: &'static str,
    /// `TLSystem`, `TLInterface`, `TLDevice`, `TLDataStream` or `TLBuffer`.
    pub module: &'static str,
    /// The XML's model name (and file name).
    pub model: &'static str,
    /// The features, in register order.
    pub features: &'static [FeatureDef],
}

fn reg_len(kind: FeatureKind) -> u64 {
    match kind {
        FeatureKind::Str => STRING_LEN,
        FeatureKind::Int | FeatureKind::Enum(_) => INT_LEN,
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

impl PortDescription {
    /// Each feature with its register address and length.
    fn layout(&self) -> impl Iterator<Item = (&'static FeatureDef, u64, u64)> {
        self.features.iter().scan(0u64, |next, d| {
            let address = *next;
            let len = reg_len(d.kind);
            *next += len;
            Some((d, address, len))
        })
    }

    /// End of the feature registers.
    fn registers_end(&self) -> u64 {
        self.features.iter().map(|d| reg_len(d.kind)).sum()
    }

    /// The GenICam XML of the module.
    pub fn xml(&self) -> String {
        let mut o = String::new();
        o.push_str(&format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<RegisterDescription ModelName=\"{m}\" VendorName=\"mvcam\" ToolTip=\"mvcam GenTL producer: {module} module\" StandardNameSpace=\"None\" SchemaMajorVersion=\"1\" SchemaMinorVersion=\"1\" SchemaSubMinorVersion=\"0\" MajorVersion=\"1\" MinorVersion=\"0\" SubMinorVersion=\"0\" ProductGuid=\"7C2B4E1A-6D0F-4B8E-9A51-3E2D1C0B{g:04X}\" VersionGuid=\"7C2B4E1A-6D0F-4B8E-9A51-3E2D1C0C{g:04X}\" xmlns=\"http://www.genicam.org/GenApi/Version_1_1\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:schemaLocation=\"http://www.genicam.org/GenApi/Version_1_1 http://www.genicam.org/GenApi/GenApiSchema_Version_1_1.xsd\">\n",
            m = esc(self.model),
            module = esc(self.module),
            g = self.model.len() * 257 % 0xFFFF,
        ));
        o.push_str("  <Category Name=\"Root\" NameSpace=\"Standard\">\n");
        for d in self.features {
            o.push_str(&format!("    <pFeature>{}</pFeature>\n", d.name));
        }
        o.push_str("  </Category>\n");
        for (d, address, len) in self.layout() {
            let access = if d.writable { "RW" } else { "RO" };
            let reg = |name: &str, ns: &str, o: &mut String| {
                o.push_str(&format!(
                    "  <IntReg Name=\"{name}\" NameSpace=\"{ns}\">\n    <Address>0x{address:X}</Address>\n    <Length>{len}</Length>\n    <AccessMode>{access}</AccessMode>\n    <pPort>{port}</pPort>\n    <Cachable>NoCache</Cachable>\n    <Sign>Unsigned</Sign>\n    <Endianess>LittleEndian</Endianess>\n  </IntReg>\n",
                    port = self.port_name
                ));
            };
            match d.kind {
                FeatureKind::Str => o.push_str(&format!(
                    "  <StringReg Name=\"{}\" NameSpace=\"Standard\">\n    <Address>0x{address:X}</Address>\n    <Length>{len}</Length>\n    <AccessMode>{access}</AccessMode>\n    <pPort>{}</pPort>\n    <Cachable>NoCache</Cachable>\n  </StringReg>\n",
                    d.name, self.port_name
                )),
                FeatureKind::Int => reg(d.name, "Standard", &mut o),
                FeatureKind::Enum(entries) => {
                    o.push_str(&format!(
                        "  <Enumeration Name=\"{}\" NameSpace=\"Standard\">\n",
                        d.name
                    ));
                    for (entry, value) in entries {
                        o.push_str(&format!(
                            "    <EnumEntry Name=\"{entry}\" NameSpace=\"Standard\">\n      <Value>{value}</Value>\n    </EnumEntry>\n"
                        ));
                    }
                    o.push_str(&format!(
                        "    <pValue>{}Reg</pValue>\n  </Enumeration>\n",
                        d.name
                    ));
                    reg(&format!("{}Reg", d.name), "Custom", &mut o);
                }
            }
        }
        o.push_str(&format!(
            "  <Port Name=\"{}\" NameSpace=\"Standard\"/>\n</RegisterDescription>\n",
            self.port_name
        ));
        o
    }

    /// The `local:` URL of the XML.
    pub fn url(&self) -> String {
        format!(
            "local:{}.xml;{:X};{:X}",
            self.model,
            XML_ADDRESS,
            self.xml().len()
        )
    }

    /// Reads `buf.len()` bytes at `address`: feature registers or the XML.
    pub fn read(&self, module: &dyn ModuleFeatures, address: u64, buf: &mut [u8]) -> GcResult<()> {
        let len = buf.len() as u64;
        let end = address
            .checked_add(len)
            .ok_or(GcError::InvalidAddress(address))?;
        if address >= XML_ADDRESS {
            let xml = self.xml();
            let start = usize::try_from(address - XML_ADDRESS)
                .map_err(|_| GcError::InvalidAddress(address))?;
            let src = start
                .checked_add(buf.len())
                .and_then(|stop| xml.as_bytes().get(start..stop))
                .ok_or(GcError::InvalidAddress(address))?;
            buf.copy_from_slice(src);
            return Ok(());
        }
        if end > self.registers_end() {
            return Err(GcError::InvalidAddress(address));
        }
        for (d, reg, reg_len) in self.layout() {
            let reg_end = reg + reg_len;
            if reg_end <= address || reg >= end {
                continue;
            }
            let mut bytes = vec![0u8; reg_len as usize];
            match module.feature(d.name) {
                FeatureValue::Str(s) => {
                    let n = s.len().min(STRING_LEN as usize - 1);
                    bytes[..n].copy_from_slice(&s.as_bytes()[..n]);
                }
                FeatureValue::Int(v) => bytes.copy_from_slice(&v.to_le_bytes()),
            }
            let from = address.max(reg);
            let to = end.min(reg_end);
            let dst = &mut buf[(from - address) as usize..(to - address) as usize];
            dst.copy_from_slice(&bytes[(from - reg) as usize..(to - reg) as usize]);
        }
        Ok(())
    }

    /// Writes a writable integer feature: `data` must cover exactly its
    /// register (little endian, up to 8 bytes).
    pub fn write(&self, module: &dyn ModuleFeatures, address: u64, data: &[u8]) -> GcResult<()> {
        let (d, _, _) = self
            .layout()
            .find(|(_, reg, _)| *reg == address)
            .ok_or(GcError::InvalidAddress(address))?;
        if !d.writable || d.kind == FeatureKind::Str {
            return Err(GcError::AccessDenied(format!("{} is read-only", d.name)));
        }
        if data.is_empty() || data.len() > INT_LEN as usize {
            return Err(GcError::InvalidParameter(format!(
                "{} takes 1 to 8 bytes, not {}",
                d.name,
                data.len()
            )));
        }
        let mut b = [0u8; 8];
        b[..data.len()].copy_from_slice(data);
        module.set_feature(d.name, i64::from_le_bytes(b))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    const MODES: &[(&str, i64)] = &[("A", 0), ("B", 7)];
    const TABLE: PortDescription = PortDescription {
        port_name: "TestPort",
        module: "TLSystem",
        model: "Test",
        features: &[
            ro("Name", FeatureKind::Str),
            rw("Count", FeatureKind::Int),
            ro("Mode", FeatureKind::Enum(MODES)),
        ],
    };

    struct M(Mutex<i64>);
    impl ModuleFeatures for M {
        fn feature(&self, name: &str) -> FeatureValue {
            match name {
                "Name" => FeatureValue::Str("hello".into()),
                "Mode" => FeatureValue::Int(7),
                _ => FeatureValue::Int(*self.0.lock().unwrap()),
            }
        }
        fn set_feature(&self, _name: &str, value: i64) -> GcResult<()> {
            *self.0.lock().unwrap() = value;
            Ok(())
        }
    }

    #[test]
    fn registers_follow_the_table_and_the_xml_is_served() {
        let m = M(Mutex::new(3));
        let mut name = [0u8; 64];
        TABLE.read(&m, 0, &mut name).unwrap();
        assert_eq!(&name[..6], b"hello\0");
        let mut v = [0u8; 8];
        TABLE.read(&m, 64, &mut v).unwrap();
        assert_eq!(i64::from_le_bytes(v), 3);
        TABLE.write(&m, 64, &9i64.to_le_bytes()).unwrap();
        TABLE.read(&m, 64, &mut v).unwrap();
        assert_eq!(i64::from_le_bytes(v), 9);
        TABLE.read(&m, 72, &mut v).unwrap();
        assert_eq!(i64::from_le_bytes(v), 7);
        assert!(TABLE.write(&m, 72, &[1]).is_err());
        assert!(TABLE.write(&m, 0, &[1]).is_err());
        assert_eq!(TABLE.read(&m, 80, &mut v), Err(GcError::InvalidAddress(80)));
        let xml = TABLE.xml();
        let mut head = vec![0u8; 20];
        TABLE.read(&m, XML_ADDRESS, &mut head).unwrap();
        assert_eq!(&head[..], &xml.as_bytes()[..20]);
        assert!(TABLE.url().starts_with("local:Test.xml;10000;"));
        let mut past = vec![0u8; xml.len() + 1];
        assert!(TABLE.read(&m, XML_ADDRESS, &mut past).is_err());
        assert!(TABLE.read(&m, u64::MAX, &mut v).is_err());
    }
}
