//! GenICam GenApi engine.
//!
//! Loads a device description (GenApi schema 1.0 or 1.1, plain XML or zipped)
//! into a [`NodeMap`], and evaluates its features over a register space
//! reached only through the [`Port`] trait: no I/O happens here.
//!
//! ```
//! use genapi::{MemoryPort, NodeMap};
//! let xml = r#"<RegisterDescription ModelName="M" VendorName="V" StandardNameSpace="None"
//!   SchemaMajorVersion="1" SchemaMinorVersion="1" SchemaSubMinorVersion="0"
//!   MajorVersion="1" MinorVersion="0" SubMinorVersion="0"
//!   ProductGuid="0" VersionGuid="0">
//!   <Integer Name="Width"><pValue>WidthReg</pValue><Min>16</Min><Max>4096</Max><Inc>16</Inc></Integer>
//!   <IntReg Name="WidthReg"><Address>0x100</Address><Length>4</Length><AccessMode>RW</AccessMode>
//!     <pPort>Device</pPort><Sign>Unsigned</Sign><Endianess>LittleEndian</Endianess></IntReg>
//!   <Port Name="Device"/>
//! </RegisterDescription>"#;
//! let mut map = NodeMap::from_xml(xml)?;
//! map.connect("Device", Box::new(MemoryPort::new(0x1000)))?;
//! map.set_integer("Width", 640)?;
//! assert_eq!(map.integer("Width")?, 640);
//! assert!(map.set_integer("Width", 641).is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod access;
mod error;
mod eval;
pub mod formula;
mod load;
mod node;
mod nodemap;
pub mod persist;
mod port;
mod xml;

pub use access::{
    AccessMode, Cachable, DisplayNotation, Endianness, Representation, Slope, Visibility,
};
pub use error::{Error, LoadError, LoadWarning, PortError, Result};
pub use load::DescriptionInfo;
pub use node::Interface;
pub use nodemap::{BoxedPort, EnumEntry, NodeInfo, NodeMap};
pub use port::{MemoryPort, Port};

#[cfg(test)]
mod tests {
    /// A node map moves to the thread that owns the device connection.
    #[test]
    fn node_map_is_send() {
        fn send<T: Send>() {}
        send::<crate::NodeMap>();
    }
}
