//! What the integration tests share: descriptions built from parts, and a
//! port over shared memory that counts its accesses.
#![allow(dead_code)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use genapi::{Port, PortError};

pub const ROOT: &str = r#"<RegisterDescription ModelName="M" VendorName="V" StandardNameSpace="None" SchemaMajorVersion="1" SchemaMinorVersion="1" SchemaSubMinorVersion="0" MajorVersion="1" MinorVersion="0" SubMinorVersion="0" ProductGuid="0" VersionGuid="0" xmlns="http://www.genicam.org/GenApi/Version_1_1">"#;

/// A whole description: the root, a `Device` port and `body`.
pub fn xml(body: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n{ROOT}\n<Port Name=\"Device\"/>\n{body}\n</RegisterDescription>\n"
    )
}

/// The register elements: address, length, access mode and the `Device` port.
pub fn reg(addr: u64, len: u32, access: &str) -> String {
    format!(
        "<Address>{addr:#x}</Address><Length>{len}</Length><AccessMode>{access}</AccessMode><pPort>Device</pPort>"
    )
}

/// A port over shared memory that counts its reads and writes and can be made to fail.
#[derive(Clone)]
pub struct TestPort {
    pub mem: Arc<Mutex<Vec<u8>>>,
    pub reads: Arc<AtomicU64>,
    pub writes: Arc<AtomicU64>,
    pub fail_read: Arc<Mutex<Option<PortError>>>,
    pub fail_write: Arc<Mutex<Option<PortError>>>,
}

impl TestPort {
    pub fn new(size: usize) -> TestPort {
        TestPort {
            mem: Arc::new(Mutex::new(vec![0; size])),
            reads: Arc::new(AtomicU64::new(0)),
            writes: Arc::new(AtomicU64::new(0)),
            fail_read: Arc::new(Mutex::new(None)),
            fail_write: Arc::new(Mutex::new(None)),
        }
    }
    /// The whole memory.
    pub fn bytes(&self) -> Vec<u8> {
        self.mem.lock().unwrap().clone()
    }
    pub fn peek(&self, addr: usize, len: usize) -> Vec<u8> {
        self.mem.lock().unwrap()[addr..addr + len].to_vec()
    }
    pub fn poke(&self, addr: usize, data: &[u8]) {
        self.mem.lock().unwrap()[addr..addr + data.len()].copy_from_slice(data);
    }
    pub fn poke_u32(&self, addr: usize, v: u32) {
        self.poke(addr, &v.to_le_bytes());
    }
    pub fn peek_u32(&self, addr: usize) -> u32 {
        u32::from_le_bytes(self.peek(addr, 4).try_into().unwrap())
    }
    pub fn reads(&self) -> u64 {
        self.reads.load(Ordering::SeqCst)
    }
    pub fn writes(&self) -> u64 {
        self.writes.load(Ordering::SeqCst)
    }
}

impl Port for TestPort {
    fn read(&mut self, address: u64, buf: &mut [u8]) -> Result<(), PortError> {
        if let Some(e) = self.fail_read.lock().unwrap().clone() {
            return Err(e);
        }
        let mem = self.mem.lock().unwrap();
        let start = usize::try_from(address).map_err(|_| PortError::Other("address".into()))?;
        let end = start + buf.len();
        if end > mem.len() {
            return Err(PortError::Refused {
                address,
                length: buf.len(),
                reason: "outside".into(),
            });
        }
        buf.copy_from_slice(&mem[start..end]);
        self.reads.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
    fn write(&mut self, address: u64, data: &[u8]) -> Result<(), PortError> {
        if let Some(e) = self.fail_write.lock().unwrap().clone() {
            return Err(e);
        }
        let mut mem = self.mem.lock().unwrap();
        let start = usize::try_from(address).map_err(|_| PortError::Other("address".into()))?;
        let end = start + data.len();
        if end > mem.len() {
            return Err(PortError::Refused {
                address,
                length: data.len(),
                reason: "outside".into(),
            });
        }
        mem[start..end].copy_from_slice(data);
        self.writes.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}
