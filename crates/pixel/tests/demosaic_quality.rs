//! Reconstruction quality: Malvar-He-Cutler must beat bilinear by >= 3 dB
//! PSNR on a smooth synthetic image with a few edges (interior pixels only,
//! excluding a 2-pixel border).

use pixel::demosaic::{bilinear_u16, bilinear_u8, mhc_u16, mhc_u8, BayerPattern};

const W: usize = 256;
const H: usize = 192;

/// Smooth full-colour test image in [0, 1]: low-frequency sinusoids and
/// gradients per channel, plus a bright disc and a dark vertical bar.
fn scene() -> Vec<[f64; 3]> {
    let mut img = Vec::with_capacity(W * H);
    for y in 0..H {
        for x in 0..W {
            let (fx, fy) = (x as f64, y as f64);
            let base = 0.5 + 0.2 * (fx * 0.05).sin() * (fy * 0.04).cos();
            let mut r = base + 0.15 * (fx / W as f64) + 0.05 * (fy * 0.11 + 1.0).sin();
            let mut g = base + 0.1 * (fy / H as f64) + 0.04 * (fx * 0.09).cos();
            let mut b = base - 0.1 * (fx / W as f64) + 0.06 * ((fx + fy) * 0.07).sin();
            let (dx, dy) = (fx - 160.0, fy - 90.0);
            if dx * dx + dy * dy < 40.0 * 40.0 {
                r += 0.2;
                g += 0.15;
                b += 0.1;
            }
            if (60..70).contains(&x) {
                r *= 0.4;
                g *= 0.4;
                b *= 0.45;
            }
            img.push([r, g, b].map(|v: f64| v.clamp(0.0, 1.0)));
        }
    }
    img
}

fn psnr(a: &[f64], b: &[f64], max: f64) -> f64 {
    let mut se = 0.0;
    let mut n = 0usize;
    for y in 2..H - 2 {
        for x in 2..W - 2 {
            for c in 0..3 {
                let i = (y * W + x) * 3 + c;
                let d = a[i] - b[i];
                se += d * d;
                n += 1;
            }
        }
    }
    10.0 * (max * max / (se / n as f64)).log10()
}

#[test]
fn mhc_beats_bilinear_u8() {
    let img = scene();
    let truth: Vec<f64> = img
        .iter()
        .flat_map(|p| p.map(|v| (v * 255.0).round()))
        .collect();
    for p in BayerPattern::ALL {
        let mosaic: Vec<u8> = (0..W * H)
            .map(|i| truth[i * 3 + p.channel_at(i % W, i / W)] as u8)
            .collect();
        let mut bil = vec![0u8; W * H * 3];
        let mut mhc = vec![0u8; W * H * 3];
        bilinear_u8(p, W, H, &mosaic, &mut bil).unwrap();
        mhc_u8(p, W, H, &mosaic, &mut mhc).unwrap();
        let to_f = |v: &[u8]| v.iter().map(|&x| x as f64).collect::<Vec<_>>();
        let pb = psnr(&to_f(&bil), &truth, 255.0);
        let pm = psnr(&to_f(&mhc), &truth, 255.0);
        eprintln!(
            "u8  {p:?}: PSNR bilinear {pb:.2} dB, MHC {pm:.2} dB, gain {:.2} dB",
            pm - pb
        );
        assert!(
            pm >= pb + 3.0,
            "{p:?}: MHC {pm:.2} dB vs bilinear {pb:.2} dB"
        );
    }
}

#[test]
fn mhc_beats_bilinear_u16_12bit() {
    let img = scene();
    let truth: Vec<f64> = img
        .iter()
        .flat_map(|p| p.map(|v| (v * 4095.0).round()))
        .collect();
    for p in BayerPattern::ALL {
        let mosaic: Vec<u16> = (0..W * H)
            .map(|i| truth[i * 3 + p.channel_at(i % W, i / W)] as u16)
            .collect();
        let mut bil = vec![0u16; W * H * 3];
        let mut mhc = vec![0u16; W * H * 3];
        bilinear_u16(p, W, H, &mosaic, &mut bil).unwrap();
        mhc_u16(p, W, H, &mosaic, &mut mhc, 12).unwrap();
        assert!(mhc.iter().all(|&v| v <= 4095));
        let to_f = |v: &[u16]| v.iter().map(|&x| x as f64).collect::<Vec<_>>();
        let pb = psnr(&to_f(&bil), &truth, 4095.0);
        let pm = psnr(&to_f(&mhc), &truth, 4095.0);
        eprintln!(
            "u16 {p:?}: PSNR bilinear {pb:.2} dB, MHC {pm:.2} dB, gain {:.2} dB",
            pm - pb
        );
        assert!(
            pm >= pb + 3.0,
            "{p:?}: MHC {pm:.2} dB vs bilinear {pb:.2} dB"
        );
    }
}
