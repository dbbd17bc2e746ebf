//! The GenTL C API called directly, as a consumer would: every module,
//! the remote device's node map over GCReadPort/GCWritePort, acquisition,
//! error paths, closing in any order, and concurrent calls.

use std::ffi::{c_void, CString};
use std::ptr::null_mut;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use mvcam_gentl::abi::*;
use mvcam_gentl::api::*;

/// The library is process-wide: tests take turns.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    let g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    std::env::set_var("MVCAM_VIRTUAL", "1");
    // A previous failed test may have left the library open.
    let _ = GCCloseLib();
    g
}

type H = *mut c_void;

fn ok(code: i32) {
    if code != GC_ERR_SUCCESS {
        panic!("GenTL error {code}: {}", last_text());
    }
}

fn last_text() -> String {
    let mut code = 0;
    let mut size = 0usize;
    unsafe { GCGetLastError(&mut code, null_mut(), &mut size) };
    let mut buf = vec![0u8; size];
    unsafe { GCGetLastError(&mut code, buf.as_mut_ptr().cast(), &mut size) };
    String::from_utf8_lossy(&buf)
        .trim_end_matches('\0')
        .to_string()
}

/// Calls a `(buffer, size)` string getter twice: size, then text.
fn string_of(f: impl Fn(*mut i8, *mut usize) -> i32) -> String {
    let mut size = 0usize;
    ok(f(null_mut(), &mut size));
    let mut buf = vec![0u8; size];
    ok(f(buf.as_mut_ptr().cast(), &mut size));
    String::from_utf8_lossy(&buf[..size])
        .trim_end_matches('\0')
        .to_string()
}

fn info_string(f: impl Fn(*mut i32, *mut c_void, *mut usize) -> i32) -> String {
    let ty = std::cell::Cell::new(0i32);
    string_of(|b, s| f(ty.as_ptr(), b.cast(), s))
}

fn info_u64(f: impl Fn(*mut i32, *mut c_void, *mut usize) -> i32) -> u64 {
    let mut ty = 0;
    let mut buf = [0u8; 8];
    let mut size = 8usize;
    ok(f(&mut ty, buf.as_mut_ptr().cast(), &mut size));
    let mut b = [0u8; 8];
    b[..size].copy_from_slice(&buf[..size]);
    u64::from_ne_bytes(b)
}

struct Opened {
    tl: H,
    iface: H,
    dev: H,
    remote: H,
}

fn open_all() -> Opened {
    ok(GCInitLib());
    let mut tl = null_mut();
    ok(unsafe { TLOpen(&mut tl) });
    let mut n = 0u32;
    ok(unsafe { TLUpdateInterfaceList(tl, null_mut(), 1000) });
    ok(unsafe { TLGetNumInterfaces(tl, &mut n) });
    assert_eq!(n, 1);
    let if_id = string_of(|b, s| unsafe { TLGetInterfaceID(tl, 0, b, s) });
    let if_c = CString::new(if_id).unwrap();
    let mut iface = null_mut();
    ok(unsafe { TLOpenInterface(tl, if_c.as_ptr(), &mut iface) });
    ok(unsafe { IFUpdateDeviceList(iface, null_mut(), 1000) });
    let dev_id = string_of(|b, s| unsafe { IFGetDeviceID(iface, 0, b, s) });
    assert_eq!(dev_id, "virtual://0");
    let dev_c = CString::new(dev_id).unwrap();
    let mut dev = null_mut();
    ok(unsafe { IFOpenDevice(iface, dev_c.as_ptr(), DEVICE_ACCESS_EXCLUSIVE, &mut dev) });
    let mut remote = null_mut();
    ok(unsafe { DevGetPort(dev, &mut remote) });
    Opened {
        tl,
        iface,
        dev,
        remote,
    }
}

fn open_stream(dev: H) -> H {
    let id = string_of(|b, s| unsafe { DevGetDataStreamID(dev, 0, b, s) });
    let c = CString::new(id).unwrap();
    let mut ds = null_mut();
    ok(unsafe { DevOpenDataStream(dev, c.as_ptr(), &mut ds) });
    ds
}

/// A port's XML through its URL (`local:name;addr;len`, hex).
fn port_xml(port: H) -> Vec<u8> {
    let url = info_string(|t, b, s| unsafe { GCGetPortURLInfo(port, 0, URL_INFO_URL, t, b, s) });
    let rest = url.strip_prefix("local:").expect("a local URL");
    let mut parts = rest.split(';');
    let _name = parts.next().unwrap();
    let address = u64::from_str_radix(parts.next().unwrap(), 16).unwrap();
    let len = usize::from_str_radix(parts.next().unwrap(), 16).unwrap();
    let mut buf = vec![0u8; len];
    let mut size = len;
    ok(unsafe { GCReadPort(port, address, buf.as_mut_ptr().cast(), &mut size) });
    assert_eq!(size, len);
    buf
}

/// A genapi port over GCReadPort / GCWritePort.
struct GenTlPort(usize);

impl genapi::Port for GenTlPort {
    fn read(&mut self, address: u64, buf: &mut [u8]) -> Result<(), genapi::PortError> {
        let mut size = buf.len();
        let code = unsafe { GCReadPort(self.0 as H, address, buf.as_mut_ptr().cast(), &mut size) };
        (code == GC_ERR_SUCCESS)
            .then_some(())
            .ok_or(genapi::PortError::Other(last_text()))
    }
    fn write(&mut self, address: u64, data: &[u8]) -> Result<(), genapi::PortError> {
        let mut size = data.len();
        let code = unsafe { GCWritePort(self.0 as H, address, data.as_ptr().cast(), &mut size) };
        (code == GC_ERR_SUCCESS)
            .then_some(())
            .ok_or(genapi::PortError::Other(last_text()))
    }
}

fn remote_map(remote: H) -> genapi::NodeMap {
    let mut map = genapi::NodeMap::from_bytes(&port_xml(remote)).expect("the camera's XML loads");
    map.connect("Device", Box::new(GenTlPort(remote as usize)))
        .unwrap();
    map
}

fn configure(map: &mut genapi::NodeMap, width: i64, height: i64) {
    map.set_integer("Width", width).unwrap();
    map.set_integer("Height", height).unwrap();
    map.set_integer("OffsetX", 0).unwrap();
    map.set_enumeration("PixelFormat", "Mono8").unwrap();
    map.set_enumeration("TestImageSelector", "GreyHorizontalRamp")
        .unwrap();
}

fn buffer_u64(ds: H, b: H, cmd: i32) -> u64 {
    info_u64(|t, p, s| unsafe { DSGetBufferInfo(ds, b, cmd, t, p, s) })
}

fn wait_buffer(event: H, timeout_ms: u64) -> Result<H, i32> {
    let mut data = EventNewBufferData {
        buffer_handle: null_mut(),
        user_pointer: null_mut(),
    };
    let mut size = std::mem::size_of::<EventNewBufferData>();
    let code = unsafe {
        EventGetData(
            event,
            (&mut data as *mut EventNewBufferData).cast(),
            &mut size,
            timeout_ms,
        )
    };
    if code == GC_ERR_SUCCESS {
        Ok(data.buffer_handle)
    } else {
        Err(code)
    }
}

#[test]
fn library_info_and_error_reporting() {
    let _g = serial();
    let mut tl = null_mut();
    assert_eq!(unsafe { TLOpen(&mut tl) }, GC_ERR_NOT_INITIALIZED);
    assert!(last_text().contains("GCInitLib"));
    ok(GCInitLib());
    assert_eq!(GCInitLib(), GC_ERR_RESOURCE_IN_USE);
    assert_eq!(
        info_string(|t, b, s| unsafe { GCGetInfo(TL_INFO_TLTYPE, t, b, s) }),
        "U3V"
    );
    assert_eq!(
        info_u64(|t, b, s| unsafe { GCGetInfo(TL_INFO_GENTL_VER_MAJOR, t, b, s) }),
        1
    );
    // Too small a buffer: the needed size comes back.
    let mut small = [0u8; 2];
    let mut size = 2usize;
    let mut ty = 0;
    assert_eq!(
        unsafe {
            GCGetInfo(
                TL_INFO_TLTYPE,
                &mut ty,
                small.as_mut_ptr().cast(),
                &mut size,
            )
        },
        GC_ERR_BUFFER_TOO_SMALL
    );
    assert_eq!((size, ty), (4, INFO_DATATYPE_STRING));
    assert_eq!(
        unsafe {
            GCGetInfo(
                TL_INFO_TLTYPE,
                &mut ty,
                small.as_mut_ptr().cast(),
                null_mut(),
            )
        },
        GC_ERR_INVALID_PARAMETER
    );
    assert!(last_text().contains("piSize"));
    assert_eq!(
        unsafe { GCGetInfo(999, &mut ty, null_mut(), &mut size) },
        GC_ERR_INVALID_PARAMETER
    );
    assert_eq!(unsafe { TLOpen(null_mut()) }, GC_ERR_INVALID_PARAMETER);
    // Foreign and stale handles.
    let mut n = 0u32;
    let foreign = (&mut n as *mut u32).cast::<c_void>();
    assert_eq!(
        unsafe { TLGetNumInterfaces(foreign, &mut n) },
        GC_ERR_INVALID_HANDLE
    );
    ok(unsafe { TLOpen(&mut tl) });
    assert_eq!(unsafe { TLOpen(&mut null_mut()) }, GC_ERR_RESOURCE_IN_USE);
    ok(TLClose(tl));
    assert_eq!(
        unsafe { TLGetNumInterfaces(tl, &mut n) },
        GC_ERR_INVALID_HANDLE
    );
    assert_eq!(TLClose(tl), GC_ERR_INVALID_HANDLE);
    // The last error is per thread.
    std::thread::spawn(|| assert_eq!(last_text(), ""))
        .join()
        .unwrap();
    ok(GCCloseLib());
    assert_eq!(GCCloseLib(), GC_ERR_NOT_INITIALIZED);
}

#[test]
fn modules_enumerate_open_and_serve_their_own_descriptions() {
    let _g = serial();
    let o = open_all();
    // Listing info of the device, and its status once opened.
    let id = CString::new("virtual://0").unwrap();
    let vendor = info_string(|t, b, s| unsafe {
        IFGetDeviceInfo(o.iface, id.as_ptr(), DEVICE_INFO_VENDOR, t, b, s)
    });
    assert_eq!(vendor, "mvcam");
    let status = info_u64(|t, b, s| unsafe {
        IFGetDeviceInfo(o.iface, id.as_ptr(), DEVICE_INFO_ACCESS_STATUS, t, b, s)
    });
    assert_eq!(status as i32, DEVICE_ACCESS_STATUS_OPEN_READWRITE);
    assert_eq!(
        info_string(|t, b, s| unsafe { DevGetInfo(o.dev, DEVICE_INFO_TLTYPE, t, b, s) }),
        "U3V"
    );
    assert_eq!(
        info_u64(|t, b, s| unsafe { DevGetInfo(o.dev, DEVICE_INFO_TIMESTAMP_FREQUENCY, t, b, s) }),
        1_000_000_000
    );
    // Opening twice is refused; unknown ids and bad flags too.
    let mut again = null_mut();
    assert_eq!(
        unsafe { IFOpenDevice(o.iface, id.as_ptr(), DEVICE_ACCESS_EXCLUSIVE, &mut again) },
        GC_ERR_RESOURCE_IN_USE
    );
    let nobody = CString::new("virtual://9").unwrap();
    assert_eq!(
        unsafe {
            IFOpenDevice(
                o.iface,
                nobody.as_ptr(),
                DEVICE_ACCESS_EXCLUSIVE,
                &mut again,
            )
        },
        GC_ERR_INVALID_ID
    );
    assert_eq!(
        unsafe { IFOpenDevice(o.iface, id.as_ptr(), 77, &mut again) },
        GC_ERR_INVALID_PARAMETER
    );
    assert_eq!(
        unsafe { IFOpenDevice(o.iface, null_mut(), DEVICE_ACCESS_EXCLUSIVE, &mut again) },
        GC_ERR_INVALID_PARAMETER
    );

    let ds = open_stream(o.dev);
    let mut parent = null_mut();
    ok(unsafe { DSGetParentDev(ds, &mut parent) });
    assert_eq!(parent, o.dev);
    ok(unsafe { DevGetParentIF(o.dev, &mut parent) });
    assert_eq!(parent, o.iface);
    ok(unsafe { IFGetParentTL(o.iface, &mut parent) });
    assert_eq!(parent, o.tl);

    // Every module's port serves an XML naming its port and features.
    let mut buffer = null_mut();
    ok(unsafe { DSAllocAndAnnounceBuffer(ds, 1024, null_mut(), &mut buffer) });
    for (port, features) in [
        (
            o.tl,
            &["TLVendorName", "TLModelName", "TLID", "TLVersion", "TLType"][..],
        ),
        (
            o.iface,
            &[
                "InterfaceID",
                "DeviceSelector",
                "DeviceID",
                "DeviceAccessStatus",
            ][..],
        ),
        (
            o.dev,
            &[
                "DeviceID",
                "DeviceVendorName",
                "DeviceModelName",
                "DeviceSerialNumber",
                "DeviceAccessStatus",
            ][..],
        ),
        (
            ds,
            &[
                "StreamID",
                "StreamAnnouncedBufferCount",
                "StreamAcquisitionModeSelector",
                "StreamBufferHandlingMode",
                "PayloadSize",
            ][..],
        ),
        (buffer, &["BufferSize"][..]),
    ] {
        let xml = String::from_utf8(port_xml(port)).unwrap();
        let name =
            info_string(|t, b, s| unsafe { GCGetPortInfo(port, PORT_INFO_PORTNAME, t, b, s) });
        assert!(xml.contains(&format!("<Port Name=\"{name}\"")), "{name}");
        let mut map = genapi::NodeMap::from_xml(&xml).expect("the module XML loads");
        map.connect(&name, Box::new(GenTlPort(port as usize)))
            .unwrap();
        for f in features {
            assert!(xml.contains(&format!("Name=\"{f}\"")), "{name} lacks {f}");
        }
        match name.as_str() {
            "TLPort" => {
                assert_eq!(map.string("TLType").unwrap(), "U3V");
                assert_eq!(map.string("TLVendorName").unwrap(), "mvcam");
            }
            "InterfacePort" => {
                assert_eq!(map.string("DeviceID").unwrap(), "virtual://0");
                assert_eq!(
                    map.enumeration("DeviceAccessStatus").unwrap(),
                    "OpenReadWrite"
                );
                assert!(map.set_integer("DeviceSelector", 5).is_err());
            }
            "DevicePort" => assert_eq!(map.string("DeviceVendorName").unwrap(), "mvcam"),
            "StreamPort" => {
                assert_eq!(map.integer("StreamAnnouncedBufferCount").unwrap(), 1);
                assert_eq!(
                    map.enumeration("StreamBufferHandlingMode").unwrap(),
                    "OldestFirst"
                );
                assert!(map.integer("PayloadSize").unwrap() > 0);
            }
            _ => assert_eq!(map.integer("BufferSize").unwrap(), 1024),
        }
    }
    // Local ports refuse writes to read-only registers and reads past the end.
    let mut word = [0u8; 8];
    let mut size = 8usize;
    assert_eq!(
        unsafe { GCWritePort(o.tl, 0, word.as_ptr().cast(), &mut size) },
        GC_ERR_ACCESS_DENIED
    );
    size = 8;
    assert_eq!(
        unsafe { GCReadPort(o.tl, 0xFFF0, word.as_mut_ptr().cast(), &mut size) },
        GC_ERR_INVALID_ADDRESS
    );
    size = 8;
    assert_eq!(
        unsafe { GCReadPort(o.tl, 0, null_mut(), &mut size) },
        GC_ERR_INVALID_PARAMETER
    );

    // The remote port reaches the camera: its node map works over it.
    let url =
        info_string(|t, b, s| unsafe { GCGetPortURLInfo(o.remote, 0, URL_INFO_URL, t, b, s) });
    assert!(url.starts_with("local:"), "{url}");
    assert_eq!(
        info_string(|t, b, s| unsafe { GCGetPortInfo(o.remote, PORT_INFO_PORTNAME, t, b, s) }),
        "Device"
    );
    let mut map = remote_map(o.remote);
    map.set_integer("Width", 640).unwrap();
    assert_eq!(map.integer("Width").unwrap(), 640);
    map.set_float("ExposureTime", 4000.0).unwrap();
    assert!((map.float("ExposureTime").unwrap() - 4000.0).abs() < 1.0);
    drop(map);
    ok(GCCloseLib());
}

#[test]
fn acquisition_fills_announced_and_allocated_buffers() {
    let _g = serial();
    let o = open_all();
    let ds = open_stream(o.dev);
    let mut map = remote_map(o.remote);
    configure(&mut map, 320, 240);
    let payload =
        info_u64(|t, b, s| unsafe { DSGetInfo(ds, STREAM_INFO_PAYLOAD_SIZE, t, b, s) }) as usize;
    assert_eq!(payload, 320 * 240);

    // Starting without buffers fails; stopping what is not started too.
    assert_eq!(
        DSStartAcquisition(ds, 0, GENTL_INFINITE),
        GC_ERR_RESOURCE_EXHAUSTED
    );
    assert_eq!(
        DSStopAcquisition(ds, ACQ_STOP_FLAGS_KILL),
        GC_ERR_RESOURCE_IN_USE
    );

    let mut memory: Vec<Vec<u8>> = (0..3).map(|_| vec![0u8; payload]).collect();
    let mut handles = Vec::new();
    for (i, m) in memory.iter_mut().enumerate() {
        let mut b = null_mut();
        ok(unsafe {
            DSAnnounceBuffer(
                ds,
                m.as_mut_ptr().cast(),
                m.len(),
                (i + 100) as *mut c_void,
                &mut b,
            )
        });
        handles.push(b);
    }
    let mut allocated = null_mut();
    ok(unsafe { DSAllocAndAnnounceBuffer(ds, payload, 7usize as *mut c_void, &mut allocated) });
    handles.push(allocated);
    for &b in &handles {
        ok(DSQueueBuffer(ds, b));
    }
    assert_eq!(DSQueueBuffer(ds, handles[0]), GC_ERR_RESOURCE_IN_USE);
    assert_eq!(
        unsafe { DSRevokeBuffer(ds, handles[0], null_mut(), null_mut()) },
        GC_ERR_BUSY
    );
    assert_eq!(DSQueueBuffer(ds, o.dev), GC_ERR_INVALID_HANDLE);

    let mut event = null_mut();
    ok(unsafe { GCRegisterEvent(ds, EVENT_NEW_BUFFER, &mut event) });
    assert_eq!(
        unsafe { GCRegisterEvent(ds, EVENT_NEW_BUFFER, &mut null_mut()) },
        GC_ERR_RESOURCE_IN_USE
    );
    assert_eq!(wait_buffer(event, 50), Err(GC_ERR_TIMEOUT));

    ok(DSStartAcquisition(ds, 0, GENTL_INFINITE));
    assert_eq!(
        DSStartAcquisition(ds, 0, GENTL_INFINITE),
        GC_ERR_RESOURCE_IN_USE
    );
    // Armed, but the camera has not been told to start: nothing comes.
    assert_eq!(wait_buffer(event, 300), Err(GC_ERR_TIMEOUT));
    map.execute("AcquisitionStart").unwrap();
    let mut last_frame = None;
    for _ in 0..12 {
        let b = wait_buffer(event, 5000).expect("a filled buffer");
        assert_eq!(buffer_u64(ds, b, BUFFER_INFO_WIDTH), 320);
        assert_eq!(buffer_u64(ds, b, BUFFER_INFO_HEIGHT), 240);
        assert_eq!(buffer_u64(ds, b, BUFFER_INFO_PIXELFORMAT), 0x0108_0001);
        assert_eq!(buffer_u64(ds, b, BUFFER_INFO_SIZE_FILLED) as usize, payload);
        assert_eq!(
            buffer_u64(ds, b, BUFFER_INFO_PAYLOADTYPE) as usize,
            PAYLOAD_TYPE_IMAGE
        );
        assert_eq!(buffer_u64(ds, b, BUFFER_INFO_IS_INCOMPLETE) & 0xFF, 0);
        let frame = buffer_u64(ds, b, BUFFER_INFO_FRAMEID);
        if let Some(prev) = last_frame {
            assert!(frame > prev);
        }
        last_frame = Some(frame);
        let base = buffer_u64(ds, b, BUFFER_INFO_BASE) as usize;
        // SAFETY: BASE and SIZE_FILLED describe memory this test owns or
        // the producer allocated, filled and not requeued yet.
        let image = unsafe { std::slice::from_raw_parts(base as *const u8, payload) };
        for (x, &v) in image[..320].iter().enumerate() {
            assert_eq!(v as usize, x % 256);
        }
        assert_eq!(&image[320 * 100..320 * 100 + 320], &image[..320]);
        ok(DSQueueBuffer(ds, b));
    }
    let delivered =
        info_u64(|t, b, s| unsafe { DSGetInfo(ds, STREAM_INFO_NUM_DELIVERED, t, b, s) });
    assert!(delivered >= 12);
    map.execute("AcquisitionStop").unwrap();
    ok(DSStopAcquisition(ds, ACQ_STOP_FLAGS_KILL));
    ok(DSFlushQueue(ds, ACQ_QUEUE_ALL_DISCARD));
    for (i, &b) in handles.iter().enumerate() {
        let mut base = null_mut();
        let mut user = null_mut();
        ok(unsafe { DSRevokeBuffer(ds, b, &mut base, &mut user) });
        if i < 3 {
            assert_eq!(base.cast::<u8>(), memory[i].as_mut_ptr());
            assert_eq!(user as usize, i + 100);
        } else {
            assert!(base.is_null());
            assert_eq!(user as usize, 7);
        }
    }
    assert_eq!(buffer_u64_code(ds, handles[0]), GC_ERR_INVALID_HANDLE);
    ok(DSClose(ds));
    ok(DevClose(o.dev));
    ok(IFClose(o.iface));
    ok(TLClose(o.tl));
    ok(GCCloseLib());
}

fn buffer_u64_code(ds: H, b: H) -> i32 {
    let mut ty = 0;
    let mut v = [0u8; 8];
    let mut size = 8usize;
    unsafe {
        DSGetBufferInfo(
            ds,
            b,
            BUFFER_INFO_SIZE,
            &mut ty,
            v.as_mut_ptr().cast(),
            &mut size,
        )
    }
}

#[test]
fn a_frame_count_ends_the_acquisition_and_restart_works() {
    let _g = serial();
    let o = open_all();
    let ds = open_stream(o.dev);
    let mut map = remote_map(o.remote);
    configure(&mut map, 256, 64);
    for _ in 0..4 {
        let mut b = null_mut();
        ok(unsafe { DSAllocAndAnnounceBuffer(ds, 256 * 64, null_mut(), &mut b) });
        ok(DSQueueBuffer(ds, b));
    }
    let mut event = null_mut();
    ok(unsafe { GCRegisterEvent(ds, EVENT_NEW_BUFFER, &mut event) });
    for round in 0..2 {
        ok(DSStartAcquisition(ds, 0, 3));
        map.execute("AcquisitionStart").unwrap();
        for _ in 0..3 {
            let b = wait_buffer(event, 5000).unwrap_or_else(|c| panic!("round {round}: {c}"));
            ok(DSQueueBuffer(ds, b));
        }
        assert_eq!(wait_buffer(event, 400), Err(GC_ERR_TIMEOUT));
        map.execute("AcquisitionStop").unwrap();
        ok(DSStopAcquisition(ds, ACQ_STOP_FLAGS_DEFAULT));
    }
    ok(GCCloseLib());
}

#[test]
fn closing_in_any_order_releases_everything() {
    let _g = serial();
    // Close the system while a stream acquires: every handle goes.
    let o = open_all();
    let ds = open_stream(o.dev);
    let mut map = remote_map(o.remote);
    configure(&mut map, 128, 32);
    let mut b = null_mut();
    ok(unsafe { DSAllocAndAnnounceBuffer(ds, 128 * 32, null_mut(), &mut b) });
    ok(DSQueueBuffer(ds, b));
    let mut event = null_mut();
    ok(unsafe { GCRegisterEvent(ds, EVENT_NEW_BUFFER, &mut event) });
    ok(DSStartAcquisition(ds, 0, GENTL_INFINITE));
    map.execute("AcquisitionStart").unwrap();
    drop(map);
    ok(TLClose(o.tl));
    for h in [o.iface, o.dev, o.remote, ds, b] {
        let mut n = 0u32;
        assert_eq!(
            unsafe { DevGetNumDataStreams(h, &mut n) },
            GC_ERR_INVALID_HANDLE
        );
    }
    assert_eq!(wait_buffer(event, 10), Err(GC_ERR_INVALID_HANDLE));
    ok(GCCloseLib());

    // The camera is free again: open it, then close the library with
    // everything still open.
    let o = open_all();
    let _ds = open_stream(o.dev);
    ok(GCCloseLib());

    // Close the device before its stream and the interface before the
    // device.
    let o = open_all();
    let ds = open_stream(o.dev);
    ok(IFClose(o.iface));
    assert_eq!(DSClose(ds), GC_ERR_INVALID_HANDLE);
    assert_eq!(DevClose(o.dev), GC_ERR_INVALID_HANDLE);
    let mut iface = null_mut();
    let id = CString::new("mvcam").unwrap();
    ok(unsafe { TLOpenInterface(o.tl, id.as_ptr(), &mut iface) });
    let dev_id = CString::new("virtual://0").unwrap();
    let mut dev = null_mut();
    ok(unsafe { IFOpenDevice(iface, dev_id.as_ptr(), DEVICE_ACCESS_READONLY, &mut dev) });
    let mut remote = null_mut();
    ok(unsafe { DevGetPort(dev, &mut remote) });
    let mut word = [0u8; 4];
    let mut size = 4usize;
    ok(unsafe { GCReadPort(remote, 0, word.as_mut_ptr().cast(), &mut size) });
    assert_eq!(
        unsafe { GCWritePort(remote, 0, word.as_ptr().cast(), &mut size) },
        GC_ERR_ACCESS_DENIED
    );
    ok(DevClose(dev));
    ok(GCCloseLib());
}

#[test]
fn concurrent_calls_and_event_kill() {
    let _g = serial();
    let o = open_all();
    let ds = open_stream(o.dev);
    let mut map = remote_map(o.remote);
    configure(&mut map, 256, 128);
    for _ in 0..4 {
        let mut b = null_mut();
        ok(unsafe { DSAllocAndAnnounceBuffer(ds, 256 * 128, null_mut(), &mut b) });
        ok(DSQueueBuffer(ds, b));
    }
    let mut event = null_mut();
    ok(unsafe { GCRegisterEvent(ds, EVENT_NEW_BUFFER, &mut event) });
    ok(DSStartAcquisition(ds, 0, GENTL_INFINITE));
    map.execute("AcquisitionStart").unwrap();
    let (ds_k, ev_k, remote_k) = (ds as usize, event as usize, o.remote as usize);
    let received = Arc::new(Mutex::new(0usize));
    let consumer = {
        let received = received.clone();
        std::thread::spawn(move || {
            for _ in 0..20 {
                let b = wait_buffer(ev_k as H, 5000).expect("a buffer");
                *received.lock().unwrap() += 1;
                ok(DSQueueBuffer(ds_k as H, b));
            }
        })
    };
    let pollers: Vec<_> = (0..3)
        .map(|_| {
            std::thread::spawn(move || {
                for _ in 0..50 {
                    let mut word = [0u8; 4];
                    let mut size = 4usize;
                    ok(unsafe {
                        GCReadPort(remote_k as H, 0, word.as_mut_ptr().cast(), &mut size)
                    });
                    info_u64(|t, b, s| unsafe {
                        DSGetInfo(ds_k as H, STREAM_INFO_NUM_DELIVERED, t, b, s)
                    });
                }
            })
        })
        .collect();
    consumer.join().unwrap();
    for p in pollers {
        p.join().unwrap();
    }
    assert_eq!(*received.lock().unwrap(), 20);
    map.execute("AcquisitionStop").unwrap();
    ok(DSStopAcquisition(ds, ACQ_STOP_FLAGS_KILL));
    // A waiter blocked for ever is released by EventKill.
    ok(EventFlush(event));
    let waiter = std::thread::spawn(move || wait_buffer(ev_k as H, GENTL_INFINITE).map(|_| ()));
    std::thread::sleep(Duration::from_millis(100));
    ok(EventKill(event));
    assert_eq!(waiter.join().unwrap(), Err(GC_ERR_ABORT));
    ok(GCUnregisterEvent(ds, EVENT_NEW_BUFFER));
    assert_eq!(wait_buffer(event, 0), Err(GC_ERR_INVALID_HANDLE));
    ok(GCCloseLib());
}

#[test]
fn chunk_data_is_listed_per_buffer() {
    let _g = serial();
    let o = open_all();
    let ds = open_stream(o.dev);
    let mut map = remote_map(o.remote);
    configure(&mut map, 64, 16);
    map.set_boolean("ChunkModeActive", true).unwrap();
    map.set_enumeration("ChunkSelector", "FrameID").unwrap();
    map.set_boolean("ChunkEnable", true).unwrap();
    let payload =
        info_u64(|t, b, s| unsafe { DSGetInfo(ds, STREAM_INFO_PAYLOAD_SIZE, t, b, s) }) as usize;
    let mut b = null_mut();
    ok(unsafe { DSAllocAndAnnounceBuffer(ds, payload, null_mut(), &mut b) });
    ok(DSQueueBuffer(ds, b));
    let mut event = null_mut();
    ok(unsafe { GCRegisterEvent(ds, EVENT_NEW_BUFFER, &mut event) });
    // Never filled: no chunk list yet.
    let mut count = 0usize;
    assert_eq!(
        unsafe { DSGetBufferChunkData(ds, b, null_mut(), &mut count) },
        GC_ERR_NOT_AVAILABLE
    );
    ok(DSStartAcquisition(ds, 0, 1));
    map.execute("AcquisitionStart").unwrap();
    let filled = wait_buffer(event, 5000).expect("a buffer");
    assert_eq!(filled, b);
    assert_eq!(buffer_u64(ds, b, BUFFER_INFO_CONTAINS_CHUNKDATA) & 0xFF, 1);
    ok(unsafe { DSGetBufferChunkData(ds, b, null_mut(), &mut count) });
    assert!(count >= 1);
    let empty = SingleChunkData {
        chunk_id: 0,
        chunk_offset: 0,
        chunk_length: 0,
    };
    let mut chunks = vec![empty; count];
    let mut small = 0usize;
    assert_eq!(
        unsafe { DSGetBufferChunkData(ds, b, chunks.as_mut_ptr(), &mut small) },
        GC_ERR_BUFFER_TOO_SMALL
    );
    assert_eq!(small, count);
    ok(unsafe { DSGetBufferChunkData(ds, b, chunks.as_mut_ptr(), &mut count) });
    let frame_id = chunks
        .iter()
        .find(|c| c.chunk_id == 0x0A00_0002)
        .copied()
        .expect("the FrameID chunk");
    let (offset, length) = (frame_id.chunk_offset as usize, frame_id.chunk_length);
    assert_eq!(length, 8);
    let base = buffer_u64(ds, b, BUFFER_INFO_BASE) as usize;
    // SAFETY: the producer-allocated buffer is filled and not requeued.
    let value = unsafe { std::slice::from_raw_parts((base + offset) as *const u8, 8) };
    assert_eq!(
        u64::from_le_bytes(value.try_into().unwrap()),
        buffer_u64(ds, b, BUFFER_INFO_FRAMEID)
    );
    ok(DSStopAcquisition(ds, ACQ_STOP_FLAGS_DEFAULT));
    ok(GCCloseLib());
}

#[test]
fn camera_events_arrive_as_remote_device_events() {
    let _g = serial();
    let o = open_all();
    let ds = open_stream(o.dev);
    let mut map = remote_map(o.remote);
    configure(&mut map, 256, 16);
    map.set_enumeration("EventSelector", "ExposureEnd").unwrap();
    map.set_enumeration("EventNotification", "On").unwrap();
    // Not on a data stream; on the device.
    let mut event = null_mut();
    assert_eq!(
        unsafe { GCRegisterEvent(ds, EVENT_REMOTE_DEVICE, &mut event) },
        GC_ERR_NOT_IMPLEMENTED
    );
    let mut remote_event = null_mut();
    ok(unsafe { GCRegisterEvent(o.dev, EVENT_REMOTE_DEVICE, &mut remote_event) });
    for _ in 0..3 {
        let mut b = null_mut();
        ok(unsafe { DSAllocAndAnnounceBuffer(ds, 256 * 16, null_mut(), &mut b) });
        ok(DSQueueBuffer(ds, b));
    }
    ok(unsafe { GCRegisterEvent(ds, EVENT_NEW_BUFFER, &mut event) });
    ok(DSStartAcquisition(ds, 0, 3));
    map.execute("AcquisitionStart").unwrap();
    for _ in 0..3 {
        wait_buffer(event, 5000).expect("a frame");
    }
    // One ExposureEnd per frame, each a whole USB3 Vision event message.
    let mut frame_ids = Vec::new();
    for i in 0..3 {
        let mut buf = vec![0u8; 256];
        let mut size = buf.len();
        ok(unsafe { EventGetData(remote_event, buf.as_mut_ptr().cast(), &mut size, 5000) });
        let packet = u3v::event::decode(&buf[..size])
            .unwrap_or_else(|e| panic!("event {i} is not a U3V event message: {e}"));
        let e = packet.events().next().expect("one event");
        assert_eq!(e.event_id, 0x9001, "ExposureEnd");
        assert!(e.timestamp > 0);
        let id = info_string(|t, p, s| unsafe {
            EventGetDataInfo(
                remote_event,
                buf.as_ptr().cast(),
                size,
                EVENT_DATA_ID,
                t,
                p,
                s,
            )
        });
        assert_eq!(id, "9001");
        let numid = info_u64(|t, p, s| unsafe {
            EventGetDataInfo(
                remote_event,
                buf.as_ptr().cast(),
                size,
                EVENT_DATA_NUMID,
                t,
                p,
                s,
            )
        });
        assert_eq!(numid, 0x9001);
        let mut value = vec![0u8; 64];
        let mut value_size = value.len();
        let mut ty = 0;
        ok(unsafe {
            EventGetDataInfo(
                remote_event,
                buf.as_ptr().cast(),
                size,
                EVENT_DATA_VALUE,
                &mut ty,
                value.as_mut_ptr().cast(),
                &mut value_size,
            )
        });
        assert_eq!(&value[..value_size], e.data);
        frame_ids.push(e.data.to_vec());
    }
    // Three different frames.
    frame_ids.dedup();
    assert_eq!(frame_ids.len(), 3);
    map.execute("AcquisitionStop").unwrap();
    ok(DSStopAcquisition(ds, ACQ_STOP_FLAGS_DEFAULT));
    // Unregistered: the handle is gone.
    ok(GCUnregisterEvent(o.dev, EVENT_REMOTE_DEVICE));
    let mut size = 16usize;
    let mut buf = [0u8; 16];
    assert_eq!(
        unsafe { EventGetData(remote_event, buf.as_mut_ptr().cast(), &mut size, 0) },
        GC_ERR_INVALID_HANDLE
    );
    ok(GCCloseLib());
}

#[test]
fn buffers_are_single_part_without_flows_or_segments() {
    let _g = serial();
    let o = open_all();
    let ds = open_stream(o.dev);
    let mut b = null_mut();
    ok(unsafe { DSAllocAndAnnounceBuffer(ds, 4096, null_mut(), &mut b) });
    let mut n = 7u32;
    ok(unsafe { DSGetNumBufferParts(ds, b, &mut n) });
    assert_eq!(n, 0);
    let (mut ty, mut v, mut size) = (0i32, [0u8; 8], 8usize);
    let part =
        unsafe { DSGetBufferPartInfo(ds, b, 0, 0, &mut ty, v.as_mut_ptr().cast(), &mut size) };
    assert_eq!(part, GC_ERR_INVALID_INDEX);
    n = 7;
    ok(unsafe { DSGetNumFlows(ds, &mut n) });
    assert_eq!(n, 0);
    let flow = unsafe { DSGetFlowInfo(ds, 0, 0, &mut ty, v.as_mut_ptr().cast(), &mut size) };
    assert_eq!(flow, GC_ERR_INVALID_INDEX);
    n = 7;
    ok(unsafe { DSGetNumBufferSegments(ds, b, &mut n) });
    assert_eq!(n, 0);
    let segment =
        unsafe { DSGetBufferSegmentInfo(ds, b, 0, 0, &mut ty, v.as_mut_ptr().cast(), &mut size) };
    assert_eq!(segment, GC_ERR_INVALID_INDEX);
    let mut composite = null_mut();
    let code = unsafe { DSAnnounceCompositeBuffer(ds, 0, null_mut(), null_mut(), &mut composite) };
    assert_eq!(code, GC_ERR_NOT_IMPLEMENTED);
    assert!(last_text().contains("no flows"), "{}", last_text());
    // A buffer handle of no stream is refused first.
    assert_eq!(
        unsafe { DSGetNumBufferSegments(ds, null_mut(), &mut n) },
        GC_ERR_INVALID_HANDLE
    );
    ok(GCCloseLib());
}
