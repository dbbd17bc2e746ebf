//! The fused, parallel colour pipeline equals its step-by-step definition.

use pixel::color::ColorMatrix;
use pixel::defect::DefectList;
use pixel::demosaic::BayerPattern;
use pixel::ffc::{FlatField, GAIN_ONE};
use pixel::lut::Lut8;
use pixel::pipeline::{ColorPipeline, DemosaicMethod, PipelineError, PipelineSettings};
use proptest::prelude::*;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// Settings that exercise every step, with defects in clusters and on the
/// borders.
fn settings(
    rng: &mut Rng,
    w: usize,
    h: usize,
    p: BayerPattern,
    m: DemosaicMethod,
) -> PipelineSettings {
    let mut s = PipelineSettings::new(p);
    let mut pts: Vec<(u32, u32)> = (0..(w * h / 40).max(1))
        .map(|_| {
            (
                (rng.next() % w as u64) as u32,
                (rng.next() % h as u64) as u32,
            )
        })
        .collect();
    pts.extend([(0, 0), (w as u32 - 1, h as u32 - 1), (1, 0), (2, 0)]);
    pts.retain(|&(x, y)| (x as usize) < w && (y as usize) < h);
    s.defects = DefectList::from_points(pts);
    let n = w * h;
    let offsets = (0..n).map(|_| (rng.next() % 6) as u16).collect();
    let gains = (0..n)
        .map(|_| (u64::from(GAIN_ONE) * 8 / 10 + rng.next() % (u64::from(GAIN_ONE) / 2)) as u16)
        .collect();
    s.flat_field = Some(FlatField::new(w, h, offsets, gains).unwrap());
    s.white_balance = [1.9, 1.0, 1.4];
    s.demosaic = m;
    s.matrix = ColorMatrix::new(
        [[1.6, -0.45, -0.15], [-0.3, 1.5, -0.2], [-0.1, -0.55, 1.65]],
        [2.0, -3.0, 1.5],
    )
    .then(&ColorMatrix::saturation_hue(1.3, 12.0).unwrap());
    s.lut = Some(Lut8::gamma(0.45).unwrap());
    s
}

fn check(w: usize, h: usize, seed: u64) {
    let mut rng = Rng(seed);
    let src: Vec<u8> = (0..w * h).map(|_| rng.next() as u8).collect();
    for p in BayerPattern::ALL {
        for m in [DemosaicMethod::Bilinear, DemosaicMethod::GradientCorrected] {
            let pipe = ColorPipeline::new(w, h, settings(&mut rng, w, h, p, m)).unwrap();
            let mut fast = vec![0u8; 3 * w * h];
            let mut steps = vec![1u8; 3 * w * h];
            pipe.run(&src, &mut fast).unwrap();
            pipe.run_steps(&src, &mut steps).unwrap();
            assert!(
                fast == steps,
                "{w}x{h} {p:?} {m:?}: run differs from run_steps"
            );
        }
    }
}

#[test]
fn run_equals_the_steps() {
    // Band edges (16 rows), SIMD block edges (32 columns) and odd sizes.
    for (w, h) in [(5, 5), (6, 7), (33, 17), (67, 40), (130, 33), (257, 50)] {
        check(w, h, (w * 1000 + h) as u64);
    }
}

#[test]
fn identity_settings_only_demosaic() {
    let (w, h) = (40, 20);
    let mut rng = Rng(5);
    let src: Vec<u8> = (0..w * h).map(|_| rng.next() as u8).collect();
    let pipe = ColorPipeline::new(w, h, PipelineSettings::new(BayerPattern::GB)).unwrap();
    let mut out = vec![0u8; 3 * w * h];
    pipe.run(&src, &mut out).unwrap();
    let mut want = vec![0u8; 3 * w * h];
    pixel::demosaic::bilinear_u8(BayerPattern::GB, w, h, &src, &mut want).unwrap();
    assert_eq!(out, want);
}

#[test]
fn bad_settings_and_buffers_are_errors() {
    let mut s = PipelineSettings::new(BayerPattern::RG);
    s.defects = DefectList::from_points([(10, 0)]);
    assert!(matches!(
        ColorPipeline::new(10, 10, s),
        Err(PipelineError::Defect(_))
    ));
    let mut s = PipelineSettings::new(BayerPattern::RG);
    s.flat_field = Some(FlatField::identity(8, 8).unwrap());
    assert!(matches!(
        ColorPipeline::new(10, 10, s),
        Err(PipelineError::FlatField(_))
    ));
    let mut s = PipelineSettings::new(BayerPattern::RG);
    s.white_balance = [f32::NAN, 1.0, 1.0];
    assert!(matches!(
        ColorPipeline::new(10, 10, s),
        Err(PipelineError::Color(_))
    ));
    assert!(matches!(
        ColorPipeline::new(usize::MAX, 2, PipelineSettings::new(BayerPattern::RG)),
        Err(PipelineError::SizeOverflow { .. })
    ));
    let pipe = ColorPipeline::new(10, 10, PipelineSettings::new(BayerPattern::RG)).unwrap();
    let mut out = vec![0u8; 300];
    assert_eq!(
        pipe.run(&[0; 99], &mut out),
        Err(PipelineError::SourceTooShort {
            needed: 100,
            actual: 99
        })
    );
    assert_eq!(
        pipe.run(&[0; 100], &mut out[..299]),
        Err(PipelineError::DestinationTooShort {
            needed: 300,
            actual: 299
        })
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn any_size_runs_like_the_steps(w in 1usize..40, h in 1usize..40, seed in any::<u64>()) {
        let mut rng = Rng(seed);
        let src: Vec<u8> = (0..w * h).map(|_| rng.next() as u8).collect();
        let p = BayerPattern::ALL[(seed % 4) as usize];
        let m = if seed & 4 == 0 { DemosaicMethod::Bilinear } else { DemosaicMethod::GradientCorrected };
        let pipe = ColorPipeline::new(w, h, settings(&mut rng, w, h, p, m)).unwrap();
        let mut fast = vec![0u8; 3 * w * h];
        let mut steps = vec![0u8; 3 * w * h];
        pipe.run(&src, &mut fast).unwrap();
        pipe.run_steps(&src, &mut steps).unwrap();
        prop_assert_eq!(fast, steps);
    }
}

#[test]
fn very_large_white_balance_gains_take_the_wide_path_alike() {
    let (w, h) = (37, 21);
    let mut rng = Rng(77);
    let src: Vec<u8> = (0..w * h).map(|_| (rng.next() % 4) as u8).collect();
    let mut s = settings(&mut rng, w, h, BayerPattern::BG, DemosaicMethod::Bilinear);
    s.white_balance = [300.0, 0.5, 1000.0];
    let pipe = ColorPipeline::new(w, h, s).unwrap();
    let mut fast = vec![0u8; 3 * w * h];
    let mut steps = vec![1u8; 3 * w * h];
    pipe.run(&src, &mut fast).unwrap();
    pipe.run_steps(&src, &mut steps).unwrap();
    assert_eq!(fast, steps);
}
