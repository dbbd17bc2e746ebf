//! The on-camera image pipeline (ISP): raw ADC samples of a sensor window
//! in, one frame of the output pixel format out.
//!
//! # Steps
//!
//! In this order (DESIGN.md, "How a frame travels"):
//!
//! 1. **Defect correction** ([`pixel::defect::correct`]) with the list's
//!    full-sensor coordinates translated into the window (defects outside
//!    the window are ignored; estimates use the window's pixels only).
//! 2. **Flat-field correction** ([`pixel::ffc::apply_ffc`]) with the part of
//!    the full-sensor maps that lies under the window.
//! 3. **Binning** and 4. **decimation** ([`pixel::geometry::bin`],
//!    [`pixel::geometry::decimate`]): Bayer-aware on a colour sensor (the
//!    mosaic keeps its pattern), plain on a mono sensor.
//! 5. **Mirror** (`ReverseX`, `ReverseY`, [`pixel::geometry::mirror`]).
//! 6. **Bit depth** change to the output depth (see below), then **white
//!    balance and digital gain** as one per-channel factor
//!    `BalanceRatio[c] · 10^(dB / 20) · 2^DigitalShift`, applied in fixed
//!    point with 16 fractional bits, rounded half up and clipped to the
//!    output maximum ([`pixel::color::white_balance_bayer`] on a mosaic,
//!    [`pixel::levels::apply_gain_fixed`] on mono data, where the balance
//!    ratios are ignored). Since every factor is positive and clipping is
//!    monotonic, this equals applying balance, gain and shift one after the
//!    other with a clip after each, up to a single rounding.
//! 7. **Demosaicing** when the output is colour (`RGB8`, `BGR8`,
//!    `YUV422_8`, or `Mono8` from a colour sensor): bilinear or
//!    Malvar-He-Cutler ([`DemosaicMethod`]).
//! 8. **Colour transformation matrix**, followed by the saturation/hue
//!    matrix ([`ColorMatrix::saturation_hue`]), folded into one matrix with
//!    [`ColorMatrix::then`] (colour outputs only).
//! 9. **Gamma or LUT** on every sample (on R, G and B for colour outputs,
//!    before the conversion to luma or YUV). If both are set, **gamma wins**
//!    and the LUT is ignored. Gamma: `out = max · (in / max)^γ`
//!    ([`pixel::lut::gamma_value`], `max` the output maximum). LUT: the
//!    sample is scaled to a 12-bit index ([`Lut12::index_of`]) and the entry
//!    (of [`Lut12::out_bit_depth`] bits) is scaled to the output depth by the
//!    same shift rule as the bit depth change.
//! 10. **Packing** into the pixel format ([`pixel::pack::pack_from_u16`] for
//!     mono and Bayer formats; RGB8 / BGR8 / YUYV / luma written here).
//!
//! Steps 6–10 of an 8-bit colour output run through
//! [`pixel::pipeline::ColorPipeline`], the fused banded implementation of
//! white balance, demosaic, matrix and table.
//!
//! # Bit depths
//!
//! Steps 1–5 work on the raw samples at `adc_bits` (samples above
//! `2^adc_bits − 1` are treated as that maximum; binning sums clip there).
//! The output depth (8, 10 or 12 bits, from the pixel format; 8 for every
//! colour format) is reached by shifting: raw 12-bit to 8-bit output is
//! `>> 4` (the top 8 bits), raw 8-bit to 12-bit output is `<< 4`. Gains,
//! `DigitalShift`, gamma and the LUT act at the output depth, with clipping.
//!
//! # Bayer phase
//!
//! Bayer output formats deliver the mosaic as it is, so its colour phase
//! after the window offset ([`pixel::geometry::bayer_after_offset`]) and
//! mirroring ([`pixel::geometry::bayer_after_mirror`]) must be the format's
//! (`RG` for `BayerRG*`): the caller picks the window (shifting it by one
//! pixel on a mirrored axis of even size). Binning and decimation keep the
//! phase. A mismatch is [`IspError::BayerPhase`]. Colour outputs accept any
//! phase (the demosaic is told the actual one).
//!
//! # YUV422_8
//!
//! YUYV (`Y0 U Y1 V`), ITU-R BT.601 **studio range** (Y 16–235, U and V
//! 16–240), the range the host's display conversion decodes
//! (`pixel::convert`). Per pixel, in 16-bit fixed point:
//! `Y = 16 + (16829 R + 33039 G + 6416 B + 2^15) >> 16`; the chroma of a
//! pair is computed from the sums of the two pixels' R, G and B:
//! `U = 128 + (−9714 ΣR − 19070 ΣG + 28784 ΣB + 2^16) >> 17`,
//! `V = 128 + (28784 ΣR − 24103 ΣG − 4681 ΣB + 2^16) >> 17` (clipped to
//! 0–255). Pure red (255, 0, 0) gives Y 81, U 90, V 240; white gives Y 235,
//! U = V = 128. With an odd width the last pixel is paired with itself.
//!
//! `Mono8` from a colour sensor is the BT.601 full-range luma with
//! `pixel::convert`'s integer weights, `(4899 R + 9617 G + 1868 B + 8192) >> 14`.
//!
//! # Output size
//!
//! [`Isp::output_size`]: the window size divided by binning and then by
//! decimation per axis, i.e. `width / (b · d)` for mono data and for Bayer
//! sizes that are multiples of `2 · b · d`; on a Bayer mosaic a trailing
//! partial same-colour block is dropped (see [`pixel::geometry`]).

use std::sync::Arc;

use rayon::prelude::*;

use pixel::color::{self, ColorError, ColorMatrix};
use pixel::defect::{self, DefectError, DefectList};
use pixel::demosaic::BayerPattern;
use pixel::ffc::{self, FfcError, FlatField};
use pixel::format::PixelFormat;
use pixel::geometry::{self, Binning, Decimation, GeometryError, PixelLayout};
use pixel::levels::{self, LevelsError};
use pixel::lut::{self, Lut12, Lut8, LutError};
use pixel::pack::{self, PackError};
use pixel::pipeline::{ColorPipeline, DemosaicMethod, PipelineError, PipelineSettings};

/// Output rows per parallel work item of the level and conversion passes
/// (even, so that every band starts on the same Bayer phase).
const BAND_ROWS: usize = 16;

/// Fractional bits of the combined gain (the white-balance precision of
/// [`pixel::color`]).
const GAIN_FRAC_BITS: u32 = color::WB_FRAC_BITS;

/// Largest `BalanceRatio`.
pub const MAX_BALANCE_RATIO: f64 = 15.0;

/// The ISP settings: the image-processing features of the camera.
#[derive(Debug, Clone)]
pub struct IspSettings {
    /// Depth of the raw samples (1..=16; the models use 8, 10 and 12).
    pub adc_bits: u32,
    /// Binning factors (1, 2, 4) and modes.
    pub binning: Binning,
    /// Decimation factors (1, 2, 4).
    pub decimation: Decimation,
    /// `ReverseX`: mirror the columns.
    pub reverse_x: bool,
    /// `ReverseY`: mirror the rows.
    pub reverse_y: bool,
    /// The output pixel format.
    pub pixel_format: PixelFormat,
    /// Defect pixels to correct (`None`: correction disabled), in
    /// full-sensor coordinates.
    pub defects: Option<Arc<DefectList>>,
    /// Flat-field maps over the full sensor (`None`: FFC disabled).
    pub flat_field: Option<Arc<FlatField>>,
    /// `BalanceRatio` of red, green and blue (0..=15); ignored for mono
    /// sensors.
    pub balance: [f64; 3],
    /// Digital gain (`GainSelector = DigitalAll`) in dB.
    pub digital_gain_db: f64,
    /// `DigitalShift` (0..=4): the output is multiplied by `2^n`, clipped.
    pub digital_shift: u32,
    /// Demosaicing method for colour outputs.
    pub demosaic: DemosaicMethod,
    /// The colour transformation matrix (`ColorTransformationEnable` with
    /// `Gain00..Gain22`, row = output channel), `None` when disabled.
    pub color_matrix: Option<[[f64; 3]; 3]>,
    /// Saturation (0..=2, 1 = unchanged).
    pub saturation: f64,
    /// Hue rotation in degrees (0 = unchanged).
    pub hue_degrees: f64,
    /// Gamma (`GammaEnable` with `Gamma`, 0 < γ ≤ 3.99998); takes
    /// precedence over `lut`.
    pub gamma: Option<f64>,
    /// The user LUT (`LUTEnable`), ignored while `gamma` is set.
    pub lut: Option<Arc<Lut12>>,
}

impl Default for IspSettings {
    /// 12-bit raw samples to `Mono8`, every correction and gain off.
    fn default() -> Self {
        IspSettings {
            adc_bits: 12,
            binning: Binning::default(),
            decimation: Decimation::default(),
            reverse_x: false,
            reverse_y: false,
            pixel_format: PixelFormat::Mono8,
            defects: None,
            flat_field: None,
            balance: [1.0; 3],
            digital_gain_db: 0.0,
            digital_shift: 0,
            demosaic: DemosaicMethod::Bilinear,
            color_matrix: None,
            saturation: 1.0,
            hue_degrees: 0.0,
            gamma: None,
            lut: None,
        }
    }
}

/// Where the raw window sits on the sensor and the sensor's colour filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawWindow {
    /// First column, in sensor pixels.
    pub x: u32,
    /// First row, in sensor pixels.
    pub y: u32,
    /// Columns of the window.
    pub width: u32,
    /// Rows of the window.
    pub height: u32,
    /// Bayer pattern at sensor pixel (0, 0); `None` for a mono sensor.
    pub cfa: Option<BayerPattern>,
}

/// Errors of [`Isp::process`].
#[derive(Debug, thiserror::Error)]
pub enum IspError {
    /// `width * height` of the window (or of a buffer) overflows.
    #[error("image size {width}x{height} overflows")]
    SizeOverflow {
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
    },
    /// The raw buffer does not hold exactly `width * height` samples.
    #[error("raw buffer holds {actual} samples, the window needs {needed}")]
    RawLength {
        /// Samples of the window.
        needed: usize,
        /// Samples passed.
        actual: usize,
    },
    /// The output buffer is not exactly the frame's size.
    #[error("output buffer holds {actual} bytes, the frame needs {needed}")]
    OutputLength {
        /// Bytes of the frame.
        needed: usize,
        /// Bytes passed.
        actual: usize,
    },
    /// The pixel format cannot be produced from this sensor.
    #[error("pixel format {format} is not supported for a {sensor} sensor")]
    UnsupportedFormat {
        /// The format requested.
        format: PixelFormat,
        /// `"colour"` or `"mono"`.
        sensor: &'static str,
    },
    /// The mosaic delivered would not have the format's Bayer phase.
    #[error(
        "Bayer phase {actual:?} after window offset and mirror, the format needs {expected:?}"
    )]
    BayerPhase {
        /// The format's pattern.
        expected: BayerPattern,
        /// The pattern the mosaic would have.
        actual: BayerPattern,
    },
    /// `adc_bits` outside 1..=16.
    #[error("invalid ADC bit depth {0} (must be 1..=16)")]
    AdcBits(u32),
    /// A setting outside its range.
    #[error("invalid {name} {value}")]
    InvalidSetting {
        /// The setting (feature) name.
        name: &'static str,
        /// The value passed.
        value: f64,
    },
    /// The flat-field maps do not cover the window.
    #[error("flat-field maps of {map_width}x{map_height} do not cover the window")]
    FlatFieldWindow {
        /// Map width.
        map_width: usize,
        /// Map height.
        map_height: usize,
    },
    /// Binning, decimation or mirror error.
    #[error("geometry: {0}")]
    Geometry(#[from] GeometryError),
    /// Defect correction error.
    #[error("defect correction: {0}")]
    Defect(#[from] DefectError),
    /// Flat-field correction error.
    #[error("flat-field correction: {0}")]
    FlatField(#[from] FfcError),
    /// White balance or colour matrix error.
    #[error("colour: {0}")]
    Color(#[from] ColorError),
    /// Gain error.
    #[error("levels: {0}")]
    Levels(#[from] LevelsError),
    /// Gamma or LUT error.
    #[error("look-up table: {0}")]
    Lut(#[from] LutError),
    /// Packing error.
    #[error("packing: {0}")]
    Pack(#[from] PackError),
    /// Colour pipeline error.
    #[error("colour pipeline: {0}")]
    Pipeline(#[from] PipelineError),
}

/// What the output format asks of the pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Output {
    /// One sample per pixel (mono or Bayer) of the given depth.
    Single { bits: u32 },
    /// Demosaiced, then written as the format says.
    Colour(ColourOutput),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ColourOutput {
    Rgb,
    Bgr,
    Yuyv,
    Luma,
}

/// Everything `process` derives from the window and the settings.
struct Plan {
    layout: PixelLayout,
    out_w: usize,
    out_h: usize,
    output: Output,
    /// Pattern of the mosaic after the geometry steps (colour sensors).
    pattern: Option<BayerPattern>,
    /// Combined per-channel gains (R, G, B; mono uses G).
    gains: [f64; 3],
}

/// The image pipeline, holding scratch buffers reused from frame to frame.
#[derive(Debug, Default)]
pub struct Isp {
    /// Raw-depth window / geometry results.
    work: Vec<u16>,
    /// Second raw-depth buffer for the geometry steps.
    spare: Vec<u16>,
    /// 8-bit mosaic of a colour output.
    mosaic8: Vec<u8>,
    /// RGB8 image of a colour output that is not RGB8.
    rgb: Vec<u8>,
}

impl Isp {
    /// An ISP with empty scratch buffers.
    pub fn new() -> Isp {
        Isp::default()
    }

    /// Output size for a raw window under these settings: the window size
    /// reduced by binning and then by decimation, per axis (see the
    /// [module documentation](self)). Invalid factors give `(0, 0)`
    /// ([`Isp::process`] reports them).
    pub fn output_size(window: &RawWindow, settings: &IspSettings) -> (u32, u32) {
        let layout = sensor_layout(window);
        geometry_size(layout, window, settings)
            .map(|(w, h)| (w as u32, h as u32))
            .unwrap_or((0, 0))
    }

    /// Processes `raw` (`window.width × window.height` samples at
    /// `settings.adc_bits`) into `out`, which must be exactly
    /// `pixel_format.image_bytes(out_w, out_h)` bytes for the size
    /// [`Isp::output_size`] gives.
    ///
    /// Errors: buffer sizes, a format the sensor cannot produce (colour
    /// from a mono sensor, mono deeper than 8 bits or Bayer formats from
    /// the wrong sensor), a Bayer phase mismatch, settings out of range,
    /// flat-field maps that do not cover the window, defect lists, and the
    /// kernels' own errors.
    pub fn process(
        &mut self,
        raw: &[u16],
        window: &RawWindow,
        settings: &IspSettings,
        out: &mut [u8],
    ) -> Result<(), IspError> {
        let plan = plan(window, settings)?;
        let needed = (window.width as usize)
            .checked_mul(window.height as usize)
            .ok_or(IspError::SizeOverflow {
                width: window.width,
                height: window.height,
            })?;
        if raw.len() != needed {
            return Err(IspError::RawLength {
                needed,
                actual: raw.len(),
            });
        }
        let frame_bytes = settings
            .pixel_format
            .image_bytes(plan.out_w, plan.out_h)
            .ok_or(IspError::SizeOverflow {
                width: plan.out_w as u32,
                height: plan.out_h as u32,
            })?;
        if out.len() != frame_bytes {
            return Err(IspError::OutputLength {
                needed: frame_bytes,
                actual: out.len(),
            });
        }
        if plan.out_w == 0 || plan.out_h == 0 {
            return Ok(());
        }
        let mosaic = geometry_steps(
            raw,
            window,
            settings,
            &plan,
            &mut self.work,
            &mut self.spare,
        )?;
        match plan.output {
            Output::Single { bits } => single_sample(mosaic, settings, &plan, bits, out),
            Output::Colour(kind) => {
                let n = plan.out_w * plan.out_h;
                if self.mosaic8.len() < n {
                    self.mosaic8.resize(n, 0);
                }
                let mosaic8 = &mut self.mosaic8[..n];
                let (up, down) = depth_shifts(settings.adc_bits, 8);
                let max = depth_max(settings.adc_bits);
                mosaic8
                    .par_chunks_mut(BAND_ROWS * plan.out_w)
                    .zip(mosaic.par_chunks(BAND_ROWS * plan.out_w))
                    .for_each(|(d, s)| {
                        for (d, &s) in d.iter_mut().zip(s) {
                            *d = ((u32::from(s).min(max) << up) >> down) as u8;
                        }
                    });
                colour(mosaic8, settings, &plan, kind, &mut self.rgb, out)
            }
        }
    }
}

/// The layout of the raw window: a mosaic on a colour sensor.
fn sensor_layout(window: &RawWindow) -> PixelLayout {
    match window.cfa {
        Some(p) => PixelLayout::Bayer(geometry::bayer_after_offset(
            p,
            window.x as usize,
            window.y as usize,
        )),
        None => PixelLayout::Mono,
    }
}

/// Size after binning and decimation.
fn geometry_size(
    layout: PixelLayout,
    window: &RawWindow,
    settings: &IspSettings,
) -> Result<(usize, usize), GeometryError> {
    let (w, h) = geometry::binned_size(
        layout,
        window.width as usize,
        window.height as usize,
        &settings.binning,
    )?;
    geometry::decimated_size(layout, w, h, &settings.decimation)
}

fn depth_max(bits: u32) -> u32 {
    ((1u64 << bits) - 1) as u32
}

/// `(left, right)` shifts taking a `from`-bit sample to `to` bits.
fn depth_shifts(from: u32, to: u32) -> (u32, u32) {
    if to >= from {
        (to - from, 0)
    } else {
        (0, from - to)
    }
}

fn check_range(name: &'static str, value: f64, lo: f64, hi: f64) -> Result<(), IspError> {
    if value.is_finite() && (lo..=hi).contains(&value) {
        Ok(())
    } else {
        Err(IspError::InvalidSetting { name, value })
    }
}

/// Validates the settings against the window and derives the plan.
fn plan(window: &RawWindow, settings: &IspSettings) -> Result<Plan, IspError> {
    if !(1..=16).contains(&settings.adc_bits) {
        return Err(IspError::AdcBits(settings.adc_bits));
    }
    let format = settings.pixel_format;
    let colour_sensor = window.cfa.is_some();
    let unsupported = IspError::UnsupportedFormat {
        format,
        sensor: if colour_sensor { "colour" } else { "mono" },
    };
    let output = match format {
        PixelFormat::RGB8 if colour_sensor => Output::Colour(ColourOutput::Rgb),
        PixelFormat::BGR8 if colour_sensor => Output::Colour(ColourOutput::Bgr),
        PixelFormat::YUV422_8 if colour_sensor => Output::Colour(ColourOutput::Yuyv),
        PixelFormat::Mono8 if colour_sensor => Output::Colour(ColourOutput::Luma),
        f if f.is_single_sample() && matches!(f.pixel_bits(), 8 | 10 | 12) => {
            if f.bayer().is_some() != colour_sensor {
                return Err(unsupported);
            }
            Output::Single {
                bits: f.pixel_bits(),
            }
        }
        _ => return Err(unsupported),
    };
    check_range("DigitalShift", f64::from(settings.digital_shift), 0.0, 4.0)?;
    check_range("Gain (DigitalAll)", settings.digital_gain_db, -48.0, 48.0)?;
    for &b in &settings.balance {
        check_range("BalanceRatio", b, 0.0, MAX_BALANCE_RATIO)?;
    }
    check_range("Saturation", settings.saturation, 0.0, 2.0)?;
    check_range("Hue", settings.hue_degrees, -360.0, 360.0)?;
    if let Some(g) = settings.gamma {
        check_range("Gamma", g, f64::MIN_POSITIVE, lut::MAX_GAMMA)?;
    }
    if let Some(m) = &settings.color_matrix {
        for &v in m.iter().flatten() {
            check_range(
                "ColorTransformationValue",
                v,
                -f64::from(color::MAX_MATRIX_COEFFICIENT),
                f64::from(color::MAX_MATRIX_COEFFICIENT),
            )?;
        }
    }
    let layout = sensor_layout(window);
    let (out_w, out_h) = geometry_size(layout, window, settings)?;
    let pattern = match layout {
        PixelLayout::Bayer(p) => Some(geometry::bayer_after_mirror(
            p,
            out_w,
            out_h,
            settings.reverse_x,
            settings.reverse_y,
        )),
        _ => None,
    };
    if let (Some(expected), Some(actual)) = (format.bayer(), pattern) {
        if expected != actual {
            return Err(IspError::BayerPhase { expected, actual });
        }
    }
    let common =
        levels::db_to_factor(settings.digital_gain_db) * f64::from(1u32 << settings.digital_shift);
    let gains = if colour_sensor {
        settings.balance.map(|b| b * common)
    } else {
        [common; 3]
    };
    Ok(Plan {
        layout,
        out_w,
        out_h,
        output,
        pattern,
        gains,
    })
}

/// Steps 1–5 at raw depth; returns the `out_w × out_h` mosaic (borrowed
/// from `raw` when no step changes anything).
fn geometry_steps<'a>(
    raw: &'a [u16],
    window: &RawWindow,
    settings: &IspSettings,
    plan: &Plan,
    work: &'a mut Vec<u16>,
    spare: &mut Vec<u16>,
) -> Result<&'a [u16], IspError> {
    let (mut w, mut h) = (window.width as usize, window.height as usize);
    let bits = settings.adc_bits;
    let layout = plan.layout;
    let mut in_work = false;
    if settings.defects.is_some() || settings.flat_field.is_some() {
        work.clear();
        work.extend_from_slice(raw);
        in_work = true;
    }
    if let Some(list) = &settings.defects {
        let local = window_defects(list, window);
        if !local.is_empty() {
            defect::correct(layout, w, h, &local, work)?;
        }
    }
    if let Some(ff) = &settings.flat_field {
        let (map_w, map_h) = ff.size();
        let fits = |o: u32, n: usize, limit: usize| {
            (o as usize).checked_add(n).is_some_and(|end| end <= limit)
        };
        if !fits(window.x, w, map_w) || !fits(window.y, h, map_h) {
            return Err(IspError::FlatFieldWindow {
                map_width: map_w,
                map_height: map_h,
            });
        }
        let (x0, y0) = (window.x as usize, window.y as usize);
        work.par_chunks_mut(w)
            .enumerate()
            .try_for_each(|(y, row)| -> Result<(), FfcError> {
                // Inside the maps: checked above.
                let start = (y0 + y) * map_w + x0;
                let range = start..start + w;
                ffc::apply_ffc(
                    row,
                    w,
                    1,
                    bits,
                    &ff.offsets()[range.clone()],
                    &ff.gains()[range],
                )
            })?;
    }
    let binning = settings.binning;
    if binning.horizontal != 1 || binning.vertical != 1 {
        let (bw, bh) = geometry::binned_size(layout, w, h, &binning)?;
        ensure_len(spare, bw * bh);
        let src: &[u16] = if in_work { work } else { raw };
        geometry::bin(layout, w, h, &binning, bits, src, spare)?;
        std::mem::swap(work, spare);
        (w, h, in_work) = (bw, bh, true);
    }
    let decimation = settings.decimation;
    if decimation.horizontal != 1 || decimation.vertical != 1 {
        let (dw, dh) = geometry::decimated_size(layout, w, h, &decimation)?;
        ensure_len(spare, dw * dh);
        let src: &[u16] = if in_work { work } else { raw };
        geometry::decimate(layout, w, h, &decimation, src, spare)?;
        std::mem::swap(work, spare);
        (w, h, in_work) = (dw, dh, true);
    }
    if settings.reverse_x || settings.reverse_y {
        let (rx, ry) = (settings.reverse_x, settings.reverse_y);
        if in_work {
            geometry::mirror_in_place(layout, w, h, rx, ry, work)?;
        } else {
            ensure_len(work, w * h);
            geometry::mirror(layout, w, h, rx, ry, raw, work)?;
            in_work = true;
        }
    }
    let n = w * h;
    if in_work {
        let work: &'a Vec<u16> = work;
        Ok(work.get(..n).unwrap_or_default())
    } else {
        Ok(raw.get(..n).unwrap_or_default())
    }
}

fn ensure_len(buf: &mut Vec<u16>, n: usize) {
    if buf.len() < n {
        buf.resize(n, 0);
    }
}

/// The defects of `list` inside the window, in window coordinates.
fn window_defects(list: &DefectList, window: &RawWindow) -> DefectList {
    let x_end = u64::from(window.x) + u64::from(window.width);
    let mut local = Vec::new();
    for y in window.y..window.y.saturating_add(window.height) {
        for d in list.row(y) {
            if d.x >= window.x && u64::from(d.x) < x_end {
                local.push((d.x - window.x, y - window.y));
            }
        }
    }
    DefectList::from_points(local)
}

/// The gamma or LUT table at output depth `bits` (`2^bits` entries), or
/// `None` when neither is set or gamma is 1.
fn level_table(settings: &IspSettings, bits: u32) -> Option<Vec<u16>> {
    let max = depth_max(bits);
    if let Some(g) = settings.gamma {
        if g == 1.0 {
            return None;
        }
        return Some(
            (0..=max)
                .map(|i| lut::gamma_value(i, max, max, g) as u16)
                .collect(),
        );
    }
    let table = settings.lut.as_ref()?;
    let (up, down) = depth_shifts(table.out_bit_depth(), bits);
    Some(
        (0..=max)
            .map(|i| {
                let entry = Lut12::index_of(i, bits)
                    .and_then(|k| table.get(k))
                    .unwrap_or(0);
                (((u32::from(entry) << up) >> down).min(max)) as u16
            })
            .collect(),
    )
}

/// Steps 6, 9 and 10 for mono and Bayer formats, in parallel bands.
fn single_sample(
    mosaic: &[u16],
    settings: &IspSettings,
    plan: &Plan,
    bits: u32,
    out: &mut [u8],
) -> Result<(), IspError> {
    let format = settings.pixel_format;
    let w = plan.out_w;
    let line = format.line_bytes(w).ok_or(IspError::SizeOverflow {
        width: w as u32,
        height: 1,
    })?;
    let table = level_table(settings, bits);
    let gains_f32 = plan.gains.map(|g| g as f32);
    let wb_raw = color::wb_raw(gains_f32)?;
    let unity = wb_raw.iter().all(|&g| g == 1 << GAIN_FRAC_BITS);
    let (up, down) = depth_shifts(settings.adc_bits, bits);
    let in_max = depth_max(settings.adc_bits);
    out.par_chunks_mut(BAND_ROWS * line)
        .zip(mosaic.par_chunks(BAND_ROWS * w))
        .try_for_each_init(Vec::new, |buf: &mut Vec<u16>, (dst, src)| {
            let rows = src.len() / w;
            buf.clear();
            buf.extend(
                src.iter()
                    .map(|&s| ((u32::from(s).min(in_max) << up) >> down) as u16),
            );
            if !unity {
                match plan.pattern {
                    Some(p) => color::white_balance_bayer(buf, w, rows, p, bits, gains_f32)?,
                    None => {
                        levels::apply_gain_fixed(buf, w, rows, 1, bits, wb_raw[1], GAIN_FRAC_BITS)?
                    }
                }
            }
            if let Some(t) = &table {
                for v in buf.iter_mut() {
                    *v = t.get(usize::from(*v)).copied().unwrap_or(0);
                }
            }
            pack::pack_from_u16(format, w, rows, buf, dst)?;
            Ok::<(), IspError>(())
        })
}

/// Steps 6–10 for colour formats from the 8-bit mosaic.
fn colour(
    mosaic8: &[u8],
    settings: &IspSettings,
    plan: &Plan,
    kind: ColourOutput,
    rgb_scratch: &mut Vec<u8>,
    out: &mut [u8],
) -> Result<(), IspError> {
    let (w, h) = (plan.out_w, plan.out_h);
    let user = match &settings.color_matrix {
        Some(m) => ColorMatrix::from_matrix(m.map(|row| row.map(|v| v as f32))),
        None => ColorMatrix::IDENTITY,
    };
    let sat_hue =
        ColorMatrix::saturation_hue(settings.saturation as f32, settings.hue_degrees as f32)?;
    let matrix = if sat_hue.is_identity() {
        user
    } else {
        user.then(&sat_hue)
    };
    let lut = level_table(settings, 8).map(|t| {
        let mut l = Lut8::identity();
        for (i, &v) in (0u8..=255).zip(&t) {
            l.set(i, v as u8);
        }
        l
    });
    let pipeline = ColorPipeline::new(
        w,
        h,
        PipelineSettings {
            pattern: plan.pattern.unwrap_or(BayerPattern::RG),
            defects: DefectList::new(),
            flat_field: None,
            white_balance: plan.gains.map(|g| g as f32),
            demosaic: settings.demosaic,
            matrix,
            lut,
        },
    )?;
    let rgb_len = 3 * w * h; // the frame's byte count was checked
    match kind {
        ColourOutput::Rgb => pipeline.run(mosaic8, out)?,
        ColourOutput::Bgr => {
            pipeline.run(mosaic8, out)?;
            out.par_chunks_mut(3 * w * BAND_ROWS).for_each(|band| {
                for px in band.chunks_exact_mut(3) {
                    px.swap(0, 2);
                }
            });
        }
        ColourOutput::Yuyv | ColourOutput::Luma => {
            if rgb_scratch.len() < rgb_len {
                rgb_scratch.resize(rgb_len, 0);
            }
            let rgb = &mut rgb_scratch[..rgb_len];
            pipeline.run(mosaic8, rgb)?;
            let out_line = out.len() / h;
            out.par_chunks_mut(out_line * BAND_ROWS)
                .zip(rgb.par_chunks(3 * w * BAND_ROWS))
                .for_each(|(dst, src)| {
                    for (d, s) in dst.chunks_exact_mut(out_line).zip(src.chunks_exact(3 * w)) {
                        if kind == ColourOutput::Yuyv {
                            rgb_to_yuyv_row(s, d);
                        } else {
                            rgb_to_luma_row(s, d);
                        }
                    }
                });
        }
    }
    Ok(())
}

/// BT.601 full-range luma, `pixel::convert`'s weights.
fn rgb_to_luma_row(rgb: &[u8], luma: &mut [u8]) {
    for (y, px) in luma.iter_mut().zip(rgb.chunks_exact(3)) {
        let [r, g, b] = [px[0], px[1], px[2]].map(u32::from);
        *y = ((4899 * r + 9617 * g + 1868 * b + 8192) >> 14) as u8;
    }
}

/// BT.601 studio-range luma of one pixel (see the module documentation).
#[inline(always)]
fn studio_luma(r: i32, g: i32, b: i32) -> u8 {
    (16 + ((16829 * r + 33039 * g + 6416 * b + (1 << 15)) >> 16)) as u8
}

/// Chroma of a pixel pair from the sums of its R, G and B (see the
/// [module documentation](self)).
#[inline(always)]
fn pair_chroma([r, g, b]: [i32; 3], [cr, cg, cb]: [i32; 3]) -> u8 {
    (128 + ((cr * r + cg * g + cb * b + (1 << 16)) >> 17)).clamp(0, 255) as u8
}

/// One YUYV quadruple from two RGB pixels.
#[inline(always)]
fn yuyv_pair(a: [i32; 3], b: [i32; 3], q: &mut [u8]) {
    let sum = [a[0] + b[0], a[1] + b[1], a[2] + b[2]];
    if let [y0, u, y1, v] = q {
        *y0 = studio_luma(a[0], a[1], a[2]);
        *u = pair_chroma(sum, [-9714, -19070, 28784]);
        *y1 = studio_luma(b[0], b[1], b[2]);
        *v = pair_chroma(sum, [28784, -24103, -4681]);
    }
}

/// An RGB8 image (`width × height`) to YUV422_8 (YUYV) as the pipeline
/// makes it, for images made outside the pipeline (test images).
pub(crate) fn rgb8_to_yuv422(
    rgb: &[u8],
    width: usize,
    height: usize,
    out: &mut [u8],
) -> Result<(), IspError> {
    let overflow = IspError::SizeOverflow {
        width: width as u32,
        height: height as u32,
    };
    let line = PixelFormat::YUV422_8.line_bytes(width).ok_or(overflow)?;
    let pixels = width.saturating_mul(height);
    if rgb.len() != pixels.saturating_mul(3) {
        return Err(IspError::RawLength {
            needed: pixels.saturating_mul(3),
            actual: rgb.len(),
        });
    }
    if out.len() != line.saturating_mul(height) {
        return Err(IspError::OutputLength {
            needed: line.saturating_mul(height),
            actual: out.len(),
        });
    }
    if width == 0 {
        return Ok(());
    }
    for (d, s) in out.chunks_exact_mut(line).zip(rgb.chunks_exact(3 * width)) {
        rgb_to_yuyv_row(s, d);
    }
    Ok(())
}

/// One RGB8 row to YUYV (see the [module documentation](self)); an odd
/// last pixel is paired with itself.
fn rgb_to_yuyv_row(rgb: &[u8], yuyv: &mut [u8]) {
    let mut pairs = rgb.chunks_exact(6);
    let mut quads = yuyv.chunks_exact_mut(4);
    for (p, q) in (&mut pairs).zip(&mut quads) {
        if let [r0, g0, b0, r1, g1, b1] = *p {
            let a = [r0, g0, b0].map(i32::from);
            let b = [r1, g1, b1].map(i32::from);
            yuyv_pair(a, b, q);
        }
    }
    if let (&[r, g, b], Some(q)) = (pairs.remainder(), quads.next()) {
        let a = [r, g, b].map(i32::from);
        yuyv_pair(a, a, q);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pixel::demosaic;
    use pixel::geometry::BinningMode;

    /// SplitMix64: a small deterministic generator for test images.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }

        fn image(&mut self, n: usize, bits: u32) -> Vec<u16> {
            (0..n)
                .map(|_| (self.next() % (1u64 << bits)) as u16)
                .collect()
        }
    }

    fn window(width: u32, height: u32, cfa: Option<BayerPattern>) -> RawWindow {
        RawWindow {
            x: 0,
            y: 0,
            width,
            height,
            cfa,
        }
    }

    fn settings(format: PixelFormat, adc_bits: u32) -> IspSettings {
        IspSettings {
            pixel_format: format,
            adc_bits,
            ..IspSettings::default()
        }
    }

    /// Runs the ISP into a fresh buffer of the right size.
    fn run(raw: &[u16], win: &RawWindow, s: &IspSettings) -> Result<Vec<u8>, IspError> {
        let (w, h) = Isp::output_size(win, s);
        let bytes = s
            .pixel_format
            .image_bytes(w as usize, h as usize)
            .expect("size");
        let mut out = vec![0xA5; bytes];
        Isp::new().process(raw, win, s, &mut out)?;
        Ok(out)
    }

    fn unpacked(format: PixelFormat, w: usize, h: usize, bytes: &[u8]) -> Vec<u16> {
        let mut v = vec![0u16; w * h];
        pack::unpack_to_u16(format, w, h, bytes, &mut v).expect("unpack");
        v
    }

    /// The fixed-point factor of a gain, as the white balance quantises it.
    fn fixed(gain: f64) -> u64 {
        (f64::from(gain as f32) * 65536.0 + 0.5).floor() as u64
    }

    /// Straightforward per-pixel reference of steps 6, 9 for mono/Bayer.
    #[allow(clippy::too_many_arguments)]
    fn reference_single(
        raw: &[u16],
        w: usize,
        adc: u32,
        out_bits: u32,
        gains: [f64; 3],
        pattern: Option<BayerPattern>,
        table: Option<&dyn Fn(u32) -> u32>,
    ) -> Vec<u16> {
        let max = (1u32 << out_bits) - 1;
        raw.iter()
            .enumerate()
            .map(|(i, &s)| {
                let s = u32::from(s).min((1 << adc) - 1);
                let v = if out_bits >= adc {
                    s << (out_bits - adc)
                } else {
                    s >> (adc - out_bits)
                };
                let c = pattern.map_or(1, |p| p.channel_at(i % w, i / w));
                let g = fixed(gains[c]);
                let v = ((u64::from(v) * g + 32768) >> 16).min(u64::from(max)) as u32;
                table.map_or(v, |t| t(v)) as u16
            })
            .collect()
    }

    #[test]
    fn single_sample_formats_match_reference() {
        let mut rng = Rng(1);
        let (w, h) = (16usize, 8usize);
        let colour = [
            PixelFormat::BayerRG8,
            PixelFormat::BayerRG10,
            PixelFormat::BayerRG12,
            PixelFormat::BayerRG10p,
            PixelFormat::BayerRG12p,
        ];
        let mono = [
            PixelFormat::Mono8,
            PixelFormat::Mono10,
            PixelFormat::Mono12,
            PixelFormat::Mono10p,
            PixelFormat::Mono12p,
            PixelFormat::Mono12Packed,
        ];
        let cases = colour
            .iter()
            .map(|&f| (f, Some(BayerPattern::RG)))
            .chain(mono.iter().map(|&f| (f, None)));
        for (format, cfa) in cases {
            for adc in [8, 10, 12] {
                let raw = rng.image(w * h, adc);
                let mut s = settings(format, adc);
                s.balance = [1.5, 1.0, 0.7];
                s.digital_gain_db = 3.0;
                s.digital_shift = 1;
                let out = run(&raw, &window(w as u32, h as u32, cfa), &s).expect("process");
                let got = unpacked(format, w, h, &out);
                let k = levels::db_to_factor(3.0) * 2.0;
                let gains = if cfa.is_some() {
                    [1.5 * k, k, 0.7 * k]
                } else {
                    [k; 3]
                };
                let want = reference_single(&raw, w, adc, format.pixel_bits(), gains, cfa, None);
                assert_eq!(got, want, "{format} from {adc} bits");
                // Plain depth change, no gains.
                let out = run(
                    &raw,
                    &window(w as u32, h as u32, cfa),
                    &settings(format, adc),
                )
                .expect("process");
                let want = reference_single(&raw, w, adc, format.pixel_bits(), [1.0; 3], cfa, None);
                assert_eq!(
                    unpacked(format, w, h, &out),
                    want,
                    "{format} from {adc} bits"
                );
            }
        }
    }

    /// Reference of the colour formats through the steps' own kernels,
    /// whole frame, one after the other.
    fn reference_rgb(raw: &[u16], w: usize, h: usize, s: &IspSettings) -> Vec<u8> {
        let mut mosaic: Vec<u8> = raw.iter().map(|&v| (v >> (s.adc_bits - 8)) as u8).collect();
        let k = levels::db_to_factor(s.digital_gain_db) * f64::from(1u32 << s.digital_shift);
        let gains = s.balance.map(|b| (b * k) as f32);
        color::white_balance_bayer(&mut mosaic, w, h, BayerPattern::RG, 8, gains).expect("wb");
        let mut rgb = vec![0u8; 3 * w * h];
        match s.demosaic {
            DemosaicMethod::Bilinear => {
                demosaic::bilinear_u8(BayerPattern::RG, w, h, &mosaic, &mut rgb)
            }
            DemosaicMethod::GradientCorrected => {
                demosaic::mhc_u8(BayerPattern::RG, w, h, &mosaic, &mut rgb)
            }
        }
        .expect("demosaic");
        let user = s
            .color_matrix
            .map(|m| ColorMatrix::from_matrix(m.map(|r| r.map(|v| v as f32))))
            .unwrap_or(ColorMatrix::IDENTITY);
        let sh =
            ColorMatrix::saturation_hue(s.saturation as f32, s.hue_degrees as f32).expect("sat");
        color::apply_color_matrix(&mut rgb, w, h, 8, &user.then(&sh)).expect("matrix");
        if let Some(g) = s.gamma {
            Lut8::gamma(g)
                .expect("gamma")
                .apply(&mut rgb, w, h, 3)
                .expect("lut");
        }
        rgb
    }

    fn studio_yuv(r: f64, g: f64, b: f64) -> [f64; 3] {
        let y = 0.299 * r + 0.587 * g + 0.114 * b;
        [
            16.0 + 219.0 / 255.0 * y,
            128.0 + 224.0 / 255.0 * (b - y) / 1.772,
            128.0 + 224.0 / 255.0 * (r - y) / 1.402,
        ]
    }

    #[test]
    fn colour_formats_match_reference() {
        let mut rng = Rng(2);
        let (w, h) = (16usize, 8usize);
        for method in [DemosaicMethod::Bilinear, DemosaicMethod::GradientCorrected] {
            let raw = rng.image(w * h, 12);
            let mut s = settings(PixelFormat::RGB8, 12);
            s.balance = [1.8, 1.0, 1.3];
            s.digital_gain_db = 2.0;
            s.demosaic = method;
            s.color_matrix = Some([[1.2, -0.1, -0.1], [-0.2, 1.3, -0.1], [0.0, -0.3, 1.3]]);
            s.saturation = 1.3;
            s.hue_degrees = 10.0;
            s.gamma = Some(0.6);
            let win = window(w as u32, h as u32, Some(BayerPattern::RG));
            let rgb = reference_rgb(&raw, w, h, &s);
            assert_eq!(run(&raw, &win, &s).expect("rgb"), rgb);

            s.pixel_format = PixelFormat::BGR8;
            let bgr: Vec<u8> = rgb
                .chunks_exact(3)
                .flat_map(|p| [p[2], p[1], p[0]])
                .collect();
            assert_eq!(run(&raw, &win, &s).expect("bgr"), bgr);

            s.pixel_format = PixelFormat::Mono8;
            let luma: Vec<u8> = rgb
                .chunks_exact(3)
                .map(|p| {
                    let y =
                        0.299 * f64::from(p[0]) + 0.587 * f64::from(p[1]) + 0.114 * f64::from(p[2]);
                    y.round() as u8
                })
                .collect();
            let got = run(&raw, &win, &s).expect("mono8");
            for (g, l) in got.iter().zip(&luma) {
                assert!(g.abs_diff(*l) <= 1, "luma {g} vs {l}");
            }

            s.pixel_format = PixelFormat::YUV422_8;
            let got = run(&raw, &win, &s).expect("yuv");
            assert_eq!(got.len(), 2 * w * h);
            for (i, q) in got.chunks_exact(4).enumerate() {
                let p0 = &rgb[6 * i..6 * i + 3];
                let p1 = &rgb[6 * i + 3..6 * i + 6];
                let f = |p: &[u8]| studio_yuv(f64::from(p[0]), f64::from(p[1]), f64::from(p[2]));
                let (a, b) = (f(p0), f(p1));
                let want = [a[0], (a[1] + b[1]) / 2.0, b[0], (a[2] + b[2]) / 2.0];
                for (g, w) in q.iter().zip(want) {
                    assert!((f64::from(*g) - w).abs() <= 1.0, "yuv {g} vs {w}");
                }
            }
        }
    }

    /// A uniformly coloured scene: every sample of each colour the same.
    fn uniform_mosaic(w: usize, h: usize, rgb: [u16; 3]) -> Vec<u16> {
        (0..w * h)
            .map(|i| rgb[BayerPattern::RG.channel_at(i % w, i / w)])
            .collect()
    }

    #[test]
    fn yuv422_is_bt601_studio_range() {
        let win = window(8, 4, Some(BayerPattern::RG));
        let s = settings(PixelFormat::YUV422_8, 8);
        let red = run(&uniform_mosaic(8, 4, [255, 0, 0]), &win, &s).expect("red");
        assert_eq!(&red[..4], &[81, 90, 81, 240]);
        let white = run(&uniform_mosaic(8, 4, [255; 3]), &win, &s).expect("white");
        assert_eq!(&white[..4], &[235, 128, 235, 128]);
        let black = run(&uniform_mosaic(8, 4, [0; 3]), &win, &s).expect("black");
        assert_eq!(&black[..4], &[16, 128, 16, 128]);
        // Odd width: the last pixel is paired with itself.
        let odd = window(7, 4, Some(BayerPattern::RG));
        let red = run(&uniform_mosaic(7, 4, [255, 0, 0]), &odd, &s).expect("odd");
        assert_eq!(red.len(), 16 * 4);
        assert!(
            red.chunks_exact(4).all(|q| q == [81, 90, 81, 240]),
            "{red:?}"
        );
        // A mirrored window changes the phase the demosaic is given: the
        // scene stays red (with any window offset).
        let mut m = settings(PixelFormat::RGB8, 8);
        m.reverse_x = true;
        m.reverse_y = true;
        for (x, y) in [(0, 0), (1, 0), (0, 1), (3, 5)] {
            let win = RawWindow { x, y, ..win };
            let scene: Vec<u16> = (0..32)
                .map(|i| {
                    [255, 0, 0][BayerPattern::RG.channel_at(x as usize + i % 8, y as usize + i / 8)]
                })
                .collect();
            let rgb = run(&scene, &win, &m).expect("mirrored");
            assert!(rgb.chunks_exact(3).all(|p| p == [255, 0, 0]), "{x},{y}");
        }
        // Mono8 from the colour sensor: full-range luma of red.
        let mono = run(
            &uniform_mosaic(8, 4, [255, 0, 0]),
            &win,
            &settings(PixelFormat::Mono8, 8),
        )
        .expect("mono");
        assert!(mono.iter().all(|&v| v == 76), "{mono:?}");
    }

    #[test]
    fn defects_are_corrected_before_binning_in_sensor_coordinates() {
        let (w, h) = (8u32, 8u32);
        let mut raw = vec![100u16; 64];
        // Sensor pixel (5, 3) is window pixel (3, 2) for a window at (2, 1).
        raw[2 * 8 + 3] = 255;
        let win = RawWindow {
            x: 2,
            y: 1,
            width: w,
            height: h,
            cfa: None,
        };
        let mut s = settings(PixelFormat::Mono8, 8);
        s.binning = Binning::new(2, 2, BinningMode::Average);
        let uncorrected = run(&raw, &win, &s).expect("plain");
        assert_eq!(u32::from(uncorrected[4 + 1]), (3 * 100 + 255 + 2) / 4);
        // A list in window coordinates would miss it.
        s.defects = Some(Arc::new(DefectList::from_points([(3, 2), (100, 100)])));
        assert_eq!(run(&raw, &win, &s).expect("wrong list"), uncorrected);
        s.defects = Some(Arc::new(DefectList::from_points([(5, 3)])));
        let corrected = run(&raw, &win, &s).expect("corrected");
        assert!(corrected.iter().all(|&v| v == 100), "{corrected:?}");
    }

    #[test]
    fn flat_field_uses_the_window_part_of_the_sensor_maps() {
        let (sw, sh) = (12usize, 4usize);
        let gains: Vec<u16> = (0..sw * sh)
            .map(|i| ffc::GAIN_ONE + 256 * (i % sw) as u16)
            .collect();
        let offsets: Vec<u16> = (0..sw * sh).map(|i| (i / sw) as u16).collect();
        let ff = Arc::new(FlatField::new(sw, sh, offsets, gains).expect("maps"));
        let win = RawWindow {
            x: 4,
            y: 1,
            width: 6,
            height: 2,
            cfa: None,
        };
        let mut s = settings(PixelFormat::Mono8, 8);
        s.flat_field = Some(ff);
        let out = run(&[100u16; 12], &win, &s).expect("ffc");
        for (i, &v) in out.iter().enumerate() {
            let (x, y) = (4 + i % 6, 1 + i / 6);
            let gain = 4096 + 256 * x as u32;
            let want = ((100 - y as u32) * gain + 2048) >> 12;
            assert_eq!(u32::from(v), want, "pixel {i}");
        }
        // Maps that do not cover the window.
        let win = RawWindow { x: 8, ..win };
        assert!(matches!(
            run(&[100u16; 12], &win, &s),
            Err(IspError::FlatFieldWindow { .. })
        ));
    }

    #[test]
    fn gain_acts_after_binning_at_output_depth() {
        // Sum binning clips at the raw maximum (4 × 100 → 255), then the
        // digital gain of −6.02 dB halves it: 128, not 200.
        let raw = vec![100u16; 16];
        let mut s = settings(PixelFormat::Mono8, 8);
        s.binning = Binning::new(2, 2, BinningMode::Sum);
        s.digital_gain_db = levels::factor_to_db(0.5);
        let out = run(&raw, &window(4, 4, None), &s).expect("binned");
        assert_eq!(out, vec![128u8; 4]);
    }

    #[test]
    fn mirror_reverses_rows_and_columns() {
        let mut rng = Rng(3);
        let (w, h) = (6usize, 4usize);
        let raw = rng.image(w * h, 8);
        let mut s = settings(PixelFormat::Mono8, 8);
        s.reverse_x = true;
        s.reverse_y = true;
        let out = run(&raw, &window(w as u32, h as u32, None), &s).expect("mirror");
        for y in 0..h {
            for x in 0..w {
                assert_eq!(
                    u16::from(out[y * w + x]),
                    raw[(h - 1 - y) * w + (w - 1 - x)]
                );
            }
        }
    }

    #[test]
    fn bayer_phase_is_checked_after_offset_and_mirror() {
        let mut rng = Rng(4);
        let (w, h) = (8usize, 6usize);
        let raw = rng.image(w * h, 8);
        let mut s = settings(PixelFormat::BayerRG8, 8);
        s.reverse_x = true;
        let at = |x, y| RawWindow {
            x,
            y,
            width: w as u32,
            height: h as u32,
            cfa: Some(BayerPattern::RG),
        };
        assert!(matches!(
            run(&raw, &at(0, 0), &s),
            Err(IspError::BayerPhase {
                expected: BayerPattern::RG,
                actual: BayerPattern::GR
            })
        ));
        // Shifted by one column, the mirrored window starts on red again.
        let out = run(&raw, &at(1, 0), &s).expect("shifted");
        for y in 0..h {
            for x in 0..w {
                assert_eq!(u16::from(out[y * w + x]), raw[y * w + (w - 1 - x)]);
            }
        }
        s.reverse_y = true;
        assert!(matches!(
            run(&raw, &at(1, 0), &s),
            Err(IspError::BayerPhase { .. })
        ));
        assert!(run(&raw, &at(1, 1), &s).is_ok());
        // An odd offset without mirror is a phase error too.
        let plain = settings(PixelFormat::BayerRG8, 8);
        assert!(matches!(
            run(&raw, &at(0, 1), &plain),
            Err(IspError::BayerPhase { .. })
        ));
    }

    #[test]
    fn binning_and_decimation_sizes() {
        let full = window(2448, 2048, Some(BayerPattern::RG));
        let mut s = settings(PixelFormat::BayerRG8, 12);
        assert_eq!(Isp::output_size(&full, &s), (2448, 2048));
        s.binning = Binning::new(2, 2, BinningMode::Average);
        assert_eq!(Isp::output_size(&full, &s), (1224, 1024));
        s.decimation = Decimation {
            horizontal: 2,
            vertical: 4,
        };
        assert_eq!(Isp::output_size(&full, &s), (612, 256));
        s.binning = Binning::new(3, 1, BinningMode::Sum);
        assert_eq!(Isp::output_size(&full, &s), (0, 0));
        assert!(matches!(
            run(&vec![0; 2448 * 2048], &full, &s),
            Err(IspError::Geometry(_))
        ));

        // Mono: 4 × 2 binning (average), then 2 × 1 decimation.
        let mut rng = Rng(5);
        let (w, h) = (16usize, 4usize);
        let raw = rng.image(w * h, 10);
        let mut s = settings(PixelFormat::Mono10, 10);
        s.binning = Binning::new(4, 2, BinningMode::Average);
        s.decimation = Decimation {
            horizontal: 2,
            vertical: 1,
        };
        let win = window(w as u32, h as u32, None);
        assert_eq!(Isp::output_size(&win, &s), (2, 2));
        let out = unpacked(
            PixelFormat::Mono10,
            2,
            2,
            &run(&raw, &win, &s).expect("mono"),
        );
        for (i, &v) in out.iter().enumerate() {
            let (ox, oy) = (i % 2, i / 2);
            let sum: u32 = (0..2)
                .flat_map(|dy| (0..4).map(move |dx| (8 * ox + dx, 2 * oy + dy)))
                .map(|(x, y)| u32::from(raw[y * w + x]))
                .sum();
            assert_eq!(u32::from(v), (sum + 4) / 8, "pixel {i}");
        }
    }

    #[test]
    fn digital_shift_multiplies_and_clips() {
        let raw: Vec<u16> = (0..256).collect();
        let mut s = settings(PixelFormat::Mono8, 8);
        s.digital_shift = 2;
        let out = run(&raw, &window(16, 16, None), &s).expect("shift");
        for (v, o) in raw.iter().zip(&out) {
            assert_eq!(u32::from(*o), (u32::from(*v) * 4).min(255));
        }
        // At 12-bit output from 12-bit raw.
        let raw: Vec<u16> = (0..4096).step_by(16).collect();
        let mut s = settings(PixelFormat::Mono12, 12);
        s.digital_shift = 3;
        let out = unpacked(
            PixelFormat::Mono12,
            16,
            16,
            &run(&raw, &window(16, 16, None), &s).expect("shift"),
        );
        for (v, o) in raw.iter().zip(&out) {
            assert_eq!(u32::from(*o), (u32::from(*v) * 8).min(4095));
        }
    }

    #[test]
    fn gamma_and_lut() {
        let raw: Vec<u16> = (0..4096).collect();
        let win = window(64, 64, None);
        let mut s = settings(PixelFormat::Mono12, 12);
        s.gamma = Some(0.5);
        let out = unpacked(
            PixelFormat::Mono12,
            64,
            64,
            &run(&raw, &win, &s).expect("g"),
        );
        for (v, o) in raw.iter().zip(&out) {
            assert_eq!(
                u32::from(*o),
                lut::gamma_value(u32::from(*v), 4095, 4095, 0.5)
            );
        }
        assert!(out[1024] > 1024, "gamma < 1 brightens");

        // An inverting 12-bit LUT, output Mono8: index = v (12-bit raw),
        // value scaled back by >> 4.
        let table: Vec<u16> = (0..4096u16).map(|i| 4095 - i).collect();
        let inv = Arc::new(Lut12::from_slice(&table, 12).expect("lut"));
        let mut s = settings(PixelFormat::Mono8, 12);
        s.lut = Some(inv.clone());
        let out = run(&raw, &win, &s).expect("lut");
        for (v, o) in raw.iter().zip(&out) {
            let idx = u32::from(v >> 4) << 4; // the 8-bit sample's index
            assert_eq!(u32::from(*o), (4095 - idx) >> 4);
        }
        // Gamma wins over the LUT.
        s.gamma = Some(0.5);
        let both = run(&raw, &win, &s).expect("both");
        s.lut = None;
        assert_eq!(both, run(&raw, &win, &s).expect("gamma only"));
        // Gamma 1 changes nothing.
        s.gamma = Some(1.0);
        let out = run(&raw, &win, &s).expect("gamma 1");
        assert!(raw.iter().zip(&out).all(|(v, o)| u16::from(*o) == v >> 4));
    }

    #[test]
    fn identity_matrix_changes_nothing() {
        let mut rng = Rng(6);
        let (w, h) = (16usize, 8usize);
        let raw = rng.image(w * h, 10);
        let win = window(w as u32, h as u32, Some(BayerPattern::RG));
        let mut s = settings(PixelFormat::RGB8, 10);
        let plain = run(&raw, &win, &s).expect("plain");
        s.color_matrix = Some([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]);
        assert_eq!(run(&raw, &win, &s).expect("identity"), plain);
        // Swapping R and B with the matrix gives the BGR8 bytes.
        s.color_matrix = Some([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]);
        let swapped = run(&raw, &win, &s).expect("swap");
        let bgr = run(&raw, &win, &settings(PixelFormat::BGR8, 10)).expect("bgr");
        assert_eq!(swapped, bgr);
        assert_ne!(swapped, plain);
        // Saturation 0 gives greys.
        let mut s = settings(PixelFormat::RGB8, 10);
        s.saturation = 0.0;
        let grey = run(&raw, &win, &s).expect("grey");
        assert!(grey
            .chunks_exact(3)
            .all(|p| p[0].abs_diff(p[1]) <= 1 && p[1].abs_diff(p[2]) <= 1));
    }

    #[test]
    fn errors() {
        let mono = window(8, 4, None);
        let colour = window(8, 4, Some(BayerPattern::RG));
        let raw = vec![0u16; 32];
        let mut isp = Isp::new();
        let s = settings(PixelFormat::Mono8, 8);
        assert!(matches!(
            isp.process(&raw[..31], &mono, &s, &mut [0; 32]),
            Err(IspError::RawLength {
                needed: 32,
                actual: 31
            })
        ));
        assert!(matches!(
            isp.process(&raw, &mono, &s, &mut [0; 33]),
            Err(IspError::OutputLength {
                needed: 32,
                actual: 33
            })
        ));
        for (win, format) in [
            (mono, PixelFormat::RGB8),
            (mono, PixelFormat::YUV422_8),
            (mono, PixelFormat::BayerRG8),
            (colour, PixelFormat::Mono10),
            (colour, PixelFormat::Mono12Packed),
            (colour, PixelFormat::BayerRG16),
            (mono, PixelFormat::Mono16),
        ] {
            assert!(
                matches!(
                    run(&raw, &win, &settings(format, 8)),
                    Err(IspError::UnsupportedFormat { .. })
                ),
                "{format}"
            );
        }
        let bad = [
            IspSettings {
                adc_bits: 0,
                ..s.clone()
            },
            IspSettings {
                digital_shift: 5,
                ..s.clone()
            },
            IspSettings {
                balance: [16.0, 1.0, 1.0],
                ..s.clone()
            },
            IspSettings {
                digital_gain_db: f64::NAN,
                ..s.clone()
            },
            IspSettings {
                gamma: Some(0.0),
                ..s.clone()
            },
            IspSettings {
                saturation: 2.5,
                ..s.clone()
            },
        ];
        for b in &bad {
            assert!(run(&raw, &mono, b).is_err(), "{b:?}");
        }
        let huge = window(u32::MAX, u32::MAX, None);
        assert!(isp.process(&raw, &huge, &s, &mut []).is_err());
        // Empty output (window smaller than the binning block).
        let mut b = s.clone();
        b.binning = Binning::new(4, 4, BinningMode::Sum);
        let tiny = window(2, 2, None);
        assert!(isp.process(&[0; 4], &tiny, &b, &mut []).is_ok());
    }

    #[test]
    #[ignore]
    fn bench_isp() {
        let (w, h) = (2448usize, 2048usize);
        let mut rng = Rng(7);
        let raw = rng.image(w * h, 12);
        let colour = window(w as u32, h as u32, Some(BayerPattern::RG));
        let mono = window(w as u32, h as u32, None);
        let mut isp = Isp::new();
        let cases: Vec<(&str, RawWindow, IspSettings)> = vec![
            ("BayerRG8", colour, settings(PixelFormat::BayerRG8, 12)),
            ("BayerRG12p", colour, settings(PixelFormat::BayerRG12p, 12)),
            ("RGB8 bilinear", colour, settings(PixelFormat::RGB8, 12)),
            (
                "RGB8 MHC",
                colour,
                IspSettings {
                    demosaic: DemosaicMethod::GradientCorrected,
                    ..settings(PixelFormat::RGB8, 12)
                },
            ),
            ("YUV422_8", colour, settings(PixelFormat::YUV422_8, 12)),
            (
                "Mono8 (colour sensor)",
                colour,
                settings(PixelFormat::Mono8, 12),
            ),
            (
                "Mono8 (mono sensor)",
                mono,
                settings(PixelFormat::Mono8, 12),
            ),
            (
                "RGB8 WB+gain+matrix+gamma",
                colour,
                IspSettings {
                    balance: [1.6, 1.0, 1.4],
                    digital_gain_db: 3.0,
                    color_matrix: Some([[1.2, -0.1, -0.1], [-0.2, 1.3, -0.1], [0.0, -0.3, 1.3]]),
                    gamma: Some(0.45),
                    ..settings(PixelFormat::RGB8, 12)
                },
            ),
        ];
        for (name, win, s) in cases {
            let (ow, oh) = Isp::output_size(&win, &s);
            let bytes = s
                .pixel_format
                .image_bytes(ow as usize, oh as usize)
                .expect("size");
            let mut out = vec![0u8; bytes];
            for _ in 0..3 {
                isp.process(&raw, &win, &s, &mut out).expect("warm-up");
            }
            let frames = 30;
            let t = std::time::Instant::now();
            for _ in 0..frames {
                isp.process(&raw, &win, &s, &mut out).expect("frame");
            }
            let ms = t.elapsed().as_secs_f64() * 1000.0 / f64::from(frames);
            println!("{name:28} {w}x{h}: {ms:6.2} ms/frame");
        }
    }
}
