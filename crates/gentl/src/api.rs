//! The GenTL C API. Every function catches panics, checks its pointers
//! and handles, records the error text for `GCGetLastError`, and returns
//! a `GC_ERROR` code.

#![allow(non_snake_case)]
#![allow(clippy::missing_safety_doc)]

use std::ffi::{c_char, c_void, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use crate::abi::*;
use crate::error::{last_error, set_last_error, GcError, GcResult};
use crate::info::{write_bytes, write_info, InfoValue};
use crate::local_port::{ModuleFeatures, PortDescription};
use crate::modules::{
    close_handle, shut_down, DeviceModule, InterfaceModule, SystemModule, TL_TYPE, VERSION,
};
use crate::registry::{self, Object};
use crate::stream::{new_buffer_handle, StreamModule};

/// Runs `f` at the C boundary: no unwinding, the error code returned and
/// its text kept for `GCGetLastError`.
fn boundary(f: impl FnOnce() -> GcResult<()>) -> GcErrorCode {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => GC_ERR_SUCCESS,
        Ok(Err(e)) => {
            let code = e.code();
            set_last_error(code, e.to_string());
            code
        }
        Err(_) => {
            set_last_error(GC_ERR_ERROR, "internal error in the producer".into());
            GC_ERR_ERROR
        }
    }
}

/// Writes `value` to an out-pointer.
///
/// # Safety
/// `p`, when not NULL, must be valid for a write of `T`.
unsafe fn put<T>(p: *mut T, what: &str, value: T) -> GcResult<()> {
    if p.is_null() {
        return Err(GcError::null(what));
    }
    // SAFETY: not NULL and writable (caller's contract); unaligned allowed.
    unsafe { p.write_unaligned(value) };
    Ok(())
}

/// A NUL-terminated string argument.
///
/// # Safety
/// `p`, when not NULL, must point to a NUL-terminated string.
unsafe fn text(p: *const c_char, what: &str) -> GcResult<String> {
    if p.is_null() {
        return Err(GcError::null(what));
    }
    // SAFETY: not NULL and NUL-terminated (caller's contract).
    let s = unsafe { CStr::from_ptr(p) };
    Ok(s.to_string_lossy().into_owned())
}

fn handle_key(h: *mut c_void) -> usize {
    h as usize
}

fn system(h: *mut c_void) -> GcResult<Arc<SystemModule>> {
    match registry::get(h)? {
        Object::System(s) => Ok(s),
        _ => Err(GcError::InvalidHandle),
    }
}

fn interface(h: *mut c_void) -> GcResult<Arc<InterfaceModule>> {
    match registry::get(h)? {
        Object::Interface(i) => Ok(i),
        _ => Err(GcError::InvalidHandle),
    }
}

fn device(h: *mut c_void) -> GcResult<Arc<DeviceModule>> {
    match registry::get(h)? {
        Object::Device(d) => Ok(d),
        _ => Err(GcError::InvalidHandle),
    }
}

fn stream(h: *mut c_void) -> GcResult<Arc<StreamModule>> {
    match registry::get(h)? {
        Object::Stream(s) => Ok(s),
        _ => Err(GcError::InvalidHandle),
    }
}

/// A buffer handle that belongs to `ds`.
fn buffer_of(ds: &Arc<StreamModule>, h: *mut c_void) -> GcResult<usize> {
    match registry::get(h)? {
        Object::Buffer(owner) if Arc::ptr_eq(&owner, ds) => Ok(handle_key(h)),
        Object::Buffer(_) => Err(GcError::InvalidBuffer(
            "the buffer belongs to another stream".into(),
        )),
        _ => Err(GcError::InvalidHandle),
    }
}

/// What a port handle reaches.
enum PortTarget {
    Local(
        &'static PortDescription,
        Box<dyn ModuleFeatures>,
        &'static str,
    ),
    Remote(Arc<DeviceModule>),
}

struct Shared<T: ModuleFeatures>(Arc<T>);
impl<T: ModuleFeatures> ModuleFeatures for Shared<T> {
    fn feature(&self, name: &str) -> crate::local_port::FeatureValue {
        self.0.feature(name)
    }
    fn set_feature(&self, name: &str, value: i64) -> GcResult<()> {
        self.0.set_feature(name, value)
    }
}

fn port(h: *mut c_void) -> GcResult<PortTarget> {
    Ok(match registry::get(h)? {
        Object::System(s) => PortTarget::Local(s.port(), Box::new(Shared(s)), "TLSystem"),
        Object::Interface(i) => PortTarget::Local(i.port(), Box::new(Shared(i)), "TLInterface"),
        Object::Device(d) => PortTarget::Local(d.port(), Box::new(Shared(d)), "TLDevice"),
        Object::Stream(s) => PortTarget::Local(s.port(), Box::new(Shared(s)), "TLDataStream"),
        Object::Buffer(s) => {
            let features = s.buffer_features(handle_key(h));
            PortTarget::Local(s.buffer_port(), Box::new(features), "TLBuffer")
        }
        Object::Remote(d) => PortTarget::Remote(d),
        Object::Event(_) => return Err(GcError::InvalidHandle),
    })
}

/// The module core of an event source handle.
fn with_core<R>(
    h: *mut c_void,
    f: impl FnOnce(&crate::modules::ModuleCore) -> GcResult<R>,
) -> GcResult<R> {
    match registry::get(h)? {
        Object::System(s) => f(&s.core),
        Object::Interface(i) => f(&i.core),
        Object::Device(d) => f(&d.core),
        Object::Stream(s) => f(&s.core),
        Object::Remote(_) | Object::Buffer(_) | Object::Event(_) => {
            Err(GcError::NotImplemented("events on this handle".into()))
        }
    }
}

fn library_path() -> Option<String> {
    let maps = std::fs::read_to_string("/proc/self/maps").ok()?;
    maps.lines()
        .filter_map(|l| l.split_whitespace().nth(5))
        .find(|p| p.ends_with("mvcam.cti") || p.contains("libmvcam_gentl"))
        .map(str::to_string)
}

fn tl_info(cmd: i32) -> GcResult<InfoValue> {
    Ok(match cmd {
        TL_INFO_ID => InfoValue::String("mvcam".into()),
        TL_INFO_VENDOR => InfoValue::String("mvcam".into()),
        TL_INFO_MODEL => InfoValue::String("mvcam GenTL producer".into()),
        TL_INFO_VERSION => InfoValue::String(VERSION.into()),
        TL_INFO_TLTYPE => InfoValue::String(TL_TYPE.into()),
        TL_INFO_NAME => InfoValue::String("mvcam.cti".into()),
        TL_INFO_PATHNAME => InfoValue::String(library_path().unwrap_or_else(|| "mvcam.cti".into())),
        TL_INFO_DISPLAYNAME => InfoValue::String("mvcam GenTL producer (U3V)".into()),
        TL_INFO_CHAR_ENCODING => InfoValue::I32(0),
        TL_INFO_GENTL_VER_MAJOR => InfoValue::U32(1),
        TL_INFO_GENTL_VER_MINOR => InfoValue::U32(6),
        other => {
            return Err(GcError::InvalidParameter(format!(
                "TL info command {other}"
            )))
        }
    })
}

fn interface_info(id: &str, cmd: i32) -> GcResult<InfoValue> {
    Ok(match cmd {
        INTERFACE_INFO_ID => InfoValue::String(id.into()),
        INTERFACE_INFO_DISPLAYNAME => {
            InfoValue::String("mvcam cameras (virtual, USB/IP, USB)".into())
        }
        INTERFACE_INFO_TLTYPE => InfoValue::String(TL_TYPE.into()),
        other => {
            return Err(GcError::InvalidParameter(format!(
                "interface info command {other}"
            )))
        }
    })
}

fn device_info(info: &mvcam::DeviceInfo, access: i32, cmd: i32) -> GcResult<InfoValue> {
    Ok(match cmd {
        DEVICE_INFO_ID => InfoValue::String(crate::modules::device_id(info)),
        DEVICE_INFO_VENDOR => InfoValue::String(info.vendor.clone()),
        DEVICE_INFO_MODEL => InfoValue::String(info.model.clone()),
        DEVICE_INFO_TLTYPE => InfoValue::String(TL_TYPE.into()),
        DEVICE_INFO_DISPLAYNAME => {
            InfoValue::String(format!("{} {} ({})", info.vendor, info.model, info.serial))
        }
        DEVICE_INFO_ACCESS_STATUS => InfoValue::I32(access),
        DEVICE_INFO_USER_DEFINED_NAME => InfoValue::String(info.user_id.clone()),
        DEVICE_INFO_SERIAL_NUMBER => InfoValue::String(info.serial.clone()),
        DEVICE_INFO_VERSION => InfoValue::String(VERSION.into()),
        DEVICE_INFO_TIMESTAMP_FREQUENCY => InfoValue::U64(1_000_000_000),
        other => {
            return Err(GcError::InvalidParameter(format!(
                "device info command {other}"
            )))
        }
    })
}

/// Copies `bytes` into a `(buffer, size)` pair where the answer is a
/// string id.
unsafe fn put_string(s: &str, buffer: *mut c_char, size: *mut usize) -> GcResult<()> {
    // SAFETY: forwarded contract of the exported function.
    unsafe { write_bytes(&InfoValue::String(s.into()).to_bytes(), buffer.cast(), size) }
}

// ------------------------------------------------------------ library

/// `GCInitLib`.
#[no_mangle]
pub extern "C" fn GCInitLib() -> GcErrorCode {
    boundary(|| {
        if registry::init() {
            Ok(())
        } else {
            Err(GcError::ResourceInUse(
                "GCInitLib was already called".into(),
            ))
        }
    })
}

/// `GCCloseLib`: closes everything still open.
#[no_mangle]
pub extern "C" fn GCCloseLib() -> GcErrorCode {
    boundary(|| {
        let objects = registry::deinit().ok_or(GcError::NotInitialized)?;
        for (_, o) in objects {
            shut_down(o);
        }
        Ok(())
    })
}

/// `GCGetInfo`.
#[no_mangle]
pub unsafe extern "C" fn GCGetInfo(
    cmd: i32,
    data_type: *mut i32,
    buffer: *mut c_void,
    size: *mut usize,
) -> GcErrorCode {
    // SAFETY: the pointers are the caller's, checked in write_info.
    boundary(|| unsafe { write_info(&tl_info(cmd)?, data_type, buffer, size) })
}

/// `GCGetLastError`: this thread's last error code and text.
#[no_mangle]
pub unsafe extern "C" fn GCGetLastError(
    code: *mut GcErrorCode,
    text: *mut c_char,
    size: *mut usize,
) -> GcErrorCode {
    let (last_code, last_text) = last_error();
    let r = catch_unwind(AssertUnwindSafe(|| -> GcResult<()> {
        // SAFETY: caller's pointers, checked for NULL.
        unsafe {
            put(code, "piErrorCode", last_code)?;
            put_string(&last_text, text, size)
        }
    }));
    match r {
        Ok(Ok(())) => GC_ERR_SUCCESS,
        Ok(Err(e)) => e.code(),
        Err(_) => GC_ERR_ERROR,
    }
}

// -------------------------------------------------------------- ports

/// `GCReadPort`.
#[no_mangle]
pub unsafe extern "C" fn GCReadPort(
    h: *mut c_void,
    address: u64,
    buffer: *mut c_void,
    size: *mut usize,
) -> GcErrorCode {
    boundary(|| {
        let read = |len| {
            // SAFETY: the caller gives `len` writable bytes at `buffer`
            // (not NULL: checked in port_access first).
            let buf = unsafe { std::slice::from_raw_parts_mut(buffer.cast::<u8>(), len) };
            match port(h)? {
                PortTarget::Local(desc, m, _) => desc.read(m.as_ref(), address, buf),
                PortTarget::Remote(d) => d.remote_read(address, buf),
            }
        };
        // SAFETY: the caller's size pointer, checked in port_access.
        unsafe { port_access(buffer.is_null(), size, read) }
    })
}

/// `GCWritePort`.
#[no_mangle]
pub unsafe extern "C" fn GCWritePort(
    h: *mut c_void,
    address: u64,
    buffer: *const c_void,
    size: *mut usize,
) -> GcErrorCode {
    boundary(|| {
        let write = |len| {
            // SAFETY: the caller gives `len` readable bytes at `buffer`
            // (not NULL: checked in port_access first).
            let data = unsafe { std::slice::from_raw_parts(buffer.cast::<u8>(), len) };
            match port(h)? {
                PortTarget::Local(desc, m, _) => desc.write(m.as_ref(), address, data),
                PortTarget::Remote(d) => d.remote_write(address, data),
            }
        };
        // SAFETY: the caller's size pointer, checked in port_access.
        unsafe { port_access(buffer.is_null(), size, write) }
    })
}

/// What `GCReadPort` and `GCWritePort` share: the buffer and size
/// pointers are checked, `access` gets the length `*size` gives, and a
/// failed access reports 0 bytes done.
///
/// # Safety
/// `size`, when not NULL, must be valid for a read and a write of a
/// `usize`.
unsafe fn port_access(
    buffer_is_null: bool,
    size: *mut usize,
    access: impl FnOnce(usize) -> GcResult<()>,
) -> GcResult<()> {
    if buffer_is_null {
        return Err(GcError::null("pBuffer"));
    }
    if size.is_null() {
        return Err(GcError::null("piSize"));
    }
    // SAFETY: not NULL (checked); the caller's contract.
    let len = unsafe { size.read_unaligned() };
    let r = access(len);
    if r.is_err() {
        // SAFETY: as above.
        unsafe { size.write_unaligned(0) };
    }
    r
}

unsafe fn stacked(
    h: *mut c_void,
    entries: *mut PortRegisterStackEntry,
    count: *mut usize,
    write: bool,
) -> GcResult<()> {
    if entries.is_null() {
        return Err(GcError::null("pEntries"));
    }
    if count.is_null() {
        return Err(GcError::null("piNumEntries"));
    }
    // SAFETY: not NULL (checked).
    let n = unsafe { count.read_unaligned() };
    for i in 0..n {
        // SAFETY: the caller gives `n` entries.
        let e = unsafe { entries.add(i).read_unaligned() };
        let mut len = e.size;
        // SAFETY: the entry's buffer holds `size` bytes (caller's contract).
        let code = unsafe {
            if write {
                GCWritePort(h, e.address, e.buffer, &mut len)
            } else {
                GCReadPort(h, e.address, e.buffer, &mut len)
            }
        };
        if code != GC_ERR_SUCCESS {
            // SAFETY: not NULL (checked).
            unsafe { count.write_unaligned(i) };
            let (_, text) = last_error();
            return Err(match code {
                GC_ERR_INVALID_HANDLE => GcError::InvalidHandle,
                GC_ERR_INVALID_ADDRESS => GcError::InvalidAddress(e.address),
                GC_ERR_ACCESS_DENIED => GcError::AccessDenied(text),
                _ => GcError::Io(text),
            });
        }
    }
    Ok(())
}

/// `GCReadPortStacked`.
#[no_mangle]
pub unsafe extern "C" fn GCReadPortStacked(
    h: *mut c_void,
    entries: *mut PortRegisterStackEntry,
    count: *mut usize,
) -> GcErrorCode {
    // SAFETY: forwarded caller's pointers.
    boundary(|| unsafe { stacked(h, entries, count, false) })
}

/// `GCWritePortStacked`.
#[no_mangle]
pub unsafe extern "C" fn GCWritePortStacked(
    h: *mut c_void,
    entries: *mut PortRegisterStackEntry,
    count: *mut usize,
) -> GcErrorCode {
    // SAFETY: forwarded caller's pointers.
    boundary(|| unsafe { stacked(h, entries, count, true) })
}

fn port_url(h: *mut c_void) -> GcResult<String> {
    Ok(match port(h)? {
        PortTarget::Local(desc, _, _) => desc.url(),
        PortTarget::Remote(d) => d.remote_file()?.url,
    })
}

/// `GCGetPortURL` (GenTL 1.0).
#[no_mangle]
pub unsafe extern "C" fn GCGetPortURL(
    h: *mut c_void,
    url: *mut c_char,
    size: *mut usize,
) -> GcErrorCode {
    // SAFETY: caller's pointers, checked in put_string.
    boundary(|| unsafe { put_string(&port_url(h)?, url, size) })
}

/// `GCGetNumPortURLs`.
#[no_mangle]
pub unsafe extern "C" fn GCGetNumPortURLs(h: *mut c_void, count: *mut u32) -> GcErrorCode {
    boundary(|| {
        port_url(h)?;
        // SAFETY: checked for NULL.
        unsafe { put(count, "piNumURLs", 1u32) }
    })
}

/// `GCGetPortURLInfo`.
#[no_mangle]
pub unsafe extern "C" fn GCGetPortURLInfo(
    h: *mut c_void,
    index: u32,
    cmd: i32,
    data_type: *mut i32,
    buffer: *mut c_void,
    size: *mut usize,
) -> GcErrorCode {
    boundary(|| {
        if index != 0 {
            return Err(GcError::InvalidIndex(u64::from(index)));
        }
        let v = match port(h)? {
            PortTarget::Local(desc, _, _) => match cmd {
                URL_INFO_URL => InfoValue::String(desc.url()),
                URL_INFO_SCHEMA_VER_MAJOR => InfoValue::I32(1),
                URL_INFO_SCHEMA_VER_MINOR => InfoValue::I32(1),
                URL_INFO_FILE_VER_MAJOR => InfoValue::I32(1),
                URL_INFO_FILE_VER_MINOR | URL_INFO_FILE_VER_SUBMINOR => InfoValue::I32(0),
                URL_INFO_FILE_REGISTER_ADDRESS => InfoValue::U64(crate::local_port::XML_ADDRESS),
                URL_INFO_FILE_SIZE => InfoValue::U64(desc.xml().len() as u64),
                URL_INFO_SCHEME => InfoValue::I32(URL_SCHEME_LOCAL),
                URL_INFO_FILE_SHA1_HASH => {
                    return Err(GcError::NotAvailable("no SHA-1 for local files".into()))
                }
                other => {
                    return Err(GcError::InvalidParameter(format!(
                        "URL info command {other}"
                    )))
                }
            },
            PortTarget::Remote(d) => {
                let f = d.remote_file()?;
                match cmd {
                    URL_INFO_URL => InfoValue::String(f.url),
                    URL_INFO_SCHEMA_VER_MAJOR => InfoValue::I32(i32::from(f.schema.0)),
                    URL_INFO_SCHEMA_VER_MINOR => InfoValue::I32(i32::from(f.schema.1)),
                    URL_INFO_FILE_VER_MAJOR => InfoValue::I32(i32::from(f.version.0)),
                    URL_INFO_FILE_VER_MINOR => InfoValue::I32(i32::from(f.version.1)),
                    URL_INFO_FILE_VER_SUBMINOR => InfoValue::I32(i32::from(f.version.2)),
                    URL_INFO_FILE_REGISTER_ADDRESS => InfoValue::U64(f.address),
                    URL_INFO_FILE_SIZE => InfoValue::U64(f.size),
                    URL_INFO_SCHEME => InfoValue::I32(URL_SCHEME_LOCAL),
                    URL_INFO_FILE_SHA1_HASH => InfoValue::Buffer(
                        f.sha1
                            .ok_or_else(|| {
                                GcError::NotAvailable("the device gives no SHA-1".into())
                            })?
                            .to_vec(),
                    ),
                    other => {
                        return Err(GcError::InvalidParameter(format!(
                            "URL info command {other}"
                        )))
                    }
                }
            }
        };
        // SAFETY: caller's pointers, checked in write_info.
        unsafe { write_info(&v, data_type, buffer, size) }
    })
}

/// `GCGetPortInfo`.
#[no_mangle]
pub unsafe extern "C" fn GCGetPortInfo(
    h: *mut c_void,
    cmd: i32,
    data_type: *mut i32,
    buffer: *mut c_void,
    size: *mut usize,
) -> GcErrorCode {
    boundary(|| {
        let (name, module, id, writable) = match port(h)? {
            PortTarget::Local(desc, _, module) => (
                desc.port_name.to_string(),
                module,
                desc.model.to_string(),
                true,
            ),
            PortTarget::Remote(d) => ("Device".to_string(), "Device", d.id.clone(), !d.read_only),
        };
        let v = match cmd {
            PORT_INFO_ID => InfoValue::String(id),
            PORT_INFO_VENDOR => InfoValue::String("mvcam".into()),
            PORT_INFO_MODEL => InfoValue::String("mvcam GenTL producer".into()),
            PORT_INFO_TLTYPE => InfoValue::String(TL_TYPE.into()),
            PORT_INFO_MODULE => InfoValue::String(module.into()),
            PORT_INFO_LITTLE_ENDIAN => InfoValue::Bool(true),
            PORT_INFO_BIG_ENDIAN => InfoValue::Bool(false),
            PORT_INFO_ACCESS_READ => InfoValue::Bool(true),
            PORT_INFO_ACCESS_WRITE => InfoValue::Bool(writable),
            PORT_INFO_ACCESS_NA | PORT_INFO_ACCESS_NI => InfoValue::Bool(false),
            PORT_INFO_VERSION => InfoValue::String(VERSION.into()),
            PORT_INFO_PORTNAME => InfoValue::String(name),
            other => {
                return Err(GcError::InvalidParameter(format!(
                    "port info command {other}"
                )))
            }
        };
        // SAFETY: caller's pointers, checked in write_info.
        unsafe { write_info(&v, data_type, buffer, size) }
    })
}

// ------------------------------------------------------------- events

/// `GCRegisterEvent`: NEW_BUFFER on a data stream; ERROR and MODULE on
/// any module; REMOTE_DEVICE on a device.
#[no_mangle]
pub unsafe extern "C" fn GCRegisterEvent(
    h: *mut c_void,
    event_type: i32,
    event: *mut *mut c_void,
) -> GcErrorCode {
    boundary(|| {
        if event.is_null() {
            return Err(GcError::null("phEvent"));
        }
        let allowed = match registry::get(h)? {
            Object::Stream(_) => {
                matches!(event_type, EVENT_NEW_BUFFER | EVENT_ERROR | EVENT_MODULE)
            }
            Object::Device(_) => {
                matches!(event_type, EVENT_REMOTE_DEVICE | EVENT_ERROR | EVENT_MODULE)
            }
            _ => matches!(event_type, EVENT_ERROR | EVENT_MODULE),
        };
        if !allowed {
            return Err(GcError::NotImplemented(format!(
                "event type {event_type} on this module"
            )));
        }
        let handle = with_core(h, |core| core.register_event(event_type))?;
        if let (Object::Device(d), EVENT_REMOTE_DEVICE) = (registry::get(h)?, event_type) {
            let forwarded = d
                .core
                .event(EVENT_REMOTE_DEVICE)
                .ok_or_else(|| GcError::NotAvailable("the event was unregistered".into()))
                .and_then(|q| d.forward_remote_events(q));
            if let Err(e) = forwarded {
                let _ = d.core.unregister_event(EVENT_REMOTE_DEVICE);
                return Err(e);
            }
        }
        // SAFETY: checked for NULL.
        unsafe { put(event, "phEvent", handle as *mut c_void) }
    })
}

/// `GCUnregisterEvent`.
#[no_mangle]
pub extern "C" fn GCUnregisterEvent(h: *mut c_void, event_type: i32) -> GcErrorCode {
    boundary(|| with_core(h, |core| core.unregister_event(event_type)))
}

fn event(h: *mut c_void) -> GcResult<Arc<crate::event::EventQueue>> {
    match registry::get(h)? {
        Object::Event(q) => Ok(q),
        _ => Err(GcError::InvalidHandle),
    }
}

/// The data stream a NEW_BUFFER event's buffer belongs to.
fn buffer_stream(buffer: usize) -> Option<Arc<StreamModule>> {
    match registry::get(buffer as *mut c_void) {
        Ok(Object::Buffer(s)) => Some(s),
        _ => None,
    }
}

/// `EventGetData`: waits up to `timeout` ms (`GENTL_INFINITE` for ever).
#[no_mangle]
pub unsafe extern "C" fn EventGetData(
    h: *mut c_void,
    buffer: *mut c_void,
    size: *mut usize,
    timeout: u64,
) -> GcErrorCode {
    boundary(|| {
        let q = event(h)?;
        if buffer.is_null() || size.is_null() {
            return Err(GcError::null("pBuffer or piSize"));
        }
        // SAFETY: checked for NULL.
        let capacity = unsafe { size.read_unaligned() };
        let needed = if q.event_type() == EVENT_NEW_BUFFER {
            std::mem::size_of::<EventNewBufferData>()
        } else {
            q.peek().map_or(0, |d| d.len())
        };
        if capacity < needed {
            // SAFETY: checked for NULL.
            unsafe { size.write_unaligned(needed) };
            return Err(GcError::BufferTooSmall { needed });
        }
        let data = q.pop(timeout)?;
        if q.event_type() == EVENT_NEW_BUFFER {
            if let Some(s) = new_buffer_handle(&data).and_then(|b| buffer_stream(b).map(|s| (b, s)))
            {
                s.1.mark_delivered(s.0);
            }
        }
        // SAFETY: caller's buffer of `capacity >= data.len()` bytes
        // (needed was computed for this event type).
        unsafe { write_bytes(&data, buffer, size) }
    })
}

/// `EventGetDataInfo`: the id of an event's data (NEW_BUFFER: the buffer
/// handle).
#[no_mangle]
pub unsafe extern "C" fn EventGetDataInfo(
    h: *mut c_void,
    in_buffer: *const c_void,
    in_size: usize,
    cmd: i32,
    data_type: *mut i32,
    out: *mut c_void,
    out_size: *mut usize,
) -> GcErrorCode {
    boundary(|| {
        let q = event(h)?;
        if in_buffer.is_null() {
            return Err(GcError::null("pInBuffer"));
        }
        // SAFETY: the caller gives `in_size` readable bytes.
        let data = unsafe { std::slice::from_raw_parts(in_buffer.cast::<u8>(), in_size) };
        let v = match (q.event_type(), cmd) {
            (EVENT_NEW_BUFFER, EVENT_DATA_ID | EVENT_DATA_NUMID) => InfoValue::Ptr(
                new_buffer_handle(data)
                    .ok_or_else(|| GcError::InvalidParameter("event data too short".into()))?,
            ),
            (EVENT_NEW_BUFFER, EVENT_DATA_VALUE) => {
                let n = std::mem::size_of::<usize>();
                let user = data
                    .get(n..2 * n)
                    .and_then(|b| b.try_into().ok())
                    .map(usize::from_ne_bytes)
                    .ok_or_else(|| GcError::InvalidParameter("event data too short".into()))?;
                InfoValue::Ptr(user)
            }
            // A camera event: its id as GenApi writes an `<EventID>` (hex),
            // as a number, and its data without the event header.
            (EVENT_REMOTE_DEVICE, EVENT_DATA_ID | EVENT_DATA_NUMID | EVENT_DATA_VALUE) => {
                let packet = u3v::event::decode(data).map_err(|e| {
                    GcError::InvalidParameter(format!("not a USB3 Vision event message: {e}"))
                })?;
                let e = packet.events().next().ok_or_else(|| {
                    GcError::InvalidParameter("an event message without an event".into())
                })?;
                match cmd {
                    EVENT_DATA_ID => InfoValue::String(format!("{:04X}", e.event_id)),
                    EVENT_DATA_NUMID => InfoValue::U64(u64::from(e.event_id)),
                    _ => InfoValue::Buffer(e.data.to_vec()),
                }
            }
            (_, EVENT_DATA_VALUE) => InfoValue::Buffer(data.to_vec()),
            (t, c) => {
                return Err(GcError::NotAvailable(format!(
                    "data info {c} of event type {t}"
                )))
            }
        };
        // SAFETY: caller's pointers, checked in write_info.
        unsafe { write_info(&v, data_type, out, out_size) }
    })
}

/// `EventGetInfo`.
#[no_mangle]
pub unsafe extern "C" fn EventGetInfo(
    h: *mut c_void,
    cmd: i32,
    data_type: *mut i32,
    buffer: *mut c_void,
    size: *mut usize,
) -> GcErrorCode {
    boundary(|| {
        let q = event(h)?;
        let data_max = if q.event_type() == EVENT_NEW_BUFFER {
            std::mem::size_of::<EventNewBufferData>()
        } else {
            1024
        };
        let v = match cmd {
            EVENT_EVENT_TYPE => InfoValue::I32(q.event_type()),
            EVENT_NUM_IN_QUEUE => InfoValue::SizeT(q.waiting()),
            EVENT_NUM_FIRED => InfoValue::U64(q.fired()),
            EVENT_SIZE_MAX | EVENT_INFO_DATA_SIZE_MAX => InfoValue::SizeT(data_max),
            other => {
                return Err(GcError::InvalidParameter(format!(
                    "event info command {other}"
                )))
            }
        };
        // SAFETY: caller's pointers, checked in write_info.
        unsafe { write_info(&v, data_type, buffer, size) }
    })
}

/// `EventFlush`.
#[no_mangle]
pub extern "C" fn EventFlush(h: *mut c_void) -> GcErrorCode {
    boundary(|| {
        event(h)?.flush();
        Ok(())
    })
}

/// `EventKill`: the waiting (or next) `EventGetData` returns
/// `GC_ERR_ABORT`.
#[no_mangle]
pub extern "C" fn EventKill(h: *mut c_void) -> GcErrorCode {
    boundary(|| {
        event(h)?.kill();
        Ok(())
    })
}

// ------------------------------------------------------------- system

/// `TLOpen`.
#[no_mangle]
pub unsafe extern "C" fn TLOpen(out: *mut *mut c_void) -> GcErrorCode {
    boundary(|| {
        registry::check_init()?;
        if out.is_null() {
            return Err(GcError::null("phTL"));
        }
        static OPEN: std::sync::Mutex<usize> = std::sync::Mutex::new(0);
        let mut open = OPEN.lock().unwrap_or_else(|e| e.into_inner());
        if *open != 0 && registry::contains(*open) {
            return Err(GcError::ResourceInUse(
                "the system module is already open".into(),
            ));
        }
        let s = Arc::new(SystemModule::open()?);
        let handle = registry::insert(Object::System(s))?;
        *open = handle;
        // SAFETY: checked for NULL.
        unsafe { put(out, "phTL", handle as *mut c_void) }
    })
}

/// `TLClose`: closes the system and everything opened under it.
#[no_mangle]
pub extern "C" fn TLClose(h: *mut c_void) -> GcErrorCode {
    boundary(|| {
        system(h)?;
        close_handle(handle_key(h));
        Ok(())
    })
}

/// `TLGetInfo`.
#[no_mangle]
pub unsafe extern "C" fn TLGetInfo(
    h: *mut c_void,
    cmd: i32,
    data_type: *mut i32,
    buffer: *mut c_void,
    size: *mut usize,
) -> GcErrorCode {
    boundary(|| {
        system(h)?;
        // SAFETY: caller's pointers, checked in write_info.
        unsafe { write_info(&tl_info(cmd)?, data_type, buffer, size) }
    })
}

/// `TLGetNumInterfaces`.
#[no_mangle]
pub unsafe extern "C" fn TLGetNumInterfaces(h: *mut c_void, count: *mut u32) -> GcErrorCode {
    boundary(|| {
        let n = system(h)?.interfaces().len() as u32;
        // SAFETY: checked for NULL.
        unsafe { put(count, "piNumIfaces", n) }
    })
}

/// `TLGetInterfaceID`.
#[no_mangle]
pub unsafe extern "C" fn TLGetInterfaceID(
    h: *mut c_void,
    index: u32,
    id: *mut c_char,
    size: *mut usize,
) -> GcErrorCode {
    boundary(|| {
        let s = system(h)?;
        let ids = s.interfaces();
        let name = ids
            .get(index as usize)
            .ok_or(GcError::InvalidIndex(u64::from(index)))?;
        // SAFETY: caller's pointers, checked in put_string.
        unsafe { put_string(name, id, size) }
    })
}

/// `TLGetInterfaceInfo`.
#[no_mangle]
pub unsafe extern "C" fn TLGetInterfaceInfo(
    h: *mut c_void,
    id: *const c_char,
    cmd: i32,
    data_type: *mut i32,
    buffer: *mut c_void,
    size: *mut usize,
) -> GcErrorCode {
    boundary(|| {
        let s = system(h)?;
        // SAFETY: caller's string.
        let id = unsafe { text(id, "sIfaceID") }?;
        if !s.interfaces().contains(&id.as_str()) {
            return Err(GcError::InvalidId(id));
        }
        // SAFETY: caller's pointers, checked in write_info.
        unsafe { write_info(&interface_info(&id, cmd)?, data_type, buffer, size) }
    })
}

/// `TLOpenInterface`.
#[no_mangle]
pub unsafe extern "C" fn TLOpenInterface(
    h: *mut c_void,
    id: *const c_char,
    out: *mut *mut c_void,
) -> GcErrorCode {
    boundary(|| {
        let s = system(h)?;
        // SAFETY: caller's string.
        let id = unsafe { text(id, "sIfaceID") }?;
        if out.is_null() {
            return Err(GcError::null("phIface"));
        }
        let i = Arc::new(InterfaceModule::open(s.clone(), &id)?);
        let handle = match registry::insert(Object::Interface(i.clone())) {
            Ok(h) => h,
            Err(e) => {
                shut_down(Object::Interface(i));
                return Err(e);
            }
        };
        s.core.adopt(handle);
        // SAFETY: checked for NULL.
        unsafe { put(out, "phIface", handle as *mut c_void) }
    })
}

/// `TLUpdateInterfaceList`: the interface list never changes.
#[no_mangle]
pub unsafe extern "C" fn TLUpdateInterfaceList(
    h: *mut c_void,
    changed: *mut u8,
    _timeout: u64,
) -> GcErrorCode {
    boundary(|| {
        system(h)?;
        if !changed.is_null() {
            // SAFETY: not NULL.
            unsafe { changed.write(0) };
        }
        Ok(())
    })
}

// ---------------------------------------------------------- interface

/// `IFClose`.
#[no_mangle]
pub extern "C" fn IFClose(h: *mut c_void) -> GcErrorCode {
    boundary(|| {
        interface(h)?;
        close_handle(handle_key(h));
        Ok(())
    })
}

/// `IFGetInfo`.
#[no_mangle]
pub unsafe extern "C" fn IFGetInfo(
    h: *mut c_void,
    cmd: i32,
    data_type: *mut i32,
    buffer: *mut c_void,
    size: *mut usize,
) -> GcErrorCode {
    boundary(|| {
        let i = interface(h)?;
        // SAFETY: caller's pointers, checked in write_info.
        unsafe { write_info(&interface_info(&i.id, cmd)?, data_type, buffer, size) }
    })
}

/// `IFGetNumDevices`.
#[no_mangle]
pub unsafe extern "C" fn IFGetNumDevices(h: *mut c_void, count: *mut u32) -> GcErrorCode {
    boundary(|| {
        let n = u32::try_from(interface(h)?.device_ids().len()).unwrap_or(u32::MAX);
        // SAFETY: checked for NULL.
        unsafe { put(count, "piNumDevices", n) }
    })
}

/// `IFGetDeviceID`.
#[no_mangle]
pub unsafe extern "C" fn IFGetDeviceID(
    h: *mut c_void,
    index: u32,
    id: *mut c_char,
    size: *mut usize,
) -> GcErrorCode {
    boundary(|| {
        let ids = interface(h)?.device_ids();
        let name = ids
            .get(index as usize)
            .ok_or(GcError::InvalidIndex(u64::from(index)))?;
        // SAFETY: caller's pointers, checked in put_string.
        unsafe { put_string(name, id, size) }
    })
}

/// `IFUpdateDeviceList`.
#[no_mangle]
pub unsafe extern "C" fn IFUpdateDeviceList(
    h: *mut c_void,
    changed: *mut u8,
    _timeout: u64,
) -> GcErrorCode {
    boundary(|| {
        let c = interface(h)?.update();
        if !changed.is_null() {
            // SAFETY: not NULL.
            unsafe { changed.write(u8::from(c)) };
        }
        Ok(())
    })
}

/// `IFGetDeviceInfo`.
#[no_mangle]
pub unsafe extern "C" fn IFGetDeviceInfo(
    h: *mut c_void,
    id: *const c_char,
    cmd: i32,
    data_type: *mut i32,
    buffer: *mut c_void,
    size: *mut usize,
) -> GcErrorCode {
    boundary(|| {
        let i = interface(h)?;
        // SAFETY: caller's string.
        let id = unsafe { text(id, "sDeviceID") }?;
        let info = i.device(&id)?;
        let v = device_info(&info, i.access_status(&info), cmd)?;
        // SAFETY: caller's pointers, checked in write_info.
        unsafe { write_info(&v, data_type, buffer, size) }
    })
}

/// `IFOpenDevice`: a second open of the same device is refused with
/// `GC_ERR_RESOURCE_IN_USE`.
#[no_mangle]
pub unsafe extern "C" fn IFOpenDevice(
    h: *mut c_void,
    id: *const c_char,
    flags: i32,
    out: *mut *mut c_void,
) -> GcErrorCode {
    boundary(|| {
        let i = interface(h)?;
        // SAFETY: caller's string.
        let id = unsafe { text(id, "sDeviceID") }?;
        if out.is_null() {
            return Err(GcError::null("phDevice"));
        }
        let d = i.open_device(&id, flags)?;
        let handle = registry::insert(Object::Device(d.clone()));
        let remote = handle
            .clone()
            .and_then(|_| registry::insert(Object::Remote(d.clone())));
        let (handle, remote) = match (handle, remote) {
            (Ok(h), Ok(r)) => (h, r),
            (h, _) => {
                if let Ok(h) = h {
                    registry::remove(h);
                }
                shut_down(Object::Device(d));
                return Err(GcError::NotInitialized);
            }
        };
        *crate::modules::lock(&d.remote_handle) = remote;
        d.core.adopt(remote);
        i.core.adopt(handle);
        // SAFETY: checked for NULL.
        unsafe { put(out, "phDevice", handle as *mut c_void) }
    })
}

/// `IFGetParentTL`.
#[no_mangle]
pub unsafe extern "C" fn IFGetParentTL(h: *mut c_void, out: *mut *mut c_void) -> GcErrorCode {
    boundary(|| {
        let i = interface(h)?;
        let parent = find_handle(|o| matches!(o, Object::System(s) if Arc::ptr_eq(s, &i.system)))?;
        // SAFETY: checked for NULL.
        unsafe { put(out, "phSystem", parent as *mut c_void) }
    })
}

fn find_handle(f: impl Fn(&Object) -> bool) -> GcResult<usize> {
    crate::registry::find(f).ok_or(GcError::InvalidHandle)
}

// ------------------------------------------------------------- device

/// `DevClose`: stops and closes its data streams, releases the camera.
#[no_mangle]
pub extern "C" fn DevClose(h: *mut c_void) -> GcErrorCode {
    boundary(|| {
        device(h)?;
        close_handle(handle_key(h));
        Ok(())
    })
}

/// `DevGetInfo`.
#[no_mangle]
pub unsafe extern "C" fn DevGetInfo(
    h: *mut c_void,
    cmd: i32,
    data_type: *mut i32,
    buffer: *mut c_void,
    size: *mut usize,
) -> GcErrorCode {
    boundary(|| {
        let d = device(h)?;
        let v = device_info(&d.info, d.access_status(), cmd)?;
        // SAFETY: caller's pointers, checked in write_info.
        unsafe { write_info(&v, data_type, buffer, size) }
    })
}

/// `DevGetPort`: the remote device's port.
#[no_mangle]
pub unsafe extern "C" fn DevGetPort(h: *mut c_void, out: *mut *mut c_void) -> GcErrorCode {
    boundary(|| {
        let d = device(h)?;
        let r = *crate::modules::lock(&d.remote_handle);
        // SAFETY: checked for NULL.
        unsafe { put(out, "phRemoteDevice", r as *mut c_void) }
    })
}

/// `DevGetNumDataStreams`.
#[no_mangle]
pub unsafe extern "C" fn DevGetNumDataStreams(h: *mut c_void, count: *mut u32) -> GcErrorCode {
    boundary(|| {
        let n = device(h)?.stream_ids().len() as u32;
        // SAFETY: checked for NULL.
        unsafe { put(count, "piNumDataStreams", n) }
    })
}

/// `DevGetDataStreamID`.
#[no_mangle]
pub unsafe extern "C" fn DevGetDataStreamID(
    h: *mut c_void,
    index: u32,
    id: *mut c_char,
    size: *mut usize,
) -> GcErrorCode {
    boundary(|| {
        let ids = device(h)?.stream_ids();
        let name = ids
            .get(index as usize)
            .ok_or(GcError::InvalidIndex(u64::from(index)))?;
        // SAFETY: caller's pointers, checked in put_string.
        unsafe { put_string(name, id, size) }
    })
}

/// `DevOpenDataStream`.
#[no_mangle]
pub unsafe extern "C" fn DevOpenDataStream(
    h: *mut c_void,
    id: *const c_char,
    out: *mut *mut c_void,
) -> GcErrorCode {
    boundary(|| {
        let d = device(h)?;
        // SAFETY: caller's string.
        let id = unsafe { text(id, "sDataStreamID") }?;
        if out.is_null() {
            return Err(GcError::null("phDataStream"));
        }
        let s = Arc::new(StreamModule::open(d.clone(), &id)?);
        let handle = match registry::insert(Object::Stream(s.clone())) {
            Ok(h) => h,
            Err(e) => {
                s.close();
                return Err(e);
            }
        };
        d.core.adopt(handle);
        // SAFETY: checked for NULL.
        unsafe { put(out, "phDataStream", handle as *mut c_void) }
    })
}

/// `DevGetParentIF`.
#[no_mangle]
pub unsafe extern "C" fn DevGetParentIF(h: *mut c_void, out: *mut *mut c_void) -> GcErrorCode {
    boundary(|| {
        let d = device(h)?;
        let parent = find_handle(
            |o| matches!(o, Object::Interface(i) if crate::modules::lock_children_contains(&i.core, d.as_ref())),
        )?;
        // SAFETY: checked for NULL.
        unsafe { put(out, "phIface", parent as *mut c_void) }
    })
}

// ------------------------------------------------------------- stream

/// `DSClose`: stops the acquisition, revokes the buffers.
#[no_mangle]
pub extern "C" fn DSClose(h: *mut c_void) -> GcErrorCode {
    boundary(|| {
        stream(h)?;
        close_handle(handle_key(h));
        Ok(())
    })
}

/// `DSGetParentDev`.
#[no_mangle]
pub unsafe extern "C" fn DSGetParentDev(h: *mut c_void, out: *mut *mut c_void) -> GcErrorCode {
    boundary(|| {
        let s = stream(h)?;
        let parent = find_handle(|o| matches!(o, Object::Device(d) if Arc::ptr_eq(d, &s.device)))?;
        // SAFETY: checked for NULL.
        unsafe { put(out, "phDevice", parent as *mut c_void) }
    })
}

/// `DSGetInfo`.
#[no_mangle]
pub unsafe extern "C" fn DSGetInfo(
    h: *mut c_void,
    cmd: i32,
    data_type: *mut i32,
    buffer: *mut c_void,
    size: *mut usize,
) -> GcErrorCode {
    boundary(|| {
        let v = stream(h)?.info(cmd)?;
        // SAFETY: caller's pointers, checked in write_info.
        unsafe { write_info(&v, data_type, buffer, size) }
    })
}

/// `DSAnnounceBuffer`: announces the consumer's memory.
#[no_mangle]
pub unsafe extern "C" fn DSAnnounceBuffer(
    h: *mut c_void,
    base: *mut c_void,
    size: usize,
    user: *mut c_void,
    out: *mut *mut c_void,
) -> GcErrorCode {
    boundary(|| {
        let s = stream(h)?;
        if base.is_null() {
            return Err(GcError::null("pBuffer"));
        }
        if out.is_null() {
            return Err(GcError::null("phBuffer"));
        }
        let b = s.announce(Some(base.cast()), size, user as usize)?;
        // SAFETY: checked for NULL.
        unsafe { put(out, "phBuffer", b as *mut c_void) }
    })
}

/// `DSAllocAndAnnounceBuffer`: announces memory the producer allocates.
#[no_mangle]
pub unsafe extern "C" fn DSAllocAndAnnounceBuffer(
    h: *mut c_void,
    size: usize,
    user: *mut c_void,
    out: *mut *mut c_void,
) -> GcErrorCode {
    boundary(|| {
        let s = stream(h)?;
        if out.is_null() {
            return Err(GcError::null("phBuffer"));
        }
        let b = s.announce(None, size, user as usize)?;
        // SAFETY: checked for NULL.
        unsafe { put(out, "phBuffer", b as *mut c_void) }
    })
}

/// `DSRevokeBuffer`: gives back the consumer's memory (NULL for memory
/// the producer allocated) and user pointer.
#[no_mangle]
pub unsafe extern "C" fn DSRevokeBuffer(
    h: *mut c_void,
    b: *mut c_void,
    base: *mut *mut c_void,
    user: *mut *mut c_void,
) -> GcErrorCode {
    boundary(|| {
        let s = stream(h)?;
        let key = buffer_of(&s, b)?;
        let (mem, private) = s.revoke(key)?;
        if !base.is_null() {
            // SAFETY: not NULL.
            unsafe { base.write_unaligned(mem as *mut c_void) };
        }
        if !user.is_null() {
            // SAFETY: not NULL.
            unsafe { user.write_unaligned(private as *mut c_void) };
        }
        Ok(())
    })
}

/// `DSQueueBuffer`.
#[no_mangle]
pub extern "C" fn DSQueueBuffer(h: *mut c_void, b: *mut c_void) -> GcErrorCode {
    boundary(|| {
        let s = stream(h)?;
        let key = buffer_of(&s, b)?;
        s.queue(key)
    })
}

/// `DSFlushQueue`.
#[no_mangle]
pub extern "C" fn DSFlushQueue(h: *mut c_void, operation: i32) -> GcErrorCode {
    boundary(|| stream(h)?.flush(operation))
}

/// `DSStartAcquisition`: `count` frames (`GENTL_INFINITE` for no limit).
#[no_mangle]
pub extern "C" fn DSStartAcquisition(h: *mut c_void, flags: i32, count: u64) -> GcErrorCode {
    boundary(|| {
        let s = stream(h)?;
        if flags != ACQ_START_FLAGS_DEFAULT {
            return Err(GcError::InvalidParameter(format!("start flag {flags}")));
        }
        s.start(count)
    })
}

/// `DSStopAcquisition`.
#[no_mangle]
pub extern "C" fn DSStopAcquisition(h: *mut c_void, flags: i32) -> GcErrorCode {
    boundary(|| {
        let s = stream(h)?;
        if flags != ACQ_STOP_FLAGS_DEFAULT && flags != ACQ_STOP_FLAGS_KILL {
            return Err(GcError::InvalidParameter(format!("stop flag {flags}")));
        }
        s.stop()
    })
}

/// `DSGetBufferID`.
#[no_mangle]
pub unsafe extern "C" fn DSGetBufferID(
    h: *mut c_void,
    index: u32,
    out: *mut *mut c_void,
) -> GcErrorCode {
    boundary(|| {
        let b = stream(h)?.buffer_at(index as usize)?;
        // SAFETY: checked for NULL.
        unsafe { put(out, "phBuffer", b as *mut c_void) }
    })
}

/// `DSGetBufferInfo`.
#[no_mangle]
pub unsafe extern "C" fn DSGetBufferInfo(
    h: *mut c_void,
    b: *mut c_void,
    cmd: i32,
    data_type: *mut i32,
    buffer: *mut c_void,
    size: *mut usize,
) -> GcErrorCode {
    boundary(|| {
        let s = stream(h)?;
        let key = buffer_of(&s, b)?;
        let v = s.buffer_info(key, cmd)?;
        // SAFETY: caller's pointers, checked in write_info.
        unsafe { write_info(&v, data_type, buffer, size) }
    })
}

/// `DSGetBufferChunkData`: the chunks of a filled buffer.
#[no_mangle]
pub unsafe extern "C" fn DSGetBufferChunkData(
    h: *mut c_void,
    b: *mut c_void,
    chunks: *mut SingleChunkData,
    count: *mut usize,
) -> GcErrorCode {
    boundary(|| {
        let s = stream(h)?;
        let key = buffer_of(&s, b)?;
        if count.is_null() {
            return Err(GcError::null("piNumChunks"));
        }
        let found = s.chunks(key)?;
        // SAFETY: not NULL (checked).
        let capacity = unsafe { count.read_unaligned() };
        // SAFETY: as above.
        unsafe { count.write_unaligned(found.len()) };
        if chunks.is_null() {
            return Ok(());
        }
        if capacity < found.len() {
            return Err(GcError::BufferTooSmall {
                needed: found.len(),
            });
        }
        for (i, c) in found.into_iter().enumerate() {
            // SAFETY: the caller gives `capacity` entries.
            unsafe { chunks.add(i).write_unaligned(c) };
        }
        Ok(())
    })
}

/// A per-buffer list this producer keeps empty (parts, segments): checks
/// the handles and reports 0 entries in `count`.
///
/// # Safety
/// `count`, when not NULL, must be valid for a write of a `u32`.
unsafe fn empty_buffer_list(
    h: *mut c_void,
    b: *mut c_void,
    count: *mut u32,
    what: &str,
) -> GcErrorCode {
    boundary(|| {
        let s = stream(h)?;
        buffer_of(&s, b)?;
        // SAFETY: checked for NULL in put; the caller's contract.
        unsafe { put(count, what, 0u32) }
    })
}

/// An entry of an empty per-buffer list: checks the handles, then
/// `GC_ERR_INVALID_INDEX`.
fn entry_of_empty_buffer_list(h: *mut c_void, b: *mut c_void, index: u32) -> GcErrorCode {
    boundary(|| {
        let s = stream(h)?;
        buffer_of(&s, b)?;
        Err(GcError::InvalidIndex(u64::from(index)))
    })
}

/// `DSGetNumBufferParts`: single-part buffers only.
#[no_mangle]
pub unsafe extern "C" fn DSGetNumBufferParts(
    h: *mut c_void,
    b: *mut c_void,
    count: *mut u32,
) -> GcErrorCode {
    // SAFETY: the caller's pointer, as the function's contract says.
    unsafe { empty_buffer_list(h, b, count, "piNumParts") }
}

/// `DSGetBufferPartInfo`: the buffers are single-part (no parts), so every
/// part index is out of range.
#[no_mangle]
pub unsafe extern "C" fn DSGetBufferPartInfo(
    h: *mut c_void,
    b: *mut c_void,
    part: u32,
    _cmd: i32,
    _data_type: *mut i32,
    _buffer: *mut c_void,
    _size: *mut usize,
) -> GcErrorCode {
    entry_of_empty_buffer_list(h, b, part)
}

/// `DSGetNumFlows` (GenTL 1.6): the stream has no flows; its buffers are
/// plain (not composite) buffers.
#[no_mangle]
pub unsafe extern "C" fn DSGetNumFlows(h: *mut c_void, count: *mut u32) -> GcErrorCode {
    boundary(|| {
        stream(h)?;
        // SAFETY: checked for NULL.
        unsafe { put(count, "piNumFlows", 0u32) }
    })
}

/// `DSGetFlowInfo` (GenTL 1.6): no flows, so every index is out of range.
#[no_mangle]
pub unsafe extern "C" fn DSGetFlowInfo(
    h: *mut c_void,
    flow: u32,
    _cmd: i32,
    _data_type: *mut i32,
    _buffer: *mut c_void,
    _size: *mut usize,
) -> GcErrorCode {
    boundary(|| {
        stream(h)?;
        Err(GcError::InvalidIndex(u64::from(flow)))
    })
}

/// `DSGetNumBufferSegments` (GenTL 1.6): plain buffers have no segments.
#[no_mangle]
pub unsafe extern "C" fn DSGetNumBufferSegments(
    h: *mut c_void,
    b: *mut c_void,
    count: *mut u32,
) -> GcErrorCode {
    // SAFETY: the caller's pointer, as the function's contract says.
    unsafe { empty_buffer_list(h, b, count, "piNumSegments") }
}

/// `DSGetBufferSegmentInfo` (GenTL 1.6): no segments, so every index is
/// out of range.
#[no_mangle]
pub unsafe extern "C" fn DSGetBufferSegmentInfo(
    h: *mut c_void,
    b: *mut c_void,
    segment: u32,
    _cmd: i32,
    _data_type: *mut i32,
    _buffer: *mut c_void,
    _size: *mut usize,
) -> GcErrorCode {
    entry_of_empty_buffer_list(h, b, segment)
}

/// `DSAnnounceCompositeBuffer` (GenTL 1.6): composite buffers fill the
/// flows of a stream, and this stream has none.
#[no_mangle]
pub unsafe extern "C" fn DSAnnounceCompositeBuffer(
    h: *mut c_void,
    _segments: usize,
    _pointers: *mut *mut c_void,
    _private: *mut c_void,
    _buffer: *mut *mut c_void,
) -> GcErrorCode {
    boundary(|| {
        stream(h)?;
        Err(GcError::NotImplemented(
            "composite buffers: this data stream has no flows (DSGetNumFlows is 0)".into(),
        ))
    })
}
