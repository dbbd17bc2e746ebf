//! The mvcam GenTL producer, built as `mvcam.cti`: existing GenICam
//! software (Harvesters, HALCON, vendor viewers) discovers and streams
//! from every camera the SDK reaches — the built-in virtual cameras,
//! USB/IP cameras and USB3 Vision cameras on the bus.
//!
//! Build it with `scripts/build-cti.sh` (it runs
//! `cargo build --release -p gentl` and copies the library to
//! `target/release/mvcam.cti`).
//!
//! | module | what |
//! |---|---|
//! | [`api`] | the exported GenTL C functions |
//! | [`abi`] | the GenTL header's values and packed structures |
//! | [`error`] | [`GcError`], its codes, the per-thread last error |
//! | `info` | typed info answers and how they are written |
//! | `local_port` | the modules' own ports and GenICam XML, from feature tables |
//! | `modules` | System, Interface and Device modules, the remote device port |
//! | `stream` | DataStream, buffers and the acquisition engine |
//! | `event` | event queues |
//! | `registry` | handles: a stale or foreign one is refused, never dereferenced |
//!
//! Which cameras are listed follows the SDK's environment variables
//! (`MVCAM_VIRTUAL`, `MVCAM_USBIP`). The data stream is armed by
//! `DSStartAcquisition`; its engine starts when the consumer executes the
//! camera's AcquisitionStart through the remote port (or at once when the
//! camera's description has no such command), in the camera's
//! AcquisitionMode.

#![warn(missing_docs)]

pub mod abi;
pub mod api;
pub mod error;
mod event;
mod info;
mod local_port;
mod modules;
mod registry;
mod stream;

pub use error::{GcError, GcResult};
