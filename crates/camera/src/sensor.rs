//! The image sensor: scene radiance in, raw ADC samples out, following the
//! linear camera model of EMVA 1288.
//!
//! # Model
//!
//! For the pixel at sensor coordinates (x, y), seeing the colour channel `c`
//! (see [`Sensor::channel_at`]), with exposure time `t` (µs):
//!
//! * **Photons.** `μp = L(x, y) · light · t · S(x, y)`, where `L` is the
//!   relative radiance handed in by the caller (1.0 = the scene's white) and
//!   `light` the photons per pixel per µs that radiance 1.0 delivers.
//! * **Lens shading.** The relative illumination follows the cos⁴ law of a
//!   thin lens, `S = cos⁴θ = 1 / (1 + r² · tan²θc)²`, with `r` the distance
//!   from the centre of the active area divided by the distance to its
//!   corners and `tan²θc = 1/√s_corner − 1`, so that `S` is 1 at the centre
//!   and `s_corner` ([`SensorSpec::corner_shading`]) at the corners.
//! * **Electrons.** `μe = η[c] · μp · (1 + PRNU(x, y))` with the quantum
//!   efficiency `η` and the photo response non-uniformity, a fixed Gaussian
//!   field of standard deviation [`SensorSpec::prnu`]. Dead pixels collect no
//!   photo-electrons.
//! * **Dark signal.** `μd = D₂₅ · t · 2^((T − 25 °C) / T_d) · h(x, y)` with the
//!   dark current `D₂₅` at 25 °C, its doubling temperature `T_d`, and
//!   `h = 1` except on hot pixels, where `h` lies between
//!   [`HOT_PIXEL_FACTOR_MIN`] and [`HOT_PIXEL_FACTOR_MAX`] (log-uniform).
//!   Added to it is the dark signal non-uniformity `DSNU(x, y)`, a fixed
//!   Gaussian offset of standard deviation [`SensorSpec::dsnu_e`] electrons.
//! * **Temporal noise.** The collected charge `μe + μd` is Poisson
//!   distributed; the read noise is Gaussian with `σd`
//!   ([`SensorSpec::read_noise_e`]). Both are drawn together from one
//!   standard normal `z`:
//!
//!   `n = μe + μd + DSNU + σ·z + γ·(z² − 1)`, with `σ² = μe + μd + σd²`
//!   and `γ = (μe + μd) / (6σ²)`.
//!
//!   `σ·z` gives the exact mean and variance of Poisson plus read noise at
//!   every signal level. The second term is the first Cornish–Fisher
//!   correction: it adds the Poisson skewness (third cumulant `μe + μd`),
//!   which matters below about 20 e⁻ where the Poisson distribution is
//!   visibly asymmetric, and becomes negligible above. It has zero mean and
//!   adds `2γ² ≤ 1/18 e⁻²` of variance. Below 20 e⁻ the integer lattice of
//!   Poisson counts is not reproduced; the read noise (≈ 2 e⁻ rms) smears it
//!   out on a real sensor as well.
//! * **Saturation.** `n` is clipped at the full well ([`SensorSpec::full_well_e`]).
//! * **Conversion.** `y = round(K · n + b)`, clipped to `0 ..= 2^bits − 1`,
//!   with the black level `b` (DN) and the conversion gain
//!   `K = (2^bits − 1) / full_well · 10^(G/20)` for the analog gain `G` in
//!   dB ([`Sensor::conversion_gain`]), so that at 0 dB the full well maps to
//!   the ADC's full scale. Rounding adds the quantisation noise `1/12 DN²`.
//!
//! Hence the EMVA 1288 photon transfer relations
//! `μy = K · (μe + μd) + b` and `σy² = K² · (σd² + μe + μd) + 1/12`.
//!
//! # Fixed patterns
//!
//! PRNU, DSNU and the hot and dead pixels are drawn once, in [`Sensor::new`],
//! from a pseudo-random generator seeded by the camera's serial number, over
//! the whole pixel array including a margin of two columns and two rows beyond
//! the active area. The maps are stored compactly: the photo response
//! `η · (1 + PRNU) · S` as `u16` in steps of 2⁻¹⁵, the DSNU as `i16`.
//!
//! # Speed
//!
//! The temporal noise comes from a table of standard normal samples: each
//! row reads two stretches of the table at offsets drawn from the frame seed
//! and the row number, and sums them (`z = (zₐ + z_b)/√2`), so the noise of
//! a pixel depends only on the frame seed and its sensor coordinates, not on
//! the region read. The per-pixel work is a handful of `f32` operations, one
//! square root and one division, with no `exp` or `ln`, and the rows are
//! spread over the rayon thread pool.

use pixel::demosaic::BayerPattern;
use pixel::geometry::Roi;
use rayon::prelude::*;

use crate::model::SensorSpec;

/// The pixel array extends this many columns and rows beyond the active
/// area, so a window may be shifted by one pixel to keep the Bayer phase.
pub const SENSOR_MARGIN: u32 = 2;

/// The smallest dark-current multiplier of a hot pixel.
pub const HOT_PIXEL_FACTOR_MIN: f32 = 300.0;

/// The largest dark-current multiplier of a hot pixel.
pub const HOT_PIXEL_FACTOR_MAX: f32 = 3000.0;

/// The longest exposure [`Sensor::expose`] accepts, µs.
pub const MAX_EXPOSURE_US: f64 = 10_000_000.0;

/// The sensor temperatures [`Sensor::expose`] accepts, °C.
pub const TEMPERATURE_RANGE_C: std::ops::RangeInclusive<f64> = -100.0..=200.0;

/// Step of the stored photo response (`η · (1 + PRNU) · S`), so that a `u16`
/// covers 0 ..= 2.
const RESPONSE_STEP: f32 = 1.0 / 32768.0;

/// Length of the standard normal table (a power of two).
const NOISE_TABLE_LEN: usize = 1 << 16;

/// Seed of the standard normal table (the same for every sensor).
const NOISE_TABLE_SEED: u64 = 0x6e6f_6973_655f_7461;

/// The operating point of one exposure.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Exposure {
    /// Exposure time, µs (0 ..= [`MAX_EXPOSURE_US`]).
    pub exposure_us: f64,
    /// Analog gain, dB (0 ..= [`SensorSpec::max_analog_gain_db`]).
    pub analog_gain_db: f64,
    /// Offset added after conversion, in DN of `adc_bits` (0 ..= 2^bits − 1).
    pub black_level_dn: f64,
    /// ADC resolution: 8, 10 or 12 bits.
    pub adc_bits: u32,
    /// Sensor temperature, °C (within [`TEMPERATURE_RANGE_C`]).
    pub temperature_c: f64,
    /// Photons per pixel per µs that radiance 1.0 delivers (before the
    /// quantum efficiency), ≥ 0.
    pub light: f64,
}

/// Why [`Sensor::expose`] refused to run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SensorError {
    /// The region does not fit in the pixel array (active area plus margin).
    #[error("region {roi:?} does not fit in the {columns} × {rows} pixel array")]
    RoiOutside {
        /// The region asked for.
        roi: Roi,
        /// Columns of the pixel array, margin included.
        columns: usize,
        /// Rows of the pixel array, margin included.
        rows: usize,
    },
    /// A buffer's length is not the region's pixel count.
    #[error("the {buffer} buffer holds {actual} samples, the region has {expected} pixels")]
    BufferSize {
        /// Which buffer: `"radiance"` or `"output"`.
        buffer: &'static str,
        /// The region's pixel count.
        expected: usize,
        /// The buffer's length.
        actual: usize,
    },
    /// The ADC resolution is not 8, 10 or 12 bits.
    #[error("ADC resolution of {0} bits is not supported (8, 10 or 12)")]
    AdcBits(u32),
    /// An exposure parameter is not finite or out of its range.
    #[error("{name} = {value} is not finite or out of range")]
    Parameter {
        /// The [`Exposure`] field.
        name: &'static str,
        /// Its value.
        value: f64,
    },
}

/// An image sensor with its fixed patterns (see the [module documentation](self)).
pub struct Sensor {
    spec: SensorSpec,
    /// Columns of the pixel array (active width plus margin).
    columns: usize,
    /// Rows of the pixel array (active height plus margin).
    rows: usize,
    /// `η · (1 + PRNU) · S` per pixel in units of [`RESPONSE_STEP`]; 0 on
    /// dead pixels. Row-major, `columns × rows`.
    response: Vec<u16>,
    /// DSNU per pixel in units of `dsnu_step_e`. Row-major, `columns × rows`.
    dsnu: Vec<i16>,
    /// Electrons per unit of `dsnu`.
    dsnu_step_e: f32,
    /// Hot pixels, sorted by (y, x).
    hot_pixels: Vec<(u32, u32)>,
    /// The dark-current multiplier of each of `hot_pixels`.
    hot_factors: Vec<f32>,
    /// Dead pixels, sorted by (y, x).
    dead_pixels: Vec<(u32, u32)>,
    /// Standard normal samples: `NOISE_TABLE_LEN + columns` of them, so a row
    /// can be read from any offset below `NOISE_TABLE_LEN`.
    normals: Vec<f32>,
}

impl std::fmt::Debug for Sensor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sensor")
            .field("spec", &self.spec)
            .field("hot_pixels", &self.hot_pixels.len())
            .field("dead_pixels", &self.dead_pixels.len())
            .finish_non_exhaustive()
    }
}

/// The per-exposure constants of the pixel conversion.
#[derive(Debug, Clone, Copy)]
struct Conversion {
    /// Photo-electrons per (radiance × response code).
    electrons_per_code: f32,
    /// Upper bound of the photo-electron mean (well above saturation).
    photo_cap_e: f32,
    /// Mean dark-current electrons of a normal pixel.
    dark_e: f32,
    /// Electrons per DSNU code.
    dsnu_step_e: f32,
    /// Read noise variance, e⁻², kept above zero.
    read_variance: f32,
    /// Saturation capacity, e⁻.
    full_well_e: f32,
    /// Conversion gain, DN/e⁻.
    gain: f32,
    /// Black level plus one half (rounding by truncation).
    offset_dn: f32,
    /// Largest ADC code.
    max_dn: f32,
}

impl Conversion {
    /// One ADC sample from the photo-electron mean, the dark-current mean,
    /// the DSNU offset (e⁻) and a standard normal sample.
    #[inline(always)]
    fn sample(&self, photo_e: f32, dark_e: f32, dsnu_e: f32, z: f32) -> u16 {
        // Written with comparisons so that NaN becomes 0 and the loop
        // compiles to min/max instructions.
        let photo_e = if photo_e > 0.0 { photo_e } else { 0.0 };
        let photo_e = if photo_e < self.photo_cap_e {
            photo_e
        } else {
            self.photo_cap_e
        };
        let charge = photo_e + dark_e;
        let variance = charge + self.read_variance;
        let inv_sigma = 1.0 / variance.sqrt();
        let sigma = variance * inv_sigma;
        let skew = charge * inv_sigma * inv_sigma * (1.0 / 6.0);
        let electrons = charge + dsnu_e + sigma * z + skew * (z * z - 1.0);
        let electrons = if electrons < self.full_well_e {
            electrons
        } else {
            self.full_well_e
        };
        let dn = electrons * self.gain + self.offset_dn;
        let dn = if dn > 0.0 { dn } else { 0.0 };
        let dn = if dn < self.max_dn { dn } else { self.max_dn };
        dn as u16
    }
}

impl Sensor {
    /// A sensor whose fixed patterns (DSNU, PRNU, hot and dead pixels) are
    /// seeded by `serial`: the same serial always gives the same sensor,
    /// different serials different ones.
    ///
    /// The fractions of hot and dead pixels are taken from `spec`, each
    /// limited to 1 % of the pixel array.
    pub fn new(spec: SensorSpec, serial: &str) -> Sensor {
        let columns = spec.width as usize + SENSOR_MARGIN as usize;
        let rows = spec.height as usize + SENSOR_MARGIN as usize;
        let pixels = columns * rows;
        let seed = fnv1a(serial.as_bytes());

        let dsnu_sigma = finite_or_zero(spec.dsnu_e).max(0.0);
        // Eight standard deviations fit in the i16 range.
        let dsnu_step_e = (dsnu_sigma * 8.0 / f32::from(i16::MAX)).max(1.0 / 1024.0);
        let prnu_sigma = finite_or_zero(spec.prnu).max(0.0);
        let shading = Shading::new(&spec);
        let bayer = spec.bayer;
        let qe = spec.quantum_efficiency.map(|q| finite_or_zero(q).max(0.0));

        let mut response = vec![0u16; pixels];
        let mut dsnu = vec![0i16; pixels];
        if columns > 0 {
            response
                .par_chunks_mut(columns)
                .zip(dsnu.par_chunks_mut(columns))
                .enumerate()
                .for_each(|(y, (response_row, dsnu_row))| {
                    let mut rng = SplitMix64::new(seed ^ mix64(y as u64 ^ 0x7072_6e75));
                    for (x, (r, d)) in response_row.iter_mut().zip(dsnu_row).enumerate() {
                        let (prnu_z, dsnu_z) = rng.normal_pair();
                        let channel = channel_of(bayer, x, y);
                        let gain = qe[channel] * (1.0 + prnu_sigma * prnu_z) * shading.at(x, y);
                        *r = (gain / RESPONSE_STEP)
                            .round()
                            .clamp(0.0, f32::from(u16::MAX)) as u16;
                        *d = (dsnu_sigma * dsnu_z / dsnu_step_e)
                            .round()
                            .clamp(f32::from(i16::MIN), f32::from(i16::MAX))
                            as i16;
                    }
                });
        }

        let mut defect_rng = SplitMix64::new(seed ^ 0x0064_6566_6563_7473);
        let hot_count = defect_count(spec.hot_pixel_fraction, pixels);
        let dead_count = defect_count(spec.dead_pixel_fraction, pixels);
        let mut taken = std::collections::HashSet::new();
        let mut hot = Vec::with_capacity(hot_count);
        while hot.len() < hot_count {
            let index = defect_rng.below(pixels);
            if taken.insert(index) {
                let factor = HOT_PIXEL_FACTOR_MIN
                    * (HOT_PIXEL_FACTOR_MAX / HOT_PIXEL_FACTOR_MIN).powf(defect_rng.unit() as f32);
                hot.push((index, factor));
            }
        }
        let mut dead = Vec::with_capacity(dead_count);
        while dead.len() < dead_count {
            let index = defect_rng.below(pixels);
            if taken.insert(index) {
                dead.push(index);
                response[index] = 0;
            }
        }
        // Row-major indices sort by (y, x).
        hot.sort_by_key(|&(index, _)| index);
        dead.sort_unstable();
        let coordinates = |index: usize| ((index % columns) as u32, (index / columns) as u32);
        let hot_pixels = hot.iter().map(|&(index, _)| coordinates(index)).collect();
        let hot_factors = hot.iter().map(|&(_, factor)| factor).collect();
        let dead_pixels = dead.iter().map(|&index| coordinates(index)).collect();

        Sensor {
            spec,
            columns,
            rows,
            response,
            dsnu,
            dsnu_step_e,
            hot_pixels,
            hot_factors,
            dead_pixels,
            normals: normal_table(NOISE_TABLE_LEN + columns),
        }
    }

    /// The sensor's physical description.
    pub fn spec(&self) -> &SensorSpec {
        &self.spec
    }

    /// The factory truth: hot pixels (x, y) in sensor coordinates, sorted by
    /// (y, x).
    pub fn hot_pixels(&self) -> &[(u32, u32)] {
        &self.hot_pixels
    }

    /// The factory truth: dead pixels (x, y) in sensor coordinates, sorted by
    /// (y, x).
    pub fn dead_pixels(&self) -> &[(u32, u32)] {
        &self.dead_pixels
    }

    /// Conversion gain K in DN per electron at `adc_bits` and
    /// `analog_gain_db`: `(2^bits − 1) / full_well · 10^(dB/20)`, so that at
    /// 0 dB the full well maps to the ADC's full scale.
    pub fn conversion_gain(&self, adc_bits: u32, analog_gain_db: f64) -> f64 {
        let full_scale = 2f64.powi(adc_bits.min(64) as i32) - 1.0;
        full_scale / f64::from(self.spec.full_well_e) * 10f64.powf(analog_gain_db / 20.0)
    }

    /// Which colour channel (0 R, 1 G, 2 B) pixel (x, y) sees; always 1 for a
    /// mono sensor.
    pub fn channel_at(&self, x: u32, y: u32) -> usize {
        channel_of(self.spec.bayer, x as usize, y as usize)
    }

    /// Exposes the pixels of `roi` and writes ADC samples
    /// (0 ..= 2^adc_bits − 1) into `out` (row-major, roi.width × roi.height).
    ///
    /// `roi` is in sensor coordinates and may reach into the margin:
    /// `x + width ≤ spec.width + 2`, `y + height ≤ spec.height + 2`.
    /// `radiance` holds, for every pixel of `roi`, the relative radiance
    /// (1.0 = the scene's white, ≥ 0; negative and NaN count as 0) of the
    /// colour channel that pixel sees. `frame_seed` selects the temporal
    /// noise: the same seed gives the same frame.
    pub fn expose(
        &self,
        radiance: &[f32],
        roi: Roi,
        exposure: &Exposure,
        frame_seed: u64,
        out: &mut [u16],
    ) -> Result<(), SensorError> {
        let conversion = self.conversion(exposure)?;
        let inside = |start: usize, len: usize, limit: usize| {
            start.checked_add(len).is_some_and(|end| end <= limit)
        };
        if !inside(roi.x, roi.width, self.columns) || !inside(roi.y, roi.height, self.rows) {
            return Err(SensorError::RoiOutside {
                roi,
                columns: self.columns,
                rows: self.rows,
            });
        }
        // Cannot overflow: the region lies inside the allocated pixel array.
        let expected = roi.width * roi.height;
        for (buffer, actual) in [("radiance", radiance.len()), ("output", out.len())] {
            if actual != expected {
                return Err(SensorError::BufferSize {
                    buffer,
                    expected,
                    actual,
                });
            }
        }
        if expected == 0 {
            return Ok(());
        }

        out.par_chunks_mut(roi.width)
            .zip(radiance.par_chunks(roi.width))
            .enumerate()
            .with_min_len(8)
            .for_each(|(row, (out_row, radiance_row))| {
                self.expose_row(
                    &conversion,
                    roi.y + row,
                    roi.x,
                    radiance_row,
                    frame_seed,
                    out_row,
                );
            });
        Ok(())
    }

    /// Checks `exposure` and derives the conversion constants.
    fn conversion(&self, exposure: &Exposure) -> Result<Conversion, SensorError> {
        let Exposure {
            exposure_us,
            analog_gain_db,
            black_level_dn,
            adc_bits,
            temperature_c,
            light,
        } = *exposure;
        if !matches!(adc_bits, 8 | 10 | 12) {
            return Err(SensorError::AdcBits(adc_bits));
        }
        let max_dn = f64::from((1u32 << adc_bits) - 1);
        let check = |name: &'static str, value: f64, ok: bool| {
            if value.is_finite() && ok {
                Ok(())
            } else {
                Err(SensorError::Parameter { name, value })
            }
        };
        check(
            "exposure_us",
            exposure_us,
            (0.0..=MAX_EXPOSURE_US).contains(&exposure_us),
        )?;
        check(
            "analog_gain_db",
            analog_gain_db,
            analog_gain_db >= 0.0 && analog_gain_db <= f64::from(self.spec.max_analog_gain_db),
        )?;
        check(
            "black_level_dn",
            black_level_dn,
            (0.0..=max_dn).contains(&black_level_dn),
        )?;
        check(
            "temperature_c",
            temperature_c,
            TEMPERATURE_RANGE_C.contains(&temperature_c),
        )?;
        check("light", light, light >= 0.0)?;

        let spec = &self.spec;
        let doubling = f64::from(spec.dark_current_doubling_c);
        let temperature_factor = if doubling > 0.0 {
            2f64.powf((temperature_c - 25.0) / doubling)
        } else {
            1.0
        };
        let dark_e = f64::from(finite_or_zero(spec.dark_current_e_per_s).max(0.0))
            * 1e-6
            * exposure_us
            * temperature_factor;
        let full_well_e = finite_or_zero(spec.full_well_e).max(1.0);
        let read_noise = finite_or_zero(spec.read_noise_e);
        Ok(Conversion {
            electrons_per_code: (light * exposure_us * f64::from(RESPONSE_STEP)) as f32,
            photo_cap_e: 4.0 * full_well_e,
            dark_e: dark_e as f32,
            dsnu_step_e: self.dsnu_step_e,
            read_variance: (read_noise * read_noise).max(1e-6),
            full_well_e,
            gain: self.conversion_gain(adc_bits, analog_gain_db) as f32,
            offset_dn: (black_level_dn + 0.5) as f32,
            max_dn: max_dn as f32,
        })
    }

    /// Exposes `out.len()` pixels of sensor row `y` from column `x0`
    /// (checked by the caller to lie inside the pixel array).
    fn expose_row(
        &self,
        conversion: &Conversion,
        y: usize,
        x0: usize,
        radiance: &[f32],
        frame_seed: u64,
        out: &mut [u16],
    ) {
        let width = out.len();
        let start = y * self.columns + x0;
        let response = &self.response[start..start + width];
        let dsnu = &self.dsnu[start..start + width];
        let (offset_a, offset_b) = noise_offsets(frame_seed, y);
        let normals_a = &self.normals[offset_a + x0..offset_a + x0 + width];
        let normals_b = &self.normals[offset_b + x0..offset_b + x0 + width];

        let c = *conversion;
        for ((((sample, &radiance), &response), &dsnu), (&za, &zb)) in out
            .iter_mut()
            .zip(radiance)
            .zip(response)
            .zip(dsnu)
            .zip(normals_a.iter().zip(normals_b))
        {
            let photo_e = radiance * f32::from(response) * c.electrons_per_code;
            let z = (za + zb) * std::f32::consts::FRAC_1_SQRT_2;
            *sample = c.sample(photo_e, c.dark_e, f32::from(dsnu) * c.dsnu_step_e, z);
        }

        // Hot pixels of this row: the same sample with a larger dark current.
        let first = self
            .hot_pixels
            .partition_point(|&(_, hy)| (hy as usize) < y);
        for (&(hx, hy), &factor) in self.hot_pixels[first..]
            .iter()
            .zip(&self.hot_factors[first..])
        {
            if hy as usize != y {
                break;
            }
            let Some(i) = (hx as usize).checked_sub(x0).filter(|&i| i < width) else {
                continue;
            };
            let photo_e = radiance[i] * f32::from(response[i]) * c.electrons_per_code;
            let z = (normals_a[i] + normals_b[i]) * std::f32::consts::FRAC_1_SQRT_2;
            out[i] = c.sample(
                photo_e,
                c.dark_e * factor,
                f32::from(dsnu[i]) * c.dsnu_step_e,
                z,
            );
        }
    }
}

/// The colour channel of pixel (x, y) under `bayer` (1 without a filter).
fn channel_of(bayer: Option<BayerPattern>, x: usize, y: usize) -> usize {
    bayer.map_or(1, |pattern| pattern.channel_at(x, y))
}

/// Relative illumination of the lens (cos⁴ law), 1 at the centre of the
/// active area and `corner_shading` at its corners.
#[derive(Debug, Clone, Copy)]
struct Shading {
    centre_x: f32,
    centre_y: f32,
    /// 1 / (distance from the centre to a corner)².
    inv_corner_r2: f32,
    /// tan²θ at the corners.
    corner_tan2: f32,
}

impl Shading {
    fn new(spec: &SensorSpec) -> Shading {
        let centre_x = (spec.width as f32 - 1.0).max(0.0) / 2.0;
        let centre_y = (spec.height as f32 - 1.0).max(0.0) / 2.0;
        let corner_r2 = (centre_x * centre_x + centre_y * centre_y).max(1.0);
        let corner = if spec.corner_shading.is_finite() {
            spec.corner_shading.clamp(0.01, 1.0)
        } else {
            1.0
        };
        Shading {
            centre_x,
            centre_y,
            inv_corner_r2: 1.0 / corner_r2,
            corner_tan2: 1.0 / corner.sqrt() - 1.0,
        }
    }

    fn at(&self, x: usize, y: usize) -> f32 {
        let dx = x as f32 - self.centre_x;
        let dy = y as f32 - self.centre_y;
        let q = 1.0 + (dx * dx + dy * dy) * self.inv_corner_r2 * self.corner_tan2;
        1.0 / (q * q)
    }
}

/// The number of defect pixels of a kind: `fraction` of `pixels`, rounded,
/// the fraction limited to 0 ..= 1 %.
fn defect_count(fraction: f32, pixels: usize) -> usize {
    let fraction = f64::from(finite_or_zero(fraction)).clamp(0.0, 0.01);
    (fraction * pixels as f64).round() as usize
}

fn finite_or_zero(value: f32) -> f32 {
    if value.is_finite() {
        value
    } else {
        0.0
    }
}

/// The two table offsets (distinct, below `NOISE_TABLE_LEN`) of row `y`.
fn noise_offsets(frame_seed: u64, y: usize) -> (usize, usize) {
    let hash = mix64(frame_seed ^ mix64(y as u64 ^ 0x726f_7773));
    let a = hash as usize & (NOISE_TABLE_LEN - 1);
    let step = 1 + ((hash >> 32) as usize) % (NOISE_TABLE_LEN - 1);
    (a, (a + step) & (NOISE_TABLE_LEN - 1))
}

/// `len` standard normal samples, standardised to mean 0 and variance 1.
fn normal_table(len: usize) -> Vec<f32> {
    let mut rng = SplitMix64::new(NOISE_TABLE_SEED);
    let mut values: Vec<f64> = Vec::with_capacity(len + 1);
    while values.len() < len {
        let (a, b) = rng.normal_pair_f64();
        values.push(a);
        values.push(b);
    }
    values.truncate(len);
    let n = values.len().max(1) as f64;
    let mean = values.iter().sum::<f64>() / n;
    let variance = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
    let scale = if variance > 0.0 {
        1.0 / variance.sqrt()
    } else {
        1.0
    };
    values.iter().map(|v| ((v - mean) * scale) as f32).collect()
}

/// FNV-1a hash of a byte string.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The SplitMix64 finaliser: a bijective 64-bit mix.
fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The SplitMix64 generator.
#[derive(Debug, Clone)]
struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    fn new(seed: u64) -> SplitMix64 {
        SplitMix64 { state: seed }
    }

    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        mix64(self.state)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in 0 .. `n` (`n` > 0).
    fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    /// Two independent standard normal samples (Box–Muller).
    fn normal_pair_f64(&mut self) -> (f64, f64) {
        // 1 − unit() lies in (0, 1], so the logarithm is finite.
        let radius = (-2.0 * (1.0 - self.unit()).ln()).sqrt();
        let angle = std::f64::consts::TAU * self.unit();
        (radius * angle.cos(), radius * angle.sin())
    }

    fn normal_pair(&mut self) -> (f32, f32) {
        let (a, b) = self.normal_pair_f64();
        (a as f32, b as f32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Model;

    fn color() -> SensorSpec {
        Model::Color5MP.spec().sensor
    }

    fn mono() -> SensorSpec {
        Model::Mono5MP.spec().sensor
    }

    fn exposure(exposure_us: f64, light: f64) -> Exposure {
        Exposure {
            exposure_us,
            analog_gain_db: 0.0,
            black_level_dn: 0.0,
            adc_bits: 12,
            temperature_c: 25.0,
            light,
        }
    }

    fn roi(x: usize, y: usize, width: usize, height: usize) -> Roi {
        Roi {
            x,
            y,
            width,
            height,
        }
    }

    /// A square region of `size` pixels around the centre of the active area.
    fn centre_roi(spec: &SensorSpec, size: usize) -> Roi {
        roi(
            spec.width as usize / 2 - size / 2,
            spec.height as usize / 2 - size / 2,
            size,
            size,
        )
    }

    fn frame(sensor: &Sensor, roi: Roi, radiance: f32, e: &Exposure, seed: u64) -> Vec<u16> {
        let n = roi.width * roi.height;
        let mut out = vec![0u16; n];
        sensor
            .expose(&vec![radiance; n], roi, e, seed, &mut out)
            .unwrap();
        out
    }

    /// Whether pixel `i` of `roi` is neither hot nor dead.
    fn is_regular(sensor: &Sensor, roi: Roi) -> impl Fn(usize) -> bool + '_ {
        move |i| {
            let p = (
                (roi.x + i % roi.width) as u32,
                (roi.y + i / roi.width) as u32,
            );
            !sensor.hot_pixels().contains(&p) && !sensor.dead_pixels().contains(&p)
        }
    }

    /// Mean of `frame` and half the variance of `frame − other`, over the
    /// pixels `keep` accepts.
    fn mean_and_temporal_variance(
        frame: &[u16],
        other: &[u16],
        keep: impl Fn(usize) -> bool,
    ) -> (f64, f64) {
        let (mut n, mut sum, mut sum_d, mut sum_d2) = (0.0, 0.0, 0.0, 0.0);
        for (i, (&a, &b)) in frame.iter().zip(other).enumerate() {
            if keep(i) {
                let d = f64::from(a) - f64::from(b);
                n += 1.0;
                sum += (f64::from(a) + f64::from(b)) / 2.0;
                sum_d += d;
                sum_d2 += d * d;
            }
        }
        let mean_d = sum_d / n;
        (sum / n, (sum_d2 / n - mean_d * mean_d) / 2.0)
    }

    /// Mean of the shading over `roi`.
    fn mean_shading(spec: &SensorSpec, roi: Roi) -> f64 {
        let shading = Shading::new(spec);
        let mut sum = 0.0;
        for y in roi.y..roi.y + roi.height {
            for x in roi.x..roi.x + roi.width {
                sum += f64::from(shading.at(x, y));
            }
        }
        sum / (roi.width * roi.height) as f64
    }

    /// Per-pixel mean of `frames` frames and the spatial variance of that
    /// mean image minus the temporal variance left in it, over the pixels
    /// `keep` accepts (EMVA 1288 spatial non-uniformity).
    fn spatial_variance(
        sensor: &Sensor,
        roi: Roi,
        radiance: f32,
        e: &Exposure,
        frames: usize,
        keep: impl Fn(usize) -> bool,
    ) -> (f64, f64) {
        let n = roi.width * roi.height;
        let mut sum = vec![0.0f64; n];
        let mut stack = Vec::new();
        for seed in 0..frames as u64 {
            let f = frame(sensor, roi, radiance, e, 1000 + seed);
            for (s, &v) in sum.iter_mut().zip(&f) {
                *s += f64::from(v);
            }
            stack.push(f);
        }
        let frames_f = frames as f64;
        let (mut count, mut mean_sum, mut mean_sq, mut temporal) = (0.0, 0.0, 0.0, 0.0);
        for i in (0..n).filter(|&i| keep(i)) {
            let mean = sum[i] / frames_f;
            let var = stack
                .iter()
                .map(|f| (f64::from(f[i]) - mean).powi(2))
                .sum::<f64>()
                / (frames_f - 1.0);
            count += 1.0;
            mean_sum += mean;
            mean_sq += mean * mean;
            temporal += var;
        }
        let mean = mean_sum / count;
        let spatial = mean_sq / count - mean * mean - temporal / count / frames_f;
        (mean, spatial)
    }

    fn assert_close(actual: f64, expected: f64, tolerance: f64, what: &str) {
        assert!(
            (actual - expected).abs() <= tolerance * expected.abs(),
            "{what}: {actual} vs expected {expected} (±{:.1} %)",
            tolerance * 100.0
        );
    }

    #[test]
    fn photon_transfer_follows_emva_1288() {
        let spec = mono();
        let sensor = Sensor::new(spec, "PTC-1");
        let area = centre_roi(&spec, 256);
        let keep = is_regular(&sensor, area);
        let shading = mean_shading(&spec, area);
        for (adc_bits, gain_db, black) in [(12, 0.0, 60.0), (12, 12.0, 100.0), (10, 6.0, 16.0)] {
            let e = Exposure {
                adc_bits,
                analog_gain_db: gain_db,
                black_level_dn: black,
                ..exposure(1000.0, 1.0)
            };
            let k = sensor.conversion_gain(adc_bits, gain_db);
            let dark_e = f64::from(spec.dark_current_e_per_s) * 1e-3;
            for electrons in [5.0, 50.0, 500.0, 2000.0] {
                // Photons per µs that give `electrons` at the centre.
                let light = electrons / 1000.0 / f64::from(spec.quantum_efficiency[1]) / shading;
                let e = Exposure { light, ..e };
                if k * (electrons + 6.0 * electrons.sqrt()) + black > f64::from(1u32 << adc_bits) {
                    continue;
                }
                let a = frame(&sensor, area, 1.0, &e, 1);
                let b = frame(&sensor, area, 1.0, &e, 2);
                let (mean, variance) = mean_and_temporal_variance(&a, &b, &keep);
                let read = f64::from(spec.read_noise_e).powi(2);
                let mu_e = electrons + dark_e;
                let label = format!("{adc_bits} bit, {gain_db} dB, {electrons} e");
                assert_close(mean - black, k * mu_e, 0.02, &format!("mean at {label}"));
                assert_close(
                    variance,
                    k * k * (read + mu_e) + 1.0 / 12.0,
                    0.04,
                    &format!("variance at {label}"),
                );
            }
        }
    }

    #[test]
    fn low_signal_shot_noise_is_skewed_like_poisson() {
        // Third central moment of Poisson (μ) plus Gaussian read noise (0) is μ;
        // the fixed DSNU is Gaussian and adds none.
        let spec = mono();
        let sensor = Sensor::new(spec, "SKEW-1");
        let area = centre_roi(&spec, 256);
        let keep = is_regular(&sensor, area);
        let electrons = 4.0;
        let k = sensor.conversion_gain(12, 24.0);
        let e = Exposure {
            analog_gain_db: 24.0,
            black_level_dn: 300.0,
            light: electrons / 1000.0 / f64::from(spec.quantum_efficiency[1]),
            ..exposure(1000.0, 0.0)
        };
        let mut values = Vec::new();
        for seed in 0..4 {
            let f = frame(&sensor, area, 1.0, &e, seed);
            values.extend(
                f.iter()
                    .enumerate()
                    .filter(|&(i, _)| keep(i))
                    .map(|(_, &v)| f64::from(v) / k),
            );
        }
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        let m3 = values.iter().map(|v| (v - mean).powi(3)).sum::<f64>() / n;
        assert_close(
            m3,
            electrons + f64::from(spec.dark_current_e_per_s) * 1e-3,
            0.3,
            "third moment",
        );
    }

    #[test]
    fn dark_frame_mean_is_black_level_plus_dark_signal() {
        let spec = mono();
        let sensor = Sensor::new(spec, "DARK-1");
        let area = centre_roi(&spec, 256);
        let e = Exposure {
            analog_gain_db: 24.0,
            black_level_dn: 200.0,
            temperature_c: 45.0,
            ..exposure(500_000.0, 0.0)
        };
        let k = sensor.conversion_gain(12, 24.0);
        let dark_e = 3.0 * 0.5 * 2f64.powf(20.0 / 6.5);
        let a = frame(&sensor, area, 0.0, &e, 1);
        let b = frame(&sensor, area, 0.0, &e, 2);
        let (mean, variance) = mean_and_temporal_variance(&a, &b, is_regular(&sensor, area));
        // The DSNU averages out over the region to within 1.2 e / 256.
        assert_close(mean - 200.0, k * dark_e, 0.02, "dark mean");
        let read = f64::from(spec.read_noise_e).powi(2);
        assert_close(variance, k * k * (read + dark_e), 0.04, "dark variance");
    }

    #[test]
    fn saturation_clips_at_full_scale() {
        for adc_bits in [8, 10, 12] {
            let spec = color();
            let sensor = Sensor::new(spec, "SAT-1");
            let area = roi(0, 0, spec.width as usize + 2, 16);
            let keep = is_regular(&sensor, area);
            let e = Exposure {
                adc_bits,
                ..exposure(1000.0, 100.0)
            };
            let max = (1u16 << adc_bits) - 1;
            let out = frame(&sensor, area, 5.0, &e, 3);
            assert!(out.iter().all(|&v| v <= max));
            assert!(out.iter().enumerate().all(|(i, &v)| !keep(i) || v == max));
        }
    }

    #[test]
    fn dark_current_doubles_every_doubling_temperature() {
        let spec = mono();
        let sensor = Sensor::new(spec, "TEMP-1");
        let area = centre_roi(&spec, 256);
        let keep = is_regular(&sensor, area);
        let dark_dn = |temperature_c: f64| {
            let e = Exposure {
                analog_gain_db: 24.0,
                black_level_dn: 100.0,
                temperature_c,
                ..exposure(1_000_000.0, 0.0)
            };
            let f = frame(&sensor, area, 0.0, &e, 7);
            let (mean, _) = mean_and_temporal_variance(&f, &f, &keep);
            mean - 100.0
        };
        let step = f64::from(spec.dark_current_doubling_c);
        let d0 = dark_dn(40.0);
        let d1 = dark_dn(40.0 + step);
        let d2 = dark_dn(40.0 + 2.0 * step);
        assert_close(d1 / d0, 2.0, 0.03, "first doubling");
        assert_close(d2 / d1, 2.0, 0.03, "second doubling");
    }

    #[test]
    fn prnu_matches_the_spec() {
        let spec = mono();
        let sensor = Sensor::new(spec, "PRNU-1");
        let area = centre_roi(&spec, 128);
        let e = exposure(1000.0, 5000.0 / 1000.0 / 0.7);
        let keep = is_regular(&sensor, area);
        let (mean, spatial) = spatial_variance(&sensor, area, 1.0, &e, 16, keep);
        let prnu = spatial.max(0.0).sqrt() / mean;
        assert_close(prnu, f64::from(spec.prnu), 0.15, "PRNU");
    }

    #[test]
    fn dsnu_matches_the_spec() {
        let spec = mono();
        let sensor = Sensor::new(spec, "DSNU-1");
        let area = centre_roi(&spec, 128);
        let e = Exposure {
            analog_gain_db: 24.0,
            black_level_dn: 200.0,
            ..exposure(100.0, 0.0)
        };
        let keep = is_regular(&sensor, area);
        let (_, spatial) = spatial_variance(&sensor, area, 0.0, &e, 16, keep);
        let dsnu_e = spatial.max(0.0).sqrt() / sensor.conversion_gain(12, 24.0);
        assert_close(dsnu_e, f64::from(spec.dsnu_e), 0.15, "DSNU");
    }

    #[test]
    fn the_serial_fixes_the_pattern() {
        let spec = Model::HighSpeed1_6MP.spec().sensor;
        let a = Sensor::new(spec, "SN-0001");
        let b = Sensor::new(spec, "SN-0001");
        let c = Sensor::new(spec, "SN-0002");
        assert!(a.response == b.response && a.dsnu == b.dsnu);
        assert_eq!(a.hot_pixels(), b.hot_pixels());
        assert_eq!(a.dead_pixels(), b.dead_pixels());
        assert!(a.response != c.response && a.dsnu != c.dsnu);
        assert_ne!(a.hot_pixels(), c.hot_pixels());
        assert_ne!(a.dead_pixels(), c.dead_pixels());

        let area = roi(100, 100, 64, 64);
        let e = exposure(1000.0, 0.5);
        let fa = frame(&a, area, 0.7, &e, 42);
        assert_eq!(fa, frame(&b, area, 0.7, &e, 42), "same serial, same seed");
        assert_ne!(fa, frame(&c, area, 0.7, &e, 42), "different serial");
        assert_ne!(fa, frame(&a, area, 0.7, &e, 43), "different frame seed");
    }

    #[test]
    fn noise_does_not_depend_on_the_region() {
        let sensor = Sensor::new(color(), "ROI-1");
        let e = exposure(1000.0, 0.5);
        let full = roi(0, 0, 200, 100);
        let part = roi(37, 21, 50, 30);
        let a = frame(&sensor, full, 0.6, &e, 9);
        let b = frame(&sensor, part, 0.6, &e, 9);
        for (row, chunk) in b.chunks(part.width).enumerate() {
            let start = (part.y + row) * full.width + part.x;
            assert_eq!(chunk, &a[start..start + part.width]);
        }
    }

    #[test]
    fn hot_pixels_glow_and_dead_pixels_stay_dark() {
        let spec = mono();
        let sensor = Sensor::new(spec, "DEFECT-1");
        let columns = spec.width as usize + 2;
        let rows = spec.height as usize + 2;
        let pixels = (columns * rows) as f64;
        let expected_hot = f64::from(spec.hot_pixel_fraction) * pixels;
        let expected_dead = f64::from(spec.dead_pixel_fraction) * pixels;
        assert!((sensor.hot_pixels().len() as f64 - expected_hot).abs() <= 1.0);
        assert!((sensor.dead_pixels().len() as f64 - expected_dead).abs() <= 1.0);
        for list in [sensor.hot_pixels(), sensor.dead_pixels()] {
            assert!(list.windows(2).all(|w| (w[0].1, w[0].0) < (w[1].1, w[1].0)));
            assert!(list
                .iter()
                .all(|&(x, y)| (x as usize) < columns && (y as usize) < rows));
        }
        assert!(sensor
            .hot_pixels()
            .iter()
            .all(|p| !sensor.dead_pixels().contains(p)));

        let full = roi(0, 0, columns, rows);
        let at = |out: &[u16], (x, y): (u32, u32)| out[y as usize * columns + x as usize];
        let black = 100.0;
        let dark = Exposure {
            analog_gain_db: 12.0,
            black_level_dn: black,
            ..exposure(1_000_000.0, 0.0)
        };
        let out = frame(&sensor, full, 0.0, &dark, 1);
        let k = sensor.conversion_gain(12, 12.0);
        // A hot pixel collects at least 300 × 3 e in a second; a normal one 3 e.
        let threshold = (black + k * 300.0) as u16;
        assert!(sensor.hot_pixels().iter().all(|&p| at(&out, p) > threshold));
        let bright = out.iter().filter(|&&v| v > threshold).count();
        assert_eq!(bright, sensor.hot_pixels().len());

        let lit = Exposure {
            black_level_dn: black,
            ..exposure(1000.0, 5.0)
        };
        let out = frame(&sensor, full, 1.0, &lit, 2);
        // Black level, a few e of dark signal and noise: within 5 DN.
        assert!(sensor
            .dead_pixels()
            .iter()
            .all(|&p| (f64::from(at(&out, p)) - black).abs() < 5.0));
        let centre = (columns / 2) as u32;
        let lit_level = f64::from(at(&out, (centre, (rows / 2) as u32)));
        assert!(
            lit_level > black + 1000.0,
            "lit pixels are bright: {lit_level}"
        );
    }

    #[test]
    fn lens_shading_darkens_the_corners() {
        let spec = mono();
        let sensor = Sensor::new(spec, "SHADING-1");
        let e = exposure(1000.0, 2.0);
        let block = 16;
        let mean = |x: usize, y: usize| {
            let area = roi(x, y, block, block);
            let out = frame(&sensor, area, 1.0, &e, 5);
            let keep = is_regular(&sensor, area);
            let (mean, _) = mean_and_temporal_variance(&out, &out, keep);
            mean
        };
        let (w, h) = (spec.width as usize, spec.height as usize);
        let centre = mean(w / 2 - block / 2, h / 2 - block / 2);
        let corners = [
            mean(0, 0),
            mean(w - block, 0),
            mean(0, h - block),
            mean(w - block, h - block),
        ];
        for corner in corners {
            // The blocks reach slightly inside the corners: a little brighter.
            let ratio = corner / centre;
            assert!(
                ratio > f64::from(spec.corner_shading) - 0.01
                    && ratio < f64::from(spec.corner_shading) + 0.03,
                "corner / centre = {ratio}"
            );
        }
        // Half-way to the corner the cos⁴ law gives 1 / (1 + tan²θc / 4)².
        let tan2 = 1.0 / f64::from(spec.corner_shading).sqrt() - 1.0;
        let half = mean(w / 4 - block / 2, h / 4 - block / 2) / centre;
        assert_close(half, 1.0 / (1.0 + tan2 / 4.0).powi(2), 0.01, "half-way");
    }

    #[test]
    fn colour_channels_follow_bayer_pattern_and_quantum_efficiency() {
        let spec = color();
        let sensor = Sensor::new(spec, "BAYER-1");
        let pattern = spec.bayer.unwrap();
        for y in 0..4 {
            for x in 0..4 {
                assert_eq!(
                    sensor.channel_at(x, y),
                    pattern.channel_at(x as usize, y as usize)
                );
            }
        }
        assert_eq!(sensor.channel_at(0, 0), 0);
        assert_eq!(sensor.channel_at(1, 1), 2);
        let mono = Sensor::new(mono(), "BAYER-1");
        assert!((0..4).all(|i| mono.channel_at(i, i / 2) == 1));

        let area = centre_roi(&spec, 128);
        let e = exposure(1000.0, 5.0);
        let out = frame(&sensor, area, 1.0, &e, 4);
        let mut sums = [0.0f64; 3];
        let mut counts = [0.0f64; 3];
        for (i, &v) in out.iter().enumerate() {
            let c = sensor.channel_at(
                (area.x + i % area.width) as u32,
                (area.y + i / area.width) as u32,
            );
            sums[c] += f64::from(v);
            counts[c] += 1.0;
        }
        let means: Vec<f64> = (0..3).map(|c| sums[c] / counts[c]).collect();
        let qe = spec.quantum_efficiency.map(f64::from);
        assert_close(means[0] / means[1], qe[0] / qe[1], 0.01, "R / G");
        assert_close(means[2] / means[1], qe[2] / qe[1], 0.01, "B / G");
    }

    #[test]
    fn bad_input_gives_errors() {
        let spec = Model::HighSpeed1_6MP.spec().sensor;
        let sensor = Sensor::new(spec, "ERR-1");
        let good = exposure(1000.0, 1.0);
        let (w, h) = (spec.width as usize, spec.height as usize);
        let run = |area: Roi, radiance: usize, out: usize, e: &Exposure| {
            let mut o = vec![0u16; out];
            sensor.expose(&vec![0.5; radiance], area, e, 0, &mut o)
        };
        // The margin is valid, one more pixel is not.
        assert!(run(roi(2, 2, w, h), w * h, w * h, &good).is_ok());
        for area in [
            roi(3, 0, w, 4),
            roi(0, h, 4, 3),
            roi(usize::MAX, 0, 2, 2),
            roi(0, 1, 2, usize::MAX),
        ] {
            assert!(
                matches!(run(area, 4, 4, &good), Err(SensorError::RoiOutside { .. })),
                "{area:?}"
            );
        }
        let area = roi(10, 10, 8, 4);
        assert!(matches!(
            run(area, 31, 32, &good),
            Err(SensorError::BufferSize {
                buffer: "radiance",
                expected: 32,
                actual: 31
            })
        ));
        assert!(matches!(
            run(area, 32, 33, &good),
            Err(SensorError::BufferSize {
                buffer: "output",
                ..
            })
        ));
        assert!(run(roi(5, 5, 0, 0), 0, 0, &good).is_ok());
        for bits in [0, 7, 9, 11, 14, 16, 32, u32::MAX] {
            let e = Exposure {
                adc_bits: bits,
                ..good
            };
            assert_eq!(run(area, 32, 32, &e), Err(SensorError::AdcBits(bits)));
        }
        let bad = [
            Exposure {
                exposure_us: f64::NAN,
                ..good
            },
            Exposure {
                exposure_us: -1.0,
                ..good
            },
            Exposure {
                exposure_us: f64::INFINITY,
                ..good
            },
            Exposure {
                analog_gain_db: f64::NAN,
                ..good
            },
            Exposure {
                analog_gain_db: 30.0,
                ..good
            },
            Exposure {
                black_level_dn: f64::NAN,
                ..good
            },
            Exposure {
                black_level_dn: 5000.0,
                ..good
            },
            Exposure {
                temperature_c: f64::NAN,
                ..good
            },
            Exposure {
                temperature_c: 1e9,
                ..good
            },
            Exposure {
                light: f64::NAN,
                ..good
            },
            Exposure {
                light: f64::INFINITY,
                ..good
            },
            Exposure {
                light: -1.0,
                ..good
            },
        ];
        for e in bad {
            assert!(
                matches!(run(area, 32, 32, &e), Err(SensorError::Parameter { .. })),
                "{e:?}"
            );
        }
    }

    #[test]
    fn odd_radiance_never_panics() {
        let sensor = Sensor::new(color(), "ODD-1");
        let area = roi(0, 0, 8, 1);
        let radiance = [
            f32::NAN,
            -1.0,
            f32::INFINITY,
            f32::NEG_INFINITY,
            0.0,
            1e30,
            f32::MAX,
            1.0,
        ];
        let mut out = [0u16; 8];
        let e = Exposure {
            black_level_dn: 0.0,
            ..exposure(1_000_000.0, 1e6)
        };
        sensor.expose(&radiance, area, &e, 0, &mut out).unwrap();
        // NaN and negative radiance count as dark; infinite radiance saturates.
        assert!(out[0] < 50 && out[1] < 50 && out[3] < 50 && out[4] < 50);
        assert_eq!(out[2], 4095);
        assert_eq!(out[7], 4095);
    }

    #[test]
    #[ignore]
    fn bench_expose() {
        let spec = color();
        let started = std::time::Instant::now();
        let sensor = Sensor::new(spec, "BENCH-1");
        println!(
            "Sensor::new (5 MP colour): {:.0} ms",
            started.elapsed().as_secs_f64() * 1e3
        );
        let area = roi(0, 0, spec.width as usize, spec.height as usize);
        let n = area.width * area.height;
        let radiance: Vec<f32> = (0..n).map(|i| (i % 1531) as f32 / 1000.0).collect();
        let mut out = vec![0u16; n];
        for adc_bits in [8, 12] {
            let e = Exposure {
                adc_bits,
                black_level_dn: 4.0,
                ..exposure(5000.0, 1.5)
            };
            sensor.expose(&radiance, area, &e, 0, &mut out).unwrap();
            let frames = 40;
            let started = std::time::Instant::now();
            for seed in 0..frames {
                sensor.expose(&radiance, area, &e, seed, &mut out).unwrap();
            }
            let seconds = started.elapsed().as_secs_f64() / frames as f64;
            println!(
                "expose {}×{} at {adc_bits} bit: {:.2} ms/frame, {:.0} Mpixel/s, {:.0} frames/s ({} threads)",
                area.width,
                area.height,
                seconds * 1e3,
                n as f64 / seconds / 1e6,
                1.0 / seconds,
                rayon::current_num_threads()
            );
        }
    }
}
