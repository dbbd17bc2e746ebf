//! PFNC pixel formats and image kernels.
//!
//! Pure functions over slices, no I/O except in [`file`]. The kernels write
//! into buffers the caller passes; the display conversions (`convert`)
//! allocate scratch space where a packed or Bayer source needs it.

pub mod color;
pub mod convert;
pub mod defect;
pub mod demosaic;
pub mod ffc;
pub mod file;
pub mod format;
pub mod geometry;
pub mod levels;
pub mod lut;
pub mod pack;
pub mod pipeline;
pub mod sample;
mod simd;
pub mod stats;

pub use sample::Sample;
