//! The two sample types the kernels work on: `u8` and `u16`.

/// A pixel sample: `u8` (8-bit data) or `u16` (10- to 16-bit data, stored
/// right-aligned). Sealed: only these two types implement it.
pub trait Sample: Copy + Default + PartialEq + Send + Sync + 'static + private::Sealed {
    /// Largest value the type holds.
    const MAX: u32;
    /// The sample widened to `u32`.
    fn to_u32(self) -> u32;
    /// `v` clipped to `0..=MAX`.
    fn from_u32_clamped(v: u32) -> Self;
    /// The slice as bytes if the samples are `u8`, so that generic
    /// functions can hand 8-bit data to byte kernels.
    #[doc(hidden)]
    fn as_bytes_mut(samples: &mut [Self]) -> Option<&mut [u8]>;
}

impl Sample for u8 {
    const MAX: u32 = u8::MAX as u32;
    #[inline(always)]
    fn to_u32(self) -> u32 {
        self as u32
    }
    #[inline(always)]
    fn from_u32_clamped(v: u32) -> Self {
        v.min(<Self as Sample>::MAX) as u8
    }
    #[inline(always)]
    fn as_bytes_mut(samples: &mut [u8]) -> Option<&mut [u8]> {
        Some(samples)
    }
}

impl Sample for u16 {
    const MAX: u32 = u16::MAX as u32;
    #[inline(always)]
    fn to_u32(self) -> u32 {
        self as u32
    }
    #[inline(always)]
    fn from_u32_clamped(v: u32) -> Self {
        v.min(<Self as Sample>::MAX) as u16
    }
    #[inline(always)]
    fn as_bytes_mut(_: &mut [u16]) -> Option<&mut [u8]> {
        None
    }
}

mod private {
    pub trait Sealed {}
    impl Sealed for u8 {}
    impl Sealed for u16 {}
}
