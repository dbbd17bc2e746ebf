//! PFNC pixel formats and image kernels.
//!
//! Pure functions over slices, no I/O. The packing and demosaicing kernels
//! write into buffers the caller passes; the display conversions (`convert`)
//! allocate scratch space where a packed or Bayer source needs it.

pub mod convert;
pub mod demosaic;
pub mod format;
pub mod pack;
