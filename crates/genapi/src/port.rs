//! The register space a node map reaches: the `Port` trait.

use crate::error::PortError;

/// A register space: the device's memory as seen through its transport.
///
/// A node map never does I/O itself; every register read and write goes through
/// the port connected under the name the description's `pPort` gives.
pub trait Port {
    /// Fills `buf` with the bytes at `address`.
    fn read(&mut self, address: u64, buf: &mut [u8]) -> Result<(), PortError>;
    /// Writes `data` at `address`.
    fn write(&mut self, address: u64, data: &[u8]) -> Result<(), PortError>;
}

impl<P: Port + ?Sized> Port for Box<P> {
    fn read(&mut self, address: u64, buf: &mut [u8]) -> Result<(), PortError> {
        (**self).read(address, buf)
    }
    fn write(&mut self, address: u64, data: &[u8]) -> Result<(), PortError> {
        (**self).write(address, data)
    }
}

/// A port over a plain memory block, handy for tests and simulations.
///
/// Addresses outside the block are refused.
#[derive(Debug, Clone, Default)]
pub struct MemoryPort {
    /// The bytes, starting at address `base`.
    pub memory: Vec<u8>,
    /// The address of `memory[0]`.
    pub base: u64,
    /// Number of reads performed.
    pub reads: u64,
    /// Number of writes performed.
    pub writes: u64,
}

impl MemoryPort {
    /// A zeroed block of `size` bytes starting at address 0.
    pub fn new(size: usize) -> MemoryPort {
        MemoryPort {
            memory: vec![0; size],
            ..Default::default()
        }
    }

    fn range(&self, address: u64, len: usize) -> Result<std::ops::Range<usize>, PortError> {
        let refused = || PortError::Refused {
            address,
            length: len,
            reason: "outside the memory block".into(),
        };
        let start = address.checked_sub(self.base).ok_or_else(refused)?;
        let start = usize::try_from(start).map_err(|_| refused())?;
        let end = start.checked_add(len).ok_or_else(refused)?;
        if end > self.memory.len() {
            return Err(refused());
        }
        Ok(start..end)
    }
}

impl Port for MemoryPort {
    fn read(&mut self, address: u64, buf: &mut [u8]) -> Result<(), PortError> {
        let r = self.range(address, buf.len())?;
        self.reads += 1;
        buf.copy_from_slice(&self.memory[r]);
        Ok(())
    }
    fn write(&mut self, address: u64, data: &[u8]) -> Result<(), PortError> {
        let r = self.range(address, data.len())?;
        self.writes += 1;
        self.memory[r].copy_from_slice(data);
        Ok(())
    }
}
