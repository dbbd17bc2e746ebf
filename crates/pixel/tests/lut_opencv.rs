//! Compares `pixel::lut` gamma tables with tables built independently in
//! numpy and applied with OpenCV's `cv2.LUT` (8-bit, mono and 3-channel) or
//! numpy indexing (12-bit-index user LUT), and `pixel::color`'s colour
//! matrix with `cv2.transform` (within ±1), through
//! `tests/lut_reference.py`. Skipped (with a "SKIPPED" message) when python3
//! or cv2 is not available.

use pixel::color::{apply_color_matrix, ColorMatrix};
use pixel::lut::{Lut12, Lut8};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| (self.next() >> 56) as u8).collect()
    }

    fn words(&mut self, n: usize) -> Vec<u16> {
        (0..n).map(|_| (self.next() >> 48) as u16).collect()
    }
}

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/lut_reference.py")
}

fn opencv_available() -> bool {
    match Command::new("python3")
        .args(["-c", "import cv2, numpy"])
        .output()
    {
        Ok(o) if o.status.success() => true,
        Ok(_) => {
            eprintln!("SKIPPED: python3 cannot import cv2/numpy");
            false
        }
        Err(e) => {
            eprintln!("SKIPPED: python3 not runnable: {e}");
            false
        }
    }
}

/// A scratch directory unique to this process, thread and `tag`.
fn scratch(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "pixel-lut-{}-{tag}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs the reference script with `args`, where the strings `{in}`,
/// `{out}` and `{table}` are replaced by files in `dir`; `input` is written
/// to `{in}`. Returns the bytes of `{out}` and `{table}` (empty if absent).
fn reference(dir: &Path, args: &[String], input: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let (inp, out, table) = (
        dir.join("in.raw"),
        dir.join("out.raw"),
        dir.join("table.raw"),
    );
    std::fs::write(&inp, input).unwrap();
    let args: Vec<String> = args
        .iter()
        .map(|a| match a.as_str() {
            "{in}" => inp.display().to_string(),
            "{out}" => out.display().to_string(),
            "{table}" => table.display().to_string(),
            _ => a.clone(),
        })
        .collect();
    let st = Command::new("python3")
        .arg(script())
        .args(&args)
        .status()
        .unwrap();
    assert!(st.success(), "reference script failed for {args:?}");
    let o = std::fs::read(&out).unwrap();
    let t = std::fs::read(&table).unwrap_or_default();
    (o, t)
}

fn s<T: ToString>(v: T) -> String {
    v.to_string()
}

const GAMMAS: [f64; 8] = [0.1, 0.25, 0.45, 0.5, 1.0, 1.8, 2.2, 3.99998];
const SIZES: [(usize, usize); 4] = [(64, 48), (33, 7), (1, 1), (255, 3)];

#[test]
fn gamma_lut8_matches_opencv_lut() {
    if !opencv_available() {
        return;
    }
    let dir = scratch("gamma8");
    let mut rng = Rng(0x0123_4567_89AB_CDEF);
    for gamma in GAMMAS {
        let lut = Lut8::gamma(gamma).unwrap();
        for (w, h) in SIZES {
            for ch in [1usize, 3] {
                let src = rng.bytes(w * h * ch);
                let (theirs, table) = reference(
                    &dir,
                    &[
                        s("gamma8"),
                        format!("{gamma:?}"),
                        s(ch),
                        s(w),
                        s(h),
                        s("{in}"),
                        s("{out}"),
                        s("{table}"),
                    ],
                    &src,
                );
                assert_eq!(&table[..], &lut.table()[..], "gamma {gamma}: table");
                let mut ours = src.clone();
                lut.apply(&mut ours, w, h, ch).unwrap();
                assert_eq!(ours, theirs, "gamma {gamma} {w}x{h}x{ch}: in place");
                let mut mapped = vec![0u8; src.len()];
                lut.map(&src, &mut mapped, w, h, ch).unwrap();
                assert_eq!(mapped, theirs, "gamma {gamma} {w}x{h}x{ch}: map");
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn gamma_lut12_matches_numpy() {
    if !opencv_available() {
        return;
    }
    let dir = scratch("gamma12");
    let mut rng = Rng(0xFEED_FACE_CAFE_BEEF);
    for gamma in [0.3, 0.45, 1.0, 2.2] {
        for out_depth in [8u32, 12, 16] {
            let lut = Lut12::gamma(gamma, out_depth).unwrap();
            for in_depth in [8u32, 10, 12, 16] {
                let n = 5000;
                // Include values above the input depth's maximum.
                let src: Vec<u16> = rng
                    .words(n)
                    .into_iter()
                    .map(|v| v >> (16 - in_depth.min(15) - 1))
                    .collect();
                let bytes: Vec<u8> = src.iter().flat_map(|v| v.to_le_bytes()).collect();
                let (theirs, _) = reference(
                    &dir,
                    &[
                        s("gamma12"),
                        format!("{gamma:?}"),
                        s(out_depth),
                        s(in_depth),
                        s(n),
                        s("{in}"),
                        s("{out}"),
                    ],
                    &bytes,
                );
                let theirs: Vec<u16> = theirs
                    .chunks_exact(2)
                    .map(|c| u16::from_le_bytes([c[0], c[1]]))
                    .collect();
                let mut ours = vec![0u16; n];
                lut.map(&src, in_depth, &mut ours, n, 1, 1).unwrap();
                assert_eq!(ours, theirs, "gamma {gamma} out {out_depth} in {in_depth}");
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn color_matrix_matches_opencv_transform() {
    if !opencv_available() {
        return;
    }
    let dir = scratch("transform");
    let mut rng = Rng(0xABCD_EF01_2345_6789);
    let matrices = [
        ColorMatrix::IDENTITY,
        ColorMatrix::new(
            [
                [1.62, -0.41, -0.21],
                [-0.28, 1.51, -0.23],
                [-0.05, -0.55, 1.6],
            ],
            [0.0, 0.0, 0.0],
        ),
        ColorMatrix::new(
            [[0.9, 0.2, -0.1], [0.05, 1.1, 0.0], [0.3, -0.3, 1.2]],
            [12.5, -7.25, 3.0],
        ),
        ColorMatrix::saturation_hue(1.7, 25.0).unwrap(),
        ColorMatrix::saturation_hue(0.3, -140.0)
            .unwrap()
            .then(&ColorMatrix::new(
                [[1.1, 0.0, 0.0], [0.0, 0.9, 0.0], [0.0, 0.0, 1.3]],
                [-5.0, 5.0, 0.0],
            )),
    ];
    for (k, m) in matrices.iter().enumerate() {
        for (w, h) in SIZES {
            let src = rng.bytes(w * h * 3);
            let mut args = vec![s("transform"), s(w), s(h), s("{in}"), s("{out}")];
            for c in 0..3 {
                for j in 0..3 {
                    args.push(format!("{:?}", m.m[c][j]));
                }
                args.push(format!("{:?}", m.offset[c]));
            }
            let (theirs, _) = reference(&dir, &args, &src);
            let mut ours = src.clone();
            apply_color_matrix(&mut ours, w, h, 8, m).unwrap();
            assert_eq!(ours.len(), theirs.len());
            let mut worst = 0;
            for (i, (&a, &b)) in ours.iter().zip(&theirs).enumerate() {
                let d = a.abs_diff(b);
                worst = worst.max(d);
                assert!(
                    d <= 1,
                    "matrix {k} {w}x{h}: sample {i}: ours {a}, OpenCV {b}"
                );
            }
            if m.is_identity() {
                assert_eq!(ours, src);
            }
            eprintln!("matrix {k} {w}x{h}: max |diff| = {worst}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
