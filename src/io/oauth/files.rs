//! Where a credential's tokens and health live: `data_dir/credentials/NAME.json`
//! (the tokens) and `NAME.health.json` (no secrets), both 0600 in a 0700 folder,
//! each replaced atomically (write, fsync, rename, fsync the folder), so a crash
//! leaves the old file or the new one, never half of one, and a rotated refresh
//! token survives a power cut once it is saved.

use std::io::Write as _;
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::Serialize;
use serde::de::DeserializeOwned;

/// The files of one credential.
#[derive(Debug, Clone)]
pub struct CredentialFiles {
    dir: PathBuf,
    name: String,
}

impl CredentialFiles {
    /// The files of credential `name` in `dir` (`data_dir/credentials`).
    pub fn new(dir: &Path, name: &str) -> CredentialFiles {
        CredentialFiles { dir: dir.to_path_buf(), name: name.to_string() }
    }

    /// The tokens file.
    pub fn tokens(&self) -> PathBuf {
        self.dir.join(format!("{}.json", self.name))
    }

    /// The health file.
    pub fn health(&self) -> PathBuf {
        self.dir.join(format!("{}.health.json", self.name))
    }

    /// Reads a JSON file: `None` when it does not exist.
    pub fn read<T: DeserializeOwned>(path: &Path) -> Result<Option<(T, SystemTime)>, String> {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
        };
        let stamp = modified(path).unwrap_or(SystemTime::UNIX_EPOCH);
        let value = serde_json::from_slice(&bytes).map_err(|e| format!("{} is damaged: {e}", path.display()))?;
        Ok(Some((value, stamp)))
    }

    /// Replaces `path` with `value` atomically, 0600, and makes it durable (fsync of the
    /// file and the folder); returns the new file's modification time.
    pub fn write<T: Serialize>(&self, path: &Path, value: &T) -> Result<SystemTime, String> {
        self.replace(path, value, true)
    }

    /// Replaces `path` with `value` atomically, 0600, without waiting for the disk
    /// (the health file: losing its last change to a power cut costs nothing).
    pub fn write_soon<T: Serialize>(&self, path: &Path, value: &T) -> Result<SystemTime, String> {
        self.replace(path, value, false)
    }

    fn replace<T: Serialize>(&self, path: &Path, value: &T, durable: bool) -> Result<SystemTime, String> {
        let fail = |e: std::io::Error| format!("cannot write {}: {e}", path.display());
        std::fs::create_dir_all(&self.dir).map_err(fail)?;
        std::fs::set_permissions(&self.dir, std::fs::Permissions::from_mode(0o700)).map_err(fail)?;
        let bytes = serde_json::to_vec_pretty(value).map_err(|e| format!("cannot encode {}: {e}", path.display()))?;
        let tmp = path.with_extension("json.tmp");
        let mut file = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&tmp).map_err(fail)?;
        file.set_permissions(std::fs::Permissions::from_mode(0o600)).map_err(fail)?;
        file.write_all(&bytes).map_err(fail)?;
        if durable {
            file.sync_all().map_err(fail)?;
        }
        drop(file);
        std::fs::rename(&tmp, path).map_err(fail)?;
        if durable {
            std::fs::File::open(&self.dir).and_then(|d| d.sync_all()).map_err(fail)?;
        }
        Ok(modified(path).unwrap_or(SystemTime::UNIX_EPOCH))
    }
}

/// The file's modification time (how a token written by `srgate auth login` is noticed).
pub fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_private_and_replaced_whole() {
        let dir = tempfile::tempdir().expect("tmp");
        let files = CredentialFiles::new(&dir.path().join("credentials"), "ms");
        files.write(&files.tokens(), &serde_json::json!({"a": 1})).expect("write");
        files.write(&files.tokens(), &serde_json::json!({"a": 2})).expect("write");
        let mode = std::fs::metadata(files.tokens()).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let dir_mode = std::fs::metadata(dir.path().join("credentials")).expect("meta").permissions().mode() & 0o777;
        assert_eq!(dir_mode, 0o700);
        let (v, _) = CredentialFiles::read::<serde_json::Value>(&files.tokens()).expect("read").expect("some");
        assert_eq!(v["a"], 2);
        assert!(CredentialFiles::read::<serde_json::Value>(&files.health()).expect("read").is_none());
    }
}
