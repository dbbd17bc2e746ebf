//! The on-camera colour pipeline, fused and parallel.
//!
//! [`ColorPipeline`] turns an 8-bit Bayer mosaic into RGB8 through the
//! camera's processing steps, in this order:
//!
//! 1. defect pixel correction from a [`DefectList`] ([`crate::defect`]),
//! 2. flat-field correction ([`crate::ffc`]),
//! 3. white balance on the mosaic ([`crate::color::white_balance_bayer`]),
//! 4. demosaicing, bilinear or Malvar-He-Cutler ([`crate::demosaic`]),
//! 5. the colour matrix with offsets, into which saturation and hue are
//!    folded ([`crate::color::apply_color_matrix`]),
//! 6. gamma or a user look-up table ([`crate::lut::Lut8`]).
//!
//! [`ColorPipeline::run_steps`] runs the steps one after the other through
//! their public functions, each over the whole frame; it is the definition.
//! [`ColorPipeline::run`] computes exactly the same result (the tests check
//! this on random frames) but works on bands of rows spread over rayon's
//! threads: each band reads the mosaic rows it needs, corrects and balances
//! them into a small buffer that stays in cache, demosaics them straight
//! into the output, and applies matrix and table there while the rows are
//! still in cache. Defect estimates read the original mosaic; this is exact
//! because a defect is estimated only from pixels that are not in the list,
//! which no step before it changes.

use rayon::prelude::*;

use crate::color::{self, ColorError, ColorMatrix, FixedMatrix};
use crate::defect::{self, DefectError, DefectList};
use crate::demosaic::{self, BayerPattern, DemosaicError};
use crate::ffc::{self, FfcError, FlatField};
use crate::geometry::PixelLayout;
use crate::lut::{Lut8, LutError};
use crate::simd::Simd;

/// Rows per band of [`ColorPipeline::run`]: small enough that a band's
/// mosaic rows and output stay in the core's cache, large enough that the
/// rows re-read at band edges cost little.
const BAND_ROWS: usize = 8;

/// Flat-field correction of one 8-bit sample ([`ffc::apply_ffc`]'s formula).
#[inline(always)]
fn ffc_px(v: u8, offset: u16, gain: u16) -> u8 {
    ffc::correct_sample(u32::from(v), offset, gain, 255) as u8
}

thread_local! {
    /// Each worker thread's buffer for a band's prepared mosaic rows, kept
    /// between bands and frames so that it is allocated and zeroed once.
    static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Demosaicing method (SFNC-style `ColorInterpolation`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DemosaicMethod {
    /// Bilinear interpolation ([`demosaic::bilinear_u8`]).
    #[default]
    Bilinear,
    /// Malvar-He-Cutler gradient-corrected interpolation
    /// ([`demosaic::mhc_u8`]).
    GradientCorrected,
}

/// Errors of the colour pipeline.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PipelineError {
    /// `width * height * 3` does not fit in `usize`.
    #[error("image size {width}x{height} overflows")]
    SizeOverflow {
        /// Width in pixels.
        width: usize,
        /// Height in pixels.
        height: usize,
    },
    /// The mosaic holds fewer than `width * height` samples.
    #[error("source buffer too short: need {needed} samples, got {actual}")]
    SourceTooShort {
        /// Required number of samples.
        needed: usize,
        /// Length of the buffer passed.
        actual: usize,
    },
    /// The RGB buffer holds fewer than `3 * width * height` samples.
    #[error("destination buffer too short: need {needed} samples, got {actual}")]
    DestinationTooShort {
        /// Required number of samples.
        needed: usize,
        /// Length of the buffer passed.
        actual: usize,
    },
    /// The defect list does not fit the frame.
    #[error("defect list: {0}")]
    Defect(#[from] DefectError),
    /// The flat-field maps do not fit the frame.
    #[error("flat-field correction: {0}")]
    FlatField(#[from] FfcError),
    /// Bad white-balance gains or colour matrix.
    #[error("colour: {0}")]
    Color(#[from] ColorError),
    /// Look-up table error.
    #[error("look-up table: {0}")]
    Lut(#[from] LutError),
    /// Demosaicing error.
    #[error("demosaicing: {0}")]
    Demosaic(#[from] DemosaicError),
}

/// The settings of a [`ColorPipeline`].
#[derive(Debug, Clone, PartialEq)]
pub struct PipelineSettings {
    /// Colour filter arrangement of the mosaic.
    pub pattern: BayerPattern,
    /// Pixels to correct (empty: no correction).
    pub defects: DefectList,
    /// Flat-field maps (`None`: no correction).
    pub flat_field: Option<FlatField>,
    /// White-balance gains `[red, green, blue]`.
    pub white_balance: [f32; 3],
    /// Demosaicing method.
    pub demosaic: DemosaicMethod,
    /// Colour matrix with offsets (fold saturation and hue in with
    /// [`ColorMatrix::then`]).
    pub matrix: ColorMatrix,
    /// Gamma or user table (`None`: identity).
    pub lut: Option<Lut8>,
}

impl PipelineSettings {
    /// Settings that change nothing but demosaic a `pattern` mosaic.
    pub fn new(pattern: BayerPattern) -> Self {
        PipelineSettings {
            pattern,
            defects: DefectList::new(),
            flat_field: None,
            white_balance: [1.0; 3],
            demosaic: DemosaicMethod::Bilinear,
            matrix: ColorMatrix::IDENTITY,
            lut: None,
        }
    }
}

/// An 8-bit Bayer → RGB8 pipeline for one frame size, with its settings
/// checked and prepared (see the [module documentation](self)).
#[derive(Debug, Clone)]
pub struct ColorPipeline {
    width: usize,
    height: usize,
    settings: PipelineSettings,
    /// Fixed-point white-balance gains per colour channel.
    wb: [u32; 3],
    /// The matrix in fixed point, `None` when it is the identity.
    matrix: Option<FixedMatrix>,
    /// The table, `None` when it is the identity.
    lut: Option<Lut8>,
}

impl ColorPipeline {
    /// Prepares the pipeline for `width × height` frames.
    ///
    /// Errors: a defect outside the frame, flat-field maps of another size,
    /// invalid gains or matrix, a frame size that overflows.
    pub fn new(
        width: usize,
        height: usize,
        settings: PipelineSettings,
    ) -> Result<Self, PipelineError> {
        width
            .checked_mul(height)
            .and_then(|n| n.checked_mul(3))
            .ok_or(PipelineError::SizeOverflow { width, height })?;
        settings.defects.validate(width, height)?;
        if let Some(f) = &settings.flat_field {
            f.check_size(width, height)?;
        }
        let wb = color::wb_raw(settings.white_balance)?;
        let matrix = if settings.matrix.is_identity() {
            None
        } else {
            Some(FixedMatrix::new(&settings.matrix, 8)?)
        };
        let lut = settings.lut.filter(|l| !l.is_identity());
        Ok(ColorPipeline {
            width,
            height,
            settings,
            wb,
            matrix,
            lut,
        })
    }

    /// The settings.
    pub fn settings(&self) -> &PipelineSettings {
        &self.settings
    }

    /// Frame width and height.
    pub fn size(&self) -> (usize, usize) {
        (self.width, self.height)
    }

    fn check<'a, 'b>(
        &self,
        src: &'a [u8],
        dst: &'b mut [u8],
    ) -> Result<(&'a [u8], &'b mut [u8]), PipelineError> {
        let n = self.width * self.height;
        if src.len() < n {
            return Err(PipelineError::SourceTooShort {
                needed: n,
                actual: src.len(),
            });
        }
        if dst.len() < 3 * n {
            return Err(PipelineError::DestinationTooShort {
                needed: 3 * n,
                actual: dst.len(),
            });
        }
        Ok((&src[..n], &mut dst[..3 * n]))
    }

    /// Runs every step over the whole frame, one after the other, through
    /// the steps' public functions: the definition of the pipeline's result
    /// (and its slow reference). `src` is the mosaic, `dst` receives RGB8.
    pub fn run_steps(&self, src: &[u8], dst: &mut [u8]) -> Result<(), PipelineError> {
        let (src, dst) = self.check(src, dst)?;
        let (w, h, s) = (self.width, self.height, &self.settings);
        let mut mosaic = src.to_vec();
        defect::correct(PixelLayout::Bayer(s.pattern), w, h, &s.defects, &mut mosaic)?;
        if let Some(f) = &s.flat_field {
            ffc::apply(f, &mut mosaic, w, h, 8)?;
        }
        color::white_balance_bayer(&mut mosaic, w, h, s.pattern, 8, s.white_balance)?;
        match s.demosaic {
            DemosaicMethod::Bilinear => demosaic::bilinear_u8(s.pattern, w, h, &mosaic, dst)?,
            DemosaicMethod::GradientCorrected => demosaic::mhc_u8(s.pattern, w, h, &mosaic, dst)?,
        }
        color::apply_color_matrix(dst, w, h, 8, &s.matrix)?;
        if let Some(l) = &s.lut {
            l.apply(dst, w, h, 3)?;
        }
        Ok(())
    }

    /// Runs the pipeline on all of rayon's threads; the result equals
    /// [`run_steps`](Self::run_steps). `src` is the mosaic, `dst` receives
    /// RGB8.
    pub fn run(&self, src: &[u8], dst: &mut [u8]) -> Result<(), PipelineError> {
        let (src, dst) = self.check(src, dst)?;
        let (w, h) = (self.width, self.height);
        if w < 5 || h < 5 {
            // Too small for bands (and for the demosaic borders); nothing
            // here is worth parallelising.
            return self.run_steps(src, dst);
        }
        let simd = Simd::detect();
        dst.par_chunks_mut(BAND_ROWS * 3 * w)
            .enumerate()
            .for_each(|(band, out)| {
                SCRATCH.with_borrow_mut(|scratch| {
                    let y0 = band * BAND_ROWS;
                    #[cfg(target_arch = "x86_64")]
                    if simd.avx2 {
                        // SAFETY: `simd.avx2` is only true when the CPU has AVX2.
                        return unsafe { self.band_avx2(src, y0, out, scratch) };
                    }
                    self.band(src, y0, out, scratch)
                })
            });
        Ok(())
    }

    /// [`band`](Self::band) compiled with AVX2, so that the steps' loops
    /// inlined into it are vectorised with it.
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn band_avx2(&self, src: &[u8], y0: usize, out: &mut [u8], scratch: &mut Vec<u8>) {
        self.band(src, y0, out, scratch)
    }

    /// Output rows `y0..y0 + out.len() / (3w)`.
    #[inline(always)]
    fn band(&self, src: &[u8], y0: usize, out: &mut [u8], scratch: &mut Vec<u8>) {
        let (w, h) = (self.width, self.height);
        let rows = out.len() / (3 * w);
        let reach = match self.settings.demosaic {
            DemosaicMethod::Bilinear => 1,
            DemosaicMethod::GradientCorrected => 2,
        };
        // Mosaic rows the band's demosaic reads: `reach` rows around it, and
        // rows 0..3 or h-3..h where a border row repeats row 1 or h-2.
        let first = y0.saturating_sub(reach).min(h - 3);
        let last = (y0 + rows + reach).min(h).max(3); // exclusive
        let len = (last - first) * w;
        if scratch.len() < len {
            scratch.resize(len, 0);
        }
        let scratch = &mut scratch[..len];
        for (i, row) in scratch.chunks_exact_mut(w).enumerate() {
            self.prepare_row(src, first + i, row);
        }
        let row = |y: usize| &scratch[(y - first) * w..(y - first + 1) * w];
        match self.settings.demosaic {
            DemosaicMethod::Bilinear => {
                demosaic::bilinear_band_u8(self.settings.pattern, (w, h), y0, row, out)
            }
            DemosaicMethod::GradientCorrected => {
                demosaic::mhc_band_u8(self.settings.pattern, (w, h), y0, row, out)
            }
        }
        if let Some(m) = &self.matrix {
            m.apply_u8(out);
        }
        if let Some(l) = &self.lut {
            let t = l.table();
            for v in out.iter_mut() {
                *v = t[usize::from(*v)];
            }
        }
    }

    /// Mosaic row `y` after defect correction, flat field and white
    /// balance.
    ///
    /// Flat field and white balance are per-pixel functions, so they run
    /// in one fused pass from the mosaic into `row` (the formulas of
    /// [`ffc::apply_ffc`] and [`color::white_balance_bayer`] at 8 bits);
    /// the few defects are then estimated from the original mosaic and put
    /// through the same two functions.
    #[inline(always)]
    fn prepare_row(&self, src: &[u8], y: usize, row: &mut [u8]) {
        let (w, h, s) = (self.width, self.height, &self.settings);
        let line = &src[y * w..(y + 1) * w];
        let wb = [
            self.wb[s.pattern.channel_at(0, y)],
            self.wb[s.pattern.channel_at(1, y)],
        ];
        let maps = s.flat_field.as_ref().map(|f| {
            let range = y * w..(y + 1) * w;
            (&f.offsets()[range.clone()], &f.gains()[range])
        });
        let layout = PixelLayout::Bayer(s.pattern);
        let defects = s.defects.row(y as u32).iter().filter_map(|d| {
            let x = d.x as usize;
            let v = defect::estimate_in(layout, src, w, h, x, y, &s.defects)?;
            Some((x, v.min(255) as u8))
        });
        if wb[0].max(wb[1]) > color::WB_NARROW_MAX_U8 {
            // Gains too large for 32-bit products: the steps' own rows.
            row.copy_from_slice(line);
            for (x, v) in defects {
                row[x] = v;
            }
            if let Some(f) = &s.flat_field {
                f.apply_row_u8(y, row);
            }
            color::white_balance_row_u8(row, wb);
            return;
        }
        match maps {
            Some((off, gain)) => {
                let pixels = row.chunks_exact_mut(2).zip(line.chunks_exact(2));
                let maps = off.chunks_exact(2).zip(gain.chunks_exact(2));
                for ((d, s), (o, g)) in pixels.zip(maps) {
                    d[0] = color::wb_sample_u8(ffc_px(s[0], o[0], g[0]), wb[0]);
                    d[1] = color::wb_sample_u8(ffc_px(s[1], o[1], g[1]), wb[1]);
                }
                if w % 2 == 1 {
                    let x = w - 1;
                    row[x] = color::wb_sample_u8(ffc_px(line[x], off[x], gain[x]), wb[0]);
                }
                for (x, v) in defects {
                    row[x] = color::wb_sample_u8(ffc_px(v, off[x], gain[x]), wb[x % 2]);
                }
            }
            None => {
                for (d, s) in row.chunks_exact_mut(2).zip(line.chunks_exact(2)) {
                    d[0] = color::wb_sample_u8(s[0], wb[0]);
                    d[1] = color::wb_sample_u8(s[1], wb[1]);
                }
                if w % 2 == 1 {
                    row[w - 1] = color::wb_sample_u8(line[w - 1], wb[0]);
                }
                for (x, v) in defects {
                    row[x] = color::wb_sample_u8(v, wb[x % 2]);
                }
            }
        }
    }
}
