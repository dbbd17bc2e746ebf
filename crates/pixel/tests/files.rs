//! Saving and loading images: round trips through raw + sidecar, PNG, TIFF
//! and BMP, and error handling on bad files and sidecars.

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use pixel::convert::to_rgb8;
use pixel::file::{
    decode, decode_raw, encode, encode_raw, load, load_as, raw_sidecar, save, save_as,
    sidecar_path, FileError, FileFormat, Image,
};
use pixel::format::PixelFormat;
use pixel::pack::{pack_from_u16, unpack_to_u16};
use proptest::prelude::*;

const SIZES: &[(u32, u32)] = &[(1, 1), (2, 1), (1, 3), (3, 2), (7, 5), (16, 3), (33, 4)];

/// A temporary directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!(
            "mvcam-pixel-files-{}-{name}-{n}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn path(&self, file: &str) -> PathBuf {
        self.0.join(file)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Deterministic pseudo-random numbers (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

/// Random wire bytes, padding bits included.
fn random_wire(format: PixelFormat, w: u32, h: u32, seed: u64) -> Image {
    let n = format.image_bytes(w as usize, h as usize).unwrap();
    let mut rng = Rng(seed | 1);
    let data = (0..n).map(|_| rng.next() as u8).collect();
    Image::new(format, w, h, data).unwrap()
}

/// A valid camera image: random samples in range, padding bits zero.
fn camera_image(format: PixelFormat, w: u32, h: u32, seed: u64) -> Image {
    if !format.is_single_sample() {
        return random_wire(format, w, h, seed);
    }
    let (wu, hu) = (w as usize, h as usize);
    let mut rng = Rng(seed | 1);
    let mask = ((1u32 << format.pixel_bits()) - 1) as u64;
    let mut samples: Vec<u16> = (0..wu * hu).map(|_| (rng.next() & mask) as u16).collect();
    if let Some(s) = samples.first_mut() {
        *s = mask as u16; // make sure the full range is used
    }
    let mut data = vec![0u8; format.image_bytes(wu, hu).unwrap()];
    pack_from_u16(format, wu, hu, &samples, &mut data).unwrap();
    Image::new(format, w, h, data).unwrap()
}

fn samples(image: &Image) -> Vec<u16> {
    let (w, h) = (image.width() as usize, image.height() as usize);
    let mut s = vec![0u16; w * h];
    unpack_to_u16(image.format(), w, h, image.data(), &mut s).unwrap();
    s
}

fn rgb_of(image: &Image) -> Vec<u8> {
    let (w, h) = (image.width() as usize, image.height() as usize);
    let mut rgb = vec![0u8; w * h * 3];
    to_rgb8(image.format(), w, h, image.data(), &mut rgb).unwrap();
    rgb
}

fn image_crate_encode(
    fmt: image::ImageFormat,
    buf: &[u8],
    w: u32,
    h: u32,
    color: image::ExtendedColorType,
) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    image::write_buffer_with_format(&mut out, buf, w, h, color, fmt).unwrap();
    out.into_inner()
}

// ---------------------------------------------------------------------------
// Image

#[test]
fn image_new_validates_length() {
    assert!(Image::new(PixelFormat::Mono12p, 3, 2, vec![0; 10]).is_ok());
    let e = Image::new(PixelFormat::Mono12p, 3, 2, vec![0; 11]).unwrap_err();
    assert!(matches!(
        e,
        FileError::DataLength {
            expected: Some(10),
            actual: 11,
            ..
        }
    ));
    assert!(e.to_string().contains("Mono12p 3x2 needs 10 bytes"), "{e}");
    assert!(e.path().is_none());
    assert!(Image::new(PixelFormat::Mono8, 0, 0, vec![]).is_ok());
    let e = Image::new(PixelFormat::Mono8, 0, 5, vec![1]).unwrap_err();
    assert!(matches!(e, FileError::DataLength { .. }));
    let i = Image::new(PixelFormat::RGB8, 1, 1, vec![1, 2, 3]).unwrap();
    assert_eq!(
        (i.format(), i.width(), i.height(), i.data()),
        (PixelFormat::RGB8, 1, 1, &[1u8, 2, 3][..])
    );
    assert_eq!(i.into_data(), vec![1, 2, 3]);
}

#[test]
fn repack_between_single_sample_formats() {
    let img = camera_image(PixelFormat::BayerRG12p, 7, 3, 5);
    let m16 = img.repack(PixelFormat::Mono16).unwrap();
    assert_eq!(samples(&m16), samples(&img));
    assert_eq!(m16.repack(PixelFormat::BayerRG12p).unwrap(), img);
    // 4095 does not fit 10 bits.
    let e = m16.repack(PixelFormat::Mono10p).unwrap_err();
    assert!(matches!(e, FileError::Repack { .. }));
    assert!(e.to_string().contains("exceeds 10 bits"), "{e}");
    let e = random_wire(PixelFormat::RGB8, 2, 2, 1)
        .repack(PixelFormat::Mono8)
        .unwrap_err();
    assert!(matches!(e, FileError::Repack { .. }));
    assert!(img.repack(PixelFormat::YUV422_8).is_err());
}

// ---------------------------------------------------------------------------
// FileFormat

#[test]
fn file_format_from_extension_and_magic() {
    let f = |p: &str| FileFormat::from_path(Path::new(p));
    assert_eq!(f("a/b.png").unwrap(), FileFormat::Png);
    assert_eq!(f("x.PNG").unwrap(), FileFormat::Png);
    assert_eq!(f("x.tif").unwrap(), FileFormat::Tiff);
    assert_eq!(f("x.TIFF").unwrap(), FileFormat::Tiff);
    assert_eq!(f("x.bmp").unwrap(), FileFormat::Bmp);
    assert_eq!(f("x.raw").unwrap(), FileFormat::Raw);
    for bad in ["x.jpg", "x", "x.raw.json", ".png.gz"] {
        let e = f(bad).unwrap_err();
        assert!(matches!(e, FileError::UnknownExtension { .. }), "{bad}");
        assert_eq!(e.path(), Some(Path::new(bad)));
        assert!(e.to_string().contains(bad), "{e}");
    }
    let img = camera_image(PixelFormat::Mono8, 3, 3, 1);
    for ff in [FileFormat::Png, FileFormat::Tiff, FileFormat::Bmp] {
        assert_eq!(FileFormat::from_magic(&encode(&img, ff).unwrap()), Some(ff));
        assert_eq!(FileFormat::from_extension(ff.extension()), Some(ff), "{ff}");
    }
    assert_eq!(FileFormat::from_magic(b"\0\0\0"), None);
    assert_eq!(FileFormat::ALL.len(), 4);
}

// ---------------------------------------------------------------------------
// Raw

#[test]
fn raw_roundtrip_every_format_in_memory() {
    let sizes = SIZES.iter().chain(&[(0, 0), (5, 0), (0, 4)]);
    for &format in PixelFormat::all() {
        for (i, &(w, h)) in sizes.clone().enumerate() {
            // Random wire bytes: padding bits must survive too.
            let img = random_wire(format, w, h, 77 + i as u64);
            let (data, sidecar) = encode_raw(&img);
            assert_eq!(data, img.data());
            assert_eq!(sidecar, raw_sidecar(&img).into_bytes());
            assert_eq!(
                decode_raw(&data, &sidecar).unwrap(),
                img,
                "{format} {w}x{h}"
            );
        }
    }
}

#[test]
fn raw_roundtrip_every_format_on_disk() {
    let dir = TempDir::new("raw");
    for &format in PixelFormat::all() {
        let img = random_wire(format, 13, 7, format.code() as u64);
        let path = dir.path(&format!("{format}.raw"));
        save(&img, &path).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), img.data());
        let side: serde_json::Value =
            serde_json::from_slice(&std::fs::read(sidecar_path(&path)).unwrap()).unwrap();
        assert_eq!(side["pixel_format"], format.name());
        assert_eq!(side["pfnc"], format.code());
        assert_eq!(side["width"], 13);
        assert_eq!(side["height"], 7);
        assert_eq!(side["bytes"], img.data().len());
        assert_eq!(load(&path).unwrap(), img, "{format}");
        // Explicit format, other extension.
        let other = dir.path(&format!("{format}.bin"));
        save_as(&img, &other, FileFormat::Raw).unwrap();
        assert!(sidecar_path(&other).ends_with(format!("{format}.bin.json")));
        assert_eq!(load_as(&other, FileFormat::Raw).unwrap(), img);
    }
}

fn sidecar_json(v: serde_json::Value) -> Vec<u8> {
    serde_json::to_vec(&v).unwrap()
}

#[test]
fn raw_sidecar_errors_name_the_field() {
    let img = camera_image(PixelFormat::BayerRG12p, 5, 3, 9);
    let data = img.data().to_vec();
    let good = serde_json::json!({
        "pixel_format": "BayerRG12p", "pfnc": PixelFormat::BayerRG12p.code(),
        "width": 5, "height": 3, "bytes": data.len(),
    });
    assert_eq!(decode_raw(&data, &sidecar_json(good.clone())).unwrap(), img);

    // A hex string for pfnc and extra fields are accepted.
    let mut hex = good.clone();
    hex["pfnc"] = serde_json::json!("0x010C0059");
    hex["comment"] = serde_json::json!("from camera 3");
    assert_eq!(decode_raw(&data, &sidecar_json(hex)).unwrap(), img);

    let field_err = |v: serde_json::Value, field: &str| {
        let e = decode_raw(&data, &sidecar_json(v)).unwrap_err();
        match &e {
            FileError::Sidecar { field: f, path, .. } => {
                assert_eq!(f, field, "{e}");
                assert_eq!(path, Path::new("<memory>"));
            }
            _ => panic!("expected a sidecar error for {field}, got {e:?}"),
        }
        assert!(e.to_string().contains(field), "{e}");
        e
    };
    for field in ["pixel_format", "pfnc", "width", "height", "bytes"] {
        let mut v = good.clone();
        v.as_object_mut().unwrap().remove(field);
        let e = field_err(v, field);
        assert!(e.to_string().contains("missing"), "{e}");
    }
    let with = |field: &str, value: serde_json::Value| {
        let mut v = good.clone();
        v[field] = value;
        v
    };
    let e = field_err(with("pixel_format", "BayerRG13p".into()), "pixel_format");
    assert!(e.to_string().contains("BayerRG13p"), "{e}");
    field_err(with("pixel_format", 17.into()), "pixel_format");
    let e = field_err(with("pfnc", PixelFormat::Mono8.code().into()), "pfnc");
    assert!(e.to_string().contains("0x01080001"), "{e}");
    field_err(with("pfnc", "zz".into()), "pfnc");
    field_err(with("pfnc", serde_json::Value::Null), "pfnc");
    field_err(with("width", (-1).into()), "width");
    field_err(with("width", 1.5.into()), "width");
    field_err(with("width", (1u64 << 32).into()), "width");
    field_err(with("height", "3".into()), "height");
    field_err(with("bytes", 11.into()), "bytes");
    // width/height inconsistent with bytes
    field_err(with("width", 6.into()), "bytes");
    field_err(serde_json::json!([1, 2]), "(root)");

    let e = decode_raw(&data, b"{\"pixel_format\": ").unwrap_err();
    assert!(matches!(e, FileError::SidecarJson { .. }), "{e:?}");
    let e = decode_raw(&data, b"").unwrap_err();
    assert!(matches!(e, FileError::SidecarJson { .. }), "{e:?}");

    // Data length differs from the sidecar.
    let e = decode_raw(&data[..data.len() - 1], &sidecar_json(good.clone())).unwrap_err();
    assert!(
        matches!(
            e,
            FileError::SizeMismatch {
                expected: 24,
                actual: 23,
                ..
            }
        ),
        "{e:?}"
    );
    let mut longer = data.clone();
    longer.push(0);
    assert!(matches!(
        decode_raw(&longer, &sidecar_json(good)).unwrap_err(),
        FileError::SizeMismatch { .. }
    ));
}

#[test]
fn raw_file_errors_name_the_file() {
    let dir = TempDir::new("rawerr");
    let img = camera_image(PixelFormat::Mono10p, 9, 2, 3);
    let path = dir.path("a.raw");
    save(&img, &path).unwrap();

    // Truncated data file.
    std::fs::write(&path, &img.data()[1..]).unwrap();
    match load(&path).unwrap_err() {
        FileError::SizeMismatch {
            path: p, sidecar, ..
        } => {
            assert_eq!(p, path);
            assert_eq!(sidecar, sidecar_path(&path));
        }
        e => panic!("{e:?}"),
    }
    // Bad sidecar.
    std::fs::write(&path, img.data()).unwrap();
    std::fs::write(sidecar_path(&path), b"{\"pixel_format\": \"Mono10p\"}").unwrap();
    let e = load(&path).unwrap_err();
    assert!(matches!(&e, FileError::Sidecar { field, path: p, .. }
        if field == "pfnc" && *p == sidecar_path(&path)));
    assert!(e.to_string().contains("a.raw.json"), "{e}");
    // Missing sidecar.
    std::fs::remove_file(sidecar_path(&path)).unwrap();
    let e = load(&path).unwrap_err();
    assert!(matches!(&e, FileError::Io { path: p, .. } if *p == sidecar_path(&path)));
    // Missing data file.
    save(&img, &path).unwrap();
    std::fs::remove_file(&path).unwrap();
    let e = load(&path).unwrap_err();
    assert!(matches!(&e, FileError::Io { path: p, .. } if *p == path));
    assert!(e.to_string().contains("a.raw"), "{e}");
}

// ---------------------------------------------------------------------------
// PNG / TIFF

#[test]
fn png_tiff_roundtrip_mono_and_bayer_exact() {
    for ff in [FileFormat::Png, FileFormat::Tiff] {
        for &format in PixelFormat::all().iter().filter(|f| f.is_single_sample()) {
            for (i, &(w, h)) in SIZES.iter().enumerate() {
                let img = camera_image(format, w, h, 1000 + i as u64);
                let bytes = encode(&img, ff).unwrap();
                let back = decode(&bytes, ff).unwrap();
                assert_eq!(back, img, "{ff} {format} {w}x{h}");
            }
        }
    }
}

#[test]
fn png_tiff_roundtrip_on_disk() {
    let dir = TempDir::new("pngtiff");
    for name in ["a.png", "b.tif", "c.tiff", "d.PNG"] {
        for format in [
            PixelFormat::Mono8,
            PixelFormat::Mono16,
            PixelFormat::BayerGB12p,
            PixelFormat::Mono10Packed,
            PixelFormat::RGB8,
            PixelFormat::BGR8,
        ] {
            let img = camera_image(format, 11, 7, 3);
            let path = dir.path(name);
            save(&img, &path).unwrap();
            assert_eq!(load(&path).unwrap(), img, "{name} {format}");
        }
    }
    // Explicit format regardless of the extension.
    let img = camera_image(PixelFormat::BayerBG16, 4, 4, 8);
    let path = dir.path("frame.dat");
    save_as(&img, &path, FileFormat::Tiff).unwrap();
    assert_eq!(load_as(&path, FileFormat::Tiff).unwrap(), img);
    assert!(matches!(
        load(&path).unwrap_err(),
        FileError::UnknownExtension { .. }
    ));
    assert!(matches!(
        save(&img, dir.path("x.jpeg")).unwrap_err(),
        FileError::UnknownExtension { .. }
    ));
}

#[test]
fn png_tiff_colour_formats() {
    for ff in [FileFormat::Png, FileFormat::Tiff] {
        for &(w, h) in SIZES {
            for format in [PixelFormat::RGB8, PixelFormat::BGR8] {
                let img = random_wire(format, w, h, 5);
                assert_eq!(decode(&encode(&img, ff).unwrap(), ff).unwrap(), img);
            }
            for format in [
                PixelFormat::RGBa8,
                PixelFormat::BGRa8,
                PixelFormat::YUV422_8,
                PixelFormat::YUV422_8_UYVY,
            ] {
                let img = random_wire(format, w, h, 6);
                let back = decode(&encode(&img, ff).unwrap(), ff).unwrap();
                assert_eq!(back.format(), PixelFormat::RGB8, "{ff} {format}");
                assert_eq!((back.width(), back.height()), (w, h));
                assert_eq!(back.data(), rgb_of(&img), "{ff} {format} {w}x{h}");
            }
        }
    }
}

#[test]
fn png_tiff_samples_are_unscaled_for_other_readers() {
    let img = camera_image(PixelFormat::Mono12p, 6, 5, 2);
    let want = samples(&img);
    for ff in [FileFormat::Png, FileFormat::Tiff] {
        let bytes = encode(&img, ff).unwrap();
        let other = image::load_from_memory(&bytes).unwrap();
        let luma = other.as_luma16().expect("16-bit grey");
        assert_eq!(luma.as_raw(), &want, "{ff}");
    }
    // PNG records the significant bits and the format.
    let png = encode(&img, FileFormat::Png).unwrap();
    let has = |needle: &[u8]| png.windows(needle.len()).any(|w| w == needle);
    assert!(has(b"sBIT\x0c"));
    assert!(has(b"tEXtPixelFormat\0Mono12p"));
    let png16 = encode(&camera_image(PixelFormat::Mono16, 2, 2, 1), FileFormat::Png).unwrap();
    assert!(!png16.windows(4).any(|w| w == b"sBIT"));
}

#[test]
fn files_without_metadata_use_the_plain_mapping() {
    let vals: Vec<u16> = vec![0, 1, 4095, 65535, 300, 7];
    let bytes16: Vec<u8> = vals.iter().flat_map(|v| v.to_ne_bytes()).collect();
    for fmt in [image::ImageFormat::Png, image::ImageFormat::Tiff] {
        let ff = if fmt == image::ImageFormat::Png {
            FileFormat::Png
        } else {
            FileFormat::Tiff
        };
        let file = image_crate_encode(fmt, &bytes16, 3, 2, image::ExtendedColorType::L16);
        let img = decode(&file, ff).unwrap();
        assert_eq!(img.format(), PixelFormat::Mono16);
        assert_eq!(samples(&img), vals);
        assert!(img.repack(PixelFormat::Mono12p).is_err());

        let file = image_crate_encode(fmt, &[1, 2, 3, 4], 2, 2, image::ExtendedColorType::L8);
        let img = decode(&file, ff).unwrap();
        assert_eq!(
            (img.format(), img.data()),
            (PixelFormat::Mono8, &[1u8, 2, 3, 4][..])
        );
        let bayer = img.repack(PixelFormat::BayerGR8).unwrap();
        assert_eq!(bayer.data(), img.data());

        let rgba: Vec<u8> = (0..16).collect();
        let file = image_crate_encode(fmt, &rgba, 2, 2, image::ExtendedColorType::Rgba8);
        let img = decode(&file, ff).unwrap();
        assert_eq!((img.format(), img.data()), (PixelFormat::RGBa8, &rgba[..]));
    }
}

#[test]
fn unsupported_colour_types_are_named() {
    let cases = [
        (image::ExtendedColorType::Rgb16, 12, "Rgb16"),
        (image::ExtendedColorType::La8, 4, "La8"),
        (image::ExtendedColorType::Rgba16, 16, "Rgba16"),
    ];
    for (color, n, name) in cases {
        let buf = vec![7u8; n];
        for (fmt, ff) in [
            (image::ImageFormat::Png, FileFormat::Png),
            (image::ImageFormat::Tiff, FileFormat::Tiff),
        ] {
            if fmt == image::ImageFormat::Tiff && color == image::ExtendedColorType::La8 {
                continue; // the TIFF encoder cannot write grey + alpha
            }
            let file = image_crate_encode(fmt, &buf, 2, 1, color);
            let e = decode(&file, ff).unwrap_err();
            assert!(matches!(e, FileError::Unsupported { .. }), "{e:?}");
            assert!(e.to_string().contains(name), "{e}");
        }
    }
}

// ---------------------------------------------------------------------------
// BMP

#[test]
fn bmp_roundtrips() {
    for (i, &(w, h)) in SIZES.iter().enumerate() {
        let seed = 40 + i as u64;
        for format in [PixelFormat::Mono8, PixelFormat::RGB8] {
            let img = random_wire(format, w, h, seed);
            let back = decode(&encode(&img, FileFormat::Bmp).unwrap(), FileFormat::Bmp).unwrap();
            assert_eq!(back, img, "{format} {w}x{h}");
        }
        // Bayer 8 loads as Mono8 with the same bytes.
        let img = random_wire(PixelFormat::BayerRG8, w, h, seed);
        let back = decode(&encode(&img, FileFormat::Bmp).unwrap(), FileFormat::Bmp).unwrap();
        assert_eq!(back.format(), PixelFormat::Mono8);
        assert_eq!(back.data(), img.data());
        assert_eq!(back.repack(PixelFormat::BayerRG8).unwrap(), img);
        // Colour formats load as the converted RGB8 (a grey RGB image stays RGB8).
        for format in [
            PixelFormat::BGR8,
            PixelFormat::RGBa8,
            PixelFormat::BGRa8,
            PixelFormat::YUV422_8,
        ] {
            let img = random_wire(format, w, h, seed);
            let back = decode(&encode(&img, FileFormat::Bmp).unwrap(), FileFormat::Bmp).unwrap();
            assert_eq!(back.format(), PixelFormat::RGB8);
            assert_eq!(back.data(), rgb_of(&img), "{format} {w}x{h}");
        }
    }
    let grey_rgb = Image::new(PixelFormat::RGB8, 2, 1, vec![5, 5, 5, 9, 9, 9]).unwrap();
    let back = decode(
        &encode(&grey_rgb, FileFormat::Bmp).unwrap(),
        FileFormat::Bmp,
    )
    .unwrap();
    assert_eq!(back, grey_rgb);

    let dir = TempDir::new("bmp");
    let img = random_wire(PixelFormat::Mono8, 9, 4, 1);
    save(&img, dir.path("m.bmp")).unwrap();
    assert_eq!(load(dir.path("m.bmp")).unwrap(), img);
}

#[test]
fn bmp_rejects_deep_formats() {
    for &format in PixelFormat::all()
        .iter()
        .filter(|f| f.is_single_sample() && f.pixel_bits() > 8)
    {
        let img = camera_image(format, 3, 3, 1);
        let e = encode(&img, FileFormat::Bmp).unwrap_err();
        assert!(matches!(
            e,
            FileError::Unsupported {
                file_format: FileFormat::Bmp,
                ..
            }
        ));
        assert!(e.to_string().contains(format.name()), "{e}");
    }
}

// ---------------------------------------------------------------------------
// Errors on bad files

#[test]
fn raw_needs_the_raw_functions() {
    let img = camera_image(PixelFormat::Mono8, 2, 2, 1);
    assert!(matches!(
        encode(&img, FileFormat::Raw).unwrap_err(),
        FileError::Unsupported { .. }
    ));
    assert!(matches!(
        decode(img.data(), FileFormat::Raw).unwrap_err(),
        FileError::Unsupported { .. }
    ));
}

#[test]
fn zero_sized_images_do_not_panic() {
    for ff in [FileFormat::Png, FileFormat::Tiff, FileFormat::Bmp] {
        for (w, h) in [(0, 0), (0, 3), (3, 0)] {
            let img = Image::new(PixelFormat::Mono8, w, h, vec![]).unwrap();
            // Whether a format can hold an empty image is up to the encoder;
            // if it can, it must come back.
            if let Ok(bytes) = encode(&img, ff) {
                if let Ok(back) = decode(&bytes, ff) {
                    assert_eq!(back.data().len(), 0);
                }
            }
        }
    }
}

#[test]
fn truncated_and_corrupt_files_give_decode_errors() {
    let dir = TempDir::new("corrupt");
    let img = camera_image(PixelFormat::Mono12, 17, 9, 4);
    for ff in [FileFormat::Png, FileFormat::Tiff, FileFormat::Bmp] {
        let img = if ff == FileFormat::Bmp {
            camera_image(PixelFormat::RGB8, 17, 9, 4)
        } else {
            img.clone()
        };
        let good = encode(&img, ff).unwrap();
        for cut in [0, 1, 4, 8, 16, 33, good.len() / 2, good.len() - 1] {
            // A PNG cut inside the trailing IEND chunk still holds all the
            // image data; decoders may accept it, but then it must be exact.
            let e = match decode(&good[..cut], ff) {
                Ok(back) => {
                    assert_eq!(back, img, "{ff} cut {cut}");
                    assert!(cut + 12 >= good.len(), "{ff} cut {cut}");
                    continue;
                }
                Err(e) => e,
            };
            assert!(
                matches!(e, FileError::Decode { .. }),
                "{ff} cut {cut}: {e:?}"
            );
            assert!(e.to_string().contains("<memory>"), "{e}");
        }
        // Flipped bytes: must not panic (may or may not decode).
        let mut rng = Rng(99);
        for _ in 0..200 {
            let mut bad = good.clone();
            for _ in 0..3 {
                let i = (rng.next() % bad.len() as u64) as usize;
                bad[i] ^= rng.next() as u8 | 1;
            }
            let _ = decode(&bad, ff);
        }
        // Wrong format for the bytes.
        let other = if ff == FileFormat::Png {
            FileFormat::Tiff
        } else {
            FileFormat::Png
        };
        assert!(matches!(
            decode(&good, other).unwrap_err(),
            FileError::Decode { .. }
        ));
        // Path-based: errors name the file.
        let path = dir.path(&format!("bad.{}", ff.extension()));
        std::fs::write(&path, &good[..good.len() / 3]).unwrap();
        let e = load(&path).unwrap_err();
        assert!(
            matches!(&e, FileError::Decode { path: p, .. } if *p == path),
            "{e:?}"
        );
        assert!(e.to_string().contains("bad."), "{e}");
    }
    let e = load(dir.path("missing.png")).unwrap_err();
    assert!(matches!(&e, FileError::Io { path, .. } if path.ends_with("missing.png")));
}

// ---------------------------------------------------------------------------
// Property tests: decoders never panic

fn valid_files() -> Vec<(FileFormat, Vec<u8>)> {
    let mono = camera_image(PixelFormat::BayerGR10p, 5, 3, 11);
    let rgb = random_wire(PixelFormat::RGB8, 5, 3, 12);
    let grey = random_wire(PixelFormat::Mono8, 5, 3, 13);
    vec![
        (FileFormat::Png, encode(&mono, FileFormat::Png).unwrap()),
        (FileFormat::Tiff, encode(&mono, FileFormat::Tiff).unwrap()),
        (FileFormat::Png, encode(&rgb, FileFormat::Png).unwrap()),
        (FileFormat::Tiff, encode(&rgb, FileFormat::Tiff).unwrap()),
        (FileFormat::Bmp, encode(&rgb, FileFormat::Bmp).unwrap()),
        (FileFormat::Bmp, encode(&grey, FileFormat::Bmp).unwrap()),
    ]
}

fn file_format() -> impl Strategy<Value = FileFormat> {
    prop_oneof![
        Just(FileFormat::Png),
        Just(FileFormat::Tiff),
        Just(FileFormat::Bmp),
        Just(FileFormat::Raw),
    ]
}

proptest! {
    // 256 cases unless PROPTEST_CASES says otherwise.
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(256)
    ))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512),
                                ff in file_format()) {
        let _ = decode(&bytes, ff);
        let _ = decode_raw(&bytes, &bytes);
    }

    #[test]
    fn random_bytes_after_a_signature_never_panic(
        which in 0usize..3,
        tail in proptest::collection::vec(any::<u8>(), 0..512),
    ) {
        let (ff, magic): (FileFormat, &[u8]) = [
            (FileFormat::Png, &b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR"[..]),
            (FileFormat::Tiff, &b"II*\0\x08\0\0\0"[..]),
            (FileFormat::Bmp, &b"BM"[..]),
        ][which];
        let mut bytes = magic.to_vec();
        bytes.extend(tail);
        let _ = decode(&bytes, ff);
    }

    #[test]
    fn truncated_or_mutated_files_never_panic(
        which in 0usize..6,
        cut in any::<prop::sample::Index>(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..6),
    ) {
        let files = valid_files();
        let (ff, file) = &files[which];
        let cut = cut.index(file.len() + 1);
        let truncated = &file[..cut];
        if let (Ok(back), Ok(full)) = (decode(truncated, *ff), decode(file, *ff)) {
            // Only a cut in trailing chunks may still decode, and exactly.
            prop_assert_eq!(back, full);
        }
        let mut mutated = file.clone();
        for (i, v) in edits {
            let i = i.index(mutated.len());
            mutated[i] = v;
        }
        let _ = decode(&mutated, *ff);
    }

    #[test]
    fn random_sidecars_never_panic(
        name in prop_oneof![Just("Mono8".to_string()), Just("BayerRG12p".to_string()), ".{0,12}"],
        pfnc in prop_oneof![Just(serde_json::json!(0x0108_0001u32)), any::<i64>().prop_map(|v| serde_json::json!(v)), ".{0,10}".prop_map(|s| serde_json::json!(s))],
        width in prop_oneof![any::<u64>(), 0u64..20].prop_map(|v| serde_json::json!(v)),
        height in prop_oneof![any::<i64>().prop_map(|v| serde_json::json!(v)), (0u64..20).prop_map(|v| serde_json::json!(v)), Just(serde_json::json!(2.5))],
        bytes in prop_oneof![any::<u64>(), 0u64..500].prop_map(|v| serde_json::json!(v)),
        data_len in 0usize..500,
    ) {
        let side = serde_json::json!({
            "pixel_format": name, "pfnc": pfnc, "width": width, "height": height, "bytes": bytes,
        });
        let data = vec![0u8; data_len];
        if let Ok(img) = decode_raw(&data, &serde_json::to_vec(&side).unwrap()) {
            prop_assert_eq!(img.data().len(), data_len);
        }
    }
}

/// Replaces the same-length `from` by `to` in `bytes` (once).
fn patch(bytes: &mut [u8], from: &[u8], to: &[u8]) {
    assert_eq!(from.len(), to.len());
    let i = bytes
        .windows(from.len())
        .position(|w| w == from)
        .expect("pattern present");
    bytes[i..i + to.len()].copy_from_slice(to);
}

/// Recomputes the CRC of the PNG chunk whose type starts at `type_at`.
fn fix_png_crc(png: &mut [u8], type_at: usize) {
    let len = u32::from_be_bytes(png[type_at - 4..type_at].try_into().unwrap()) as usize;
    let mut crc = 0xFFFF_FFFFu32;
    for &b in &png[type_at..type_at + 4 + len] {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    let at = type_at + 4 + len;
    png[at..at + 4].copy_from_slice(&(!crc).to_be_bytes());
}

#[test]
fn recorded_format_is_applied_only_when_exact() {
    let small = camera_image(PixelFormat::Mono10, 4, 3, 1)
        .repack(PixelFormat::Mono16)
        .unwrap();
    let big = camera_image(PixelFormat::Mono16, 4, 3, 1); // has 65535
    let cases: [(&Image, &[u8], Option<PixelFormat>); 4] = [
        (&small, b"Mono10", Some(PixelFormat::Mono10)),
        (&big, b"Mono10", None),    // samples do not fit 10 bits
        (&small, b"Mono99", None),  // unknown name
        (&small, b"RGBa8\0", None), // not restorable from grey
    ];
    for (img, name, want) in cases {
        let want = want.map_or_else(|| img.clone(), |f| img.repack(f).unwrap());
        let mut tiff = encode(img, FileFormat::Tiff).unwrap();
        patch(
            &mut tiff,
            b"PixelFormat=Mono16",
            &[b"PixelFormat=", name].concat(),
        );
        assert_eq!(decode(&tiff, FileFormat::Tiff).unwrap(), want);

        let mut png = encode(img, FileFormat::Png).unwrap();
        let text = png.windows(4).position(|w| w == b"tEXt").unwrap();
        patch(
            &mut png,
            b"PixelFormat\0Mono16",
            &[b"PixelFormat\0", name].concat(),
        );
        fix_png_crc(&mut png, text);
        assert_eq!(decode(&png, FileFormat::Png).unwrap(), want);
    }
    // A PNG metadata chunk with a bad CRC is ignored.
    let mut png = encode(&small, FileFormat::Png).unwrap();
    patch(&mut png, b"PixelFormat\0Mono16", b"PixelFormat\0Mono10");
    if let Ok(img) = decode(&png, FileFormat::Png) {
        assert_eq!(img, small);
    }
}
