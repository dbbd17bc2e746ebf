//! The camera exported over USB/IP on loopback: the host side runs
//! unchanged over TCP.

mod support;

use std::sync::Arc;
use std::time::Duration;

use camera::{Camera, CameraConfig, ClockMode, Model};
use support::Host;

#[test]
fn the_camera_streams_test_images_over_usbip() {
    let mut config = CameraConfig::new(Model::Color5MP);
    config.clock = ClockMode::AsFastAsPossible;
    let camera = Camera::new(config).unwrap();
    let mut server = usbip::server::Server::bind("127.0.0.1:0").unwrap();
    let busid = server.export(camera.device()).unwrap();
    let handle = server.spawn().unwrap();
    let addr = handle.local_addr();
    let listed = usbip::client::Client::list(addr).unwrap();
    assert_eq!(listed.len(), 1);
    let link = Arc::new(usbip::client::Client::import(addr, &busid).unwrap());
    // A second import of the same camera is refused.
    assert!(usbip::client::Client::import(addr, &busid).is_err());
    let mut h = Host::over(camera, link);
    assert_eq!(h.map.string("DeviceSerialNumber").unwrap(), "MV500C0001");
    h.map.set_integer("Width", 1024).unwrap();
    h.map.set_integer("Height", 512).unwrap();
    h.map.set_enumeration("PixelFormat", "BayerRG8").unwrap();
    h.map
        .set_enumeration("TestImageSelector", "ColorBar")
        .unwrap();
    h.configure_stream();
    h.map.execute("AcquisitionStart").unwrap();
    for _ in 0..5 {
        let (info, data) = h.frame(Duration::from_secs(10));
        assert_eq!((info.image.size_x, info.image.size_y), (1024, 512));
        // Bar 0 is white: its red, green and blue samples are all 255;
        // bar 1 (yellow) has no blue.
        assert_eq!(&data[0..4], &[255, 255, 255, 255]);
        assert_eq!(data[1024 + 257], 0, "blue sample of the yellow bar");
        assert_eq!(data[256], 255, "red sample of the yellow bar");
    }
    h.map.execute("AcquisitionStop").unwrap();
    drop(h);
    handle.stop();
}
