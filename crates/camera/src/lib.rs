//! The mvcam virtual camera: a USB3 Vision area-scan camera's firmware,
//! run as a device model.
//!
//! [`Camera::new`] powers a camera up; [`Camera::connect`] plugs an
//! in-process cable in (a [`u3v::UsbLink`]) and [`Camera::device`] hands the
//! USB device out for other transports such as USB/IP. Everything a host
//! does goes through the USB3 Vision protocol: GenCP register access on
//! the control endpoints, events on the event endpoint, frames on the
//! stream endpoint.
//!
//! | module | what |
//! |---|---|
//! | [`model`] | the three models and their sensors |
//! | [`features`] | the one feature table: register map, dispatch, GenICam XML |
//! | [`firmware`] | the state behind the features, the acquisition engine, calibration, user sets |
//! | [`sensor`] | the image sensor (EMVA 1288) |
//! | [`scene`] | what the camera looks at |
//! | [`test_image`] | TestImageSelector's images |
//! | [`isp`] | the on-camera image pipeline |
//! | [`auto`] | auto exposure, gain, white balance and black level |
//! | [`timing`] | the frame-rate model |
//! | [`schedule`] | acquisition modes and triggers |
//! | [`lines`] | the I/O lines |
//! | [`device`] | the USB device |

#![warn(missing_docs)]

pub mod auto;
mod camera;
pub mod device;
pub mod features;
pub mod firmware;
pub mod isp;
pub mod lines;
pub mod model;
pub mod scene;
pub mod schedule;
pub mod sensor;
pub mod test_image;
pub mod timing;

pub use camera::{default_serial, Camera, CameraConfig, CameraError};
pub use firmware::ClockMode;
pub use model::Model;
