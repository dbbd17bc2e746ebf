//! The camera's non-volatile memory, kept in files so that it survives a
//! restart: user sets and the power-up set, DeviceUserID, the flat-field
//! coefficients and the user defect list.
//!
//! Layout of the store directory (one per camera serial number):
//!
//! | file | contents |
//! |---|---|
//! | `settings.json` | `{"user_set_default": n, "device_user_id": s, "user_sets": {"UserSet1": {...}, "UserSet2": {...}}}` |
//! | `ffc.bin` | `MVFFC1\0\0`, width and height (u32 LE), offsets then gains (u16 LE each) |
//! | `defects.txt` | the user defect list in `pixel::defect` text form |
//!
//! Files are written to a temporary name and renamed, so a crash never
//! leaves half a file. A camera without a store directory keeps everything
//! in memory only.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use pixel::defect::DefectList;
use pixel::ffc::FlatField;

use super::values::UserSetData;
use crate::features::FeatureTable;

const FFC_MAGIC: &[u8; 8] = b"MVFFC1\0\0";

/// Why the store could not be read or written. Messages name the file.
#[derive(Debug, thiserror::Error)]
pub enum NvError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: io::Error,
    },
    /// A file holds something else than expected.
    #[error("{path}: {reason}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

/// What the store holds.
#[derive(Debug, Clone, Default)]
pub struct NvData {
    /// UserSet1 and UserSet2, when saved.
    pub user_sets: [Option<UserSetData>; 2],
    /// UserSetDefault: 0 Default, 1 UserSet1, 2 UserSet2.
    pub user_set_default: i64,
    /// DeviceUserID.
    pub device_user_id: String,
    /// Flat-field coefficients.
    pub ffc: Option<FlatField>,
    /// The user defect list.
    pub user_defects: Option<DefectList>,
    /// Problems met while loading (skipped entries), for the log.
    pub problems: Vec<String>,
}

/// A camera's store directory, or none.
#[derive(Debug, Clone)]
pub struct NvStore {
    dir: Option<PathBuf>,
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> NvError + '_ {
    move |source| NvError::Io {
        path: path.to_owned(),
        source,
    }
}

fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), NvError> {
    let tmp = path.with_extension("tmp");
    fs::write(&tmp, bytes).map_err(io_err(&tmp))?;
    fs::rename(&tmp, path).map_err(io_err(path))
}

impl NvStore {
    /// A store in `dir` (created when first written), or in memory only.
    pub fn new(dir: Option<PathBuf>) -> NvStore {
        NvStore { dir }
    }

    /// The directory, if any.
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    fn file(&self, name: &str) -> Option<PathBuf> {
        self.dir.as_ref().map(|d| d.join(name))
    }

    fn ensure_dir(&self) -> Result<(), NvError> {
        if let Some(d) = &self.dir {
            fs::create_dir_all(d).map_err(io_err(d))?;
        }
        Ok(())
    }

    /// Reads everything; missing files are simply absent data.
    pub fn load(&self, table: &FeatureTable) -> Result<NvData, NvError> {
        let mut data = NvData::default();
        let Some(dir) = &self.dir else {
            return Ok(data);
        };
        let settings = dir.join("settings.json");
        match fs::read(&settings) {
            Ok(bytes) => {
                let json: serde_json::Value =
                    serde_json::from_slice(&bytes).map_err(|e| NvError::Corrupt {
                        path: settings.clone(),
                        reason: e.to_string(),
                    })?;
                data.user_set_default = json
                    .get("user_set_default")
                    .and_then(|v| v.as_i64())
                    .filter(|v| (0..=2).contains(v))
                    .unwrap_or(0);
                data.device_user_id = json
                    .get("device_user_id")
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .chars()
                    .take(15)
                    .collect();
                for (i, name) in ["UserSet1", "UserSet2"].iter().enumerate() {
                    if let Some(set) = json.get("user_sets").and_then(|s| s.get(name)) {
                        let (set, problems) = UserSetData::from_json(set, table);
                        data.problems
                            .extend(problems.into_iter().map(|p| format!("{name}: {p}")));
                        if let Some(slot) = data.user_sets.get_mut(i) {
                            *slot = Some(set);
                        }
                    }
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_err(&settings)(e)),
        }
        let ffc = dir.join("ffc.bin");
        match fs::read(&ffc) {
            Ok(bytes) => data.ffc = Some(decode_ffc(&bytes, &ffc)?),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_err(&ffc)(e)),
        }
        let defects = dir.join("defects.txt");
        match fs::read_to_string(&defects) {
            Ok(text) => {
                data.user_defects =
                    Some(DefectList::parse(&text).map_err(|e| NvError::Corrupt {
                        path: defects.clone(),
                        reason: e.to_string(),
                    })?)
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_err(&defects)(e)),
        }
        Ok(data)
    }

    /// Writes the settings file (user sets, power-up set, user id).
    pub fn save_settings(&self, data: &NvData) -> Result<(), NvError> {
        let Some(path) = self.file("settings.json") else {
            return Ok(());
        };
        self.ensure_dir()?;
        let mut sets = serde_json::Map::new();
        for (i, name) in ["UserSet1", "UserSet2"].iter().enumerate() {
            if let Some(Some(set)) = data.user_sets.get(i) {
                sets.insert((*name).to_owned(), set.to_json());
            }
        }
        let json = serde_json::json!({
            "user_set_default": data.user_set_default,
            "device_user_id": data.device_user_id,
            "user_sets": sets,
        });
        let text = serde_json::to_vec_pretty(&json).map_err(|e| NvError::Corrupt {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        write_atomic(&path, &text)
    }

    /// Writes (or with `None` removes) the flat-field coefficients.
    pub fn save_ffc(&self, ffc: Option<&FlatField>) -> Result<(), NvError> {
        let Some(path) = self.file("ffc.bin") else {
            return Ok(());
        };
        self.ensure_dir()?;
        match ffc {
            Some(f) => write_atomic(&path, &encode_ffc(f)),
            None => match fs::remove_file(&path) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => Err(io_err(&path)(e)),
                _ => Ok(()),
            },
        }
    }

    /// Writes the user defect list.
    pub fn save_defects(&self, list: &DefectList) -> Result<(), NvError> {
        let Some(path) = self.file("defects.txt") else {
            return Ok(());
        };
        self.ensure_dir()?;
        write_atomic(&path, list.to_text().as_bytes())
    }
}

fn encode_ffc(f: &FlatField) -> Vec<u8> {
    let (w, h) = f.size();
    let mut out = Vec::with_capacity(16 + 4 * w * h);
    out.extend_from_slice(FFC_MAGIC);
    out.extend_from_slice(&(w as u32).to_le_bytes());
    out.extend_from_slice(&(h as u32).to_le_bytes());
    for v in f.offsets().iter().chain(f.gains()) {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

fn decode_ffc(bytes: &[u8], path: &Path) -> Result<FlatField, NvError> {
    let corrupt = |reason: &str| NvError::Corrupt {
        path: path.to_owned(),
        reason: reason.to_owned(),
    };
    if bytes.get(..8) != Some(FFC_MAGIC.as_slice()) {
        return Err(corrupt("not a flat-field coefficient file"));
    }
    let u32_at = |at: usize| {
        bytes
            .get(at..at + 4)
            .and_then(|b| b.try_into().ok())
            .map(u32::from_le_bytes)
            .ok_or_else(|| corrupt("truncated header"))
    };
    let (w, h) = (u32_at(8)? as usize, u32_at(12)? as usize);
    let n = w.checked_mul(h).ok_or_else(|| corrupt("size overflows"))?;
    let body = bytes.get(16..).unwrap_or_default();
    if body.len() != 4 * n {
        return Err(corrupt(&format!(
            "{} bytes of maps, expected {} for {w} x {h}",
            body.len(),
            4 * n
        )));
    }
    let words: Vec<u16> = body
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    let (offsets, gains) = words.split_at(n);
    FlatField::new(w, h, offsets.to_vec(), gains.to_vec()).map_err(|e| corrupt(&e.to_string()))
}
