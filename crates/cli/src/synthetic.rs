//! The synthetic register space shared with the reference dump script
//! (`genapi-ref-dump.py`): byte A = splitmix64(A ^ seed) & 0xFF, or all zero.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use genapi::{Port, PortError};

/// Reads longer than this are refused, as the reference dump's port does.
pub const MAX_READ: usize = 65536;

/// The splitmix64 mixing function.
pub fn splitmix64(x: u64) -> u64 {
    let x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = x;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A read-only register space of pseudo-random (or zero) bytes; writes are ignored.
#[derive(Debug, Clone)]
pub struct SyntheticPort {
    seed: u64,
    zero: bool,
    reads: Arc<AtomicU64>,
}

impl SyntheticPort {
    /// Bytes from `seed`, or zeros when `zero`.
    pub fn new(seed: u64, zero: bool) -> SyntheticPort {
        SyntheticPort {
            seed,
            zero,
            reads: Arc::new(AtomicU64::new(0)),
        }
    }

    /// A counter of the reads performed, shared with every clone.
    pub fn read_counter(&self) -> Arc<AtomicU64> {
        self.reads.clone()
    }
}

impl Port for SyntheticPort {
    fn read(&mut self, address: u64, buf: &mut [u8]) -> Result<(), PortError> {
        self.reads.fetch_add(1, Ordering::Relaxed);
        if buf.len() > MAX_READ {
            return Err(PortError::Refused {
                address,
                length: buf.len(),
                reason: "read longer than 65536 bytes".into(),
            });
        }
        if self.zero {
            buf.fill(0);
        } else {
            for (i, b) in buf.iter_mut().enumerate() {
                *b = (splitmix64(address.wrapping_add(i as u64) ^ self.seed) & 0xFF) as u8;
            }
        }
        Ok(())
    }

    fn write(&mut self, _address: u64, _data: &[u8]) -> Result<(), PortError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix_matches_the_published_sequence() {
        // First outputs of splitmix64 seeded with 0 (state advanced by the golden gamma).
        assert_eq!(splitmix64(0), 0xE220_A839_7B1D_CDAF);
        assert_eq!(splitmix64(0x9E37_79B9_7F4A_7C15), 0x6E78_9E6A_A1B9_65F4);
    }

    #[test]
    fn bytes_depend_on_address_and_seed() {
        let mut p = SyntheticPort::new(7, false);
        let mut a = [0u8; 4];
        p.read(0x100, &mut a).unwrap();
        let mut b = [0u8; 1];
        p.read(0x101, &mut b).unwrap();
        assert_eq!(a[1], b[0]);
        assert!(p.read(0, &mut vec![0u8; MAX_READ + 1]).is_err());
        let mut z = SyntheticPort::new(7, true);
        z.read(0x100, &mut a).unwrap();
        assert_eq!(a, [0; 4]);
    }
}
