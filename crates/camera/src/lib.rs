//! The mvcam virtual camera: a USB3 Vision area-scan camera's firmware,
//! run as a device model.

#![warn(missing_docs)]

pub mod auto;
pub mod isp;
pub mod lines;
pub mod model;
pub mod scene;
pub mod schedule;
pub mod sensor;
pub mod test_image;
pub mod timing;
