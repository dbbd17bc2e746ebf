//! The handle registry: every handle given to the consumer is a key into
//! this table, so that a stale, foreign or wrongly typed handle is
//! answered with `GC_ERR_INVALID_HANDLE` instead of being dereferenced.
//! Keys are never reused within a process.

use std::collections::BTreeMap;
use std::ffi::c_void;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::error::{GcError, GcResult};
use crate::event::EventQueue;
use crate::modules::{DeviceModule, InterfaceModule, SystemModule};
use crate::stream::StreamModule;

/// What a handle stands for.
#[derive(Clone)]
pub enum Object {
    /// A `TL_HANDLE`.
    System(Arc<SystemModule>),
    /// An `IF_HANDLE`.
    Interface(Arc<InterfaceModule>),
    /// A `DEV_HANDLE`.
    Device(Arc<DeviceModule>),
    /// The remote device's `PORT_HANDLE`.
    Remote(Arc<DeviceModule>),
    /// A `DS_HANDLE`.
    Stream(Arc<StreamModule>),
    /// A `BUFFER_HANDLE`: its stream.
    Buffer(Arc<StreamModule>),
    /// An `EVENT_HANDLE`.
    Event(Arc<EventQueue>),
}

struct Table {
    initialized: bool,
    next: usize,
    objects: BTreeMap<usize, Object>,
}

static TABLE: Mutex<Table> = Mutex::new(Table {
    initialized: false,
    next: 1,
    objects: BTreeMap::new(),
});

fn table() -> MutexGuard<'static, Table> {
    TABLE.lock().unwrap_or_else(|e| e.into_inner())
}

/// Marks the library initialised (`GCInitLib`); false when it already was.
pub fn init() -> bool {
    let mut t = table();
    !std::mem::replace(&mut t.initialized, true)
}

/// Marks the library closed and hands back every object still open.
pub fn deinit() -> Option<Vec<(usize, Object)>> {
    let mut t = table();
    if !t.initialized {
        return None;
    }
    t.initialized = false;
    Some(std::mem::take(&mut t.objects).into_iter().collect())
}

/// Fails unless `GCInitLib` was called.
pub fn check_init() -> GcResult<()> {
    if table().initialized {
        Ok(())
    } else {
        Err(GcError::NotInitialized)
    }
}

/// Registers `object` and returns its new handle.
pub fn insert(object: Object) -> GcResult<usize> {
    let mut t = table();
    if !t.initialized {
        return Err(GcError::NotInitialized);
    }
    // Keys are multiples of 16 so they look like aligned pointers and are
    // never NULL.
    let key = t
        .next
        .checked_mul(16)
        .ok_or_else(|| GcError::ResourceExhausted("no more handles".into()))?;
    t.next += 1;
    t.objects.insert(key, object);
    Ok(key)
}

/// The object behind `handle`.
pub fn get(handle: *mut c_void) -> GcResult<Object> {
    let t = table();
    if !t.initialized {
        return Err(GcError::NotInitialized);
    }
    t.objects
        .get(&(handle as usize))
        .cloned()
        .ok_or(GcError::InvalidHandle)
}

/// Removes `handle` and returns what it stood for.
pub fn remove(handle: usize) -> Option<Object> {
    table().objects.remove(&handle)
}

/// Whether `handle` is registered.
pub fn contains(handle: usize) -> bool {
    table().objects.contains_key(&handle)
}

/// The first handle whose object satisfies `f`.
pub fn find(f: impl Fn(&Object) -> bool) -> Option<usize> {
    // Copied out first: `f` may look handles up itself.
    let objects: Vec<(usize, Object)> = table()
        .objects
        .iter()
        .map(|(k, o)| (*k, o.clone()))
        .collect();
    objects.into_iter().find(|(_, o)| f(o)).map(|(k, _)| k)
}
