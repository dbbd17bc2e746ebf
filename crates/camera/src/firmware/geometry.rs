//! Image geometry: what Width, Height and the offsets may be, and which
//! window of the sensor a frame reads.

use pixel::format::PixelFormat;

use crate::isp::RawWindow;
use crate::model::ModelSpec;

/// Smallest Width.
pub const MIN_WIDTH: i64 = 16;
/// Smallest Height.
pub const MIN_HEIGHT: i64 = 2;

/// The geometry of the current settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Geometry {
    /// Sensor pixels per output pixel, horizontally (binning × decimation).
    pub factor_x: i64,
    /// The same vertically.
    pub factor_y: i64,
    /// WidthMax and HeightMax.
    pub width_max: i64,
    /// HeightMax.
    pub height_max: i64,
    /// Increment of Width.
    pub width_inc: i64,
    /// Increment of Height.
    pub height_inc: i64,
    /// Increment of OffsetX.
    pub offset_x_inc: i64,
    /// Increment of OffsetY.
    pub offset_y_inc: i64,
}

/// The increments and maxima for `format` at these binning and decimation
/// factors. Colour sensors keep the Bayer phase: sizes and offsets are
/// even. Packed formats need whole byte groups per line.
pub fn geometry(
    spec: &ModelSpec,
    format: PixelFormat,
    binning: (i64, i64),
    decimation: (i64, i64),
) -> Geometry {
    let color = spec.sensor.bayer.is_some();
    let factor_x = (binning.0 * decimation.0).max(1);
    let factor_y = (binning.1 * decimation.1).max(1);
    let phase = if color { 2 } else { 1 };
    let format_inc = match format {
        PixelFormat::Mono10p | PixelFormat::BayerRG10p => 4,
        PixelFormat::Mono12p
        | PixelFormat::BayerRG12p
        | PixelFormat::Mono12Packed
        | PixelFormat::YUV422_8 => 2,
        _ => 1,
    };
    let width_inc = lcm(phase, format_inc);
    let height_inc = phase;
    Geometry {
        factor_x,
        factor_y,
        width_max: Geometry::round_down(i64::from(spec.sensor.width) / factor_x, width_inc),
        height_max: Geometry::round_down(i64::from(spec.sensor.height) / factor_y, height_inc),
        width_inc,
        height_inc,
        offset_x_inc: phase,
        offset_y_inc: phase,
    }
}

fn lcm(a: i64, b: i64) -> i64 {
    let (mut x, mut y) = (a, b);
    while y != 0 {
        (x, y) = (y, x % y);
    }
    if x == 0 {
        0
    } else {
        a / x * b
    }
}

impl Geometry {
    /// Rounds `v` down to a multiple of `inc`.
    pub fn round_down(v: i64, inc: i64) -> i64 {
        if inc <= 1 {
            v
        } else {
            v - v.rem_euclid(inc)
        }
    }

    /// (min, max, inc) of Width at offset `ox`.
    pub fn width_limits(&self, ox: i64) -> (i64, i64, i64) {
        let max = Self::round_down(self.width_max - ox, self.width_inc).max(MIN_WIDTH);
        (MIN_WIDTH, max, self.width_inc)
    }

    /// (min, max, inc) of Height at offset `oy`.
    pub fn height_limits(&self, oy: i64) -> (i64, i64, i64) {
        let max = Self::round_down(self.height_max - oy, self.height_inc).max(MIN_HEIGHT);
        (MIN_HEIGHT, max, self.height_inc)
    }

    /// (min, max, inc) of OffsetX at `width`.
    pub fn offset_x_limits(&self, width: i64) -> (i64, i64, i64) {
        let max = Self::round_down((self.width_max - width).max(0), self.offset_x_inc);
        (0, max, self.offset_x_inc)
    }

    /// (min, max, inc) of OffsetY at `height`.
    pub fn offset_y_limits(&self, height: i64) -> (i64, i64, i64) {
        let max = Self::round_down((self.height_max - height).max(0), self.offset_y_inc);
        (0, max, self.offset_y_inc)
    }

    /// Clamps a ROI to these limits: returns (width, height, ox, oy).
    pub fn clamp(&self, width: i64, height: i64, ox: i64, oy: i64) -> (i64, i64, i64, i64) {
        let w = Self::round_down(
            width.clamp(MIN_WIDTH, self.width_max.max(MIN_WIDTH)),
            self.width_inc,
        );
        let h = Self::round_down(
            height.clamp(MIN_HEIGHT, self.height_max.max(MIN_HEIGHT)),
            self.height_inc,
        );
        let ox = Self::round_down(ox.clamp(0, (self.width_max - w).max(0)), self.offset_x_inc);
        let oy = Self::round_down(oy.clamp(0, (self.height_max - h).max(0)), self.offset_y_inc);
        (w, h, ox, oy)
    }

    /// The sensor window a frame of this ROI reads: on a colour sensor a
    /// mirrored axis starts one pixel later so that the mirrored mosaic
    /// still begins with red (the sensor has a margin for it).
    pub fn window(
        &self,
        spec: &ModelSpec,
        roi: (i64, i64, i64, i64),
        reverse: (bool, bool),
    ) -> RawWindow {
        let (w, h, ox, oy) = roi;
        let color = spec.sensor.bayer.is_some();
        let shift = |on: bool| u32::from(color && on);
        RawWindow {
            x: (ox * self.factor_x) as u32 + shift(reverse.0),
            y: (oy * self.factor_y) as u32 + shift(reverse.1),
            width: (w * self.factor_x) as u32,
            height: (h * self.factor_y) as u32,
            cfa: spec.sensor.bayer,
        }
    }
}
