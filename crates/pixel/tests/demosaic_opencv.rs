//! Bit-exactness of the bilinear demosaic against OpenCV's `cvtColor`.
//!
//! Runs `tests/demosaic_reference.py` (python3 + cv2); skipped with a
//! `SKIPPED:` message when either is missing. For images of at least 3×3 the
//! whole image (interior and border) must match exactly; OpenCV outputs
//! zeros for smaller images, so for those only the (empty) interior is
//! compared.

use pixel::demosaic::{bilinear_u16, bilinear_u8, mhc_u8, BayerPattern};
use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/demosaic_reference.py")
}

fn python_ok() -> bool {
    match Command::new("python3")
        .arg("-c")
        .arg("import cv2, numpy")
        .output()
    {
        Ok(o) if o.status.success() => true,
        _ => {
            eprintln!("SKIPPED: python3 with cv2 and numpy not available");
            false
        }
    }
}

/// Small deterministic PRNG (xorshift64*).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

fn tmpdir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("pixel_demosaic_cv_{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Runs OpenCV on `bytes` (raw LE mosaic) and returns the raw RGB bytes.
fn opencv(bytes: &[u8], w: usize, h: usize, bits: u32, p: BayerPattern, tag: &str) -> Vec<u8> {
    let d = tmpdir();
    let inp = d.join(format!("{tag}_in.raw"));
    let out = d.join(format!("{tag}_out.raw"));
    std::fs::write(&inp, bytes).unwrap();
    let st = Command::new("python3")
        .arg(script())
        .arg("convert")
        .arg(&inp)
        .arg(&out)
        .arg(w.to_string())
        .arg(h.to_string())
        .arg(bits.to_string())
        .arg(p.opencv_name())
        .status()
        .unwrap();
    assert!(st.success(), "reference script failed");
    let r = std::fs::read(&out).unwrap();
    let _ = std::fs::remove_file(&inp);
    let _ = std::fs::remove_file(&out);
    r
}

/// Compares RGB images; the whole image when >= 3x3, else nothing
/// (there is no interior and OpenCV returns zeros).
fn compare<T: PartialEq + Copy + std::fmt::Debug>(
    ours: &[T],
    cv: &[T],
    w: usize,
    h: usize,
    what: &str,
) {
    assert_eq!(ours.len(), cv.len());
    if w < 3 || h < 3 {
        return;
    }
    for y in 0..h {
        for x in 0..w {
            let i = (y * w + x) * 3;
            assert_eq!(
                ours[i..i + 3],
                cv[i..i + 3],
                "{what}: mismatch at x={x} y={y} ({w}x{h})"
            );
        }
    }
}

const SIZES: [(usize, usize); 10] = [
    (64, 48),
    (37, 21),
    (2, 2),
    (3, 3),
    (4, 3),
    (5, 7),
    (130, 9),
    (34, 5),
    (67, 6),
    (101, 8),
];

#[test]
fn bilinear_u8_matches_opencv() {
    if !python_ok() {
        return;
    }
    let mut rng = Rng(0x1234_5678_9abc_def1);
    for (w, h) in SIZES {
        for p in BayerPattern::ALL {
            let src: Vec<u8> = (0..w * h).map(|_| rng.next() as u8).collect();
            let mut ours = vec![0u8; w * h * 3];
            bilinear_u8(p, w, h, &src, &mut ours).unwrap();
            let cv = opencv(&src, w, h, 8, p, "u8");
            compare(&ours, &cv, w, h, &format!("u8 {p:?}"));
        }
    }
}

#[test]
fn bilinear_u16_matches_opencv() {
    if !python_ok() {
        return;
    }
    let mut rng = Rng(0x0fed_cba9_8765_4321);
    for (w, h) in SIZES {
        for p in BayerPattern::ALL {
            for bits in [12u32, 16] {
                let src: Vec<u16> = (0..w * h)
                    .map(|_| (rng.next() >> (64 - bits)) as u16)
                    .collect();
                let bytes: Vec<u8> = src.iter().flat_map(|v| v.to_le_bytes()).collect();
                let mut ours = vec![0u16; w * h * 3];
                bilinear_u16(p, w, h, &src, &mut ours).unwrap();
                let cv_bytes = opencv(&bytes, w, h, 16, p, "u16");
                let cv: Vec<u16> = cv_bytes
                    .chunks_exact(2)
                    .map(|c| u16::from_le_bytes([c[0], c[1]]))
                    .collect();
                compare(&ours, &cv, w, h, &format!("u16/{bits} {p:?}"));
            }
        }
    }
}

/// Release-mode timing on 2448x2048 against single-threaded OpenCV:
/// `cargo test -p pixel --release --test demosaic_opencv -- --ignored --nocapture`
#[test]
#[ignore]
fn speed_vs_opencv() {
    let (w, h) = (2448usize, 2048usize);
    let mut rng = Rng(42);
    let src: Vec<u8> = (0..w * h).map(|_| rng.next() as u8).collect();
    let mut dst = vec![0u8; w * h * 3];
    let src16: Vec<u16> = src.iter().map(|&v| (v as u16) << 4).collect();
    let mut dst16 = vec![0u16; w * h * 3];
    let mpix = (w * h) as f64 / 1e6;
    let best = |f: &mut dyn FnMut()| {
        let mut b = f64::MAX;
        for _ in 0..30 {
            let t = Instant::now();
            f();
            b = b.min(t.elapsed().as_secs_f64());
        }
        b
    };
    let t = best(&mut || bilinear_u8(BayerPattern::RG, w, h, &src, &mut dst).unwrap());
    eprintln!(
        "bilinear_u8  RG8->RGB8 : {:.3} ms, {:.0} Mpix/s",
        t * 1e3,
        mpix / t
    );
    let t = best(&mut || mhc_u8(BayerPattern::RG, w, h, &src, &mut dst).unwrap());
    eprintln!(
        "mhc_u8       RG8->RGB8 : {:.3} ms, {:.0} Mpix/s",
        t * 1e3,
        mpix / t
    );
    let t = best(&mut || bilinear_u16(BayerPattern::RG, w, h, &src16, &mut dst16).unwrap());
    eprintln!(
        "bilinear_u16 RG12->RGB16: {:.3} ms, {:.0} Mpix/s",
        t * 1e3,
        mpix / t
    );
    let t = best(&mut || {
        pixel::demosaic::mhc_u16(BayerPattern::RG, w, h, &src16, &mut dst16, 12).unwrap()
    });
    eprintln!(
        "mhc_u16      RG12->RGB16: {:.3} ms, {:.0} Mpix/s",
        t * 1e3,
        mpix / t
    );
    if python_ok() {
        let o = Command::new("python3")
            .arg(script())
            .args(["bench", &w.to_string(), &h.to_string(), "30"])
            .output()
            .unwrap();
        let s = String::from_utf8_lossy(&o.stdout);
        let mut it = s.split_whitespace();
        eprintln!(
            "OpenCV 1 thread BayerBG2RGB (= our RG8): {} ms, {} Mpix/s",
            it.next().unwrap_or("?"),
            it.next().unwrap_or("?")
        );
    }
}
