//! The camera seen from a host: the GenICam file through the manifest, a
//! genapi node map over GenCP, and frames on the stream endpoint.

mod support;

use std::time::Duration;

use camera::Model;
use support::Host;

const T: Duration = Duration::from_secs(10);

#[test]
fn device_information_through_genapi() {
    let mut h = Host::new(Model::Color5MP);
    let m = &mut h.map;
    assert_eq!(m.string("DeviceVendorName").unwrap(), "mvcam");
    assert_eq!(m.string("DeviceModelName").unwrap(), "MV-U3-500C");
    assert_eq!(m.string("DeviceSerialNumber").unwrap(), "MV500C0001");
    assert_eq!(m.integer("SensorWidth").unwrap(), 2448);
    assert_eq!(m.integer("SensorHeight").unwrap(), 2048);
    assert_eq!(m.enumeration("DeviceTLType").unwrap(), "USB3Vision");
    assert_eq!(m.enumeration("PixelFormat").unwrap(), "BayerRG8");
    assert_eq!(m.integer("PayloadSize").unwrap(), 2448 * 2048);
    m.set_string("DeviceUserID", "line-3").unwrap();
    assert_eq!(m.string("DeviceUserID").unwrap(), "line-3");
    assert_eq!(h.camera.user_id(), "line-3");
    let t = h.map.float("DeviceTemperature").unwrap();
    assert!((20.0..60.0).contains(&t), "{t}");
}

#[test]
fn roi_ranges_follow_binning_and_pixel_format() {
    let mut h = Host::new(Model::Color5MP);
    let m = &mut h.map;
    assert_eq!(m.integer_max("Width").unwrap(), 2448);
    assert_eq!(m.integer_inc("Width").unwrap(), 2);
    assert_eq!(m.integer_inc("OffsetX").unwrap(), 2);
    m.set_integer("Width", 1000).unwrap();
    assert_eq!(m.integer_max("OffsetX").unwrap(), 1448);
    m.set_integer("OffsetX", 1448).unwrap();
    assert_eq!(m.integer_max("Width").unwrap(), 1000);
    assert!(m.set_integer("Width", 1002).is_err());
    // An odd offset would break the Bayer phase.
    assert!(m.set_integer("OffsetX", 3).is_err());
    m.set_integer("OffsetX", 0).unwrap();
    // Binning halves the maximum and clamps the ROI.
    m.set_integer("Width", 2448).unwrap();
    m.set_integer("BinningHorizontal", 2).unwrap();
    assert_eq!(m.integer("WidthMax").unwrap(), 1224);
    assert_eq!(m.integer("Width").unwrap(), 1224);
    assert!(m.set_integer("BinningHorizontal", 3).is_err());
    // Packed 10-bit needs widths in steps of 4.
    m.set_enumeration("PixelFormat", "BayerRG10p").unwrap();
    assert_eq!(m.integer_inc("Width").unwrap(), 4);
    assert_eq!(m.integer("Width").unwrap() % 4, 0);
    let w = m.integer("Width").unwrap() as u64;
    let hgt = m.integer("Height").unwrap() as u64;
    assert_eq!(m.integer("PayloadSize").unwrap() as u64, w * hgt * 10 / 8);
    // The black level range follows the ADC depth.
    assert_eq!(m.float_max("BlackLevel").unwrap(), 255.0);
    m.set_enumeration("AdcBitDepth", "Bit10").unwrap();
    assert_eq!(m.float_max("BlackLevel").unwrap(), 63.0);
}

#[test]
fn test_image_frames_arrive_with_their_content() {
    let mut h = Host::new(Model::Mono5MP);
    let m = &mut h.map;
    m.set_integer("Width", 512).unwrap();
    m.set_integer("Height", 8).unwrap();
    m.set_integer("OffsetX", 100).unwrap();
    m.set_enumeration("TestImageSelector", "GreyHorizontalRampMoving")
        .unwrap();
    h.configure_stream();
    h.map.execute("AcquisitionStart").unwrap();
    let mut last = None;
    for _ in 0..3 {
        let (info, data) = h.frame(T);
        assert_eq!((info.image.size_x, info.image.size_y), (512, 8));
        assert_eq!(info.image.offset_x, 100);
        assert_eq!(data.len(), 512 * 8);
        let shift = data[0].wrapping_sub(100u8);
        for (i, v) in data.iter().enumerate() {
            let x = (i % 512) as u32 + 100;
            assert_eq!(u32::from(*v), (x + u32::from(shift)) % 256, "pixel {i}");
        }
        if let Some(prev) = last {
            assert_eq!(info.block_id, prev + 1);
        }
        last = Some(info.block_id);
    }
    h.map.execute("AcquisitionStop").unwrap();
}

#[test]
fn image_format_is_locked_while_acquiring() {
    let mut h = Host::new(Model::Mono5MP);
    h.map.set_integer("Height", 16).unwrap();
    h.configure_stream();
    h.map.execute("AcquisitionStart").unwrap();
    assert!(h.map.set_integer("Width", 64).is_err());
    assert!(h.map.set_enumeration("PixelFormat", "Mono12").is_err());
    // Exposure may change while acquiring.
    h.map.set_float("ExposureTime", 2000.0).unwrap();
    h.map.execute("AcquisitionStop").unwrap();
    let _ = h.frame(T);
    std::thread::sleep(Duration::from_millis(50));
    h.map.set_integer("Width", 64).unwrap();
}
