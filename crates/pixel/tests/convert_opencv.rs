//! Compares `pixel::convert` with OpenCV's `cv2.cvtColor` through
//! `tests/yuv_reference.py`. Skipped (with a "SKIPPED" message) when python3
//! or cv2 is not available.

use pixel::convert::{to_bgra8, to_mono8, to_rgb8};
use pixel::format::PixelFormat;
use std::path::PathBuf;
use std::process::Command;

/// Small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n)
            .map(|_| {
                self.0 ^= self.0 >> 12;
                self.0 ^= self.0 << 25;
                self.0 ^= self.0 >> 27;
                (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u8
            })
            .collect()
    }
}

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/yuv_reference.py")
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

/// Runs `cv2.cvtColor(img, cv2.<code>)` on an `h × w × ch` image.
fn opencv(code: &str, ch: usize, w: usize, h: usize, src: &[u8]) -> Vec<u8> {
    let dir = std::env::temp_dir().join(format!(
        "pixel-cvt-{}-{code}-{w}x{h}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let (inp, out) = (dir.join("in.raw"), dir.join("out.raw"));
    std::fs::write(&inp, src).unwrap();
    let st = Command::new("python3")
        .arg(script())
        .args([code, &ch.to_string(), &w.to_string(), &h.to_string()])
        .arg(&inp)
        .arg(&out)
        .status()
        .unwrap();
    assert!(st.success(), "reference script failed for {code}");
    let r = std::fs::read(&out).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    r
}

fn assert_close(what: &str, ours: &[u8], theirs: &[u8], tol: u8) {
    assert_eq!(ours.len(), theirs.len(), "{what}: length");
    let mut worst = 0u8;
    for (i, (&a, &b)) in ours.iter().zip(theirs).enumerate() {
        let d = a.abs_diff(b);
        worst = worst.max(d);
        assert!(d <= tol, "{what}: byte {i}: ours {a}, OpenCV {b}");
    }
    eprintln!("{what}: max |diff| = {worst}");
}

const SIZES: [(usize, usize); 4] = [(64, 32), (34, 3), (2, 1), (128, 17)];

#[test]
fn yuv422_to_rgb_matches_opencv() {
    if !opencv_available() {
        return;
    }
    let mut rng = Rng(0x1234_5678_9ABC_DEF1);
    for (w, h) in SIZES {
        for (f, rgb_code, bgra_code, gray_code) in [
            (
                PixelFormat::YUV422_8,
                "COLOR_YUV2RGB_YUYV",
                "COLOR_YUV2BGRA_YUYV",
                "COLOR_YUV2GRAY_YUYV",
            ),
            (
                PixelFormat::YUV422_8_UYVY,
                "COLOR_YUV2RGB_UYVY",
                "COLOR_YUV2BGRA_UYVY",
                "COLOR_YUV2GRAY_UYVY",
            ),
        ] {
            let src = rng.bytes(f.image_bytes(w, h).unwrap());
            let mut rgb = vec![0; w * h * 3];
            to_rgb8(f, w, h, &src, &mut rgb).unwrap();
            assert_close(
                &format!("{f} {w}x{h} rgb"),
                &rgb,
                &opencv(rgb_code, 2, w, h, &src),
                1,
            );
            let mut bgra = vec![0; w * h * 4];
            to_bgra8(f, w, h, &src, &mut bgra).unwrap();
            assert_close(
                &format!("{f} {w}x{h} bgra"),
                &bgra,
                &opencv(bgra_code, 2, w, h, &src),
                1,
            );
            let mut grey = vec![0; w * h];
            to_mono8(f, w, h, &src, &mut grey).unwrap();
            assert_close(
                &format!("{f} {w}x{h} grey"),
                &grey,
                &opencv(gray_code, 2, w, h, &src),
                0,
            );
        }
    }
}

#[test]
fn rgb_family_matches_opencv() {
    if !opencv_available() {
        return;
    }
    let mut rng = Rng(0xDEAD_BEEF_0BAD_F00D);
    for (w, h) in SIZES.into_iter().chain([(1, 1), (3, 5)]) {
        for (f, ch, gray, bgra, rgb) in [
            (
                PixelFormat::RGB8,
                3,
                "COLOR_RGB2GRAY",
                "COLOR_RGB2BGRA",
                None,
            ),
            (
                PixelFormat::BGR8,
                3,
                "COLOR_BGR2GRAY",
                "COLOR_BGR2BGRA",
                Some("COLOR_BGR2RGB"),
            ),
            (
                PixelFormat::RGBa8,
                4,
                "COLOR_RGBA2GRAY",
                "COLOR_RGBA2BGRA",
                Some("COLOR_RGBA2RGB"),
            ),
            (
                PixelFormat::BGRa8,
                4,
                "COLOR_BGRA2GRAY",
                "COLOR_BGRA2RGBA",
                Some("COLOR_BGRA2RGB"),
            ),
        ] {
            let src = rng.bytes(w * h * ch);
            let mut grey = vec![0; w * h];
            to_mono8(f, w, h, &src, &mut grey).unwrap();
            assert_close(
                &format!("{f} {w}x{h} grey"),
                &grey,
                &opencv(gray, ch, w, h, &src),
                1,
            );
            let mut out4 = vec![0; w * h * 4];
            to_bgra8(f, w, h, &src, &mut out4).unwrap();
            if f == PixelFormat::BGRa8 {
                // BGRa8 → BGRa8 is the identity.
                assert_eq!(out4, src);
            } else {
                assert_close(
                    &format!("{f} {w}x{h} bgra"),
                    &out4,
                    &opencv(bgra, ch, w, h, &src),
                    0,
                );
            }
            let mut out3 = vec![0; w * h * 3];
            to_rgb8(f, w, h, &src, &mut out3).unwrap();
            match rgb {
                None => assert_eq!(out3, src),
                Some(code) => assert_close(
                    &format!("{f} {w}x{h} rgb"),
                    &out3,
                    &opencv(code, ch, w, h, &src),
                    0,
                ),
            }
        }
    }
}

#[test]
fn bayer_to_rgb_matches_opencv_bilinear() {
    if !opencv_available() {
        return;
    }
    // 12p Bayer: shifted to 8 bits, then demosaiced; compare with OpenCV's
    // bilinear demosaic of the shifted mosaic.
    let mut rng = Rng(42);
    let (w, h) = (16, 6);
    for (f, cv) in [
        (PixelFormat::BayerRG12p, "COLOR_BayerBG2RGB"),
        (PixelFormat::BayerGB12p, "COLOR_BayerGR2RGB"),
    ] {
        let samples: Vec<u16> = rng
            .bytes(w * h * 2)
            .chunks(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]) & 0xFFF)
            .collect();
        let mut packed = vec![0; f.image_bytes(w, h).unwrap()];
        pixel::pack::pack(f, w, h, &samples, &mut packed).unwrap();
        let mosaic: Vec<u8> = samples.iter().map(|&s| (s >> 4) as u8).collect();
        let mut grey = vec![0; w * h];
        to_mono8(f, w, h, &packed, &mut grey).unwrap();
        assert_eq!(grey, mosaic);
        let mut rgb = vec![0; w * h * 3];
        to_rgb8(f, w, h, &packed, &mut rgb).unwrap();
        assert_close(&format!("{f} rgb"), &rgb, &opencv(cv, 1, w, h, &mosaic), 0);
    }
}

#[test]
fn mono_depths_shift() {
    let (w, h) = (3, 1);
    let cases: [(PixelFormat, Vec<u8>); 4] = [
        (
            PixelFormat::Mono10,
            vec![0xFF, 0x03, 0x00, 0x01, 0x04, 0x00],
        ),
        (
            PixelFormat::Mono12,
            vec![0xFF, 0x0F, 0x00, 0x01, 0x10, 0x00],
        ),
        (
            PixelFormat::Mono16,
            vec![0xFF, 0xFF, 0x00, 0x01, 0x00, 0x10],
        ),
        (PixelFormat::Mono8, vec![255, 64, 1]),
    ];
    let expected = [[255u8, 64, 1], [255, 16, 1], [255, 1, 16], [255, 64, 1]];
    for ((f, src), exp) in cases.iter().zip(expected) {
        let mut m = [0u8; 3];
        to_mono8(*f, w, h, src, &mut m).unwrap();
        assert_eq!(m, exp, "{f}");
        let mut b = [0u8; 12];
        to_bgra8(*f, w, h, src, &mut b).unwrap();
        assert_eq!(b[4..8], [exp[1], exp[1], exp[1], 255], "{f}");
    }
}
