//! The "Open Recent" list: the last configuration files opened or saved,
//! kept in a small text file (one path per line) in the state directory.

use std::path::{Path, PathBuf};

use crate::error::ViewerError;

/// Environment variable naming the directory of the viewer's state files.
pub const ENV_STATE_DIR: &str = "MVCAM_STATE_DIR";

/// Name of the recent-files list inside the state directory.
const FILE_NAME: &str = "recent-configs.txt";

/// The most recently used configuration files, newest first.
#[derive(Debug, Clone, Default)]
pub struct RecentFiles {
    file: Option<PathBuf>,
    entries: Vec<PathBuf>,
}

impl RecentFiles {
    /// How many paths the list keeps.
    pub const CAPACITY: usize = 10;

    /// The state directory: `$MVCAM_STATE_DIR`, else
    /// `$XDG_CONFIG_HOME/mvcam`, else `$HOME/.config/mvcam`.
    pub fn default_dir() -> Option<PathBuf> {
        let non_empty = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
        if let Some(d) = non_empty(ENV_STATE_DIR) {
            return Some(PathBuf::from(d));
        }
        if let Some(d) = non_empty("XDG_CONFIG_HOME") {
            return Some(PathBuf::from(d).join("mvcam"));
        }
        non_empty("HOME").map(|h| PathBuf::from(h).join(".config").join("mvcam"))
    }

    /// Reads the list kept in `dir` (an empty list when there is none;
    /// `None` keeps the list in memory only).
    pub fn load(dir: Option<&Path>) -> RecentFiles {
        let file = dir.map(|d| d.join(FILE_NAME));
        let entries = file
            .as_ref()
            .and_then(|f| std::fs::read_to_string(f).ok())
            .map(|text| {
                text.lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .take(Self::CAPACITY)
                    .map(PathBuf::from)
                    .collect()
            })
            .unwrap_or_default();
        RecentFiles { file, entries }
    }

    /// The paths, newest first.
    pub fn entries(&self) -> &[PathBuf] {
        &self.entries
    }

    /// Puts `path` first (removing an older mention), keeps the last
    /// [`CAPACITY`](Self::CAPACITY) and writes the list.
    pub fn push(&mut self, path: &Path) -> Result<(), ViewerError> {
        self.entries.retain(|p| p != path);
        self.entries.insert(0, path.to_path_buf());
        self.entries.truncate(Self::CAPACITY);
        let Some(file) = &self.file else {
            return Ok(());
        };
        let io = |source| ViewerError::Io {
            path: file.clone(),
            source,
        };
        if let Some(dir) = file.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let mut text = String::new();
        for p in &self.entries {
            text.push_str(&p.to_string_lossy());
            text.push('\n');
        }
        std::fs::write(file, text).map_err(io)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_last_ten_newest_first_across_loads() {
        let dir = tempfile::tempdir().unwrap();
        let mut r = RecentFiles::load(Some(dir.path()));
        assert!(r.entries().is_empty());
        for i in 0..12 {
            r.push(Path::new(&format!("/c/{i}.txt"))).unwrap();
        }
        r.push(Path::new("/c/5.txt")).unwrap();
        let again = RecentFiles::load(Some(dir.path()));
        assert_eq!(again.entries().len(), RecentFiles::CAPACITY);
        assert_eq!(again.entries()[0], Path::new("/c/5.txt"));
        assert_eq!(again.entries()[1], Path::new("/c/11.txt"));
        assert_eq!(
            again
                .entries()
                .iter()
                .filter(|p| p.ends_with("5.txt"))
                .count(),
            1
        );
        assert!(!again.entries().iter().any(|p| p.ends_with("0.txt")));
    }
}
