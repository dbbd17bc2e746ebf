//! The mvcam SDK: discover, open, configure and stream from USB3 Vision
//! cameras, virtual or real.
//!
//! ```no_run
//! use std::time::Duration;
//! use mvcam::{StreamOptions, System};
//!
//! let system = System::from_env()?;            // the built-in virtual camera by default
//! for d in system.devices().devices {
//!     println!("{} {} {} ({})", d.vendor, d.model, d.serial, d.access);
//! }
//! let camera = system.open("0")?;              // index, serial, user id or usbip://host:port/busid
//! camera.set_str("Width", "640")?;
//! camera.set_str("PixelFormat", "Mono8")?;
//! let stream = camera.start_stream(&StreamOptions::default())?;
//! let frame = stream.next_frame(Duration::from_secs(5))?;
//! frame.save("frame.png")?;
//! println!("{:?}", stream.stop()?);
//! # Ok::<(), mvcam::Error>(())
//! ```
//!
//! | module | what |
//! |---|---|
//! | [`system`] | discovery (virtual, USB/IP, USB) and opening by index, serial, user id or address |
//! | [`camera`] | [`Camera`]: features, commands, GenICam file, configuration files, user sets, events |
//! | [`feature`] | typed values, feature descriptions and listing by user level |
//! | [`stream`] | [`Stream`]: buffer pool, acquisition modes, queue policies, callbacks, statistics |
//! | [`frame`] | [`Frame`]: metadata, chunk data, conversion, saving, [`Recorder`] |
//! | [`events`] | device and SDK [`Event`]s |
//! | [`emulate`](mod@emulate) | serving virtual cameras over USB/IP |
//! | [`bench`](mod@bench) | stream throughput measurement |
//! | [`usb`] | USB3 Vision cameras on the USB bus |
//!
//! # Exclusive access and disconnects
//!
//! One [`Camera`] handle (and its clones) holds a device at a time: a
//! second open gets [`Error::InUse`]. A device that goes away makes the
//! next call fail with [`Error::Disconnected`] (never a hang). A virtual
//! camera that disconnected powers up again once every handle on it is
//! dropped, so [`System::open`] opens it again; a USB/IP device is opened
//! again once its server exports it again.

#![warn(missing_docs)]

pub mod bench;
pub mod camera;
pub mod emulate;
mod error;
pub mod events;
pub mod feature;
pub mod frame;
pub mod stream;
pub mod system;
pub mod usb;

pub use camera::{Camera, ConfigFailure, ConfigReport, UserSetAction};
pub use emulate::{emulate, Emulator, EmulatorOptions};
pub use error::{Error, Result};
pub use events::Event;
pub use feature::{FeatureFilter, FeatureInfo, FeatureKind, Level, Value};
pub use frame::{Frame, FrameInfo, Recorder};
pub use stream::{
    AcquisitionMode, CallbackStream, QueuePolicy, Statistics, Stream, StreamOptions,
    DEFAULT_MAX_TRANSFER,
};
pub use system::{Access, DeviceInfo, Discovery, LinkWrapper, System, SystemOptions, Transport};

/// The virtual camera models and clock modes, for [`SystemOptions`].
pub use ::camera::{ClockMode, Model};
/// Image files and pixel formats, for [`Frame`] conversion and saving.
pub use pixel::{file::FileFormat, file::Image, format::PixelFormat};
