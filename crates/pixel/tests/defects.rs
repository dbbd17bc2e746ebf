//! Defect pixel correction, defect lists and detection.

use pixel::defect::{
    correct, detect, detect_dead, detect_hot, CorrectionSummary, Defect, DefectError, DefectList,
    DetectParams,
};
use pixel::demosaic::BayerPattern;
use pixel::geometry::PixelLayout;
use proptest::prelude::*;

const MONO: PixelLayout = PixelLayout::Mono;
const RGGB: PixelLayout = PixelLayout::Bayer(BayerPattern::RG);

fn image(width: usize, height: usize, f: impl Fn(usize, usize) -> u32) -> Vec<u8> {
    let mut v = Vec::with_capacity(width * height);
    for y in 0..height {
        for x in 0..width {
            v.push(f(x, y) as u8);
        }
    }
    v
}

fn list(points: &[(u32, u32)]) -> DefectList {
    DefectList::from_points(points.iter().copied())
}

/// Corrects and checks that only the listed pixels changed.
fn correct_checked(
    layout: PixelLayout,
    width: usize,
    height: usize,
    defects: &DefectList,
    img: &mut [u8],
) -> CorrectionSummary {
    let before = img.to_vec();
    let summary = correct(layout, width, height, defects, img).unwrap();
    let spp = layout.samples_per_pixel();
    for y in 0..height {
        for x in 0..width {
            if !defects.contains(x as u32, y as u32) {
                for c in 0..spp {
                    let i = (y * width + x) * spp + c;
                    assert_eq!(img[i], before[i], "non-defect pixel ({x},{y}) changed");
                }
            }
        }
    }
    summary
}

// ---------------------------------------------------------------------------
// Mono correction
// ---------------------------------------------------------------------------

#[test]
fn mono_single_defect_takes_smoothest_direction() {
    // Strong horizontal gradient, weak vertical one: the vertical pair wins.
    let (w, h) = (5, 5);
    let mut img = image(w, h, |x, y| (10 * x + y) as u32);
    img[2 * w + 2] = 255;
    let s = correct_checked(MONO, w, h, &list(&[(2, 2)]), &mut img);
    assert_eq!(
        s,
        CorrectionSummary {
            corrected: 1,
            uncorrectable: 0
        }
    );
    // (2,1) = 21, (2,3) = 23 -> 22.
    assert_eq!(img[2 * w + 2], 22);

    // Strong vertical gradient: the horizontal pair wins; rounding half up.
    let mut img = image(w, h, |x, y| (x + 40 * y) as u32);
    img[2 * w + 2] = 0;
    // Make the horizontal pair 81 and 84 -> (165 + 1) / 2 = 83.
    img[2 * w + 1] = 81;
    img[2 * w + 3] = 84;
    correct_checked(MONO, w, h, &list(&[(2, 2)]), &mut img);
    assert_eq!(img[2 * w + 2], 83);
}

#[test]
fn mono_diagonal_direction() {
    // Image constant along the anti-diagonal (x + y): that pair has gradient 0.
    let (w, h) = (5, 5);
    let mut img = image(w, h, |x, y| (20 * (x + y)) as u32);
    img[2 * w + 2] = 3;
    correct_checked(MONO, w, h, &list(&[(2, 2)]), &mut img);
    assert_eq!(img[2 * w + 2], 80);
}

#[test]
fn mono_corners_and_borders() {
    let (w, h) = (4, 3);
    let base = image(w, h, |x, y| (10 + 10 * x + 3 * y) as u32);
    // Top-left corner: valid neighbours (1,0)=20, (0,1)=13, (1,1)=23 and no
    // complete pair -> (56 + 1) / 3 = 19.
    let mut img = base.clone();
    img[0] = 200;
    correct_checked(MONO, w, h, &list(&[(0, 0)]), &mut img);
    assert_eq!(img[0], 19);

    // Bottom-right corner (3,2): neighbours (2,2)=36, (3,1)=43, (2,1)=33
    // -> (112 + 1) / 3 = 37.
    let mut img = base.clone();
    img[2 * w + 3] = 0;
    correct_checked(MONO, w, h, &list(&[(3, 2)]), &mut img);
    assert_eq!(img[2 * w + 3], 37);

    // Left border (0,1): only the vertical pair is complete: (10+16+1)/2 = 13.
    let mut img = base.clone();
    img[w] = 255;
    correct_checked(MONO, w, h, &list(&[(0, 1)]), &mut img);
    assert_eq!(img[w], 13);
}

#[test]
fn mono_clusters() {
    let (w, h) = (6, 6);
    let base = image(w, h, |x, y| (50 + 7 * x + 2 * y) as u32);

    // Horizontal line of three at (1..=3, 2): the middle pixel has no
    // horizontal pair; vertical (2,1)=66 / (2,3)=70 -> gradient 4, the
    // diagonals have gradient 18 and 10 -> 68. The ends use the vertical
    // pair too.
    let mut img = base.clone();
    for x in 1..=3 {
        img[2 * w + x] = 255;
    }
    let defects = list(&[(1, 2), (2, 2), (3, 2)]);
    let s = correct_checked(MONO, w, h, &defects, &mut img);
    assert_eq!(s.corrected, 3);
    assert_eq!(img[2 * w + 1], 61);
    assert_eq!(img[2 * w + 2], 68);
    assert_eq!(img[2 * w + 3], 75);

    // 2x2 block at (2..=3, 2..=3): for (2,2) only the anti-diagonal
    // (3,1)=73 / (1,3)=63 is complete -> 68; (3,2): the main diagonal
    // (2,1)=66 / (4,3)=84 -> 75; (2,3): main diagonal (1,2)=61/(3,4)=79 ->
    // 70; (3,3): anti-diagonal (4,2)=82 / (2,4)=72 -> 77.
    let mut img = base.clone();
    let block = list(&[(2, 2), (3, 2), (2, 3), (3, 3)]);
    for d in &block {
        img[d.y as usize * w + d.x as usize] = 0;
    }
    correct_checked(MONO, w, h, &block, &mut img);
    assert_eq!(img[2 * w + 2], 68);
    assert_eq!(img[2 * w + 3], 75);
    assert_eq!(img[3 * w + 2], 70);
    assert_eq!(img[3 * w + 3], 77);
}

#[test]
fn mono_widens_search_radius() {
    // The centre of a 3x3 block has no valid neighbour at distance 1; at
    // distance 2 the vertical pair (2,0)=30, (2,4)=38 is the smoothest.
    let (w, h) = (5, 5);
    let mut img = image(w, h, |x, y| (10 * x + 2 * y + 10) as u32);
    let mut pts = Vec::new();
    for y in 1..=3 {
        for x in 1..=3 {
            pts.push((x, y));
            img[y as usize * w + x as usize] = 255;
        }
    }
    let defects = list(&pts);
    let s = correct_checked(MONO, w, h, &defects, &mut img);
    assert_eq!(s.corrected, 9);
    assert_eq!(img[2 * w + 2], 34);
}

#[test]
fn uncorrectable_defects_are_left_unchanged() {
    // A 1x1 image has no neighbours at all.
    let mut img = [77u8];
    let s = correct(MONO, 1, 1, &list(&[(0, 0)]), &mut img).unwrap();
    assert_eq!(
        s,
        CorrectionSummary {
            corrected: 0,
            uncorrectable: 1
        }
    );
    assert_eq!(img, [77]);

    // A 2x2 Bayer mosaic has no same-colour neighbours.
    let mut img = [1u8, 2, 3, 4];
    let s = correct(RGGB, 2, 2, &list(&[(1, 0), (0, 1)]), &mut img).unwrap();
    assert_eq!(s.uncorrectable, 2);
    assert_eq!(img, [1, 2, 3, 4]);

    // A whole mono image listed: nothing valid anywhere.
    let mut img = image(3, 3, |x, y| (x + y) as u32);
    let before = img.clone();
    let all = DefectList::from_points((0..3).flat_map(|y| (0..3).map(move |x| (x, y))));
    let s = correct(MONO, 3, 3, &all, &mut img).unwrap();
    assert_eq!(s.uncorrectable, 9);
    assert_eq!(img, before);
}

// ---------------------------------------------------------------------------
// Bayer correction
// ---------------------------------------------------------------------------

/// A RGGB mosaic: red rises along x, green along y, blue is flat.
fn bayer_scene(w: usize, h: usize) -> Vec<u8> {
    image(w, h, |x, y| match BayerPattern::RG.channel_at(x, y) {
        0 => 100 + 3 * x as u32,
        1 => 40 + 5 * y as u32,
        _ => 200,
    })
}

#[test]
fn bayer_single_defects_use_same_colour() {
    let (w, h) = (8, 8);
    let scene = bayer_scene(w, h);
    // Red (4,4): vertical pair (4,2), (4,6) both 112 -> 112 (not the
    // green / blue pixels next to it).
    // Green (3,4): horizontal pair (1,4), (5,4) = 60 -> 60.
    // Green (4,3): horizontal pair (2,3), (6,3) = 55.
    // Blue (5,5): everything 200.
    let defects = list(&[(4, 4), (3, 4), (4, 3), (5, 5)]);
    let mut img = scene.clone();
    for d in &defects {
        img[d.y as usize * w + d.x as usize] = if d.x == 5 { 0 } else { 255 };
    }
    let s = correct_checked(RGGB, w, h, &defects, &mut img);
    assert_eq!(s.corrected, 4);
    assert_eq!(img, scene);
}

#[test]
fn bayer_corners_and_borders() {
    let (w, h) = (7, 6); // odd width: last column is red/green
    let scene = bayer_scene(w, h);
    for (x, y) in [
        (0, 0),
        (6, 0),
        (0, 5),
        (6, 5),
        (3, 0),
        (0, 3),
        (6, 2),
        (1, 5),
    ] {
        let mut img = scene.clone();
        img[y * w + x] ^= 0x80;
        correct_checked(RGGB, w, h, &list(&[(x as u32, y as u32)]), &mut img);
        let got = img[y * w + x];
        // Expected: the smoothest complete same-colour pair at distance 2,
        // else the rounded mean of the same-colour neighbours inside the
        // image.
        let expected = match (x, y) {
            // Red (0,0): (2,0)=106, (0,2)=100, (2,2)=106 -> (312+1)/3 = 104.
            (0, 0) => 104,
            // Red (6,0): (4,0)=112, (6,2)=118, (4,2)=112 -> (342+1)/3 = 114.
            (6, 0) => 114,
            // Green (0,5): (0,3)=55, (2,5)=65, (2,3)=55 -> (175+1)/3 = 58.
            (0, 5) => 58,
            // Blue (5,5) not listed; (6,5) green: (4,5)=65, (6,3)=55, (4,3)=55
            // -> 58.
            (6, 5) => 58,
            // Green (3,0): horizontal pair (1,0), (5,0) = 40.
            (3, 0) => 40,
            // Green (0,3): vertical pair (0,1)=45, (0,5)=65 -> gradient 20;
            // no other complete pair -> 55.
            (0, 3) => 55,
            // Red (6,2): vertical pair (6,0), (6,4) = 118.
            (6, 2) => 118,
            // Blue (1,5): no complete pair; (3,5), (1,3), (3,3) are 200.
            (1, 5) => 200,
            _ => unreachable!(),
        };
        assert_eq!(got, expected, "defect at ({x},{y})");
    }
}

#[test]
fn bayer_clusters() {
    let (w, h) = (10, 10);
    let scene = bayer_scene(w, h);
    // A 2x2 block is one pixel of each colour: every pixel still has all
    // its same-colour neighbours -> exact.
    let block = list(&[(4, 4), (5, 4), (4, 5), (5, 5)]);
    let mut img = scene.clone();
    for d in &block {
        img[d.y as usize * w + d.x as usize] = 0;
    }
    correct_checked(RGGB, w, h, &block, &mut img);
    assert_eq!(img, scene);

    // Three adjacent reds in a row (2,4), (4,4), (6,4): the middle one has
    // no horizontal pair and uses the vertical one: (4,2), (4,6) = 112; the
    // ends too (106, 118).
    let line = list(&[(2, 4), (4, 4), (6, 4)]);
    let mut img = scene.clone();
    for d in &line {
        img[d.y as usize * w + d.x as usize] = 255;
    }
    correct_checked(RGGB, w, h, &line, &mut img);
    assert_eq!(img, scene);

    // A line of three sensor pixels (R G R) on row 4.
    let line = list(&[(4, 4), (5, 4), (6, 4)]);
    let mut img = scene.clone();
    for d in &line {
        img[d.y as usize * w + d.x as usize] = 255;
    }
    correct_checked(RGGB, w, h, &line, &mut img);
    assert_eq!(img, scene);
}

#[test]
fn bayer_widens_search_radius() {
    // All red pixels at distance 2 around (4,4) are defective too: the
    // search goes to distance 4: (4,0), (4,8) = 112 vertical pair.
    let (w, h) = (10, 10);
    let scene = bayer_scene(w, h);
    let mut pts = vec![(4, 4)];
    for (dx, dy) in [
        (-2, -2),
        (0, -2),
        (2, -2),
        (-2, 0),
        (2, 0),
        (-2, 2),
        (0, 2),
        (2, 2),
    ] {
        pts.push(((4 + dx) as u32, (4 + dy) as u32));
    }
    let defects = list(&pts);
    let mut img = scene.clone();
    img[4 * w + 4] = 0;
    correct_checked(RGGB, w, h, &defects, &mut img);
    assert_eq!(img[4 * w + 4], 112);
}

#[test]
fn u16_and_rgb_correction() {
    // u16 Bayer, 12-bit values.
    let (w, h) = (6, 6);
    let mut img: Vec<u16> = (0..w * h)
        .map(|i| match BayerPattern::GB.channel_at(i % w, i / w) {
            0 => 3000,
            1 => 2000,
            _ => 1000,
        })
        .collect();
    let expected = img.clone();
    img[2 * w + 2] = 4095; // green
    img[2 * w + 3] = 0; // blue
    let layout = PixelLayout::Bayer(BayerPattern::GB);
    correct(layout, w, h, &list(&[(2, 2), (3, 2)]), &mut img).unwrap();
    assert_eq!(img, expected);

    // RGB: each channel from its own samples.
    let (w, h) = (3, 3);
    let mut rgb = Vec::new();
    for y in 0..h {
        for x in 0..w {
            rgb.extend_from_slice(&[10 * x as u8, 50 + y as u8, 99]);
        }
    }
    let expected = rgb.clone();
    rgb[(w + 1) * 3..(w + 1) * 3 + 3].copy_from_slice(&[255, 0, 255]);
    correct(PixelLayout::Rgb, w, h, &list(&[(1, 1)]), &mut rgb).unwrap();
    assert_eq!(rgb, expected);
}

#[test]
fn correction_errors() {
    let mut img = vec![0u8; 12];
    assert_eq!(
        correct(MONO, 4, 3, &list(&[(4, 0)]), &mut img),
        Err(DefectError::OutOfRange {
            x: 4,
            y: 0,
            width: 4,
            height: 3
        })
    );
    let err = correct(MONO, 4, 3, &list(&[(1, 3)]), &mut img).unwrap_err();
    assert_eq!(
        err.to_string(),
        "defect pixel (1, 3) is outside the 4x3 image"
    );
    assert_eq!(
        correct(MONO, 4, 4, &list(&[]), &mut img),
        Err(DefectError::ImageTooShort {
            needed: 16,
            actual: 12
        })
    );
    assert!(matches!(
        correct(MONO, usize::MAX, 2, &list(&[]), &mut img),
        Err(DefectError::SizeOverflow { .. })
    ));
    // Empty image, empty list: fine.
    let mut empty: [u8; 0] = [];
    assert_eq!(
        correct(MONO, 0, 0, &list(&[]), &mut empty),
        Ok(CorrectionSummary::default())
    );
}

// ---------------------------------------------------------------------------
// Defect list
// ---------------------------------------------------------------------------

#[test]
fn list_sorted_dedup_lookup() {
    let mut l = list(&[(5, 1), (0, 2), (5, 1), (3, 1), (9, 0)]);
    assert_eq!(l.len(), 4);
    let v: Vec<(u32, u32)> = l.iter().map(|d| (d.x, d.y)).collect();
    assert_eq!(v, [(9, 0), (3, 1), (5, 1), (0, 2)]);
    assert!(l.contains(5, 1) && l.contains(9, 0) && !l.contains(1, 5));
    assert!(l.insert(1, 5));
    assert!(!l.insert(1, 5));
    assert!(l.remove(9, 0));
    assert!(!l.remove(9, 0));
    assert_eq!(l.as_slice()[0], Defect { x: 3, y: 1 });
    let mut m = list(&[(3, 1), (7, 7)]);
    m.merge(&l);
    assert_eq!(m.len(), 5);
    assert!(l.validate(10, 6).is_ok());
    assert_eq!(
        l.validate(10, 5),
        Err(DefectError::OutOfRange {
            x: 1,
            y: 5,
            width: 10,
            height: 5
        })
    );
    assert!(DefectList::from_points_checked([(2, 2)], 2, 3).is_err());
    assert!(DefectList::from_points_checked([(1, 2)], 2, 3).is_ok());
}

#[test]
fn list_text_round_trip() {
    let l = list(&[(10, 20), (0, 0), (4294967295, 7), (3, 20)]);
    let text = l.to_text();
    assert!(text.starts_with('#'));
    assert_eq!(DefectList::parse(&text).unwrap(), l);
    assert_eq!(text.parse::<DefectList>().unwrap(), l);
    assert_eq!(l.to_string(), text);

    let hand = "# factory list\n\n 3 , 4  # hot\n1,2\r\n\t# comment only\n3,4\n";
    assert_eq!(DefectList::parse(hand).unwrap(), list(&[(1, 2), (3, 4)]));
    assert_eq!(DefectList::parse("").unwrap(), DefectList::new());
}

#[test]
fn list_text_errors_name_the_line() {
    let cases: [(&str, usize); 7] = [
        ("1,2\n3\n", 2),
        ("1,2\n\n# c\n1,2,3\n", 4),
        ("a,2\n", 1),
        ("1,2\n2,-1\n", 2),
        ("1,2\n2,4294967296\n", 2),
        ("1;2\n", 1),
        ("1,2\n3,4\n,5\n", 3),
    ];
    for (text, line) in cases {
        match DefectList::parse(text) {
            Err(DefectError::Parse { line: l, reason }) => {
                assert_eq!(l, line, "{text:?}: {reason}");
            }
            other => panic!("{text:?}: expected a parse error, got {other:?}"),
        }
    }
    let err = DefectList::parse("0,0\nx,1\n").unwrap_err();
    assert!(err.to_string().starts_with("defect list line 2:"), "{err}");
    assert!(err.to_string().contains("\"x\""), "{err}");
}

// ---------------------------------------------------------------------------
// Detection
// ---------------------------------------------------------------------------

/// Deterministic pseudo-random numbers (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    /// Roughly Gaussian noise with standard deviation ~`sd` (sum of four
    /// uniforms), bounded by ±3.5·sd.
    fn noise(&mut self, sd: f64) -> f64 {
        let u: f64 = (0..4)
            .map(|_| (self.next() >> 11) as f64 / (1u64 << 53) as f64)
            .sum();
        (u - 2.0) * sd * 3.0f64.sqrt()
    }
}

/// Dark frame: per-colour offsets plus noise.
fn dark_frame(layout: PixelLayout, w: usize, h: usize, rng: &mut Rng) -> Vec<u16> {
    let offsets = [60.0, 64.0, 58.0, 62.0];
    let mut v = Vec::with_capacity(w * h);
    for y in 0..h {
        for x in 0..w {
            let plane = if layout.is_bayer() {
                (y & 1) * 2 + (x & 1)
            } else {
                0
            };
            v.push((offsets[plane] + rng.noise(2.0)).round() as u16);
        }
    }
    v
}

/// Bright frame: per-colour levels with vignetting plus noise.
fn bright_frame(layout: PixelLayout, w: usize, h: usize, rng: &mut Rng) -> Vec<u16> {
    let levels = [1500.0, 2600.0, 2500.0, 900.0];
    let (cx, cy) = (w as f64 / 2.0, h as f64 / 2.0);
    let rmax = cx * cx + cy * cy;
    let mut v = Vec::with_capacity(w * h);
    for y in 0..h {
        for x in 0..w {
            let plane = if layout.is_bayer() {
                (y & 1) * 2 + (x & 1)
            } else {
                1
            };
            let r2 = (x as f64 - cx).powi(2) + (y as f64 - cy).powi(2);
            let shade = 1.0 - 0.35 * r2 / rmax;
            v.push((levels[plane] * shade + rng.noise(15.0)).round() as u16);
        }
    }
    v
}

#[test]
fn detection_bayer_finds_injected_defects_only() {
    let (w, h) = (64, 48);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut dark = dark_frame(RGGB, w, h, &mut rng);
    let mut bright = bright_frame(RGGB, w, h, &mut rng);
    let hot = [
        (5u32, 7u32, 400u16),
        (0, 0, 200),
        (63, 47, 120),
        (30, 20, 90),
        (31, 20, 95),
    ];
    for &(x, y, v) in &hot {
        dark[y as usize * w + x as usize] = v;
    }
    // Dead, weak (35 %), a same-colour pair, a corner, an edge pixel.
    let dead = [
        (10u32, 10u32, 0.0),
        (33, 21, 0.35),
        (40, 30, 0.0),
        (42, 30, 0.1),
        (0, 47, 0.0),
        (63, 12, 0.2),
    ];
    for &(x, y, f) in &dead {
        let i = y as usize * w + x as usize;
        bright[i] = (bright[i] as f64 * f) as u16;
    }
    let params = DetectParams::default();
    let hot_found = detect_hot(RGGB, w, h, &dark, &params).unwrap();
    assert_eq!(hot_found, list(&hot.map(|(x, y, _)| (x, y))));
    let dead_found = detect_dead(RGGB, w, h, &bright, &params).unwrap();
    assert_eq!(dead_found, list(&dead.map(|(x, y, _)| (x, y))));
    let all = detect(RGGB, w, h, Some(&dark[..]), Some(&bright[..]), &params).unwrap();
    assert_eq!(all.len(), hot.len() + dead.len());

    // Nothing in clean frames.
    let clean_dark = dark_frame(RGGB, w, h, &mut rng);
    let clean_bright = bright_frame(RGGB, w, h, &mut rng);
    let none = detect(
        RGGB,
        w,
        h,
        Some(&clean_dark[..]),
        Some(&clean_bright[..]),
        &params,
    )
    .unwrap();
    assert!(none.is_empty(), "{none:?}");

    // The detected list corrects the bright frame back close to its neighbours.
    correct(RGGB, w, h, &dead_found, &mut bright).unwrap();
    let i = 10 * w + 10;
    let neighbour = bright[10 * w + 12] as i32;
    assert!(
        (bright[i] as i32 - neighbour).abs() < 200,
        "{} vs {neighbour}",
        bright[i]
    );
}

#[test]
fn detection_mono_and_absolute_threshold() {
    let (w, h) = (40, 30);
    let mut rng = Rng(12345);
    let mut dark = dark_frame(MONO, w, h, &mut rng);
    let mut bright = bright_frame(MONO, w, h, &mut rng);
    dark[3 * w + 4] = 300;
    dark[29 * w + 39] = 75; // 15 DN above a mean of 60 with sd 2
    bright[15 * w + 20] = 100;
    bright[15 * w + 21] = 50; // adjacent dead pair
    let params = DetectParams::default();
    let found = detect(MONO, w, h, Some(&dark[..]), Some(&bright[..]), &params).unwrap();
    assert_eq!(found, list(&[(4, 3), (39, 29), (20, 15), (21, 15)]));

    // Absolute threshold only.
    let abs = DetectParams {
        hot_sigma: None,
        hot_threshold: Some(100),
        ..DetectParams::default()
    };
    assert_eq!(
        detect_hot(MONO, w, h, &dark, &abs).unwrap(),
        list(&[(4, 3)])
    );

    // Both tests off: nothing.
    let off = DetectParams {
        hot_sigma: None,
        weak_ratio: 0.0,
        ..DetectParams::default()
    };
    assert!(detect(MONO, w, h, Some(&dark[..]), Some(&bright[..]), &off)
        .unwrap()
        .is_empty());
}

#[test]
fn detection_on_flat_frames_and_errors() {
    // A noiseless dark frame: one pixel 1 DN above is not hot (min excess),
    // one 10 DN above is.
    let (w, h) = (8, 8);
    let mut dark = vec![20u8; w * h];
    dark[9] = 21;
    dark[20] = 30;
    let found = detect_hot(MONO, w, h, &dark, &DetectParams::default()).unwrap();
    assert_eq!(found, list(&[(4, 2)]));

    let bad = DetectParams {
        weak_ratio: 1.5,
        ..DetectParams::default()
    };
    assert!(matches!(
        detect_dead(MONO, w, h, &dark, &bad),
        Err(DefectError::InvalidParameter {
            name: "weak_ratio",
            ..
        })
    ));
    let bad = DetectParams {
        hot_sigma: Some(f64::NAN),
        ..DetectParams::default()
    };
    assert!(detect_hot(MONO, w, h, &dark, &bad).is_err());
    let bad = DetectParams {
        local_radius: 0,
        ..DetectParams::default()
    };
    assert!(detect_dead(MONO, w, h, &dark, &bad).is_err());
    assert_eq!(
        detect_hot(MONO, w, h + 1, &dark, &DetectParams::default()),
        Err(DefectError::ImageTooShort {
            needed: 72,
            actual: 64
        })
    );
}

// ---------------------------------------------------------------------------
// No panics
// ---------------------------------------------------------------------------

fn layout_strategy() -> impl Strategy<Value = PixelLayout> {
    prop_oneof![
        Just(PixelLayout::Mono),
        Just(PixelLayout::Rgb),
        Just(PixelLayout::Bgr),
        proptest::sample::select(BayerPattern::ALL.to_vec()).prop_map(PixelLayout::Bayer),
    ]
}

proptest! {
    #[test]
    fn correction_and_detection_never_panic(
        layout in layout_strategy(),
        w in 0usize..24,
        h in 0usize..24,
        short in 0usize..4,
        points in proptest::collection::vec((0u32..26, 0u32..26), 0..40),
        seed in any::<u64>(),
        radius in 0usize..4,
        ratio in -0.5f64..1.5,
        sigma in proptest::option::of(-1.0f64..10.0),
    ) {
        let n = (w * h * layout.samples_per_pixel()).saturating_sub(short);
        let mut rng = Rng(seed | 1);
        let mut img8: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
        let mut img16: Vec<u16> = (0..n).map(|_| rng.next() as u16).collect();
        let defects = DefectList::from_points(points);
        let r8 = correct(layout, w, h, &defects, &mut img8);
        let r16 = correct(layout, w, h, &defects, &mut img16);
        if short > 0 && w * h > 0 {
            prop_assert!(r8.is_err() && r16.is_err());
        }
        if let Ok(s) = r8 {
            prop_assert_eq!(s.corrected + s.uncorrectable, defects.len());
        }
        let params = DetectParams {
            local_radius: radius,
            weak_ratio: ratio,
            hot_sigma: sigma,
            ..DetectParams::default()
        };
        let _ = detect(layout, w, h, Some(&img8[..]), Some(&img8[..]), &params);
        let found = detect(layout, w, h, Some(&img16[..]), Some(&img16[..]), &params);
        if let Ok(found) = found {
            prop_assert!(found.validate(w, h).is_ok());
        }
        // Text round trip of arbitrary lists.
        prop_assert_eq!(DefectList::parse(&defects.to_text()), Ok(defects));
    }

    #[test]
    fn parse_never_panics(text in "[0-9,#\\- \\n\\ra-z]{0,80}") {
        let _ = DefectList::parse(&text);
    }
}
