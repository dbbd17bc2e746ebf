//! Access privilege: which host may change a device's registers.
//!
//! A USB device has one host at a time on its control endpoints (the host
//! claims the interface), but a device model may serve several control
//! pipes at once, for example an in-process camera opened by one program
//! while another watches it. [`AccessPrivilege`] is the device's arbiter,
//! shared by every [`ControlServer`](crate::control_server::ControlServer)
//! of the device, and exposed to hosts through the ABRM access-privilege
//! register (0x204, 4 bytes):
//!
//! | the host | the device |
//! |---|---|
//! | reads 0x204 | the value of the holder, 0 when nobody holds the privilege |
//! | writes a non-zero value while nobody (or itself) holds it | the host holds the privilege; the value is kept |
//! | writes 0 while holding it | released |
//! | writes 0x204 while another host holds it | `ACCESS_DENIED` |
//! | writes any other register while another host holds it | `ACCESS_DENIED` |
//! | reads any register | always served |
//! | goes away (its server is dropped or [`release`](AccessPrivilege::release)d) | released |
//!
//! A host that never writes 0x204 (Aravis, for one, relies on claiming the
//! USB interface) can still read and write everything while nobody holds
//! the privilege, so the arbiter costs such hosts nothing. Only the meaning
//! "zero is free, non-zero is held" is given to the value; the bits of a
//! non-zero value are kept as written and read back unchanged.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use crate::bootstrap::abrm;
use crate::gencp::Status;

/// The address of the access-privilege register.
pub const REGISTER: u64 = abrm::ACCESS_PRIVILEGE;
/// Its length in bytes.
pub const REGISTER_LEN: usize = 4;

/// One host (one control pipe) of a device, as told apart by its
/// [`AccessPrivilege`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct HostId(u64);

#[derive(Debug, Default)]
struct Holder {
    host: Option<HostId>,
    value: u32,
}

/// The access privilege of one device, shared by its control servers.
/// Thread-safe. See the [module docs](self).
#[derive(Debug, Default)]
pub struct AccessPrivilege {
    holder: Mutex<Holder>,
    next_host: AtomicU64,
}

impl AccessPrivilege {
    /// Nobody holds the privilege.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Holder> {
        // Two plain fields, always consistent.
        self.holder.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A new host identity, distinct from every one handed out before.
    pub fn new_host(&self) -> HostId {
        HostId(self.next_host.fetch_add(1, Ordering::Relaxed))
    }

    /// The host holding the privilege, if any.
    pub fn holder(&self) -> Option<HostId> {
        self.lock().host
    }

    /// What the register reads: the holder's value, 0 when free.
    pub fn value(&self) -> u32 {
        self.lock().value
    }

    /// `host` writes `value` to the register: claims (non-zero) or
    /// releases (zero) the privilege.
    pub fn write(&self, host: HostId, value: u32) -> Result<(), Status> {
        let mut h = self.lock();
        match h.host {
            Some(other) if other != host => Err(Status::ACCESS_DENIED),
            _ if value == 0 => {
                *h = Holder::default();
                Ok(())
            }
            _ => {
                *h = Holder {
                    host: Some(host),
                    value,
                };
                Ok(())
            }
        }
    }

    /// Whether `host` may write registers now: `ACCESS_DENIED` while
    /// another host holds the privilege.
    pub fn check_write(&self, host: HostId) -> Result<(), Status> {
        match self.lock().host {
            Some(other) if other != host => Err(Status::ACCESS_DENIED),
            _ => Ok(()),
        }
    }

    /// `host` is gone: the privilege is released if it held it.
    pub fn release(&self, host: HostId) {
        let mut h = self.lock();
        if h.host == Some(host) {
            *h = Holder::default();
        }
    }

    /// Releases the privilege whoever holds it (a device reset).
    pub fn reset(&self) {
        *self.lock() = Holder::default();
    }
}

/// How an access of `len` bytes at `address` meets the register.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Overlap {
    /// Not at all.
    None,
    /// Exactly the register.
    Exact,
    /// Part of it, or the register and more.
    Partial,
}

pub(crate) fn overlap(address: u64, len: usize) -> Overlap {
    let end = address.saturating_add(len as u64);
    let reg_end = REGISTER + REGISTER_LEN as u64;
    if end <= REGISTER || address >= reg_end {
        Overlap::None
    } else if address == REGISTER && len == REGISTER_LEN {
        Overlap::Exact
    } else {
        Overlap::Partial
    }
}

/// Copies the bytes of `value` (little-endian, as the register) that fall
/// in `buf`, which holds the `buf.len()` bytes read at `address`.
pub(crate) fn patch_read(address: u64, buf: &mut [u8], value: u32) {
    let bytes = value.to_le_bytes();
    for (i, b) in bytes.iter().enumerate() {
        let at = REGISTER + i as u64;
        if let Some(off) = at.checked_sub(address) {
            if let Some(slot) = usize::try_from(off).ok().and_then(|o| buf.get_mut(o)) {
                *slot = *b;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claim_release_and_deny() {
        let p = AccessPrivilege::new();
        let (a, b) = (p.new_host(), p.new_host());
        assert_ne!(a, b);
        assert_eq!(p.value(), 0);
        assert_eq!(p.check_write(b), Ok(()));
        assert_eq!(p.write(a, 0x3), Ok(()));
        assert_eq!((p.holder(), p.value()), (Some(a), 3));
        assert_eq!(p.check_write(b), Err(Status::ACCESS_DENIED));
        assert_eq!(p.write(b, 1), Err(Status::ACCESS_DENIED));
        assert_eq!(p.write(b, 0), Err(Status::ACCESS_DENIED));
        assert_eq!(p.write(a, 7), Ok(()));
        assert_eq!(p.value(), 7);
        p.release(b);
        assert_eq!(p.holder(), Some(a));
        p.release(a);
        assert_eq!((p.holder(), p.value()), (None, 0));
        assert_eq!(p.write(b, 1), Ok(()));
        assert_eq!(p.write(b, 0), Ok(()));
        assert_eq!(p.holder(), None);
        assert_eq!(p.write(a, 1), Ok(()));
        p.reset();
        assert_eq!(p.holder(), None);
    }

    #[test]
    fn overlap_and_patch() {
        assert_eq!(overlap(0x200, 4), Overlap::None);
        assert_eq!(overlap(0x208, 4), Overlap::None);
        assert_eq!(overlap(0x204, 4), Overlap::Exact);
        assert_eq!(overlap(0x204, 2), Overlap::Partial);
        assert_eq!(overlap(0x200, 8), Overlap::Partial);
        assert_eq!(overlap(0x207, 1), Overlap::Partial);
        assert_eq!(overlap(u64::MAX, 1), Overlap::None);

        let mut buf = [0xEEu8; 8];
        patch_read(0x202, &mut buf, 0x4433_2211);
        assert_eq!(buf, [0xEE, 0xEE, 0x11, 0x22, 0x33, 0x44, 0xEE, 0xEE]);
        let mut buf = [0u8; 2];
        patch_read(0x206, &mut buf, 0x4433_2211);
        assert_eq!(buf, [0x33, 0x44]);
        let mut buf = [0u8; 2];
        patch_read(0x100, &mut buf, 0x4433_2211);
        assert_eq!(buf, [0, 0]);
    }
}
